/**
 * The demo's Prometheus: the Debian package's `prometheus` binary (hack/ci/system-packages.sh installs it), run as a
 * child of the demo on 127.0.0.1, scraping the operator's /metrics and the demo's network exporter, with its data
 * under the demo's state directory. Idempotent: a Prometheus left running by an earlier demo that was killed is
 * found by its pid file and stopped first — only a process whose command line names this state directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Clock } from '../runtime/clock.js';

/** A scrape target: job name and host:port. */
export interface ScrapeTarget {
  readonly job: string;
  readonly address: string;
}

/** The Prometheus configuration for the demo's targets, scraped every `intervalSeconds`. Pure. */
export function prometheusConfig(targets: readonly ScrapeTarget[], intervalSeconds: number): string {
  const lines = [`global: {scrape_interval: ${intervalSeconds}s, evaluation_interval: ${intervalSeconds}s}`, 'scrape_configs:'];
  for (const t of targets) lines.push(`- job_name: ${JSON.stringify(t.job)}`, `  static_configs: [{targets: [${JSON.stringify(t.address)}]}]`);
  return `${lines.join('\n')}\n`;
}

/** A running Prometheus. */
export interface RunningPrometheus {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Why Prometheus could not be started (the binary is missing, it did not become ready). */
export class PrometheusUnavailableError extends Error {
  readonly code = 'PrometheusUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusUnavailableError';
  }
}

/** True when `binary --version` runs. */
export function hasPrometheusBinary(binary = 'prometheus'): boolean {
  return spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Whether something listens on 127.0.0.1:port. */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Stops the Prometheus an earlier demo left behind in `dir`, if its pid file names a live one of ours. */
export function stopLeftover(dir: string): boolean {
  const pidFile = path.join(dir, 'prometheus.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  if (!cmdline.includes('prometheus') || !cmdline.includes(dir)) return false;
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts Prometheus on 127.0.0.1 (`preferredPort` when it is free, else any free port) with its files in `dir`, and
 * resolves once /-/ready answers. Throws PrometheusUnavailableError when the binary is missing or it does not
 * become ready within 30 s (with its own output).
 */
export async function startPrometheus(opts: { dir: string; targets: readonly ScrapeTarget[]; preferredPort: number; clock: Clock; intervalSeconds?: number; binary?: string }): Promise<RunningPrometheus> {
  const binary = opts.binary ?? 'prometheus';
  if (!hasPrometheusBinary(binary)) {
    throw new PrometheusUnavailableError(`"${binary}" is not installed: install the Debian package prometheus (hack/ci/system-packages.sh does)`);
  }
  if (stopLeftover(opts.dir)) await opts.clock.sleep(1500);
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const config = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(opts.targets, opts.intervalSeconds ?? 5));
  const port = (await portFree(opts.preferredPort)) ? opts.preferredPort : await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const proc: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(opts.dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1d'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  if (proc.pid !== undefined) writeFileSync(path.join(opts.dir, 'prometheus.pid'), String(proc.pid));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = opts.clock.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || opts.clock.now() > deadline) {
      proc.kill('SIGKILL');
      throw new PrometheusUnavailableError(`Prometheus did not become ready at ${url}:\n${output}`);
    }
    await opts.clock.sleep(250);
  }
  return {
    url,
    pid: proc.pid ?? 0,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await Promise.race([exited, opts.clock.sleep(10_000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(path.join(opts.dir, 'prometheus.pid'), { force: true });
    },
  };
}
