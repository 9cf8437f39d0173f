/**
 * The KubeSkippy Grafana dashboard as code, with Grafana's typed builders (@grafana/grafana-foundation-sdk). Every
 * query reads a metric of src/observability/metrics.ts (hack/grafana/dashboard.test.ts checks that, and
 * test/integration/grafana-panels.test.ts runs every query against a real Prometheus scraping a real operator).
 *
 * `npm run grafana:build` writes the JSON to deploy/grafana/ and to the Helm chart (charts/kubeskippy/dashboards/);
 * a unit test fails when the committed files differ from what this module builds.
 *
 * Sections follow the design's dashboard (seed slides 10–11): AI analysis & healing, healing metrics, safety, one
 * row per policy ("continuous failures": each demo scenario is a policy), and the operator's own health. There is
 * no reasoning in Prometheus: the decision timeline with reasoning is the built-in web dashboard and
 * `kubeskippy explain`, linked from here, not imitated.
 */
import { ReduceDataOptionsBuilder, VizLegendOptionsBuilder, LegendDisplayMode, LegendPlacement, GraphDrawStyle, StackingMode, StackingConfigBuilder, BarGaugeDisplayMode, VizOrientation, BigValueGraphMode } from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  FieldColorBuilder,
  FieldColorModeId,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  TextBoxVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type GridPos,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as GaugePanel } from '@grafana/grafana-foundation-sdk/gauge';
import { PanelBuilder as PieChartPanel, PieChartLabels, PieChartType, PieChartLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/piechart';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TextPanel, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

/** The dashboard's uid: stable, so links and provisioning keep working across versions. */
export const DASHBOARD_UID = 'kubeskippy-overview';
/** Where `npm run grafana:build` writes the dashboard, relative to the repository root. */
export const DASHBOARD_FILE = 'deploy/grafana/kubeskippy-dashboard.json';
/** The Helm chart's copy (embedded in a ConfigMap with .Files.Get). */
export const CHART_DASHBOARD_FILE = 'charts/kubeskippy/dashboards/kubeskippy-dashboard.json';

const DS = { type: 'prometheus', uid: '${datasource}' };

/** Label matchers every healing query carries: the scrape job, the namespaces and policies chosen above. */
const SCOPE = 'job=~"$job", namespace=~"$namespace", policy=~"$policy"';
/** Label matchers of operator-wide metrics (no namespace or policy label). */
const JOB = 'job=~"$job"';

/** `name{matchers}`, the extra matchers after the scope ones. */
function sel(name: string, scope: string, extra = ''): string {
  return `${name}{${scope}${extra === '' ? '' : `, ${extra}`}}`;
}

/** The increase of a counter over `window`, summed by `by`. */
function increaseOver(window: '$__range' | '$__rate_interval', name: string, scope: string, by: string, extra = ''): string {
  return `sum${by === '' ? '' : ` by (${by})`} (increase(${sel(name, scope, extra)}[${window}]))`;
}

/** The increase over the dashboard's time range (stats, bar gauges, pie charts, tables). */
function increaseOverRange(name: string, scope: string, by: string, extra = ''): string {
  return increaseOver('$__range', name, scope, by, extra);
}

/** The increase per interval of a time series (bars: counts per interval). */
function increasePerInterval(name: string, scope: string, by: string, extra = ''): string {
  return increaseOver('$__rate_interval', name, scope, by, extra);
}

/** A ratio of successes: succeeded / (succeeded + failed) healings over the time range. */
function successRate(by: string, scope = SCOPE): string {
  return `${increaseOverRange('kubeskippy_healings_total', scope, by, 'result="succeeded"')}\n/\n${increaseOverRange('kubeskippy_healings_total', scope, by, 'result=~"succeeded|failed"')}`;
}

/** An instant query (stat, gauge, bar gauge, pie chart, table). */
function instant(expr: string, legend?: string, refId = 'A'): DataqueryBuilder {
  const q = new DataqueryBuilder().datasource(DS).expr(expr).instant().refId(refId);
  return legend === undefined ? q : q.legendFormat(legend);
}

/** A range query (time series). */
function range(expr: string, legend: string, refId = 'A'): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DS).expr(expr).range().legendFormat(legend).refId(refId);
}

/** A size on the grid; the dashboard builder places panels left to right, row after row. */
function size(w: number, h: number): GridPos {
  return { x: 0, y: 0, w, h };
}

function steps(...s: [number | null, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(s.map(([value, color]): Threshold => ({ value, color })));
}

const lastValue = (): ReduceDataOptionsBuilder => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
const byName = (): FieldColorBuilder => new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic);
const listLegend = (): VizLegendOptionsBuilder => new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true);
/** Thresholds of a rate where higher is better. */
const goodWhenHigh = (): ThresholdsConfigBuilder => steps([null, 'red'], [0.6, 'orange'], [0.8, 'green']);

/** Time series drawn as stacked bars: counts per interval. */
function bars(title: string, description: string, expr: string, legend: string, w = 12): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .gridPos(size(w, 8))
    .drawStyle(GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
    .legend(listLegend())
    .colorScheme(byName())
    .min(0)
    .decimals(0)
    .withTarget(range(expr, legend));
}

/** Time series drawn as lines. */
function lines(title: string, description: string, targets: readonly DataqueryBuilder[], unit: string, w = 12): TimeSeriesPanel {
  let p = new TimeSeriesPanel().title(title).description(description).datasource(DS).gridPos(size(w, 8)).unit(unit).legend(listLegend()).colorScheme(byName()).fillOpacity(10);
  for (const t of targets) p = p.withTarget(t);
  return p;
}

function stat(title: string, description: string, expr: string, opts: { unit?: string; w?: number; thresholds?: ThresholdsConfigBuilder; legend?: string; decimals?: number } = {}): StatPanel {
  let p = new StatPanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .gridPos(size(opts.w ?? 4, 5))
    .reduceOptions(lastValue())
    .graphMode(BigValueGraphMode.None)
    .unit(opts.unit ?? 'short')
    .withTarget(instant(expr, opts.legend));
  if (opts.decimals !== undefined) p = p.decimals(opts.decimals);
  if (opts.thresholds) p = p.thresholds(opts.thresholds).colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds));
  return p;
}

function barGauge(title: string, description: string, targets: readonly DataqueryBuilder[], opts: { unit: string; w?: number; min?: number; max?: number; thresholds?: ThresholdsConfigBuilder }): BarGaugePanel {
  let p = new BarGaugePanel()
    .title(title)
    .description(description)
    .datasource(DS)
    .gridPos(size(opts.w ?? 8, 8))
    .reduceOptions(lastValue())
    .orientation(VizOrientation.Horizontal)
    .displayMode(BarGaugeDisplayMode.Gradient)
    .unit(opts.unit)
    .thresholds(opts.thresholds ?? steps([null, 'blue']));
  if (opts.min !== undefined) p = p.min(opts.min);
  if (opts.max !== undefined) p = p.max(opts.max);
  for (const t of targets) p = p.withTarget(t);
  return p;
}

const TIMELINE_TEXT = [
  '**Why each action was taken is not a metric.** Every HealingAction records its decision in its own spec:',
  '`source` (rule or ai), `confidence`, `reasoning[]` and the `alternatives` considered, with the trigger that fired',
  'and what safety said. Prometheus holds counts only, so this dashboard does not pretend to show the reasoning.',
  '',
  'Read it where it lives:',
  '',
  '- the **built-in web dashboard** ([open it](${kubeskippy_url})): the live decision feed, each action with its',
  '  confidence, reasoning and alternatives;',
  '- `kubeskippy explain NAME -n NAMESPACE` (or `kubectl skippy explain`): one action, from trigger to verification;',
  '- `kubeskippy actions -w`, `kubectl describe healingaction NAME`, and the operator\'s JSON logs',
  '  (`"msg":"created HealingAction"` lines carry `confidence` and `reasoning`).',
  '',
  'The table beside this counts the decisions in the time range by policy, source, action type and phase.',
].join('\n');

/** Builds the dashboard. Pure: the same JSON every time. */
export function buildDashboard(): Dashboard {
  const d = new DashboardBuilder('KubeSkippy — AI healing overview')
    .uid(DASHBOARD_UID)
    .description('Self-healing operator: what was decided (rule or AI), how it ended, what was prevented, what safety refused. Every panel queries kubeskippy_* metrics; reasoning lives on the HealingActions (see the built-in dashboard).')
    .tags(['kubeskippy', 'kubernetes', 'self-healing'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('job')
        .label('Job')
        .description('The scrape job(s) of the operator’s /metrics (the Helm chart’s Service is <release>-kubeskippy-metrics).')
        .datasource(DS)
        .query('label_values(kubeskippy_leader, job)')
        .definition('label_values(kubeskippy_leader, job)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withVariable(
      new QueryVariableBuilder('namespace')
        .label('Namespace')
        .description('Namespaces of the HealingActions.')
        .datasource(DS)
        .query('label_values(kubeskippy_actions_total{job=~"$job"}, namespace)')
        .definition('label_values(kubeskippy_actions_total{job=~"$job"}, namespace)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withVariable(
      new QueryVariableBuilder('policy')
        .label('Policy')
        .description('HealingPolicies (and ClusterHealingPolicies) by name; the per-policy row repeats for each one chosen.')
        .datasource(DS)
        .query('label_values(kubeskippy_actions_total{job=~"$job", namespace=~"$namespace"}, policy)')
        .definition('label_values(kubeskippy_actions_total{job=~"$job", namespace=~"$namespace"}, policy)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: ['All'], value: ['$__all'] }),
    )
    .withVariable(
      new TextBoxVariableBuilder('kubeskippy_url')
        .label('Built-in dashboard URL')
        .description('Where the operator’s own web dashboard is reachable from your browser (e.g. after kubectl port-forward svc/kubeskippy-dashboard 8081).')
        .defaultValue('http://127.0.0.1:8081'),
    )
    .link(
      new DashboardLinkBuilder('KubeSkippy decisions and reasoning (built-in dashboard)')
        .type(DashboardLinkType.Link)
        .url('${kubeskippy_url}')
        .icon('external link')
        .tooltip('Each HealingAction with its confidence, reasoning and alternatives')
        .targetBlank(true),
    )

    // ---- AI analysis & healing -------------------------------------------------------------------------------
    .withRow(new RowBuilder('AI analysis & healing'))
    .withPanel(
      new GaugePanel()
        .title('AI confidence')
        .description('Confidence (0–1) of the AI-originated HealingActions created in the time range: the mean (sum / count of kubeskippy_ai_confidence) and the median (histogram quantile). All policies: the histogram has no policy label.')
        .datasource(DS)
        .gridPos(size(6, 8))
        .unit('percentunit')
        .min(0)
        .max(1)
        .decimals(0)
        .reduceOptions(lastValue())
        .thresholds(goodWhenHigh())
        .showThresholdMarkers(true)
        .withTarget(instant(`sum(increase(${sel('kubeskippy_ai_confidence_sum', JOB)}[$__range]))\n/\nsum(increase(${sel('kubeskippy_ai_confidence_count', JOB)}[$__range]))`, 'mean', 'A'))
        .withTarget(instant(`histogram_quantile(0.5, sum by (le) (increase(${sel('kubeskippy_ai_confidence_bucket', JOB)}[$__range])))`, 'median', 'B')),
    )
    .withPanel(
      barGauge(
        'AI vs rule-based: success rate',
        'Share of executed healings verified healthy, by who decided: ai (the analyzer, or the LLM it consulted) or rule (the policy’s escalation ladder). succeeded / (succeeded + failed) over the time range; blocked and cancelled actions executed nothing and are left out.',
        [instant(successRate('source'), '{{source}}')],
        { unit: 'percentunit', w: 6, min: 0, max: 1, thresholds: goodWhenHigh() },
      ),
    )
    .withPanel(
      new PieChartPanel()
        .title('Strategic action distribution')
        .description('HealingActions created in the time range, by action type (restart, scale, patch, delete, rollback).')
        .datasource(DS)
        .gridPos(size(6, 8))
        .pieType(PieChartType.Donut)
        .displayLabels([PieChartLabels.Name, PieChartLabels.Percent])
        .legend(new PieChartLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Right).showLegend(true))
        .reduceOptions(lastValue())
        .colorScheme(byName())
        .withTarget(instant(increaseOverRange('kubeskippy_actions_total', SCOPE, 'type', 'phase="Pending"'), '{{type}}')),
    )
    .withPanel(
      bars(
        'AI decisions',
        'What the analyzer recommended for the firings it decided (predictive triggers, and every firing of a policy with strategy ai): the action type chosen, or none.',
        increasePerInterval('kubeskippy_ai_recommendations_total', SCOPE, 'outcome'),
        '{{outcome}}',
        6,
      ),
    )
    .withPanel(new TextPanel().title('AI decision timeline with reasoning').gridPos(size(8, 9)).mode(TextMode.Markdown).content(TIMELINE_TEXT))
    .withPanel(
      new TablePanel()
        .title('Decisions in the time range')
        .description('HealingActions by namespace, policy, source, action type and the phases they reached (Pending = created). Counts, not reasoning: for that, the built-in dashboard or kubeskippy explain.')
        .datasource(DS)
        .gridPos(size(16, 9))
        .withTarget(instant(increaseOverRange('kubeskippy_actions_total', SCOPE, 'namespace, policy, source, type, phase'), undefined).format(PromQueryFormat.Table)),
    )

    // ---- Healing ---------------------------------------------------------------------------------------------
    .withRow(new RowBuilder('Healing'))
    .withPanel(stat('Total actions', 'HealingActions created in the time range (kubeskippy_actions_total, phase Pending), dry runs included.', increaseOverRange('kubeskippy_actions_total', SCOPE, '', 'phase="Pending"'), { decimals: 0 }))
    .withPanel(
      stat('Healings by result', 'Actions that ended in the time range, by result: succeeded, failed, blocked (by safety), cancelled. Dry runs are not healings and are not counted.', increaseOverRange('kubeskippy_healings_total', SCOPE, 'result'), {
        w: 8,
        legend: '{{result}}',
        decimals: 0,
      }),
    )
    .withPanel(stat('Success rate', 'Executed healings verified healthy: succeeded / (succeeded + failed).', successRate(''), { unit: 'percentunit', thresholds: goodWhenHigh() }))
    .withPanel(
      stat(
        'Prevention rate',
        'Failures prevented per executed predictive healing: predictive actions verified before the target showed any OOM kill, crash loop or restart (kubeskippy_prevented_failures_total), over predictive healings that succeeded or failed.',
        `${increaseOverRange('kubeskippy_prevented_failures_total', SCOPE, '')}\n/\n${increaseOverRange('kubeskippy_healings_total', SCOPE, '', 'kind="predictive", result=~"succeeded|failed"')}`,
        { unit: 'percentunit', thresholds: steps([null, 'blue']) },
      ),
    )
    .withPanel(stat('Prevented failures', 'Predictive actions verified healthy before the target showed any sign of the failure they forecast.', increaseOverRange('kubeskippy_prevented_failures_total', SCOPE, ''), { decimals: 0 }))
    .withPanel(
      bars(
        'Predictive vs reactive healings',
        'Healings that ended, by kind (predictive: a predictive trigger acted on a forecast; reactive: anything else) and result.',
        increasePerInterval('kubeskippy_healings_total', SCOPE, 'kind, result'),
        '{{kind}} {{result}}',
      ),
    )
    .withPanel(
      bars(
        'Actions by type and phase',
        'HealingActions reaching each phase, by action type (Pending = created; Blocked = refused by safety).',
        increasePerInterval('kubeskippy_actions_total', SCOPE, 'type, phase'),
        '{{type}} {{phase}}',
      ),
    )
    .withPanel(
      barGauge(
        'Time to heal by policy',
        'From the trigger firing (spec.trigger.firedAt) to the verified success of the action it caused: median and 90th percentile over the time range, by policy.',
        [
          instant(`histogram_quantile(0.5, sum by (le, policy) (increase(${sel('kubeskippy_time_to_heal_seconds_bucket', SCOPE)}[$__range])))`, '{{policy}} p50', 'A'),
          instant(`histogram_quantile(0.9, sum by (le, policy) (increase(${sel('kubeskippy_time_to_heal_seconds_bucket', SCOPE)}[$__range])))`, '{{policy}} p90', 'B'),
        ],
        { unit: 's', w: 12 },
      ),
    )
    .withPanel(
      bars(
        'Trigger firings',
        'Triggers that fired on a target, by policy, trigger and trigger type (metric, event, condition, predictive).',
        increasePerInterval('kubeskippy_trigger_firings_total', SCOPE, 'policy, trigger, type'),
        '{{policy}}/{{trigger}} ({{type}})',
      ),
    )

    // ---- Safety ----------------------------------------------------------------------------------------------
    .withRow(new RowBuilder('Safety'))
    .withPanel(
      barGauge('Safety denials by reason', 'Actions the safety gate refused in the time range (phase Blocked), by reason: RateLimited, Cooldown, Protected, BudgetExhausted, PDB, CircuitOpen, Paused …', [instant(increaseOverRange('kubeskippy_safety_denials_total', SCOPE, 'reason'), '{{reason}}')], {
        unit: 'short',
        thresholds: steps([null, 'orange']),
      }),
    )
    .withPanel(
      stat('Circuit breakers open', 'Open circuit breakers now (global and per policy): while open, the scope’s actions are Blocked CircuitOpen.', `sum(max by (scope) (${sel('kubeskippy_circuit_breaker_open', JOB)}))`, {
        thresholds: steps([null, 'green'], [1, 'red']),
        decimals: 0,
      }),
    )
    .withPanel(
      new StatPanel()
        .title('Paused')
        .description('Whether the operator is paused (its config, or `kubeskippy pause`): no action runs while paused.')
        .datasource(DS)
        .gridPos(size(4, 5))
        .reduceOptions(lastValue())
        .graphMode(BigValueGraphMode.None)
        .mappings([{ type: MappingType.ValueToText, options: { '0': { text: 'running', color: 'green' }, '1': { text: 'PAUSED', color: 'red' } } }])
        .withTarget(instant(`max(${sel('kubeskippy_paused', JOB)})`)),
    )
    .withPanel(
      new TimeSeriesPanel()
        .title('Circuit breakers by scope')
        .description('1 while the breaker of a scope (global, or "policy <key>") is open.')
        .datasource(DS)
        .gridPos(size(8, 8))
        .min(0)
        .max(1)
        .decimals(0)
        .legend(listLegend())
        .withTarget(range(`max by (scope) (${sel('kubeskippy_circuit_breaker_open', JOB)})`, '{{scope}}')),
    )

    // ---- One row per policy: the "continuous failures" scenarios --------------------------------------------
    .withRow(new RowBuilder('Policy $policy').repeat('policy'))
    .withPanel(bars('Actions: $policy', 'This policy’s HealingActions by type and phase.', increasePerInterval('kubeskippy_actions_total', SCOPE, 'type, phase'), '{{type}} {{phase}}', 8))
    .withPanel(bars('Trigger firings: $policy', 'This policy’s triggers that fired, by trigger.', increasePerInterval('kubeskippy_trigger_firings_total', SCOPE, 'trigger'), '{{trigger}}', 6))
    .withPanel(stat('Healings: $policy', 'This policy’s healings that ended in the time range, by kind and result.', increaseOverRange('kubeskippy_healings_total', SCOPE, 'kind, result'), { w: 6, legend: '{{kind}} {{result}}', decimals: 0 }))
    .withPanel(
      stat('Time to heal p90: $policy', 'This policy’s 90th percentile from firing to verified success over the time range.', `histogram_quantile(0.9, sum by (le) (increase(${sel('kubeskippy_time_to_heal_seconds_bucket', SCOPE)}[$__range])))`, { unit: 's' }),
    )

    // ---- The operator itself (collapsed) ---------------------------------------------------------------------
    .withRow(
      new RowBuilder('Operator')
        .collapsed(true)
        .withPanel(stat('Leading replicas', 'Replicas that act (hold the leader Lease, or run without leader election). 0 means nothing heals.', `sum(${sel('kubeskippy_leader', JOB)})`, { thresholds: steps([null, 'red'], [1, 'green']), decimals: 0 }))
        .withPanel(
          lines(
            'LLM requests',
            'Recommendations asked of the optional LLM, by provider and result: ok, or fallback-<code> when the built-in analyzer decided instead. Empty when no LLM is configured.',
            [range(`sum by (provider, result) (increase(${sel('kubeskippy_llm_requests_total', JOB)}[$__rate_interval]))`, '{{provider}} {{result}}')],
            'short',
            10,
          ),
        )
        .withPanel(
          lines(
            'Event loop delay (p99)',
            'How late the operator’s single thread ran a 20 ms timer: stalls of everything (informers, probes, reconciles).',
            [range(`histogram_quantile(0.99, sum by (le, instance) (rate(${sel('kubeskippy_event_loop_delay_seconds_bucket', JOB)}[$__rate_interval])))`, '{{instance}}')],
            's',
            10,
          ),
        )
        .withPanel(
          lines(
            'Reconcile duration (p99)',
            'Time of one reconcile call, by controller.',
            [range(`histogram_quantile(0.99, sum by (le, controller) (rate(${sel('kubeskippy_reconcile_duration_seconds_bucket', JOB)}[$__rate_interval])))`, '{{controller}}')],
            's',
            8,
          ),
        )
        .withPanel(lines('Work queue depth', 'Keys waiting in each controller’s work queue.', [range(`sum by (controller) (${sel('kubeskippy_workqueue_depth', JOB)})`, '{{controller}}')], 'short', 8))
        .withPanel(
          barGauge(
            'Detection latency and verification (p90)',
            'Over the time range: seconds from the first observation of a breach to the trigger firing, and from executing an action to its verification verdict (by action type and result).',
            [
              instant(`histogram_quantile(0.9, sum by (le) (increase(${sel('kubeskippy_detection_latency_seconds_bucket', JOB)}[$__range])))`, 'detection', 'A'),
              instant(`histogram_quantile(0.9, sum by (le, type, result) (increase(${sel('kubeskippy_verification_duration_seconds_bucket', JOB)}[$__range])))`, 'verify {{type}} {{result}}', 'B'),
            ],
            { unit: 's' },
          ),
        )
        .withPanel(lines('Kubernetes API requests', 'Requests the operator sent to the API server, by verb.', [range(`sum by (verb) (rate(${sel('kubeskippy_api_requests_total', JOB)}[$__rate_interval]))`, '{{verb}}')], 'reqps', 12))
        .withPanel(lines('Policies by mode', 'HealingPolicies and ClusterHealingPolicies by mode (monitor, dryrun, automatic, manual).', [range(`max by (mode) (${sel('kubeskippy_policies', JOB)})`, '{{mode}}')], 'short', 12)),
    );
  return numberPanels(d.build());
}

/** Gives every panel (rows and the panels of collapsed rows included) a unique id, in layout order. */
function numberPanels(dashboard: Dashboard): Dashboard {
  let id = 0;
  const walk = (panels: readonly { id?: number; panels?: unknown }[]): void => {
    for (const p of panels) {
      p.id = ++id;
      if (Array.isArray(p.panels)) walk(p.panels as { id?: number }[]);
    }
  };
  walk(dashboard.panels ?? []);
  return dashboard;
}

/** The dashboard as the committed file holds it: 2-space JSON and a final newline. */
export function renderDashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
