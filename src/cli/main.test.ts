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

  it('refuses to run, in one clear line and before connecting anywhere, when the named API key variable is empty', async () => {
    const c = capture();
    const flags = ['--ai-provider', 'openai', '--ai-url', 'http://127.0.0.1:1', '--ai-model', 'm', '--ai-api-key-env', 'KUBESKIPPY_TEST_LLM_KEY_NEVER_SET'];
    expect(await main(['run', '--kubeconfig', '/nonexistent/kubeconfig', ...flags], c.io)).toBe(ExitCode.Failure);
    expect(c.err.join('\n')).toMatch(/ai\.apiKeyEnv \(KUBESKIPPY_TEST_LLM_KEY_NEVER_SET\): .* KUBESKIPPY_TEST_LLM_KEY_NEVER_SET is not set/);
  });

  it('exits with the usage code and a message for an unknown command', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });
});
