import { describe, expect, it } from 'vitest';
import { calibrate, calibrateCurve, calibrationGroup, fitIsotonic } from './calibration.js';
import { CALIBRATION } from './calibration-table.js';
import { PATTERNS } from './types.js';

describe('fitIsotonic', () => {
  it('pools adjacent violators into a non-decreasing fit', () => {
    const fit = fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1], 1);
    expect(fit.y).toEqual([0, 0.5, 1]);
    expect(fit.x).toEqual([0.1, 0.25, 0.4]);
  });

  it('pools blocks smaller than the minimum with a neighbour', () => {
    const scores = Array.from({ length: 100 }, (_, i) => i / 100);
    const outcomes = scores.map((s) => (s > 0.5 ? 1 : 0));
    const fit = fitIsotonic(scores, outcomes, 30);
    expect(fit.x.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < fit.y.length; i++) expect(fit.y[i] as number).toBeGreaterThanOrEqual(fit.y[i - 1] as number);
  });
});

describe('calibrate', () => {
  const curve = { x: [0.1, 0.5, 0.9], y: [0.05, 0.4, 0.8] };

  it('interpolates between points and holds the ends', () => {
    expect(calibrateCurve(curve, 0.3)).toBeCloseTo(0.225, 9);
    expect(calibrateCurve(curve, 0)).toBe(0.05);
    expect(calibrateCurve(curve, 1)).toBe(0.8);
  });

  it('never claims certainty and treats an empty curve as the identity', () => {
    expect(calibrateCurve({ x: [0, 1], y: [0, 1] }, 1)).toBe(0.995);
    expect(calibrateCurve({ x: [], y: [] }, 0.37)).toBe(0.37);
    expect(calibrateCurve({ x: [], y: [] }, NaN)).toBe(0.5);
  });

  it('uses the curve of the pattern\'s group', () => {
    const table = { source: 't', curves: { trend: { x: [0, 1], y: [0.9, 0.9] }, curve: { x: [], y: [] }, cycle: { x: [], y: [] }, level: { x: [0, 1], y: [0.1, 0.1] }, short: { x: [], y: [] } }, decisionThreshold: 0.5, intervalScale: 1 };
    expect(calibrate(table, calibrationGroup('linear-leak'), 0.5)).toBe(0.9);
    expect(calibrate(table, calibrationGroup('flat'), 0.5)).toBe(0.1);
    expect(calibrationGroup('insufficient-data')).toBe('short');
  });

  it('ships a monotone fitted table for every group', () => {
    for (const p of PATTERNS) {
      const c = CALIBRATION.curves[calibrationGroup(p)];
      expect(c.x.length).toBe(c.y.length);
      for (let i = 1; i < c.y.length; i++) expect(c.y[i] as number).toBeGreaterThanOrEqual(c.y[i - 1] as number);
    }
    expect(CALIBRATION.decisionThreshold).toBeGreaterThan(0);
    expect(CALIBRATION.decisionThreshold).toBeLessThan(1);
  });
});
