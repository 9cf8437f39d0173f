/**
 * Fault 3 — the API server and etcd misbehave under a running operator. The operator talks to the cluster through two
 * real proxies in a row: a TCP relay (TLS passthrough) that can add latency, then the recording HTTPS proxy that can
 * refuse writes. In one run, while pods keep crashing:
 * - kube-apiserver killed and started again (watches break and resume);
 * - etcd killed and started again (the API server answers errors meanwhile);
 * - etcd compacted, then the API server restarted: resumed watches get 410 Gone and the informers relist;
 * - every chunk delayed by 300 ms each way for 30 s (a slow API);
 * - every write refused with 409 Conflict for 20 s, then with 429 Too Many Requests (Retry-After 1) for 20 s.
 * After each fault a fresh crash is injected and the time until its HealingAction exists is measured (detection
 * resumes); at the end every fault injected has an action, every action is terminal, and no target was mutated twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { createPolicy, ensureCrds } from '../support/resources.js';
import { startApiProxy, startTcpDelayProxy, type ApiProxy, type TcpDelayProxy } from './support/api-proxy.js';
import { note, recordResult, sleep } from './support/common.js';
import { compactEtcd, componentProcess, restartComponent, startComponent, type Component } from './support/control-plane.js';
import { killAllOperators, spawnFaultOperator } from './support/operators.js';
import {
  accountMutations,
  busyDeployments,
  actionsIn,
  apps,
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
  type ActionWatch,
} from './support/scenario.js';

let proxy: ApiProxy;
let tcp: TcpDelayProxy;
/** Command lines of the components that may exit when the API server is gone too long (leader election). */
const infos = new Map<Component, ReturnType<typeof componentProcess>>();
const restartedByTest: string[] = [];

beforeAll(async () => {
  await ensureCrds();
  proxy = startApiProxy();
  const url = new URL(await proxy.listen('cp'));
  tcp = await startTcpDelayProxy(Number(url.port));
  for (const c of ['kube-controller-manager', 'kube-scheduler', 'kwok-controller', 'metrics-server'] as const) infos.set(c, componentProcess(c));
}, 120_000);

afterAll(async () => {
  await killAllOperators();
  ensureComponents();
  await cleanupNamespaces();
  await tcp.close();
  await proxy.close();
});

/**
 * kube-controller-manager and kube-scheduler run with leader election and exit when they cannot renew for 10 s; the
 * test starts any that exited again (a kubelet would restart their static pods), and says so.
 */
function ensureComponents(): void {
  for (const [c, info] of infos) {
    try {
      componentProcess(c);
    } catch {
      startComponent(c, info);
      restartedByTest.push(c);
      note(`control-plane: ${c} had exited; started it again`);
    }
  }
}

/** Waits until the API server answers a list through the test's own (direct) client; returns how long it took. */
async function apiReady(timeoutMs = 120_000): Promise<number> {
  const t = Date.now();
  for (;;) {
    try {
      await core.listNamespace({ limit: 1 });
      return Date.now() - t;
    } catch {
      if (Date.now() - t > timeoutMs) throw new Error('the API server did not come back');
      await sleep(250);
    }
  }
}

describe('the API server and etcd under a running operator', () => {
  it('restarts, compaction (410 Gone), latency, 409 and 429 on every write: nothing lost, nothing duplicated, detection resumes', async () => {
    const ns = await faultNamespace('faults-cp');
    const names = Array.from({ length: 6 }, (_, i) => `app-${i}`);
    for (const n of names) await apps.createNamespacedDeployment({ namespace: ns, body: deployment(n, 2, { tier: 'cp' }) });
    await createPolicy(kc, ns, 'heal-crashes', {
      selector: { labelSelector: { matchLabels: { tier: 'cp' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart', priority: 10 }],
      safetyRules: { maxActionsPerHour: 1000, healthCheckTimeout: '90s', maxUnavailable: 1 },
    });
    const kubeconfig = await proxy.kubeconfig('cp', tcp.url);
    const op = spawnFaultOperator({
      name: 'control-plane',
      kubeconfig,
      namespaceSelector: TEST_NAMESPACE_SELECTOR,
      args: ['--max-actions-per-hour', '1000', '--circuit-breaker-failure-threshold', '1000', '--global-circuit-breaker-min-actions', '100000', '--verification-stability-seconds', '2'],
    });
    await op.metricsUrl();
    let watch: ActionWatch = await watchActions(ns);
    const injected: { pod: string; at: number; phase: string }[] = [];
    const detections: { phase: string; ms: number }[] = [];

    /** Crashes one Running pod of a Deployment with nothing in flight; returns the pod's name. */
    const injectOne = async (phase: string): Promise<string | undefined> => {
      for (let attempt = 0; attempt < 60; attempt++) {
        const pods = await livePods(ns).catch(() => []);
        const busy = busyDeployments(watch);
        for (const d of names) {
          const mine = pods.filter((p) => p.metadata?.labels?.['app'] === d);
          if (busy.has(d) || mine.some((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true')) continue;
          const victim = mine.find((p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.restartCount === 0);
          if (victim && (await crashPod(ns, victim.metadata?.name ?? ''))) {
            injected.push({ pod: victim.metadata?.name ?? '', at: Date.now(), phase });
            return victim.metadata?.name;
          }
        }
        await sleep(1000);
      }
      return undefined;
    };
    /** The time from a crash to its HealingAction (the crash itself comes 1 s after the annotation). */
    const detected = async (pod: string, since: number, phase: string, timeoutMs = 120_000): Promise<number> => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const a = [...watch.latest.values()].find((x) => x.spec.targetResource.name === pod);
        if (a) {
          // First seen by the test's own watch (a restarted watch re-lists: then creationTimestamp, to the second).
          const seen = Math.min(watch.firstSeen.get(a.metadata.name ?? '') ?? Number.POSITIVE_INFINITY, Date.parse(a.metadata.creationTimestamp ?? '') + 999);
          const ms = seen - since;
          detections.push({ phase, ms });
          return ms;
        }
        if (Date.now() > end) throw new Error(`no HealingAction for ${pod} (${phase}) within ${timeoutMs} ms`);
        await sleep(200);
      }
    };
    const probe = async (phase: string): Promise<number> => {
      const pod = await injectOne(phase);
      if (!pod) throw new Error(`nothing to crash in phase ${phase}`);
      return detected(pod, Date.now(), phase);
    };

    // Baseline.
    await probe('baseline');
    await probe('baseline');

    // 1. The API server killed (a fault already injected just before), down 3 s, started again.
    const before1 = await injectOne('apiserver-restart');
    const before1At = Date.now();
    const r1 = await restartComponent('kube-apiserver', { signal: 'SIGKILL', downMs: 3000 });
    const back1 = await apiReady();
    ensureComponents();
    watch.stop();
    watch = await watchActions(ns);
    note(`control-plane: apiserver down ${r1.startedAt - r1.stoppedAt} ms, ready ${back1} ms after start`);
    if (before1) await detected(before1, before1At, 'fault injected just before the apiserver kill (from injection)');
    await probe('after apiserver restart');

    // 2. etcd killed, down 3 s, started again.
    const before2 = await injectOne('etcd-restart');
    const before2At = Date.now();
    const r2 = await restartComponent('etcd', { signal: 'SIGKILL', downMs: 3000 });
    const back2 = await apiReady();
    ensureComponents();
    note(`control-plane: etcd down ${r2.startedAt - r2.stoppedAt} ms, API ready ${back2} ms after etcd start`);
    if (before2) await detected(before2, before2At, 'fault injected just before the etcd kill (from injection)');
    await probe('after etcd restart');

    // 3. Watches end cleanly (as at a server-side timeout) and are held at the proxy; etcd's history is compacted and
    //    the API server restarted meanwhile; released, they resume from resourceVersions that are gone: 410, relist.
    const gone0 = [...proxy.gone.values()].reduce((s, n) => s + n, 0);
    const isList = (r: (typeof proxy.requests)[number]): boolean => r.tag === 'cp' && r.method === 'GET' && !r.watch && /\/(pods|events|deployments|replicasets|namespaces|healingpolicies|clusterhealingpolicies|healingactions|configmaps|statefulsets|daemonsets)$/.test(r.path);
    const ended = proxy.holdWatches();
    await sleep(2000);
    const compactedTo = await compactEtcd();
    const r3 = await restartComponent('kube-apiserver', { signal: 'SIGTERM', downMs: 1000 });
    const back3 = await apiReady();
    ensureComponents();
    const releasedAt = Date.now();
    const released = proxy.releaseWatches();
    watch.stop();
    watch = await watchActions(ns);
    await probe('after compaction + apiserver restart (410)');
    await sleep(5000);
    const gone = [...proxy.gone.values()].reduce((s, n) => s + n, 0) - gone0;
    const relists = proxy.requests.filter((r) => isList(r) && r.at >= releasedAt).length;
    note(`control-plane: ${ended} watches ended and held, compacted to ${compactedTo}, apiserver restarted (${r3.startedAt - r3.stoppedAt} ms down, ready after ${back3} ms), ${released} held watches released: ${gone} 410 Gone, ${relists} relists`);

    // 4. A slow API: 300 ms per chunk each way for 30 s.
    tcp.setLatency(300);
    const slowStart = Date.now();
    await probe('300 ms latency');
    await sleep(Math.max(0, slowStart + 30_000 - Date.now()));
    tcp.setLatency(0);
    await probe('after latency');

    // 5. Every write refused with 409 Conflict for 20 s, a fault injected at its start.
    const conflicts0 = proxy.requests.filter((r) => r.injected === 'conflict').length;
    proxy.setFault({ kind: 'conflict' });
    const c0 = Date.now();
    const during409 = await injectOne('409 window');
    await sleep(Math.max(0, c0 + 20_000 - Date.now()));
    proxy.setFault(undefined);
    const c1 = Date.now();
    if (during409) await detected(during409, c1, '409 window (from its end)');
    await probe('after 409 window');
    const conflicts = proxy.requests.filter((r) => r.injected === 'conflict').length - conflicts0;

    // 6. Every write refused with 429 (Retry-After 1) for 20 s.
    proxy.setFault({ kind: 'throttle' });
    const t0 = Date.now();
    const during429 = await injectOne('429 window');
    await sleep(Math.max(0, t0 + 20_000 - Date.now()));
    proxy.setFault(undefined);
    const t1 = Date.now();
    if (during429) await detected(during429, t1, '429 window (from its end)');
    await probe('after 429 window');
    const throttled = proxy.requests.filter((r) => r.injected === 'throttle').length;

    // Settle.
    const settleStart = Date.now();
    let actions = await actionsIn(ns);
    while (Date.now() - settleStart < 180_000) {
      actions = await actionsIn(ns);
      if (actions.every((a) => FINISHED.includes(a.status?.phase ?? 'Pending'))) break;
      await sleep(1000);
    }
    watch.stop();
    expect(op.hasExited(), `the operator exited:\n${op.output().slice(-3000)}`).toBe(false);
    await op.kill('SIGTERM');
    const account = accountMutations(proxy.requests, ns, actions);
    const stuck = actions.filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'));
    const lost = injected.filter((f) => !actions.some((a) => a.spec.targetResource.name === f.pod));
    const restarts = op.lines().filter((l) => l.msg === 'list/watch failed; relisting after back-off').length;
    const byPhaseMs = new Map<string, number[]>();
    for (const d of detections) byPhaseMs.set(d.phase, [...(byPhaseMs.get(d.phase) ?? []), d.ms]);
    const baseline = stats(byPhaseMs.get('baseline') ?? []);
    console.log(
      [
        `fault 3: ${injected.length} crash faults, ${actions.length} actions ${JSON.stringify(byReason(actions))}`,
        `  detection (crash annotation → HealingAction created, includes the 1 s crash delay), ms: ${[...byPhaseMs].map(([p, v]) => `${p}: ${v.join(', ')}`).join('; ')}`,
        `  410 Gone seen: ${gone} (${released} held watches resumed), relists after them: ${relists}; informer relists after errors (log lines): ${restarts}; upstream errors at the proxy: ${JSON.stringify(Object.fromEntries(proxy.upstreamErrors))}`,
        `  writes refused: ${conflicts} with 409, ${throttled} with 429`,
        `  components restarted by the test after the outages: ${restartedByTest.join(', ') || 'none'}`,
        `  mutations ${account.mutations} (${account.refused} refused ${JSON.stringify(account.refusedByStatus)}), duplicated ${account.duplicated.size}, unowned ${account.unowned.length}; lost ${lost.length}; stuck ${stuck.length}`,
      ].join('\n'),
    );
    recordResult('3-control-plane', {
      fault: 'API server and etcd',
      injected: `kube-apiserver killed ×2 (once after an etcd compaction), etcd killed ×1, 300 ms latency each way for 30 s, every write refused with 409 for 20 s (${conflicts} refusals) and with 429 for 20 s (${throttled} refusals)`,
      times: 6,
      lost: lost.length,
      duplicated: account.duplicated.size,
      stuck: stuck.length,
      recovery: `detection after each fault ${[...byPhaseMs].filter(([p]) => p !== 'baseline').map(([p, v]) => `${p} ${(Math.max(...v) / 1000).toFixed(1)} s`).join('; ')} (baseline ${(baseline.median / 1000).toFixed(1)} s)`,
      gone410: gone,
      relistsAfter410: relists,
      conflicts,
      throttled,
      componentsRestartedByTest: restartedByTest,
      detections,
    });

    expect(lost.map((f) => `${f.pod} (${f.phase})`)).toEqual([]);
    expect(stuck.map((a) => `${a.metadata.name ?? ''} ${a.status?.phase ?? ''}`)).toEqual([]);
    expect([...account.duplicated]).toEqual([]);
    expect(account.unowned).toEqual([]);
    expect(gone).toBeGreaterThan(0);
    expect(relists).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0);
    expect(throttled).toBeGreaterThan(0);
    // Detection resumes: a fault injected after each outage, or just before one, is acted on within 30 s of the injection.
    for (const d of detections.filter((x) => !x.phase.includes('window'))) expect(d.ms, d.phase).toBeLessThan(30_000);
  }, 900_000);
});

