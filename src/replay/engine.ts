/**
 * Policy replay, pure: steps a simulated clock through recorded history and, at every step, asks the same pure
 * functions the operator asks — evaluateTriggers for each target, then decidePolicy for the policy — and keeps the
 * ledger a real run would have written: cooldowns, the escalation ladder, and the policy's hourly budget
 * (maxActionsPerHour) and protectedResources, which refuse what they would refuse.
 *
 * What it assumes, because history cannot say: each action executes at once and is verified (so a recurrence
 * escalates, as after a real verified action), approvals are given, and the data after an action is what happened
 * without it. Global budgets, circuit breakers, PDBs and disruption budgets depend on the live cluster at that
 * moment and are not simulated.
 */
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { decidePolicy, type ActionHistoryEntry } from '../controllers/healing-policy/decide.js';
import type { SelectedTarget } from '../controllers/healing-policy/select.js';
import { RESTART_RATE_WINDOW_MS, restartsInWindow } from '../metrics/collectors/kube-status.js';
import { targetKey, type ConditionState, type Sample, type TargetObservations, type TargetRef } from '../metrics/types.js';
import { budgetUsage } from '../safety/budget.js';
import { hasProtectedAnnotation, matchesProtectedResource } from '../safety/rules.js';
import { parseDuration } from '../triggers/duration.js';
import { EVENTS_UNAVAILABLE_KEY, evaluateTriggers, type EvaluateOptions, type TriggerState } from '../triggers/evaluate.js';

/** One target's history. */
export interface ReplayTarget {
  readonly target: SelectedTarget;
  /** Metric (built-in name, or the PromQL query text of a PromQL trigger) → samples, ascending. */
  readonly series: ReadonlyMap<string, readonly Sample[]>;
  /** Condition type → samples whose value above 0 means True, ascending. */
  readonly conditions: ReadonlyMap<string, readonly Sample[]>;
}

/** What to replay. */
export interface ReplayInput {
  /** The policy, validated and defaulted. */
  readonly policy: AnyPolicy;
  readonly targets: readonly ReplayTarget[];
  /** ms since the epoch; both inclusive. */
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly escalationWindowMs: number;
  /** Data that could not be read for any target (a failed query, event triggers): metric → why. */
  readonly unavailable: ReadonlyMap<string, string>;
  /** Called now and then with the steps done so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What would have happened at one step on one target. */
export interface ReplayEvent {
  readonly at: number;
  readonly target: TargetRef;
  readonly trigger: string;
  /** The trigger's sentence ("restart_count 4 > 3"). */
  readonly reason: string;
  readonly observedValue?: number;
  /**
   * action: a HealingAction would have been created and executed; blocked: created, then refused by the gate;
   * monitor: the policy is in monitor mode, so only an Event; no-action: no action of the policy fits the target.
   */
  readonly outcome: 'action' | 'blocked' | 'monitor' | 'no-action';
  readonly action?: string;
  readonly actionType?: string;
  /** 0-based rung of the ladder. */
  readonly rung?: number;
  readonly dryRun?: boolean;
  /** The action would have waited for a person (assumed approved). */
  readonly approval?: boolean;
  readonly rationale?: string;
  readonly blockedReason?: 'RateLimited' | 'Protected';
  readonly message?: string;
}

/** Totals of a replay. */
export interface ReplaySummary {
  readonly steps: number;
  readonly targets: number;
  /** Firings that led to a decision (actions, blocked, monitor, no-action); cooldowns suppress the rest. */
  readonly firings: number;
  readonly actions: number;
  readonly actionsByType: Readonly<Record<string, number>>;
  readonly blocked: Readonly<Record<string, number>>;
  readonly monitored: number;
  readonly noAction: number;
  /** When the policy's budget first refused an action. */
  readonly firstBudgetBlockAt?: number;
  /** Triggers that could not be evaluated, with why and on how many target-steps. */
  readonly unknown: readonly { readonly trigger: string; readonly reason: string; readonly count: number }[];
}

/** The outcome of a replay. */
export interface ReplayResult {
  readonly events: readonly ReplayEvent[];
  readonly summary: ReplaySummary;
}

/**
 * Staleness and gap limits for history sampled every `stepMs`: a few steps, and never below the operator's own
 * (two minutes), so a step size coarser than the collectors' does not make every value look stale.
 */
export function replayEvaluateOptions(stepMs: number): EvaluateOptions {
  return { maxSampleAgeMs: Math.max(120_000, 3 * stepMs), maxSampleGapMs: Math.max(120_000, 3 * stepMs) };
}

/** Index of the first sample with `at > t` (samples ascending). */
function upperBound(samples: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (samples[mid]!.at <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How much history a step's evaluation needs: the longest duration or lookback of the policy's triggers, plus
 * margins. The caller fetches this much before `from`, so the first steps see what the operator would have seen.
 */
export function historyNeededMs(policy: AnyPolicy, options: EvaluateOptions): number {
  let longest = RESTART_RATE_WINDOW_MS;
  for (const t of policy.spec.triggers) {
    const d = t.metricTrigger?.duration ?? t.conditionTrigger?.duration ?? t.predictiveTrigger?.lookback ?? t.eventTrigger?.window ?? '0s';
    try {
      longest = Math.max(longest, parseDuration(d));
    } catch {
      // An invalid duration makes the trigger unknown in evaluation; nothing to size here.
    }
  }
  return longest + 2 * Math.max(options.maxSampleGapMs, options.maxSampleAgeMs);
}

/** The condition at `t` from 0/1 samples: its status and since when, or undefined when there is no fresh sample. */
function conditionAt(samples: readonly Sample[], t: number, maxAgeMs: number): ConditionState | undefined {
  const i = upperBound(samples, t) - 1;
  const last = samples[i];
  if (last === undefined || t - last.at > maxAgeMs) return undefined;
  const holds = last.value > 0;
  let start = i;
  while (start > 0 && samples[start - 1]!.value > 0 === holds) start--;
  return { status: holds ? 'True' : 'False', since: samples[start]!.at };
}

/**
 * Replays `input.policy` over the targets' history. Deterministic; never reads the clock. The policy's mode is
 * honoured (monitor: only "would act"; dryrun: dry-run actions, which count against the policy's budget as the gate
 * counts them).
 */
export function replayPolicy(input: ReplayInput): ReplayResult {
  const { policy, stepMs } = input;
  const options = replayEvaluateOptions(stepMs);
  const needsRate = policy.spec.triggers.some((t) => t.metricTrigger?.query === 'restart_rate');
  const historyMs = historyNeededMs(policy, options);
  const maxPerHour = policy.spec.safetyRules?.maxActionsPerHour ?? 5;
  const protectedRules = policy.spec.safetyRules?.protectedResources ?? [];
  const steps = Math.floor((input.to - input.from) / stepMs) + 1;
  const total = steps * Math.max(1, input.targets.length);
  const progressEvery = Math.max(1, Math.floor(steps / 20));

  const events: ReplayEvent[] = [];
  const history = new Map<string, ActionHistoryEntry[]>();
  const lastFired = new Map<string, Map<string, number>>();
  const executedTimes: number[] = [];
  const unknown = new Map<string, { trigger: string; reason: string; count: number }>();
  let seq = 0;

  for (let i = 0; i < steps; i++) {
    const now = input.from + i * stepMs;
    const evaluated = input.targets.map(({ target, series, conditions }) => {
      const window = new Map<string, readonly Sample[]>();
      for (const [metric, samples] of series) window.set(metric, samples.slice(upperBound(samples, now - historyMs), upperBound(samples, now)));
      // restart_rate as the operator computes it, unless a PromQL query supplied it.
      if (needsRate && !series.has('restart_rate') && series.has('restart_count')) {
        const counts = window.get('restart_count') ?? [];
        const rates = counts.map((s) => ({ at: s.at, value: restartsInWindow(counts.filter((c) => c.at <= s.at), s.at, RESTART_RATE_WINDOW_MS) }));
        window.set('restart_rate', rates);
      }
      const conds = new Map<string, ConditionState>();
      for (const [type, samples] of conditions) {
        const c = conditionAt(samples, now, options.maxSampleAgeMs);
        if (c) conds.set(type, c);
      }
      const observations: TargetObservations = { target: target.ref, series: window, conditions: conds, events: [], unavailable: input.unavailable };
      const states = new Map<string, TriggerState>();
      for (const [trigger, at] of lastFired.get(targetKey(target.ref)) ?? []) states.set(trigger, { lastFiredAt: at });
      const evaluations = evaluateTriggers(policy.spec.triggers, observations, states, now, options);
      for (const r of evaluations.results) {
        if (r.status !== 'unknown') continue;
        const key = `${r.trigger}\u0000${r.code === 'no-data' ? 'no data for this target' : r.reason}`;
        const u = unknown.get(key) ?? { trigger: r.trigger, reason: r.code === 'no-data' ? 'no data for some targets at some steps' : r.reason, count: 0 };
        u.count++;
        unknown.set(key, u);
      }
      return { target, evaluations };
    });

    const decision = decidePolicy({ policy, now, targets: evaluated, history, recentlyCreated: new Set(), forceDryRun: false, escalationWindowMs: input.escalationWindowMs });
    for (const h of decision.held) {
      if (h.reason === 'InFlight') continue;
      // The operator repeats a "would act" Event on every evaluation while the trigger holds; replay reports one per
      // firing and spaces them by the trigger's cooldown, as if the action had been taken — what the policy would do.
      const key = targetKey(h.target.ref);
      const fired = lastFired.get(key) ?? new Map<string, number>();
      fired.set(h.firing.trigger, now);
      lastFired.set(key, fired);
      events.push({
        at: now,
        target: h.target.ref,
        trigger: h.firing.trigger,
        reason: h.firing.reason,
        ...(h.firing.observedValue === undefined ? {} : { observedValue: h.firing.observedValue }),
        outcome: h.reason === 'Monitoring' ? 'monitor' : 'no-action',
        message: h.message,
      });
    }
    for (const p of decision.proposals) {
      const key = targetKey(p.target.ref);
      const name = `replay-${seq++}`;
      const fired = lastFired.get(key) ?? new Map<string, number>();
      lastFired.set(key, fired);
      const base = {
        at: now,
        target: p.target.ref,
        trigger: p.firing.trigger,
        reason: p.firing.reason,
        ...(p.firing.observedValue === undefined ? {} : { observedValue: p.firing.observedValue }),
        action: p.action.name,
        actionType: p.action.type,
        rung: p.escalationLevel,
        dryRun: p.dryRun,
        approval: p.approvalRequired,
        rationale: p.rationale,
      };
      const protectedBy = hasProtectedAnnotation(p.target.annotations)
        ? 'annotated kubeskippy.io/protected: "true"'
        : protectedRules.findIndex((r) => matchesProtectedResource(r, { ref: p.target.ref, labels: p.target.labels }));
      const usage = budgetUsage(executedTimes, maxPerHour, now);
      let blocked: { reason: 'RateLimited' | 'Protected'; message: string } | undefined;
      if (typeof protectedBy === 'string' || protectedBy >= 0) {
        blocked = { reason: 'Protected', message: typeof protectedBy === 'string' ? `the target is ${protectedBy}` : `safetyRules.protectedResources[${protectedBy}] covers the target` };
      } else if (usage.remaining <= 0) {
        blocked = {
          reason: 'RateLimited',
          message: `the policy used ${usage.used} of ${maxPerHour} actions in the last hour${usage.nextSlotAt === undefined ? '' : `; next slot at ${new Date(usage.nextSlotAt).toISOString().replace('.000Z', 'Z')}`}`,
        };
      }
      if (blocked) {
        events.push({ ...base, outcome: 'blocked', blockedReason: blocked.reason, message: blocked.message });
        // A blocked action did nothing: its rung is tried again, and the firing is spaced out from its creation.
        history.set(key, [...(history.get(key) ?? []), { name, actionName: p.action.name, escalationLevel: p.escalationLevel, phase: 'Blocked', createdAt: now, dryRun: p.dryRun }]);
        fired.set(p.firing.trigger, now);
        continue;
      }
      events.push({ ...base, outcome: 'action' });
      executedTimes.push(now);
      history.set(key, [...(history.get(key) ?? []), { name, actionName: p.action.name, escalationLevel: p.escalationLevel, phase: 'Succeeded', createdAt: now, dryRun: p.dryRun }]);
      fired.set(p.firing.trigger, now);
    }
    if (input.onProgress && (i % progressEvery === 0 || i === steps - 1)) input.onProgress((i + 1) * Math.max(1, input.targets.length), total);
  }

  const count = (o: ReplayEvent['outcome']): number => events.filter((e) => e.outcome === o).length;
  const tally = (key: (e: ReplayEvent) => string | undefined, list: readonly ReplayEvent[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const e of list) {
      const k = key(e);
      if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  const firstBudget = events.find((e) => e.blockedReason === 'RateLimited')?.at;
  return {
    events,
    summary: {
      steps,
      targets: input.targets.length,
      firings: events.length,
      actions: count('action'),
      actionsByType: tally((e) => e.actionType, events.filter((e) => e.outcome === 'action')),
      blocked: tally((e) => e.blockedReason, events.filter((e) => e.outcome === 'blocked')),
      monitored: count('monitor'),
      noAction: count('no-action'),
      ...(firstBudget === undefined ? {} : { firstBudgetBlockAt: firstBudget }),
      unknown: [...unknown.values()].sort((a, b) => b.count - a.count),
    },
  };
}

/** Why event triggers cannot be replayed (Kubernetes Events are not kept in Prometheus). */
export const EVENTS_NOT_REPLAYABLE: readonly [string, string] = [EVENTS_UNAVAILABLE_KEY, 'Kubernetes Events are not kept in Prometheus: event triggers cannot be replayed'];
