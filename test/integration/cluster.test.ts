/**
 * Proves the local cluster is a real Kubernetes control plane whose fake kubelets (kwok stages) and metrics
 * (metrics-server over kwok's resource-metrics endpoint) behave the way the operator will rely on.
 */
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBytes, parseMillicores } from '../../src/k8s/quantity.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const policy = kc.makeApiClient(k8s.PolicyV1Api);
const metrics = new k8s.Metrics(kc);

function pod(name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): k8s.V1Pod {
  return {
    metadata: { name, annotations, labels },
    spec: { containers: [{ name: 'app', image: 'example.invalid/app:1', resources: { limits: { memory: '512Mi', cpu: '1' } } }] },
  };
}

async function readPodMemory(namespace: string, name: string): Promise<{ bytes: number; timestamp: string } | undefined> {
  const list = await metrics.getPodMetrics(namespace);
  const item = list.items.find((p) => p.metadata.name === name);
  const c = item?.containers[0];
  return item && c ? { bytes: parseBytes(c.usage.memory), timestamp: item.timestamp } : undefined;
}

describe('the local cluster', () => {
  it('is a real Kubernetes API server of version 1.34 or later', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(Number(version.major)).toBe(1);
    expect(Number.parseInt(version.minor, 10)).toBeGreaterThanOrEqual(34);
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it('has fake nodes that are Ready, with InternalIP 127.0.0.1', async () => {
    const nodes = await core.listNode();
    expect(nodes.items.length).toBeGreaterThanOrEqual(3);
    for (const node of nodes.items) {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status, `node ${node.metadata?.name ?? '?'} Ready`).toBe('True');
      const ips = node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address);
      expect(ips).toEqual(['127.0.0.1']);
    }
  });

  it('binds every listening socket of its processes to 127.0.0.1', () => {
    // ss prints "LISTEN ... 127.0.0.1:port ... users:(("kube-apiserver",pid=..))"; look only at our processes.
    const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
    const ours = out.split('\n').filter((l) => /"(kube-apiserver|kube-controller|kube-scheduler|etcd|kwok|metrics-server)/.test(l));
    expect(ours.length).toBeGreaterThan(0);
    for (const line of ours) {
      const local = line.trim().split(/\s+/)[3] ?? '';
      expect(local, line).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });
});

describe('workloads on the local cluster', () => {
  let ns = '';
  beforeEach(async (ctx) => {
    ns = await createTestNamespace(kc, ctx.task.name.slice(0, 30));
  });
  afterEach(async () => {
    await deleteTestNamespace(kc, ns);
  });

  it("runs a Deployment's pods to Running and Ready through the controller-manager and kwok", async () => {
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: pod('x').spec! },
        },
      },
    });
    const ready = await waitFor('3 ready replicas', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      return d.status?.readyReplicas === 3 ? d : undefined;
    }, 60_000);
    expect(ready.status?.availableReplicas).toBe(3);
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(3);
    for (const p of pods.items) {
      expect(p.status?.phase).toBe('Running');
      expect(p.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(p.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    }
  });

  it("climbs a crash-loop pod's restartCount with CrashLoopBackOff and OOMKilled exit code 137", async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('crasher', {
        'sim.kubeskippy.io/crash': 'true',
        'sim.kubeskippy.io/crash-after': '1s',
        'sim.kubeskippy.io/backoff': '1s',
        'sim.kubeskippy.io/reason': 'OOMKilled',
        'sim.kubeskippy.io/exit-code': '137',
      }),
    });
    const seen = new Set<string>();
    const looping = await waitFor('restartCount >= 3', async () => {
      const p = await core.readNamespacedPod({ name: 'crasher', namespace: ns });
      const cs = p.status?.containerStatuses?.[0];
      if (cs?.state?.waiting?.reason) seen.add(cs.state.waiting.reason);
      return (cs?.restartCount ?? 0) >= 3 ? p : undefined;
    }, 60_000, 100);
    const cs = looping.status!.containerStatuses![0]!;
    expect(looping.status?.phase).toBe('Running');
    expect(seen).toContain('CrashLoopBackOff');
    expect(cs.lastState?.terminated?.reason).toBe('OOMKilled');
    expect(cs.lastState?.terminated?.exitCode).toBe(137);
  });

  it('reports a crash with reason Error and exit code 1 by default', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('crasher', { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '30s' }),
    });
    const p = await waitFor('CrashLoopBackOff', async () => {
      const p = await core.readNamespacedPod({ name: 'crasher', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    }, 30_000, 100);
    const cs = p.status!.containerStatuses![0]!;
    expect(cs.restartCount).toBe(1);
    expect(cs.ready).toBe(false);
    expect(cs.lastState?.terminated).toMatchObject({ reason: 'Error', exitCode: 1 });
    expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('keeps a pod with failing readiness Running but not Ready, and follows the annotation when it flips', async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod('unready', { 'sim.kubeskippy.io/ready': 'false' }) });
    const readyStatus = async (): Promise<string | undefined> => {
      const p = await core.readNamespacedPod({ name: 'unready', namespace: ns });
      return p.status?.phase === 'Running' ? p.status.conditions?.find((c) => c.type === 'Ready')?.status : undefined;
    };
    await waitFor('Running and Ready=False', async () => (await readyStatus()) === 'False', 30_000);
    await core.patchNamespacedPod(
      { name: 'unready', namespace: ns, body: { metadata: { annotations: { 'sim.kubeskippy.io/ready': 'true' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor('Ready=True after the flip', async () => (await readyStatus()) === 'True', 30_000);
    await core.patchNamespacedPod(
      { name: 'unready', namespace: ns, body: { metadata: { annotations: { 'sim.kubeskippy.io/ready': 'false' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor('Ready=False after flipping back', async () => (await readyStatus()) === 'False', 30_000);
  });

  it('serves simulated usage through metrics.k8s.io: a leak rises, a constant stays, a sine wave swings, nodes add up', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('leaky', { 'sim.kubeskippy.io/memory': '64Mi', 'sim.kubeskippy.io/memory-leak': '1Mi' }),
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('steady', { 'sim.kubeskippy.io/memory': '100Mi', 'sim.kubeskippy.io/cpu': '250m' }),
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('wavy', { 'sim.kubeskippy.io/cpu': '300m', 'sim.kubeskippy.io/cpu-amplitude': '250m', 'sim.kubeskippy.io/cpu-period': '60' }),
    });
    // Leaks 4 MiB/s and restarts every ~21 s: its memory must drop back at some restart.
    await core.createNamespacedPod({
      namespace: ns,
      body: pod('leak-crash', {
        'sim.kubeskippy.io/memory-leak': '4Mi',
        'sim.kubeskippy.io/crash': 'true',
        'sim.kubeskippy.io/crash-after': '20s',
        'sim.kubeskippy.io/backoff': '1s',
      }),
    });
    const first = await waitFor('first leak sample', () => readPodMemory(ns, 'leaky'), 120_000, 2000);
    // Collect CPU samples of the sine pod over most of a period while waiting for the next leak sample.
    const wavyCpu = new Map<string, number>();
    const leakCrashMemory = new Map<string, number>();
    const fellBack = (v: readonly number[]): boolean => v.some((x, i) => i > 0 && x < v[i - 1]!);
    const sortedLeakCrash = (): number[] => [...leakCrashMemory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    // Sample until every behaviour has had the time to show (how many scrapes that takes varies with the machine:
    // metrics-server skips a container for a scrape after each restart).
    const second = await waitFor('a leak sample 45 s after the first, a CPU swing and a leak that fell back at a restart', async () => {
      const list = await metrics.getPodMetrics(ns);
      const wavy = list.items.find((p) => p.metadata.name === 'wavy');
      if (wavy?.containers[0]) wavyCpu.set(wavy.timestamp, parseMillicores(wavy.containers[0].usage.cpu));
      const lc = list.items.find((p) => p.metadata.name === 'leak-crash');
      if (lc?.containers[0]) leakCrashMemory.set(lc.timestamp, parseBytes(lc.containers[0].usage.memory));
      const cpuValues = [...wavyCpu.values()];
      const swung = cpuValues.length >= 2 && Math.max(...cpuValues) - Math.min(...cpuValues) > 150;
      const s = await readPodMemory(ns, 'leaky');
      const leakDone = s !== undefined && Date.parse(s.timestamp) - Date.parse(first.timestamp) >= 45_000;
      return leakDone && swung && sortedLeakCrash().length >= 3 && fellBack(sortedLeakCrash()) ? s : undefined;
    }, 180_000, 2000);
    expect(second.bytes).toBeGreaterThan(first.bytes);
    // 1 MiB/s: the rise is about the elapsed seconds in MiB (scrape timestamps bound the elapsed time).
    const elapsedS = (Date.parse(second.timestamp) - Date.parse(first.timestamp)) / 1000;
    expect((second.bytes - first.bytes) / 2 ** 20).toBeGreaterThan(elapsedS * 0.5);
    expect((second.bytes - first.bytes) / 2 ** 20).toBeLessThan(elapsedS * 1.5 + 16);

    // A 60 s sine of amplitude 250m, averaged over 15 s scrape windows, still swings by well over 150m in 45 s.
    const cpu = [...wavyCpu.values()];
    expect(cpu.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...cpu) - Math.min(...cpu)).toBeGreaterThan(150);

    // The restarting leak falls back at least once (samples are 15 s apart, restarts every ~21 s).
    const lc = sortedLeakCrash();
    expect(lc.length).toBeGreaterThanOrEqual(3);
    expect(fellBack(lc), `memory samples ${lc.join(', ')}`).toBe(true);

    const list = await metrics.getPodMetrics(ns);
    const steady = list.items.find((p) => p.metadata.name === 'steady');
    expect(parseBytes(steady!.containers[0]!.usage.memory)).toBe(100 * 2 ** 20);
    expect(parseMillicores(steady!.containers[0]!.usage.cpu)).toBeCloseTo(250, -1);

    // Node metrics are the sum of their pods' usage, so a node running "steady" reports at least its 100Mi.
    const steadyPod = await core.readNamespacedPod({ name: 'steady', namespace: ns });
    const nodeMetrics = await metrics.getNodeMetrics();
    const node = nodeMetrics.items.find((n) => n.metadata.name === steadyPod.spec?.nodeName);
    expect(node, `metrics for node ${steadyPod.spec?.nodeName ?? '?'}`).toBeDefined();
    expect(parseBytes(node!.usage.memory)).toBeGreaterThanOrEqual(100 * 2 ** 20);
  }, 330_000);

  it('blocks an Eviction that would break a PodDisruptionBudget with 429', async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod('guarded', {}, { app: 'guarded' }) });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: { metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } },
    });
    // The disruption controller must have processed the PDB (observedGeneration) before it can refuse anything.
    await waitFor('PDB status', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'guard', namespace: ns });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === 1;
    }, 60_000);
    const error = await core
      .createNamespacedPodEviction({
        name: 'guarded',
        namespace: ns,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded', namespace: ns } },
      })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(k8s.ApiException);
    expect((error as k8s.ApiException<unknown>).code).toBe(429);
    const still = await core.readNamespacedPod({ name: 'guarded', namespace: ns });
    expect(still.metadata?.deletionTimestamp).toBeUndefined();
  });
});
