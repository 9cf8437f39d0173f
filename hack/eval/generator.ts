/**
 * Labelled series for evaluating the analyzer: a seeded simulation of container memory and CPU, with the label
 * taken from the simulation's own continuation past "now" — never from any analyzer.
 *
 * Each series is a process observed at scrape times: a pattern's signal (a fraction of the limit), plus
 * autocorrelated noise (AR(1), as scrapes of a smooth process are), clipped at zero. What the metric would show
 * is what the label is about: the label says whether the continuation, sampled on the same interval without gaps,
 * reaches the limit within the 30-minute horizon, and the true seconds to the limit when it does within an hour.
 * Noise and spikes are part of the process, so a series that hovers near the limit can breach by noise alone.
 *
 * Realism (none of these knobs is set from what the analyzer does):
 * - memory limits 256 Mi–2 Gi, CPU in percent of its limit; memory OOMs at the limit (the container restarts,
 *   memory starts over, samples are missing while it restarts), CPU is throttled at the limit (clipped);
 * - scrape intervals 10–60 s with ±15% jitter, dropped scrapes, and gaps of minutes;
 * - container restarts: OOM loops for leaks that hit the limit inside the window, deploys at random times; the
 *   start times are handed to the analyzer for 60% of memory series (the operator knows them from pod status), not
 *   for the rest (the CLI does not);
 * - leaks' time to the limit is log-uniform from 4 min to 4 h, so about half breach within 30 min and a tenth lie
 *   within ±20% of the horizon: both classes are hard near the boundary;
 * - GC sawtooth periods are jittered and their peaks vary; oscillations have a harmonic; noise levels low, medium,
 *   high per kind.
 */
import { createRng, type Rng } from './prng.js';

/** The shapes the generator draws. `insufficient-data` is a very short window of any other shape. */
export const TRUE_PATTERNS = [
  'linear-leak',
  'sawtooth-leak',
  'healthy-sawtooth',
  'warm-up',
  'saturating-growth',
  'step',
  'spikes',
  'leak-after-change-point',
  'oscillation',
  'rising-oscillation',
  'flat',
  'insufficient-data',
] as const;
/** A generator shape. */
export type TruePattern = (typeof TRUE_PATTERNS)[number];

/** Noise levels; σ as a fraction of the limit depends on the kind. */
export type NoiseLevel = 'low' | 'medium' | 'high';

const NOISE_SIGMA: Record<'memory' | 'cpu', Record<NoiseLevel, number>> = {
  memory: { low: 0.004, medium: 0.012, high: 0.03 },
  cpu: { low: 0.01, medium: 0.03, high: 0.06 },
};

/** The label: what the continuation did. */
export interface Truth {
  /** The continuation reached the limit within the horizon after now. */
  readonly willBreach: boolean;
  /** Seconds from now to the first continuation sample at or above the limit; null when none within an hour. */
  readonly secondsToLimit: number | null;
}

/** One labelled series. Times are ms since the epoch; values in MiB (memory) or percent (CPU). */
export interface LabelledSeries {
  readonly id: string;
  readonly pattern: TruePattern;
  readonly kind: 'memory' | 'cpu';
  readonly noise: NoiseLevel;
  readonly unit: 'MiB' | '%';
  readonly limit: number;
  readonly intervalSeconds: number;
  readonly now: number;
  readonly samples: readonly { readonly at: number; readonly value: number }[];
  /** Container start times inside the window, when the analyzer is told them. */
  readonly containerStarts?: readonly number[];
  /** Restarts inside the window (told or not). */
  readonly restarts: number;
  readonly gaps: number;
  readonly truth: Truth;
  /** The continuation after now up to the first crossing (for plots and debugging; never shown to an analyzer). */
  readonly future: readonly { readonly at: number; readonly value: number }[];
}

/** The horizon of the labels. */
export const HORIZON_SECONDS = 1800;
/** How far the continuation is simulated. */
const CONTINUATION_SECONDS = 3600;
/** "now" of every series: a fixed instant, so that output is reproducible. */
export const EVAL_NOW_MS = 1_748_736_000_000;

/** A signal: fraction of the limit at time t (s, relative to now) for a container started at `start` (s). */
type Signal = (t: number, start: number) => number;

interface Shape {
  readonly signal: Signal;
  /** Planned container starts (s relative to now), ascending, ≤ 0; the earliest may lie before the window. */
  readonly starts: readonly number[];
}

const MIN = 60;
const HOUR = 3600;

/** Starts of a container that restarts every `cycle` s (OOM loop) or at random, back from `current` over `window`. */
function plannedStarts(rng: Rng, current: number, window: number, cycle: number | undefined): number[] {
  const starts = [current];
  let s = current;
  while (s > -window) {
    const d = cycle !== undefined && rng.chance(0.7) ? cycle + rng.uniform(10, 60) : rng.uniform(10 * MIN, 90 * MIN);
    s -= d;
    starts.unshift(s);
  }
  return starts;
}

/** A sawtooth with jittered periods: the GC cycle's phase (0..1) at age a, precomputed for the container's life. */
function sawtoothPhase(rng: Rng, future: Rng, period: number, life: number, ageNow: number): (age: number) => { phase: number; height: number } {
  const edges: number[] = [0];
  const heights: number[] = [];
  let e = 0;
  while (e < life) {
    // Cycles that start after now are the future's: drawn from its own stream.
    const r = e < ageNow ? rng : future;
    e += period * r.uniform(0.75, 1.25);
    edges.push(e);
    heights.push(r.uniform(0.85, 1.1));
  }
  return (age) => {
    if (age < 0) return { phase: 0, height: 1 };
    // Binary search for the cycle containing age.
    let lo = 0;
    let hi = edges.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((edges[mid] as number) <= age) lo = mid;
      else hi = mid;
    }
    const a = edges[lo] as number;
    const b = edges[lo + 1] ?? a + period;
    return { phase: (age - a) / (b - a), height: heights[lo] ?? 1 };
  };
}

function oscillator(rng: Rng, period: number): (t: number) => number {
  const phase = rng.uniform(0, 2 * Math.PI);
  const h = rng.uniform(0, 0.3);
  const phase2 = rng.uniform(0, 2 * Math.PI);
  const norm = 1 + h;
  return (t) => (Math.sin((2 * Math.PI * t) / period + phase) + h * Math.sin((4 * Math.PI * t) / period + phase2)) / norm;
}

/** Draws the shape of one series (fractions of the limit) for a window of W seconds. */
function drawShape(rng: Rng, future: Rng, pattern: Exclude<TruePattern, 'insufficient-data'>, kind: 'memory' | 'cpu', W: number, continuation: number): Shape {
  const memory = kind === 'memory';
  const ttl = (): number => rng.logUniform(4 * MIN, 4 * HOUR);
  const far = -W - 10 * HOUR;
  switch (pattern) {
    case 'linear-leak': {
      const b = rng.uniform(0.08, 0.45);
      const A = memory ? rng.uniform(15 * MIN, 3 * HOUR) : rng.uniform(W, 3 * HOUR);
      const r = (1 - b) / (A + ttl());
      const starts = memory ? plannedStarts(rng, -A, W, (1 - b) / r) : [far];
      return { starts, signal: (t, s) => b + r * Math.max(0, t - (memory ? s : -A)) };
    }
    case 'sawtooth-leak':
    case 'healthy-sawtooth': {
      const b = rng.uniform(0.1, 0.45);
      const amp = rng.uniform(0.05, Math.min(0.35, 0.9 - b));
      const period = rng.logUniform(45, 10 * MIN);
      const A = rng.uniform(20 * MIN, 3 * HOUR);
      const r = pattern === 'sawtooth-leak' ? (1 - amp - b) / (A + ttl()) : 0;
      const cycle = r > 0 ? (1 - amp - b) / r : undefined;
      const starts = plannedStarts(rng, -A, W, cycle);
      const phases = new Map<number, ReturnType<typeof sawtoothPhase>>();
      for (const s of starts) phases.set(s, sawtoothPhase(rng, future, period, -s + continuation + HOUR, -s));
      return {
        starts,
        signal: (t, s) => {
          const age = Math.max(0, t - s);
          const ph = phases.get(s)?.(age) ?? { phase: 0, height: 1 };
          return b + r * age + amp * ph.height * ph.phase;
        },
      };
    }
    case 'warm-up': {
      const b = rng.uniform(0.03, 0.25);
      const p = rng.uniform(Math.max(0.3, b + 0.1), 0.97);
      const A = rng.uniform(0.25, 0.9) * W;
      const T = rng.uniform(A / 8, A / 3);
      const starts = memory ? plannedStarts(rng, -A, W, undefined) : [-A];
      return { starts, signal: (t, s) => (t < s ? b : p - (p - b) * Math.exp(-(t - s) / T)) };
    }
    case 'saturating-growth': {
      const b = rng.uniform(0.05, 0.3);
      const p = rng.uniform(0.55, 1.6);
      const T = rng.uniform(15 * MIN, 90 * MIN);
      const A = rng.uniform(0.3, 1.5) * T;
      const starts = memory ? plannedStarts(rng, -A, W, undefined) : [-A];
      return { starts, signal: (t, s) => (t < s ? b : p - (p - b) * Math.exp(-(t - s) / T)) };
    }
    case 'step': {
      const b = rng.uniform(0.1, 0.6);
      const up = rng.chance(0.75);
      const d = up ? rng.uniform(0.05, Math.min(0.4, 0.97 - b)) : -rng.uniform(0.05, b - 0.03);
      const at = -rng.uniform(3 * MIN, 0.8 * W);
      return { starts: [far], signal: (t) => (t < at ? b : b + d) };
    }
    case 'spikes': {
      const b = rng.uniform(0.1, 0.65);
      const meanGap = rng.uniform(3 * MIN, 20 * MIN);
      const spikes: { at: number; width: number; height: number }[] = [];
      for (let t = -W - HOUR; t < continuation + HOUR; ) {
        const r = t < 0 ? rng : future;
        t += -Math.log(Math.max(r.next(), 1e-9)) * meanGap;
        spikes.push({ at: t, width: r.uniform(10, 45), height: r.uniform(0.05, 0.45) });
      }
      return {
        starts: [far],
        signal: (t) => {
          let v = b;
          for (const sp of spikes) if (t >= sp.at && t < sp.at + sp.width) v = Math.max(v, b + sp.height);
          return v;
        },
      };
    }
    case 'leak-after-change-point': {
      const b = rng.uniform(0.1, 0.5);
      const cp = -rng.uniform(5 * MIN, 0.6 * W);
      const r = (1 - b) / (-cp + ttl());
      return { starts: [far], signal: (t, s) => b + r * Math.max(0, t - Math.max(cp, s)) };
    }
    case 'oscillation': {
      const m = rng.uniform(0.2, 0.75);
      const a = rng.uniform(0.05, Math.min(0.3, 0.98 - m));
      const osc = oscillator(rng, rng.logUniform(2 * MIN, 40 * MIN));
      return { starts: [far], signal: (t) => m + a * osc(t) };
    }
    case 'rising-oscillation': {
      const a = rng.uniform(0.05, 0.2);
      const m0 = rng.uniform(0.1, Math.min(0.5, 0.9 - a));
      const osc = oscillator(rng, rng.logUniform(3 * MIN, 25 * MIN));
      const A = memory ? rng.uniform(20 * MIN, 3 * HOUR) : rng.uniform(W, 3 * HOUR);
      const r = (1 - a - m0) / (A + ttl());
      const starts = memory ? plannedStarts(rng, -A, W, (1 - a - m0) / r) : [far];
      return { starts, signal: (t, s) => m0 + r * Math.max(0, t - (memory ? s : -A)) + a * osc(t) };
    }
    case 'flat': {
      const level = rng.uniform(0.05, 0.95);
      return { starts: [far], signal: () => level };
    }
    default: {
      const unreachable: never = pattern;
      throw new Error(`unknown pattern ${String(unreachable)}`);
    }
  }
}

/** The kinds × patterns the set cycles through (CPU has no GC sawtooth). */
export const COMBOS: readonly (readonly ['memory' | 'cpu', TruePattern])[] = [
  ...TRUE_PATTERNS.map((p) => ['memory', p] as const),
  ...TRUE_PATTERNS.filter((p) => p !== 'sawtooth-leak' && p !== 'healthy-sawtooth').map((p) => ['cpu', p] as const),
];

const NOISE_LEVELS: readonly NoiseLevel[] = ['low', 'medium', 'high'];

/** Mixes a seed and an index into an independent 32-bit stream seed. */
function streamSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The `index`-th series of the set `seed`. Each series has its own random stream, so a series does not depend on
 * how many others are generated. Kinds × patterns × noise levels are cycled so every cell is equally represented.
 * `futureSeed` replaces the randomness after now (noise, spike arrivals, GC cycle lengths) and leaves the history
 * as it is: the oracle (oracle.ts) averages labels over such alternative futures. `runSeconds` (episodes.ts) makes
 * the window and the continuation together that long, instead of the window plus an hour; the window and its
 * history are the same as without it.
 */
export function generateSeries(seed: number, index: number, futureSeed?: number, runSeconds?: number): LabelledSeries {
  const rng = createRng(streamSeed(seed, index));
  // Everything after now (noise, spikes, GC cycles) comes from a stream of its own, so that the oracle can replay the
  // same history with other futures.
  const futureRng = createRng(streamSeed(seed ^ 0x5bd1e995, futureSeed === undefined ? index : index * 7919 + futureSeed + 1));
  const [kind, pattern] = COMBOS[index % COMBOS.length] as readonly ['memory' | 'cpu', TruePattern];
  const noise = NOISE_LEVELS[Math.floor(index / COMBOS.length) % NOISE_LEVELS.length] as NoiseLevel;
  const memory = kind === 'memory';
  const limit = memory ? rng.pick([[256, 1], [512, 2], [1024, 2], [2048, 1]] as const) : 100;
  const interval = rng.pick([[10, 1], [15, 6], [30, 2], [60, 1]] as const);
  const short = pattern === 'insufficient-data';
  const W = short ? rng.uniform(2 * MIN, 6 * MIN) : rng.uniform(30 * MIN, 2 * HOUR);
  const shapeName: Exclude<TruePattern, 'insufficient-data'> = short
    ? rng.pick(TRUE_PATTERNS.filter((p): p is Exclude<TruePattern, 'insufficient-data'> => p !== 'insufficient-data').map((p) => [p, 1] as const))
    : pattern;
  // A run of `runSeconds` in all (episodes.ts): the continuation fills it up after the window; the default is an hour.
  const continuation = runSeconds === undefined ? CONTINUATION_SECONDS : Math.max(0, runSeconds - W);
  const shape = drawShape(rng, futureRng, shapeName, kind, W, continuation);
  const sigma = NOISE_SIGMA[kind][noise];
  const phi15 = rng.uniform(0, 0.85);

  // Extra deploy restarts for some memory series.
  const starts = [...shape.starts];
  if (memory && !short && rng.chance(0.2)) {
    const n = rng.int(1, 2);
    for (let i = 0; i < n; i++) starts.push(-rng.uniform(3 * MIN, W - 2 * MIN));
    starts.sort((a, b) => a - b);
  }

  // Scrape times: a jittered grid ending just before now, minus gaps and dropped scrapes.
  const lag = rng.uniform(0, interval);
  const gaps: [number, number][] = [];
  if (!short && rng.chance(0.35)) {
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      const len = rng.uniform(1 * MIN, 12 * MIN);
      const from = -rng.uniform(2 * MIN + len, W);
      gaps.push([from, from + len]);
    }
  }
  const times: number[] = [];
  for (let t = -lag; t >= -W; t -= interval) {
    const jittered = t + (t === -lag ? 0 : rng.uniform(-0.15, 0.15) * interval);
    if (gaps.some(([a, b]) => jittered >= a && jittered < b)) continue;
    if (t !== -lag && rng.chance(0.02)) continue;
    times.push(jittered);
  }
  times.reverse();

  // Simulate forward: noise is AR(1) in continuous time; memory at the limit is an OOM kill and a restart.
  const restartDelay = (): number => rng.uniform(10, 60);
  const samples: { at: number; value: number }[] = [];
  const told: number[] = [];
  let noiseState = rng.normal() * sigma;
  let prevT: number | undefined;
  let startIdx = 0;
  while (startIdx + 1 < starts.length && (starts[startIdx + 1] as number) <= (times[0] ?? 0)) startIdx++;
  let start = starts[startIdx] as number;
  let downUntil = -Infinity;
  let restarts = 0;
  const step = (t: number): number => {
    const dt = prevT === undefined ? interval : Math.max(0, t - prevT);
    const phi = Math.pow(phi15, dt / 15);
    noiseState = phi * noiseState + Math.sqrt(1 - phi * phi) * sigma * (t > 0 ? futureRng : rng).normal();
    prevT = t;
    return Math.max(0, shape.signal(t, start) + noiseState);
  };
  for (const t of times) {
    // Planned restarts (OOM cycles of the shape, deploys).
    while (startIdx + 1 < starts.length && (starts[startIdx + 1] as number) <= t) {
      startIdx++;
      start = starts[startIdx] as number;
      if (start > -W) {
        restarts++;
        told.push(start);
        downUntil = start;
      }
    }
    if (t < downUntil) continue;
    let v = step(t);
    if (v >= 1) {
      if (memory) {
        // OOM: the scrape may or may not catch the peak; the container restarts after a delay.
        v = Math.min(v, 1);
        samples.push({ at: t, value: v });
        start = t + restartDelay();
        downUntil = start;
        restarts++;
        told.push(start);
        continue;
      }
      v = 1;
    }
    samples.push({ at: t, value: v });
  }

  // The continuation: the same process, every min(interval, 15) s, no gaps.
  const res = Math.min(interval, 15);
  let secondsToLimit: number | null = null;
  const future: { at: number; value: number }[] = [];
  for (let t = res - lag; t <= continuation; t += res) {
    if (t <= 0) continue;
    while (startIdx + 1 < starts.length && (starts[startIdx + 1] as number) <= t) {
      startIdx++;
      start = starts[startIdx] as number;
    }
    if (t < downUntil) continue;
    const value = step(t);
    future.push({ at: t, value: Math.min(value, 1) });
    if (value >= 1) {
      secondsToLimit = Math.round(t);
      break;
    }
  }
  const round = (v: number): number => Math.round(v * limit * 100) / 100;
  const toMs = (s: number): number => EVAL_NOW_MS + Math.round(s * 1000);
  const knowStarts = memory && rng.chance(0.6);
  return {
    id: `${seed}-${index}`,
    pattern,
    kind,
    noise,
    unit: memory ? 'MiB' : '%',
    limit,
    intervalSeconds: interval,
    now: EVAL_NOW_MS,
    samples: samples.map((p) => ({ at: toMs(p.at), value: round(p.value) })),
    ...(knowStarts ? { containerStarts: told.filter((s) => s <= 0).map(toMs) } : {}),
    restarts,
    gaps: gaps.length,
    truth: { willBreach: secondsToLimit !== null && secondsToLimit <= HORIZON_SECONDS, secondsToLimit },
    future: future.map((p) => ({ at: toMs(p.at), value: round(p.value) })),
  };
}

/** `count` series of the set `seed` (indices 0..count−1). */
export function generateSet(seed: number, count: number): LabelledSeries[] {
  return Array.from({ length: count }, (_, i) => generateSeries(seed, i));
}
