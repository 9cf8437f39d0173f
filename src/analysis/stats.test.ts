import { describe, expect, it } from 'vitest';
import { autocorrelation, bucketMedians, fitRange, hampel, median, normalCdf, normalQuantile, prefixSums, quantile, robustSigma, select, trendTest, varianceInflation } from './stats.js';

describe('order statistics', () => {
  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5], 5],
  ])('median of %j is %d', (xs, m) => {
    expect(median(xs)).toBe(m);
  });

  it('interpolates quantiles between order statistics', () => {
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantile([10, 20], 0.5)).toBe(15);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('estimates σ from the MAD, unmoved by a wild outlier', () => {
    const xs = [-1.5, -1, -0.5, 0, 0.5, 1, 1.5, 1000];
    expect(robustSigma(xs)).toBeGreaterThan(0.9);
    expect(robustSigma(xs)).toBeLessThan(1.6);
  });
});

describe('hampel', () => {
  it('replaces a spike by its window median and leaves the rest alone', () => {
    const v = [10, 11, 10, 12, 11, 90, 10, 11, 12, 10];
    const h = hampel(v, 3, 3, 0.1);
    expect(h.outliers).toEqual([5]);
    expect(h.values[5]).toBe(11);
    expect(h.values[4]).toBe(11);
  });

  it('keeps the samples of a clean ramp', () => {
    const v = Array.from({ length: 30 }, (_, i) => i * 2);
    expect(hampel(v, 3, 3.5, 0.01).outliers).toEqual([]);
  });
});

describe('trendTest', () => {
  it('finds the slope of a line exactly, whatever the outliers', () => {
    const t = Array.from({ length: 40 }, (_, i) => i * 15);
    const v = t.map((x, i) => 100 + 0.5 * x + (i % 9 === 0 ? 400 : 0));
    const r = trendTest(t, v);
    expect(r?.slope).toBeCloseTo(0.5, 6);
    expect(r?.p).toBeLessThan(0.001);
    expect(r?.slopeLow as number).toBeLessThanOrEqual(0.5);
    expect(r?.slopeHigh as number).toBeGreaterThanOrEqual(0.5);
  });

  it('matches the textbook Mann–Kendall S and tie-corrected variance', () => {
    // n = 5 with one tied pair: 9 pairs rise, 1 is tied, none falls; Var(S) = (5·4·15 − 2·1·9) / 18 before inflation.
    const r = trendTest([1, 2, 3, 4, 5], [1, 2, 2, 4, 5]);
    expect(r?.s).toBe(9);
    expect(r?.varS).toBeGreaterThanOrEqual((5 * 4 * 15 - 2 * 1 * 9) / 18 - 1e-9);
  });

  it('does not call noise a trend', () => {
    let x = 12345;
    const rnd = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648 - 0.5;
    };
    const t = Array.from({ length: 60 }, (_, i) => i);
    const r = trendTest(t, t.map(() => rnd()));
    expect(r?.p).toBeGreaterThan(0.05);
    expect(r?.slopeLow as number).toBeLessThan(0);
    expect(r?.slopeHigh as number).toBeGreaterThan(0);
  });

  it('widens the interval for serially correlated residuals', () => {
    const t = Array.from({ length: 60 }, (_, i) => i);
    const wave = t.map((i) => 0.1 * i + Math.sin(i / 6));
    const white = t.map((i) => 0.1 * i + (i % 2 === 0 ? 0.7 : -0.7));
    expect(trendTest(t, wave)?.inflation as number).toBeGreaterThan(2);
    expect(trendTest(t, white)?.inflation).toBe(1);
  });

  it('skips pairs with equal times and needs three points', () => {
    expect(trendTest([1, 2], [1, 2])).toBeUndefined();
    expect(trendTest([1, 1, 1], [1, 2, 3])).toBeUndefined();
    expect(trendTest([1, 1, 2, 2], [1, 1, 3, 3])?.slope).toBe(2);
  });
});

describe('helpers', () => {
  it('buckets to at most the requested points, by medians', () => {
    const t = Array.from({ length: 480 }, (_, i) => i);
    const b = bucketMedians(t, t.map((x) => (x === 7 ? 1e6 : x)), 96);
    expect(b.t.length).toBeLessThanOrEqual(96);
    // Bucket 1 holds 5, 6, 1e6, 8, 9: the spike does not move its median.
    expect(b.v[1]).toBe(8);
  });

  it('computes autocorrelations of a periodic series', () => {
    const xs = Array.from({ length: 100 }, (_, i) => Math.sin((2 * Math.PI * i) / 10));
    const rho = autocorrelation(xs, 10);
    expect(rho[4] as number).toBeLessThan(-0.8);
    expect(rho[9] as number).toBeGreaterThan(0.8);
    expect(varianceInflation([1, -1, 1, -1, 1, -1, 1, -1])).toBe(1);
  });

  it('inverts the normal distribution', () => {
    for (const p of [0.001, 0.05, 0.5, 0.9, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 5);
    expect(normalCdf(1.6449)).toBeCloseTo(0.95, 4);
  });

  it('fits least-squares lines over ranges from prefix sums', () => {
    const t = [0, 1, 2, 3, 4, 5];
    const v = [1, 3, 5, 10, 10, 10];
    const p = prefixSums(t, v);
    expect(fitRange(p, 0, 3)).toMatchObject({ slope: 2, intercept: 1, count: 3 });
    expect(fitRange(p, 3, 6).sse).toBeCloseTo(0, 9);
  });
});

describe('select', () => {
  it('finds every order statistic, duplicates included', () => {
    const xs = [5, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const sorted = [...xs].sort((a, b) => a - b);
    for (let k = 0; k < xs.length; k++) expect(select(Float64Array.from(xs), k)).toBe(sorted[k]);
  });
});
