/**
 * Periodic structure of a segment: the period from the autocorrelation of the detrended series, the peaks and
 * troughs of each cycle, and how lopsided the cycles are (a GC sawtooth rises slowly and drops at once; an
 * oscillation is symmetric). Pure; O(n·maxLag) on at most {@link MAX_GRID} grid points.
 */
import { autocorrelation } from './stats.js';

/** Grid points the autocorrelation is computed on, at most (bounds the O(n·lag) cost). */
export const MAX_GRID = 480;

/** A series resampled on a regular grid by linear interpolation (gaps bridged by straight lines). */
export interface Grid {
  readonly t0: number;
  readonly step: number;
  readonly v: Float64Array;
}

/** Resamples (t, v) onto a regular grid of spacing ≥ `minStep` with at most {@link MAX_GRID} points. */
export function resample(t: ArrayLike<number>, v: ArrayLike<number>, minStep: number): Grid {
  const n = t.length;
  const t0 = t[0] as number;
  const span = (t[n - 1] as number) - t0;
  const step = Math.max(minStep, span / (MAX_GRID - 1), 1e-9);
  const m = Math.max(1, Math.floor(span / step) + 1);
  const out = new Float64Array(m);
  let j = 0;
  for (let k = 0; k < m; k++) {
    const x = t0 + k * step;
    while (j + 1 < n - 1 && (t[j + 1] as number) <= x) j++;
    const ta = t[j] as number;
    const tb = t[Math.min(j + 1, n - 1)] as number;
    const va = v[j] as number;
    const vb = v[Math.min(j + 1, n - 1)] as number;
    out[k] = tb > ta ? va + ((vb - va) * (x - ta)) / (tb - ta) : va;
  }
  return { t0, step, v: out };
}

/** A detected period. */
export interface Period {
  /** Seconds. */
  readonly seconds: number;
  /** Autocorrelation at the period (0..1): how regular the cycles are. */
  readonly strength: number;
}

/**
 * The dominant period of a detrended grid series, if any: the highest local maximum of the autocorrelation at a lag
 * of at least 3 grid steps that leaves at least 2.5 cycles in the data, reaches `minStrength`, and follows a dip of
 * at least 0.3 below it. The dip is what separates a cycle from serially correlated noise, whose autocorrelation
 * only decays.
 */
export function findPeriod(residual: Grid, minStrength = 0.3): Period | undefined {
  const n = residual.v.length;
  const maxLag = Math.floor(n / 2.5);
  if (maxLag < 3) return undefined;
  const rho = autocorrelation(residual.v, maxLag);
  let best: Period | undefined;
  let dip = 1;
  for (let k = 2; k <= maxLag; k++) {
    const r = rho[k - 1] as number;
    const prev = rho[k - 2] as number;
    const next = k < maxLag ? (rho[k] as number) : -Infinity;
    dip = Math.min(dip, prev);
    if (k >= 3 && r >= prev && r >= next && r >= minStrength && r - dip >= 0.3) {
      if (best === undefined || r > best.strength + 0.05) best = { seconds: k * residual.step, strength: r };
    }
  }
  return best;
}

/** The highest and lowest sample of one cycle. */
export interface CycleExtremes {
  readonly peakT: number;
  readonly peakV: number;
  readonly troughT: number;
  readonly troughV: number;
}

/**
 * Cycles of length `period` counted back from the last sample (so the latest cycle is whole); a cycle with less
 * than 60% of its span covered by samples is skipped. Returns the extremes oldest first.
 */
export function cycleExtremes(t: ArrayLike<number>, v: ArrayLike<number>, period: number): CycleExtremes[] {
  const n = t.length;
  const out: CycleExtremes[] = [];
  if (n === 0) return out;
  const end = t[n - 1] as number;
  let i = n - 1;
  for (let c = 0; ; c++) {
    const hi = end - c * period;
    const lo = hi - period;
    if (lo < (t[0] as number) - 0.4 * period) break;
    let peakT = NaN;
    let peakV = -Infinity;
    let troughT = NaN;
    let troughV = Infinity;
    let first = Infinity;
    let last = -Infinity;
    while (i >= 0 && (t[i] as number) > lo) {
      const ti = t[i] as number;
      const vi = v[i] as number;
      if (vi > peakV) {
        peakV = vi;
        peakT = ti;
      }
      if (vi < troughV) {
        troughV = vi;
        troughT = ti;
      }
      first = Math.min(first, ti);
      last = Math.max(last, ti);
      i--;
    }
    if (Number.isFinite(peakV) && last - first >= 0.6 * period) out.push({ peakT, peakV, troughT, troughV });
  }
  return out.reverse();
}

/** Skewness of the first differences: strongly negative for a sawtooth (slow rises, sudden drops), ~0 for a sine. */
export function differenceSkewness(grid: Grid): number {
  const n = grid.v.length;
  if (n < 4) return 0;
  let mean = 0;
  for (let i = 1; i < n; i++) mean += (grid.v[i] as number) - (grid.v[i - 1] as number);
  mean /= n - 1;
  let m2 = 0;
  let m3 = 0;
  for (let i = 1; i < n; i++) {
    const d = (grid.v[i] as number) - (grid.v[i - 1] as number) - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n - 1;
  m3 /= n - 1;
  return m2 === 0 ? 0 : m3 / Math.pow(m2, 1.5);
}
