/**
 * The demo simulator's decisions, pure: what kwok does not simulate by itself and the demo adds on top of it —
 * the kubelet's OOM killer (memory at the limit → OOMKilled, restart, memory starts over), a load shared by a
 * Deployment's pods, the chaos monkey's and the flaky pods' random choices (seeded), the network's latency over
 * time, the sine's peaks. No clock, no I/O: the simulator (simulator.ts) passes `now` and the pods it listed.
 */
import { parseBytes, parseMillicores } from '../k8s/quantity.js';
import { DEMO_LABELS, type DemoTimings } from './scenarios.js';

/** The sim.kubeskippy.io/* annotations (hack/cluster/manifests/kwok.yaml). */
export const SIM = {
  ready: 'sim.kubeskippy.io/ready',
  crash: 'sim.kubeskippy.io/crash',
  crashAfter: 'sim.kubeskippy.io/crash-after',
  backoff: 'sim.kubeskippy.io/backoff',
  reason: 'sim.kubeskippy.io/reason',
  exitCode: 'sim.kubeskippy.io/exit-code',
  memory: 'sim.kubeskippy.io/memory',
  leak: 'sim.kubeskippy.io/memory-leak',
  sawtooth: 'sim.kubeskippy.io/memory-sawtooth',
  sawtoothPeriod: 'sim.kubeskippy.io/memory-sawtooth-period',
  warmup: 'sim.kubeskippy.io/memory-warmup',
  warmupSeconds: 'sim.kubeskippy.io/memory-warmup-seconds',
  cpu: 'sim.kubeskippy.io/cpu',
  cpuAmplitude: 'sim.kubeskippy.io/cpu-amplitude',
  cpuPeriod: 'sim.kubeskippy.io/cpu-period',
  startedAt: 'sim.kubeskippy.io/started-at',
} as const;

/** The demo's own markers on pods: which fault it injected, so it can undo exactly that. */
export const MARKERS = {
  /** The OOM killer struck; the value is the restartCount at that moment. */
  oomKill: 'demo.kubeskippy.io/oom-kill',
  /** The chaos monkey crashed the pod once; the value is the restartCount at that moment. */
  crashOnce: 'demo.kubeskippy.io/crash-once',
  /** The chaos monkey failed the pod's readiness until this time (ms since the epoch). */
  unreadyUntil: 'demo.kubeskippy.io/unready-until',
  /** The flaky web app's pod is stuck failing its readiness probe (until it is replaced). */
  stuck: 'demo.kubeskippy.io/stuck',
} as const;

/** A pod as the simulator sees it. */
export interface SimPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly workload: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** status.startTime (ms). */
  readonly startTime?: number;
  /** containerStatuses[0].state.running.startedAt (ms), while running. */
  readonly runningSince?: number;
  readonly restartCount: number;
  readonly ready: boolean;
  readonly deleting: boolean;
  /** The container's memory limit (bytes), if any. */
  readonly memoryLimit?: number;
}

/** Annotation changes for one pod: a value sets, null removes. */
export type AnnotationPatch = Record<string, string | null>;

function quantity(annotations: Readonly<Record<string, string>>, key: string, parse: (s: string) => number, fallback: number): number {
  const raw = annotations[key];
  if (raw === undefined) return fallback;
  try {
    return parse(raw);
  } catch {
    return fallback;
  }
}

function numberOr(raw: string | undefined, fallback: number): number {
  const n = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * When the running container started (ms): the latest of kwok's started-at stamp, the container's own start and
 * the pod's start — the latest, because kwok writes the restarted status before it stamps started-at, and a look in
 * between must not count the previous run's leak.
 */
export function containerStart(pod: Pick<SimPod, 'annotations' | 'startTime' | 'runningSince'>): number | undefined {
  const stamp = Number(pod.annotations[SIM.startedAt]);
  const candidates = [Number.isFinite(stamp) && stamp > 0 ? stamp * 1000 : undefined, pod.runningSince, pod.startTime].filter((x): x is number => x !== undefined);
  return candidates.length === 0 ? undefined : Math.max(...candidates);
}

/**
 * The working-set memory kwok reports for the pod at `now` (bytes), by the same formula as the cluster's
 * ClusterResourceUsage: base + leak × t + sawtooth × frac(t / period) + warm-up × t / (t + τ), t since the
 * container started.
 */
export function simulatedMemoryBytes(pod: Pick<SimPod, 'annotations' | 'startTime' | 'runningSince'>, now: number): number {
  const a = pod.annotations;
  const start = containerStart(pod) ?? now;
  const t = Math.max(0, (now - start) / 1000);
  const base = quantity(a, SIM.memory, parseBytes, 16 * 2 ** 20);
  const leak = quantity(a, SIM.leak, parseBytes, 0) * t;
  const period = numberOr(a[SIM.sawtoothPeriod], 120);
  const saw = quantity(a, SIM.sawtooth, parseBytes, 0) * (t / period - Math.floor(t / period));
  const tau = numberOr(a[SIM.warmupSeconds], 120);
  const warm = quantity(a, SIM.warmup, parseBytes, 0) * (t / (t + tau));
  return base + leak + saw + warm;
}

/** The memory a container starts with (bytes): what it needs before any leak. */
export function baseMemoryBytes(annotations: Readonly<Record<string, string>>): number {
  return quantity(annotations, SIM.memory, parseBytes, 16 * 2 ** 20);
}

/**
 * The kubelet's OOM killer, as far as the demo needs it: a running container whose simulated memory reaches its
 * limit is killed (OOMKilled, exit 137) and restarted after a back-off, starting over from its base memory — kwok
 * runs the crash and the restart once the annotations say so. Once the kill is seen (restartCount grew) the crash
 * annotations are removed, unless even the base memory does not fit the limit: then every start is killed again, a
 * crash loop (the crash-loop scenario). Returns the annotation changes, or undefined when there is nothing to do.
 */
export function decideOomKill(pod: SimPod, now: number): AnnotationPatch | undefined {
  if (pod.memoryLimit === undefined || pod.deleting) return undefined;
  const marker = pod.annotations[MARKERS.oomKill];
  if (marker !== undefined) {
    const killedAt = Number(marker);
    if (pod.restartCount <= killedAt || baseMemoryBytes(pod.annotations) >= pod.memoryLimit) return undefined;
    return { [SIM.crash]: null, [SIM.reason]: null, [SIM.exitCode]: null, [SIM.crashAfter]: null, [SIM.backoff]: null, [MARKERS.oomKill]: null };
  }
  if (pod.runningSince === undefined || pod.annotations[SIM.crash] === 'true') return undefined;
  if (simulatedMemoryBytes(pod, now) < pod.memoryLimit) return undefined;
  return {
    [SIM.crash]: 'true',
    [SIM.reason]: 'OOMKilled',
    [SIM.exitCode]: '137',
    [SIM.crashAfter]: '1s',
    [SIM.backoff]: baseMemoryBytes(pod.annotations) >= pod.memoryLimit ? '10s' : '5s',
    [MARKERS.oomKill]: String(pod.restartCount),
  };
}

/** Ends a chaos crash once it happened (restartCount grew), so the pod recovers after its back-off. */
export function decideCrashOnceEnd(pod: SimPod): AnnotationPatch | undefined {
  const marker = pod.annotations[MARKERS.crashOnce];
  if (marker === undefined || pod.restartCount <= Number(marker)) return undefined;
  return { [SIM.crash]: null, [SIM.crashAfter]: null, [SIM.backoff]: null, [MARKERS.crashOnce]: null };
}

/** Ends a chaos readiness failure whose time is up. */
export function decideUnreadyEnd(pod: SimPod, now: number): AnnotationPatch | undefined {
  const until = pod.annotations[MARKERS.unreadyUntil];
  if (until === undefined || now < Number(until)) return undefined;
  return { [SIM.ready]: null, [MARKERS.unreadyUntil]: null };
}

/**
 * The CPU annotations of one pod of a Deployment whose total load is shared by its `podCount` pods, as behind a
 * load balancer: a sine of the timings' mean and amplitude, or the quiet load once the oscillation subsided. kwok's
 * sine has a global phase (Unix time), so every pod is at the same point of the cycle.
 */
export function cpuShare(timings: DemoTimings['cpu'], podCount: number, quiet: boolean): AnnotationPatch {
  const n = Math.max(1, podCount);
  if (quiet) return { [SIM.cpu]: `${Math.round(timings.quietMillicores / n)}m`, [SIM.cpuAmplitude]: '0m', [SIM.cpuPeriod]: String(timings.periodSeconds) };
  return {
    [SIM.cpu]: `${Math.round(timings.baseMillicores / n)}m`,
    [SIM.cpuAmplitude]: `${Math.round(timings.amplitudeMillicores / n)}m`,
    [SIM.cpuPeriod]: String(timings.periodSeconds),
  };
}

/** kwok's sine (a Bhaskara approximation of sin), −1…1, at Unix time `nowMs` for a period in seconds. */
export function kwokSine(nowMs: number, periodSeconds: number): number {
  const x = (2 * (nowMs / 1000)) / periodSeconds;
  const k = Math.floor(x);
  const f = x - k;
  const sign = k % 2 === 0 ? 1 : -1;
  return (sign * 16 * f * (1 - f)) / (5 - 4 * f * (1 - f));
}

/** The simulated CPU of one pod (millicores) at `now`, from its annotations (the cluster's formula). */
export function simulatedCpuMillicores(annotations: Readonly<Record<string, string>>, now: number): number {
  const base = quantity(annotations, SIM.cpu, parseMillicores, 5);
  const amp = quantity(annotations, SIM.cpuAmplitude, parseMillicores, 0);
  return base + amp * kwokSine(now, numberOr(annotations[SIM.cpuPeriod], 120));
}

/** The times (ms) of the sine's maxima in [from, to]: t = P·(k + ¼). */
export function sinePeaks(periodSeconds: number, from: number, to: number): number[] {
  const p = periodSeconds * 1000;
  const out: number[] = [];
  for (let k = Math.ceil(from / p - 0.25); (k + 0.25) * p <= to; k++) out.push((k + 0.25) * p);
  return out;
}

/** The network's state `elapsed` seconds after the start. */
export interface NetworkState {
  readonly latencySeconds: number;
  /** The dependency's readiness fails (and its dependants' with it). */
  readonly failing: boolean;
  readonly phase: 'healthy' | 'degrading' | 'outage';
  /** Which degradation this is (0-based), while degrading or failing. */
  readonly cycle?: number;
}

/**
 * The network over time: healthy until the first degradation, then cycles of a linear latency ramp, a hold at the
 * peak and (unless holdSeconds is undefined) recovery and a healthy stretch. Failing while the latency is above the
 * threshold.
 */
export function networkState(t: DemoTimings['network'], elapsedSeconds: number): NetworkState {
  const healthy: NetworkState = { latencySeconds: t.baseLatencySeconds, failing: false, phase: 'healthy' };
  const since = elapsedSeconds - t.firstDegradationAtSeconds;
  if (since < 0) return healthy;
  const cycleLength = t.holdSeconds === undefined ? Number.POSITIVE_INFINITY : t.rampSeconds + t.holdSeconds + t.healthySeconds;
  const cycle = Number.isFinite(cycleLength) ? Math.floor(since / cycleLength) : 0;
  const inCycle = Number.isFinite(cycleLength) ? since - cycle * cycleLength : since;
  let latency: number;
  if (inCycle < t.rampSeconds) latency = t.baseLatencySeconds + ((t.peakLatencySeconds - t.baseLatencySeconds) * inCycle) / t.rampSeconds;
  else if (t.holdSeconds === undefined || inCycle < t.rampSeconds + t.holdSeconds) latency = t.peakLatencySeconds;
  else return healthy;
  const failing = latency > t.failAboveSeconds;
  return { latencySeconds: latency, failing, phase: failing ? 'outage' : 'degrading', cycle };
}

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same chaos. Returns numbers in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One chaos-monkey strike. */
export interface ChaosStrike {
  readonly pod: SimPod;
  readonly mode: 'unready' | 'crash';
  /** For unready: how long (ms). */
  readonly durationMs: number;
  readonly patch: AnnotationPatch;
}

/**
 * The chaos monkey's next strike among `pods` (Ready ones not already struck), or undefined when none is eligible:
 * six in ten fail their readiness for a random time within the timings' range, four in ten crash once.
 */
export function chooseChaosStrike(rng: () => number, pods: readonly SimPod[], timings: Pick<DemoTimings, 'chaosUnreadySeconds'>, now: number): ChaosStrike | undefined {
  const eligible = pods.filter((p) => p.ready && !p.deleting && p.annotations[MARKERS.unreadyUntil] === undefined && p.annotations[MARKERS.crashOnce] === undefined);
  if (eligible.length === 0) return undefined;
  const pod = eligible[Math.min(eligible.length - 1, Math.floor(rng() * eligible.length))]!;
  if (rng() < 0.6) {
    const [lo, hi] = timings.chaosUnreadySeconds;
    const durationMs = Math.round((lo + rng() * (hi - lo)) * 1000);
    return { pod, mode: 'unready', durationMs, patch: { [SIM.ready]: 'false', [MARKERS.unreadyUntil]: String(now + durationMs) } };
  }
  return { pod, mode: 'crash', durationMs: 0, patch: { [SIM.crash]: 'true', [SIM.crashAfter]: '1s', [SIM.backoff]: '5s', [MARKERS.crashOnce]: String(pod.restartCount) } };
}

/** The wait before the next chaos strike (ms): the mean interval ±1/3. */
export function nextChaosDelay(rng: () => number, meanSeconds: number): number {
  return Math.round(meanSeconds * (2 / 3 + (2 / 3) * rng()) * 1000);
}

/** The flaky web app's next stuck pod among the Ready ones not stuck yet. */
export function chooseFlakyPod(rng: () => number, pods: readonly SimPod[]): SimPod | undefined {
  const eligible = pods.filter((p) => p.ready && !p.deleting && p.annotations[MARKERS.stuck] === undefined);
  if (eligible.length === 0) return undefined;
  return eligible[Math.min(eligible.length - 1, Math.floor(rng() * eligible.length))];
}

/** The annotations that make a release crash-loop (the bad release). */
export function badReleaseAnnotations(release: number): Record<string, string> {
  return { [SIM.crash]: 'true', [SIM.crashAfter]: '2s', [SIM.backoff]: '3s', [SIM.ready]: 'false', [DEMO_LABELS.release]: String(release) };
}

/** The changes that bring a pod's annotations to `wanted` (only the keys of `wanted`), or undefined if none. */
export function diffAnnotations(current: Readonly<Record<string, string>>, wanted: AnnotationPatch): AnnotationPatch | undefined {
  const out: AnnotationPatch = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (v === null ? k in current : current[k] !== v) out[k] = v;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
