import { describe, expect, it } from 'vitest';
import { timestampMs } from './time.js';

describe('timestampMs', () => {
  it('reads a Date and the RFC 3339 string a watch event carries as the same instant', () => {
    expect(timestampMs(new Date('2026-11-26T10:00:00Z'))).toBe(Date.UTC(2026, 10, 26, 10));
    expect(timestampMs('2026-11-26T10:00:00Z')).toBe(Date.UTC(2026, 10, 26, 10));
    expect(timestampMs('2026-11-26T10:00:00.123456Z')).toBe(Date.UTC(2026, 10, 26, 10, 0, 0, 123));
  });

  it('returns undefined for absent, unparseable and invalid values', () => {
    expect(timestampMs(undefined)).toBeUndefined();
    expect(timestampMs('yesterday-ish')).toBeUndefined();
    expect(timestampMs(new Date(Number.NaN))).toBeUndefined();
  });
});
