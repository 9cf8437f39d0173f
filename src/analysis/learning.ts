/**
 * Learning from outcomes: per workload × trigger × action, how often the action was verified to work, how often
 * it failed, and how often the problem came back within the recurrence window after a verified success. Pure:
 * the counts are persisted elsewhere (the ledger); this module updates them and turns them into confidence.
 */

/** Outcome counts of one action for one trigger on one workload. */
export interface OutcomeStats {
  /** Verified successes (including those that later recurred). */
  readonly successes: number;
  /** Executions that failed or did not verify. */
  readonly failures: number;
  /** Verified successes after which the same trigger fired again within the recurrence window. */
  readonly recurrences: number;
}

/** Outcome counts keyed by the trigger that fired and the action taken (the workload is the caller's key). */
export interface OutcomeRecord extends OutcomeStats {
  readonly trigger: string;
  /** The action's name in the policy (or its type when it has none). */
  readonly action: string;
}

/** One observed outcome. */
export type Outcome = 'success' | 'failure' | 'recurrence';

/** No history yet. */
export const NO_OUTCOMES: OutcomeStats = { successes: 0, failures: 0, recurrences: 0 };

/**
 * The counts after one more outcome. A `recurrence` marks an earlier success as recurred (it does not count as a
 * new execution), and is ignored when there is no success left to mark.
 */
export function recordOutcome(stats: OutcomeStats, outcome: Outcome): OutcomeStats {
  switch (outcome) {
    case 'success':
      return { ...stats, successes: stats.successes + 1 };
    case 'failure':
      return { ...stats, failures: stats.failures + 1 };
    case 'recurrence':
      return stats.recurrences < stats.successes ? { ...stats, recurrences: stats.recurrences + 1 } : stats;
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/**
 * What a success that recurred within the window is worth: it bought some time, but an action whose successes keep
 * recurring is not holding, and its alternative (the escalation) should get its turn.
 */
const RECURRENCE_CREDIT = 0.25;

/** Prior weight, in executions: with 4 recorded executions the history counts as much as the rule's prior. */
const PRIOR_WEIGHT = 4;

/**
 * Moves a rule's prior confidence towards this workload's observed rate for the action: a lasting success counts
 * 1, a success that recurred ¼ (it bought time), a failure 0, with a Laplace prior (one success, one failure) so
 * that a single outcome does not swing it. The history weighs n / (n + 4) for n executions. Returns the prior
 * unchanged, with no note, when there is no record for (trigger, action).
 */
export function adjustForOutcomes(prior: number, history: readonly OutcomeRecord[], trigger: string, action: string): { confidence: number; note?: string } {
  const record = history.find((r) => r.trigger === trigger && r.action === action);
  if (record === undefined) return { confidence: prior };
  const successes = Math.max(0, record.successes);
  const failures = Math.max(0, record.failures);
  const recurrences = Math.min(Math.max(0, record.recurrences), successes);
  const n = successes + failures;
  if (n === 0) return { confidence: prior };
  const rate = (successes - recurrences + RECURRENCE_CREDIT * recurrences + 1) / (n + 2);
  const weight = n / (n + PRIOR_WEIGHT);
  const confidence = Math.min(0.99, Math.max(0.01, (1 - weight) * prior + weight * rate));
  const parts = [`${successes} of ${n} succeeded`];
  if (recurrences > 0) parts.push(`${recurrences} of those recurred`);
  return { confidence, note: `on this workload ${action} for ${trigger}: ${parts.join(', ')} (confidence ${prior.toFixed(2)} → ${confidence.toFixed(2)})` };
}
