import { describe, expect, it } from 'vitest';
import { computeScale } from './scale.js';

describe('computeScale', () => {
  it.each([
    // current, spec, desired, clamped, noop
    [2, { direction: 'up', replicas: 2 }, 4, false, false],
    [4, { direction: 'down', replicas: 1 }, 3, false, false],
    [2, { direction: 'absolute', replicas: 5 }, 5, false, false],
    [8, { direction: 'up', replicas: 5 }, 10, true, false],
    [2, { direction: 'down', replicas: 5 }, 1, true, false],
    [3, { direction: 'up', replicas: 5, maxReplicas: 4 }, 4, true, false],
    [4, { direction: 'up', replicas: 1, maxReplicas: 4 }, 4, true, true],
    [1, { direction: 'down', replicas: 1 }, 1, true, true],
    [0, { direction: 'down', replicas: 1, minReplicas: 0 }, 0, true, true],
    [3, { direction: 'absolute', replicas: 3 }, 3, false, true],
    [3, { direction: 'absolute', replicas: 0, minReplicas: 0 }, 0, false, false],
    [12, { direction: 'absolute', replicas: 20, maxReplicas: 10 }, 10, true, false],
  ] as const)('from %i with %j sets %i (clamped %s, noop %s)', (current, spec, desired, clamped, noop) => {
    const c = computeScale(current, spec);
    expect(c.desired).toBe(desired);
    expect(c.clamped).toBe(clamped);
    expect(c.noop).toBe(noop);
  });

  it('never moves against the direction when the workload is already outside the bounds', () => {
    // 12 replicas, max 10: "up" must not become a scale-down to 10.
    expect(computeScale(12, { direction: 'up', replicas: 1 })).toMatchObject({ desired: 12, noop: true, clamped: true });
    // 0 replicas, min 1: "down" must not become a scale-up to 1.
    expect(computeScale(0, { direction: 'down', replicas: 1 })).toMatchObject({ desired: 0, noop: true });
    // Below the minimum, "up" goes at least to the minimum.
    expect(computeScale(0, { direction: 'up', replicas: 1, minReplicas: 2 })).toMatchObject({ desired: 2, clamped: true });
  });

  it('explains what happened, naming the bound', () => {
    expect(computeScale(3, { direction: 'up', replicas: 10, maxReplicas: 5 }).explanation).toBe('3 → 5 (requested 13, clamped to maxReplicas 5)');
    expect(computeScale(3, { direction: 'down', replicas: 10, minReplicas: 2 }).explanation).toBe('3 → 2 (requested -7, clamped to minReplicas 2)');
    expect(computeScale(3, { direction: 'up', replicas: 1 }).explanation).toBe('3 → 4');
  });

  it('uses the schema defaults 1 and 10', () => {
    expect(computeScale(5, { direction: 'up', replicas: 100 })).toMatchObject({ desired: 10, min: 1, max: 10 });
    expect(computeScale(5, { direction: 'down', replicas: 100 })).toMatchObject({ desired: 1 });
  });
});
