import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';
import { createProbeHandler, startHealthServer, type HealthServer, type ProbeReport } from './health-server.js';

describe('createProbeHandler (in memory)', () => {
  const metrics = createMetrics();
  metrics.leader.set(1);
  let ready: ProbeReport = { ok: true };
  const handle = createProbeHandler({ readiness: () => ready, registry: metrics.registry });

  it('answers /healthz with 200 by default', async () => {
    const res = await handle({ method: 'GET', url: '/healthz' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('answers /readyz from the readiness callback, 503 with the failing checks when not ready', async () => {
    ready = { ok: false, checks: { 'informer:pods': { ok: false, message: 'not synced' }, manager: { ok: true } } };
    const res = await handle({ method: 'GET', url: '/readyz?verbose' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ status: 'unavailable', checks: ready.checks });
    ready = { ok: true };
    expect((await handle({ method: 'GET', url: '/readyz' })).status).toBe(200);
  });

  it('treats a throwing readiness callback as not ready', async () => {
    const h = createProbeHandler({
      readiness: () => {
        throw new Error('cache gone');
      },
    });
    const res = await h({ method: 'GET', url: '/readyz' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ status: 'unavailable', error: 'cache gone' });
  });

  it('serves the registry on /metrics in Prometheus text format', async () => {
    const res = await handle({ method: 'GET', url: '/metrics' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('kubeskippy_leader 1');
  });

  it('returns 404 for unknown paths and for /metrics without a registry, 405 for other methods', async () => {
    expect((await handle({ method: 'GET', url: '/nope' })).status).toBe(404);
    expect((await createProbeHandler({ readiness: () => ({ ok: true }) })({ method: 'GET', url: '/metrics' })).status).toBe(404);
    const post = await handle({ method: 'POST', url: '/readyz' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });
});

describe('startHealthServer (real socket)', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function get(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('binds to 127.0.0.1 on an ephemeral port by default and serves the probes', async () => {
    const metrics = createMetrics();
    server = await startHealthServer({ readiness: () => ({ ok: true }), registry: metrics.registry });
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await get(`${server.url}/healthz`)).toEqual({ status: 200, body: '{"status":"ok"}\n' });
    expect((await get(`${server.url}/metrics`)).body).toContain('kubeskippy_workqueue_depth');
    expect(await get(`${server.url}/readyz`, 'HEAD')).toEqual({ status: 200, body: '' });
  });

  it('rejects when the port is taken, and close is idempotent', async () => {
    server = await startHealthServer({ readiness: () => ({ ok: true }) });
    await expect(startHealthServer({ readiness: () => ({ ok: true }), port: server.port })).rejects.toThrow(/EADDRINUSE/);
    await Promise.all([server.close(), server.close()]);
    await expect(get(`${server.url}/healthz`)).rejects.toThrow();
  });
});
