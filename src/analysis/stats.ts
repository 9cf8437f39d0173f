/**
 * Robust statistics for the analyzer, over plain arrays. Pure, deterministic, no allocation beyond what each
 * function returns, and bounded: the only super-linear routine is {@link trendTest} (pairwise slopes, O(m²) in
 * the points it is given), so callers hand it bucketed series ({@link bucketMedians}) of at most a few hundred
 * points.
 *
 * Times are seconds (callers make them relative to `now` so that squares stay well inside double precision).
 */

/** The median of `xs` (NaN for an empty input). Does not modify `xs`. */
export function median(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const s = Float64Array.from(xs);
  const mid = n >> 1;
  if (n % 2 === 1) return select(s, mid);
  const hi = select(s, mid);
  // After selecting `mid`, everything before it is ≤ it: the lower middle is the largest of those.
  let lo = -Infinity;
  for (let i = 0; i < mid; i++) if ((s[i] as number) > lo) lo = s[i] as number;
  return (lo + hi) / 2;
}

/**
 * The q-quantile (0..1) of an ascending array, linearly interpolated between order statistics (type 7, as R and
 * numpy default). NaN for an empty input.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** The q-quantile of `xs` in any order (see {@link quantileSorted}). */
export function quantile(xs: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(xs).sort(), q);
}

/** Scale factor that makes the MAD a consistent estimator of a normal distribution's standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/** Median absolute deviation from the median, scaled to estimate σ under normal noise (0 for < 2 values). */
export function robustSigma(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = median(xs);
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs((xs[i] as number) - m);
  return MAD_TO_SIGMA * median(dev);
}

/** What a Hampel filter changed. */
export interface HampelResult {
  /** The input with each outlier replaced by the median of its window. */
  readonly values: Float64Array;
  /** Indices of the replaced samples, ascending. */
  readonly outliers: readonly number[];
}

/**
 * Hampel filter: a sample further than `k`·σ̂ from the median of the `halfWindow` samples on each side (σ̂ = scaled
 * MAD of that window) is an outlier and is replaced by that median. `minScale` is a floor for σ̂ so that a window
 * of identical values does not make every small wiggle an outlier. O(n·w log w).
 */
export function hampel(values: ArrayLike<number>, halfWindow: number, k: number, minScale: number): HampelResult {
  const n = values.length;
  const out = Float64Array.from(values);
  const outliers: number[] = [];
  const w = new Float64Array(2 * halfWindow + 1);
  for (let i = 0; i < n; i++) {
    const from = Math.max(0, i - halfWindow);
    const to = Math.min(n - 1, i + halfWindow);
    const len = to - from + 1;
    if (len < 3) continue;
    const win = w.subarray(0, len);
    for (let j = from; j <= to; j++) win[j - from] = values[j] as number;
    win.sort();
    const med = len % 2 === 1 ? (win[len >> 1] as number) : ((win[(len >> 1) - 1] as number) + (win[len >> 1] as number)) / 2;
    for (let j = 0; j < len; j++) win[j] = Math.abs((win[j] as number) - med);
    win.sort();
    const madv = len % 2 === 1 ? (win[len >> 1] as number) : ((win[(len >> 1) - 1] as number) + (win[len >> 1] as number)) / 2;
    const scale = Math.max(MAD_TO_SIGMA * madv, minScale);
    if (Math.abs((values[i] as number) - med) > k * scale) {
      out[i] = med;
      outliers.push(i);
    }
  }
  return { values: out, outliers };
}

/** Points reduced to at most a given count by time buckets. */
export interface Bucketed {
  readonly t: Float64Array;
  readonly v: Float64Array;
}

/**
 * Reduces (t, v) to at most `maxPoints` points: consecutive runs of ⌈n / maxPoints⌉ samples become one point at
 * their median time and median value. Deterministic; returns copies of the input when it is already small enough.
 * The median keeps a bucket robust to a single spike; the cost of the pairwise statistics is what this bounds.
 */
export function bucketMedians(t: ArrayLike<number>, v: ArrayLike<number>, maxPoints: number): Bucketed {
  const n = t.length;
  if (n <= maxPoints) return { t: Float64Array.from(t), v: Float64Array.from(v) };
  const size = Math.ceil(n / maxPoints);
  const m = Math.ceil(n / size);
  const bt = new Float64Array(m);
  const bv = new Float64Array(m);
  const tmpT = new Float64Array(size);
  const tmpV = new Float64Array(size);
  for (let b = 0; b < m; b++) {
    const from = b * size;
    const to = Math.min(n, from + size);
    const len = to - from;
    for (let j = 0; j < len; j++) {
      tmpT[j] = t[from + j] as number;
      tmpV[j] = v[from + j] as number;
    }
    bt[b] = median(tmpT.subarray(0, len));
    bv[b] = median(tmpV.subarray(0, len));
  }
  return { t: bt, v: bv };
}

/**
 * Lag-k autocorrelation coefficients ρ₁..ρ_maxLag of a regularly spaced series (ρ₀ = 1 is not returned). A constant
 * series gives zeros. O(n·maxLag).
 */
export function autocorrelation(xs: ArrayLike<number>, maxLag: number): Float64Array {
  const n = xs.length;
  const lags = Math.max(0, Math.min(maxLag, n - 1));
  const out = new Float64Array(lags);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i] as number;
  mean /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += ((xs[i] as number) - mean) ** 2;
  if (c0 === 0) return out;
  for (let k = 1; k <= lags; k++) {
    let c = 0;
    for (let i = k; i < n; i++) c += ((xs[i] as number) - mean) * ((xs[i - k] as number) - mean);
    out[k - 1] = c / c0;
  }
  return out;
}

/**
 * How much serial correlation inflates the variance of a trend statistic, 1 for independent residuals: the
 * integrated autocorrelation 1 + 2·Σ(1 − k/n)·ρ_k over the initial run of positive ρ_k (Geyer's initial positive
 * sequence, which stops before periodic correlation turns the sum into noise), capped so that at least
 * `minEffective` independent points remain.
 */
export function varianceInflation(residuals: ArrayLike<number>, minEffective = 4): number {
  const n = residuals.length;
  if (n < 6) return 1;
  const rho = autocorrelation(residuals, Math.min(n - 2, 40));
  let f = 1;
  for (let k = 1; k <= rho.length; k++) {
    const r = rho[k - 1] as number;
    if (r <= 0.05) break;
    f += 2 * (1 - k / n) * r;
  }
  return Math.min(Math.max(f, 1), Math.max(1, n / minEffective));
}

/** Standard normal cumulative distribution function (Abramowitz–Stegun 7.1.26 through erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). p outside (0, 1) → ±Infinity. */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * The k-th smallest value of `xs` (0-based), by Hoare's selection with median-of-three pivots; reorders `xs` in
 * place (a partition around the k-th value), O(n) on average.
 */
export function select(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const a = xs[lo] as number;
    const b = xs[mid] as number;
    const c = xs[hi] as number;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((xs[i] as number) < pivot) i++;
      while ((xs[j] as number) > pivot) j--;
      if (i <= j) {
        const tmp = xs[i] as number;
        xs[i] = xs[j] as number;
        xs[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k] as number;
  }
  return xs[k] as number;
}

/** A robust trend: Theil–Sen slope with Sen's confidence interval, and the Mann–Kendall test on the same pairs. */
export interface TrendTest {
  /** Points used. */
  readonly n: number;
  /** Median of the pairwise slopes (value units per second). */
  readonly slope: number;
  /** Lower and upper bounds of the slope's confidence interval at the requested level. */
  readonly slopeLow: number;
  readonly slopeHigh: number;
  /** Median of v − slope·t: the fitted value at t = 0. */
  readonly intercept: number;
  /** Mann–Kendall S (concordant − discordant pairs). */
  readonly s: number;
  /** Var(S) with the tie correction, times the serial-correlation inflation. */
  readonly varS: number;
  /** The inflation factor applied to Var(S) (1 = independent residuals). */
  readonly inflation: number;
  /** Continuity-corrected standard score of S. */
  readonly z: number;
  /** Two-sided p-value of "no monotonic trend". */
  readonly p: number;
  /** Robust σ of the residuals around the Theil–Sen line. */
  readonly residualSigma: number;
}

/**
 * Theil–Sen slope and Mann–Kendall test of (t, v), with Sen's order-statistic confidence interval at `level`
 * (0.9 → the 5th and 95th percentile slopes implied by Var(S)). Pairs with equal times are skipped (irregular and
 * duplicated timestamps are fine). Serial correlation of the residuals inflates Var(S) (see
 * {@link varianceInflation}), which widens the interval and weakens the test instead of letting autocorrelated
 * noise pass for a trend. Ties in v are corrected for in Var(S). O(m² log m) for m points: bucket first.
 * Returns undefined for fewer than 3 points or when all times are equal.
 */
export function trendTest(t: ArrayLike<number>, v: ArrayLike<number>, level = 0.9): TrendTest | undefined {
  const n = t.length;
  if (n < 3) return undefined;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const ti = t[i] as number;
    const vi = v[i] as number;
    for (let j = i + 1; j < n; j++) {
      const dt = (t[j] as number) - ti;
      const dv = (v[j] as number) - vi;
      if (dv > 0) s++;
      else if (dv < 0) s--;
      if (dt !== 0) slopes[m++] = dv / dt;
    }
  }
  if (m === 0) return undefined;
  // Order statistics by selection, not a full sort: the median and the two interval ranks are all that is needed.
  const all = slopes.subarray(0, m);
  const slope = m % 2 === 1 ? select(all, m >> 1) : (select(all, (m >> 1) - 1) + select(all, m >> 1)) / 2;
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) resid[i] = (v[i] as number) - slope * (t[i] as number);
  const intercept = median(resid);
  for (let i = 0; i < n; i++) resid[i] = (resid[i] as number) - intercept;
  const inflation = varianceInflation(resid);

  // Tie correction: groups of equal values (sorted copy, then run lengths).
  const vs = Float64Array.from(v).sort();
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && vs[j] === vs[i]) j++;
    const g = j - i;
    if (g > 1) tieTerm += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  const varS = Math.max(((n * (n - 1) * (2 * n + 5) - tieTerm) / 18) * inflation, 1e-12);
  const sd = Math.sqrt(varS);
  const z = s > 0 ? (s - 1) / sd : s < 0 ? (s + 1) / sd : 0;
  const p = 2 * (1 - normalCdf(Math.abs(z)));

  // Sen's interval: ranks (N ∓ C)/2 of the sorted slopes, C = z_(1+level)/2 · √Var(S).
  const c = normalQuantile((1 + level) / 2) * sd;
  const lowRank = Math.max(0, Math.min(m - 1, Math.floor((m - c) / 2)));
  const highRank = Math.max(0, Math.min(m - 1, Math.ceil((m + c) / 2)));
  return {
    n,
    slope,
    slopeLow: Math.min(select(all, lowRank), slope),
    slopeHigh: Math.max(select(all, highRank), slope),
    intercept,
    s,
    varS,
    inflation,
    z,
    p,
    residualSigma: robustSigma(resid),
  };
}

/** Prefix sums for O(1) least-squares lines over any index range. */
export interface PrefixSums {
  readonly n: number;
  readonly st: Float64Array;
  readonly sv: Float64Array;
  readonly stt: Float64Array;
  readonly stv: Float64Array;
  readonly svv: Float64Array;
}

/** Builds prefix sums of t, v, t², t·v, v² (index k holds the sums over [0, k)). */
export function prefixSums(t: ArrayLike<number>, v: ArrayLike<number>): PrefixSums {
  const n = t.length;
  const st = new Float64Array(n + 1);
  const sv = new Float64Array(n + 1);
  const stt = new Float64Array(n + 1);
  const stv = new Float64Array(n + 1);
  const svv = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ti = t[i] as number;
    const vi = v[i] as number;
    st[i + 1] = (st[i] as number) + ti;
    sv[i + 1] = (sv[i] as number) + vi;
    stt[i + 1] = (stt[i] as number) + ti * ti;
    stv[i + 1] = (stv[i] as number) + ti * vi;
    svv[i + 1] = (svv[i] as number) + vi * vi;
  }
  return { n, st, sv, stt, stv, svv };
}

/** A least-squares line over an index range. */
export interface LineFit {
  readonly slope: number;
  readonly intercept: number;
  /** Sum of squared residuals. */
  readonly sse: number;
  readonly count: number;
}

/** Least-squares line over indices [from, to) from prefix sums; a flat line when all times in the range are equal. */
export function fitRange(p: PrefixSums, from: number, to: number): LineFit {
  const k = to - from;
  const St = (p.st[to] as number) - (p.st[from] as number);
  const Sv = (p.sv[to] as number) - (p.sv[from] as number);
  const Stt = (p.stt[to] as number) - (p.stt[from] as number);
  const Stv = (p.stv[to] as number) - (p.stv[from] as number);
  const Svv = (p.svv[to] as number) - (p.svv[from] as number);
  if (k <= 0) return { slope: 0, intercept: 0, sse: 0, count: 0 };
  const sxx = Stt - (St * St) / k;
  const sxy = Stv - (St * Sv) / k;
  const syy = Svv - (Sv * Sv) / k;
  if (sxx <= 1e-12) return { slope: 0, intercept: Sv / k, sse: Math.max(0, syy), count: k };
  const slope = sxy / sxx;
  const intercept = (Sv - slope * St) / k;
  return { slope, intercept, sse: Math.max(0, syy - slope * sxy), count: k };
}
