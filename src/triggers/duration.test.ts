import { describe, expect, it } from 'vitest';
import { InvalidDurationError, formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['0ms', 0],
    ['90s', 90_000],
    ['3m', 180_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['1h0m0s', 3_600_000],
    ['500ms', 500],
    ['0.1s', 100],
    ['.5s', 500],
    ['1.s', 1_000],
    ['2h45m30.5s', 9_930_500],
    ['100ms300us', 100.3],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['1ns', 0.000001],
    ['1.0000001s', 1000.0001],
    ['0001m', 60_000],
    ['1.5ns', 0.000001],
    ['2562047h47m16.854775807s', 9_223_372_036_854.775],
  ])('reads %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBeCloseTo(expected, 9);
  });

  it('keeps whole milliseconds exact', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('0.3s')).toBe(300);
    expect(parseDuration('1.1h')).toBe(3_960_000);
  });

  it.each([
    ['', 'empty'],
    ['-1s', 'sign'],
    ['+1s', 'sign'],
    ['1', 'missing unit'],
    ['30', 'missing unit'],
    ['1.5', 'missing unit'],
    ['1 s', 'unknown unit'],
    [' 1s', 'expected a number'],
    ['1s ', 'unknown unit'],
    ['s', 'expected a number'],
    ['h1', 'expected a number'],
    ['.s', 'expected a number'],
    ['.', 'expected a number'],
    ['1x', 'unknown unit'],
    ['1d', 'unknown unit'],
    ['1hh', 'unknown unit'],
    ['1S', 'unknown unit'],
    ['1e3s', 'unknown unit'],
    ['1.5.5s', 'missing unit'],
    ['NaN', 'expected a number'],
    ['Infinity', 'expected a number'],
    ['2562047h47m16.854775808s', 'out of range'],
    ['9999999999h', 'out of range'],
  ])('rejects %j (%s) with an InvalidDurationError naming the input', (input, why) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
    expect(() => parseDuration(input)).toThrow(JSON.stringify(input));
    expect(() => parseDuration(input)).toThrow(why);
  });

  it('exposes a stable code and the input on the error', () => {
    let caught: unknown;
    try {
      parseDuration('3x');
    } catch (e: unknown) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidDurationError);
    expect(caught).toMatchObject({ code: 'InvalidDuration', input: '3x', name: 'InvalidDurationError' });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.5, '0.5ms'],
    [250, '250ms'],
    [1_500, '1.5s'],
    [45_000, '45s'],
    [180_000, '3m'],
    [1_872_000, '31m12s'],
    [1_872_400, '31m12s'],
    [3_600_000, '1h'],
    [3_661_000, '1h1m1s'],
    [5_400_000, '1h30m'],
    [-90_000, '-1m30s'],
  ])('renders %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([1_000, 59_000, 60_000, 90_000, 3_599_000, 86_400_000, 123_456_000])(
    'round-trips %d ms through parseDuration',
    (ms) => {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    },
  );
});
