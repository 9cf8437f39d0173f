/**
 * A background loop that runs `tick` every `intervalMs` of the injected clock until stopped: the pollers
 * (metrics.k8s.io, Prometheus) and the operator's housekeeping share it. Ticks never overlap — the next interval
 * starts after a tick finishes — and a tick that throws is reported through `onError`, not allowed to end the loop.
 */
import type { Clock } from './clock.js';

/** Options of an IntervalLoop. */
export interface IntervalLoopOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly tick: () => Promise<void> | void;
  /** Run a tick at once on start (pollers), or wait one interval first (housekeeping). Default true. */
  readonly tickOnStart?: boolean;
  readonly onError?: (error: unknown) => void;
}

/** Runs `tick` on an interval. start() is idempotent; stop() resolves once the loop has ended. */
export class IntervalLoop {
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: IntervalLoopOptions) {}

  /** Whether the loop is running. */
  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    const { clock, intervalMs, tick, onError } = this.options;
    let first = this.options.tickOnStart ?? true;
    this.loop = (async () => {
      while (!abort.signal.aborted) {
        if (!first) {
          await clock.sleep(intervalMs, abort.signal).catch(() => undefined);
          if (abort.signal.aborted) break;
        }
        first = false;
        try {
          await tick();
        } catch (e: unknown) {
          onError?.(e);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }
}
