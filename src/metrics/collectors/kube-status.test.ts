import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Informer, type ListResult, type ListWatchSource, type WatchCallbacks } from '../../k8s/informer.js';
import { silentLogger } from '../../observability/logger.js';
import { FakeClock, flushMicrotasks } from '../../runtime/clock.js';
import { SeriesStore } from '../series-store.js';
import type { ObservationChange, TargetRef } from '../types.js';
import { KubeStatusCollector } from './kube-status.js';

const now = Date.parse('2026-01-01T12:00:00Z');

/** A collection that lists `items` once and then watches quietly until stopped. */
class StaticSource<T> implements ListWatchSource<T> {
  constructor(private readonly items: T[]) {}
  list(): Promise<ListResult<T>> {
    return Promise.resolve({ items: this.items, resourceVersion: '1' });
  }
  watch(_rv: string, callbacks: WatchCallbacks, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      callbacks.onConnect();
    });
  }
}

const owner = (kind: string, name: string): k8s.V1OwnerReference => ({ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true });
const deployment: k8s.V1Deployment = { metadata: { name: 'web', namespace: 'ns', uid: 'uid-web' }, spec: { replicas: 2, selector: {}, template: {} }, status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 } };
const replicaSet: k8s.V1ReplicaSet = { metadata: { name: 'web-1', namespace: 'ns', uid: 'uid-web-1', ownerReferences: [owner('Deployment', 'web')] }, spec: { selector: {} } };
const pod = (name: string, restarts: number): k8s.V1Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, ownerReferences: [owner('ReplicaSet', 'web-1')] },
  spec: { containers: [{ name: 'app' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', image: 'app', imageID: '', ready: restarts === 0, restartCount: restarts }] },
});
const web: TargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' };

function informer<T extends k8s.KubernetesObject>(name: string, items: T[], clock: FakeClock): Informer<T> {
  return new Informer<T>({ name, source: new StaticSource(items), clock, staleAfterMs: 0 });
}

describe('KubeStatusCollector', () => {
  it('records no pod-derived workload observations until pods and ReplicaSets are both cached, then all of them', async () => {
    const clock = new FakeClock();
    const store = new SeriesStore();
    const informers = {
      pods: informer('pods', [pod('web-1-a', 0), pod('web-1-b', 7)], clock),
      replicaSets: informer('replicasets', [replicaSet], clock),
      deployments: informer('deployments', [deployment], clock),
      statefulSets: informer<k8s.V1StatefulSet>('statefulsets', [], clock),
      daemonSets: informer<k8s.V1DaemonSet>('daemonsets', [], clock),
    };
    const collector = new KubeStatusCollector({ store, clock, logger: silentLogger, informers, onChange: () => undefined });
    collector.start();
    // Pods and the Deployment arrive before the ReplicaSets that link them: the crash-looping pod cannot be
    // attributed yet, and a restart_count of 0 for the Deployment would be a lie.
    informers.pods.start();
    informers.deployments.start();
    await flushMicrotasks();
    expect(informers.pods.hasSynced() && informers.deployments.hasSynced()).toBe(true);
    expect(store.observations(web).series.get('restart_count')).toBeUndefined();
    expect(store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-1-b' }).series.get('restart_count')?.at(-1)?.value).toBe(7);

    informers.replicaSets.start();
    await flushMicrotasks();
    collector.recordAll();
    expect(store.observations(web).series.get('restart_count')?.map((s) => s.value)).toEqual([7]);
    expect(store.observations(web).series.get('unavailable_replicas')?.at(-1)?.value).toBe(1);

    collector.stop();
    await Promise.all(Object.values(informers).map((i: { stop(): Promise<void> }) => i.stop()));
  });
  it('reports what changed, and nothing for a record that changes nothing (a resample, an update no trigger reads)', async () => {
    const clock = new FakeClock();
    const store = new SeriesStore();
    const informers = {
      pods: informer('pods', [pod('web-1-a', 0)], clock),
      replicaSets: informer('replicasets', [replicaSet], clock),
      deployments: informer('deployments', [deployment], clock),
      statefulSets: informer<k8s.V1StatefulSet>('statefulsets', [], clock),
      daemonSets: informer<k8s.V1DaemonSet>('daemonsets', [], clock),
    };
    const changes: ObservationChange[] = [];
    const collector = new KubeStatusCollector({ store, clock, logger: silentLogger, informers, onChange: (c) => changes.push(c) });
    collector.start();
    for (const i of Object.values(informers) as { start(): void }[]) i.start();
    await flushMicrotasks();
    collector.recordAll();
    const podChange = changes.find((c) => c.target.kind === 'Pod');
    expect(podChange).toMatchObject({ selection: true, conditions: true, metrics: ['restart_count', 'ready', 'restart_rate'] });
    expect(changes.some((c) => c.target.kind === 'Deployment' && c.selection === true)).toBe(true);

    changes.length = 0;
    await clock.advance(30_000);
    collector.resample();
    expect(changes).toEqual([]);

    // An annotation-only update: nothing a trigger reads.
    const annotated = { ...pod('web-1-a', 0), metadata: { ...pod('web-1-a', 0).metadata, annotations: { note: 'x' } } };
    collector.recordPod(annotated);
    expect(changes).toEqual([]);

    // A restart: the metrics that moved (readiness did not). (The Deployment's sum reads the informer's copy of the
    // pod, which this direct call does not change.)
    collector.recordPod(pod('web-1-a', 1));
    expect(changes.map((c) => [c.target.kind, c.metrics])).toEqual([['Pod', ['restart_count', 'restart_rate']]]);
    // New labels: a selection change, with the labels.
    changes.length = 0;
    collector.recordPod({ ...pod('web-1-a', 1), metadata: { ...pod('web-1-a', 1).metadata, labels: { app: 'other' } } });
    expect(changes).toEqual([{ target: expect.objectContaining({ kind: 'Pod', name: 'web-1-a' }) as TargetRef, labels: { app: 'other' }, selection: true }]);

    collector.stop();
    await Promise.all(Object.values(informers).map((i: { stop(): Promise<void> }) => i.stop()));
  });

  it('resamples as recording every pod in full would: the same samples, conditions and reports over time', async () => {
    const crashLooping: k8s.V1Pod = {
      ...pod('web-1-c', 4),
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'app', image: 'app', imageID: '', ready: true, restartCount: 4, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: new Date(now + 10_000) } } },
        ],
      },
    };
    // A second Deployment with one healthy pod: its pod-derived conditions come from a healthy pod alone.
    const api: k8s.V1Deployment = { ...deployment, metadata: { name: 'api', namespace: 'ns', uid: 'uid-api' } };
    const apiReplicaSet: k8s.V1ReplicaSet = { metadata: { name: 'api-1', namespace: 'ns', uid: 'uid-api-1', ownerReferences: [owner('Deployment', 'api')] }, spec: { selector: {} } };
    const apiPod: k8s.V1Pod = { ...pod('api-1-a', 0), metadata: { name: 'api-1-a', namespace: 'ns', uid: 'uid-api-1-a', ownerReferences: [owner('ReplicaSet', 'api-1')] } };
    const pods = [pod('web-1-a', 0), pod('web-1-b', 3), crashLooping, apiPod];
    const run = async (full: boolean) => {
      const clock = new FakeClock(now);
      const store = new SeriesStore();
      const informers = {
        pods: informer('pods', pods, clock),
        replicaSets: informer('replicasets', [replicaSet, apiReplicaSet], clock),
        deployments: informer('deployments', [deployment, api], clock),
        statefulSets: informer<k8s.V1StatefulSet>('statefulsets', [], clock),
        daemonSets: informer<k8s.V1DaemonSet>('daemonsets', [], clock),
      };
      const changes: string[] = [];
      const collector = new KubeStatusCollector({ store, clock, logger: silentLogger, informers, onChange: (c) => changes.push(`${clock.now() - now} ${c.target.name} ${JSON.stringify(c.metrics ?? [])} ${String(c.conditions ?? false)}`) });
      // Two restarts of web-1-b a minute before: its restart_rate is 2 until they leave the 5-minute window.
      store.recordSample({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-1-b' }, 'restart_count', { at: now - 60_000, value: 1 }, now);
      collector.start();
      for (const i of Object.values(informers) as { start(): void }[]) i.start();
      await flushMicrotasks();
      collector.recordAll();
      // In full, every read of the cache returns new objects, as if every pod had just been updated: nothing the
      // collector kept per pod object applies, so each resample derives everything from scratch.
      if (full) {
        const list = informers.pods.list.bind(informers.pods);
        informers.pods.list = (namespace?: string) => list(namespace).map((p) => structuredClone(p));
      }
      for (let step = 0; step < 14; step++) {
        await clock.advance(30_000);
        collector.resample();
      }
      const targets: TargetRef[] = [
        ...pods.map((p): TargetRef => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: p.metadata?.name ?? '' })),
        web,
        { ...web, name: 'api' },
      ];
      const seen = targets.map((t) => {
        const obs = store.observations(t);
        return { series: Object.fromEntries([...obs.series].map(([m, v]) => [m, v.map((x) => [x.at - now, x.value])])), conditions: Object.fromEntries(obs.conditions) };
      });
      collector.stop();
      await Promise.all(Object.values(informers).map((i: { stop(): Promise<void> }) => i.stop()));
      return { seen, changes };
    };
    const resampled = await run(false);
    const inFull = await run(true);
    expect(resampled).toEqual(inFull);
    // What the comparison covers: web-1-b's rate fell when its restarts left the window, and web-1-c's crash loop
    // ended with time alone.
    expect(inFull.changes.some((c) => c.includes('web-1-b ["restart_rate"]'))).toBe(true);
    expect(inFull.changes.some((c) => c.includes('web-1-c [] true'))).toBe(true);
    // ... and so did the workloads' (their pods' crash loop is theirs).
    expect(inFull.changes.some((c) => c.includes(' web [] true'))).toBe(true);
    expect(inFull.seen[4]?.conditions['CrashLoopBackOff']).toMatchObject({ status: 'False' });
    expect(resampled.seen[5]?.conditions).toMatchObject({ CrashLoopBackOff: { status: 'False' }, ImagePullBackOff: { status: 'False' }, OOMKilled: { status: 'False' } });
  });
});
