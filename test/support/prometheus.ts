/**
 * A real Prometheus (Debian's `prometheus` package) for integration tests, on 127.0.0.1. It scrapes every second
 * the targets listed in a file_sd file that tests rewrite at run time (setPrometheusTargets), so a test can start an
 * exporter on an ephemeral port and have Prometheus scrape it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * Where the running Prometheus keeps its files (under .cluster, git-ignored). The global setup names a directory of
 * this test run's own in KUBESKIPPY_TEST_PROMETHEUS_DIR (test workers inherit it): .cluster may be shared by several
 * checkouts whose test runs each start a Prometheus, and one run must neither wipe nor rewrite another's targets.
 */
export function prometheusDir(root: string): string {
  return process.env['KUBESKIPPY_TEST_PROMETHEUS_DIR'] ?? path.join(root, '.cluster', 'prometheus');
}

/** The file_sd file Prometheus watches. */
export function targetsFile(root: string): string {
  return path.join(prometheusDir(root), 'targets.json');
}

/** Replaces the scrape targets (host:port list, each with extra labels). Prometheus notices within ~1 s. */
export function setPrometheusTargets(root: string, targets: readonly { address: string; labels?: Record<string, string> }[]): void {
  const file = targetsFile(root);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} }))));
  renameSync(tmp, file);
}

/** The scrape targets listed now (empty when the file is missing or unreadable). */
export function readPrometheusTargets(root: string): { address: string; labels?: Record<string, string> }[] {
  try {
    const groups = JSON.parse(readFileSync(targetsFile(root), 'utf8')) as { targets: string[]; labels?: Record<string, string> }[];
    return groups.flatMap((g) => g.targets.map((address) => ({ address, ...(g.labels && Object.keys(g.labels).length > 0 ? { labels: g.labels } : {}) })));
  } catch {
    return [];
  }
}

/**
 * Adds scrape targets to those already listed (replacing any with the same address) and returns a function that
 * removes exactly these again, leaving whatever else was added meanwhile.
 */
export function addPrometheusTargets(root: string, targets: readonly { address: string; labels?: Record<string, string> }[]): () => void {
  const mine = new Set(targets.map((t) => t.address));
  setPrometheusTargets(root, [...readPrometheusTargets(root).filter((t) => !mine.has(t.address)), ...targets]);
  return () => setPrometheusTargets(root, readPrometheusTargets(root).filter((t) => !mine.has(t.address)));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when a `prometheus` binary is on PATH. */
export function hasPrometheus(): boolean {
  return spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts Prometheus and resolves with its URL once /-/ready answers. Returns a stop function.
 * Throws with Prometheus' own output when it does not become ready in 30 s.
 */
export async function startPrometheus(root: string): Promise<{ url: string; stop: () => void; process: ChildProcess }> {
  const dir = prometheusDir(root);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  setPrometheusTargets(root, []);
  const config = [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    'scrape_configs:',
    '- job_name: tests',
    '  file_sd_configs: [{files: ["' + targetsFile(root) + '"], refresh_interval: 1s}]',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--web.enable-lifecycle',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`Prometheus did not become ready at ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, process: proc, stop: () => proc.kill('SIGTERM') };
}
