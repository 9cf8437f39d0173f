/**
 * Tenancy with the real operator on the real cluster (issue 8): a HealingPolicy acts only in its own namespace —
 * even through a HealingAction written by hand — and a ClusterHealingPolicy acts in the namespaces it selects and
 * nowhere else, with its budget shared across them. (RBAC and admission for people: tenancy-rbac.test.ts.)
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { ClusterHealingPolicy, HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, TEST_RUN_ID, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createPod, createPolicy, ensureCrds, listActions, waitForActions, waitForPhase } from '../support/resources.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const co = kc.makeApiClient(k8s.CustomObjectsApi);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };
const RESTARTS = { name: 'restarts', type: 'metric' as const, metricTrigger: { query: 'restart_count', threshold: 1 } };
const RECREATE = { name: 'recreate', type: 'restart' as const, restartAction: { strategy: 'recreate' as const } };
const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'];

let operator: RunningOperator;

beforeAll(async () => {
  await ensureCrds();
  operator = await startTestOperator({ maxActionsPerHour: 1000 });
}, 120_000);
afterAll(async () => {
  await operator?.stop();
});

async function namespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = await createTestNamespace(kc, prefix, labels);
  onTestFinished(() => deleteTestNamespace(kc, ns));
  return ns;
}

async function podUid(ns: string, name: string): Promise<string> {
  return (await core.readNamespacedPod({ namespace: ns, name })).metadata?.uid ?? '';
}

/** Creates a HealingAction by hand (as a cluster admin could), the way an attacker would craft one. */
async function handWritten(ns: string, name: string, policyRef: HealingAction['spec']['policyRef'], target: { namespace: string; name: string; uid: string }): Promise<void> {
  await co.createNamespacedCustomObject({
    group: 'kubeskippy.io',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'healingactions',
    body: {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name },
      spec: { policyRef, targetResource: { apiVersion: 'v1', kind: 'Pod', ...target }, action: RECREATE },
    },
  });
}

describe('a HealingPolicy acts only in its own namespace', () => {
  it('refuses, as NamespaceNotAllowed, hand-written actions that borrow a policy of namespace A to act in namespace B', async () => {
    const a = await namespace('tenant-a');
    const b = await namespace('tenant-b');
    await createPod(kc, b, 'victim');
    const victim = { namespace: b, name: 'victim', uid: await podUid(b, 'victim') };
    await createPolicy(kc, a, 'mine', { selector: {}, triggers: [{ ...RESTARTS, metricTrigger: { query: 'restart_count', threshold: 100_000 } }], actions: [RECREATE] });

    // 1. The action in A, naming A's policy, targeting B's pod.
    await handWritten(a, 'reach-into-b', { name: 'mine' }, victim);
    // 2. The action in B, naming A's policy by namespace, targeting B's pod.
    await handWritten(b, 'borrow-a', { name: 'mine', namespace: a }, victim);

    const first = await waitForPhase(kc, a, 'reach-into-b', FINISHED, 30_000);
    expect(first.status).toMatchObject({ phase: 'Blocked', reason: 'NamespaceNotAllowed' });
    expect(first.status?.message).toContain(`a HealingAction in namespace ${a} acts only on objects of that namespace`);
    const second = await waitForPhase(kc, b, 'borrow-a', FINISHED, 30_000);
    expect(second.status).toMatchObject({ phase: 'Blocked', reason: 'NamespaceNotAllowed' });
    expect(second.status?.message).toContain(`names the HealingPolicy ${a}/mine of namespace ${a}`);
    // The victim was never touched.
    expect(await podUid(b, 'victim')).toBe(victim.uid);
  });

  it('never selects a crash-looping pod of another namespace', async () => {
    const a = await namespace('tenant-a');
    const b = await namespace('tenant-b');
    await createPod(kc, b, 'crasher', { annotations: CRASH });
    await createPod(kc, a, 'quiet');
    await createPolicy(kc, a, 'everything', { selector: {}, triggers: [RESTARTS], actions: [RECREATE] });
    await waitFor('the crasher in B to restart twice', async () => ((await core.readNamespacedPod({ namespace: b, name: 'crasher' })).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 60_000);
    await waitFor('the policy in A evaluated', async () => {
      const p = (await co.getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: a, plural: 'healingpolicies', name: 'everything' })) as HealingPolicy;
      return p.status?.matchedResources === 1;
    }, 30_000);
    await sleep(5000);
    expect(await listActions(kc, a)).toEqual([]);
    expect(await listActions(kc, b)).toEqual([]);
  });
});

describe('a ClusterHealingPolicy', () => {
  it('acts in the namespaces it selects by label, records each action in its target namespace, shares one budget, and never acts elsewhere', async () => {
    const team = `shop-${TEST_RUN_ID}`;
    const selected1 = await namespace('chp-in-1', { team });
    const selected2 = await namespace('chp-in-2', { team });
    const other = await namespace('chp-out');
    for (const ns of [selected1, selected2, other]) await createPod(kc, ns, 'crasher', { annotations: CRASH });

    const name = `tenancy-${TEST_RUN_ID}`;
    const policy: ClusterHealingPolicy = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'ClusterHealingPolicy',
      metadata: { name },
      spec: { selector: { namespaceSelector: { matchLabels: { team } } }, triggers: [RESTARTS], actions: [RECREATE], safetyRules: { maxActionsPerHour: 1 } },
    };
    await co.createClusterCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', plural: 'clusterhealingpolicies', body: policy });
    onTestFinished(async () => {
      await co.deleteClusterCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', plural: 'clusterhealingpolicies', name }).catch(() => undefined);
    });

    const [in1] = await waitForActions(kc, selected1, 1, 90_000);
    const [in2] = await waitForActions(kc, selected2, 1, 90_000);
    for (const [ns, a] of [[selected1, in1], [selected2, in2]] as const) {
      expect(a!.metadata.namespace).toBe(ns);
      expect(a!.spec.policyRef).toMatchObject({ kind: 'ClusterHealingPolicy', name });
      expect(a!.spec.policyRef.namespace).toBeUndefined();
      expect(a!.spec.targetResource).toMatchObject({ namespace: ns, name: 'crasher' });
      expect(a!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ClusterHealingPolicy', name });
    }
    // One budget for the whole policy: of the two namespaces' actions, one executes and the other is RateLimited.
    const done = await Promise.all([waitForPhase(kc, selected1, in1!.metadata.name!, FINISHED, 60_000), waitForPhase(kc, selected2, in2!.metadata.name!, FINISHED, 60_000)]);
    const phases = done.map((d) => (d.status?.phase === 'Blocked' ? `Blocked/${d.status.reason ?? ''}` : 'executed'));
    expect(phases.sort()).toEqual(['Blocked/RateLimited', 'executed']);

    // Nothing in the namespace it does not select, though its pod crash-loops just the same.
    await sleep(3000);
    expect(await listActions(kc, other)).toEqual([]);
    // The policy's status follows its ledger (one action executed, the other Blocked: not taken).
    const status = await waitFor('the cluster policy status to count its executed action', async () => {
      const st = ((await co.getClusterCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', plural: 'clusterhealingpolicies', name })) as ClusterHealingPolicy).status;
      return (st?.actionsTaken ?? 0) >= 1 ? st : undefined;
    }, 60_000, 500);
    expect(status.actionsTaken).toBe(1);
    expect(status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
