/**
 * The baseline the analyzer is compared with: the operator's `predictive` trigger as it was before the analyzer
 * (now `method: linear`) — a least-squares line over the last 15 minutes, acting when R² ≥ 0.8 and the line
 * reaches the limit within the horizon. It runs the real trigger code (src/triggers/evaluate.ts), not a
 * re-implementation.
 */
import type { Trigger } from '../../src/api/v1alpha1/healing-policy.js';
import type { Sample, TargetObservations } from '../../src/metrics/types.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateTrigger, type EvaluateOptions, type TriggerEvaluation } from '../../src/triggers/evaluate.js';
import type { LabelledSeries } from './generator.js';

/** A verdict in the same terms as the analyzer's. */
export interface Verdict {
  readonly willBreach: boolean;
  readonly secondsToLimit: number | null;
  /** The confidence the component reports for its verdict (the baseline: R² of its line, 1 when already over). */
  readonly confidence: number;
  readonly pattern: string;
}

/** The baseline's verdict on one labelled series. */
export function baselineVerdict(series: LabelledSeries): Verdict {
  return baselineAt(series.id, series.kind, series.limit, series.samples, series.now);
}

/** The baseline's verdict on samples of a series at `now` (the episode replay calls it at every tick). */
export function baselineAt(id: string, kind: 'memory' | 'cpu', limit: number, samples: readonly Sample[], now: number): Verdict {
  const metric = metricOf(kind);
  const trigger: Trigger = {
    name: 'baseline',
    type: 'predictive',
    // method: 'linear' pinned: the trigger's default became the analyzer, and this is the line fit it replaced.
    predictiveTrigger: { metric, method: 'linear', threshold: limit, horizon: '30m', minConfidence: 0.8, lookback: '15m', minSamples: 5 },
  };
  return triggerAt(trigger, metric, id, samples, now, { maxSampleAgeMs: 10 * 60_000, maxSampleGapMs: 10 * 60_000 });
}

/**
 * The operator's predictive trigger exactly as a policy that names only metric, threshold and horizon gets it: the
 * analyzer (method default), minConfidence 0.7, lookback 1h, minHistory 8m since the container started, confirmed on
 * the previous sample, with the operator's evaluation options (DEFAULT_EVALUATE_OPTIONS: a sample older than 2 min
 * is stale). The operator does not pass container starts to the analyzer; it finds restarts in the data. `assess`
 * is the memo the operator uses too (same answers, fewer assessments). An alarm is status `firing`.
 */
export function operatorAt(
  id: string,
  kind: 'memory' | 'cpu',
  limit: number,
  samples: readonly Sample[],
  now: number,
  assess?: EvaluateOptions['assess'],
): TriggerVerdict {
  const metric = metricOf(kind);
  const trigger: Trigger = { name: 'p', type: 'predictive', predictiveTrigger: { metric, threshold: limit, horizon: '30m' } };
  return triggerAt(trigger, metric, id, samples, now, assess === undefined ? DEFAULT_EVALUATE_OPTIONS : { ...DEFAULT_EVALUATE_OPTIONS, assess });
}

/** A trigger's verdict with the result it came from. */
export type TriggerVerdict = Verdict & { readonly status: TriggerEvaluation['status']; readonly code?: string; readonly reason: string };

const metricOf = (kind: 'memory' | 'cpu'): 'memory_usage_bytes' | 'cpu_usage_percent' => (kind === 'memory' ? 'memory_usage_bytes' : 'cpu_usage_percent');

/**
 * One predictive trigger's result on a series, in the analyzer's terms. The confidence is R² for the line fit and,
 * for the analyzer method, the assessment's breach probability turned towards the trigger's verdict (p when firing,
 * 1 − p when not), so that a verdict the guards withheld is scored with the probability behind it.
 */
function triggerAt(
  trigger: Trigger,
  metric: string,
  id: string,
  samples: readonly Sample[],
  now: number,
  options: EvaluateOptions,
): TriggerVerdict {
  const observations: TargetObservations = {
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'eval', name: id },
    series: new Map([[metric, samples]]),
    conditions: new Map(),
    events: [],
    unavailable: new Map(),
  };
  const r = evaluateTrigger(trigger, observations, undefined, now, options);
  const a = r.status === 'firing' || r.status === 'clear' ? r.forecast?.assessment : undefined;
  const reason = r.reason;
  switch (r.status) {
    case 'firing':
      return {
        reason,
        status: r.status,
        willBreach: true,
        secondsToLimit: r.forecast?.etaMs === undefined ? 0 : r.forecast.etaMs / 1000,
        confidence: a !== undefined ? a.breachProbability : (r.forecast?.rSquared ?? 1),
        pattern: a?.pattern ?? 'line',
      };
    case 'clear':
      return {
        reason,
        status: r.status,
        willBreach: false,
        secondsToLimit: r.forecast?.etaMs === undefined ? null : r.forecast.etaMs / 1000,
        confidence: a !== undefined ? 1 - a.breachProbability : (r.forecast?.rSquared ?? 0),
        pattern: a?.pattern ?? 'line',
      };
    case 'pending':
    case 'cooldown':
      return { reason, status: r.status, willBreach: false, secondsToLimit: null, confidence: 0, pattern: r.status };
    case 'unknown':
      return { reason, status: r.status, code: r.code, willBreach: false, secondsToLimit: null, confidence: 0, pattern: r.status };
    default: {
      const unreachable: never = r;
      return unreachable;
    }
  }
}
