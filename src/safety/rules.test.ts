import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { HealingPolicySpec } from '../api/v1alpha1/healing-policy.js';
import type { TargetRef } from '../metrics/types.js';
import {
  SAFETY_RULES,
  classifyDisruption,
  detectGitOps,
  evaluateSafety,
  explainSafety,
} from './rules.js';
import {
  DEFAULT_OPERATOR_SAFETY,
  toLedgerEntry,
  type CandidateAction,
  type LedgerEntry,
  type OperatorSafetySettings,
  type PolicySafetyRules,
  type ProtectedResourceRule,
  type SafetyDecision,
  type SafetyInput,
} from './types.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const POLICY = 'apps/crash-heal';

const pod = (name: string, ns = 'apps'): TargetRef => ({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
const deploy = (name = 'web', ns = 'apps'): TargetRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name });

let seq = 0;
/** A ledger entry: by default a verified restart of another pod of Deployment apps/web, 30 minutes ago. */
function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    name: `act-${String(seq++).padStart(4, '0')}`,
    namespace: 'apps',
    policy: POLICY,
    trigger: 'crash',
    target: pod(`web-other-${seq}`),
    workload: deploy(),
    type: 'restart',
    source: 'rule',
    phase: 'Succeeded',
    createdAt: NOW - 30 * MIN,
    startedAt: NOW - 30 * MIN,
    completedAt: NOW - 29 * MIN,
    dryRun: false,
    verified: true,
    ...over,
  };
}

/** An entry that executed at `at` (and finished a few seconds later). */
function executedAt(at: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return entry({ createdAt: at, startedAt: at, completedAt: at + 5 * SEC, ...over });
}

/** An entry in flight (InProgress) since `at`. */
function running(at: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return entry({ phase: 'InProgress', createdAt: at, startedAt: at, completedAt: undefined, verified: undefined, ...over });
}

interface Overrides extends Partial<Omit<SafetyInput, 'candidate' | 'policy' | 'operator'>> {
  readonly candidate?: Partial<CandidateAction>;
  readonly policy?: Partial<PolicySafetyRules>;
  readonly operator?: Partial<OperatorSafetySettings>;
}

/**
 * A candidate restart of Ready pod apps/web-1 (Deployment apps/web, 3 of 3 ready) by policy apps/crash-heal,
 * trigger crash; 5 actions/hour, maxUnavailable 1, cooldown 5m; operator defaults with a roomy global budget.
 */
function input(over: Overrides = {}): SafetyInput {
  const { candidate, policy, operator, ...rest } = over;
  return {
    now: NOW,
    candidate: {
      name: 'act-new',
      namespace: 'apps',
      createdAt: NOW,
      policy: POLICY,
      trigger: 'crash',
      target: { ref: pod('web-1'), labels: { app: 'web' }, annotations: {}, ready: true, createdAt: NOW - 2 * 60 * MIN },
      workload: { ref: deploy(), labels: { app: 'web' }, annotations: {} },
      type: 'restart',
      source: 'rule',
      dryRun: false,
      ...candidate,
    },
    policy: { maxActionsPerHour: 5, protectedResources: [], maxUnavailable: 1, cooldownMs: 5 * MIN, ...policy },
    operator: { ...DEFAULT_OPERATOR_SAFETY, maxActionsPerHour: 100, ...operator },
    ledger: [],
    tenancy: { policyKind: 'HealingPolicy', policyNamespace: 'apps', namespaceAllowed: true, allowedNamespaces: 'its own namespace apps' },
    selection: { exists: true, matchesSelector: true },
    workloadState: { replicas: 3, readyReplicas: 3 },
    pdbs: [],
    ...rest,
  };
}

/** Tenancy facts of a HealingPolicy in namespace `ns` acting there. */
function ownNamespace(ns: string): SafetyInput['tenancy'] {
  return { policyKind: 'HealingPolicy', policyNamespace: ns, namespaceAllowed: true, allowedNamespaces: `its own namespace ${ns}` };
}

function denied(d: SafetyDecision): Extract<SafetyDecision, { allowed: false }> {
  if (d.allowed) throw new Error(`expected a denial, got allowed with notes ${JSON.stringify(d.notes)}`);
  return d;
}

function allowed(d: SafetyDecision): Extract<SafetyDecision, { allowed: true }> {
  if (!d.allowed) throw new Error(`expected allowed, got ${d.reason}: ${d.message}`);
  return d;
}

describe('evaluateSafety: the baseline', () => {
  it('allows a plain restart with nothing in the way, as a real (not dry) run, without notes', () => {
    expect(evaluateSafety(input())).toEqual({ allowed: true, dryRun: false, notes: [] });
  });

  it('applies the rules in the documented order', () => {
    expect(SAFETY_RULES.map((r) => r.name)).toEqual([
      'paused',
      'tenancy',
      'selection',
      'protected',
      'policy-breaker',
      'global-breaker',
      'in-flight',
      'cooldown',
      'scale-limit',
      'policy-rate',
      'global-rate',
      'ai-rate',
      'disruption-budget',
      'pdb',
      'hpa',
      'gitops',
      'storm',
      'dry-run',
    ]);
  });

  it('reports the earliest rule when several refuse (protected beats rate-limited, paused beats everything)', () => {
    const spent = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN));
    const protectedAndSpent = input({ ledger: spent, candidate: { target: { ref: pod('web-1'), annotations: { 'kubeskippy.io/protected': 'true' } } } });
    expect(denied(evaluateSafety(protectedAndSpent)).reason).toBe('Protected');
    expect(denied(evaluateSafety({ ...protectedAndSpent, operator: { ...protectedAndSpent.operator, paused: true } })).reason).toBe('Paused');
  });

  it('explains every rule without stopping at the first denial', () => {
    const spent = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN));
    const verdicts = explainSafety(input({ ledger: spent, hpa: { name: 'web', minReplicas: 2, maxReplicas: 5 }, candidate: { type: 'scale', scale: { direction: 'up', replicas: 1 } } }));
    const refused = verdicts.filter((v) => v.result?.allowed === false).map((v) => v.rule);
    expect(refused).toEqual(['policy-rate', 'hpa']);
    expect(verdicts).toHaveLength(SAFETY_RULES.length);
  });
});

describe('paused and selection', () => {
  it('refuses every action while the operator is paused, with no retry time', () => {
    const d = denied(evaluateSafety(input({ operator: { paused: true } })));
    expect(d).toMatchObject({ reason: 'Paused', rule: 'paused' });
    expect(d.retryAfterMs).toBeUndefined();
  });

  it('refuses dry runs too while paused', () => {
    expect(denied(evaluateSafety(input({ operator: { paused: true }, candidate: { dryRun: true } }))).reason).toBe('Paused');
  });

  it('refuses when the target no longer exists', () => {
    const d = denied(evaluateSafety(input({ selection: { exists: false, matchesSelector: false } })));
    expect(d).toMatchObject({ reason: 'OutsideSelector', message: 'target Pod apps/web-1 no longer exists' });
  });

  it('refuses when the target no longer matches the policy selector', () => {
    const d = denied(evaluateSafety(input({ selection: { exists: true, matchesSelector: false } })));
    expect(d.message).toBe('target Pod apps/web-1 no longer matches the selector of policy apps/crash-heal');
  });
});

describe('tenancy: what lives in a namespace acts only in that namespace', () => {
  const tenancy = (over: Partial<SafetyInput['tenancy']>): SafetyInput['tenancy'] => ({
    policyKind: 'HealingPolicy',
    policyNamespace: 'apps',
    namespaceAllowed: true,
    allowedNamespaces: 'its own namespace apps',
    ...over,
  });

  it('refuses an action whose target is in another namespace than the action, before anything else about the target', () => {
    const d = denied(evaluateSafety(input({ candidate: { namespace: 'tenant-a' }, selection: { exists: false, matchesSelector: false } })));
    expect(d).toMatchObject({ reason: 'NamespaceNotAllowed', rule: 'tenancy' });
    expect(d.message).toBe('a HealingAction in namespace tenant-a acts only on objects of that namespace; its target Pod apps/web-1 is in apps');
    expect(d.retryAfterMs).toBeUndefined();
  });

  it('refuses an action that names the HealingPolicy of another namespace', () => {
    const d = denied(evaluateSafety(input({ tenancy: tenancy({ policyNamespace: 'tenant-a' }) })));
    expect(d.reason).toBe('NamespaceNotAllowed');
    expect(d.message).toMatch(/names the HealingPolicy apps\/crash-heal of namespace tenant-a: a HealingPolicy acts only in its own namespace/);
  });

  it("refuses when the policy's namespace rule does not allow the target's namespace", () => {
    const d = denied(evaluateSafety(input({ tenancy: tenancy({ policyKind: 'ClusterHealingPolicy', policyNamespace: '', namespaceAllowed: false, allowedNamespaces: 'namespaces labelled team=shop' }) })));
    expect(d.message).toBe('policy apps/crash-heal may act only in namespaces labelled team=shop; namespace apps is not one of them');
  });

  it("refuses a workload outside the target's namespace", () => {
    const d = denied(evaluateSafety(input({ candidate: { workload: { ref: { ...deploy(), namespace: 'other' }, labels: {}, annotations: {} } } })));
    expect(d.message).toMatch(/is not in the target's namespace apps/);
  });

  it('allows a cluster policy that reaches the namespace', () => {
    allowed(evaluateSafety(input({ tenancy: tenancy({ policyKind: 'ClusterHealingPolicy', policyNamespace: '' }) })));
  });
});

describe('protected resources', () => {
  const critical: ProtectedResourceRule = { kind: 'Pod', labelSelector: { matchLabels: { critical: 'true' } } };

  it.each<[string, Overrides, string]>([
    [
      'a target in kube-system (protected by default)',
      { candidate: { namespace: 'kube-system', target: { ref: pod('coredns-1', 'kube-system') }, workload: undefined }, tenancy: ownNamespace('kube-system') },
      'namespace kube-system is protected by the operator (protectedNamespaces); Pod kube-system/coredns-1 is never acted on',
    ],
    [
      'a target in a namespace the operator lists',
      { operator: { protectedNamespaces: ['kube-system', 'payments'] }, candidate: { namespace: 'payments', target: { ref: pod('api-1', 'payments') }, workload: undefined }, tenancy: ownNamespace('payments') },
      'namespace payments is protected',
    ],
    [
      'a target matching the operator protected label selector',
      { operator: { protectedLabelSelector: { matchLabels: { tier: 'db' } } }, candidate: { target: { ref: pod('web-1'), labels: { tier: 'db' } } } },
      "target Pod apps/web-1 matches the operator's protected label selector tier=db",
    ],
    [
      'a target whose workload matches the operator protected label selector',
      {
        operator: { protectedLabelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] } },
        candidate: { workload: { ref: deploy(), labels: { tier: 'db' } } },
      },
      "workload Deployment apps/web matches the operator's protected label selector tier in (db)",
    ],
    [
      'a target annotated kubeskippy.io/protected: "true"',
      { candidate: { target: { ref: pod('web-1'), annotations: { 'kubeskippy.io/protected': 'true' } } } },
      'target Pod apps/web-1 is annotated kubeskippy.io/protected: "true"',
    ],
    [
      'a target whose workload carries the annotation',
      { candidate: { workload: { ref: deploy(), annotations: { 'kubeskippy.io/protected': 'true' } } } },
      'workload Deployment apps/web is annotated kubeskippy.io/protected: "true"',
    ],
    [
      'a target annotated "True" (case does not weaken protection)',
      { candidate: { target: { ref: pod('web-1'), annotations: { 'kubeskippy.io/protected': ' True ' } } } },
      'is annotated kubeskippy.io/protected',
    ],
    [
      "a pod matching the seed's protectedResources example (kind Pod, critical=true)",
      { policy: { protectedResources: [critical] }, candidate: { target: { ref: pod('web-1'), labels: { critical: 'true' } } } },
      'target Pod apps/web-1 is protected by policy apps/crash-heal (safetyRules.protectedResources[0]: kind Pod; labels critical=true)',
    ],
    [
      'a pod of a Deployment listed by name in protectedResources (excludeNames lists protected names)',
      { policy: { protectedResources: [{ apiVersion: 'apps/v1', kind: 'Deployment', excludeNames: ['payments', 'web'] }] } },
      'workload Deployment apps/web is protected by policy apps/crash-heal (safetyRules.protectedResources[0]: kind Deployment; apiVersion apps/v1; names payments, web)',
    ],
    [
      'anything, under a protectedResources entry with no fields',
      { policy: { protectedResources: [{}] } },
      'protectedResources[0]: everything',
    ],
  ])('refuses %s', (_name, over, message) => {
    const d = denied(evaluateSafety(input(over)));
    expect(d).toMatchObject({ reason: 'Protected', rule: 'protected' });
    expect(d.message).toContain(message);
    expect(d.retryAfterMs).toBeUndefined();
  });

  it.each<[string, Overrides]>([
    ['a pod without the critical label', { policy: { protectedResources: [critical] }, candidate: { target: { ref: pod('web-1'), labels: { critical: 'false' } } } }],
    ['a Deployment not in the protected names', { policy: { protectedResources: [{ kind: 'Deployment', excludeNames: ['payments'] }] } }],
    ['an object of another kind', { policy: { protectedResources: [{ kind: 'StatefulSet' }] } }],
    ['an object of another apiVersion', { policy: { protectedResources: [{ apiVersion: 'apps/v1beta1', kind: 'Deployment' }] } }],
    ['an annotation with another value', { candidate: { target: { ref: pod('web-1'), annotations: { 'kubeskippy.io/protected': 'false' } } } }],
    ['kube-system when the operator protects no namespaces', { operator: { protectedNamespaces: [] }, candidate: { namespace: 'kube-system', target: { ref: pod('x', 'kube-system') }, workload: undefined }, tenancy: ownNamespace('kube-system') }],
  ])('does not refuse %s', (_name, over) => {
    const decision = evaluateSafety(input(over));
    expect(decision.allowed).toBe(true);
  });

  it('accepts the API protectedResources entries as they are', () => {
    type ApiProtected = NonNullable<NonNullable<HealingPolicySpec['safetyRules']>['protectedResources']>[number];
    expectTypeOf<ApiProtected>().toExtend<ProtectedResourceRule>();
  });
});

describe('circuit breakers', () => {
  const failed = (minutesAgo: number, over: Partial<LedgerEntry> = {}): LedgerEntry =>
    executedAt(NOW - minutesAgo * MIN, { phase: 'Failed', verified: false, ...over });

  it('refuses while the policy breaker is open, until it half-opens', () => {
    // Three failures, the last one finished 5s after NOW - 10m; open for 15m from then.
    const d = denied(evaluateSafety(input({ ledger: [failed(30), failed(20), failed(10)] })));
    expect(d).toMatchObject({ reason: 'CircuitOpen', rule: 'policy-breaker' });
    expect(d.retryAfterMs).toBe(5 * MIN + 5 * SEC);
    expect(d.message).toContain('3 consecutive failed verifications (threshold 3)');
  });

  it('lets exactly one trial through when half-open, with a note', () => {
    const ledger = [failed(60), failed(50), failed(40)];
    const first = allowed(evaluateSafety(input({ ledger })));
    expect(first.notes).toEqual(['circuit for policy apps/crash-heal is half-open: this action is the trial']);
    // The trial is now running: a second action is refused with no retry time (it waits for the trial's outcome).
    const second = denied(evaluateSafety(input({ ledger: [...ledger, running(NOW, { name: 'act-new' })], candidate: { name: 'act-second', target: { ref: pod('web-2') } } })));
    expect(second).toMatchObject({ reason: 'CircuitOpen', rule: 'policy-breaker' });
    expect(second.retryAfterMs).toBeUndefined();
  });

  it('does not call a dry run the trial while half-open', () => {
    const d = allowed(evaluateSafety(input({ ledger: [failed(60), failed(50), failed(40)], candidate: { dryRun: true } })));
    expect(d.notes).toEqual(['circuit for policy apps/crash-heal is half-open: this dry run is not the trial; the next real action is']);
  });

  it('closes after a successful trial and reopens after a failed one', () => {
    const history = [failed(60), failed(50), failed(40)];
    expect(evaluateSafety(input({ ledger: [...history, executedAt(NOW - 20 * MIN)] })).allowed).toBe(true);
    expect(denied(evaluateSafety(input({ ledger: [...history, failed(5)] }))).reason).toBe('CircuitOpen');
  });

  it('does not let one policy’s failures open another policy’s breaker', () => {
    const ledger = [failed(30, { policy: 'apps/other' }), failed(20, { policy: 'apps/other' }), failed(10, { policy: 'apps/other' })];
    expect(evaluateSafety(input({ ledger, operator: { globalBreaker: { ...DEFAULT_OPERATOR_SAFETY.globalBreaker, minActions: 10 } } })).allowed).toBe(true);
  });

  it('refuses every policy while the global breaker is open on the failure rate', () => {
    const policies = ['a/p1', 'b/p2', 'c/p3', 'd/p4'];
    const ledger = policies.map((p, i) => failed(10 + i, { policy: p }));
    const d = denied(evaluateSafety(input({ ledger, operator: { globalBreaker: { failureRate: 0.5, minActions: 4, windowMs: 60 * MIN, openMs: 15 * MIN } } })));
    expect(d).toMatchObject({ reason: 'CircuitOpen', rule: 'global-breaker' });
    expect(d.message).toContain('4 of 4 actions failed verification');
  });
});

describe('in-flight duplicates', () => {
  it('supersedes the candidate while another action of the policy is running on the same target', () => {
    const other = running(NOW - MIN, { target: pod('web-1') });
    const d = denied(evaluateSafety(input({ ledger: [other] })));
    expect(d).toMatchObject({ reason: 'Superseded', rule: 'in-flight' });
    expect(d.message).toBe(`action ${other.name} (restart, InProgress) of policy apps/crash-heal is already handling Pod apps/web-1`);
  });

  it('supersedes the newer of two queued actions for the same target, and only the newer', () => {
    const older = entry({ name: 'act-a', phase: 'Pending', target: pod('web-1'), createdAt: NOW - MIN, startedAt: undefined, completedAt: undefined, verified: undefined });
    expect(denied(evaluateSafety(input({ ledger: [older] }))).reason).toBe('Superseded');
    const newer = { ...older, name: 'act-z', createdAt: NOW + MIN };
    expect(evaluateSafety(input({ ledger: [newer] })).allowed).toBe(true);
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['a finished action', { phase: 'Succeeded' }],
    ['a blocked action', { phase: 'Blocked', reason: 'RateLimited', startedAt: undefined, completedAt: undefined }],
    ['an action of another policy', { phase: 'InProgress', completedAt: undefined, policy: 'apps/other' }],
    ['an action on another target', { phase: 'InProgress', completedAt: undefined, target: pod('web-2') }],
    ['a dry run (a real candidate ignores dry runs)', { phase: 'InProgress', completedAt: undefined, dryRun: true }],
  ])('is not blocked by %s', (_name, over) => {
    const ledger = [entry({ target: pod('web-1'), createdAt: NOW - 40 * MIN, startedAt: NOW - 40 * MIN, completedAt: NOW - 39 * MIN, ...over })];
    // maxUnavailable 2: a running action on the same Deployment must not trip the disruption budget here.
    expect(evaluateSafety(input({ ledger, policy: { cooldownMs: 0, maxUnavailable: 2 } })).allowed).toBe(true);
  });

  it('never counts the candidate’s own ledger entry against it', () => {
    const self = running(NOW, { name: 'act-new', target: pod('web-1') });
    expect(evaluateSafety(input({ ledger: [self] })).allowed).toBe(true);
  });

  it('treats the replacement of a pod being restarted as the same target', () => {
    // web-0 was restarted 2 minutes ago and is still being verified; web-1 was created after that restart began.
    const ledger = [running(NOW - 2 * MIN, { phase: 'Verifying', target: pod('web-0') })];
    const replacement = { ref: pod('web-1'), ready: false, createdAt: NOW - MIN };
    expect(denied(evaluateSafety(input({ ledger, candidate: { target: replacement } }))).reason).toBe('Superseded');
    const olderSibling = { ref: pod('web-1'), createdAt: NOW - 60 * MIN };
    expect(evaluateSafety(input({ ledger, policy: { maxUnavailable: 2 }, candidate: { target: olderSibling } })).allowed).toBe(true);
  });
});

describe('cooldown per trigger and target', () => {
  const previous = (finishedMinutesAgo: number, over: Partial<LedgerEntry> = {}): LedgerEntry =>
    entry({ target: pod('web-1'), startedAt: NOW - (finishedMinutesAgo + 1) * MIN, completedAt: NOW - finishedMinutesAgo * MIN, ...over });

  it('refuses within the cooldown after the previous action finished, and says when it ends', () => {
    const last = previous(3);
    const d = denied(evaluateSafety(input({ ledger: [last], policy: { cooldownMs: 10 * MIN } })));
    expect(d).toMatchObject({ reason: 'Cooldown', rule: 'cooldown', retryAfterMs: 7 * MIN });
    expect(d.message).toBe(
      `trigger crash of policy apps/crash-heal acted on Pod apps/web-1 3m ago (action ${last.name}); cooldown is 10m, next at 10:07:00 UTC`,
    );
  });

  it('allows once the cooldown has passed', () => {
    expect(evaluateSafety(input({ ledger: [previous(11)], policy: { cooldownMs: 10 * MIN } })).allowed).toBe(true);
  });

  it('runs from completion, not from the start of a long action', () => {
    // Started 12 minutes ago, finished 2 minutes ago: still cooling down.
    const long = entry({ target: pod('web-1'), startedAt: NOW - 12 * MIN, completedAt: NOW - 2 * MIN });
    expect(denied(evaluateSafety(input({ ledger: [long], policy: { cooldownMs: 10 * MIN } }))).retryAfterMs).toBe(8 * MIN);
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['an action of another trigger', { trigger: 'oom' }],
    ['an action on another target', { target: pod('web-2') }],
    ['an action of another policy', { policy: 'apps/other' }],
    ['a blocked action (it did nothing)', { phase: 'Blocked', startedAt: undefined, completedAt: undefined, createdAt: NOW - MIN }],
    ['a dry run (a real candidate ignores dry runs)', { dryRun: true }],
  ])('is not started by %s', (_name, over) => {
    expect(evaluateSafety(input({ ledger: [previous(1, over)], policy: { cooldownMs: 10 * MIN } })).allowed).toBe(true);
  });

  it('follows a deleted pod to its replacement', () => {
    const deleted = entry({ type: 'delete', target: pod('web-0'), startedAt: NOW - 3 * MIN, completedAt: NOW - 2 * MIN });
    const d = denied(evaluateSafety(input({ ledger: [deleted], policy: { cooldownMs: 10 * MIN }, candidate: { target: { ref: pod('web-9'), createdAt: NOW - 2 * MIN } } })));
    expect(d.reason).toBe('Cooldown');
  });

  it('is off with a cooldown of 0', () => {
    expect(evaluateSafety(input({ ledger: [previous(0)], policy: { cooldownMs: 0 } })).allowed).toBe(true);
  });
});

describe('rate limits (rolling hour, from the ledger)', () => {
  it('allows exactly 5 of 30 candidates against maxActionsPerHour 5, each allowed one executing', () => {
    let ledger: LedgerEntry[] = [];
    const decisions: SafetyDecision[] = [];
    for (let i = 0; i < 30; i++) {
      const now = NOW + i * 10 * SEC;
      const name = `act-${i}`;
      const d = evaluateSafety(input({ now, ledger, candidate: { name, createdAt: now, target: { ref: pod(`web-${i}`) } } }));
      decisions.push(d);
      if (d.allowed) ledger = [...ledger, executedAt(now, { name, target: pod(`web-${i}`) })];
    }
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.slice(0, 5).every((d) => d.allowed)).toBe(true);
    const refusals = decisions.slice(5).map(denied);
    expect(new Set(refusals.map((d) => `${d.reason}/${d.rule}`))).toEqual(new Set(['RateLimited/policy-rate']));
    // The first slot frees when the first action (at NOW) is an hour old.
    expect(refusals[0]?.retryAfterMs).toBe(60 * MIN - 50 * SEC);
  });

  it('lets the hour roll: 10 of 24 candidates five minutes apart over two hours run', () => {
    let ledger: LedgerEntry[] = [];
    const allowedAt: number[] = [];
    for (let i = 0; i < 24; i++) {
      const now = NOW + i * 5 * MIN;
      const d = evaluateSafety(input({ now, ledger, policy: { cooldownMs: 0 }, candidate: { name: `act-${i}`, createdAt: now, target: { ref: pod(`web-${i}`) } } }));
      if (d.allowed) {
        allowedAt.push(i * 5);
        ledger = [...ledger, executedAt(now, { target: pod(`web-${i}`) })];
      }
    }
    expect(allowedAt).toEqual([0, 5, 10, 15, 20, 60, 65, 70, 75, 80]);
  });

  it('does not count an action executed 61 minutes ago', () => {
    const ledger = [executedAt(NOW - 61 * MIN), ...[1, 2, 3, 4].map((m) => executedAt(NOW - m * MIN))];
    expect(evaluateSafety(input({ ledger })).allowed).toBe(true);
  });

  it('says how much was used and when the next slot opens', () => {
    const first = Date.parse('2026-03-01T09:42:07Z');
    const ledger = [first, ...[15, 10, 5, 2].map((m) => NOW - m * MIN)].map((t) => executedAt(t));
    const d = denied(evaluateSafety(input({ ledger })));
    expect(d.message).toBe('policy apps/crash-heal used 5 of 5 actions in the last hour; next slot at 10:42:07 UTC');
    expect(d.retryAfterMs).toBe(42 * MIN + 7 * SEC);
  });

  it('never consumes budget with dry runs', () => {
    const ledger = [1, 2, 3, 4, 5, 6, 7].map((m) => executedAt(NOW - m * MIN, { dryRun: true }));
    expect(evaluateSafety(input({ ledger })).allowed).toBe(true);
  });

  it('shows a dry run where the real budget would stop (dry runs count against dry runs)', () => {
    const ledger = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN, { dryRun: true }));
    expect(denied(evaluateSafety(input({ ledger, candidate: { dryRun: true } }))).reason).toBe('RateLimited');
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['blocked', { phase: 'Blocked', startedAt: undefined, completedAt: undefined }],
    ['pending', { phase: 'Pending', startedAt: undefined, completedAt: undefined }],
    ['waiting for approval', { phase: 'WaitingApproval', startedAt: undefined, completedAt: undefined }],
    ['cancelled before starting', { phase: 'Cancelled', startedAt: undefined }],
  ])('does not count actions that are %s', (_name, over) => {
    const ledger = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN, over));
    expect(evaluateSafety(input({ ledger })).allowed).toBe(true);
  });

  it('counts failed and in-flight executions', () => {
    const ledger = [
      executedAt(NOW - 5 * MIN, { phase: 'Failed', verified: false }),
      executedAt(NOW - 4 * MIN, { phase: 'Failed', verified: false }),
      running(NOW - 3 * MIN, { workload: deploy('other') }),
      running(NOW - 2 * MIN, { phase: 'Verifying', workload: deploy('other') }),
      executedAt(NOW - 1 * MIN),
    ];
    const d = denied(evaluateSafety(input({ ledger, operator: { policyBreaker: { failureThreshold: 0, openMs: 0 } } })));
    expect(d.rule).toBe('policy-rate');
  });

  it('enforces the operator-wide rule budget across policies', () => {
    const ledger = [1, 2, 3].map((m) => executedAt(NOW - m * MIN, { policy: `ns/p${m}` }));
    const d = denied(evaluateSafety(input({ ledger, operator: { maxActionsPerHour: 3 } })));
    expect(d).toMatchObject({ reason: 'RateLimited', rule: 'global-rate' });
    expect(d.message).toContain('the operator-wide rule budget used 3 of 3 actions in the last hour');
  });

  it('keeps the AI budget separate from the rule budget, both ways', () => {
    const aiSpent = Array.from({ length: 10 }, (_, i) => executedAt(NOW - (i + 1) * MIN, { source: 'ai', target: pod(`ai-${i}`) }));
    // Ten AI actions in the hour: a rule action is unaffected, an AI action is refused by the AI budget.
    expect(evaluateSafety(input({ ledger: aiSpent })).allowed).toBe(true);
    const ai = denied(evaluateSafety(input({ ledger: aiSpent, candidate: { source: 'ai' } })));
    expect(ai).toMatchObject({ reason: 'RateLimited', rule: 'ai-rate' });
    expect(ai.message).toContain('the AI budget used 10 of 10 actions');
    // Five rule actions spend the policy's budget, and an AI action is still allowed.
    const ruleSpent = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN, { target: pod(`r-${m}`) }));
    expect(denied(evaluateSafety(input({ ledger: ruleSpent }))).rule).toBe('policy-rate');
    expect(evaluateSafety(input({ ledger: ruleSpent, candidate: { source: 'ai' } })).allowed).toBe(true);
  });

  it('refuses outright, with no retry time, a policy allowed 0 actions per hour', () => {
    const d = denied(evaluateSafety(input({ policy: { maxActionsPerHour: 0 } })));
    expect(d.message).toBe('policy apps/crash-heal allows no actions (safetyRules.maxActionsPerHour is 0)');
    expect(d.retryAfterMs).toBeUndefined();
  });
});

describe('disruption budget', () => {
  it('counts in-flight restarts against maxUnavailable: two in flight on a 3-replica Deployment with maxUnavailable 1 → refused', () => {
    const ledger = [running(NOW - 2 * MIN, { target: pod('web-a') }), running(NOW - MIN, { target: pod('web-b') })];
    const d = denied(evaluateSafety(input({ ledger, policy: { maxUnavailable: 1 } })));
    expect(d).toMatchObject({ reason: 'BudgetExhausted', rule: 'disruption-budget' });
    expect(d.message).toBe(
      `Deployment apps/web may have 1 replica disrupted at once (maxUnavailable 1 of 3) and 2 disruptive actions are in flight (${ledger[0]?.name ?? ''}, ${ledger[1]?.name ?? ''})`,
    );
  });

  it('refuses a second disruption while one is in flight with maxUnavailable 1', () => {
    const ledger = [running(NOW - MIN, { target: pod('web-a') })];
    expect(denied(evaluateSafety(input({ ledger }))).reason).toBe('BudgetExhausted');
  });

  it('allows a second disruption with maxUnavailable 2 on a 4-replica Deployment, not a third', () => {
    const state = { replicas: 4, readyReplicas: 4 };
    const one = [running(NOW - MIN, { target: pod('web-a') })];
    expect(evaluateSafety(input({ ledger: one, workloadState: state, policy: { maxUnavailable: 2 } })).allowed).toBe(true);
    const two = [...one, running(NOW - MIN, { target: pod('web-b') })];
    expect(denied(evaluateSafety(input({ ledger: two, workloadState: state, policy: { maxUnavailable: '50%' } }))).reason).toBe('BudgetExhausted');
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['on another workload', { workload: deploy('api') }],
    ['that is a scale-up', { type: 'scale', scale: { direction: 'up', replicas: 2 } }],
    ['that has finished', { phase: 'Succeeded', completedAt: NOW - 30 * SEC }],
    ['that is only queued', { phase: 'Approved', startedAt: undefined }],
    ['that is a dry run', { dryRun: true }],
  ])('does not count an action %s', (_name, over) => {
    const ledger = [running(NOW - MIN, { target: pod('web-a'), ...over })];
    expect(evaluateSafety(input({ ledger, policy: { cooldownMs: 0 } })).allowed).toBe(true);
  });

  it('counts in-flight scale-downs, rollbacks and template patches on the workload', () => {
    for (const over of [
      { type: 'scale', scale: { direction: 'down', replicas: 1 }, target: deploy() },
      { type: 'rollback', target: deploy() },
      { type: 'patch', target: deploy() },
    ] as const) {
      const ledger = [running(NOW - MIN, { ...over, workload: undefined })];
      expect(denied(evaluateSafety(input({ ledger }))).reason).toBe('BudgetExhausted');
    }
  });

  it('never takes the last ready replica of a multi-replica workload', () => {
    const d = denied(evaluateSafety(input({ workloadState: { replicas: 3, readyReplicas: 1 }, candidate: { type: 'delete' } })));
    expect(d.message).toBe('delete would take the last ready replica of Deployment apps/web: 1 of 3 ready, 0 disrupted in flight, this action takes 1');
  });

  it('counts in-flight actions when protecting the last ready replica', () => {
    const ledger = [running(NOW - MIN, { target: pod('web-a') })];
    const d = denied(evaluateSafety(input({ ledger, workloadState: { replicas: 3, readyReplicas: 2 }, policy: { maxUnavailable: 2 } })));
    expect(d.message).toContain('2 of 3 ready, 1 disrupted in flight');
  });

  it('allows acting on a pod that is not Ready (it takes no ready replica away)', () => {
    const over: Overrides = { workloadState: { replicas: 3, readyReplicas: 1 }, candidate: { target: { ref: pod('web-1'), ready: false } } };
    expect(evaluateSafety(input(over)).allowed).toBe(true);
  });

  it('allows healing a workload with no ready replica at all (nothing left to protect)', () => {
    expect(evaluateSafety(input({ workloadState: { replicas: 3, readyReplicas: 0 }, candidate: { type: 'rollback', target: { ref: deploy() } } })).allowed).toBe(true);
  });

  it('notes instead of refusing a restart of a single-replica workload (the executor surges)', () => {
    const d = allowed(evaluateSafety(input({ workloadState: { replicas: 1, readyReplicas: 1 } })));
    expect(d.notes).toEqual(['Deployment apps/web has a single replica: the restart must be a surge-style rollout restart (new pod Ready before the old one goes)']);
  });

  it('refuses deleting the only ready pod of a single-replica workload', () => {
    expect(denied(evaluateSafety(input({ workloadState: { replicas: 1, readyReplicas: 1 }, candidate: { type: 'delete' } }))).reason).toBe('BudgetExhausted');
  });

  it('refuses a single-replica restart that insists on evicting', () => {
    expect(denied(evaluateSafety(input({ workloadState: { replicas: 1, readyReplicas: 1 }, candidate: { mechanism: 'evict' } }))).reason).toBe('BudgetExhausted');
  });

  it('refuses a scale-down that would remove the last ready replicas', () => {
    const over: Overrides = { candidate: { type: 'scale', scale: { direction: 'absolute', replicas: 0 }, target: { ref: deploy() }, workload: undefined } };
    expect(denied(evaluateSafety({ ...input(over), policy: { ...input().policy, maxUnavailable: '100%' } })).reason).toBe('BudgetExhausted');
  });

  it('notes that a pod without a workload will not be recreated', () => {
    const d = allowed(evaluateSafety(input({ workloadState: undefined, candidate: { workload: undefined } })));
    expect(d.notes).toEqual(['Pod apps/web-1 has no owning workload: nothing will recreate it']);
  });

  it('fails closed when the workload’s replica counts are unknown', () => {
    expect(denied(evaluateSafety(input({ workloadState: undefined }))).message).toBe('replica counts of Deployment apps/web are unknown; refusing a disruptive restart');
  });

  it('fails closed on a maxUnavailable it cannot read', () => {
    expect(denied(evaluateSafety(input({ policy: { maxUnavailable: 'half' } }))).message).toContain('maxUnavailable "half" of policy apps/crash-heal is neither');
  });
});

describe('PodDisruptionBudgets', () => {
  it('refuses evicting a Ready pod when a covering PDB allows 0 disruptions, and names the alternative', () => {
    const d = denied(evaluateSafety(input({ pdbs: [{ name: 'web-pdb', disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 3 }] })));
    expect(d).toMatchObject({ reason: 'PDB', rule: 'pdb' });
    expect(d.message).toBe(
      'PodDisruptionBudget web-pdb allows 0 disruptions (3 healthy, 3 desired); evicting Pod apps/web-1 would violate it; a rollout restart of Deployment apps/web would keep it available instead',
    );
  });

  it('allows when every covering PDB allows a disruption', () => {
    expect(evaluateSafety(input({ pdbs: [{ name: 'a', disruptionsAllowed: 1 }, { name: 'b', disruptionsAllowed: 2 }] })).allowed).toBe(true);
  });

  it('refuses when any one covering PDB allows 0', () => {
    expect(denied(evaluateSafety(input({ pdbs: [{ name: 'a', disruptionsAllowed: 1 }, { name: 'b', disruptionsAllowed: 0 }] }))).message).toContain('PodDisruptionBudget b');
  });

  it('allows evicting a pod that is not Ready while the budget is met (IfHealthyBudget, the Eviction API rule)', () => {
    const notReady: Overrides = { workloadState: { replicas: 3, readyReplicas: 2 }, candidate: { target: { ref: pod('web-1'), ready: false } } };
    expect(evaluateSafety(input({ ...notReady, pdbs: [{ name: 'p', disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 }] })).allowed).toBe(true);
    expect(denied(evaluateSafety(input({ ...notReady, pdbs: [{ name: 'p', disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 }] }))).reason).toBe('PDB');
    const always = { name: 'p', disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' } as const;
    expect(evaluateSafety(input({ ...notReady, pdbs: [always] })).allowed).toBe(true);
  });

  it('does not apply to rollouts, which do not evict (a restart of the Deployment itself)', () => {
    expect(evaluateSafety(input({ pdbs: [{ name: 'p', disruptionsAllowed: 0 }], candidate: { target: { ref: deploy() }, workload: undefined } })).allowed).toBe(true);
  });

  it('does not apply to a single-replica restart, which the executor does as a surge rollout (karpenter #1599)', () => {
    const d = allowed(evaluateSafety(input({ workloadState: { replicas: 1, readyReplicas: 1 }, pdbs: [{ name: 'p', disruptionsAllowed: 0 }] })));
    expect(d.notes).toHaveLength(1);
  });

  it('applies to deleting a pod', () => {
    expect(denied(evaluateSafety(input({ candidate: { type: 'delete' }, pdbs: [{ name: 'p', disruptionsAllowed: 0 }] }))).reason).toBe('PDB');
  });
});

describe('workload-level actions (scale, rollback) fired by several pods of one workload', () => {
  // The policy selects pods; its scale acts on their Deployment apps/web (3 replicas).
  const scaleVia = (podName: string): Partial<CandidateAction> => ({
    type: 'scale',
    scale: { direction: 'up', replicas: 1, maxReplicas: 10 },
    target: { ref: pod(podName), labels: { app: 'web' }, annotations: {}, ready: true, createdAt: NOW - 60 * MIN },
  });

  it('supersedes a scale while another scale of the policy runs on the same workload, whichever pod fired it', () => {
    const other = running(NOW - 10 * SEC, { type: 'scale', target: pod('web-2') });
    const d = denied(evaluateSafety(input({ ledger: [other], candidate: scaleVia('web-1') })));
    expect(d).toMatchObject({ reason: 'Superseded', rule: 'in-flight' });
    expect(d.message).toBe(`action ${other.name} (scale, InProgress) of policy apps/crash-heal is already handling Pod apps/web-1`);
  });

  it('applies the cooldown per workload: a scale fired by another pod a minute ago counts', () => {
    const earlier = executedAt(NOW - MIN, { type: 'scale', target: pod('web-2') });
    expect(denied(evaluateSafety(input({ ledger: [earlier], candidate: scaleVia('web-1') }))).reason).toBe('Cooldown');
    const longAgo = executedAt(NOW - 10 * MIN, { type: 'scale', target: pod('web-2') });
    expect(evaluateSafety(input({ ledger: [longAgo], candidate: scaleVia('web-1') })).allowed).toBe(true);
  });

  it('does the same for rollbacks', () => {
    const other = running(NOW - 10 * SEC, { type: 'rollback', target: pod('web-2') });
    const rollback: Partial<CandidateAction> = { type: 'rollback', target: { ref: pod('web-1'), ready: true, createdAt: NOW - 60 * MIN } };
    expect(denied(evaluateSafety(input({ ledger: [other], candidate: rollback, policy: { maxUnavailable: 3 } }))).reason).toBe('Superseded');
  });

  it('keeps per-pod actions per pod: a restart of one pod does not supersede a scale, nor a restart of another pod', () => {
    const restartOther = running(NOW - 10 * SEC, { type: 'restart', target: pod('web-2') });
    expect(evaluateSafety(input({ ledger: [restartOther], candidate: scaleVia('web-1') })).allowed).toBe(true);
    expect(evaluateSafety(input({ ledger: [restartOther], policy: { maxUnavailable: 2 } })).allowed).toBe(true);
  });
});

describe('scale limits', () => {
  const scale = (s: NonNullable<CandidateAction['scale']>): Partial<CandidateAction> => ({ type: 'scale', scale: s, target: { ref: deploy() }, workload: undefined });

  it.each<[string, NonNullable<CandidateAction['scale']>, number, string]>([
    ['up at maxReplicas', { direction: 'up', replicas: 1, maxReplicas: 4 }, 4, '4 → 4 (requested 5, clamped to maxReplicas 4)'],
    ['down at minReplicas', { direction: 'down', replicas: 1, minReplicas: 2 }, 2, '2 → 2 (requested 1, clamped to minReplicas 2)'],
    ['absolute to the current count', { direction: 'absolute', replicas: 3 }, 3, '3 → 3'],
    ['up above the default maxReplicas 10', { direction: 'up', replicas: 2 }, 12, '12 → 12 (requested 14, clamped to maxReplicas 10)'],
  ])('refuses a scale %s as AtLimit, before any budget is spent', (_name, s, replicas, explanation) => {
    const spent = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN, { target: pod(`web-x${m}`) }));
    const d = denied(evaluateSafety(input({ candidate: scale(s), workloadState: { replicas, readyReplicas: replicas }, ledger: spent })));
    expect(d).toMatchObject({ reason: 'AtLimit', rule: 'scale-limit' });
    expect(d.message).toBe(`Deployment apps/web is already at the action's limit: scaling ${s.direction} ${explanation}`);
  });

  it('allows a scale that changes the count, even when clamped to the bound', () => {
    expect(evaluateSafety(input({ candidate: scale({ direction: 'up', replicas: 1, maxReplicas: 4 }), workloadState: { replicas: 3, readyReplicas: 3 } })).allowed).toBe(true);
    expect(evaluateSafety(input({ candidate: scale({ direction: 'up', replicas: 5, maxReplicas: 4 }), workloadState: { replicas: 3, readyReplicas: 3 } })).allowed).toBe(true);
  });

  it('leaves the decision to the executor when the replica count is unknown', () => {
    expect(evaluateSafety(input({ candidate: scale({ direction: 'up', replicas: 1, maxReplicas: 4 }), workloadState: undefined })).allowed).toBe(true);
  });
});

describe('autoscalers and GitOps', () => {
  const scaleUp: Partial<CandidateAction> = { type: 'scale', scale: { direction: 'up', replicas: 2 }, target: { ref: deploy() }, workload: undefined };

  it('refuses to scale a workload an HPA manages', () => {
    const d = denied(evaluateSafety(input({ candidate: scaleUp, hpa: { name: 'web-hpa', minReplicas: 2, maxReplicas: 10 } })));
    expect(d).toMatchObject({ reason: 'HPAConflict', rule: 'hpa' });
    expect(d.message).toBe(
      "Deployment apps/web is scaled by HorizontalPodAutoscaler web-hpa (2–10 replicas); a scale action would fight it — change the HPA's minReplicas/maxReplicas instead",
    );
  });

  it('allows restarting a pod of a workload an HPA manages', () => {
    expect(evaluateSafety(input({ hpa: { name: 'web-hpa', minReplicas: 2, maxReplicas: 10 } })).allowed).toBe(true);
  });

  it.each<[string, Partial<CandidateAction>]>([
    ['a scale', scaleUp],
    ['a rollback', { type: 'rollback', target: { ref: deploy() }, workload: undefined }],
    ['a patch of the Deployment', { type: 'patch', target: { ref: deploy() }, workload: undefined }],
  ])('refuses %s of an Argo CD-managed Deployment (it would drift from Git)', (_name, candidate) => {
    const d = denied(evaluateSafety(input({ candidate, workloadState: { replicas: 3, readyReplicas: 3 }, gitOps: { tool: 'argocd', owner: 'shop' } })));
    expect(d).toMatchObject({ reason: 'GitOpsManaged', rule: 'gitops' });
    expect(d.message).toContain('Deployment apps/web is managed by Argo CD (shop)');
  });

  it('allows a rollout restart of a Flux-managed Deployment with a note about drift', () => {
    const d = allowed(evaluateSafety(input({ candidate: { target: { ref: deploy() }, workload: undefined }, gitOps: { tool: 'flux', owner: 'Kustomization flux-system/apps' } })));
    expect(d.notes).toEqual(['Deployment apps/web is managed by Flux (Kustomization flux-system/apps): the restart annotation on its pod template may show as drift']);
  });

  it('allows evicting or deleting a pod of a GitOps-managed Deployment without a note (Git does not declare pods)', () => {
    expect(evaluateSafety(input({ gitOps: { tool: 'argocd' } }))).toEqual({ allowed: true, dryRun: false, notes: [] });
    expect(evaluateSafety(input({ gitOps: { tool: 'argocd' }, candidate: { type: 'delete' } })).allowed).toBe(true);
  });

  it.each<[string, Record<string, string> | undefined, Record<string, string> | undefined, ReturnType<typeof detectGitOps>]>([
    ['Argo CD annotation tracking', undefined, { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:apps/web' }, { tool: 'argocd', owner: 'shop' }],
    ['an Argo CD instance label', { 'argocd.argoproj.io/instance': 'shop' }, undefined, { tool: 'argocd', owner: 'shop' }],
    [
      'a Flux Kustomization',
      { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' },
      undefined,
      { tool: 'flux', owner: 'Kustomization flux-system/apps' },
    ],
    ['a Flux HelmRelease', { 'helm.toolkit.fluxcd.io/name': 'web' }, {}, { tool: 'flux', owner: 'HelmRelease web' }],
    ['nothing for a plain Helm release (app.kubernetes.io/instance is ambiguous)', { 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/managed-by': 'Helm' }, {}, undefined],
  ])('detects %s', (_name, labels, annotations, expected) => {
    expect(detectGitOps(labels, annotations)).toEqual(expected);
  });
});

describe('storm suppression', () => {
  const storm = { maxTargetsFailing: 3, windowMs: 5 * MIN };
  const failing = (workload: string, minutesAgo: number, over: Partial<LedgerEntry> = {}): LedgerEntry =>
    entry({
      policy: `apps/p-${workload}`,
      target: pod(`${workload}-1`),
      workload: deploy(workload),
      phase: 'Blocked',
      reason: 'RateLimited',
      createdAt: NOW - minutesAgo * MIN,
      startedAt: undefined,
      completedAt: undefined,
      ...over,
    });

  it('suppresses when more than N workloads in the namespace had actions in the window, as one incident', () => {
    const ledger = [failing('api', 4), failing('db', 3), failing('cache', 1)];
    const d = denied(evaluateSafety(input({ ledger, operator: { storm } })));
    expect(d).toMatchObject({ reason: 'StormSuppressed', rule: 'storm' });
    expect(d.message).toBe(
      'storm in namespace apps: 4 workloads got healing actions in the last 5m (limit 3); acting on none of them — one incident, not a mass restart',
    );
    // The storm is over for this candidate once api's action (4 minutes ago) leaves the window.
    expect(d.retryAfterMs).toBe(MIN);
  });

  it('allows at exactly N workloads', () => {
    expect(evaluateSafety(input({ ledger: [failing('api', 4), failing('db', 3)], operator: { storm } })).allowed).toBe(true);
  });

  it.each<[string, LedgerEntry]>([
    ['pods of one workload (counted once)', failing('web', 1, { target: pod('web-7') })],
    ['another namespace', failing('cache', 1, { target: pod('cache-1', 'other'), workload: deploy('cache', 'other') })],
    ['an action older than the window', failing('cache', 6)],
  ])('does not count %s', (_name, third) => {
    const ledger = [failing('api', 4), failing('db', 3), third];
    expect(evaluateSafety(input({ ledger, operator: { storm } })).allowed).toBe(true);
  });

  it('is off when maxTargetsFailing is not set', () => {
    const ledger = ['a', 'b', 'c', 'd', 'e'].map((w) => failing(w, 1));
    expect(evaluateSafety(input({ ledger, operator: { storm: {} } })).allowed).toBe(true);
  });
});

describe('dry runs', () => {
  it('turns an allowed action into a dry run with a note when the operator forces dry-run', () => {
    expect(evaluateSafety(input({ operator: { forceDryRun: true } }))).toEqual({
      allowed: true,
      dryRun: true,
      notes: ['the operator forces dry-run everywhere: this action computes its change but mutates nothing'],
    });
  });

  it('keeps a dry-run candidate a dry run, without a note', () => {
    expect(evaluateSafety(input({ candidate: { dryRun: true } }))).toEqual({ allowed: true, dryRun: true, notes: [] });
  });

  it('still refuses a forced dry run that a real action could not do (the preview is faithful)', () => {
    const ledger = [1, 2, 3, 4, 5].map((m) => executedAt(NOW - m * MIN));
    expect(denied(evaluateSafety(input({ ledger, operator: { forceDryRun: true } }))).reason).toBe('RateLimited');
  });
});

describe('classifyDisruption', () => {
  it.each<[string, Parameters<typeof classifyDisruption>[0], number | undefined, ReturnType<typeof classifyDisruption>]>([
    ['restart of a pod of a 3-replica workload evicts it', { type: 'restart', targetKind: 'Pod' }, 3, { kind: 'pod-removal', readyCost: 1 }],
    ['restart of the pod of a single-replica workload is a rollout', { type: 'restart', targetKind: 'Pod' }, 1, { kind: 'rollout', readyCost: 1 }],
    ['restart with an explicit evict is a pod removal', { type: 'restart', targetKind: 'Pod', mechanism: 'evict' }, 1, { kind: 'pod-removal', readyCost: 1 }],
    ['restart of a Deployment is a rollout', { type: 'restart', targetKind: 'Deployment' }, 3, { kind: 'rollout', readyCost: 1 }],
    ['delete of a pod is a pod removal', { type: 'delete', targetKind: 'Pod' }, 3, { kind: 'pod-removal', readyCost: 1 }],
    ['delete of a Deployment costs every replica', { type: 'delete', targetKind: 'Deployment' }, 4, { kind: 'workload-delete', readyCost: 4 }],
    ['rollback is a rollout', { type: 'rollback', targetKind: 'Deployment' }, 3, { kind: 'rollout', readyCost: 1 }],
    ['patch of a StatefulSet rolls it', { type: 'patch', targetKind: 'StatefulSet' }, 3, { kind: 'rollout', readyCost: 1 }],
    ['patch of a ConfigMap disrupts nothing', { type: 'patch', targetKind: 'ConfigMap' }, 3, { kind: 'none' }],
    ['scale up disrupts nothing', { type: 'scale', targetKind: 'Deployment', scale: { direction: 'up', replicas: 2 } }, 3, { kind: 'none' }],
    ['scale down by 2 removes 2', { type: 'scale', targetKind: 'Deployment', scale: { direction: 'down', replicas: 2 } }, 3, { kind: 'scale-down', readyCost: 2 }],
    ['absolute scale below the current count removes the difference', { type: 'scale', targetKind: 'Deployment', scale: { direction: 'absolute', replicas: 1 } }, 3, { kind: 'scale-down', readyCost: 2 }],
    ['absolute scale above the current count disrupts nothing', { type: 'scale', targetKind: 'Deployment', scale: { direction: 'absolute', replicas: 5 } }, 3, { kind: 'none' }],
    ['a scale without settings is read as removing one', { type: 'scale', targetKind: 'Deployment' }, 3, { kind: 'scale-down', readyCost: 1 }],
  ])('%s', (_name, subject, replicas, expected) => {
    expect(classifyDisruption(subject, replicas)).toEqual(expected);
  });
});

describe('toLedgerEntry', () => {
  const action: HealingAction = {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'crash-heal-web-1-abc', namespace: 'apps', creationTimestamp: '2026-03-01T09:50:00Z' },
    spec: {
      policyRef: { name: 'crash-heal' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'apps', uid: 'u-1' },
      action: { name: 'scale-out', type: 'scale', scaleAction: { direction: 'up', replicas: 2 } },
      trigger: { name: 'crash', type: 'condition', firedAt: '2026-03-01T09:49:30Z' },
      source: 'ai',
    },
    status: {
      phase: 'Failed',
      reason: 'VerificationTimeout',
      startTime: '2026-03-01T09:50:05Z',
      completionTime: '2026-03-01T09:55:05Z',
      result: { success: false },
    },
  };

  it('projects every field the rules need from the HealingAction alone (plus the workload)', () => {
    expect(toLedgerEntry(action, deploy())).toEqual({
      name: 'crash-heal-web-1-abc',
      namespace: 'apps',
      policy: 'apps/crash-heal',
      trigger: 'crash',
      target: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'web-1', uid: 'u-1' },
      workload: deploy(),
      type: 'scale',
      scale: { direction: 'up', replicas: 2 },
      source: 'ai',
      phase: 'Failed',
      reason: 'VerificationTimeout',
      createdAt: Date.parse('2026-03-01T09:50:00Z'),
      startedAt: Date.parse('2026-03-01T09:50:05Z'),
      completedAt: Date.parse('2026-03-01T09:55:05Z'),
      dryRun: false,
      verified: false,
    });
  });

  it('reads a fresh action without status as a Pending rule action, and a policy in another namespace by its ref', () => {
    const fresh: HealingAction = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name: 'fresh', namespace: 'apps', creationTimestamp: '2026-03-01T09:59:00Z' },
      spec: { policyRef: { name: 'p', namespace: 'ops' }, targetResource: action.spec.targetResource, action: { name: 'r', type: 'restart' } },
    };
    expect(toLedgerEntry(fresh)).toMatchObject({ phase: 'Pending', source: 'rule', policy: 'ops/p', dryRun: false, startedAt: undefined });
  });

  it('skips an object that has not been persisted (no creationTimestamp)', () => {
    expect(toLedgerEntry({ ...action, metadata: { name: 'x', namespace: 'apps' } })).toBeUndefined();
  });
});
