/**
 * The acting half of the operator on the real cluster: approval (through the CLI and plain annotations), the safety
 * gate (PDB, protected resources, the rate limit and its survival across an operator restart, the circuit breaker),
 * dry runs that mutate nothing, and bad input — each ending in a clear phase and reason on the HealingAction.
 *
 * Every test gets its own namespace(s) AND its own operator, whose namespaceSelector matches only that test's
 * namespaces (an extra kubeskippy.io/safety-case label), so operators with different flags never see each other's
 * objects and never touch anything outside this file.
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { approveCommand, createActionsApi, impersonate, rejectCommand, type ActionsApi } from '../../src/cli/approve.js';
import { main } from '../../src/cli/main.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, TEST_NAMESPACE_SELECTOR, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createDeployment, createPod, createPolicy, ensureCrds, eventsFor, listActions, waitForActions, waitForPhase, waitForReady } from '../support/resources.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const policyApi = kc.makeApiClient(k8s.PolicyV1Api);
const co = kc.makeApiClient(k8s.CustomObjectsApi);
const cliApi = createActionsApi(kc);
/**
 * The people the approval tests impersonate. Impersonating a user carries none of the admin's groups, so they get,
 * by a ClusterRole of this file (unique name, removed afterwards), what an approver holds: read and patch
 * HealingActions.
 */
const APPROVERS = ['alice', 'bob', 'carol', 'mallory'];
const approverRole = `kubeskippy-test-approvers-${randomBytes(3).toString('hex')}`;
const rbacApi = kc.makeApiClient(k8s.RbacAuthorizationV1Api);

/** The CLI's API as `user` (Kubernetes impersonation, as `kubeskippy approve --as USER`): it records that name. */
function cliAs(user: string): ActionsApi {
  const k = testKubeConfig();
  impersonate(k, user);
  return createActionsApi(k);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'] as const;
const EXECUTED = ['InProgress', 'Verifying', 'Succeeded', 'Failed'];

/**
 * Flags of every operator here. The global breaker and the global rule budget count HealingActions cluster-wide —
 * other test files' and other people's runs included — so they are set out of reach; the per-policy limits under
 * test are unaffected.
 */
const SAFETY_FLAGS: Readonly<Record<string, unknown>> = {
  maxActionsPerHour: 100_000,
  'globalCircuitBreaker.failureRate': 1,
  'globalCircuitBreaker.minActions': 100_000,
};

/** A trigger that holds for every pod and workload at once: the tests here are about what happens next. */
const ALWAYS = { name: 'always', type: 'metric' as const, metricTrigger: { query: 'restart_count', threshold: 0, operator: '>=' as const } };
const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };

/** One test's world: its namespaces and operators, all removed when the test finishes. */
class Case {
  readonly id = randomBytes(3).toString('hex');
  private readonly operators = new Set<RunningOperator>();
  private readonly namespaces: string[] = [];

  constructor() {
    onTestFinished(async () => {
      await Promise.all([...this.operators].map((o) => o.stop()));
    });
    // A failure on a shared cluster is hard to reproduce: print what the operator left behind before cleanup.
    onTestFailed(async () => {
      for (const ns of this.namespaces) console.log(`--- ${ns}\n${await describeNamespace(ns)}`);
    });
  }

  /** A namespace only this case's operators serve. */
  async namespace(prefix: string): Promise<string> {
    const ns = await createTestNamespace(kc, `safe-${prefix}`, { 'kubeskippy.io/safety-case': this.id });
    this.namespaces.push(ns);
    onTestFinished(() => deleteTestNamespace(kc, ns));
    return ns;
  }

  /** Starts an operator serving this case's namespaces. */
  async operator(flags: Record<string, unknown> = {}): Promise<RunningOperator> {
    const op = await startTestOperator({ ...SAFETY_FLAGS, namespaceSelector: `${TEST_NAMESPACE_SELECTOR},kubeskippy.io/safety-case=${this.id}`, ...flags });
    this.operators.add(op);
    return op;
  }

  async stop(op: RunningOperator): Promise<void> {
    await op.stop();
    this.operators.delete(op);
  }
}

/** Actions (phase, reason, message), policy statuses and pods of a namespace, one line each, for failure reports. */
async function describeNamespace(ns: string): Promise<string> {
  const lines: string[] = [];
  try {
    for (const a of await listActions(kc, ns)) {
      const s = a.status;
      lines.push(`action ${a.metadata.name ?? ''} → ${a.spec.targetResource.kind}/${a.spec.targetResource.name} created ${a.metadata.creationTimestamp ?? ''}: ${s?.phase ?? 'Pending'} ${s?.reason ?? ''} ${s?.message ?? ''}`);
    }
    const policies = (await co.listNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies' })) as { items: HealingPolicy[] };
    for (const p of policies.items) lines.push(`policy ${p.metadata.name ?? ''}: ${JSON.stringify(p.status ?? {})}`);
    for (const p of (await core.listNamespacedPod({ namespace: ns })).items) {
      const cs = p.status?.containerStatuses?.[0];
      lines.push(`pod ${p.metadata?.name ?? ''} ${p.status?.phase ?? ''} restarts=${cs?.restartCount ?? 0} ready=${String(cs?.ready)} deleting=${String(p.metadata?.deletionTimestamp !== undefined)}`);
    }
  } catch (e: unknown) {
    lines.push(`(could not describe ${ns}: ${e instanceof Error ? e.message : String(e)})`);
  }
  return lines.join('\n');
}

async function readAction(ns: string, name: string): Promise<HealingAction> {
  return (await co.getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingactions', name })) as HealingAction;
}

/** What `kubectl annotate healingaction NAME k=v` does. */
async function annotate(ns: string, name: string, annotations: Record<string, string>): Promise<void> {
  await co.patchNamespacedCustomObject(
    { group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingactions', name, body: { metadata: { annotations } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Waits until every action in `ns` is finished (or Blocked); returns them all. */
async function waitAllFinished(ns: string, count: number, timeoutMs = 90_000): Promise<HealingAction[]> {
  return waitFor(`${count} finished HealingActions in ${ns}`, async () => {
    const items = await listActions(kc, ns);
    return items.length >= count && items.every((a) => (FINISHED as readonly string[]).includes(a.status?.phase ?? '')) ? items : undefined;
  }, timeoutMs, 500);
}

/** Waits for a Ready pod and returns its uid and resourceVersion (stable from then on: kwok writes nothing more). */
async function readyPod(ns: string, name: string): Promise<{ uid: string; resourceVersion: string }> {
  return waitFor(`pod ${name} Ready`, async () => {
    const p = await core.readNamespacedPod({ name, namespace: ns });
    const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready ? { uid: p.metadata?.uid ?? '', resourceVersion: p.metadata?.resourceVersion ?? '' } : undefined;
  }, 60_000);
}

/** The pod still exists, is the same object, and nobody started deleting it. */
async function expectUntouched(ns: string, name: string, uid: string): Promise<void> {
  const p = await core.readNamespacedPod({ name, namespace: ns });
  expect(p.metadata?.uid).toBe(uid);
  expect(p.metadata?.deletionTimestamp).toBeUndefined();
}

async function podGone(ns: string, name: string): Promise<boolean> {
  try {
    await core.readNamespacedPod({ name, namespace: ns });
    return false;
  } catch {
    return true;
  }
}

function actionFor(actions: readonly HealingAction[], target: string): HealingAction {
  const a = actions.find((x) => x.spec.targetResource.name === target);
  if (!a) throw new Error(`no action for ${target} among ${actions.map((x) => x.spec.targetResource.name).join(', ')}`);
  return a;
}

function manualPolicy(app: string): HealingPolicy['spec'] {
  return {
    selector: { labelSelector: { matchLabels: { app } } },
    triggers: [ALWAYS],
    actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
    mode: 'manual',
  };
}

beforeAll(async () => {
  await ensureCrds();
  await rbacApi.createClusterRole({ body: { metadata: { name: approverRole }, rules: [{ apiGroups: ['kubeskippy.io'], resources: ['healingactions'], verbs: ['get', 'list', 'patch'] }] } });
  await rbacApi.createClusterRoleBinding({
    body: {
      metadata: { name: approverRole },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: approverRole },
      subjects: APPROVERS.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
    },
  });
  // RBAC reaches the authorizer through an informer.
  await waitFor('the approvers\' role to take effect', async () => {
    await cliAs('mallory').list(undefined);
    return true;
  }, 30_000);
}, 120_000);

afterAll(async () => {
  await rbacApi.deleteClusterRoleBinding({ name: approverRole }).catch(() => undefined);
  await rbacApi.deleteClusterRole({ name: approverRole }).catch(() => undefined);
});

describe('approval', () => {
  it('manual mode waits for approval; `kubeskippy approve` lets it run to Succeeded with the approver recorded; a late approval is refused and ignored', async () => {
    const c = new Case();
    const ns = await c.namespace('approve');
    await c.operator();
    await createPod(kc, ns, 'victim', { labels: { app: 'manual' } });
    await readyPod(ns, 'victim');
    await createPolicy(kc, ns, 'manual', manualPolicy('manual'));
    const [created] = await waitForActions(kc, ns, 1, 60_000);
    const name = created!.metadata.name!;
    const waiting = await waitForPhase(kc, ns, name, ['WaitingApproval'], 30_000);
    expect(waiting.status?.approval).toEqual({ required: true });
    expect(waiting.status?.message).toContain(`kubeskippy approve ${name} -n ${ns}`);
    // Nothing happens while it waits.
    await sleep(2000);
    expect((await readAction(ns, name)).status?.phase).toBe('WaitingApproval');
    expect(await podGone(ns, 'victim')).toBe(false);

    const pending: string[] = [];
    expect(await main(['actions', '-n', ns, '--pending', '--kubeconfig', kubeconfigPath], { out: (l) => pending.push(l), err: () => undefined })).toBe(0);
    expect(pending[0]).toMatch(/^NAME\s+POLICY\s+ACTION\s+TARGET\s+PHASE\s+REASON\s+AGE$/);
    expect(pending[1]).toMatch(new RegExp(`^${name}\\s+manual\\s+restart\\s+Pod/victim\\s+WaitingApproval\\s+AwaitingApproval\\s+\\d+s$`));

    // Through the whole CLI, as a user types it: the approver is the user the API server authenticates (not the
    // kubeconfig's entry name).
    const out: string[] = [];
    const err: string[] = [];
    expect(await main(['approve', name, '-n', ns, '--kubeconfig', kubeconfigPath], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
    const user = await cliApi.whoAmI();
    expect(user).not.toBe('');
    expect(out).toEqual([`healingaction.kubeskippy.io/${name} approved by ${user}`]);

    const done = await waitForPhase(kc, ns, name, FINISHED, 60_000);
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.reason).toBe('Verified');
    expect(done.status?.approval).toMatchObject({ required: true, approved: true, approvedBy: user });
    expect(done.status?.attempts).toBe(1);
    expect(done.status?.result?.changes).toEqual([expect.objectContaining({ field: 'pods/victim', new: 'deleted' })]);
    await waitFor('the pod deleted', () => podGone(ns, 'victim'), 30_000);
    const reasons = await waitFor('the life-cycle events', async () => {
      const r = (await eventsFor(kc, ns, 'HealingAction', name)).map((e) => e.reason ?? '');
      return r.includes('Verified') ? r : undefined;
    }, 30_000, 500);
    expect(reasons).toEqual(expect.arrayContaining(['AwaitingApproval', 'Approved', 'Executing', 'Executed', 'Verified']));

    // A late approval: the CLI refuses it…
    const late = await approveCommand(cliAs('mallory'), { namespace: ns, name });
    expect(late).toEqual({ code: 1, out: [], err: [`${name} is already Succeeded; nothing to approve`] });
    // …and one written by hand (kubectl annotate --overwrite) changes nothing.
    const before = await readAction(ns, name);
    await annotate(ns, name, { 'kubeskippy.io/approved-by': 'mallory' });
    await sleep(3000);
    const after = await readAction(ns, name);
    expect(after.status).toEqual(before.status);
    expect(after.status?.approval?.approvedBy).toBe(user);
  });

  it('`kubeskippy reject` cancels the action with the reason, and a later approval does not revive it', async () => {
    const c = new Case();
    const ns = await c.namespace('reject');
    await c.operator();
    await createPod(kc, ns, 'keep', { labels: { app: 'manual' } });
    const pod = await readyPod(ns, 'keep');
    await createPolicy(kc, ns, 'manual', manualPolicy('manual'));
    const [created] = await waitForActions(kc, ns, 1, 60_000);
    const name = created!.metadata.name!;
    await waitForPhase(kc, ns, name, ['WaitingApproval'], 30_000);

    const out = await rejectCommand(cliAs('bob'), { namespace: ns, name, reason: 'not during the sale' });
    expect(out).toEqual({ code: 0, out: [`healingaction.kubeskippy.io/${name} rejected by bob: not during the sale`], err: [] });
    const done = await waitForPhase(kc, ns, name, FINISHED, 30_000);
    expect(done.status).toMatchObject({
      phase: 'Cancelled',
      reason: 'Rejected',
      message: 'rejected by bob: not during the sale',
      approval: { required: true, approved: false, approvedBy: 'bob', reason: 'not during the sale' },
    });
    expect(done.status?.startTime).toBeUndefined();

    expect(await approveCommand(cliAs('alice'), { namespace: ns, name })).toEqual({ code: 1, out: [], err: [`${name} is already Cancelled; nothing to approve`] });
    await annotate(ns, name, { 'kubeskippy.io/approved-by': 'alice' });
    await sleep(3000);
    expect((await readAction(ns, name)).status).toEqual(done.status);
    await expectUntouched(ns, 'keep', pod.uid);
  });
  it('an action approved before the operator first saw it (kubectl apply with the annotation) runs, with the approver recorded', async () => {
    const c = new Case();
    const ns = await c.namespace('early');
    await c.operator();
    const pod = await createPod(kc, ns, 'early', { labels: { app: 'manual' } });
    await readyPod(ns, 'early');
    await createPolicy(kc, ns, 'manual', {
      ...manualPolicy('manual'),
      // Never fires: the only action is the one written by hand below.
      triggers: [{ name: 'never', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 100_000 } }],
    });
    await waitFor('the operator to see the policy', async () => (await co.getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies', name: 'manual' }) as HealingPolicy).status?.observedGeneration === 1, 30_000);
    await co.createNamespacedCustomObject({
      group: 'kubeskippy.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'healingactions',
      body: {
        apiVersion: 'kubeskippy.io/v1alpha1',
        kind: 'HealingAction',
        metadata: { name: 'pre-approved', annotations: { 'kubeskippy.io/approved-by': 'alice' } },
        spec: {
          policyRef: { name: 'manual', namespace: ns },
          targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'early', uid: pod.metadata!.uid! },
          action: { name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } },
          approvalRequired: true,
        },
      },
    });
    const done = await waitForPhase(kc, ns, 'pre-approved', FINISHED, 30_000);
    expect(done.status).toMatchObject({ phase: 'Succeeded', approval: { required: true, approved: true, approvedBy: 'alice' } });
    await waitFor('the pod deleted', () => podGone(ns, 'early'), 30_000);
  });
});

describe('the safety gate', () => {
  it('a PodDisruptionBudget with minAvailable = replicas blocks the eviction: Blocked PDB, pods untouched', async () => {
    const c = new Case();
    const ns = await c.namespace('pdb');
    await createDeployment(kc, ns, 'guarded', 2);
    await waitForReady(kc, ns, 'guarded', 2);
    await policyApi.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: { metadata: { name: 'guarded' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } } },
    });
    // The disruption controller has computed the budget: both pods healthy, no disruption allowed.
    await waitFor('PDB status', async () => {
      const p = await policyApi.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace: ns });
      return p.status?.currentHealthy === 2 && p.status.desiredHealthy === 2 && p.status.disruptionsAllowed === 0;
    }, 60_000);
    const pods = (await core.listNamespacedPod({ namespace: ns })).items.map((p) => ({ name: p.metadata!.name!, uid: p.metadata!.uid! }));
    expect(pods).toHaveLength(2);
    await c.operator();
    await createPolicy(kc, ns, 'evict', {
      selector: { labelSelector: { matchLabels: { app: 'guarded' } } },
      triggers: [ALWAYS],
      // strategy rolling: an eviction through the Eviction API.
      actions: [{ name: 'evict', type: 'restart', restartAction: { strategy: 'rolling' } }],
    });
    const actions = await waitAllFinished(ns, 2, 60_000);
    for (const a of actions) {
      expect(a.status).toMatchObject({ phase: 'Blocked', reason: 'PDB' });
      expect(a.status?.message).toMatch(/PodDisruptionBudget guarded allows 0 disruptions/);
      expect(a.status?.startTime).toBeUndefined();
    }
    expect(actions.map((a) => a.spec.targetResource.name).sort()).toEqual(pods.map((p) => p.name).sort());
    for (const p of pods) await expectUntouched(ns, p.name, p.uid);
    const warning = await waitFor('a BlockedPDB event', async () => (await eventsFor(kc, ns, 'HealingAction', actions[0]!.metadata.name!)).find((e) => e.reason === 'BlockedPDB'), 30_000, 500);
    expect(warning.type).toBe('Warning');
  });

  describe('never touches a protected pod', () => {
    /** One protected pod and one ordinary pod under the same policy: the ordinary one proves the policy acts. */
    async function protectedScenario(
      c: Case,
      ns: string,
      protectedPod: { labels?: Record<string, string>; annotations?: Record<string, string> },
      safetyRules: HealingPolicy['spec']['safetyRules'] = {},
    ): Promise<{ blocked: HealingAction; control: HealingAction | undefined; uid: string }> {
      await createPod(kc, ns, 'precious', { labels: { app: 'guard', ...protectedPod.labels }, annotations: protectedPod.annotations ?? {} });
      await createPod(kc, ns, 'ordinary', { labels: { app: 'guard' } });
      const { uid } = await readyPod(ns, 'precious');
      await readyPod(ns, 'ordinary');
      await createPolicy(kc, ns, 'guard', {
        selector: { labelSelector: { matchLabels: { app: 'guard' } } },
        triggers: [ALWAYS],
        actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
        safetyRules: { requireHealthCheck: false, ...safetyRules },
      });
      const actions = await waitAllFinished(ns, 2, 60_000);
      const blocked = actionFor(actions, 'precious');
      return { blocked, control: actions.find((a) => a.spec.targetResource.name === 'ordinary'), uid };
    }

    it('by the policy protectedResources labelSelector (critical: "true")', async () => {
      const c = new Case();
      const ns = await c.namespace('prot-label');
      await c.operator();
      const { blocked, control, uid } = await protectedScenario(c, ns, { labels: { critical: 'true' } }, {
        protectedResources: [{ labelSelector: { matchLabels: { critical: 'true' } } }],
      });
      expect(blocked.status).toMatchObject({ phase: 'Blocked', reason: 'Protected' });
      expect(blocked.status?.message).toMatch(/protectedResources\[0\].*critical=true/);
      expect(control?.status?.phase).toBe('Succeeded');
      await expectUntouched(ns, 'precious', uid);
      await waitFor('the ordinary pod deleted', () => podGone(ns, 'ordinary'), 30_000);
    });

    it('by the annotation kubeskippy.io/protected: "true"', async () => {
      const c = new Case();
      const ns = await c.namespace('prot-annot');
      await c.operator();
      const { blocked, control, uid } = await protectedScenario(c, ns, { annotations: { 'kubeskippy.io/protected': 'true' } });
      expect(blocked.status).toMatchObject({ phase: 'Blocked', reason: 'Protected' });
      expect(blocked.status?.message).toContain('annotated kubeskippy.io/protected: "true"');
      expect(control?.status?.phase).toBe('Succeeded');
      await expectUntouched(ns, 'precious', uid);
    });

    it('by namespace (the operator\'s protectedNamespaces)', async () => {
      const c = new Case();
      const ns = await c.namespace('prot-ns');
      await c.operator({ protectedNamespaces: ['kube-system', ns] });
      await createPod(kc, ns, 'precious', { labels: { app: 'guard' } });
      const { uid } = await readyPod(ns, 'precious');
      await createPolicy(kc, ns, 'guard', {
        selector: { labelSelector: { matchLabels: { app: 'guard' } } },
        triggers: [ALWAYS],
        actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
      });
      const [blocked] = await waitAllFinished(ns, 1, 60_000);
      expect(blocked!.status).toMatchObject({ phase: 'Blocked', reason: 'Protected' });
      expect(blocked!.status?.message).toContain(`namespace ${ns} is protected by the operator`);
      await sleep(2000);
      await expectUntouched(ns, 'precious', uid);
    });
  });

  it('30 crash-looping pods with maxActionsPerHour 5: exactly 5 execute, 25 are Blocked RateLimited — and the budget survives an operator restart', async () => {
    const c = new Case();
    // Three namespaces of ten: thirty failing workloads in ONE namespace is a storm, and storm suppression (more
    // than 10 failing workloads in a namespace in 5 minutes) would rightly block them all before the budget mattered.
    // One policy across namespaces is a ClusterHealingPolicy; its actions live in their targets' namespaces.
    const crashing = [await c.namespace('rate-a'), await c.namespace('rate-b'), await c.namespace('rate-c')];
    // The late crasher gets a namespace of its own: an eleventh failing pod in one of the others would make a storm,
    // held before any action is created, where this test is about the budget surviving a restart.
    const home = await c.namespace('rate-late');
    const namespaces = [...crashing, home];
    const first = await c.operator();
    const policyName = `crashloop-${c.id}`;
    await co.createClusterCustomObject({
      group: 'kubeskippy.io',
      version: 'v1alpha1',
      plural: 'clusterhealingpolicies',
      body: {
        apiVersion: 'kubeskippy.io/v1alpha1',
        kind: 'ClusterHealingPolicy',
        metadata: { name: policyName },
        spec: {
          selector: { namespaces, labelSelector: { matchLabels: { app: 'crasher' } } },
          triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 1, operator: '>' } }],
          actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
          safetyRules: { maxActionsPerHour: 5 },
        },
      },
    });
    onTestFinished(() => co.deleteClusterCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', plural: 'clusterhealingpolicies', name: policyName }).then(() => undefined, () => undefined));
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => createPod(kc, crashing[i % 3]!, `crasher-${String(i).padStart(2, '0')}`, { labels: { app: 'crasher' }, annotations: CRASH })),
    );
    const actions = (await Promise.all(crashing.map((ns) => waitAllFinished(ns, 10, 120_000)))).flat();
    expect(actions).toHaveLength(30);
    expect(new Set(actions.map((a) => `${a.spec.targetResource.namespace}/${a.spec.targetResource.name}`)).size).toBe(30);
    const executed = actions.filter((a) => EXECUTED.includes(a.status?.phase ?? ''));
    const blocked = actions.filter((a) => a.status?.phase === 'Blocked');
    expect(executed).toHaveLength(5);
    expect(blocked).toHaveLength(25);
    for (const a of blocked) {
      expect(a.status?.reason).toBe('RateLimited');
      // The three namespaces are gated in parallel (one gate lock per namespace): a check may also count an intent
      // of another namespace that its check-after-write then reverts, so "used 6 of 5" is a true count at the time.
      // Never fewer than the budget: an action is refused only when the hour is spent.
      const used = /used (\d+) of 5 actions in the last hour/.exec(a.status?.message ?? '');
      expect(used, a.status?.message).not.toBeNull();
      expect(Number(used?.[1])).toBeGreaterThanOrEqual(5);
    }
    // The 25 blocked pods were never touched; the 5 executed ones were deleted.
    for (const a of blocked) expect(await podGone(a.spec.targetResource.namespace, a.spec.targetResource.name)).toBe(false);
    for (const a of executed) await waitFor(`${a.spec.targetResource.name} deleted`, () => podGone(a.spec.targetResource.namespace, a.spec.targetResource.name), 30_000);

    // A new operator process knows nothing in memory; the ledger in the API server still says the hour is spent.
    await c.stop(first);
    await c.operator();
    await createPod(kc, home, 'crasher-late', { labels: { app: 'crasher' }, annotations: CRASH });
    const late = await waitFor('an action for crasher-late', async () => (await listActions(kc, home)).find((a) => a.spec.targetResource.name === 'crasher-late'), 60_000, 500);
    const lateDone = await waitForPhase(kc, home, late.metadata.name!, FINISHED, 30_000);
    expect(lateDone.status).toMatchObject({ phase: 'Blocked', reason: 'RateLimited' });
    expect(await podGone(home, 'crasher-late')).toBe(false);
    const all = (await Promise.all(namespaces.map((ns) => listActions(kc, ns)))).flat();
    expect(all.filter((a) => EXECUTED.includes(a.status?.phase ?? ''))).toHaveLength(5);
  });

  it('every pod of a Deployment firing a scale scales it once; at maxReplicas the next scale is Blocked AtLimit and changes nothing', async () => {
    const c = new Case();
    const ns = await c.namespace('scale-limit');
    await createDeployment(kc, ns, 'api', 2);
    await waitForReady(kc, ns, 'api', 2);
    await c.operator();
    // Fires on every pod at once; each firing asks to scale the same Deployment. (The trigger never clears, so the
    // scale's verification times out: what matters here is how many scales run, and what happens at the limit.)
    await createPolicy(kc, ns, 'scale-api', {
      selector: { labelSelector: { matchLabels: { app: 'api' } } },
      triggers: [{ ...ALWAYS, cooldownPeriod: '5s' }],
      actions: [{ name: 'add-replica', type: 'scale', scaleAction: { direction: 'up', replicas: 1, maxReplicas: 3 } }],
      safetyRules: { maxActionsPerHour: 50, healthCheckTimeout: '10s' },
    });
    const atLimit = await waitFor(
      'a scale Blocked AtLimit',
      async () => (await listActions(kc, ns)).find((a) => a.status?.phase === 'Blocked' && a.status.reason === 'AtLimit'),
      120_000,
      1000,
    );
    expect(atLimit.status?.message).toBe("Deployment " + ns + "/api is already at the action's limit: scaling up 3 → 3 (requested 4, clamped to maxReplicas 3)");
    await sleep(3000);
    const actions = await listActions(kc, ns);
    const executed = actions.filter((a) => a.status?.startTime !== undefined);
    expect(executed).toHaveLength(1);
    expect(executed[0]!.status?.result?.changes).toEqual([expect.objectContaining({ field: 'spec.replicas', old: '2', new: '3' })]);
    // The other pods' firings while it ran were held by the policy (one scale of a workload at a time); those after
    // it were refused by the workload's cooldown or at the limit (or, had one slipped through while it ran, as
    // Superseded): none executed.
    const refusals = new Set(['Blocked/AtLimit', 'Blocked/Cooldown', 'Blocked/Superseded']);
    expect(actions.filter((a) => a.status?.startTime === undefined).map((a) => `${a.status?.phase ?? 'Pending'}/${a.status?.reason ?? ''}`).filter((s) => !refusals.has(s))).toEqual([]);
    const dep = await apps.readNamespacedDeployment({ name: 'api', namespace: ns });
    expect(dep.spec?.replicas).toBe(3);
  });

  it('a dry run mutates nothing: restart, scale, patch and delete end Succeeded DryRun with the plan, every target unchanged', async () => {
    const c = new Case();
    const ns = await c.namespace('dryrun');
    await createPod(kc, ns, 'dry-restart', { labels: { app: 'dry-restart' } });
    await createPod(kc, ns, 'dry-delete', { labels: { app: 'dry-delete' } });
    await createDeployment(kc, ns, 'dry-scale', 1);
    await createDeployment(kc, ns, 'dry-patch', 2);
    await readyPod(ns, 'dry-restart');
    await readyPod(ns, 'dry-delete');
    await waitForReady(kc, ns, 'dry-scale', 1);
    await waitForReady(kc, ns, 'dry-patch', 2);
    const snapshot = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const p of (await core.listNamespacedPod({ namespace: ns })).items) out[`Pod/${p.metadata!.name!}`] = `${p.metadata!.uid!}@${p.metadata!.resourceVersion!}`;
      for (const d of (await apps.listNamespacedDeployment({ namespace: ns })).items) out[`Deployment/${d.metadata!.name!}`] = `${d.metadata!.uid!}@${d.metadata!.resourceVersion!}`;
      return out;
    };
    // Let the controllers finish their last status writes first: two snapshots 2 s apart agree.
    let before = await snapshot();
    await waitFor('the objects settled', async () => {
      await sleep(2000);
      const now = await snapshot();
      const settled = JSON.stringify(now) === JSON.stringify(before);
      before = now;
      return settled;
    }, 60_000, 0);
    expect(Object.keys(before)).toHaveLength(2 + 2 + 3);

    await c.operator();
    const deployments = [{ apiVersion: 'apps/v1', kind: 'Deployment' }];
    await createPolicy(kc, ns, 'dry-restart', {
      selector: { labelSelector: { matchLabels: { app: 'dry-restart' } } },
      triggers: [ALWAYS],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    await createPolicy(kc, ns, 'dry-delete', {
      selector: { labelSelector: { matchLabels: { app: 'dry-delete' } } },
      triggers: [ALWAYS],
      actions: [{ name: 'delete', type: 'delete', deleteAction: { gracePeriodSeconds: 0 } }],
      mode: 'dryrun',
    });
    await createPolicy(kc, ns, 'dry-scale', {
      selector: { labelSelector: { matchLabels: { app: 'dry-scale' } }, resources: deployments },
      triggers: [ALWAYS],
      actions: [{ name: 'scale-up', type: 'scale', scaleAction: { direction: 'up', replicas: 2, maxReplicas: 5 } }],
      mode: 'dryrun',
    });
    await createPolicy(kc, ns, 'dry-patch', {
      selector: { labelSelector: { matchLabels: { app: 'dry-patch' } }, resources: deployments },
      triggers: [ALWAYS],
      actions: [
        {
          name: 'more-memory',
          type: 'patch',
          patchAction: { type: 'strategic', patch: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '200Mi' } } }] } } } }) },
        },
      ],
      mode: 'dryrun',
    });
    const actions = await waitAllFinished(ns, 4, 60_000);
    expect(actions.map((a) => a.spec.action.type).sort()).toEqual(['delete', 'patch', 'restart', 'scale']);
    for (const a of actions) {
      expect(a.spec.dryRun).toBe(true);
      expect(a.status, `${a.spec.action.type}: ${a.status?.message ?? ''}`).toMatchObject({ phase: 'Succeeded', reason: 'DryRun', result: { success: true } });
      expect(a.status?.result?.plan).toBeDefined();
      expect(a.status?.result?.changes?.length).toBeGreaterThan(0);
      expect(a.status?.executionId).toBeUndefined();
    }
    const byType = (t: string): HealingAction => actions.find((a) => a.spec.action.type === t)!;
    expect(byType('scale').status?.result?.changes).toEqual([expect.objectContaining({ field: 'spec.replicas', old: '1', new: '3' })]);
    expect(byType('patch').status?.result?.changes).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining('resources.limits.memory') as string, old: '100Mi', new: '200Mi' })]),
    );
    expect(byType('delete').status?.result?.changes).toEqual([expect.objectContaining({ field: 'Pod/dry-delete', new: expect.stringMatching(/^deleted/) as string })]);
    // Give a (wrong) real mutation time to show, then compare every object's uid and resourceVersion.
    await sleep(3000);
    expect(await snapshot()).toEqual(before);
  });

  it('a failed verification opens the circuit breaker: the next action of the policy is Blocked CircuitOpen', async () => {
    const c = new Case();
    const ns = await c.namespace('breaker');
    await c.operator({ 'circuitBreaker.failureThreshold': 1 });
    // Its pods never become Ready: a restart cannot make the trigger clear, and the rollout it starts never completes.
    await createDeployment(kc, ns, 'flaky', 1, { annotations: { 'sim.kubeskippy.io/ready': 'false' } });
    await createPolicy(kc, ns, 'flaky', {
      selector: { labelSelector: { matchLabels: { app: 'flaky' } } },
      triggers: [{ name: 'unready', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False', duration: '2s' }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      safetyRules: { healthCheckTimeout: '15s' },
    });
    const failed = await waitFor('a Failed action', async () => (await listActions(kc, ns)).find((a) => a.status?.phase === 'Failed'), 90_000, 500);
    expect(failed.status?.reason).toBe('VerificationTimeout');
    expect(failed.status?.startTime).toBeDefined();
    const failedAt = Date.parse(failed.status!.completionTime!);
    const createdAfter = async (): Promise<HealingAction[]> => (await listActions(kc, ns)).filter((a) => Date.parse(a.metadata.creationTimestamp!) > failedAt);
    const next = await waitFor('an action created after the failure, finished', async () => (await createdAfter()).find((a) => a.status?.phase === 'Blocked'), 60_000, 500);
    expect(next.status?.reason).toBe('CircuitOpen');
    expect(next.status?.message).toMatch(/circuit for policy .*\/flaky is open: 1 consecutive failed verifications \(threshold 1\)/);
    // Whatever the policy proposed after the failure was refused by the breaker; nothing executed.
    const after = await createdAfter();
    for (const a of after.filter((x) => x.status?.phase === 'Blocked')) expect(a.status?.reason).toBe('CircuitOpen');
    expect(after.filter((a) => a.status?.startTime !== undefined)).toEqual([]);
  });
});

describe('bad input', () => {
  it('a target deleted while its action waited for approval: approving it ends Blocked OutsideSelector, saying the target is gone', async () => {
    const c = new Case();
    const ns = await c.namespace('gone');
    await c.operator();
    await createPod(kc, ns, 'ephemeral', { labels: { app: 'manual' } });
    await readyPod(ns, 'ephemeral');
    await createPolicy(kc, ns, 'manual', manualPolicy('manual'));
    const [created] = await waitForActions(kc, ns, 1, 60_000);
    const name = created!.metadata.name!;
    await waitForPhase(kc, ns, name, ['WaitingApproval'], 30_000);
    await core.deleteNamespacedPod({ name: 'ephemeral', namespace: ns, gracePeriodSeconds: 0 });
    await waitFor('the pod gone', () => podGone(ns, 'ephemeral'), 30_000);
    expect((await approveCommand(cliAs('alice'), { namespace: ns, name })).code).toBe(0);
    const done = await waitForPhase(kc, ns, name, FINISHED, 30_000);
    expect(done.status).toMatchObject({ phase: 'Blocked', reason: 'OutsideSelector' });
    expect(done.status?.message).toBe(`target Pod ${ns}/ephemeral no longer exists`);
    expect(done.status?.approval).toMatchObject({ approved: true, approvedBy: 'alice' });
  });

  it('a HealingAction written by hand whose target is outside its policy\'s selector is Blocked OutsideSelector and the target untouched', async () => {
    const c = new Case();
    const ns = await c.namespace('forged');
    await c.operator();
    const outsider = await createPod(kc, ns, 'outsider', { labels: { app: 'other' } });
    const { uid } = await readyPod(ns, 'outsider');
    await createPolicy(kc, ns, 'web-only', {
      selector: { labelSelector: { matchLabels: { app: 'web' } } },
      triggers: [ALWAYS],
      actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    await co.createNamespacedCustomObject({
      group: 'kubeskippy.io',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'healingactions',
      body: {
        apiVersion: 'kubeskippy.io/v1alpha1',
        kind: 'HealingAction',
        metadata: { name: 'forged' },
        spec: {
          policyRef: { name: 'web-only', namespace: ns },
          targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'outsider', uid: outsider.metadata!.uid! },
          action: { name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } },
        },
      },
    });
    const done = await waitForPhase(kc, ns, 'forged', FINISHED, 30_000);
    expect(done.status).toMatchObject({ phase: 'Blocked', reason: 'OutsideSelector' });
    expect(done.status?.message).toBe(`target Pod ${ns}/outsider no longer matches the selector of policy ${ns}/web-only`);
    await sleep(2000);
    await expectUntouched(ns, 'outsider', uid);
  });

  it('a patch the API server rejects ends Failed with the server\'s message, the Deployment unchanged', async () => {
    const c = new Case();
    const ns = await c.namespace('badpatch');
    await createDeployment(kc, ns, 'patchy', 2);
    await waitForReady(kc, ns, 'patchy', 2);
    const before = await apps.readNamespacedDeployment({ name: 'patchy', namespace: ns });
    await c.operator();
    await createPolicy(kc, ns, 'patchy', {
      selector: { labelSelector: { matchLabels: { app: 'patchy' } }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] },
      triggers: [ALWAYS],
      actions: [{ name: 'bad-replicas', type: 'patch', patchAction: { type: 'strategic', patch: '{"spec":{"replicas":"three"}}' } }],
    });
    const [action] = await waitAllFinished(ns, 1, 60_000);
    expect(action!.status).toMatchObject({ phase: 'Failed', reason: 'ExecutionFailed', result: { success: false } });
    // The API server's own words about the bad field, not a generic failure.
    expect(action!.status?.message).toMatch(/replicas:three\]\]": unrecognized type: int32/);
    expect(action!.status?.result?.error).toBe(action!.status?.message);
    const after = await apps.readNamespacedDeployment({ name: 'patchy', namespace: ns });
    expect(after.spec?.replicas).toBe(2);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
  });

  it('approvals racing on one action execute it once', async () => {
    const c = new Case();
    const ns = await c.namespace('race');
    await createDeployment(kc, ns, 'racer', 1);
    await waitForReady(kc, ns, 'racer', 1);
    await c.operator();
    await createPolicy(kc, ns, 'racer', {
      selector: { labelSelector: { matchLabels: { app: 'racer' } }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] },
      triggers: [ALWAYS],
      // Each execution adds a replica: executing twice would show as 3.
      actions: [{ name: 'scale-up', type: 'scale', scaleAction: { direction: 'up', replicas: 1, maxReplicas: 10 } }],
      safetyRules: { requireHealthCheck: false },
      mode: 'manual',
    });
    const [created] = await waitForActions(kc, ns, 1, 60_000);
    const name = created!.metadata.name!;
    await waitForPhase(kc, ns, name, ['WaitingApproval'], 30_000);
    const results = await Promise.all([
      approveCommand(cliAs('alice'), { namespace: ns, name }),
      approveCommand(cliAs('bob'), { namespace: ns, name }),
      approveCommand(cliAs('carol'), { namespace: ns, name }),
      // kubectl annotate without a precondition, and an unrelated label change: both bump the resourceVersion.
      annotate(ns, name, { 'kubeskippy.io/approved-by': 'dave' }),
      co.patchNamespacedCustomObject(
        { group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingactions', name, body: { metadata: { labels: { touched: 'yes' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    ]);
    // The CLI checks and writes under a resourceVersion precondition: at most one of its approvals lands, the
    // others are told who was first (the unconditional kubectl-style write may have been first of all).
    const cli = results.slice(0, 3) as Awaited<ReturnType<typeof approveCommand>>[];
    expect(cli.filter((r) => r.code === 0).length).toBeLessThanOrEqual(1);
    for (const r of cli.filter((x) => x.code !== 0)) expect(r.err[0]).toMatch(new RegExp(`^${name} (was already approved by \\w+|is already \\w+); nothing to approve$`));
    const done = await waitForPhase(kc, ns, name, FINISHED, 60_000);
    expect(done.status).toMatchObject({ phase: 'Succeeded', attempts: 1, approval: { approved: true } });
    expect(['alice', 'bob', 'carol', 'dave']).toContain(done.status?.approval?.approvedBy);
    // Long enough for a second execution to land if there were one.
    await sleep(3000);
    const d = await apps.readNamespacedDeployment({ name: 'racer', namespace: ns });
    expect(d.spec?.replicas).toBe(2);
    const executing = (await eventsFor(kc, ns, 'HealingAction', name)).filter((e) => e.reason === 'Executing');
    expect(executing.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(1);
    expect(await listActions(kc, ns)).toHaveLength(1);
  });
});
