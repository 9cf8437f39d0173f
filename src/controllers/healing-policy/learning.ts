/**
 * Outcome learning, persisted: the policy's status.learning counts, per workload × trigger × action, verified
 * successes, failures and recurrences (the trigger firing again on the same workload within the escalation window
 * after a verified success). Pure: the reconciler passes its ledger and the previous status, and writes back what
 * this returns. Counting is idempotent through two high-water marks, so a restart, a relist or a second replica
 * never counts an action twice, and the counts outlive the HealingActions themselves.
 */
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { Learning } from '../../api/v1alpha1/healing-policy.js';
import { timestampMs } from '../../k8s/time.js';
import { targetKey } from '../../metrics/types.js';
import { isoTime } from '../conditions.js';

/** Outcomes of actions completed (or created) in the last few seconds wait: the cache may not hold all of them yet. */
export const LEARNING_SETTLE_MS = 5_000;
/** Most outcome records kept per policy (the schema's limit). */
export const MAX_OUTCOME_RECORDS = 200;

type OutcomeEntry = NonNullable<Learning['outcomes']>[number];

/** The workload an action's outcome is learnt for: its recorded workload, else its target. */
export function learningWorkload(a: Pick<HealingAction, 'spec'>): string {
  return targetKey(a.spec.workloadRef ?? a.spec.targetResource);
}

/** The outcome records of one workload, for the analyzer and the ladder (trigger, action, counts). */
export function outcomesFor(learning: Learning | undefined, workload: string): OutcomeEntry[] {
  return (learning?.outcomes ?? []).filter((o) => o.workload === workload);
}

/**
 * The learning after counting what `ledger` adds since the marks in `previous`, at `now`. Counts only real
 * executions (dry runs teach nothing about the cluster). `escalationWindowMs` is how soon after a verified success a
 * new firing of the same trigger on the same workload counts as a recurrence. Returns `previous` itself (same
 * object) when nothing new was counted, so a caller can tell without comparing.
 */
export function updateLearning(previous: Learning | undefined, ledger: readonly HealingAction[], escalationWindowMs: number, now: number): Learning | undefined {
  const settled = now - LEARNING_SETTLE_MS;
  const completedMark = timestampMs(previous?.completedThrough) ?? Number.NEGATIVE_INFINITY;
  const createdMark = timestampMs(previous?.createdThrough) ?? Number.NEGATIVE_INFINITY;
  const records = new Map<string, OutcomeEntry>();
  for (const o of previous?.outcomes ?? []) records.set(`${o.workload}|${o.trigger}|${o.action}`, o);
  const touched: string[] = [];
  const bump = (a: HealingAction, field: 'successes' | 'failures' | 'recurrences', at: number): void => {
    const trigger = a.spec.trigger?.name ?? '';
    const key = `${learningWorkload(a)}|${trigger}|${a.spec.action.name}`;
    const prev = records.get(key) ?? { workload: learningWorkload(a), trigger, action: a.spec.action.name, successes: 0, failures: 0, recurrences: 0 };
    // A recurrence marks an earlier success; it can never outnumber them.
    if (field === 'recurrences' && prev.recurrences >= prev.successes) return;
    records.set(key, { ...prev, [field]: prev[field] + 1, lastOutcome: isoTime(at) });
    touched.push(key);
  };

  const real = ledger.filter((a) => a.spec.dryRun !== true);
  let completedThrough = completedMark;
  for (const a of real) {
    const phase = a.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') continue;
    const done = timestampMs(a.status?.completionTime);
    if (done === undefined || done <= completedMark || done > settled) continue;
    bump(a, phase === 'Succeeded' ? 'successes' : 'failures', done);
    completedThrough = Math.max(completedThrough, done);
  }

  let createdThrough = createdMark;
  for (const a of real) {
    const created = timestampMs(a.metadata.creationTimestamp);
    if (created === undefined || created <= createdMark || created > settled) continue;
    createdThrough = Math.max(createdThrough, created);
    const workload = learningWorkload(a);
    const trigger = a.spec.trigger?.name;
    // The latest earlier action of this policy on the same workload and trigger, verified, shortly before.
    const earlier = real
      .filter((b) => b !== a && b.status?.phase === 'Succeeded' && b.spec.trigger?.name === trigger && learningWorkload(b) === workload)
      .map((b) => ({ b, done: timestampMs(b.status?.completionTime) }))
      .filter((x): x is { b: HealingAction; done: number } => x.done !== undefined && x.done <= created && created - x.done <= escalationWindowMs)
      .sort((x, y) => y.done - x.done)[0];
    if (earlier) bump(earlier.b, 'recurrences', created);
  }

  if (touched.length === 0 && completedThrough === completedMark && createdThrough === createdMark) return previous;
  // Most recently updated first, so the cap drops what has not been seen for longest.
  const recent = [...new Set(touched.reverse())];
  const ordered = [...recent, ...[...records.keys()].filter((k) => !recent.includes(k))].map((k) => records.get(k)!);
  return {
    ...(Number.isFinite(completedThrough) ? { completedThrough: isoTime(completedThrough) } : {}),
    ...(Number.isFinite(createdThrough) ? { createdThrough: isoTime(createdThrough) } : {}),
    outcomes: ordered.slice(0, MAX_OUTCOME_RECORDS),
  };
}
