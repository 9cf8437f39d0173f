import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { NotificationEvent } from '../config/operator-config.js';
import { createLogger } from '../observability/logger.js';
import { systemClock } from '../runtime/clock.js';
import { notificationOf } from './events.js';
import { backoffMs, createNotifier, type NotificationSettings, type SinkConfig } from './notifier.js';

/** A receiver on 127.0.0.1 that answers each request with `respond` (undefined: never answers). */
interface Receiver {
  readonly url: string;
  readonly requests: { headers: IncomingMessage['headers']; body: unknown }[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  })));
});

async function receiver(respond: (n: number, res: ServerResponse) => void): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: JSON.parse(data) as unknown });
      respond(requests.length, res);
    });
  });
  servers.push(server);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}/hooks/T000/B000/s3cr3t-token`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  const port = await new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const action: HealingAction = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingAction',
  metadata: { name: 'crash-restart-1a2b', namespace: 'shop' },
  spec: { policyRef: { name: 'crash' }, targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' }, action: { name: 'restart', type: 'restart' } },
};
const note = (event: NotificationEvent = 'failed') => notificationOf(event, action, { phase: 'Failed', reason: 'VerificationTimeout' }, '2026-03-01T10:05:00Z');

function setup(sinks: SinkConfig[], over: Partial<NotificationSettings> = {}, env: Record<string, string> = {}) {
  const counts = new Map<string, number>();
  const logs: string[] = [];
  const notifier = createNotifier({
    settings: { sinks, queueSize: 100, timeoutSeconds: 1, maxAttempts: 3, initialBackoffSeconds: 0.01, maxBackoffSeconds: 0.05, ...over },
    env,
    clock: systemClock,
    logger: createLogger({ level: 'debug', destination: { write: (l: string) => void logs.push(l) } }),
    count: (sink, result) => counts.set(`${sink}/${result}`, (counts.get(`${sink}/${result}`) ?? 0) + 1),
  });
  return { notifier, counts, logs };
}

const sink = (name: string, url: string, over: Partial<SinkConfig> = {}): SinkConfig => ({ name, kind: 'webhook', url, events: ['created', 'waiting-approval', 'succeeded', 'failed', 'blocked'], ...over });

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('backoff', () => {
  it('doubles from the initial wait up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe('the notifier, against real receivers on 127.0.0.1', () => {
  it('POSTs the event as JSON with headers from environment variables, and never logs them or the URL', async () => {
    const r = await receiver((_, res) => res.end('ok'));
    const { notifier, counts, logs } = setup([sink('ops', r.url, { headersFromEnv: { Authorization: 'OPS_TOKEN' } })], {}, { OPS_TOKEN: 'Bearer hunter2' });
    notifier.notify(note());
    await until(() => counts.get('ops/sent') === 1);
    expect(r.requests[0]?.headers['authorization']).toBe('Bearer hunter2');
    expect(r.requests[0]?.headers['content-type']).toBe('application/json');
    expect(r.requests[0]?.body).toMatchObject({ kind: 'kubeskippy.io/notification', event: 'failed', action: { name: 'crash-restart-1a2b' } });
    await notifier.close(1000);
    expect(logs.join('')).not.toMatch(/hunter2|s3cr3t/);
  });

  it('reads the URL from an environment variable when the sink says urlFromEnv', async () => {
    const r = await receiver((_, res) => res.end());
    const { notifier, counts, logs } = setup([{ name: 'chat', kind: 'slack', urlFromEnv: 'SLACK_URL', events: ['failed'] }], {}, { SLACK_URL: r.url });
    notifier.notify(note());
    await until(() => counts.get('chat/sent') === 1);
    expect(logs.join('')).not.toContain('s3cr3t');
  });

  it('retries a receiver that fails twice, and succeeds on the third attempt', async () => {
    const r = await receiver((n, res) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end();
    });
    const { notifier, counts } = setup([sink('flaky', r.url, { kind: 'slack' })]);
    notifier.notify(note());
    await until(() => counts.get('flaky/sent') === 1);
    expect(r.requests).toHaveLength(3);
    expect(r.requests[2]?.body).toEqual({ text: expect.stringMatching(/^\[kubeskippy\] FAILED: restart Pod shop\/web-1/) as unknown });
    expect(counts.get('flaky/failed')).toBeUndefined();
  });

  it('gives up on a receiver that hangs (timeout per attempt), without holding up another sink', async () => {
    const hang = await receiver(() => undefined);
    const fine = await receiver((_, res) => res.end());
    const { notifier, counts, logs } = setup([sink('hang', hang.url), sink('fine', fine.url)], { timeoutSeconds: 0.3, maxAttempts: 2 });
    const started = Date.now();
    notifier.notify(note());
    // notify only enqueues: it returns before any request is answered.
    expect(Date.now() - started).toBeLessThan(50);
    await until(() => counts.get('fine/sent') === 1, 1000);
    expect(counts.get('hang/failed')).toBeUndefined();
    await until(() => counts.get('hang/failed') === 1);
    expect(hang.requests).toHaveLength(2);
    expect(logs.join('')).toMatch(/"sink":"hang".*"attempts":2.*"err":"no answer within 0.3s".*notification failed/);
  });

  it('gives up on a receiver that is down, after every attempt', async () => {
    const port = await closedPort();
    const { notifier, counts, logs } = setup([sink('down', `http://127.0.0.1:${port}/x`)]);
    notifier.notify(note());
    await until(() => counts.get('down/failed') === 1);
    expect(logs.join('')).toMatch(/"attempts":3,"err":"network error \(ECONNREFUSED\)"/);
  });

  it('does not retry an answer that will not change (400)', async () => {
    const r = await receiver((_, res) => {
      res.statusCode = 400;
      res.end('bad payload');
    });
    const { notifier, counts } = setup([sink('strict', r.url)]);
    notifier.notify(note());
    await until(() => counts.get('strict/failed') === 1);
    expect(r.requests).toHaveLength(1);
  });

  it('sends only the events a sink asks for', async () => {
    const r = await receiver((_, res) => res.end());
    const { notifier, counts } = setup([sink('failures', r.url, { events: ['failed'] })]);
    notifier.notify(note('succeeded'));
    notifier.notify(note('created'));
    notifier.notify(note('failed'));
    await until(() => counts.get('failures/sent') === 1);
    await notifier.close(1000);
    expect(r.requests.map((x) => (x.body as { event: string }).event)).toEqual(['failed']);
  });

  it('drops what does not fit in a full queue, counted, and drops the rest on close after the deadline', async () => {
    const hang = await receiver(() => undefined);
    const { notifier, counts } = setup([sink('slow', hang.url)], { queueSize: 2, timeoutSeconds: 5, maxAttempts: 1 });
    for (let i = 0; i < 5; i++) notifier.notify(note());
    // One is being sent, two wait, two did not fit.
    await until(() => hang.requests.length === 1);
    expect(counts.get('slow/dropped')).toBe(2);
    await notifier.close(100);
    expect(counts.get('slow/dropped')).toBe(5);
    notifier.notify(note());
    expect(counts.get('slow/dropped')).toBe(5);
  });
});
