import { Registry, register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

const EXPECTED: Record<string, { type: string; labels: string[] }> = {
  kubeskippy_actions_total: { type: 'counter', labels: ['policy', 'namespace', 'type', 'phase', 'source'] },
  kubeskippy_healings_total: { type: 'counter', labels: ['policy', 'namespace', 'source', 'kind', 'result'] },
  kubeskippy_prevented_failures_total: { type: 'counter', labels: ['policy', 'namespace'] },
  kubeskippy_time_to_heal_seconds: { type: 'histogram', labels: ['policy', 'namespace', 'source'] },
  kubeskippy_safety_denials_total: { type: 'counter', labels: ['policy', 'namespace', 'reason'] },
  kubeskippy_trigger_firings_total: { type: 'counter', labels: ['policy', 'namespace', 'trigger', 'type'] },
  kubeskippy_detection_latency_seconds: { type: 'histogram', labels: [] },
  kubeskippy_verification_duration_seconds: { type: 'histogram', labels: ['type', 'result'] },
  kubeskippy_reconcile_duration_seconds: { type: 'histogram', labels: ['controller'] },
  kubeskippy_reconcile_errors_total: { type: 'counter', labels: ['controller'] },
  kubeskippy_workqueue_depth: { type: 'gauge', labels: ['controller'] },
  kubeskippy_leader: { type: 'gauge', labels: [] },
  kubeskippy_shards_held: { type: 'gauge', labels: [] },
  kubeskippy_shard_members: { type: 'gauge', labels: [] },
  kubeskippy_paused: { type: 'gauge', labels: [] },
  kubeskippy_notifications_total: { type: 'counter', labels: ['sink', 'result'] },
  kubeskippy_informer_restarts_total: { type: 'counter', labels: ['resource'] },
  kubeskippy_informer_progress_probes_total: { type: 'counter', labels: ['resource'] },
  kubeskippy_policies: { type: 'gauge', labels: ['mode'] },
  kubeskippy_circuit_breaker_open: { type: 'gauge', labels: ['scope'] },
  kubeskippy_collection_errors_total: { type: 'counter', labels: ['source'] },
  kubeskippy_collector_poll_duration_seconds: { type: 'histogram', labels: ['source', 'phase'] },
  kubeskippy_collector_poll_objects: { type: 'gauge', labels: ['source', 'kind'] },
  kubeskippy_api_requests_total: { type: 'counter', labels: ['verb', 'group', 'resource', 'subresource'] },
  kubeskippy_policy_evaluation_overruns_total: { type: 'counter', labels: ['policy', 'namespace'] },
  kubeskippy_storm_held_firings_total: { type: 'counter', labels: ['policy', 'namespace'] },
  kubeskippy_event_loop_delay_seconds: { type: 'histogram', labels: [] },
  kubeskippy_ai_recommendations_total: { type: 'counter', labels: ['policy', 'namespace', 'outcome'] },
  kubeskippy_ai_confidence: { type: 'histogram', labels: [] },
  kubeskippy_llm_requests_total: { type: 'counter', labels: ['provider', 'result'] },
  kubeskippy_llm_request_duration_seconds: { type: 'histogram', labels: ['provider'] },
};

describe('createMetrics', () => {
  it('registers exactly the product metrics, each with help text, on its own registry', async () => {
    const metrics = createMetrics();
    const json = await metrics.registry.getMetricsAsJSON();
    expect(json.map((m) => m.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const m of json) {
      expect(m.type, m.name).toBe(EXPECTED[m.name]?.type);
      expect(m.help.length, `${m.name} help`).toBeGreaterThan(10);
    }
    expect(await globalRegistry.getMetricsAsJSON()).toEqual([]);
  });

  it('accepts exactly the declared labels', () => {
    const metrics = createMetrics();
    metrics.actionsTotal.inc({ policy: 'p', namespace: 'ns', type: 'restart', phase: 'Succeeded', source: 'rule' });
    metrics.verificationDurationSeconds.observe({ type: 'restart', result: 'success' }, 12);
    metrics.leader.set(1);
    metrics.detectionLatencySeconds.observe(3);
    // prom-client rejects labels that were not declared.
    expect(() => metrics.safetyDenialsTotal.inc({ policy: 'p', namespace: 'ns', reason: 'Cooldown', extra: 'x' } as never)).toThrow();
  });

  it('renders Prometheus text with the labels used', async () => {
    const metrics = createMetrics();
    metrics.triggerFiringsTotal.inc({ policy: 'leak', namespace: 'demo', trigger: 'memory', type: 'metric' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('# HELP kubeskippy_trigger_firings_total');
    expect(text).toContain('kubeskippy_trigger_firings_total{policy="leak",namespace="demo",trigger="memory",type="metric"} 1');
  });

  it('declares every label set the product needs', async () => {
    const metrics = createMetrics();
    metrics.actionsTotal.inc({ policy: 'p', namespace: 'n', type: 't', phase: 'p', source: 's' });
    metrics.safetyDenialsTotal.inc({ policy: 'p', namespace: 'n', reason: 'r' });
    metrics.healingsTotal.inc({ policy: 'p', namespace: 'n', source: 'ai', kind: 'predictive', result: 'succeeded' });
    metrics.preventedFailuresTotal.inc({ policy: 'p', namespace: 'n' });
    metrics.timeToHealSeconds.observe({ policy: 'p', namespace: 'n', source: 'rule' }, 42);
    metrics.triggerFiringsTotal.inc({ policy: 'p', namespace: 'n', trigger: 't', type: 'y' });
    metrics.verificationDurationSeconds.observe({ type: 't', result: 'r' }, 1);
    metrics.reconcileDurationSeconds.observe({ controller: 'c' }, 1);
    metrics.reconcileErrorsTotal.inc({ controller: 'c' });
    metrics.workqueueDepth.set({ controller: 'c' }, 1);
    metrics.informerRestartsTotal.inc({ resource: 'r' });
    metrics.informerProgressProbesTotal.inc({ resource: 'r' });
    metrics.policies.set({ mode: 'm' }, 1);
    metrics.circuitBreakerOpen.set({ scope: 's' }, 1);
    metrics.collectionErrorsTotal.inc({ source: 's' });
    metrics.apiRequestsTotal.inc({ verb: 'list', group: '', resource: 'pods', subresource: '' });
    metrics.llmRequestsTotal.inc({ provider: 'openai', result: 'fallback-Timeout' });
    metrics.llmRequestDurationSeconds.observe({ provider: 'openai' }, 1.5);
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      const labels = new Set(m.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
      if (m.values.length > 0 && EXPECTED[m.name]?.labels.length !== 0) expect([...labels].sort(), m.name).toEqual([...(EXPECTED[m.name]?.labels ?? [])].sort());
    }
  });

  it('uses a given registry and can add process metrics to it', async () => {
    const registry = new Registry();
    createMetrics(registry, { processMetrics: true });
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain('kubeskippy_leader');
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(() => createMetrics(registry)).toThrow();
  });
});
