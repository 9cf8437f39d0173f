/**
 * Shape fits beyond a single line, over small bucketed series: the best two-segment split (change point) and the
 * exponential approach to a plateau (warm-up, saturating growth). Pure; O(m) per split scan with prefix sums, O(m·k)
 * for k time constants.
 */
import { fitRange, prefixSums, type LineFit } from './stats.js';

/** The best split of a series into two least-squares lines (not joined at the split). */
export interface SplitFit {
  /** Index of the first point of the second segment. */
  readonly index: number;
  readonly before: LineFit;
  readonly after: LineFit;
  /** Residual sum of squares of the single line and of the split model. */
  readonly sseLine: number;
  readonly sseSplit: number;
  /**
   * F statistic of the split against one line, (ΔSSE / 3) / (SSE_split / (n − 5)): three more parameters (a second
   * slope, a second intercept, the split itself) and what they buy. Large means the change is real.
   */
  readonly f: number;
}

/**
 * Scans every split leaving at least `minPoints` points on each side and returns the one with the least residual
 * sum of squares. Undefined when the series is too short for two such segments.
 */
export function bestSplit(t: ArrayLike<number>, v: ArrayLike<number>, minPoints: number): SplitFit | undefined {
  const n = t.length;
  if (n < 2 * minPoints || n < 8) return undefined;
  const p = prefixSums(t, v);
  const line = fitRange(p, 0, n);
  let best: { index: number; sse: number } | undefined;
  for (let k = minPoints; k <= n - minPoints; k++) {
    const sse = fitRange(p, 0, k).sse + fitRange(p, k, n).sse;
    if (best === undefined || sse < best.sse) best = { index: k, sse };
  }
  if (best === undefined) return undefined;
  const sseSplit = Math.max(best.sse, 1e-12 * (line.sse + 1e-12));
  return {
    index: best.index,
    before: fitRange(p, 0, best.index),
    after: fitRange(p, best.index, n),
    sseLine: line.sse,
    sseSplit,
    f: (line.sse - sseSplit) / 3 / (sseSplit / Math.max(1, n - 5)),
  };
}

/** An exponential approach `asymptote − drop·e^(−(t − origin)/tau)`. */
export interface ApproachFit {
  readonly asymptote: number;
  /** Positive when rising towards the asymptote. */
  readonly drop: number;
  readonly tau: number;
  readonly origin: number;
  readonly sse: number;
  /** Standard error of the asymptote (given tau). */
  readonly asymptoteSe: number;
}

/** The value of an approach fit at t. */
export function approachAt(fit: ApproachFit, t: number): number {
  return fit.asymptote - fit.drop * Math.exp(-(t - fit.origin) / fit.tau);
}

/**
 * Least-squares exponential approach over a log-spaced grid of time constants from span/30 to 3·span (the
 * amplitude and asymptote are linear given tau). `origin` is the time the approach started (the segment start).
 * Undefined for fewer than 6 points.
 */
export function fitApproach(t: ArrayLike<number>, v: ArrayLike<number>, origin: number): ApproachFit | undefined {
  const n = t.length;
  if (n < 6) return undefined;
  const span = (t[n - 1] as number) - (t[0] as number);
  if (span <= 0) return undefined;
  const steps = 16;
  const ratio = Math.pow(90, 1 / (steps - 1));
  let best: ApproachFit | undefined;
  for (let s = 0; s < steps; s++) {
    const fit = approachGivenTau(t, v, origin, (span / 30) * Math.pow(ratio, s));
    if (fit !== undefined && (best === undefined || fit.sse < best.sse)) best = fit;
  }
  if (best === undefined) return undefined;
  // Golden-section search of log tau between the grid neighbours of the best: the grid is a factor 1.35 coarse.
  let lo = Math.log(best.tau / ratio);
  let hi = Math.log(best.tau * ratio);
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 6; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    const fa = approachGivenTau(t, v, origin, Math.exp(a));
    const fb = approachGivenTau(t, v, origin, Math.exp(b));
    if ((fa?.sse ?? Infinity) <= (fb?.sse ?? Infinity)) hi = b;
    else lo = a;
    for (const f of [fa, fb]) if (f !== undefined && f.sse < best.sse) best = f;
  }
  return best;
}

/** The least-squares amplitude and asymptote for a given time constant (linear in them). */
function approachGivenTau(t: ArrayLike<number>, v: ArrayLike<number>, origin: number, tau: number): ApproachFit | undefined {
  const n = t.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.exp(-((t[i] as number) - origin) / tau);
    const y = v[i] as number;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  const cxx = sxx - (sx * sx) / n;
  if (cxx <= 1e-15) return undefined;
  const cxy = sxy - (sx * sy) / n;
  const slope = cxy / cxx;
  const intercept = (sy - slope * sx) / n;
  const sse = Math.max(0, syy - (sy * sy) / n - slope * cxy);
  const s2 = sse / Math.max(1, n - 2);
  return { asymptote: intercept, drop: -slope, tau, origin, sse, asymptoteSe: Math.sqrt((s2 * sxx) / (n * cxx)) };
}

/** Solves the k×k system A·x = y in place by Gaussian elimination with partial pivoting; undefined when singular. */
function solve(a: Float64Array[], y: Float64Array): Float64Array | undefined {
  const k = y.length;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs((a[r] as Float64Array)[c] as number) > Math.abs((a[p] as Float64Array)[c] as number)) p = r;
    const pivot = (a[p] as Float64Array)[c] as number;
    if (Math.abs(pivot) < 1e-12) return undefined;
    if (p !== c) {
      [a[p], a[c]] = [a[c] as Float64Array, a[p] as Float64Array];
      const tmp = y[p] as number;
      y[p] = y[c] as number;
      y[c] = tmp;
    }
    const rowC = a[c] as Float64Array;
    for (let r = c + 1; r < k; r++) {
      const row = a[r] as Float64Array;
      const f = (row[c] as number) / pivot;
      if (f === 0) continue;
      for (let j = c; j < k; j++) row[j] = (row[j] as number) - f * (rowC[j] as number);
      y[r] = (y[r] as number) - f * (y[c] as number);
    }
  }
  const x = new Float64Array(k);
  for (let r = k - 1; r >= 0; r--) {
    const row = a[r] as Float64Array;
    let s = y[r] as number;
    for (let j = r + 1; j < k; j++) s -= (row[j] as number) * (x[j] as number);
    x[r] = s / (row[r] as number);
  }
  return x;
}

/** A line plus two harmonics of one period: a + b·t + Σ (sₕ·sin(hωt) + cₕ·cos(hωt)), h = 1, 2. */
export interface HarmonicFit {
  readonly period: number;
  /** Value of the mean line at t = 0 (now) and its slope per second. */
  readonly level: number;
  readonly slope: number;
  /** Standard error of the slope (independent residuals; callers inflate for serial correlation). */
  readonly slopeSe: number;
  readonly sse: number;
  /** Half the peak-to-trough range of the periodic part. */
  readonly amplitude: number;
  /** Highest value of the periodic part above the mean line. */
  readonly peakOffset: number;
  /** Periodic part at t. */
  readonly periodic: (t: number) => number;
}

/**
 * Least-squares fit of a line plus the first two harmonics of `period` (six coefficients). Times are scaled by the
 * span for conditioning. Undefined for fewer than 10 points or a singular system.
 */
export function fitHarmonic(t: ArrayLike<number>, v: ArrayLike<number>, period: number): HarmonicFit | undefined {
  const n = t.length;
  if (n < 10 || !(period > 0)) return undefined;
  const scale = Math.max(Math.abs(t[0] as number), Math.abs(t[n - 1] as number), 1);
  const w = (2 * Math.PI) / period;
  const k = 6;
  const a = Array.from({ length: k }, () => new Float64Array(k));
  const y = new Float64Array(k);
  const row = new Float64Array(k);
  let syy = 0;
  const fill = (ti: number): void => {
    const sn = Math.sin(w * ti);
    const cs = Math.cos(w * ti);
    row[0] = 1;
    row[1] = ti / scale;
    row[2] = sn;
    row[3] = cs;
    // Double-angle identities: two trigonometric calls per point instead of four.
    row[4] = 2 * sn * cs;
    row[5] = cs * cs - sn * sn;
  };
  for (let i = 0; i < n; i++) {
    const ti = t[i] as number;
    const vi = v[i] as number;
    fill(ti);
    for (let r = 0; r < k; r++) {
      const ar = a[r] as Float64Array;
      for (let c = 0; c < k; c++) ar[c] = (ar[c] as number) + (row[r] as number) * (row[c] as number);
      y[r] = (y[r] as number) + (row[r] as number) * vi;
    }
    syy += vi * vi;
  }
  const copy = a.map((r) => Float64Array.from(r));
  const beta = solve(a, Float64Array.from(y));
  if (beta === undefined) return undefined;
  let sse = syy;
  for (let r = 0; r < k; r++) sse -= (beta[r] as number) * (y[r] as number);
  sse = Math.max(0, sse);
  const e1 = new Float64Array(k);
  e1[1] = 1;
  const inv = solve(copy, e1);
  const s2 = sse / Math.max(1, n - k);
  const [, , s1 = 0, c1 = 0, s2c = 0, c2 = 0] = beta;
  const periodic = (ti: number): number => s1 * Math.sin(w * ti) + c1 * Math.cos(w * ti) + s2c * Math.sin(2 * w * ti) + c2 * Math.cos(2 * w * ti);
  let hi = -Infinity;
  let lo = Infinity;
  for (let j = 0; j < 64; j++) {
    const p = periodic((period * j) / 64);
    hi = Math.max(hi, p);
    lo = Math.min(lo, p);
  }
  return {
    period,
    level: beta[0] as number,
    slope: (beta[1] as number) / scale,
    slopeSe: inv === undefined ? Infinity : Math.sqrt(Math.max(0, s2 * (inv[1] as number))) / scale,
    sse,
    amplitude: (hi - lo) / 2,
    peakOffset: hi,
    periodic,
  };
}

/** The best split into a line then a level (a step, or a rise that levelled off). */
export interface LevelSplitFit {
  readonly index: number;
  readonly before: LineFit;
  readonly level: number;
  readonly sse: number;
}

/** Scans every split leaving `minPoints` on each side for the least-squares line-then-level model. */
export function bestLevelSplit(t: ArrayLike<number>, v: ArrayLike<number>, minPoints: number): LevelSplitFit | undefined {
  const n = t.length;
  if (n < 2 * minPoints) return undefined;
  const p = prefixSums(t, v);
  let best: LevelSplitFit | undefined;
  for (let k = minPoints; k <= n - minPoints; k++) {
    const before = fitRange(p, 0, k);
    const m = n - k;
    const sv = (p.sv[n] as number) - (p.sv[k] as number);
    const svv = (p.svv[n] as number) - (p.svv[k] as number);
    const sse = before.sse + Math.max(0, svv - (sv * sv) / m);
    if (best === undefined || sse < best.sse) best = { index: k, before, level: sv / m, sse };
  }
  return best;
}

/** The best split into a line then an exponential approach (a warm-up that began at the split). */
export interface ApproachSplitFit {
  readonly index: number;
  readonly before: LineFit;
  readonly approach: ApproachFit;
  readonly sse: number;
}

/**
 * Tries `positions` evenly spaced splits (each needs an approach fit, so not every index) leaving `minPoints`
 * before and 6 after, for the line-then-approach model with a rising approach. Undefined when none fits.
 */
export function bestApproachSplit(t: ArrayLike<number>, v: ArrayLike<number>, minPoints: number, positions = 10): ApproachSplitFit | undefined {
  const n = t.length;
  const lo = minPoints;
  const hi = n - 6;
  if (hi < lo) return undefined;
  const p = prefixSums(t, v);
  const at = (k: number): ApproachSplitFit | undefined => {
    const tv = Array.prototype.slice.call(t, k) as number[];
    const vv = Array.prototype.slice.call(v, k) as number[];
    const approach = fitApproach(tv, vv, t[k] as number);
    if (approach === undefined || !(approach.drop > 0)) return undefined;
    const before = fitRange(p, 0, k);
    return { index: k, before, approach, sse: before.sse + approach.sse };
  };
  let best: ApproachSplitFit | undefined;
  const count = Math.min(positions, hi - lo + 1);
  const spacing = count <= 1 ? 0 : (hi - lo) / (count - 1);
  for (let j = 0; j < count; j++) {
    const fit = at(count === 1 ? lo : Math.round(lo + spacing * j));
    if (fit !== undefined && (best === undefined || fit.sse < best.sse)) best = fit;
  }
  if (best === undefined) return undefined;
  // Refine between the coarse neighbours of the best split, every other index.
  const center = best.index;
  const reach = Math.ceil(spacing);
  for (let k = Math.max(lo, center - reach); k <= Math.min(hi, center + reach); k += 2) {
    if (k === center) continue;
    const fit = at(k);
    if (fit !== undefined && fit.sse < best.sse) best = fit;
  }
  return best;
}
