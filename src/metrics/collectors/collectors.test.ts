import type { CoreV1Event, KubernetesObject, PodMetric, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Informer } from '../../k8s/informer.js';
import { MAX_EVENT_MESSAGE, MAX_EVENT_REASON } from '../../k8s/input-limits.js';
import { silentLogger } from '../../observability/logger.js';
import { FakeClock } from '../../runtime/clock.js';
import { SeriesStore } from '../series-store.js';
import { EventCollector, eventCount, eventTime } from './events.js';
import { replicaCounts, restartsInWindow } from './kube-status.js';
import { chooseRequests, MAX_NAMESPACED_POLLS, MetricsServerCollector, podUsage } from './metrics-server.js';
import { instantQuery, PrometheusQueryError, seriesTarget, type FetchFn } from './prometheus.js';

const now = Date.parse('2026-01-01T12:00:00Z');

describe('restartsInWindow', () => {
  it('counts the rise of restart_count within the trailing window', () => {
    const s = [
      { at: now - 600_000, value: 1 },
      { at: now - 290_000, value: 2 },
      { at: now - 100_000, value: 4 },
      { at: now, value: 6 },
    ];
    // The baseline is the last sample at or before the window start (now − 5m): value 1.
    expect(restartsInWindow(s, now, 300_000)).toBe(5);
    expect(restartsInWindow(s, now, 60_000)).toBe(2);
  });
  it('is 0 without samples and never negative (a new pod restarts its count)', () => {
    expect(restartsInWindow([], now, 300_000)).toBe(0);
    expect(restartsInWindow([{ at: now - 10, value: 5 }, { at: now, value: 0 }], now, 300_000)).toBe(0);
  });
});

describe('replicaCounts', () => {
  it('reads Deployments and DaemonSets', () => {
    expect(replicaCounts({ spec: { replicas: 3, selector: {}, template: {} }, status: { readyReplicas: 2, availableReplicas: 2 } })).toEqual({ desired: 3, ready: 2, unavailable: 1 });
    expect(replicaCounts({ status: { desiredNumberScheduled: 4, numberReady: 4, currentNumberScheduled: 4, numberMisscheduled: 0, numberUnavailable: 0 } })).toEqual({
      desired: 4,
      ready: 4,
      unavailable: 0,
    });
  });
});

describe('podUsage', () => {
  const pod: V1Pod = { spec: { containers: [{ name: 'a', resources: { limits: { memory: '512Mi', cpu: '500m' } } }] } };
  const metric = (cpu: string, memory: string): PodMetric => ({
    metadata: { name: 'p', namespace: 'ns', selfLink: '', creationTimestamp: '' },
    timestamp: '',
    window: '15s',
    containers: [{ name: 'a', usage: { cpu, memory } }],
  });
  it('computes absolute values and percentages of the real limits', () => {
    const u = podUsage(pod, metric('250m', '256Mi'));
    expect(u.values).toEqual({ cpu_usage_millicores: 250, memory_usage_bytes: 256 * 2 ** 20, cpu_usage_percent: 50, memory_usage_percent: 50 });
    expect(u.unavailable).toEqual({});
  });
  it('says why a percentage is missing instead of inventing a limit', () => {
    const bare: V1Pod = { spec: { containers: [{ name: 'a' }] } };
    const u = podUsage(bare, metric('1', '1Gi'));
    expect(u.values['memory_usage_percent']).toBeUndefined();
    expect(u.unavailable['memory_usage_percent']).toMatch(/no memory limit or request/);
  });
});

describe('MetricsServerCollector.pollOnce', () => {
  const podWithLimit = (memory: string): V1Pod => ({ metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [{ name: 'a', resources: { limits: { memory, cpu: '1' } } }] } });

  it('measures a pod against the limits of its current object, also after an update replaced it', async () => {
    const clock = new FakeClock(now);
    const store = new SeriesStore();
    let current = podWithLimit('100Mi');
    // The few Informer calls the collector makes, over one pod the test replaces as the informer would.
    const pods = { get: () => current, list: () => [current], keys: () => ['ns/p'] } as unknown as Informer<V1Pod>;
    const replicaSets = { list: () => [] } as unknown as Informer<V1ReplicaSet>;
    const item = (): PodMetric => ({ metadata: { name: 'p', namespace: 'ns', selfLink: '', creationTimestamp: '' }, timestamp: new Date(clock.now()).toISOString(), window: '15s', containers: [{ name: 'a', usage: { cpu: '100m', memory: '50Mi' } }] });
    const collector = new MetricsServerCollector({ store, clock, logger: silentLogger, source: { getPodMetrics: () => Promise.resolve({ items: [item()] }) }, pods, replicaSets, intervalMs: 15_000, wanted: () => true, onPoll: () => undefined });
    const percent = (): number | undefined => store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' }).series.get('memory_usage_percent')?.at(-1)?.value;
    await collector.pollOnce();
    expect(percent()).toBe(50);
    await clock.advance(15_000);
    await collector.pollOnce();
    expect(percent()).toBe(50);
    current = podWithLimit('200Mi');
    await clock.advance(15_000);
    await collector.pollOnce();
    expect(percent()).toBe(25);
  });

  it('records only the resource metrics a policy reads, and all of them when told nothing', async () => {
    const clock = new FakeClock(now);
    const pod = podWithLimit('100Mi');
    const pods = { get: () => pod, list: () => [pod], keys: () => ['ns/p'] } as unknown as Informer<V1Pod>;
    const replicaSets = { list: () => [] } as unknown as Informer<V1ReplicaSet>;
    const item: PodMetric = { metadata: { name: 'p', namespace: 'ns', selfLink: '', creationTimestamp: '' }, timestamp: new Date(now).toISOString(), window: '15s', containers: [{ name: 'a', usage: { cpu: '100m', memory: '50Mi' } }] };
    const seriesAfterPoll = async (metrics: (() => ReadonlySet<string> | undefined) | undefined): Promise<string[]> => {
      const store = new SeriesStore();
      const collector = new MetricsServerCollector({ store, clock, logger: silentLogger, source: { getPodMetrics: () => Promise.resolve({ items: [item] }) }, pods, replicaSets, intervalMs: 15_000, wanted: () => true, onPoll: () => undefined, ...(metrics === undefined ? {} : { metrics }) });
      await collector.pollOnce();
      return [...store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' }).series.keys()].sort();
    };
    expect(await seriesAfterPoll(() => new Set(['memory_usage_percent']))).toEqual(['memory_usage_percent']);
    expect(await seriesAfterPoll(() => undefined)).toEqual(['cpu_usage_millicores', 'cpu_usage_percent', 'memory_usage_bytes', 'memory_usage_percent']);
    expect(await seriesAfterPoll(undefined)).toHaveLength(4);
  });
});

describe('events', () => {
  it('takes the latest occurrence time and the aggregated count', () => {
    const e: CoreV1Event = {
      metadata: {},
      involvedObject: {},
      count: 4,
      firstTimestamp: new Date(now - 60_000),
      lastTimestamp: new Date(now - 5000),
    };
    expect(eventTime(e, now)).toBe(now - 5000);
    expect(eventCount(e)).toBe(4);
    expect(eventTime({ metadata: {}, involvedObject: {} }, now)).toBe(now);
    expect(eventCount({ metadata: {}, involvedObject: {} })).toBe(1);
  });
});

describe('EventCollector', () => {
  it('caps the reason and message of an Event before they reach trigger evaluation', () => {
    const store = new SeriesStore();
    const informer = <T extends KubernetesObject>(): Informer<T> => ({ get: () => undefined, list: () => [], addHandler: () => () => undefined }) as unknown as Informer<T>;
    const collector = new EventCollector({ store, clock: new FakeClock(now), events: informer(), pods: informer(), replicaSets: informer(), onChange: () => undefined });
    collector.record({
      metadata: { uid: 'u1' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'a' },
      reason: 'a'.repeat(50_000),
      message: 'm'.repeat(50_000),
      count: 1,
      lastTimestamp: new Date(now),
    });
    const [occurrence] = store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'p' }).events;
    expect(occurrence?.reason.length).toBe(MAX_EVENT_REASON);
    expect(occurrence?.message?.length).toBe(MAX_EVENT_MESSAGE);
  });
});

describe('EventCollector memory', () => {
  it('counts each rise of an Event once, and forgets the Event when it is deleted', () => {
    const store = new SeriesStore();
    const informer = <T extends KubernetesObject>(): Informer<T> => ({ get: () => undefined, list: () => [], addHandler: () => () => undefined }) as unknown as Informer<T>;
    const collector = new EventCollector({ store, clock: new FakeClock(now), events: informer(), pods: informer(), replicaSets: informer(), onChange: () => undefined });
    const event = (count: number): CoreV1Event => ({ metadata: { uid: 'u1' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'a' }, reason: 'BackOff', count, lastTimestamp: new Date(now) });
    const total = (): number => store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'p' }).events.reduce((n, o) => n + o.count, 0);
    collector.record(event(2));
    collector.record(event(2));
    expect(total()).toBe(2);
    collector.record(event(3));
    expect(total()).toBe(3);
    expect(collector.trackedEvents()).toBe(1);
    collector.forget({ metadata: { uid: 'u1' }, involvedObject: {} });
    expect(collector.trackedEvents()).toBe(0);
    // A deleted Event's uid never comes back; if it did, the store's occurrence ids would still not count it twice.
    collector.record(event(3));
    expect(total()).toBe(3);
  });
});

describe('prometheus', () => {
  const respond = (status: number, body: unknown): FetchFn => () => Promise.resolve({ ok: status < 300, status, text: () => Promise.resolve(typeof body === 'string' ? body : JSON.stringify(body)) });

  it('maps result series to targets by namespace and pod (or workload) labels', () => {
    expect(seriesTarget({ namespace: 'a', pod: 'p' })).toMatchObject({ kind: 'Pod', namespace: 'a', name: 'p' });
    expect(seriesTarget({ namespace: 'a', deployment: 'web' })).toMatchObject({ kind: 'Deployment', name: 'web' });
    expect(seriesTarget({ pod: 'p' })).toBeUndefined();
  });

  it('ignores series whose labels are longer than any Kubernetes name', () => {
    expect(seriesTarget({ namespace: 'a', pod: 'p'.repeat(254) })).toBeUndefined();
    expect(seriesTarget({ namespace: 'n'.repeat(254), pod: 'p' })).toBeUndefined();
  });

  it('refuses a result with more series than a trigger may use, and caps a huge error text', async () => {
    const result = Array.from({ length: 20_001 }, (_, i) => ({ metric: { namespace: 'a', pod: `p${i}` }, value: [1, '1'] }));
    await expect(instantQuery('http://x', 'up', now, 1000, respond(200, { status: 'success', data: { resultType: 'vector', result } }))).rejects.toThrow(/20001 series/);
    const err = await instantQuery('http://x', 'x', now, 1000, respond(400, { status: 'error', errorType: 'bad_data', error: 'e'.repeat(100_000) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrometheusQueryError);
    expect((err as Error).message.length).toBeLessThanOrEqual(1024);
  });

  it('returns the vector of an instant query', async () => {
    const result = [{ metric: { namespace: 'a', pod: 'p' }, value: [1, '42'] }];
    await expect(instantQuery('http://127.0.0.1:9', 'up', now, 1000, respond(200, { status: 'success', data: { resultType: 'vector', result } }))).resolves.toEqual(result);
  });

  it("throws Prometheus' own message for a bad query, and a clear one when it is unreachable or answers garbage", async () => {
    await expect(instantQuery('http://x', 'rate(', now, 1000, respond(400, { status: 'error', errorType: 'bad_data', error: 'parse error' }))).rejects.toThrow(
      /PromQL error \(bad_data\): parse error/,
    );
    await expect(instantQuery('http://x', 'up', now, 1000, () => Promise.reject(new Error('ECONNREFUSED')))).rejects.toThrow(PrometheusQueryError);
    await expect(instantQuery('http://x', 'up', now, 1000, respond(502, '<html>'))).rejects.toThrow(/not JSON/);
    // JSON that is not a response object, and series of the wrong shape: refused as query errors, not TypeErrors.
    for (const body of ['null', '3', '[]', '"x"']) await expect(instantQuery('http://x', 'up', now, 1000, respond(200, body))).rejects.toThrow(PrometheusQueryError);
    for (const bad of [null, 1, { metric: null, value: [1, '2'] }, { metric: { pod: 7 }, value: [1, '2'] }, { metric: {}, value: ['t', '2'] }, { metric: {}, value: [1] }]) {
      await expect(instantQuery('http://x', 'up', now, 1000, respond(200, { status: 'success', data: { resultType: 'vector', result: [bad] } }))).rejects.toThrow(/malformed series at index 0/);
    }
    await expect(instantQuery('http://x', 'up', now, 1000, respond(200, { status: 'success', data: { resultType: 'matrix', result: [] } }))).rejects.toThrow(/instant vector/);
  });
});

describe('chooseRequests (metrics.k8s.io)', () => {
  const podsIn = (ns: string): number => (ns === 'big' ? 900 : 10);
  it('lists the whole cluster when every namespace is wanted, or most of the pods are', () => {
    expect(chooseRequests(undefined, podsIn, 1000)).toBeUndefined();
    expect(chooseRequests(new Set(['big']), podsIn, 1000)).toBeUndefined();
  });
  it('lists a few namespaces that hold few of the pods one by one', () => {
    expect(chooseRequests(new Set(['b', 'a']), podsIn, 1000)).toEqual(['a', 'b']);
    expect(chooseRequests(new Set(), podsIn, 1000)).toEqual([]);
  });
  it('lists the cluster when the namespaces are too many to ask one by one', () => {
    const many = new Set(Array.from({ length: MAX_NAMESPACED_POLLS + 1 }, (_, i) => `ns-${i}`));
    expect(chooseRequests(many, podsIn, 100_000)).toBeUndefined();
  });
});
