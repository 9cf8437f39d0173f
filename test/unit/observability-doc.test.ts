/**
 * docs/observability.md documents every metric the operator exports, every alert of the rules file and every panel
 * of the dashboard: none can be added without a line saying what it means.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDashboard } from '../../hack/grafana/dashboard.js';
import { allPanels } from '../../hack/grafana/panels.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { repoRoot } from '../support/api-server.js';

const doc = readFileSync(path.join(repoRoot, 'docs/observability.md'), 'utf8');
/** The first cell of every table row. */
const firstCells = new Set([...doc.matchAll(/^\| ([^|]+?) \|/gm)].map((m) => m[1]?.replace(/`/g, '').trim() ?? ''));

describe('docs/observability.md', () => {
  it('has a row for every metric the operator exports', async () => {
    const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    for (const n of names) expect(firstCells, n).toContain(n);
  });

  it('has a row for every alert', () => {
    const rules = (parse(readFileSync(path.join(repoRoot, 'deploy/prometheus/kubeskippy-alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) => g.rules);
    for (const r of rules) expect(firstCells, r.alert).toContain(r.alert);
  });

  it('names every panel of the dashboard', () => {
    for (const p of allPanels(buildDashboard()).filter((x) => x.type !== 'row')) {
      const title = (p.title ?? '').replace(/: \$policy$/, '');
      expect(doc, title).toContain(title);
    }
  });
});
