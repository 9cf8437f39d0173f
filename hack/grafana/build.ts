/**
 * `npm run grafana:build`: writes the dashboard that hack/grafana/dashboard.ts builds to deploy/grafana/ and to the
 * Helm chart's copy (charts/kubeskippy/dashboards/). Run through vitest (as a TypeScript runner, like hack/bench), so
 * it needs no build step. hack/grafana/dashboard.test.ts fails while the committed files differ from the build.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { CHART_DASHBOARD_FILE, DASHBOARD_FILE, renderDashboardJson } from './dashboard.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

it('writes the Grafana dashboard JSON', () => {
  const json = renderDashboardJson();
  for (const file of [DASHBOARD_FILE, CHART_DASHBOARD_FILE]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), json);
    console.log(`wrote ${file} (${json.length} bytes)`);
  }
  expect(json.length).toBeGreaterThan(0);
});
