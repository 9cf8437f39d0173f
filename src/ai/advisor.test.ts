import { describe, expect, it } from 'vitest';
import { adviceRequest, answerJson, BUILTIN, recordingLogger } from '../../test/support/advice.js';
import { createMetrics } from '../observability/metrics.js';
import { FakeClock, flushMicrotasks } from '../runtime/clock.js';
import { createAdvisor, type AdviceResult, type AdvisorOptions } from './advisor.js';
import type { FetchFn } from './providers/http.js';

const KEY = 'sk-test-0123456789abcdefghijklmnop';

/** A fetch that answers from a script, one entry per call, and records the requests. */
function scriptedFetch(script: ((init: RequestInit & { signal: AbortSignal }) => Promise<Response>)[]): {
  fetch: FetchFn;
  calls: { url: string; headers: Record<string, string>; body: Record<string, unknown> }[];
} {
  const calls: { url: string; headers: Record<string, string>; body: Record<string, unknown> }[] = [];
  const fetch: FetchFn = (url, init) => {
    calls.push({ url, headers: { ...(init.headers as Record<string, string>) }, body: JSON.parse(init.body as string) as Record<string, unknown> });
    const step = script[calls.length - 1];
    if (step === undefined) return Promise.reject(new Error(`unexpected call ${calls.length}`));
    return step(init);
  };
  return { fetch, calls };
}

const openAiReply = (content: string): Response =>
  new Response(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }), { status: 200 });
const ok = (content = answerJson()) => (): Promise<Response> => Promise.resolve(openAiReply(content));
const status = (code: number, body = '{"error": {"message": "boom"}}', headers: Record<string, string> = {}) => (): Promise<Response> =>
  Promise.resolve(new Response(body, { status: code, headers }));
const refused = () => (): Promise<Response> => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }));
/** Never answers; rejects with the signal's reason when aborted (as fetch does). */
const hang = () => (init: { signal: AbortSignal }): Promise<Response> =>
  new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason as Error), { once: true }));

function setup(script: Parameters<typeof scriptedFetch>[0], options: Partial<AdvisorOptions> = {}, withKey = true) {
  const clock = new FakeClock('2026-01-01T12:00:00Z');
  const log = recordingLogger();
  const metrics = createMetrics();
  const f = scriptedFetch(script);
  const advisor = createAdvisor({
    provider: 'openai',
    url: 'http://llm.test',
    model: 'test-model',
    timeoutMs: 10_000,
    ...(withKey ? { apiKey: KEY } : {}),
    clock,
    logger: log.logger,
    metrics,
    fetch: f.fetch,
    retryBackoffMs: 500,
    ...options,
  });
  const count = async (result: string): Promise<number> => (await metrics.llmRequestsTotal.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0;
  return { clock, log, metrics, advisor, calls: f.calls, count };
}

/** Runs `advise`, stepping the fake clock in `stepMs` increments until it settles. */
async function settle(promise: Promise<AdviceResult>, clock: FakeClock, stepMs = 100, maxMs = 120_000): Promise<AdviceResult> {
  let done: AdviceResult | undefined;
  void promise.then((r) => (done = r));
  for (let t = 0; done === undefined && t <= maxMs; t += stepMs) {
    await flushMicrotasks();
    if (done === undefined) await clock.advance(stepMs);
  }
  if (done === undefined) throw new Error('advise did not settle');
  return done;
}

function fallbackCode(r: AdviceResult): string {
  return r.source === 'builtin' ? r.code : 'llm';
}

describe('createAdvisor (OpenAI-compatible)', () => {
  it('returns the model\'s recommendation, sends the key only as a Bearer header, at temperature 0 in JSON mode', async () => {
    const s = setup([ok()]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r.source).toBe('llm');
    expect(r.recommendation).toMatchObject({ kind: 'action', rule: 'llm', action: { name: 'restart-pod' }, confidence: 0.8 });
    expect(s.calls).toHaveLength(1);
    const call = s.calls[0]!;
    expect(call.url).toBe('http://llm.test/v1/chat/completions');
    expect(call.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(call.body).toMatchObject({ model: 'test-model', temperature: 0, response_format: { type: 'json_object' } });
    expect((call.body['messages'] as unknown[]).length).toBe(2);
    expect(JSON.stringify(call.body)).not.toContain(KEY);
    expect(await s.count('ok')).toBe(1);
  });

  it('logs the decision, its confidence and the prompt size — never the prompt or the key', async () => {
    const s = setup([ok()]);
    await settle(s.advisor.advise(adviceRequest()), s.clock);
    const rec = s.log.records().find((l) => l['msg'] === 'LLM recommendation');
    expect(rec).toMatchObject({ component: 'llm-advisor', provider: 'openai', decision: 'restart-pod', confidence: 0.8, builtin: 'restart-pod', agrees: true, target: 'Pod/shop/web-7c9f8d6b5-x2x4z', attempts: 1 });
    expect(rec?.['promptChars']).toBeGreaterThan(1000);
    const all = s.log.lines.join('');
    expect(all).not.toContain(KEY);
    expect(all).not.toContain('untrusted data from the cluster');
  });

  it('retries a 500 once after the back-off and uses the second answer', async () => {
    const s = setup([status(500), ok()]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r.source).toBe('llm');
    expect(s.calls).toHaveLength(2);
  });

  it('falls back after two 500s, with the code and the status in the reason', async () => {
    const s = setup([status(500), status(503)]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r).toMatchObject({ source: 'builtin', recommendation: BUILTIN, code: 'HttpError' });
    expect(r.source === 'builtin' ? r.fallbackReason : '').toMatch(/^HttpError: openai: HTTP 503/);
    expect(s.calls).toHaveLength(2);
    expect(await s.count('fallback-HttpError')).toBe(1);
  });

  it('waits as long as a 429 asks (Retry-After) before the retry', async () => {
    const s = setup([status(429, '{}', { 'retry-after': '3' }), ok()]);
    const p = s.advisor.advise(adviceRequest());
    await flushMicrotasks();
    await s.clock.advance(2900);
    expect(s.calls).toHaveLength(1);
    const r = await settle(p, s.clock);
    expect(r.source).toBe('llm');
    expect(s.calls).toHaveLength(2);
  });

  it('retries a connection failure once', async () => {
    const s = setup([refused(), ok()]);
    expect((await settle(s.advisor.advise(adviceRequest()), s.clock)).source).toBe('llm');
    const s2 = setup([refused(), refused()]);
    expect(fallbackCode(await settle(s2.advisor.advise(adviceRequest()), s2.clock))).toBe('NetworkError');
  });

  it.each([
    [401, 'Unauthorized'],
    [403, 'Unauthorized'],
    [404, 'HttpError'],
  ])('never retries HTTP %i (%s)', async (code, expected) => {
    const s = setup([status(code), ok()]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(fallbackCode(r)).toBe(expected);
    expect(s.calls).toHaveLength(1);
  });

  it.each([
    ['a malformed answer', 'Sure! restart-pod', 'MalformedAnswer'],
    ['an action the policy does not allow', answerJson({ action: 'delete-everything' }), 'ActionNotAllowed'],
    ['a target outside the selection', answerJson({ target: { kind: 'Pod', namespace: 'payments', name: 'db-0' } }), 'TargetNotAllowed'],
    ['an extra field', answerJson({ command: 'kubectl delete ns shop' }), 'SchemaViolation'],
  ])('never retries %s, and falls back with its code', async (_name, content, code) => {
    const s = setup([ok(content), ok()]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r).toMatchObject({ source: 'builtin', recommendation: BUILTIN, code });
    expect(s.calls).toHaveLength(1);
    expect(await s.count(`fallback-${code}`)).toBe(1);
  });

  it('falls back with BadResponse when the reply is not a chat completion', async () => {
    const s = setup([() => Promise.resolve(new Response('{"choices": []}', { status: 200 })), () => Promise.resolve(new Response('<html>', { status: 200 }))]);
    expect(fallbackCode(await settle(s.advisor.advise(adviceRequest()), s.clock))).toBe('BadResponse');
    expect(fallbackCode(await settle(s.advisor.advise(adviceRequest()), s.clock))).toBe('BadResponse');
  });

  it('gives up at the deadline, on the injected clock', async () => {
    const s = setup([hang()], { timeoutMs: 5000 });
    const p = s.advisor.advise(adviceRequest());
    await flushMicrotasks();
    await s.clock.advance(4999);
    let settled = false;
    void p.then(() => (settled = true));
    await flushMicrotasks();
    expect(settled).toBe(false);
    await s.clock.advance(1);
    const r = await p;
    expect(r).toMatchObject({ source: 'builtin', code: 'Timeout' });
    expect(s.clock.pendingSleeps).toBe(0);
  });

  it('counts the back-off against the deadline: no retry that could not finish in time', async () => {
    const s = setup([status(500), ok()], { timeoutMs: 400 });
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock, 50);
    expect(fallbackCode(r)).toBe('HttpError');
    expect(s.calls).toHaveLength(1);
  });

  it('times out a retry that hangs within the same overall deadline', async () => {
    const s = setup([status(500), hang()], { timeoutMs: 3000 });
    const started = s.clock.now();
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(fallbackCode(r)).toBe('Timeout');
    expect(s.clock.now() - started).toBeLessThanOrEqual(3100);
  });

  it('falls back at once (Busy) beyond two requests in flight, without calling the provider', async () => {
    const s = setup([hang(), hang(), ok()], { timeoutMs: 5000 });
    const a = s.advisor.advise(adviceRequest());
    const b = s.advisor.advise(adviceRequest());
    const c = await s.advisor.advise(adviceRequest());
    expect(fallbackCode(c)).toBe('Busy');
    expect(s.calls).toHaveLength(2);
    await s.clock.advance(5000);
    expect([fallbackCode(await a), fallbackCode(await b)]).toEqual(['Timeout', 'Timeout']);
    // Slots free again.
    expect((await settle(s.advisor.advise(adviceRequest()), s.clock)).source).toBe('llm');
  });

  it('opens the circuit after consecutive failures, logs it once, calls again after the pause and closes on success', async () => {
    const s = setup([status(401), status(401), status(401), ok()], { failureThreshold: 3, circuitOpenMs: 60_000 });
    for (let i = 0; i < 3; i++) await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(s.advisor.circuit()).toMatchObject({ state: 'open', consecutiveFailures: 3 });
    for (let i = 0; i < 5; i++) expect(fallbackCode(await s.advisor.advise(adviceRequest()))).toBe('CircuitOpen');
    expect(s.calls).toHaveLength(3);
    expect(s.log.records().filter((l) => String(l['msg']).startsWith('LLM circuit open'))).toHaveLength(1);
    expect(await s.count('fallback-CircuitOpen')).toBe(5);
    await s.clock.advance(60_000);
    expect(s.advisor.circuit().state).toBe('half-open');
    expect((await settle(s.advisor.advise(adviceRequest()), s.clock)).source).toBe('llm');
    expect(s.advisor.circuit()).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(s.log.records().filter((l) => String(l['msg']).startsWith('LLM circuit closed'))).toHaveLength(1);
  });

  it('re-opens the circuit when the trial request fails, and lets only one trial through', async () => {
    const s = setup([status(401), status(401), hang()], { failureThreshold: 2, circuitOpenMs: 60_000, timeoutMs: 5000 });
    for (let i = 0; i < 2; i++) await settle(s.advisor.advise(adviceRequest()), s.clock);
    await s.clock.advance(60_000);
    const trial = s.advisor.advise(adviceRequest());
    expect(fallbackCode(await s.advisor.advise(adviceRequest()))).toBe('CircuitOpen');
    await s.clock.advance(5000);
    expect(fallbackCode(await trial)).toBe('Timeout');
    expect(s.advisor.circuit().state).toBe('open');
    expect(s.calls).toHaveLength(3);
  });

  it('a success resets the count of consecutive failures', async () => {
    const s = setup([status(401), ok(), status(401), status(401)], { failureThreshold: 3 });
    for (let i = 0; i < 4; i++) await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(s.advisor.circuit()).toEqual({ state: 'closed', consecutiveFailures: 2 });
  });

  it('never lets the key reach a log line or a fallback reason, even when the server echoes it', async () => {
    const echo = `{"error": {"message": "Incorrect API key provided: ${KEY}. Authorization: Bearer ${KEY}"}}`;
    const s = setup([status(401, echo)]);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r.source === 'builtin' ? r.fallbackReason : '').toContain('[redacted]');
    expect(JSON.stringify(r)).not.toContain(KEY);
    expect(s.log.lines.join('')).not.toContain(KEY);
    expect(s.log.lines.join('')).not.toContain(KEY.slice(3, 20));
  });

  it('sends the request again without response_format when the server refuses JSON mode, and leaves it out from then on', async () => {
    const s = setup([status(400, '{"error": {"message": "Unrecognized request argument supplied: response_format"}}'), ok(), ok()]);
    expect((await settle(s.advisor.advise(adviceRequest()), s.clock)).source).toBe('llm');
    expect((await settle(s.advisor.advise(adviceRequest()), s.clock)).source).toBe('llm');
    expect(s.calls.map((c) => 'response_format' in c.body)).toEqual([true, false, false]);
  });

  it('resolves even when the provider call throws synchronously or logging fails', async () => {
    const throwing: FetchFn = () => {
      throw new Error('sync boom');
    };
    const s = setup([], { fetch: throwing });
    expect(fallbackCode(await settle(s.advisor.advise(adviceRequest()), s.clock))).toBe('NetworkError');
    const badLogger = { ...s.log.logger, child: () => ({ ...s.log.logger, info: () => { throw new Error('log boom'); }, warn: () => { throw new Error('log boom'); } }) };
    const t = setup([ok()], { logger: badLogger as unknown as AdvisorOptions['logger'] });
    expect(fallbackCode(await settle(t.advisor.advise(adviceRequest()), t.clock))).toBe('Internal');
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => setup([], { timeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('createAdvisor (Ollama)', () => {
  it('posts to /api/chat with format json, no streaming, temperature 0, and no Authorization without a key', async () => {
    const reply = () => Promise.resolve(new Response(JSON.stringify({ model: 'm', message: { role: 'assistant', content: answerJson() }, done: true }), { status: 200 }));
    const s = setup([reply], { provider: 'ollama', url: 'http://ollama.test:11434/' }, false);
    const r = await settle(s.advisor.advise(adviceRequest()), s.clock);
    expect(r.source).toBe('llm');
    expect(s.calls[0]?.url).toBe('http://ollama.test:11434/api/chat');
    expect(s.calls[0]?.body).toMatchObject({ model: 'test-model', format: 'json', stream: false, options: { temperature: 0 } });
    expect(s.calls[0]?.headers['authorization']).toBeUndefined();
  });
});
