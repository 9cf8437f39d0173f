import { describe, expect, it } from 'vitest';
import type { ActionRecord, PodSample, Recording, ReplicaSample, UsageSample } from './recording.js';
import { buildReport, containerRuns, podSpans, restartEvents, stat, unreadySpans, wholeAgainAt } from './report.js';
import { DEMO_TIMINGS, type ScenarioId } from './scenarios.js';
import type { Injection } from './simulator.js';

const T0 = 1_750_000_020_000;
const S = 1000;

function pod(at: number, extra: Partial<PodSample> & Pick<PodSample, 'pod' | 'uid' | 'workload'>): PodSample {
  return { at: T0 + at * S, namespace: 'ns', ready: true, restarts: 0, deleting: false, runningSince: T0, ...extra };
}

function action(extra: Partial<ActionRecord> & Pick<ActionRecord, 'name' | 'workload' | 'targetName' | 'type'>): ActionRecord {
  return {
    namespace: 'ns',
    policy: 'p',
    targetKind: 'Pod',
    source: 'rule',
    dryRun: false,
    phase: 'Succeeded',
    createdAt: T0,
    trigger: { name: 't', type: 'metric' },
    reasoning: [],
    ...extra,
  };
}

function recording(id: ScenarioId, parts: Partial<Pick<Recording, 'pods' | 'actions' | 'usage' | 'replicas' | 'injections' | 'decisions'>>, endAt = 600): Recording {
  return {
    startedAt: T0,
    endedAt: T0 + endAt * S,
    scenarios: [{ id, namespace: 'ns' }],
    pods: parts.pods ?? [],
    usage: parts.usage ?? [],
    replicas: parts.replicas ?? [],
    actions: parts.actions ?? [],
    decisions: parts.decisions ?? [],
    injections: parts.injections ?? [],
  };
}

/** A pod listed every 5 s from `from` to `to` seconds. */
function listed(from: number, to: number, base: Pick<PodSample, 'pod' | 'uid' | 'workload'> & Partial<PodSample>, change?: (t: number) => Partial<PodSample>): PodSample[] {
  const out: PodSample[] = [];
  for (let t = from; t <= to; t += 5) out.push(pod(t, { ...base, ...(change?.(t) ?? {}) }));
  return out;
}

describe('facts from pod samples', () => {
  it('counts restarts with the reason the pod reported', () => {
    const samples = [
      pod(0, { pod: 'a', uid: 'a', workload: 'w' }),
      pod(5, { pod: 'a', uid: 'a', workload: 'w', restarts: 1, lastReason: 'OOMKilled' }),
      pod(10, { pod: 'a', uid: 'a', workload: 'w', restarts: 3, lastReason: 'Error' }),
    ];
    expect(restartEvents(samples).map((r) => [r.reason, r.count])).toEqual([
      ['OOMKilled', 1],
      ['Error', 2],
    ]);
  });

  it('tells a pod that disappeared from one still listed at the end', () => {
    const spans = podSpans([...listed(0, 100, { pod: 'a', uid: 'a', workload: 'w' }), ...listed(0, 600, { pod: 'b', uid: 'b', workload: 'w' })], T0 + 600 * S);
    expect(spans.map((s) => [s.pod, s.gone])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('splits a pod\'s life into container runs at each restart', () => {
    const samples = listed(0, 60, { pod: 'a', uid: 'a', workload: 'w' }, (t) => (t >= 30 ? { runningSince: T0 + 30 * S } : {}));
    expect(containerRuns(samples).map((r) => [(r.start - T0) / S, (r.end - T0) / S])).toEqual([
      [0, 30],
      [30, 60],
    ]);
  });

  it('finds readiness failures of 10 s or more, but not shorter ones or a pod being deleted', () => {
    const samples = [
      ...listed(0, 60, { pod: 'a', uid: 'a', workload: 'w' }, (t) => ({ ready: !(t >= 10 && t < 30) })),
      ...listed(0, 60, { pod: 'b', uid: 'b', workload: 'w' }, (t) => ({ ready: t !== 20 })),
      ...listed(0, 60, { pod: 'c', uid: 'c', workload: 'w' }, (t) => ({ ready: t < 40, deleting: t >= 40 })),
    ];
    expect(unreadySpans(samples).map((s) => [s.pod, (s.from - T0) / S, (s.to - T0) / S])).toEqual([['a', 10, 30]]);
  });

  it('says when a Deployment was whole again, held for the time asked', () => {
    const r = (t: number, ready: number): ReplicaSample => ({ at: T0 + t * S, namespace: 'ns', workload: 'w', desired: 2, ready });
    const replicas = [r(0, 0), r(5, 2), r(10, 1), r(15, 2), r(20, 2), r(40, 2), r(45, 2)];
    expect(wholeAgainAt(replicas, 'ns', 'w', T0, 20_000)).toBe(T0 + 15 * S);
    expect(wholeAgainAt(replicas, 'ns', 'w', T0, 60_000)).toBe(T0 + 15 * S); // held until the end, 30 s
    expect(wholeAgainAt([r(0, 0), r(5, 1)], 'ns', 'w', T0, 20_000)).toBeUndefined();
  });

  it.each([
    [[], undefined],
    [[3], { n: 1, median: 3, min: 3, max: 3 }],
    [[4, 1, 3, 2], { n: 4, median: 2.5, min: 1, max: 4 }],
  ])('summarises %j as %j', (values, expected) => {
    expect(stat(values)).toEqual(expected);
  });
});

describe('the leak scenarios', () => {
  // leak-ai's pod is restarted by the analyzer at 40 s, before its OOM; leak-rules' pod is OOMKilled at 50 s.
  const pods = [
    ...listed(0, 40, { pod: 'leak-ai-1', uid: 'ai1', workload: 'leak-ai' }),
    ...listed(45, 600, { pod: 'leak-ai-2', uid: 'ai2', workload: 'leak-ai', runningSince: T0 + 45 * S }),
    // OOMKilled at 50 s, in back-off (not running) until 60 s, running again from 60 s.
    ...listed(0, 600, { pod: 'leak-rules-1', uid: 'r1', workload: 'leak-rules' }, (t) => (t >= 50 ? { restarts: 1, lastReason: 'OOMKilled', runningSince: T0 + 60 * S } : {})).map((s) =>
      s.at >= T0 + 50 * S && s.at < T0 + 60 * S ? (({ runningSince: _r, ...rest }) => rest)(s) : s,
    ),
  ];
  const actions = [
    action({ name: 'a1', workload: 'leak-ai', targetName: 'leak-ai-1', type: 'restart', source: 'ai', confidence: 0.59, createdAt: T0 + 30 * S, startedAt: T0 + 31 * S, completedAt: T0 + 50 * S, trigger: { name: 'f', type: 'predictive', observedValue: 61.2 } }),
    action({ name: 'r1', workload: 'leak-rules', targetName: 'leak-rules-1', type: 'restart', createdAt: T0 + 55 * S, startedAt: T0 + 56 * S, phase: 'Failed' }),
  ];
  const report = buildReport(recording('memory-leak', { pods, actions }), DEMO_TIMINGS);
  const s = report.scenarios[0]!;

  it('counts a restart before the OOM kill as prevented, and an OOM kill as happened', () => {
    expect(s.twins.map((t) => [t.twin, t.prevented, t.happened])).toEqual([
      ['rules', 0, 1],
      ['ai', 1, 0],
    ]);
    expect(s.failures.oomKilled).toBe(1);
    expect(s.prevented).toBe(1);
    expect(s.happened).toBe(1);
  });

  it('measures detection and healing from the container\'s start, and keeps what the trigger saw', () => {
    const ai = s.twins.find((t) => t.twin === 'ai')!;
    expect(ai.detect).toEqual({ n: 1, median: 30, min: 30, max: 30 });
    expect(ai.heal).toEqual({ n: 1, median: 50, min: 50, max: 50 });
    expect(ai.valuesAtAction).toEqual([61.2]);
    expect(ai.firstActionSeconds).toBe(30);
  });

  it('totals: success rate over finished actions, prevention rate, AI confidence, and the claims beside the seed', () => {
    expect(report.totals.successRate).toBe(0.5);
    expect(report.totals.successRateBySource).toEqual({ rule: 0, ai: 1 });
    expect(report.totals.preventionRate).toBe(0.5);
    expect(report.totals.averageAiConfidence).toBeCloseTo(0.59, 6);
    expect(report.firstHealingSeconds).toBe(50);
    const claim = (c: string) => report.claims.find((x) => x.claim.startsWith(c))!;
    expect(claim('success rate').measured).toMatch(/^50% \(1 verified of 2 finished; rules 0%, AI 100%\)/);
    expect(claim('issues prevented').measured).toBe('50% (1 prevented, 1 happened)');
    expect(claim('AI intervenes').measured).toBe('61% of the limit');
    expect(claim('healing actions per 10-minute run').measured).toMatch(/^2 acted \(2 per 10 min\)/);
  });
});

describe('the other scenarios', () => {
  it('CPU: a peak over the line happened, one under it after a scale-up was prevented', () => {
    const period = DEMO_TIMINGS.cpu.periodSeconds;
    // Peaks of kwok's sine at P·(k + ¼): find the first two after the start.
    const first = Math.ceil(T0 / (period * S) - 0.25);
    const peaks = [0, 1].map((k) => (first + k + 0.25) * period * S);
    const usage: UsageSample[] = peaks.flatMap((p, i) => [{ at: p, namespace: 'ns', workload: 'cpu-ai', pod: 'x', cpuPercent: i === 0 ? 99 : 66 }]);
    usage.unshift({ at: T0, namespace: 'ns', workload: 'cpu-ai', pod: 'x', cpuPercent: 40 });
    const actions = [action({ name: 'up', workload: 'cpu-ai', targetName: 'x', type: 'scale', scale: { direction: 'absolute', replicas: 3 }, source: 'ai', createdAt: peaks[0]! + 40 * S, trigger: { name: 'f', type: 'predictive', observedValue: 52 } })];
    const s = buildReport(recording('cpu-oscillation', { usage, actions }, 400), DEMO_TIMINGS).scenarios[0]!;
    const ai = s.twins.find((t) => t.twin === 'ai')!;
    expect([ai.happened, ai.prevented]).toEqual([1, 1]);
    expect(ai.note).toMatch(/before the next peak, after 1 peak\(s\) over 80%/);
    expect(s.failures.cpuBreaches).toBe(1);
  });

  it('network: acted actions on the dependant are false, dry runs are counted apart, declines by rule', () => {
    const inj: Injection = { at: T0 + 10 * S, scenario: 'network-degradation', namespace: 'ns', workload: 'payments-db', kind: 'network-degradation', detail: '' };
    const actions = [
      action({ name: 'd', workload: 'checkout-rules', targetName: 'c1', type: 'restart', dryRun: true, createdAt: T0 + 40 * S }),
      action({ name: 'x', workload: 'checkout-ai', targetName: 'c2', type: 'restart', createdAt: T0 + 50 * S, startedAt: T0 + 51 * S }),
    ];
    const decisions = [{ at: T0 + 30 * S, namespace: 'ns', policy: 'checkout-ai', target: 'Pod/ns/c2', recommendation: 'none', rule: 'dependency-failing', reasoning: ['payments-db is failing'] }];
    const s = buildReport(recording('network-degradation', { actions, decisions, injections: [inj] }), DEMO_TIMINGS).scenarios[0]!;
    expect(s.falseActions).toBe(1);
    expect(s.falseDryRun).toBe(1);
    expect(s.detect).toEqual({ n: 1, median: 20, min: 20, max: 20 });
    expect(s.actions.declinedRules).toEqual({ 'dependency-failing': 1 });
    expect(s.notes[0]).toMatch(/declined 1 firing\(s\) \(dependency-failing 1\); the rules twin \(dry run\) would have restarted 1 time/);
  });

  it('bad release: actions per release, and healing measured on the Deployment itself', () => {
    const inj = (w: string): Injection => ({ at: T0 + 60 * S, scenario: 'bad-release', namespace: 'ns', workload: w, kind: 'bad-release', detail: '' });
    const replicas: ReplicaSample[] = [];
    for (let t = 60; t <= 200; t += 5) {
      replicas.push({ at: T0 + t * S, namespace: 'ns', workload: 'shop-ai', desired: 2, ready: t >= 80 ? 2 : 0 });
      replicas.push({ at: T0 + t * S, namespace: 'ns', workload: 'shop-rules', desired: 2, ready: t >= 130 ? 2 : 0 });
    }
    const actions = [
      action({ name: 'ai', workload: 'shop-ai', targetName: 'shop-ai-1', type: 'rollback', source: 'ai', confidence: 0.92, createdAt: T0 + 65 * S, startedAt: T0 + 66 * S }),
      action({ name: 'r1', workload: 'shop-rules', targetName: 'shop-rules', targetKind: 'Deployment', type: 'restart', createdAt: T0 + 70 * S, startedAt: T0 + 71 * S, phase: 'Failed' }),
      action({ name: 'r2', workload: 'shop-rules', targetName: 'shop-rules', targetKind: 'Deployment', type: 'rollback', createdAt: T0 + 110 * S, startedAt: T0 + 111 * S }),
    ];
    const s = buildReport(recording('bad-release', { actions, replicas, injections: [inj('shop-rules'), inj('shop-ai')] }, 200), DEMO_TIMINGS).scenarios[0]!;
    expect(s.twins.map((t) => [t.twin, t.acted, t.heal?.median])).toEqual([
      ['rules', 2, 70],
      ['ai', 1, 20],
    ]);
    expect(s.notes).toContain('shop-rules, release at 60 s: restart Failed → rollback Succeeded; whole again after 70 s');
  });

  it('protected: blocked decisions are no actions and no false ones; an empty recording still reports', () => {
    const actions = [action({ name: 'b', workload: 'ledger', targetName: 'ledger-1', type: 'restart', phase: 'Blocked', reason: 'Protected' })];
    const r = buildReport(recording('protected-app', { actions }), DEMO_TIMINGS);
    expect(r.scenarios[0]).toMatchObject({ falseActions: 0, actions: { acted: 0, decisions: 1, blocked: { Protected: 1 } } });
    expect(r.totals.successRate).toBeUndefined();
    const empty = buildReport(recording('chaos-monkey', {}, 0), DEMO_TIMINGS);
    expect(empty.totals).toMatchObject({ acted: 0, prevented: 0, happened: 0 });
    expect(empty.charts[0]?.xs.length).toBeGreaterThan(0);
  });
});
