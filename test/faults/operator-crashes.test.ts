/**
 * Fault 1 — operator crashes. The operator runs as a child process behind the recording API proxy and is killed with
 * SIGKILL at seeded random moments (start-up, informer sync, gate, journal, execution, verification) while it heals
 * crash-looping pods, until its policy's budget of 50 healings is spent; then a few more faults must be refused for
 * the budget. A last operator, left alone, finishes the rest.
 *
 * Every mutation the operator makes goes through the proxy, so the test counts them itself: each action's target
 * pod may be evicted (or deleted) successfully at most once, no pod is mutated that no action targeted, every action
 * ends in a terminal phase, and no more actions executed than the budget allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCrds, createPolicy, readPolicy } from '../support/resources.js';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { startApiProxy, type ApiProxy } from './support/api-proxy.js';
import { note, recordResult, SEED, seededRandom, sleep } from './support/common.js';
import { killAllOperators, spawnFaultOperator } from './support/operators.js';
import {
  accountMutations,
  actionsIn,
  apps,
  byPhase,
  busyDeployments,
  byReason,
  cleanupNamespaces,
  core,
  crashPod,
  deployment,
  FINISHED,
  faultNamespace,
  kc,
  livePods,
  stats,
  watchActions,
} from './support/scenario.js';

const BUDGET = 50;
// At most the storm limit (10 workloads failing in a namespace): this test is about crashes, not storms.
const DEPLOYMENTS = 10;
const MAX_KILLS = 30;
const FLAGS = [
  '--max-actions-per-hour', '1000',
  '--circuit-breaker-failure-threshold', '1000',
  '--global-circuit-breaker-min-actions', '100000',
  '--verification-stability-seconds', '2',
];

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

describe('an operator killed with SIGKILL at random moments', () => {
  it(`heals until its budget of ${BUDGET} is spent, never executing an action twice, leaving none stuck, the budget intact`, async () => {
    const random = seededRandom(SEED);
    const ns = await faultNamespace('faults-crash');
    const names = Array.from({ length: DEPLOYMENTS }, (_, i) => `app-${i}`);
    for (const n of names) await apps.createNamespacedDeployment({ namespace: ns, body: deployment(n, 3, { tier: 'crash' }) });
    await createPolicy(kc, ns, 'heal-crashes', {
      selector: { labelSelector: { matchLabels: { tier: 'crash' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '10s' }],
      actions: [{ name: 'restart', type: 'restart', priority: 10 }],
      safetyRules: { maxActionsPerHour: BUDGET, healthCheckTimeout: '45s', maxUnavailable: 1 },
    });
    const kubeconfig = await proxy.kubeconfig('crash');
    const watch = await watchActions(ns);

    /** One crashing pod for every Deployment that has none, no action in flight and all pods Ready. */
    const inject = async (): Promise<number> => {
      const pods = await livePods(ns);
      const busy = busyDeployments(watch);
      let n = 0;
      for (const d of names) {
        const mine = pods.filter((p) => p.metadata?.labels?.['app'] === d);
        if (busy.has(d) || mine.some((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true')) continue;
        const victim = mine.find((p) => p.status?.phase === 'Running');
        if (victim && (await crashPod(ns, victim.metadata?.name ?? ''))) n++;
      }
      return n;
    };
    const executed = (): number => [...watch.latest.values()].filter((a) => a.status?.executionId !== undefined).length;
    const refusedForBudget = (): number => [...watch.latest.values()].filter((a) => a.status?.phase === 'Blocked' && a.status.reason === 'RateLimited').length;

    const kills: { life: number; mode: 'start-up' | 'working'; atMs: number; phaseCounts: Record<string, number>; inProgress: number }[] = [];
    const startups: number[] = [];
    let faults = 0;
    let injecting = true;
    const injector = (async () => {
      while (injecting) {
        faults += await inject();
        await sleep(1000);
      }
    })();
    const t0 = Date.now();
    try {
      while (kills.length < MAX_KILLS && executed() < BUDGET) {
        const op = spawnFaultOperator({ name: `crash-${kills.length}`, kubeconfig, namespaceSelector: TEST_NAMESPACE_SELECTOR, args: FLAGS });
        const spawned = Date.now();
        const ready = op.metricsUrl(120_000).then(() => startups.push(Date.now() - spawned), () => undefined);
        // Seeded: every third kill lands during start-up (0.3–5 s after the spawn: informers listing, caches
        // syncing); the others 1–10 s after the operator started serving, i.e. in the middle of its work.
        if (kills.length % 3 === 2) {
          await Promise.race([sleep(300 + Math.floor(random() * 4700)), op.exited]);
        } else {
          await Promise.race([ready, op.exited]);
          await Promise.race([sleep(1000 + Math.floor(random() * 9000)), op.exited]);
        }
        if (op.hasExited()) throw new Error(`the operator exited by itself:\n${op.output().slice(-3000)}`);
        const now = [...watch.latest.values()];
        kills.push({ life: kills.length, mode: kills.length % 3 === 2 ? 'start-up' : 'working', atMs: Date.now() - t0, phaseCounts: byPhase(now), inProgress: now.filter((a) => a.status?.phase === 'InProgress').length });
        await op.kill('SIGKILL');
        expect((await op.exited).signal).toBe('SIGKILL');
      }
      const executedDuringKills = executed();
      note(`crash: ${kills.length} kills, ${faults} faults injected, ${executedDuringKills} executed while killing`);

      // A last operator, left alone: faults keep coming until the budget is spent and refusals show it held.
      const last = spawnFaultOperator({ name: 'crash-final', kubeconfig, namespaceSelector: TEST_NAMESPACE_SELECTOR, args: FLAGS });
      const finalStart = Date.now();
      while ((executed() < BUDGET || refusedForBudget() < 1) && Date.now() - finalStart < 240_000) await sleep(1000);
      injecting = false;
      await injector;
      // The budget is spent: pods still crash-looping would get a Blocked(RateLimited) action every cooldown for the
      // rest of the hour. Take them away (the test deletes them itself; the proxy does not count it), so the run can
      // settle: their ReplicaSets replace them with healthy pods.
      const busy = new Set([...watch.latest.values()].filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending')).map((a) => a.spec.targetResource.name));
      for (const p of await livePods(ns)) {
        if (p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true' && !busy.has(p.metadata.name ?? '')) {
          await core.deleteNamespacedPod({ name: p.metadata.name ?? '', namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
        }
      }
      const settleStart = Date.now();
      let actions = await actionsIn(ns);
      for (;;) {
        actions = await actionsIn(ns);
        if (actions.length > 0 && actions.every((a) => FINISHED.includes(a.status?.phase ?? 'Pending'))) break;
        if (Date.now() - settleStart > 180_000) break;
        await sleep(1000);
      }
      const settleMs = Date.now() - settleStart;
      // Still settled a little later: nothing half-done wakes up.
      await sleep(3000);
      actions = await actionsIn(ns);
      await last.kill('SIGTERM');
      expect((await last.exited).code).toBe(0);
      watch.stop();

      const account = accountMutations(proxy.requests.filter((r) => r.tag === 'crash'), ns, actions);
      const stuck = actions.filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'));
      const withIntent = actions.filter((a) => a.status?.executionId !== undefined);
      const recovered = actions.filter((a) => (watch.transitions.get(a.metadata.name ?? '') ?? []).some((t) => t.reason === 'RecoveredAfterRestart'));
      const multiIntent = actions.filter((a) => new Set((watch.transitions.get(a.metadata.name ?? '') ?? []).map((t) => t.executionId).filter((x) => x !== undefined)).size > 1);
      const policy = await readPolicy(kc, ns, 'heal-crashes');
      const killedMidAction = kills.filter((k) => k.inProgress > 0).length;
      const up = stats(startups);
      console.log(
        [
          `fault 1 (seed ${SEED}): ${kills.length} SIGKILLs over ${Math.round((Date.now() - t0) / 1000)}s, ${faults} crash faults injected, ${executedDuringKills} actions executed while killing`,
          `  ${actions.length} actions: ${JSON.stringify(byReason(actions))}; ${withIntent.length} passed the gate (executionId), ${recovered.length} recovered after a kill`,
          `  kills during start-up: ${kills.filter((k) => k.mode === 'start-up').length}, while working: ${kills.filter((k) => k.mode === 'working').length}; kills with an action InProgress: ${killedMidAction}; actions with more than one executionId (retried after a proven no-op): ${multiIntent.length}`,
          `  mutations seen by the proxy: ${account.mutations} successful, ${account.refused} refused ${JSON.stringify(account.refusedByStatus)}; duplicated ${account.duplicated.size}; unowned ${account.unowned.length}`,
          `  executed without a mutation (killed before the call, verified instead): ${account.executedWithoutMutation.length}`,
          `  operator start-up to serving: median ${up.median} ms, max ${up.max} ms; final settle ${settleMs} ms`,
          `  policy status: actionsTaken ${policy.status?.actionsTaken ?? '?'}, actionsAllowed ${policy.status?.actionsAllowed ?? '?'}`,
        ].join('\n'),
      );
      recordResult('1-operator-crashes', {
        fault: 'operator crashes (SIGKILL at seeded random moments)',
        injected: `SIGKILL of the operator process, ${kills.length} times (${killedMidAction} with an action InProgress) while healing ${faults} crash-looping pods`,
        times: kills.length,
        lost: stuck.length,
        duplicated: account.duplicated.size,
        stuck: stuck.length,
        recovery: `restarted operator serving after median ${up.median} ms (max ${up.max} ms); all actions terminal ${Math.round(settleMs / 1000)} s after the last kill`,
        actions: actions.length,
        executed: withIntent.length,
        executedDuringKills,
        mutations: account.mutations,
        unowned: account.unowned.length,
        recoveredAfterKill: recovered.length,
        phases: byReason(actions),
      });

      expect(stuck.map((a) => `${a.metadata.name ?? ''} ${a.status?.phase ?? 'Pending'}`)).toEqual([]);
      expect([...account.duplicated]).toEqual([]);
      expect(account.unowned).toEqual([]);
      // Each successful mutation belongs to an action that passed the gate, once.
      expect(account.mutations).toBeLessThanOrEqual(withIntent.length);
      // The budget held across every crash: never more executed than maxActionsPerHour, the rest refused for it.
      expect(withIntent.length).toBeLessThanOrEqual(BUDGET);
      expect(withIntent.length).toBeGreaterThanOrEqual(BUDGET - 5);
      expect(refusedForBudget()).toBeGreaterThanOrEqual(1);
      expect(policy.status?.actionsAllowed).toBe(0);
      expect(kills.length).toBeGreaterThanOrEqual(10);
    } finally {
      injecting = false;
      await injector;
      watch.stop();
    }
  }, 900_000);
});
