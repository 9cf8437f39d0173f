/**
 * Ollama's chat API: POST {url}/api/chat with the model, the messages, `format: "json"` (Ollama constrains the
 * output to JSON), `stream: false` and temperature 0. The reply text is `message.content`.
 *
 * Ollama has no authentication of its own; an API key is sent (as `Authorization: Bearer`) only when one is
 * configured, for an Ollama behind an authenticating proxy.
 */
import { AdviceError } from '../errors.js';
import { joinUrl, postJson, stringAt, type ChatProvider, type FetchFn, type ProviderOptions } from './http.js';

/** A provider for an Ollama server. `complete` rejects only with AdviceError (see ChatProvider). */
export function createOllamaProvider(options: ProviderOptions): ChatProvider {
  const fetchFn: FetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  const url = joinUrl(options.url, '/api/chat');
  const headers: Record<string, string> = options.apiKey === undefined || options.apiKey === '' ? {} : { authorization: `Bearer ${options.apiKey}` };
  return {
    name: 'ollama',
    model: options.model,
    async complete(messages, signal) {
      const reply = await postJson('ollama', fetchFn, url, headers, { model: options.model, messages, format: 'json', stream: false, options: { temperature: 0 } }, signal, [
        options.apiKey,
      ]);
      const content = stringAt(reply, ['message', 'content']);
      if (content === undefined) throw new AdviceError('BadResponse', 'ollama: the reply has no message.content');
      return content;
    },
  };
}
