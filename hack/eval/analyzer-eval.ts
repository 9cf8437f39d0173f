/**
 * Evaluation of the analyzer (not a test; `npm test` never runs it):
 *
 *   npm run eval:analyzer
 *
 * Generates the EVALUATION labelled set (hack/eval/seeds.ts; never used to fit anything), assesses every series
 * with the analyzer as committed (calibration included), with the baseline (the `predictive` trigger's line fit,
 * method linear: least squares over 15 min, R² ≥ 0.8) and with the operator's predictive trigger as a policy gets
 * it by default (the analyzer behind minConfidence, minHistory and a confirmation on the previous sample), and
 * prints, side by side: precision, recall, false-positive rate on the series that do not breach, median relative
 * error of the time to the limit, the reliability table and Brier score of the confidences, and accuracy per true
 * pattern. An oracle that knows the generator's process (oracle.ts)
 * is reported too: it bounds what any analyzer could reach on the same set. The results go to
 * bench/results/analyzer-eval.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { CALIBRATION } from '../../src/analysis/calibration-table.js';
import { ASSESS_EVERY_SECONDS, ASSESSED_SECONDS, MIN_DATA_SECONDS, POLL_SECONDS, runEpisodes, type EpisodeReport } from './episodes.js';
import { generateSet, type LabelledSeries } from './generator.js';
import { report, type Report, type Scored } from './metrics.js';
import { oracleProbabilities } from './oracle.js';
import { scoreAnalyzer, scoreBaseline, scoreOperator } from './run.js';
import { SEEDS, SET_SIZES } from './seeds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Futures the oracle averages over per series. */
const ORACLE_RUNS = 100;

const pct = (x: number | null): string => (x === null ? '   –  ' : `${(100 * x).toFixed(1).padStart(5)}%`);
const num = (x: number | null, d = 3): string => (x === null ? '–' : x.toFixed(d));

function summaryRows(named: readonly [string, Report][]): string[] {
  const head = `${'metric'.padEnd(34)}${named.map(([n]) => n.padStart(12)).join('')}`;
  const row = (label: string, f: (r: Report) => string): string => `${label.padEnd(34)}${named.map(([, r]) => f(r).padStart(12)).join('')}`;
  return [
    head,
    row('series (breach / no breach)', (r) => `${r.positives}/${r.negatives}`),
    row('precision', (r) => pct(r.precision)),
    row('recall', (r) => pct(r.recall)),
    row('false-positive rate (no breach)', (r) => pct(r.falsePositiveRate)),
    row('accuracy', (r) => pct(r.accuracy)),
    row('median time-to-limit error', (r) => pct(r.medianTtlRelativeError)),
    row('  (true positives with a time)', (r) => String(r.ttlErrorsCounted)),
    row('  the same, true time ≥ 5 min', (r) => pct(r.medianTtlRelativeErrorFrom5Min)),
    row('80% interval holds the true time', (r) => pct(r.intervalCoverage)),
    row('Brier score of the confidence', (r) => num(r.brier)),
  ];
}

function reliabilityRows(name: string, r: Report): string[] {
  const lines = [`reliability — ${name}: confidence bin, verdicts, mean confidence, share right`];
  for (const b of r.reliability) {
    lines.push(`  [${b.from.toFixed(2)}, ${b.to.toFixed(2)}${b.to >= 1 ? ']' : ')'}  ${String(b.count).padStart(5)}  ${num(b.meanConfidence).padStart(6)}  ${num(b.accuracy).padStart(6)}`);
  }
  return lines;
}

function perPatternRows(named: readonly [string, Report][]): string[] {
  const first = named[0]?.[1];
  if (first === undefined) return [];
  const lines = [`${'kind pattern'.padEnd(34)} n  brch${named.map(([n]) => `  ${`${n} acc`.padStart(13)} ${'recall'.padStart(7)} ${'FPR'.padStart(6)}`).join('')}`];
  for (const key of Object.keys(first.perPattern)) {
    const cells = named.map(([, r]) => {
      const p = r.perPattern[key];
      return p === undefined ? '' : `  ${pct(p.accuracy).padStart(13)} ${pct(p.recall).padStart(7)} ${pct(p.fpr).padStart(6)}`;
    });
    const p0 = first.perPattern[key];
    lines.push(`${key.padEnd(34)}${String(p0?.count ?? 0).padStart(3)} ${String(p0?.positives ?? 0).padStart(4)}${cells.join('')}`);
  }
  return lines;
}

function episodeRows(named: readonly [string, EpisodeReport][]): string[] {
  const row = (label: string, f: (r: EpisodeReport) => string): string => `${label.padEnd(52)}${named.map(([, r]) => f(r).padStart(12)).join('')}`;
  const first = named[0]?.[1];
  if (first === undefined) return [];
  return [
    `${'episodes'.padEnd(52)}${named.map(([n]) => n.padStart(12)).join('')}`,
    row('trajectories (breach within the run / never)', (r) => `${r.breaching}/${r.healthy}`),
    ...first.leadRecall.map((l, i) =>
      row(`warned ≥ ${l.leadSeconds / 60} min before the breach (of ${l.eligible} possible)`, (r) => {
        const x = r.leadRecall[i];
        return x === undefined ? '–' : `${pct(x.recall).trim()} (${x.warned})`;
      }),
    ),
    row(`warned at all within 30 min before (of all ${first.breaching})`, (r) => `${pct(r.breaching === 0 ? null : r.warnedWithinHorizon / r.breaching).trim()} (${r.warnedWithinHorizon})`),
    row('median lead time (earliest alarm within 30 min)', (r) => (r.medianLeadSeconds === null ? '–' : `${(r.medianLeadSeconds / 60).toFixed(1)} min`)),
    row('first alarm while below 50% of the limit', (r) => pct(r.firstAlarmBelowHalf).trim()),
    row('breaching, but alarmed > 30 min before it', (r) => String(r.alarmedBeforeHorizon)),
    row('healthy: false alarms per trajectory', (r) => num(r.falseAlarmsPerTrajectory, 2)),
    row('healthy: false alarms per series-hour', (r) => num(r.falseAlarmsPerSeriesHour, 3)),
    row('healthy: share with any alarm', (r) => pct(r.healthyWithAlarm).trim()),
  ];
}

function withoutShortWindows(scored: readonly Scored[]): Scored[] {
  return scored.filter((s) => s.series.pattern !== 'insufficient-data');
}

test('analyzer evaluation', () => {
  const started = performance.now();
  const set: LabelledSeries[] = generateSet(SEEDS.evaluation, SET_SIZES.evaluation);
  const ours = scoreAnalyzer(set);
  const baseline = scoreBaseline(set);
  const operator = scoreOperator(set);
  const oracleP = oracleProbabilities(SEEDS.evaluation, set, ORACLE_RUNS);
  const oracle: Scored[] = set.map((series, i) => {
    const p = oracleP[i] as number;
    return { series, willBreach: p >= 0.5, secondsToLimit: null, confidence: p >= 0.5 ? p : 1 - p, pattern: series.pattern };
  });
  const rOurs = report(ours.scored);
  const rBase = report(baseline);
  const rOperator = report(operator);
  const rOracle = report(oracle);
  const named: [string, Report][] = [
    ['analyzer', rOurs],
    ['baseline', rBase],
    ['operator', rOperator],
    ['oracle', rOracle],
  ];
  const namedLong: [string, Report][] = [
    ['analyzer', report(withoutShortWindows(ours.scored))],
    ['baseline', report(withoutShortWindows(baseline))],
    ['operator', report(withoutShortWindows(operator))],
    ['oracle', report(withoutShortWindows(oracle))],
  ];
  const positives = set.filter((s) => s.truth.willBreach).length;
  // The operating curve: what other decision thresholds would give on this set (for choosing an operating point
  // later; the committed threshold was chosen on the calibration set).
  const negatives = set.length - positives;
  const operatingCurve = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7].map((threshold) => {
    let tp = 0;
    let fp = 0;
    ours.assessments.forEach((a, i) => {
      if (a.breachProbability < threshold) return;
      if (set[i]?.truth.willBreach === true) tp++;
      else fp++;
    });
    return { threshold, recall: tp / positives, falsePositiveRate: fp / negatives };
  });
  const episodes = runEpisodes(SEEDS.episodes, SET_SIZES.episodes);
  const namedEpisodes: [string, EpisodeReport][] = [
    ['analyzer', episodes.analyzer],
    ['baseline', episodes.baseline],
    ['operator', episodes.operator],
    ['op. @15 s', episodes.operatorEveryPoll],
  ];
  const byPattern = (f: (r: EpisodeReport) => Readonly<Record<string, number>>): string =>
    namedEpisodes.map(([n, r]) => `${n}: ${Object.entries(f(r)).sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}`).join('; ');
  const lines = [
    `Analyzer evaluation: ${set.length} labelled series, seed ${SEEDS.evaluation} (calibration fitted on seed ${SEEDS.calibration}), horizon 30 min`,
    `${positives} reach the limit within 30 min, ${set.length - positives} do not; decision threshold ${CALIBRATION.decisionThreshold} (calibrated probability)`,
    '',
    ...summaryRows(named),
    '',
    'the same without the generator\'s short windows (2–6 min of data, pattern insufficient-data):',
    ...summaryRows(namedLong),
    '',
    `operating curve (threshold on the calibrated probability → recall, FPR): ${operatingCurve.map((o) => `${o.threshold} → ${pct(o.recall).trim()}, ${pct(o.falsePositiveRate).trim()}`).join('; ')}`,
    '',
    ...reliabilityRows('analyzer', rOurs),
    ...reliabilityRows('baseline (R² as its confidence)', rBase),
    '',
    'per true pattern (accuracy of the verdict; recall on those that breach; FPR on those that do not):',
    ...perPatternRows([
      ['analyzer', rOurs],
      ['baseline', rBase],
      ['operator', rOperator],
    ]),
    '',
    `episodes: ${SET_SIZES.episodes} trajectories of seed ${SEEDS.episodes} (same generator and mix), each ${ASSESSED_SECONDS / 3600} h assessed and 30 min more simulated;`,
    `re-assessed every ${ASSESS_EVERY_SECONDS} s (every 4th poll of 15 s) from ${MIN_DATA_SECONDS / 60} min of data until the first breach; an alarm = willBreach`,
    `(operator = the predictive trigger with its defaults: analyzer, minConfidence 0.7, minHistory 8m, confirmed on the previous sample, 2-min staleness; an alarm = firing;`,
    ` op. @15 s = the same trigger at every ${POLL_SECONDS}-s poll, as the operator runs it)`,
    ...episodeRows(namedEpisodes),
    `missed breaches (no alarm 5–30 min before), by true pattern — ${byPattern((r) => r.missedByPattern)}`,
    `false alarm episodes on healthy trajectories, by true pattern — ${byPattern((r) => r.falseAlarmsByPattern)}`,
    `operator trigger, results over all ticks: ${Object.entries(episodes.operatorTicks).sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`).join(', ')}`,
    '',
    `oracle: knows the generator's process and the noise's state at now, not the future's randomness (${ORACLE_RUNS} futures per series)`,
    `took ${((performance.now() - started) / 1000).toFixed(1)} s`,
  ];
  for (const l of lines) console.log(l);

  const patternAgreement: Record<string, Record<string, number>> = {};
  ours.scored.forEach((s) => {
    const key = `${s.series.kind} ${s.series.pattern}`;
    const row = (patternAgreement[key] ??= {});
    row[s.pattern] = (row[s.pattern] ?? 0) + 1;
  });
  const out = {
    generatedBy: 'npm run eval:analyzer (hack/eval/analyzer-eval.ts)',
    set: { seed: SEEDS.evaluation, series: set.length, positives, calibrationSeed: SEEDS.calibration, horizonSeconds: 1800 },
    decisionThreshold: CALIBRATION.decisionThreshold,
    calibrationSource: CALIBRATION.source,
    targets: { recall: 0.95, falsePositiveRate: 0.03, medianTtlRelativeError: 0.15 },
    analyzer: rOurs,
    baseline: rBase,
    operator: rOperator,
    oracle: { ...rOracle, runs: ORACLE_RUNS },
    withoutShortWindows: Object.fromEntries(namedLong),
    operatingCurve,
    episodes: {
      seed: SEEDS.episodes,
      trajectories: SET_SIZES.episodes,
      assessedSeconds: ASSESSED_SECONDS,
      assessEverySeconds: ASSESS_EVERY_SECONDS,
      minDataSeconds: MIN_DATA_SECONDS,
      analyzer: episodes.analyzer,
      baseline: episodes.baseline,
      operator: episodes.operator,
      operatorEveryPoll: { ...episodes.operatorEveryPoll, assessEverySeconds: POLL_SECONDS },
      operatorTicks: episodes.operatorTicks,
    },
    recognisedPatterns: patternAgreement,
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/analyzer-eval.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/analyzer-eval.json');
});
