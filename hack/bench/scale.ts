/**
 * Benchmark (not a test; `npm test` never runs it): how the operator scales with the pods and policies it serves.
 * `npm run bench` (the local cluster must be up — `KUBESKIPPY_NODES=12 npm run cluster:up` for 10 000 pods at 1 000
 * pods a fake node; the benchmark never starts or stops it).
 *
 * For each size (BENCH_SIZES, default 100,1000,5000,10000 pods, in ascending order: the cluster grows, since the
 * operator's informers cache every pod of the cluster) it creates namespaces of BENCH_PODS_PER_NAMESPACE (50) pods as
 * Deployments of BENCH_REPLICAS (10), and for each policy count (BENCH_POLICIES, default 10,100):
 *
 * 1. creates the policies: one ClusterHealingPolicy over every bench namespace (memory_usage_percent > 95 for 3m,
 *    which never fires here but makes the operator poll metrics.k8s.io and evaluate every pod), then HealingPolicies
 *    round-robin over the namespaces — the first in each namespace `restart_count > 1` (automatic restart, the one
 *    that fires), the others triggers that never fire here (ready == 0 for 10m, CrashLoopBackOff for 10m,
 *    restart_rate > 1000, an event count, memory) but are evaluated all the same;
 * 2. starts the operator as its own process (`kubeskippy run`, leader election on, compiled from the current
 *    sources) and measures the time to /readyz and until every policy has its first status (cache sync + first
 *    evaluation);
 * 3. a quiet window (BENCH_WARMUP_SECONDS 30 then BENCH_QUIET_SECONDS 60): the operator's CPU (process_cpu_seconds
 *    from its /metrics, i.e. process.cpuUsage()), RSS, V8 heap, kubeskippy_api_requests_total by verb and resource,
 *    and the metrics.k8s.io poll cost (kubeskippy_collector_poll_duration_seconds);
 * 4. detection latency: BENCH_FIRINGS (30) pods of Deployments under a restart_count policy are made to crash loop
 *    (kwok), one every BENCH_SPACING_MS (500); latency = the benchmark's own watch receiving the pod update whose
 *    restartCount first exceeds 1 → its watch receiving the HealingAction ADDED for that pod;
 * 5. a storm: BENCH_STORM_PODS (100; one pod per Deployment at most) crash at once; over BENCH_STORM_SECONDS (60)
 *    from the first patch: the requests by verb, the actions created and executed per minute, the pods deleted;
 * 6. stops the operator, deletes the policies, the HealingActions and the pods left crashing.
 *
 * Writes bench/results/<date>[-BENCH_LABEL].json, .md (the table, with the targets and how each figure grows) and
 * .html (uPlot charts). Other knobs: BENCH_OPERATOR_ARGS (extra `kubeskippy run` flags), BENCH_CPU_PROF=1 (V8 CPU
 * profiles into .cache/bench/prof/), BENCH_HEAP_SNAPSHOT=1 (a heap snapshot after the quiet window, into
 * .cache/bench/heap/), BENCH_RUN_ID (reuse the namespaces of an earlier run kept with BENCH_KEEP=1), BENCH_NODE_FLAGS
 * (extra flags for the operator's node, to try V8 settings), BENCH_MEMORY_LIMIT (bytes; the operator runs in a memory
 * cgroup of the Helm chart's limit by default, as in its container, where the machine allows it; 0: none).
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import { requestOptions } from '../../src/k8s/client.js';
import { createKubeListWatch, Informer } from '../../src/k8s/informer.js';
import { systemClock } from '../../src/runtime/clock.js';
import { kubeconfigPath, testKubeConfig, waitFor } from '../../test/support/cluster.js';
import { ensureCrds } from '../../test/support/resources.js';
import {
  buildOperator,
  byVerb,
  createdTimes,
  distribution,
  envInt,
  envInts,
  inPool,
  loadAverage,
  log,
  outDir,
  processStats,
  requestDelta,
  root,
  scrape,
  sleep,
  imageNodeFlags,
  chartMemoryLimit,
  makeMemoryCgroup,
  type MemoryCgroup,
  imageRuntimeEnv,
  startOperatorProcess,
  sumOf,
  table,
  wallNow,
  type Distribution,
  type OperatorProcess,
} from './lib.js';

const SETTINGS = {
  sizes: envInts('BENCH_SIZES', [100, 1000, 5000, 10000]).sort((a, b) => a - b),
  policies: envInts('BENCH_POLICIES', [10, 100]),
  podsPerNamespace: Math.max(1, envInt('BENCH_PODS_PER_NAMESPACE', 50)),
  replicas: Math.max(1, envInt('BENCH_REPLICAS', 10)),
  warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 30),
  quietSeconds: Math.max(10, envInt('BENCH_QUIET_SECONDS', 60)),
  firings: envInt('BENCH_FIRINGS', 30),
  spacingMs: envInt('BENCH_SPACING_MS', 500),
  stormPods: envInt('BENCH_STORM_PODS', 100),
  stormSeconds: Math.max(10, envInt('BENCH_STORM_SECONDS', 60)),
  podsTimeoutSeconds: envInt('BENCH_PODS_TIMEOUT_SECONDS', 1200),
  operatorArgs: (process.env['BENCH_OPERATOR_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
  label: (process.env['BENCH_LABEL'] ?? '').replace(/[^a-zA-Z0-9_-]/g, ''),
  keep: process.env['BENCH_KEEP'] === '1',
  cpuProf: process.env['BENCH_CPU_PROF'] === '1',
  heapSnapshot: process.env['BENCH_HEAP_SNAPSHOT'] === '1',
  /** Node flags beyond the image's (BENCH_NODE_FLAGS); startOperatorProcess puts the image's first. */
  nodeFlags: (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((a) => a !== ''),
  /** The node flags of the image's ENTRYPOINT, which every operator process of the benchmarks gets. */
  imageNodeFlags: imageNodeFlags(),
  /**
   * The operator runs in a memory cgroup of this limit, as in its container: BENCH_MEMORY_LIMIT bytes, 0 for none;
   * by default the Helm chart's limit (Node sizes V8's heap from it).
   */
  memoryLimitBytes: envInt('BENCH_MEMORY_LIMIT', chartMemoryLimit() ?? 0),
  // The image's runtime settings, and any the caller set for the run (the operator inherits this environment).
  operatorEnv: { ...imageRuntimeEnv(), ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_') || k === 'NODE_OPTIONS')) },
};

/** What the issue asks at 5 000 pods and 100 policies, on one core. */
// The issue's RSS target is 250 MB; RSS is reported in MiB: 250 MB = 238.4 MiB.
const TARGETS = { detectionP50Ms: 100, detectionP99Ms: 1000, quietListsPerMinute: 0, rssMiB: 238.4, quietCpuSecondsPerMinute: 3, readySeconds: 10 };

const GROUP = 'kubeskippy.io';
const VERSION = 'v1alpha1';
const RUN_LABEL = 'bench.kubeskippy.io/run';
const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };
const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled', 'Blocked']);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

type Action = HealingAction & k8s.KubernetesObject;
type Policy = k8s.KubernetesObject & { status?: { lastEvaluated?: string; conditions?: { type: string; status: string }[] } };

/**
 * A pod spec like a small real service's (env, volumes, probes, ports), so the informer's memory per pod is not
 * flattered by an empty spec. Requests are small: 10 000 pods fit on 12 fake nodes.
 */
function benchPodSpec(app: string): k8s.V1PodSpec {
  const resources = { limits: { cpu: '10m', memory: '32Mi' }, requests: { cpu: '10m', memory: '32Mi' } };
  return {
    containers: [
      {
        name: 'app',
        image: `registry.example.invalid/bench/${app}:1.4.2`,
        command: ['/app/server'],
        args: ['--port=8080', '--log-format=json', '--metrics-port=9090'],
        ports: [
          { name: 'http', containerPort: 8080 },
          { name: 'metrics', containerPort: 9090 },
        ],
        env: [
          ...['LOG_LEVEL', 'REGION', 'FEATURE_FLAGS', 'DB_HOST', 'DB_POOL', 'CACHE_URL', 'OTEL_EXPORTER', 'TIMEOUT_MS'].map((name, i) => ({ name, value: `value-${i}-${app}` })),
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        resources,
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 10 },
        livenessProbe: { httpGet: { path: '/live', port: 8080 }, periodSeconds: 20, failureThreshold: 3 },
        volumeMounts: [
          { name: 'config', mountPath: '/etc/app' },
          { name: 'cache', mountPath: '/var/cache/app' },
        ],
      },
    ],
    volumes: [
      { name: 'config', configMap: { name: `${app}-config` } },
      { name: 'cache', emptyDir: {} },
    ],
    terminationGracePeriodSeconds: 5,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The cluster side: namespaces, deployments, the benchmark's own watches

interface Cluster {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly co: k8s.CustomObjectsApi;
  readonly runId: string;
  readonly opsNamespace: string;
  readonly namespaces: string[];
  readonly pods: Informer<k8s.V1Pod>;
  readonly actions: Informer<Action>;
  readonly policies: Informer<Policy>;
  readonly clusterPolicies: Informer<Policy>;
  /** Per pod key ns/name: when our watch saw restartCount cross 1 (only for pods we made crash). */
  readonly crossings: Map<string, number>;
  /** Per target pod key: when our watch saw the first HealingAction for it ADDED. */
  readonly actionAdded: Map<string, number>;
  /** Per target pod key: how many HealingActions name it. */
  readonly actionsPerTarget: Map<string, number>;
  /** Pods we made crash → when (wallNow). */
  readonly crashed: Map<string, number>;
  /** Crashed pods' deletions seen (key → time). */
  readonly deletions: Map<string, number>;
  /** Per policy name: when our watch first saw a status with lastEvaluated. */
  readonly policyEvaluated: Map<string, { at: number; ready: boolean }>;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const restartCount = (pod: k8s.V1Pod): number => (pod.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0);
const isReady = (pod: k8s.V1Pod): boolean => pod.metadata?.deletionTimestamp === undefined && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function openCluster(): Promise<Cluster> {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const runId = (process.env['BENCH_RUN_ID'] ?? randomBytes(3).toString('hex')).toLowerCase();
  const existing = (await core.listNamespace({ labelSelector: `${RUN_LABEL}=${runId}` })).items.map((n) => n.metadata?.name ?? '').filter((n) => n.startsWith(`bsc-${runId}-`)).sort();
  const opsNamespace = `bench-ops-${runId}`;
  await core.createNamespace({ body: { metadata: { name: opsNamespace, labels: { 'kubeskippy.io/test': 'true' } } } }).catch((e: unknown) => {
    if (!(e instanceof k8s.ApiException && e.code === 409)) throw e;
  });
  const selector = `${RUN_LABEL}=${runId}`;
  const pods = new Informer<k8s.V1Pod>({
    name: 'bench-pods',
    clock: systemClock,
    source: createKubeListWatch<k8s.V1Pod>(kc, { path: '/api/v1/pods', labelSelector: selector, list: (s) => core.listPodForAllNamespaces({ labelSelector: selector }, requestOptions(s)) }),
  });
  const custom = <T extends k8s.KubernetesObject>(plural: string): Informer<T> =>
    new Informer<T>({
      name: `bench-${plural}`,
      clock: systemClock,
      source: createKubeListWatch<T>(kc, {
        path: `/apis/${GROUP}/${VERSION}/${plural}`,
        list: async (s) => (await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural }, requestOptions(s))) as k8s.KubernetesListObject<T>,
      }),
    });
  const c: Cluster = {
    kc,
    core,
    apps,
    co,
    runId,
    opsNamespace,
    namespaces: existing,
    pods,
    actions: custom<Action>('healingactions'),
    policies: custom<Policy>('healingpolicies'),
    clusterPolicies: custom<Policy>('clusterhealingpolicies'),
    crossings: new Map(),
    actionAdded: new Map(),
    actionsPerTarget: new Map(),
    crashed: new Map(),
    deletions: new Map(),
    policyEvaluated: new Map(),
  };
  const onPod = (pod: k8s.V1Pod): void => {
    const at = wallNow();
    const key = keyOf(pod);
    if (c.crashed.has(key) && !c.crossings.has(key) && restartCount(pod) > 1) c.crossings.set(key, at);
  };
  pods.addHandler({
    onAdd: onPod,
    onUpdate: onPod,
    onDelete: (pod) => {
      const key = keyOf(pod);
      if (c.crashed.has(key) && !c.deletions.has(key)) c.deletions.set(key, wallNow());
    },
  });
  c.actions.addHandler({
    onAdd: (a) => {
      const at = wallNow();
      const t = a.spec.targetResource;
      const key = `${t.namespace}/${t.name}`;
      c.actionsPerTarget.set(key, (c.actionsPerTarget.get(key) ?? 0) + 1);
      if (!c.actionAdded.has(key)) c.actionAdded.set(key, at);
    },
  });
  const onPolicy = (p: Policy): void => {
    const name = p.metadata?.name ?? '';
    if (p.status?.lastEvaluated !== undefined && !c.policyEvaluated.has(name)) {
      c.policyEvaluated.set(name, { at: wallNow(), ready: (p.status.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True') });
    }
  };
  for (const inf of [c.policies, c.clusterPolicies]) inf.addHandler({ onAdd: onPolicy, onUpdate: onPolicy });
  for (const inf of [pods, c.actions, c.policies, c.clusterPolicies] as Informer<k8s.KubernetesObject>[]) inf.start();
  await waitFor('the benchmark watches to sync', () => Promise.resolve([pods, c.actions, c.policies, c.clusterPolicies].every((i) => i.hasSynced())), 120_000, 100);
  return c;
}

function deploymentsPerNamespace(): number {
  return Math.max(1, Math.round(SETTINGS.podsPerNamespace / SETTINGS.replicas));
}

/** Grows the bench to `size` pods (namespaces of podsPerNamespace) and waits until they are all Ready. */
async function growTo(c: Cluster, size: number): Promise<void> {
  const wanted = Math.max(2, Math.ceil(size / SETTINGS.podsPerNamespace));
  const started = wallNow();
  if (c.namespaces.length > wanted) {
    // A reused run bigger than this size: shrink it (the operator's informers cache every pod in the cluster).
    const extra = c.namespaces.splice(wanted);
    log(`deleting ${extra.length} namespaces to get down to ${size} pods`);
    await inPool(extra, 8, (ns) => c.core.deleteNamespace({ name: ns }).catch(() => undefined));
    const limit = wanted * deploymentsPerNamespace() * SETTINGS.replicas;
    await waitFor(`at most ${limit} bench pods`, () => Promise.resolve(c.pods.list().length <= limit), SETTINGS.podsTimeoutSeconds * 1000, 1000);
  }
  const fresh: string[] = [];
  for (let i = c.namespaces.length; i < wanted; i++) fresh.push(`bsc-${c.runId}-${String(i).padStart(3, '0')}`);
  if (fresh.length > 0) log(`creating ${fresh.length} namespaces × ${deploymentsPerNamespace()} Deployments × ${SETTINGS.replicas} replicas`);
  await inPool(fresh, 4, async (ns) => {
    await c.core.createNamespace({ body: { metadata: { name: ns, labels: { [RUN_LABEL]: c.runId, 'kubeskippy.io/test': 'true' } } } }).catch((e: unknown) => {
      if (!(e instanceof k8s.ApiException && e.code === 409)) throw e;
    });
    await waitFor(`default ServiceAccount in ${ns}`, async () => {
      try {
        await c.core.readNamespacedServiceAccount({ name: 'default', namespace: ns });
        return true;
      } catch {
        return false;
      }
    }, 60_000);
    for (let d = 0; d < deploymentsPerNamespace(); d++) {
      const app = `svc-${d}`;
      const labels = { app, [RUN_LABEL]: c.runId };
      await c.apps
        .createNamespacedDeployment({
          namespace: ns,
          body: {
            metadata: { name: app, labels },
            spec: {
              replicas: SETTINGS.replicas,
              selector: { matchLabels: { app } },
              // Replacements start at once (the default 25% surge would do too; this keeps rollouts out of it).
              template: { metadata: { labels, annotations: { 'example.com/owner': 'team-bench', 'example.com/revision': '42' } }, spec: benchPodSpec(app) },
            },
          },
        })
        .catch((e: unknown) => {
          if (!(e instanceof k8s.ApiException && e.code === 409)) throw e;
        });
    }
  });
  c.namespaces.push(...fresh);
  const target = c.namespaces.length * deploymentsPerNamespace() * SETTINGS.replicas;
  let lastLog = 0;
  await waitFor(
    `${target} bench pods Ready`,
    () => {
      const ready = c.pods.list().filter(isReady).length;
      if (wallNow() - lastLog > 30_000) {
        lastLog = wallNow();
        log(`${ready}/${target} pods Ready (load ${loadAverage().join(' ')})`);
      }
      return Promise.resolve(ready >= target);
    },
    SETTINGS.podsTimeoutSeconds * 1000,
    1000,
  );
  log(`${target} pods Ready in ${c.namespaces.length} namespaces (${Math.round((wallNow() - started) / 1000)} s)`);
}

// ---------------------------------------------------------------------------------------------------------------
// Policies

interface PolicySet {
  readonly clusterPolicy: string;
  readonly namespaced: { namespace: string; name: string; fires: boolean }[];
  /** Namespaces where a restart_count policy fires. */
  readonly firingNamespaces: string[];
}

/** Triggers that never fire in the benchmark, evaluated all the same. */
function quietTrigger(i: number): Record<string, unknown> {
  const cooldownPeriod = '1h';
  switch (i % 5) {
    case 0:
      return { name: 'unready', type: 'metric', metricTrigger: { query: 'ready', operator: '==', threshold: 0, duration: '10m' }, cooldownPeriod };
    case 1:
      return { name: 'crashloop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff', status: 'True', duration: '10m' }, cooldownPeriod };
    case 2:
      return { name: 'restart-rate', type: 'metric', metricTrigger: { query: 'restart_rate', threshold: 1000 }, cooldownPeriod };
    case 3:
      return { name: 'backoff-events', type: 'event', eventTrigger: { reason: 'BackOff', type: 'Warning', count: 1000, window: '10m' }, cooldownPeriod };
    default:
      return { name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 95, duration: '5m' }, cooldownPeriod };
  }
}

function policySpec(c: Cluster, trigger: Record<string, unknown>): Record<string, unknown> {
  return {
    selector: { labelSelector: { matchLabels: { [RUN_LABEL]: c.runId } } },
    triggers: [trigger],
    actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    safetyRules: { maxActionsPerHour: 10000, maxUnavailable: '20%' },
    mode: 'automatic',
  };
}

async function createPolicies(c: Cluster, count: number, tag: string): Promise<PolicySet> {
  const clusterPolicy = `bench-fleet-${c.runId}-${tag}`;
  await c.co.createClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'clusterhealingpolicies',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ClusterHealingPolicy',
      metadata: { name: clusterPolicy },
      spec: {
        ...policySpec(c, { name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 95, duration: '3m' }, cooldownPeriod: '1h' }),
        selector: { namespaceSelector: { matchLabels: { [RUN_LABEL]: c.runId } }, labelSelector: { matchLabels: { [RUN_LABEL]: c.runId } } },
      },
    },
  });
  const namespaced: PolicySet['namespaced'] = [];
  for (let j = 0; j < count - 1; j++) {
    const namespace = c.namespaces[j % c.namespaces.length] ?? '';
    const fires = j < c.namespaces.length;
    namespaced.push({ namespace, name: `bench-${tag}-${String(j).padStart(3, '0')}`, fires });
  }
  await inPool(namespaced, 8, (p) =>
    c.co.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: p.namespace,
      plural: 'healingpolicies',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'HealingPolicy',
        metadata: { name: p.name, namespace: p.namespace },
        spec: policySpec(c, p.fires ? { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 1, operator: '>' }, cooldownPeriod: '1h' } : quietTrigger(namespaced.indexOf(p))),
      },
    }),
  );
  return { clusterPolicy, namespaced, firingNamespaces: [...new Set(namespaced.filter((p) => p.fires).map((p) => p.namespace))] };
}

async function deletePolicies(c: Cluster, set: PolicySet): Promise<void> {
  await c.co.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clusterhealingpolicies', name: set.clusterPolicy }).catch(() => undefined);
  await inPool(set.namespaced, 8, (p) => c.co.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: p.namespace, plural: 'healingpolicies', name: p.name }).catch(() => undefined));
}

/** Deletes every HealingAction of the bench, and the pods still crashing; waits until every Deployment is whole again. */
async function resetCluster(c: Cluster): Promise<void> {
  await inPool(c.namespaces, 8, (ns) => c.co.deleteCollectionNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'healingactions' }).catch(() => undefined));
  const crashing = c.pods.list().filter((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true');
  await inPool(crashing, 8, (p) => c.core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '', gracePeriodSeconds: 0 }).catch(() => undefined));
  const target = c.namespaces.length * deploymentsPerNamespace() * SETTINGS.replicas;
  await waitFor('every bench pod Ready and no HealingAction left', () => Promise.resolve(c.pods.list().filter(isReady).length >= target && c.actions.list().filter((a) => c.namespaces.includes(a.metadata?.namespace ?? '')).length === 0), 300_000, 1000).catch(() =>
    log('the bench did not return to its quiet state in 5 min; going on'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Crashing pods

/** Pods of Deployments in `namespaces`, one per Deployment (all of whose replicas are Ready), not crashed before. */
function crashCandidates(c: Cluster, namespaces: readonly string[]): k8s.V1Pod[] {
  const out: k8s.V1Pod[] = [];
  for (const ns of namespaces) {
    const byApp = new Map<string, k8s.V1Pod[]>();
    for (const p of c.pods.list(ns)) {
      const app = p.metadata?.labels?.['app'] ?? '';
      byApp.set(app, [...(byApp.get(app) ?? []), p]);
    }
    for (const pods of byApp.values()) {
      if (pods.length < SETTINGS.replicas || !pods.every(isReady)) continue;
      const pick = pods.find((p) => !c.crashed.has(keyOf(p)));
      if (pick) out.push(pick);
    }
  }
  return out;
}

async function crash(c: Cluster, pod: k8s.V1Pod): Promise<void> {
  const key = keyOf(pod);
  c.crashed.set(key, wallNow());
  await c.core.patchNamespacedPod({ name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', body: { metadata: { annotations: CRASH } } }, mergePatch);
}

/**
 * Crossing → ADDED on our watch per pod, and the part up to the operator's "created HealingAction" log line (its
 * create call returned): what is left is the watch delivering the action back to us.
 */
function latencies(c: Cluster, keys: readonly string[], created: ReadonlyMap<string, number> = new Map()): { dist: Distribution; toCreated: Distribution; missing: string[] } {
  const values: number[] = [];
  const toCreated: number[] = [];
  const missing: string[] = [];
  for (const k of keys) {
    const crossing = c.crossings.get(k);
    const added = c.actionAdded.get(k);
    if (crossing !== undefined && added !== undefined) values.push(Math.max(0, added - crossing));
    else missing.push(k);
    const made = created.get(k);
    if (crossing !== undefined && made !== undefined) toCreated.push(made - crossing);
  }
  return { dist: distribution(values), toCreated: distribution(toCreated), missing };
}

// ---------------------------------------------------------------------------------------------------------------
// One configuration

interface RunResult {
  readonly size: number;
  readonly pods: number;
  readonly namespaces: number;
  readonly policies: number;
  readonly error?: string;
  readonly startup?: { readyzSeconds: number; policiesEvaluatedSeconds: number | null; policiesEvaluated: number; readyTrueAtFirstStatus: number; load: number[] };
  readonly quiet?: {
    seconds: number;
    cpuSecondsPerMinute: number;
    cpuSecondsPerMinuteProc: number;
    rssMiB: number;
    heapUsedMiB: number;
    heapTotalMiB: number;
    externalMiB: number;
    requestsPerMinute: Record<string, number>;
    perMinuteByVerb: Record<string, number>;
    listsPerMinute: number;
    listsPerMinuteExcludingMetrics: number;
    /** Of those, the informers' one-object reads of a quiet collection's current version (not relists). */
    progressProbesPerMinute: number;
    metricsPollsPerMinute: number;
    leaseRequestsPerMinute: number;
    policyStatusWritesPerMinute: number;
    policyReconcilesPerMinute: number;
    load: number[];
  };
  readonly metricsPoll?: { polls: number; requestMsMean: number | null; recordMsMean: number | null; items: number; requests: number };
  readonly detection?: { firings: number; latencyMs: Distribution; crossingToCreatedMs: Distribution; missing: number; duplicateActions: number; load: number[] };
  readonly storm?: {
    pods: number;
    windowSeconds: number;
    latencyMs: Distribution;
    crossingToCreatedMs: Distribution;
    missing: number;
    allDetectedSeconds: number | null;
    requestsPerMinute: Record<string, number>;
    perMinuteByVerb: Record<string, number>;
    actionsCreatedPerMinute: number;
    actionsExecutedPerMinute: number;
    phases: Record<string, number>;
    blockedReasons: Record<string, number>;
    podDeletions: number;
    executedActions: number;
    cpuSeconds: number;
    load: number[];
  };
  readonly peakRssMiB?: number;
  readonly policyReconcileMeanMs?: number | null;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const r1 = (x: number): number => Math.round(x * 10) / 10;
const perMinute = (delta: Record<string, number>, minutes: number): Record<string, number> =>
  Object.fromEntries(Object.entries(delta).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, r1(v / minutes)]));

async function runConfig(c: Cluster, entry: string, size: number, policyCount: number): Promise<RunResult> {
  const tag = `${size}-${policyCount}`;
  const base = { size, pods: c.pods.list().length, namespaces: c.namespaces.length, policies: policyCount };
  log(`=== ${size} pods, ${policyCount} policies (${c.namespaces.length} namespaces); load ${loadAverage().join(' ')}`);
  c.policyEvaluated.clear();
  const set = await createPolicies(c, policyCount, tag.replace(/[^0-9a-z-]/g, ''));
  let op: OperatorProcess | undefined;
  // What was measured so far: a failure later keeps it.
  const partial: { -readonly [K in keyof RunResult]?: RunResult[K] } = {};
  try {
    const profDir = path.join(outDir, 'prof', `${SETTINGS.label || 'run'}-${tag}`);
    op = await startOperatorProcess(entry, {
      logName: `scale-${tag}.log`,
      ...(SETTINGS.cpuProf ? { cpuProfileDir: profDir } : {}),
      nodeFlags: [...SETTINGS.nodeFlags, ...(SETTINGS.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2'] : [])],
      ...(memoryCgroup === undefined ? {} : { memoryCgroup }),
      args: [
        '--kubeconfig',
        kubeconfigPath,
        '--namespace',
        c.opsNamespace,
        '--namespace-selector',
        `${RUN_LABEL}=${c.runId}`,
        '--leader-election-lease-name',
        'kubeskippy-bench',
        '--max-actions-per-hour',
        '100000',
        '--shutdown-timeout-seconds',
        '5',
        ...SETTINGS.operatorArgs,
      ],
    });
    const readyzSeconds = r1((wallNow() - op.spawnedAt) / 1000);
    const names = [set.clusterPolicy, ...set.namespaced.map((p) => p.name)];
    await waitFor('every policy evaluated', () => Promise.resolve(names.every((n) => c.policyEvaluated.has(n))), 180_000, 100).catch(() => log('not every policy got a status within 3 min'));
    const evaluated = names.map((n) => c.policyEvaluated.get(n)).filter((x) => x !== undefined);
    const lastAt = evaluated.length === names.length ? Math.max(...evaluated.map((e) => e.at)) : undefined;
    const startup = {
      readyzSeconds,
      policiesEvaluatedSeconds: lastAt === undefined ? null : r1((lastAt - op.spawnedAt) / 1000),
      policiesEvaluated: evaluated.length,
      readyTrueAtFirstStatus: evaluated.filter((e) => e.ready).length,
      load: loadAverage(),
    };
    partial.startup = startup;
    log(`/readyz after ${readyzSeconds} s; ${evaluated.length}/${names.length} policies evaluated after ${String(startup.policiesEvaluatedSeconds)} s`);

    // --- quiet window ---------------------------------------------------------------------------------------
    await sleep(SETTINGS.warmupSeconds * 1000);
    const q0 = await scrape(op);
    const p0 = processStats(op.pid);
    const t0 = wallNow();
    await sleep(SETTINGS.quietSeconds * 1000);
    const q1 = await scrape(op);
    const p1 = processStats(op.pid);
    const minutes = (wallNow() - t0) / 60_000;
    const delta = requestDelta(q0, q1);
    const cpu = sumOf(q1, 'process_cpu_seconds_total') - sumOf(q0, 'process_cpu_seconds_total');
    const sumDelta = (name: string, labels: Record<string, string> = {}): number => sumOf(q1, name, labels) - sumOf(q0, name, labels);
    const quietLists = Object.entries(delta).filter(([k]) => k.startsWith('list '));
    const quiet = {
      seconds: Math.round(minutes * 60),
      cpuSecondsPerMinute: Math.round((cpu / minutes) * 100) / 100,
      cpuSecondsPerMinuteProc: Math.round(((p1.cpuSeconds - p0.cpuSeconds) / minutes) * 100) / 100,
      rssMiB: mib(p1.rss),
      rssAnonMiB: mib(p1.rssAnon),
      rssFileMiB: mib(p1.rssFile),
      cpuSecondsPerMinuteByThread: Object.fromEntries(
        Object.entries(p1.threads).map(([name, s]) => [name, Math.round(((s - (p0.threads[name] ?? 0)) / minutes) * 100) / 100] as const).filter(([, v]) => v > 0),
      ),
      heapUsedMiB: mib(sumOf(q1, 'nodejs_heap_size_used_bytes')),
      heapTotalMiB: mib(sumOf(q1, 'nodejs_heap_size_total_bytes')),
      externalMiB: mib(sumOf(q1, 'nodejs_external_memory_bytes')),
      // Where the V8 heap is (used / committed per space): young generation, old objects, code, large objects.
      heapSpacesMiB: Object.fromEntries(
        q1
          .filter((s) => s.name === 'nodejs_heap_space_size_used_bytes')
          .map((s) => [s.labels['space'] ?? '?', [mib(s.value), mib(sumOf(q1, 'nodejs_heap_space_size_total_bytes', { space: s.labels['space'] ?? '?' }))]] as const),
      ),
      requestsPerMinute: perMinute(delta, minutes),
      perMinuteByVerb: byVerb(delta, minutes),
      listsPerMinute: r1(quietLists.reduce((a, [, v]) => a + v, 0) / minutes),
      listsPerMinuteExcludingMetrics: r1(quietLists.filter(([k]) => !k.includes('metrics.k8s.io')).reduce((a, [, v]) => a + v, 0) / minutes),
      progressProbesPerMinute: r1(sumDelta('kubeskippy_informer_progress_probes_total') / minutes),
      metricsPollsPerMinute: r1(sumDelta('kubeskippy_collector_poll_duration_seconds_count', { source: 'metrics-server', phase: 'request' }) / minutes),
      leaseRequestsPerMinute: r1(Object.entries(delta).filter(([k]) => k.includes('leases.')).reduce((a, [, v]) => a + v, 0) / minutes),
      policyStatusWritesPerMinute: r1(Object.entries(delta).filter(([k]) => k.includes('healingpolicies.kubeskippy.io/status')).reduce((a, [, v]) => a + v, 0) / minutes),
      policyReconcilesPerMinute: r1(sumDelta('kubeskippy_reconcile_duration_seconds_count', { controller: 'healing-policy' }) / minutes),
      load: loadAverage(),
      // Seconds since the operator was spawned (≈ its CPU profile's start): `cpuprofile-summary.mjs FILE top FROM TO`.
      windowSinceSpawnSeconds: [r1((t0 - op.spawnedAt) / 1000), r1((t0 - op.spawnedAt) / 1000 + minutes * 60)],
    };
    const polls = sumDelta('kubeskippy_collector_poll_duration_seconds_count', { source: 'metrics-server', phase: 'request' });
    const metricsPoll = {
      polls,
      requestMsMean: polls > 0 ? r1((sumDelta('kubeskippy_collector_poll_duration_seconds_sum', { source: 'metrics-server', phase: 'request' }) / polls) * 1000) : null,
      recordMsMean: polls > 0 ? r1((sumDelta('kubeskippy_collector_poll_duration_seconds_sum', { source: 'metrics-server', phase: 'record' }) / polls) * 1000) : null,
      items: sumOf(q1, 'kubeskippy_collector_poll_objects', { source: 'metrics-server', kind: 'items' }),
      requests: sumOf(q1, 'kubeskippy_collector_poll_objects', { source: 'metrics-server', kind: 'requests' }),
    };
    partial.quiet = quiet;
    partial.metricsPoll = metricsPoll;
    log(
      `quiet: CPU ${quiet.cpuSecondsPerMinute} s/min, by thread ${JSON.stringify(quiet.cpuSecondsPerMinuteByThread)}, RSS ${quiet.rssMiB} MiB (anon ${quiet.rssAnonMiB}, file ${quiet.rssFileMiB}), heap ${quiet.heapUsedMiB}/${quiet.heapTotalMiB} MiB ${JSON.stringify(quiet.heapSpacesMiB)}; requests/min ${JSON.stringify(quiet.perMinuteByVerb)}; ` +
        `LIST/min ${quiet.listsPerMinute} (${quiet.listsPerMinuteExcludingMetrics} besides metrics.k8s.io, ${quiet.progressProbesPerMinute} of them one-object version probes); poll ${String(metricsPoll.requestMsMean)}+${String(metricsPoll.recordMsMean)} ms for ${metricsPoll.items} pods`,
    );
    if (SETTINGS.heapSnapshot) await takeHeapSnapshot(op, tag);

    // --- detection -------------------------------------------------------------------------------------------
    const detectionKeys: string[] = [];
    const beforeDetection = await scrape(op);
    if (SETTINGS.firings > 0) {
      const candidates = crashCandidates(c, set.firingNamespaces);
      for (let i = 0; i < SETTINGS.firings && candidates.length > 0; i++) {
        const pod = candidates[i % candidates.length];
        if (pod === undefined) break;
        // Reuse a Deployment only with another of its pods (the first one is being replaced).
        const fresh = i < candidates.length ? pod : c.pods.list(pod.metadata?.namespace).find((p) => p.metadata?.labels?.['app'] === pod.metadata?.labels?.['app'] && isReady(p) && !c.crashed.has(keyOf(p)));
        if (!fresh) continue;
        detectionKeys.push(keyOf(fresh));
        await crash(c, fresh);
        await sleep(SETTINGS.spacingMs);
      }
      await waitFor(`${detectionKeys.length} HealingActions`, () => Promise.resolve(detectionKeys.every((k) => c.actionAdded.has(k))), 90_000, 100).catch(() => log('some crash-looping pods got no HealingAction within 90 s'));
    }
    const det = latencies(c, detectionKeys, createdTimes(op.lines()));
    const afterDetection = await scrape(op);
    const detection = {
      firings: detectionKeys.length,
      latencyMs: det.dist,
      crossingToCreatedMs: det.toCreated,
      missing: det.missing.length,
      duplicateActions: detectionKeys.reduce((a, k) => a + Math.max(0, (c.actionsPerTarget.get(k) ?? 0) - 1), 0),
      load: loadAverage(),
    };
    partial.detection = detection;
    const reconciles = sumOf(afterDetection, 'kubeskippy_reconcile_duration_seconds_count', { controller: 'healing-policy' }) - sumOf(beforeDetection, 'kubeskippy_reconcile_duration_seconds_count', { controller: 'healing-policy' });
    const reconcileSeconds = sumOf(afterDetection, 'kubeskippy_reconcile_duration_seconds_sum', { controller: 'healing-policy' }) - sumOf(beforeDetection, 'kubeskippy_reconcile_duration_seconds_sum', { controller: 'healing-policy' });
    log(`detection: ${det.dist.count}/${detectionKeys.length} fired; p50 ${det.dist.p50} ms, p99 ${det.dist.p99} ms, max ${det.dist.max} ms (to the operator's create: p50 ${det.toCreated.p50}, p99 ${det.toCreated.p99}); ${reconciles} policy reconciles, mean ${reconciles > 0 ? r1((reconcileSeconds / reconciles) * 1000) : '-'} ms`);
    // Let the detection firings settle (executed, verified) before the storm.
    await waitFor('the detection actions to settle', () => Promise.resolve(c.actions.list().filter((a) => detectionKeys.includes(`${a.spec.targetResource.namespace}/${a.spec.targetResource.name}`)).every((a) => TERMINAL.has(a.status?.phase ?? ''))), 120_000, 500).catch(() =>
      log('some detection actions did not settle in 2 min'),
    );
    await sleep(5000);

    // --- storm -----------------------------------------------------------------------------------------------
    let storm: RunResult['storm'];
    const stormCandidates = crashCandidates(c, set.firingNamespaces).slice(0, SETTINGS.stormPods);
    if (stormCandidates.length > 0) {
      const keys = stormCandidates.map(keyOf);
      const s0 = await scrape(op);
      const ps0 = processStats(op.pid);
      const st0 = wallNow();
      await inPool(stormCandidates, 16, (p) => crash(c, p));
      let allDetectedAt: number | undefined;
      while (wallNow() - st0 < SETTINGS.stormSeconds * 1000) {
        if (allDetectedAt === undefined && keys.every((k) => c.actionAdded.has(k))) allDetectedAt = wallNow();
        await sleep(200);
      }
      const s1 = await scrape(op);
      const ps1 = processStats(op.pid);
      const windowMinutes = (wallNow() - st0) / 60_000;
      const stormDelta = requestDelta(s0, s1);
      const stormActions = c.actions.list().filter((a) => keys.includes(`${a.spec.targetResource.namespace}/${a.spec.targetResource.name}`));
      // Executed: reached InProgress (and was not reverted to Blocked by the check-after-write).
      const executed = stormActions.filter((a) => a.status?.startTime !== undefined && !(a.spec.dryRun ?? false) && ['InProgress', 'Verifying', 'Succeeded', 'Failed'].includes(a.status.phase ?? ''));
      const phases: Record<string, number> = {};
      const blockedReasons: Record<string, number> = {};
      for (const a of stormActions) {
        const phase = a.status?.phase ?? 'Pending';
        phases[phase] = (phases[phase] ?? 0) + 1;
        if (phase === 'Blocked') blockedReasons[a.status?.reason ?? '?'] = (blockedReasons[a.status?.reason ?? '?'] ?? 0) + 1;
      }
      const lat = latencies(c, keys, createdTimes(op.lines()));
      storm = {
        pods: keys.length,
        windowSeconds: Math.round(windowMinutes * 60),
        latencyMs: lat.dist,
        crossingToCreatedMs: lat.toCreated,
        missing: lat.missing.length,
        allDetectedSeconds: allDetectedAt === undefined ? null : r1((allDetectedAt - st0) / 1000),
        requestsPerMinute: perMinute(stormDelta, windowMinutes),
        perMinuteByVerb: byVerb(stormDelta, windowMinutes),
        actionsCreatedPerMinute: r1(stormActions.length / windowMinutes),
        actionsExecutedPerMinute: r1(executed.length / windowMinutes),
        phases,
        blockedReasons,
        podDeletions: keys.filter((k) => c.deletions.has(k)).length,
        executedActions: executed.length,
        cpuSeconds: r1(ps1.cpuSeconds - ps0.cpuSeconds),
        load: loadAverage(),
      };
      log(
        `storm of ${keys.length}: detection p50 ${lat.dist.p50} ms p99 ${lat.dist.p99} ms (all in ${String(storm.allDetectedSeconds)} s); ${storm.actionsExecutedPerMinute} executed/min; ` +
          `phases ${JSON.stringify(phases)}; requests/min ${JSON.stringify(storm.perMinuteByVerb)}; pods deleted ${storm.podDeletions}`,
      );
    }
    const peak = processStats(op.pid).peakRss;
    return { ...base, startup, quiet, metricsPoll, detection, ...(storm ? { storm } : {}), peakRssMiB: mib(peak), policyReconcileMeanMs: reconciles > 0 ? r1((reconcileSeconds / reconciles) * 1000) : null };
  } catch (e: unknown) {
    const exited = op !== undefined && op.child.exitCode !== null;
    const why = `${e instanceof Error ? e.message : String(e)}${exited ? ` (the operator had exited: ${op?.lines().filter((l) => l.includes('"kubeskippy stopped"')).at(-1) ?? 'no stop line'})` : ''}`;
    log(`failed: ${why}`);
    return { ...base, ...partial, ...(op ? { peakRssMiB: mib(processStatsOrZero(op.pid)) } : {}), error: why };
  } finally {
    await op?.stop();
    await deletePolicies(c, set);
    await resetCluster(c);
  }
}

function processStatsOrZero(pid: number): number {
  try {
    return processStats(pid).peakRss;
  } catch {
    return 0;
  }
}

async function takeHeapSnapshot(op: OperatorProcess, tag: string): Promise<void> {
  const dir = path.join(outDir, 'heap');
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(root).filter((f) => f.endsWith('.heapsnapshot')));
  op.child.kill('SIGUSR2');
  const file = await waitFor('the heap snapshot', () => Promise.resolve(readdirSync(root).find((f) => f.endsWith('.heapsnapshot') && !before.has(f))), 120_000, 500).catch(() => undefined);
  if (file === undefined) return;
  // Written once the size stops changing.
  let size = -1;
  for (;;) {
    await sleep(1000);
    const now = readFileSync(path.join(root, file)).length;
    if (now === size) break;
    size = now;
  }
  renameSync(path.join(root, file), path.join(dir, `${SETTINGS.label || 'run'}-${tag}.heapsnapshot`));
  log(`heap snapshot: .cache/bench/heap/${SETTINGS.label || 'run'}-${tag}.heapsnapshot`);
}

// ---------------------------------------------------------------------------------------------------------------
// Report

/** log-log slope of a figure between two sizes: 1 linear, < 1 sub-linear, > 1 worse than linear. */
function growth(a: number | null | undefined, b: number | null | undefined, sizeA: number, sizeB: number): string {
  if (a === null || a === undefined || b === null || b === undefined || !(a > 0) || !(b > 0)) return 'n/a';
  const slope = Math.log(b / a) / Math.log(sizeB / sizeA);
  const word = slope < 0.2 ? 'flat' : slope < 0.8 ? 'sub-linear' : slope <= 1.2 ? 'linear' : 'worse than linear';
  return `×${r1(b / a)} (slope ${slope.toFixed(2)}, ${word})`;
}

const FIGURES: { name: string; unit: string; target?: string; get: (r: RunResult) => number | null | undefined }[] = [
  { name: 'detection p50', unit: 'ms', target: `< ${TARGETS.detectionP50Ms}`, get: (r) => r.detection?.latencyMs.p50 },
  { name: 'detection p99', unit: 'ms', target: `< ${TARGETS.detectionP99Ms}`, get: (r) => r.detection?.latencyMs.p99 },
  { name: '  of which crossing → operator created it, p50', unit: 'ms', get: (r) => r.detection?.crossingToCreatedMs.p50 },
  { name: '  of which crossing → operator created it, p99', unit: 'ms', get: (r) => r.detection?.crossingToCreatedMs.p99 },
  { name: 'storm detection p50', unit: 'ms', get: (r) => r.storm?.latencyMs.p50 },
  { name: 'storm detection p99', unit: 'ms', get: (r) => r.storm?.latencyMs.p99 },
  { name: 'policies evaluated after start', unit: 's', target: `< ${TARGETS.readySeconds}`, get: (r) => r.startup?.policiesEvaluatedSeconds },
  { name: 'CPU per quiet minute', unit: 's', target: `< ${TARGETS.quietCpuSecondsPerMinute}`, get: (r) => r.quiet?.cpuSecondsPerMinute },
  { name: 'RSS (quiet)', unit: 'MiB', target: `< ${TARGETS.rssMiB} (250 MB)`, get: (r) => r.quiet?.rssMiB },
  { name: 'heap used (quiet)', unit: 'MiB', get: (r) => r.quiet?.heapUsedMiB },
  { name: 'peak RSS', unit: 'MiB', get: (r) => r.peakRssMiB },
  {
    name: 'LIST / quiet min (besides metrics.k8s.io and version probes)',
    unit: '',
    target: `${TARGETS.quietListsPerMinute}`,
    get: (r) => (r.quiet ? r1(r.quiet.listsPerMinuteExcludingMetrics - (r.quiet.progressProbesPerMinute ?? 0)) : undefined),
  },
  { name: 'informer version probes (LIST of one object) / quiet min', unit: '', get: (r) => r.quiet?.progressProbesPerMinute },
  { name: 'metrics.k8s.io LIST / quiet min', unit: '', get: (r) => r.quiet?.listsPerMinute !== undefined ? r1(r.quiet.listsPerMinute - r.quiet.listsPerMinuteExcludingMetrics) : undefined },
  { name: 'requests / quiet min (all)', unit: '', get: (r) => (r.quiet ? r1(Object.values(r.quiet.perMinuteByVerb).reduce((a, v) => a + v, 0)) : undefined) },
  { name: 'Lease requests / quiet min', unit: '', get: (r) => r.quiet?.leaseRequestsPerMinute },
  { name: 'policy status writes / quiet min', unit: '', get: (r) => r.quiet?.policyStatusWritesPerMinute },
  { name: 'policy reconciles / quiet min', unit: '', get: (r) => r.quiet?.policyReconcilesPerMinute },
  { name: 'metrics.k8s.io poll (request + record)', unit: 'ms', get: (r) => (r.metricsPoll?.requestMsMean === null || r.metricsPoll === undefined ? undefined : r1((r.metricsPoll.requestMsMean ?? 0) + (r.metricsPoll.recordMsMean ?? 0))) },
  { name: 'storm: requests / min (all)', unit: '', get: (r) => (r.storm ? r1(Object.values(r.storm.perMinuteByVerb).reduce((a, v) => a + v, 0)) : undefined) },
  { name: 'storm: LIST / min', unit: '', get: (r) => r.storm?.perMinuteByVerb['list'] ?? (r.storm ? 0 : undefined) },
  { name: 'storm: actions executed / min', unit: '', get: (r) => r.storm?.actionsExecutedPerMinute },
  { name: 'storm: operator CPU', unit: 's', get: (r) => r.storm?.cpuSeconds },
];

function markdown(results: readonly RunResult[], meta: Record<string, unknown>): string {
  const out: string[] = [];
  out.push(`# Scale benchmark ${String(meta['date'])}${SETTINGS.label ? ` (${SETTINGS.label})` : ''}`, '');
  out.push(`Machine: ${String(meta['cpus'])} CPUs (${String(meta['cpuModel'])}), ${String(meta['memoryGiB'])} GiB, Node ${String(meta['node'])}; the API server, etcd, kwok and other sessions' clusters share it.`);
  out.push(`Settings: ${JSON.stringify(meta['settings'])}`, `Memory: ${JSON.stringify(meta['memory'] ?? null)}`, '');
  const sizes = [...new Set(results.map((r) => r.size))];
  for (const p of [...new Set(results.map((r) => r.policies))]) {
    const rows = sizes.map((s) => results.find((r) => r.size === s && r.policies === p));
    out.push(`## ${p} policies`, '');
    out.push(`| figure | ${sizes.map((s) => `${s} pods`).join(' | ')} | target (5 000 pods, 100 policies) | growth 100 → 5 000 |`);
    out.push(`|---|${sizes.map(() => '---:').join('|')}|---|---|`);
    for (const f of FIGURES) {
      const vals = rows.map((r) => (r === undefined ? undefined : f.get(r)));
      const at = (size: number): number | null | undefined => {
        const r = results.find((x) => x.size === size && x.policies === p);
        return r === undefined ? undefined : f.get(r);
      };
      out.push(`| ${f.name}${f.unit ? ` (${f.unit})` : ''} | ${vals.map((v) => (v === undefined || v === null ? '–' : String(v))).join(' | ')} | ${f.target ?? ''} | ${growth(at(100), at(5000), 100, 5000)} |`);
    }
    out.push(`| load average (1 min) in the quiet window | ${rows.map((r) => (r?.quiet ? String(r.quiet.load[0]) : '–')).join(' | ')} | | |`);
    out.push(`| load average (1 min) after the storm | ${rows.map((r) => (r?.storm ? String(r.storm.load[0]) : '–')).join(' | ')} | | |`);
    const errors = rows.filter((r) => r?.error !== undefined);
    if (errors.length > 0) out.push('', ...errors.map((r) => `- ${String(r?.size)} pods: ${String(r?.error)}`));
    out.push('');
  }
  out.push('Quiet-minute requests by verb and resource:', '');
  for (const r of results) if (r.quiet) out.push(`- ${r.size} pods, ${r.policies} policies: ${Object.entries(r.quiet.requestsPerMinute).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push('', 'Storm requests by verb and resource (per minute), phases and pods deleted:', '');
  for (const r of results) {
    if (r.storm) {
      out.push(
        `- ${r.size} pods, ${r.policies} policies, ${r.storm.pods} crashing: ${Object.entries(r.storm.requestsPerMinute).map(([k, v]) => `${k} ${v}`).join(', ')}; phases ${JSON.stringify(r.storm.phases)}` +
          `${Object.keys(r.storm.blockedReasons).length > 0 ? `, blocked ${JSON.stringify(r.storm.blockedReasons)}` : ''}; executed ${r.storm.executedActions}, pods deleted ${r.storm.podDeletions}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

function chartHtml(results: readonly RunResult[], title: string): string {
  const uplotDir = path.join(root, 'node_modules/uplot/dist');
  const js = readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8');
  const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
  const policyCounts = [...new Set(results.map((r) => r.policies))];
  const charts = [
    { title: 'Detection latency (ms)', figures: ['detection p50', 'detection p99', 'storm detection p99'] },
    { title: 'CPU per quiet minute (s)', figures: ['CPU per quiet minute'] },
    { title: 'Memory (MiB)', figures: ['RSS (quiet)', 'heap used (quiet)', 'peak RSS'] },
    { title: 'Policies evaluated after start (s)', figures: ['policies evaluated after start'] },
    { title: 'Requests per quiet minute', figures: ['requests / quiet min (all)', 'policy status writes / quiet min', 'Lease requests / quiet min'] },
  ].map((ch) => {
    const series: { label: string; values: (number | null)[] }[] = [];
    for (const f of ch.figures) {
      const fig = FIGURES.find((x) => x.name === f);
      if (!fig) continue;
      for (const p of policyCounts) {
        series.push({ label: `${f}, ${p} policies`, values: sizes.map((s) => { const r = results.find((x) => x.size === s && x.policies === p); const v = r === undefined ? undefined : fig.get(r); return v === undefined ? null : v; }) });
      }
    }
    return { title: ch.title, series };
  });
  const data = JSON.stringify({ sizes, charts });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>${css} body{font-family:sans-serif;margin:20px} .chart{display:inline-block;margin:10px}</style></head>
<body><h1>${title}</h1><p>x: pods served (log scale). See the .md file next to this one for the table and the machine's load.</p><div id="charts"></div>
<script>${js}</script>
<script>
const D = ${data};
const colors = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];
for (const ch of D.charts) {
  const el = document.createElement('div'); el.className = 'chart'; document.getElementById('charts').appendChild(el);
  new uPlot({ title: ch.title, width: 560, height: 320, scales: { x: { time: false, distr: 3 } },
    axes: [{ label: 'pods' }, {}],
    series: [{ label: 'pods' }, ...ch.series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, dash: s.label.includes(', 100 policies') ? [6, 4] : undefined, points: { show: true } }))] },
    [D.sizes, ...ch.series.map((s) => s.values)], el);
}
</script></body></html>
`;
}

// ---------------------------------------------------------------------------------------------------------------

/** The memory cgroup every operator process of this run starts in (SETTINGS.memoryLimitBytes), if one could be made. */
let memoryCgroup: MemoryCgroup | undefined;

async function run(): Promise<void> {
  const startedAt = new Date();
  mkdirSync(outDir, { recursive: true });
  const entry = buildOperator();
  const cgroup = SETTINGS.memoryLimitBytes > 0 ? makeMemoryCgroup(SETTINGS.memoryLimitBytes, `kubeskippy-bench-${process.pid}`) : { reason: 'BENCH_MEMORY_LIMIT=0' };
  memoryCgroup = 'dir' in cgroup ? cgroup : undefined;
  log('dir' in cgroup ? `the operator runs in the memory cgroup ${cgroup.dir} (limit ${(cgroup.limitBytes / 2 ** 20).toFixed(0)} MiB)` : `the operator runs without a memory limit: ${cgroup.reason}`);
  await ensureCrds();
  const c = await openCluster();
  log(`run ${c.runId}; settings ${JSON.stringify(SETTINGS)}; ${c.namespaces.length} namespaces reused`);
  const results: RunResult[] = [];
  const date = startedAt.toISOString().slice(0, 10);
  const name = `${date}${SETTINGS.label ? `-${SETTINGS.label}` : ''}`;
  const resultsDir = path.join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const meta = {
    date: startedAt.toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    settings: { ...SETTINGS, operatorArgs: SETTINGS.operatorArgs.join(' ') },
    // Where the operator ran: its memory cgroup (and the OOM kills in it, at the end), or why there was none.
    memory: ('dir' in cgroup ? { cgroup: cgroup.dir, limitBytes: cgroup.limitBytes, oomKills: cgroup.oomKills() ?? null } : { cgroup: null, reason: cgroup.reason }) as Record<string, unknown>,
    runId: c.runId,
  };
  const write = (): void => {
    writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify({ ...meta, targets: TARGETS, results }, null, 2)}\n`);
    writeFileSync(path.join(resultsDir, `${name}.md`), markdown(results, meta));
    writeFileSync(path.join(resultsDir, `${name}.html`), chartHtml(results, `KubeSkippy scale benchmark ${name}`));
  };
  try {
    for (const size of SETTINGS.sizes) {
      try {
        await growTo(c, size);
      } catch (e: unknown) {
        log(`cannot grow to ${size} pods: ${e instanceof Error ? e.message : String(e)}; stopping here`);
        results.push({ size, pods: c.pods.list().length, namespaces: c.namespaces.length, policies: 0, error: `could not reach ${size} Ready pods: ${e instanceof Error ? e.message : String(e)}` });
        break;
      }
      for (const p of SETTINGS.policies) {
        results.push(await runConfig(c, entry, size, p));
        write();
      }
    }
  } finally {
    if (memoryCgroup !== undefined) meta.memory['oomKills'] = memoryCgroup.oomKills() ?? null;
    write();
    memoryCgroup?.remove();
    await Promise.all([c.pods.stop(), c.actions.stop(), c.policies.stop(), c.clusterPolicies.stop()]);
    if (!SETTINGS.keep) {
      log('deleting the bench namespaces');
      await inPool([...c.namespaces, c.opsNamespace], 8, (ns) => c.core.deleteNamespace({ name: ns }).catch(() => undefined));
    } else {
      log(`kept the namespaces: BENCH_RUN_ID=${c.runId} reuses them`);
    }
  }
  console.log(`\n${readFileSync(path.join(resultsDir, `${name}.md`), 'utf8')}`);
  console.log(table([['written', path.relative(root, path.join(resultsDir, `${name}.{json,md,html}`))]]));
  if (existsSync(path.join(outDir, 'prof'))) log('CPU profiles (if asked for) are in .cache/bench/prof/');
}

test('benchmark: scale (pods × policies)', async () => {
  await run();
}, 6 * 3600_000);

