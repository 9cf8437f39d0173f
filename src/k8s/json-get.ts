/**
 * A GET of Kubernetes JSON without client-node's typed layer, for the operator's two bulk reads: its informers'
 * lists (every pod of the cluster at start) and the metrics.k8s.io poll (every pod's usage, every 15 s).
 *
 * Why: client-node's typed calls and its Metrics go through `fetch`, which asks for gzip (the API server compresses,
 * the operator inflates — on a loopback or in-cluster link where bytes are cheap) and passes the body through web
 * streams; a typed list then copies every object through its ObjectSerializer (dates into `Date`s). A CPU profile of
 * the operator starting on 5 000 pods right after they were created (docs/scaling.md) spent 0.8 s of ~10 s busy in
 * `deserialize`, 0.8 s reading the body through web streams and 0.4 s in zlib — on a 2-core machine it shares with
 * the API server. Measured on the local cluster (hack/bench/metrics-poll-cost.mjs), one metrics.k8s.io list of 5 000
 * pods cost the operator 59–74 ms of CPU through `fetch` and 32–37 ms this way.
 *
 * The objects come back as the API server's JSON — the shape watch events already deliver to the informers, so
 * their caches hold one shape (time.ts reads timestamps in either). The request still goes through
 * `applySecurityAuthentication`: it is authenticated, pooled (connection-pool.ts) and counted (request-counter.ts)
 * like every other.
 */
import { ApiException, HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';

/** The piece of undici's Dispatcher used here (client-node's RequestContext holds an undici Agent). */
interface RequestDispatcher {
  request(options: {
    origin: string;
    path: string;
    method: 'GET';
    headers: Record<string, string>;
    headersTimeout?: number;
    bodyTimeout?: number;
    signal?: AbortSignal;
  }): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined>; body: { text(): Promise<string> } }>;
}

function isDispatcher(value: unknown): value is RequestDispatcher {
  return typeof value === 'object' && value !== null && typeof (value as { request?: unknown }).request === 'function';
}

/** Options of getJson. */
export interface JsonGetOptions {
  /** Query parameters; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Aborting it cancels the request (the promise rejects with the AbortError). */
  readonly signal?: AbortSignal;
  /**
   * Longest wait for the response's headers, and between two chunks of its body (ms): a server that stops answering
   * fails the request instead of holding its caller for ever. Default 60 000.
   */
  readonly timeoutMs?: number;
}

/**
 * GETs `path` (e.g. `/api/v1/pods`) from the KubeConfig's current cluster and returns the parsed JSON body. Rejects
 * with client-node's ApiException (status code, the API server's Status text as body) on an HTTP status other than
 * 200, with undici's own error on a network failure or timeout, and with the AbortError when aborted — the shapes
 * errors.ts classifies. Uncompressed: no Accept-Encoding is sent.
 */
export async function getJson(kc: KubeConfig, path: string, options: JsonGetOptions = {}): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No currently active cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const headers = { ...ctx.getHeaders(), accept: 'application/json' };
  const dispatcher: unknown = ctx.getDispatcher();
  let status: number;
  let text: string;
  let responseHeaders: Record<string, string>;
  if (isDispatcher(dispatcher)) {
    const timeout = options.timeoutMs ?? 60_000;
    const response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    status = response.statusCode;
    responseHeaders = flatHeaders(response.headers);
    text = await response.body.text();
  } else {
    // No TLS material at all: client-node would use the global dispatcher too (fetch without one).
    const response = await fetch(url, { headers, ...(options.signal ? { signal: options.signal } : {}) });
    status = response.status;
    responseHeaders = Object.fromEntries(response.headers.entries());
    text = await response.text();
  }
  if (status !== 200) throw new ApiException(status, `HTTP ${status} from GET ${url.pathname}`, text, responseHeaders);
  return JSON.parse(text) as unknown;
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
