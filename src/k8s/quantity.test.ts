import { describe, expect, it } from 'vitest';
import { InvalidQuantityError, parseBytes, parseMillicores, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['250m', 0.25],
    ['1', 1],
    ['1.5', 1.5],
    ['100n', 100e-9],
    ['5u', 5e-6],
    ['64Mi', 64 * 1024 * 1024],
    ['1Gi', 1024 ** 3],
    ['1000Ki', 1024000],
    ['2k', 2000],
    ['1M', 1e6],
    ['1e3', 1000],
    ['.5', 0.5],
    [' 2 ', 2],
  ])('reads %s as %d', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected, 12);
  });

  it.each(['', 'abc', '1Mb', '1 Mi', '--1', '1e', 'NaN', 'Infinity'])('rejects %j with an error naming it', (input) => {
    expect(() => parseQuantity(input)).toThrow(InvalidQuantityError);
    expect(() => parseQuantity(input)).toThrow(JSON.stringify(input));
  });
});

describe('unit helpers', () => {
  it('converts CPU to millicores', () => {
    expect(parseMillicores('1500000n')).toBeCloseTo(1.5, 9);
    expect(parseMillicores('2')).toBe(2000);
  });
  it('converts memory to bytes', () => {
    expect(parseBytes('512Mi')).toBe(536870912);
  });
});
