/**
 * Every query of the Grafana dashboard (deploy/grafana/kubeskippy-dashboard.json, as committed) returns data from a
 * real Prometheus scraping a real operator while it heals on the real cluster:
 * - two crash-looping pods restarted by a rule (reactive, source rule, verified);
 * - a crash-looping pod the safety gate refuses (annotated kubeskippy.io/protected: Blocked Protected);
 * - two leaking pods restarted by a predictive trigger before they fail (source ai, prevented failures), the
 *   analyzer asking an LLM that cannot be reached (so the LLM panel shows real fallbacks).
 * Pods start staggered so that each counter rises between two scrapes: increase() of a series whose first sample
 * is already 1 is 0, and a ratio of zeros is NaN — data, but no proof.
 *
 * The analyzer needs four minutes of a series before it forecasts (src/analysis/shapes.ts MIN_SPAN_SECONDS), and
 * under eight minutes its calibration caps the confidence near 0.59 (the "short" group of
 * src/analysis/calibration-table.ts): the leak policy acts from 0.55, so this file takes about six minutes, not ten.
 * The reactive scenarios run meanwhile.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsIn, panelQueries, substitute, variableQueries, type PanelQuery } from '../../hack/grafana/panels.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { addPrometheusTargets } from '../support/prometheus.js';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import { createPod, createPolicy, ensureCrds, listActions, readPolicy } from '../support/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kc = testKubeConfig();
const prometheusUrl = process.env['KUBESKIPPY_TEST_PROMETHEUS_URL'];
const JOB = 'kubeskippy-grafana-panels';
const POLICIES = ['crash', 'guard', 'leak'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/kubeskippy-dashboard.json'), 'utf8')) as { panels: unknown[]; templating: { list: unknown[] } };

let operator: RunningOperator;
let ns = '';
let removeTargets = (): void => undefined;

/** A loopback port nothing listens on: the LLM "provider" the operator cannot reach. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

type PromResult = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };

async function prom(pathAndQuery: string): Promise<PromResult[]> {
  const res = await fetch(`${prometheusUrl ?? ''}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`${pathAndQuery}: ${body.error ?? body.status}`);
  return body.data.result;
}

async function labelValues(label: string, selector: string): Promise<string[]> {
  const res = await fetch(`${prometheusUrl ?? ''}/api/v1/label/${label}/values?match[]=${encodeURIComponent(selector)}`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { data: string[] }).data;
}

/** The raw counter (no increase()), summed: what the operator reported, as Prometheus has it now. */
async function total(selector: string): Promise<number> {
  const r = await prom(`/api/v1/query?query=${encodeURIComponent(`sum(${selector})`)}`);
  return Number(r[0]?.value?.[1] ?? 0);
}

beforeAll(async () => {
  await ensureCrds();
  if (!prometheusUrl) throw new Error('Prometheus is not running: install the Debian package "prometheus" (hack/ci/system-packages.sh does)');
  operator = await startTestOperator({
    maxActionsPerHour: 1000,
    aiMaxActionsPerHour: 1000,
    'ai.provider': 'openai',
    'ai.url': `http://127.0.0.1:${await closedPort()}`,
    'ai.model': 'unreachable',
    'ai.timeoutSeconds': 2,
  });
  removeTargets = addPrometheusTargets(root, [{ address: new URL(operator.health!.url).host, labels: { job: JOB } }]);
  ns = await createTestNamespace(kc, 'grafana');
}, 120_000);

afterAll(async () => {
  removeTargets();
  await operator?.stop();
  if (ns) await deleteTestNamespace(kc, ns);
});

const crash = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };
const leak = { 'sim.kubeskippy.io/memory': '64Mi', 'sim.kubeskippy.io/memory-leak': '1Mi' };
const LIMITS = { memory: '1024Mi', cpu: '1' };

describe('the Grafana dashboard on a real Prometheus', () => {
  it('returns data for every panel query and every variable while the operator heals', { timeout: 600_000 }, async () => {
    const started = Date.now();
    await createPolicy(kc, ns, 'leak', {
      selector: { labelSelector: { matchLabels: { app: 'leak' } } },
      // minConfidence 0.55: act on the short-history forecast (confidence ≤ 0.59 under 8 minutes of samples).
      triggers: [{ name: 'leak', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent', horizon: '30m', minConfidence: 0.55, minHistory: '3m' } }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    await createPolicy(kc, ns, 'crash', {
      selector: { labelSelector: { matchLabels: { app: 'crash' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 } }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    await createPolicy(kc, ns, 'guard', {
      selector: { labelSelector: { matchLabels: { app: 'guard' } } },
      // One refusal is enough: without a long cooldown the still crashing pod would be refused again in 5 minutes.
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 }, cooldownPeriod: '1h' }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    await createPod(kc, ns, 'leak-a', { labels: { app: 'leak' }, annotations: leak, limits: LIMITS });
    await createPod(kc, ns, 'crash-a', { labels: { app: 'crash' }, annotations: crash });
    await createPod(kc, ns, 'guarded', { labels: { app: 'guard' }, annotations: { ...crash, 'kubeskippy.io/protected': 'true' } });
    await sleep(20_000);
    await createPod(kc, ns, 'leak-b', { labels: { app: 'leak' }, annotations: leak, limits: LIMITS });
    await createPod(kc, ns, 'crash-b', { labels: { app: 'crash' }, annotations: crash });

    const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'];
    const describe = (all: readonly HealingAction[]): string =>
      all.map((a) => `${a.spec.policyRef.name}/${a.spec.targetResource.name} ${a.spec.source ?? 'rule'} ${a.status?.phase ?? 'Pending'} ${a.status?.reason ?? ''} ${a.status?.message?.slice(0, 160) ?? ''}`).sort().join('\n  ');
    let polls = 0;
    const actions = await waitFor(
      'five finished actions: two crash restarts, one blocked, two predictive restarts',
      async () => {
        const all = await listActions(kc, ns);
        // Progress every minute, so a timeout says where it stood.
        if (++polls % 30 === 0) {
          const leakPolicy = await readPolicy(kc, ns, 'leak');
          const why = leakPolicy.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message.slice(0, 200)}`).join(' | ') ?? '';
          console.log(`[grafana] ${Math.round((Date.now() - started) / 1000)}s: leak policy ${why}\n  ${describe(all)}`);
        }
        return all.length >= 5 && all.every((a) => FINISHED.includes(a.status?.phase ?? '')) ? all : undefined;
      },
      450_000,
      2000,
    );
    console.log(`[grafana] actions after ${Math.round((Date.now() - started) / 1000)}s:\n  ${describe(actions)}`);
    const byPolicy = (p: string): string[] => actions.filter((a) => a.spec.policyRef.name === p).map((a) => `${a.spec.source ?? 'rule'} ${a.status?.phase ?? ''}`);
    expect(byPolicy('crash')).toEqual(['rule Succeeded', 'rule Succeeded']);
    expect(byPolicy('guard')).toEqual(['rule Blocked']);
    expect(byPolicy('leak')).toEqual(['ai Succeeded', 'ai Succeeded']);
    for (const a of actions.filter((x) => x.spec.policyRef.name === 'leak')) {
      expect(a.status?.conditions?.find((c) => c.type === 'FailureObserved')).toMatchObject({ status: 'False' });
    }

    // What the operator reported reaches Prometheus (scraped every second).
    const scope = `job="${JOB}", namespace="${ns}"`;
    await waitFor('the last healings scraped', async () => ((await total(`kubeskippy_healings_total{${scope}}`)) >= 5 ? true : undefined), 30_000, 1000);
    expect(await total(`kubeskippy_healings_total{${scope}, kind="predictive", result="succeeded", source="ai"}`)).toBe(2);
    expect(await total(`kubeskippy_healings_total{${scope}, kind="reactive", result="succeeded", source="rule"}`)).toBe(2);
    expect(await total(`kubeskippy_healings_total{${scope}, result="blocked"}`)).toBe(1);
    expect(await total(`kubeskippy_prevented_failures_total{${scope}, policy="leak"}`)).toBe(2);
    expect(await total(`kubeskippy_time_to_heal_seconds_count{${scope}}`)).toBe(4);
    expect(await total(`kubeskippy_safety_denials_total{${scope}, reason="Protected"}`)).toBe(1);
    expect(await total(`kubeskippy_llm_requests_total{job="${JOB}"}`)).toBeGreaterThan(0);
    // Leader election is off in tests: the one replica acts, and says so (a "no leader" alert must not fire).
    expect(await total(`kubeskippy_leader{job="${JOB}"}`)).toBe(1);

    // Every variable resolves, and offers what this test created.
    const values = { job: JOB, namespace: ns, policy: POLICIES, __range: `${Math.ceil((Date.now() - started) / 60_000) + 1}m`, __rate_interval: '1m' };
    for (const v of variableQueries(dashboard)) {
      const got = await labelValues(v.label, substitute(v.selector, values));
      const want = v.variable === 'policy' ? POLICIES : v.variable === 'namespace' ? [ns] : [JOB];
      expect(got, `variable ${v.variable}`).toEqual(expect.arrayContaining(want));
    }

    // Every panel query, as Grafana would send it.
    const end = Math.floor(Date.now() / 1000);
    const report: string[] = [];
    const empty: PanelQuery[] = [];
    for (const q of panelQueries(dashboard)) {
      const expr = substitute(q.expr, values);
      const result = q.instant
        ? await prom(`/api/v1/query?query=${encodeURIComponent(expr)}&time=${end}`)
        : await prom(`/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${Math.floor(started / 1000)}&end=${end}&step=15`);
      if (result.length === 0) empty.push(q);
      const sample = result.map((r) => r.value?.[1] ?? r.values?.at(-1)?.[1] ?? '').slice(0, 4).join(', ');
      report.push(`${q.panel} [${q.refId}] ${metricsIn(q.expr).join(' ')}: ${result.length} series (${sample})`);
    }
    console.log(`[grafana] ${report.length} panel queries:\n  ${report.join('\n  ')}`);
    expect(empty.map((q) => `${q.panel} [${q.refId}]: ${q.expr}`)).toEqual([]);
  });
});
