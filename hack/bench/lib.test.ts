import { describe, expect, it } from 'vitest';
import { chartMemoryLimit, imageNodeFlags, imageRuntimeEnv, memoryCgroupBase } from './lib.js';

describe('the image settings the benchmarks run the operator with', () => {
  it('takes the node flags of the ENTRYPOINT, not the script or its arguments', () => {
    const dockerfile = ['FROM node:24-slim', 'ENTRYPOINT ["node", "--max-opt=2", "--expose-gc", "/app/bin/kubeskippy.js"]', 'CMD ["run"]'].join('\n');
    expect(imageNodeFlags(dockerfile)).toEqual(['--max-opt=2', '--expose-gc']);
  });

  it('uses the last ENTRYPOINT, and none when it is not node or absent', () => {
    expect(imageNodeFlags('ENTRYPOINT ["node", "--a", "x.js"]\nENTRYPOINT ["node", "--b=1", "x.js"]')).toEqual(['--b=1']);
    expect(imageNodeFlags('ENTRYPOINT ["/bin/sh", "--login"]')).toEqual([]);
    expect(imageNodeFlags('FROM node:24')).toEqual([]);
  });

  it("reads the repository's Dockerfile: its ENTRYPOINT flags and its ENV settings", () => {
    expect(imageNodeFlags()).toContain('--max-opt=2');
    expect(imageRuntimeEnv()['NODE_OPTIONS']).toMatch(/--max-semi-space-size=\d+/);
  });
});

describe('the memory limit the benchmarks run the operator within', () => {
  it("reads the chart's container memory limit, and none when it sets none", () => {
    expect(chartMemoryLimit('resources:\n  limits:\n    cpu: "1"\n    memory: 512Mi\n')).toBe(512 * 2 ** 20);
    expect(chartMemoryLimit('resources:\n  limits:\n    memory: 1G\n')).toBe(1e9);
    expect(chartMemoryLimit('resources:\n  requests:\n    memory: 128Mi\n')).toBeUndefined();
    expect(chartMemoryLimit('')).toBeUndefined();
    expect(chartMemoryLimit()).toBeGreaterThan(0);
  });

  it("finds this process's memory cgroup: the v1 memory controller's, else v2's", () => {
    const v1 = ['9:name=systemd:/', '4:memory:/process_api/abc', '1:cpu:/', '0::/'].join('\n');
    expect(memoryCgroupBase(v1, (p) => p === '/sys/fs/cgroup/memory')).toEqual({ dir: '/sys/fs/cgroup/memory/process_api/abc', version: 1 });
    expect(memoryCgroupBase('4:cpu,memory:/x\n', (p) => p === '/sys/fs/cgroup/memory')).toEqual({ dir: '/sys/fs/cgroup/memory/x', version: 1 });
    // A v1 line without the memory controller's mount, and no v2 controllers file: none.
    expect(memoryCgroupBase(v1, () => false)).toBeUndefined();
    expect(memoryCgroupBase('1:cpu:/\n', () => true)).toBeUndefined();
  });
});
