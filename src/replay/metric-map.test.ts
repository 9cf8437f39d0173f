import { describe, expect, it } from 'vitest';
import { BUILTIN_METRICS } from '../api/v1alpha1/common.js';
import { DEFAULT_METRIC_MAP, DERIVED, expandQuery, MetricMapError, parseMetricMap } from './metric-map.js';

describe('the metrics map', () => {
  it('maps every built-in metric to a query that names its targets by namespace and pod (or deployment)', () => {
    for (const m of BUILTIN_METRICS) {
      const q = DEFAULT_METRIC_MAP.metrics[m];
      expect(q, m).toBeDefined();
      if (q === DERIVED) continue;
      expect(q, m).toMatch(/by \(namespace, (pod|deployment)\)/);
      expect(q, m).toContain('namespace=~"{{namespaces}}"');
    }
    expect(DEFAULT_METRIC_MAP.metrics['restart_rate']).toBe(DERIVED);
  });

  it('overrides only the keys a file gives', () => {
    const m = parseMetricMap('metrics:\n  restart_count: my_restarts{namespace=~"{{namespaces}}"}\nconditions:\n  Degraded: my_degraded\n');
    expect(m.metrics['restart_count']).toBe('my_restarts{namespace=~"{{namespaces}}"}');
    expect(m.metrics['memory_usage_bytes']).toBe(DEFAULT_METRIC_MAP.metrics['memory_usage_bytes']);
    expect(m.conditions['Degraded']).toBe('my_degraded');
    expect(m.conditions['CrashLoopBackOff']).toBe(DEFAULT_METRIC_MAP.conditions['CrashLoopBackOff']);
    expect(parseMetricMap('')).toBe(DEFAULT_METRIC_MAP);
  });

  it.each([
    ['metrics:\n  restart_cont: x\n', /metrics.restart_cont is not a built-in metric/],
    ['metrics:\n  ready: derived\n', /only restart_rate can be derived/],
    ['metrics:\n  ready: ""\n', /metrics.ready must be a PromQL query/],
    ['metric:\n  ready: x\n', /unknown key "metric"/],
    ['- a\n- b\n', /must be a mapping/],
    ['metrics: [1\n', /not YAML/],
  ])('refuses %j', (text, message) => {
    expect(() => parseMetricMap(text)).toThrow(MetricMapError);
    expect(() => parseMetricMap(text)).toThrow(message);
  });

  it('expands {{namespaces}} to a regular expression of the namespaces, or every namespace', () => {
    expect(expandQuery('x{namespace=~"{{namespaces}}"}', ['shop', 'web'])).toBe('x{namespace=~"shop|web"}');
    expect(expandQuery('x{namespace=~"{{namespaces}}"}', 'all')).toBe('x{namespace=~".+"}');
  });
});
