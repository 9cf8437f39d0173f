import { describe, expect, it } from 'vitest';
import { ExitCode, main } from './main.js';
import { VERSION } from '../version.js';

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

describe('kubeskippy CLI', () => {
  it('prints its version', async () => {
    const c = capture();
    expect(await main(['version'], c.io)).toBe(ExitCode.Ok);
    expect(c.out).toEqual([VERSION]);
  });

  it('exits with the usage code and a message for an unknown command', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });
});
