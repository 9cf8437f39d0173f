import { describe, expect, it } from 'vitest';
import type { HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import { SeriesStore } from '../../metrics/series-store.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateTrigger } from '../../triggers/evaluate.js';
import { historyNeedsOf, MIN_SERIES_RETENTION_MS, retentionPlan } from './history-needs.js';

const M = 60_000;
const H = 60 * M;
const T = 1_767_225_600_000;

type Trigger = HealingPolicy['spec']['triggers'][number];
const spec = (triggers: Trigger[], strategy?: 'ai'): Pick<HealingPolicy, 'spec'> => ({
  spec: { selector: { labelSelector: { matchLabels: { app: 'x' } } }, triggers, actions: [], ...(strategy ? { strategy } : {}) },
});
const metric = (query: string, duration?: string): Trigger => ({ name: query, type: 'metric', metricTrigger: { query, threshold: 1, ...(duration ? { duration } : {}) } });

describe('historyNeedsOf', () => {
  it('needs a metric trigger’s duration and the margin the evaluator looks back past it', () => {
    expect(historyNeedsOf(spec([metric('ready', '10m'), metric('custom_query')]))).toEqual(
      new Map([
        ['ready', 10 * M + 2 * DEFAULT_EVALUATE_OPTIONS.maxSampleGapMs],
        ['custom_query', 2 * DEFAULT_EVALUATE_OPTIONS.maxSampleGapMs],
      ]),
    );
  });

  it('needs a predictive trigger’s lookback (or minHistory when longer), the analyzer’s hour and 30 min of restarts', () => {
    const needs = historyNeedsOf(spec([{ name: 'p', type: 'predictive', predictiveTrigger: { metric: 'cpu_usage_percent', lookback: '20m', minHistory: '25m' } }]));
    expect(needs.get('cpu_usage_percent')).toBe(H); // the analyzer's own lookback is longer than both
    expect(needs.get('memory_usage_percent')).toBe(H);
    expect(needs.get('restart_count')).toBe(30 * M);
    const long = historyNeedsOf(spec([{ name: 'p', type: 'predictive', predictiveTrigger: { lookback: '2h' } }]));
    expect(long.get('memory_usage_percent')).toBe(2 * H);
  });

  it('needs the analyzer’s metrics for an AI-decided policy whatever its triggers read', () => {
    expect(historyNeedsOf(spec([{ name: 'c', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False' } }], 'ai'))).toEqual(
      new Map([
        ['memory_usage_percent', H],
        ['cpu_usage_percent', H],
        ['restart_count', 30 * M],
      ]),
    );
    expect(historyNeedsOf(spec([{ name: 'c', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False' } }])).size).toBe(0);
  });

  it('keeps everything of a metric whose duration does not parse (an invalid policy is refused elsewhere)', () => {
    expect(historyNeedsOf(spec([metric('ready', 'ten minutes')])).get('ready')).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('retentionPlan', () => {
  it('takes the longest need per metric, at least the floor and at most the configured maximum', () => {
    const plan = retentionPlan([spec([metric('ready', '10m')]), spec([metric('ready', '20m'), metric('x', 'bad')]), spec([metric('short', '1m')])], H);
    expect(plan.othersMs).toBe(MIN_SERIES_RETENTION_MS);
    expect(plan.byMetric.get('ready')).toBe(20 * M + 2 * DEFAULT_EVALUATE_OPTIONS.maxSampleGapMs);
    expect(plan.byMetric.get('x')).toBe(H);
    expect(plan.byMetric.get('short')).toBe(MIN_SERIES_RETENTION_MS);
    // The collectors' own need: restart_rate is counted over a window of restart_count.
    expect(plan.byMetric.get('restart_count')).toBe(MIN_SERIES_RETENTION_MS);
  });

  it('never plans beyond a configured maximum below the floor', () => {
    const plan = retentionPlan([spec([metric('ready', '10m')])], 5 * M);
    expect(plan.othersMs).toBe(5 * M);
    expect([...plan.byMetric.values()].every((ms) => ms === 5 * M)).toBe(true);
  });

  it('keeps enough in the store for each trigger to fire on its full duration', () => {
    // 60-s samples for 40 minutes of a breach: "ready == 0 for 30m" must fire, so the store must hold 30 minutes.
    const policy = spec([{ name: 'unready', type: 'metric', metricTrigger: { query: 'ready', operator: '==', threshold: 0, duration: '30m' } }]);
    const store = new SeriesStore({ retentionMs: H });
    store.setRetention(retentionPlan([policy], H));
    const pod = { apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'p' };
    for (let i = 0; i <= 40; i++) {
      store.recordSample(pod, 'ready', { at: T + i * M, value: 0 }, T + i * M);
      store.recordSample(pod, 'other', { at: T + i * M, value: 0 }, T + i * M);
      store.prune(T + i * M);
    }
    const obs = store.observations(pod);
    expect((obs.series.get('other') ?? []).length).toBe(16); // the floor: 15 minutes of 60-s samples, both ends kept
    const trigger = policy.spec.triggers[0] as Trigger;
    expect(evaluateTrigger(trigger, obs, undefined, T + 40 * M).status).toBe('firing');
  });
});
