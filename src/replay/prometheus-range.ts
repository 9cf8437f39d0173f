/**
 * Prometheus range queries (`/api/v1/query_range`) for replay: one query over a long time range, split into chunks
 * below Prometheus' limit of 11 000 points per series, the results merged per series. Two error types tell the
 * caller's exit code apart: the query was refused (bad PromQL, wrong result type) or Prometheus could not be
 * reached (network, timeout, 5xx).
 */
import { capText, MAX_ERROR_TEXT, MAX_PROMQL_RESPONSE, MAX_PROMQL_SERIES } from '../k8s/input-limits.js';
import type { Sample } from '../metrics/types.js';

/** Prometheus refused the query or answered something a trigger cannot use. */
export class RangeQueryError extends Error {
  readonly code = 'RangeQueryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RangeQueryError';
  }
}

/** Prometheus could not be reached, timed out or failed (5xx). */
export class PrometheusUnavailableError extends Error {
  readonly code = 'PrometheusUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusUnavailableError';
  }
}

/** One series of a range result: its labels and samples (ms, ascending). */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

/** The HTTP call, injectable for tests (global fetch by default). */
export type RangeFetch = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Points Prometheus returns per series at most (it refuses more); chunks stay below. */
export const MAX_POINTS_PER_QUERY = 10_000;

/** Options of a range query. */
export interface RangeQueryOptions {
  readonly baseUrl: string;
  readonly query: string;
  /** ms since the epoch, inclusive. */
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly timeoutMs: number;
  readonly fetch?: RangeFetch;
}

async function chunk(o: RangeQueryOptions, start: number, end: number): Promise<RangeSeries[]> {
  const fetchFn: RangeFetch = o.fetch ?? ((url, init) => fetch(url, init));
  const params = new URLSearchParams({ query: o.query, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: `${o.stepMs / 1000}s` });
  const url = `${o.baseUrl.replace(/\/+$/, '')}/api/v1/query_range?${params.toString()}`;
  let status: number;
  let body: string;
  try {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(o.timeoutMs) });
    status = res.status;
    body = await res.text();
  } catch (e: unknown) {
    const why = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs / 1000}s` : capText(e instanceof Error ? `${e.message}${causeCode(e)}` : String(e), MAX_ERROR_TEXT);
    throw new PrometheusUnavailableError(`Prometheus at ${o.baseUrl} unreachable: ${why}`, { cause: e });
  }
  if (status >= 500 && !body.includes('"status":"error"')) throw new PrometheusUnavailableError(`Prometheus at ${o.baseUrl} answered HTTP ${status}`);
  if (body.length > MAX_PROMQL_RESPONSE) throw new RangeQueryError(`Prometheus answered ${body.length} characters, more than the ${MAX_PROMQL_RESPONSE} read; narrow the query or the time range`);
  let parsed: { status?: string; error?: string; errorType?: string; data?: { resultType?: string; result?: unknown } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new RangeQueryError(`Prometheus answered HTTP ${status} with a body that is not JSON`);
  }
  if (parsed.status !== 'success') throw new RangeQueryError(capText(`PromQL error (${parsed.errorType ?? `HTTP ${status}`}): ${parsed.error ?? 'unknown error'}`, MAX_ERROR_TEXT));
  if (parsed.data?.resultType !== 'matrix' || !Array.isArray(parsed.data.result)) {
    throw new RangeQueryError(`query returned a ${parsed.data?.resultType ?? 'missing'} result; replay needs a range vector (matrix)`);
  }
  const result = parsed.data.result as { metric?: Record<string, string>; values?: [number, string][] }[];
  if (result.length > MAX_PROMQL_SERIES) throw new RangeQueryError(`query returned ${result.length} series, more than ${MAX_PROMQL_SERIES}; narrow it with label matchers`);
  return result.map((r) => ({
    labels: r.metric ?? {},
    samples: (r.values ?? []).map(([t, v]) => ({ at: Math.round(t * 1000), value: Number(v) })).filter((s) => Number.isFinite(s.value)),
  }));
}

/** What fetch's generic "fetch failed" hides: the cause's code (ECONNREFUSED) or, without one, its message. */
function causeCode(e: Error): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return ` (${cause.code})`;
  return typeof cause?.message === 'string' && cause.message !== '' ? ` (${cause.message})` : '';
}

/**
 * Runs `query` over [from, to] at `stepMs`, in chunks of at most MAX_POINTS_PER_QUERY points, and merges the
 * series by label set. `onChunk` reports progress (chunks done, chunks in all). Throws RangeQueryError or
 * PrometheusUnavailableError.
 */
export async function rangeQuery(o: RangeQueryOptions, onChunk?: (done: number, total: number) => void): Promise<RangeSeries[]> {
  const span = o.stepMs * MAX_POINTS_PER_QUERY;
  const starts: number[] = [];
  for (let s = o.from; s <= o.to; s += span) starts.push(s);
  const merged = new Map<string, { labels: Record<string, string>; samples: Sample[] }>();
  for (const [i, start] of starts.entries()) {
    // Chunks meet without overlap: the next one starts one step after this one ends.
    const end = Math.min(o.to, start + span - o.stepMs);
    for (const series of await chunk(o, start, end)) {
      const key = JSON.stringify(Object.entries(series.labels).sort(([a], [b]) => a.localeCompare(b)));
      const entry = merged.get(key) ?? { labels: { ...series.labels }, samples: [] };
      entry.samples.push(...series.samples);
      merged.set(key, entry);
    }
    onChunk?.(i + 1, starts.length);
  }
  return [...merged.values()].map((s) => ({ labels: s.labels, samples: s.samples.sort((a, b) => a.at - b.at) }));
}
