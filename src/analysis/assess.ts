/**
 * Assessment of one metric series: which shape it has, whether and when it reaches its limit, how sure that is,
 * and why — in sentences with the numbers. Pure and deterministic: no clock (the caller's `now`), no I/O, bounded
 * CPU (pairwise statistics on at most 96 bucketed points, the autocorrelation on at most 480 grid points, the
 * crossing scan on at most 480 steps, about ten candidate models).
 *
 * How (docs/analyze.md has the long form):
 * 1. clean and cut the series at the last container start (given, or detected as a sudden drop that is not a GC);
 * 2. Hampel-filter spikes; bucket to medians for the pairwise statistics;
 * 3. look for cycles (autocorrelation of the detrended series): a lopsided one in memory is a GC sawtooth whose
 *    floor is trended and whose peaks are forecast; a symmetric one an oscillation forecast with its phase;
 * 4. otherwise weigh candidate shapes by BIC — level, Theil–Sen line, exponential approach, and after the latest
 *    change point a line, a level or an approach, and a line plus harmonics — and mix their forecasts (shapes.ts);
 * 5. turn the mixture into a crossing-time distribution, a first passage of AR(1) noise around each version of
 *    each model (forecast.ts): the probability within the horizon, the median time and its interval;
 * 6. calibrate the probability with the committed isotonic table and decide against its threshold.
 */
import type { Sample } from '../metrics/types.js';
import { calibrate, calibrationGroup as calibrationGroupOf } from './calibration.js';
import { CALIBRATION } from './calibration-table.js';
import { crossingTimes } from './forecast.js';
import { formatAmount, formatEta, formatNumber, formatSeconds, formatShare } from './format.js';
import { cleanSamples, findBoundaries, medianInterval, type Boundary, type CleanSeries } from './segments.js';
import { analyseShape, MIN_SAMPLES, MIN_SPAN_SECONDS, shortShape, type ShapeContext } from './shapes.js';
import { SHORT_SPAN_SECONDS, type Assessment, type AssessOptions, type CalibrationTable, type ForecastDetail, type SeriesInput } from './types.js';

/** Defaults of {@link AssessOptions}. */
export const ASSESS_DEFAULTS = {
  horizonMs: 30 * 60_000,
  maxLookbackMs: 6 * 3_600_000,
  maxStalenessMs: 10 * 60_000,
} as const;

/** Look-ahead of the crossing scan, in horizons. */
const LOOKAHEAD_HORIZONS = 4;

/**
 * Assesses one series at `input.now`. Never throws for bad data: an empty, stale, too short or invalid series (a
 * non-positive limit) is `insufficient-data` with the reason in `reasoning`. Samples after `now` are ignored, so a
 * recorded history can be replayed at any time.
 */
export function assessSeries(input: SeriesInput, options: AssessOptions = {}): Assessment {
  const horizon = (options.horizonMs ?? ASSESS_DEFAULTS.horizonMs) / 1000;
  const lookahead = LOOKAHEAD_HORIZONS * horizon;
  const table = options.calibration ?? CALIBRATION;
  const { limit, now, kind, unit } = input;
  const what = kind === 'memory' ? 'memory' : 'CPU';

  if (!(limit > 0) || !Number.isFinite(limit)) {
    return insufficient(now, [`the limit ${String(limit)} is not a positive number, so there is nothing to reach`], 0, [], table);
  }
  const clean = cleanSamples(input.samples, now, options.maxLookbackMs ?? ASSESS_DEFAULTS.maxLookbackMs);
  const n = clean.t.length;
  if (n === 0) return insufficient(now, [`no ${what} samples at or before now`], 0, [], table);
  const latestAge = -(clean.t[n - 1] as number);
  const staleness = (options.maxStalenessMs ?? ASSESS_DEFAULTS.maxStalenessMs) / 1000;
  if (latestAge > staleness) {
    return insufficient(now, [`the latest ${what} sample is ${formatSeconds(latestAge)} old (more than ${formatSeconds(staleness)}): it says nothing about now`], 0, [], table);
  }

  const startsSec = (input.containerStarts ?? []).map((s) => (s - now) / 1000);
  const boundaries = findBoundaries(clean.t, clean.v, kind, limit, startsSec);
  const resets = boundaries.map((b) => ({ at: now + Math.round((clean.t[b.index] as number) * 1000), detected: b.detected }));
  const last: Boundary | undefined = boundaries[boundaries.length - 1];
  const from = last?.index ?? 0;
  const t = clean.t.subarray(from);
  const v = clean.v.subarray(from);
  const m = t.length;
  const span = m > 0 ? (t[m - 1] as number) - (t[0] as number) : 0;
  const latest = v[m - 1] as number;
  const dt = Math.max(medianInterval(t.length >= 2 ? t : clean.t) || 15, 1);
  const ctx: ShapeContext = { limit, unit, kind, what, dt };
  const reasoning: string[] = [];
  if (last !== undefined) {
    const ago = -(t[0] as number);
    reasoning.push(
      last.detected
        ? `${what} dropped from ${formatAmount(clean.v[from - 1] as number, unit)} to ${formatAmount(v[0] as number, unit)} ${formatSeconds(ago)} ago: a restart, so only the ${m} samples since then are analysed`
        : `the container started ${formatSeconds(ago)} ago; only the ${m} samples since then are analysed`,
    );
  }

  const previous = last === undefined ? undefined : previousSegment(clean, boundaries, from);
  const shape = m < MIN_SAMPLES || span < MIN_SPAN_SECONDS ? shortShape(t, v, ctx, previous) : analyseShape(t, v, ctx);
  reasoning.push(...shape.reasoning);

  // The crossing scan; a series already at the limit has crossed.
  let withinHorizon: number;
  let median50: number | null;
  let p10: number | null;
  let p90: number | null;
  if (latest >= limit) {
    withinHorizon = 1;
    median50 = 0;
    p10 = 0;
    p90 = 0;
    reasoning.unshift(`${what} is at ${formatShare(latest, limit, unit)} already`);
  } else {
    const c = crossingTimes(shape.model, limit, horizon, lookahead);
    withinHorizon = c.withinHorizon;
    if (shape.hazard !== undefined && shape.hazard > 0) {
      // Spikes arriving as a Poisson process: P(no spike high enough within h) = e^(−hazard·h).
      withinHorizon = 1 - (1 - withinHorizon) * Math.exp(-shape.hazard * horizon);
    }
    median50 = c.median;
    p10 = c.p10;
    p90 = c.p90;
    if (shape.hazard !== undefined && shape.hazard > 0) {
      const spikeMedian = Math.LN2 / shape.hazard;
      if (median50 === null || spikeMedian < median50) {
        median50 = spikeMedian;
        p10 = Math.min(p10 ?? Infinity, -Math.log(0.9) / shape.hazard);
        p90 = p90 === null ? (-Math.log(0.1) / shape.hazard <= lookahead ? -Math.log(0.1) / shape.hazard : null) : p90;
      }
      if (median50 > lookahead) median50 = null;
    }
  }

  // A forecast from a few minutes of data errs like any other short extrapolation, whatever shape it shows; the
  // previous run's rate after a restart is not short evidence.
  const calibrationGroup = span < SHORT_SPAN_SECONDS && shape.previousRun !== true ? 'short' : calibrationGroupOf(shape.pattern);
  const probability = latest >= limit ? 1 : calibrate(table, calibrationGroup, withinHorizon);
  const willBreach = probability >= table.decisionThreshold;
  const confidence = willBreach ? probability : 1 - probability;
  const secondsToLimit = median50 === null ? null : Math.round(median50);
  const interval = secondsToLimit === null ? null : widen(secondsToLimit, p10, p90, table.intervalScale);

  if (latest < limit) {
    const now1 = `at ${formatShare(latest, limit, unit)} now`;
    if (secondsToLimit === null) {
      reasoning.push(`${now1}; no crossing of the limit is forecast within ${formatSeconds(lookahead)}`);
    } else {
      const eta = formatEta(secondsToLimit, interval?.low ?? secondsToLimit, interval?.high ?? null, lookahead);
      reasoning.push(
        secondsToLimit <= horizon
          ? `${now1}; reaches the limit in ${eta}, within the ${formatSeconds(horizon)} horizon`
          : `${now1}; reaches the limit in ${eta}, beyond the ${formatSeconds(horizon)} horizon`,
      );
    }
  }
  reasoning.push(
    `probability of reaching the limit within ${formatSeconds(horizon)}: ${formatNumber(probability)} (model ${formatNumber(withinHorizon)}, calibrated)`,
  );

  const points: Sample[] = [];
  for (let i = 0; i <= 20; i++) {
    const s = (horizon * i) / 20;
    points.push({ at: now + Math.round(s * 1000), value: shape.center(s) });
  }
  const forecast: ForecastDetail = {
    model: shape.forecastModel,
    fittedFrom: now + Math.round(shape.fittedFrom * 1000),
    levelAtNow: shape.center(0),
    slopePerSecond: shape.slope,
    ...(shape.slopeInterval === undefined ? {} : { slopeInterval: shape.slopeInterval }),
    noiseSigma: shape.model.nodes[0]?.sigma ?? 0,
    ...(shape.asymptote === undefined ? {} : { asymptote: shape.asymptote }),
    ...(shape.tau === undefined ? {} : { timeConstantSeconds: shape.tau }),
    ...(shape.period === undefined ? {} : { periodSeconds: shape.period }),
    ...(shape.amplitude === undefined ? {} : { amplitude: shape.amplitude }),
    ...(shape.envelope === undefined ? {} : { envelope: shape.envelope }),
    points,
  };
  return {
    pattern: shape.pattern,
    willBreach,
    secondsToLimit,
    interval,
    confidence,
    breachProbability: probability,
    rawProbability: withinHorizon,
    calibrationGroup,
    reasoning,
    forecast,
    samplesUsed: m,
    resets,
    outliers: shape.outliers,
  };
}

/**
 * The 80% interval of the crossing time, its log-distance from the median scaled by `scale` (fitted on the labelled
 * set so that the interval holds the true time 80% of the time: the model's own 10th–90th percentiles are too
 * narrow, because it does not know how wrong its choice of shape can be).
 */
function widen(median: number, p10: number | null, p90: number | null, scale: number): { low: number; high: number | null } {
  const m = Math.max(median, 1);
  const low = p10 === null ? 0 : Math.min(p10, median);
  const high = p90 === null ? null : Math.max(p90, median);
  return {
    low: Math.round(low <= 0 ? 0 : m * Math.pow(Math.max(low, 1) / m, scale)),
    high: high === null ? null : Math.round(m * Math.pow(Math.max(high, 1) / m, scale)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes

function insufficient(now: number, reasoning: string[], samples: number, resets: Assessment['resets'], table: CalibrationTable): Assessment {
  const probability = calibrate(table, 'short', 0);
  return {
    pattern: 'insufficient-data',
    willBreach: false,
    secondsToLimit: null,
    interval: null,
    confidence: 1 - probability,
    breachProbability: probability,
    rawProbability: 0,
    calibrationGroup: 'short',
    reasoning,
    forecast: { model: 'none', fittedFrom: now, levelAtNow: NaN, slopePerSecond: 0, noiseSigma: 0, points: [] },
    samplesUsed: samples,
    resets,
    outliers: 0,
  };
}

/** The samples of the segment before the current one (the previous container's life), if any. */
function previousSegment(clean: CleanSeries, boundaries: readonly Boundary[], from: number): { t: Float64Array; v: Float64Array } | undefined {
  const prevFrom = boundaries.length >= 2 ? (boundaries[boundaries.length - 2] as Boundary).index : 0;
  if (from - prevFrom < 2) return undefined;
  return { t: clean.t.subarray(prevFrom, from), v: clean.v.subarray(prevFrom, from) };
}

