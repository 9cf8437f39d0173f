/**
 * The demo, end to end, against a cluster whose nodes kwok simulates: replaces the previous demo's namespaces,
 * deploys every scenario (scenarios.ts), starts the network exporter and the real Prometheus scraping it and the
 * operator, runs the operator in this process with its dashboard, runs the simulator and the recorder, shows a live
 * summary, and — after `durationMs`, or when `signal` aborts (Ctrl-C) — stops everything it started, writes the
 * report (JSON and HTML) and prints it. The cluster and the demo's namespaces keep running; it says so.
 * The CLI (`kubeskippy demo`, `npm run demo`) is a thin shell over runDemo.
 */
import type * as k8s from '@kubernetes/client-node';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadOperatorConfig } from '../config/load.js';
import { createLogger, type LogDestination } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { startOperator, type RunningOperator } from '../wiring.js';
import { DEMO_ADDRESSES, DEMO_NAMESPACE_SELECTOR, DEMO_OPERATOR_SETTINGS, DEMO_PROMETHEUS_PORT, deployScenario, kwokNodes, removeDemoNamespaces, waitForScenarios } from './deploy.js';
import { startExporter, type RunningExporter } from './exporter.js';
import { formatReport, renderLive } from './format.js';
import { renderReportHtml } from './html.js';
import { startPrometheus, type RunningPrometheus } from './prometheus.js';
import { Recorder } from './recorder.js';
import { decisionFromLog, type DecisionRecord } from './recording.js';
import { buildReport, restartEvents, type DemoReport } from './report.js';
import { DEMO_TIMINGS, SCENARIOS, demoNamespace, type DemoTimings, type ScenarioId } from './scenarios.js';
import { Simulator, type ScenarioPlacement } from './simulator.js';

/** Where the demo writes. */
export interface DemoIo {
  out(line: string): void;
  err(line: string): void;
  /** Redraws the live summary (a terminal); absent: the runner prints changes as lines instead. */
  live?: (lines: readonly string[]) => void;
}

/** What runDemo needs. */
export interface DemoOptions {
  readonly kc: k8s.KubeConfig;
  readonly clock: Clock;
  readonly io: DemoIo;
  /** Aborted on Ctrl-C: the demo stops early and still reports. */
  readonly signal: AbortSignal;
  /** Operator log, Prometheus data and the default report go here. */
  readonly stateDir: string;
  /** Run this long, then report; undefined: until the signal aborts. */
  readonly durationMs?: number;
  /** The JSON report's path (the HTML page goes beside it, .html); default stateDir/report.json. */
  readonly reportPath?: string;
  /** Start Prometheus (default true); without it the network scenario's PromQL trigger has no data. */
  readonly prometheus?: boolean;
  readonly timings?: DemoTimings;
  readonly scenarios?: readonly ScenarioId[];
  /** When the command that led here started (ms): `npm run demo` passes its start, for the time to first healing. */
  readonly commandStartedAt?: number;
  /** What to say is still running afterwards (e.g. how to stop the local cluster). */
  readonly stillRunning?: readonly string[];
}

/** What a finished demo hands back. */
export interface DemoOutcome {
  readonly report: DemoReport;
  readonly reportPath: string;
  readonly htmlPath: string;
}

/** The report with how long the start took, measured by the runner. */
export interface StartupTimes {
  /** From the command's start to the faults' start (cluster up, build, apps deployed, operator started). */
  readonly commandToFaultsSeconds?: number;
  /** From the command's start to the first verified healing. */
  readonly firstHealingSinceCommandSeconds?: number;
  readonly deploySeconds: number;
}

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return { js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'), css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') };
}

/**
 * A log destination for the in-process operator: records at info and above go to the log file; the analyzer's
 * recommendations (logged at debug when they decline) go to `onDecision` as well, for the live view and the report.
 */
export function operatorLogSink(file: LogDestination, onDecision: (d: DecisionRecord) => void, clock: Pick<Clock, 'now'>): LogDestination {
  const LOW = new Set(['trace', 'debug']);
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          file.write(`${line}\n`);
          continue;
        }
        const d = decisionFromLog(rec, typeof rec['time'] === 'string' ? Date.parse(rec['time']) : clock.now());
        if (d !== undefined) onDecision(d);
        if (!LOW.has(String(rec['level'])) || d !== undefined) file.write(`${line}\n`);
      }
    },
  };
}

/** Runs the demo. Resolves with the report once everything it started has stopped. */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const { kc, clock, io } = o;
  const timings = o.timings ?? DEMO_TIMINGS;
  const wanted = o.scenarios ?? SCENARIOS.map((s) => s.id);
  const placements: ScenarioPlacement[] = SCENARIOS.filter((s) => wanted.includes(s.id)).map((scenario) => ({ scenario, namespace: demoNamespace(scenario.id) }));
  mkdirSync(o.stateDir, { recursive: true });
  const say = (line: string): void => io.out(`[demo ${new Date(clock.now()).toISOString().slice(11, 19)}] ${line}`);

  const nodes = await kwokNodes(kc);
  if (nodes.length === 0) {
    throw new Error('this cluster has no kwok nodes: the demo apps are simulated by kwok with KubeSkippy\'s stages (hack/cluster/manifests/kwok.yaml); use npm run demo, which brings up such a cluster');
  }
  const deployStart = clock.now();
  const removed = await removeDemoNamespaces(kc, clock);
  if (removed.length > 0) say(`removed the previous demo's ${removed.length} namespaces`);
  for (const p of placements) await deployScenario(kc, p, { createNamespace: true, clock });
  await waitForScenarios(kc, placements, clock);
  say(`${placements.length} scenarios deployed and Ready in namespaces ${placements.map((p) => p.namespace).join(', ')}`);
  const deploySeconds = (clock.now() - deployStart) / 1000;

  const startedAt = clock.now();
  const silent = createLogger({ level: 'warn', destination: { write: (l: string) => io.err(l.trimEnd()) } });
  const simulator = new Simulator({ kc, clock, logger: silent, timings, placements, startedAt });
  const recorder = new Recorder({ kc, clock, logger: silent, placements, simulator, startedAt });
  const started: { name: string; stop: () => Promise<void> }[] = [];
  let exporter: RunningExporter | undefined;
  let prometheus: RunningPrometheus | undefined;
  let operator: RunningOperator | undefined;
  const logFile = createWriteStream(path.join(o.stateDir, 'operator.log'), { flags: 'a' });
  const urls: { name: string; url: string }[] = [];
  try {
    exporter = await startExporter(() => simulator.latencyExposition());
    started.push({ name: 'the network exporter', stop: () => exporter!.close() });
    if (o.prometheus !== false) {
      try {
        prometheus = await startPrometheus({
          dir: path.join(o.stateDir, 'prometheus'),
          preferredPort: DEMO_PROMETHEUS_PORT,
          clock,
          targets: [
            { job: 'kubeskippy', address: DEMO_ADDRESSES.metricsBindAddress },
            { job: 'demo', address: exporter.address },
          ],
        });
        started.push({ name: `Prometheus (pid ${prometheus.pid})`, stop: () => prometheus!.stop() });
        urls.push({ name: 'prometheus', url: prometheus.url });
      } catch (e: unknown) {
        io.err(`demo: ${e instanceof Error ? e.message : String(e)} — continuing without Prometheus: the network scenario's PromQL trigger gets no data`);
      }
    }
    const config = await loadOperatorConfig({
      flags: { ...DEMO_OPERATOR_SETTINGS, ...DEMO_ADDRESSES, namespaceSelector: DEMO_NAMESPACE_SELECTOR, ...(prometheus ? { 'prometheus.url': prometheus.url } : {}) },
      env: {},
    });
    const logger = createLogger({ level: 'debug', destination: operatorLogSink(logFile, (d) => recorder.addDecision(d), clock) });
    operator = await startOperator({ config, kubeConfig: kc, clock, logger });
    started.push({ name: 'the operator', stop: () => operator!.stop() });
    if (operator.dashboard) urls.unshift({ name: 'dashboard', url: operator.dashboard.url });
    urls.push({ name: 'operator log', url: path.join(o.stateDir, 'operator.log') });
    simulator.start();
    recorder.start();
    started.push({ name: 'the simulator', stop: () => simulator.stop() }, { name: 'the recorder', stop: () => recorder.stop() });
    say(`operator running; ${urls.map((u) => `${u.name}: ${u.url}`).join('  ')}`);
    if (o.commandStartedAt !== undefined) say(`faults begin ${Math.round((startedAt - o.commandStartedAt) / 1000)} s after the command started (apps deployed in ${Math.round(deploySeconds)} s)`);

    await liveUntilDone(o, startedAt, urls, recorder, simulator, placements);
  } finally {
    io.out('');
    say(o.signal.aborted ? 'interrupted: stopping what the demo started' : 'time is up: stopping what the demo started');
    // Reverse order: the recorder's last read of the actions, then the faults, the operator, the servers.
    for (const s of [...started].reverse()) {
      try {
        await s.stop();
        say(`stopped ${s.name}`);
      } catch (e: unknown) {
        io.err(`demo: stopping ${s.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await new Promise<void>((resolve) => logFile.end(() => resolve()));
  }

  const rec = recorder.snapshot();
  const base = buildReport(rec, timings);
  const startup: StartupTimes = {
    deploySeconds: Math.round(deploySeconds * 10) / 10,
    ...(o.commandStartedAt === undefined ? {} : { commandToFaultsSeconds: Math.round((startedAt - o.commandStartedAt) / 100) / 10 }),
    ...(o.commandStartedAt === undefined || base.firstHealingSeconds === undefined
      ? {}
      : { firstHealingSinceCommandSeconds: Math.round((startedAt + base.firstHealingSeconds * 1000 - o.commandStartedAt) / 100) / 10 }),
  };
  const report: DemoReport & { startup: StartupTimes } = { ...base, startup };
  const reportPath = o.reportPath ?? path.join(o.stateDir, 'report.json');
  const htmlPath = reportPath.replace(/\.json$/, '') + '.html';
  mkdirSync(path.dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  const assets = uplotAssets();
  writeFileSync(htmlPath, renderReportHtml(report, assets.js, assets.css));
  io.out('');
  for (const line of formatReport(report)) io.out(line);
  if (startup.firstHealingSinceCommandSeconds !== undefined) io.out(`\nFirst verified healing ${Math.round(startup.firstHealingSinceCommandSeconds)} s after the command started.`);
  io.out(`\nReport: ${reportPath} and ${htmlPath}`);
  io.out('Still running (the demo did not start them, or leaves them for you to look at):');
  for (const line of o.stillRunning ?? []) io.out(`  - ${line}`);
  io.out(`  - the demo apps and their HealingActions in namespaces ${placements.map((p) => p.namespace).join(', ')} (kubectl get healingactions -A; the next demo replaces them; kubectl delete namespace -l ${DEMO_NAMESPACE_SELECTOR} removes them)`);
  return { report, reportPath, htmlPath };
}

async function liveUntilDone(o: DemoOptions, startedAt: number, urls: readonly { name: string; url: string }[], recorder: Recorder, simulator: Simulator, placements: readonly ScenarioPlacement[]): Promise<void> {
  const { clock, io, signal } = o;
  const seen = new Map<string, string>();
  let nextStatus = startedAt + 30_000;
  const endAt = o.durationMs === undefined ? Number.POSITIVE_INFINITY : startedAt + o.durationMs;
  while (!signal.aborted && clock.now() < endAt) {
    const now = clock.now();
    const actions = recorder.currentActions();
    const restarts = restartEvents(recorder.currentPods());
    const state = {
      now,
      startedAt,
      ...(o.durationMs === undefined ? {} : { durationMs: o.durationMs }),
      urls,
      actions,
      decisions: recorder.currentDecisions(),
      failures: {
        oomKilled: restarts.filter((r) => r.reason === 'OOMKilled').reduce((s, r) => s + r.count, 0),
        crashes: restarts.filter((r) => r.reason !== 'OOMKilled').reduce((s, r) => s + r.count, 0),
        faults: simulator.injections.length,
      },
      scenarios: placements.map((p) => ({ id: p.scenario.id, namespace: p.namespace })),
    };
    if (io.live) io.live(renderLive(state));
    else {
      for (const a of actions) {
        const phase = `${a.dryRun ? 'dry run ' : ''}${a.phase}${a.reason ? ` (${a.reason})` : ''}`;
        if (seen.get(`${a.namespace}/${a.name}`) === phase) continue;
        seen.set(`${a.namespace}/${a.name}`, phase);
        io.out(`[T+${Math.round((now - startedAt) / 1000)}s] ${a.namespace} ${a.policy}: ${a.type} ${a.targetName} → ${phase} [${a.source}${a.confidence === undefined ? '' : ` ${a.confidence.toFixed(2)}`}]`);
      }
      if (now >= nextStatus) {
        nextStatus = now + 30_000;
        io.out(renderLive(state).slice(0, 5).join(' | '));
      }
    }
    await clock.sleep(Math.min(2000, Math.max(0, endAt - clock.now())), signal).catch(() => undefined);
  }
}
