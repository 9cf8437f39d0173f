/**
 * Fault 5 — a storm: 300 pods across 30 Deployments in one namespace start crash-looping at once (as when a shared
 * dependency dies). With the default storm suppression (more than 10 workloads failing in a namespace within 5
 * minutes is one incident) the operator must not restart them en masse: at most 10 workloads' pods are ever
 * mutated, every other firing is held as one incident (a StormSuppressed Event; any action the gate refuses says why), the global budget and breakers hold,
 * and the operator's own request rate to the API server (kubeskippy_api_requests_total, and the proxy's count)
 * stays bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { createPolicy, ensureCrds, readPolicy } from '../support/resources.js';
import { mutationOf, startApiProxy, type ApiProxy } from './support/api-proxy.js';
import { note, recordResult, sleep } from './support/common.js';
import { killAllOperators, spawnFaultOperator } from './support/operators.js';
import { accountMutations, actionsIn, apps, byReason, cleanupNamespaces, core, crashPod, deployment, FINISHED, faultNamespace, kc, livePods } from './support/scenario.js';

const WORKLOADS = 30;
const REPLICAS = 10;
const STORM_LIMIT = 10;
const OBSERVE_MS = 120_000;
/** How long the actions open at the end of the observation may take to reach a terminal phase. */
const DRAIN_MS = 420_000;

let proxy: ApiProxy;

beforeAll(async () => {
  await ensureCrds();
  proxy = startApiProxy();
}, 120_000);

afterAll(async () => {
  await killAllOperators();
  await cleanupNamespaces();
  await proxy.close();
});

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

describe('a storm of failures', () => {
  it(`${WORKLOADS * REPLICAS} pods of ${WORKLOADS} workloads crash at once: one incident, no mass restart, budgets hold, API rate bounded`, async () => {
    const ns = await faultNamespace('faults-storm');
    const names = Array.from({ length: WORKLOADS }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    // 100m CPU each: the cluster's three simulated nodes hold 96 CPUs, so pods of the default 1 CPU would not all fit.
    const small = (n: string): ReturnType<typeof deployment> => {
      const d = deployment(n, REPLICAS, { tier: 'storm' });
      const resources = { limits: { memory: '100Mi', cpu: '100m' }, requests: { memory: '100Mi', cpu: '100m' } };
      for (const c of d.spec?.template.spec?.containers ?? []) c.resources = resources;
      return d;
    };
    await pool(names, 5, (n) => apps.createNamespacedDeployment({ namespace: ns, body: small(n) }));
    const t0 = Date.now();
    for (;;) {
      const ready = (await apps.listNamespacedDeployment({ namespace: ns })).items.filter((d) => d.status?.readyReplicas === REPLICAS).length;
      if (ready === WORKLOADS) break;
      if (Date.now() - t0 > 300_000) throw new Error(`only ${ready} of ${WORKLOADS} Deployments ready after 300 s`);
      await sleep(2000);
    }
    note(`storm: ${WORKLOADS * REPLICAS} pods ready after ${Date.now() - t0} ms`);
    await createPolicy(kc, ns, 'heal-crashes', {
      selector: { labelSelector: { matchLabels: { tier: 'storm' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '1m' }],
      actions: [{ name: 'restart', type: 'restart', priority: 10 }],
      safetyRules: { maxActionsPerHour: 100, healthCheckTimeout: '60s', maxUnavailable: 1 },
    });
    // Operator defaults for the safety settings under test: global budget 30/h, breakers, storm limit 10 in 5 min.
    const op = spawnFaultOperator({ name: 'storm', kubeconfig: await proxy.kubeconfig('storm'), namespaceSelector: TEST_NAMESPACE_SELECTOR, args: [] });
    await op.metricsUrl();
    // Quiet baseline: 300 healthy pods, nothing firing.
    await sleep(10_000);
    const requests = (): Promise<number> => op.metric('kubeskippy_api_requests_total');
    const b0 = await requests();
    const p0 = proxy.requests.length;
    await sleep(30_000);
    const baselineRate = (await requests() - b0) / 30;
    const baselineProxyRate = (proxy.requests.length - p0) / 30;

    // The storm: every pod crash-loops (1 s after its annotation, then every 10 s).
    const pods = await livePods(ns);
    const s0 = await requests();
    const sp0 = proxy.requests.length;
    const stormStart = Date.now();
    await pool(pods, 20, (p) => crashPod(ns, p.metadata?.name ?? '', { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '10s' }));
    note(`storm: ${pods.length} pods annotated in ${Date.now() - stormStart} ms`);
    await sleep(Math.max(0, stormStart + OBSERVE_MS - Date.now()));
    const stormSeconds = (Date.now() - stormStart) / 1000;
    const stormRequests = (await requests()) - s0;
    const stormProxy = proxy.requests.slice(sp0);
    const stormRate = stormRequests / stormSeconds;
    const writes = stormProxy.filter((r) => r.method !== 'GET');
    const writesByKind: Record<string, number> = {};
    for (const r of writes) {
      const k = `${r.method} ${r.path.replace(/^\/apis?\/(?:[^/]+\/)?v1[^/]*\/(?:namespaces\/[^/]+\/)?/, '').replace(/\/[^/]+(\/status|\/eviction)?$/, (_m, sub: string | undefined) => `/*${sub ?? ''}`)}`;
      writesByKind[k] = (writesByKind[k] ?? 0) + 1;
    }

    // The queue: a pod whose action was refused gets a new one at its next firing, so while the storm lasts up to one
    // action per pod waits for the gate, which works through them at the operator's bounded API rate. None may be
    // stuck: every action open at the end of the observation must reach a terminal phase (the storm still going);
    // how long the last one took is the queue delay.
    const openAtEnd = (await actionsIn(ns)).filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'));
    const drainStart = Date.now();
    let stuck = openAtEnd;
    while (stuck.length > 0 && Date.now() - drainStart < DRAIN_MS) {
      await sleep(5000);
      const current = new Map((await actionsIn(ns)).map((a) => [a.metadata.name ?? '', a]));
      stuck = stuck.filter((a) => !FINISHED.includes(current.get(a.metadata.name ?? '')?.status?.phase ?? 'Pending'));
    }
    const drainMs = Date.now() - drainStart;
    note(`storm: ${openAtEnd.length} actions open at the end of the observation; ${stuck.length} still open after ${drainMs} ms`);

    const actions = await actionsIn(ns);
    const account = accountMutations(proxy.requests, ns, actions);
    const mutatedWorkloads = new Set(
      proxy.requests
        .filter((r) => mutationOf(r)?.namespace === ns && r.status !== undefined && r.status < 300)
        .map((r) => (mutationOf(r)?.name ?? '').replace(/-[a-z0-9]+-[a-z0-9]+$/, '')),
    );
    const blocked = actions.filter((a) => a.status?.phase === 'Blocked');
    const unexplained = blocked.filter((a) => (a.status?.message ?? '') === '');
    const executed = actions.filter((a) => a.status?.executionId !== undefined);
    const policy = await readPolicy(kc, ns, 'heal-crashes');
    const events = (await core.listNamespacedEvent({ namespace: ns })).items.filter((e) => e.source?.component === 'kubeskippy' || e.reportingComponent === 'kubeskippy');
    const stormEvents = events.filter((e) => /Storm/.test(e.reason ?? ''));
    const stormHeld = await op.metric('kubeskippy_storm_held_firings_total');
    const breakerOpen = await op.metric('kubeskippy_circuit_breaker_open');
    console.log(
      [
        `fault 5: ${pods.length} pods of ${WORKLOADS} workloads crash-looping; observed ${stormSeconds.toFixed(0)} s`,
        `  ${actions.length} HealingActions ${JSON.stringify(byReason(actions))}; ${executed.length} executed; ${blocked.length} blocked (${unexplained.length} without a message)`,
        `  mutations ${account.mutations} on ${mutatedWorkloads.size} workloads (limit ${STORM_LIMIT}); duplicated ${account.duplicated.size}`,
        `  API requests (kubeskippy_api_requests_total): baseline ${baselineRate.toFixed(2)}/s, storm ${stormRate.toFixed(2)}/s (${stormRequests} in ${stormSeconds.toFixed(0)} s); proxy: baseline ${baselineProxyRate.toFixed(2)}/s, storm ${(stormProxy.length / stormSeconds).toFixed(2)}/s`,
        `  writes during the storm: ${writes.length} ${JSON.stringify(writesByKind)}`,
        `  Events by kubeskippy: ${events.length} (${stormEvents.length} about the storm, counts summed ${stormEvents.reduce((s, e) => s + (e.count ?? 1), 0)}); firings held by the storm: ${stormHeld}`,
        `  ${openAtEnd.length} actions open at the end of the observation, ${stuck.length} still open ${(drainMs / 1000).toFixed(0)} s later; executed without a mutation: ${account.executedWithoutMutation.length}`,
        `  policy: actionsTaken ${policy.status?.actionsTaken ?? '?'}, actionsAllowed ${policy.status?.actionsAllowed ?? '?'}; breakers open: ${breakerOpen}`,
      ].join('\n'),
    );
    recordResult('5-storm', {
      fault: 'storm',
      injected: `${pods.length} pods of ${WORKLOADS} Deployments crash-looping at once`,
      times: 1,
      lost: account.executedWithoutMutation.length,
      duplicated: account.duplicated.size,
      stuck: stuck.length,
      recovery: `${executed.length} actions executed on ${mutatedWorkloads.size} workloads, ${blocked.length} refused (${JSON.stringify(byReason(blocked))}); API requests ${baselineRate.toFixed(1)}/s → ${stormRate.toFixed(1)}/s; ${openAtEnd.length - stuck.length} of the ${openAtEnd.length} actions open at 120 s terminal ${(drainMs / 1000).toFixed(0)} s later`,
      openAtEnd: openAtEnd.length,
      drainMs,
      healingActions: actions.length,
      mutatedWorkloads: mutatedWorkloads.size,
      baselineRate,
      stormRate,
      writes: writes.length,
      writesByKind,
      events: events.length,
      stormHeldFirings: stormHeld,
    });
    await op.kill('SIGTERM');

    // No mass restart: at most the storm limit of workloads touched, and within the global budget (30 per hour).
    expect(mutatedWorkloads.size).toBeLessThanOrEqual(STORM_LIMIT);
    expect(account.mutations).toBeLessThanOrEqual(30);
    expect([...account.duplicated]).toEqual([]);
    expect(account.executedWithoutMutation).toEqual([]);
    expect(stuck.map((a) => `${a.metadata.name ?? ''} ${a.status?.phase ?? 'Pending'}`)).toEqual([]);
    // Every refusal says why, and the storm is named as such: one StormSuppressed Event on the policy, and the
    // firings it held counted (those the gate refused, if any, are Blocked as StormSuppressed).
    expect(unexplained).toEqual([]);
    expect(stormEvents.filter((e) => e.reason === 'StormSuppressed' && e.involvedObject.kind === 'HealingPolicy')).toHaveLength(1);
    expect(stormHeld).toBeGreaterThan(0);
    // Bounded: the storm costs the API server a small constant number of requests per crashing pod, not a flood.
    expect(stormRequests).toBeLessThan(pods.length * 12);
  }, 900_000);
});
