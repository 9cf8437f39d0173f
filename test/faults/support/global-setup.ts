/**
 * Global setup of the `faults` project: the local cluster up (as for integration tests), a clean
 * test-artifacts/faults/, the built operator present. Teardown: any cluster component a failed test left stopped is
 * reported (`npm run cluster:up` recreates an unhealthy cluster), the whole run's operator logs and Events are
 * scanned for the fake secrets (any hit fails the run), and the cluster is stopped if this run started it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { allComponentsRunning } from './control-plane.js';
import { ARTIFACTS, ROOT } from './common.js';
import { scanArtifactsForSecrets } from './secrets-scan.js';

function run(script: string): string {
  const result = spawnSync(path.join(ROOT, 'hack/cluster', script), { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) throw new Error(`hack/cluster/${script} failed with exit code ${String(result.status)}`);
  return result.stdout.trim();
}

export function setup(): () => void {
  if (!existsSync(path.join(ROOT, 'dist/kubeskippy.mjs'))) throw new Error('dist/ is missing: `npm run test:faults` builds it first');
  const wasUp = existsSync(path.join(ROOT, '.cluster/kubeconfig')) && spawnSync(path.join(ROOT, 'hack/cluster/status.sh'), { cwd: ROOT, stdio: 'ignore' }).status === 0;
  process.env['KUBESKIPPY_TEST_KUBECONFIG'] = run('up.sh');
  rmSync(ARTIFACTS, { recursive: true, force: true });
  return () => {
    if (!allComponentsRunning()) console.error('[faults] a cluster component was left stopped; `npm run cluster:up` recreates the cluster');
    const scan = scanArtifactsForSecrets();
    console.log(`[faults] secrets scan of the whole run: ${scan.lines} log lines in ${scan.files} files and ${scan.events} Events, ${scan.hits.length} hits`);
    if (!wasUp && process.env['KUBESKIPPY_KEEP_CLUSTER'] !== '1') run('down.sh');
    if (scan.hits.length > 0) throw new Error(`fake secrets found in the run's logs or Events:\n${scan.hits.slice(0, 20).join('\n')}`);
  };
}
