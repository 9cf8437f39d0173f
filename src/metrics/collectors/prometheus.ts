/**
 * PromQL triggers: runs each query policies use against the Prometheus HTTP API on an interval and records every
 * result series that names a target (labels namespace + pod, or namespace + deployment/statefulset/daemonset) as
 * a sample of that target, keyed by the query text.
 */
import type { Clock } from '../../runtime/clock.js';
import { IntervalLoop } from '../../runtime/interval-loop.js';
import type { Logger } from '../../observability/logger.js';
import type { SeriesStore } from '../series-store.js';
import type { TargetRef } from '../types.js';
import { capText, MAX_ERROR_TEXT, MAX_LABEL_VALUE, MAX_PROMQL_RESPONSE, MAX_PROMQL_SERIES } from '../../k8s/input-limits.js';

/** Label pairs that identify a target in a result series, in order of preference. */
const TARGET_LABELS: readonly { label: string; kind: string; apiVersion: string }[] = [
  { label: 'pod', kind: 'Pod', apiVersion: 'v1' },
  { label: 'deployment', kind: 'Deployment', apiVersion: 'apps/v1' },
  { label: 'statefulset', kind: 'StatefulSet', apiVersion: 'apps/v1' },
  { label: 'daemonset', kind: 'DaemonSet', apiVersion: 'apps/v1' },
];

/** A Prometheus instant-query result series. */
export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** Why a query failed (HTTP, Prometheus error, unreachable, bad response). */
export class PrometheusQueryError extends Error {
  readonly code = 'PrometheusQueryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusQueryError';
  }
}

/** The HTTP call, injectable for tests (global fetch by default). */
export type FetchFn = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Runs one instant query. Throws PrometheusQueryError with Prometheus' own error text when it refuses the query. */
export async function instantQuery(baseUrl: string, query: string, atMs: number, timeoutMs: number, fetchFn: FetchFn): Promise<PromSeries[]> {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}&time=${(atMs / 1000).toFixed(3)}`;
  let body: string;
  let status: number;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
    status = res.status;
    body = await res.text();
  } catch (e: unknown) {
    throw new PrometheusQueryError(`Prometheus at ${baseUrl} unreachable: ${capText(e instanceof Error ? e.message : String(e), MAX_ERROR_TEXT)}`, { cause: e });
  }
  if (body.length > MAX_PROMQL_RESPONSE) {
    throw new PrometheusQueryError(`Prometheus answered ${body.length} characters, more than the ${MAX_PROMQL_RESPONSE} read; narrow the query`);
  }
  let parsed: { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new PrometheusQueryError(`Prometheus answered HTTP ${status} with a body that is not JSON`);
  }
  // `null`, a number, a list: JSON, but not an API response (found by the fault suite: "null" threw a TypeError).
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PrometheusQueryError(`Prometheus answered HTTP ${status} with JSON that is not an API response object`);
  }
  if (parsed.status !== 'success') {
    throw new PrometheusQueryError(capText(`PromQL error (${parsed.errorType ?? `HTTP ${status}`}): ${parsed.error ?? 'unknown error'}`, MAX_ERROR_TEXT));
  }
  if (parsed.data?.resultType !== 'vector' || !Array.isArray(parsed.data.result)) {
    throw new PrometheusQueryError(`query returned a ${parsed.data?.resultType ?? 'missing'} result; a trigger needs an instant vector`);
  }
  const result: unknown[] = parsed.data.result;
  if (result.length > MAX_PROMQL_SERIES) {
    throw new PrometheusQueryError(`query returned ${result.length} series, more than the ${MAX_PROMQL_SERIES} a trigger may use; narrow it with label matchers`);
  }
  const bad = result.findIndex((s) => !isPromSeries(s));
  if (bad >= 0) throw new PrometheusQueryError(`Prometheus answered a malformed series at index ${bad} (an instant-vector series is {"metric": {labels}, "value": [time, "value"]})`);
  return result as PromSeries[];
}

/** True for {metric: {string: string}, value: [finite number, string]} — the shape an instant vector's series has. */
function isPromSeries(s: unknown): s is PromSeries {
  if (s === null || typeof s !== 'object') return false;
  const { metric, value } = s as { metric?: unknown; value?: unknown };
  if (metric === null || typeof metric !== 'object' || Array.isArray(metric)) return false;
  if (!Object.values(metric).every((v) => typeof v === 'string')) return false;
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && Number.isFinite(value[0]) && typeof value[1] === 'string';
}

/** The target a result series names, if any. */
export function seriesTarget(metric: Readonly<Record<string, string>>): TargetRef | undefined {
  const namespace = metric['namespace'];
  // Label values longer than any Kubernetes name cannot name a target: skipped, not cut (a cut name is another).
  if (!namespace || namespace.length > MAX_LABEL_VALUE) return undefined;
  for (const t of TARGET_LABELS) {
    const name = metric[t.label];
    if (name !== undefined && name.length > MAX_LABEL_VALUE) return undefined;
    if (name) return { apiVersion: t.apiVersion, kind: t.kind, namespace, name };
  }
  return undefined;
}

/** Dependencies of the Prometheus collector. */
export interface PrometheusCollectorDeps {
  readonly store: SeriesStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly url: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** The queries policies currently use. */
  readonly queries: () => ReadonlySet<string>;
  /** The targets of the policies using a query: they get the "unavailable" reason when it fails. */
  readonly targetsFor: (query: string) => readonly TargetRef[];
  readonly onPoll: (targets: readonly TargetRef[]) => void;
  readonly fetch?: FetchFn;
  readonly onError?: (query: string, error: PrometheusQueryError) => void;
}

/** Polls Prometheus for every query in use. */
export class PrometheusCollector {
  private readonly deps: PrometheusCollectorDeps;
  private loop: IntervalLoop | undefined;
  private readonly errors = new Map<string, string>();

  constructor(deps: PrometheusCollectorDeps) {
    this.deps = deps;
  }

  /** The last error of each failing query. */
  queryErrors(): ReadonlyMap<string, string> {
    return this.errors;
  }

  /** Starts polling in the background (a poll at once, then every intervalMs). */
  start(): void {
    this.loop ??= new IntervalLoop({ clock: this.deps.clock, intervalMs: this.deps.intervalMs, tick: () => this.pollOnce() });
    this.loop.start();
  }

  /** Stops polling; resolves when the loop has ended. */
  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** Runs every query once and records the results. Never throws. */
  async pollOnce(): Promise<void> {
    const fetchFn: FetchFn = this.deps.fetch ?? ((url, init) => fetch(url, init));
    const touched: TargetRef[] = [];
    for (const query of this.deps.queries()) {
      const now = this.deps.clock.now();
      try {
        const series = await instantQuery(this.deps.url, query, now, this.deps.timeoutMs, fetchFn);
        this.errors.delete(query);
        for (const s of series) {
          const target = seriesTarget(s.metric);
          const value = Number(s.value[1]);
          if (!target || Number.isNaN(value)) continue;
          // Prometheus stamps with its own clock; a sample from its future would be ignored until ours caught up.
          this.deps.store.recordSample(target, query, { at: Math.min(s.value[0] * 1000, now), value }, now);
          touched.push(target);
        }
      } catch (e: unknown) {
        const err = e instanceof PrometheusQueryError ? e : new PrometheusQueryError(String(e));
        this.errors.set(query, err.message);
        this.deps.onError?.(query, err);
        for (const t of this.deps.targetsFor(query)) {
          this.deps.store.recordUnavailable(t, query, err.message, now);
          touched.push(t);
        }
      }
    }
    if (touched.length > 0) this.deps.onPoll(touched);
  }
}
