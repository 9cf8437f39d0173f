/**
 * Fault 7 — secrets stay secret. One operator gets every kind of secret the product handles, and uses them all:
 * a bearer token in its kubeconfig, an LLM API key (ai.apiKeyEnv) sent to an endpoint that answers hostile content
 * quoting the key back, a webhook whose URL carries a token (urlFromEnv) and whose Authorization header comes from
 * the environment (headersFromEnv) — the webhook refusing with an error body that quotes the header — and an
 * unrelated token in its environment. It runs at debug level while pods crash and are healed. Then every log line of
 * this operator and of every other operator of the suite so far, and every Event saved, is scanned for the secrets
 * (the global teardown scans the whole run again). Also: the dashboard is read-only and on loopback by default.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../../src/config/load.js';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { createPolicy, ensureCrds } from '../support/resources.js';
import { startApiProxy, type ApiProxy } from './support/api-proxy.js';
import { FAKE_SECRETS, recordResult, sleep } from './support/common.js';
import { startFakeLlm, type FakeLlm } from './support/fake-llm.js';
import { killAllOperators, spawnFaultOperator } from './support/operators.js';
import { actionsIn, apps, cleanupNamespaces, crashPod, deployment, FINISHED, faultNamespace, kc, livePods, saveEvents } from './support/scenario.js';
import { findSecrets, scanArtifactsForSecrets } from './support/secrets-scan.js';

let proxy: ApiProxy;
let llm: FakeLlm;
let hook: http.Server;
const hookSockets = new Set<net.Socket>();
const hookRequests: { url: string; authorization: string }[] = [];

beforeAll(async () => {
  await ensureCrds();
  proxy = startApiProxy();
  llm = await startFakeLlm('hostile');
  // A webhook that refuses every other call with an error body quoting what it was sent.
  hook = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const authorization = req.headers['authorization'] ?? '';
      hookRequests.push({ url: req.url ?? '', authorization });
      if (hookRequests.length % 2 === 1) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: bad credentials ${authorization} for ${req.url ?? ''}`);
      } else {
        res.writeHead(200);
        res.end('ok');
      }
    });
  });
  hook.on('connection', (s: net.Socket) => {
    hookSockets.add(s);
    s.on('close', () => hookSockets.delete(s));
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  await killAllOperators();
  await cleanupNamespaces();
  await llm.close();
  hookSockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => hook.close(() => r()));
  await proxy.close();
});

describe('secrets', () => {
  it('no secret the operator holds reaches a log line or an Event, though every one of them was used', async () => {
    const ns = await faultNamespace('faults-secrets');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 2, { tier: 'web' }) });
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('brain', 2, { tier: 'ai' }) });
    await createPolicy(kc, ns, 'heal-web', {
      selector: { labelSelector: { matchLabels: { tier: 'web' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      safetyRules: { maxActionsPerHour: 100, healthCheckTimeout: '60s' },
    });
    await createPolicy(kc, ns, 'ai-decided', {
      selector: { labelSelector: { matchLabels: { tier: 'ai' } } },
      strategy: 'ai',
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '5s' }],
      actions: [{ name: 'restart', type: 'restart' }],
      safetyRules: { maxActionsPerHour: 100, healthCheckTimeout: '60s' },
    });
    const hookUrl = `http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/services/${FAKE_SECRETS.webhookUrlToken}`;
    const op = spawnFaultOperator({
      name: 'secrets',
      kubeconfig: await proxy.kubeconfig('secrets'),
      namespaceSelector: TEST_NAMESPACE_SELECTOR,
      env: {
        FAULTS_HOOK_URL: hookUrl,
        KUBESKIPPY_NOTIFICATIONS_SINKS: JSON.stringify([{ name: 'ops', kind: 'webhook', urlFromEnv: 'FAULTS_HOOK_URL', headersFromEnv: { Authorization: 'FAULTS_WEBHOOK_SECRET' } }]),
        KUBESKIPPY_NOTIFICATIONS_MAX_ATTEMPTS: '2',
        KUBESKIPPY_NOTIFICATIONS_INITIAL_BACKOFF_SECONDS: '0.2',
      },
      args: [
        '--log-level', 'debug',
        '--dashboard-bind-address', '127.0.0.1:0',
        '--ai-provider', 'openai',
        '--ai-url', llm.url,
        '--ai-model', 'faults-model',
        '--ai-api-key-env', 'FAULTS_LLM_API_KEY',
        '--ai-timeout-seconds', '3',
        '--max-actions-per-hour', '1000',
        '--verification-stability-seconds', '2',
      ],
    });
    await op.metricsUrl();

    // Work: crashes healed by rule, AI-decided crashes (the LLM answers with the key quoted), notifications sent.
    for (const tier of ['web', 'ai', 'web', 'ai']) {
      const victim = (await livePods(ns, `tier=${tier}`)).find((p) => p.status?.phase === 'Running' && p.metadata?.annotations?.['sim.kubeskippy.io/crash'] !== 'true');
      if (victim) await crashPod(ns, victim.metadata?.name ?? '');
      await sleep(4000);
    }
    const end = Date.now() + 180_000;
    for (;;) {
      const actions = await actionsIn(ns);
      if (actions.length >= 3 && actions.every((a) => FINISHED.includes(a.status?.phase ?? 'Pending')) && hookRequests.length >= 4) break;
      if (Date.now() > end) break;
      await sleep(1000);
    }

    // The dashboard: read-only, on loopback.
    const started = op.lines().find((l) => l.msg === 'operator started');
    const dashboard = typeof started?.['dashboard'] === 'string' ? started['dashboard'] : '';
    const get = await fetch(`${dashboard}/api/view`);
    const post = await fetch(`${dashboard}/api/view`, { method: 'POST', body: '{}' });
    const del = await fetch(`${dashboard}/`, { method: 'DELETE' });
    const listening = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${String(op.process.pid)},`));
    const defaults = await loadOperatorConfig({ flags: {}, env: {} });

    await op.kill('SIGTERM');
    const ownLog = op.output();
    const ownHits = findSecrets(ownLog, 'this operator');
    const eventsSaved = await saveEvents(ns);
    const suite = scanArtifactsForSecrets();
    const used = {
      apiToken: true, // the proxy received it (the kubeconfig's only credential) on every request
      llmKeySentToLlm: llm.authorizations.some((h) => h.includes(FAKE_SECRETS.llmApiKey)),
      webhookHeaderSent: hookRequests.some((r) => r.authorization === FAKE_SECRETS.webhookSecret),
      webhookUrlUsed: hookRequests.some((r) => r.url.includes(FAKE_SECRETS.webhookUrlToken)),
    };
    console.log(
      [
        `fault 7: this operator wrote ${ownLog.split('\n').length} log lines (debug), ${eventsSaved} Events in its namespace; the LLM got ${llm.authorizations.length} requests, the webhook ${hookRequests.length}`,
        `  secrets used: ${JSON.stringify(used)}`,
        `  hits in this operator's log: ${ownHits.length}; in the whole suite so far: ${suite.hits.length} (${suite.lines} log lines in ${suite.files} files, ${suite.events} Events)`,
        `  dashboard ${dashboard}: GET ${get.status}, POST ${post.status} (Allow: ${post.headers.get('allow') ?? ''}), DELETE ${del.status}; listening: ${listening.map((l) => l.split(/\s+/)[3]).join(', ')}`,
        `  defaults: dashboard ${defaults.dashboardBindAddress}, metrics ${defaults.metricsBindAddress}, health ${defaults.healthBindAddress}`,
        ...[...ownHits, ...suite.hits].slice(0, 10).map((h) => `  HIT ${h}`),
      ].join('\n'),
    );
    recordResult('7-secrets', {
      fault: 'secrets in logs and Events',
      injected: `5 secret values (kubeconfig token, LLM key, webhook header, webhook URL token, an env token), used by an operator at debug level against a hostile LLM and a hostile webhook`,
      times: suite.lines + suite.events,
      lost: 0,
      duplicated: 0,
      stuck: 0,
      recovery: `${suite.hits.length + ownHits.length} hits in ${suite.lines} log lines and ${suite.events} Events; dashboard POST ${post.status}, default bind ${defaults.dashboardBindAddress}`,
      used,
      hits: suite.hits.length + ownHits.length,
    });

    expect(used).toEqual({ apiToken: true, llmKeySentToLlm: true, webhookHeaderSent: true, webhookUrlUsed: true });
    expect(ownHits).toEqual([]);
    expect(suite.hits).toEqual([]);
    expect(get.status).toBe(200);
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect(del.status).toBe(405);
    expect(new URL(dashboard).hostname).toBe('127.0.0.1');
    expect(listening.length).toBeGreaterThan(0);
    for (const l of listening) expect(l.split(/\s+/)[3], l).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(defaults.dashboardBindAddress).toBe('127.0.0.1:8081');
    expect(defaults.metricsBindAddress).toMatch(/^127\.0\.0\.1:/);
    expect(defaults.healthBindAddress).toMatch(/^127\.0\.0\.1:/);
  }, 600_000);
});
