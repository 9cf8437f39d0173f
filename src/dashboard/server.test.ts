import http from 'node:http';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { action, hp, settingsWith } from '../../test/support/dashboard.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock, flushMicrotasks } from '../runtime/clock.js';
import type { FeedSource } from './feed.js';
import {
  CONTENT_SECURITY_POLICY,
  createDashboardHandler,
  DashboardAssetsError,
  defaultStaticDir,
  hostNameOf,
  hostPolicy,
  isLoopbackHost,
  loadDashboardAssets,
  startDashboardServer,
  type DashboardAssets,
  type DashboardResponse,
  type DashboardServer,
} from './server.js';
import { buildCore, type DashboardView } from './view-model.js';

const view = (actions: HealingAction[] = []): DashboardView => ({
  ...buildCore({ now: 1, version: '1', leaderElection: false, leading: true, synced: true, settings: settingsWith(), policies: [hp('crashloop')], actions }),
  charts: [],
});

const fakeAssets: DashboardAssets = new Map([
  ['/', { body: Buffer.from('<!doctype html>'), contentType: 'text/html; charset=utf-8' }],
  ['/static/app.js', { body: Buffer.from('export {}'), contentType: 'text/javascript; charset=utf-8' }],
]);

function body(r: DashboardResponse): string {
  if (r.kind !== 'response') throw new Error('expected a complete response');
  return r.body.toString();
}

describe('createDashboardHandler', () => {
  const handler = createDashboardHandler({ assets: fakeAssets, view: () => view([action('a1')]) });

  const routes: { method: string; url: string; status: number | 'events'; type?: string }[] = [
    { method: 'GET', url: '/', status: 200, type: 'text/html; charset=utf-8' },
    { method: 'GET', url: '/index.html', status: 200, type: 'text/html; charset=utf-8' },
    { method: 'GET', url: '/static/app.js?v=1', status: 200, type: 'text/javascript; charset=utf-8' },
    { method: 'GET', url: '/api/view', status: 200, type: 'application/json; charset=utf-8' },
    { method: 'GET', url: '/api/policies', status: 200 },
    { method: 'GET', url: '/api/actions', status: 200 },
    { method: 'GET', url: '/api/safety', status: 200 },
    { method: 'GET', url: '/api/charts', status: 200 },
    { method: 'GET', url: '/api/events', status: 'events' },
    { method: 'GET', url: '/static/../../etc/passwd', status: 404 },
    { method: 'GET', url: '/static/missing.js', status: 404 },
    { method: 'GET', url: '/api/nope', status: 404 },
    { method: 'POST', url: '/api/view', status: 405 },
    { method: 'PUT', url: '/', status: 405 },
    { method: 'DELETE', url: '/api/actions', status: 405 },
    { method: 'HEAD', url: '/', status: 405 },
    { method: 'OPTIONS', url: '/api/events', status: 405 },
  ];
  it.each(routes)('$method $url → $status', ({ method, url, status, type }) => {
    const r = handler({ method, url });
    if (status === 'events') {
      expect(r.kind).toBe('events');
      expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      return;
    }
    expect(r.kind).toBe('response');
    if (r.kind !== 'response') return;
    expect(r.status).toBe(status);
    if (type) expect(r.headers['content-type']).toBe(type);
    if (status === 405) expect(r.headers['allow']).toBe('GET');
  });

  it('puts the strict CSP and no CORS header on every response', () => {
    for (const { method, url } of routes) {
      const r = handler({ method, url });
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(Object.keys(r.headers).some((h) => h.toLowerCase().startsWith('access-control-'))).toBe(false);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('serves the view and its parts as JSON, never cached', () => {
    const r = handler({ method: 'GET', url: '/api/actions' });
    expect(r.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(body(r))).toMatchObject({ generatedAt: 1, counts: { total: 1 }, actions: [{ key: 'shop/a1' }] });
    expect(JSON.parse(body(handler({ method: 'GET', url: '/api/safety' })))).toHaveProperty('safety.ruleBudget.limit', 30);
  });

  it('answers 500 with the reason when the view cannot be built', () => {
    const broken = createDashboardHandler({
      assets: fakeAssets,
      view: () => {
        throw new Error('cache exploded');
      },
    });
    const r = broken({ method: 'GET', url: '/api/view' });
    expect(r.kind === 'response' && r.status).toBe(500);
    expect(body(r)).toContain('cache exploded');
  });

  it('refuses a request naming a non-loopback host when bound to loopback (DNS rebinding)', () => {
    const guarded = createDashboardHandler({ assets: fakeAssets, view: () => view(), hostAllowed: hostPolicy('127.0.0.1') });
    expect(guarded({ method: 'GET', url: '/api/view', host: 'evil.example:8081' })).toMatchObject({ status: 403 });
    expect(guarded({ method: 'GET', url: '/api/view' })).toMatchObject({ status: 403 });
    for (const host of ['127.0.0.1:8081', 'localhost:8081', '[::1]:8081', 'LOCALHOST']) expect(guarded({ method: 'GET', url: '/api/view', host })).toMatchObject({ status: 200 });
  });
});

describe('host helpers', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['10.0.0.1', false],
    ['127.0.0.1.evil.example', false],
    ['', false],
  ])('isLoopbackHost(%s) is %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it.each([
    ['127.0.0.1:8081', '127.0.0.1'],
    ['[::1]:8081', '[::1]'],
    ['localhost', 'localhost'],
    [undefined, ''],
  ])('hostNameOf(%s) is %s', (header, want) => {
    expect(hostNameOf(header)).toBe(want);
  });

  it('answers any host when bound to a non-loopback address (a Service or port-forward names it)', () => {
    expect(hostPolicy('0.0.0.0')('kubeskippy-dashboard.kubeskippy-system.svc:8081')).toBe(true);
  });
});

describe('loadDashboardAssets', () => {
  it('loads the page, its modules and uPlot, and everything the page references is served', async () => {
    const assets = await loadDashboardAssets();
    const html = assets.get('/')?.body.toString() ?? '';
    const referenced = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    for (const [path, asset] of assets) {
      if (!asset.contentType.startsWith('text/javascript')) continue;
      for (const m of asset.body.toString().matchAll(/^import .* from '([^']+)';$/gm)) referenced.push(new URL(m[1] as string, `http://x${path}`).pathname);
    }
    expect(referenced).toEqual(expect.arrayContaining(['/static/app.js', '/static/style.css', '/vendor/uPlot.esm.js', '/vendor/uPlot.min.css', '/static/charts.js', '/static/format.js']));
    for (const ref of referenced) expect(assets.has(ref), ref).toBe(true);
    expect(assets.get('/vendor/uPlot.esm.js')?.body.toString()).toContain('export { uPlot as default }');
  });

  it('has no inline script or style in the page, which the CSP would block', async () => {
    const html = (await loadDashboardAssets()).get('/')?.body.toString() ?? '';
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle="|\son[a-z]+="/i);
  });

  it('finds static/ beside the module, or dashboard/static/ beside the bundle one folder up', () => {
    const here = new URL('./server.ts', import.meta.url).href;
    expect(defaultStaticDir(here).href).toBe(new URL('./static/', import.meta.url).href);
    // As in dist/kubeskippy.mjs: src/ plays dist/, and src/dashboard/static/ is the copy's place.
    const bundle = new URL('../kubeskippy.mjs', import.meta.url).href;
    expect(defaultStaticDir(bundle).href).toBe(new URL('./static/', import.meta.url).href);
  });

  it('fails naming the file when the static folder is missing (a build that did not copy it)', async () => {
    await expect(loadDashboardAssets(new URL('file:///nonexistent/static/'))).rejects.toThrow(DashboardAssetsError);
    await expect(loadDashboardAssets(new URL('file:///nonexistent/static/'))).rejects.toThrow(/index\.html/);
  });

  it('never sets untrusted text as markup in the page script', () => {
    const script = readFileSync(new URL('./static/app.js', import.meta.url), 'utf8') + readFileSync(new URL('./static/charts.js', import.meta.url), 'utf8');
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The real server on 127.0.0.1
// ---------------------------------------------------------------------------------------------------------------

class ListSource implements FeedSource {
  actions: HealingAction[] = [];
  private listener: (() => void) | undefined;
  constructor(private readonly clock: FakeClock) {}
  core() {
    return buildCore({ now: this.clock.now(), version: '1', leaderElection: false, leading: true, synced: true, settings: settingsWith(), policies: [hp('crashloop')], actions: this.actions });
  }
  charts() {
    return [];
  }
  watch(onChange: () => void) {
    this.listener = onChange;
    return () => (this.listener = undefined);
  }
  change() {
    this.listener?.();
  }
}

let server: DashboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function request(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens /api/events and collects what arrives; `until` resolves once `pred` holds on the text so far. */
function openStream(url: string): { text: () => string; until: (pred: (t: string) => boolean) => Promise<void>; close: () => void; status: Promise<number> } {
  let text = '';
  let waiters: { pred: (t: string) => boolean; resolve: () => void }[] = [];
  let req: http.ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = http.get(`${url}/api/events`, (res) => {
      resolve(res.statusCode ?? 0);
      res.on('data', (d: Buffer) => {
        text += d.toString();
        waiters = waiters.filter((w) => (w.pred(text) ? (w.resolve(), false) : true));
      });
    });
    req.on('error', (e) => (text === '' ? reject(e) : undefined));
  });
  return {
    text: () => text,
    until: (pred) => (pred(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve }))),
    close: () => req.destroy(),
    status,
  };
}

describe('startDashboardServer', () => {
  it('serves the page on loopback and refuses writes', async () => {
    const clock = new FakeClock();
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, clock, logger: silentLogger, source: new ListSource(clock) });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await request(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.body).toContain('<title>KubeSkippy</title>');
    expect((await request(`${server.url}/api/view`, 'POST')).status).toBe(405);
  });

  it('streams a snapshot, then a new HealingAction as it appears, and ends the stream on close', async () => {
    const clock = new FakeClock();
    const source = new ListSource(clock);
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, clock, logger: silentLogger, source, debounceMs: 100 });
    const stream = openStream(server.url);
    expect(await stream.status).toBe(200);
    await stream.until((t) => t.includes('event: snapshot'));
    expect(stream.text().startsWith('retry: 2000\n\n')).toBe(true);
    expect(server.streams()).toBe(1);
    source.actions = [action('live-1', { phase: 'Pending' })];
    source.change();
    await flushMicrotasks();
    await clock.advance(100);
    await stream.until((t) => t.includes('event: action\n'));
    expect(stream.text()).toMatch(/event: action\ndata: \{"key":"shop\/live-1"/);
    await server.close();
    server = undefined;
    stream.close();
  });

  it('refuses event streams beyond the limit with 503', async () => {
    const clock = new FakeClock();
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, clock, logger: silentLogger, source: new ListSource(clock), maxStreams: 1 });
    const first = openStream(server.url);
    await first.until((t) => t.includes('snapshot'));
    const second = openStream(server.url);
    expect(await second.status).toBe(503);
    first.close();
    second.close();
  });

  it('forgets a page that disconnects', async () => {
    const clock = new FakeClock();
    server = await startDashboardServer({ host: '127.0.0.1', port: 0, clock, logger: silentLogger, source: new ListSource(clock) });
    const s = openStream(server.url);
    await s.until((t) => t.includes('snapshot'));
    s.close();
    const deadline = Date.now() + 5000;
    while (server.streams() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.streams()).toBe(0);
  });
});
