import { describe, expect, it } from 'vitest';
import type { ComparisonOperator } from './compare.js';
import { EQUALITY_EPSILON, approximatelyEqual, compare, negateOperator } from './compare.js';

const OPS: readonly ComparisonOperator[] = ['>', '>=', '<', '<=', '==', '!='];

describe('compare', () => {
  // value, threshold, and the verdict of each operator in OPS order.
  it.each([
    ['above', 86, 85, [true, true, false, false, false, true]],
    ['below', 84, 85, [false, false, true, true, false, true]],
    ['equal', 85, 85, [false, true, false, true, true, false]],
    ['equal up to float noise', 0.1 + 0.2, 0.3, [false, true, false, true, true, false]],
    ['a hair above, within epsilon', 85 + 1e-12, 85, [false, true, false, true, true, false]],
    ['a hair below, within epsilon', 100 - 1e-8, 100, [false, true, false, true, true, false]],
    ['just beyond epsilon', 3.0000001, 3, [true, true, false, false, false, true]],
    ['near zero, within the absolute floor', 1e-12, 0, [false, true, false, true, true, false]],
    ['near zero, beyond the absolute floor', 1e-6, 0, [true, true, false, false, false, true]],
    ['negative values', -5, -3, [false, false, true, true, false, true]],
    ['large values, relative tolerance', 1e12 + 0.5, 1e12, [false, true, false, true, true, false]],
    ['large values beyond tolerance', 1e12 + 10_000, 1e12, [true, true, false, false, false, true]],
    ['+Infinity above any number', Infinity, 1e308, [true, true, false, false, false, true]],
    ['+Infinity equals itself', Infinity, Infinity, [false, true, false, true, true, false]],
    ['-Infinity below any number', -Infinity, 0, [false, false, true, true, false, true]],
  ] as const)('%s: %d vs %d', (_label, value, threshold, verdicts) => {
    OPS.forEach((op, i) => {
      expect({ op, result: compare(value, op, threshold) }).toEqual({ op, result: verdicts[i] });
    });
  });

  it.each(OPS)('NaN satisfies no operator, not even %s', (op) => {
    expect(compare(NaN, op, 1)).toBe(false);
    expect(compare(1, op, NaN)).toBe(false);
  });

  it('holds exactly one of <, ==, > for finite numbers', () => {
    const values = [0, 1e-12, 0.3, 0.1 + 0.2, 1, 85, 85 + 1e-10, 1e12, -7];
    for (const a of values) {
      for (const b of values) {
        const held = (['<', '==', '>'] as const).filter((op) => compare(a, op, b));
        expect({ a, b, held: held.length }).toEqual({ a, b, held: 1 });
      }
    }
  });

  it.each(OPS)('negateOperator(%s) holds exactly when the operator does not', (op) => {
    for (const [a, b] of [
      [1, 2],
      [2, 1],
      [2, 2],
      [0.1 + 0.2, 0.3],
    ] as const) {
      expect(compare(a, negateOperator(op), b)).toBe(!compare(a, op, b));
    }
  });
});

describe('approximatelyEqual', () => {
  it('uses a relative tolerance of EQUALITY_EPSILON floored at magnitude 1', () => {
    expect(EQUALITY_EPSILON).toBe(1e-9);
    expect(approximatelyEqual(1000, 1000 + 0.9e-6)).toBe(true);
    expect(approximatelyEqual(1000, 1000 + 1.1e-6)).toBe(false);
    expect(approximatelyEqual(0, 0.9e-9)).toBe(true);
    expect(approximatelyEqual(0, 1.1e-9)).toBe(false);
  });

  it('never equates a finite number with an infinity', () => {
    expect(approximatelyEqual(1e308, Infinity)).toBe(false);
    expect(approximatelyEqual(-Infinity, Infinity)).toBe(false);
    expect(approximatelyEqual(NaN, NaN)).toBe(false);
  });
});
