import { describe, expect, it } from 'vitest';
import { formatAmount, formatEta, formatRate, formatSeconds, formatShare } from './format.js';

describe('format', () => {
  it.each([
    [45, '45 s'],
    [1320, '22 min'],
    [3900, '1 h 5 min'],
    [7200, '2 h'],
  ])('formats %d s as %s', (s, text) => {
    expect(formatSeconds(s)).toBe(text);
  });

  it('writes amounts, rates, shares and intervals with their units', () => {
    expect(formatAmount(412.25, 'MiB')).toBe('412 MiB');
    expect(formatAmount(87.5, '%')).toBe('87.5%');
    expect(formatRate(0.03, 'MiB')).toBe('1.8 MiB/min');
    expect(formatRate(0.00025, '%')).toBe('0.9%/h');
    expect(formatShare(410, 512, 'MiB')).toBe('80.1% of the 512 MiB limit');
    expect(formatEta(1320, 1020, 1740, 7200)).toBe('22 min (17–29 min)');
    expect(formatEta(1320, 1020, null, 7200)).toBe('22 min (17 min–beyond 2 h)');
  });
});
