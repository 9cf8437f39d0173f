import { describe, expect, it } from 'vitest';
import { assessSeries } from '../analysis/assess.js';
import { TriggerSchema, type Trigger } from '../api/v1alpha1/healing-policy.js';
import type { ComparisonOperator } from '../api/v1alpha1/common.js';
import type { ConditionState, EventOccurrence, Sample, TargetObservations } from '../metrics/types.js';
import {
  EVENTS_UNAVAILABLE_KEY,
  TRIGGER_DEFAULTS,
  checkAtOf,
  evaluateTrigger,
  evaluateTriggers,
  formatValue,
  type EvaluateOptions,
  type TriggerEvaluation,
  type TriggerState,
} from './evaluate.js';

// Fixed time: 2026-01-01T00:00:00Z. No test reads the clock.
const T = 1_767_225_600_000;
const S = 1_000;
const M = 60_000;
const OPTS: EvaluateOptions = { maxSampleAgeMs: 60 * S, maxSampleGapMs: 45 * S };
const POD = { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'cart-0' } as const;

interface ObsParts {
  series?: Record<string, readonly Sample[]>;
  conditions?: Record<string, ConditionState>;
  events?: readonly EventOccurrence[];
  unavailable?: Record<string, string>;
}

function obs(parts: ObsParts = {}): TargetObservations {
  return {
    target: POD,
    series: new Map(Object.entries(parts.series ?? {})),
    conditions: new Map(Object.entries(parts.conditions ?? {})),
    events: parts.events ?? [],
    unavailable: new Map(Object.entries(parts.unavailable ?? {})),
  };
}

/** Samples every `step` ms from `from` to `to` inclusive, value from `f(at)`. */
function series(from: number, to: number, step: number, f: (at: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let at = from; at <= to; at += step) out.push({ at, value: f(at) });
  return out;
}

const constant = (v: number) => (): number => v;

function metricTrigger(
  query: string,
  threshold: number,
  extra: { operator?: ComparisonOperator; duration?: string; cooldownPeriod?: string } = {},
): Trigger {
  const { cooldownPeriod, ...rest } = extra;
  return {
    name: 'm',
    type: 'metric',
    metricTrigger: { query, threshold, ...rest },
    ...(cooldownPeriod === undefined ? {} : { cooldownPeriod }),
  };
}

function expectStatus<S extends TriggerEvaluation['status']>(
  r: TriggerEvaluation,
  status: S,
): Extract<TriggerEvaluation, { status: S }> {
  expect(r.status, r.reason).toBe(status);
  return r as Extract<TriggerEvaluation, { status: S }>;
}

describe('metric triggers', () => {
  describe('every operator', () => {
    // latest value, operator, threshold, fires?
    it.each([
      [86, '>', 85, true],
      [85, '>', 85, false],
      [84, '>', 85, false],
      [85, '>=', 85, true],
      [86, '>=', 85, true],
      [84.9, '>=', 85, false],
      [0.5, '<', 1, true],
      [1, '<', 1, false],
      [2, '<', 1, false],
      [1, '<=', 1, true],
      [0, '<=', 1, true],
      [1.1, '<=', 1, false],
      [3, '==', 3, true],
      [0.1 + 0.2, '==', 0.3, true],
      [3.0000001, '==', 3, false],
      [1, '!=', 0, true],
      [0, '!=', 0, false],
    ] as const)('%d %s %d fires: %s', (value, operator, threshold, fires) => {
      const r = evaluateTrigger(
        metricTrigger('ready', threshold, { operator }),
        obs({ series: { ready: [{ at: T - 5 * S, value }] } }),
        undefined,
        T,
        OPTS,
      );
      expect(r.status, r.reason).toBe(fires ? 'firing' : 'clear');
    });
  });

  it('uses > when the operator is omitted (the seed writes restart_count threshold 3 without one)', () => {
    const t = metricTrigger('restart_count', 3);
    expect(evaluateTrigger(t, obs({ series: { restart_count: [{ at: T, value: 4 }] } }), undefined, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(t, obs({ series: { restart_count: [{ at: T, value: 3 }] } }), undefined, T, OPTS).status).toBe('clear');
  });

  it('does not fire when the breach is shorter than the duration, and says exactly when it could', () => {
    const samples = [...series(T - 5 * M, T - 61 * S, 15 * S, constant(50)), ...series(T - 60 * S, T, 15 * S, constant(91))];
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'pending',
    );
    expect(r.breachSince).toBe(T - 60 * S);
    expect(r.checkAt).toBe(T - 60 * S + 3 * M);
    expect(r.observedValue).toBe(91);
    expect(r.threshold).toBe(85);
    expect(r.reason).toBe('memory_usage_percent 91% > 85% for 1m, fires if it holds 3m (2m more)');
  });

  it('fires exactly at breachSince + duration, not a millisecond earlier', () => {
    const start = T - 3 * M;
    const trigger = metricTrigger('memory_usage_percent', 85, { duration: '3m' });
    const samples = series(start, T, 15 * S, constant(90));
    const before = expectStatus(evaluateTrigger(trigger, obs({ series: { memory_usage_percent: samples.slice(0, -1) } }), undefined, T - 1, OPTS), 'pending');
    expect(before.checkAt).toBe(T);
    const at = expectStatus(evaluateTrigger(trigger, obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    expect(at.since).toBe(T);
    expect(at.breachSince).toBe(start);
    expect(at.reason).toBe('memory_usage_percent 90% > 85% for 3m (needs 3m)');
    expect(at.values).toEqual({
      query: 'memory_usage_percent',
      value: '90',
      operator: '>',
      threshold: '85',
      duration: '3m',
      heldFor: '3m',
    });
  });

  it('fires at the re-check time when the last sample predates it but is still fresh', () => {
    const start = T - 3 * M;
    const samples = series(start, T - 10 * S, 15 * S, constant(90));
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.since).toBe(T);
  });

  it('does not fire a 3m trigger on a single spike', () => {
    const samples = series(T - 5 * M, T, 15 * S, (at) => (at === T - 2 * M ? 99 : 40));
    const r = evaluateTrigger(metricTrigger('cpu_usage_percent', 80, { duration: '3m' }), obs({ series: { cpu_usage_percent: samples } }), undefined, T, OPTS);
    expect(r.status).toBe('clear');
    expect(r.reason).toBe('cpu_usage_percent 40% <= 80%, not > 80%');
  });

  it('treats a spike in the latest sample as the start of a breach, not a firing', () => {
    const samples = series(T - 5 * M, T, 15 * S, (at) => (at === T ? 99 : 40));
    const r = expectStatus(
      evaluateTrigger(metricTrigger('cpu_usage_percent', 80, { duration: '3m' }), obs({ series: { cpu_usage_percent: samples } }), undefined, T, OPTS),
      'pending',
    );
    expect(r.breachSince).toBe(T);
    expect(r.checkAt).toBe(T + 3 * M);
  });

  it('restarts the breach after a non-breaching sample', () => {
    const samples = series(T - 5 * M, T, 15 * S, (at) => (at === T - 2 * M ? 80 : 95));
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'pending',
    );
    expect(r.breachSince).toBe(T - 2 * M + 15 * S);
  });

  it('restarts the breach at the sample after a gap longer than maxSampleGapMs', () => {
    // Breaching throughout, but nothing was seen between T-4m and T-2m: continuity cannot be claimed across it.
    const samples = [...series(T - 6 * M, T - 4 * M, 15 * S, constant(95)), ...series(T - 2 * M, T, 15 * S, constant(95))];
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'pending',
    );
    expect(r.breachSince).toBe(T - 2 * M);
    expect(r.checkAt).toBe(T + M);
  });

  it('keeps the breach across a gap exactly as long as maxSampleGapMs', () => {
    const samples = [...series(T - 4 * M, T - 45 * S, 15 * S, constant(95)), { at: T, value: 95 }];
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.breachSince).toBe(T - 4 * M);
  });

  it('fires on the latest breaching sample when the duration is 0', () => {
    const r = expectStatus(
      evaluateTrigger(metricTrigger('restart_count', 3, { duration: '0s' }), obs({ series: { restart_count: [{ at: T - 5 * S, value: 5 }] } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.since).toBe(T - 5 * S);
    expect(r.reason).toBe('restart_count 5 > 3');
  });

  it('gives unknown with the age when the latest sample is stale, never clear', () => {
    const samples = series(T - 10 * M, T - 3 * M, 15 * S, constant(10));
    const r = expectStatus(evaluateTrigger(metricTrigger('memory_usage_percent', 85), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('stale');
    expect(r.reason).toBe('latest sample of memory_usage_percent is 3m old (older than 1m)');
  });

  it('quotes the collector’s reason when stale data is explained by observations.unavailable', () => {
    const samples = series(T - 10 * M, T - 3 * M, 15 * S, constant(10));
    const r = expectStatus(
      evaluateTrigger(
        metricTrigger('memory_usage_percent', 85),
        obs({ series: { memory_usage_percent: samples }, unavailable: { memory_usage_percent: 'metrics.k8s.io: 503 Service Unavailable' } }),
        undefined,
        T,
        OPTS,
      ),
      'unknown',
    );
    expect(r.code).toBe('unavailable');
    expect(r.reason).toContain('metrics.k8s.io: 503 Service Unavailable');
  });

  it('gives unknown with the collector’s reason when a metric has never been read', () => {
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85), obs({ unavailable: { memory_usage_percent: 'container app has no memory limit or request' } }), undefined, T, OPTS),
      'unknown',
    );
    expect(r).toMatchObject({ code: 'unavailable', reason: 'memory_usage_percent unavailable: container app has no memory limit or request' });
  });

  it('gives unknown no-data when there are no samples and no explanation', () => {
    const r = expectStatus(evaluateTrigger(metricTrigger('restart_count', 3), obs(), undefined, T, OPTS), 'unknown');
    expect(r).toMatchObject({ code: 'no-data', reason: 'no samples of restart_count for this target' });
  });

  it('evaluates fresh samples even when a later read failed (freshness decides)', () => {
    const r = evaluateTrigger(
      metricTrigger('memory_usage_percent', 85),
      obs({ series: { memory_usage_percent: [{ at: T - 20 * S, value: 90 }] }, unavailable: { memory_usage_percent: 'timeout' } }),
      undefined,
      T,
      OPTS,
    );
    expect(r.status).toBe('firing');
  });

  it('ignores samples after now, so recorded history can be replayed', () => {
    const samples = series(T - 2 * M, T + 10 * M, 15 * S, (at) => (at <= T ? 50 : 99));
    const r = expectStatus(evaluateTrigger(metricTrigger('memory_usage_percent', 85), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'clear');
    expect(r.observedValue).toBe(50);
  });

  it('skips NaN samples instead of treating them as a reading', () => {
    const samples = [...series(T - 3 * M, T - 15 * S, 15 * S, constant(95)), { at: T, value: NaN }];
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '2m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.observedValue).toBe(95);
  });

  it('orders unsorted samples before measuring the breach', () => {
    const samples = series(T - 3 * M, T, 15 * S, constant(95)).reverse();
    const r = expectStatus(
      evaluateTrigger(metricTrigger('memory_usage_percent', 85, { duration: '3m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.breachSince).toBe(T - 3 * M);
  });

  it('reads a PromQL series keyed by its query string and clips a long query in the reason', () => {
    const query = `sum(rate(http_requests_total{code=~"5..",pod="cart-0"}[5m])) / sum(rate(http_requests_total{pod="cart-0"}[5m]))${' '.repeat(200)}`;
    const r = expectStatus(evaluateTrigger(metricTrigger(query, 0.05), obs({ series: { [query]: [{ at: T, value: 0.12 }] } }), undefined, T, OPTS), 'firing');
    expect(r.reason.length).toBeLessThan(160);
    expect(r.reason).toContain('…');
    expect(r.reason).toContain('0.12 > 0.05');
    expect(r.values['query']).toBe(query);
  });

  it('does not read a series under a different name', () => {
    const r = evaluateTrigger(metricTrigger('memory_usage_percent', 85), obs({ series: { memory_usage_bytes: [{ at: T, value: 1e9 }] } }), undefined, T, OPTS);
    expect(r.status).toBe('unknown');
  });

  it.each([
    ['a bad duration', metricTrigger('restart_count', 3, { duration: '3x' }), 'invalid duration "3x"'],
    ['a bad cooldown', metricTrigger('restart_count', 3, { cooldownPeriod: '-5m' }), 'invalid duration "-5m"'],
    ['a missing metricTrigger', { name: 'm', type: 'metric' } satisfies Trigger, 'needs metricTrigger'],
    ['an unknown operator', metricTrigger('restart_count', 3, { operator: '=>' as ComparisonOperator }), 'unknown operator "=>"'],
  ])('reports %s as unknown invalid-trigger instead of throwing', (_label, trigger, text) => {
    const r = expectStatus(evaluateTrigger(trigger, obs({ series: { restart_count: [{ at: T, value: 9 }] } }), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('invalid-trigger');
    expect(r.reason).toContain(text);
  });
});

describe('event triggers', () => {
  const ev = (at: number, reason = 'BackOff', count = 1, type = 'Warning'): EventOccurrence => ({ at, reason, type, count, message: `back-off restarting ${reason}` });
  const eventTrigger = (reason: string, extra: { count?: number; window?: string; type?: 'Normal' | 'Warning' } = {}): Trigger => ({
    name: 'e',
    type: 'event',
    eventTrigger: { reason, ...extra },
  });

  it('fires when the events in the sliding window reach the count, and re-checks when the oldest leaves', () => {
    const events = [ev(T - 10 * M), ev(T - 4 * M), ev(T - 2 * M), ev(T - M), ev(T - 30 * S)];
    const r = expectStatus(evaluateTrigger(eventTrigger('BackOff', { count: 3, window: '5m' }), obs({ events }), undefined, T, OPTS), 'firing');
    expect(r.observedValue).toBe(4);
    expect(r.threshold).toBe(3);
    // Reached with the third event in the window.
    expect(r.since).toBe(T - M);
    expect(r.checkAt).toBe(T - 4 * M + 5 * M);
    expect(r.reason).toBe('4 events with reason "BackOff" in the last 5m (fires at 3)');
    expect(r.values).toMatchObject({ reason: 'BackOff', count: '4', required: '3', window: '5m', matched: 'BackOff' });
  });

  it('drops an occurrence from the count exactly when it leaves the window (now − window, now]', () => {
    const events = [ev(T - 5 * M), ev(T - 2 * M), ev(T)];
    const r = expectStatus(evaluateTrigger(eventTrigger('BackOff', { count: 3, window: '5m' }), obs({ events }), undefined, T, OPTS), 'clear');
    expect(r.observedValue).toBe(2);
    const justBefore = evaluateTrigger(eventTrigger('BackOff', { count: 3, window: '5m' }), obs({ events }), undefined, T - 1, OPTS);
    // At T-1 the event at T is in the future and the one at T-5m is inside: still 2.
    expect(justBefore.status).toBe('clear');
    const inside = evaluateTrigger(eventTrigger('BackOff', { count: 2, window: '5m' }), obs({ events: events.slice(0, 2) }), undefined, T - 1, OPTS);
    expect(expectStatus(inside, 'firing').checkAt).toBe(T);
  });

  it('sums EventOccurrence.count rather than counting entries', () => {
    const r = expectStatus(evaluateTrigger(eventTrigger('BackOff', { count: 5 }), obs({ events: [ev(T - M, 'BackOff', 4), ev(T, 'BackOff', 2)] }), undefined, T, OPTS), 'firing');
    expect(r.observedValue).toBe(6);
    expect(r.since).toBe(T);
  });

  it('ignores occurrences with a malformed count', () => {
    const r = evaluateTrigger(eventTrigger('BackOff'), obs({ events: [ev(T, 'BackOff', 0), ev(T, 'BackOff', NaN), ev(T, 'BackOff', -3)] }), undefined, T, OPTS);
    expect(r.status).toBe('clear');
  });

  describe('reason is a full-match regular expression', () => {
    it.each([
      ['BackOff', 'BackOff', true],
      ['BackOff', 'BackOffX', false],
      ['BackOff', 'XBackOff', false],
      ['BackOff', 'backoff', false],
      ['BackOff|Failed', 'Failed', true],
      ['BackOff|Failed', 'BackOff', true],
      ['BackOff|Failed', 'FailedMount', false],
      ['BackOff|Failed', 'XBackOff', false],
      ['Failed.*', 'FailedMount', true],
      ['Failed.*', 'NodeFailed', false],
      ['OOM(Killing|Killed)', 'OOMKilled', true],
      ['(?i)backoff', 'BackOff', true],
      ['(?P<kind>Back)Off', 'BackOff', true],
      ['Unhealthy', 'Unhealthy', true],
      ['a.c', 'abc', true],
      ['a\\.c', 'abc', false],
      // Go's spellings that re2js writes differently: loose class names, repeated capture names.
      ['\\p{greek}+', 'αβγ', true],
      ['(?P<a>x)(?P<a>y)', 'xy', true],
      ['[[:upper:]][a-z]+', 'Killing', true],
      ['\\QBack.Off\\E', 'BackXOff', false],
    ])('pattern %j on reason %j matches: %s', (pattern, reason, matches) => {
      const r = evaluateTrigger(eventTrigger(pattern), obs({ events: [ev(T - S, reason)] }), undefined, T, OPTS);
      expect(r.status, r.reason).toBe(matches ? 'firing' : 'clear');
    });
  });

  it('matches catastrophic-backtracking patterns in linear time (no ReDoS)', () => {
    // With a backtracking engine the first case alone takes minutes; RE2 answers each at once.
    const hostile = `${'a'.repeat(3000)}!`;
    for (const pattern of ['(a+)+', '(a|aa)+', '(a*)*b', '(.*a){20}']) {
      const r = evaluateTrigger(eventTrigger(pattern), obs({ events: [ev(T - S, hostile)] }), undefined, T, OPTS);
      expect(r.status, pattern).toBe('clear');
    }
    const r = evaluateTrigger(eventTrigger('(a+)+!'), obs({ events: [ev(T - S, hostile)] }), undefined, T, OPTS);
    expect(r.status).toBe('firing');
  });

  it('filters by event type when one is given', () => {
    const events = [ev(T - S, 'Pulled', 1, 'Normal')];
    expect(evaluateTrigger(eventTrigger('Pulled', { type: 'Warning' }), obs({ events }), undefined, T, OPTS).status).toBe('clear');
    expect(evaluateTrigger(eventTrigger('Pulled', { type: 'Normal' }), obs({ events }), undefined, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(eventTrigger('Pulled'), obs({ events }), undefined, T, OPTS).status).toBe('firing');
  });

  it('defaults to count 1 within 5m', () => {
    const trig = eventTrigger('BackOff');
    expect(evaluateTrigger(trig, obs({ events: [ev(T - 4 * M)] }), undefined, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(trig, obs({ events: [ev(T - 5 * M)] }), undefined, T, OPTS).status).toBe('clear');
  });

  it('says how many were seen when below the count', () => {
    const r = expectStatus(evaluateTrigger(eventTrigger('BackOff', { count: 3, type: 'Warning' }), obs({ events: [ev(T - M), ev(T)] }), undefined, T, OPTS), 'clear');
    expect(r.reason).toBe('2 Warning events with reason "BackOff" in the last 5m, fewer than 3');
    expect(r.checkAt).toBeUndefined();
  });

  it('gives unknown, not clear, below the count when events could not be read', () => {
    const r = expectStatus(
      evaluateTrigger(eventTrigger('BackOff', { count: 3 }), obs({ events: [ev(T)], unavailable: { [EVENTS_UNAVAILABLE_KEY]: 'events informer not synced' } }), undefined, T, OPTS),
      'unknown',
    );
    expect(r.code).toBe('unavailable');
    expect(r.reason).toContain('events informer not synced');
  });

  it('still fires on the events it did see when events are reported unavailable', () => {
    const r = evaluateTrigger(eventTrigger('BackOff'), obs({ events: [ev(T)], unavailable: { [EVENTS_UNAVAILABLE_KEY]: 'watch restarting' } }), undefined, T, OPTS);
    expect(r.status).toBe('firing');
  });

  it('reports an invalid pattern as unknown invalid-trigger', () => {
    const r = expectStatus(evaluateTrigger(eventTrigger('Back(Off'), obs({ events: [ev(T)] }), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('invalid-trigger');
    expect(r.reason).toContain('"Back(Off" is not a valid RE2 regular expression: error parsing regexp: missing closing ): `Back(Off`');
  });
});

describe('condition triggers', () => {
  const condTrigger = (type: string, extra: { status?: 'True' | 'False' | 'Unknown'; duration?: string } = {}): Trigger => ({
    name: 'c',
    type: 'condition',
    conditionTrigger: { type, ...extra },
  });

  it('fires when the condition has held its status for the duration', () => {
    const r = expectStatus(
      evaluateTrigger(condTrigger('Ready', { status: 'False', duration: '3m' }), obs({ conditions: { Ready: { status: 'False', since: T - 5 * M, reason: 'ContainersNotReady' } } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.since).toBe(T - 2 * M);
    expect(r.breachSince).toBe(T - 5 * M);
    expect(r.reason).toBe('condition Ready is False (ContainersNotReady) for 5m (needs 3m)');
    expect(r.values).toMatchObject({ condition: 'Ready', status: 'False', observed: 'False', conditionReason: 'ContainersNotReady', heldFor: '5m' });
  });

  it('is pending until the condition has held for the duration, with the exact time', () => {
    const r = expectStatus(
      evaluateTrigger(condTrigger('CrashLoopBackOff', { duration: '2m' }), obs({ conditions: { CrashLoopBackOff: { status: 'True', since: T - 30 * S } } }), undefined, T, OPTS),
      'pending',
    );
    expect(r.breachSince).toBe(T - 30 * S);
    expect(r.checkAt).toBe(T + 90 * S);
  });

  it('fires exactly at since + duration', () => {
    const o = obs({ conditions: { Ready: { status: 'False', since: T - 3 * M } } });
    expect(evaluateTrigger(condTrigger('Ready', { status: 'False', duration: '3m' }), o, undefined, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(condTrigger('Ready', { status: 'False', duration: '3m' }), o, undefined, T - 1, OPTS).status).toBe('pending');
  });

  it('honours the status: a True condition does not fire a trigger on False', () => {
    const r = expectStatus(evaluateTrigger(condTrigger('Ready', { status: 'False' }), obs({ conditions: { Ready: { status: 'True', since: T - M } } }), undefined, T, OPTS), 'clear');
    expect(r.reason).toBe('condition Ready is True, not False');
  });

  it('defaults the status to True and the duration to 0', () => {
    const r = expectStatus(evaluateTrigger(condTrigger('OOMKilled'), obs({ conditions: { OOMKilled: { status: 'True', since: T - S } } }), undefined, T, OPTS), 'firing');
    expect(r.since).toBe(T - S);
  });

  it('treats a missing condition as not True', () => {
    const r = expectStatus(evaluateTrigger(condTrigger('CrashLoopBackOff'), obs(), undefined, T, OPTS), 'clear');
    expect(r.reason).toBe('condition CrashLoopBackOff is not present');
  });

  it('does not claim a missing condition is False', () => {
    const r = expectStatus(evaluateTrigger(condTrigger('Ready', { status: 'False' }), obs(), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('no-data');
  });

  it('gives unknown with the reason when the condition is explicitly unavailable', () => {
    const r = expectStatus(
      evaluateTrigger(condTrigger('Ready'), obs({ conditions: { Ready: { status: 'True', since: T - M } }, unavailable: { Ready: 'pod not found in informer cache' } }), undefined, T, OPTS),
      'unknown',
    );
    expect(r).toMatchObject({ code: 'unavailable', reason: 'condition Ready unavailable: pod not found in informer cache' });
  });

  it('treats a since in the future as just started', () => {
    const r = expectStatus(evaluateTrigger(condTrigger('Ready', { status: 'False', duration: '1m' }), obs({ conditions: { Ready: { status: 'False', since: T + 5 * S } } }), undefined, T, OPTS), 'pending');
    expect(r.checkAt).toBe(T + 65 * S);
  });
});

describe('predictive triggers, method linear (the original line fit)', () => {
  type P = NonNullable<Trigger['predictiveTrigger']>;
  const predictive = (p: P = {}): Trigger => ({ name: 'p', type: 'predictive', predictiveTrigger: { method: 'linear', lookback: '10m', ...p } });
  /** Memory rising 2 %/min, 40% at T: the line reaches 100% at T + 30m. */
  const leak = (at: number): number => 40 + (2 * (at - T)) / M;

  it('fits exact linear data: slope, R² 1, eta, and a reason with the forecast', () => {
    const samples = series(T - 10 * M, T, 30 * S, leak);
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '31m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    const f = r.forecast;
    expect(f?.samples).toBe(21);
    expect(f?.slopePerMinute).toBeCloseTo(2, 9);
    expect(f?.rSquared).toBeCloseTo(1, 9);
    expect(f?.fittedValue).toBeCloseTo(40, 9);
    expect(f?.crossingAt).toBeCloseTo(T + 30 * M, 0);
    expect(f?.etaMs).toBeCloseTo(30 * M, 0);
    expect(r.observedValue).toBe(40);
    expect(r.threshold).toBe(100);
    expect(r.reason).toBe('memory_usage_percent 40% rising 2%/min (R² 1.00) reaches 100% in 30m, within 31m horizon');
    expect(r.values).toMatchObject({ metric: 'memory_usage_percent', eta: '30m', samples: '21' });
    // By the fit, the forecast came within the 31m horizon at crossing − 31m = T − 1m.
    expect(r.since).toBeCloseTo(T - M, 0);
  });

  it('measures the eta from now, not from the latest sample', () => {
    const samples = series(T - 10 * M, T - 30 * S, 30 * S, leak);
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '31m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    expect(r.forecast?.etaMs).toBeCloseTo(30 * M, 0);
    expect(r.forecast?.crossingAt).toBeCloseTo(T + 30 * M, 0);
  });

  it.each([
    // rate %/min, value at T, threshold, horizon → fires?, eta minutes
    [1, 50, 100, '1h', true, 50],
    [1, 50, 100, '49m', false, 50],
    [5, 20, 90, '15m', true, 14],
    [0.5, 90, 95, '10m', true, 10],
    [0.5, 90, 95, '9m', false, 10],
  ])('eta math: rising %d/min from %d to %d within %s fires: %s (eta %dm)', (rate, at0, threshold, horizon, fires, etaMin) => {
    const samples = series(T - 10 * M, T, 30 * S, (at) => at0 + (rate * (at - T)) / M);
    const r = evaluateTrigger(predictive({ threshold, horizon, minSamples: 5 }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS);
    expect(r.status, r.reason).toBe(fires ? 'firing' : 'clear');
    if (r.status === 'firing' || r.status === 'clear') expect((r.forecast?.etaMs ?? NaN) / M).toBeCloseTo(etaMin, 6);
  });

  it('is clear beyond the horizon and says when the trend would enter it', () => {
    const samples = series(T - 10 * M, T, 30 * S, leak);
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '20m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'clear');
    expect(r.checkAt).toBeCloseTo(T + 10 * M, 0);
    expect(r.reason).toBe('memory_usage_percent 40% rising 2%/min (R² 1.00) reaches 100% in 30m, beyond 20m horizon');
  });

  it('does not trust a rising but noisy series', () => {
    // Slope 0.5 %/min under ±15 % alternating noise: R² far below 0.7.
    const noisy = series(T - 10 * M, T, 30 * S, (at) => 40 + (0.5 * (at - T)) / M + (Math.round((at - T) / (30 * S)) % 2 === 0 ? 15 : -15));
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '24h' }), obs({ series: { memory_usage_percent: noisy } }), undefined, T, OPTS), 'clear');
    expect(r.forecast?.slopePerMinute).toBeGreaterThan(0);
    expect(r.forecast?.rSquared).toBeLessThan(0.7);
    expect(r.reason).toMatch(/^memory_usage_percent 55% rising [0-9.]+%\/min \(R² 0\.\d\d\): too noisy to forecast \(R² below 0\.7\)$/);
  });

  it('accepts a noisy series when minConfidence allows it, with an R² between 0 and 1', () => {
    const jitter = [0.4, -0.3, 0.1, -0.5, 0.2, 0.3, -0.1, -0.4, 0.5, 0, -0.2];
    const samples = series(T - 10 * M, T, M, (at) => 80 + (1 * (at - T)) / M + (jitter[(at - (T - 10 * M)) / M] ?? 0));
    const r = expectStatus(evaluateTrigger(predictive({ minConfidence: 0.9, horizon: '30m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    expect(r.forecast?.rSquared).toBeGreaterThan(0.9);
    expect(r.forecast?.rSquared).toBeLessThan(1);
    expect(r.forecast?.slopePerMinute).toBeCloseTo(1, 0);
  });

  it.each([
    ['flat', (): number => 50, 'memory_usage_percent 50% flat (R² 1.00): flat or falling, no crossing of 100% forecast'],
    ['falling', (at: number): number => 50 - (at - T) / M, 'memory_usage_percent 50% falling 1%/min (R² 1.00): flat or falling, no crossing of 100% forecast'],
  ])('is clear on a %s series and says so', (_label, f, reason) => {
    const r = expectStatus(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: series(T - 10 * M, T, 30 * S, f) } }), undefined, T, OPTS), 'clear');
    expect(r.reason).toBe(reason);
    expect(r.checkAt).toBeUndefined();
  });

  it('fires with eta 0 when already at or above the threshold', () => {
    const samples = series(T - 2 * M, T, 30 * S, (at) => (at >= T - M ? 100 : 97));
    const r = expectStatus(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    expect(r.values['eta']).toBe('0s');
    expect(r.breachSince).toBe(T - M);
    expect(r.reason).toBe('memory_usage_percent 100% is already at or above 100%');
  });

  it('does not act below minValue even on a confident forecast', () => {
    const samples = series(T - 10 * M, T, 30 * S, (at) => 25 + (5 * (at - T)) / M);
    const r = expectStatus(evaluateTrigger(predictive({ minValue: 30 }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'clear');
    expect(r.reason).toBe('memory_usage_percent 25% is below minValue 30%');
    expect(evaluateTrigger(predictive({ minValue: 25 }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS).status).toBe('firing');
  });

  it('needs minSamples samples within the lookback', () => {
    const samples = [...series(T - 30 * M, T - 11 * M, 30 * S, leak), ...series(T - 2 * M, T, 30 * S, leak)];
    const r = expectStatus(evaluateTrigger(predictive({ minSamples: 6 }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('insufficient-data');
    expect(r.reason).toBe('5 samples of memory_usage_percent in the last 10m, a trend needs 6');
  });

  it('fits only the lookback: an old falling phase does not hide a recent leak', () => {
    const samples = series(T - 60 * M, T, M, (at) => (at < T - 10 * M ? 90 - (at - (T - 60 * M)) / M : leak(at)));
    const r = expectStatus(evaluateTrigger(predictive({ lookback: '10m', horizon: '31m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    expect(r.forecast?.samples).toBe(11);
    expect(r.forecast?.slopePerMinute).toBeCloseTo(2, 9);
  });

  it('forecasts another metric and threshold with their units', () => {
    const gi = 2 ** 30;
    const samples = series(T - 10 * M, T, M, (at) => gi + (64 * 2 ** 20 * (at - T)) / M);
    const r = expectStatus(
      evaluateTrigger(predictive({ metric: 'memory_usage_bytes', threshold: 2 * gi, horizon: '20m' }), obs({ series: { memory_usage_bytes: samples } }), undefined, T, OPTS),
      'firing',
    );
    expect(r.reason).toBe('memory_usage_bytes 1Gi rising 64Mi/min (R² 1.00) reaches 2Gi in 16m, within 20m horizon');
  });

  it('gives unknown when the metric is stale or unavailable', () => {
    const stale = expectStatus(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: series(T - 20 * M, T - 5 * M, 30 * S, leak) } }), undefined, T, OPTS), 'unknown');
    expect(stale.code).toBe('stale');
    const missing = expectStatus(evaluateTrigger(predictive(), obs({ unavailable: { memory_usage_percent: 'no memory limit set' } }), undefined, T, OPTS), 'unknown');
    expect(missing.reason).toBe('memory_usage_percent unavailable: no memory limit set');
  });

  it('needs 5 samples by default', () => {
    const samples = series(T - 4 * M, T, M, (at) => 71 + (1 * (at - T)) / M);
    // 29% to go at 1 %/min: inside the 30m horizon.
    expect(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: samples.slice(1) } }), undefined, T, OPTS).status).toBe('unknown');
  });
});

describe('predictive triggers with the analyzer (the default)', () => {
  const predictive = (p: NonNullable<Trigger['predictiveTrigger']> = {}): Trigger => ({ name: 'p', type: 'predictive', predictiveTrigger: p });
  /** Deterministic noise in [-0.5, 0.5): no period a cycle detector could find. */
  const noise = (at: number): number => (Math.abs(Math.sin(at * 12.9898) * 43758.5453) % 1) - 0.5;
  /** A steady leak of 1 %/min with a little noise: 30% at T, the limit in 70 min. */
  const leak = (at: number): number => 30 + (at - T) / M + 0.6 * noise(at);

  it('fires on a steady leak while the value is still low, with the pattern, a calibrated confidence and the reasoning', () => {
    const samples = series(T - 20 * M, T, 15 * S, leak);
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '90m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'firing');
    const a = r.forecast?.assessment;
    expect(a?.pattern).toMatch(/leak/);
    expect(a?.confidence).toBeGreaterThanOrEqual(0.7);
    expect(r.forecast?.etaMs).toBeGreaterThan(55 * M);
    expect(r.forecast?.etaMs).toBeLessThan(85 * M);
    expect(r.values).toMatchObject({ method: 'analyzer', pattern: a?.pattern });
    expect(r.reason).toMatch(/reaches 100% in .* \(confidence 0\.\d\d\), within the 90m horizon — /);
    expect(a?.reasoning.length).toBeGreaterThan(0);
  });

  it('stays clear on the same leak when the limit lies beyond the horizon', () => {
    const samples = series(T - 20 * M, T, 15 * S, leak);
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '30m' }), obs({ series: { memory_usage_percent: samples } }), undefined, T, OPTS), 'clear');
    expect(r.forecast?.assessment).toBeDefined();
  });

  it('stays clear on a flat series and on a warm-up that levelled off', () => {
    const flat = series(T - 30 * M, T, 15 * S, (at) => 40 + noise(at));
    expect(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: flat } }), undefined, T, OPTS).status).toBe('clear');
    const warm = series(T - 40 * M, T, 15 * S, (at) => 60 - 50 * Math.exp(-(at - (T - 40 * M)) / (4 * M)));
    expect(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: warm } }), undefined, T, OPTS).status).toBe('clear');
  });

  it('waits for minHistory of data since the container started before acting on a forecast', () => {
    // 2 %/min from 10% twelve minutes ago: 34% now, the limit in about 33 minutes.
    const young = series(T - 12 * M, T, 15 * S, (at) => 34 + (2 * (at - T)) / M + 0.6 * noise(at));
    const r = expectStatus(evaluateTrigger(predictive({ horizon: '60m', minHistory: '15m' }), obs({ series: { memory_usage_percent: young } }), undefined, T, OPTS), 'clear');
    expect(r.reason).toMatch(/only 12m of history since the container started \(acts from 15m\)/);
    const ok = evaluateTrigger(predictive({ horizon: '60m' }), obs({ series: { memory_usage_percent: young } }), undefined, T, OPTS);
    expect(ok.status, ok.reason).toBe('firing');
  });

  it('is unknown with too little data, saying why', () => {
    const r = expectStatus(evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: series(T - M, T, 15 * S, leak) } }), undefined, T, OPTS), 'unknown');
    expect(r.code).toBe('insufficient-data');
  });

  it('asks the injected assess function (the reconciler memoises it)', () => {
    let calls = 0;
    const samples = series(T - 20 * M, T, 15 * S, leak);
    const options = { ...OPTS, assess: (...args: Parameters<typeof assessSeries>) => (calls++, assessSeries(...args)) };
    evaluateTrigger(predictive(), obs({ series: { memory_usage_percent: samples } }), undefined, T, options);
    expect(calls).toBe(1);
  });
});

describe('cooldown', () => {
  const firingObs = obs({ series: { restart_count: [{ at: T, value: 9 }] } });
  const trig = metricTrigger('restart_count', 3);

  it('blocks a firing within cooldownPeriod and says until when', () => {
    const r = expectStatus(evaluateTrigger(trig, firingObs, { lastFiredAt: T - 2 * M }, T, OPTS), 'cooldown');
    expect(r.until).toBe(T + 3 * M);
    expect(r.lastFiredAt).toBe(T - 2 * M);
    expect(r.firing.status).toBe('firing');
    expect(r.reason).toBe('in cooldown (fired 2m ago, cooldown 5m, ends in 3m): restart_count 9 > 3');
    // Re-checked when its sample (at T) goes stale, before the cooldown ends.
    expect(checkAtOf(r)).toBe(T + 60 * S + 1);
  });

  it('lets the trigger fire again exactly when the cooldown ends', () => {
    expect(evaluateTrigger(trig, firingObs, { lastFiredAt: T - 5 * M }, T, OPTS).status).toBe('firing');
    expect(evaluateTrigger(trig, firingObs, { lastFiredAt: T - 5 * M + 1 }, T, OPTS).status).toBe('cooldown');
  });

  it('uses the trigger’s own cooldownPeriod', () => {
    const t = metricTrigger('restart_count', 3, { cooldownPeriod: '30m' });
    expect(expectStatus(evaluateTrigger(t, firingObs, { lastFiredAt: T - 10 * M }, T, OPTS), 'cooldown').until).toBe(T + 20 * M);
  });

  it('postpones a pending check to the end of the cooldown when that is later', () => {
    const t = metricTrigger('memory_usage_percent', 85, { duration: '1m', cooldownPeriod: '10m' });
    const o = obs({ series: { memory_usage_percent: series(T - 30 * S, T, 15 * S, constant(90)) } });
    const r = expectStatus(evaluateTrigger(t, o, { lastFiredAt: T - 5 * M }, T, OPTS), 'pending');
    expect(r.checkAt).toBe(T + 5 * M);
    expect(r.cooldownUntil).toBe(T + 5 * M);
    const early = expectStatus(evaluateTrigger(t, o, { lastFiredAt: T - 9 * M - 50 * S }, T, OPTS), 'pending');
    expect(early.checkAt).toBe(T + 30 * S);
    expect(early.cooldownUntil).toBeUndefined();
  });

  it('does not mask clear or unknown results', () => {
    expect(evaluateTrigger(trig, obs({ series: { restart_count: [{ at: T, value: 1 }] } }), { lastFiredAt: T - M }, T, OPTS).status).toBe('clear');
    expect(evaluateTrigger(trig, obs(), { lastFiredAt: T - M }, T, OPTS).status).toBe('unknown');
  });
});

describe('evaluateTriggers', () => {
  const triggers: Trigger[] = [
    { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } },
    { name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, duration: '3m' } },
    { name: 'backoff', type: 'event', eventTrigger: { reason: 'BackOff', window: '10m' } },
    { name: 'oom', type: 'condition', conditionTrigger: { type: 'OOMKilled' } },
  ];
  const o = obs({
    series: { restart_count: [{ at: T, value: 5 }], memory_usage_percent: series(T - M, T, 15 * S, constant(90)) },
    events: [{ at: T - 8 * M, reason: 'BackOff', type: 'Warning', count: 1 }],
  });

  it('returns one result per trigger in order, the firing ones, and the earliest re-check time', () => {
    const states = new Map<string, TriggerState>([['backoff', { lastFiredAt: T - 4 * M }]]);
    const r = evaluateTriggers(triggers, o, states, T, OPTS);
    expect(r.results.map((x) => [x.trigger, x.status])).toEqual([
      ['restarts', 'firing'],
      ['memory', 'pending'],
      ['backoff', 'cooldown'],
      ['oom', 'clear'],
    ]);
    expect(r.firing.map((x) => x.trigger)).toEqual(['restarts']);
    // memory: T-1m + 3m = T+2m; backoff cooldown: T-4m + 5m = T+1m.
    expect(r.checkAt).toBe(T + M);
  });

  it('includes the event window slide in the re-check time', () => {
    const r = evaluateTriggers(triggers, o, new Map(), T, OPTS);
    // backoff fires until its only event leaves the 10m window at T+2m; memory could fire at T+2m as well; but
    // restart_count's only sample (at T) goes stale first, at T+60s+1ms.
    expect(r.checkAt).toBe(T + 60 * S + 1);
    const withoutRestarts = evaluateTriggers(triggers.slice(1), o, new Map(), T, OPTS);
    expect(withoutRestarts.results.map((x) => x.status)).toEqual(['pending', 'firing', 'clear']);
    // memory's latest sample is at T as well, so the slide is seen through the oldest of the two.
    expect(withoutRestarts.checkAt).toBe(T + 60 * S + 1);
    const eventOnly = evaluateTriggers([triggers[2] as Trigger], o, new Map(), T, OPTS);
    expect(eventOnly.checkAt).toBe(T + 2 * M);
    expect(r.firing.map((x) => x.trigger)).toEqual(['restarts', 'backoff']);
  });

  it('has no re-check time when nothing can change by time alone', () => {
    const r = evaluateTriggers([triggers[3] as Trigger], obs({ conditions: { OOMKilled: { status: 'False', since: T - M } } }), new Map(), T, OPTS);
    expect(r.results.map((x) => x.status)).toEqual(['clear']);
    expect(r.checkAt).toBeUndefined();
    expect('checkAt' in r).toBe(false);
  });

  it('re-checks a clear metric exactly when its latest sample goes stale, and it is unknown then', () => {
    const quiet = obs({ series: { restart_count: [{ at: T - 20 * S, value: 0 }] } });
    const r = evaluateTriggers([triggers[0] as Trigger], quiet, new Map(), T, OPTS);
    expect(r.results.map((x) => x.status)).toEqual(['clear']);
    expect(r.checkAt).toBe(T - 20 * S + 60 * S + 1);
    const at = r.checkAt ?? 0;
    expect(evaluateTriggers([triggers[0] as Trigger], quiet, new Map(), at - 1, OPTS).results[0]?.status).toBe('clear');
    const later = evaluateTriggers([triggers[0] as Trigger], quiet, new Map(), at, OPTS).results[0];
    expect(later?.status === 'unknown' ? later.code : later?.status).toBe('stale');
    // An unknown result has nothing to wait for: new data arrives with a change of its own.
    expect(evaluateTriggers([triggers[0] as Trigger], quiet, new Map(), at, OPTS).checkAt).toBeUndefined();
  });

  it('keeps a pending result’s checkAt the exact time it could fire, and re-checks at the earlier staleAt', () => {
    const t = metricTrigger('memory_usage_percent', 85, { duration: '5m' });
    const r = evaluateTriggers([t], obs({ series: { memory_usage_percent: series(T - M, T, 15 * S, constant(90)) } }), new Map(), T, OPTS);
    const pending = expectStatus(r.results[0] as TriggerEvaluation, 'pending');
    expect(pending.checkAt).toBe(T - M + 5 * M);
    expect(pending.staleAt).toBe(T + 60 * S + 1);
    expect(r.checkAt).toBe(T + 60 * S + 1);
  });

  it('gives a predictive result a staleAt from its metric’s latest sample', () => {
    const t: Trigger = { name: 'p', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent', threshold: 90, method: 'linear', minSamples: 3 } };
    const r = evaluateTriggers([t], obs({ series: { memory_usage_percent: series(T - 5 * M, T - 15 * S, 15 * S, constant(40)) } }), new Map(), T, OPTS);
    expect(r.results[0]?.status).toBe('clear');
    expect(r.checkAt).toBe(T - 15 * S + 60 * S + 1);
  });

  it('keeps evaluating the other triggers when one is invalid', () => {
    const bad: Trigger = { name: 'bad', type: 'event', eventTrigger: { reason: '(' } };
    const r = evaluateTriggers([bad, triggers[0] as Trigger], o, new Map(), T, OPTS);
    expect(r.results.map((x) => x.status)).toEqual(['unknown', 'firing']);
  });
});

describe('defaults and formatting', () => {
  /** Reads `default` of a nested property of the TypeBox schema without trusting its static type. */
  function schemaDefault(path: readonly string[]): unknown {
    let node: unknown = TriggerSchema;
    for (const key of path) node = (node as { properties?: Record<string, unknown> }).properties?.[key];
    return (node as { default?: unknown } | undefined)?.default;
  }

  it('applies the same defaults as the API schema', () => {
    expect(schemaDefault(['cooldownPeriod'])).toBe(TRIGGER_DEFAULTS.cooldownPeriod);
    expect(schemaDefault(['metricTrigger', 'operator'])).toBe(TRIGGER_DEFAULTS.metric.operator);
    expect(schemaDefault(['metricTrigger', 'duration'])).toBe(TRIGGER_DEFAULTS.metric.duration);
    expect(schemaDefault(['eventTrigger', 'count'])).toBe(TRIGGER_DEFAULTS.event.count);
    expect(schemaDefault(['eventTrigger', 'window'])).toBe(TRIGGER_DEFAULTS.event.window);
    expect(schemaDefault(['conditionTrigger', 'status'])).toBe(TRIGGER_DEFAULTS.condition.status);
    expect(schemaDefault(['conditionTrigger', 'duration'])).toBe(TRIGGER_DEFAULTS.condition.duration);
    for (const [key, value] of Object.entries(TRIGGER_DEFAULTS.predictive)) {
      expect({ key, value: schemaDefault(['predictiveTrigger', key]) }).toEqual({ key, value });
    }
  });

  it.each([
    ['memory_usage_percent', 91.23456, '91.23%'],
    ['cpu_usage_millicores', 250, '250m'],
    ['memory_usage_bytes', 512 * 2 ** 20, '512Mi'],
    ['memory_usage_bytes', 1.5 * 2 ** 30, '1.5Gi'],
    ['memory_usage_bytes', 100, '100B'],
    ['restart_count', 4, '4'],
    ['restart_rate', 0.0123456, '0.01235'],
    ['some_promql', 123456.7, '123457'],
  ])('formats %s %d as %j', (metric, value, text) => {
    expect(formatValue(metric, value)).toBe(text);
  });
});
