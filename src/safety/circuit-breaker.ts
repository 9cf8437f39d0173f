/**
 * Circuit breakers derived from the ledger, never from in-memory counters: the state is recomputed from
 * HealingAction outcomes on every call, so it survives restarts, agrees between replicas, and cannot be "reset on
 * every call" (the earlier implementation's defect) — there is nothing to reset.
 *
 * The ledger's outcomes are replayed in time order through the classic state machine:
 *
 *   closed ──trip──▶ open ──(last failure + openMs)──▶ half-open ──trial succeeds──▶ closed
 *                      ▲                                   │
 *                      └───────────trial fails─────────────┘
 *
 * - per policy: trips after `failureThreshold` consecutive failed verifications;
 * - global: trips when, within `windowMs`, at least `minActions` outcomes were recorded and the share that failed
 *   is ≥ `failureRate`. Closing resets its window, so old failures cannot re-trip it.
 *
 * While open, each further failure pushes the end of the open period (open until last failure + openMs); successes
 * of actions that started before the breaker opened are ignored (they are not evidence about now). In half-open,
 * only an action that started after the open period ended is a trial: its success closes the breaker; any failure
 * reopens it. Exactly one trial may be in flight.
 *
 * Only real executions count: dry runs never verify, so they are neither successes nor failures.
 */
import { formatDuration, formatInstant } from './budget.js';
import type { GlobalBreakerSettings, LedgerEntry, PolicyBreakerSettings } from './types.js';
import { IN_FLIGHT_PHASES, settledAt } from './types.js';

/** The three breaker states. */
export type BreakerPhase = 'closed' | 'open' | 'half-open';

/** A breaker's state at `now`, for the gate, the dashboard, policy conditions and metrics. */
export interface BreakerStatus {
  /** "policy <ns/name>" or "global". */
  readonly scope: string;
  readonly state: BreakerPhase;
  /**
   * When the current state began: open — when it tripped (or a trial failed); half-open — when the open period
   * ended; closed — when a trial closed it. Absent for a breaker that has never opened.
   */
  readonly since?: number;
  /** Open: when it becomes half-open. */
  readonly until?: number;
  /**
   * Failures behind the state: per policy, the current run of consecutive failed verifications; global, failures
   * in the window (at the time it tripped, while open or half-open).
   */
  readonly failures: number;
  /** Outcomes considered: per policy, all recorded; global, in the window (at trip time while not closed). */
  readonly outcomes: number;
  /** Half-open: the in-flight action that is the trial (another one must wait). */
  readonly trialInFlight?: string;
  /** One sentence for humans, with the numbers. */
  readonly message: string;
}

/** Identifies the action being evaluated, so it is never its own trial-in-flight. */
export interface ActionId {
  readonly name: string;
  readonly namespace: string;
}

interface Outcome {
  readonly at: number;
  readonly startedAt: number;
  readonly failed: boolean;
  readonly name: string;
}

interface Replay {
  readonly state: 'closed' | 'open';
  readonly since: number | undefined;
  readonly until: number;
  /** Outcomes since the breaker last closed (or since the beginning). */
  readonly history: readonly Outcome[];
  /** The history window that tripped it, for messages. */
  readonly tripWindow: readonly Outcome[];
  readonly reopenedByTrial: boolean;
}

/** Real, finished executions as outcomes, oldest first (ties by name for a deterministic replay). */
function outcomesOf(entries: readonly LedgerEntry[]): Outcome[] {
  return entries
    .filter((e) => !e.dryRun && (e.phase === 'Succeeded' || e.phase === 'Failed'))
    .map((e) => ({
      at: settledAt(e),
      startedAt: e.startedAt ?? e.createdAt,
      // A Succeeded action whose result says it did not verify is a failure: trust the worse signal.
      failed: e.phase === 'Failed' || e.verified === false,
      name: e.name,
    }))
    .sort((a, b) => a.at - b.at || a.name.localeCompare(b.name));
}

function replay(outcomes: readonly Outcome[], openMs: number, trips: (history: readonly Outcome[], at: number) => boolean): Replay {
  let state: 'closed' | 'open' = 'closed';
  let since: number | undefined;
  let until = 0;
  let history: Outcome[] = [];
  let tripWindow: readonly Outcome[] = [];
  let reopenedByTrial = false;
  for (const o of outcomes) {
    if (state === 'open') {
      if (o.at < until) {
        if (o.failed) until = o.at + openMs;
        continue;
      }
      // Half-open at o.at. Any failure reopens; only a trial (started after the open period) can close.
      if (o.failed) {
        since = o.at;
        until = o.at + openMs;
        reopenedByTrial = true;
        continue;
      }
      if (o.startedAt < until) continue;
      // The successful trial is the first outcome of the new closed period; older ones no longer count.
      state = 'closed';
      since = o.at;
      history = [o];
      continue;
    }
    history.push(o);
    if (trips(history, o.at)) {
      state = 'open';
      since = o.at;
      const lastFailure = history.reduce((t, h) => (h.failed ? Math.max(t, h.at) : t), o.at);
      until = lastFailure + openMs;
      tripWindow = [...history];
      reopenedByTrial = false;
    }
  }
  return { state, since, until, history, tripWindow, reopenedByTrial };
}

function trailingFailures(outcomes: readonly Outcome[]): number {
  let n = 0;
  for (let i = outcomes.length - 1; i >= 0 && outcomes[i]?.failed === true; i--) n++;
  return n;
}

function trialInFlight(entries: readonly LedgerEntry[], exclude: ActionId | undefined): string | undefined {
  const inFlight = entries.find(
    (e) => !e.dryRun && IN_FLIGHT_PHASES.has(e.phase) && !(exclude !== undefined && e.name === exclude.name && e.namespace === exclude.namespace),
  );
  return inFlight?.name;
}

function withOptional(base: Omit<BreakerStatus, 'since' | 'until' | 'trialInFlight'>, since: number | undefined, until: number | undefined, trial: string | undefined): BreakerStatus {
  return {
    ...base,
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(trial === undefined ? {} : { trialInFlight: trial }),
  };
}

/**
 * The circuit breaker of policy `policy` ("namespace/name") at `now`, from the ledger. A failureThreshold of 0 or
 * less disables it (always closed). `exclude` is the action being evaluated, never counted as the trial in flight.
 */
export function evaluatePolicyBreaker(
  ledger: readonly LedgerEntry[],
  policy: string,
  settings: PolicyBreakerSettings,
  now: number,
  exclude?: ActionId,
): BreakerStatus {
  const scope = `policy ${policy}`;
  const entries = ledger.filter((e) => e.policy === policy);
  const outcomes = outcomesOf(entries);
  const failures = trailingFailures(outcomes);
  const threshold = settings.failureThreshold;
  if (threshold <= 0) {
    return { scope, state: 'closed', failures, outcomes: outcomes.length, message: `circuit for ${scope} is disabled (failureThreshold ${threshold})` };
  }
  const r = replay(outcomes, settings.openMs, (history) => trailingFailures(history) >= threshold);
  const base = { scope, failures, outcomes: outcomes.length };
  if (r.state === 'closed') {
    const message =
      failures === 0
        ? `circuit for ${scope} is closed (opens after ${threshold} consecutive failed verifications)`
        : `circuit for ${scope} is closed: ${failures} consecutive failed verification${failures === 1 ? '' : 's'} (opens at ${threshold})`;
    return withOptional({ ...base, state: 'closed', message }, r.since, undefined, undefined);
  }
  const cause = r.reopenedByTrial
    ? `the trial action failed verification`
    : `${failures} consecutive failed verifications (threshold ${threshold})`;
  if (now < r.until) {
    const message = `circuit for ${scope} is open: ${cause}; half-opens at ${formatInstant(r.until, now)} (in ${formatDuration(r.until - now)})`;
    return withOptional({ ...base, state: 'open', message }, r.since, r.until, undefined);
  }
  return halfOpen(base, scope, r.until, now, trialInFlight(entries, exclude));
}

/**
 * The operator-wide circuit breaker at `now`, from the whole ledger: opens on the verification-failure rate (see the
 * module comment). `minActions` below 1 is treated as 1 (a rate of nothing is not a rate); a failureRate above 1
 * never trips. `exclude` is the action being evaluated.
 */
export function evaluateGlobalBreaker(
  ledger: readonly LedgerEntry[],
  settings: GlobalBreakerSettings,
  now: number,
  exclude?: ActionId,
): BreakerStatus {
  const scope = 'global';
  const outcomes = outcomesOf(ledger);
  const minActions = Math.max(1, settings.minActions);
  const inWindow = (history: readonly Outcome[], at: number): readonly Outcome[] => history.filter((h) => h.at > at - settings.windowMs);
  const r = replay(outcomes, settings.openMs, (history, at) => {
    const w = inWindow(history, at);
    return w.length >= minActions && w.filter((h) => h.failed).length / w.length >= settings.failureRate;
  });
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const window = formatDuration(settings.windowMs);
  if (r.state === 'closed') {
    const w = inWindow(r.history, now);
    const failures = w.filter((h) => h.failed).length;
    const message = `global circuit is closed: ${failures} of ${w.length} actions failed verification in the last ${window} (opens at ${pct(settings.failureRate)} of at least ${minActions})`;
    return withOptional({ scope, state: 'closed', failures, outcomes: w.length, message }, r.since, undefined, undefined);
  }
  const trip = inWindow(r.tripWindow, r.tripWindow.at(-1)?.at ?? now);
  const failures = trip.filter((h) => h.failed).length;
  const base = { scope, failures, outcomes: trip.length };
  const cause = r.reopenedByTrial
    ? 'the trial action failed verification'
    : `${failures} of ${trip.length} actions failed verification within ${window} (${pct(failures / Math.max(1, trip.length))} ≥ ${pct(settings.failureRate)})`;
  if (now < r.until) {
    const message = `global circuit is open: ${cause}; half-opens at ${formatInstant(r.until, now)} (in ${formatDuration(r.until - now)})`;
    return withOptional({ ...base, state: 'open', message }, r.since, r.until, undefined);
  }
  return halfOpen(base, scope, r.until, now, trialInFlight(ledger, exclude));
}

function halfOpen(
  base: { scope: string; failures: number; outcomes: number },
  scope: string,
  since: number,
  now: number,
  trial: string | undefined,
): BreakerStatus {
  const circuit = scope === 'global' ? 'global circuit' : `circuit for ${scope}`;
  const message =
    trial === undefined
      ? `${circuit} is half-open since ${formatInstant(since, now)}: one trial action may run; its success closes the circuit, a failure reopens it`
      : `${circuit} is half-open since ${formatInstant(since, now)}: trial action ${trial} is in flight; nothing else runs until it is verified`;
  return withOptional({ ...base, state: 'half-open', message }, since, undefined, trial);
}
