/**
 * Detection semantics (PRODUCT.md "Semantics that must hold") on the real cluster with the real operator: per-target
 * evaluation, durations held from observations, event counts in a window, conditions held, cooldown, monitor mode,
 * PromQL through a real Prometheus — and bad input that must not stop the operator.
 */
import * as k8s from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBytes } from '../../src/k8s/quantity.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { setPrometheusTargets } from '../support/prometheus.js';
import { createDeployment, createPod, createPolicy, ensureCrds, eventsFor, listActions, readPolicy, waitForActions, waitForReady } from '../support/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const metricsApi = new k8s.Metrics(kc);
const prometheusUrl = process.env['KUBESKIPPY_TEST_PROMETHEUS_URL'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let operator: RunningOperator;
let ns = '';

beforeAll(async () => {
  await ensureCrds();
  if (!prometheusUrl) throw new Error('Prometheus is not running: install the Debian package "prometheus" (hack/ci/system-packages.sh does)');
  operator = await startTestOperator({ 'prometheus.url': prometheusUrl });
}, 120_000);

afterAll(async () => {
  await operator?.stop();
});

beforeEach(async (ctx) => {
  ns = await createTestNamespace(kc, `det-${ctx.task.name.slice(0, 24)}`);
});
afterEach(async () => {
  await deleteTestNamespace(kc, ns);
});

const crashAnnotations = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };

describe('the operator, per target', () => {
  it('creates exactly one HealingAction for the one crash-looping pod among 20 healthy ones', async () => {
    await createDeployment(kc, ns, 'web', 20, { labels: { tier: 'web' } });
    await waitForReady(kc, ns, 'web', 20);
    await createPod(kc, ns, 'crasher', { labels: { tier: 'web' }, annotations: crashAnnotations });
    await createPolicy(kc, ns, 'crashloop', {
      selector: { labelSelector: { matchLabels: { tier: 'web' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 } }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    const [action] = await waitForActions(kc, ns, 1);
    expect(action!.spec.targetResource).toMatchObject({ kind: 'Pod', name: 'crasher' });
    expect(action!.spec.trigger).toMatchObject({ name: 'restarts', type: 'metric', threshold: 2 });
    expect(action!.spec.trigger!.observedValue).toBeGreaterThan(2);
    expect(action!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'HealingPolicy', name: 'crashloop' });
    expect(action!.metadata.labels).toMatchObject({ 'kubeskippy.io/policy': 'crashloop', 'kubeskippy.io/target-name': 'crasher', 'kubeskippy.io/trigger': 'restarts' });
    // Give the operator time to (wrongly) act again or on the healthy pods.
    await sleep(8000);
    const all = await listActions(kc, ns);
    expect(all.map((a) => a.spec.targetResource.name)).toEqual(['crasher']);
    // The action ran (recreate deletes the bare pod), so the policy now watches the 20 healthy pods.
    const policy = await waitFor('policy status after the action', async () => {
      const p = await readPolicy(kc, ns, 'crashloop');
      return p.status?.matchedResources === 20 ? p : undefined;
    }, 30_000, 500);
    expect(policy.status?.actionsTaken).toBe(1);
    const events = await eventsFor(kc, ns, 'HealingPolicy', 'crashloop');
    expect(events.map((e) => e.reason)).toContain('HealingActionCreated');
  });
});

describe('durations are real', () => {
  it('fires "memory > 85% for 30s" only after the breach has held 30s, and never on a short spike', async () => {
    await createPod(kc, ns, 'held', { labels: { app: 'mem' }, annotations: { 'sim.kubeskippy.io/memory': '90Mi' } });
    await createPod(kc, ns, 'spike', { labels: { app: 'mem' }, annotations: { 'sim.kubeskippy.io/memory': '90Mi' } });
    // 30 s is two metrics-server scrapes (15 s apart): the spike, over 85% in one scrape only, is seen back under
    // it in the next one long before its breach could have held 30 s — even with the operator's 5 s poll late.
    await createPolicy(kc, ns, 'memory', {
      selector: { labelSelector: { matchLabels: { app: 'mem' } } },
      triggers: [{ name: 'high-memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, operator: '>', duration: '30s' } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    // The first scrape that shows each pod over 85% of its 100Mi limit, recorded per pod (they may first appear in
    // different scrapes). The spike ends as soon as it is seen: from then on "spike" uses 10% of its limit.
    const firstOver = new Map<string, number>();
    await waitFor('both pods over 85% in metrics.k8s.io', async () => {
      for (const p of (await metricsApi.getPodMetrics(ns)).items) {
        if (parseBytes(p.containers[0]?.usage.memory ?? '0') > 85 * 2 ** 20 && !firstOver.has(p.metadata.name)) {
          firstOver.set(p.metadata.name, Date.parse(p.timestamp));
          if (p.metadata.name === 'spike') {
            await core.patchNamespacedPod(
              { name: 'spike', namespace: ns, body: { metadata: { annotations: { 'sim.kubeskippy.io/memory': '10Mi' } } } },
              k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
            );
          }
        }
      }
      return firstOver.size === 2;
    }, 120_000, 1000);
    const heldSince = firstOver.get('held')!;
    const [action] = await waitForActions(kc, ns, 1, 120_000);
    expect(action!.spec.targetResource.name).toBe('held');
    const created = Date.parse(action!.metadata.creationTimestamp!);
    // creationTimestamp has second precision.
    expect(created).toBeGreaterThanOrEqual(heldSince + 30_000 - 1000);
    expect(action!.spec.trigger!.reason).toMatch(/memory_usage_percent 9\d(\.\d+)?% > 85%/);
    // Well past the spike's duration window: still no action for it.
    await sleep(Math.max(0, firstOver.get('spike')! + 60_000 - Date.now()));
    expect((await listActions(kc, ns)).map((a) => a.spec.targetResource.name)).toEqual(['held']);
  });

  it('fires a condition trigger only once the condition has held for its duration', async () => {
    await createPod(kc, ns, 'unready', { labels: { app: 'cond' }, annotations: { 'sim.kubeskippy.io/ready': 'false' } });
    await createPolicy(kc, ns, 'readiness', {
      selector: { labelSelector: { matchLabels: { app: 'cond' } } },
      triggers: [{ name: 'not-ready', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False', duration: '15s' } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    const since = await waitFor('Ready=False', async () => {
      const p = await core.readNamespacedPod({ name: 'unready', namespace: ns });
      const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'False');
      return c?.lastTransitionTime ? new Date(c.lastTransitionTime).getTime() : undefined;
    }, 30_000);
    const [action] = await waitForActions(kc, ns, 1, 60_000);
    expect(Date.parse(action!.metadata.creationTimestamp!)).toBeGreaterThanOrEqual(since + 15_000 - 1000);
    expect(action!.spec.trigger).toMatchObject({ name: 'not-ready', type: 'condition' });
  });
});

describe('events and cooldowns', () => {
  async function emitEvent(i: number, reason: string): Promise<void> {
    const now = new Date();
    await core.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: { name: `probe-${i}`, namespace: ns },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'target', namespace: ns },
        reason,
        message: `probe failure ${i}`,
        type: 'Warning',
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'kubelet' },
      },
    });
  }

  it('fires an event trigger when the count is reached within the window (reason as a full-match regex)', async () => {
    await createPod(kc, ns, 'target', { labels: { app: 'ev' } });
    await createPolicy(kc, ns, 'events', {
      selector: { labelSelector: { matchLabels: { app: 'ev' } } },
      triggers: [{ name: 'probes', type: 'event', eventTrigger: { reason: 'Unhealthy|BackOff', type: 'Warning', count: 3, window: '5m' } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    await emitEvent(1, 'Unhealthy');
    await emitEvent(2, 'BackOff');
    await emitEvent(3, 'UnhealthyX'); // not a full match: must not count
    await sleep(5000);
    expect(await listActions(kc, ns)).toEqual([]);
    await emitEvent(4, 'Unhealthy');
    const [action] = await waitForActions(kc, ns, 1, 30_000);
    expect(action!.spec.trigger).toMatchObject({ name: 'probes', type: 'event', observedValue: 3, threshold: 3 });
  });

  it('respects the cooldown: a trigger that keeps firing on one target acts at most once per cooldownPeriod', async () => {
    await createPod(kc, ns, 'looper', { labels: { app: 'cool' }, annotations: crashAnnotations });
    await createPolicy(kc, ns, 'cooldown', {
      selector: { labelSelector: { matchLabels: { app: 'cool' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '20s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    const [first] = await waitForActions(kc, ns, 1, 60_000);
    const start = Date.parse(first!.metadata.creationTimestamp!);
    await sleep(Math.max(0, start + 47_000 - Date.now()));
    const actions = await listActions(kc, ns);
    const times = actions.map((a) => Date.parse(a.metadata.creationTimestamp!));
    // Firing continuously for ~47 s with a 20 s cooldown: 2 or 3 actions, never closer than the cooldown.
    expect(actions.length).toBeGreaterThanOrEqual(2);
    expect(actions.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(20_000 - 1000);
  });
});

describe('modes', () => {
  it('in monitor mode evaluates, reports the firing trigger and an Event, and creates nothing', async () => {
    await createPod(kc, ns, 'looper', { labels: { app: 'mon' }, annotations: crashAnnotations });
    await createPolicy(kc, ns, 'watch-only', {
      selector: { labelSelector: { matchLabels: { app: 'mon' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 1 } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'monitor',
    });
    await waitFor('activeTriggers on the policy', async () => (await readPolicy(kc, ns, 'watch-only')).status?.activeTriggers?.includes('restarts'), 60_000, 500);
    const events = await waitFor('a WouldAct event', async () => {
      const list = await eventsFor(kc, ns, 'HealingPolicy', 'watch-only');
      return list.find((e) => e.reason === 'WouldAct');
    }, 30_000, 500);
    expect(events.message).toMatch(/would act on Pod\/.+\/looper/);
    await sleep(3000);
    expect(await listActions(kc, ns)).toEqual([]);
  });
});

describe('PromQL triggers', () => {
  let exporter: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
    exporter = undefined;
    setPrometheusTargets(root, []);
  });

  it('fire from a real Prometheus, per target, matched by namespace and pod labels', async () => {
    await createPod(kc, ns, 'worker', { labels: { app: 'queue' } });
    await createPod(kc, ns, 'idle', { labels: { app: 'queue' } });
    const body = `# TYPE test_queue_depth gauge\ntest_queue_depth{namespace="${ns}",pod="worker"} 42\ntest_queue_depth{namespace="${ns}",pod="idle"} 3\n`;
    exporter = createServer((_, res) => res.end(body));
    const port = await new Promise<number>((resolve) => exporter!.listen(0, '127.0.0.1', () => resolve((exporter!.address() as { port: number }).port)));
    // Prometheus scrapes the test's exporter and the operator's own /metrics.
    const operatorAddress = new URL(operator.health!.url).host;
    setPrometheusTargets(root, [{ address: `127.0.0.1:${port}` }, { address: operatorAddress, labels: { job: 'kubeskippy' } }]);
    await createPolicy(kc, ns, 'queue', {
      selector: { labelSelector: { matchLabels: { app: 'queue' } } },
      triggers: [{ name: 'backlog', type: 'metric', metricTrigger: { query: `test_queue_depth{namespace="${ns}"}`, threshold: 10 } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    const [action] = await waitForActions(kc, ns, 1, 90_000);
    expect(action!.spec.targetResource.name).toBe('worker');
    expect(action!.spec.trigger?.observedValue).toBe(42);
    await sleep(5000);
    expect((await listActions(kc, ns)).map((a) => a.spec.targetResource.name)).toEqual(['worker']);
    // The firing is visible in Prometheus through the operator's own metric.
    const firings = await waitFor('kubeskippy_trigger_firings_total in Prometheus', async () => {
      const q = encodeURIComponent(`kubeskippy_trigger_firings_total{namespace="${ns}",policy="queue"}`);
      const res = (await (await fetch(`${prometheusUrl!}/api/v1/query?query=${q}`)).json()) as { data: { result: { value: [number, string] }[] } };
      return res.data.result[0] ? Number(res.data.result[0].value[1]) : undefined;
    }, 30_000, 1000);
    expect(firings).toBe(1);
  });
});

describe('bad input', () => {
  it('reports problems on the policy (no targets, unknown metric, PromQL error) and keeps serving other policies', async () => {
    await createPod(kc, ns, 'looper', { labels: { app: 'ok' }, annotations: crashAnnotations });
    await createPolicy(kc, ns, 'selects-nothing', {
      selector: { labelSelector: { matchLabels: { app: 'no-such-app' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 1 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    await createPolicy(kc, ns, 'bad-promql', {
      selector: { labelSelector: { matchLabels: { app: 'ok' } } },
      triggers: [{ name: 'broken', type: 'metric', metricTrigger: { query: 'rate(http_requests_total[5m]', threshold: 1 } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    await createPolicy(kc, ns, 'unknown-metric', {
      selector: { labelSelector: { matchLabels: { app: 'ok' } } },
      triggers: [{ name: 'typo', type: 'metric', metricTrigger: { query: 'restart_cont', threshold: 1 } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    await createPolicy(kc, ns, 'good', {
      selector: { labelSelector: { matchLabels: { app: 'ok' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 1 } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    const nothing = await waitFor('NoTargets', async () => {
      const p = await readPolicy(kc, ns, 'selects-nothing');
      return p.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'NoTargets') ? p : undefined;
    }, 60_000, 500);
    expect(nothing.status?.matchedResources).toBe(0);
    const bad = await waitFor('DataAvailable=False with the PromQL error', async () => {
      const p = await readPolicy(kc, ns, 'bad-promql');
      return p.status?.conditions?.find((c) => c.type === 'DataAvailable' && c.status === 'False' && /PromQL error/.test(c.message));
    }, 60_000, 500);
    expect(bad.message).toMatch(/bad_data|parse error/i);
    const typo = await waitFor('DataAvailable=False for the unknown metric', async () => {
      const p = await readPolicy(kc, ns, 'unknown-metric');
      return p.status?.conditions?.find((c) => c.type === 'DataAvailable' && c.status === 'False');
    }, 60_000, 500);
    expect(typo.message).toMatch(/typo: .*restart_cont/);
    const [action] = await waitForActions(kc, ns, 1, 60_000);
    expect(action!.spec.policyRef.name).toBe('good');
  });
});
