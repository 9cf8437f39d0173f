/**
 * Measures stalls of the operator's single thread: a timer asks to run every `intervalMs`; how late it actually
 * runs is the time something else held the event loop (a long computation, a synchronous parse). Every lateness is
 * observed into a histogram, so `/metrics` shows the distribution and its worst bucket.
 */

/** Options of startEventLoopMonitor. */
export interface EventLoopMonitorOptions {
  /** How often the probe timer runs; also the resolution of the measurement. Default 20 ms. */
  readonly intervalMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/**
 * Starts the probe (pass a prom-client Histogram); returns a function that stops it. The timer is unref'd: it never keeps the process alive.
 * Observes `max(0, actual - expected)` seconds per tick.
 */
export function startEventLoopMonitor(histogram: { observe(value: number): void }, options: EventLoopMonitorOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 20;
  const now = options.now ?? (() => performance.now());
  let expected = now() + intervalMs;
  const timer = setInterval(() => {
    const t = now();
    histogram.observe(Math.max(0, t - expected) / 1000);
    expected = t + intervalMs;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
