/**
 * Notifications from a real operator: its action controller reports each HealingAction's phase transitions to a
 * receiver on 127.0.0.1 (node:http) — created, then succeeded — and counts them in
 * kubeskippy_notifications_total; a sink that asks only for other events gets nothing; a sink that is down does not
 * hold anything up.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createPod, createPolicy, ensureCrds, waitForActions, waitForPhase } from '../support/resources.js';

const kc = testKubeConfig();
let ns = '';
let operator: RunningOperator | undefined;
let server: Server | undefined;
const received: { path: string; body: { event: string; action: { name: string; phase: string } } }[] = [];

beforeAll(async () => {
  await ensureCrds();
  ns = await createTestNamespace(kc, 'notify');
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data) as (typeof received)[number]['body'] });
      res.end('ok');
    });
  });
  const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)));
  const closed = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  operator = await startTestOperator({
    maxActionsPerHour: 100_000,
    'globalCircuitBreaker.failureRate': 1,
    'globalCircuitBreaker.minActions': 100_000,
    'notifications.sinks': [
      { name: 'hook', url: `http://127.0.0.1:${port}/all` },
      { name: 'approvals', url: `http://127.0.0.1:${port}/approvals`, events: ['waiting-approval'] },
      { name: 'down', url: `http://127.0.0.1:${closed}/x`, events: ['created'] },
    ],
    'notifications.initialBackoffSeconds': 0.05,
    'notifications.maxAttempts': 2,
  });
}, 300_000);

afterAll(async () => {
  await operator?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (ns) await deleteTestNamespace(kc, ns);
});

describe('notifications from the operator', () => {
  it('reports created and succeeded to the webhook, nothing to a sink that wants other events, and counts every outcome', async () => {
    await createPod(kc, ns, 'victim', { labels: { app: 'victim' } });
    await createPolicy(kc, ns, 'victims', {
      selector: { labelSelector: { matchLabels: { app: 'victim' } } },
      triggers: [{ name: 'always', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0, operator: '>=' } }],
      actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    const [action] = await waitForActions(kc, ns, 1, 90_000);
    const name = action!.metadata.name ?? '';
    const done = await waitForPhase(kc, ns, name, ['Succeeded', 'Failed', 'Blocked', 'Cancelled'], 90_000);
    expect(done.status?.phase).toBe('Succeeded');
    const mine = await waitFor('created and succeeded at the receiver', async () => {
      await Promise.resolve();
      const events = received.filter((r) => r.body.action.name === name).map((r) => `${r.path} ${r.body.event}`);
      return events.includes('/all succeeded') ? events : undefined;
    }, 30_000, 100);
    expect(mine).toEqual(['/all created', '/all succeeded']);
    expect(received.filter((r) => r.path === '/approvals')).toEqual([]);
    const metrics = await operator!.metrics.registry.getSingleMetricAsString('kubeskippy_notifications_total');
    expect(metrics).toContain('kubeskippy_notifications_total{sink="hook",result="sent"} 2');
    expect(metrics).toContain('kubeskippy_notifications_total{sink="approvals",result="sent"} 0');
    // The sink that is down gave up on its one notification (created) after its two attempts.
    await waitFor('the down sink to give up', async () => (await operator!.metrics.registry.getSingleMetricAsString('kubeskippy_notifications_total')).includes('sink="down",result="failed"} 1'), 30_000, 200);
  });
});
