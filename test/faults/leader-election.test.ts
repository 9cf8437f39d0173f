/**
 * Fault 2 — several replicas with leader election (short leases: 6 s, renew deadline 4 s, retry 1 s), each behind its
 * own listener of the recording API proxy, so every request is attributed to the replica that sent it. Under a
 * steady load of crash-looping pods:
 * - followers never act: no action created, no status written, no mutation, kubeskippy_leader 0, no actions counted;
 * - a graceful hand-over (SIGTERM: drain, release) and a crash (SIGKILL: the lease must expire) — with two replicas,
 *   then with three — each measured from the signal to the new holder's acquireTime;
 * - a leader frozen with SIGSTOP for twice the lease duration, woken after another replica took over, writes and
 *   executes nothing (the fence) and exits;
 * - no split brain: every write any replica made falls inside that replica's term in the Lease's holder history.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { createPolicy, ensureCrds } from '../support/resources.js';
import { mutationOf, startApiProxy, stateWriteOf, type ApiProxy, type ProxiedRequest } from './support/api-proxy.js';
import { note, recordResult, sleep } from './support/common.js';
import { killAllOperators, spawnFaultOperator, type FaultOperator } from './support/operators.js';
import {
  accountMutations,
  busyDeployments,
  actionsIn,
  apps,
  byReason,
  cleanupNamespaces,
  crashPod,
  deployment,
  FINISHED,
  faultNamespace,
  kc,
  livePods,
  watchActions,
} from './support/scenario.js';

const LEASE = 'kubeskippy-leader';
const LEASE_S = 6;
const RENEW_S = 4;
const RETRY_S = 1;
const TAKEOVER_BOUND_MS = LEASE_S * 1000 + 2.2 * RETRY_S * 1000 + 2000;

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

/** One version of the Lease as the test's watch saw it. */
interface LeaseVersion {
  readonly holder: string;
  readonly acquireTime: number;
  readonly renewTime: number;
  readonly transitions: number;
  readonly seenAt: number;
}

async function watchLease(ns: string): Promise<{ history: LeaseVersion[]; stop: () => void }> {
  const history: LeaseVersion[] = [];
  let stopped = false;
  let current: AbortController | undefined;
  const connect = async (): Promise<void> => {
    current = await new k8s.Watch(kc).watch(
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
      { fieldSelector: `metadata.name=${LEASE}` },
      (type: string, l: k8s.V1Lease) => {
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        history.push({
          holder: l.spec?.holderIdentity ?? '',
          acquireTime: Date.parse(String(l.spec?.acquireTime ?? '')),
          renewTime: Date.parse(String(l.spec?.renewTime ?? '')),
          transitions: l.spec?.leaseTransitions ?? 0,
          seenAt: Date.now(),
        });
      },
      () => {
        if (!stopped) setTimeout(() => void connect().catch(() => undefined), 200);
      },
    );
  };
  await connect();
  return {
    history,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}

/** Terms of office from the Lease history: holder from its acquireTime until the next term (or a release) starts. */
function terms(history: readonly LeaseVersion[]): { holder: string; from: number; to: number }[] {
  const out: { holder: string; from: number; to: number }[] = [];
  for (const v of history) {
    const last = out.at(-1);
    if (last && last.holder === v.holder && v.holder !== '') continue;
    if (last) last.to = Math.min(last.to, v.holder === '' ? v.renewTime : v.acquireTime);
    if (v.holder !== '') out.push({ holder: v.holder, from: v.acquireTime, to: Number.POSITIVE_INFINITY });
  }
  return out;
}

describe('replicas under leader election', () => {
  it('hand over under load, followers never act, a frozen leader wakes fenced, and no write ever falls outside its writer\'s term', async () => {
    const ns = await faultNamespace('faults-le');
    const names = Array.from({ length: 8 }, (_, i) => `app-${i}`);
    for (const n of names) await apps.createNamespacedDeployment({ namespace: ns, body: deployment(n, 3, { tier: 'le' }) });
    await createPolicy(kc, ns, 'heal-crashes', {
      selector: { labelSelector: { matchLabels: { tier: 'le' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart', priority: 10 }],
      safetyRules: { maxActionsPerHour: 1000, healthCheckTimeout: '60s', maxUnavailable: 1 },
    });
    const lease = await watchLease(ns);
    const actionsWatch = await watchActions(ns);
    const replicas = new Map<string, FaultOperator>();
    const spawnReplica = async (tag: string): Promise<FaultOperator> => {
      const op = spawnFaultOperator({
        name: `le-${tag}`,
        kubeconfig: await proxy.kubeconfig(tag),
        namespaceSelector: TEST_NAMESPACE_SELECTOR,
        args: [
          '--leader-election-enabled', 'true',
          '--namespace', ns,
          '--leader-election-identity', tag,
          '--leader-election-lease-duration-seconds', String(LEASE_S),
          '--leader-election-renew-deadline-seconds', String(RENEW_S),
          '--leader-election-retry-period-seconds', String(RETRY_S),
          '--max-actions-per-hour', '1000',
          '--circuit-breaker-failure-threshold', '1000',
          '--global-circuit-breaker-min-actions', '100000',
          '--verification-stability-seconds', '2',
        ],
      });
      replicas.set(tag, op);
      return op;
    };
    const holder = (): string => lease.history.at(-1)?.holder ?? '';
    const waitHolder = async (not: string, timeoutMs = 60_000): Promise<LeaseVersion> => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = lease.history.at(-1);
        if (v && v.holder !== '' && v.holder !== not) return v;
        if (Date.now() > end) throw new Error(`no new leader (other than "${not}") within ${timeoutMs} ms`);
        await sleep(50);
      }
    };

    let injecting = true;
    let faults = 0;
    const injector = (async () => {
      while (injecting) {
        const pods = await livePods(ns).catch(() => []);
        const busy = busyDeployments(actionsWatch);
        for (const d of names) {
          const mine = pods.filter((p) => p.metadata?.labels?.['app'] === d);
          if (busy.has(d) || mine.some((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true')) continue;
          const victim = mine.find((p) => p.status?.phase === 'Running');
          if (victim && (await crashPod(ns, victim.metadata?.name ?? ''))) faults++;
        }
        await sleep(1500);
      }
    })();

    const handovers: { replicas: number; how: string; from: string; to: string; ms: number }[] = [];
    const handover = async (count: number, how: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
      const from = holder();
      const op = replicas.get(from);
      if (!op) throw new Error(`leader ${from} is not one of ours`);
      const t = Date.now();
      await op.kill(how);
      const next = await waitHolder(from);
      const ms = next.acquireTime - t;
      handovers.push({ replicas: count, how, from, to: next.holder, ms });
      note(`le: ${how} of ${from} with ${count} replicas → ${next.holder} after ${ms} ms`);
    };

    try {
      // Two replicas.
      await spawnReplica('a');
      await spawnReplica('b');
      const first = await waitHolder('', 90_000);
      await sleep(20_000);
      const follower = first.holder === 'a' ? 'b' : 'a';
      const followerOp = replicas.get(follower)!;
      // The follower: gauge 0, nothing counted, nothing written, nothing logged as done.
      expect(await followerOp.metric('kubeskippy_leader')).toBe(0);
      expect(await followerOp.metric('kubeskippy_actions_total')).toBe(0);
      expect(await replicas.get(first.holder)!.metric('kubeskippy_leader')).toBe(1);
      const followerWrites = proxy.requests.filter((r) => r.tag === follower && r.method !== 'GET' && !r.path.includes('/leases'));
      expect(followerWrites.map((r) => `${r.method} ${r.path}`)).toEqual([]);
      expect(followerOp.lines().filter((l) => l.msg === 'created HealingAction' || l.msg === 'executed')).toEqual([]);
      const leaderActed = proxy.requests.filter((r) => r.tag === first.holder && (stateWriteOf(r) || mutationOf(r))).length;
      expect(leaderActed).toBeGreaterThan(0);

      await handover(2, 'SIGTERM');
      await spawnReplica('a2');
      await sleep(8_000);
      await handover(2, 'SIGKILL');

      // Three replicas.
      await spawnReplica('c');
      await spawnReplica('d');
      await sleep(10_000);
      await handover(3, 'SIGKILL');
      await spawnReplica('e');
      await sleep(8_000);

      // Freeze the leader for twice the lease, while it works; wake it after another took over.
      const frozen = holder();
      const frozenOp = replicas.get(frozen)!;
      const inFlightAtFreeze = proxy.requests.filter((r) => r.tag === frozen && !r.watch && r.end === undefined).length;
      const stoppedAt = Date.now();
      await frozenOp.kill('SIGSTOP');
      const taken = await waitHolder(frozen, 60_000);
      await sleep(Math.max(0, stoppedAt + 2 * LEASE_S * 1000 - Date.now()));
      const wokeAt = Date.now();
      await frozenOp.kill('SIGCONT');
      const exit = await Promise.race([frozenOp.exited, sleep(30_000).then(() => undefined)]);
      const afterWake = proxy.requests.filter((r) => r.tag === frozen && r.at >= wokeAt);
      const actedAfterWake = afterWake.filter((r) => stateWriteOf(r) !== undefined || mutationOf(r) !== undefined);
      const eventsAfterWake = afterWake.filter((r) => r.method === 'POST' && r.path.endsWith('/events')).length;
      const fencedLog = frozenOp.lines().filter((l) => typeof l.msg === 'string' && /fence/.test(l.msg)).length;
      note(`le: froze ${frozen} at ${new Date(stoppedAt).toISOString()} with ${inFlightAtFreeze} requests in flight; ${taken.holder} took over ${taken.acquireTime - stoppedAt} ms later; woke it at ${new Date(wokeAt).toISOString()}: ${afterWake.length} requests after waking, ${actedAfterWake.length} acting, ${eventsAfterWake} Events, exit ${JSON.stringify(exit)}`);
      expect(actedAfterWake.map((r) => `${r.method} ${r.path} ${String(r.status)}`)).toEqual([]);
      expect(exit?.code).toBe(1);
      expect(frozenOp.lines().some((l) => l.msg === 'leadership lost; shutting down')).toBe(true);

      // Settle: no more faults; the current leader finishes everything.
      injecting = false;
      await injector;
      const settleStart = Date.now();
      let actions = await actionsIn(ns);
      while (Date.now() - settleStart < 150_000) {
        actions = await actionsIn(ns);
        if (actions.every((a) => FINISHED.includes(a.status?.phase ?? 'Pending'))) break;
        await sleep(1000);
      }

      // Split brain: every acting request inside its sender's term.
      const allTerms = terms(lease.history);
      const acting = proxy.requests.filter((r): r is ProxiedRequest => stateWriteOf(r) !== undefined || mutationOf(r) !== undefined);
      const outside = acting.filter((r) => !allTerms.some((t) => t.holder === r.tag && r.at >= t.from && r.at <= t.to));
      const account = accountMutations(proxy.requests, ns, actions);
      const stuck = actions.filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'));
      const byReplica: Record<string, number> = {};
      for (const r of acting) byReplica[r.tag] = (byReplica[r.tag] ?? 0) + 1;
      console.log(
        [
          `fault 2: ${faults} crash faults; ${actions.length} actions ${JSON.stringify(byReason(actions))}`,
          `  terms: ${allTerms.map((t) => `${t.holder} ${new Date(t.from).toISOString().slice(11, 23)}–${Number.isFinite(t.to) ? new Date(t.to).toISOString().slice(11, 23) : 'now'}`).join(', ')}`,
          `  hand-overs: ${handovers.map((h) => `${h.replicas} replicas ${h.how} ${h.from}→${h.to} ${h.ms} ms`).join('; ')}`,
          `  acting requests by replica: ${JSON.stringify(byReplica)}; outside the sender's term: ${outside.length}`,
          `  frozen ${frozen}: ${inFlightAtFreeze} requests in flight when frozen, ${afterWake.length} requests after waking, ${actedAfterWake.length} acting, ${eventsAfterWake} Event writes, ${fencedLog} fence log lines, exit ${JSON.stringify(exit)}`,
          `  mutations ${account.mutations}, duplicated ${account.duplicated.size}, unowned ${account.unowned.length}; stuck ${stuck.length}`,
        ].join('\n'),
      );
      recordResult('2-leader-election', {
        fault: 'leader hand-over, crash and freeze (2 and 3 replicas)',
        injected: `${handovers.filter((h) => h.how === 'SIGTERM').length} SIGTERM and ${handovers.filter((h) => h.how === 'SIGKILL').length} SIGKILL of the leader, 1 SIGSTOP for ${2 * LEASE_S} s, under ${faults} crash faults`,
        times: handovers.length + 1,
        lost: stuck.length,
        duplicated: account.duplicated.size,
        stuck: stuck.length,
        recovery: handovers.map((h) => `${h.how} (${h.replicas} replicas): new leader after ${(h.ms / 1000).toFixed(1)} s`).join('; ') + `; frozen leader replaced after ${((taken.acquireTime - stoppedAt) / 1000).toFixed(1)} s`,
        handovers,
        outsideTerm: outside.length,
        frozenActedAfterWake: actedAfterWake.length,
        frozenInFlightAtFreeze: inFlightAtFreeze,
        actingByReplica: byReplica,
      });

      expect(outside.map((r) => `${r.tag} ${r.method} ${r.path} @${new Date(r.at).toISOString()}`)).toEqual([]);
      expect([...account.duplicated]).toEqual([]);
      expect(account.unowned).toEqual([]);
      expect(stuck.map((a) => a.metadata.name)).toEqual([]);
      for (const h of handovers) {
        if (h.how === 'SIGKILL') expect(h.ms).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
        else expect(h.ms).toBeLessThan(LEASE_S * 1000);
      }
      // More than one replica acted over the run (hand-overs happened under load).
      expect(Object.keys(byReplica).length).toBeGreaterThanOrEqual(3);
    } finally {
      injecting = false;
      await injector;
      lease.stop();
      actionsWatch.stop();
    }
  }, 900_000);
});
