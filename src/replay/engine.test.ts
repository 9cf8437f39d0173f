import { describe, expect, it } from 'vitest';
import type { HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { validateHealingPolicy } from '../api/v1alpha1/validate.js';
import type { Sample } from '../metrics/types.js';
import { EVENTS_NOT_REPLAYABLE, replayPolicy, type ReplayTarget } from './engine.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

function policy(spec: Partial<HealingPolicy['spec']> = {}): HealingPolicy {
  const p = validateHealingPolicy({
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name: 'crash', namespace: 'shop' },
    spec: {
      selector: {},
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 }, cooldownPeriod: '5m' }],
      actions: [
        { name: 'restart-pod', type: 'restart', priority: 10 },
        { name: 'rollback-release', type: 'rollback', priority: 20 },
      ],
      safetyRules: { maxActionsPerHour: 2 },
      ...spec,
    },
  });
  if (!p.value) throw new Error(JSON.stringify(p.problems));
  return p.value;
}

/** Samples every minute from T0 for `minutes` minutes, valued by `f(minute)`. */
function perMinute(minutes: number, f: (m: number) => number): Sample[] {
  return Array.from({ length: minutes + 1 }, (_, m) => ({ at: T0 + m * MIN, value: f(m) }));
}

function target(name: string, series: Record<string, Sample[]>, over: Partial<ReplayTarget['target']> = {}, conditions: Record<string, Sample[]> = {}): ReplayTarget {
  return {
    target: {
      ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name },
      labels: {},
      annotations: {},
      workload: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
      pods: [],
      ...over,
    },
    series: new Map(Object.entries(series)),
    conditions: new Map(Object.entries(conditions)),
  };
}

const run = (p: HealingPolicy, targets: ReplayTarget[], minutes = 30, extra: { unavailable?: Map<string, string> } = {}) =>
  replayPolicy({ policy: p, targets, from: T0, to: T0 + minutes * MIN, stepMs: MIN, escalationWindowMs: 60 * MIN, unavailable: extra.unavailable ?? new Map() });

const at = (m: number): number => T0 + m * MIN;

describe('replayPolicy', () => {
  it('fires when the value crosses, waits out the cooldown, climbs the ladder, and stops at the budget', () => {
    // restart_count climbs by one a minute: > 3 from minute 4 on, and stays so.
    const r = run(policy(), [target('web-1', { restart_count: perMinute(30, (m) => m) })]);
    expect(r.events.map((e) => [(e.at - T0) / MIN, e.outcome, e.action ?? '', e.rung ?? -1])).toEqual([
      [4, 'action', 'restart-pod', 0],
      // Recurred within the escalation window after a verified action: the next rung.
      [9, 'action', 'rollback-release', 1],
      // Two actions in the rolling hour: the budget refuses the third, which then spaces out the next firing.
      [14, 'blocked', 'rollback-release', 1],
      [19, 'blocked', 'rollback-release', 1],
      [24, 'blocked', 'rollback-release', 1],
      [29, 'blocked', 'rollback-release', 1],
    ]);
    expect(r.events[2]).toMatchObject({ blockedReason: 'RateLimited', message: expect.stringContaining('used 2 of 2 actions in the last hour') as unknown });
    expect(r.events[0]?.reason).toBe('restart_count 4 > 3');
    expect(r.summary).toMatchObject({ steps: 31, targets: 1, firings: 6, actions: 2, actionsByType: { restart: 1, rollback: 1 }, blocked: { RateLimited: 4 }, firstBudgetBlockAt: at(14) });
  });

  it('honours "for 3m": a breach fires only after three observed minutes, and a dip resets it', () => {
    const p = policy({ triggers: [{ name: 'mem', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, duration: '3m' }, cooldownPeriod: '1h' }] });
    // Over 85% at minutes 2-3, under at 4, then over from 5 on: fires at 8 (5 + 3), not at 5.
    const r = run(p, [target('web-1', { memory_usage_percent: perMinute(20, (m) => (m >= 2 && m !== 4 ? 90 : 50)) })], 20);
    expect(r.events.map((e) => (e.at - T0) / MIN)).toEqual([8]);
    expect(r.events[0]?.reason).toMatch(/for 3m/);
  });

  it('acts per target: only the pod that breaches gets an action', () => {
    const r = run(policy(), [target('calm', { restart_count: perMinute(30, () => 0) }), target('leaky', { restart_count: perMinute(30, (m) => m) })], 5);
    expect(r.events.map((e) => e.target.name)).toEqual(['leaky']);
  });

  it('only reports in monitor mode, and refuses a protected target', () => {
    const monitor = run(policy({ mode: 'monitor' }), [target('web-1', { restart_count: perMinute(10, (m) => m) })], 10);
    // One "would act" per firing, spaced by the cooldown (5m) as if it had acted.
    expect(monitor.events.map((e) => [(e.at - T0) / MIN, e.outcome])).toEqual([[4, 'monitor'], [9, 'monitor']]);
    expect(monitor.summary.actions).toBe(0);
    const guarded = run(policy({ safetyRules: { maxActionsPerHour: 5, protectedResources: [{ labelSelector: { matchLabels: { critical: 'true' } } }] } }), [
      target('web-1', { restart_count: perMinute(10, (m) => m) }, { labels: { critical: 'true' } }),
    ], 6);
    expect(guarded.events[0]).toMatchObject({ outcome: 'blocked', blockedReason: 'Protected', message: 'safetyRules.protectedResources[0] covers the target' });
  });

  it('derives restart_rate from restart_count as the operator does, and replays condition triggers from 0/1 series', () => {
    const rate = policy({ triggers: [{ name: 'burst', type: 'metric', metricTrigger: { query: 'restart_rate', threshold: 2 }, cooldownPeriod: '1h' }] });
    // Restarts jump by 3 between minutes 10 and 11: more than 2 in the trailing 5 minutes at minute 11.
    const r = run(rate, [target('web-1', { restart_count: perMinute(20, (m) => (m > 10 ? 7 : 4)) })], 20);
    expect(r.events.map((e) => (e.at - T0) / MIN)).toEqual([11]);
    const crash = policy({ triggers: [{ name: 'loop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff', duration: '2m' }, cooldownPeriod: '1h' }] });
    const c = run(crash, [target('web-1', {}, {}, { CrashLoopBackOff: perMinute(20, (m) => (m >= 6 ? 1 : 0)) })], 20);
    expect(c.events.map((e) => (e.at - T0) / MIN)).toEqual([8]);
  });

  it('says which triggers it could not evaluate, and why', () => {
    const p = policy({
      triggers: [
        { name: 'backoff', type: 'event', eventTrigger: { reason: 'BackOff' } },
        { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } },
      ],
    });
    const r = run(p, [target('web-1', { restart_count: perMinute(3, () => 0) })], 3, { unavailable: new Map([EVENTS_NOT_REPLAYABLE]) });
    expect(r.summary.unknown).toEqual([{ trigger: 'backoff', reason: expect.stringContaining('Kubernetes Events are not kept in Prometheus') as unknown, count: 4 }]);
  });
});
