/**
 * The Prometheus alerting rules (deploy/prometheus/kubeskippy-alerts.yaml): valid for promtool, their unit tests
 * pass, they read only metrics the operator exports, and the Helm chart ships the same file. promtool comes with
 * Debian's `prometheus` package (hack/ci/system-packages.sh installs it); without it this test fails, it does not
 * skip.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportedSeries, metricsIn } from '../../hack/grafana/panels.js';
import { repoRoot } from '../support/api-server.js';

const RULES = 'deploy/prometheus/kubeskippy-alerts.yaml';
const RULE_TESTS = 'deploy/prometheus/kubeskippy-alerts.test.yaml';
const CHART_RULES = 'charts/kubeskippy/rules/kubeskippy-alerts.yaml';

function promtool(args: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: path.join(repoRoot, 'deploy/prometheus'), encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is needed to check the alerting rules: install the Debian package "prometheus" (hack/ci/system-packages.sh does): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

type Rule = { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const groups = (parse(readFileSync(path.join(repoRoot, RULES), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

describe('the Prometheus alerting rules', () => {
  it('pass `promtool check rules`', () => {
    const r = promtool(['check', 'rules', path.basename(RULES)]);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status, r.output).toBe(0);
  });

  it('pass their unit tests (`promtool test rules`)', () => {
    const r = promtool(['test', 'rules', path.basename(RULE_TESTS)]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it('unit-test at least the no-leader, operator-down, breaker and failure-rate alerts', () => {
    const tested = new Set([...readFileSync(path.join(repoRoot, RULE_TESTS), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    for (const a of ['KubeSkippyNoLeader', 'KubeSkippyOperatorDown', 'KubeSkippyCircuitBreakerOpen', 'KubeSkippyHighFailureRate']) expect(tested).toContain(a);
  });

  it('read only metrics the operator exports (and Prometheus\' own `up`)', async () => {
    const exported = await exportedSeries();
    for (const r of rules) {
      const used = metricsIn(r.expr);
      if (!/\bup\{/.test(r.expr)) expect(used.length, r.alert).toBeGreaterThan(0);
      for (const m of used) expect(exported.has(m), `${r.alert ?? ''}: ${m}`).toBe(true);
    }
  });

  it('give every alert a severity, a summary and a description', () => {
    for (const r of rules) {
      expect(r.alert).toMatch(/^KubeSkippy[A-Z]\w+$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels?.['severity']);
      expect(r.annotations?.['summary']?.length, r.alert).toBeGreaterThan(10);
      expect(r.annotations?.['description']?.length, r.alert).toBeGreaterThan(40);
    }
  });

  it(`are shipped unchanged in the Helm chart (${CHART_RULES}, the PrometheusRule's spec)`, () => {
    expect(readFileSync(path.join(repoRoot, CHART_RULES), 'utf8')).toBe(readFileSync(path.join(repoRoot, RULES), 'utf8'));
  });
});
