/**
 * How replay reads history: each built-in metric (and each condition a condition trigger asks about) as a PromQL
 * query over kube-state-metrics and cAdvisor series, which a typical Prometheus scrapes. The operator itself reads
 * these values from pod status and metrics.k8s.io; these queries are their nearest Prometheus equivalents, and the
 * mapping is configurable (`kubeskippy replay --metrics-map FILE`) for installations whose series are named or
 * labelled differently.
 *
 * Every query must return one series per target, labelled `namespace` plus `pod` (or `deployment`, `statefulset`,
 * `daemonset` for workload targets), exactly as PromQL triggers do in the operator. `{{namespaces}}` is replaced
 * by a regular expression of the namespaces the policy may act in. A condition query's value above 0 means the
 * condition holds (status True) at that time, 0 that it does not.
 *
 * `restart_rate` is `derived` by default: computed from the replayed restart_count exactly as the operator computes
 * it (restarts within the trailing 5 minutes), rather than from PromQL's extrapolating increase().
 */
import { parse } from 'yaml';
import { BUILTIN_METRICS, type BuiltinMetric } from '../api/v1alpha1/common.js';

/** A mapping value that means "compute from restart_count as the operator does" (restart_rate only). */
export const DERIVED = 'derived';

const NS = 'namespace=~"{{namespaces}}"';
const CONTAINERS = `${NS}, container!="", container!="POD"`;

/** The default queries of the built-in metrics. */
export const DEFAULT_METRIC_QUERIES: Readonly<Record<BuiltinMetric, string>> = {
  restart_count: `sum by (namespace, pod) (kube_pod_container_status_restarts_total{${NS}})`,
  restart_rate: DERIVED,
  cpu_usage_millicores: `1000 * sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[5m]))`,
  cpu_usage_percent: `100 * sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[5m])) / sum by (namespace, pod) (kube_pod_container_resource_limits{${NS}, resource="cpu"})`,
  memory_usage_bytes: `sum by (namespace, pod) (container_memory_working_set_bytes{${CONTAINERS}})`,
  memory_usage_percent: `100 * sum by (namespace, pod) (container_memory_working_set_bytes{${CONTAINERS}}) / sum by (namespace, pod) (kube_pod_container_resource_limits{${NS}, resource="memory"})`,
  ready: `min by (namespace, pod) (kube_pod_status_ready{${NS}, condition="true"})`,
  unavailable_replicas: `sum by (namespace, deployment) (kube_deployment_status_replicas_unavailable{${NS}})`,
};

/** The default queries of conditions (object conditions and the container-state pseudo-conditions). */
export const DEFAULT_CONDITION_QUERIES: Readonly<Record<string, string>> = {
  Ready: `min by (namespace, pod) (kube_pod_status_ready{${NS}, condition="true"})`,
  CrashLoopBackOff: `max by (namespace, pod) (kube_pod_container_status_waiting_reason{${NS}, reason="CrashLoopBackOff"})`,
  ImagePullBackOff: `max by (namespace, pod) (kube_pod_container_status_waiting_reason{${NS}, reason="ImagePullBackOff"})`,
  ErrImagePull: `max by (namespace, pod) (kube_pod_container_status_waiting_reason{${NS}, reason="ErrImagePull"})`,
  CreateContainerConfigError: `max by (namespace, pod) (kube_pod_container_status_waiting_reason{${NS}, reason="CreateContainerConfigError"})`,
  OOMKilled: `max by (namespace, pod) (kube_pod_container_status_last_terminated_reason{${NS}, reason="OOMKilled"})`,
  Available: `min by (namespace, deployment) (kube_deployment_status_condition{${NS}, condition="Available", status="true"})`,
  Progressing: `min by (namespace, deployment) (kube_deployment_status_condition{${NS}, condition="Progressing", status="true"})`,
};

/** The queries replay uses. */
export interface MetricMap {
  readonly metrics: Readonly<Record<string, string>>;
  readonly conditions: Readonly<Record<string, string>>;
}

/** The defaults. */
export const DEFAULT_METRIC_MAP: MetricMap = { metrics: DEFAULT_METRIC_QUERIES, conditions: DEFAULT_CONDITION_QUERIES };

/** A metrics map file that cannot be used; the message names the key. */
export class MetricMapError extends Error {
  readonly code = 'InvalidMetricMap';
  constructor(message: string) {
    super(message);
    this.name = 'MetricMapError';
  }
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MetricMapError(`${where} must be a mapping of names to PromQL queries`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.trim() === '') throw new MetricMapError(`${where}.${k} must be a PromQL query (a non-empty string)`);
    out[k] = v;
  }
  return out;
}

/**
 * Parses a metrics map file (YAML: `metrics:` and `conditions:`, each a mapping of names to queries) over the
 * defaults: keys given replace the default query, others keep it. Unknown built-in metric names are refused (a
 * typo must not silently keep the default); `derived` is allowed for restart_rate only. Throws MetricMapError.
 */
export function parseMetricMap(text: string, base: MetricMap = DEFAULT_METRIC_MAP): MetricMap {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e: unknown) {
    throw new MetricMapError(`not YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (doc === null || doc === undefined) return base;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new MetricMapError('must be a mapping with metrics: and/or conditions:');
  const { metrics, conditions, ...rest } = doc as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) throw new MetricMapError(`unknown key ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')}: use metrics: and conditions:`);
  const m = stringMap(metrics, 'metrics');
  for (const [k, v] of Object.entries(m)) {
    if (!(BUILTIN_METRICS as readonly string[]).includes(k)) throw new MetricMapError(`metrics.${k} is not a built-in metric (${BUILTIN_METRICS.join(', ')})`);
    if (v === DERIVED && k !== 'restart_rate') throw new MetricMapError(`metrics.${k}: only restart_rate can be derived`);
  }
  return { metrics: { ...base.metrics, ...m }, conditions: { ...base.conditions, ...stringMap(conditions, 'conditions') } };
}

/** Escapes a namespace name for a PromQL regular expression (names are DNS labels: only "." is special, and not allowed). */
function quoteRegex(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The query with `{{namespaces}}` replaced: the listed namespaces as a regex alternation, or ".+" for all. */
export function expandQuery(template: string, namespaces: readonly string[] | 'all'): string {
  const regex = namespaces === 'all' ? '.+' : namespaces.map(quoteRegex).join('|');
  return template.replaceAll('{{namespaces}}', regex);
}
