/** The HealingPolicy status a reconcile writes, computed from what it found. Pure. */
import type { AnyPolicy, HealingPolicyStatus, Learning } from '../../api/v1alpha1/healing-policy.js';
import { isoTime, setCondition } from '../conditions.js';
import { hash32 } from '../../runtime/hash.js';

/** Condition types and reasons on HealingPolicy status. */
export const POLICY_CONDITIONS = {
  Ready: 'Ready',
  Paused: 'Paused',
  BudgetExhausted: 'BudgetExhausted',
  DataAvailable: 'DataAvailable',
} as const;

export const POLICY_REASONS = {
  Evaluating: 'Evaluating',
  InvalidSpec: 'InvalidSpec',
  SelectionProblem: 'SelectionProblem',
  NoTargets: 'NoTargets',
  OperatorPaused: 'OperatorPaused',
  NotPaused: 'NotPaused',
  BudgetLeft: 'BudgetLeft',
  BudgetUsedUp: 'BudgetUsedUp',
  AllData: 'AllDataAvailable',
  DataMissing: 'DataUnavailable',
  EvaluationOverBudget: 'EvaluationOverBudget',
  CrossNamespaceSelector: 'CrossNamespaceSelector',
} as const;

/** What the reconcile found, for the status. */
export interface PolicyStatusInput {
  readonly now: number;
  readonly generation: number;
  readonly matched: number;
  readonly activeTriggers: readonly string[];
  readonly actionsTaken: number;
  readonly actionsAllowed: number;
  readonly maxActionsPerHour: number;
  readonly lastActionAt?: number;
  readonly paused: boolean;
  readonly selectionProblems: readonly string[];
  /** Distinct reasons why triggers could not be evaluated on some targets. */
  readonly unknownReasons: readonly string[];
  /** Set when a HealingPolicy's selector.namespaces was ignored (it acts only in its own namespace): why. */
  readonly crossNamespace?: string;
  /** What the policy has learnt from its actions (learning.ts). */
  readonly learning?: Learning;
}

/** The full status for a valid policy. `previous` keeps lastTransitionTimes of unchanged conditions. */
export function policyStatus(previous: HealingPolicyStatus | undefined, s: PolicyStatusInput): HealingPolicyStatus {
  let conditions = previous?.conditions;
  const ready =
    s.crossNamespace !== undefined
      ? { status: 'False' as const, reason: POLICY_REASONS.CrossNamespaceSelector, message: s.crossNamespace.slice(0, 4096) }
      : s.selectionProblems.length > 0
      ? { status: 'False' as const, reason: POLICY_REASONS.SelectionProblem, message: s.selectionProblems.join('; ') }
      : { status: 'True' as const, reason: s.matched > 0 ? POLICY_REASONS.Evaluating : POLICY_REASONS.NoTargets, message: s.matched > 0 ? `watching ${s.matched} resources` : 'the selector matches no resources' };
  conditions = setCondition(conditions, { type: POLICY_CONDITIONS.Ready, ...ready, observedGeneration: s.generation }, s.now);
  conditions = setCondition(
    conditions,
    s.paused
      ? { type: POLICY_CONDITIONS.Paused, status: 'True', reason: POLICY_REASONS.OperatorPaused, message: 'the operator is paused: no action executes', observedGeneration: s.generation }
      : { type: POLICY_CONDITIONS.Paused, status: 'False', reason: POLICY_REASONS.NotPaused, message: '', observedGeneration: s.generation },
    s.now,
  );
  conditions = setCondition(
    conditions,
    s.actionsAllowed <= 0
      ? { type: POLICY_CONDITIONS.BudgetExhausted, status: 'True', reason: POLICY_REASONS.BudgetUsedUp, message: `all ${s.maxActionsPerHour} actions of the rolling hour are used`, observedGeneration: s.generation }
      : { type: POLICY_CONDITIONS.BudgetExhausted, status: 'False', reason: POLICY_REASONS.BudgetLeft, message: `${s.actionsAllowed} of ${s.maxActionsPerHour} actions left this hour`, observedGeneration: s.generation },
    s.now,
  );
  conditions = setCondition(
    conditions,
    s.unknownReasons.length > 0
      ? { type: POLICY_CONDITIONS.DataAvailable, status: 'False', reason: POLICY_REASONS.DataMissing, message: s.unknownReasons.slice(0, 5).join('; ').slice(0, 2048), observedGeneration: s.generation }
      : { type: POLICY_CONDITIONS.DataAvailable, status: 'True', reason: POLICY_REASONS.AllData, message: '', observedGeneration: s.generation },
    s.now,
  );
  return {
    observedGeneration: s.generation,
    lastEvaluated: isoTime(s.now),
    matchedResources: s.matched,
    ...(s.activeTriggers.length > 0 ? { activeTriggers: [...s.activeTriggers] } : {}),
    actionsTaken: s.actionsTaken,
    actionsAllowed: Math.max(0, s.actionsAllowed),
    ...(s.lastActionAt === undefined ? {} : { lastActionTime: isoTime(s.lastActionAt) }),
    ...(s.learning === undefined ? {} : { learning: s.learning }),
    conditions,
  };
}

/** The status of a policy that failed validation: only Ready=False with the problems. */
export function invalidPolicyStatus(policy: AnyPolicy, problems: readonly string[], now: number): HealingPolicyStatus {
  const generation = policy.metadata.generation ?? 0;
  return {
    ...(policy.status ?? {}),
    observedGeneration: generation,
    lastEvaluated: isoTime(now),
    conditions: setCondition(
      policy.status?.conditions,
      { type: POLICY_CONDITIONS.Ready, status: 'False', reason: POLICY_REASONS.InvalidSpec, message: problems.join('; ').slice(0, 4096), observedGeneration: generation },
      now,
    ),
  };
}

/** The status of a policy skipped for running over its evaluation budget: Ready=False with why; the rest kept. */
export function overBudgetPolicyStatus(policy: AnyPolicy, message: string, now: number): HealingPolicyStatus {
  const generation = policy.metadata.generation ?? 0;
  return {
    ...(policy.status ?? {}),
    lastEvaluated: isoTime(now),
    conditions: setCondition(
      policy.status?.conditions,
      { type: POLICY_CONDITIONS.Ready, status: 'False', reason: POLICY_REASONS.EvaluationOverBudget, message: message.slice(0, 4096), observedGeneration: generation },
      now,
    ),
  };
}

/**
 * Where in each `refreshMs` period the policy with ledger key `key` refreshes an unchanged status: an offset in
 * [0, refreshMs), fixed per policy (a hash of its key). With one schedule for all, every policy of an operator started
 * at once refreshed in the same minute, every `refreshMs` (54 of 100 in one quiet minute at 5 000 pods); spread, they
 * refresh evenly across the period, each still once a period.
 */
export function statusRefreshPhase(key: string, refreshMs: number): number {
  return Math.floor(refreshMs * (hash32(key) / 0x1_0000_0000));
}

/**
 * True when writing `next` over `prev` changes something besides lastEvaluated, or lastEvaluated is from an earlier
 * refresh slot — slots are `refreshMs` long, starting at `phaseMs` past a multiple of it (statusRefreshPhase) — so a
 * steady policy writes its status once a period, not on every reconcile, and lastEvaluated is never a whole period
 * plus the time to the next reconcile old. The comparison ignores key order:
 * `prev` comes from the API server, which returns custom resources with their keys sorted, while `next` is built
 * in code order (comparing them as plain JSON made every reconcile write, and every write trigger a reconcile).
 */
export function statusNeedsWrite(prev: HealingPolicyStatus | undefined, next: HealingPolicyStatus, now: number, refreshMs: number, phaseMs = 0): boolean {
  if (!prev) return true;
  const strip = (s: HealingPolicyStatus): string => JSON.stringify(sortedKeys({ ...s, lastEvaluated: undefined }));
  if (strip(prev) !== strip(next)) return true;
  const last = prev.lastEvaluated ? Date.parse(prev.lastEvaluated) : Number.NaN;
  if (!Number.isFinite(last)) return true;
  const slot = (t: number): number => Math.floor((t - phaseMs) / refreshMs);
  return slot(now) > slot(last);
}

/** `value` with every object's keys in sorted order (undefined members dropped), for order-insensitive comparison. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(record).sort()) if (record[k] !== undefined) out[k] = sortedKeys(record[k]);
  return out;
}

/**
 * The merge patch that turns status `prev` into `next`: `next` plus an explicit null for every top-level field
 * `next` no longer has (a JSON merge patch leaves absent fields as they were).
 */
export function statusMergePatch(prev: HealingPolicyStatus | undefined, next: HealingPolicyStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(prev ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
