/**
 * Vitest global setup for the integration project: makes sure the local cluster is up (building its binaries on a
 * cache miss) before any integration test runs, and stops it afterwards if this run started it.
 * Set KUBESKIPPY_KEEP_CLUSTER=1 to leave a cluster this run started running (the developer loop).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { hasPrometheus, startPrometheus } from './prometheus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(script: string): string {
  const result = spawnSync(path.join(root, 'hack/cluster', script), {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) {
    throw new Error(`hack/cluster/${script} failed with exit code ${String(result.status)}`);
  }
  return result.stdout.trim();
}

export async function setup(): Promise<() => Promise<void>> {
  const wasUp = existsSync(path.join(root, '.cluster/kubeconfig')) && spawnSync(path.join(root, 'hack/cluster/status.sh'), { cwd: root, stdio: 'ignore' }).status === 0;
  const kubeconfig = run('up.sh');
  process.env['KUBESKIPPY_TEST_KUBECONFIG'] = kubeconfig;
  // Prometheus is needed by the PromQL tests only; .ci/run installs it. Without it those tests fail with a
  // message naming the missing package (they do not silently skip).
  let stopPrometheus = (): Promise<void> => Promise.resolve();
  if (hasPrometheus()) {
    // A directory of this run's own: .cluster may be shared with other checkouts running their tests meanwhile.
    const dir = path.join(root, '.cluster', `prometheus-run-${process.pid}`);
    process.env['KUBESKIPPY_TEST_PROMETHEUS_DIR'] = dir;
    const prom = await startPrometheus(root);
    process.env['KUBESKIPPY_TEST_PROMETHEUS_URL'] = prom.url;
    stopPrometheus = async () => {
      // Its files go once it has exited (it writes while shutting down); 10 s at most.
      await new Promise<void>((resolve) => {
        if (prom.process.exitCode !== null) return resolve();
        prom.process.once('exit', () => resolve());
        setTimeout(resolve, 10_000).unref();
        prom.stop();
      });
      rmSync(dir, { recursive: true, force: true });
    };
  }
  return async () => {
    await stopPrometheus();
    if (!wasUp && process.env['KUBESKIPPY_KEEP_CLUSTER'] !== '1') run('down.sh');
  };
}
