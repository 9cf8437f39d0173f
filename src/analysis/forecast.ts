/**
 * Crossing-time distribution of a forecast: the probability that a series reaches a limit by each time ahead, from
 * weighted versions of the forecast (candidate models, and within each model equally likely versions across its
 * uncertainty, e.g. slopes across the confidence interval), each with Gaussian scatter around it. Pure; O(nodes ×
 * scan steps), both bounded.
 */
import { normalCdf, normalQuantile } from './stats.js';

/** One version of the forecast. */
export interface CrossingNode {
  /** Value at t seconds from now. */
  readonly f: (t: number) => number;
  /** Weight of this version (the weights of a model sum to 1). */
  readonly weight: number;
  /** Scatter of the observed value around the forecast at one try (σ, value units, > 0). */
  readonly sigma: number;
  /** Seconds between independent tries (see shapes.ts: the sample interval stretched by serial correlation). */
  readonly step: number;
}

/** A forecast with its uncertainty: weighted versions. */
export interface CrossingModel {
  readonly nodes: readonly CrossingNode[];
}

/** When the limit is reached, in seconds from now (null: not within the look-ahead at that probability). */
export interface CrossingTimes {
  /** Probability of reaching the limit within the horizon. */
  readonly withinHorizon: number;
  /** 10th, 50th, 90th percentile of the crossing time. */
  readonly p10: number | null;
  readonly median: number | null;
  readonly p90: number | null;
}

/** Scan steps within the horizon: bounds the cost. */
const STEPS_PER_HORIZON = 120;

/**
 * The crossing-time distribution of `model` against `limit`, scanned to `lookahead` seconds. Each scan step of
 * length Δ stands for Δ / node.step independent tries: P(no crossing by t) is the product of Φ((limit − f(tᵢ)) / σ)
 * over the tries, and the crossing probability is the weighted mean over the nodes.
 */
export function crossingTimes(model: CrossingModel, limit: number, horizon: number, lookahead: number): CrossingTimes {
  const dt = horizon / STEPS_PER_HORIZON;
  const totalSteps = Math.ceil(lookahead / dt);
  const nodes = model.nodes.filter((n) => n.weight > 0);
  const total = nodes.reduce((s, n) => s + n.weight, 0) || 1;
  const k = nodes.length;
  const survive = new Float64Array(k).fill(1);
  const tries = nodes.map((n) => dt / Math.max(n.step, 1e-6));
  let withinHorizon = 0;
  let p10: number | null = null;
  let median: number | null = null;
  let p90: number | null = null;
  let prevP = 0;
  for (let s = 1; s <= totalSteps; s++) {
    const t = s * dt;
    let crossed = 0;
    for (let j = 0; j < k; j++) {
      const node = nodes[j] as CrossingNode;
      if ((survive[j] as number) > 1e-12) {
        const stay = normalCdf((limit - node.f(t)) / node.sigma);
        const e = tries[j] as number;
        survive[j] = (survive[j] as number) * (e === 1 ? stay : Math.pow(stay, e));
      }
      crossed += node.weight * (1 - (survive[j] as number));
    }
    const p = crossed / total;
    // Interpolate within the step for the percentiles.
    const at = (q: number): number => (p === prevP ? t : t - dt + (dt * (q - prevP)) / (p - prevP));
    if (p10 === null && p >= 0.1) p10 = at(0.1);
    if (median === null && p >= 0.5) median = at(0.5);
    if (p90 === null && p >= 0.9) p90 = at(0.9);
    if (s === STEPS_PER_HORIZON) withinHorizon = p;
    prevP = p;
    if (p90 !== null && s >= STEPS_PER_HORIZON) break;
  }
  return { withinHorizon, p10, median, p90 };
}

/** `count` standard-normal quantiles at the midpoints of equal-probability bins: nodes for a normal uncertainty. */
export function normalNodes(count: number): number[] {
  return Array.from({ length: count }, (_, i) => normalQuantile((i + 0.5) / count));
}
