import { describe, expect, it } from 'vitest';
import { renderReportHtml, scriptJson } from './html.js';
import { buildReport } from './report.js';
import { DEMO_TIMINGS } from './scenarios.js';

describe('the HTML report', () => {
  it('keeps embedded data from closing its script element', () => {
    expect(scriptJson({ a: '</script><script>alert(1)</script>' })).not.toMatch(/<\/script/i);
    expect(JSON.parse(scriptJson({ a: '</script>' }))).toEqual({ a: '</script>' });
  });

  it('is one page with uPlot inlined, the tables, a chart per scenario and the data to draw them', () => {
    const report = buildReport(
      { startedAt: 1_750_000_000_000, endedAt: 1_750_000_060_000, scenarios: [{ id: 'crash-loop', namespace: 'demo-crash-loop' }, { id: 'chaos-monkey', namespace: 'demo-chaos-monkey' }], pods: [], usage: [], replicas: [], actions: [], decisions: [], injections: [] },
      DEMO_TIMINGS,
    );
    const html = renderReportHtml(report, 'var uPlot = function () {}; /* </script> inside */', '.u-legend{}');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('var uPlot = function () {}; /* <\\/script> inside */');
    expect(html).toContain('<div class="chart" id="chart-crash-loop"></div>');
    expect(html).toContain('<div class="chart" id="chart-chaos-monkey"></div>');
    expect(html).toContain('<h2>The seed\'s claims beside this run</h2>');
    expect(html).toMatch(/<td>success rate of healing actions<\/td><td>95%\+<\/td>/);
    const data = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect((JSON.parse(data) as { charts: unknown[] }).charts).toHaveLength(2);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });
});
