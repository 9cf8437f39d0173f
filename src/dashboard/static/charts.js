// Charts of the dashboard, drawn with uPlot (served from the npm package, /vendor/uPlot.esm.js): per target and
// metric, the samples the operator's series store holds, a dashed line per trigger threshold watching that metric,
// the analyzer's forecast when it has one, and a vertical marker at each HealingAction created for the target.
import uPlot from '/vendor/uPlot.esm.js';
import { formatClock, formatMetric, formatTarget, phaseStyle } from './format.js';

const COLORS = {
  series: '#58a6ff',
  threshold: '#f85149',
  forecast: '#d2a8ff',
  axis: '#9aa5b1',
  grid: '#2a323c',
  tone: { good: '#3fb950', bad: '#f85149', warn: '#d29922', active: '#58a6ff', attention: '#d2a8ff', muted: '#6e7681', neutral: '#8b949e' },
};

/** uPlot instances by chart key, reused while a chart keeps its shape (same number of lines). */
const plots = new Map();

/** Draws a vertical line per action marker, coloured by phase, with the phase's symbol on top. */
function markersPlugin(getMarkers) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx, bbox } = u;
          ctx.save();
          for (const m of getMarkers()) {
            const x = Math.round(u.valToPos(m.at / 1000, 'x', true));
            if (x < bbox.left || x > bbox.left + bbox.width) continue;
            const style = phaseStyle(m.phase);
            ctx.strokeStyle = COLORS.tone[style.tone] ?? COLORS.tone.neutral;
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([]);
            ctx.beginPath();
            ctx.moveTo(x, bbox.top);
            ctx.lineTo(x, bbox.top + bbox.height);
            ctx.stroke();
            ctx.fillStyle = ctx.strokeStyle;
            ctx.font = `${12 * devicePixelRatio}px sans-serif`;
            ctx.textAlign = 'center';
            ctx.fillText(style.symbol, x, bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * uPlot wants one x array shared by every line. x = the sample times and forecast times (seconds); the metric is
 * null where only the forecast has a point and vice versa (spanGaps joins each line over the other's points).
 */
function toData(chart) {
  const xs = [...new Set([...chart.points.map((p) => p[0]), ...(chart.forecast?.points ?? []).map((p) => p[0])])].sort((a, b) => a - b);
  const at = (points) => {
    const m = new Map(points.map((p) => [p[0], p[1]]));
    return xs.map((x) => (m.has(x) ? m.get(x) : null));
  };
  const data = [xs.map((x) => x / 1000), at(chart.points)];
  for (const t of chart.thresholds) data.push(xs.map(() => t.value));
  if (chart.forecast) data.push(at(chart.forecast.points));
  return data;
}

function shapeOf(chart) {
  return `${chart.thresholds.length}|${chart.forecast ? 1 : 0}`;
}

function options(chart, width, markers) {
  const fmt = (v) => (v === null || v === undefined ? '—' : formatMetric(chart.metric, v));
  const series = [
    { value: (u, v) => (v === null ? '—' : formatClock(v * 1000)) },
    { label: chart.metric, stroke: COLORS.series, width: 2, spanGaps: true, points: { show: true, size: 5, fill: COLORS.series }, value: (u, v) => fmt(v) },
    // A predictive trigger's threshold is what the forecast is compared with: drawn in the forecast's colour.
    ...chart.thresholds.map((t) => ({ label: `threshold ${t.operator} ${formatMetric(chart.metric, t.value)} (${t.label})`, stroke: t.operator.startsWith('forecast') ? COLORS.forecast : COLORS.threshold, width: 1.5, dash: [8, 5], points: { show: false }, value: () => `${t.operator} ${fmt(t.value)}` })),
  ];
  if (chart.forecast) series.push({ label: `forecast: ${chart.forecast.label}`, stroke: COLORS.forecast, width: 2, dash: [3, 4], spanGaps: true, points: { show: false }, value: (u, v) => fmt(v) });
  const axis = { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid, width: 1 } };
  // 24-hour clock times; seconds only when the ticks are closer than a minute.
  const xValues = (u, ticks) => ticks.map((t, i) => {
    const text = formatClock(t * 1000);
    const step = i > 0 ? t - ticks[i - 1] : (ticks[1] ?? t + 60) - t;
    return step < 60 ? text : text.slice(0, 5);
  });
  return {
    width,
    height: 170,
    series,
    scales: {
      x: { time: true },
      // Start at 0 for counters and percentages; include every threshold so a line is never off the chart.
      y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.12)] },
    },
    // Ticks at whole seconds or coarser: the store's samples are seconds apart, and sub-second labels would repeat.
    axes: [{ ...axis, values: xValues, space: 70, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400] }, { ...axis, size: 56, values: (u, ticks) => ticks.map((v) => formatMetric(chart.metric, v)) }],
    legend: { show: true, live: false },
    cursor: { drag: { x: false, y: false } },
    plugins: [markersPlugin(markers)],
  };
}

function describe(chart) {
  const last = chart.points.at(-1);
  const parts = [`${chart.metric} of ${formatTarget(chart.target)}`];
  parts.push(last ? `latest ${formatMetric(chart.metric, last[1])} at ${formatClock(last[0])}` : 'no samples held');
  for (const t of chart.thresholds) parts.push(`threshold ${t.operator} ${formatMetric(chart.metric, t.value)} (${t.label})`);
  if (chart.markers.length > 0) parts.push(`${chart.markers.length} action${chart.markers.length === 1 ? '' : 's'}: ${chart.markers.map((m) => `${m.phase} at ${formatClock(m.at)}`).join(', ')}`);
  if (chart.forecast) parts.push(`forecast: ${chart.forecast.label}`);
  return parts.join('; ');
}

function card(chart) {
  const last = chart.points.at(-1);
  const fig = document.createElement('figure');
  fig.className = 'chart';
  fig.dataset.key = chart.key;
  const cap = document.createElement('figcaption');
  const title = document.createElement('strong');
  title.textContent = formatTarget(chart.target);
  const metric = document.createElement('span');
  metric.className = 'metric';
  metric.textContent = ` ${chart.metric}`;
  const latest = document.createElement('span');
  latest.className = 'latest';
  latest.textContent = last ? formatMetric(chart.metric, last[1]) : 'no samples';
  const why = document.createElement('span');
  why.className = 'small muted why';
  why.textContent = chart.why.map((w) => (w === 'actions' ? 'has actions' : w === 'firing' ? 'trigger firing' : 'trigger pending')).join(' · ');
  cap.append(title, metric, latest, why);
  const plot = document.createElement('div');
  plot.className = 'plot';
  plot.setAttribute('role', 'img');
  const marks = document.createElement('p');
  marks.className = 'small muted marks';
  if (chart.markers.length > 0) {
    marks.textContent = `vertical lines: HealingActions — ${chart.markers.map((m) => `${phaseStyle(m.phase).symbol} ${m.phase} ${formatClock(m.at)}`).join(', ')}`;
  }
  const text = document.createElement('p');
  text.className = 'visually-hidden';
  fig.append(cap, plot, marks, text);
  return fig;
}

/**
 * Renders `charts` into `container`, reusing figures and uPlot instances by key; removes charts no longer sent.
 * Charts without samples (a deleted pod, a metric not collected yet) are listed on one line instead of drawn empty.
 * `opts.empty` is shown when there is nothing to draw.
 */
export function renderCharts(container, charts, opts) {
  const drawable = charts.filter((c) => c.points.length > 0 || c.forecast);
  const bare = charts.filter((c) => !(c.points.length > 0 || c.forecast));
  const keep = new Set(drawable.map((c) => c.key));
  for (const [key, entry] of plots) {
    if (keep.has(key)) continue;
    entry.plot?.destroy();
    entry.fig.remove();
    plots.delete(key);
  }
  const ordered = [];
  for (const chart of drawable) {
    let entry = plots.get(chart.key);
    if (!entry) {
      entry = { fig: card(chart), plot: undefined, shape: '', chart };
      plots.set(chart.key, entry);
    }
    entry.chart = chart;
    const fresh = card(chart);
    entry.fig.querySelector('figcaption').replaceWith(fresh.querySelector('figcaption'));
    entry.fig.querySelector('.marks').replaceWith(fresh.querySelector('.marks'));
    const holder = entry.fig.querySelector('.plot');
    holder.setAttribute('aria-label', describe(chart));
    entry.fig.querySelector('.visually-hidden').textContent = describe(chart);
    ordered.push(entry.fig);
    const data = toData(chart);
    if (entry.plot && entry.shape === shapeOf(chart)) {
      entry.plot.setData(data);
    } else {
      entry.plot?.destroy();
      holder.replaceChildren();
      const width = Math.max(240, (container.clientWidth || 600) - 24);
      const e = entry;
      entry.plot = new uPlot(options(chart, width, () => e.chart.markers), data, holder);
      entry.shape = shapeOf(chart);
    }
  }
  if (bare.length > 0) {
    const p = document.createElement('p');
    p.className = 'no-samples';
    p.append('No samples held (target gone, or not observed yet): ');
    bare.forEach((c, i) => {
      const s = document.createElement('span');
      s.textContent = `${formatTarget(c.target)} ${c.metric}`;
      p.append(...(i > 0 ? [', ', s] : [s]));
    });
    ordered.push(p);
  }
  container.replaceChildren(...ordered);
  opts.empty.hidden = charts.length > 0;
}

// Charts follow the width of their column.
const resize = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const width = Math.max(240, entry.contentRect.width - 24);
    for (const { plot } of plots.values()) plot?.setSize({ width, height: 170 });
  }
});
const root = document.getElementById('charts');
if (root) resize.observe(root);
