/**
 * Fits the analyzer's calibration and writes it to src/analysis/calibration-table.ts (committed).
 *
 *   npm run eval:calibrate
 *
 * Generates the CALIBRATION labelled set (hack/eval/seeds.ts — a different seed from the evaluation set), assesses
 * every series with an identity calibration, and fits one isotonic regression (pool-adjacent-violators, blocks of
 * at least 15 series) of the label on the raw probability per calibration group, and chooses the decision threshold:
 * the lowest calibrated probability whose false-positive rate on this set stays within 2.5% — and, what the analyzer
 * decides by, one threshold on the raw probability per group, allocated greedily across the groups for the same
 * false-positive budget (see {@link rawThresholdsFor}). Rerun it whenever the analyzer's models change; then rerun
 * `npm run eval:analyzer`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { calibrateCurve, fitIsotonic } from '../../src/analysis/calibration.js';
import type { CalibrationGroup, CalibrationTable } from '../../src/analysis/types.js';
import { generateSet } from './generator.js';
import { scoreAnalyzer } from './run.js';
import { SEEDS, SET_SIZES } from './seeds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const IDENTITY: CalibrationTable = { source: 'identity', curves: { trend: { x: [], y: [] }, curve: { x: [], y: [] }, cycle: { x: [], y: [] }, level: { x: [], y: [] }, short: { x: [], y: [] } }, decisionThreshold: 0.5, intervalScale: 1 };
/**
 * The false-positive rate the operating point is chosen for on the calibration set: below the 3% target, so that
 * a different set (the evaluation's, production's) has room to come out a little higher.
 */
const FPR_BUDGET = 0.025;
/** Series per isotonic block, at least. */
const MIN_BLOCK = 15;
const GROUPS: readonly CalibrationGroup[] = ['trend', 'curve', 'cycle', 'level', 'short'];

/**
 * Per-group thresholds on the raw probability: within each group, series in descending raw probability are taken
 * in steps of at least MIN_BLOCK (ties kept together); at each round the step with the most breaches per false
 * positive among all groups is taken, as long as the false positives of all groups together stay within the
 * budget. With perfectly calibrated probabilities this is the common threshold; it differs where the isotonic fit
 * pooled a group's top (a level series at raw 0.9 and one at 0.6 got one calibrated value) or where a group's best
 * forecasts are wrong too often to be worth their false positives.
 */
interface RawRow {
  readonly group: CalibrationGroup;
  readonly raw: number;
  readonly breach: boolean;
  /** Already at or over the limit: always a breach verdict. */
  readonly over: boolean;
}

function rawThresholdsFor(rows: readonly RawRow[], budget: number): Record<CalibrationGroup, number> {
  const negatives = rows.filter((r) => !r.breach).length;
  const sorted = Object.fromEntries(GROUPS.map((g) => [g, rows.filter((r) => r.group === g && !r.over).sort((a, b) => b.raw - a.raw)])) as unknown as Record<CalibrationGroup, RawRow[]>;
  const taken = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<CalibrationGroup, number>;
  const thresholds = Object.fromEntries(GROUPS.map((g) => [g, 1.001])) as Record<CalibrationGroup, number>;
  let fpUsed = rows.filter((r) => r.over && !r.breach).length;
  for (;;) {
    let best: { g: CalibrationGroup; k: number; ratio: number; fp: number } | undefined;
    for (const g of GROUPS) {
      const s = sorted[g];
      let k = Math.min(s.length, taken[g] + MIN_BLOCK);
      while (k < s.length && k > 0 && (s[k] as RawRow).raw === (s[k - 1] as RawRow).raw) k++;
      if (k === taken[g]) continue;
      const step = s.slice(taken[g], k);
      const tp = step.filter((r) => r.breach).length;
      const fp = step.length - tp;
      if (fpUsed + fp > budget * negatives) continue;
      const ratio = tp / (fp + 0.5);
      if (best === undefined || ratio > best.ratio) best = { g, k, ratio, fp };
    }
    if (best === undefined) break;
    const s = sorted[best.g];
    taken[best.g] = best.k;
    fpUsed += best.fp;
    const lastIn = (s[best.k - 1] as RawRow).raw;
    const firstOut = s[best.k]?.raw ?? 0;
    thresholds[best.g] = Number(((lastIn + firstOut) / 2).toFixed(5));
  }
  return thresholds;
}

test('fit the calibration', () => {
  const set = generateSet(SEEDS.calibration, SET_SIZES.calibration);
  const { assessments } = scoreAnalyzer(set, IDENTITY);
  const curves = {} as Record<CalibrationGroup, { x: number[]; y: number[] }>;
  for (const g of GROUPS) {
    const idx = assessments.map((a, i) => (a.calibrationGroup === g ? i : -1)).filter((i) => i >= 0);
    const fit = fitIsotonic(
      idx.map((i) => assessments[i]?.rawProbability ?? 0),
      idx.map((i) => (set[i]?.truth.willBreach === true ? 1 : 0)),
      MIN_BLOCK,
    );
    curves[g] = { x: fit.x.map((v) => Number(v.toFixed(5))), y: fit.y.map((v) => Number(v.toFixed(4))) };
    console.log(`${g}: ${idx.length} series, ${fit.x.length} points`);
    for (let i = 0; i < fit.x.length; i++) console.log(`  raw ${(fit.x[i] as number).toFixed(3)} → ${(fit.y[i] as number).toFixed(3)}`);
  }
  // The operating point: the lowest calibrated probability whose false-positive rate on this set is within budget.
  const probs = assessments.map((a) => (a.rawProbability >= 1 && a.secondsToLimit === 0 ? 1 : calibrateCurve(curves[a.calibrationGroup], a.rawProbability)));
  const negatives = set.filter((s) => !s.truth.willBreach).length;
  const positives = set.length - negatives;
  let decisionThreshold = 0.5;
  for (let th = 0.99; th >= 0.05; th -= 0.005) {
    const fp = set.filter((s, i) => !s.truth.willBreach && (probs[i] as number) >= th).length;
    if (fp / negatives > FPR_BUDGET) break;
    decisionThreshold = Number(th.toFixed(3));
  }
  // The operating curve around the choice, for the record.
  for (const th of [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]) {
    const tpAt = set.filter((s, i) => s.truth.willBreach && (probs[i] as number) >= th).length;
    const fpAt = set.filter((s, i) => !s.truth.willBreach && (probs[i] as number) >= th).length;
    console.log(`  at ${th}: recall ${(tpAt / positives).toFixed(3)}, false-positive rate ${(fpAt / negatives).toFixed(3)}`);
  }
  const tp = set.filter((s, i) => s.truth.willBreach && (probs[i] as number) >= decisionThreshold).length;
  const fp = set.filter((s, i) => !s.truth.willBreach && (probs[i] as number) >= decisionThreshold).length;
  console.log(`decision threshold ${decisionThreshold}: recall ${(tp / positives).toFixed(3)}, false-positive rate ${(fp / negatives).toFixed(3)} on the calibration set`);
  const rawThresholds = rawThresholdsFor(
    assessments.map((a, i) => ({ group: a.calibrationGroup, raw: a.rawProbability, breach: set[i]?.truth.willBreach === true, over: a.rawProbability >= 1 && a.secondsToLimit === 0 })),
    FPR_BUDGET,
  );
  const decide = (i: number): boolean => {
    const a = assessments[i];
    return a !== undefined && ((a.rawProbability >= 1 && a.secondsToLimit === 0) || a.rawProbability >= rawThresholds[a.calibrationGroup]);
  };
  const tpG = set.filter((s, i) => s.truth.willBreach && decide(i)).length;
  const fpG = set.filter((s, i) => !s.truth.willBreach && decide(i)).length;
  console.log(`per-group raw thresholds ${JSON.stringify(rawThresholds)}: recall ${(tpG / positives).toFixed(3)}, false-positive rate ${(fpG / negatives).toFixed(3)} on the calibration set`);
  // The interval scale: how far, in units of its own half-width (log scale), the true crossing time lies from the
  // median; its 80th percentile makes the reported interval hold the truth 80% of the time.
  const distances: number[] = [];
  assessments.forEach((a, i) => {
    const truth = set[i]?.truth.secondsToLimit ?? null;
    const iv = a.interval;
    if (truth === null || a.secondsToLimit === null || iv === null || a.secondsToLimit <= 0 || truth <= 0) return;
    const m = a.secondsToLimit;
    if (truth < m) distances.push(iv.low > 0 && iv.low < m ? Math.log(m / truth) / Math.log(m / iv.low) : Infinity);
    else distances.push(iv.high !== null && iv.high > m ? Math.log(truth / m) / Math.log(iv.high / m) : truth === m ? 0 : Infinity);
  });
  distances.sort((a, b) => a - b);
  const intervalScale = Number(Math.max(1, distances[Math.floor(0.8 * (distances.length - 1))] ?? 1).toFixed(3));
  console.log(`interval scale ${intervalScale} (${distances.length} breaching series with a forecast time)`);
  const source = `hack/eval/fit-calibration.ts: isotonic per group on ${set.length} series of seed ${SEEDS.calibration}; thresholds (common calibrated, and raw per group) for a false-positive rate ≤ ${FPR_BUDGET}`;
  const text = `// Generated by \`npm run eval:calibrate\` (hack/eval/fit-calibration.ts). Do not edit: rerun the script after any change
// to the analyzer's models. Fitted on the calibration seed, never on the evaluation seed (hack/eval/seeds.ts).
import type { CalibrationTable } from './types.js';

/** The committed calibration: raw model probability → observed frequency of a breach, per pattern group. */
export const CALIBRATION: CalibrationTable = ${JSON.stringify({ source, curves, decisionThreshold, rawThresholds, intervalScale }, null, 2).replace(/"(\w+)":/g, '$1:').replace(/"/g, "'")};
`;
  writeFileSync(path.join(root, 'src/analysis/calibration-table.ts'), text);
  console.log('wrote src/analysis/calibration-table.ts');
});
