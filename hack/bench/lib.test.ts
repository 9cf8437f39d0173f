import { describe, expect, it } from 'vitest';
import { imageNodeFlags, imageRuntimeEnv } from './lib.js';

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
