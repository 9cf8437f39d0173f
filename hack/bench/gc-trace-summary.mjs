#!/usr/bin/env node
// Counts the garbage collections of a `node --trace-gc` log within a time window: how many of each kind, their
// main-thread pause, and what they freed. The benchmark writes the operator's output to .cache/bench/scale-*.log;
// run it with BENCH_NODE_FLAGS=--trace-gc and pass the quiet window (quiet.windowSinceSpawnSeconds in its JSON).
//   node_modules/.bin/node hack/bench/gc-trace-summary.mjs LOG [FROM_SECONDS TO_SECONDS]
import { readFileSync } from 'node:fs';

const [file, from = '0', to = 'Infinity'] = process.argv.slice(2);
if (!file) {
  console.error('usage: gc-trace-summary.mjs LOG [FROM_SECONDS TO_SECONDS]');
  process.exit(2);
}
const kinds = {};
// "[pid:0x…]   51678 ms: Mark-Compact 147.3 (165.5) -> 111.0 (184.9) MB, pooled: 0 MB, 12.30 / 0.00 ms …"
const line = /\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Sweep)[^,]*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;
for (const text of readFileSync(file, 'utf8').split('\n')) {
  const m = line.exec(text);
  if (!m) continue;
  const seconds = Number(m[1]) / 1000;
  if (seconds < Number(from) || seconds > Number(to)) continue;
  const k = (kinds[m[2]] ??= { count: 0, pauseMs: 0, freedMB: 0 });
  k.count++;
  k.pauseMs += Number(m[7]);
  k.freedMB += Number(m[3]) - Number(m[5]);
}
for (const [kind, k] of Object.entries(kinds)) console.log(`${kind}: ${k.count}, main-thread pause ${k.pauseMs.toFixed(0)} ms, freed ${k.freedMB.toFixed(0)} MB`);
