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
    expect(await main(['run', '--kubeconfig', '/nonexistent/kubeconfig', ...flags], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/ai\.apiKeyEnv \(KUBESKIPPY_TEST_LLM_KEY_NEVER_SET\): .* KUBESKIPPY_TEST_LLM_KEY_NEVER_SET is not set/);
  });

  it('exits with the usage code and a message for an unknown command', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('kubeskippy CLI commands', () => {
  it('lists every command in its help', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(ExitCode.Ok);
    for (const command of ['status', 'actions', 'explain', 'pause', 'resume', 'replay', 'approve', 'reject', 'cancel', 'validate', 'run', 'install', 'crds', 'version']) {
      expect(c.out.join('\n')).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('names itself "kubectl skippy" when run as the kubectl plugin', async () => {
    const c = capture();
    expect(await main(['--help'], c.io, { name: 'kubectl skippy' })).toBe(ExitCode.Ok);
    expect(c.out[0]).toMatch(/^Usage: kubectl skippy/);
  });

  it('refuses an unknown output format as bad usage, before touching the cluster', async () => {
    const c = capture();
    expect(await main(['status', '-o', 'xml', '--kubeconfig', '/nonexistent'], c.io)).toBe(ExitCode.Usage);
    expect(c.err).toEqual(['kubeskippy status: unknown output format "xml": use -o json or -o yaml (default: human-readable)']);
  });

  it.each([['status'], ['explain', 'x'], ['pause', '--reason', 'r'], ['resume'], ['actions', '-w']])('reports a missing kubeconfig for %s as one line, exit 4', async (...argv) => {
    const c = capture();
    expect(await main([...argv, '--kubeconfig', '/nonexistent/kubeconfig'], c.io, { env: {} })).toBe(ExitCode.Unavailable);
    expect(c.err).toEqual([`kubeskippy ${argv[0] ?? ''}: kubeconfig /nonexistent/kubeconfig does not exist`]);
  });
});
