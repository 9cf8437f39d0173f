/**
 * Cost benchmark of the analyzer (not a test; `npm test` never runs it):
 *
 *   npm run bench:analyzer
 *
 * 1 000 series of 2 hours at 15 s (480 samples each, a mix of leaks, GC sawtooths, oscillations, steps and noisy
 * flat series built from a fixed seed) are assessed in one thread, five passes after a warm-up pass; the figure is
 * assessments per second of the median pass. JavaScript runs on one core here (V8's garbage collector may use a
 * helper thread). Results: bench/results/analyzer-bench.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { assessSeries } from '../../src/analysis/assess.js';
import type { SeriesInput } from '../../src/analysis/types.js';
import { createRng } from './prng.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERIES = 1000;
const SAMPLES = 480;
const INTERVAL_MS = 15_000;
const PASSES = 5;
const NOW = 1_748_736_000_000;

function buildSeries(i: number): SeriesInput {
  const rng = createRng(1000 + i);
  const limit = 512;
  const kind = i % 5;
  const base = rng.uniform(0.2, 0.5) * limit;
  const noise = rng.uniform(0.005, 0.03) * limit;
  const period = rng.uniform(120, 900);
  const samples = [];
  let e = 0;
  for (let k = 0; k < SAMPLES; k++) {
    const t = (k - SAMPLES + 1) * 15;
    e = 0.6 * e + 0.8 * noise * rng.normal();
    let v: number;
    switch (kind) {
      case 0: // linear leak
        v = base + (0.3 * limit * (k / SAMPLES));
        break;
      case 1: // GC sawtooth over a slow leak
        v = base + 0.1 * limit * (k / SAMPLES) + 0.15 * limit * (((t % period) + period) % period) / period;
        break;
      case 2: // oscillation
        v = base + 0.1 * limit * Math.sin((2 * Math.PI * t) / period);
        break;
      case 3: // step
        v = base + (k > SAMPLES * 0.7 ? 0.15 * limit : 0);
        break;
      default: // flat
        v = base;
    }
    samples.push({ at: NOW + t * 1000 - rng.uniform(0, 2000), value: Math.max(0, v + e) });
  }
  return { samples, kind: 'memory', limit, now: NOW, unit: 'MiB' };
}

test('analyzer cost', () => {
  const inputs = Array.from({ length: SERIES }, (_, i) => buildSeries(i));
  let sink = 0;
  for (const input of inputs) sink += assessSeries(input).confidence;
  const rates: number[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    const t0 = performance.now();
    for (const input of inputs) sink += assessSeries(input).confidence;
    rates.push(SERIES / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] as number;
  const perAssessmentMs = 1000 / median;
  console.log(`${SERIES} series × ${SAMPLES} samples (2 h at 15 s), ${PASSES} passes after a warm-up`);
  console.log(`assessments per second (one thread): median ${median.toFixed(0)}, min ${(rates[0] as number).toFixed(0)}, max ${(rates[rates.length - 1] as number).toFixed(0)}`);
  console.log(`${perAssessmentMs.toFixed(2)} ms per assessment (checksum ${sink.toFixed(3)}); load average ${(os.loadavg()[0] ?? 0).toFixed(2)} on ${os.cpus().length} cores`);
  const out = {
    generatedBy: 'npm run bench:analyzer (hack/eval/analyzer-bench.ts)',
    series: SERIES,
    samplesPerSeries: SAMPLES,
    intervalSeconds: INTERVAL_MS / 1000,
    passes: PASSES,
    assessmentsPerSecond: { median: Math.round(median), min: Math.round(rates[0] as number), max: Math.round(rates[rates.length - 1] as number) },
    msPerAssessment: Number(perAssessmentMs.toFixed(3)),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverage1m: Number((os.loadavg()[0] ?? 0).toFixed(2)) },
  };
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/analyzer-bench.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('wrote bench/results/analyzer-bench.json');
});
