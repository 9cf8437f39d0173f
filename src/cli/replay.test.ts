import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { DEFAULT_METRIC_MAP } from '../replay/metric-map.js';
import type { RangeFetch } from '../replay/prometheus-range.js';
import { NotFoundError, UsageError } from './errors.js';
import { main } from './main.js';
import { parsePolicyArg, parseTime, planQueries, replayCommand, type ReplayApi } from './replay.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

const POLICY: HealingPolicy = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'crash', namespace: 'shop' },
  spec: {
    selector: { labelSelector: { matchLabels: { app: 'web' } } },
    triggers: [
      { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 }, cooldownPeriod: '5m' },
      { name: 'backoff', type: 'event', eventTrigger: { reason: 'BackOff' } },
    ],
    actions: [{ name: 'restart-pod', type: 'restart' }],
    safetyRules: { maxActionsPerHour: 1 },
  },
};

const pod = (name: string, labels: Record<string, string>): k8s.V1Pod => ({ metadata: { name, namespace: 'shop', labels } });

const api: ReplayApi = {
  getPolicy: (id) => Promise.resolve(id.name === 'crash' && id.namespace === 'shop' ? POLICY : undefined),
  listNamespaces: () => Promise.resolve([]),
  listPods: () => Promise.resolve([pod('web-1', { app: 'web' }), pod('db-1', { app: 'db' })]),
  listWorkloads: () => Promise.resolve({ deployments: [], statefulSets: [], daemonSets: [], replicaSets: [] }),
};

/** A Prometheus whose restart counters climb one a minute, for web-1, db-1 and a pod that no longer exists. */
function prometheus(queries: string[]): RangeFetch {
  return (url) => {
    const p = new URL(url).searchParams;
    queries.push(p.get('query') ?? '');
    const start = Number(p.get('start')) * 1000;
    const end = Number(p.get('end')) * 1000;
    const values = (): [number, string][] => {
      const out: [number, string][] = [];
      for (let t = start; t <= end; t += MIN) out.push([t / 1000, String(Math.max(0, Math.floor((t - T0) / MIN)))]);
      return out;
    };
    const result = ['web-1', 'db-1', 'gone-1'].map((name) => ({ metric: { namespace: 'shop', pod: name }, values: values() }));
    return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } })) });
  };
}

const input = (over: object = {}) => ({
  policy: { kind: 'HealingPolicy' as const, namespace: 'shop', name: 'crash' },
  from: T0,
  to: T0 + 20 * MIN,
  stepMs: MIN,
  prometheusUrl: 'http://prom:9090',
  metricMap: DEFAULT_METRIC_MAP,
  escalationWindowMs: 3_600_000,
  timeoutMs: 5000,
  output: 'human' as const,
  ...over,
});

describe('kubeskippy replay', () => {
  it('queries the mapped PromQL for the policy\'s namespace, keeps the targets its selector picks, and prints what would have happened', async () => {
    const queries: string[] = [];
    const progress: string[] = [];
    const out = await replayCommand(api, { ...input(), fetch: prometheus(queries) }, (l) => progress.push(l));
    expect(out.code).toBe(0);
    expect(queries).toEqual(['sum by (namespace, pod) (kube_pod_container_status_restarts_total{namespace=~"shop"})']);
    expect(progress).toEqual(['querying Prometheus 1/1: restart_count']);
    const text = out.out.join('\n');
    if (process.env['SHOW'] === '1') console.log(text);
    expect(out.out[0]).toBe('Replay of HealingPolicy shop/crash (mode automatic), 2026-03-01T10:00:00Z → 2026-03-01T10:20:00Z every 60s (21 steps)');
    expect(text).toMatch(/Targets:\s+1/);
    expect(text).toMatch(/Skipped:\s+1 series: objects that no longer exist/);
    expect(text).toMatch(/Not replayable:\s+Kubernetes Events are not kept in Prometheus: event triggers cannot be replayed/);
    expect(text).toMatch(/2026-03-01T10:04:00Z\s+Pod shop\/web-1\s+restarts\s+restart \(rung 1: restart-pod\): restart_count 4 > 3/);
    expect(text).toMatch(/2026-03-01T10:09:00Z\s+Pod shop\/web-1\s+restarts\s+BLOCKED RateLimited restart \(rung 1: restart-pod\): the policy used 1 of 1 actions/);
    expect(text).not.toContain('db-1');
    expect(text).toMatch(/Budget:\s+maxActionsPerHour 1 first blocked an action at 2026-03-01T10:09:00Z/);
  });

  it('gives the same as JSON, with ISO times', async () => {
    const out = await replayCommand(api, { ...input({ output: 'json' }), fetch: prometheus([]) }, () => undefined);
    const doc = JSON.parse(out.out.join('\n')) as { events: { at: string; outcome: string }[]; summary: { actions: number; blocked: Record<string, number> } };
    expect(doc.events[0]).toMatchObject({ at: '2026-03-01T10:04:00Z', outcome: 'action' });
    expect(doc.summary).toMatchObject({ actions: 1, blocked: { RateLimited: 3 } });
  });

  it('says NotFound for a missing policy, and refuses ranges that are backwards or too fine', async () => {
    await expect(replayCommand(api, { ...input({ policy: { kind: 'HealingPolicy', namespace: 'shop', name: 'nope' } }), fetch: prometheus([]) }, () => undefined)).rejects.toThrow(NotFoundError);
    await expect(replayCommand(api, { ...input({ to: T0 - 1 }), fetch: prometheus([]) }, () => undefined)).rejects.toThrow(/--to is before --from/);
    await expect(replayCommand(api, { ...input({ to: T0 + 30 * 24 * 3600_000, stepMs: 1000 }), fetch: prometheus([]) }, () => undefined)).rejects.toThrow(UsageError);
  });
});

describe('replay arguments', () => {
  it.each([
    ['now', T0],
    ['2h', T0 - 2 * 3600_000],
    ['-90m', T0 - 90 * MIN],
    ['2026-02-28T10:00:00Z', Date.parse('2026-02-28T10:00:00Z')],
  ])('reads time %s', (value, expected) => {
    expect(parseTime('--from', value, T0)).toBe(expected);
  });

  it('refuses a time it cannot read', () => {
    expect(() => parseTime('--from', 'yesterday', T0)).toThrow(/--from "yesterday": use a time such as/);
  });

  it('reads the policy as NAME, NAMESPACE/NAME or chp/NAME', () => {
    expect(parsePolicyArg('crash', 'shop')).toEqual({ kind: 'HealingPolicy', namespace: 'shop', name: 'crash' });
    expect(parsePolicyArg('web/crash', 'shop')).toEqual({ kind: 'HealingPolicy', namespace: 'web', name: 'crash' });
    expect(parsePolicyArg('chp/fleet', 'shop')).toEqual({ kind: 'ClusterHealingPolicy', namespace: '', name: 'fleet' });
    expect(() => parsePolicyArg('a/b/c', 'shop')).toThrow(UsageError);
  });

  it('plans one query per metric and condition, PromQL triggers as written, and says what cannot be replayed', () => {
    const p: HealingPolicy = {
      ...POLICY,
      spec: {
        ...POLICY.spec,
        triggers: [
          { name: 'rate', type: 'metric', metricTrigger: { query: 'restart_rate', threshold: 3 } },
          { name: 'q', type: 'metric', metricTrigger: { query: 'queue_depth{job="x"}', threshold: 3 } },
          { name: 'loop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff' } },
          { name: 'odd', type: 'condition', conditionTrigger: { type: 'Degraded' } },
          { name: 'leak', type: 'predictive', predictiveTrigger: {} },
        ],
      },
    };
    const plan = planQueries(p, DEFAULT_METRIC_MAP, ['shop']);
    expect(plan.queries.map((q) => `${q.kind}:${q.key}`)).toEqual(['metric:restart_count', 'metric:queue_depth{job="x"}', 'condition:CrashLoopBackOff', 'metric:memory_usage_percent']);
    expect(plan.queries[1]?.promql).toBe('queue_depth{job="x"}');
    expect([...plan.unavailable.entries()]).toEqual([['Degraded', 'no PromQL for condition Degraded: add it under conditions: in --metrics-map']]);
  });

  it('needs a Prometheus URL (usage), before touching the cluster', async () => {
    const err: string[] = [];
    expect(await main(['replay', 'crash', '--from', '1h', '--kubeconfig', '/nonexistent'], { out: () => undefined, err: (l) => err.push(l) }, { env: {} })).toBe(2);
    expect(err).toEqual(['kubeskippy replay: replay reads history from Prometheus: give --prometheus-url http://… (or set KUBESKIPPY_PROMETHEUS_URL)']);
  });
});
