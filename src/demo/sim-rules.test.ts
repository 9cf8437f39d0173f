import { describe, expect, it } from 'vitest';
import { DEMO_TIMINGS } from './scenarios.js';
import {
  MARKERS,
  SIM,
  chooseChaosStrike,
  chooseFlakyPod,
  cpuShare,
  createRng,
  decideCrashOnceEnd,
  decideOomKill,
  decideUnreadyEnd,
  diffAnnotations,
  kwokSine,
  networkState,
  simulatedMemoryBytes,
  sinePeaks,
  type SimPod,
} from './sim-rules.js';

const MI = 2 ** 20;
const T0 = 1_750_000_000_000;

function pod(extra: Partial<SimPod> = {}, without: readonly (keyof SimPod)[] = []): SimPod {
  const p: Record<string, unknown> = {
    namespace: 'demo',
    name: 'leak-ai-1',
    uid: 'u1',
    workload: 'leak-ai',
    annotations: { [SIM.memory]: '120Mi', [SIM.leak]: '1Mi' },
    startTime: T0,
    runningSince: T0,
    restartCount: 0,
    ready: true,
    deleting: false,
    memoryLimit: 512 * MI,
    ...extra,
  };
  for (const k of without) delete p[k];
  return p as unknown as SimPod;
}

describe('simulated memory', () => {
  it.each([
    ['base only at the start', { [SIM.memory]: '64Mi' }, 0, 64],
    ['a leak of 1 Mi/s after 100 s', { [SIM.memory]: '64Mi', [SIM.leak]: '1Mi' }, 100, 164],
    ['the default base of 16 Mi', {}, 10, 16],
    ['a sawtooth half-way through its period', { [SIM.memory]: '100Mi', [SIM.sawtooth]: '200Mi', [SIM.sawtoothPeriod]: '100' }, 50, 200],
    ['a warm-up at t = τ is half-way up', { [SIM.memory]: '100Mi', [SIM.warmup]: '200Mi', [SIM.warmupSeconds]: '60' }, 60, 200],
  ])('%s', (_name, annotations, seconds, mib) => {
    expect(simulatedMemoryBytes({ annotations, startTime: T0 }, T0 + seconds * 1000) / MI).toBeCloseTo(mib, 6);
  });

  it('counts the leak from the latest start: kwok stamp, container start or pod start', () => {
    const stamped = { annotations: { [SIM.memory]: '0', [SIM.leak]: '1Mi', [SIM.startedAt]: String((T0 + 50_000) / 1000) }, startTime: T0 };
    expect(simulatedMemoryBytes(stamped, T0 + 60_000) / MI).toBeCloseTo(10, 6);
    // Restarted, but kwok has not stamped started-at yet: the container's start wins.
    expect(simulatedMemoryBytes({ ...stamped, runningSince: T0 + 58_000 }, T0 + 60_000) / MI).toBeCloseTo(2, 6);
  });
});

describe('the OOM killer', () => {
  it('does nothing below the limit', () => {
    expect(decideOomKill(pod(), T0 + 100_000)).toBeUndefined();
  });

  it('kills a running container at its limit, with the kill marked by its restart count', () => {
    const patch = decideOomKill(pod({ restartCount: 2 }), T0 + 400_000);
    expect(patch).toMatchObject({ [SIM.crash]: 'true', [SIM.reason]: 'OOMKilled', [SIM.exitCode]: '137', [MARKERS.oomKill]: '2', [SIM.backoff]: '5s' });
  });

  it('leaves a container alone while it is not running, or being deleted', () => {
    expect(decideOomKill(pod({}, ['runningSince']), T0 + 400_000)).toBeUndefined();
    expect(decideOomKill(pod({ deleting: true }), T0 + 400_000)).toBeUndefined();
  });

  it('removes the crash once the kill happened, so the restarted container runs from its base', () => {
    const killed = pod({ restartCount: 3, annotations: { ...pod().annotations, [SIM.crash]: 'true', [MARKERS.oomKill]: '2' } });
    expect(decideOomKill(killed, T0 + 400_000)).toEqual({
      [SIM.crash]: null,
      [SIM.reason]: null,
      [SIM.exitCode]: null,
      [SIM.crashAfter]: null,
      [SIM.backoff]: null,
      [MARKERS.oomKill]: null,
    });
    expect(decideOomKill({ ...killed, restartCount: 2 }, T0 + 400_000)).toBeUndefined();
  });

  it('keeps killing a container whose base memory does not fit its limit: a crash loop', () => {
    const tooBig = pod({ annotations: { [SIM.memory]: '200Mi' }, memoryLimit: 128 * MI });
    expect(decideOomKill(tooBig, T0 + 1000)).toMatchObject({ [SIM.crash]: 'true', [SIM.backoff]: '10s' });
    expect(decideOomKill({ ...tooBig, restartCount: 5, annotations: { ...tooBig.annotations, [MARKERS.oomKill]: '0' } }, T0 + 60_000)).toBeUndefined();
  });

  it('never kills a pod without a memory limit', () => {
    expect(decideOomKill(pod({}, ['memoryLimit']), T0 + 10_000_000)).toBeUndefined();
  });
});

describe('chaos and flaky pods', () => {
  it('ends a single crash once the restart count grew, and a readiness failure once its time is up', () => {
    const crashed = pod({ restartCount: 1, annotations: { [SIM.crash]: 'true', [MARKERS.crashOnce]: '0' } });
    expect(decideCrashOnceEnd(crashed)).toMatchObject({ [SIM.crash]: null, [MARKERS.crashOnce]: null });
    expect(decideCrashOnceEnd({ ...crashed, restartCount: 0 })).toBeUndefined();
    const unready = pod({ annotations: { [SIM.ready]: 'false', [MARKERS.unreadyUntil]: String(T0 + 5000) } });
    expect(decideUnreadyEnd(unready, T0 + 4999)).toBeUndefined();
    expect(decideUnreadyEnd(unready, T0 + 5000)).toEqual({ [SIM.ready]: null, [MARKERS.unreadyUntil]: null });
  });

  it('strikes the same pods in the same way for the same seed, never one already struck or not Ready', () => {
    const pods = ['a', 'b', 'c', 'd'].map((n) => pod({ name: n, uid: n }));
    const run = (): string[] => {
      const rng = createRng(42);
      return [0, 1, 2, 3, 4].map((i) => {
        const s = chooseChaosStrike(rng, pods, DEMO_TIMINGS, T0 + i);
        return `${s?.pod.name}:${s?.mode}:${s?.durationMs}`;
      });
    };
    expect(run()).toEqual(run());
    const rng = createRng(7);
    const onlyD = [pod({ name: 'a', ready: false }), pod({ name: 'b', annotations: { [MARKERS.unreadyUntil]: '1' } }), pod({ name: 'c', deleting: true }), pod({ name: 'd' })];
    for (let i = 0; i < 20; i++) expect(chooseChaosStrike(rng, onlyD, DEMO_TIMINGS, T0)?.pod.name).toBe('d');
    const strike = chooseChaosStrike(createRng(1), [pod()], DEMO_TIMINGS, T0)!;
    if (strike.mode === 'unready') {
      expect(strike.durationMs).toBeGreaterThanOrEqual(20_000);
      expect(strike.durationMs).toBeLessThanOrEqual(60_000);
    }
    expect(chooseFlakyPod(createRng(1), [pod({ annotations: { [MARKERS.stuck]: 'true' } })])).toBeUndefined();
  });
});

describe('load and network', () => {
  it.each([
    [2, false, { [SIM.cpu]: '700m', [SIM.cpuAmplitude]: '300m', [SIM.cpuPeriod]: '120' }],
    [3, false, { [SIM.cpu]: '467m', [SIM.cpuAmplitude]: '200m', [SIM.cpuPeriod]: '120' }],
    [2, true, { [SIM.cpu]: '350m', [SIM.cpuAmplitude]: '0m', [SIM.cpuPeriod]: '120' }],
  ])('shares the load among %i pods (quiet: %s)', (n, quiet, expected) => {
    expect(cpuShare(DEMO_TIMINGS.cpu, n, quiet)).toEqual(expected);
  });

  it('peaks where kwok\'s sine does', () => {
    const peaks = sinePeaks(120, T0, T0 + 600_000);
    expect(peaks).toHaveLength(5);
    for (const p of peaks) expect(kwokSine(p, 120)).toBeCloseTo(1, 6);
    expect(kwokSine(peaks[0]! + 60_000, 120)).toBeCloseTo(-1, 6);
  });

  it.each([
    [0, 'healthy', 0.05, false],
    [45 + 50, 'degrading', 1.279, false],
    [45 + 110, 'outage', 2.758, true],
    [45 + 120 + 45, 'outage', 3, true],
    [45 + 120 + 90 + 10, 'healthy', 0.05, false],
    [45 + 300 + 10, 'degrading', 0.296, false],
  ])('the network %i s in is %s', (s, phase, latency, failing) => {
    const n = networkState(DEMO_TIMINGS.network, s);
    expect(n.phase).toBe(phase);
    expect(n.latencySeconds).toBeCloseTo(latency, 2);
    expect(n.failing).toBe(failing);
  });

  it('never recovers without a hold time', () => {
    const { holdSeconds: _hold, ...forever } = DEMO_TIMINGS.network;
    expect(networkState(forever, 10_000)).toMatchObject({ phase: 'outage', latencySeconds: 3 });
  });

  it('diffs annotations: only what changes', () => {
    expect(diffAnnotations({ a: '1', b: '2' }, { a: '1', b: null, c: '3' })).toEqual({ b: null, c: '3' });
    expect(diffAnnotations({ a: '1' }, { a: '1', b: null })).toBeUndefined();
  });
});
