#!/usr/bin/env node
// What each of the operator's large structures retains in a V8 .heapsnapshot: every informer's cache (its `cache`,
// `byNamespace` and `namespaceVersions` maps), the series store's entries, the event collector's counts, and the
// compiled code. Retained size of a group = the bytes reachable from the GC roots minus those still reachable when
// the group's objects are cut off (what freeing them would free), found by one traversal per group — no dominator
// tree needed for a handful of groups. Self sizes by type are heapsnapshot-summary.mjs's job.
//   node_modules/.bin/node --max-old-space-size=8000 hack/bench/heap-retained.mjs FILE.heapsnapshot
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: heap-retained.mjs FILE.heapsnapshot');
  process.exit(2);
}
const snap = JSON.parse(readFileSync(file, 'utf8'));
const meta = snap.snapshot.meta;
const nodeWidth = meta.node_fields.length;
const edgeWidth = meta.edge_fields.length;
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const iType = meta.node_fields.indexOf('type');
const iName = meta.node_fields.indexOf('name');
const iSize = meta.node_fields.indexOf('self_size');
const iEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const { nodes, edges, strings } = snap;
const count = nodes.length / nodeWidth;
const WEAK = edgeTypes.indexOf('weak');
const SHORTCUT = edgeTypes.indexOf('shortcut');
const ELEMENT = edgeTypes.indexOf('element');
const HIDDEN = edgeTypes.indexOf('hidden');

// First edge of each node (edges are laid out node by node).
const firstEdge = new Uint32Array(count + 1);
for (let n = 0, e = 0; n < count; n++) {
  firstEdge[n] = e;
  e += nodes[n * nodeWidth + iEdges] * edgeWidth;
  firstEdge[n + 1] = e;
}
const typeOf = (n) => nodeTypes[nodes[n * nodeWidth + iType]];
const nameOf = (n) => strings[nodes[n * nodeWidth + iName]];
const sizeOf = (n) => nodes[n * nodeWidth + iSize];
/** The named property edges of node n: [name, target node]. */
function* properties(n) {
  for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += edgeWidth) {
    const t = edges[e + eType];
    if (t === ELEMENT || t === HIDDEN || t === WEAK || t === SHORTCUT) continue;
    yield [strings[edges[e + eName]], edges[e + eTo] / nodeWidth];
  }
}
const property = (n, name) => {
  for (const [k, to] of properties(n)) if (k === name) return to;
  return undefined;
};
/** The value of a string property (e.g. an Informer's name). */
const stringProperty = (n, name) => {
  const to = property(n, name);
  return to !== undefined && typeOf(to).includes('string') ? nameOf(to) : undefined;
};

/** Bytes reachable from the root (node 0) without entering `blocked`. */
function reachable(blocked) {
  const seen = new Uint8Array(count);
  for (const b of blocked) seen[b] = 1;
  const stack = [0];
  seen[0] = 1;
  let bytes = 0;
  while (stack.length > 0) {
    const n = stack.pop();
    bytes += sizeOf(n);
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += edgeWidth) {
      const t = edges[e + eType];
      if (t === WEAK || t === SHORTCUT) continue;
      const to = edges[e + eTo] / nodeWidth;
      if (seen[to] === 0) {
        seen[to] = 1;
        stack.push(to);
      }
    }
  }
  return bytes;
}

const groups = new Map();
const add = (label, ...targets) => {
  const list = groups.get(label) ?? [];
  for (const t of targets) if (t !== undefined) list.push(t);
  groups.set(label, list);
};
const code = [];
for (let n = 0; n < count; n++) {
  const type = typeOf(n);
  if (type === 'code') code.push(n);
  if (type !== 'object') continue;
  const ctor = nameOf(n);
  if (ctor === 'Informer') {
    const label = `informer ${stringProperty(n, 'name') ?? '?'}`;
    add(label, property(n, 'cache'), property(n, 'byNamespace'), property(n, 'namespaceVersions'));
  } else if (ctor === 'SeriesStore') {
    add('series store', property(n, 'entries'));
  } else if (ctor === 'EventCollector') {
    add('event collector counts', property(n, 'lastCount'));
  }
}
const all = reachable([]);
const rows = [];
for (const [label, targets] of groups) {
  if (targets.length === 0) continue;
  rows.push([label, all - reachable(targets), targets.length]);
}
rows.sort((a, b) => b[1] - a[1]);
const mib = (b) => (b / 2 ** 20).toFixed(1).padStart(7);
console.log(`${file}: ${mib(all)} MiB reachable`);
for (const [label, bytes] of rows) console.log(`${mib(bytes)} MiB  ${label}`);
console.log(`${mib(code.reduce((s, n) => s + sizeOf(n), 0))} MiB  code (self size)`);
