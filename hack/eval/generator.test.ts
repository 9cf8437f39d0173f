import { describe, expect, it } from 'vitest';
import { COMBOS, generateSeries, generateSet, HORIZON_SECONDS } from './generator.js';

describe('labelled series generator', () => {
  it('is deterministic per seed and index', () => {
    expect(generateSeries(5, 17)).toEqual(generateSeries(5, 17));
    expect(generateSeries(5, 17).samples).not.toEqual(generateSeries(6, 17).samples);
  });

  it('replays the same history with another future', () => {
    const a = generateSeries(5, 3);
    const b = generateSeries(5, 3, 42);
    expect(b.samples).toEqual(a.samples);
    expect(b.future).not.toEqual(a.future);
  });

  it('labels from the continuation: a breach is the first future sample at the limit', () => {
    for (const s of generateSet(9, COMBOS.length * 3)) {
      expect(s.truth.willBreach).toBe(s.truth.secondsToLimit !== null && s.truth.secondsToLimit <= HORIZON_SECONDS);
      const last = s.future[s.future.length - 1];
      if (s.truth.secondsToLimit !== null) expect(last?.value).toBeGreaterThanOrEqual(s.limit - 0.01);
      else expect(s.future.every((p) => p.value < s.limit)).toBe(true);
      expect(s.samples.every((p) => p.at <= s.now && p.value >= 0 && p.value <= s.limit)).toBe(true);
    }
  });

  it('cycles through every kind × pattern and noise level', () => {
    const set = generateSet(9, COMBOS.length * 3);
    const cells = new Set(set.map((s) => `${s.kind} ${s.pattern} ${s.noise}`));
    expect(cells.size).toBe(COMBOS.length * 3);
  });
});
