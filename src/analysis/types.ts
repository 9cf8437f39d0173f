/**
 * The analyzer's plain-data contract: what one series assessment takes and returns. Times are ms since the epoch
 * in inputs and in forecast points, seconds in durations (secondsToLimit, intervals, periods), as the dashboard and
 * the CLI print them.
 */
import type { Sample } from '../metrics/types.js';

/** Which resource a series measures: memory resets on a container restart and OOMs at its limit; CPU throttles. */
export type MetricKind = 'memory' | 'cpu';

/** Every shape the analyzer recognises, in no particular order. */
export const PATTERNS = [
  'linear-leak',
  'sawtooth-leak',
  'healthy-sawtooth',
  'warm-up',
  'saturating-growth',
  'step',
  'spikes',
  'leak-after-change-point',
  'oscillation',
  'rising-oscillation',
  'flat',
  'insufficient-data',
] as const;

/**
 * A recognised shape:
 * - `linear-leak`: a steady rise (Mann–Kendall significant, Theil–Sen slope) over the whole segment;
 * - `sawtooth-leak`: a GC sawtooth whose post-collection floor rises; the peaks' envelope reaches the limit first;
 * - `healthy-sawtooth`: a GC sawtooth with a flat floor;
 * - `warm-up`: rose, then levelled off below the limit;
 * - `saturating-growth`: still rising but decelerating (exponential approach); breaches only if its asymptote does;
 * - `step`: a jump in level between two flat stretches;
 * - `spikes`: a flat baseline with short excursions (Hampel outliers);
 * - `leak-after-change-point`: flat, then a rise that began at a change point; only the rise is fitted;
 * - `oscillation`: periodic around a flat mean (period and amplitude reported);
 * - `rising-oscillation`: periodic around a rising mean; the peaks' envelope is forecast, not the mean;
 * - `flat`: none of the above, no significant rise (falling series included);
 * - `insufficient-data`: too few samples, too short a span, or stale data to tell.
 */
export type Pattern = (typeof PATTERNS)[number];

/** One series to assess. */
export interface SeriesInput {
  /** Observations, any order; non-finite values, duplicates and samples after `now` are ignored. */
  readonly samples: readonly Sample[];
  readonly kind: MetricKind;
  /** The threshold whose crossing matters (the container's limit, or 100 for percent of limit). Must be > 0. */
  readonly limit: number;
  /** The assessment's time (ms). The forecast starts here. */
  readonly now: number;
  /**
   * Known container start times (ms), e.g. from pod status. Each starts a new segment (memory starts over); resets
   * that are not listed are also detected from the data (a large sudden drop).
   */
  readonly containerStarts?: readonly number[];
  /** Unit of the values, for the reasoning sentences only ("MiB", "%"). */
  readonly unit?: string;
}

/** Tuning of one assessment. Every field has a default. */
export interface AssessOptions {
  /** How far ahead a breach counts (ms). Default 30 min. */
  readonly horizonMs?: number;
  /** Samples older than now − maxLookbackMs are ignored (bounds memory and CPU). Default 6 h. */
  readonly maxLookbackMs?: number;
  /** A latest sample older than this makes the series `insufficient-data` (ms). Default 10 min. */
  readonly maxStalenessMs?: number;
  /** Raw breach probability → calibrated probability. Default: the fitted table in calibration-table.ts. */
  readonly calibration?: CalibrationTable;
}

/** Data spanning less than this (s) is calibrated in the `short` group, whatever its pattern. */
export const SHORT_SPAN_SECONDS = 8 * 60;

/** Patterns whose raw probabilities are calibrated together (their models err in similar ways). */
export type CalibrationGroup = 'trend' | 'curve' | 'cycle' | 'level' | 'short';

/** A monotone map from raw to calibrated probability: piecewise-linear through the points (x ascending). */
export interface CalibrationCurve {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/** One calibration curve per group of patterns, and the operating point. */
export interface CalibrationTable {
  /** How the table was made (script, seed, size), for the record. */
  readonly source: string;
  readonly curves: Readonly<Record<CalibrationGroup, CalibrationCurve>>;
  /**
   * `willBreach` is true from this calibrated probability up. Chosen on the calibration set as the lowest threshold
   * whose false-positive rate stays within the target, because a missed OOM costs more than an early restart.
   */
  readonly decisionThreshold: number;
  /**
   * Factor on the log-width of the model's 10th–90th percentile interval of the crossing time, fitted so that the
   * reported 80% interval holds the true time 80% of the time on the calibration set (1: as the model says).
   */
  readonly intervalScale: number;
}

/** A time interval in seconds from now. `high` is null when the upper bound lies beyond the look-ahead. */
export interface TimeInterval {
  readonly low: number;
  readonly high: number | null;
}

/** How the forecast is shaped, for drawing it. */
export type ForecastModel = 'line' | 'level' | 'exponential' | 'envelope' | 'none';

/** What the dashboard needs to draw the forecast. Values are in the series' unit. */
export interface ForecastDetail {
  readonly model: ForecastModel;
  /** First sample of the data the model was fitted on (ms): the segment start or the change point. */
  readonly fittedFrom: number;
  /** The model's value at now (for `envelope`, the peaks' envelope). */
  readonly levelAtNow: number;
  /** The model's slope at now, per second (0 for `level`). */
  readonly slopePerSecond: number;
  /** 90% interval of the slope, per second, when a slope was fitted. */
  readonly slopeInterval?: { readonly low: number; readonly high: number };
  /** Scatter (σ) around the model used for the crossing probability. */
  readonly noiseSigma: number;
  /** `exponential`: the level it approaches and its time constant. */
  readonly asymptote?: number;
  readonly timeConstantSeconds?: number;
  /** Periodic patterns: period and half peak-to-trough amplitude. */
  readonly periodSeconds?: number;
  readonly amplitude?: number;
  /** Sawtooth / oscillation: lines through the peaks and through the troughs (floor), at now and per second. */
  readonly envelope?: {
    readonly peakAtNow: number;
    readonly peakSlopePerSecond: number;
    readonly floorAtNow: number;
    readonly floorSlopePerSecond: number;
  };
  /** The forecast value (the envelope for periodic patterns) from now to now + horizon, ~20 points. */
  readonly points: readonly Sample[];
}

/** The assessment of one series. */
export interface Assessment {
  readonly pattern: Pattern;
  /** The series is forecast to reach the limit within the horizon: breachProbability ≥ the decision threshold. */
  readonly willBreach: boolean;
  /**
   * Seconds from now to the median forecast crossing of the limit; 0 when already at or above it; null when no
   * crossing is forecast within the look-ahead (4 × horizon).
   */
  readonly secondsToLimit: number | null;
  /**
   * 80% interval of the crossing time: the model's 10th–90th percentiles widened by the calibration's
   * intervalScale; null when secondsToLimit is null.
   */
  readonly interval: TimeInterval | null;
  /**
   * Calibrated probability (0–1) that the verdict `willBreach` is right: breachProbability when it says breach,
   * 1 − breachProbability otherwise. Below 0.5 when a breach is called at a probability under one half (the
   * decision threshold favours recall).
   */
  readonly confidence: number;
  /** Calibrated probability that the limit is reached within the horizon. */
  readonly breachProbability: number;
  /** The model's own (uncalibrated) probability of a crossing within the horizon. */
  readonly rawProbability: number;
  /**
   * The calibration curve applied: the pattern's group, or `short` whenever the data analysed spans less than
   * {@link SHORT_SPAN_SECONDS} (extrapolating a few minutes errs alike whatever the shape looks like).
   */
  readonly calibrationGroup: CalibrationGroup;
  /** Human sentences with the numbers, most important first. */
  readonly reasoning: readonly string[];
  readonly forecast: ForecastDetail;
  /** Samples in the segment that was analysed (after cleaning). */
  readonly samplesUsed: number;
  /** Segment starts (ms): known container starts and resets detected from the data, inside the window. */
  readonly resets: readonly { readonly at: number; readonly detected: boolean }[];
  /** Samples replaced as spikes by the Hampel filter. */
  readonly outliers: number;
}
