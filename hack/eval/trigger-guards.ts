/**
 * What each guard of the operator's predictive trigger buys at episode level (not a test; `npm test` never runs it):
 *
 *   npx vitest run --config hack/eval/vitest.eval.config.ts hack/eval/trigger-guards.ts          # the guards one at a time
 *   SET=tune SEED=7 npx vitest run --config hack/eval/vitest.eval.config.ts hack/eval/trigger-guards.ts   # other settings
 *
 * Replays the episode trajectories (episodes.ts; SEED, default the episodes seed, N trajectories, default 264) on
 * the 60-s clock through: the analyzer as in the episode table; the analyzer on the trigger's inputs without guards
 * (last hour, as of the latest sample, no told container starts, 2-min staleness: a re-implementation of the
 * trigger's input only, for this attribution); the real trigger with minConfidence 0 and minHistory 0s (only the
 * confirmation on the previous sample left); with minHistory 0s (confirmation and minConfidence 0.7); with its
 * defaults; and the defaults at every 15-s poll. SET=tune runs the defaults against other minConfidence and
 * minHistory settings instead. Prints one line per variant; writes nothing. ~5–10 min.
 */
import { test } from 'vitest';
import { assessSeries } from '../../src/analysis/assess.js';
import type { Trigger } from '../../src/api/v1alpha1/healing-policy.js';
import { createAssessmentCache } from '../../src/triggers/assessment-cache.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateTrigger } from '../../src/triggers/evaluate.js';
import { analyzerVerdict, episodeReport, POLL_SECONDS, replay, trajectory, type EpisodeTrace, type Verdict } from './episodes.js';
import type { LabelledSeries } from './generator.js';
import { SEEDS, SET_SIZES } from './seeds.js';

const SEED = Number(process.env['SEED'] ?? SEEDS.episodes);
const N = Number(process.env['N'] ?? SET_SIZES.episodes);

type Settings = Partial<NonNullable<Trigger['predictiveTrigger']>>;
const metricOf = (kind: 'memory' | 'cpu'): 'memory_usage_bytes' | 'cpu_usage_percent' => (kind === 'memory' ? 'memory_usage_bytes' : 'cpu_usage_percent');

/** The real trigger with `extra` over its defaults; an alarm is `firing`. */
const trigger =
  (extra: Settings) =>
  (series: LabelledSeries): Verdict => {
    const cache = createAssessmentCache(assessSeries, 64);
    const metric = metricOf(series.kind);
    const t: Trigger = { name: 'p', type: 'predictive', predictiveTrigger: { metric, threshold: series.limit, horizon: '30m', ...extra } };
    return (samples, now) =>
      evaluateTrigger(
        t,
        { target: { apiVersion: 'v1', kind: 'Pod', namespace: 'eval', name: series.id }, series: new Map([[metric, samples]]), conditions: new Map(), events: [], unavailable: new Map() },
        undefined,
        now,
        { ...DEFAULT_EVALUATE_OPTIONS, assess: cache.assess },
      ).status === 'firing';
  };

/** The analyzer's raw verdict on the trigger's inputs, no guards. */
const rawOnTriggerInputs =
  (series: LabelledSeries): Verdict =>
  (samples, now) => {
    const w = samples.filter((p) => p.at >= now - 3_600_000);
    const last = w.at(-1);
    if (last === undefined || now - last.at > DEFAULT_EVALUATE_OPTIONS.maxSampleAgeMs || w.length < 5) return false;
    const a = assessSeries(
      { samples: w, kind: series.kind, limit: series.limit, now: last.at, unit: series.kind === 'memory' ? 'B' : '%' },
      { horizonMs: 1_800_000, maxLookbackMs: 3_600_000, maxStalenessMs: DEFAULT_EVALUATE_OPTIONS.maxSampleAgeMs },
    );
    return a.willBreach && a.secondsToLimit !== null && a.secondsToLimit - (now - last.at) / 1000 <= 1800;
  };

const variants: readonly (readonly [string, (s: LabelledSeries) => Verdict, number?])[] =
  process.env['SET'] === 'tune'
    ? [
        ['defaults', trigger({})],
        ['minConfidence 0.6', trigger({ minConfidence: 0.6 })],
        ['minConfidence 0.8', trigger({ minConfidence: 0.8 })],
        ['minHistory 12m', trigger({ minHistory: '12m' })],
        ['minHistory 15m', trigger({ minHistory: '15m' })],
      ]
    : [
        ['analyzer', analyzerVerdict],
        ['raw on trigger inputs', rawOnTriggerInputs],
        ['confirmation only', trigger({ minConfidence: 0, minHistory: '0s' })],
        ['+ minConfidence 0.7', trigger({ minHistory: '0s' })],
        ['defaults', trigger({})],
        [`defaults @${POLL_SECONDS} s`, trigger({}), POLL_SECONDS],
      ];

test('trigger guards', () => {
  const traces: EpisodeTrace[][] = variants.map(() => []);
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const tr = trajectory(SEED, i);
    variants.forEach(([, v, every], j) => traces[j]?.push(replay(tr, v(tr.series), every)));
  }
  console.log(`trajectories ${N} of seed ${SEED}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  variants.forEach(([name], j) => {
    const r = episodeReport(traces[j] ?? []);
    const [l5, l10] = r.leadRecall;
    console.log(
      `${name.padEnd(24)} warned ≥5 min ${l5?.warned}/${l5?.eligible}, ≥10 min ${l10?.warned}/${l10?.eligible}, median lead ${((r.medianLeadSeconds ?? 0) / 60).toFixed(1)} min, ` +
        `false alarms ${r.falseAlarms} (${r.falseAlarmsPerSeriesHour.toFixed(3)}/series-hour), healthy with any ${(100 * r.healthyWithAlarm).toFixed(1)}%, alarmed > 30 min early ${r.alarmedBeforeHorizon}`,
    );
  });
});
