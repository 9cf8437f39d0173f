/**
 * `kubeskippy replay` against a real Prometheus and the real API server: a test exporter serves kube-state-metrics'
 * restart counter for three pods — one the policy selects (a live pod with its labels), one it does not (other
 * labels), one that no longer exists — Prometheus scrapes it every second, and replay runs the policy over the
 * recorded half minute through the whole CLI. Nothing in the cluster changes.
 */
import { createServer, type Server } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { repoRoot } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, testKubeConfig, waitFor } from '../support/cluster.js';
import { setPrometheusTargets } from '../support/prometheus.js';
import { createPod, createPolicy, ensureCrds, listActions } from '../support/resources.js';

const kc = testKubeConfig();
const prometheusUrl = process.env['KUBESKIPPY_TEST_PROMETHEUS_URL'];
let ns = '';
let exporter: Server | undefined;
let started = 0;

beforeAll(async () => {
  if (!prometheusUrl) throw new Error('Prometheus is not running: install the Debian package "prometheus" (hack/ci/system-packages.sh does)');
  await ensureCrds();
  ns = await createTestNamespace(kc, 'replay');
  await createPod(kc, ns, 'web-1', { labels: { app: 'web' } });
  await createPod(kc, ns, 'db-1', { labels: { app: 'db' } });
  // One restart a second since the exporter started: the policy's threshold (3) is crossed after 4 s.
  started = Date.now();
  exporter = createServer((_, res) => {
    const restarts = Math.floor((Date.now() - started) / 1000);
    res.end(
      [
        '# TYPE kube_pod_container_status_restarts_total counter',
        ...['web-1', 'db-1', 'gone-1'].map((pod) => `kube_pod_container_status_restarts_total{namespace="${ns}",pod="${pod}",container="app"} ${restarts}`),
        '',
      ].join('\n'),
    );
  });
  const port = await new Promise<number>((resolve) => exporter!.listen(0, '127.0.0.1', () => resolve((exporter!.address() as { port: number }).port)));
  setPrometheusTargets(repoRoot, [{ address: `127.0.0.1:${port}` }]);
  await waitFor('30 s of history in Prometheus', async () => {
    const q = encodeURIComponent(`count_over_time(kube_pod_container_status_restarts_total{namespace="${ns}",pod="web-1"}[1m])`);
    const res = (await (await fetch(`${prometheusUrl}/api/v1/query?query=${q}`)).json()) as { data: { result: { value: [number, string] }[] } };
    return Number(res.data.result[0]?.value[1] ?? 0) >= 30;
  }, 120_000, 1000);
  await createPolicy(kc, ns, 'web', {
    selector: { labelSelector: { matchLabels: { app: 'web' } } },
    triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 }, cooldownPeriod: '5s' }],
    actions: [
      { name: 'restart-pod', type: 'restart', priority: 10 },
      { name: 'delete-pod', type: 'delete', priority: 20 },
    ],
    safetyRules: { maxActionsPerHour: 2 },
  });
}, 300_000);

afterAll(async () => {
  await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
  setPrometheusTargets(repoRoot, []);
  if (ns) await deleteTestNamespace(kc, ns);
});

interface Doc {
  data: { queries: { key: string; series: number }[]; skipped: number };
  events: { at: string; target: { name: string }; outcome: string; action?: string; rung?: number; blockedReason?: string }[];
  summary: { targets: number; actions: number; blocked: Record<string, number>; firstBudgetBlockAt?: string };
}

describe('kubeskippy replay on a real Prometheus', () => {
  it('fires on the selected pod only, climbs the ladder after the cooldown, and shows where the budget blocks — mutating nothing', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const from = new Date(started + 1000).toISOString();
    const code = await main(
      ['replay', 'web', '-n', ns, '--from', from, '--to', 'now', '--step', '1s', '--prometheus-url', prometheusUrl!, '-o', 'json', '--kubeconfig', kubeconfigPath],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    expect(code, err.join('\n')).toBe(0);
    expect(err[0]).toBe('querying Prometheus 1/1: restart_count');
    const doc = JSON.parse(out.join('\n')) as Doc;
    expect(doc.data.queries).toEqual([expect.objectContaining({ key: 'restart_count', series: 1 })]);
    // gone-1 has no live pod whose labels could be checked; db-1 has the wrong labels.
    expect(doc.data.skipped).toBe(1);
    expect(doc.summary.targets).toBe(1);
    expect(new Set(doc.events.map((e) => e.target.name))).toEqual(new Set(['web-1']));
    const [first, second, third] = doc.events;
    expect(first).toMatchObject({ outcome: 'action', action: 'restart-pod', rung: 0 });
    expect(second).toMatchObject({ outcome: 'action', action: 'delete-pod', rung: 1 });
    expect(third).toMatchObject({ outcome: 'blocked', blockedReason: 'RateLimited' });
    // The cooldown (5 s) separates the firings; the first crosses the threshold about 4 s after the start.
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBe(5000);
    expect(Date.parse(first!.at) - started).toBeGreaterThanOrEqual(3000);
    expect(doc.summary.actions).toBe(2);
    expect(doc.summary.firstBudgetBlockAt).toBe(third!.at);
    // Nothing was created or touched.
    expect(await listActions(kc, ns)).toEqual([]);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.readNamespacedPod({ name: 'web-1', namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
  });

  it('exits 4 with one line when Prometheus cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const err: string[] = [];
    const url = `http://127.0.0.1:${closed}`;
    const code = await main(['replay', 'web', '-n', ns, '--from', '1m', '--prometheus-url', url, '--kubeconfig', kubeconfigPath], { out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(4);
    expect(err.at(-1)).toBe(`kubeskippy replay: Prometheus at ${url} unreachable: fetch failed (ECONNREFUSED)`);
  });
});
