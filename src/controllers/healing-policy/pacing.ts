/**
 * Pacing of the reconciles that changes of observations ask for. Pure.
 *
 * A policy is re-evaluated whenever something it reads changes (interest.ts). For a policy over a few dozen targets
 * a pass costs well under a millisecond; for a ClusterHealingPolicy over every pod of a large cluster it costs tens
 * of milliseconds of the one event loop, and while pods churn (restarts, rollouts, a crash-looping fleet) its changes
 * arrive faster than its passes end: in the scale benchmark's detection phase at 5 000 pods the cluster policy was
 * evaluated two to three times a second, and the namespaced policies whose targets were firing waited behind those
 * passes (docs/scaling.md). So the next change-driven pass of a policy starts no earlier than PACE_FACTOR times
 * its last pass's cost after that pass ended — one policy takes at most about 1/PACE_FACTOR of the loop for its
 * changes — and never more than MAX_PACE_MS later than asked. Policies whose passes take less than MIN_PACED_PASS_MS
 * are not paced at all; reconciles for other reasons (the policy or its actions changed, its requeue, the resync) are
 * not paced.
 */

/** A policy's change-driven passes are spaced by this many times the cost of its last pass. */
export const PACE_FACTOR = 20;
/** The longest a change-driven pass waits, however costly the last pass was. */
export const MAX_PACE_MS = 1000;
/**
 * Passes that took less than this are not paced: they fit in one evaluation slice (the controller yields to the event
 * loop every 10 ms), so they never held the loop longer than any other task, and pacing them could only delay
 * detection (a namespaced policy's 2–5 ms passes while the code warms up would make each change wait 40–100 ms).
 */
export const MIN_PACED_PASS_MS = 10;

/** What the last evaluation pass of a policy cost: when it ended (clock ms) and how long it held the event loop. */
export interface PassCost {
  readonly endedAt: number;
  readonly loopMs: number;
}

/**
 * How long a reconcile asked for by a change of observations waits, for a policy whose last pass cost `last`
 * (undefined: never evaluated — at once): the rest of min(factor · loopMs, maxMs) after the pass ended; 0 once that
 * has passed, and 0 after a pass shorter than MIN_PACED_PASS_MS.
 */
export function changeDelayMs(last: PassCost | undefined, now: number, factor: number = PACE_FACTOR, maxMs: number = MAX_PACE_MS): number {
  if (last === undefined || last.loopMs < MIN_PACED_PASS_MS) return 0;
  return Math.max(0, Math.min(maxMs, last.loopMs * factor) - (now - last.endedAt));
}
