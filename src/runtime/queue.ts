/**
 * A keyed work queue with client-go's semantics (k8s.io/client-go/util/workqueue):
 * - a key is queued at most once: adding it again while it waits is a no-op (level-based: the reconcile reads the
 *   latest state anyway);
 * - a key being processed is never handed to a second worker: adds while it is processing are remembered and the
 *   key is queued again when the worker calls `done(key)`;
 * - `addAfter` delays an add through the injected Clock (the earliest pending time per key wins);
 * - `addRateLimited` delays by a per-key exponential back-off (base · 2^failures, capped) until `forget(key)`.
 */
import type { Clock } from './clock.js';

/** Options of a WorkQueue. */
export interface WorkQueueOptions {
  /** Time source for delayed adds. */
  readonly clock: Clock;
  /** First back-off delay of addRateLimited; default 5 ms. */
  readonly baseDelayMs?: number;
  /** Longest back-off delay; default 5 minutes. */
  readonly maxDelayMs?: number;
  /** Called with the number of keys waiting (not processing) whenever it changes; for a depth gauge. */
  readonly onDepthChange?: (depth: number) => void;
}

/** Default first back-off delay (client-go's ItemExponentialFailureRateLimiter uses 5 ms). */
export const DEFAULT_BASE_DELAY_MS = 5;
/** Default back-off cap. */
export const DEFAULT_MAX_DELAY_MS = 5 * 60_000;

interface Delayed {
  readonly at: number;
  readonly abort: AbortController;
}

/**
 * The work queue. Workers loop `key = await get(); try { … } finally { done(key) }` until `get()` resolves
 * undefined (after shutDown). Keys are opaque strings (usually `namespace/name`).
 */
export class WorkQueue<K extends string = string> {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onDepthChange: ((depth: number) => void) | undefined;

  private readonly queue: K[] = [];
  /** Keys that need processing: queued, or re-added while processing. */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, Delayed>();
  private idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private lastDepth = 0;

  constructor(options: WorkQueueOptions) {
    this.clock = options.clock;
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.onDepthChange = options.onDepthChange;
    if (!(this.baseDelayMs > 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new RangeError(`invalid back-off: base ${this.baseDelayMs} ms, max ${this.maxDelayMs} ms`);
    }
  }

  /** Queues `key` unless it is already queued; defers it if it is processing. Ignored after shutDown. */
  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.dispatch();
  }

  /**
   * Adds `key` after `delayMs` of clock time (immediately when ≤ 0). If the key already has a pending delayed add,
   * the earlier of the two times wins. Pending delayed adds are cancelled by shutDown.
   */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      existing.abort.abort();
    }
    const entry: Delayed = { at, abort: new AbortController() };
    this.delayed.set(key, entry);
    void this.clock.sleep(delayMs, entry.abort.signal).then(
      () => {
        if (this.delayed.get(key) === entry) this.delayed.delete(key);
        this.add(key);
      },
      () => undefined, // cancelled: replaced by an earlier add, or shut down
    );
  }

  /**
   * Adds `key` after its back-off delay and counts a failure: base · 2^(failures so far), capped at the max.
   * Returns the delay used.
   */
  addRateLimited(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the cap applies; Math.min handles that.
    const delay = Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets `key`'s back-off (call after a successful reconcile). Does not cancel a pending delayed add. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** How many times `key` has been rate-limited since its last forget. */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Resolves with the next key, marking it as processing (the caller must call `done(key)`), or with undefined once
   * the queue is shut down (and, when draining, empty).
   */
  get(): Promise<K | undefined> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` as no longer processing; if it was added meanwhile, queues it again. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.dispatch();
    }
    if (this.processing.size === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of idle) resolve();
    }
    if (this.shuttingDown && this.queue.length === 0) this.releaseWaiters();
  }

  /** Keys waiting to be handed out (not counting keys being processed or delayed). */
  len(): number {
    return this.queue.length;
  }

  /** Keys currently being processed. */
  processingKeys(): K[] {
    return [...this.processing];
  }

  /** Keys with a pending delayed add. */
  delayedKeys(): K[] {
    return [...this.delayed.keys()];
  }

  /** True once shutDown was called. */
  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys and cancels delayed adds. `drain` false (default): queued keys are dropped and every
   * `get()` resolves undefined at once. `drain` true: keys already queued are still handed out, and `get()`
   * resolves undefined once the queue is empty. Resolves when no key is processing any more (workers called `done`
   * for every key they got). Idempotent.
   */
  shutDown(drain = false): Promise<void> {
    this.shuttingDown = true;
    for (const entry of this.delayed.values()) entry.abort.abort();
    this.delayed.clear();
    if (!drain) {
      this.queue.length = 0;
      this.dirty.clear();
      this.reportDepth();
    }
    if (this.queue.length === 0) this.releaseWaiters();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private take(): K | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    this.reportDepth();
    return key;
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) {
      const waiter = this.waiters.shift();
      const key = this.take();
      if (waiter !== undefined && key !== undefined) waiter(key);
    }
    this.reportDepth();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters.splice(0);
    for (const resolve of waiters) resolve(undefined);
  }

  private reportDepth(): void {
    const depth = this.queue.length;
    if (depth !== this.lastDepth) {
      this.lastDepth = depth;
      this.onDepthChange?.(depth);
    }
  }
}
