/**
 * Runs the analyzer, the baseline and the operator's trigger over a labelled set, in the shape metrics.ts scores. The analyzer sees only
 * what the operator would: the samples, the kind, the limit, now, and the container starts when the generator says
 * the operator knows them — never the label or the continuation.
 */
import { assessSeries } from '../../src/analysis/assess.js';
import type { Assessment, CalibrationTable } from '../../src/analysis/types.js';
import { baselineVerdict, operatorAt } from './baseline.js';
import type { LabelledSeries } from './generator.js';
import type { Scored } from './metrics.js';

/** The analyzer's assessment of a labelled series. */
export function assessLabelled(series: LabelledSeries, calibration?: CalibrationTable): Assessment {
  return assessSeries(
    {
      samples: series.samples,
      kind: series.kind,
      limit: series.limit,
      now: series.now,
      unit: series.unit,
      ...(series.containerStarts === undefined ? {} : { containerStarts: series.containerStarts }),
    },
    calibration === undefined ? {} : { calibration },
  );
}

/** Scores the analyzer on a set. */
export function scoreAnalyzer(set: readonly LabelledSeries[], calibration?: CalibrationTable): { scored: Scored[]; assessments: Assessment[] } {
  const assessments = set.map((s) => assessLabelled(s, calibration));
  const scored = set.map((series, i) => {
    const a = assessments[i] as Assessment;
    return { series, willBreach: a.willBreach, secondsToLimit: a.secondsToLimit, confidence: a.confidence, pattern: a.pattern, interval: a.interval };
  });
  return { scored, assessments };
}

/** Scores the baseline (the current predictive trigger) on a set. */
export function scoreBaseline(set: readonly LabelledSeries[]): Scored[] {
  return set.map((series) => ({ series, ...baselineVerdict(series) }));
}

/**
 * Scores the operator's predictive trigger with its defaults (baseline.ts operatorAt) on a set: firing = breach
 * forecast. It sees the samples and now, not the container starts (the trigger does not pass them).
 */
export function scoreOperator(set: readonly LabelledSeries[]): Scored[] {
  return set.map((series) => {
    const { willBreach, secondsToLimit, confidence, pattern } = operatorAt(series.id, series.kind, series.limit, series.samples, series.now);
    return { series, willBreach, secondsToLimit, confidence, pattern };
  });
}
