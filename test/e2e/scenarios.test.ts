/**
 * The scenario suite: the demo's scenarios (src/demo/scenarios.ts) on the real cluster, each in its own test
 * namespace and all at once, against one real operator in this process, with the demo's simulator injecting the
 * faults and its recorder watching the pods — and each scenario's outcome asserted:
 * - a slow leak is restarted predictively, below half its limit, before any OOM kill (controls left alone);
 * - a crash loop is restarted, then escalated to the patch that heals it;
 * - a sine-wave CPU load is scaled up before a peak, that peak stays under 80%, and it is scaled back once the load
 *   subsides (not between peaks: docs/demo.md says why);
 * - the chaos monkey causes no action storm (budget and storm suppression hold);
 * - a dependency's network degradation restarts nothing, and the dry-run rules twin mutates nothing;
 * - the protected app is never touched;
 * - a bad release is rolled back at once by the analyzer, after a failed restart by the rules' ladder.
 * The PromQL series comes from the demo's exporter through the real Prometheus the global setup starts (Debian's
 * package; this suite fails, naming it, without). The report of the run is left in test-artifacts/.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../../src/config/load.js';
import { DEMO_OPERATOR_SETTINGS, deployScenario, waitForScenarios } from '../../src/demo/deploy.js';
import { startExporter, type RunningExporter } from '../../src/demo/exporter.js';
import { formatReport } from '../../src/demo/format.js';
import { renderReportHtml } from '../../src/demo/html.js';
import { Recorder } from '../../src/demo/recorder.js';
import { hasActed, type ActionRecord } from '../../src/demo/recording.js';
import { buildReport, restartEvents } from '../../src/demo/report.js';
import { operatorLogSink } from '../../src/demo/runner.js';
import { CPU_BREACH_PERCENT, DEMO_TIMINGS, scenarioById, type DemoTimings, type ScenarioId } from '../../src/demo/scenarios.js';
import { sinePeaks } from '../../src/demo/sim-rules.js';
import { Simulator, type ScenarioPlacement } from '../../src/demo/simulator.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/runtime/clock.js';
import { startOperator, type RunningOperator } from '../../src/wiring.js';
import { TEST_NAMESPACE_SELECTOR, createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { TEST_OPERATOR_FLAGS } from '../support/operator.js';
import { setPrometheusTargets } from '../support/prometheus.js';
import { ensureCrds } from '../support/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(root, 'test-artifacts');
const MIN = 60_000;

/** The demo's timings, shortened where the suite need not wait: faults start sooner, the chaos monkey strikes every 10 s. */
const TIMINGS: DemoTimings = {
  ...DEMO_TIMINGS,
  chaosIntervalSeconds: 10,
  badReleaseAtSeconds: [30],
  // The suite ends the oscillation itself, once a peak has been kept under the line.
  cpu: { baseMillicores: DEMO_TIMINGS.cpu.baseMillicores, amplitudeMillicores: DEMO_TIMINGS.cpu.amplitudeMillicores, periodSeconds: DEMO_TIMINGS.cpu.periodSeconds, quietMillicores: DEMO_TIMINGS.cpu.quietMillicores },
  network: { firstDegradationAtSeconds: 20, healthySeconds: 60, rampSeconds: 45, baseLatencySeconds: 0.05, peakLatencySeconds: 3, failAboveSeconds: 1.5 },
};
const IDS: readonly ScenarioId[] = ['memory-degradation', 'crash-loop', 'cpu-oscillation', 'chaos-monkey', 'network-degradation', 'protected-app', 'bad-release'];

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const placements: ScenarioPlacement[] = [];
let operator: RunningOperator | undefined;
let simulator: Simulator;
let recorder: Recorder;
let exporter: RunningExporter | undefined;
let startedAt = 0;

function nsOf(id: ScenarioId): string {
  const p = placements.find((x) => x.scenario.id === id);
  if (p === undefined) throw new Error(`scenario ${id} not placed`);
  return p.namespace;
}

/** A value for waitFor's check, which wants a promise. */
const now = <T>(value: T): Promise<T> => Promise.resolve(value);

const actionsIn = (id: ScenarioId): readonly ActionRecord[] => recorder.currentActions().filter((a) => a.namespace === nsOf(id));

async function podsOf(namespace: string, app: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
}

beforeAll(async () => {
  const prometheusUrl = process.env['KUBESKIPPY_TEST_PROMETHEUS_URL'];
  if (prometheusUrl === undefined) throw new Error('Prometheus is not installed: install the Debian package "prometheus" (hack/ci/system-packages.sh does); the network scenario reads its latency through PromQL');
  await ensureCrds();
  for (const id of IDS) placements.push({ scenario: scenarioById(id), namespace: await createTestNamespace(kc, `sc-${id}`) });
  for (const p of placements) await deployScenario(kc, p, { createNamespace: false, clock: systemClock });
  await waitForScenarios(kc, placements, systemClock);
  startedAt = Date.now();
  simulator = new Simulator({ kc, clock: systemClock, logger: silentLogger, timings: TIMINGS, placements, startedAt });
  recorder = new Recorder({ kc, clock: systemClock, logger: silentLogger, placements, simulator, startedAt });
  exporter = await startExporter(() => simulator.latencyExposition());
  setPrometheusTargets(root, [{ address: exporter.address }]);
  const config = await loadOperatorConfig({
    flags: { ...TEST_OPERATOR_FLAGS, ...DEMO_OPERATOR_SETTINGS, namespaceSelector: TEST_NAMESPACE_SELECTOR, 'prometheus.url': prometheusUrl },
    env: {},
  });
  const logger = createLogger({ level: 'debug', destination: operatorLogSink({ write: () => true }, (d) => recorder.addDecision(d), systemClock) });
  operator = await startOperator({ config, kubeConfig: kc, clock: systemClock, logger });
  simulator.start();
  recorder.start();
}, 300_000);

afterAll(async () => {
  await simulator?.stop();
  await recorder?.stop();
  await operator?.stop();
  await exporter?.close();
  if (recorder !== undefined) {
    const report = buildReport(recorder.snapshot(), TIMINGS);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'scenarios-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const require = createRequire(import.meta.url);
    writeFileSync(
      path.join(ARTIFACTS, 'scenarios-report.html'),
      renderReportHtml(report, readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'), readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8')),
    );
    console.log(formatReport(report).join('\n'));
  }
  await Promise.all(placements.map((p) => deleteTestNamespace(kc, p.namespace)));
}, 120_000);

describe.concurrent('the scenarios, healed and measured', () => {
  it('restarts a slow leak predictively, below half its limit, before any OOM kill, and leaves the GC sawtooth and the warm-up alone', { timeout: 13 * MIN }, async () => {
    const ns = nsOf('memory-degradation');
    const action = await waitFor('a predictive restart of degradation-ai', () => now(actionsIn('memory-degradation').find((a) => a.workload === 'degradation-ai' && hasActed(a))), 12 * MIN, 2000);
    console.log(`[leak] ${action.type} of ${action.targetName} at ${action.trigger.observedValue?.toFixed(1)}% of the limit, ${Math.round((action.createdAt - startedAt) / 1000)} s in; confidence ${action.confidence}; ${action.reasoning.join(' | ')}`);
    expect(action.source).toBe('ai');
    expect(action.trigger.type).toBe('predictive');
    expect(action.trigger.observedValue).toBeLessThan(50);
    expect(action.confidence).toBeGreaterThanOrEqual(0.7);
    // Executed: the leaking pod is replaced, before it was ever OOMKilled.
    await waitFor('the leaking pod replaced', async () => !(await podsOf(ns, 'degradation-ai')).some((p) => p.metadata?.name === action.targetName), 2 * MIN, 1000);
    const ooms = restartEvents(recorder.currentPods()).filter((r) => r.namespace === ns && r.workload === 'degradation-ai' && r.reason === 'OOMKilled');
    expect(ooms).toEqual([]);
    const controls = actionsIn('memory-degradation').filter((a) => (a.workload === 'gc-sawtooth' || a.workload === 'warmup') && hasActed(a));
    expect(controls.map((a) => `${a.type} ${a.targetName}`)).toEqual([]);
  });

  it('restarts a crash loop, then escalates to the patch that heals it', { timeout: 8 * MIN }, async () => {
    const ns = nsOf('crash-loop');
    const patch = await waitFor('a verified patch of crashloop-app', () => now(actionsIn('crash-loop').find((a) => a.type === 'patch' && a.phase === 'Succeeded')), 7 * MIN, 2000);
    const acted = actionsIn('crash-loop').filter(hasActed);
    expect(acted[0]?.type).toBe('restart');
    expect(acted[0]?.createdAt).toBeLessThan(patch.createdAt);
    expect(patch.reasoning.join(' ')).toMatch(/escalated/);
    const d = await apps.readNamespacedDeployment({ name: 'crashloop-app', namespace: ns });
    expect(d.spec?.template.spec?.containers[0]?.resources?.limits?.['memory']).toBe('256Mi');
    const crashes = restartEvents(recorder.currentPods()).filter((r) => r.namespace === ns && r.reason === 'OOMKilled');
    expect(crashes.length).toBeGreaterThan(0);
    // Healed: the patched pod runs, Ready, and is not OOMKilled again.
    const pod = await waitFor('the patched pod Ready', async () => (await podsOf(ns, 'crashloop-app')).find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')), MIN, 1000);
    await new Promise((r) => setTimeout(r, 20_000));
    const again = (await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: ns })).status?.containerStatuses?.[0]?.restartCount ?? 0;
    expect(again).toBe(0);
  });

  it('scales the oscillating app up before a peak, keeps that peak under the line, and scales back once the load subsides', { timeout: 13 * MIN }, async () => {
    const ns = nsOf('cpu-oscillation');
    const period = TIMINGS.cpu.periodSeconds * 1000;
    const up = await waitFor('a predictive scale-up of cpu-ai', () => now(actionsIn('cpu-oscillation').find((a) => a.workload === 'cpu-ai' && a.type === 'scale' && hasActed(a))), 10 * MIN, 2000);
    console.log(`[cpu] scale of ${up.workload} at ${up.trigger.observedValue?.toFixed(1)}% CPU, ${Math.round((up.createdAt - startedAt) / 1000)} s in; confidence ${up.confidence}; ${up.reasoning.join(' | ')}`);
    expect(up.source).toBe('ai');
    expect(up.trigger.type).toBe('predictive');
    expect(up.trigger.observedValue).toBeLessThan(CPU_BREACH_PERCENT);
    await waitFor('the third cpu-ai replica Ready', async () => (await apps.readNamespacedDeployment({ name: 'cpu-ai', namespace: ns })).status?.readyReplicas === 3, 2 * MIN, 1000);
    // The first peak after the scale-up took effect, and a quarter period either side of it: under the line.
    const scaledAt = Date.now();
    const peak = sinePeaks(TIMINGS.cpu.periodSeconds, scaledAt + period / 4, scaledAt + 2 * period)[0]!;
    await new Promise((r) => setTimeout(r, Math.max(0, peak + period / 4 + 20_000 - Date.now())));
    const around = recorder.snapshot().usage.filter((u) => u.namespace === ns && u.workload === 'cpu-ai' && u.at >= peak - period / 4 && u.at <= peak + period / 4);
    expect(around.length).toBeGreaterThan(0);
    expect(Math.max(...around.map((u) => u.cpuPercent ?? 0))).toBeLessThan(CPU_BREACH_PERCENT);
    // The rules twin has the seed's "> 80% for 2 minutes": a 47-second peak never holds that long.
    expect(actionsIn('cpu-oscillation').filter((a) => a.workload === 'cpu-rules' && hasActed(a))).toEqual([]);
    // The load subsides: "CPU < 30% for 1m" scales back to the two replicas it started with, where the trigger clears.
    simulator.setCpuQuiet(ns, true);
    const down = await waitFor('a scale-back of cpu-ai', () => now(actionsIn('cpu-oscillation').find((a) => a.workload === 'cpu-ai' && a.scale?.direction === 'down' && a.phase === 'Succeeded')), 5 * MIN, 2000);
    expect(down.policy).toBe('cpu-scale-back');
    expect((await apps.readNamespacedDeployment({ name: 'cpu-ai', namespace: ns })).spec?.replicas).toBe(2);
  });

  it('holds the chaos monkey\'s random failures to its budget and suppresses the storm', { timeout: 9 * MIN }, async () => {
    const ns = nsOf('chaos-monkey');
    // Held either by the gate (a Blocked action) or, once the storm is seen in what is failing, by the policy
    // controller before any action is created (one StormSuppressed Event on the policy).
    const held = await waitFor(
      'a firing held by storm suppression or the budget',
      async () => {
        const blocked = actionsIn('chaos-monkey').find((a) => a.phase === 'Blocked' && (a.reason === 'StormSuppressed' || a.reason === 'RateLimited'));
        if (blocked !== undefined) return { reason: blocked.reason ?? '', message: blocked.message ?? '' };
        const events = (await core.listNamespacedEvent({ namespace: ns })).items;
        const storm = events.find((e) => e.reason === 'StormSuppressed' && e.involvedObject.kind === 'HealingPolicy');
        return storm === undefined ? undefined : { reason: 'StormSuppressed', message: storm.message ?? '' };
      },
      8 * MIN,
      2000,
    );
    const strikes = simulator.injections.filter((i) => i.namespace === ns);
    const acted = actionsIn('chaos-monkey').filter(hasActed);
    console.log(`[chaos] ${strikes.length} strikes, ${acted.length} actions acted, first held: ${held.reason} (${held.message})`);
    expect(strikes.length).toBeGreaterThan(acted.length);
    // The policy's budget (6 an hour) and the storm limit (3 workloads in 5 minutes) bound what ran.
    expect(acted.length).toBeLessThanOrEqual(6);
    expect(new Set(acted.map((a) => a.workload)).size).toBeLessThanOrEqual(3);
  });

  it('restarts nothing when a dependency\'s network degrades, and its dry-run rules twin mutates nothing', { timeout: 6 * MIN }, async () => {
    const ns = nsOf('network-degradation');
    const before = new Map((await core.listNamespacedPod({ namespace: ns })).items.map((p) => [p.metadata!.uid!, p.status?.containerStatuses?.[0]?.restartCount ?? 0]));
    const declined = await waitFor(
      'the analyzer declining to restart checkout-ai',
      () => now(recorder.currentDecisions().find((d) => d.namespace === ns && d.policy === 'checkout-ai' && d.recommendation === 'none' && d.rule === 'dependency-failing')),
      5 * MIN,
      1000,
    );
    expect(declined.reasoning.join(' ')).toMatch(/payments-db/);
    const dry = await waitFor('a dry-run restart of checkout-rules', () => now(actionsIn('network-degradation').find((a) => a.policy === 'checkout-rules' && a.dryRun && a.phase === 'Succeeded')), 3 * MIN, 1000);
    expect(dry.type).toBe('restart');
    // A while longer, with the network failing: still nothing acted, every pod the same one, never restarted.
    await new Promise((r) => setTimeout(r, 30_000));
    expect(actionsIn('network-degradation').filter(hasActed)).toEqual([]);
    const after = (await core.listNamespacedPod({ namespace: ns })).items;
    expect(after.map((p) => p.metadata!.uid!).sort()).toEqual([...before.keys()].sort());
    for (const p of after) expect(p.status?.containerStatuses?.[0]?.restartCount ?? 0).toBe(before.get(p.metadata!.uid!));
  });

  it('never touches the protected app', { timeout: 5 * MIN }, async () => {
    const ns = nsOf('protected-app');
    const before = (await podsOf(ns, 'ledger')).map((p) => p.metadata!.uid!).sort();
    const blocked = await waitFor('a decision on the ledger, blocked as Protected', () => now(actionsIn('protected-app').find((a) => a.phase === 'Blocked')), 4 * MIN, 1000);
    expect(blocked.reason).toBe('Protected');
    expect(actionsIn('protected-app').filter(hasActed)).toEqual([]);
    expect((await podsOf(ns, 'ledger')).map((p) => p.metadata!.uid!).sort()).toEqual(before);
  });

  it('rolls a bad release back at once with the analyzer, where the rules\' ladder restarts first', { timeout: 7 * MIN }, async () => {
    const ns = nsOf('bad-release');
    const healed = (w: string) => async () => {
      const done = actionsIn('bad-release').find((a) => a.workload === w && a.type === 'rollback' && a.phase === 'Succeeded');
      if (done === undefined) return undefined;
      const d = await apps.readNamespacedDeployment({ name: w, namespace: ns });
      return d.status?.readyReplicas === 2 && d.spec?.template.metadata?.annotations?.['sim.kubeskippy.io/crash'] === undefined ? done : undefined;
    };
    await waitFor('shop-ai rolled back and whole', healed('shop-ai'), 6 * MIN, 2000);
    await waitFor('shop-rules rolled back and whole', healed('shop-rules'), 6 * MIN, 2000);
    const ai = actionsIn('bad-release').filter((a) => a.workload === 'shop-ai' && hasActed(a));
    const rules = actionsIn('bad-release').filter((a) => a.workload === 'shop-rules' && hasActed(a));
    expect(ai.map((a) => a.type)).toEqual(['rollback']);
    expect(ai[0]?.source).toBe('ai');
    expect(rules.map((a) => a.type)).toEqual(['restart', 'rollback']);
  });
});
