/**
 * The report as one self-contained HTML page, pure: the tables of format.ts and, per scenario, a uPlot chart of
 * what mattered (memory or CPU per workload, replicas, readiness) with every action and injected fault drawn as a
 * vertical line. uPlot's script and style are passed in (read from node_modules/uplot by the caller) and inlined,
 * so the page opens from disk with no server and no network.
 */
import { claimRowsText, scenarioRows, twinRows } from './format.js';
import { formatSeconds, type DemoReport } from './report.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CHART_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];
  var markColor = { rule: '#2563eb', ai: '#16a34a', 'dry-run': '#9ca3af', blocked: '#f59e0b', fault: '#dc2626' };
  data.charts.forEach(function (c) {
    var el = document.getElementById('chart-' + c.scenario);
    if (!el || c.xs.length < 2) return;
    var right = c.series.some(function (s) { return s.axis === 'right'; });
    var series = [{}].concat(c.series.map(function (s, i) {
      return { label: s.label, stroke: palette[i % palette.length], width: 1.5, scale: s.axis === 'right' ? 'r' : 'y', spanGaps: true };
    }));
    var axes = [{}, { label: c.unit }];
    if (right) axes.push({ side: 1, scale: 'r', label: 'replicas', grid: { show: false } });
    var opts = {
      width: Math.min(1100, el.clientWidth || 1100), height: 260, series: series, axes: axes,
      scales: { x: { time: true }, r: { range: [0, 5] } },
      hooks: { draw: [function (u) {
        var ctx = u.ctx; ctx.save(); ctx.lineWidth = 1;
        c.markers.forEach(function (m) {
          var x = u.valToPos(m.at, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
          ctx.strokeStyle = markColor[m.kind] || '#000'; ctx.setLineDash(m.kind === 'fault' ? [4, 3] : []);
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        });
        ctx.restore();
      }] }
    };
    new uPlot(opts, [c.xs].concat(c.series.map(function (s) { return s.values; })), el);
  });
})();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #111827; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; } h3 { font-size: 15px; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d1d5db; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
.muted { color: #6b7280; } .legend span { margin-right: 14px; }
.chart { margin: 4px 0 8px; }
details { margin: 4px 0 18px; } summary { cursor: pointer; color: #374151; }
`;

/** The report as an HTML page. `uplotJs` is uPlot.iife.min.js, `uplotCss` uPlot.min.css. */
export function renderReportHtml(report: DemoReport, uplotJs: string, uplotCss: string): string {
  const t = report.totals;
  const s = scenarioRows(report);
  const tw = twinRows(report);
  const cl = claimRowsText(report);
  const sections = report.scenarios
    .map((sc) => {
      const chart = report.charts.find((c) => c.scenario === sc.id);
      const markers = chart?.markers ?? [];
      const start = Date.parse(report.startedAt) / 1000;
      return `<h3>${esc(sc.title)} <span class="muted">(${esc(sc.namespace)})</span></h3>
<p>${esc(sc.story)}<br><span class="muted">Seed: ${esc(sc.seed)}</span></p>
<div class="chart" id="chart-${esc(sc.id)}"></div>
<ul>${sc.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<details><summary>${markers.length} actions and faults on the chart</summary><ul>${markers
        .map((m) => `<li>T+${Math.round(m.at - start)}s · ${esc(m.kind)} · ${esc(m.label)}</li>`)
        .join('')}</ul></details>`;
    })
    .join('\n');
  const data = { charts: report.charts };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>KubeSkippy demo report</title>
<style>${uplotCss}</style><style>${STYLE}</style></head>
<body>
<h1>KubeSkippy demo report</h1>
<p>${esc(report.startedAt)} · ${esc(formatSeconds(report.durationSeconds))} · ${t.acted} actions acted (${t.succeeded} verified, ${t.failed} failed) · ${t.blocked} blocked · ${t.dryRun} dry runs${
    report.firstHealingSeconds === undefined ? '' : ` · first verified healing ${esc(formatSeconds(report.firstHealingSeconds))} in`
  }. Every figure is measured from the run (pod status, metrics.k8s.io, HealingActions); definitions in docs/demo.md.</p>
<h2>The seed's claims beside this run</h2>
${table(cl.header, cl.rows)}
<h2>Scenarios</h2>
${table(s.header, s.rows)}
<h2>Rules vs AI on the same fault</h2>
${table(tw.header, tw.rows)}
<h2>What happened, scenario by scenario</h2>
<p class="legend"><span style="color:#2563eb">│ rule action</span><span style="color:#16a34a">│ AI action</span><span style="color:#f59e0b">│ blocked</span><span style="color:#9ca3af">│ dry run</span><span style="color:#dc2626">┆ injected fault</span></p>
${sections}
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}
