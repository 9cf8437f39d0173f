#!/usr/bin/env node
// What a running operator allocates, by function — including the objects already collected, which a heap snapshot
// cannot show: the garbage that drives GC. Attaches to a Node process started with --inspect (the benchmark:
// BENCH_NODE_FLAGS="--inspect=127.0.0.1:9229"), samples its allocations for SECONDS with V8's sampling heap profiler
// and prints the largest allocators by self size and by the deepest frame of the operator's own code.
//   node_modules/.bin/node hack/bench/allocation-profile.mjs [PORT=9229] [SECONDS=60] [OUT=.cache/bench/alloc.heapprofile]
// OUT is the raw profile (Chrome DevTools opens it). Sizes are V8's estimate from one sample per 16 KiB allocated.
// ALLOC_SURVIVING=1 leaves out what the young generation's scavenges collected: what remains is what survived them —
// promoted to the old generation (whether a full collection freed it later or not) or still alive at the end. That
// is what grows the old generation between full collections, and so RSS; the default counts every allocation.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
/* global fetch, WebSocket -- Node's own (undici's), as in a browser */

const [port = '9229', seconds = '60', out = '.cache/bench/alloc.heapprofile'] = process.argv.slice(2);
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.addEventListener('open', resolve, { once: true });
  ws.addEventListener('error', reject, { once: true });
});
let lastId = 0;
const pending = new Map();
ws.addEventListener('message', (e) => {
  const msg = JSON.parse(String(e.data));
  if (msg.id !== undefined) pending.get(msg.id)?.(msg);
});
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++lastId;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send('HeapProfiler.enable');
const surviving = process.env['ALLOC_SURVIVING'] === '1';
await send('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !surviving });
await sleep(Number(seconds) * 1000);
const { result } = await send('HeapProfiler.stopSampling');
ws.close();
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result.profile));

const name = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*\/(dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
const own = (cf) => cf.url.includes('/dist/') && !cf.url.includes('node_modules');
const self = new Map();
const byOwnFrame = new Map();
const byOwnPath = new Map();
let total = 0;
const walk = (node, ownFrame, ownPath = []) => {
  const frame = own(node.callFrame) ? name(node.callFrame) : ownFrame;
  const path = own(node.callFrame) ? [...ownPath, node.callFrame.functionName || '(anonymous)'] : ownPath;
  const pathKey = path.slice(-4).join(' > ') || '(no frame of the operator)';
  byOwnPath.set(pathKey, (byOwnPath.get(pathKey) ?? 0) + node.selfSize);
  self.set(name(node.callFrame), (self.get(name(node.callFrame)) ?? 0) + node.selfSize);
  byOwnFrame.set(frame ?? '(no frame of the operator)', (byOwnFrame.get(frame ?? '(no frame of the operator)') ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child, frame, path);
};
walk(result.profile.head, undefined);
const mb = (n) => (n / 1e6).toFixed(1).padStart(7);
console.log(`${surviving ? 'surviving the young generation' : 'allocated'} in ${seconds} s: ${mb(total)} MB (raw profile: ${out})`);
console.log('\nby function (self):');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${mb(v)}  ${k}`);
console.log("\nby the deepest frame of the operator's own code:");
for (const [k, v] of [...byOwnFrame].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${mb(v)}  ${k}`);
console.log("\nby the operator's last four frames (caller > callee):");
for (const [k, v] of [...byOwnPath].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${mb(v)}  ${k}`);
