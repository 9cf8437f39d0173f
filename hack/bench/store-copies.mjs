#!/usr/bin/env node
// What the series store's cached whole-series copies weigh when a predictive or AI-decided policy reads every series
// of every target it selects: 5 000 pods, two metrics, an hour of 15-s samples (240 a series), then three passes
// reading each target's two series whole (as such a policy's evaluation does). Prints the V8 heap held by the rings,
// by the rings plus the copies still cached after the passes, and the passes' time (a figure to compare runs by, not
// a target). Needs `npm run build` (reads dist/).
//   node_modules/.bin/node --expose-gc hack/bench/store-copies.mjs
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { SeriesStore } = await import(pathToFileURL(path.join(root, 'dist/metrics/series-store.js')).href);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const store = new SeriesStore({});
const start = Date.UTC(2026, 0, 1);
const targets = Array.from({ length: 5000 }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', namespace: `ns-${i % 100}`, name: `pod-${i}-abcdefghij` }));
const metrics = ['cpu_usage_percent', 'memory_usage_percent'];
// Fixed values (no randomness): the copies' size does not depend on them.
for (let k = 0; k < 240; k++) for (const t of targets) for (const m of metrics) store.recordSample(t, m, { at: start + k * 15_000, value: (k % 97) + 0.5 }, start + k * 15_000);
const heapMiB = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const rings = heapMiB();
const t0 = performance.now();
for (let pass = 0; pass < 3; pass++) for (const t of targets) store.observations(t, { metrics });
const passesMs = performance.now() - t0;
const withCopies = heapMiB();
console.log(
  JSON.stringify({
    ringsMiB: +rings.toFixed(1),
    withCopiesMiB: +withCopies.toFixed(1),
    copiesMiB: +(withCopies - rings).toFixed(1),
    ...(typeof store.snapshotSamples === 'function' ? { cachedCopySamples: store.snapshotSamples() } : {}),
    threePassesMs: Math.round(passesMs),
  }),
);
