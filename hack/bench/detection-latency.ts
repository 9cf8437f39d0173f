/**
 * Benchmark (not a test; `npm test` never runs it): the operator's DETECTION LATENCY and its STEADY-STATE API LOAD,
 * measured on the local cluster with the real operator running as its own process.
 *
 * Run (the local cluster must be up — `npm run cluster:up`; the benchmark never starts or stops it):
 *
 *   npx vitest run --config hack/bench/vitest.bench.config.ts
 *
 * (Vitest is only the TypeScript runner here: `node --experimental-strip-types` cannot load the project's sources,
 * whose imports name `.js` files and which use constructor parameter properties.) Takes 4½–5 minutes on 2 cores
 * and prints a table; the results go to .cache/bench/detection-latency.json, the operator's log to
 * .cache/bench/operator.log. Knobs (environment): BENCH_FIRINGS (120), BENCH_BATCH (20), BENCH_SPACING_MS (250),
 * BENCH_HEALTHY_PODS (100), BENCH_WARMUP_SECONDS (30), BENCH_STEADY_SECONDS (150); BENCH_OPERATOR_ARGS (extra
 * `kubeskippy run` flags, space-separated, e.g. "--resync-seconds 60"); BENCH_CPU_PROF=1 also writes a V8 CPU
 * profile of the operator to .cache/bench/prof/.
 *
 * What it does:
 * 1. Compiles src/ with tsconfig.build.json into .cache/bench/operator (always the current sources, never a stale
 *    dist/), creates a namespace of its own with a dry-run HealingPolicy `restart_count > 1` (cooldown 1h, so each
 *    pod fires once) over `app=bench` pods, creates BENCH_HEALTHY_PODS healthy pods, and starts the operator
 *    (`kubeskippy run`, leader election on with a Lease in that namespace, namespaceSelector = that namespace only).
 * 2. Detection latency: creates crash-looping bare pods (kwok: crash-after 2s, back-off 2s) in batches, one every
 *    BENCH_SPACING_MS. Its own watch on the pods timestamps the receipt of the update whose restartCount first
 *    exceeds the threshold (the moment the status change is in the API); its own watch on HealingActions
 *    timestamps the receipt of ADDED. Latency = ADDED receipt − crossing receipt, per pod. The operator's
 *    "created HealingAction" log line (after the create call returned) splits it into detection+create and the
 *    watch delivery back. Each batch's pods are deleted once they have fired.
 * 3. Steady state: with the policy and the healthy pods left and nothing changing, waits for the dry-run actions to
 *    finish plus BENCH_WARMUP_SECONDS, then scrapes the operator's /metrics every 10 s for BENCH_STEADY_SECONDS
 *    and reports kubeskippy_api_requests_total per minute by verb and resource, the operator's RSS and CPU.
 * 4. Stops the operator, deletes the namespace.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import { requestOptions } from '../../src/k8s/client.js';
import { createKubeListWatch, Informer } from '../../src/k8s/informer.js';
import { systemClock } from '../../src/runtime/clock.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, TEST_NAMESPACE_SELECTOR, testKubeConfig, waitFor } from '../../test/support/cluster.js';
import { createPod, createPolicy, ensureCrds } from '../../test/support/resources.js';
import {
  apiRequests,
  buildOperator,
  distribution,
  envInt,
  inPool,
  log,
  outDir,
  processStats,
  root,
  scrape,
  sleep,
  startOperatorProcess as startOperator,
  sumOf,
  table,
  wallNow,
  type Distribution,
  type OperatorProcess,
} from './lib.js';

const SETTINGS = {
  firings: envInt('BENCH_FIRINGS', 120),
  batch: Math.max(1, envInt('BENCH_BATCH', 20)),
  spacingMs: envInt('BENCH_SPACING_MS', 250),
  healthyPods: envInt('BENCH_HEALTHY_PODS', 100),
  warmupSeconds: envInt('BENCH_WARMUP_SECONDS', 30),
  steadySeconds: Math.max(30, envInt('BENCH_STEADY_SECONDS', 150)),
  threshold: 1,
  crashAfter: '2s',
  backoff: '2s',
};

const LABELS = { app: 'bench' };
/** Small requests: the three fake nodes have 32 CPUs each, and other people's tests share them. */
const LIMITS = { cpu: '10m', memory: '32Mi' };
const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': SETTINGS.crashAfter, 'sim.kubeskippy.io/backoff': SETTINGS.backoff };

function startOperatorProcess(entry: string, namespace: string): Promise<OperatorProcess> {
  // BENCH_CPU_PROF=1: write a V8 CPU profile of the operator to .cache/bench/prof/ (open in Chrome DevTools).
  return startOperator(entry, {
    logName: 'operator.log',
    ...(process.env['BENCH_CPU_PROF'] === '1' ? { cpuProfileDir: path.join(outDir, 'prof') } : {}),
    args: [
      '--kubeconfig',
      kubeconfigPath,
      '--namespace-selector',
      TEST_NAMESPACE_SELECTOR,
      // Leader election as in production (one Lease renewal every retryPeriod), on a Lease of our own.
      '--namespace',
      namespace,
      '--leader-election-lease-name',
      'kubeskippy-bench',
      '--max-actions-per-hour',
      '100000',
      '--shutdown-timeout-seconds',
      '5',
      ...(process.env['BENCH_OPERATOR_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
    ],
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark

function restartCount(pod: k8s.V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0);
}

async function run(): Promise<void> {
  const startedAt = wallNow();
  mkdirSync(outDir, { recursive: true });
  const kc = testKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const entry = buildOperator();
  await ensureCrds();
  const ns = await createTestNamespace(kc, 'bench-detection');
  log(`namespace ${ns}; settings ${JSON.stringify(SETTINGS)}`);
  let operator: OperatorProcess | undefined;
  const stopWatches: (() => Promise<void>)[] = [];
  try {
    // Our own watches: the time a pod's crossing update and an action's ADDED reach a client of the API server.
    const crossings = new Map<string, { at: number; resourceVersion: string }>();
    const actionsSeen = new Map<string, { at: number; name: string }>();
    let duplicateActions = 0;
    const crashNames = new Set<string>();
    const pods = new Informer<k8s.V1Pod>({
      name: 'bench-pods',
      clock: systemClock,
      source: createKubeListWatch<k8s.V1Pod>(kc, { path: `/api/v1/namespaces/${ns}/pods`, list: (s) => core.listNamespacedPod({ namespace: ns }, requestOptions(s)) }),
    });
    const onPod = (pod: k8s.V1Pod): void => {
      const at = wallNow();
      const name = pod.metadata?.name ?? '';
      if (crashNames.has(name) && !crossings.has(name) && restartCount(pod) > SETTINGS.threshold) {
        crossings.set(name, { at, resourceVersion: pod.metadata?.resourceVersion ?? '' });
      }
    };
    pods.addHandler({ onAdd: onPod, onUpdate: onPod });
    const actions = new Informer<HealingAction & k8s.KubernetesObject>({
      name: 'bench-actions',
      clock: systemClock,
      source: createKubeListWatch<HealingAction & k8s.KubernetesObject>(kc, {
        path: `/apis/kubeskippy.io/v1alpha1/namespaces/${ns}/healingactions`,
        list: async (s) =>
          (await co.listNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingactions' }, requestOptions(s))) as k8s.KubernetesListObject<
            HealingAction & k8s.KubernetesObject
          >,
      }),
    });
    actions.addHandler({
      onAdd: (a) => {
        const at = wallNow();
        const target = a.spec.targetResource.name;
        if (actionsSeen.has(target)) duplicateActions++;
        else actionsSeen.set(target, { at, name: a.metadata.name ?? '' });
      },
    });
    stopWatches.push(() => pods.stop(), () => actions.stop());
    pods.start();
    actions.start();
    await waitFor('the benchmark watches to sync', () => Promise.resolve(pods.hasSynced() && actions.hasSynced()), 30_000, 50);

    await createPolicy(kc, ns, 'crashloop', {
      selector: { labelSelector: { matchLabels: LABELS } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: SETTINGS.threshold, operator: '>' }, cooldownPeriod: '1h' }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
      safetyRules: { maxActionsPerHour: 10000 },
      mode: 'dryrun',
    });
    const healthy = Array.from({ length: SETTINGS.healthyPods }, (_, i) => `healthy-${String(i).padStart(3, '0')}`);
    await inPool(healthy, 8, (name) => createPod(kc, ns, name, { labels: LABELS, limits: LIMITS }));
    await waitFor(
      `${healthy.length} healthy pods Ready`,
      () => Promise.resolve(healthy.every((n) => pods.get(ns, n)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))),
      120_000,
      500,
    );
    log(`${healthy.length} healthy pods ready; starting the operator`);

    operator = await startOperatorProcess(entry, ns);
    const op = operator;
    log(`operator ready (pid ${String(op.pid)}, ${op.url})`);
    const rssAtStart = processStats(op.pid).rss;
    const beforeLatency = await scrape(op);

    // --- Detection latency ---------------------------------------------------------------------------------
    const latencyStart = wallNow();
    let missing: string[] = [];
    for (let b = 0; b * SETTINGS.batch < SETTINGS.firings; b++) {
      const names = Array.from({ length: Math.min(SETTINGS.batch, SETTINGS.firings - b * SETTINGS.batch) }, (_, i) => `crash-b${b}-${String(i).padStart(2, '0')}`);
      for (const name of names) {
        crashNames.add(name);
        await createPod(kc, ns, name, { labels: LABELS, annotations: CRASH, limits: LIMITS });
        await sleep(SETTINGS.spacingMs);
      }
      const done = await waitFor(`batch ${b}: ${names.length} HealingActions`, () => Promise.resolve(names.every((n) => actionsSeen.has(n))), 90_000, 100).catch(() => false);
      const fired = names.filter((n) => actionsSeen.has(n)).length;
      if (!done) missing = [...missing, ...names.filter((n) => !actionsSeen.has(n))];
      const lat = names.flatMap((n) => {
        const c = crossings.get(n);
        const a = actionsSeen.get(n);
        return c && a ? [a.at - c.at] : [];
      });
      const d = distribution(lat);
      log(`batch ${b}: ${fired}/${names.length} fired; latency p50 ${d.p50} ms, max ${d.max} ms`);
      await inPool(names, 8, (name) => core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined));
    }
    const latencyEnd = wallNow();
    const afterLatency = await scrape(op);

    const created = new Map<string, number>();
    for (const line of op.lines()) {
      if (!line.includes('created HealingAction')) continue;
      try {
        const entryLine = JSON.parse(line) as { msg?: string; time?: string | number; target?: string };
        const name = entryLine.target?.split('/').at(-1);
        const t = typeof entryLine.time === 'number' ? entryLine.time : Date.parse(entryLine.time ?? '');
        if (entryLine.msg === 'created HealingAction' && name !== undefined && Number.isFinite(t) && !created.has(name)) created.set(name, t);
      } catch {
        // not a JSON log line
      }
    }
    const fired = [...crashNames].filter((n) => crossings.has(n) && actionsSeen.has(n));
    const latency = distribution(fired.map((n) => actionsSeen.get(n)!.at - crossings.get(n)!.at));
    const withLog = fired.filter((n) => created.has(n));
    const toCreated = distribution(withLog.map((n) => created.get(n)! - crossings.get(n)!.at));
    const toWatch = distribution(withLog.map((n) => actionsSeen.get(n)!.at - created.get(n)!));
    const latencyRequests = ((): Record<string, number> => {
      const before = apiRequests(beforeLatency);
      const out: Record<string, number> = {};
      for (const [k, v] of apiRequests(afterLatency)) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
      return out;
    })();
    const policyReconciles = sumOf(afterLatency, 'kubeskippy_reconcile_duration_seconds_count', { controller: 'healing-policy' }) - sumOf(beforeLatency, 'kubeskippy_reconcile_duration_seconds_count', { controller: 'healing-policy' });
    const policyReconcileSeconds = sumOf(afterLatency, 'kubeskippy_reconcile_duration_seconds_sum', { controller: 'healing-policy' }) - sumOf(beforeLatency, 'kubeskippy_reconcile_duration_seconds_sum', { controller: 'healing-policy' });

    // --- Steady state ----------------------------------------------------------------------------------------
    log('waiting for the dry-run actions to finish, then warming up');
    await waitFor(
      'every HealingAction in a terminal phase',
      () => Promise.resolve(actions.list().every((a) => ['Succeeded', 'Failed', 'Cancelled', 'Blocked'].includes(a.status?.phase ?? ''))),
      120_000,
      500,
    ).catch(() => log('some HealingActions are still not terminal; measuring anyway'));
    await waitFor('the crash pods to be gone', () => Promise.resolve([...crashNames].every((n) => pods.get(ns, n) === undefined)), 60_000, 500).catch(() => log('some crash pods are still there'));
    await sleep(SETTINGS.warmupSeconds * 1000);
    const pid = op.pid;
    const cpuStart = processStats(pid).cpuSeconds;
    const first = await scrape(op);
    const t0 = wallNow();
    const timeline: { atSeconds: number; requests: Record<string, number> }[] = [];
    let previous = apiRequests(first);
    log(`steady state: measuring for ${SETTINGS.steadySeconds} s`);
    while (wallNow() - t0 < SETTINGS.steadySeconds * 1000) {
      await sleep(Math.min(10_000, t0 + SETTINGS.steadySeconds * 1000 - wallNow()));
      const now = apiRequests(await scrape(op));
      const delta: Record<string, number> = {};
      for (const [k, v] of now) if (v - (previous.get(k) ?? 0) > 0) delta[k] = v - (previous.get(k) ?? 0);
      timeline.push({ atSeconds: Math.round((wallNow() - t0) / 100) / 10, requests: delta });
      previous = now;
    }
    const last = await scrape(op);
    const minutes = (wallNow() - t0) / 60_000;
    const stats = processStats(pid);
    const startCounts = apiRequests(first);
    const perMinute = [...apiRequests(last)]
      .map(([key, v]) => ({ key, count: v - (startCounts.get(key) ?? 0) }))
      .filter((r) => r.count > 0)
      .map((r) => ({ request: r.key, count: r.count, perMinute: Math.round((r.count / minutes) * 10) / 10 }))
      .sort((a, b) => b.perMinute - a.perMinute || a.request.localeCompare(b.request));
    const byVerb: Record<string, number> = {};
    for (const r of perMinute) {
      const verb = r.request.split(' ')[0] ?? '';
      byVerb[verb] = Math.round(((byVerb[verb] ?? 0) + r.perMinute) * 10) / 10;
    }
    const informerRestarts = sumOf(last, 'kubeskippy_informer_restarts_total');

    // --- Report ------------------------------------------------------------------------------------------------
    const result = {
      measuredAt: new Date(startedAt).toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
      settings: SETTINGS,
      namespace: ns,
      detectionLatencyMs: latency,
      breakdownMs: {
        crossingToCreated: toCreated,
        createdToWatchAdded: toWatch,
        policyReconciles,
        policyReconcileMeanMs: policyReconciles > 0 ? Math.round((policyReconcileSeconds / policyReconciles) * 10000) / 10 : null,
      },
      firings: { pods: crashNames.size, fired: fired.length, missing, duplicateActions, latencyPhaseSeconds: Math.round((latencyEnd - latencyStart) / 1000) },
      latencyPhaseRequests: latencyRequests,
      steadyState: {
        windowSeconds: Math.round(minutes * 60),
        healthyPods: SETTINGS.healthyPods,
        healingActions: actions.list().length,
        requestsPerMinute: perMinute,
        perMinuteByVerb: byVerb,
        listRequests: perMinute.filter((r) => r.request.startsWith('list ')).reduce((a, r) => a + r.count, 0),
        timeline,
        operatorRssAtStartMiB: Math.round((rssAtStart / 2 ** 20) * 10) / 10,
        operatorRssMiB: Math.round((stats.rss / 2 ** 20) * 10) / 10,
        operatorPeakRssMiB: Math.round((stats.peakRss / 2 ** 20) * 10) / 10,
        operatorCpuPercent: Math.round(((stats.cpuSeconds - cpuStart) / (minutes * 60)) * 1000) / 10,
        informerRestarts,
      },
      totalSeconds: Math.round((wallNow() - startedAt) / 1000),
    };
    writeFileSync(path.join(outDir, 'detection-latency.json'), `${JSON.stringify(result, null, 2)}\n`);

    const d = (x: Distribution): (string | number)[] => [x.count, x.p50, x.p90, x.p99, x.max];
    console.log(
      [
        '',
        `Detection latency (pod status change received → HealingAction ADDED received), ms — ${os.cpus().length} CPUs, load ${result.machine.loadAverage.join(' ')}`,
        table([
          ['', 'n', 'p50', 'p90', 'p99', 'max'],
          ['end to end', ...d(latency)],
          ['  crossing → operator created it', ...d(toCreated)],
          ['  created → ADDED on our watch', ...d(toWatch)],
        ]),
        `firings: ${fired.length}/${crashNames.size}, missing ${missing.length}, duplicates ${duplicateActions}; policy reconciles ${policyReconciles}, mean ${String(result.breakdownMs.policyReconcileMeanMs)} ms`,
        `API requests during the ${result.firings.latencyPhaseSeconds} s of firings: ${Object.entries(latencyRequests).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        '',
        `Steady state over ${result.steadyState.windowSeconds} s (${SETTINGS.healthyPods} healthy pods, ${result.steadyState.healingActions} HealingActions, 1 policy), API requests per minute`,
        table([['request', 'count', 'per min'], ...perMinute.map((r) => [r.request, r.count, r.perMinute])]),
        `by verb: ${JSON.stringify(byVerb)}; LIST requests: ${result.steadyState.listRequests}; informer restarts: ${informerRestarts}`,
        `operator RSS ${result.steadyState.operatorRssMiB} MiB (${result.steadyState.operatorRssAtStartMiB} MiB when it became ready, peak ${result.steadyState.operatorPeakRssMiB} MiB), CPU ${result.steadyState.operatorCpuPercent}% of one core`,
        `written to ${path.relative(root, path.join(outDir, 'detection-latency.json'))}; total ${result.totalSeconds} s`,
        '',
      ].join('\n'),
    );
  } finally {
    await operator?.stop();
    await Promise.all(stopWatches.map((stop) => stop()));
    await deleteTestNamespace(kc, ns);
    log(`cleaned up (namespace ${ns} deleted)`);
  }
}

test('benchmark: detection latency and steady-state API load', async () => {
  await run();
}, 15 * 60_000);
