/**
 * The LLM provider's API key, read from the environment variable that `ai.apiKeyEnv` names. Config loading is the
 * only place that reads the environment (DESIGN: no process.env elsewhere); the key itself never enters the
 * OperatorConfig (which is logged and shown), only the name of its variable does. The caller hands the key to the
 * advisor (src/ai), which sends it in one header and redacts it from everything it logs.
 */
import { ConfigError } from './load.js';
import type { OperatorConfig } from './operator-config.js';

/**
 * The API key for `config.ai`, or undefined when no provider is set or `ai.apiKeyEnv` names no variable
 * (a provider without authentication: Ollama, a local vLLM). Surrounding whitespace is dropped (a Secret written
 * with `echo` ends in a newline). Throws ConfigError (path `ai.apiKeyEnv`) when the named variable is unset or
 * empty: a key was intended and is missing — usually a Secret that is not mounted — and starting anyway would
 * only fail every request later with 401. The message names the variable, never a value.
 */
export function readAiApiKey(config: OperatorConfig, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const name = config.ai.apiKeyEnv;
  if (config.ai.provider === 'none' || name === undefined) return undefined;
  const key = env[name]?.trim() ?? '';
  if (key === '') {
    throw new ConfigError([
      {
        path: 'ai.apiKeyEnv',
        source: 'env',
        origin: name,
        message: `names ${name} as the ${config.ai.provider} API key, but ${name} is ${env[name] === undefined ? 'not set' : 'empty'} (is the Secret mounted?)`,
      },
    ]);
  }
  return key;
}
