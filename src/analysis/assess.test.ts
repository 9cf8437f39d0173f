import { describe, expect, it } from 'vitest';
import type { Sample } from '../metrics/types.js';
import { assessSeries } from './assess.js';
import type { Assessment, CalibrationTable, SeriesInput } from './types.js';

const NOW = 1_750_000_000_000;
const MIN = 60_000;

/** Deterministic standard-normal noise (xorshift + Box–Muller), so that every run sees the same series. */
function noise(seed: number): () => number {
  let x = seed >>> 0 || 1;
  const u = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Samples of f(minutes before now, ≤ 0) every `interval` s over `minutes`, plus AR(1) noise of σ `sigma`. */
function series(f: (m: number) => number, opts: { minutes?: number; interval?: number; sigma?: number; seed?: number; phi?: number } = {}): Sample[] {
  const { minutes = 90, interval = 15, sigma = 0, seed = 7, phi = 0.3 } = opts;
  const n = noise(seed);
  const out: Sample[] = [];
  let e = 0;
  for (let s = -minutes * 60; s <= 0; s += interval) {
    e = phi * e + Math.sqrt(1 - phi * phi) * sigma * n();
    out.push({ at: NOW + s * 1000, value: Math.max(0, f(s / 60) + e) });
  }
  return out;
}

function assess(samples: Sample[], extra: Partial<SeriesInput> = {}): Assessment {
  return assessSeries({ samples, kind: 'memory', limit: 1000, now: NOW, unit: 'MiB', ...extra });
}

const sawtooth = (m: number, periodMin: number): number => (((m % periodMin) + periodMin) % periodMin) / periodMin;

describe('assessSeries: patterns', () => {
  it('forecasts a linear leak with the time to the limit inside its interval', () => {
    const a = assess(series((m) => 300 + 5 * (m + 90), { sigma: 8 }));
    // Now at 750 MiB, 5 MiB/min: the limit in 50 min; noise makes it a little earlier.
    expect(a.pattern).toBe('linear-leak');
    expect(a.willBreach).toBe(false);
    expect(a.secondsToLimit).not.toBeNull();
    expect(a.secondsToLimit as number).toBeGreaterThan(40 * 60);
    expect(a.secondsToLimit as number).toBeLessThan(52 * 60);
    expect(a.forecast.slopePerSecond * 60).toBeCloseTo(5, 0);
  });

  it('says a steep leak breaches within the horizon, with an interval around the crossing', () => {
    const a = assess(series((m) => 400 + 8 * (m + 60), { minutes: 60, sigma: 6 }));
    // At 880 now, 8 MiB/min: 15 min to go.
    expect(a.pattern).toBe('linear-leak');
    expect(a.willBreach).toBe(true);
    expect(a.interval?.low as number).toBeLessThanOrEqual(a.secondsToLimit as number);
    expect(a.secondsToLimit as number).toBeGreaterThan(11 * 60);
    expect(a.secondsToLimit as number).toBeLessThan(16 * 60);
    expect(a.confidence).toBeGreaterThan(0.7);
    expect(a.reasoning.join(' ')).toMatch(/reaches the limit in \d+ min/);
  });

  it('trends the floor of a GC sawtooth and forecasts its peaks', () => {
    // Floor 300 rising 4 MiB/min, teeth of 250 MiB every 3 min: the peaks reach 1000 when the floor reaches 750.
    const a = assess(series((m) => 300 + 4 * (m + 90) + 250 * sawtooth(m, 3), { sigma: 4 }));
    expect(a.pattern).toBe('sawtooth-leak');
    expect(a.forecast.periodSeconds as number).toBeGreaterThan(150);
    expect(a.forecast.periodSeconds as number).toBeLessThan(210);
    // Floor now 660, peaks ~910: the peaks reach the limit in about 22 min, long before the floor (85 min).
    expect(a.willBreach).toBe(true);
    expect(a.secondsToLimit as number).toBeLessThan(30 * 60);
  });

  it('calls a sawtooth with a flat floor healthy, even with peaks at 90% of the limit', () => {
    const a = assess(series((m) => 500 + 400 * sawtooth(m, 2), { sigma: 4 }));
    expect(a.pattern).toBe('healthy-sawtooth');
    expect(a.willBreach).toBe(false);
  });

  it('does not extrapolate a warm-up that levelled off', () => {
    // Started 60 min ago at 100, approaching 700 with a 6-minute time constant.
    const a = assess(series((m) => (m < -60 ? 100 : 700 - 600 * Math.exp(-(m + 60) / 6)), { sigma: 5, minutes: 90 }), {
      containerStarts: [NOW - 60 * MIN],
    });
    expect(a.pattern).toBe('warm-up');
    expect(a.willBreach).toBe(false);
  });

  it('forecasts saturating growth by its asymptote: below the limit, no breach', () => {
    // Asymptote 900, time constant 40 min, 40 min in: still rising ~8 MiB/min but decelerating.
    const a = assess(series((m) => 900 - 800 * Math.exp(-(m + 40) / 40), { minutes: 40, sigma: 3 }), { containerStarts: [NOW - 40 * MIN] });
    expect(['saturating-growth', 'warm-up']).toContain(a.pattern);
    expect(a.willBreach).toBe(false);
  });

  it('recognises a step and keeps the new level flat', () => {
    const a = assess(series((m) => (m < -30 ? 400 : 650), { sigma: 5 }));
    expect(a.pattern).toBe('step');
    expect(a.willBreach).toBe(false);
    expect(a.forecast.levelAtNow).toBeGreaterThan(620);
  });

  it('filters spikes and does not mistake them for a trend', () => {
    const spikes = new Set([40, 120, 200, 290]);
    const samples = series(() => 400, { sigma: 4 }).map((s, i) => (spikes.has(i) ? { ...s, value: s.value + 300 } : s));
    const a = assess(samples);
    expect(a.pattern).toBe('spikes');
    expect(a.outliers).toBeGreaterThanOrEqual(4);
    expect(a.willBreach).toBe(false);
  });

  it('fits only the segment after a change point', () => {
    // Flat at 300 for 70 min, then 15 MiB/min for the last 20 min: at 600 now, limit in ~27 min.
    const a = assess(series((m) => (m < -20 ? 300 : 300 + 15 * (m + 20)), { sigma: 5 }));
    expect(a.pattern).toBe('leak-after-change-point');
    expect(a.forecast.slopePerSecond * 60).toBeGreaterThan(12);
    expect(a.willBreach).toBe(true);
    expect(a.secondsToLimit as number).toBeLessThan(30 * 60);
  });

  it('reports the period and amplitude of an oscillation around a flat mean', () => {
    const a = assessSeries({ samples: series((m) => 50 + 20 * Math.sin((2 * Math.PI * m) / 10), { sigma: 1.5 }), kind: 'cpu', limit: 100, now: NOW, unit: '%' });
    expect(a.pattern).toBe('oscillation');
    expect(a.forecast.periodSeconds as number).toBeGreaterThan(540);
    expect(a.forecast.periodSeconds as number).toBeLessThan(660);
    expect(a.forecast.amplitude as number).toBeGreaterThan(16);
    expect(a.forecast.amplitude as number).toBeLessThan(24);
    expect(a.willBreach).toBe(false);
  });

  it('forecasts the peaks of a rising oscillation, not its mean', () => {
    // Mean 40 + 0.35/min (71.5 now), ±22 every 10 min: the peak 22.5 min from now reaches 101; the mean would take
    // 80 min.
    const a = assessSeries({
      samples: series((m) => 40 + 0.35 * (m + 90) + 22 * Math.sin((2 * Math.PI * m) / 10), { sigma: 1 }),
      kind: 'cpu',
      limit: 100,
      now: NOW,
      unit: '%',
    });
    expect(a.pattern).toBe('rising-oscillation');
    expect(a.willBreach).toBe(true);
    expect(a.forecast.envelope?.peakAtNow as number).toBeGreaterThan(90);
    expect(a.secondsToLimit as number).toBeGreaterThan(18 * 60);
    expect(a.secondsToLimit as number).toBeLessThan(25 * 60);
  });

  it('calls a noisy flat series flat and far from the limit safe', () => {
    const a = assess(series(() => 500, { sigma: 15, phi: 0.6 }));
    expect(a.pattern).toBe('flat');
    expect(a.willBreach).toBe(false);
    expect(a.confidence).toBeGreaterThan(0.9);
  });

  it('gives a flat series just under the limit with noise a real chance of touching it', () => {
    // 2σ under the limit: over a hundred tries within the horizon, one is likely to touch it. The model's own
    // probability is what is checked; the calibrated one depends on the labelled set.
    const a = assess(series(() => 960, { sigma: 20 }));
    expect(a.rawProbability).toBeGreaterThan(0.5);
    expect(assess(series(() => 700, { sigma: 20 })).rawProbability).toBeLessThan(0.01);
  });

  it('says insufficient data for a few minutes of samples', () => {
    const a = assess(series((m) => 300 + 20 * (m + 3), { minutes: 3 }));
    expect(a.pattern).toBe('insufficient-data');
    expect(a.willBreach).toBe(false);
    expect(a.reasoning[0]).toMatch(/only \d+ samples/);
  });

  it('calibrates a forecast from under 8 minutes of data as short, whatever its shape', () => {
    const a = assess(series((m) => 300 + 20 * (m + 6), { minutes: 6, sigma: 2 }));
    expect(a.pattern).not.toBe('insufficient-data');
    expect(a.calibrationGroup).toBe('short');
    expect(a.breachProbability).toBeLessThan(a.rawProbability);
  });
});

describe('assessSeries: data handling', () => {
  it('starts a new segment at a known container start', () => {
    // A leak restarted 30 min ago: before it, memory was high; only the 30 min since count.
    const a = assess(series((m) => (m < -30 ? 800 + 2 * (m + 90) : 200 + 10 * (m + 30)), { sigma: 4 }), { containerStarts: [NOW - 30 * MIN] });
    expect(a.resets).toEqual([{ at: expect.any(Number) as number, detected: false }]);
    expect(a.samplesUsed).toBeLessThan(130);
    expect(a.pattern).toBe('linear-leak');
    expect(a.forecast.slopePerSecond * 60).toBeCloseTo(10, 0);
  });

  it('detects a restart from a large sudden drop when no start time is given', () => {
    // Restarted 30 min ago at 250, 15 MiB/min since: 700 now, the limit in 20 min.
    const a = assess(series((m) => (m < -30 ? 500 + 5 * (m + 90) : 250 + 15 * (m + 30)), { sigma: 4 }));
    expect(a.resets).toHaveLength(1);
    expect(a.resets[0]?.detected).toBe(true);
    expect(a.pattern).toBe('linear-leak');
    expect(a.willBreach).toBe(true);
  });

  it('does not take GC drops for restarts', () => {
    const a = assess(series((m) => 300 + 300 * sawtooth(m, 4), { sigma: 3 }));
    expect(a.resets).toEqual([]);
  });

  it('uses the previous run\'s rate right after a restart', () => {
    // Leaked 10 MiB/min for an hour, restarted 3 min ago.
    const a = assess(series((m) => (m < -3 ? 200 + 10 * (m + 63) : 200 + 10 * (m + 3)), { minutes: 63, sigma: 3 }), { containerStarts: [NOW - 3 * MIN] });
    expect(a.pattern).toBe('linear-leak');
    expect(a.reasoning.join(' ')).toMatch(/before the restart/);
    expect(a.secondsToLimit as number).toBeGreaterThan(70 * 60);
  });

  it('handles irregular timestamps and gaps', () => {
    const n = noise(3);
    const samples = series((m) => 300 + 6 * (m + 90), { sigma: 5 })
      .filter((s) => !(s.at > NOW - 50 * MIN && s.at < NOW - 35 * MIN))
      .map((s) => ({ ...s, at: s.at + Math.round(4000 * n()) }))
      .filter((s) => s.at <= NOW);
    const a = assess(samples);
    expect(a.pattern).toBe('linear-leak');
    // 840 now, 6/min: 27 min.
    expect(a.secondsToLimit as number).toBeGreaterThan(20 * 60);
    expect(a.secondsToLimit as number).toBeLessThan(29 * 60);
  });

  it('is deterministic and ignores sample order, duplicates and samples after now', () => {
    const samples = series((m) => 300 + 6 * (m + 90), { sigma: 5 });
    const shuffled = [...samples].reverse().concat([{ at: NOW + 5 * MIN, value: 5000 }, samples[10] as Sample]);
    const a = assess(samples);
    const b = assess(shuffled);
    expect(b.pattern).toBe(a.pattern);
    expect(b.secondsToLimit).toBe(a.secondsToLimit);
    expect(b.confidence).toBe(a.confidence);
  });

  it('never throws on bad input', () => {
    expect(assess([]).pattern).toBe('insufficient-data');
    expect(assess(series(() => 100), { limit: 0 }).pattern).toBe('insufficient-data');
    expect(assess([{ at: NaN, value: 1 }, { at: NOW, value: Infinity }]).pattern).toBe('insufficient-data');
    expect(assess(series(() => 100, { minutes: 60 }).map((s) => ({ ...s, at: s.at - 30 * MIN }))).reasoning[0]).toMatch(/old/);
  });

  it('reports a series already at the limit as breaching now', () => {
    const a = assess(series((m) => 600 + 10 * (m + 60), { minutes: 60 }).map((s) => ({ ...s, value: Math.min(s.value, 1000) })));
    expect(a.willBreach).toBe(true);
    expect(a.secondsToLimit).toBe(0);
    expect(a.reasoning[0]).toMatch(/already/);
  });

  it('honours the horizon option', () => {
    const samples = series((m) => 300 + 5 * (m + 90), { sigma: 3 });
    // 750 now, 5/min: 50 min away — beyond 30 min, within 90 min.
    expect(assess(samples).willBreach).toBe(false);
    expect(assessSeries({ samples, kind: 'memory', limit: 1000, now: NOW }, { horizonMs: 90 * MIN }).willBreach).toBe(true);
  });

  it('applies the calibration table it is given', () => {
    const table: CalibrationTable = { source: 'test', curves: { trend: { x: [0, 1], y: [0.2, 0.3] }, curve: { x: [], y: [] }, cycle: { x: [], y: [] }, level: { x: [], y: [] }, short: { x: [], y: [] } }, decisionThreshold: 0.5, intervalScale: 1 };
    const a = assessSeries({ samples: series((m) => 400 + 8 * (m + 60), { minutes: 60 }), kind: 'memory', limit: 1000, now: NOW }, { calibration: table });
    expect(a.rawProbability).toBeGreaterThan(0.9);
    expect(a.breachProbability).toBeCloseTo(0.3, 2);
    expect(a.willBreach).toBe(false);
  });

  it('stays bounded on a day of samples', () => {
    const a = assess(series((m) => 300 + 0.2 * (m + 1440), { minutes: 1440, sigma: 3 }));
    expect(a.samplesUsed).toBeLessThanOrEqual(6 * 240 + 1);
  });
});
