/**
 * A real HTTPS proxy in front of the local kube-apiserver, for fault tests. Operators under test get a kubeconfig
 * that points at one of its listeners (one listener per operator "tag", so every request is attributed to the
 * replica that sent it) and authenticates with a fake bearer token; the proxy terminates TLS with the cluster's own
 * serving certificate (so the operator's CA check passes), drops the token and forwards with the cluster's admin
 * client certificate. Everything stays on 127.0.0.1.
 *
 * What it does besides forwarding:
 * - records every request (tag, method, path, status, times) — the independent count of what an operator did;
 * - injects faults on writes (POST/PUT/PATCH/DELETE) for as long as a fault is set: 409 Conflict or 429 Too Many
 *   Requests (with Retry-After), answered by the proxy without forwarding;
 * - delays every request by a set latency;
 * - counts 410 Gone answers, in plain responses and inside watch streams (ERROR events with code 410).
 *
 * startTcpDelayProxy is the TCP-level companion: a TLS-passthrough relay that delays every chunk in both
 * directions (a slow network or an overloaded API server as the client sees it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { artifactDir, FAKE_SECRETS } from './common.js';
import { CLUSTER_STATE } from './control-plane.js';

/** One request as the proxy saw it. `at`/`end` are Date.now() values. */
export interface ProxiedRequest {
  readonly tag: string;
  readonly at: number;
  end?: number;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly watch: boolean;
  status?: number;
  /** Set when the proxy answered itself instead of forwarding. */
  injected?: 'conflict' | 'throttle';
}

/** A write fault: every write (or the share `fraction` of them) is refused with 409 or 429 while set. */
export interface WriteFault {
  readonly kind: 'conflict' | 'throttle';
  readonly fraction?: number;
  /** Only writes whose path matches (default every write). */
  readonly match?: RegExp;
  readonly random?: () => number;
}

/** A running proxy. */
export interface ApiProxy {
  /** The https URL of `tag`'s listener (created on first use). */
  listen(tag: string): Promise<string>;
  /**
   * Writes a kubeconfig for `tag` (bearer-token user, the cluster's CA) and returns its path. `server` overrides the
   * URL (e.g. a TCP delay proxy in front of this listener).
   */
  kubeconfig(tag: string, server?: string): Promise<string>;
  readonly requests: ProxiedRequest[];
  setFault(fault: WriteFault | undefined): void;
  setLatency(ms: number): void;
  /**
   * Ends every open watch cleanly (as an API server ending a watch at its timeout does), and holds new watch
   * requests until releaseWatches(): clients then resume from the resourceVersion they last saw, which a restart of
   * the API server after an etcd compaction in between has made too old (410 Gone). Returns the watches ended.
   */
  holdWatches(): number;
  releaseWatches(): number;
  /** 410 Gone answers seen, by tag. */
  readonly gone: Map<string, number>;
  /** Requests that failed upstream (connection refused while the API server was down…), by tag. */
  readonly upstreamErrors: Map<string, number>;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The upstream API server and credentials, from the cluster's own kubeconfig. */
function upstream(): { host: string; port: number; ca: Buffer; cert: Buffer; key: Buffer } {
  const pki = path.join(CLUSTER_STATE, 'pki');
  const kubeconfig = readFileSync(path.join(CLUSTER_STATE, 'kubeconfig.yaml'), 'utf8');
  const server = /server:\s*(https:\/\/[^\s]+)/.exec(kubeconfig)?.[1];
  if (server === undefined) throw new Error('no server in the cluster kubeconfig');
  const url = new URL(server);
  if (url.hostname !== '127.0.0.1') throw new Error(`the API server is not on loopback: ${server}`);
  return {
    host: url.hostname,
    port: Number(url.port),
    ca: readFileSync(path.join(pki, 'ca.crt')),
    cert: readFileSync(path.join(pki, 'admin.crt')),
    key: readFileSync(path.join(pki, 'admin.key')),
  };
}

function statusBody(code: number, reason: string, message: string, retryAfterSeconds?: number): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(retryAfterSeconds === undefined ? {} : { details: { retryAfterSeconds } }),
    code,
  });
}

/** Starts the HTTPS proxy (no listener yet: `listen(tag)` opens one per operator). */
export function startApiProxy(): ApiProxy {
  const up = upstream();
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ca: up.ca, cert: up.cert, key: up.key });
  const servers = new Map<string, { server: https.Server; url: string }>();
  const sockets = new Set<net.Socket>();
  const requests: ProxiedRequest[] = [];
  const gone = new Map<string, number>();
  const upstreamErrors = new Map<string, number>();
  let fault: WriteFault | undefined;
  let latencyMs = 0;
  let holding = false;
  const held: (() => void)[] = [];
  const openWatches = new Set<{ res: ServerResponse; out: ReturnType<typeof https.request>; upRes: IncomingMessage }>();
  const bump = (m: Map<string, number>, tag: string): void => void m.set(tag, (m.get(tag) ?? 0) + 1);

  const handle = (tag: string, req: IncomingMessage, res: ServerResponse): void => {
    const [p = '', q = ''] = (req.url ?? '').split('?');
    const method = req.method ?? 'GET';
    const watch = /(^|&)watch=(true|1)/.test(q) || p.includes('/watch/');
    const record: ProxiedRequest = { tag, at: Date.now(), method, path: p, query: q, watch };
    requests.push(record);
    const finish = (status: number): void => {
      record.status = status;
      record.end = Date.now();
    };
    const f = fault;
    if (f && WRITE_METHODS.has(method) && (f.match?.test(p) ?? true) && (f.random ?? Math.random)() < (f.fraction ?? 1)) {
      record.injected = f.kind;
      req.resume();
      req.on('end', () => {
        if (f.kind === 'conflict') {
          res.writeHead(409, { 'content-type': 'application/json' });
          res.end(statusBody(409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected by the fault proxy)'));
          finish(409);
        } else {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end(statusBody(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later (injected by the fault proxy)', 1));
          finish(429);
        }
      });
      return;
    }
    const headers = { ...req.headers };
    delete headers['authorization'];
    delete headers['host'];
    // Plain bodies, so that 410s inside watch streams can be seen.
    delete headers['accept-encoding'];
    const forward = (): void => {
      const out = https.request({ host: up.host, port: up.port, method, path: req.url ?? '/', headers, agent }, (upRes) => {
        const status = upRes.statusCode ?? 502;
        record.status = status;
        if (status === 410) bump(gone, tag);
        res.writeHead(status, upRes.headers);
        if (watch && status === 200) {
          const entry = { res, out, upRes };
          openWatches.add(entry);
          res.on('close', () => openWatches.delete(entry));
          upRes.on('data', (chunk: Buffer) => {
            const s = chunk.toString('utf8');
            if (s.includes('"type":"ERROR"') && s.includes('"code":410')) bump(gone, tag);
          });
        }
        upRes.pipe(res);
        upRes.on('end', () => (record.end = Date.now()));
        upRes.on('error', () => {
          if (!res.writableEnded) res.destroy();
        });
      });
      out.on('error', () => {
        bump(upstreamErrors, tag);
        if (!res.headersSent) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(statusBody(503, 'ServiceUnavailable', 'the API server is not reachable (fault proxy)'));
          finish(503);
        } else res.destroy();
      });
      // A client that goes away (killed operator, aborted watch) ends the upstream request too.
      res.on('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      req.pipe(out);
    };
    if (watch && holding) {
      req.pause();
      held.push(() => {
        req.resume();
        forward();
      });
    } else if (latencyMs > 0) {
      req.pause();
      setTimeout(() => {
        req.resume();
        forward();
      }, latencyMs);
    } else forward();
  };

  return {
    requests,
    gone,
    upstreamErrors,
    setFault: (f) => (fault = f),
    setLatency: (ms) => (latencyMs = ms),
    holdWatches: () => {
      holding = true;
      const n = openWatches.size;
      for (const w of [...openWatches]) {
        w.upRes.unpipe(w.res);
        w.res.end();
        w.out.destroy();
      }
      openWatches.clear();
      return n;
    },
    releaseWatches: () => {
      holding = false;
      const n = held.length;
      for (const go of held.splice(0)) go();
      return n;
    },
    async listen(tag) {
      const existing = servers.get(tag);
      if (existing) return existing.url;
      const server = https.createServer({ cert: up.cert, key: up.key }, (req, res) => handle(tag, req, res));
      server.on('connection', (s: net.Socket) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      servers.set(tag, { server, url });
      return url;
    },
    async kubeconfig(tag, server) {
      const url = server ?? (await this.listen(tag));
      const file = path.join(artifactDir('kubeconfigs'), `${tag}.yaml`);
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: faults\n  cluster:\n    server: ${url}\n    certificate-authority: ${path.join(CLUSTER_STATE, 'pki/ca.crt')}`,
          'users:',
          `- name: faults-operator\n  user:\n    token: ${FAKE_SECRETS.apiToken}`,
          'contexts:',
          '- name: faults\n  context:\n    cluster: faults\n    user: faults-operator',
          'current-context: faults',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      return file;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([...servers.values()].map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
      agent.destroy();
    },
  };
}

/** A TLS-passthrough TCP relay on 127.0.0.1 that delays every chunk, each direction, by the current latency. */
export interface TcpDelayProxy {
  readonly url: string;
  setLatency(ms: number): void;
  /** Drops every open connection (both ends), as a network blip would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** Starts a TCP relay to 127.0.0.1:`targetPort`. */
export async function startTcpDelayProxy(targetPort: number): Promise<TcpDelayProxy> {
  let latency = 0;
  const open = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket): void => {
    // Chunks keep their order: each is written at max(arrival + latency, previous write).
    let last = 0;
    from.on('data', (chunk: Buffer) => {
      const due = Math.max(Date.now() + latency, last);
      last = due;
      const wait = due - Date.now();
      if (wait <= 0) to.write(chunk);
      else setTimeout(() => to.writable && to.write(chunk), wait);
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now())));
  };
  const server = net.createServer((client) => {
    const target = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => target.destroy());
    target.on('close', () => client.destroy());
    relay(client, target);
    relay(target, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    setLatency: (ms) => (latency = ms),
    dropConnections: () => open.forEach((s) => s.destroy()),
    close: () =>
      new Promise<void>((r) => {
        open.forEach((s) => s.destroy());
        server.close(() => r());
      }),
  };
}

/** Classifies a proxied request as one of the mutations an executor makes, or undefined. Dry runs are not mutations. */
export function mutationOf(r: ProxiedRequest): { kind: 'evict' | 'delete-pod' | 'patch-workload' | 'scale' | 'delete-other'; namespace: string; name: string } | undefined {
  if (!WRITE_METHODS.has(r.method) || /(^|&)dryRun=/.test(r.query)) return undefined;
  let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(r.path);
  if (m && r.method === 'POST') return { kind: 'evict', namespace: m[1]!, name: m[2]! };
  m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(r.path);
  if (m && r.method === 'DELETE') return { kind: 'delete-pod', namespace: m[1]!, name: m[2]! };
  m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets|replicasets)\/([^/]+)\/scale$/.exec(r.path);
  if (m) return { kind: 'scale', namespace: m[1]!, name: m[3]! };
  m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets|replicasets)\/([^/]+)$/.exec(r.path);
  if (m && (r.method === 'PATCH' || r.method === 'PUT')) return { kind: 'patch-workload', namespace: m[1]!, name: m[3]! };
  if (m && r.method === 'DELETE') return { kind: 'delete-other', namespace: m[1]!, name: m[3]! };
  return undefined;
}

/** Writes of the operator's own state: HealingAction creates and status writes, policy status writes. */
export function stateWriteOf(r: ProxiedRequest): { kind: 'create-action' | 'action-status' | 'policy-status'; namespace: string; name: string } | undefined {
  if (!WRITE_METHODS.has(r.method)) return undefined;
  let m = /^\/apis\/kubeskippy\.io\/v1alpha1\/namespaces\/([^/]+)\/healingactions$/.exec(r.path);
  if (m && r.method === 'POST') return { kind: 'create-action', namespace: m[1]!, name: '' };
  m = /^\/apis\/kubeskippy\.io\/v1alpha1\/namespaces\/([^/]+)\/healingactions\/([^/]+)\/status$/.exec(r.path);
  if (m) return { kind: 'action-status', namespace: m[1]!, name: m[2]! };
  m = /^\/apis\/kubeskippy\.io\/v1alpha1\/(?:namespaces\/([^/]+)\/)?(?:cluster)?healingpolicies\/([^/]+)\/status$/.exec(r.path);
  if (m) return { kind: 'policy-status', namespace: m[1] ?? '', name: m[2]! };
  return undefined;
}
