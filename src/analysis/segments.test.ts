import { describe, expect, it } from 'vitest';
import { cleanSamples, findBoundaries } from './segments.js';

const NOW = 1_750_000_000_000;

function clean(values: readonly number[], interval = 15): { t: Float64Array; v: Float64Array } {
  return cleanSamples(
    values.map((value, i) => ({ at: NOW - (values.length - 1 - i) * interval * 1000, value })),
    NOW,
    6 * 3_600_000,
  );
}

describe('cleanSamples', () => {
  it('sorts, keeps the last of duplicates, drops the future, the far past and non-finite values', () => {
    const c = cleanSamples(
      [
        { at: NOW - 2000, value: 2 },
        { at: NOW - 4000, value: 1 },
        { at: NOW - 2000, value: 3 },
        { at: NOW + 1000, value: 9 },
        { at: NOW - 7 * 3_600_000, value: 9 },
        { at: NOW - 3000, value: NaN },
      ],
      NOW,
      6 * 3_600_000,
    );
    expect(Array.from(c.t)).toEqual([-4, -2]);
    expect(Array.from(c.v)).toEqual([1, 3]);
    expect(c.dropped).toBe(4);
  });
});

describe('findBoundaries', () => {
  const ramp = (from: number, n: number, step: number): number[] => Array.from({ length: n }, (_, i) => from + i * step);

  it('starts a segment at the first sample after each known start inside the series', () => {
    const { t, v } = clean(ramp(100, 40, 1));
    // Samples at −585, −570 … 0 s: the first at or after −300 s is index 19.
    expect(findBoundaries(t, v, 'cpu', 100, [-300, -10_000, 60])).toEqual([{ index: 19, detected: false }]);
  });

  it('detects a memory reset to a new low, not on CPU', () => {
    const values = [...ramp(300, 60, 5), ...ramp(100, 20, 5)];
    const { t, v } = clean(values);
    expect(findBoundaries(t, v, 'memory', 1000, [])).toEqual([{ index: 60, detected: true }]);
    expect(findBoundaries(t, v, 'cpu', 1000, [])).toEqual([]);
  });

  it('detects an OOM kill: a drop from near the limit', () => {
    const values = [...ramp(500, 30, 15), ...ramp(480, 10, 5)];
    const { t, v } = clean(values);
    expect(findBoundaries(t, v, 'memory', 950, [])).toEqual([{ index: 30, detected: true }]);
  });

  it('ignores the drops of a GC sawtooth', () => {
    const values = Array.from({ length: 200 }, (_, i) => 300 + 30 * (i % 10));
    const { t, v } = clean(values);
    expect(findBoundaries(t, v, 'memory', 1000, [])).toEqual([]);
  });
});
