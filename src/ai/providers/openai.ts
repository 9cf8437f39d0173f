/**
 * OpenAI-compatible chat completions (OpenAI, vLLM, LM Studio, llama.cpp server, LiteLLM …):
 * POST {url}/v1/chat/completions with the model, the messages, temperature 0 and `response_format: json_object`.
 * The reply text is `choices[0].message.content`.
 *
 * Some compatible servers refuse `response_format` with HTTP 400; the provider then sends the same request once
 * without it and leaves it out from then on (the answer is still parsed strictly: the schema, not the server's
 * JSON mode, is what makes an answer acceptable).
 */
import { AdviceError } from '../errors.js';
import type { ChatMessage } from '../prompt.js';
import { joinUrl, postJson, stringAt, type ChatProvider, type FetchFn, type ProviderOptions } from './http.js';

/**
 * The chat-completions endpoint of a base URL: `{url}/v1/chat/completions`, or `{url}/chat/completions` when the
 * URL already ends in `/v1` (how OpenAI documents its base URL).
 */
export function chatCompletionsUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  return /\/v1$/.test(base) ? joinUrl(base, '/chat/completions') : joinUrl(base, '/v1/chat/completions');
}

/**
 * A provider for an OpenAI-compatible server. The API key, when given, is sent as `Authorization: Bearer` and
 * nowhere else. `complete` rejects only with AdviceError (see ChatProvider).
 */
export function createOpenAiProvider(options: ProviderOptions): ChatProvider {
  const fetchFn: FetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  const url = chatCompletionsUrl(options.url);
  const headers: Record<string, string> = options.apiKey === undefined || options.apiKey === '' ? {} : { authorization: `Bearer ${options.apiKey}` };
  let jsonMode = true;
  const send = (messages: readonly ChatMessage[], signal: AbortSignal): Promise<unknown> =>
    postJson(
      'openai',
      fetchFn,
      url,
      headers,
      { model: options.model, messages, temperature: 0, ...(jsonMode ? { response_format: { type: 'json_object' } } : {}) },
      signal,
      [options.apiKey],
    );
  return {
    name: 'openai',
    model: options.model,
    async complete(messages, signal) {
      let reply: unknown;
      try {
        reply = await send(messages, signal);
      } catch (e: unknown) {
        if (!(jsonMode && e instanceof AdviceError && e.code === 'HttpError' && e.status === 400 && /response_format/i.test(e.message))) throw e;
        jsonMode = false;
        reply = await send(messages, signal);
      }
      const content = stringAt(reply, ['choices', 0, 'message', 'content']);
      if (content === undefined) {
        const refusal = stringAt(reply, ['choices', 0, 'message', 'refusal']);
        throw new AdviceError('BadResponse', refusal === undefined ? 'openai: the reply has no choices[0].message.content' : 'openai: the model refused to answer');
      }
      return content;
    },
  };
}
