#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and the project's
// functions with the most inclusive time (their own plus everything they call).
//   node_modules/.bin/node hack/bench/cpuprofile-summary.mjs .cache/bench/prof/<dir>/<file>.cpuprofile [top=25] [from to]
// from/to: only the samples between these seconds since the profile started (the bench's quiet window is
// quiet.windowSinceSpawnSeconds in its JSON).
import { readFileSync } from 'node:fs';

const [file, topArg, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-summary.mjs FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// Self time per node from the samples and their time deltas (µs).
const self = new Map();
const fromUs = fromArg === undefined ? -Infinity : Number(fromArg) * 1e6;
const toUs = toArg === undefined ? Infinity : Number(toArg) * 1e6;
let elapsed = 0;
for (let i = 0; i < prof.samples.length; i++) {
  elapsed += prof.timeDeltas[i] ?? 0;
  if (elapsed < fromUs || elapsed > toUs) continue;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const name = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
};
const selfByName = new Map();
for (const [id, t] of self) {
  const k = name(byId.get(id));
  selfByName.set(k, (selfByName.get(k) ?? 0) + t);
}
// Inclusive time per function name, counted once per sample stack (recursion does not double count).
const incl = new Map();
for (const [id, t] of self) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = name(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
const pct = (t) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1e6).toFixed(2).padStart(7)} s`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time:');
for (const [k, t] of [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log('\ninclusive time (the operator\'s own code, dist/):');
for (const [k, t] of [...incl].filter(([k]) => k.includes(' dist/')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
