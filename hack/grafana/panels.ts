import { createMetrics } from '../../src/observability/metrics.js';

/**
 * Reading the queries back out of a dashboard's JSON: every panel's PromQL (rows and collapsed rows included), the
 * variables' label_values() queries, and the substitution of Grafana's variables, so tests can run exactly what
 * Grafana would send to Prometheus.
 */

/** One query of one panel. */
export interface PanelQuery {
  readonly panel: string;
  readonly type: string;
  readonly refId: string;
  readonly expr: string;
  /** Instant (stat, gauge, table …) or range (time series). */
  readonly instant: boolean;
}

interface JsonPanel {
  readonly type?: string;
  readonly title?: string;
  readonly panels?: readonly JsonPanel[];
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string; readonly instant?: boolean }[];
}

/** Every panel of the dashboard (depth first, rows included). */
export function allPanels(dashboard: { readonly panels?: readonly unknown[] }): JsonPanel[] {
  const out: JsonPanel[] = [];
  const walk = (panels: readonly JsonPanel[]): void => {
    for (const p of panels) {
      out.push(p);
      walk(p.panels ?? []);
    }
  };
  walk((dashboard.panels ?? []) as JsonPanel[]);
  return out;
}

/** Every PromQL query of every panel. */
export function panelQueries(dashboard: { readonly panels?: readonly unknown[] }): PanelQuery[] {
  return allPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? '', type: p.type ?? '', refId: t.refId ?? '', expr: t.expr ?? '', instant: t.instant === true })),
  );
}

/** A variable's `label_values(selector, label)` query. */
export interface LabelValuesQuery {
  readonly variable: string;
  readonly selector: string;
  readonly label: string;
}

/** The label_values() queries of the dashboard's query variables. */
export function variableQueries(dashboard: { readonly templating?: { readonly list?: readonly unknown[] } }): LabelValuesQuery[] {
  const out: LabelValuesQuery[] = [];
  for (const v of (dashboard.templating?.list ?? []) as { type?: string; name?: string; query?: unknown }[]) {
    if (v.type !== 'query' || typeof v.query !== 'string') continue;
    const m = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.query);
    if (!m) throw new Error(`variable ${v.name ?? ''}: not a label_values(selector, label) query: ${v.query}`);
    out.push({ variable: v.name ?? '', selector: m[1] ?? '', label: m[2] ?? '' });
  }
  return out;
}

/** Names of kubeskippy_* metrics (with histogram suffixes) a PromQL expression reads. */
export function metricsIn(expr: string): string[] {
  return [...new Set(expr.match(/\bkubeskippy_[a-z0-9_]+/g) ?? [])];
}

/**
 * Replaces Grafana's variables as Grafana would for a Prometheus query: `$name` and `${name}` by the given values
 * (several values become a regex alternation `(a|b)`, as Grafana formats a multi-value variable inside =~), and
 * `$__range`, `$__rate_interval`, `$__interval` by the given durations. Throws on a variable left unknown.
 */
export function substitute(expr: string, values: Readonly<Record<string, string | readonly string[]>>): string {
  const out = expr.replace(/\$\{?(__[a-z_]+|[a-zA-Z_][a-zA-Z0-9_]*)\}?/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for ${whole} in: ${expr}`);
    if (typeof v === 'string') return v;
    return v.length === 1 ? (v[0] ?? '') : `(${v.join('|')})`;
  });
  return out;
}

/** Every series name the operator's /metrics can serve: counters and gauges as named, histograms with their suffixes. */
export async function exportedSeries(): Promise<Set<string>> {
  const json = await createMetrics().registry.getMetricsAsJSON();
  return new Set(json.flatMap((m) => (String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => `${m.name}${s}`) : [m.name])));
}
