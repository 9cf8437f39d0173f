/**
 * The evaluation's figures from (verdict, truth) pairs: precision, recall, false-positive rate, median relative
 * error of the time to the limit, a reliability table with the Brier score, and accuracy per true pattern.
 */
import type { LabelledSeries } from './generator.js';

/** One scored verdict. */
export interface Scored {
  readonly series: LabelledSeries;
  readonly willBreach: boolean;
  readonly secondsToLimit: number | null;
  /** Confidence in the verdict (0–1). */
  readonly confidence: number;
  readonly pattern: string;
  /** The reported 80% interval of the time to the limit (analyzer only). */
  readonly interval?: { readonly low: number; readonly high: number | null } | null;
}

/** One bin of the reliability table. */
export interface ReliabilityBin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  readonly meanConfidence: number | null;
  /** Share of verdicts in the bin that were right. */
  readonly accuracy: number | null;
}

/** All figures of one component on one set. */
export interface Report {
  readonly series: number;
  readonly positives: number;
  readonly negatives: number;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  readonly precision: number;
  readonly recall: number;
  readonly falsePositiveRate: number;
  readonly accuracy: number;
  /** Median |predicted − true| / true seconds to limit, over true positives with a predicted time. */
  readonly medianTtlRelativeError: number | null;
  readonly ttlErrorsCounted: number;
  /** The same over true positives whose true time to the limit is at least 5 minutes (the actionable lead times). */
  readonly medianTtlRelativeErrorFrom5Min: number | null;
  readonly ttlErrorsCountedFrom5Min: number;
  /**
   * Share of the breaching series with a reported interval whose true time to the limit lies inside it (the
   * interval is an 80% one, so about 0.8 is honest); null when the component reports no intervals.
   */
  readonly intervalCoverage: number | null;
  readonly intervalsCounted: number;
  readonly brier: number;
  readonly reliability: readonly ReliabilityBin[];
  readonly perPattern: Readonly<Record<string, { readonly count: number; readonly positives: number; readonly accuracy: number; readonly recall: number | null; readonly fpr: number | null }>>;
}

const BINS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001];

/** Computes the report. Confidence below 0.5 falls in a first bin [0, 0.5). */
export function report(scored: readonly Scored[]): Report {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let brier = 0;
  const errors: number[] = [];
  const errorsFrom5: number[] = [];
  let covered = 0;
  let intervals = 0;
  for (const s of scored) {
    const y = s.series.truth.willBreach;
    if (s.willBreach && y) tp++;
    else if (s.willBreach && !y) fp++;
    else if (!s.willBreach && y) fn++;
    else tn++;
    const correct = s.willBreach === y ? 1 : 0;
    brier += (s.confidence - correct) ** 2;
    const truth = s.series.truth.secondsToLimit;
    if (y && s.willBreach && truth !== null && s.secondsToLimit !== null && truth > 0) {
      errors.push(Math.abs(s.secondsToLimit - truth) / truth);
      if (truth >= 300) errorsFrom5.push(Math.abs(s.secondsToLimit - truth) / truth);
    }
    if (y && truth !== null && s.interval !== undefined && s.interval !== null) {
      intervals++;
      if (truth >= s.interval.low && (s.interval.high === null || truth <= s.interval.high)) covered++;
    }
  }
  const medianOf = (xs: number[]): number | null => {
    xs.sort((a, b) => a - b);
    return xs.length === 0 ? null : xs.length % 2 === 1 ? (xs[xs.length >> 1] as number) : ((xs[xs.length / 2 - 1] as number) + (xs[xs.length / 2] as number)) / 2;
  };
  const med = medianOf(errors);
  const edges = [0, ...BINS];
  const reliability: ReliabilityBin[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const lo = edges[i] as number;
    const hi = edges[i + 1] as number;
    const inBin = scored.filter((s) => s.confidence >= lo && s.confidence < hi);
    const right = inBin.filter((s) => s.willBreach === s.series.truth.willBreach).length;
    reliability.push({
      from: lo,
      to: Math.min(hi, 1),
      count: inBin.length,
      meanConfidence: inBin.length === 0 ? null : inBin.reduce((a, s) => a + s.confidence, 0) / inBin.length,
      accuracy: inBin.length === 0 ? null : right / inBin.length,
    });
  }
  const perPattern: Record<string, { count: number; positives: number; accuracy: number; recall: number | null; fpr: number | null }> = {};
  const keys = [...new Set(scored.map((s) => `${s.series.kind} ${s.series.pattern}`))].sort();
  for (const k of keys) {
    const group = scored.filter((s) => `${s.series.kind} ${s.series.pattern}` === k);
    const pos = group.filter((s) => s.series.truth.willBreach);
    const neg = group.filter((s) => !s.series.truth.willBreach);
    perPattern[k] = {
      count: group.length,
      positives: pos.length,
      accuracy: group.filter((s) => s.willBreach === s.series.truth.willBreach).length / group.length,
      recall: pos.length === 0 ? null : pos.filter((s) => s.willBreach).length / pos.length,
      fpr: neg.length === 0 ? null : neg.filter((s) => s.willBreach).length / neg.length,
    };
  }
  return {
    series: scored.length,
    positives: tp + fn,
    negatives: fp + tn,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    falsePositiveRate: fp + tn === 0 ? 0 : fp / (fp + tn),
    accuracy: (tp + tn) / Math.max(1, scored.length),
    medianTtlRelativeError: med,
    ttlErrorsCounted: errors.length,
    medianTtlRelativeErrorFrom5Min: medianOf(errorsFrom5),
    ttlErrorsCountedFrom5Min: errorsFrom5.length,
    intervalCoverage: intervals === 0 ? null : covered / intervals,
    intervalsCounted: intervals,
    brier: brier / Math.max(1, scored.length),
    reliability,
    perPattern,
  };
}
