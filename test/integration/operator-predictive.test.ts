/**
 * Predictive healing on the real cluster (issue 9): the analyzer restarts a leaking pod while it is still below
 * half of its limit, long before the limit, and leaves a healthy GC sawtooth and a warm-up that levels off alone; and
 * a crash loop that starts right after a rollout is rolled back — not restarted — by a policy that lets the analyzer
 * choose. Memory comes from kwok's simulated usage through the real metrics.k8s.io.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createDeployment, createPolicy, ensureCrds, listActions, waitForPhase, waitForReady } from '../support/resources.js';

const kc = testKubeConfig();
const apps = kc.makeApiClient(k8s.AppsV1Api);
const LIMIT_MIB = 1024;
const LEAK_MIB_PER_S = 0.5;
const BASE_MIB = 64;

let operator: RunningOperator;

beforeAll(async () => {
  await ensureCrds();
  operator = await startTestOperator({ maxActionsPerHour: 1000, aiMaxActionsPerHour: 1000 });
}, 120_000);
afterAll(async () => {
  await operator?.stop();
});

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(kc, prefix);
  onTestFinished(() => deleteTestNamespace(kc, ns));
  return ns;
}

describe('predictive healing', () => {
  it('rolls back a crash loop that began right after a rollout, where the ladder would have restarted', { timeout: 300_000 }, async () => {
    const ns = await namespace('pred-rollout');
    await createDeployment(kc, ns, 'shop', 2);
    await waitForReady(kc, ns, 'shop', 2);
    await createPolicy(kc, ns, 'shop-ai', {
      selector: { labelSelector: { matchLabels: { app: 'shop' } } },
      triggers: [{ name: 'crashloop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff' } }],
      // The ladder would take the restart first; the analyzer looks at the rollout.
      actions: [
        { name: 'restart', type: 'restart', priority: 10 },
        { name: 'undo', type: 'rollback', priority: 20 },
      ],
      strategy: 'ai',
    });
    // The bad release: revision 2 crash-loops.
    await apps.patchNamespacedDeployment(
      {
        name: 'shop',
        namespace: ns,
        body: { spec: { template: { metadata: { annotations: { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '5s' } } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const first = await waitFor('an action on the bad release', async () => (await listActions(kc, ns))[0], 120_000, 500);
    expect(first.spec.action.type).toBe('rollback');
    expect(first.spec.source).toBe('ai');
    expect(first.spec.confidence).toBeGreaterThanOrEqual(0.6);
    expect(first.metadata.annotations?.['kubeskippy.io/ai-confidence']).toBe(first.spec.confidence?.toFixed(2));
    expect(first.spec.reasoning?.join(' ')).toMatch(/crash loop began .* after ReplicaSet revision 2 was created/);
    expect(first.spec.alternatives?.map((a) => a.action)).toContain('restart');
    const done = await waitForPhase(kc, ns, first.metadata.name!, ['Succeeded', 'Failed', 'Blocked', 'Cancelled'], 150_000);
    expect(done.status?.phase).toBe('Succeeded');
    const d = await apps.readNamespacedDeployment({ name: 'shop', namespace: ns });
    expect(d.spec?.template.metadata?.annotations?.['sim.kubeskippy.io/crash']).toBeUndefined();
    // Both pods of the bad revision crash-loop; the release is rolled back once, not once per pod.
    expect((await listActions(kc, ns)).map((a) => `${a.spec.action.type}/${a.status?.phase ?? 'Pending'}`)).toEqual(['rollback/Succeeded']);
  });

  it(
    'restarts a leaking pod below half its limit with at least 10 minutes to spare, and never touches a healthy sawtooth or a warm-up',
    { timeout: 900_000 },
    async () => {
      const ns = await namespace('pred-leak');
      const limits = { memory: `${LIMIT_MIB}Mi`, cpu: '1' };
      await createDeployment(kc, ns, 'leaky', 1, { labels: { tier: 'mem' }, limits, annotations: { 'sim.kubeskippy.io/memory': `${BASE_MIB}Mi`, 'sim.kubeskippy.io/memory-leak': '512Ki' } });
      await createDeployment(kc, ns, 'sawtooth', 1, {
        labels: { tier: 'mem' },
        limits,
        annotations: { 'sim.kubeskippy.io/memory': '150Mi', 'sim.kubeskippy.io/memory-sawtooth': '300Mi', 'sim.kubeskippy.io/memory-sawtooth-period': '90' },
      });
      await createDeployment(kc, ns, 'warmup', 1, {
        labels: { tier: 'mem' },
        limits,
        annotations: { 'sim.kubeskippy.io/memory': '100Mi', 'sim.kubeskippy.io/memory-warmup': '350Mi', 'sim.kubeskippy.io/memory-warmup-seconds': '60' },
      });
      for (const name of ['leaky', 'sawtooth', 'warmup']) await waitForReady(kc, ns, name, 1);
      await createPolicy(kc, ns, 'predict-oom', {
        selector: { labelSelector: { matchLabels: { tier: 'mem' } } },
        // minHistory 4m and minConfidence 0.55 (defaults 8m, 0.7) keep this test short: forecasts from under 8 minutes
        // of data are calibrated down to about 0.6 (docs/analyze.md); the sawtooth and warm-up must still be left alone.
        triggers: [{ name: 'leak', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent', horizon: '30m', minConfidence: 0.55, minHistory: '4m' } }],
        actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
      });

      const action = await waitFor(
        'a predictive action',
        async () => (await listActions(kc, ns)).find((a) => a.spec.trigger?.type === 'predictive'),
        600_000,
        1000,
      );
      expect(action.metadata.labels?.['kubeskippy.io/target-name']).toMatch(/^leaky-/);
      const percent = action.spec.trigger?.observedValue ?? 100;
      const memoryMib = (percent / 100) * LIMIT_MIB;
      const leadSeconds = (LIMIT_MIB - memoryMib) / LEAK_MIB_PER_S;
      console.log(`[predictive] restart of ${action.spec.targetResource.name} at ${percent.toFixed(1)}% of its limit, ${Math.round(leadSeconds / 60)} min before it; confidence ${String(action.spec.confidence)}; ${action.spec.reasoning?.join(' | ') ?? ''}`);
      expect(percent).toBeLessThan(50);
      expect(leadSeconds).toBeGreaterThanOrEqual(600);
      expect(action.spec.source).toBe('ai');
      expect(action.spec.confidence).toBeGreaterThanOrEqual(0.55);
      expect(action.spec.trigger?.values?.['pattern']).toMatch(/leak/);
      expect(action.spec.reasoning?.length).toBeGreaterThan(1);
      // Executed: the leaking pod is replaced. (Its replacement leaks again — the bug is in the code — so whether the
      // trigger stays clear is the verifier's and the learning's business, not this test's.)
      const executed = await waitForPhase(kc, ns, action.metadata.name!, ['Verifying', 'Succeeded', 'Failed', 'Blocked', 'Cancelled'], 120_000);
      expect(executed.status?.startTime).toBeDefined();
      await waitFor('the leaking pod replaced', async () => {
        const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=leaky' });
        return !pods.items.some((p) => p.metadata?.name === action.spec.targetResource.name && p.metadata.deletionTimestamp === undefined);
      }, 60_000);

      // A while longer with the sawtooth at its peaks and the warm-up at its plateau: still nothing for them.
      await new Promise((r) => setTimeout(r, 60_000));
      const touched = (await listActions(kc, ns)).map((a: HealingAction) => a.metadata.labels?.['kubeskippy.io/target-name'] ?? '');
      expect(touched.filter((t) => t.startsWith('sawtooth') || t.startsWith('warmup'))).toEqual([]);
      // What was left alone was seen, not missing: the operator holds their memory series, and they moved.
      for (const name of ['sawtooth', 'warmup']) {
        const pod = (await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` })).items[0]!;
        const samples = operator.store.observations({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata!.name! }, { metrics: ['memory_usage_percent'] }).series.get('memory_usage_percent') ?? [];
        const values = samples.map((s) => s.value);
        expect(values.length, name).toBeGreaterThan(10);
        expect(Math.max(...values) - Math.min(...values), name).toBeGreaterThan(10);
      }
    },
  );
});
