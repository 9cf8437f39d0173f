/**
 * The Grafana dashboard as committed: up to date with hack/grafana/dashboard.ts, identical in the Helm chart, and
 * querying only metrics the operator really exports. Whether every query returns data from a running operator is
 * test/integration/grafana-panels.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDashboard, CHART_DASHBOARD_FILE, DASHBOARD_FILE, renderDashboardJson } from './dashboard.js';
import { allPanels, exportedSeries, metricsIn, panelQueries, substitute, variableQueries } from './panels.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

describe('the Grafana dashboard', () => {
  const dashboard = buildDashboard();

  it(`is committed up to date in ${DASHBOARD_FILE} (run \`npm run grafana:build\` if not)`, () => {
    expect(read(DASHBOARD_FILE)).toBe(renderDashboardJson());
  });

  it(`is copied unchanged into the Helm chart (${CHART_DASHBOARD_FILE})`, () => {
    expect(read(CHART_DASHBOARD_FILE)).toBe(read(DASHBOARD_FILE));
  });

  it('queries only metrics the operator exports, in every panel and variable', async () => {
    const exported = await exportedSeries();
    const queries = panelQueries(dashboard);
    expect(queries.length).toBeGreaterThan(25);
    for (const q of queries) {
      const used = metricsIn(q.expr);
      expect(used.length, `${q.panel} ${q.refId} reads no kubeskippy metric`).toBeGreaterThan(0);
      for (const m of used) expect(exported.has(m), `${q.panel}: ${m}`).toBe(true);
    }
    for (const v of variableQueries(dashboard)) for (const m of metricsIn(v.selector)) expect(exported.has(m), `variable ${v.variable}: ${m}`).toBe(true);
  });

  it('has the sections of the design: AI confidence, AI vs rules, action distribution, the decision timeline, totals, success and prevention rates, safety, a row per policy', () => {
    const titles = allPanels(dashboard).map((p) => p.title);
    for (const t of [
      'AI confidence',
      'AI vs rule-based: success rate',
      'Strategic action distribution',
      'AI decision timeline with reasoning',
      'Total actions',
      'Success rate',
      'Prevention rate',
      'Actions by type and phase',
      'Safety denials by reason',
      'Circuit breakers open',
      'Time to heal by policy',
      'Policy $policy',
    ]) {
      expect(titles).toContain(t);
    }
    const row = allPanels(dashboard).find((p) => p.title === 'Policy $policy') as { repeat?: string } | undefined;
    expect(row?.repeat).toBe('policy');
  });

  it('says where the reasoning is instead of pretending Prometheus has it', () => {
    const timeline = allPanels(dashboard).find((p) => p.title === 'AI decision timeline with reasoning') as { type?: string; options?: { content?: string }; targets?: unknown[] };
    expect(timeline.type).toBe('text');
    expect(timeline.targets ?? []).toEqual([]);
    expect(timeline.options?.content).toContain('kubeskippy explain');
    expect(timeline.options?.content).toContain('${kubeskippy_url}');
  });

  it('gives every panel a unique id and every query the datasource variable', () => {
    const panels = allPanels(dashboard) as { id?: number; targets?: { datasource?: { uid?: string } }[] }[];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(panels.length);
    for (const p of panels) for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('${datasource}');
  });

  it('leaves no Grafana variable that the panel test does not substitute', () => {
    const values = { job: 'j', namespace: 'n', policy: ['a', 'b'], __range: '10m', __rate_interval: '1m' };
    for (const q of panelQueries(dashboard)) expect(substitute(q.expr, values)).not.toContain('$');
    expect(substitute('x{policy=~"$policy", ns=~"${namespace}"}[$__rate_interval]', values)).toBe('x{policy=~"(a|b)", ns=~"n"}[1m]');
  });
});
