/**
 * What the two chat providers share: the provider contract, one JSON POST with a size-capped read, and the mapping
 * of every HTTP and network failure to an AdviceError. The only place in src/ai that looks at HTTP status codes.
 * Every error message is redacted (the API key and credential shapes) before it leaves this module.
 */
import { AdviceError } from '../errors.js';
import type { ChatMessage } from '../prompt.js';
import { redactKnown } from '../sanitize.js';

/** The HTTP call, injectable for tests; global fetch by default. */
export type FetchFn = (url: string, init: RequestInit & { signal: AbortSignal }) => Promise<Response>;

/** A chat model behind an HTTP API. */
export interface ChatProvider {
  /** `openai` or `ollama`: the metric label and the log field. */
  readonly name: 'openai' | 'ollama';
  readonly model: string;
  /**
   * Sends the messages and resolves to the model's reply text (the message content, unparsed). Rejects only with
   * an AdviceError: Timeout (the signal fired), NetworkError, HttpError (with status), Unauthorized, BadResponse.
   */
  complete(messages: readonly ChatMessage[], signal: AbortSignal): Promise<string>;
}

/** Settings common to both providers. */
export interface ProviderOptions {
  /** Base URL (`http://ollama:11434`, `https://api.openai.com`); trailing slashes are ignored. */
  readonly url: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer <key>` when given. Never logged; redacted from every error. */
  readonly apiKey?: string;
  readonly fetch?: FetchFn;
}

/** Largest provider reply read, in bytes; a longer one is BadResponse (a chat answer here is a few hundred bytes). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Longest snippet of a provider's error body quoted in a message. */
const MAX_ERROR_SNIPPET = 200;
/** Longest Retry-After honoured (ms); the overall deadline bounds it further. */
const MAX_RETRY_AFTER_MS = 60_000;

/** `url` without trailing slashes, with `path` appended. */
export function joinUrl(url: string, path: string): string {
  return `${url.replace(/\/+$/, '')}${path}`;
}

/** The Retry-After header as ms (delta-seconds only; an HTTP date is ignored rather than read against a clock). */
function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Number(v.trim()) * 1000);
}

/** Reads at most `max` bytes of the body as UTF-8; `undefined` when it is longer. Rejects when the read fails. */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (res.body === null) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function abortError(provider: string, signal: AbortSignal, cause: unknown): AdviceError {
  const reason: unknown = signal.reason;
  if (reason instanceof AdviceError) return reason;
  return new AdviceError('Timeout', `${provider}: no answer before the deadline`, { cause });
}

/**
 * POSTs `body` as JSON to `url` and resolves to the parsed JSON reply. Rejects with an AdviceError whose message is
 * redacted of `secrets`: Timeout when `signal` fires (before or during the read), NetworkError when the request
 * cannot be sent, Unauthorized for 401/403, HttpError for any other non-2xx status (with a capped snippet of the
 * body), BadResponse for a body that is too large or not JSON.
 */
export async function postJson(
  provider: string,
  fetchFn: FetchFn,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: unknown,
  signal: AbortSignal,
  secrets: readonly (string | undefined)[],
): Promise<unknown> {
  const clean = (s: string): string => redactKnown(s, secrets);
  let res: Response;
  try {
    res = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(body), signal });
  } catch (e: unknown) {
    if (signal.aborted) throw abortError(provider, signal, e);
    const why = e instanceof Error ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}` : String(e);
    throw new AdviceError('NetworkError', clean(`${provider}: request to ${url} failed: ${why}`).slice(0, 400));
  }
  let text: string | undefined;
  try {
    text = await readCapped(res, MAX_RESPONSE_BYTES);
  } catch (e: unknown) {
    if (signal.aborted) throw abortError(provider, signal, e);
    throw new AdviceError('NetworkError', clean(`${provider}: reading the reply failed: ${e instanceof Error ? e.message : String(e)}`).slice(0, 400));
  }
  if (!res.ok) {
    const snippet = text === undefined ? '(body too large)' : clean(text.replace(/\s+/g, ' ').trim()).slice(0, MAX_ERROR_SNIPPET);
    const after = retryAfterMs(res);
    const options = { status: res.status, ...(after === undefined ? {} : { retryAfterMs: after }) };
    if (res.status === 401 || res.status === 403) {
      throw new AdviceError('Unauthorized', `${provider}: HTTP ${res.status}, the credentials were refused: ${snippet}`, options);
    }
    throw new AdviceError('HttpError', `${provider}: HTTP ${res.status}: ${snippet}`, options);
  }
  if (text === undefined) throw new AdviceError('BadResponse', `${provider}: the reply is larger than ${MAX_RESPONSE_BYTES} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AdviceError('BadResponse', `${provider}: HTTP ${res.status} with a body that is not JSON`);
  }
}

/** The string at `path` inside `value`, or undefined. */
export function stringAt(value: unknown, path: readonly (string | number)[]): string | undefined {
  let cur: unknown = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return typeof cur === 'string' ? cur : undefined;
}
