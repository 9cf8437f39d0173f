import { describe, expect, it } from 'vitest';
import { compareResourceVersions, parseResourceVersion } from './resource-version.js';

describe('resourceVersions', () => {
  it('compare as integers, not as strings', () => {
    expect(compareResourceVersions('9', '10')).toBe(-1);
    expect(compareResourceVersions('12345678901234567890', '12345678901234567889')).toBe(1);
    expect(compareResourceVersions('7', '7')).toBe(0);
  });
  it('are not comparable unless both are decimal integers', () => {
    expect(compareResourceVersions('abc', '1')).toBeUndefined();
    expect(compareResourceVersions('1', undefined)).toBeUndefined();
    expect(compareResourceVersions('', '1')).toBeUndefined();
    expect(parseResourceVersion('-1')).toBeUndefined();
  });
});
