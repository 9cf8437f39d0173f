/**
 * A memo for series assessments. The predictive trigger assesses a series as of its latest sample, so between two
 * samples (every 15 s or so) every reconcile would repeat the same computation — about 1.5 ms per target. The memo
 * answers a repeated question from memory. Keyed by everything the answer depends on; bounded (least recently used
 * dropped), so it cannot grow with the cluster beyond `maxEntries`.
 */
import type { AssessOptions, Assessment, SeriesInput } from '../analysis/types.js';

/** An assess function with its memo; `size` and `hits` for tests and metrics. */
export interface AssessmentCache {
  readonly assess: (input: SeriesInput, options: AssessOptions) => Assessment;
  size(): number;
  hits(): number;
}

/**
 * Wraps `assess` with a bounded memo. The key holds the input's kind, limit, time, unit and container starts, the
 * options, and a fingerprint of the samples (count, first and last time and value, and a sum of every sample), so
 * a different series never meets another's answer. `calibration` options are compared by identity.
 */
export function createAssessmentCache(assess: (input: SeriesInput, options: AssessOptions) => Assessment, maxEntries = 20_000): AssessmentCache {
  const memo = new Map<string, Assessment>();
  let hits = 0;
  const calibrations = new WeakMap<object, number>();
  let calibrationIds = 0;
  const keyOf = (input: SeriesInput, options: AssessOptions): string => {
    let sum = 0;
    for (const s of input.samples) sum += s.value * 1.000001 + (s.at % 1_000_003);
    const first = input.samples[0];
    const last = input.samples.at(-1);
    let cal = 0;
    if (options.calibration) {
      cal = calibrations.get(options.calibration) ?? ++calibrationIds;
      calibrations.set(options.calibration, cal);
    }
    return [
      input.kind,
      input.limit,
      input.now,
      input.unit ?? '',
      (input.containerStarts ?? []).join(','),
      input.samples.length,
      first?.at,
      first?.value,
      last?.at,
      last?.value,
      sum,
      options.horizonMs,
      options.maxLookbackMs,
      options.maxStalenessMs,
      cal,
    ].join('|');
  };
  return {
    assess: (input, options) => {
      const key = keyOf(input, options);
      const hit = memo.get(key);
      if (hit !== undefined) {
        hits++;
        // Refresh its place: the least recently used entry is the one dropped.
        memo.delete(key);
        memo.set(key, hit);
        return hit;
      }
      const result = assess(input, options);
      memo.set(key, result);
      if (memo.size > maxEntries) {
        const oldest = memo.keys().next().value;
        if (oldest !== undefined) memo.delete(oldest);
      }
      return result;
    },
    size: () => memo.size,
    hits: () => hits,
  };
}
