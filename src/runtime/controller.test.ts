import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Controller, FencedError, RESYNC_SLICES, TerminalError, type ReconcileFn, type ReconcileResult } from './controller.js';
import { createMetrics } from '../observability/metrics.js';

interface Deferred {
  resolve(value?: ReconcileResult): void;
  reject(e: unknown): void;
}

/** A reconcile whose calls stay open until the test settles them. */
function controllable(): { fn: ReconcileFn; calls: { key: string; signal: AbortSignal; d: Deferred }[] } {
  const calls: { key: string; signal: AbortSignal; d: Deferred }[] = [];
  const fn: ReconcileFn = (key, signal) =>
    new Promise<ReconcileResult | void>((resolve, reject) => {
      calls.push({ key, signal, d: { resolve: (v) => resolve(v), reject } });
    });
  return { fn, calls };
}

function make(fn: ReconcileFn, extra: Partial<ConstructorParameters<typeof Controller>[0]> = {}): { c: Controller; clock: FakeClock; metrics: ReturnType<typeof createMetrics> } {
  const clock = new FakeClock();
  const metrics = createMetrics();
  const c = new Controller({ name: 'test', reconcile: fn, clock, metrics, ...extra });
  return { c, clock, metrics };
}

/** The total of a counter across its label sets. */
async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.reduce((s, v) => s + v.value, 0) ?? 0;
}

describe('Controller', () => {
  it('starts no reconcile while its guard says this replica may not act (a fenced leader), and drops the key', async () => {
    const { fn, calls } = controllable();
    let leading = true;
    const { c, clock, metrics } = make(fn, { guard: () => leading });
    c.start();
    c.enqueue('ns/a');
    await flushMicrotasks();
    calls[0]?.d.resolve({ requeueAfterMs: 1000 });
    await flushMicrotasks();
    leading = false;
    c.enqueue('ns/b');
    await clock.advance(2000);
    // ns/a's requeue and ns/b both came up while fenced: neither ran, neither is retried, no error counted.
    expect(calls.map((x) => x.key)).toEqual(['ns/a']);
    expect(c.queueLength()).toBe(0);
    expect(await metricValue(metrics, 'kubeskippy_reconcile_errors_total')).toBe(0);
    leading = true;
    c.enqueue('ns/b');
    await flushMicrotasks();
    expect(calls.map((x) => x.key)).toEqual(['ns/a', 'ns/b']);
    calls[1]?.d.resolve();
    await c.stop();
  });

  it('drops a key whose reconcile throws FencedError, without a retry or an error', async () => {
    const { fn, calls } = controllable();
    const { c, clock, metrics } = make(fn);
    c.start();
    c.enqueue('ns/a');
    await flushMicrotasks();
    calls[0]?.d.reject(new FencedError('the leader lease was lost'));
    await clock.advance(60_000);
    expect(calls).toHaveLength(1);
    expect(await metricValue(metrics, 'kubeskippy_reconcile_errors_total')).toBe(0);
    await c.stop();
  });

  it('reconciles each enqueued key once and collapses duplicates that arrive while it waits', async () => {
    const { fn, calls } = controllable();
    const { c } = make(fn);
    c.start();
    c.enqueue('ns/busy');
    await flushMicrotasks();
    c.enqueue('ns/a');
    c.enqueue('ns/a');
    c.enqueue('ns/b');
    c.enqueue('ns/a');
    calls[0]?.d.resolve();
    await flushMicrotasks();
    calls[1]?.d.resolve();
    await flushMicrotasks();
    calls[2]?.d.resolve();
    await flushMicrotasks();
    expect(calls.map((x) => x.key)).toEqual(['ns/busy', 'ns/a', 'ns/b']);
    await c.stop();
  });

  it('runs at most `workers` reconciles at once, and never the same key twice at once', async () => {
    const { fn, calls } = controllable();
    const { c } = make(fn, { workers: 2 });
    c.start();
    for (const k of ['a', 'b', 'c']) c.enqueue(k);
    await flushMicrotasks();
    expect(calls.map((x) => x.key)).toEqual(['a', 'b']);
    c.enqueue('a'); // changes while 'a' is running
    await flushMicrotasks();
    expect(calls).toHaveLength(2);
    calls[0]?.d.resolve();
    await flushMicrotasks();
    expect(calls.map((x) => x.key)).toEqual(['a', 'b', 'c']); // the free worker takes c, a waits for its turn
    calls[1]?.d.resolve();
    await flushMicrotasks();
    expect(calls.map((x) => x.key)).toEqual(['a', 'b', 'c', 'a']);
    calls[2]?.d.resolve();
    calls[3]?.d.resolve();
    await c.stop();
  });

  it('requeues after requeueAfterMs on the clock', async () => {
    let n = 0;
    const { c, clock } = make(() => {
      n++;
      return Promise.resolve(n === 1 ? { requeueAfterMs: 60_000 } : undefined);
    });
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    expect(n).toBe(1);
    await clock.advance(59_999);
    expect(n).toBe(1);
    await clock.advance(1);
    expect(n).toBe(2);
    await clock.advance(600_000);
    expect(n).toBe(2);
    await c.stop();
  });

  it('retries a failing key with exponential back-off and resets it after a success', async () => {
    const times: number[] = [];
    let fail = 3;
    const { c, clock, metrics } = make(
      () => {
        times.push(clock.now());
        if (fail-- > 0) return Promise.reject(new Error('boom'));
        return Promise.resolve();
      },
      { backoff: { baseDelayMs: 100, maxDelayMs: 10_000 } },
    );
    const t0 = clock.now();
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    await clock.advance(100);
    await clock.advance(200);
    await clock.advance(400);
    expect(times.map((t) => t - t0)).toEqual([0, 100, 300, 700]);
    expect(await metricValue(metrics, 'kubeskippy_reconcile_errors_total')).toBe(3);
    // After the success the back-off is forgotten: the next failure waits the base delay again.
    fail = 1;
    c.enqueue('a');
    await flushMicrotasks();
    await clock.advance(100);
    expect(times.map((t) => t - t0)).toEqual([0, 100, 300, 700, 700, 800]);
    await c.stop();
  });

  it('does not retry a TerminalError', async () => {
    let n = 0;
    const { c, clock, metrics } = make(() => {
      n++;
      return Promise.reject(new TerminalError('bad spec'));
    });
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    await clock.advance(3_600_000);
    expect(n).toBe(1);
    expect(await metricValue(metrics, 'kubeskippy_reconcile_errors_total')).toBe(1);
    await c.stop();
  });

  it('treats requeueAfterMs 0 as "again soon" with back-off, not a hot loop', async () => {
    let n = 0;
    const { c, clock } = make(
      () => {
        n++;
        return Promise.resolve({ requeueAfterMs: 0 });
      },
      { backoff: { baseDelayMs: 1000, maxDelayMs: 60_000 } },
    );
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    expect(n).toBe(1);
    await clock.advance(1000);
    expect(n).toBe(2);
    await clock.advance(1000);
    expect(n).toBe(2); // second wait is 2000 ms
    await clock.advance(1000);
    expect(n).toBe(3);
    await c.stop();
  });

  it('enqueues every key at start, and each again once every resync interval, at its own point of it', async () => {
    const seen: string[] = [];
    const keys = Array.from({ length: 100 }, (_, i) => `ns-${i}/policy`);
    const { c, clock } = make(
      (key) => {
        seen.push(key);
        return Promise.resolve();
      },
      { listKeys: () => keys, resyncMs: 300_000, workers: 4 },
    );
    c.start();
    await flushMicrotasks();
    expect(seen.sort()).toEqual([...keys].sort());
    seen.length = 0;
    // Each 30-s slice of the period brings some keys back, none brings back most of them.
    const perSlice: number[] = [];
    for (let i = 0; i < RESYNC_SLICES; i++) {
      const before = seen.length;
      await clock.advance(300_000 / RESYNC_SLICES);
      perSlice.push(seen.length - before);
    }
    expect(Math.max(...perSlice)).toBeLessThanOrEqual(25);
    // Over the period every key came back exactly once.
    expect(seen.sort()).toEqual([...keys].sort());
    await c.stop();
  });

  it('survives a resync whose key listing throws', async () => {
    let calls = 0;
    const seen: string[] = [];
    const { c, clock } = make(
      (key) => {
        seen.push(key);
        return Promise.resolve();
      },
      {
        listKeys: () => {
          calls++;
          if (calls === 2) throw new Error('cache gone');
          return ['a'];
        },
        resyncMs: 1000,
      },
    );
    c.start();
    await flushMicrotasks();
    for (let i = 0; i < 2 * RESYNC_SLICES; i++) await clock.advance(1000 / RESYNC_SLICES);
    expect(calls).toBe(1 + 2 * RESYNC_SLICES);
    // Its slice came round twice; the one listing that threw was not its own, or the next period brought it back.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    await c.stop();
  });

  it('drains in-flight reconciles on stop without aborting them when they finish in time', async () => {
    const { fn, calls } = controllable();
    const { c, clock } = make(fn);
    c.start();
    c.enqueue('a');
    c.enqueue('b'); // queued, never started: dropped by stop
    await flushMicrotasks();
    let report: Awaited<ReturnType<Controller['stop']>> | undefined;
    void c.stop({ deadlineMs: 10_000 }).then((r) => (report = r));
    await clock.advance(5_000);
    expect(report).toBeUndefined();
    expect(calls[0]?.signal.aborted).toBe(false);
    calls[0]?.d.resolve();
    await flushMicrotasks();
    expect(report).toEqual({ aborted: [], abandoned: [] });
    expect(calls.map((x) => x.key)).toEqual(['a']);
    expect(c.isRunning()).toBe(false);
  });

  it('aborts the signal of reconciles still running at the deadline, then resolves', async () => {
    const { fn, calls } = controllable();
    const { c, clock } = make(fn);
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    const call = calls[0];
    call?.signal.addEventListener('abort', () => call.d.reject(call.signal.reason));
    let report: Awaited<ReturnType<Controller['stop']>> | undefined;
    void c.stop({ deadlineMs: 10_000 }).then((r) => (report = r));
    await clock.advance(10_000);
    expect(call?.signal.aborted).toBe(true);
    expect(report).toEqual({ aborted: ['a'], abandoned: [] });
  });

  it('gives up on reconciles that ignore their abort signal', async () => {
    const { fn } = controllable();
    const { c, clock } = make(fn);
    c.start();
    c.enqueue('a');
    await flushMicrotasks();
    let report: Awaited<ReturnType<Controller['stop']>> | undefined;
    void c.stop({ deadlineMs: 1000, abandonAfterMs: 1000 }).then((r) => (report = r));
    await clock.advance(1000);
    expect(report).toBeUndefined();
    await clock.advance(1000);
    expect(report).toEqual({ aborted: ['a'], abandoned: ['a'] });
  });

  it('ignores enqueues while stopped and can start again', async () => {
    const seen: string[] = [];
    const { c } = make((key) => {
      seen.push(key);
      return Promise.resolve();
    });
    c.enqueue('before');
    c.start();
    await c.stop();
    c.enqueue('between');
    c.start();
    c.enqueue('after');
    await flushMicrotasks();
    expect(seen).toEqual(['after']);
    await c.stop();
  });

  it('reports queue depth and reconcile durations', async () => {
    const { fn, calls } = controllable();
    const { c, metrics, clock } = make(fn);
    c.start();
    c.enqueue('a');
    c.enqueue('b');
    await flushMicrotasks();
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeskippy_workqueue_depth{controller="test"} 1');
    await clock.advance(250);
    calls[0]?.d.resolve();
    await flushMicrotasks();
    const after = await metrics.registry.metrics();
    expect(after).toContain('kubeskippy_reconcile_duration_seconds_sum{controller="test"} 0.25');
    calls[1]?.d.resolve();
    await c.stop();
  });
});
