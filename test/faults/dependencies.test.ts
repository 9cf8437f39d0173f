/**
 * Fault 4 — the operator's dependencies go away while it runs: metrics-server (metrics.k8s.io), Prometheus (a real
 * one, killed and started again on the same port) and the LLM endpoint (hanging, answering garbage, answering hostile
 * content). Degraded mode must be visible — DataAvailable=False with the reason on the policies that need the missing
 * data, a DataUnavailable Event, LLM fallbacks counted and explained in the action's reasoning — and rule-based healing
 * must go on: a crash-looping pod is healed in each outage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { hasPrometheus } from '../support/prometheus.js';
import { createPolicy, ensureCrds, eventsFor, readPolicy } from '../support/resources.js';
import { startApiProxy, type ApiProxy } from './support/api-proxy.js';
import { artifactDir, note, recordResult, sleep } from './support/common.js';
import { startComponent, stopComponent } from './support/control-plane.js';
import { startFakeLlm, type FakeLlm } from './support/fake-llm.js';
import { killAllOperators, spawnFaultOperator, type FaultOperator } from './support/operators.js';
import { accountMutations, actionsIn, apps, cleanupNamespaces, crashPod, deployment, FINISHED, faultNamespace, kc, livePods } from './support/scenario.js';

let proxy: ApiProxy;
let llm: FakeLlm;
let prometheus: { proc: ChildProcess; port: number; dir: string } | undefined;
let metricsServerStopped: Awaited<ReturnType<typeof stopComponent>> | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the real Prometheus on 127.0.0.1:`port` (no scrape targets: the trigger's PromQL needs none). */
async function startPrometheusOn(port: number, dir: string): Promise<ChildProcess> {
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'prometheus.yml'), 'global: {scrape_interval: 15s}\nscrape_configs: []\n');
  const proc = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return proc;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error('Prometheus did not start');
    await sleep(250);
  }
}

beforeAll(async () => {
  if (!hasPrometheus()) throw new Error('prometheus is not installed (Debian package prometheus; .ci/run installs it)');
  await ensureCrds();
  proxy = startApiProxy();
  llm = await startFakeLlm('hang');
}, 120_000);

afterAll(async () => {
  await killAllOperators();
  // Whatever happened, the cluster keeps its metrics-server.
  if (metricsServerStopped) startComponent('metrics-server', metricsServerStopped);
  prometheus?.proc.kill('SIGKILL');
  await llm.close();
  await cleanupNamespaces();
  await proxy.close();
});

type Condition = NonNullable<NonNullable<HealingPolicy['status']>['conditions']>[number];

async function dataCondition(ns: string, name: string): Promise<Condition | undefined> {
  return (await readPolicy(kc, ns, name)).status?.conditions?.find((c) => c.type === 'DataAvailable');
}

async function waitData(ns: string, name: string, status: 'True' | 'False', timeoutMs = 120_000): Promise<{ condition: Condition; ms: number }> {
  const t = Date.now();
  for (;;) {
    const c = await dataCondition(ns, name).catch(() => undefined);
    if (c?.status === status) return { condition: c, ms: Date.now() - t };
    if (Date.now() - t > timeoutMs) throw new Error(`${name}: DataAvailable did not become ${status} within ${timeoutMs} ms (now ${JSON.stringify(c)})`);
    await sleep(500);
  }
}

describe('dependencies gone', () => {
  it('metrics-server, Prometheus and the LLM fail in turn: degraded mode shown with its reason, rule-based healing goes on', async () => {
    const ns = await faultNamespace('faults-deps');
    const port = await freePort();
    const dir = artifactDir('prometheus');
    rmSync(dir, { recursive: true, force: true });
    prometheus = { proc: await startPrometheusOn(port, dir), port, dir };

    for (const [name, tier] of [['mem', 'mem'], ['crash', 'crash'], ['ai', 'ai']] as const) {
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment(name, 2, { tier }) });
    }
    const memPods = await (async () => {
      for (;;) {
        const p = await livePods(ns, 'tier=mem');
        if (p.length === 2) return p;
        await sleep(500);
      }
    })();
    // One policy per dependency; each only watches, except the rule-based one, which heals.
    await createPolicy(kc, ns, 'needs-metrics-server', {
      selector: { labelSelector: { matchLabels: { tier: 'mem' } } },
      triggers: [{ name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 95 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    // A series for each selected pod, computed by Prometheus itself (nothing to scrape).
    const promql = memPods.map((p) => `label_replace(label_replace(vector(5), "namespace", "${ns}", "", ""), "pod", "${p.metadata?.name ?? ''}", "", "")`).join(' or ');
    await createPolicy(kc, ns, 'needs-prometheus', {
      selector: { labelSelector: { matchLabels: { tier: 'mem' } } },
      triggers: [{ name: 'queue-depth', type: 'metric', metricTrigger: { query: promql, threshold: 100 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    await createPolicy(kc, ns, 'rule-based', {
      selector: { labelSelector: { matchLabels: { tier: 'crash' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      safetyRules: { maxActionsPerHour: 100, healthCheckTimeout: '60s', maxUnavailable: 1 },
    });
    await createPolicy(kc, ns, 'ai-decided', {
      selector: { labelSelector: { matchLabels: { tier: 'ai' } } },
      strategy: 'ai',
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      safetyRules: { maxActionsPerHour: 100, healthCheckTimeout: '60s', maxUnavailable: 1 },
    });

    const op: FaultOperator = spawnFaultOperator({
      name: 'dependencies',
      kubeconfig: await proxy.kubeconfig('deps'),
      namespaceSelector: TEST_NAMESPACE_SELECTOR,
      args: [
        '--prometheus-url', `http://127.0.0.1:${port}`,
        '--prometheus-timeout-seconds', '2',
        '--ai-provider', 'openai',
        '--ai-url', llm.url,
        '--ai-model', 'faults-model',
        '--ai-api-key-env', 'FAULTS_LLM_API_KEY',
        '--ai-timeout-seconds', '2',
        '--ai-max-actions-per-hour', '100',
        '--max-actions-per-hour', '1000',
        '--verification-stability-seconds', '2',
      ],
    });
    await op.metricsUrl();
    const healthy = await waitData(ns, 'needs-metrics-server', 'True');
    await waitData(ns, 'needs-prometheus', 'True');
    note(`deps: data available ${healthy.ms} ms after start`);

    /**
     * Crashes a pod of `tier` and waits for an action on it to finish other than Blocked; returns it with the reasons
     * of the Blocked ones before it (a replacement pod crashed within the cooldown of its predecessor's restart is
     * refused as Cooldown first — the safety rules, not a dependency, decide that).
     */
    const heal = async (tier: string, label: string): Promise<{ phase: string; reasoning: string; ms: number; blocked: string[] }> => {
      const pods = await livePods(ns, `tier=${tier}`);
      const victim = pods.find((p) => p.status?.phase === 'Running' && p.metadata?.annotations?.['sim.kubeskippy.io/crash'] !== 'true');
      if (!victim) throw new Error(`no pod of tier ${tier} to crash`);
      const t = Date.now();
      await crashPod(ns, victim.metadata?.name ?? '');
      for (;;) {
        const mine = (await actionsIn(ns)).filter((x) => x.spec.targetResource.name === victim.metadata?.name);
        const blocked = mine.filter((x) => x.status?.phase === 'Blocked').map((x) => x.status?.reason ?? '');
        const a = mine.find((x) => x.status?.phase !== 'Blocked' && FINISHED.includes(x.status?.phase ?? 'Pending'));
        if (a) {
          note(`deps: ${label}: ${a.metadata.name ?? ''} ${a.status?.phase ?? ''} after ${Date.now() - t} ms (blocked before: ${blocked.join(', ') || 'none'})`);
          return { phase: a.status?.phase ?? '', reasoning: (a.spec.reasoning ?? []).join(' | '), ms: Date.now() - t, blocked };
        }
        if (Date.now() - t > 150_000) throw new Error(`${label}: the crash of ${victim.metadata?.name ?? ''} was not healed within 150 s`);
        await sleep(1000);
      }
    };
    const outcomes: Record<string, { phase: string; reasoning: string; ms: number; blocked: string[] }> = {};

    // 1–2. metrics-server and Prometheus gone together (each policy reports its own source; the samples held stay
    //      usable for maxSampleAge, 2 min, so that is when DataAvailable turns False).
    metricsServerStopped = await stopComponent('metrics-server');
    prometheus.proc.kill('SIGKILL');
    const [msDown, promDown] = await Promise.all([waitData(ns, 'needs-metrics-server', 'False', 240_000), waitData(ns, 'needs-prometheus', 'False', 240_000)]);
    outcomes['rule-based while metrics-server and Prometheus are gone'] = await heal('crash', 'metrics-server and Prometheus gone');
    const msEvents = (await eventsFor(kc, ns, 'HealingPolicy', 'needs-metrics-server')).filter((e) => e.reason === 'DataUnavailable');
    const promEvents = (await eventsFor(kc, ns, 'HealingPolicy', 'needs-prometheus')).filter((e) => e.reason === 'DataUnavailable');
    startComponent('metrics-server', metricsServerStopped);
    metricsServerStopped = undefined;
    prometheus.proc = await startPrometheusOn(port, dir);
    const [msBack, promBack] = await Promise.all([waitData(ns, 'needs-metrics-server', 'True', 180_000), waitData(ns, 'needs-prometheus', 'True', 180_000)]);
    const backEvents = (await eventsFor(kc, ns, 'HealingPolicy', 'needs-prometheus')).filter((e) => e.reason === 'DataAvailable');

    // 3. The LLM hangs, then answers garbage, then hostile content: AI-decided firings fall back to the analyzer.
    llm.mode = 'hang';
    outcomes['AI-decided while the LLM hangs'] = await heal('ai', 'LLM hangs');
    llm.mode = 'garbage';
    outcomes['AI-decided while the LLM answers garbage'] = await heal('ai', 'LLM garbage');
    llm.mode = 'hostile';
    outcomes['AI-decided while the LLM answers hostile content'] = await heal('ai', 'LLM hostile');
    const fallbacks = await op.metric('kubeskippy_llm_requests_total');
    const ok = await op.metric('kubeskippy_llm_requests_total', { result: 'ok' });
    const metricsText = await (await fetch(`${await op.metricsUrl()}/metrics`)).text();
    const llmLines = metricsText.split('\n').filter((l) => l.startsWith('kubeskippy_llm_requests_total'));

    // Accounting over every action of the run (against the proxy's record of the operator's writes), once the
    // last one has settled: lost = a crash not healed or an execution that mutated nothing; duplicated = a target
    // mutated twice by one action; stuck = an action not finished.
    const settleEnd = Date.now() + 60_000;
    while ((await actionsIn(ns)).some((a) => !FINISHED.includes(a.status?.phase ?? 'Pending')) && Date.now() < settleEnd) await sleep(1000);
    const allActions = await actionsIn(ns);
    const account = accountMutations(proxy.requests, ns, allActions);
    const stuck = allActions.filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'));
    const notHealed = Object.entries(outcomes).filter(([, v]) => v.phase !== 'Succeeded').map(([k]) => k);
    const aiActions = allActions.filter((a) => a.spec.policyRef.name === 'ai-decided');
    console.log(
      [
        `fault 4: DataAvailable=False (metrics-server gone) after ${msDown.ms} ms: ${msDown.condition.reason}: ${msDown.condition.message}`,
        `  back after ${msBack.ms} ms; DataUnavailable Events: ${msEvents.map((e) => e.message).join(' | ')}`,
        `  DataAvailable=False (Prometheus gone) after ${promDown.ms} ms: ${promDown.condition.reason}: ${promDown.condition.message}`,
        `  back after ${promBack.ms} ms; DataUnavailable Events: ${promEvents.map((e) => e.message).join(' | ')}; DataAvailable Events: ${backEvents.length}`,
        ...Object.entries(outcomes).map(([k, v]) => `  ${k}: ${v.phase} in ${v.ms} ms${v.blocked.length ? ` (blocked first: ${v.blocked.join(', ')})` : ''}${v.reasoning ? ` — ${v.reasoning.slice(0, 240)}` : ''}`),
        `  LLM requests received: ${JSON.stringify(llm.received)}; operator's count ${fallbacks} (${ok} ok): ${llmLines.join('; ')}`,
        `  AI-decided actions: ${aiActions.map((a) => `${a.status?.phase ?? ''} source=${a.spec.source ?? ''}`).join(', ')}`,
        `  ${allActions.length} actions, ${account.mutations} mutations; duplicated ${account.duplicated.size}, executed without a mutation ${account.executedWithoutMutation.length}, stuck ${stuck.length}`,
      ].join('\n'),
    );
    recordResult('4-dependencies', {
      fault: 'dependencies gone',
      injected: 'metrics-server stopped and Prometheus killed (together, then both restarted), LLM endpoint hanging / garbage / hostile',
      times: 5,
      lost: notHealed.length + account.executedWithoutMutation.length,
      duplicated: account.duplicated.size,
      stuck: stuck.length,
      recovery: `DataAvailable=False after ${(msDown.ms / 1000).toFixed(0)} s (metrics-server) and ${(promDown.ms / 1000).toFixed(0)} s (Prometheus), True again ${(msBack.ms / 1000).toFixed(0)} s / ${(promBack.ms / 1000).toFixed(0)} s after they returned; LLM fallbacks at the ${2} s deadline`,
      outcomes,
      llmReceived: llm.received,
    });

    expect(msDown.condition.reason).toBe('DataUnavailable');
    expect(msDown.condition.message).toMatch(/memory_usage_percent/);
    expect(msEvents.length).toBeGreaterThanOrEqual(1);
    expect(promDown.condition.message).toMatch(/unavailable: Prometheus at http:\/\/127\.0\.0\.1:\d+ unreachable/);
    expect(promEvents.length).toBeGreaterThanOrEqual(1);
    expect(backEvents.length).toBeGreaterThanOrEqual(1);
    expect(notHealed).toEqual([]);
    expect(account.executedWithoutMutation).toEqual([]);
    expect([...account.duplicated]).toEqual([]);
    expect(stuck.map((a) => `${a.metadata.name ?? ''} ${a.status?.phase ?? 'Pending'}`)).toEqual([]);
    for (const [k, v] of Object.entries(outcomes)) {
      expect(v.phase, k).toBe('Succeeded');
      for (const reason of v.blocked) expect(reason, `${k}: blocked before`).toBe('Cooldown');
    }
    for (const k of Object.keys(outcomes).filter((x) => x.startsWith('AI'))) expect(outcomes[k]?.reasoning, k).toMatch(/LLM advice not used/);
    expect(llm.received.hang + llm.received.garbage + llm.received.hostile).toBeGreaterThanOrEqual(3);
    expect(ok).toBe(0);
    // The key really was sent (to the LLM, its only destination).
    expect(llm.authorizations.some((h) => h.includes('sk-faults-'))).toBe(true);
    expect(op.hasExited()).toBe(false);
    await op.kill('SIGTERM');
  }, 900_000);
});
