/**
 * Calibration: raw model probabilities → probabilities that hold up on labelled data. The map is fitted offline by
 * isotonic regression (pool-adjacent-violators) on a labelled set generated with a different seed than the one the
 * evaluation reports on, and committed as a table (calibration-table.ts; regenerate with `npm run eval:calibrate`).
 * Pure.
 */
import type { CalibrationCurve, CalibrationGroup, CalibrationTable, Pattern } from './types.js';

/**
 * The calibration group of a pattern — patterns whose models err alike: `trend` for lines (extrapolation errors),
 * `curve` for decelerating shapes (the asymptote is uncertain), `cycle` for sawtooths and oscillations (peaks and
 * phase), `level` for flat series (noise reaching the limit, or a rise starting later), `short` for insufficient
 * data.
 */
export function calibrationGroup(pattern: Pattern): CalibrationGroup {
  switch (pattern) {
    case 'linear-leak':
    case 'leak-after-change-point':
      return 'trend';
    case 'saturating-growth':
    case 'warm-up':
      return 'curve';
    case 'sawtooth-leak':
    case 'healthy-sawtooth':
    case 'oscillation':
    case 'rising-oscillation':
      return 'cycle';
    case 'insufficient-data':
      return 'short';
    case 'step':
    case 'spikes':
    case 'flat':
      return 'level';
    default: {
      const unreachable: never = pattern;
      return unreachable;
    }
  }
}

/** Maps a raw probability through the curve of a group (see {@link calibrateCurve}). */
export function calibrate(table: CalibrationTable, group: CalibrationGroup, raw: number): number {
  return calibrateCurve(table.curves[group], raw);
}

/**
 * Maps a raw probability through a curve: piecewise-linear between the points, constant beyond the ends, and kept
 * within [0.005, 0.995] (a finite labelled set cannot support certainty). A curve with no points is the identity.
 */
export function calibrateCurve(curve: CalibrationCurve, raw: number): number {
  const { x, y } = curve;
  const n = Math.min(x.length, y.length);
  const clamp = (p: number): number => Math.min(0.995, Math.max(0.005, p));
  if (n === 0 || !Number.isFinite(raw)) return clamp(Number.isFinite(raw) ? raw : 0.5);
  if (raw <= (x[0] as number)) return clamp(y[0] as number);
  if (raw >= (x[n - 1] as number)) return clamp(y[n - 1] as number);
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((x[mid] as number) <= raw) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo] as number;
  const x1 = x[hi] as number;
  const y0 = y[lo] as number;
  const y1 = y[hi] as number;
  return clamp(x1 === x0 ? y1 : y0 + ((y1 - y0) * (raw - x0)) / (x1 - x0));
}

/**
 * Isotonic regression of outcomes (0/1) on scores: the non-decreasing step function closest in squared error
 * (pool-adjacent-violators), returned as points at each block's mean score, so that {@link calibrate} interpolates
 * between blocks. Blocks smaller than `minBlock` are pooled with a neighbour so that no point rests on a handful
 * of series. Deterministic for a given input (ties sorted by score, then outcome).
 */
export function fitIsotonic(scores: readonly number[], outcomes: readonly (0 | 1)[], minBlock = 20): { x: number[]; y: number[] } {
  const pairs = scores.map((s, i) => ({ s, o: outcomes[i] ?? 0 })).filter((p) => Number.isFinite(p.s));
  pairs.sort((a, b) => a.s - b.s || a.o - b.o);
  type Block = { sumS: number; sumO: number; n: number };
  const value = (b: Block): number => b.sumO / b.n;
  const pava = (input: readonly Block[]): Block[] => {
    const blocks: Block[] = [];
    for (const p of input) {
      blocks.push({ ...p });
      while (blocks.length > 1) {
        const b = blocks[blocks.length - 1] as Block;
        const a = blocks[blocks.length - 2] as Block;
        if (value(a) < value(b)) break;
        blocks.splice(blocks.length - 2, 2, { sumS: a.sumS + b.sumS, sumO: a.sumO + b.sumO, n: a.n + b.n });
      }
    }
    return blocks;
  };
  const blocks = pava(pairs.map((p) => ({ sumS: p.s, sumO: p.o, n: 1 })));
  // Pool small blocks into their smaller neighbour; pooling keeps the fit non-decreasing, the second pass checks.
  for (let changed = true; changed && blocks.length > 1; ) {
    changed = false;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as Block;
      if (b.n >= minBlock) continue;
      const left = blocks[i - 1];
      const right = blocks[i + 1];
      const j = left === undefined ? i + 1 : right === undefined ? i - 1 : left.n <= right.n ? i - 1 : i + 1;
      const o = blocks[j] as Block;
      const merged = { sumS: b.sumS + o.sumS, sumO: b.sumO + o.sumO, n: b.n + o.n };
      blocks.splice(Math.min(i, j), 2, merged);
      changed = true;
      break;
    }
  }
  const final = pava(blocks);
  return { x: final.map((b) => b.sumS / b.n), y: final.map(value) };
}
