import { describe, expect, it } from 'vitest';
import { MAX_POINTS_PER_QUERY, PrometheusUnavailableError, RangeQueryError, rangeQuery, type RangeFetch } from './prometheus-range.js';

/** A fake Prometheus: answers each query_range with one series whose value is the timestamp in seconds. */
function prometheus(calls: URLSearchParams[]): RangeFetch {
  return (url) => {
    const params = new URL(url).searchParams;
    calls.push(params);
    const start = Number(params.get('start'));
    const end = Number(params.get('end'));
    const step = Number((params.get('step') ?? '1s').replace('s', ''));
    const values: [number, string][] = [];
    for (let t = start; t <= end + 1e-9; t += step) values.push([t, String(t)]);
    const body = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { namespace: 'shop', pod: 'web-1' }, values }] } });
    return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(body) });
  };
}

const answer = (status: number, body: unknown): RangeFetch => () => Promise.resolve({ ok: status < 300, status, text: () => Promise.resolve(typeof body === 'string' ? body : JSON.stringify(body)) });

describe('rangeQuery', () => {
  it('splits a long range into chunks below Prometheus\' point limit and merges each series without gaps or overlaps', async () => {
    const calls: URLSearchParams[] = [];
    const from = 1_700_000_000_000;
    const to = from + (2 * MAX_POINTS_PER_QUERY + 10) * 1000;
    const chunks: string[] = [];
    const [series] = await rangeQuery({ baseUrl: 'http://prom:9090/', query: 'up', from, to, stepMs: 1000, timeoutMs: 1000, fetch: prometheus(calls) }, (d, t) => chunks.push(`${d}/${t}`));
    expect(calls).toHaveLength(3);
    expect(chunks).toEqual(['1/3', '2/3', '3/3']);
    expect(calls[0]?.get('query')).toBe('up');
    const at = series!.samples.map((s) => s.at);
    expect(at).toHaveLength(2 * MAX_POINTS_PER_QUERY + 11);
    expect(new Set(at).size).toBe(at.length);
    expect(at[0]).toBe(from);
    expect(at.at(-1)).toBe(to);
    expect(series!.labels).toEqual({ namespace: 'shop', pod: 'web-1' });
  });

  it('tells a refused query from an unreachable Prometheus', async () => {
    const base = { baseUrl: 'http://prom:9090', query: 'x', from: 0, to: 60_000, stepMs: 15_000, timeoutMs: 1000 };
    await expect(rangeQuery({ ...base, fetch: answer(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }) })).rejects.toThrow(RangeQueryError);
    await expect(rangeQuery({ ...base, fetch: answer(400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }) })).rejects.toThrow(/PromQL error \(bad_data\): parse error at char 5/);
    await expect(rangeQuery({ ...base, fetch: answer(200, { status: 'success', data: { resultType: 'vector', result: [] } }) })).rejects.toThrow(/needs a range vector/);
    await expect(rangeQuery({ ...base, fetch: answer(503, 'overloaded') })).rejects.toThrow(PrometheusUnavailableError);
    const refused: RangeFetch = () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));
    await expect(rangeQuery({ ...base, fetch: refused })).rejects.toThrow(/unreachable: fetch failed \(ECONNREFUSED\)/);
  });
});
