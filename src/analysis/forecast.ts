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
  /** Scatter of the observed value around the forecast (σ, value units, > 0). */
  readonly sigma: number;
  /**
   * How the scatter moves in time. `{ rho, dt }`: AR(1) noise with lag-one autocorrelation `rho` at spacing `dt`
   * seconds — the crossing is a first passage, computed step by step from the joint law of two successive values.
   * `{ step }`: independent tries `step` seconds apart (one per GC cycle for a sawtooth's peaks).
   */
  readonly noise: { readonly rho: number; readonly dt: number } | { readonly step: number };
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

/** Gauss–Legendre nodes and weights on [−1, 1] (8 points): integrates the bivariate normal's smooth integrand. */
const GL_X = [-0.9602898565, -0.7966664774, -0.5255324099, -0.1834346425, 0.1834346425, 0.5255324099, 0.7966664774, 0.9602898565];
const GL_W = [0.1012285363, 0.2223810345, 0.3137066459, 0.3626837834, 0.3626837834, 0.3137066459, 0.2223810345, 0.1012285363];

/**
 * P(X ≤ a, Y ≤ b) for standard normals with correlation rho ≥ 0, by Sheppard's formula: Φ(a)Φ(b) plus the integral
 * over θ from 0 to asin(rho) of exp(−(a² + b² − 2ab·sin θ) / (2cos² θ)) / 2π (Gauss–Legendre).
 */
export function bivariateNormalCdf(a: number, b: number, rho: number): number {
  const base = normalCdf(a) * normalCdf(b);
  if (rho <= 0) return base;
  const top = Math.asin(Math.min(rho, 0.9999));
  let sum = 0;
  for (let i = 0; i < GL_X.length; i++) {
    const th = (top * ((GL_X[i] as number) + 1)) / 2;
    const sn = Math.sin(th);
    const c2 = 1 - sn * sn;
    sum += (GL_W[i] as number) * Math.exp(-(a * a + b * b - 2 * a * b * sn) / (2 * c2));
  }
  return base + (sum * top) / 2 / (2 * Math.PI);
}

/** Beyond this many σ below the limit a step's crossing probability is negligible (< 3·10⁻⁷). */
const FAR = 5;

/**
 * The crossing-time distribution of `model` against `limit`, scanned to `lookahead` seconds in steps of
 * horizon/120. Per node, P(no crossing by t) is a product of per-step survivals: for AR(1) noise the hazard of
 * crossing at a step given no crossing at the previous one (a first-passage approximation that is exact for the
 * step-to-step dependence), for independent tries Φ((limit − f) / σ) per try. The crossing probability is the
 * weighted mean over the nodes.
 */
export function crossingTimes(model: CrossingModel, limit: number, horizon: number, lookahead: number): CrossingTimes {
  const dt = horizon / STEPS_PER_HORIZON;
  const totalSteps = Math.ceil(lookahead / dt);
  const nodes = model.nodes.filter((n) => n.weight > 0);
  const total = nodes.reduce((s, n) => s + n.weight, 0) || 1;
  const k = nodes.length;
  const survive = new Float64Array(k).fill(1);
  const prevZ = new Float64Array(k);
  const rho = new Float64Array(k);
  const tries = new Float64Array(k);
  nodes.forEach((n, j) => {
    prevZ[j] = (limit - n.f(0)) / n.sigma;
    if ('rho' in n.noise) rho[j] = Math.min(0.999, Math.max(0, n.noise.rho) ** (dt / Math.max(n.noise.dt, 1e-6)));
    else tries[j] = dt / Math.max(n.noise.step, 1e-6);
  });
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
        const z = (limit - node.f(t)) / node.sigma;
        let stay: number;
        if ((tries[j] as number) > 0) {
          const p = normalCdf(z);
          stay = tries[j] === 1 ? p : Math.pow(p, tries[j] as number);
        } else if (z >= FAR && (prevZ[j] as number) >= FAR) {
          stay = 1;
        } else {
          // P(Y > b | X ≤ a) with a, b the standardized distances at the previous step and this one.
          const a = prevZ[j] as number;
          const pa = normalCdf(a);
          const joint = 1 - pa - normalCdf(z) + bivariateNormalCdf(a, z, rho[j] as number);
          const hazard = pa <= 1e-12 ? 1 - normalCdf(z) : (1 - normalCdf(z) - joint) / pa;
          stay = 1 - Math.min(1, Math.max(0, hazard));
        }
        prevZ[j] = z;
        survive[j] = (survive[j] as number) * stay;
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
