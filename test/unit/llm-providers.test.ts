/**
 * The LLM advisor against a real HTTP server on 127.0.0.1 that replays recorded provider replies
 * (test/fixtures/llm/), for both wire formats: OpenAI-compatible chat completions and Ollama's chat API. Every case
 * ends in the right AdviceResult and none throws; the API key reaches the server only in the Authorization header
 * and never a log line. Runs in the unit project: it needs no cluster, only a loopback port.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdvisor, type AdviceResult, type AdvisorOptions } from '../../src/ai/advisor.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { systemClock } from '../../src/runtime/clock.js';
import { adviceRequest, BUILTIN, DEPLOYMENT, POD, recordingLogger } from '../support/advice.js';

interface Fixture {
  readonly description: string;
  readonly status: number;
  readonly delayMs?: number;
  readonly body: unknown;
}

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

const repoRoot = path.resolve(import.meta.dirname, '../..');
const KEY = 'sk-replay-7f3a9c2e5b8d1f4a6c0e9b2d5f8a1c4e';

function fixture(provider: string, name: string): Fixture {
  return JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/llm', provider, `${name}.json`), 'utf8')) as Fixture;
}

/** A server that answers each request with the next fixture of its script and records what it received. */
class ReplayServer {
  readonly received: Received[] = [];
  private script: Fixture[] = [];
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: req.url ?? '', headers: req.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        const next = this.script.shift();
        if (next === undefined) {
          res.writeHead(599).end('no more fixtures');
          return;
        }
        const body = JSON.stringify(next.body).replaceAll('{{authorization}}', req.headers.authorization ?? '');
        const send = (): void => void res.writeHead(next.status, { 'content-type': 'application/json' }).end(body);
        if (next.delayMs === undefined) return send();
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (!res.destroyed) send();
        }, next.delayMs);
        this.timers.add(timer);
        // The client gave up: nothing left to answer.
        res.on('close', () => {
          clearTimeout(timer);
          this.timers.delete(timer);
        });
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  play(...fixtures: Fixture[]): void {
    this.script = [...fixtures];
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const PROVIDERS = [
  { provider: 'openai', path: '/v1/chat/completions', apiKey: KEY, keyed: 'with an API key' },
  { provider: 'ollama', path: '/api/chat', apiKey: undefined, keyed: 'without an API key' },
  { provider: 'ollama', path: '/api/chat', apiKey: KEY, keyed: 'with an API key (behind a proxy)' },
] as const;

describe.each(PROVIDERS)('LLM advisor, $provider wire format, $keyed', ({ provider, path: endpoint, apiKey }) => {
  const server = new ReplayServer();
  let url = '';
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  function advisor(options: Partial<AdvisorOptions> = {}) {
    const log = recordingLogger();
    const metrics = createMetrics();
    const a = createAdvisor({
      provider,
      url,
      model: provider === 'openai' ? 'gpt-4o-mini' : 'qwen2.5:7b-instruct',
      timeoutMs: 2000,
      ...(apiKey === undefined ? {} : { apiKey }),
      clock: systemClock,
      logger: log.logger,
      metrics,
      retryBackoffMs: 20,
      ...options,
    });
    return { advise: () => a.advise(adviceRequest()), log, metrics };
  }

  /** The result, after checking what must hold for every case: the key is in no log line and no result. */
  async function run(a: ReturnType<typeof advisor>): Promise<AdviceResult> {
    const result = await a.advise();
    if (apiKey !== undefined) {
      expect(a.log.lines.join('')).not.toContain(apiKey);
      expect(JSON.stringify(result)).not.toContain(apiKey);
    }
    return result;
  }

  const load = (name: string): Fixture => fixture(provider, name);

  it('takes a good answer: the model\'s recommendation, validated, with rule llm', async () => {
    server.play(load('good'));
    const a = advisor();
    const r = await run(a);
    expect(r.source).toBe('llm');
    expect(r.recommendation).toMatchObject({ kind: 'action', rule: 'llm', action: { name: 'restart-pod', type: 'restart' }, target: POD, confidence: 0.82 });
    expect(server.received).toHaveLength(1);
    const got = server.received[0]!;
    expect(got.path).toBe(endpoint);
    expect(got.headers.authorization).toBe(apiKey === undefined ? undefined : `Bearer ${apiKey}`);
    expect(got.body['model']).toBe(provider === 'openai' ? 'gpt-4o-mini' : 'qwen2.5:7b-instruct');
    expect(JSON.stringify(got.body)).not.toContain(KEY);
    const line = a.log.records().find((l) => l['msg'] === 'LLM recommendation');
    expect(line).toMatchObject({ provider, decision: 'restart-pod', confidence: 0.82 });
    expect((await a.metrics.llmRequestsTotal.get()).values).toEqual([{ labels: { provider, result: 'ok' }, value: 1 }]);
  });

  it.each([
    ['malformed-json', 'MalformedAnswer'],
    ['action-not-allowed', 'ActionNotAllowed'],
    ['target-outside-selector', 'TargetNotAllowed'],
    ['extra-field', 'SchemaViolation'],
  ])('falls back to the built-in recommendation on %s (%s), without retrying', async (name, code) => {
    server.play(load(name), load('good'));
    const a = advisor();
    const r = await run(a);
    expect(r).toMatchObject({ source: 'builtin', recommendation: BUILTIN, code });
    expect(r.source === 'builtin' ? r.fallbackReason : '').toMatch(new RegExp(`^${code}: `));
    expect(server.received).toHaveLength(1);
    expect((await a.metrics.llmRequestsTotal.get()).values).toEqual([{ labels: { provider, result: `fallback-${code}` }, value: 1 }]);
    expect(a.log.records().find((l) => l['code'] === code)).toMatchObject({ level: 'warn', provider });
  });

  it('gives up on a slow answer at the deadline (Timeout)', async () => {
    server.play(load('slow'));
    const a = advisor({ timeoutMs: 300 });
    const r = await run(a);
    expect(r).toMatchObject({ source: 'builtin', recommendation: BUILTIN, code: 'Timeout' });
  });

  it('retries a 500 once and takes the good answer that follows', async () => {
    server.play(load('server-error'), load('good'));
    const r = await run(advisor());
    expect(r.source).toBe('llm');
    expect(server.received).toHaveLength(2);
  });

  it('falls back after 500 twice (HttpError)', async () => {
    server.play(load('server-error'), load('server-error'), load('good'));
    const r = await run(advisor());
    expect(r).toMatchObject({ source: 'builtin', code: 'HttpError' });
    expect(server.received).toHaveLength(2);
  });

  it('falls back on 401 without retrying (Unauthorized), and the echoed key stays out of the logs', async () => {
    server.play(load('unauthorized'), load('good'));
    const a = advisor();
    const r = await run(a);
    expect(r).toMatchObject({ source: 'builtin', code: 'Unauthorized' });
    expect(server.received).toHaveLength(1);
    if (apiKey !== undefined) expect(a.log.lines.join('')).toContain('[redacted]');
  });

  it('falls back when nothing listens on the port (NetworkError, retried once)', async () => {
    const closed = new ReplayServer();
    const deadUrl = await closed.start();
    await closed.stop();
    const r = await run(advisor({ url: deadUrl }));
    expect(r).toMatchObject({ source: 'builtin', code: 'NetworkError' });
  });
});

describe('recorded answers', () => {
  it('name only the request\'s targets and actions when they are meant to be valid', () => {
    for (const provider of ['openai', 'ollama']) {
      const body = fixture(provider, 'good').body as { choices?: { message: { content: string } }[]; message?: { content: string } };
      const answer = JSON.parse(body.choices?.[0]?.message.content ?? body.message?.content ?? '') as { action: string; target: { name: string } };
      expect(adviceRequest().allowedActions.map((x) => x.name)).toContain(answer.action);
      expect([POD.name, DEPLOYMENT.name]).toContain(answer.target.name);
    }
  });
});
