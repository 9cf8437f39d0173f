/**
 * The HealingAction life cycle as pure functions. The controller shell reads the action, asks `nextStep` what to
 * do, performs that one step (the safety gate, the executor, a status write) and feeds the outcome back through
 * the matching `after*` function, which returns the status to write. Nothing here reads the clock or the cluster.
 *
 *   Pending ─┬─(approval needed)→ WaitingApproval ─(approved)→ Approved ─┐
 *            └────────────────────────────────────────────────────────────┴→ gate ─(denied)→ Blocked
 *                                                                            └─(allowed)→ InProgress → Verifying → Succeeded | Failed
 *   dry run: gate allowed → plan → Succeeded (reason DryRun, result.plan)          rejected / expired / cancel → Cancelled
 *
 * Status is the journal: `InProgress` with an `executionId` is written BEFORE the mutation, so an operator that
 * dies mid-execution finds InProgress on restart and verifies instead of executing again — never twice.
 */
import type { HealingAction, HealingActionStatus, BlockReason } from '../../api/v1alpha1/healing-action.js';
import { TERMINAL_PHASES } from '../../api/v1alpha1/healing-action.js';
import { capText, MAX_ANNOTATION_VALUE, MAX_USER_NAME } from '../../k8s/input-limits.js';
import { parseDuration } from '../../triggers/duration.js';
import { findCondition, isoTime, setCondition } from '../conditions.js';

/** Annotations through which people steer an action with plain kubectl (the CLI sets the same ones). */
export const ANNOTATIONS = {
  approvedBy: 'kubeskippy.io/approved-by',
  rejectedBy: 'kubeskippy.io/rejected-by',
  rejectReason: 'kubeskippy.io/reject-reason',
  cancel: 'kubeskippy.io/cancel',
} as const;

/** Stable reasons recorded in status.reason and on Events. */
export const REASONS = {
  AwaitingApproval: 'AwaitingApproval',
  Approved: 'Approved',
  Rejected: 'Rejected',
  ApprovalExpired: 'ApprovalExpired',
  Cancelled: 'CancelledByUser',
  PolicyDeleted: 'PolicyDeleted',
  Executing: 'Executing',
  Executed: 'Executed',
  Recovered: 'RecoveredAfterRestart',
  DryRun: 'DryRun',
  Verified: 'Verified',
  Stabilizing: 'Stabilizing',
  Unstable: 'Unstable',
  NotVerified: 'VerificationSkipped',
  VerificationFailed: 'VerificationFailed',
  VerificationTimeout: 'VerificationTimeout',
  ExecutionFailed: 'ExecutionFailed',
  TargetGone: 'TargetGone',
  RetryScheduled: 'RetryScheduled',
  Timeout: 'Timeout',
} as const;

/** What the shell knows besides the action itself. */
export interface ActionContext {
  readonly now: number;
  /** Whether the owning policy still exists. */
  readonly policyExists: boolean;
  /** How long an approval request stays open. */
  readonly approvalTtlMs: number;
  /** From the policy's safetyRules: verify after acting (default true) and for how long at most. */
  readonly requireHealthCheck: boolean;
  readonly healthCheckTimeoutMs: number;
  /**
   * How long the target must stay healthy before verification succeeds (0: at the first healthy check). A restarted
   * crash-looping pod is Ready for a moment and its restart count starts again from 0; one good check proves little.
   */
  readonly stabilityMs?: number;
}

/** The one thing to do next. */
export type Step =
  | { readonly kind: 'none'; readonly why: string }
  | { readonly kind: 'write'; readonly status: HealingActionStatus; readonly requeueAt?: number; readonly event?: StepEvent }
  | { readonly kind: 'wait'; readonly until: number }
  /** Run the safety gate against the live cluster, then call afterGate. */
  | { readonly kind: 'gate' }
  /** Verify the target now (one check), then call afterVerify. */
  | { readonly kind: 'verify' };

/** An Event the shell records along with a status write. */
export interface StepEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** The safety gate's outcome as this module needs it. */
export type GateOutcome =
  | { readonly allowed: true; readonly dryRun: boolean; readonly notes: readonly string[] }
  | { readonly allowed: false; readonly reason: BlockReason; readonly message: string };

/** An executor's outcome. `applied: false` means the API refused before anything changed. */
export type ExecutionOutcome =
  | { readonly ok: true; readonly message: string; readonly changes: readonly { field: string; old?: string; new?: string }[] }
  | {
      readonly ok: false;
      readonly code: 'TargetGone' | 'StaleDecision' | 'PdbBlocked' | 'Rejected' | 'Forbidden' | 'Unsupported' | 'Transient';
      readonly message: string;
    };

/** One verification check. */
export type VerificationOutcome =
  | { readonly status: 'healthy'; readonly message: string }
  | { readonly status: 'progressing'; readonly message: string; readonly checkAgainMs?: number }
  | { readonly status: 'failed'; readonly message: string };

const DEFAULT_TIMEOUT = '10m';

function phaseOf(a: HealingAction): NonNullable<HealingActionStatus['phase']> {
  return a.status?.phase ?? 'Pending';
}

/** True when nothing more will happen to the action. Blocked is final for that action: a new firing makes a new one. */
export function isFinished(a: HealingAction): boolean {
  const p = phaseOf(a);
  return TERMINAL_PHASES.includes(p) || p === 'Blocked';
}

function base(a: HealingAction): HealingActionStatus {
  return { ...(a.status ?? {}), observedGeneration: a.metadata.generation ?? 0 };
}

function finish(
  a: HealingAction,
  ctx: ActionContext,
  phase: 'Succeeded' | 'Failed' | 'Cancelled' | 'Blocked',
  reason: string,
  message: string,
  extra: Partial<HealingActionStatus> = {},
): HealingActionStatus {
  return {
    ...base(a),
    ...extra,
    phase,
    reason,
    message,
    completionTime: isoTime(ctx.now),
    conditions: setCondition(extra.conditions ?? a.status?.conditions, { type: 'Completed', status: 'True', reason, message: message.slice(0, 1024) }, ctx.now),
  };
}

/** A user-written annotation, capped: whoever may annotate the action controls its length. */
function annotation(a: HealingAction, key: string): string | undefined {
  const v = a.metadata.annotations?.[key];
  const max = key === ANNOTATIONS.rejectReason ? MAX_ANNOTATION_VALUE : MAX_USER_NAME;
  return v === undefined || v === '' ? undefined : capText(v, max);
}

function createdAt(a: HealingAction, ctx: ActionContext): number {
  const t = a.metadata.creationTimestamp ? Date.parse(a.metadata.creationTimestamp) : Number.NaN;
  return Number.isFinite(t) ? t : ctx.now;
}

/**
 * Decides the next step for an action. Terminal actions need nothing. Order matters: cancellation and a deleted
 * policy end anything not yet executing; the overall timeout ends anything stuck; an InProgress action found here
 * means the process that started it died (a live one finishes its step before releasing the key), so it goes to
 * verification rather than being executed again.
 */
export function nextStep(a: HealingAction, ctx: ActionContext): Step {
  const phase = phaseOf(a);
  if (isFinished(a)) return { kind: 'none', why: `already ${phase}` };

  const beforeExecution = phase === 'Pending' || phase === 'WaitingApproval' || phase === 'Approved';
  if (beforeExecution && annotation(a, ANNOTATIONS.cancel) !== undefined) {
    return write(finish(a, ctx, 'Cancelled', REASONS.Cancelled, `cancelled by ${annotation(a, ANNOTATIONS.cancel) ?? 'a user'}`), 'Normal');
  }
  if (beforeExecution && !ctx.policyExists) {
    return write(finish(a, ctx, 'Cancelled', REASONS.PolicyDeleted, `policy ${a.spec.policyRef.name} no longer exists`), 'Normal');
  }

  const timeoutMs = parseDuration(a.spec.timeout ?? DEFAULT_TIMEOUT);
  const deadline = createdAt(a, ctx) + timeoutMs;
  if (phase !== 'WaitingApproval' && phase !== 'Verifying' && ctx.now >= deadline) {
    return write(
      finish(a, ctx, phase === 'InProgress' ? 'Failed' : 'Cancelled', REASONS.Timeout, `not finished within its timeout of ${a.spec.timeout ?? DEFAULT_TIMEOUT}`),
      'Warning',
    );
  }

  switch (phase) {
    case 'Pending':
      // An action approved (or rejected) before the operator first saw it still goes through stepWaitingApproval:
      // that is where the approver is recorded in status.approval, and where a rejection wins over an approval.
      return a.spec.approvalRequired === true ? stepWaitingApproval(a, ctx) : { kind: 'gate' };
    case 'WaitingApproval':
      return stepWaitingApproval(a, ctx);
    case 'Approved':
      return { kind: 'gate' };
    case 'InProgress':
      return write(
        {
          ...base(a),
          phase: 'Verifying',
          reason: REASONS.Recovered,
          message: 'the operator stopped during execution; verifying the outcome instead of executing again',
          conditions: setCondition(a.status?.conditions, { type: 'Executed', status: 'Unknown', reason: REASONS.Recovered, message: 'execution may or may not have completed' }, ctx.now),
        },
        'Warning',
      );
    case 'Verifying': {
      const started = Date.parse(findCondition(a.status?.conditions, 'Executed')?.lastTransitionTime ?? '') || createdAt(a, ctx);
      if (ctx.now >= started + ctx.healthCheckTimeoutMs) {
        return write(
          finish(a, ctx, 'Failed', REASONS.VerificationTimeout, `the target did not become healthy within ${Math.round(ctx.healthCheckTimeoutMs / 1000)}s`, {
            result: { ...(a.status?.result ?? { success: false }), success: false },
          }),
          'Warning',
        );
      }
      return { kind: 'verify' };
    }
    default:
      return { kind: 'none', why: `phase ${phase}` };
  }
}

function write(status: HealingActionStatus, type: 'Normal' | 'Warning', requeueAt?: number): Step {
  const event: StepEvent = { type, reason: status.reason ?? status.phase ?? 'Updated', message: status.message ?? '' };
  return requeueAt === undefined ? { kind: 'write', status, event } : { kind: 'write', status, event, requeueAt };
}

function stepWaitingApproval(a: HealingAction, ctx: ActionContext): Step {
  const rejectedBy = annotation(a, ANNOTATIONS.rejectedBy);
  const approvedBy = annotation(a, ANNOTATIONS.approvedBy);
  if (rejectedBy !== undefined) {
    const reason = annotation(a, ANNOTATIONS.rejectReason) ?? 'no reason given';
    return write(
      finish(a, ctx, 'Cancelled', REASONS.Rejected, `rejected by ${rejectedBy}: ${reason}`, {
        approval: { required: true, approved: false, approvedBy: rejectedBy, approvedAt: isoTime(ctx.now), reason },
      }),
      'Normal',
    );
  }
  if (approvedBy !== undefined) {
    return write(
      {
        ...base(a),
        phase: 'Approved',
        reason: REASONS.Approved,
        message: `approved by ${approvedBy}`,
        approval: { required: true, approved: true, approvedBy, approvedAt: isoTime(ctx.now) },
        conditions: setCondition(a.status?.conditions, { type: 'Approved', status: 'True', reason: REASONS.Approved, message: `approved by ${approvedBy}` }, ctx.now),
      },
      'Normal',
    );
  }
  // The request opened when the Approved=False condition was first written (second precision, as the API keeps it).
  // Without that condition (an action written by hand), count from creation.
  const opened = Date.parse(findCondition(a.status?.conditions, 'Approved')?.lastTransitionTime ?? '');
  const since = Number.isFinite(opened) ? opened : phaseOf(a) === 'WaitingApproval' ? createdAt(a, ctx) : ctx.now;
  const expires = since + ctx.approvalTtlMs;
  if (ctx.now >= expires) {
    return write(
      finish(a, ctx, 'Cancelled', REASONS.ApprovalExpired, `nobody approved it within ${Math.round(ctx.approvalTtlMs / 60000)} minutes`, {
        approval: { required: true, approved: false },
      }),
      'Warning',
    );
  }
  if (phaseOf(a) === 'WaitingApproval') return { kind: 'wait', until: expires };
  return write(
    {
      ...base(a),
      phase: 'WaitingApproval',
      reason: REASONS.AwaitingApproval,
      message: `waiting for approval: kubeskippy approve ${a.metadata.name ?? ''} -n ${a.metadata.namespace ?? ''} (expires ${isoTime(expires)})`,
      approval: { required: true },
      conditions: setCondition(a.status?.conditions, { type: 'Approved', status: 'False', reason: REASONS.AwaitingApproval, message: 'waiting for approval' }, ctx.now),
    },
    'Normal',
    expires,
  );
}

/**
 * After the gate: a denial ends the action as Blocked with the gate's reason; a dry run is planned instead of
 * executed (the shell calls the executor's plan, then afterPlan); otherwise returns the InProgress status — the
 * journal entry the shell must write BEFORE calling the executor.
 */
export function afterGate(
  a: HealingAction,
  ctx: ActionContext,
  gate: GateOutcome,
): { readonly status: HealingActionStatus; readonly then: 'stop' | 'plan' | 'execute'; readonly event: StepEvent } {
  if (!gate.allowed) {
    const status = finish(a, ctx, 'Blocked', gate.reason, gate.message);
    return { status, then: 'stop', event: { type: 'Warning', reason: `Blocked${gate.reason}`, message: gate.message } };
  }
  const attempts = (a.status?.attempts ?? 0) + 1;
  if (gate.dryRun || a.spec.dryRun === true) {
    return {
      status: { ...base(a), phase: 'InProgress', reason: REASONS.DryRun, message: 'planning (dry run)', startTime: isoTime(ctx.now) },
      then: 'plan',
      event: { type: 'Normal', reason: REASONS.DryRun, message: ['planning the change without making it', ...gate.notes].join('; ') },
    };
  }
  return {
    status: {
      ...base(a),
      phase: 'InProgress',
      reason: REASONS.Executing,
      message: ['executing', ...gate.notes].join('; '),
      attempts,
      startTime: a.status?.startTime ?? isoTime(ctx.now),
      executionId: `${a.metadata.uid ?? a.metadata.name ?? 'action'}/${attempts}`,
    },
    then: 'execute',
    event: { type: 'Normal', reason: REASONS.Executing, message: `executing ${a.spec.action.type} on ${a.spec.targetResource.kind}/${a.spec.targetResource.name}${gate.notes.length > 0 ? ` (${gate.notes.join('; ')})` : ''}` },
  };
}

/** After a dry-run plan: Succeeded with the plan, or Failed if planning failed (e.g. the API server rejected it). */
export function afterPlan(
  a: HealingAction,
  ctx: ActionContext,
  plan: { ok: true; summary: string; plan: unknown; changes: readonly { field: string; old?: string; new?: string }[] } | { ok: false; message: string },
): HealingActionStatus {
  if (!plan.ok) return finish(a, ctx, 'Failed', REASONS.ExecutionFailed, `dry run failed: ${plan.message}`, { result: { success: false, error: plan.message } });
  return finish(a, ctx, 'Succeeded', REASONS.DryRun, `dry run: ${plan.summary}`, {
    result: { success: true, message: `dry run: ${plan.summary}`, plan: plan.plan, changes: [...plan.changes] },
  });
}

function retryDelayMs(a: HealingAction, attempts: number): number {
  const base = parseDuration(a.spec.retryPolicy?.backoff ?? '10s');
  const factor = a.spec.retryPolicy?.backoffMultiplier ?? 2;
  return base * factor ** Math.max(0, attempts - 1);
}

/**
 * After the executor ran. Success → Verifying (or Succeeded unverified when the policy does not require a health
 * check). A refusal that proves nothing changed is classified: target gone → Cancelled; PDB → Blocked(PDB);
 * rejected/forbidden/unsupported → Failed; stale decision or a transient error → retried with backoff (back to
 * Approved, re-gated) while attempts remain, else Failed.
 */
export function afterExecute(
  a: HealingAction,
  ctx: ActionContext,
  outcome: ExecutionOutcome,
): { readonly status: HealingActionStatus; readonly requeueAt?: number; readonly event: StepEvent } {
  const attempts = a.status?.attempts ?? 1;
  if (outcome.ok) {
    const changes = [...outcome.changes];
    if (!ctx.requireHealthCheck) {
      const status = finish(a, ctx, 'Succeeded', REASONS.NotVerified, `${outcome.message} (not verified: requireHealthCheck is false)`, {
        result: { ...(a.status?.result ?? {}), success: true, message: outcome.message, changes },
      });
      return { status, event: { type: 'Normal', reason: REASONS.Executed, message: outcome.message } };
    }
    return {
      status: {
        ...base(a),
        phase: 'Verifying',
        reason: REASONS.Executed,
        message: `${outcome.message}; verifying`,
        result: { ...(a.status?.result ?? {}), success: false, message: outcome.message, changes },
        conditions: setCondition(a.status?.conditions, { type: 'Executed', status: 'True', reason: REASONS.Executed, message: outcome.message.slice(0, 1024) }, ctx.now),
      },
      requeueAt: ctx.now,
      event: { type: 'Normal', reason: REASONS.Executed, message: outcome.message },
    };
  }
  const event = (reason: string): StepEvent => ({ type: 'Warning', reason, message: outcome.message });
  switch (outcome.code) {
    case 'TargetGone':
      return { status: finish(a, ctx, 'Cancelled', REASONS.TargetGone, outcome.message), event: event(REASONS.TargetGone) };
    case 'PdbBlocked':
      return { status: finish(a, ctx, 'Blocked', 'PDB', outcome.message), event: event('BlockedPDB') };
    case 'Rejected':
    case 'Forbidden':
    case 'Unsupported':
      return {
        status: finish(a, ctx, 'Failed', REASONS.ExecutionFailed, outcome.message, { result: { success: false, error: outcome.message } }),
        event: event(REASONS.ExecutionFailed),
      };
    case 'StaleDecision':
    case 'Transient': {
      const max = a.spec.retryPolicy?.maxAttempts ?? 3;
      if (attempts >= max) {
        return {
          status: finish(a, ctx, 'Failed', REASONS.ExecutionFailed, `gave up after ${attempts} attempts: ${outcome.message}`, {
            result: { success: false, error: outcome.message },
          }),
          event: event(REASONS.ExecutionFailed),
        };
      }
      const at = ctx.now + retryDelayMs(a, attempts);
      return {
        status: { ...base(a), phase: 'Approved', reason: REASONS.RetryScheduled, message: `attempt ${attempts} failed (${outcome.message}); retrying at ${isoTime(at)}`, nextAttemptTime: isoTime(at) },
        requeueAt: at,
        event: event(REASONS.RetryScheduled),
      };
    }
  }
}

/** After one verification check: healthy → Succeeded, failed → Failed, progressing → check again later. */
export function afterVerify(
  a: HealingAction,
  ctx: ActionContext,
  v: VerificationOutcome,
  metricsAfter?: Record<string, string>,
): { readonly status?: HealingActionStatus; readonly requeueAt?: number; readonly event?: StepEvent } {
  const result = a.status?.result ?? { success: false };
  const healthy = findCondition(a.status?.conditions, 'Healthy');
  const healthySince = healthy?.status === 'True' ? Date.parse(healthy.lastTransitionTime) : Number.NaN;
  const stability = ctx.stabilityMs ?? 0;
  if (v.status === 'healthy' && stability > 0 && !(ctx.now - healthySince >= stability)) {
    if (Number.isFinite(healthySince)) return { requeueAt: healthySince + stability };
    return {
      status: {
        ...base(a),
        reason: REASONS.Stabilizing,
        message: `${v.message}; must stay healthy for ${Math.round(stability / 1000)}s`,
        conditions: setCondition(a.status?.conditions, { type: 'Healthy', status: 'True', reason: REASONS.Stabilizing, message: v.message.slice(0, 1024) }, ctx.now),
      },
      requeueAt: ctx.now + stability,
    };
  }
  if (v.status === 'progressing' && healthy?.status === 'True') {
    // Healthy, then not: the stability window starts over at the next healthy check.
    return {
      status: {
        ...base(a),
        reason: REASONS.Unstable,
        message: `healthy for a while, then not: ${v.message}`,
        conditions: setCondition(a.status?.conditions, { type: 'Healthy', status: 'False', reason: REASONS.Unstable, message: v.message.slice(0, 1024) }, ctx.now),
      },
      requeueAt: ctx.now + (v.checkAgainMs ?? 2000),
    };
  }
  if (v.status === 'healthy') {
    return {
      status: finish(a, ctx, 'Succeeded', REASONS.Verified, v.message, {
        result: { ...result, success: true, ...(metricsAfter ? { metricsAfter } : {}) },
        conditions: setCondition(a.status?.conditions, { type: 'Verified', status: 'True', reason: REASONS.Verified, message: v.message.slice(0, 1024) }, ctx.now),
      }),
      event: { type: 'Normal', reason: REASONS.Verified, message: v.message },
    };
  }
  if (v.status === 'failed') {
    return {
      status: finish(a, ctx, 'Failed', REASONS.VerificationFailed, v.message, {
        result: { ...result, success: false, error: v.message, ...(metricsAfter ? { metricsAfter } : {}) },
      }),
      event: { type: 'Warning', reason: REASONS.VerificationFailed, message: v.message },
    };
  }
  return { requeueAt: ctx.now + (v.checkAgainMs ?? 2000) };
}
