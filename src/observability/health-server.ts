/**
 * The operator's probe and metrics endpoints: /healthz (liveness), /readyz (readiness), /metrics (Prometheus text
 * from the operator's own registry). The routing is a plain async function from request to response, so tests
 * call it in memory; `startHealthServer` mounts the same function on a node:http server bound to loopback by
 * default (port 0 picks a free port, exposed as `port`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from './logger.js';

/** A probe result: ok plus optional named checks, as rendered in the JSON body. */
export interface ProbeReport {
  readonly ok: boolean;
  readonly checks?: Readonly<Record<string, { readonly ok: boolean; readonly message?: string }>>;
}

/** What the endpoints serve. Callbacks may be async; a callback that throws counts as not ok. */
export interface HealthEndpoints {
  /** /readyz; e.g. `() => manager.readiness()`. */
  readonly readiness: () => ProbeReport | Promise<ProbeReport>;
  /** /healthz; default always ok (the process answers). */
  readonly liveness?: () => ProbeReport | Promise<ProbeReport>;
  /** /metrics; omitted → 404. */
  readonly registry?: Registry;
}

/** The parts of a request the handler looks at. */
export interface ProbeRequest {
  readonly method: string;
  readonly url: string;
}

/** A response produced by the handler. */
export interface ProbeResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The in-memory handler: request in, response out. Never rejects. */
export type ProbeHandler = (request: ProbeRequest) => Promise<ProbeResponse>;

const JSON_TYPE = 'application/json; charset=utf-8';

function json(status: number, value: unknown): ProbeResponse {
  return { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store' }, body: `${JSON.stringify(value)}\n` };
}

async function probe(fn: () => ProbeReport | Promise<ProbeReport>): Promise<ProbeResponse> {
  try {
    const report = await fn();
    return json(report.ok ? 200 : 503, { status: report.ok ? 'ok' : 'unavailable', ...(report.checks === undefined ? {} : { checks: report.checks }) });
  } catch (e: unknown) {
    return json(503, { status: 'unavailable', error: e instanceof Error ? e.message : String(e) });
  }
}

/** Builds the handler. GET and HEAD only (405 otherwise); unknown paths are 404; query strings are ignored. */
export function createProbeHandler(endpoints: HealthEndpoints): ProbeHandler {
  return async (request) => {
    const pathname = new URL(request.url, 'http://localhost').pathname;
    const method = request.method.toUpperCase();
    const known = pathname === '/healthz' || pathname === '/livez' || pathname === '/readyz' || (pathname === '/metrics' && endpoints.registry !== undefined);
    if (!known) return json(404, { status: 'not found', path: pathname });
    if (method !== 'GET' && method !== 'HEAD') return { ...json(405, { status: 'method not allowed' }), headers: { allow: 'GET, HEAD', 'content-type': JSON_TYPE } };
    switch (pathname) {
      case '/healthz':
      case '/livez':
        return probe(endpoints.liveness ?? (() => ({ ok: true })));
      case '/readyz':
        return probe(endpoints.readiness);
      default: {
        const registry = endpoints.registry;
        if (registry === undefined) return json(404, { status: 'not found', path: pathname });
        try {
          return { status: 200, headers: { 'content-type': registry.contentType }, body: await registry.metrics() };
        } catch (e: unknown) {
          return json(500, { status: 'error', error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
  };
}

/** Options of startHealthServer. */
export interface HealthServerOptions extends HealthEndpoints {
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Port; 0 (default) picks a free one. */
  readonly port?: number;
  readonly logger?: Logger;
}

/** A running server. */
export interface HealthServer {
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Stops accepting connections and closes idle keep-alive ones; resolves when closed. Idempotent. */
  close(): Promise<void>;
}

/** Starts the server; rejects if the address cannot be bound (in use, not permitted). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const handler = createProbeHandler(options);
  const logger = (options.logger ?? silentLogger).child({ component: 'health-server' });
  const server = http.createServer((req, res) => {
    void handler({ method: req.method ?? 'GET', url: req.url ?? '/' }).then((response) => {
      res.writeHead(response.status, response.headers);
      res.end(req.method === 'HEAD' ? undefined : response.body);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => logger.error({ err: e }, 'health server error'));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'serving /healthz, /readyz, /metrics');
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
