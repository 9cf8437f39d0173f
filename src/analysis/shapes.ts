/**
 * Shape recognition for one segment (the data since the last container start): which pattern it shows and the
 * forecast model that goes with it — weighted versions of the forecast with the scatter around them, which
 * forecast.ts turns into a crossing-time distribution. Pure; every super-linear step runs on bucketed points.
 *
 * Order, and why:
 * 1. cycles first (autocorrelation of the detrended series, at least 2.5 periods in view): a sawtooth or an
 *    oscillation fools every line fit;
 * 2. otherwise the latest regimes by binary segmentation (best two-line split, repeated on the newer side while
 *    significant), so that a leak that began after a long flat hour is not diluted by it;
 * 3. on those regimes, candidate shapes weighted by BIC and mixed: a level, a Theil–Sen line, an exponential
 *    approach, a line / level / approach after the best change point for each, and a line plus harmonics for a
 *    cycle too long for step 1. Mixing, rather than picking one, keeps the probability honest when shapes tie
 *    (an early saturating growth and a leak look alike); the heaviest names the pattern.
 */
import { approachAt, bestApproachSplit, bestLevelSplit, bestSplit, fitApproach, fitHarmonic, type ApproachFit, type HarmonicFit } from './fits.js';
import { normalNodes, type CrossingModel, type CrossingNode } from './forecast.js';
import { formatAmount, formatNumber, formatRate, formatSeconds } from './format.js';
import { cycleExtremes, differenceSkewness, findPeriod, resample, type CycleExtremes } from './periodicity.js';
import { autocorrelation, bucketMedians, fitRange, hampel, median, prefixSums, robustSigma, trendTest, varianceInflation, type TrendTest } from './stats.js';
import type { ForecastDetail, ForecastModel, Pattern } from './types.js';

/** Points the pairwise statistics see at most (Theil–Sen is O(m²)). */
export const MAX_TREND_POINTS = 96;
/** Fewer samples than this in the segment: `insufficient-data`. */
export const MIN_SAMPLES = 10;
/** A segment shorter than this (s) is `insufficient-data`: a trend over less is a guess. */
export const MIN_SPAN_SECONDS = 4 * 60;
/** F statistic (after discounting serial correlation) that a richer shape must reach to replace a line. */
const F_CRIT = 12;
/** Versions of a model across its uncertainty. */
const NODES = normalNodes(7);
/** z of the 90% intervals the trend tests report. */
const Z90 = 1.6449;

/** What the series is, and the forecast that goes with it. */
export interface ShapeResult {
  readonly pattern: Pattern;
  readonly model: CrossingModel;
  readonly forecastModel: ForecastModel;
  /** The central version of the forecast (the drawn line), t in s from now. */
  readonly center: (t: number) => number;
  /** Start of the data the model was fitted on (s from now). */
  readonly fittedFrom: number;
  readonly slope: number;
  readonly slopeInterval?: { readonly low: number; readonly high: number };
  readonly asymptote?: number;
  readonly tau?: number;
  readonly period?: number;
  readonly amplitude?: number;
  readonly envelope?: ForecastDetail['envelope'];
  /** Spikes high enough to reach the limit, as a constant hazard per second. */
  readonly hazard?: number;
  readonly reasoning: string[];
  readonly outliers: number;
  /** The forecast rests on the previous container's run (its leak rate), not on the few samples since the restart. */
  readonly previousRun?: boolean;
}

/** What the shape analysis needs to know about the series. */
export interface ShapeContext {
  readonly limit: number;
  readonly unit: string | undefined;
  readonly kind: 'memory' | 'cpu';
  /** "memory" or "CPU", for sentences. */
  readonly what: string;
  /** Median sampling interval (s). */
  readonly dt: number;
}

interface Prepared {
  readonly t: Float64Array;
  /** Values with spikes replaced (Hampel). */
  readonly vc: Float64Array;
  /** Values as observed. */
  readonly raw: Float64Array;
  readonly outliers: readonly number[];
  /** Short-term noise σ from successive differences (robust), floored. */
  readonly white: number;
}

function differences(v: ArrayLike<number>): Float64Array {
  const d = new Float64Array(Math.max(0, v.length - 1));
  for (let i = 1; i < v.length; i++) d[i - 1] = (v[i] as number) - (v[i - 1] as number);
  return d;
}

function firstIndexAtOrAfter(t: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((t[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, Math.max(0, t.length - 1));
}

/** How the scatter around a model moves: AR(1) with this lag-one autocorrelation at this spacing, or independent tries. */
type Noise = CrossingNode['noise'];

/**
 * σ of the residuals of `f` over (t, v) (robust, so spikes do not inflate it) and their lag-one autocorrelation at
 * the sampling interval: the noise model of the crossing scan (forecast.ts), which turns it into a first passage.
 */
function scatter(t: ArrayLike<number>, v: ArrayLike<number>, f: (t: number) => number, dt: number, floor: number): { sigma: number; noise: Noise } {
  const r = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) r[i] = (v[i] as number) - f(t[i] as number);
  return { sigma: Math.max(robustSigma(r), floor), noise: { rho: lagOne(r), dt } };
}

/** Lag-one autocorrelation, clipped to [0, 0.99] (anti-correlation does not help a crossing). */
function lagOne(r: ArrayLike<number>): number {
  return Math.min(0.99, Math.max(0, autocorrelation(r, 1)[0] ?? 0));
}

/** A model of equally likely versions sharing one scatter. */
function equalNodes(fs: readonly ((t: number) => number)[], sigma: number, noise: Noise): CrossingModel {
  return { nodes: fs.map((f) => ({ f, weight: 1 / fs.length, sigma, noise })) };
}

/**
 * Versions of a line across its slope's uncertainty. A falling version is held flat: a fall seen over a few
 * minutes of noise extrapolated for half an hour would promise a safety nobody measured, and a series that really
 * falls does not reach its limit either way.
 */
function lineNodes(level: number, slope: number, se: number): ((t: number) => number)[] {
  return NODES.map((z) => {
    const s = Math.max(0, slope + z * se);
    return (x: number) => level + s * x;
  });
}

function slopeSe(test: TrendTest): number {
  return Math.max(0, (test.slopeHigh - test.slopeLow) / (2 * Z90));
}

function pText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${formatNumber(p)}`;
}

function trendSentence(ctx: ShapeContext, test: TrendTest, span: number, subject: string): string {
  return `${subject} ${test.slope >= 0 ? 'rises' : 'falls'} ${formatRate(Math.abs(test.slope), ctx.unit)} (Theil–Sen, 90% interval ${formatRate(test.slopeLow, ctx.unit)} to ${formatRate(test.slopeHigh, ctx.unit)}) over ${formatSeconds(span)}; Mann–Kendall ${pText(test.p)}`;
}

/** F statistic of a richer model against a line, with its residuals' serial correlation discounted. */
function modelF(t: ArrayLike<number>, v: ArrayLike<number>, sseLine: number, sse: number, extra: number, f: (t: number) => number): number {
  const n = t.length;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = (v[i] as number) - f(t[i] as number);
  const fStat = (sseLine - sse) / extra / (Math.max(sse, 1e-12) / Math.max(1, n - 2 - extra));
  // Serial correlation that lasts longer than a twelfth of the series is structure the model misses, not noise.
  return fStat / varianceInflation(r, 12);
}

/**
 * Recognises the shape of a segment of at least {@link MIN_SAMPLES} samples over {@link MIN_SPAN_SECONDS} and
 * returns its forecast model. `t` is in seconds from now (ascending, ≤ 0).
 */
export function analyseShape(t: Float64Array, v: Float64Array, ctx: ShapeContext): ShapeResult {
  const { limit } = ctx;
  const floor = 0.001 * limit;
  const h = hampel(v, 3, 3.5, 0.002 * limit);
  const p: Prepared = { t, vc: h.values, raw: v, outliers: h.outliers, white: Math.max(robustSigma(differences(h.values)) / Math.SQRT2, floor) };
  const m = t.length;
  const span = (t[m - 1] as number) - (t[0] as number);
  const b = bucketMedians(t, p.vc, MAX_TREND_POINTS);
  const overall = trendTest(b.t, b.v);
  if (overall === undefined) return levelShape(p, ctx, 'flat', t[0] as number, ['all samples share one timestamp']);
  const periodic = periodicShape(p, ctx, overall, span);
  if (periodic !== undefined) return periodic;
  return averagedShape(p, ctx);
}

/** A change found by binary segmentation. */
interface Change {
  /** Start of the newer side (s from now). */
  readonly at: number;
  readonly f: number;
}

/** Binary segmentation towards the present: the changes, oldest first, each splitting the newer side of the last. */
function latestChanges(p: Prepared): Change[] {
  const changes: Change[] = [];
  let from = 0;
  for (let round = 0; round < 4; round++) {
    const t = p.t.subarray(from);
    const v = p.vc.subarray(from);
    const b = bucketMedians(t, v, MAX_TREND_POINTS);
    const split = bestSplit(b.t, b.v, Math.max(4, Math.floor(b.t.length / 12)));
    if (split === undefined) break;
    const cut = b.t[split.index] as number;
    const fSplit = modelF(b.t, b.v, split.sseLine, split.sseSplit, 3, (x) => {
      const seg = x < cut ? split.before : split.after;
      return seg.intercept + seg.slope * x;
    });
    // A split that removes most of the line's residual variance is a change even when the residuals stay serially
    // correlated (a curve that two lines do not fit exactly, like flat → rise → plateau).
    if (fSplit < F_CRIT && split.sseSplit > 0.3 * split.sseLine) break;
    const i0 = firstIndexAtOrAfter(p.t, cut);
    if (p.t.length - i0 < 3) break;
    changes.push({ at: cut, f: fSplit });
    from = i0;
  }
  return changes;
}

/** A candidate model of the latest regimes: its fit on the bucketed points, and its forecast built on demand. */
interface Candidate {
  /** Parameters, counting a searched change point as two. */
  readonly k: number;
  readonly sse: number;
  readonly resid: Float64Array;
  readonly build: () => ShapeResult;
}

function residuals(t: ArrayLike<number>, v: ArrayLike<number>, f: (t: number) => number): { sse: number; resid: Float64Array } {
  const resid = new Float64Array(t.length);
  let sse = 0;
  for (let i = 0; i < t.length; i++) {
    const r = (v[i] as number) - f(t[i] as number);
    resid[i] = r;
    sse += r * r;
  }
  return { sse, resid };
}

function isRising(test: TrendTest, alpha: number): boolean {
  return test.p < alpha && test.slopeLow > 0;
}

/**
 * Model averaging over the latest regimes (since the change before last, or the segment start): a level, a line,
 * an exponential approach, and — split at the latest change — a line, a level or an approach after it. Each is
 * weighted by BIC on the bucketed points (the residual variance of the best model as the noise, discounted for
 * its serial correlation), and the forecast is the weighted mixture: when a leak and a warm-up explain the data
 * about equally, the probability says so instead of betting on one. Pattern and reasoning come from the heaviest.
 */
function averagedShape(p: Prepared, ctx: ShapeContext): ShapeResult {
  const changes = latestChanges(p);
  const t0 = p.t[0] as number;
  const r2Start = changes.length >= 2 ? (changes[changes.length - 2] as Change).at : t0;
  const i2 = firstIndexAtOrAfter(p.t, r2Start);
  const b = bucketMedians(p.t.subarray(i2), p.vc.subarray(i2), MAX_TREND_POINTS);
  const n = b.t.length;
  const pre = prefixSums(b.t, b.v);
  const whole = r2Start === t0;
  const candidates: Candidate[] = [];
  const intro = whole ? [] : [`a change ${formatSeconds(-r2Start)} ago (two-segment fit); the data since then is analysed`];

  // A level.
  const mean = ((pre.sv[n] as number) - (pre.sv[0] as number)) / n;
  candidates.push({ k: 1, ...residuals(b.t, b.v, () => mean), build: () => levelShape(p, ctx, 'flat', r2Start, intro) });
  // A line.
  const lf = fitRange(pre, 0, n);
  candidates.push({
    k: 2,
    ...residuals(b.t, b.v, (x) => lf.intercept + lf.slope * x),
    build: () => {
      const test = trendTest(b.t, b.v) as TrendTest;
      const span = (b.t[n - 1] as number) - (b.t[0] as number);
      const rising = isRising(test, whole ? 0.01 : 0.05);
      const pattern: Pattern = rising ? (whole ? 'linear-leak' : 'leak-after-change-point') : 'flat';
      return lineShape(p, ctx, test, pattern, r2Start, [...intro, rising ? trendSentence(ctx, test, span, ctx.what) : `no significant rise: ${trendSentence(ctx, test, span, ctx.what)}`]);
    },
  });
  // An exponential approach.
  const approach = fitApproach(b.t, b.v, r2Start);
  if (approach !== undefined && approach.drop > 0) {
    candidates.push({ k: 3, ...residuals(b.t, b.v, (x) => approachAt(approach, x)), build: () => approachShape(p, ctx, approach, r2Start, b, intro) });
  }
  // Splits: each after-model at its own best change point (a searched change point counts as two parameters).
  const minPoints = Math.max(4, Math.floor(n / 12));
  const changeIntro = (at: number, k: number): { intro: string; beforeRising: boolean; bt: TrendTest | undefined } => {
    const bt = trendTest(b.t.subarray(0, k), b.v.subarray(0, k));
    const beforeRising = bt !== undefined && isRising(bt, 0.05);
    const how = beforeRising && bt !== undefined ? `rose ${formatRate(bt.slope, ctx.unit)}` : bt !== undefined && bt.slope < 0 && bt.p < 0.05 ? 'fell' : 'was flat';
    return { intro: `a change ${formatSeconds(-at)} ago: before it ${ctx.what} ${how}`, beforeRising, bt };
  };
  const jumpSignificant = (jump: number): boolean => Math.abs(jump) >= Math.max(4 * p.white, 0.02 * ctx.limit);
  const lineSplit = bestSplit(b.t, b.v, minPoints);
  if (lineSplit !== undefined) {
    const at = b.t[lineSplit.index] as number;
    const k = lineSplit.index;
    const fb = (x: number): number => lineSplit.before.intercept + lineSplit.before.slope * x;
    const fa = (x: number): number => lineSplit.after.intercept + lineSplit.after.slope * x;
    candidates.push({
      k: 6,
      ...residuals(b.t, b.v, (x) => (x < at ? fb(x) : fa(x))),
      build: () => {
        const { intro: ci, beforeRising, bt } = changeIntro(at, k);
        const test = trendTest(b.t.subarray(k), b.v.subarray(k)) as TrendTest;
        const span = (b.t[n - 1] as number) - at;
        if (isRising(test, 0.05)) {
          const slowing = beforeRising && bt !== undefined && bt.slopeLow > test.slopeHigh;
          return lineShape(
            p,
            ctx,
            test,
            slowing ? 'saturating-growth' : 'leak-after-change-point',
            at,
            [slowing ? `${ci}, faster than since: growth is slowing` : `${ci}; only the data after it is fitted`, trendSentence(ctx, test, span, `since then ${ctx.what}`)],
          );
        }
        return lineShape(p, ctx, test, jumpSignificant(fa(at) - fb(at)) ? 'step' : 'flat', at, [`${ci}; no significant rise since (${formatRate(test.slope, ctx.unit)})`]);
      },
    });
  }
  const levelSplit = bestLevelSplit(b.t, b.v, minPoints);
  if (levelSplit !== undefined) {
    const at = b.t[levelSplit.index] as number;
    const k = levelSplit.index;
    const fb = (x: number): number => levelSplit.before.intercept + levelSplit.before.slope * x;
    const jump = levelSplit.level - fb(at);
    candidates.push({
      k: 5,
      ...residuals(b.t, b.v, (x) => (x < at ? fb(x) : levelSplit.level)),
      build: () => {
        const { intro: ci, beforeRising } = changeIntro(at, k);
        if (beforeRising && !(jump >= Math.max(4 * p.white, 0.02 * ctx.limit))) {
          return levelShape(p, ctx, 'warm-up', at, [`${ci} and has been flat since: a warm-up that levelled off`]);
        }
        return jumpSignificant(jump)
          ? levelShape(p, ctx, 'step', at, [`a step ${jump > 0 ? 'up' : 'down'} of ${formatAmount(Math.abs(jump), ctx.unit)} ${formatSeconds(-at)} ago, flat since`])
          : levelShape(p, ctx, 'flat', at, [`${ci}; flat since`]);
      },
    });
  }
  const approachSplit = bestApproachSplit(b.t, b.v, minPoints);
  if (approachSplit !== undefined) {
    const at = b.t[approachSplit.index] as number;
    const k = approachSplit.index;
    const fb = (x: number): number => approachSplit.before.intercept + approachSplit.before.slope * x;
    const ap = approachSplit.approach;
    candidates.push({
      k: 7,
      ...residuals(b.t, b.v, (x) => (x < at ? fb(x) : approachAt(ap, x))),
      build: () => approachShape(p, ctx, ap, at, { t: b.t.subarray(k), v: b.v.subarray(k) }, [changeIntro(at, k).intro]),
    });
  }
  // A cycle too long for the autocorrelation test (fewer than 2.5 periods in view) can still explain a rise
  // better than a line does: a line plus two harmonics, at the best of a log-spaced scan of periods.
  const r2Span = (b.t[n - 1] as number) - (b.t[0] as number);
  const bucketStep = r2Span / Math.max(1, n - 1);
  const harmonic = n >= 24 ? bestHarmonic(b.t, b.v, Math.max(6 * bucketStep, 4 * ctx.dt), r2Span / 1.5) : undefined;
  if (harmonic !== undefined) {
    const hf = harmonic;
    candidates.push({
      k: 7,
      ...residuals(b.t, b.v, (x) => hf.level + hf.slope * x + hf.periodic(x)),
      build: () => oscillationShape(slicePrepared(p, i2), ctx, hf.period, undefined, r2Span) ?? levelShape(p, ctx, 'flat', r2Start, intro),
    });
  }
  return mixture(candidates, n, 0.001 * ctx.limit);
}

/** The samples from index `from` on (outlier indices shifted). */
function slicePrepared(p: Prepared, from: number): Prepared {
  if (from <= 0) return p;
  return { t: p.t.subarray(from), vc: p.vc.subarray(from), raw: p.raw.subarray(from), outliers: p.outliers.filter((i) => i >= from).map((i) => i - from), white: p.white };
}

/** The line-plus-harmonics fit with the least residual sum of squares over 24 log-spaced periods in [lo, hi]. */
function bestHarmonic(t: ArrayLike<number>, v: ArrayLike<number>, lo: number, hi: number): HarmonicFit | undefined {
  if (!(hi > lo)) return undefined;
  let best: HarmonicFit | undefined;
  const steps = 24;
  for (let i = 0; i < steps; i++) {
    const fit = fitHarmonic(t, v, lo * Math.pow(hi / lo, i / (steps - 1)));
    if (fit !== undefined && (best === undefined || fit.sse < best.sse)) best = fit;
  }
  return best;
}

/**
 * BIC weights of the candidates and the weighted mixture of their forecasts. `resolution` floors the noise: on
 * data smoother than a thousandth of the limit, differences in fit are rounding, not evidence.
 */
function mixture(candidates: readonly Candidate[], n: number, resolution: number): ShapeResult {
  let best = candidates[0] as Candidate;
  let sigma2 = Infinity;
  for (const c of candidates) {
    const s2 = c.sse / Math.max(1, n - c.k);
    if (s2 < sigma2) {
      sigma2 = s2;
      best = c;
    }
  }
  sigma2 = Math.max(sigma2, resolution * resolution, 1e-12);
  const inflation = varianceInflation(best.resid, 12);
  const nEff = Math.max(2, n / inflation);
  const bic = candidates.map((c) => c.sse / (sigma2 * inflation) + c.k * Math.log(nEff));
  const minBic = Math.min(...bic);
  let weights = bic.map((x) => Math.exp(-(x - minBic) / 2));
  const sum = weights.reduce((a, w) => a + w, 0);
  weights = weights.map((w) => (w / sum >= 0.01 ? w / sum : 0));
  const kept = weights.reduce((a, w) => a + w, 0);
  const built: { shape: ShapeResult; weight: number }[] = [];
  candidates.forEach((c, i) => {
    const w = (weights[i] as number) / kept;
    if (w > 0) built.push({ shape: c.build(), weight: w });
  });
  built.sort((a, b) => b.weight - a.weight);
  const top = built[0] as { shape: ShapeResult; weight: number };
  const others = built.slice(1).filter((x) => x.weight >= 0.1);
  const reasoning = [...top.shape.reasoning];
  if (others.length > 0) {
    reasoning.push(
      `model weights (BIC): ${[top, ...others].map((x) => `${x.shape.pattern} ${formatNumber(x.weight)}`).join(', ')}; the forecast mixes them`,
    );
  }
  return {
    ...top.shape,
    model: { nodes: built.flatMap((x) => x.shape.model.nodes.map((node) => ({ ...node, weight: node.weight * x.weight }))) },
    reasoning,
  };
}

function lineShape(p: Prepared, ctx: ShapeContext, test: TrendTest, pattern: Pattern, fittedFrom: number, reasoning: string[]): ShapeResult {
  const f = (x: number): number => test.intercept + test.slope * x;
  const i0 = firstIndexAtOrAfter(p.t, fittedFrom);
  const sc = scatter(p.t.subarray(i0), p.raw.subarray(i0), f, ctx.dt, 0.001 * ctx.limit);
  return {
    pattern,
    model: equalNodes(lineNodes(test.intercept, test.slope, slopeSe(test)), sc.sigma, sc.noise),
    forecastModel: 'line',
    center: f,
    fittedFrom,
    slope: test.slope,
    slopeInterval: { low: test.slopeLow, high: test.slopeHigh },
    reasoning,
    outliers: p.outliers.length,
  };
}

/** A level (slope 0) from the recent samples; spikes (Hampel outliers) become an arrival process. */
function levelShape(p: Prepared, ctx: ShapeContext, pattern: Pattern, fittedFrom: number, reasoning: string[]): ShapeResult {
  const { t, vc, raw } = p;
  const m = t.length;
  const end = t[m - 1] as number;
  const recentFrom = end - Math.max(300, 0.2 * (end - fittedFrom));
  const recent: number[] = [];
  for (let i = m - 1; i >= 0 && (t[i] as number) >= recentFrom; i--) recent.push(vc[i] as number);
  const level = median(recent);
  const i0 = firstIndexAtOrAfter(t, fittedFrom);
  const sc = scatter(t.subarray(i0), raw.subarray(i0), () => level, ctx.dt, 0.001 * ctx.limit);
  const reasons = [...reasoning];
  let finalPattern = pattern;
  let hazard: number | undefined;

  // Spikes: runs of outliers well above the local median (six σ of the level's scatter).
  const runs: number[] = [];
  let prev = -2;
  for (const i of p.outliers) {
    const excess = (raw[i] as number) - (vc[i] as number);
    if (excess < 6 * sc.sigma) continue;
    if (i === prev + 1 && runs.length > 0) runs[runs.length - 1] = Math.max(runs[runs.length - 1] as number, excess);
    else runs.push(excess);
    prev = i;
  }
  const span = Math.max(end - (t[0] as number), ctx.dt);
  if (runs.length >= 2 && (pattern === 'flat' || pattern === 'step')) {
    finalPattern = pattern === 'flat' ? 'spikes' : pattern;
    const need = ctx.limit - level;
    const high = runs.filter((e) => e >= need).length;
    // The share of spikes that reach `need`: beyond the highest one seen, an exponential tail fitted to the
    // heights above the detection threshold (peaks over threshold), so that spikes of 40% of the way up today
    // give a small chance of one going all the way, not none.
    const u = 6 * sc.sigma;
    const meanExcess = runs.reduce((a, e) => a + (e - u), 0) / runs.length;
    const tail = need <= u ? 1 : meanExcess > 0 ? Math.exp(-(need - u) / meanExcess) : 0;
    const share = Math.max(high / (runs.length + 1), tail * (runs.length / (runs.length + 1)));
    hazard = (runs.length / span) * share;
    const biggest = Math.max(...runs);
    reasons.unshift(
      `${runs.length} spikes in ${formatSeconds(span)} above a level of ${formatAmount(level, ctx.unit)}, the highest ${formatAmount(biggest, ctx.unit)} above it (Hampel filter); ${high === 0 ? `none would reach the limit from this level (tail estimate: ${formatNumber(100 * share)}% of spikes would)` : `${high} would reach the limit from this level`}`,
    );
  }
  return {
    pattern: finalPattern,
    model: equalNodes([() => level], sc.sigma, sc.noise),
    forecastModel: 'level',
    center: () => level,
    fittedFrom,
    slope: 0,
    ...(hazard === undefined ? {} : { hazard }),
    reasoning: [...reasons, `level ${formatAmount(level, ctx.unit)}, scatter σ ${formatAmount(sc.sigma, ctx.unit)}`],
    outliers: p.outliers.length,
  };
}

function approachShape(p: Prepared, ctx: ShapeContext, fit: ApproachFit, fittedFrom: number, b: { t: Float64Array; v: Float64Array }, intro: string[]): ShapeResult {
  const level0 = approachAt(fit, 0);
  const slopeNow = (fit.drop / fit.tau) * Math.exp(fit.origin / fit.tau);
  const f = (x: number): number => approachAt(fit, x);
  const i0 = firstIndexAtOrAfter(p.t, fittedFrom);
  const sc = scatter(p.t.subarray(i0), p.raw.subarray(i0), f, ctx.dt, 0.001 * ctx.limit);
  const r = new Float64Array(b.t.length);
  for (let i = 0; i < b.t.length; i++) r[i] = (b.v[i] as number) - f(b.t[i] as number);
  const se = fit.asymptoteSe * Math.sqrt(varianceInflation(r));
  const stillRising = slopeNow * 600 >= Math.max(2 * sc.sigma, 0.01 * ctx.limit);
  const nodes = NODES.map((z) => {
    const a = fit.asymptote + z * se;
    return (x: number): number => a - (a - level0) * Math.exp(-x / fit.tau);
  });
  const half = b.t.length >> 1;
  const older = trendTest(b.t.subarray(0, half), b.v.subarray(0, half));
  const newer = trendTest(b.t.subarray(half), b.v.subarray(half));
  const reasoning = [
    ...intro,
    stillRising
      ? `${ctx.what} still rises (${formatRate(slopeNow, ctx.unit)} now) but decelerates towards ${formatAmount(fit.asymptote, ctx.unit)} ±${formatAmount(Z90 * se, ctx.unit)} (exponential approach, time constant ${formatSeconds(fit.tau)}), ${fit.asymptote >= ctx.limit ? 'above' : 'below'} the limit`
      : `${ctx.what} rose and levelled off at ${formatAmount(fit.asymptote, ctx.unit)} (exponential approach, time constant ${formatSeconds(fit.tau)}): a warm-up`,
  ];
  if (older !== undefined && newer !== undefined) {
    reasoning.push(`deceleration: the older half rose ${formatRate(older.slope, ctx.unit)}, the newer half ${formatRate(newer.slope, ctx.unit)}`);
  }
  return {
    pattern: stillRising ? 'saturating-growth' : 'warm-up',
    model: equalNodes(nodes, sc.sigma, sc.noise),
    forecastModel: 'exponential',
    center: f,
    fittedFrom,
    slope: slopeNow,
    asymptote: fit.asymptote,
    tau: fit.tau,
    reasoning,
    outliers: p.outliers.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cycles

/**
 * A sawtooth or an oscillation, if the detrended series has a period with at least three whole cycles whose
 * amplitude stands out of the short-term noise; undefined otherwise.
 */
function periodicShape(p: Prepared, ctx: ShapeContext, overall: TrendTest, span: number): ShapeResult | undefined {
  const grid = resample(p.t, p.vc, ctx.dt);
  const detrended = new Float64Array(grid.v.length);
  for (let k = 0; k < grid.v.length; k++) detrended[k] = (grid.v[k] as number) - (overall.intercept + overall.slope * (grid.t0 + k * grid.step));
  const period = findPeriod({ t0: grid.t0, step: grid.step, v: detrended });
  if (period === undefined) return undefined;
  const cycles = cycleExtremes(p.t, p.vc, period.seconds);
  if (cycles.length < 3) return undefined;
  const amplitude = median(cycles.map((c) => (c.peakV - c.troughV) / 2));
  const sawtooth = ctx.kind === 'memory' && differenceSkewness(grid) < -0.6;
  if (sawtooth) {
    // Collections come at irregular intervals, so no fixed-period fit describes them: the cycle's height must stand
    // out of the successive-difference noise (robust, so the drops themselves do not count).
    if (amplitude < 2 * p.white) return undefined;
  } else {
    // The cycle must stand out of what remains around a fitted cycle. Not the successive-difference noise: a cycle
    // of a few samples makes the differences large by itself.
    const harmonic = fitHarmonic(p.t, p.vc, period.seconds);
    if (harmonic === undefined) return undefined;
    const resid = new Float64Array(p.t.length);
    for (let i = 0; i < p.t.length; i++) {
      const ti = p.t[i] as number;
      resid[i] = (p.vc[i] as number) - (harmonic.level + harmonic.slope * ti + harmonic.periodic(ti));
    }
    if (harmonic.amplitude < 2 * Math.max(robustSigma(resid), 0.001 * ctx.limit)) return undefined;
  }
  return sawtooth
    ? sawtoothShape(p, ctx, overall, period.seconds, period.strength, cycles, amplitude, span)
    : oscillationShape(p, ctx, period.seconds, period.strength, span);
}

/**
 * GC sawtooth: the trend of the floor (troughs after each collection) says whether it leaks; the peaks' envelope,
 * where an OOM would happen, is forecast. One try per cycle (each peak is a chance to cross).
 */
function sawtoothShape(p: Prepared, ctx: ShapeContext, overall: TrendTest, period: number, strength: number, cycles: readonly CycleExtremes[], amplitude: number, span: number): ShapeResult {
  const floorTrend = trendTest(cycles.map((c) => c.troughT), cycles.map((c) => c.troughV));
  const rising = floorTrend !== undefined && floorTrend.p < 0.05 && floorTrend.slopeLow > 0;
  const test = floorTrend ?? overall;
  const slope = rising ? test.slope : 0;
  const se = rising ? slopeSe(test) : 0;
  const peakLevel = median(cycles.map((c) => c.peakV - slope * c.peakT));
  const floorLevel = median(cycles.map((c) => c.troughV - slope * c.troughT));
  const peakSigma = Math.max(robustSigma(cycles.map((c) => c.peakV - slope * c.peakT - peakLevel)), p.white, 0.001 * ctx.limit);
  const f = (x: number): number => peakLevel + slope * x;
  return {
    pattern: rising ? 'sawtooth-leak' : 'healthy-sawtooth',
    model: equalNodes(rising ? lineNodes(peakLevel, slope, se) : [f], peakSigma, { step: period }),
    forecastModel: 'envelope',
    center: f,
    fittedFrom: p.t[0] as number,
    slope,
    ...(rising ? { slopeInterval: { low: test.slopeLow, high: test.slopeHigh } } : {}),
    period,
    amplitude,
    envelope: { peakAtNow: peakLevel, peakSlopePerSecond: slope, floorAtNow: floorLevel, floorSlopePerSecond: slope },
    reasoning: [
      `a GC sawtooth: a collection every ${formatSeconds(period)} (autocorrelation ${formatNumber(strength)}), ${formatAmount(2 * amplitude, ctx.unit)} from floor to peak`,
      floorTrend === undefined
        ? 'too few cycles to trend the floor'
        : rising
          ? trendSentence(ctx, floorTrend, span, 'the floor after each collection')
          : `the floor after each collection does not rise significantly (${formatRate(floorTrend.slope, ctx.unit)}, Mann–Kendall ${pText(floorTrend.p)})`,
      `the peaks reach ${formatAmount(peakLevel, ctx.unit)} now; the forecast follows the peaks, where an OOM would happen`,
    ],
    outliers: p.outliers.length,
  };
}

/**
 * Oscillation: a line plus two harmonics of the period (refined around the autocorrelation's estimate) is fitted,
 * which tests the mean's rise far more sharply than a rank test on a series whose residuals are the cycle itself.
 * The forecast keeps the cycle's phase, so crossings happen at the peaks, where they would.
 */
function oscillationShape(p: Prepared, ctx: ShapeContext, period0: number, strength: number | undefined, span: number): ShapeResult | undefined {
  // The autocorrelation's lag is a grid step coarse, and a period off by 1% drifts a tenth of a cycle over ten
  // cycles: a coarse then a fine scan of the fit's residual sum of squares.
  let best: HarmonicFit | undefined;
  for (let k = -4; k <= 4; k++) {
    const fit = fitHarmonic(p.t, p.vc, period0 * (1 + 0.035 * k));
    if (fit !== undefined && (best === undefined || fit.sse < best.sse)) best = fit;
  }
  if (best === undefined) return undefined;
  const coarse = best.period;
  for (let k = -4; k <= 4; k++) {
    if (k === 0) continue;
    const fit = fitHarmonic(p.t, p.vc, coarse * (1 + 0.0045 * k));
    if (fit !== undefined && fit.sse < best.sse) best = fit;
  }
  const fit = best;
  const resid = new Float64Array(p.t.length);
  for (let i = 0; i < p.t.length; i++) {
    const ti = p.t[i] as number;
    resid[i] = (p.vc[i] as number) - (fit.level + fit.slope * ti + fit.periodic(ti));
  }
  const inflation = varianceInflation(resid);
  const se = fit.slopeSe * Math.sqrt(inflation);
  const z = se > 0 ? fit.slope / se : 0;
  const rising = z >= 2.33;
  const slope = rising ? fit.slope : 0;
  const rawResid = new Float64Array(p.t.length);
  for (let i = 0; i < p.t.length; i++) rawResid[i] = (resid[i] as number) + (p.raw[i] as number) - (p.vc[i] as number);
  const sigma = Math.max(robustSigma(rawResid), 0.001 * ctx.limit);
  const nodes = rising ? NODES.map((q) => (x: number) => fit.level + (fit.slope + q * se) * x + fit.periodic(x)) : [(x: number) => fit.level + fit.periodic(x)];
  const center = (x: number): number => fit.level + slope * x + fit.periodic(x);
  const peakAtNow = fit.level + fit.peakOffset;
  return {
    pattern: rising ? 'rising-oscillation' : 'oscillation',
    model: equalNodes(nodes, sigma, { rho: lagOne(rawResid), dt: ctx.dt }),
    forecastModel: 'envelope',
    center,
    fittedFrom: p.t[0] as number,
    slope,
    ...(rising ? { slopeInterval: { low: fit.slope - Z90 * se, high: fit.slope + Z90 * se } } : {}),
    period: fit.period,
    amplitude: fit.amplitude,
    envelope: { peakAtNow, peakSlopePerSecond: slope, floorAtNow: peakAtNow - 2 * fit.amplitude, floorSlopePerSecond: slope },
    reasoning: [
      `oscillates with a period of ${formatSeconds(fit.period)} (${strength === undefined ? 'harmonic fit' : `autocorrelation ${formatNumber(strength)}`}) and an amplitude of ±${formatAmount(fit.amplitude, ctx.unit)}`,
      rising
        ? `its mean rises ${formatRate(fit.slope, ctx.unit)} (90% interval ${formatRate(fit.slope - Z90 * se, ctx.unit)} to ${formatRate(fit.slope + Z90 * se, ctx.unit)}, z = ${formatNumber(z)}) over ${formatSeconds(span)}; the peaks are forecast, not the mean`
        : `its mean does not rise significantly (${formatRate(fit.slope, ctx.unit)}, z = ${formatNumber(z)})`,
      `the peaks reach ${formatAmount(peakAtNow, ctx.unit)} now`,
    ],
    outliers: p.outliers.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Short segments

/**
 * Too little data in the segment: the previous run's rate when it leaked (a restart does not fix a leak), else the
 * short trend so far with its wide interval, under the `insufficient-data` pattern.
 */
export function shortShape(t: Float64Array, v: Float64Array, ctx: ShapeContext, previous: { t: Float64Array; v: Float64Array } | undefined): ShapeResult {
  const m = t.length;
  const span = m > 0 ? (t[m - 1] as number) - (t[0] as number) : 0;
  const latest = v[m - 1] as number;
  const level = median(v.subarray(Math.max(0, m - 3)));
  const floor = 0.001 * ctx.limit;
  const why = `only ${m} samples over ${formatSeconds(span)} (a trend needs ${MIN_SAMPLES} over ${formatSeconds(MIN_SPAN_SECONDS)})`;
  if (previous !== undefined && previous.t.length >= MIN_SAMPLES) {
    const pspan = (previous.t[previous.t.length - 1] as number) - (previous.t[0] as number);
    const pb = bucketMedians(previous.t, previous.v, MAX_TREND_POINTS);
    const pt = trendTest(pb.t, pb.v);
    if (pt !== undefined && pspan >= MIN_SPAN_SECONDS && pt.p < 0.01 && pt.slopeLow > 0) {
      const sc = scatter(previous.t, previous.v, (x) => pt.intercept + pt.slope * x, ctx.dt, floor);
      return {
        pattern: 'linear-leak',
        model: equalNodes(lineNodes(level, pt.slope, slopeSe(pt)), sc.sigma, sc.noise),
        forecastModel: 'line',
        center: (x) => level + pt.slope * x,
        fittedFrom: previous.t[0] as number,
        slope: pt.slope,
        slopeInterval: { low: pt.slopeLow, high: pt.slopeHigh },
        reasoning: [why, `${trendSentence(ctx, pt, pspan, `before the restart ${ctx.what}`)}; the same rate is assumed from ${formatAmount(level, ctx.unit)} now`],
        outliers: 0,
        previousRun: true,
      };
    }
  }
  const test = m >= 4 ? trendTest(t, v) : undefined;
  if (test !== undefined && span >= 60) {
    const slope = Math.max(0, test.slope);
    const sc = scatter(t, v, (x) => test.intercept + test.slope * x, ctx.dt, floor);
    return {
      pattern: 'insufficient-data',
      model: equalNodes(lineNodes(test.intercept, slope, slopeSe(test)), sc.sigma, sc.noise),
      forecastModel: 'line',
      center: (x) => test.intercept + slope * x,
      fittedFrom: t[0] as number,
      slope: test.slope,
      slopeInterval: { low: test.slopeLow, high: test.slopeHigh },
      reasoning: [why, `so far ${formatRate(test.slope, ctx.unit)} (90% interval ${formatRate(test.slopeLow, ctx.unit)} to ${formatRate(test.slopeHigh, ctx.unit)})`],
      outliers: 0,
    };
  }
  return {
    pattern: 'insufficient-data',
    model: equalNodes([() => latest], Math.max(robustSigma(v), floor), { rho: 0, dt: ctx.dt }),
    forecastModel: 'level',
    center: () => latest,
    fittedFrom: m > 0 ? (t[0] as number) : 0,
    slope: 0,
    reasoning: [why],
    outliers: 0,
  };
}
