/**
 * How much history of each metric the policies read, so the SeriesStore keeps no more than that (RetentionPlan).
 * Pure: policies in, milliseconds per metric out.
 *
 * Why: a series store that keeps every metric for the configured hour holds, for a quiet pod, an hour of its three
 * status series re-sampled every minute, while the policies over it look ten minutes back — at 5 000 pods most of
 * what a long-running operator grew by (docs/scaling.md).
 */
import type { AnyPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { RetentionPlan } from '../../metrics/series-store.js';
import { DEFAULT_EVALUATE_OPTIONS, TRIGGER_DEFAULTS } from '../../triggers/evaluate.js';
import { parseDuration } from '../../triggers/duration.js';
import { RESTART_RATE_WINDOW_MS } from '../../metrics/collectors/kube-status.js';
import { FAILURE_HISTORY_MS } from '../healing-action/outcome.js';
import { AI_LOOKBACK_MS, AI_METRICS } from './ai.js';

/**
 * Every series is kept at least this long, read or not: the dashboard's charts and `explain` show the last quarter
 * of an hour of any metric, and a policy created later finds that much history.
 */
export const MIN_SERIES_RETENTION_MS = 15 * 60_000;

/**
 * Beyond a trigger's duration, what "held for the duration" needs to see: the sample before the window (the
 * evaluator walks back to the last good sample, and accepts gaps up to maxSampleGapMs between samples).
 */
const DURATION_MARGIN_MS = 2 * DEFAULT_EVALUATE_OPTIONS.maxSampleGapMs;

/**
 * The history (ms) each metric read by `policy` needs: a metric trigger its duration plus a margin; a predictive
 * trigger its lookback or minHistory, whichever is longer; an AI-decided policy the analyzer's lookback of memory and
 * CPU; either of the last two FAILURE_HISTORY_MS of restart_count (whether a predictive action prevented a failure
 * looks for restarts before it). A setting that does not parse (an invalid policy, refused elsewhere) needs `Infinity`: when in doubt, keep.
 */
export function historyNeedsOf(policy: Pick<AnyPolicy, 'spec'>): Map<string, number> {
  const out = new Map<string, number>();
  const need = (metric: string, ms: number): void => {
    out.set(metric, Math.max(out.get(metric) ?? 0, ms));
  };
  const ms = (text: string): number => {
    try {
      return parseDuration(text);
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  const predictive = policy.spec.triggers.some((t) => t.type === 'predictive');
  if (policy.spec.strategy === 'ai' || predictive) {
    for (const m of AI_METRICS) need(m, AI_LOOKBACK_MS);
    need('restart_count', FAILURE_HISTORY_MS);
  }
  for (const t of policy.spec.triggers) {
    if (t.metricTrigger) need(t.metricTrigger.query, ms(t.metricTrigger.duration ?? TRIGGER_DEFAULTS.metric.duration) + DURATION_MARGIN_MS);
    if (t.predictiveTrigger) {
      const p = t.predictiveTrigger;
      const d = TRIGGER_DEFAULTS.predictive;
      need(p.metric ?? d.metric, Math.max(ms(p.lookback ?? d.lookback), ms(p.minHistory ?? d.minHistory)));
    }
  }
  return out;
}

/**
 * The store's retention plan for these policies: per metric the longest need of any policy (historyNeedsOf) and of
 * the collectors themselves (restart_rate is derived from a window of restart_count), at least
 * MIN_SERIES_RETENTION_MS, at most `maxMs` (seriesRetentionSeconds); every other metric MIN_SERIES_RETENTION_MS.
 */
export function retentionPlan(policies: Iterable<Pick<AnyPolicy, 'spec'>>, maxMs: number): RetentionPlan {
  const floor = Math.min(MIN_SERIES_RETENTION_MS, maxMs);
  const byMetric = new Map<string, number>([['restart_count', RESTART_RATE_WINDOW_MS + DURATION_MARGIN_MS]]);
  for (const p of policies) for (const [metric, ms] of historyNeedsOf(p)) byMetric.set(metric, Math.max(byMetric.get(metric) ?? 0, ms));
  for (const [metric, ms] of byMetric) byMetric.set(metric, Math.min(maxMs, Math.max(floor, ms)));
  return { byMetric, othersMs: floor };
}
