/**
 * An oracle for the labelled sets: the probability of a breach as someone would know it who knew the generator's
 * exact process — its shape, parameters, restarts and the noise's state at now — and only not the future's own
 * randomness (noise, spike arrivals, GC cycle lengths). It replays each series with `runs` other futures and
 * counts breaches. No analyzer can know more from the samples, so its precision/recall bound what any analyzer can
 * reach on the set: the evaluation reports it next to the analyzer to show how much of the gap to a target is the
 * method's and how much is chance.
 */
import { generateSeries, type LabelledSeries } from './generator.js';

/** The oracle's breach probability for series `index` of set `seed`. */
export function oracleProbability(seed: number, index: number, runs: number): number {
  let breaches = 0;
  for (let r = 0; r < runs; r++) if (generateSeries(seed, index, r).truth.willBreach) breaches++;
  return breaches / runs;
}

/** The oracle's probabilities for a generated set (same seed and indices as `set`). */
export function oracleProbabilities(seed: number, set: readonly LabelledSeries[], runs: number): number[] {
  return set.map((_, i) => oracleProbability(seed, i, runs));
}
