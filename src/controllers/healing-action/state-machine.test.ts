import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import { afterExecute, afterGate, afterPlan, afterVerify, ANNOTATIONS, nextStep, type ActionContext } from './state-machine.js';

const t0 = Date.parse('2026-01-01T12:00:00Z');
const ctx = (over: Partial<ActionContext> = {}): ActionContext => ({
  now: t0 + 1000,
  policyExists: true,
  approvalTtlMs: 3600_000,
  requireHealthCheck: true,
  healthCheckTimeoutMs: 300_000,
  ...over,
});

function action(over: { status?: HealingAction['status']; annotations?: Record<string, string>; spec?: Partial<HealingAction['spec']> } = {}): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'heal-restart-1', namespace: 'apps', uid: 'uid-a', generation: 1, creationTimestamp: '2026-01-01T12:00:00Z', ...(over.annotations ? { annotations: over.annotations } : {}) },
    spec: {
      policyRef: { name: 'heal' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'web-1' },
      action: { name: 'restart', type: 'restart' },
      ...over.spec,
    },
    ...(over.status ? { status: over.status } : {}),
  };
}

describe('nextStep', () => {
  it('sends a new action without approval straight to the safety gate', () => {
    expect(nextStep(action(), ctx())).toEqual({ kind: 'gate' });
  });

  it('asks for approval when required and waits until it expires', () => {
    const step = nextStep(action({ spec: { approvalRequired: true } }), ctx());
    expect(step.kind).toBe('write');
    if (step.kind !== 'write') return;
    expect(step.status.phase).toBe('WaitingApproval');
    expect(step.status.approval).toEqual({ required: true });
    expect(step.requeueAt).toBe(t0 + 1000 + 3600_000);
    const waiting = action({ spec: { approvalRequired: true }, status: step.status });
    expect(nextStep(waiting, ctx({ now: t0 + 5000 }))).toEqual({ kind: 'wait', until: t0 + 1000 + 3600_000 });
  });

  it('records the approver from the annotation and moves to Approved', () => {
    const a = action({ spec: { approvalRequired: true }, status: { phase: 'WaitingApproval' }, annotations: { [ANNOTATIONS.approvedBy]: 'alice' } });
    const step = nextStep(a, ctx());
    expect(step).toMatchObject({ kind: 'write', status: { phase: 'Approved', approval: { approved: true, approvedBy: 'alice' } } });
  });

  it('records the approver of an action approved before the operator first saw it', () => {
    const a = action({ spec: { approvalRequired: true }, annotations: { [ANNOTATIONS.approvedBy]: 'alice' } });
    expect(nextStep(a, ctx())).toMatchObject({ kind: 'write', status: { phase: 'Approved', approval: { required: true, approved: true, approvedBy: 'alice' } } });
    const both = action({ spec: { approvalRequired: true }, annotations: { [ANNOTATIONS.approvedBy]: 'alice', [ANNOTATIONS.rejectedBy]: 'bob' } });
    expect(nextStep(both, ctx())).toMatchObject({ kind: 'write', status: { phase: 'Cancelled', reason: 'Rejected' } });
  });

  it('cancels a rejected action with the reason, and an unapproved one after the approval expires', () => {
    const rejected = action({
      status: { phase: 'WaitingApproval' },
      annotations: { [ANNOTATIONS.rejectedBy]: 'bob', [ANNOTATIONS.rejectReason]: 'not during the sale' },
    });
    expect(nextStep(rejected, ctx())).toMatchObject({ status: { phase: 'Cancelled', reason: 'Rejected', approval: { approved: false, approvedBy: 'bob', reason: 'not during the sale' } } });
    const expired = action({ status: { phase: 'WaitingApproval' } });
    expect(nextStep(expired, ctx({ now: t0 + 3600_001 }))).toMatchObject({ status: { phase: 'Cancelled', reason: 'ApprovalExpired' } });
  });

  it('ignores approvals on a finished action', () => {
    const done = action({ status: { phase: 'Succeeded' }, annotations: { [ANNOTATIONS.approvedBy]: 'alice' } });
    expect(nextStep(done, ctx()).kind).toBe('none');
  });

  it('verifies instead of executing again when it finds an action left InProgress by a dead operator', () => {
    const step = nextStep(action({ status: { phase: 'InProgress', executionId: 'uid-a/1', attempts: 1 } }), ctx());
    expect(step).toMatchObject({ kind: 'write', status: { phase: 'Verifying', reason: 'RecoveredAfterRestart' } });
  });

  it('fails verification that outlasts the health-check timeout', () => {
    const executedAt = '2026-01-01T12:00:10Z';
    const a = action({
      status: { phase: 'Verifying', conditions: [{ type: 'Executed', status: 'True', reason: 'Executed', message: '', lastTransitionTime: executedAt }] },
    });
    expect(nextStep(a, ctx({ now: Date.parse(executedAt) + 299_000 }))).toEqual({ kind: 'verify' });
    expect(nextStep(a, ctx({ now: Date.parse(executedAt) + 300_000 }))).toMatchObject({ status: { phase: 'Failed', reason: 'VerificationTimeout' } });
  });

  it('cancels a pending action whose policy was deleted, or that a user cancelled', () => {
    expect(nextStep(action(), ctx({ policyExists: false }))).toMatchObject({ status: { phase: 'Cancelled', reason: 'PolicyDeleted' } });
    expect(nextStep(action({ annotations: { [ANNOTATIONS.cancel]: 'carol' } }), ctx())).toMatchObject({ status: { phase: 'Cancelled', message: 'cancelled by carol' } });
  });

  it('ends an action not finished within its timeout', () => {
    expect(nextStep(action({ status: { phase: 'Approved' } }), ctx({ now: t0 + 600_000 }))).toMatchObject({ status: { phase: 'Cancelled', reason: 'Timeout' } });
  });
});

describe('afterGate', () => {
  it('blocks with the gate reason', () => {
    const r = afterGate(action(), ctx(), { allowed: false, reason: 'RateLimited', message: 'used 5 of 5' });
    expect(r.then).toBe('stop');
    expect(r.status).toMatchObject({ phase: 'Blocked', reason: 'RateLimited', message: 'used 5 of 5' });
  });

  it('records the intent (InProgress, attempt, executionId) before executing', () => {
    const r = afterGate(action(), ctx(), { allowed: true, dryRun: false, notes: [] });
    expect(r.then).toBe('execute');
    expect(r.status).toMatchObject({ phase: 'InProgress', attempts: 1, executionId: 'uid-a/1' });
  });

  it('plans instead of executing for a dry run', () => {
    expect(afterGate(action({ spec: { dryRun: true } }), ctx(), { allowed: true, dryRun: false, notes: [] }).then).toBe('plan');
    expect(afterGate(action(), ctx(), { allowed: true, dryRun: true, notes: ['global dry-run'] }).then).toBe('plan');
  });
});

describe('afterPlan', () => {
  it('succeeds with the planned change and never claims it was applied', () => {
    const s = afterPlan(action(), ctx(), { ok: true, summary: 'would evict pod web-1', plan: { evict: 'web-1' }, changes: [{ field: 'pod', old: 'web-1' }] });
    expect(s).toMatchObject({ phase: 'Succeeded', reason: 'DryRun', result: { success: true, plan: { evict: 'web-1' } } });
  });
});

describe('afterExecute', () => {
  const running = action({ status: { phase: 'InProgress', attempts: 1 } });

  it('moves to Verifying with the changes', () => {
    const r = afterExecute(running, ctx(), { ok: true, message: 'evicted web-1', changes: [{ field: 'pod', old: 'web-1' }] });
    expect(r.status).toMatchObject({ phase: 'Verifying', result: { changes: [{ field: 'pod', old: 'web-1' }] } });
  });

  it('succeeds unverified when the policy does not require a health check', () => {
    const r = afterExecute(running, ctx({ requireHealthCheck: false }), { ok: true, message: 'evicted', changes: [] });
    expect(r.status).toMatchObject({ phase: 'Succeeded', reason: 'VerificationSkipped' });
  });

  it.each([
    ['TargetGone', 'Cancelled'],
    ['PdbBlocked', 'Blocked'],
    ['Rejected', 'Failed'],
    ['Forbidden', 'Failed'],
    ['Unsupported', 'Failed'],
  ] as const)('classifies %s as %s', (code, phase) => {
    expect(afterExecute(running, ctx(), { ok: false, code, message: 'x' }).status.phase).toBe(phase);
  });

  it('retries a stale decision with backoff, then gives up after maxAttempts', () => {
    const r = afterExecute(running, ctx(), { ok: false, code: 'StaleDecision', message: 'conflict' });
    expect(r.status).toMatchObject({ phase: 'Approved', reason: 'RetryScheduled' });
    expect(r.requeueAt).toBe(t0 + 1000 + 10_000);
    const third = action({ status: { phase: 'InProgress', attempts: 3 } });
    expect(afterExecute(third, ctx(), { ok: false, code: 'Transient', message: 'timeout' }).status.phase).toBe('Failed');
  });
});

describe('afterVerify', () => {
  const verifying = action({ status: { phase: 'Verifying', result: { success: false, metricsBefore: { memory: '445Mi' } } } });

  it('succeeds with before and after metrics when healthy', () => {
    const r = afterVerify(verifying, ctx(), { status: 'healthy', message: 'replacement Ready' }, { memory: '98Mi' });
    expect(r.status).toMatchObject({ phase: 'Succeeded', result: { success: true, metricsBefore: { memory: '445Mi' }, metricsAfter: { memory: '98Mi' } } });
    expect(r.status?.conditions?.map((c) => c.type)).toEqual(['Verified', 'Completed']);
  });

  it('fails when verification fails and checks again while progressing', () => {
    expect(afterVerify(verifying, ctx(), { status: 'failed', message: 'still crashing' }).status?.phase).toBe('Failed');
    expect(afterVerify(verifying, ctx(), { status: 'progressing', message: 'rolling', checkAgainMs: 500 })).toEqual({ requeueAt: t0 + 1500 });
  });

  it('succeeds only after the target has stayed healthy for the stability window', () => {
    const c = ctx({ stabilityMs: 10_000 });
    const first = afterVerify(verifying, c, { status: 'healthy', message: 'Ready' });
    expect(first.status).toMatchObject({ phase: 'Verifying', reason: 'Stabilizing' });
    expect(first.requeueAt).toBe(c.now + 10_000);
    const stable = action({ status: { ...first.status!, result: { success: false } } });
    const since = Date.parse(stable.status!.conditions!.find((x) => x.type === 'Healthy')!.lastTransitionTime);
    expect(afterVerify(stable, ctx({ stabilityMs: 10_000, now: since + 5000 }), { status: 'healthy', message: 'Ready' })).toEqual({ requeueAt: since + 10_000 });
    expect(afterVerify(stable, ctx({ stabilityMs: 10_000, now: since + 10_000 }), { status: 'healthy', message: 'Ready' }).status?.phase).toBe('Succeeded');
  });

  it('starts the stability window over when the target turns unhealthy again', () => {
    const c = ctx({ stabilityMs: 10_000 });
    const first = afterVerify(verifying, c, { status: 'healthy', message: 'Ready' });
    const stable = action({ status: { ...first.status!, result: { success: false } } });
    const relapse = afterVerify(stable, ctx({ stabilityMs: 10_000, now: c.now + 3000 }), { status: 'progressing', message: 'CrashLoopBackOff' });
    expect(relapse.status).toMatchObject({ phase: 'Verifying', reason: 'Unstable' });
    expect(relapse.status?.conditions?.find((x) => x.type === 'Healthy')?.status).toBe('False');
  });
});
