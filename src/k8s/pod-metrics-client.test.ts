import * as k8s from '@kubernetes/client-node';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toKubeError } from './errors.js';
import { PodMetricsClient } from './pod-metrics-client.js';

/** A metrics API stand-in on 127.0.0.1: answers each request with `answer`, and records what it was asked. */
async function serve(answer: (path: string) => { status: number; body: string } | 'hang'): Promise<{ server: Server; url: string; seen: { path: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const a = answer(req.url ?? '');
    if (a === 'hang') return;
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A KubeConfig for `server` with a bearer token (plain HTTP needs skipTLSVerify in client-node). */
function kubeConfig(server: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const list = (names: string[]): string =>
  JSON.stringify({
    kind: 'PodMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    items: names.map((name) => ({ metadata: { name, namespace: 'shop' }, timestamp: '2026-12-05T12:00:00Z', window: '15s', containers: [{ name: 'app', usage: { cpu: '5m', memory: '10Mi' } }] })),
  });

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  servers = [];
});

describe('PodMetricsClient', () => {
  it('lists one namespace or the cluster, authenticated, asking for an uncompressed body', async () => {
    const api = await serve(() => ({ status: 200, body: list(['a', 'b']) }));
    servers.push(api.server);
    const client = new PodMetricsClient(kubeConfig(api.url));
    expect((await client.getPodMetrics('shop')).items.map((p) => p.metadata.name)).toEqual(['a', 'b']);
    expect((await client.getPodMetrics()).items).toHaveLength(2);
    expect(api.seen.map((s) => s.path)).toEqual(['/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods', '/apis/metrics.k8s.io/v1beta1/pods']);
    for (const { headers } of api.seen) {
      expect(headers.authorization).toBe('Bearer secret-token');
      expect(headers['accept-encoding']).toBeUndefined();
      expect(headers.accept).toBe('application/json');
    }
  });

  it("rejects an HTTP error with the API server's Status, which errors.ts reads", async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'pods.metrics.k8s.io is forbidden: User "x" cannot list' };
    const api = await serve(() => ({ status: 403, body: JSON.stringify(status) }));
    servers.push(api.server);
    const e = await new PodMetricsClient(kubeConfig(api.url)).getPodMetrics().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(k8s.ApiException);
    expect(toKubeError(e).code).toBe('Forbidden');
    expect(toKubeError(e).message).toContain('pods.metrics.k8s.io is forbidden');
  });

  it('rejects a body that is not a PodMetricsList, and a server that stops answering, instead of waiting for ever', async () => {
    const api = await serve((path) => (path.includes('/namespaces/') ? { status: 200, body: '{"kind":"Status"}' } : 'hang'));
    servers.push(api.server);
    const client = new PodMetricsClient(kubeConfig(api.url), { timeoutMs: 200 });
    await expect(client.getPodMetrics('shop')).rejects.toThrow(/not a PodMetricsList/);
    const hung = await client.getPodMetrics().catch((err: unknown) => err);
    expect(toKubeError(hung).code).toBe('Unavailable');
    expect(toKubeError(hung).reason).toBe('UND_ERR_HEADERS_TIMEOUT');
  });
});
