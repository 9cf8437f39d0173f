/**
 * Vitest global setup for the integration project: makes sure the local cluster is up (building its binaries on a
 * cache miss) before any integration test runs, and stops it afterwards if this run started it.
 * Set KUBESKIPPY_KEEP_CLUSTER=1 to leave a cluster this run started running (the developer loop).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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

export function setup(): () => void {
  const wasUp = existsSync(path.join(root, '.cluster/kubeconfig')) && spawnSync(path.join(root, 'hack/cluster/status.sh'), { cwd: root, stdio: 'ignore' }).status === 0;
  const kubeconfig = run('up.sh');
  process.env['KUBESKIPPY_TEST_KUBECONFIG'] = kubeconfig;
  return () => {
    if (!wasUp && process.env['KUBESKIPPY_KEEP_CLUSTER'] !== '1') run('down.sh');
  };
}
