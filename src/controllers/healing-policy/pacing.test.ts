import { describe, expect, it } from 'vitest';
import { changeDelayMs, MAX_PACE_MS, MIN_PACED_PASS_MS, PACE_FACTOR } from './pacing.js';

describe('changeDelayMs', () => {
  it('lets a policy never evaluated go at once', () => {
    expect(changeDelayMs(undefined, 1_000)).toBe(0);
  });

  it('spaces the passes by PACE_FACTOR times the last pass, counted from its end', () => {
    const last = { endedAt: 10_000, loopMs: 25 };
    expect(changeDelayMs(last, 10_000)).toBe(25 * PACE_FACTOR);
    expect(changeDelayMs(last, 10_040)).toBe(25 * PACE_FACTOR - 40);
    expect(changeDelayMs(last, 10_000 + 25 * PACE_FACTOR)).toBe(0);
    expect(changeDelayMs(last, 20_000)).toBe(0);
  });

  it('does not pace a policy whose pass fitted in one evaluation slice', () => {
    expect(changeDelayMs({ endedAt: 0, loopMs: MIN_PACED_PASS_MS - 0.1 }, 0)).toBe(0);
    expect(changeDelayMs({ endedAt: 0, loopMs: MIN_PACED_PASS_MS }, 0)).toBe(MIN_PACED_PASS_MS * PACE_FACTOR);
  });

  it('never waits longer than MAX_PACE_MS, however costly the pass', () => {
    expect(changeDelayMs({ endedAt: 0, loopMs: 10_000 }, 0)).toBe(MAX_PACE_MS);
    expect(changeDelayMs({ endedAt: 0, loopMs: 10_000 }, MAX_PACE_MS)).toBe(0);
  });

  it('takes the factor and the cap as arguments', () => {
    expect(changeDelayMs({ endedAt: 0, loopMs: 20 }, 1, 3, 100)).toBe(59);
    expect(changeDelayMs({ endedAt: 0, loopMs: 200 }, 0, 3, 100)).toBe(100);
  });
});
