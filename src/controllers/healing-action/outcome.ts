/**
 * How a HealingAction's end is counted for the dashboards: what kind of healing it was (predictive or reactive),
 * how it ended, how long healing took from the firing, and whether it prevented a failure — a predictive action
 * verified before the target showed any sign of the failure it forecast. Pure: the shell passes the action, its new
 * status, the observations and `now`; nothing here reads the clock, the cluster or the metrics registry.
 */
import type { Condition } from '../../api/v1alpha1/common.js';
import type { ActionPhase, HealingAction, HealingActionStatus } from '../../api/v1alpha1/healing-action.js';
import type { TargetObservations } from '../../metrics/types.js';
import { findCondition } from '../conditions.js';

/** `predictive`: the action's trigger is a predictive trigger (it acted on a forecast); anything else is `reactive`. */
export type HealingKind = 'predictive' | 'reactive';

/** How a healing ended: the terminal phase, lower-cased. */
export type HealingResult = 'succeeded' | 'failed' | 'blocked' | 'cancelled';

/**
 * The condition recorded on a predictive action right before it executes: True when the target already showed a
 * failure (so the action healed it, it did not prevent it), False when it showed none.
 */
export const FAILURE_OBSERVED = 'FailureObserved';

/** Reasons of the FailureObserved condition. */
export const FAILURE_REASONS = {
  OOMKilled: 'OOMKilled',
  CrashLoopBackOff: 'CrashLoopBackOff',
  OOMEvent: 'OOMEvent',
  CrashEvent: 'CrashEvent',
  Restarted: 'Restarted',
  None: 'NoFailureObserved',
} as const;

/** The kind of healing an action is. */
export function healingKind(a: Pick<HealingAction, 'spec'>): HealingKind {
  return a.spec.trigger?.type === 'predictive' ? 'predictive' : 'reactive';
}

/** The result of a phase that ends an action; undefined for a phase after which more happens. */
export function healingResult(phase: ActionPhase | undefined): HealingResult | undefined {
  switch (phase) {
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
      return 'failed';
    case 'Blocked':
      return 'blocked';
    case 'Cancelled':
      return 'cancelled';
    default:
      return undefined;
  }
}

/**
 * How much of a target's restart_count history observedFailure should find: the store keeps that much of it for the
 * targets of predictive and AI-decided policies (retentionPlan), whose actions may count as prevented failures.
 */
export const FAILURE_HISTORY_MS = 30 * 60_000;

/** A sign that the failure had already happened, or none. */
export type ObservedFailure = { readonly failed: true; readonly reason: string; readonly message: string } | { readonly failed: false };

/**
 * Whether `observations` of a target show that it already failed, by `before` (ms): its OOMKilled or
 * CrashLoopBackOff pseudo-condition True, an OOM Event (OOMKilling, OOMKilled) or a crash back-off Event ("Back-off
 * restarting failed container"), or a rise of its restart count. Conservative on purpose: anything in the history
 * the operator holds (about 30 minutes of samples, an hour of Events) counts, so a failure is never called prevented
 * when the target had already failed.
 */
export function observedFailure(observations: TargetObservations, before: number): ObservedFailure {
  for (const type of ['OOMKilled', 'CrashLoopBackOff'] as const) {
    const c = observations.conditions.get(type);
    if (c?.status === 'True') {
      return { failed: true, reason: FAILURE_REASONS[type], message: `${type} was True${c.message ? ` (${c.message})` : ''} before the action` };
    }
  }
  for (const e of observations.events) {
    if (e.at > before) continue;
    if (/^OOMKill/i.test(e.reason)) return { failed: true, reason: FAILURE_REASONS.OOMEvent, message: `a ${e.reason} Event was recorded before the action` };
    if (e.reason === 'BackOff' && /restarting failed container/i.test(e.message ?? '')) {
      return { failed: true, reason: FAILURE_REASONS.CrashEvent, message: 'a crash back-off Event was recorded before the action' };
    }
  }
  const restarts = (observations.series.get('restart_count') ?? []).filter((s) => s.at <= before);
  const first = restarts[0];
  const last = restarts.at(-1);
  if (first && last && last.value > first.value) {
    return { failed: true, reason: FAILURE_REASONS.Restarted, message: `its containers restarted ${last.value - first.value} times before the action` };
  }
  return { failed: false };
}

/** The FailureObserved condition for an observed failure (setCondition adds the transition time). */
export function failureObservedCondition(f: ObservedFailure): Omit<Condition, 'lastTransitionTime'> {
  return f.failed
    ? { type: FAILURE_OBSERVED, status: 'True', reason: f.reason, message: f.message }
    : { type: FAILURE_OBSERVED, status: 'False', reason: FAILURE_REASONS.None, message: 'no OOM kill, crash loop or restart was observed before the action executed' };
}

/** Labels of kubeskippy_healings_total. */
export interface HealingLabels {
  readonly policy: string;
  readonly namespace: string;
  readonly source: 'rule' | 'ai';
  readonly kind: HealingKind;
  readonly result: HealingResult;
}

/** What the metrics record when an action reaches `status.phase`. */
export interface HealingOutcome {
  readonly labels: HealingLabels;
  /** Seconds from the trigger's firing to verified success; only for verified Succeeded actions with a firing time. */
  readonly timeToHealSeconds?: number;
  /** A predictive action verified healthy with no failure observed before it executed. */
  readonly prevented: boolean;
}

/**
 * The outcome to count when action `a` moves to `status` (time to heal and prevention need a verified success:
 * the Verified condition True): undefined when the new phase is not a terminal one, when
 * the action was already in it (the transition is counted once), or for a dry run (it healed nothing: its phase is
 * counted in kubeskippy_actions_total only). A FailureObserved condition missing — an action that executed before
 * this was recorded — never counts as prevented.
 */
export function healingOutcome(a: HealingAction, status: HealingActionStatus, now: number): HealingOutcome | undefined {
  const result = healingResult(status.phase);
  if (result === undefined || status.phase === a.status?.phase || a.spec.dryRun === true) return undefined;
  const kind = healingKind(a);
  const labels: HealingLabels = { policy: a.spec.policyRef.name, namespace: a.metadata.namespace ?? '', source: a.spec.source ?? 'rule', kind, result };
  // Succeeded without verification (requireHealthCheck false) says the change was made, not that the target healed.
  const verified = result === 'succeeded' && findCondition(status.conditions, 'Verified')?.status === 'True';
  const firedAt = Date.parse(a.spec.trigger?.firedAt ?? '');
  const timeToHealSeconds = verified && Number.isFinite(firedAt) ? Math.max(0, now - firedAt) / 1000 : undefined;
  const prevented = verified && kind === 'predictive' && findCondition(status.conditions, FAILURE_OBSERVED)?.status === 'False';
  return { labels, prevented, ...(timeToHealSeconds === undefined ? {} : { timeToHealSeconds }) };
}
