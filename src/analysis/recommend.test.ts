import { describe, expect, it } from 'vitest';
import type { ConditionState, EventOccurrence } from '../metrics/types.js';
import { RECOMMENDATION_PRIORITY, recommend, type AllowedAction, type RecommendationInput } from './recommend.js';
import type { Assessment, Pattern } from './types.js';

const NOW = 1_750_000_000_000;
const MIN = 60_000;
const TARGET = { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'cart-7d9f-abc' };

const ACTIONS: AllowedAction[] = [
  { name: 'restart-pod', type: 'restart', priority: 10 },
  { name: 'raise-memory', type: 'patch', priority: 15 },
  { name: 'rollback', type: 'rollback', priority: 10 },
  { name: 'add-replica', type: 'scale', priority: 8 },
];

function assessment(pattern: Pattern, p: number, extra: Partial<Assessment> = {}): Assessment {
  return {
    pattern,
    willBreach: p >= 0.5,
    secondsToLimit: p >= 0.5 ? 900 : null,
    interval: p >= 0.5 ? { low: 600, high: 1200 } : null,
    confidence: p >= 0.5 ? p : 1 - p,
    breachProbability: p,
    rawProbability: p,
    calibrationGroup: 'trend',
    reasoning: [`${pattern} (test)`],
    forecast: {
      model: 'line',
      fittedFrom: NOW - 30 * MIN,
      levelAtNow: 50,
      slopePerSecond: pattern === 'flat' || pattern === 'oscillation' ? 0 : 0.01,
      noiseSigma: 1,
      points: [
        { at: NOW, value: 50 },
        { at: NOW + 30 * MIN, value: 55 },
      ],
    },
    samplesUsed: 120,
    resets: [],
    outliers: 0,
    ...extra,
  };
}

const ev = (reason: string, minutesAgo: number, count = 1): EventOccurrence => ({ at: NOW - minutesAgo * MIN, reason, type: 'Warning', count });
const cond = (entries: [string, ConditionState][]): Map<string, ConditionState> => new Map(entries);

function input(extra: Partial<RecommendationInput>): RecommendationInput {
  return { target: TARGET, now: NOW, events: [], conditions: new Map(), allowedActions: ACTIONS, ...extra };
}

describe('recommend: rules', () => {
  it('restarts on OOMKilled with memory rising again, with a limit patch as the escalation', () => {
    const r = recommend(input({ memory: assessment('linear-leak', 0.9), events: [ev('OOMKilled', 5)], conditions: cond([['OOMKilled', { status: 'True', since: NOW - 5 * MIN }]]) }));
    expect(r.kind).toBe('action');
    if (r.kind !== 'action') return;
    expect(r.rule).toBe('oom-leak');
    expect(r.action.name).toBe('restart-pod');
    expect(r.priority).toBe(RECOMMENDATION_PRIORITY.healing);
    expect(r.confidence).toBeGreaterThan(0.8);
    expect(r.alternatives[0]).toMatchObject({ action: { name: 'raise-memory' }, whyNot: expect.stringMatching(/only delays a leak/) as unknown });
  });

  it('patches the limit on OOMKilled without a rising trend', () => {
    const r = recommend(input({ memory: assessment('flat', 0.05), conditions: cond([['OOMKilled', { status: 'True', since: NOW - 2 * MIN }]]) }));
    expect(r).toMatchObject({ kind: 'action', rule: 'oom-limit-too-low', action: { type: 'patch' }, priority: RECOMMENDATION_PRIORITY.configPatch });
  });

  it('rolls back a crash loop that began minutes after a new ReplicaSet', () => {
    const r = recommend(
      input({
        conditions: cond([['CrashLoopBackOff', { status: 'True', since: NOW - 8 * MIN }]]),
        events: [ev('BackOff', 8, 3)],
        rollout: { newestReplicaSetCreatedAt: NOW - 10 * MIN, revision: 7 },
      }),
    );
    expect(r).toMatchObject({ kind: 'action', rule: 'crashloop-after-rollout', action: { name: 'rollback' } });
    if (r.kind !== 'action') return;
    expect(r.confidence).toBeGreaterThan(0.8);
    expect(r.reasoning[0]).toMatch(/2 min after ReplicaSet revision 7/);
    expect(r.alternatives).toContainEqual(expect.objectContaining({ action: expect.objectContaining({ type: 'restart' }) as unknown, whyNot: 'a restart runs the same revision again' }));
  });

  it('does not blame a rollout that happened long before the crash loop', () => {
    const r = recommend(
      input({ conditions: cond([['CrashLoopBackOff', { status: 'True', since: NOW - 5 * MIN }]]), rollout: { newestReplicaSetCreatedAt: NOW - 3 * 60 * MIN, revision: 7 } }),
    );
    expect(r).toMatchObject({ kind: 'action', rule: 'crashloop', action: { type: 'restart' } });
  });

  it('does not restart on probe failures while a dependency is failing', () => {
    const r = recommend(input({ events: [ev('Unhealthy', 3, 6)], failingDependencies: ['postgres'] }));
    expect(r.kind).toBe('none');
    if (r.kind !== 'none') return;
    expect(r.rule).toBe('dependency-failing');
    expect(r.reasoning.join(' ')).toMatch(/postgres is failing/);
    expect(r.alternatives[0]).toMatchObject({ action: { type: 'restart' }, whyNot: expect.stringMatching(/postgres fails/) as unknown });
  });

  it('restarts on probe failures when no dependency is failing', () => {
    expect(recommend(input({ events: [ev('Unhealthy', 3, 6)] }))).toMatchObject({ kind: 'action', rule: 'probe-failures', action: { type: 'restart' } });
  });

  it('scales up before rising CPU peaks reach the limit, at the predictive-scale priority', () => {
    const r = recommend(input({ cpu: assessment('rising-oscillation', 0.85), owner: { kind: 'Deployment', name: 'api', replicas: 3, baselineReplicas: 3 } }));
    expect(r).toMatchObject({ kind: 'action', rule: 'cpu-peaks-rising', action: { type: 'scale' }, priority: RECOMMENDATION_PRIORITY.predictiveScale, replicas: 4 });
    if (r.kind !== 'action') return;
    expect(r.reasoning.join(' ')).toMatch(/at least 10 min before the earliest forecast crossing/);
  });

  it('scales up before the next peak of a stationary oscillation that the forecast takes over the limit', () => {
    const r = recommend(input({ cpu: assessment('oscillation', 0.59, { secondsToLimit: 51, interval: { low: 40, high: 60 } }), owner: { kind: 'Deployment', name: 'api', replicas: 2 } }));
    expect(r).toMatchObject({ kind: 'action', rule: 'cpu-peaks-rising', action: { type: 'scale' }, replicas: 3, confidence: 0.59 });
  });

  it('does not scale an oscillation whose peaks stay under the limit', () => {
    expect(recommend(input({ cpu: assessment('oscillation', 0.2), owner: { kind: 'Deployment', name: 'api', replicas: 2 } })).kind).toBe('none');
  });

  it('scales back once the peak has passed', () => {
    const r = recommend(input({ cpu: assessment('oscillation', 0.02), owner: { kind: 'Deployment', name: 'api', replicas: 5, baselineReplicas: 3 } }));
    expect(r).toMatchObject({ kind: 'action', rule: 'cpu-peak-passed', action: { type: 'scale' }, replicas: 3 });
  });

  it('restarts before a forecast memory breach', () => {
    const r = recommend(input({ memory: assessment('sawtooth-leak', 0.8) }));
    expect(r).toMatchObject({ kind: 'action', rule: 'memory-forecast', action: { type: 'restart' }, confidence: 0.8 });
  });

  it('says no action, with the assessments, when nothing applies', () => {
    const r = recommend(input({ memory: assessment('flat', 0.01), cpu: assessment('oscillation', 0.02) }));
    expect(r.kind).toBe('none');
    expect(r.reasoning[0]).toMatch(/no rule applies/);
  });

  it('never names an action the policy does not allow', () => {
    const r = recommend(
      input({ memory: assessment('linear-leak', 0.9), events: [ev('OOMKilled', 5)], allowedActions: [{ name: 'bigger', type: 'patch' }] }),
    );
    expect(r).toMatchObject({ kind: 'action', action: { name: 'bigger' } });
    if (r.kind !== 'action') return;
    expect(r.alternatives).toContainEqual(expect.objectContaining({ action: { type: 'restart' }, whyNot: expect.stringMatching(/not among the policy's actions/) as unknown }));
    const none = recommend(input({ cpu: assessment('linear-leak', 0.9), allowedActions: [{ name: 'r', type: 'rollback' }] }));
    expect(none.kind).toBe('none');
    expect(none.reasoning.join(' ')).toMatch(/allows none of scale, restart/);
  });
});

describe('recommend: learning', () => {
  const oom = { memory: assessment('linear-leak', 0.7), events: [ev('OOMKilled', 5)] };

  it('escalates to the limit patch when restarts keep recurring on this workload', () => {
    const r = recommend(input({ ...oom, history: [{ trigger: 'oom-leak', action: 'restart-pod', successes: 5, failures: 1, recurrences: 5 }] }));
    expect(r).toMatchObject({ kind: 'action', action: { name: 'raise-memory' } });
    if (r.kind !== 'action') return;
    expect(r.reasoning.join(' ')).toMatch(/restart moved back: on this workload restart-pod for oom-leak: 5 of 6 succeeded, 5 of those recurred/);
    expect(r.alternatives[0]).toMatchObject({ action: { name: 'restart-pod' } });
  });

  it('raises the confidence of an action that worked here before', () => {
    const before = recommend(input(oom));
    const after = recommend(input({ ...oom, history: [{ trigger: 'oom-leak', action: 'restart-pod', successes: 6, failures: 0, recurrences: 0 }] }));
    expect(before.kind === 'action' && after.kind === 'action' && after.confidence > before.confidence).toBe(true);
  });

  it('matches history on the trigger that fired when one is given', () => {
    const history = [{ trigger: 'high-memory', action: 'restart-pod', successes: 0, failures: 8, recurrences: 0 }];
    const matched = recommend(input({ ...oom, trigger: 'high-memory', history }));
    const unmatched = recommend(input({ ...oom, history }));
    expect(matched).toMatchObject({ action: { name: 'raise-memory' } });
    expect(unmatched).toMatchObject({ action: { name: 'restart-pod' } });
  });
});
