import { describe, expect, it } from 'vitest';
import { readAiApiKey } from './ai-key.js';
import { ConfigError, loadOperatorConfig } from './load.js';

const openai = { aiProvider: 'openai', aiUrl: 'https://api.openai.com', aiModel: 'gpt-4o-mini' };

async function keyFor(flags: Record<string, unknown>, env: Record<string, string | undefined>): Promise<string | undefined> {
  return readAiApiKey(await loadOperatorConfig({ flags }), env);
}

describe('readAiApiKey', () => {
  it('reads the key from the variable ai.apiKeyEnv names, without surrounding whitespace', async () => {
    expect(await keyFor({ ...openai, aiApiKeyEnv: 'AI_API_KEY' }, { AI_API_KEY: 'sk-abc123\n' })).toBe('sk-abc123');
  });

  it('returns no key when no variable is named (a server without authentication) or no provider is set', async () => {
    expect(await keyFor(openai, { AI_API_KEY: 'sk-abc123' })).toBeUndefined();
    expect(await keyFor({ aiApiKeyEnv: 'AI_API_KEY' }, { AI_API_KEY: 'sk-abc123' })).toBeUndefined();
  });

  it.each([
    ['unset', {}, 'not set'],
    ['empty', { AI_API_KEY: '' }, 'empty'],
    ['blank', { AI_API_KEY: ' \n' }, 'empty'],
  ])('refuses to start when the named variable is %s, naming the variable and never a value', async (_name, env, says) => {
    const config = await loadOperatorConfig({ flags: { ...openai, aiApiKeyEnv: 'AI_API_KEY' } });
    let error: unknown;
    try {
      readAiApiKey(config, env);
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([{ path: 'ai.apiKeyEnv', source: 'env', origin: 'AI_API_KEY', message: expect.stringContaining(`AI_API_KEY is ${says}`) as string }]);
    expect((error as ConfigError).message).toMatch(/ai\.apiKeyEnv \(AI_API_KEY\): names AI_API_KEY as the openai API key/);
  });

  it('applies to Ollama too when a key variable is named (an authenticating proxy)', async () => {
    const config = await loadOperatorConfig({ flags: { aiProvider: 'ollama', aiUrl: 'http://ollama:11434', aiModel: 'm', aiApiKeyEnv: 'OLLAMA_KEY' } });
    expect(() => readAiApiKey(config, {})).toThrow(ConfigError);
    expect(readAiApiKey(config, { OLLAMA_KEY: 'k-1234' })).toBe('k-1234');
  });
});
