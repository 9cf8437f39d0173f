/**
 * Pure trigger evaluation for one target: (trigger, observations, ledger state, now) → a decision with the exact
 * time it could change. No clock, no I/O, no mutation of inputs (the only module state is a bounded cache of
 * compiled regular expressions), and no throwing on bad input: a trigger the API should have rejected comes back
 * as `unknown` with code `invalid-trigger`, so one bad trigger never hides the others.
 *
 * Why these semantics (each fixes a defect of the earlier attempt listed in PRODUCT.md):
 * - `duration` is measured from the observations themselves (first breaching sample after the last good one,
 *   continuity broken by gaps), so "for 3m" means three observed minutes and a restart of the operator loses
 *   nothing that the series store kept;
 * - a metric that could not be read is `unknown` with the collector's reason, never a quiet `clear`;
 * - event reasons are full-match regular expressions; condition triggers honour `status` and `duration`;
 * - predictive triggers are a real least-squares fit with R² as the confidence.
 */
import { COMPARISON_OPERATORS } from '../api/v1alpha1/common.js';
import type { Trigger } from '../api/v1alpha1/healing-policy.js';
import type { EventOccurrence, Sample, TargetObservations } from '../metrics/types.js';
import { compare, negateOperator } from './compare.js';
import { InvalidDurationError, formatDuration, parseDuration } from './duration.js';
import { compileFullMatch, InvalidPatternError, type FullMatcher } from './pattern.js';
import { assessSeries } from '../analysis/assess.js';
import type { AssessOptions, Assessment, SeriesInput } from '../analysis/types.js';

/** The four trigger types of the API. */
export type TriggerType = Trigger['type'];

/**
 * The API's defaults for omitted trigger fields. Evaluation applies them itself so that it gives the same answer
 * whether or not the policy went through defaulting; a test keeps them equal to the schema's `default`s.
 */
export const TRIGGER_DEFAULTS = {
  cooldownPeriod: '5m',
  metric: { operator: '>', duration: '0s' },
  event: { count: 1, window: '5m' },
  condition: { status: 'True', duration: '0s' },
  predictive: {
    metric: 'memory_usage_percent',
    method: 'analyzer',
    threshold: 100,
    horizon: '30m',
    minConfidence: 0.7,
    lookback: '1h',
    minHistory: '8m',
    minSamples: 5,
  },
} as const;

/**
 * Key of `TargetObservations.unavailable` under which a collector reports that Events could not be read for the
 * target (informer down, RBAC): an event trigger below its count then says `unknown` instead of `clear`.
 */
export const EVENTS_UNAVAILABLE_KEY = 'events';

/** What the ledger knows about one trigger on one target. */
export interface TriggerState {
  /**
   * When the cooldown of the last HealingAction for this policy + trigger + target starts (ms), if any: the policy
   * controller passes its completion for an executed action, its creation for one that never executed.
   */
  readonly lastFiredAt?: number;
}

/** Tuning that depends on how often the collectors sample, not on the policy. */
export interface EvaluateOptions {
  /**
   * A metric whose latest sample is older than this (now − at) is `unknown` (stale): the collector stopped
   * delivering, and the last value says nothing about now. Set to a few collection intervals.
   */
  readonly maxSampleAgeMs: number;
  /**
   * Two consecutive samples further apart than this break a breach: nobody saw what happened in between, so
   * "continuously for 3m" cannot be claimed across the gap. Set to a few collection intervals.
   */
  readonly maxSampleGapMs: number;
  /**
   * The series assessment the predictive trigger uses (default: the analyzer's assessSeries). A reconciler passes a
   * memoised one (createAssessmentCache) so that a series that has not changed is not assessed again.
   */
  readonly assess?: (input: SeriesInput, options: AssessOptions) => Assessment;
}

/** Defaults for a 15–30 s collection interval (metrics-server's resolution). */
export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = { maxSampleAgeMs: 120_000, maxSampleGapMs: 120_000 };

/** Why a trigger's state could not be determined. */
export type UnknownCode =
  /** No sample / no condition / nothing recorded, and no collector explanation. */
  | 'no-data'
  /** The collector said why it could not read the data (observations.unavailable). */
  | 'unavailable'
  /** The latest sample is older than maxSampleAgeMs. */
  | 'stale'
  /** Too few samples to fit a trend (predictive). */
  | 'insufficient-data'
  /** The trigger's settings cannot be evaluated (bad duration, regex, operator) — validation should have caught it. */
  | 'invalid-trigger';

/** A predictive trigger's fit, reported for firing and clear results alike so the dashboard can show it. */
export interface Forecast {
  /** Samples used (within lookback, at or before now). */
  readonly samples: number;
  /** Slope in metric units per minute (the analyzer's at now; the least-squares line's for `linear`). */
  readonly slopePerMinute: number;
  /** `linear` only: coefficient of determination of the fit, 0..1 (1 = samples exactly on a line). */
  readonly rSquared?: number;
  /** `analyzer` only: the whole assessment (pattern, calibrated confidence, interval, reasoning, forecast points). */
  readonly assessment?: Assessment;
  /** The fitted value at the latest sample's time (the forecast's starting point). */
  readonly fittedValue: number;
  /** When the fitted line reaches the threshold (ms), if it rises; undefined when flat or falling. */
  readonly crossingAt?: number;
  /** crossingAt − now, never below 0; undefined when flat or falling. */
  readonly etaMs?: number;
}

interface EvaluationBase {
  /** The trigger's name. */
  readonly trigger: string;
  readonly type: TriggerType;
  /** One human sentence with the numbers ("memory_usage_percent 91% > 85% for 3m10s (needs 3m)"). */
  readonly reason: string;
  /**
   * When the sample this verdict was judged on grows too old and the result would turn `unknown` (stale) by time
   * alone (metric and predictive triggers). checkAtOf() takes it into account.
   */
  readonly staleAt?: number;
}

/** The trigger holds for this target now. */
export interface TriggerFiring extends EvaluationBase {
  readonly status: 'firing';
  /** When the trigger started to hold (metric/condition: breachSince + duration; event: count reached). */
  readonly since: number;
  /** Start of the continuous breach (metric, condition, predictive already over threshold). */
  readonly breachSince?: number;
  /** The reading compared (metric value, event count, current value for predictive). */
  readonly observedValue?: number;
  /** What it was compared with (threshold, required count). */
  readonly threshold?: number;
  /** Observations that made it fire, as strings (for HealingAction.spec.trigger.values). */
  readonly values: Readonly<Record<string, string>>;
  /** When the result may change by the passage of time alone (event: oldest counted event leaves the window). */
  readonly checkAt?: number;
  readonly forecast?: Forecast;
}

/** The breach holds but not yet for long enough; it fires at `checkAt` if it still holds then. */
export interface TriggerPending extends EvaluationBase {
  readonly status: 'pending';
  readonly breachSince: number;
  /** The exact time it could fire: breachSince + duration, or the end of a cooldown if later. */
  readonly checkAt: number;
  readonly observedValue?: number;
  readonly threshold?: number;
  readonly values: Readonly<Record<string, string>>;
  /** Set when a cooldown ends after breachSince + duration and so postpones checkAt. */
  readonly cooldownUntil?: number;
}

/** The trigger does not hold, judged on adequate data. */
export interface TriggerClear extends EvaluationBase {
  readonly status: 'clear';
  /** When it could start to hold by time alone (predictive: trend enters the horizon), if known. */
  readonly checkAt?: number;
  readonly observedValue?: number;
  readonly threshold?: number;
  readonly values?: Readonly<Record<string, string>>;
  readonly forecast?: Forecast;
}

/** The trigger holds but fired on this target within its cooldownPeriod; nothing may be done before `until`. */
export interface TriggerCooldown extends EvaluationBase {
  readonly status: 'cooldown';
  readonly until: number;
  readonly lastFiredAt: number;
  /** The firing that the cooldown suppresses. */
  readonly firing: TriggerFiring;
}

/** The state cannot be known from the observations; `reason` says why (never reported as clear). */
export interface TriggerUnknown extends EvaluationBase {
  readonly status: 'unknown';
  readonly code: UnknownCode;
  readonly observedValue?: number;
  readonly values?: Readonly<Record<string, string>>;
}

/** The result of evaluating one trigger on one target. Discriminated by `status`. */
export type TriggerEvaluation = TriggerFiring | TriggerPending | TriggerClear | TriggerCooldown | TriggerUnknown;

/** Results of all triggers of a policy on one target, plus the caller's requeue time. */
export interface TriggerEvaluations {
  /** One result per trigger, in the order given. */
  readonly results: readonly TriggerEvaluation[];
  /** The firing ones (cooldown excluded), in the order given. */
  readonly firing: readonly TriggerFiring[];
  /** Earliest checkAtOf() over the results: re-evaluate this target then. Undefined: nothing time-based pending. */
  readonly checkAt?: number;
}

/** Settings the API should have rejected; turned into an `unknown` result at the top of evaluateTrigger. */
class InvalidTriggerSetting extends Error {}

/** Longest metric name / query quoted in a reason; PromQL can be 4 KiB and the API field holds 1 KiB. */
const MAX_NAME_IN_TEXT = 120;
/** HealingAction values are a map of strings of at most 1 KiB each. */
const MAX_VALUE_LENGTH = 1024;

/**
 * Evaluates one trigger for one target at `now`. Never reads the clock. Does not throw for bad settings (bad
 * duration, regex, operator, missing settings block): those give `unknown` / `invalid-trigger`; an exception
 * escaping would be a bug in this module.
 *
 * Order: the trigger's own condition is evaluated from `observations`; a firing result is then turned into
 * `cooldown` when `state.lastFiredAt + cooldownPeriod > now`, and a pending result's checkAt moves to the end of
 * the cooldown if that is later (it cannot fire before). Unknown and clear results are not masked by a cooldown.
 * Samples and events timestamped after `now` are ignored, so the same function replays recorded history.
 */
export function evaluateTrigger(
  trigger: Trigger,
  observations: TargetObservations,
  state: TriggerState | undefined,
  now: number,
  options: EvaluateOptions = DEFAULT_EVALUATE_OPTIONS,
): TriggerEvaluation {
  const base = { trigger: trigger.name, type: trigger.type };
  try {
    const result = evaluateCondition(trigger, observations, now, options);
    return applyCooldown(result, trigger, state, now);
  } catch (e: unknown) {
    if (e instanceof InvalidTriggerSetting || e instanceof InvalidDurationError) {
      return { ...base, status: 'unknown', code: 'invalid-trigger', reason: `trigger ${trigger.name} cannot be evaluated: ${e.message}` };
    }
    throw e;
  }
}

/**
 * Evaluates every trigger of a policy for one target. `states` is keyed by trigger name (missing: never fired).
 * Returns the results in order, the firing subset, and the earliest time any result may change — the caller's
 * requeue time for this target.
 */
export function evaluateTriggers(
  triggers: readonly Trigger[],
  observations: TargetObservations,
  states: ReadonlyMap<string, TriggerState>,
  now: number,
  options: EvaluateOptions = DEFAULT_EVALUATE_OPTIONS,
): TriggerEvaluations {
  const results = triggers.map((t) => evaluateTrigger(t, observations, states.get(t.name), now, options));
  const firing = results.filter((r): r is TriggerFiring => r.status === 'firing');
  let checkAt: number | undefined;
  for (const r of results) {
    const at = checkAtOf(r);
    if (at !== undefined && (checkAt === undefined || at < checkAt)) checkAt = at;
  }
  return checkAt === undefined ? { results, firing } : { results, firing, checkAt };
}

/**
 * When a result may change by the passage of time alone: the earlier of its staleAt and its own time (pending,
 * clear, firing: checkAt; cooldown: until, or its firing's staleAt).
 */
export function checkAtOf(evaluation: TriggerEvaluation): number | undefined {
  switch (evaluation.status) {
    case 'pending':
    case 'firing':
    case 'clear':
      return earliest(evaluation.checkAt, evaluation.staleAt);
    case 'cooldown':
      return earliest(evaluation.until, evaluation.firing.staleAt);
    case 'unknown':
      return undefined;
    default: {
      const unreachable: never = evaluation;
      return unreachable;
    }
  }
}

/** The earlier of two optional times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatch and cooldown

type Uncooled = TriggerFiring | TriggerPending | TriggerClear | TriggerUnknown;

function evaluateCondition(trigger: Trigger, obs: TargetObservations, now: number, options: EvaluateOptions): Uncooled {
  const base = { trigger: trigger.name, type: trigger.type };
  switch (trigger.type) {
    case 'metric': {
      const s = trigger.metricTrigger;
      if (s === undefined) throw new InvalidTriggerSetting('a metric trigger needs metricTrigger');
      return untilStale(evaluateMetric(base, s, obs, now, options), obs.series.get(s.query), now, options);
    }
    case 'event': {
      const s = trigger.eventTrigger;
      if (s === undefined) throw new InvalidTriggerSetting('an event trigger needs eventTrigger');
      return evaluateEvent(base, s, obs, now);
    }
    case 'condition': {
      const s = trigger.conditionTrigger;
      if (s === undefined) throw new InvalidTriggerSetting('a condition trigger needs conditionTrigger');
      return evaluateConditionTrigger(base, s, obs, now);
    }
    case 'predictive': {
      const s = trigger.predictiveTrigger ?? {};
      return untilStale(evaluatePredictive(base, s, obs, now, options), obs.series.get(s.metric ?? TRIGGER_DEFAULTS.predictive.metric), now, options);
    }
    default: {
      const unreachable: never = trigger.type;
      throw new InvalidTriggerSetting(`unknown trigger type ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * A verdict judged on a series' latest sample changes by time alone when that sample grows too old (the result
 * turns `unknown`, stale): records that moment as staleAt, so a caller that re-evaluates at checkAtOf() needs no
 * periodic safety net to notice a collector that stopped. Unknown results are returned as they are.
 */
function untilStale(result: Uncooled, series: readonly Sample[] | undefined, now: number, options: EvaluateOptions): Uncooled {
  if (result.status === 'unknown' || series === undefined) return result;
  // The last usable sample (a sample after now is not seen yet). The series is ascending by contract; were it not,
  // this may be an earlier sample than the latest, and the re-evaluation merely comes early.
  let latest: Sample | undefined;
  for (let i = series.length - 1; i >= 0 && latest === undefined; i--) {
    const p = series[i] as Sample;
    if (Number.isFinite(p.at) && p.at <= now && !Number.isNaN(p.value)) latest = p;
  }
  if (latest === undefined) return result;
  return { ...result, staleAt: latest.at + options.maxSampleAgeMs + 1 };
}

function applyCooldown(result: Uncooled, trigger: Trigger, state: TriggerState | undefined, now: number): TriggerEvaluation {
  const cooldownMs = parseDuration(trigger.cooldownPeriod ?? TRIGGER_DEFAULTS.cooldownPeriod);
  const last = state?.lastFiredAt;
  if (last === undefined || !Number.isFinite(last)) return result;
  const until = last + cooldownMs;
  if (until <= now) return result;
  const timing = `fired ${formatDuration(now - last)} ago, cooldown ${formatDuration(cooldownMs)}, ends in ${formatDuration(until - now)}`;
  switch (result.status) {
    case 'firing':
      return {
        trigger: result.trigger,
        type: result.type,
        status: 'cooldown',
        until,
        lastFiredAt: last,
        firing: result,
        reason: `in cooldown (${timing}): ${result.reason}`,
      };
    case 'pending':
      return until > result.checkAt
        ? { ...result, checkAt: until, cooldownUntil: until, reason: `${result.reason}; in cooldown (${timing})` }
        : result;
    case 'clear':
    case 'unknown':
      return result;
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// metric

type Base = { readonly trigger: string; readonly type: TriggerType };
type MetricSettings = NonNullable<Trigger['metricTrigger']>;

function evaluateMetric(base: Base, s: MetricSettings, obs: TargetObservations, now: number, options: EvaluateOptions): Uncooled {
  const operator = s.operator ?? TRIGGER_DEFAULTS.metric.operator;
  if (!(COMPARISON_OPERATORS as readonly string[]).includes(operator)) {
    throw new InvalidTriggerSetting(`unknown operator ${JSON.stringify(operator)}`);
  }
  if (!Number.isFinite(s.threshold)) throw new InvalidTriggerSetting(`threshold ${String(s.threshold)} is not a finite number`);
  const durationText = s.duration ?? TRIGGER_DEFAULTS.metric.duration;
  const durationMs = parseDuration(durationText);
  const name = clip(s.query, MAX_NAME_IN_TEXT);
  const fmt = (v: number): string => formatValue(s.query, v);

  const fresh = latestFreshSample(base, s.query, obs, now, options);
  if (fresh.status === 'unknown') return fresh;
  const { samples, latest } = fresh;

  const values: Record<string, string> = {
    query: clip(s.query, MAX_VALUE_LENGTH),
    value: String(latest.value),
    operator,
    threshold: String(s.threshold),
    duration: durationText,
  };
  const breaches = (v: number): boolean => compare(v, operator, s.threshold);

  if (!breaches(latest.value)) {
    return {
      ...base,
      status: 'clear',
      observedValue: latest.value,
      threshold: s.threshold,
      values,
      reason: `${name} ${fmt(latest.value)} ${negateOperator(operator)} ${fmt(s.threshold)}, not ${operator} ${fmt(s.threshold)}`,
    };
  }

  const breachSince = breachStart(samples, breaches, options.maxSampleGapMs);
  const held = Math.max(0, now - breachSince);
  values['heldFor'] = formatDuration(held);
  const head = `${name} ${fmt(latest.value)} ${operator} ${fmt(s.threshold)}`;
  if (held >= durationMs) {
    return {
      ...base,
      status: 'firing',
      since: breachSince + durationMs,
      breachSince,
      observedValue: latest.value,
      threshold: s.threshold,
      values,
      reason: durationMs === 0 ? head : `${head} for ${formatDuration(held)} (needs ${formatDuration(durationMs)})`,
    };
  }
  return {
    ...base,
    status: 'pending',
    breachSince,
    checkAt: breachSince + durationMs,
    observedValue: latest.value,
    threshold: s.threshold,
    values,
    reason: `${head} for ${formatDuration(held)}, fires if it holds ${formatDuration(durationMs)} (${formatDuration(breachSince + durationMs - now)} more)`,
  };
}

/**
 * Usable samples of a series (finite time, non-NaN value, at ≤ now, ascending) and the latest one if it is fresh;
 * otherwise the `unknown` result saying why, quoting the collector's reason when it gave one.
 */
function latestFreshSample(
  base: Base,
  metric: string,
  obs: TargetObservations,
  now: number,
  options: EvaluateOptions,
): { status: 'ok'; samples: readonly Sample[]; latest: Sample } | TriggerUnknown {
  const samples = usableSamples(obs.series.get(metric) ?? [], now);
  const unavailable = obs.unavailable.get(metric);
  const name = clip(metric, MAX_NAME_IN_TEXT);
  const latest = samples.at(-1);
  if (latest === undefined) {
    return unavailable === undefined
      ? { ...base, status: 'unknown', code: 'no-data', reason: `no samples of ${name} for this target` }
      : { ...base, status: 'unknown', code: 'unavailable', reason: `${name} unavailable: ${unavailable}` };
  }
  const age = now - latest.at;
  if (age > options.maxSampleAgeMs) {
    return {
      ...base,
      status: 'unknown',
      code: unavailable === undefined ? 'stale' : 'unavailable',
      observedValue: latest.value,
      reason:
        `latest sample of ${name} is ${formatDuration(age)} old (older than ${formatDuration(options.maxSampleAgeMs)})` +
        (unavailable === undefined ? '' : `; unavailable: ${unavailable}`),
    };
  }
  return { status: 'ok', samples, latest };
}

/** Drops samples that cannot be judged (after now, NaN, non-finite time) and restores ascending order if needed. */
function usableSamples(raw: readonly Sample[], now: number): readonly Sample[] {
  const out = raw.filter((p) => Number.isFinite(p.at) && p.at <= now && !Number.isNaN(p.value));
  for (let i = 1; i < out.length; i++) {
    // The contract says ascending; sorting only when it is violated keeps the common path linear.
    if ((out[i] as Sample).at < (out[i - 1] as Sample).at) return out.sort((a, b) => a.at - b.at);
  }
  return out;
}

/**
 * Start of the breach that includes the last sample: the first breaching sample after the last non-breaching
 * one, where a gap longer than maxGapMs counts as a break (the breach restarts at the sample after the gap).
 * Precondition: the last sample breaches.
 */
function breachStart(samples: readonly Sample[], breaches: (v: number) => boolean, maxGapMs: number): number {
  let i = samples.length - 1;
  let since = (samples[i] as Sample).at;
  while (i > 0) {
    const prev = samples[i - 1] as Sample;
    const cur = samples[i] as Sample;
    if (cur.at - prev.at > maxGapMs || !breaches(prev.value)) break;
    since = prev.at;
    i--;
  }
  return since;
}

// ---------------------------------------------------------------------------------------------------------------
// event

type EventSettings = NonNullable<Trigger['eventTrigger']>;

/** Compiles an event-reason pattern as a full match in linear time; a bad pattern is an invalid trigger. */
function fullMatch(reason: string): FullMatcher {
  try {
    return compileFullMatch(reason);
  } catch (e: unknown) {
    if (e instanceof InvalidPatternError) throw new InvalidTriggerSetting(`reason ${e.message}`);
    throw e;
  }
}

/** Occurrences an EventOccurrence stands for; malformed counts contribute nothing rather than poison the sum. */
const weight = (e: EventOccurrence): number => (Number.isFinite(e.count) && e.count > 0 ? e.count : 0);

function evaluateEvent(base: Base, s: EventSettings, obs: TargetObservations, now: number): Uncooled {
  const re = fullMatch(s.reason);
  const required = s.count ?? TRIGGER_DEFAULTS.event.count;
  if (!Number.isInteger(required) || required < 1) throw new InvalidTriggerSetting(`count ${required} must be a positive integer`);
  const windowText = s.window ?? TRIGGER_DEFAULTS.event.window;
  const windowMs = parseDuration(windowText);
  const from = now - windowMs;

  const counted = obs.events
    .filter((e) => e.at > from && e.at <= now && weight(e) > 0 && (s.type === undefined || e.type === s.type) && re.matches(e.reason))
    .sort((a, b) => a.at - b.at);
  const sum = counted.reduce((acc, e) => acc + weight(e), 0);
  const what = `${s.type === undefined ? '' : `${s.type} `}events with reason ${clip(JSON.stringify(s.reason), MAX_NAME_IN_TEXT)}`;
  const values: Record<string, string> = {
    reason: s.reason,
    count: String(sum),
    required: String(required),
    window: windowText,
    ...(s.type === undefined ? {} : { type: s.type }),
  };
  const reasons = [...new Set(counted.map((e) => e.reason))];
  if (reasons.length > 0) values['matched'] = clip(reasons.join(','), MAX_VALUE_LENGTH);
  const latestMessage = counted.at(-1)?.message;
  if (latestMessage !== undefined) values['message'] = clip(latestMessage, MAX_VALUE_LENGTH);

  if (sum >= required) {
    let cumulative = 0;
    let since = now;
    for (const e of counted) {
      cumulative += weight(e);
      if (cumulative >= required) {
        since = e.at;
        break;
      }
    }
    const oldest = counted[0] as EventOccurrence;
    return {
      ...base,
      status: 'firing',
      since,
      observedValue: sum,
      threshold: required,
      values,
      // The count changes when the oldest counted occurrence leaves the window: re-evaluate exactly then.
      checkAt: oldest.at + windowMs,
      reason: `${sum} ${what} in the last ${formatDuration(windowMs)} (fires at ${required})`,
    };
  }
  const unavailable = obs.unavailable.get(EVENTS_UNAVAILABLE_KEY);
  if (unavailable !== undefined) {
    return {
      ...base,
      status: 'unknown',
      code: 'unavailable',
      observedValue: sum,
      values,
      reason: `${sum} ${what} seen in the last ${formatDuration(windowMs)}, but events are unavailable: ${unavailable}`,
    };
  }
  return {
    ...base,
    status: 'clear',
    observedValue: sum,
    threshold: required,
    values,
    reason: `${sum} ${what} in the last ${formatDuration(windowMs)}, fewer than ${required}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// condition

type ConditionSettings = NonNullable<Trigger['conditionTrigger']>;

function evaluateConditionTrigger(base: Base, s: ConditionSettings, obs: TargetObservations, now: number): Uncooled {
  const wanted = s.status ?? TRIGGER_DEFAULTS.condition.status;
  const durationText = s.duration ?? TRIGGER_DEFAULTS.condition.duration;
  const durationMs = parseDuration(durationText);
  const name = clip(s.type, MAX_NAME_IN_TEXT);
  const values: Record<string, string> = { condition: s.type, status: wanted, duration: durationText };

  // The collector's latest attempt failed after whatever state we hold: a condition has no freshness of its
  // own, so the failure wins over a possibly outdated state.
  const unavailable = obs.unavailable.get(s.type);
  if (unavailable !== undefined) {
    return { ...base, status: 'unknown', code: 'unavailable', values, reason: `condition ${name} unavailable: ${unavailable}` };
  }
  const cond = obs.conditions.get(s.type);
  if (cond === undefined) {
    // An absent condition is not True (no CrashLoopBackOff state means not crash-looping); it is not known to be
    // False or Unknown either, so those wait for the condition to be reported.
    return wanted === 'True'
      ? { ...base, status: 'clear', values, reason: `condition ${name} is not present` }
      : { ...base, status: 'unknown', code: 'no-data', values, reason: `condition ${name} is not reported, so it is not known to be ${wanted}` };
  }
  values['observed'] = cond.status;
  if (cond.reason !== undefined) values['conditionReason'] = clip(cond.reason, MAX_VALUE_LENGTH);
  if (cond.message !== undefined) values['message'] = clip(cond.message, MAX_VALUE_LENGTH);
  if (cond.status !== wanted) {
    return { ...base, status: 'clear', values, reason: `condition ${name} is ${cond.status}, not ${wanted}` };
  }
  const held = Math.max(0, now - cond.since);
  values['heldFor'] = formatDuration(held);
  const detail = cond.reason === undefined ? '' : ` (${cond.reason})`;
  if (held >= durationMs) {
    return {
      ...base,
      status: 'firing',
      since: cond.since + durationMs,
      breachSince: cond.since,
      values,
      reason:
        durationMs === 0
          ? `condition ${name} is ${wanted}${detail}`
          : `condition ${name} is ${wanted}${detail} for ${formatDuration(held)} (needs ${formatDuration(durationMs)})`,
    };
  }
  return {
    ...base,
    status: 'pending',
    breachSince: cond.since,
    checkAt: cond.since + durationMs,
    values,
    reason: `condition ${name} is ${wanted}${detail} for ${formatDuration(held)}, fires if it holds ${formatDuration(durationMs)}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// predictive

type PredictiveSettings = NonNullable<Trigger['predictiveTrigger']>;

/** Least-squares line through (t, v). Undefined when all samples share one time (no line can be fitted). */
function fitLine(samples: readonly Sample[], origin: number): { slopePerMs: number; valueAtOrigin: number; rSquared: number } | undefined {
  const n = samples.length;
  // Times relative to the latest sample keep the sums well-conditioned (epoch ms squared lose precision).
  let sx = 0;
  let sy = 0;
  for (const p of samples) {
    sx += p.at - origin;
    sy += p.value;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of samples) {
    const dx = p.at - origin - mx;
    const dy = p.value - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return undefined;
  const slopePerMs = sxy / sxx;
  // Constant values: a perfect (flat) fit; R² is 0/0 by the formula, and "flat" is what callers need to hear.
  const rSquared = syy === 0 ? 1 : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { slopePerMs, valueAtOrigin: my - slopePerMs * mx, rSquared };
}

function evaluatePredictive(base: Base, s: PredictiveSettings, obs: TargetObservations, now: number, options: EvaluateOptions): Uncooled {
  const d = TRIGGER_DEFAULTS.predictive;
  const method = s.method ?? d.method;
  const metric = s.metric ?? d.metric;
  const threshold = s.threshold ?? d.threshold;
  const horizonText = s.horizon ?? d.horizon;
  const horizonMs = parseDuration(horizonText);
  const minConfidence = s.minConfidence ?? d.minConfidence;
  const lookbackText = s.lookback ?? d.lookback;
  const lookbackMs = parseDuration(lookbackText);
  const minSamples = s.minSamples ?? d.minSamples;
  if (!Number.isFinite(threshold)) throw new InvalidTriggerSetting(`threshold ${String(threshold)} is not a finite number`);
  if (!Number.isInteger(minSamples) || minSamples < 2) throw new InvalidTriggerSetting(`minSamples ${minSamples} must be an integer of at least 2`);
  const name = clip(metric, MAX_NAME_IN_TEXT);
  const fmt = (v: number): string => formatValue(metric, v);

  const fresh = latestFreshSample(base, metric, obs, now, options);
  if (fresh.status === 'unknown') return fresh;
  const { latest } = fresh;
  const values: Record<string, string> = {
    metric,
    value: String(latest.value),
    threshold: String(threshold),
    horizon: horizonText,
    lookback: lookbackText,
    minConfidence: String(minConfidence),
  };
  if (s.minValue !== undefined) values['minValue'] = String(s.minValue);
  const common = { observedValue: latest.value, threshold, values };

  if (s.minValue !== undefined && latest.value < s.minValue) {
    return { ...base, status: 'clear', ...common, reason: `${name} ${fmt(latest.value)} is below minValue ${fmt(s.minValue)}` };
  }
  if (latest.value >= threshold) {
    const breachSince = breachStart(fresh.samples, (v) => v >= threshold, options.maxSampleGapMs);
    values['eta'] = '0s';
    return {
      ...base,
      status: 'firing',
      since: breachSince,
      breachSince,
      ...common,
      reason: `${name} ${fmt(latest.value)} is already at or above ${fmt(threshold)}`,
    };
  }

  const window = fresh.samples.filter((p) => p.at >= now - lookbackMs);
  if (window.length < minSamples) {
    return {
      ...base,
      status: 'unknown',
      code: 'insufficient-data',
      observedValue: latest.value,
      values,
      reason: `${window.length} samples of ${name} in the last ${formatDuration(lookbackMs)}, a trend needs ${minSamples}`,
    };
  }
  if (method === 'analyzer') {
    const minHistoryMs = parseDuration(s.minHistory ?? d.minHistory);
    return predictWithAnalyzer(base, { metric, threshold, horizonMs, lookbackMs, minConfidence, horizonText, minHistoryMs }, window, latest, common, now, options);
  }
  const fit = fitLine(window, latest.at);
  if (fit === undefined) {
    return {
      ...base,
      status: 'unknown',
      code: 'insufficient-data',
      observedValue: latest.value,
      values,
      reason: `all ${window.length} samples of ${name} share one timestamp, no trend can be fitted`,
    };
  }
  const slopePerMinute = fit.slopePerMs * 60_000;
  const rising = fit.slopePerMs > 0;
  const crossingAt = rising ? latest.at + (threshold - fit.valueAtOrigin) / fit.slopePerMs : undefined;
  const etaMs = crossingAt === undefined ? undefined : Math.max(0, crossingAt - now);
  const forecast: Forecast = {
    samples: window.length,
    slopePerMinute,
    rSquared: fit.rSquared,
    fittedValue: fit.valueAtOrigin,
    ...(crossingAt === undefined ? {} : { crossingAt }),
    ...(etaMs === undefined ? {} : { etaMs }),
  };
  values['slopePerMinute'] = String(slopePerMinute);
  values['rSquared'] = String(fit.rSquared);
  values['samples'] = String(window.length);
  const direction = slopePerMinute === 0 ? 'flat' : `${slopePerMinute > 0 ? 'rising' : 'falling'} ${fmt(Math.abs(slopePerMinute))}/min`;
  const trend = `${name} ${fmt(latest.value)} ${direction} (R² ${fit.rSquared.toFixed(2)})`;

  if (crossingAt === undefined || etaMs === undefined) {
    return { ...base, status: 'clear', ...common, forecast, reason: `${trend}: flat or falling, no crossing of ${fmt(threshold)} forecast` };
  }
  if (fit.rSquared < minConfidence) {
    return {
      ...base,
      status: 'clear',
      ...common,
      forecast,
      reason: `${trend}: too noisy to forecast (R² below ${minConfidence})`,
    };
  }
  values['eta'] = formatDuration(etaMs);
  const forecastText = `${trend} reaches ${fmt(threshold)} in ${formatDuration(etaMs)}`;
  if (etaMs <= horizonMs) {
    return {
      ...base,
      status: 'firing',
      // When the forecast entered the horizon, by the current fit: crossing − horizon, within the data seen.
      since: Math.min(now, Math.max((window[0] as Sample).at, crossingAt - horizonMs)),
      ...common,
      forecast,
      reason: `${forecastText}, within ${formatDuration(horizonMs)} horizon`,
    };
  }
  return {
    ...base,
    status: 'clear',
    ...common,
    forecast,
    // If the trend holds, the crossing comes within the horizon at crossing − horizon (> now here).
    checkAt: crossingAt - horizonMs,
    reason: `${forecastText}, beyond ${formatDuration(horizonMs)} horizon`,
  };
}

/**
 * The predictive trigger with the built-in analyzer: the window's samples are assessed as of their latest sample
 * (so an unchanged series need not be assessed again) and the time since then is taken off the forecast. Fires when
 * the analyzer forecasts the limit within the horizon with at least minConfidence; its reasoning, pattern and
 * calibrated confidence travel with the result.
 */
function predictWithAnalyzer(
  base: Base,
  p: { metric: string; threshold: number; horizonMs: number; lookbackMs: number; minConfidence: number; horizonText: string; minHistoryMs: number },
  window: readonly Sample[],
  latest: Sample,
  common: { observedValue: number; threshold: number; values: Record<string, string> },
  now: number,
  options: EvaluateOptions,
): Uncooled {
  const assess = options.assess ?? assessSeries;
  const kind = p.metric.startsWith('memory') ? 'memory' : 'cpu';
  const unit = p.metric.endsWith('_percent') ? '%' : p.metric.endsWith('_bytes') ? 'B' : '';
  const a = assess(
    { samples: window, kind, limit: p.threshold, now: latest.at, ...(unit === '' ? {} : { unit }) },
    { horizonMs: p.horizonMs, maxLookbackMs: p.lookbackMs, maxStalenessMs: Math.max(options.maxSampleAgeMs, 1) },
  );
  const name = clip(p.metric, MAX_NAME_IN_TEXT);
  const values = common.values;
  values['method'] = 'analyzer';
  values['pattern'] = a.pattern;
  values['confidence'] = a.confidence.toFixed(2);
  values['breachProbability'] = a.breachProbability.toFixed(2);
  const elapsedS = Math.max(0, now - latest.at) / 1000;
  const seconds = a.secondsToLimit === null ? null : Math.max(0, a.secondsToLimit - elapsedS);
  const forecast: Forecast = {
    samples: a.samplesUsed,
    slopePerMinute: a.forecast.slopePerSecond * 60,
    fittedValue: a.forecast.levelAtNow,
    assessment: a,
    ...(seconds === null ? {} : { crossingAt: now + seconds * 1000, etaMs: seconds * 1000 }),
  };
  const why = a.reasoning.slice(0, 3).join('; ');
  if (a.pattern === 'insufficient-data') {
    return { ...base, status: 'unknown', code: 'insufficient-data', observedValue: common.observedValue, values, reason: `${name}: ${why}` };
  }
  if (seconds !== null) {
    values['eta'] = formatDuration(seconds * 1000);
    if (a.interval) values['etaInterval'] = `${formatDuration(Math.max(0, a.interval.low - elapsedS) * 1000)}-${a.interval.high === null ? '?' : formatDuration(Math.max(0, a.interval.high - elapsedS) * 1000)}`;
  }
  const within = seconds !== null && seconds * 1000 <= p.horizonMs;
  // History of the current container: since the last reset the analyzer saw (a restart starts memory over).
  const segmentStart = Math.max(window[0]?.at ?? latest.at, ...a.resets.map((r) => r.at));
  const historyMs = latest.at - segmentStart;
  values['historySeconds'] = String(Math.round(historyMs / 1000));
  const breach = (x: Assessment, elapsed: number): boolean =>
    x.willBreach && x.confidence >= p.minConfidence && x.secondsToLimit !== null && (x.secondsToLimit - elapsed) * 1000 <= p.horizonMs;
  if (breach(a, elapsedS) && historyMs < p.minHistoryMs) {
    return { ...base, status: 'clear', ...common, forecast, reason: `${a.pattern}: ${name} forecast to reach the limit, but only ${formatDuration(historyMs)} of history since the container started (acts from ${formatDuration(p.minHistoryMs)}) — ${why}` };
  }
  if (breach(a, elapsedS)) {
    // Confirmed on the previous sample too: one assessment at a noisy moment does not restart a pod.
    const previous = window.slice(0, -1);
    const last = previous.at(-1);
    const before =
      last === undefined
        ? undefined
        : assess({ samples: previous, kind, limit: p.threshold, now: last.at, ...(unit === '' ? {} : { unit }) }, { horizonMs: p.horizonMs, maxLookbackMs: p.lookbackMs, maxStalenessMs: Math.max(options.maxSampleAgeMs, 1) });
    if (before === undefined || last === undefined || !breach(before, Math.max(0, now - last.at) / 1000)) {
      return { ...base, status: 'clear', ...common, forecast, reason: `${a.pattern}: ${name} forecast to reach the limit on the latest sample only; acting once the next sample confirms it — ${why}` };
    }
  }
  if (a.willBreach && within && a.confidence >= p.minConfidence) {
    return {
      ...base,
      status: 'firing',
      since: now,
      ...common,
      forecast,
      reason: `${a.pattern}: ${name} reaches ${formatValue(p.metric, p.threshold)} in ${formatDuration((seconds ?? 0) * 1000)} (confidence ${a.confidence.toFixed(2)}), within the ${p.horizonText} horizon — ${why}`,
    };
  }
  const notYet = a.willBreach && within ? `confidence ${a.confidence.toFixed(2)} is below minConfidence ${p.minConfidence}` : within ? 'the analyzer does not expect a breach' : `no breach forecast within ${p.horizonText}`;
  return { ...base, status: 'clear', ...common, forecast, reason: `${a.pattern}: ${name} ${formatValue(p.metric, latest.value)}, ${notYet} — ${why}` };
}

// ---------------------------------------------------------------------------------------------------------------
// formatting

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A number for people: integers as is, otherwise 4 significant digits (whole numbers from 1000 up). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

const BINARY_UNITS: readonly (readonly [string, number])[] = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/**
 * A metric value with the unit its built-in name implies: `_percent` → "91.5%", `_bytes` → "512Mi",
 * `_millicores` → "250m"; anything else (counts, PromQL) as a plain number.
 */
export function formatValue(metric: string, v: number): string {
  if (metric.endsWith('_percent')) return `${formatNumber(v)}%`;
  if (metric.endsWith('_millicores')) return `${formatNumber(v)}m`;
  if (metric.endsWith('_bytes') && Number.isFinite(v)) {
    for (const [unit, size] of BINARY_UNITS) {
      if (Math.abs(v) >= size) return `${Number((v / size).toPrecision(4))}${unit}`;
    }
    return `${formatNumber(v)}B`;
  }
  return formatNumber(v);
}
