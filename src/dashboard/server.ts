/**
 * The dashboard's HTTP server: read-only, GET only, bound to one configured address (127.0.0.1:8081 by default).
 *
 * Routes (everything else is 404; any method but GET is 405 with `Allow: GET`):
 *   /                      the page (static/index.html)
 *   /static/<file>         the page's own hand-written ES modules, CSS and icon (src/dashboard/static/)
 *   /vendor/uPlot.esm.js   uPlot, served straight from node_modules/uplot/dist (resolved at start; no bundler)
 *   /vendor/uPlot.min.css
 *   /api/view              the whole DashboardView as JSON
 *   /api/policies          {generatedAt, policies}
 *   /api/actions           {generatedAt, counts, actions}
 *   /api/safety            {generatedAt, operator, safety}
 *   /api/charts            {generatedAt, charts}
 *   /api/events            Server-Sent Events (see changes.ts), with heartbeats
 *
 * Security: the page and API serve only what view-model.ts builds — operator state, never configuration values
 * beyond the safety switches and limits, environment, tokens or kubeconfig. No CORS headers (other origins cannot
 * read it), a strict Content-Security-Policy (scripts, styles and connections from this origin only; no inline
 * script or style), nosniff, no framing, no referrer. When bound to a loopback address, requests must name a
 * loopback host, so a web page cannot read the dashboard through DNS rebinding.
 *
 * The routing is a plain function (createDashboardHandler) that tests call in memory; startDashboardServer mounts
 * it on node:http and streams /api/events.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { isIP, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { formatRetry } from './changes.js';
import { DashboardFeed, type FeedSource } from './feed.js';
import type { DashboardView } from './view-model.js';

/** One static file held in memory. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** URL path → file. */
export type DashboardAssets = ReadonlyMap<string, Asset>;

/** The page's own files, by name, under /static/ (index.html is served at /). */
const OWN_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'format.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** uPlot's files, served from the installed npm package. */
const VENDOR_FILES: Readonly<Record<string, { readonly module: string; readonly contentType: string }>> = {
  'uPlot.esm.js': { module: 'uplot/dist/uPlot.esm.js', contentType: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { module: 'uplot/dist/uPlot.min.css', contentType: 'text/css; charset=utf-8' },
};

/** Thrown by loadDashboardAssets when a file is missing (a build that did not copy static/, or uplot not installed). */
export class DashboardAssetsError extends Error {
  /** Stable code for error mapping at the boundaries. */
  readonly code = 'DashboardAssetsMissing';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DashboardAssetsError';
  }
}

/**
 * Where the page's own files are: static/ beside this module (src/dashboard/static/, or dist/dashboard/static/ after
 * `npm run build`, which copies it), or dashboard/static/ beside it when this module is part of the bundle
 * dist/kubeskippy.mjs (hack/build/bundle.mjs), whose import.meta.url is one folder up.
 */
export function defaultStaticDir(moduleUrl: string = import.meta.url): URL {
  const beside = new URL('./static/', moduleUrl);
  return existsSync(new URL('index.html', beside)) ? beside : new URL('./dashboard/static/', moduleUrl);
}

/**
 * Reads the page's files into memory: the static directory (defaultStaticDir) and uPlot from node_modules. Reading
 * once at start means a missing file fails the start, not a request, and requests never touch the file system.
 * @throws DashboardAssetsError naming the file that is missing.
 */
export async function loadDashboardAssets(staticDir: URL = defaultStaticDir()): Promise<DashboardAssets> {
  const assets = new Map<string, Asset>();
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e: unknown) {
      throw new DashboardAssetsError(`dashboard file ${what} cannot be read (${path}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  for (const [name, contentType] of Object.entries(OWN_FILES)) {
    const body = await read(fileURLToPath(new URL(name, staticDir)), name);
    assets.set(name === 'index.html' ? '/' : `/static/${name}`, { body, contentType });
  }
  const require = createRequire(import.meta.url);
  for (const [name, { module, contentType }] of Object.entries(VENDOR_FILES)) {
    let path: string;
    try {
      path = require.resolve(module);
    } catch (e: unknown) {
      throw new DashboardAssetsError(`dashboard file ${name} not found: is the npm package uplot installed?`, { cause: e });
    }
    assets.set(`/vendor/${name}`, { body: await read(path, name), contentType });
  }
  return assets;
}

/** The parts of a request the handler looks at. */
export interface DashboardRequest {
  readonly method: string;
  readonly url: string;
  /** The Host header. */
  readonly host?: string | undefined;
}

/** A complete response, or the instruction to stream events. */
export type DashboardResponse =
  | { readonly kind: 'response'; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string | Buffer }
  | { readonly kind: 'events'; readonly headers: Readonly<Record<string, string>> };

/** The in-memory handler. Never throws: a view that cannot be built is a 500. */
export type DashboardHandler = (request: DashboardRequest) => DashboardResponse;

/** The Content-Security-Policy of every response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const JSON_TYPE = 'application/json; charset=utf-8';

function respond(status: number, body: string | Buffer, headers: Record<string, string>): DashboardResponse {
  return { kind: 'response', status, headers: { ...SECURITY_HEADERS, ...headers }, body };
}

function json(status: number, value: unknown): DashboardResponse {
  return respond(status, `${JSON.stringify(value)}\n`, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
}

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The host name of a Host header ("127.0.0.1:8081" → "127.0.0.1", "[::1]:8081" → "[::1]"); '' when absent. */
export function hostNameOf(header: string | undefined): string {
  if (header === undefined) return '';
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(header.trim());
  return m?.[1] ?? '';
}

/**
 * Which Host headers a server bound to `bindHost` answers: a loopback-bound server only loopback names (DNS
 * rebinding defence); a server bound elsewhere (in a pod, behind a Service or port-forward) any.
 */
export function hostPolicy(bindHost: string): (hostHeader: string | undefined) => boolean {
  if (!isLoopbackHost(bindHost)) return () => true;
  return (h) => isLoopbackHost(hostNameOf(h));
}

/** Dependencies of the handler. */
export interface DashboardHandlerDeps {
  readonly assets: DashboardAssets;
  /** A fresh view. */
  readonly view: () => DashboardView;
  /** Whether to answer a request with this Host header (see hostPolicy). Default: any. */
  readonly hostAllowed?: (hostHeader: string | undefined) => boolean;
}

/** Builds the routing function (see the module comment for the routes). */
export function createDashboardHandler(deps: DashboardHandlerDeps): DashboardHandler {
  const api: Readonly<Record<string, (v: DashboardView) => unknown>> = {
    '/api/view': (v) => v,
    '/api/policies': (v) => ({ generatedAt: v.generatedAt, policies: v.policies }),
    '/api/actions': (v) => ({ generatedAt: v.generatedAt, counts: v.counts, actions: v.actions }),
    '/api/safety': (v) => ({ generatedAt: v.generatedAt, operator: v.operator, safety: v.safety }),
    '/api/charts': (v) => ({ generatedAt: v.generatedAt, charts: v.charts }),
  };
  return (request) => {
    if (deps.hostAllowed && !deps.hostAllowed(request.host)) return json(403, { error: 'host not allowed: use a loopback address (127.0.0.1 or localhost)' });
    let pathname: string;
    try {
      pathname = new URL(request.url, 'http://dashboard.invalid').pathname;
    } catch {
      return json(400, { error: 'bad request URL' });
    }
    const asset = deps.assets.get(pathname === '/index.html' ? '/' : pathname);
    const known = asset !== undefined || pathname in api || pathname === '/api/events';
    if (!known) return json(404, { error: 'not found', path: pathname.slice(0, 200) });
    if (request.method !== 'GET') return { ...json(405, { error: 'method not allowed: the dashboard is read-only' }), headers: { ...SECURITY_HEADERS, allow: 'GET', 'content-type': JSON_TYPE } };
    if (asset) return respond(200, asset.body, { 'content-type': asset.contentType, 'cache-control': 'no-cache' });
    if (pathname === '/api/events') {
      return {
        kind: 'events',
        headers: { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' },
      };
    }
    const project = api[pathname] as (v: DashboardView) => unknown;
    try {
      return json(200, project(deps.view()));
    } catch (e: unknown) {
      return json(500, { error: `the dashboard view could not be built: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
}

/** Options of startDashboardServer. */
export interface DashboardServerOptions {
  /** Interface to bind (e.g. 127.0.0.1). */
  readonly host: string;
  /** Port; 0 picks a free one (see DashboardServer.port). */
  readonly port: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly source: FeedSource;
  /** Preloaded assets (tests); default loadDashboardAssets(). */
  readonly assets?: DashboardAssets;
  readonly refreshMs?: number;
  readonly heartbeatMs?: number;
  readonly debounceMs?: number;
  /** Event streams open at once; more are refused with 503. Default 32. */
  readonly maxStreams?: number;
  /** A stream whose unsent output exceeds this many bytes is closed (a page that stopped reading). Default 4 MiB. */
  readonly maxBufferedBytes?: number;
}

/** A running dashboard. */
export interface DashboardServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:8081. */
  readonly url: string;
  /** Pages connected to /api/events. */
  readonly streams: () => number;
  /** Ends every event stream, stops the feed and the listener. Idempotent. */
  close(): Promise<void>;
}

/** How long (ms) a disconnected page waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_MS = 2000;

/**
 * Starts the dashboard on host:port. Rejects if the assets cannot be loaded (DashboardAssetsError) or the address
 * cannot be bound.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const logger = options.logger.child({ component: 'dashboard' });
  const assets = options.assets ?? (await loadDashboardAssets());
  const feed = new DashboardFeed({
    clock: options.clock,
    logger,
    source: options.source,
    ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }),
  });
  const handler = createDashboardHandler({ assets, view: () => feed.view(), hostAllowed: hostPolicy(options.host) });
  const maxStreams = options.maxStreams ?? 32;
  const maxBuffered = options.maxBufferedBytes ?? 4 * 2 ** 20;
  const streams = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const response = handler({ method: req.method ?? 'GET', url: req.url ?? '/', host: req.headers.host });
    if (response.kind === 'response') {
      res.writeHead(response.status, response.headers);
      res.end(response.body);
      return;
    }
    if (streams.size >= maxStreams) {
      res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': JSON_TYPE, 'retry-after': '10' });
      res.end(`${JSON.stringify({ error: `too many dashboard streams open (${maxStreams})` })}\n`);
      return;
    }
    res.writeHead(200, response.headers);
    res.write(formatRetry(RECONNECT_MS));
    streams.add(res);
    let unsubscribe = (): void => undefined;
    const end = (): void => {
      unsubscribe();
      streams.delete(res);
    };
    res.on('close', end);
    try {
      unsubscribe = feed.subscribe({
        send: (chunk) => {
          // A page that stops reading must not grow the operator's memory: drop it; EventSource reconnects.
          if (res.writableLength > maxBuffered) {
            logger.warn({ buffered: res.writableLength }, 'dashboard stream not reading: closed');
            res.destroy();
            end();
            return;
          }
          res.write(chunk);
        },
      });
    } catch (e: unknown) {
      logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'dashboard snapshot failed');
      res.end();
      end();
    }
  });
  // Event streams are long-lived: no request timeout applies once headers are in.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => logger.error({ err: e }, 'dashboard server error'));
  feed.start();
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info({ url }, 'serving the dashboard');
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    url,
    streams: () => streams.size,
    close: () => {
      closing ??= (async () => {
        await feed.stop();
        for (const res of streams) res.end();
        streams.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
