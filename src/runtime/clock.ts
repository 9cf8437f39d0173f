/**
 * Time, injected. Production code reads the time only through a Clock and waits only through it, so tests can
 * step a FakeClock instead of sleeping. Times are milliseconds since the Unix epoch.
 */

/** A source of time and of timers. */
export interface Clock {
  /** The current time in ms since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time. Rejects with the signal's reason if `signal` aborts
   * first (and then never resolves).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface PendingSleep {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` moves time forward and resolves, in time order, every
 * sleep that falls due, letting pending promise callbacks run between them.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: PendingSleep[] = [];

  constructor(start: number | string = '2026-01-01T00:00:00Z') {
    this.current = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const entry: PendingSleep = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve };
      this.pending.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          this.pending = this.pending.filter((p) => p !== entry);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  /** Number of sleeps waiting on this clock. */
  get pendingSleeps(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, waking due sleepers in order; resolves once their continuations have run. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.pending
        .filter((p) => p.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.current = Math.max(this.current, due.at);
      due.resolve();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /**
   * Moves time forward by `ms` WITHOUT waking any sleeper — what a process frozen by SIGSTOP (or a stalled VM) finds
   * when it wakes: every timer overdue, nothing having run in between. The next advance() wakes them.
   */
  jump(ms: number): void {
    this.current += Math.max(0, ms);
  }

  /** Sets the time (never backwards). */
  async set(time: number | string): Promise<void> {
    const t = typeof time === 'number' ? time : Date.parse(time);
    await this.advance(Math.max(0, t - this.current));
  }
}

/** Lets every queued promise continuation run (a few macrotask turns, enough for chained awaits). */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
