import { describe, expect, it } from 'vitest';
import type { AssessOptions, Assessment, SeriesInput } from '../analysis/types.js';
import { createAssessmentCache } from './assessment-cache.js';

describe('createAssessmentCache', () => {
  const input = (values: number[], now = 60_000): SeriesInput => ({ kind: 'memory', limit: 100, now, samples: values.map((value, i) => ({ at: i * 15_000, value })) });
  const options: AssessOptions = { horizonMs: 1_800_000 };

  it('answers a repeated question from memory and a changed one afresh', () => {
    let calls = 0;
    const cache = createAssessmentCache(() => ({ calls: ++calls }) as unknown as Assessment);
    const a = cache.assess(input([1, 2, 3]), options);
    expect(cache.assess(input([1, 2, 3]), options)).toBe(a);
    expect(cache.hits()).toBe(1);
    cache.assess(input([1, 2, 4]), options);
    cache.assess(input([1, 5, 3]), options);
    cache.assess(input([1, 2, 3], 75_000), options);
    cache.assess(input([1, 2, 3]), { ...options, horizonMs: 60_000 });
    expect(calls).toBe(5);
  });

  it('stays within its bound, dropping the least recently used', () => {
    const cache = createAssessmentCache(() => ({}) as Assessment, 2);
    cache.assess(input([1]), options);
    cache.assess(input([2]), options);
    cache.assess(input([1]), options);
    cache.assess(input([3]), options);
    expect(cache.size()).toBe(2);
    const hits = cache.hits();
    cache.assess(input([1]), options);
    expect(cache.hits()).toBe(hits + 1);
  });
});
