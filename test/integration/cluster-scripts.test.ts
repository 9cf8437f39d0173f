/**
 * The cluster scripts recover from bad state instead of hanging: a corrupted binary cache is detected (and would
 * be rebuilt), and bringing up a cluster that is already healthy changes nothing.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(script: string, args: string[] = [], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(path.join(root, script), args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cluster scripts', () => {
  it('detect a corrupted binary in the cache and name the component', () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'kubeskippy-cache-'));
    try {
      const etcdDir = run('hack/cluster/build.sh').out.split('\n').find((l) => l.includes('/etcd-v'));
      expect(etcdDir).toBeDefined();
      const copy = path.join(cache, 'bin', path.basename(etcdDir!));
      cpSync(etcdDir!, copy, { recursive: true });
      // A good copy of etcd alone: etcd is cached, the rest is not.
      const good = run('hack/cluster/build.sh', ['--check'], { KUBESKIPPY_CACHE_DIR: cache });
      expect(good.code).toBe(1);
      expect(good.err).toMatch(/not cached: kwok metrics_server kube$/m);
      truncateSync(path.join(copy, 'etcd'), 1000);
      const bad = run('hack/cluster/build.sh', ['--check'], { KUBESKIPPY_CACHE_DIR: cache });
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/not cached: etcd kwok metrics_server kube$/m);
      expect(bad.err).not.toMatch(/Segmentation fault/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('leave a healthy cluster as it is when brought up again', () => {
    const r = run('hack/cluster/up.sh');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/already up and healthy/);
    expect(r.out.trim()).toBe(path.join(root, '.cluster/kubeconfig'));
  });
});
