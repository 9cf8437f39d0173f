/**
 * The baseline the analyzer is compared with: the operator's `predictive` trigger as it was before the analyzer
 * (now `method: linear`) — a least-squares line over the last 15 minutes, acting when R² ≥ 0.8 and the line
 * reaches the limit within the horizon. It runs the real trigger code (src/triggers/evaluate.ts), not a
 * re-implementation.
 */
import type { Trigger } from '../../src/api/v1alpha1/healing-policy.js';
import type { Sample, TargetObservations } from '../../src/metrics/types.js';
import { evaluateTrigger } from '../../src/triggers/evaluate.js';
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
  const metric = kind === 'memory' ? 'memory_usage_bytes' : 'cpu_usage_percent';
  const trigger: Trigger = {
    name: 'baseline',
    type: 'predictive',
    // method: 'linear' pinned: the trigger's default became the analyzer, and this is the line fit it replaced.
    predictiveTrigger: { metric, method: 'linear', threshold: limit, horizon: '30m', minConfidence: 0.8, lookback: '15m', minSamples: 5 },
  };
  const observations: TargetObservations = {
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'eval', name: id },
    series: new Map([[metric, samples]]),
    conditions: new Map(),
    events: [],
    unavailable: new Map(),
  };
  const r = evaluateTrigger(trigger, observations, undefined, now, { maxSampleAgeMs: 10 * 60_000, maxSampleGapMs: 10 * 60_000 });
  switch (r.status) {
    case 'firing':
      return {
        willBreach: true,
        secondsToLimit: r.forecast?.etaMs === undefined ? 0 : r.forecast.etaMs / 1000,
        confidence: r.forecast?.rSquared ?? 1,
        pattern: 'line',
      };
    case 'clear':
      return {
        willBreach: false,
        secondsToLimit: r.forecast?.etaMs === undefined ? null : r.forecast.etaMs / 1000,
        confidence: r.forecast?.rSquared ?? 0,
        pattern: 'line',
      };
    case 'pending':
    case 'cooldown':
    case 'unknown':
      return { willBreach: false, secondsToLimit: null, confidence: 0, pattern: r.status };
    default: {
      const unreachable: never = r;
      return unreachable;
    }
  }
}
