/**
 * Fits the analyzer's calibration and writes it to src/analysis/calibration-table.ts (committed).
 *
 *   npm run eval:calibrate
 *
 * Generates the CALIBRATION labelled set (hack/eval/seeds.ts — a different seed from the evaluation set), assesses
 * every series with an identity calibration, and fits one isotonic regression (pool-adjacent-violators, blocks of
 * at least 15 series) of the label on the raw probability per calibration group, and chooses the decision threshold:
 * the lowest calibrated probability whose false-positive rate on this set stays within 2.5%. Rerun it whenever the analyzer's
 * models change; then rerun `npm run eval:analyzer`.
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
  const source = `hack/eval/fit-calibration.ts: isotonic per group on ${set.length} series of seed ${SEEDS.calibration}; threshold for a false-positive rate ≤ ${FPR_BUDGET}`;
  const text = `// Generated by \`npm run eval:calibrate\` (hack/eval/fit-calibration.ts). Do not edit: rerun the script after any change
// to the analyzer's models. Fitted on the calibration seed, never on the evaluation seed (hack/eval/seeds.ts).
import type { CalibrationTable } from './types.js';

/** The committed calibration: raw model probability → observed frequency of a breach, per pattern group. */
export const CALIBRATION: CalibrationTable = ${JSON.stringify({ source, curves, decisionThreshold, intervalScale }, null, 2).replace(/"(\w+)":/g, '$1:').replace(/"/g, "'")};
`;
  writeFileSync(path.join(root, 'src/analysis/calibration-table.ts'), text);
  console.log('wrote src/analysis/calibration-table.ts');
});
