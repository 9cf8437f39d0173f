#!/usr/bin/env node
// Prints the results of the last `npm run test:faults` (test-artifacts/faults/results/*.json) as the Markdown table
// of docs/reliability.md: fault → injected, how many times → lost / duplicated / stuck → recovery.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '../../test-artifacts/faults/results');
if (!existsSync(dir)) {
  console.error(`no results in ${dir}: run npm run test:faults first`);
  process.exit(1);
}
const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');
console.log('| id | fault | injected | times | lost / duplicated / stuck | recovery |');
console.log('|---|---|---|---|---|---|');
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
  const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  console.log(`| ${cell(f.replace(/\.json$/, ''))} | ${cell(r.fault)} | ${cell(r.injected)} | ${r.times} | ${r.lost} / ${r.duplicated} / ${r.stuck} | ${cell(r.recovery)} |`);
}
