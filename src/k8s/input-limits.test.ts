import { describe, expect, it } from 'vitest';
import { capText } from './input-limits.js';

describe('capText', () => {
  it('returns a string that fits unchanged', () => {
    expect(capText('BackOff', 7)).toBe('BackOff');
  });

  it('cuts a longer string to the cap, marking the cut', () => {
    const out = capText('a'.repeat(100), 10);
    expect(out).toBe(`${'a'.repeat(9)}…`);
    expect(out.length).toBe(10);
  });

  it('never splits a surrogate pair', () => {
    const out = capText(`${'a'.repeat(8)}😀xyz`, 10);
    expect(out).toBe(`${'a'.repeat(8)}…`);
    expect(out.length).toBeLessThanOrEqual(10);
  });
});
