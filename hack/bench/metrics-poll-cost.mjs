#!/usr/bin/env node
// What one metrics.k8s.io list of every pod costs this process in CPU, read two ways over the same pooled
// connection: through `fetch` as client-node's Metrics reads it (gzip asked for, the body through web streams), and
// with undici's `request` as the operator's PodMetricsClient reads it (src/k8s/json-get.ts: no Accept-Encoding, the
// body read whole). Alternates the two ROUNDS times each after one warm-up call of each, and prints the mean CPU
// (user + system) of a call and the items listed. Needs the local cluster (`npm run cluster:up`) with pods in it.
// NAMESPACE: list one namespace instead of the whole cluster (the poll's per-namespace mode).
//   node_modules/.bin/node hack/bench/metrics-poll-cost.mjs [ROUNDS=8] [NAMESPACE]
import * as k8s from '@kubernetes/client-node';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch } from 'undici';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rounds = Number(process.argv[2] ?? 8);
const namespace = process.argv[3];
const kc = new k8s.KubeConfig();
kc.loadFromFile(process.env['KUBECONFIG_PATH'] ?? path.join(root, '.cluster/kubeconfig'));
const cluster = kc.getCurrentCluster();
if (!cluster) throw new Error('no current cluster in the kubeconfig');
const url = new URL(`${cluster.server}/apis/metrics.k8s.io/v1beta1${namespace ? `/namespaces/${namespace}` : ''}/pods`);
const ctx = new k8s.RequestContext(url.toString(), k8s.HttpMethod.GET);
await kc.applySecurityAuthentication(ctx);
const dispatcher = ctx.getDispatcher();
const headers = ctx.getHeaders();

const ways = {
  // What client-node's Metrics.getPodMetrics does (metrics.js): fetch with the context's dispatcher, then json().
  fetch: async () => (await fetch(url, { method: 'GET', headers, dispatcher })).json(),
  // What json-get.ts does: request on the same dispatcher, the body as text, JSON.parse.
  request: async () => {
    const { body } = await dispatcher.request({ origin: url.origin, path: url.pathname, method: 'GET', headers: { ...headers, accept: 'application/json' } });
    return JSON.parse(await body.text());
  },
};
for (const call of Object.values(ways)) await call();
const cpuMs = Object.fromEntries(Object.keys(ways).map((k) => [k, 0]));
let items = 0;
for (let i = 0; i < rounds; i++) {
  for (const [name, call] of Object.entries(ways)) {
    const before = process.cpuUsage();
    const list = await call();
    const used = process.cpuUsage(before);
    cpuMs[name] += (used.user + used.system) / 1000;
    items = list.items.length;
  }
}
console.log(`${items} pod metrics a list; CPU of one list, mean of ${rounds}:`);
for (const [name, ms] of Object.entries(cpuMs)) console.log(`  ${name.padEnd(8)} ${(ms / rounds).toFixed(1)} ms`);
await dispatcher.close();
