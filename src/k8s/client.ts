/**
 * Where the operator's Kubernetes credentials come from, and typed API clients built from them. Nothing here reads
 * process.env or the home directory by itself: the caller passes the environment in, so tests can drive every
 * branch and the config module stays the only reader of the process environment.
 *
 * Precedence (as kubectl and controller-runtime): explicit path > $KUBECONFIG (one or more paths joined by ':';
 * the first file wins on duplicate names) > in-cluster service account > ~/.kube/config.
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PodMetricsClient } from './pod-metrics-client.js';

/** Files of a pod's service account, mounted by Kubernetes. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The file-system operations loadKubeConfig needs (injectable for tests). */
export interface KubeConfigFs {
  exists(file: string): boolean;
  readFile(file: string): string;
}

const nodeFs: KubeConfigFs = {
  exists: (file) => existsSync(file),
  readFile: (file) => readFileSync(file, 'utf8'),
};

/** Options of loadKubeConfig. */
export interface LoadKubeConfigOptions {
  /** An explicit kubeconfig file (the --kubeconfig flag / config field); wins over everything else. */
  readonly kubeconfigPath?: string;
  /**
   * The environment to consult: KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, HOME. Passed in by
   * the caller; default {} (no environment).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Context to select instead of the file's current-context. */
  readonly context?: string;
  /** Directory of the service-account files; default SERVICE_ACCOUNT_DIR. */
  readonly serviceAccountDir?: string;
  readonly fs?: KubeConfigFs;
}

/** Where a loaded KubeConfig came from. */
export type KubeConfigSource = 'explicit' | 'env' | 'in-cluster' | 'home';

/** A loaded KubeConfig and where it came from. */
export interface LoadedKubeConfig {
  readonly kubeConfig: k8s.KubeConfig;
  readonly source: KubeConfigSource;
  /** The file(s) read, or the service-account directory. */
  readonly location: string;
}

/** No usable kubeconfig was found, or a file named explicitly could not be loaded. */
export class KubeConfigError extends Error {
  readonly code = 'KubeConfig';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeConfigError';
  }
}

function loadFile(file: string, fs: KubeConfigFs): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(fs.readFile(file));
  } catch (e: unknown) {
    throw new KubeConfigError(`cannot load kubeconfig ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  // Relative certificate/key paths in a kubeconfig are relative to the file, as kubectl resolves them.
  kc.makePathsAbsolute(path.dirname(path.resolve(file)));
  return kc;
}

/** Merges `extra` into `into` the way kubectl does: the first definition of a name wins. */
function mergeFirstWins(into: k8s.KubeConfig, extra: k8s.KubeConfig): void {
  const has = <T extends { name: string }>(list: readonly T[], name: string): boolean => list.some((x) => x.name === name);
  for (const c of extra.clusters) if (!has(into.clusters, c.name)) into.addCluster(c);
  for (const u of extra.users) if (!has(into.users, u.name)) into.addUser(u);
  for (const c of extra.contexts) if (!has(into.contexts, c.name)) into.addContext(c);
  if (into.currentContext === '' && extra.currentContext !== '') into.setCurrentContext(extra.currentContext);
}

function inCluster(env: Readonly<Record<string, string | undefined>>, dir: string, fs: KubeConfigFs): k8s.KubeConfig {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const nsFile = path.join(dir, 'namespace');
  const namespace = fs.exists(nsFile) ? fs.readFile(nsFile).trim() : undefined;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: path.join(dir, 'ca.crt'), skipTLSVerify: false }],
    // The tokenFile provider re-reads the projected token, which the kubelet rotates.
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(dir, 'token') } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', ...(namespace === undefined ? {} : { namespace }) }],
    currentContext: 'inClusterContext',
  });
  return kc;
}

/**
 * Loads the KubeConfig by the precedence above. Throws KubeConfigError when an explicitly named file (path or
 * $KUBECONFIG) cannot be read or parsed, when `context` does not exist, or when no source is available.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const fs = options.fs ?? nodeFs;
  const env = options.env ?? {};
  const loaded = ((): LoadedKubeConfig => {
    if (options.kubeconfigPath !== undefined && options.kubeconfigPath !== '') {
      if (!fs.exists(options.kubeconfigPath)) throw new KubeConfigError(`kubeconfig ${options.kubeconfigPath} does not exist`);
      return { kubeConfig: loadFile(options.kubeconfigPath, fs), source: 'explicit', location: options.kubeconfigPath };
    }
    const fromEnv = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter((f) => f !== '');
    if (fromEnv.length > 0) {
      const present = fromEnv.filter((f) => fs.exists(f));
      const [first, ...rest] = present;
      if (first === undefined) throw new KubeConfigError(`none of the files in KUBECONFIG exist: ${fromEnv.join(path.delimiter)}`);
      const kc = loadFile(first, fs);
      for (const f of rest) mergeFirstWins(kc, loadFile(f, fs));
      return { kubeConfig: kc, source: 'env', location: present.join(path.delimiter) };
    }
    const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '' && fs.exists(path.join(saDir, 'token'))) {
      return { kubeConfig: inCluster(env, saDir, fs), source: 'in-cluster', location: saDir };
    }
    const home = env['HOME'] ?? '';
    const homeFile = home === '' ? '' : path.join(home, '.kube', 'config');
    if (homeFile !== '' && fs.exists(homeFile)) return { kubeConfig: loadFile(homeFile, fs), source: 'home', location: homeFile };
    throw new KubeConfigError('no kubeconfig found: pass --kubeconfig, set KUBECONFIG, run in a cluster, or create ~/.kube/config');
  })();
  if (options.context !== undefined) {
    if (loaded.kubeConfig.getContextObject(options.context) === null) {
      throw new KubeConfigError(`context "${options.context}" not found in ${loaded.location}`);
    }
    loaded.kubeConfig.setCurrentContext(options.context);
  }
  if (loaded.kubeConfig.getCurrentCluster() === null) {
    throw new KubeConfigError(`kubeconfig ${loaded.location} has no cluster for its current context "${loaded.kubeConfig.getCurrentContext()}"`);
  }
  return loaded;
}

/** Typed API clients over one KubeConfig, created on first use. */
export interface KubeClients {
  readonly kubeConfig: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  readonly customObjects: k8s.CustomObjectsApi;
  readonly policy: k8s.PolicyV1Api;
  readonly autoscaling: k8s.AutoscalingV2Api;
  readonly events: k8s.EventsV1Api;
  /** The generic object API (any kind, server-side apply). */
  readonly objects: k8s.KubernetesObjectApi;
  /** metrics.k8s.io's pod metrics (see pod-metrics-client.ts for why not client-node's Metrics). */
  readonly metrics: PodMetricsClient;
  /** Any other typed API class. */
  api<T extends k8s.ApiType>(apiClass: new (config: k8s.Configuration) => T): T;
}

/** A factory of typed API clients for `kubeConfig`; each client is created once, on first access. */
export function createKubeClients(kubeConfig: k8s.KubeConfig): KubeClients {
  const cache = new Map<unknown, unknown>();
  const api = <T extends k8s.ApiType>(apiClass: new (config: k8s.Configuration) => T): T => {
    let client = cache.get(apiClass) as T | undefined;
    if (client === undefined) {
      client = kubeConfig.makeApiClient(apiClass);
      cache.set(apiClass, client);
    }
    return client;
  };
  const once = <T>(key: string, make: () => T): T => {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  };
  return {
    kubeConfig,
    get core() {
      return api(k8s.CoreV1Api);
    },
    get apps() {
      return api(k8s.AppsV1Api);
    },
    get coordination() {
      return api(k8s.CoordinationV1Api);
    },
    get customObjects() {
      return api(k8s.CustomObjectsApi);
    },
    get policy() {
      return api(k8s.PolicyV1Api);
    },
    get autoscaling() {
      return api(k8s.AutoscalingV2Api);
    },
    get events() {
      return api(k8s.EventsV1Api);
    },
    get objects() {
      return once('objects', () => k8s.KubernetesObjectApi.makeApiClient(kubeConfig));
    },
    get metrics() {
      return once('metrics', () => new PodMetricsClient(kubeConfig));
    },
    api,
  };
}

/**
 * Per-call options for a typed API method that tie the HTTP request to `signal` (aborting it cancels the request),
 * e.g. `core.readNamespacedPod({name, namespace}, requestOptions(signal))`. Extra `options` (such as
 * setHeaderOptions for patches) are kept.
 */
export function requestOptions(signal: AbortSignal | undefined, options?: k8s.ConfigurationOptions): k8s.ConfigurationOptions | undefined {
  if (signal === undefined) return options;
  const middleware = {
    pre: (ctx: k8s.RequestContext) => {
      ctx.setSignal(signal);
      return new k8s.Observable(Promise.resolve(ctx));
    },
    post: (ctx: k8s.ResponseContext) => new k8s.Observable(Promise.resolve(ctx)),
  };
  return { ...options, middleware: [...(options?.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}
