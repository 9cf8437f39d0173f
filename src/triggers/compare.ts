/**
 * The six comparison operators of a metric trigger, over floating-point readings.
 *
 * Readings are computed (bytes ÷ limit × 100, PromQL rate() …), so exact float equality would make `== 100` fail
 * on 99.99999999999999. All six operators therefore share one notion of "approximately equal", and the ordering
 * operators respect it, so exactly one of `<`, `==`, `>` holds for any two finite numbers.
 */
import type { ComparisonOperator } from '../api/v1alpha1/common.js';

/** The six operators of a metric trigger (re-exported from the API so callers need one import). */
export type { ComparisonOperator } from '../api/v1alpha1/common.js';

/**
 * Relative tolerance of `==`: one part in 10⁹ of the larger magnitude, and at least 10⁻⁹ absolute (so values near
 * zero, where a relative tolerance vanishes, still absorb rounding noise). It swallows float arithmetic error
 * but no difference a real metric can show (a 10⁻⁹ % change in memory is less than one byte of a 1 GiB limit).
 */
export const EQUALITY_EPSILON = 1e-9;

/**
 * True when `a` and `b` are equal within EQUALITY_EPSILON (relative to the larger magnitude, floored at 1).
 * Infinities equal only themselves; NaN equals nothing.
 */
export function approximatelyEqual(a: number, b: number): boolean {
  if (a === b) return true;
  // Without this guard Infinity - 1e300 ≤ ε·Infinity would make every finite number "equal" to Infinity.
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= EQUALITY_EPSILON * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Whether `value operator threshold` holds. `==`/`!=` use approximatelyEqual; `>`/`<` require a difference
 * beyond that tolerance and `>=`/`<=` accept it. A NaN on either side satisfies no operator, not even `!=`:
 * NaN is not a reading, so it must never count as a breach.
 */
export function compare(value: number, operator: ComparisonOperator, threshold: number): boolean {
  if (Number.isNaN(value) || Number.isNaN(threshold)) return false;
  const equal = approximatelyEqual(value, threshold);
  switch (operator) {
    case '>':
      return value > threshold && !equal;
    case '>=':
      return value > threshold || equal;
    case '<':
      return value < threshold && !equal;
    case '<=':
      return value < threshold || equal;
    case '==':
      return equal;
    case '!=':
      return !equal;
    default: {
      const unreachable: never = operator;
      throw new TypeError(`unknown comparison operator ${String(unreachable)}`);
    }
  }
}

/** The operator that holds exactly when `operator` does not (used to word "not breaching" reasons). */
export function negateOperator(operator: ComparisonOperator): ComparisonOperator {
  switch (operator) {
    case '>':
      return '<=';
    case '>=':
      return '<';
    case '<':
      return '>=';
    case '<=':
      return '>';
    case '==':
      return '!=';
    case '!=':
      return '==';
    default: {
      const unreachable: never = operator;
      throw new TypeError(`unknown comparison operator ${String(unreachable)}`);
    }
  }
}
