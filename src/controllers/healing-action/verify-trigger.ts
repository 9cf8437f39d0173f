/**
 * "Healthy again" means more than Ready: the trigger that fired must no longer hold, judged on observations made
 * after the action. Pure — the caller passes the observations.
 */
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { Sample, TargetObservations, TargetRef } from '../../metrics/types.js';
import { evaluateTrigger, formatValue } from '../../triggers/evaluate.js';

/** Whose observations say whether the trigger cleared, or why there is nothing (yet) to look at. */
export type ClearanceSubject =
  | { readonly kind: 'observe'; readonly ref: TargetRef }
  | { readonly kind: 'gone'; readonly message: string }
  | { readonly kind: 'pending'; readonly message: string };

/**
 * Chooses whose observations show whether the trigger that fired on `target` has cleared. `observed` says whether
 * the operator holds observations of an object. In order:
 * 1. the `replacement` the verification found for a replaced pod — the trigger fired for that one pod, so its
 *    stand-in is what to re-check; the workload's aggregate (the maximum or sum over all its pods) would also hold
 *    sibling pods that may well still breach, and the action could then never verify;
 * 2. the target itself, while it is still observed;
 * 3. for a pod replaced by a rollout (single-replica restart, rollback), its `workload`;
 * 4. a pod with nothing standing in for it (a bare pod deleted): gone, nothing left to re-check.
 * Anything that should exist but has no observations yet is `pending` — never "cleared": right after an operator
 * restart nothing has been observed yet, and absence of data is not health.
 */
export function clearanceSubject(
  target: TargetRef,
  workload: TargetRef | undefined,
  replacement: TargetRef | undefined,
  observed: (ref: TargetRef) => boolean,
): ClearanceSubject {
  const describe = (r: TargetRef): string => `${r.kind}/${r.name}`;
  if (replacement) {
    return observed(replacement) ? { kind: 'observe', ref: replacement } : { kind: 'pending', message: `no observations of the replacement ${describe(replacement)} yet` };
  }
  if (observed(target)) return { kind: 'observe', ref: target };
  if (target.kind !== 'Pod') return { kind: 'pending', message: `no observations of ${describe(target)} yet` };
  if (workload) {
    return observed(workload) ? { kind: 'observe', ref: workload } : { kind: 'pending', message: `no observations of ${describe(workload)} yet` };
  }
  return { kind: 'gone', message: `${describe(target)} is gone; nothing left to re-check` };
}

/** Whether the firing trigger has cleared. `pending`: no observation after the action yet. */
export type TriggerClearance =
  | { readonly status: 'cleared'; readonly message: string; readonly metricsAfter: Record<string, string> }
  | { readonly status: 'still-firing'; readonly message: string; readonly metricsAfter: Record<string, string> }
  | { readonly status: 'pending'; readonly message: string };

/**
 * Re-evaluates the action's trigger on `observations` restricted to samples taken after `executedAt`, as an
 * instantaneous check (duration 0, no cooldown). Event triggers cannot "clear" by time in a meaningful way here and
 * are treated as cleared; triggers the policy no longer has are too.
 */
export function checkTriggerCleared(
  action: HealingAction,
  policy: AnyPolicy | undefined,
  observations: TargetObservations,
  executedAt: number,
  now: number,
): TriggerClearance {
  const trigger = policy?.spec.triggers.find((t) => t.name === action.spec.trigger?.name);
  if (!trigger || trigger.type === 'event') return { status: 'cleared', message: 'no trigger to re-check', metricsAfter: {} };
  const fresh = new Map<string, readonly Sample[]>();
  for (const [metric, samples] of observations.series) fresh.set(metric, samples.filter((s) => s.at > executedAt));
  const instant =
    trigger.type === 'metric' && trigger.metricTrigger
      ? { ...trigger, metricTrigger: { ...trigger.metricTrigger, duration: '0s' } }
      : trigger.type === 'condition' && trigger.conditionTrigger
        ? { ...trigger, conditionTrigger: { ...trigger.conditionTrigger, duration: '0s' } }
        : trigger;
  const r = evaluateTrigger(instant, { ...observations, series: fresh }, undefined, now);
  const metricsAfter: Record<string, string> = {};
  for (const [metric, samples] of fresh) {
    const last = samples.at(-1);
    if (last) metricsAfter[metric] = formatValue(metric, last.value);
  }
  if (r.status === 'firing') return { status: 'still-firing', message: `the trigger still holds after the action: ${r.reason}`, metricsAfter };
  if (r.status === 'unknown' || r.status === 'pending') return { status: 'pending', message: `waiting for observations after the action (${r.reason})` };
  return { status: 'cleared', message: `trigger ${trigger.name} cleared: ${r.reason}`, metricsAfter };
}
