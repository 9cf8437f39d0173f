import { describe, expect, it } from 'vitest';
import { evaluateTrigger } from '../triggers/evaluate.js';
import { DEFAULT_SERIES_STORE_OPTIONS, InvalidSeriesStoreOptionsError, SeriesStore, type SeriesStoreOptions } from './series-store.js';
import type { EventOccurrence, TargetRef } from './types.js';

// Fixed time: 2026-01-01T00:00:00Z. No test reads the clock.
const T = 1_767_225_600_000;
const S = 1_000;
const M = 60_000;

const pod = (name: string, uid?: string): TargetRef => ({
  apiVersion: 'v1',
  kind: 'Pod',
  namespace: 'shop',
  name,
  ...(uid === undefined ? {} : { uid }),
});
const A = pod('cart-0', 'uid-a');

const SMALL: Partial<SeriesStoreOptions> = {
  retentionMs: 10 * M,
  maxSamplesPerSeries: 10,
  maxSeriesPerTarget: 3,
  maxConditionsPerTarget: 3,
  maxEventsPerTarget: 4,
  eventRetentionMs: 30 * M,
  maxTargets: 5,
  targetIdleMs: 20 * M,
};

const ev = (at: number, reason = 'BackOff', count = 1): EventOccurrence => ({ at, reason, type: 'Warning', count });

describe('SeriesStore samples', () => {
  it('returns empty observations for a target it never saw', () => {
    const store = new SeriesStore(SMALL);
    const o = store.observations(A);
    expect(o.target).toEqual(A);
    expect(o.series.size + o.conditions.size + o.events.length + o.unavailable.size).toBe(0);
    expect(store.has(A)).toBe(false);
  });

  it('keeps samples in ascending order per metric and target', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'memory_usage_percent', { at: T, value: 40 }, T);
    store.recordSample(A, 'memory_usage_percent', { at: T + 15 * S, value: 41 }, T + 15 * S);
    store.recordSample(A, 'restart_count', { at: T + 15 * S, value: 2 }, T + 15 * S);
    store.recordSample(pod('cart-1'), 'memory_usage_percent', { at: T, value: 90 }, T);
    const o = store.observations(A);
    expect(o.series.get('memory_usage_percent')).toEqual([
      { at: T, value: 40 },
      { at: T + 15 * S, value: 41 },
    ]);
    expect(o.series.get('restart_count')).toEqual([{ at: T + 15 * S, value: 2 }]);
    expect(o.target).toEqual(A);
  });

  it('hands out snapshots: a series cannot be changed through one, and writing later does not change an earlier one', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'm', { at: T, value: 1 }, T);
    const first = store.observations(A);
    expect(() => (first.series.get('m') as { at: number; value: number }[]).push({ at: T + 1, value: 99 })).toThrow(TypeError);
    // The same unchanged series is shared, not copied again.
    expect(store.observations(A).series.get('m')).toBe(first.series.get('m'));
    (first.series as Map<string, unknown>).delete('m');
    store.recordSample(A, 'm', { at: T + S, value: 2 }, T + S);
    expect(first.series.has('m')).toBe(false);
    expect(store.observations(A).series.get('m')).toEqual([
      { at: T, value: 1 },
      { at: T + S, value: 2 },
    ]);
  });

  it('bounds the samples its cached whole-series copies hold, dropping the copy cached longest ago', () => {
    const store = new SeriesStore({ ...SMALL, maxSnapshotSamples: 10 });
    const targets = [pod('a'), pod('b'), pod('c')];
    for (const t of targets) for (let i = 0; i < 4; i++) store.recordSample(t, 'm', { at: T + i * S, value: i }, T + i * S);
    const read = (t: TargetRef): unknown => store.observations(t).series.get('m');
    const a = read(targets[0] as TargetRef);
    const b = read(targets[1] as TargetRef);
    expect(store.snapshotSamples()).toBe(8);
    expect(read(targets[0] as TargetRef)).toBe(a); // cached
    const c = read(targets[2] as TargetRef); // 12 > 10: a's copy (cached first) goes
    expect(store.snapshotSamples()).toBe(8);
    expect(read(targets[1] as TargetRef)).toBe(b);
    expect(read(targets[2] as TargetRef)).toBe(c);
    const again = read(targets[0] as TargetRef);
    expect(again).not.toBe(a);
    expect(again).toEqual(a);
    expect(store.snapshotSamples()).toBeLessThanOrEqual(10);
    // A write releases the series' copy from the budget.
    store.recordSample(targets[2] as TargetRef, 'm', { at: T + 9 * S, value: 9 }, T + 9 * S);
    expect(store.snapshotSamples()).toBe(4);
    expect(read(targets[0] as TargetRef)).toBe(again);
  });

  it('hands out the latest sample alone on request, and keeps it current', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'm', { at: T, value: 1 }, T);
    store.recordSample(A, 'm', { at: T + S, value: 2 }, T + S);
    expect(store.observations(A, { latestOnly: true }).series.get('m')).toEqual([{ at: T + S, value: 2 }]);
    expect(store.observations(A).series.get('m')).toHaveLength(2);
    store.recordSample(A, 'm', { at: T + 2 * S, value: 3 }, T + 2 * S);
    expect(store.observations(A, { metrics: ['m'], latestOnly: true }).series.get('m')).toEqual([{ at: T + 2 * S, value: 3 }]);
  });

  it('caps a series at maxSamplesPerSeries, keeping the newest', () => {
    const store = new SeriesStore(SMALL);
    for (let i = 0; i < 1000; i++) store.recordSample(A, 'm', { at: T + i * 100, value: i }, T + i * 100);
    const samples = store.observations(A).series.get('m') ?? [];
    expect(samples.map((s) => s.value)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    const stats = store.stats();
    expect(stats.samples).toBe(10);
    expect(stats.allocatedSampleSlots).toBeLessThanOrEqual(10);
    expect(stats.overwrittenSamples).toBe(990);
  });

  it('drops samples older than the retention on write and refuses ones already too old', () => {
    const store = new SeriesStore({ ...SMALL, maxSamplesPerSeries: 100 });
    for (let i = 0; i <= 20; i++) store.recordSample(A, 'm', { at: T + i * M, value: i }, T + i * M);
    expect((store.observations(A).series.get('m') ?? []).map((s) => s.value)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(store.recordSample(A, 'other', { at: T + 9 * M, value: 1 }, T + 20 * M)).toBe(false);
    expect(store.stats().rejectedSamples).toBe(1);
  });

  it('keeps each metric as long as its retention plan says, retentionMs at most, on write and on prune', () => {
    const store = new SeriesStore({ ...SMALL, maxSamplesPerSeries: 100, maxSeriesPerTarget: 8 });
    store.setRetention({ byMetric: new Map([['short', 3 * M], ['long', 60 * M]]), othersMs: 5 * M });
    expect([store.retentionOf('short'), store.retentionOf('long'), store.retentionOf('any')]).toEqual([3 * M, 10 * M, 5 * M]);
    for (let i = 0; i <= 12; i++) for (const m of ['short', 'long', 'any']) store.recordSample(A, m, { at: T + i * M, value: i }, T + i * M);
    const values = (m: string): number[] => (store.observations(A).series.get(m) ?? []).map((x) => x.value);
    // Trimmed on write: the cutoff is now − retention, inclusive of a sample exactly at it.
    expect(values('short')).toEqual([9, 10, 11, 12]);
    expect(values('any')).toEqual([7, 8, 9, 10, 11, 12]);
    expect(values('long')).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // A sample older than its own metric's retention is refused, though another metric would keep it.
    expect(store.recordSample(A, 'short2', { at: T + 8 * M, value: 1 }, T + 12 * M)).toBe(true);
    store.setRetention({ byMetric: new Map([['short2', 3 * M]]), othersMs: 5 * M });
    expect(store.recordSample(pod('b'), 'short2', { at: T + 8 * M, value: 1 }, T + 12 * M)).toBe(false);
    // Prune applies a plan that became shorter; nothing written since is needed for that.
    store.setRetention({ byMetric: new Map(), othersMs: 2 * M });
    store.prune(T + 12 * M);
    expect([values('short'), values('any'), values('long')]).toEqual([[10, 11, 12], [10, 11, 12], [10, 11, 12]]);
  });

  it('treats a retention that is not a positive number as retentionMs, and no plan as retentionMs for all', () => {
    const store = new SeriesStore(SMALL);
    store.setRetention({ byMetric: new Map([['a', 0], ['b', Number.NaN], ['c', -M], ['d', Number.POSITIVE_INFINITY]]), othersMs: Number.NaN });
    for (const m of ['a', 'b', 'c', 'd', 'e']) expect(store.retentionOf(m)).toBe(10 * M);
    store.setRetention({ byMetric: new Map([['a', M]]), othersMs: M });
    expect(store.retentionOf('e')).toBe(M);
    store.setRetention(undefined);
    expect([store.retentionOf('a'), store.retentionOf('e')]).toEqual([10 * M, 10 * M]);
  });

  it('refuses a sample older than the series’ latest and replaces one at the same time', () => {
    const store = new SeriesStore(SMALL);
    expect(store.recordSample(A, 'm', { at: T, value: 1 }, T)).toBe(true);
    expect(store.recordSample(A, 'm', { at: T - S, value: 2 }, T)).toBe(false);
    expect(store.recordSample(A, 'm', { at: T, value: 3 }, T)).toBe(true);
    expect(store.observations(A).series.get('m')).toEqual([{ at: T, value: 3 }]);
  });

  it.each([
    ['NaN value', { at: T, value: NaN }],
    ['NaN time', { at: NaN, value: 1 }],
    ['infinite time', { at: Infinity, value: 1 }],
  ])('refuses a sample with a %s', (_label, sample) => {
    const store = new SeriesStore(SMALL);
    expect(store.recordSample(A, 'm', sample, T)).toBe(false);
    expect(store.observations(A).series.size).toBe(0);
  });

  it('keeps an infinite value, which compares meaningfully', () => {
    const store = new SeriesStore(SMALL);
    expect(store.recordSample(A, 'm', { at: T, value: Infinity }, T)).toBe(true);
  });

  it('records a batch in order and counts what it kept', () => {
    const store = new SeriesStore(SMALL);
    const kept = store.recordSamples(A, 'm', [{ at: T, value: 1 }, { at: T + S, value: 2 }, { at: T, value: 3 }], T + S);
    expect(kept).toBe(2);
  });

  it('evicts the least recently written series beyond maxSeriesPerTarget', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'q1', { at: T, value: 1 }, T);
    store.recordSample(A, 'q2', { at: T, value: 1 }, T);
    store.recordSample(A, 'q3', { at: T, value: 1 }, T);
    store.recordSample(A, 'q1', { at: T + S, value: 1 }, T + S);
    store.recordSample(A, 'q4', { at: T + S, value: 1 }, T + S);
    expect([...store.observations(A).series.keys()].sort()).toEqual(['q1', 'q3', 'q4']);
    expect(store.stats().evictedSeries).toBe(1);
  });

  it('orders series by write, not by sample time: at one time the first written goes first', () => {
    const store = new SeriesStore(SMALL);
    for (const q of ['q1', 'q2', 'q3']) store.recordSample(A, q, { at: T, value: 1 }, T);
    store.recordSample(A, 'q2', { at: T, value: 2 }, T);
    store.recordSample(A, 'q1', { at: T, value: 2 }, T);
    store.recordSample(A, 'q4', { at: T, value: 1 }, T);
    expect([...store.observations(A).series.keys()].sort()).toEqual(['q1', 'q2', 'q4']);
  });

  it('copies only the requested metrics when asked', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'q1', { at: T, value: 1 }, T);
    store.recordSample(A, 'q2', { at: T, value: 2 }, T);
    const o = store.observations(A, { metrics: ['q2', 'missing'] });
    expect([...o.series.keys()]).toEqual(['q2']);
  });
});

describe('SeriesStore unavailable reasons', () => {
  it('keeps samples when a read fails and clears the reason on the next successful read', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'memory_usage_percent', { at: T, value: 50 }, T);
    store.recordUnavailable(A, 'memory_usage_percent', 'metrics.k8s.io: timeout', T + 15 * S);
    let o = store.observations(A);
    expect(o.unavailable.get('memory_usage_percent')).toBe('metrics.k8s.io: timeout');
    expect(o.series.get('memory_usage_percent')).toHaveLength(1);
    store.recordSample(A, 'memory_usage_percent', { at: T + 30 * S, value: 51 }, T + 30 * S);
    o = store.observations(A);
    expect(o.unavailable.has('memory_usage_percent')).toBe(false);
  });

  it('gives a target without reasons an empty map, live or copied, and never the same map a later reason fills', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'm', { at: T, value: 1 }, T);
    const live = store.observations(A, { live: true }).unavailable;
    const copied = store.observations(A).unavailable;
    expect([live.size, copied.size]).toEqual([0, 0]);
    store.recordUnavailable(A, 'm', 'metrics.k8s.io unavailable', T + S);
    expect([live.size, copied.size]).toEqual([0, 0]);
    expect(store.observations(pod('other'), { live: true }).unavailable.size).toBe(0);
    expect(store.observations(A, { live: true }).unavailable.get('m')).toBe('metrics.k8s.io unavailable');
    expect(store.stats().unavailable).toBe(1);
  });

  it('clears a reason on request and caps reasons per target', () => {
    const store = new SeriesStore(SMALL);
    for (const q of ['a', 'b', 'c', 'd']) store.recordUnavailable(A, q, `no ${q}`, T);
    expect([...store.observations(A).unavailable.keys()]).toEqual(['b', 'c', 'd']);
    store.clearUnavailable(A, 'c');
    expect([...store.observations(A).unavailable.keys()]).toEqual(['b', 'd']);
  });

  it('clips a very long reason', () => {
    const store = new SeriesStore(SMALL);
    store.recordUnavailable(A, 'q', 'x'.repeat(100_000), T);
    expect(store.observations(A).unavailable.get('q')?.length).toBe(1024);
  });
});

describe('SeriesStore conditions', () => {
  it('stores the latest state per condition type with the given since', () => {
    const store = new SeriesStore(SMALL);
    store.recordCondition(A, 'Ready', { status: 'True', since: T - 10 * M }, T);
    store.recordCondition(A, 'Ready', { status: 'False', since: T - M, reason: 'ContainersNotReady' }, T);
    expect(store.observations(A).conditions.get('Ready')).toEqual({ status: 'False', since: T - M, reason: 'ContainersNotReady' });
  });

  it('measures a state without a transition time from its first observation while it persists', () => {
    const store = new SeriesStore(SMALL);
    store.recordCondition(A, 'CrashLoopBackOff', { status: 'True' }, T);
    store.recordCondition(A, 'CrashLoopBackOff', { status: 'True' }, T + M);
    store.recordCondition(A, 'CrashLoopBackOff', { status: 'True' }, T + 2 * M);
    expect(store.observations(A).conditions.get('CrashLoopBackOff')?.since).toBe(T);
    store.recordCondition(A, 'CrashLoopBackOff', { status: 'False' }, T + 3 * M);
    expect(store.observations(A).conditions.get('CrashLoopBackOff')?.since).toBe(T + 3 * M);
  });

  it('replaces the whole set, dropping types no longer reported but keeping since for the rest', () => {
    const store = new SeriesStore(SMALL);
    store.replaceConditions(A, [['CrashLoopBackOff', { status: 'True' }], ['Ready', { status: 'False', since: T - M }]], T);
    store.replaceConditions(A, [['Ready', { status: 'False', since: T - M }], ['OOMKilled', { status: 'True' }]], T + M);
    const conditions = store.observations(A).conditions;
    expect([...conditions.keys()].sort()).toEqual(['OOMKilled', 'Ready']);
    expect(conditions.get('OOMKilled')?.since).toBe(T + M);
  });

  it('clears an unavailable reason for the condition type it records, and caps types per target', () => {
    const store = new SeriesStore(SMALL);
    store.recordUnavailable(A, 'Ready', 'pod not in cache', T);
    store.recordCondition(A, 'Ready', { status: 'True', since: T }, T);
    expect(store.observations(A).unavailable.has('Ready')).toBe(false);
    for (const type of ['A', 'B', 'C']) store.recordCondition(A, type, { status: 'True' }, T);
    expect([...store.observations(A).conditions.keys()]).toEqual(['A', 'B', 'C']);
  });

  it('feeds a condition trigger that fires only after the state held for its duration', () => {
    const store = new SeriesStore(SMALL);
    const trigger = { name: 'crash', type: 'condition' as const, conditionTrigger: { type: 'CrashLoopBackOff', duration: '2m' } };
    for (let t = T; t <= T + 2 * M; t += 30 * S) store.recordCondition(A, 'CrashLoopBackOff', { status: 'True' }, t);
    expect(evaluateTrigger(trigger, store.observations(A), undefined, T + 2 * M - 1).status).toBe('pending');
    expect(evaluateTrigger(trigger, store.observations(A), undefined, T + 2 * M).status).toBe('firing');
  });
});

describe('SeriesStore events', () => {
  it('counts an event id once however often it is delivered', () => {
    const store = new SeriesStore(SMALL);
    expect(store.recordEvent(A, 'uid-1/1', ev(T), T)).toBe(true);
    expect(store.recordEvent(A, 'uid-1/1', ev(T), T + S)).toBe(false);
    expect(store.recordEvent(A, 'uid-1/2', ev(T + S), T + S)).toBe(true);
    expect(store.observations(A).events).toHaveLength(2);
  });

  it('counts an id once even after later events and an eviction of others, and forgets ids with their events', () => {
    const store = new SeriesStore(SMALL);
    for (let i = 0; i < 4; i++) store.recordEvent(A, `e${i}`, ev(T + i * S), T + i * S);
    expect(store.recordEvent(A, 'e3', ev(T + 3 * S), T + 5 * S)).toBe(false);
    expect(store.recordEvent(A, 'e4', ev(T + 4 * S), T + 5 * S)).toBe(true);
    // e0 went to make room; its id is free again, but it is the oldest, so it goes again at once.
    expect(store.observations(A).events).toHaveLength(4);
    // After the event retention, an id is free again and counts as new.
    store.prune(T + 31 * M);
    expect(store.recordEvent(A, 'e4', ev(T + 31 * M), T + 31 * M)).toBe(true);
  });

  it('keeps events in time order when one arrives late', () => {
    const store = new SeriesStore(SMALL);
    store.recordEvent(A, 'b', ev(T + 2 * S, 'B'), T + 2 * S);
    store.recordEvent(A, 'a', ev(T + S, 'A'), T + 2 * S);
    store.recordEvent(A, 'c', ev(T + 3 * S, 'C'), T + 3 * S);
    expect(store.observations(A).events.map((e) => e.reason)).toEqual(['A', 'B', 'C']);
  });

  it('keeps at most maxEventsPerTarget, dropping the oldest', () => {
    const store = new SeriesStore(SMALL);
    for (let i = 0; i < 10; i++) store.recordEvent(A, `e${i}`, ev(T + i * S, `R${i}`), T + i * S);
    expect(store.observations(A).events.map((e) => e.reason)).toEqual(['R6', 'R7', 'R8', 'R9']);
    // An evicted id delivered again is older than everything held, so it is evicted again at once.
    expect(store.recordEvent(A, 'e0', ev(T, 'R0'), T + 10 * S)).toBe(false);
    expect(store.observations(A).events).toHaveLength(4);
  });

  it('refuses events older than the event retention and drops them as time passes', () => {
    const store = new SeriesStore(SMALL);
    expect(store.recordEvent(A, 'old', ev(T - 31 * M), T)).toBe(false);
    store.recordEvent(A, 'e1', ev(T), T);
    store.recordEvent(A, 'e2', ev(T + 20 * M), T + 20 * M);
    store.recordEvent(A, 'e3', ev(T + 31 * M), T + 31 * M);
    expect(store.observations(A).events.map((e) => e.at)).toEqual([T + 20 * M, T + 31 * M]);
    // Its id is forgotten with it, but a re-delivery is too old to be admitted again.
    expect(store.recordEvent(A, 'e1', ev(T), T + 31 * M)).toBe(false);
  });

  it('copies and clips what it is given', () => {
    const store = new SeriesStore(SMALL);
    const occurrence = { at: T, reason: 'BackOff', type: 'Warning', count: 1, message: 'm'.repeat(5000) };
    store.recordEvent(A, 'x', occurrence, T);
    occurrence.count = 99;
    const [stored] = store.observations(A).events;
    expect(stored?.count).toBe(1);
    expect(stored?.message?.length).toBe(1024);
  });

  it('feeds an event trigger over the sliding window', () => {
    const store = new SeriesStore(SMALL);
    for (const [i, at] of [T - 6 * M, T - 3 * M, T - M].entries()) store.recordEvent(A, `e${i}`, ev(at), at);
    const trigger = { name: 'backoff', type: 'event' as const, eventTrigger: { reason: 'BackOff', count: 2, window: '5m' } };
    const r = evaluateTrigger(trigger, store.observations(A), undefined, T);
    expect(r.status).toBe('firing');
    expect(r.status === 'firing' ? r.checkAt : undefined).toBe(T + 2 * M);
  });
});

describe('SeriesStore targets and memory bounds', () => {
  it('keeps a policy over 10 000 pods within its caps', () => {
    const caps = { maxTargets: 1_000, maxSeriesPerTarget: 2, maxSamplesPerSeries: 4, maxEventsPerTarget: 3 };
    const store = new SeriesStore({ ...SMALL, ...caps });
    for (let round = 0; round < 6; round++) {
      const now = T + round * 15 * S;
      // Even rounds write every pod, odd rounds every 7th: the written set keeps changing, as pods come and go.
      for (let p = 0; p < 10_000; p += round % 2 === 0 ? 1 : 7) {
        const target = pod(`pod-${p}`);
        for (let m = 0; m < 3; m++) store.recordSample(target, `metric_${m}`, { at: now, value: p + m }, now);
        store.recordEvent(target, `ev-${p}-${round}`, ev(now), now);
      }
    }
    const stats = store.stats();
    expect(stats.targets).toBe(caps.maxTargets);
    expect(stats.series).toBeLessThanOrEqual(caps.maxTargets * caps.maxSeriesPerTarget);
    expect(stats.allocatedSampleSlots).toBeLessThanOrEqual(caps.maxTargets * caps.maxSeriesPerTarget * caps.maxSamplesPerSeries);
    expect(stats.samples).toBeLessThanOrEqual(stats.allocatedSampleSlots);
    expect(stats.events).toBeLessThanOrEqual(caps.maxTargets * caps.maxEventsPerTarget);
    expect(stats.evictedTargets).toBeGreaterThan(10_000);
    expect(stats.evictedSeries).toBeGreaterThan(0);
  });

  it('caps samples and events of a long-lived target however long it is written', () => {
    const store = new SeriesStore({ ...SMALL, retentionMs: 365 * 24 * 60 * M, eventRetentionMs: 365 * 24 * 60 * M });
    for (let i = 0; i < 5_000; i++) {
      store.recordSample(A, 'm', { at: T + i * S, value: i }, T + i * S);
      store.recordEvent(A, `e${i}`, ev(T + i * S), T + i * S);
    }
    expect(store.stats()).toMatchObject({ samples: 10, allocatedSampleSlots: 10, events: 4 });
  });

  it('evicts the least recently written target to admit a new one', () => {
    const store = new SeriesStore(SMALL);
    for (let i = 0; i < 5; i++) store.recordSample(pod(`p${i}`), 'm', { at: T, value: i }, T);
    store.recordSample(pod('p0'), 'm', { at: T + S, value: 0 }, T + S);
    store.recordSample(pod('p5'), 'm', { at: T + S, value: 5 }, T + S);
    expect(store.has(pod('p1'))).toBe(false);
    expect(store.targets().map((t) => t.name)).toEqual(['p2', 'p3', 'p4', 'p0', 'p5']);
    expect(store.stats().evictedTargets).toBe(1);
  });

  it('keeps the write order through repeated writes to one target and a target forgotten and written again', () => {
    const store = new SeriesStore(SMALL);
    for (let i = 0; i < 4; i++) store.recordSample(pod(`p${i}`), 'm', { at: T, value: i }, T);
    store.recordSample(pod('p3'), 'n', { at: T, value: 3 }, T);
    store.recordSample(pod('p3'), 'o', { at: T, value: 3 }, T);
    store.forget(pod('p3'));
    store.recordSample(pod('p0'), 'm', { at: T + S, value: 0 }, T + S);
    store.recordSample(pod('p3'), 'm', { at: T + S, value: 3 }, T + S);
    store.recordSample(pod('p1'), 'm', { at: T + S, value: 1 }, T + S);
    expect(store.targets().map((t) => t.name)).toEqual(['p2', 'p0', 'p3', 'p1']);
    store.recordSample(pod('p4'), 'm', { at: T + S, value: 4 }, T + S);
    store.recordSample(pod('p5'), 'm', { at: T + S, value: 5 }, T + S);
    expect(store.targets().map((t) => t.name)).toEqual(['p0', 'p3', 'p1', 'p4', 'p5']);
  });

  it('starts afresh when a target with the same name has a new uid', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(pod('web-0', 'old'), 'restart_count', { at: T, value: 7 }, T);
    store.recordCondition(pod('web-0', 'old'), 'CrashLoopBackOff', { status: 'True' }, T);
    store.recordSample(pod('web-0', 'new'), 'restart_count', { at: T + M, value: 0 }, T + M);
    const o = store.observations(pod('web-0'));
    expect(o.target.uid).toBe('new');
    expect(o.series.get('restart_count')).toEqual([{ at: T + M, value: 0 }]);
    expect(o.conditions.size).toBe(0);
  });

  it('learns a uid it did not know without dropping history', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(pod('web-0'), 'm', { at: T, value: 1 }, T);
    store.recordSample(pod('web-0', 'u1'), 'm', { at: T + S, value: 2 }, T + S);
    const o = store.observations(pod('web-0'));
    expect(o.target.uid).toBe('u1');
    expect(o.series.get('m')).toHaveLength(2);
  });

  it('prunes old samples, old events, empty series and idle targets, and says how many', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'old', { at: T, value: 1 }, T);
    store.recordSample(A, 'live', { at: T, value: 1 }, T);
    store.recordSample(A, 'live', { at: T + 9 * M, value: 2 }, T + 9 * M);
    store.recordEvent(A, 'e', ev(T), T);
    store.recordSample(pod('idle'), 'm', { at: T, value: 1 }, T);
    // At T+21m: samples before T+11m go (all of A's, leaving both series empty); 'idle' has had no write for
    // 21m > targetIdleMs 20m; A was written at T+9m and stays; the event is within its 30m retention.
    const result = store.prune(T + 21 * M);
    expect(result).toEqual({ targets: 1, series: 2, samples: 3, events: 0 });
    expect(store.has(pod('idle'))).toBe(false);
    expect(store.observations(A).series.size).toBe(0);
    expect(store.prune(T + 29 * M + 1)).toEqual({ targets: 1, series: 0, samples: 0, events: 0 });
  });

  it('drops events beyond their retention on prune', () => {
    const store = new SeriesStore({ ...SMALL, targetIdleMs: 2 * 60 * M });
    store.recordEvent(A, 'e', ev(T), T);
    expect(store.prune(T + 30 * M + 1).events).toBe(1);
    expect(store.observations(A).events).toHaveLength(0);
  });

  it('forgets a deleted target', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'm', { at: T, value: 1 }, T);
    expect(store.forget(A)).toBe(true);
    expect(store.forget(A)).toBe(false);
    expect(store.stats().targets).toBe(0);
  });

  it('reports sizes for a /metrics gauge', () => {
    const store = new SeriesStore(SMALL);
    store.recordSample(A, 'm', { at: T, value: 1 }, T);
    store.recordSample(A, 'm', { at: T + S, value: 1 }, T + S);
    store.recordCondition(A, 'Ready', { status: 'True' }, T);
    store.recordEvent(A, 'e', ev(T), T);
    store.recordUnavailable(A, 'cpu_usage_percent', 'no limit', T);
    expect(store.stats()).toMatchObject({ targets: 1, series: 1, samples: 2, conditions: 1, events: 1, unavailable: 1 });
  });

  it.each([
    ['retentionMs', 0],
    ['maxSamplesPerSeries', 1.5],
    ['maxTargets', -1],
    ['targetIdleMs', NaN],
    ['eventRetentionMs', Infinity],
  ] as const)('refuses %s = %d with a typed error', (option, value) => {
    expect(() => new SeriesStore({ [option]: value })).toThrow(InvalidSeriesStoreOptionsError);
    expect(() => new SeriesStore({ [option]: value })).toThrow(option);
  });

  it('has defaults that hold a predictive lookback and the longest default windows', () => {
    expect(DEFAULT_SERIES_STORE_OPTIONS.retentionMs).toBeGreaterThanOrEqual(10 * M);
    expect(DEFAULT_SERIES_STORE_OPTIONS.eventRetentionMs).toBeGreaterThanOrEqual(5 * M);
    expect(() => new SeriesStore()).not.toThrow();
  });
});
