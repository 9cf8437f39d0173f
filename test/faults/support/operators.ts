/**
 * Runs the built operator (`node bin/kubeskippy.js run`, needs `npm run build`) as a child process for fault tests:
 * killable with any signal, its JSON log captured to test-artifacts/faults/logs/ (the secrets test scans them all),
 * its /metrics on an ephemeral loopback port read from its "operator started" log line. Every operator of the suite
 * carries the fake secrets of common.ts in its environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { artifactDir, ROOT, SECRET_ENV, sleep } from './common.js';

/** One parsed JSON log line (pino). */
export interface LogLine {
  readonly level?: number;
  readonly time?: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/** A running (or exited) operator process. */
export interface FaultOperator {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logFile: string;
  /** Everything it printed so far. */
  output(): string;
  /** Its JSON log lines so far (non-JSON lines skipped). */
  lines(): LogLine[];
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** True once it exited. */
  hasExited(): boolean;
  /** Sends `signal` (default SIGKILL) and waits for the exit, unless the signal only pauses (SIGSTOP/SIGCONT). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The URL of its /metrics (waits for the "operator started" line). */
  metricsUrl(timeoutMs?: number): Promise<string>;
  /** Scrapes /metrics and returns the sum of `name`'s samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

const running = new Set<FaultOperator>();
let counter = 0;

/** Options of spawnFaultOperator. */
export interface SpawnOptions {
  /** Names the log file and the proxy tag. */
  readonly name: string;
  readonly kubeconfig: string;
  /** Served namespaces (label selector). */
  readonly namespaceSelector: string;
  /** Extra CLI flags. */
  readonly args?: readonly string[];
  /** Extra environment. */
  readonly env?: Record<string, string>;
}

/** Spawns the operator; `--leader-election-enabled false` unless args say otherwise. */
export function spawnFaultOperator(opts: SpawnOptions): FaultOperator {
  const file = path.join(artifactDir('logs'), `${String(++counter).padStart(3, '0')}-${opts.name}.log`);
  writeFileSync(file, '');
  const args = [
    path.join(ROOT, 'bin/kubeskippy.js'),
    'run',
    '--kubeconfig',
    opts.kubeconfig,
    '--health-bind-address',
    '127.0.0.1:0',
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--dashboard-bind-address',
    '0',
    '--metrics-server-poll-interval-seconds',
    '5',
    '--namespace-selector',
    opts.namespaceSelector,
    ...(opts.args?.some((a) => a === '--leader-election-enabled') ? [] : ['--leader-election-enabled', 'false']),
    ...(opts.args ?? []),
  ];
  const proc = spawn(path.join(ROOT, 'node_modules/.bin/node'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...SECRET_ENV, ...(opts.env ?? {}) },
  });
  let out = '';
  const onData = (d: Buffer): void => {
    const s = d.toString();
    out += s;
    appendFileSync(file, s);
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitedFlag = true;
      running.delete(op);
      resolve({ code, signal, at: Date.now() });
    });
  });
  const lines = (): LogLine[] => {
    const parsed: LogLine[] = [];
    for (const l of out.split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        parsed.push(JSON.parse(l) as LogLine);
      } catch {
        // a line still being written
      }
    }
    return parsed;
  };
  const op: FaultOperator = {
    name: opts.name,
    process: proc,
    logFile: file,
    output: () => out,
    lines,
    exited,
    hasExited: () => exitedFlag,
    kill: async (signal = 'SIGKILL') => {
      if (exitedFlag) return;
      proc.kill(signal);
      if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') await exited;
    },
    metricsUrl: async (timeoutMs = 120_000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const started = lines().find((l) => l.msg === 'operator started');
        const url = (started?.['metrics'] ?? started?.['health']) as string | undefined;
        if (url) return url.replace(/\/$/, '');
        if (exitedFlag) throw new Error(`operator ${opts.name} exited before starting:\n${out.slice(-3000)}`);
        if (Date.now() > end) throw new Error(`operator ${opts.name} did not start within ${timeoutMs} ms:\n${out.slice(-3000)}`);
        await sleep(200);
      }
    },
    metric: async (name, labels = {}) => parseMetric(await (await fetch(`${await op.metricsUrl()}/metrics`)).text(), name, labels),
  };
  running.add(op);
  return op;
}

/** The sum of the samples of `name` (exact metric name) whose labels include every pair of `labels`. */
export function parseMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!] as const));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

/** Kills (SIGKILL) every operator this module started that is still running; for afterAll. */
export async function killAllOperators(): Promise<void> {
  await Promise.all([...running].map(async (op) => {
    op.process.kill('SIGCONT');
    await op.kill('SIGKILL');
  }));
}
