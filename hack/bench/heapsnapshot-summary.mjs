#!/usr/bin/env node
// Summarises a V8 .heapsnapshot: self size by node type and constructor/name, and the retained size of the largest
// JS Maps/arrays found under a few named roots would need a dominator tree; this stays with self sizes, which is
// enough to tell strings from objects from typed arrays.
//   node_modules/.bin/node --max-old-space-size=8000 hack/bench/heapsnapshot-summary.mjs FILE.heapsnapshot [top=30]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: heapsnapshot-summary.mjs FILE.heapsnapshot [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');
const nodes = snap.nodes;
const strings = snap.strings;
const by = new Map();
let total = 0;
for (let i = 0; i < nodes.length; i += width) {
  const type = types[nodes[i + iType]];
  let name = strings[nodes[i + iName]];
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(strings)';
  else if (type === 'number') name = '(heap numbers)';
  else if (type === 'code') name = '(code)';
  else if (type === 'hidden') name = `(hidden) ${name}`.slice(0, 60);
  else if (name.length > 60) name = `${name.slice(0, 57)}...`;
  const key = `${type} ${name}`;
  const size = nodes[i + iSize];
  total += size;
  const e = by.get(key) ?? { size: 0, count: 0 };
  e.size += size;
  e.count++;
  by.set(key, e);
}
console.log(`${file}: ${(total / 2 ** 20).toFixed(1)} MiB self size in ${nodes.length / width} nodes`);
for (const [k, e] of [...by].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(`${(e.size / 2 ** 20).toFixed(1).padStart(8)} MiB  ${String(e.count).padStart(9)}  ${k}`);
}
