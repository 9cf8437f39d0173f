/**
 * From raw samples to the segment worth analysing: cleaning (order, duplicates, non-finite values, the future,
 * the far past) and segmentation at container starts, known or detected from the data. Pure.
 */
import type { Sample } from '../metrics/types.js';
import { median } from './stats.js';

/** Samples as two arrays: t in seconds relative to now (≤ 0), v as given. */
export interface CleanSeries {
  readonly t: Float64Array;
  readonly v: Float64Array;
  /** Samples dropped as non-finite, duplicated, after now or before the lookback. */
  readonly dropped: number;
}

/**
 * Sorts by time, keeps the last of samples sharing a timestamp, drops non-finite values and samples after `now` or
 * before `now − maxLookbackMs`. Times become seconds relative to `now` (so least squares stays well-conditioned).
 */
export function cleanSamples(samples: readonly Sample[], now: number, maxLookbackMs: number): CleanSeries {
  const kept = samples.filter((s) => Number.isFinite(s.at) && Number.isFinite(s.value) && s.at <= now && s.at >= now - maxLookbackMs);
  // Stable sort, then the last of equal timestamps wins (a later write corrects an earlier one).
  const sorted = kept.map((s, i) => ({ s, i })).sort((a, b) => a.s.at - b.s.at || a.i - b.i);
  const t: number[] = [];
  const v: number[] = [];
  for (const { s } of sorted) {
    const ts = (s.at - now) / 1000;
    if (t.length > 0 && t[t.length - 1] === ts) {
      v[v.length - 1] = s.value;
      continue;
    }
    t.push(ts);
    v.push(s.value);
  }
  return { t: Float64Array.from(t), v: Float64Array.from(v), dropped: samples.length - t.length };
}

/** A segment boundary: the index of its first sample, and whether it was detected (true) or given (false). */
export interface Boundary {
  readonly index: number;
  readonly detected: boolean;
}

/** Median spacing of consecutive samples (s); NaN for fewer than 2 samples. */
export function medianInterval(t: ArrayLike<number>): number {
  if (t.length < 2) return NaN;
  const d = new Float64Array(t.length - 1);
  for (let i = 1; i < t.length; i++) d[i - 1] = (t[i] as number) - (t[i - 1] as number);
  return median(d);
}

/**
 * Segment starts inside the series: the first sample at or after each known container start (`startsSec`, s
 * relative to now), and, for memory, resets detected from the data.
 *
 * A detected reset is a sudden drop of at least 10% of the limit to at most 75% of the value before it that is not
 * a garbage collection. A GC sawtooth drops the same way, so a drop counts as a reset only if the memory was near
 * the limit before it (an OOM kill), if samples are missing around it for longer than two intervals (the container
 * was down), or if the value after it is well below everything of the 10 minutes before (memory started over
 * rather than returning to the floor of the previous cycles). When three or more such drops occur they are the
 * sawtooth itself, and only a new low marks a restart.
 */
export function findBoundaries(t: Float64Array, v: Float64Array, kind: 'memory' | 'cpu', limit: number, startsSec: readonly number[]): Boundary[] {
  const n = t.length;
  const out = new Map<number, Boundary>();
  for (const s of startsSec) {
    if (!Number.isFinite(s)) continue;
    // First sample at or after the start; a start before the first sample or after the last is no boundary here.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((t[mid] as number) < s) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && lo < n) out.set(lo, { index: lo, detected: false });
  }
  if (kind === 'memory' && n >= 4) {
    const dt = medianInterval(t);
    const candidates: { index: number; peak: number; gap: boolean; newLow: boolean }[] = [];
    for (let i = 1; i < n; i++) {
      const before = v[i - 1] as number;
      const after = v[i] as number;
      if (before - after < 0.1 * limit || after > 0.75 * before) continue;
      const peak = Math.max(before, v[i - 2] ?? before);
      const gap = (t[i] as number) - (t[i - 1] as number) > 2.5 * dt;
      let prevMin = Infinity;
      // How much of the 10 minutes before is actually observed: after a gap (or the first sample) the window may
      // hold only a rising stretch, whose minimum says nothing about the floor.
      let covered = 0;
      for (let j = i - 1; j >= 0 && (t[j] as number) >= (t[i] as number) - 600; j--) {
        prevMin = Math.min(prevMin, v[j] as number);
        if (j > 0) covered += Math.min((t[j] as number) - (t[j - 1] as number), 2 * dt);
      }
      const next = [v[i] as number, v[i + 1] ?? after, v[i + 2] ?? after];
      const newLow = covered >= 450 && median(next) < prevMin - 0.05 * limit;
      candidates.push({ index: i, peak, gap, newLow });
    }
    // Many drops are the sawtooth itself: then only a new low marks a restart (peaks near the limit are what a
    // leaking sawtooth shows before its OOM, and a missed scrape next to a collection is common).
    const gcLike = candidates.length >= 3;
    for (const c of candidates) {
      if (!(c.newLow || (!gcLike && (c.gap || c.peak >= 0.9 * limit)))) continue;
      if (!out.has(c.index)) out.set(c.index, { index: c.index, detected: true });
    }
  }
  return [...out.values()].sort((a, b) => a.index - b.index);
}
