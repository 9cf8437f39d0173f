/**
 * A controller loop: N workers take keys from a WorkQueue and call `reconcile(key, signal)`. The return value
 * decides what happens next (controller-runtime's contract):
 * - resolves void / {}            → done; the key's back-off is reset;
 * - resolves {requeueAfterMs: n}  → done, and the key comes back after n ms (0 = again soon, with back-off);
 * - throws TerminalError          → logged and counted, not retried (retrying cannot help);
 * - throws FencedError            → this replica may no longer act: dropped, not retried, not an error;
 * - throws anything else          → logged and counted, retried with per-key exponential back-off.
 * A periodic resync re-enqueues every key once per `resyncMs` (catches drift and missed events), each key at its own
 * point of the period. Stopping drains in-flight reconciles with a deadline, then aborts their signals.
 */
import type { Clock } from './clock.js';
import { hash32 } from './hash.js';
import { WorkQueue } from './queue.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';

/** A resync period is cut in this many slices; each key is enqueued in one of them (a hash of the key). */
export const RESYNC_SLICES = 10;

/** What a reconcile asks for. Omitted / undefined requeueAfterMs means "done until something changes". */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/**
 * Reconciles one key. Must be idempotent (the same key may be reconciled again at any time) and should honour
 * `signal` (aborted when the controller stops and the drain deadline has passed).
 */
export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

/** Thrown by a reconcile for a failure that retrying cannot fix (bad spec, missing CRD…): no requeue. */
export class TerminalError extends Error {
  readonly code = 'Terminal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * Thrown by a reconcile (or anything it calls) that finds this replica may no longer act — the fence of leader
 * election said no right before a write. Not a failure: the key is dropped without a retry (the manager is about to
 * stop the controllers, and the next leader lists every key again), logged at info.
 */
export class FencedError extends Error {
  readonly code = 'Fenced';
  constructor(message: string) {
    super(message);
    this.name = 'FencedError';
  }
}

/** The metric handles a controller updates. */
export type ControllerMetrics = Pick<OperatorMetrics, 'reconcileDurationSeconds' | 'reconcileErrorsTotal' | 'workqueueDepth'>;

/** Options of a Controller. */
export interface ControllerOptions {
  /** Controller name: log component and metric label. */
  readonly name: string;
  readonly reconcile: ReconcileFn;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly metrics?: ControllerMetrics;
  /** Concurrent reconciles (distinct keys); default 1. */
  readonly workers?: number;
  /** Back-off of failed keys; defaults 5 ms … 5 min. */
  readonly backoff?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /**
   * Every key the controller should reconcile; enqueued at start, and each key again once every `resyncMs` (when
   * > 0), at its own point of the period (RESYNC_SLICES). Errors are logged and the resync tried again at the next
   * slice.
   */
  readonly listKeys?: () => Iterable<string> | Promise<Iterable<string>>;
  readonly resyncMs?: number;
  /**
   * Fencing: asked before every reconcile starts; false drops the key unreconciled. With leader election this is
   * `elector.isLeader()`, which turns false by the clock once the last renewal is older than the renew deadline —
   * so a leader that was frozen (SIGSTOP, a stalled VM) and wakes after another replica took the Lease starts no new
   * work, even before its election loop has noticed. Default: always true.
   */
  readonly guard?: () => boolean;
}

/** Options of Controller.stop. */
export interface ControllerStopOptions {
  /** How long in-flight reconciles may run before their signal is aborted; default 30 s. */
  readonly deadlineMs?: number;
  /** How long to wait after aborting before giving up on reconciles that ignore their signal; default 5 s. */
  readonly abandonAfterMs?: number;
}

/** What stop found: keys whose reconcile had to be aborted, and keys still running when stop gave up. */
export interface ControllerStopReport {
  readonly aborted: readonly string[];
  readonly abandoned: readonly string[];
}

/**
 * Runs reconciles with bounded concurrency and per-key serialisation (from the queue). `start()` may be called
 * again after `stop()` resolved (e.g. when leadership is regained); each run uses a fresh queue.
 */
export class Controller {
  readonly name: string;
  private readonly reconcileFn: ReconcileFn;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: ControllerMetrics | undefined;
  private readonly workers: number;
  private readonly backoff: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  private readonly listKeys: ControllerOptions['listKeys'];
  private readonly resyncMs: number;
  private readonly guard: () => boolean;
  private fenced = false;

  private queue: WorkQueue | undefined;
  private workerLoops: Promise<void>[] = [];
  private resyncAbort: AbortController | undefined;
  private readonly inFlight = new Map<string, AbortController>();
  private stopping = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconcileFn = options.reconcile;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'controller', controller: options.name });
    this.metrics = options.metrics;
    this.workers = options.workers ?? 1;
    this.backoff = options.backoff ?? {};
    this.listKeys = options.listKeys;
    this.resyncMs = options.resyncMs ?? 0;
    this.guard = options.guard ?? (() => true);
    if (!Number.isInteger(this.workers) || this.workers < 1) throw new RangeError(`workers must be a positive integer, got ${this.workers}`);
  }

  /** True between start() and the end of stop(). */
  isRunning(): boolean {
    return this.queue !== undefined;
  }

  /** Starts the workers and the resync loop, and enqueues every key from listKeys. Throws if already running. */
  start(): void {
    if (this.queue !== undefined) throw new Error(`controller ${this.name} is already running`);
    this.stopping = false;
    const queue = new WorkQueue({
      clock: this.clock,
      ...(this.backoff.baseDelayMs === undefined ? {} : { baseDelayMs: this.backoff.baseDelayMs }),
      ...(this.backoff.maxDelayMs === undefined ? {} : { maxDelayMs: this.backoff.maxDelayMs }),
      onDepthChange: (depth) => this.metrics?.workqueueDepth.set({ controller: this.name }, depth),
    });
    this.queue = queue;
    this.metrics?.workqueueDepth.set({ controller: this.name }, 0);
    this.workerLoops = Array.from({ length: this.workers }, () => this.work(queue));
    const resync = new AbortController();
    this.resyncAbort = resync;
    void this.resyncLoop(queue, resync.signal);
    this.logger.info({ workers: this.workers, resyncMs: this.resyncMs }, 'controller started');
  }

  /** Enqueues `key` for reconciliation. Ignored while the controller is not running (start() lists everything). */
  enqueue(key: string): void {
    this.queue?.add(key);
  }

  /** Enqueues `key` after `delayMs`. Ignored while not running. */
  enqueueAfter(key: string, delayMs: number): void {
    this.queue?.addAfter(key, delayMs);
  }

  /** Keys waiting in the queue (0 when not running). */
  queueLength(): number {
    return this.queue?.len() ?? 0;
  }

  /** Keys whose reconcile is running now. */
  inFlightKeys(): string[] {
    return [...this.inFlight.keys()];
  }

  /**
   * Stops taking keys (queued keys are dropped: they are level-based and will be listed again on the next start),
   * waits up to `deadlineMs` for in-flight reconciles, then aborts their signals and waits up to `abandonAfterMs`
   * more. Resolves with what had to be aborted or abandoned. Safe to call when not running.
   */
  async stop(options: ControllerStopOptions = {}): Promise<ControllerStopReport> {
    const queue = this.queue;
    if (queue === undefined) return { aborted: [], abandoned: [] };
    this.stopping = true;
    this.resyncAbort?.abort();
    void queue.shutDown();
    const drained = Promise.all(this.workerLoops).then(() => true);
    const timers = new AbortController();
    const wait = (ms: number): Promise<boolean> =>
      Promise.race([drained, this.clock.sleep(ms, timers.signal).then(() => false, () => false)]);
    let aborted: string[] = [];
    let abandoned: string[] = [];
    try {
      if (!(await wait(options.deadlineMs ?? 30_000))) {
        aborted = [...this.inFlight.keys()];
        this.logger.warn({ keys: aborted }, 'drain deadline passed; aborting in-flight reconciles');
        for (const ac of this.inFlight.values()) ac.abort(new Error(`controller ${this.name} is stopping`));
        if (!(await wait(options.abandonAfterMs ?? 5_000))) {
          abandoned = [...this.inFlight.keys()];
          this.logger.error({ keys: abandoned }, 'reconciles ignored their abort signal; abandoning them');
        }
      }
    } finally {
      timers.abort();
    }
    this.queue = undefined;
    this.workerLoops = [];
    this.logger.info({ aborted: aborted.length, abandoned: abandoned.length }, 'controller stopped');
    return { aborted, abandoned };
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.process(queue, key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async process(queue: WorkQueue, key: string): Promise<void> {
    if (!this.guard()) {
      queue.forget(key);
      // Once at info per fenced spell (a woken replica may find hundreds of keys due), then at debug.
      this.logger[this.fenced ? 'debug' : 'info']({ key }, 'not reconciling: this replica may no longer act (fenced)');
      this.fenced = true;
      return;
    }
    this.fenced = false;
    const ac = new AbortController();
    this.inFlight.set(key, ac);
    const started = this.clock.now();
    try {
      const result = await this.reconcileFn(key, ac.signal);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after <= 0) {
        // "again now": back off so that a reconcile that always asks for 0 cannot spin.
        queue.addRateLimited(key);
      } else {
        queue.forget(key);
        if (after !== undefined) queue.addAfter(key, after);
      }
    } catch (e: unknown) {
      if (this.stopping && ac.signal.aborted) {
        this.logger.debug({ key }, 'reconcile aborted by shutdown');
      } else if (e instanceof FencedError) {
        queue.forget(key);
        this.logger.info({ key, reason: e.message }, 'reconcile stopped by the fence: this replica may no longer act');
      } else if (e instanceof TerminalError) {
        queue.forget(key);
        this.metrics?.reconcileErrorsTotal.inc({ controller: this.name });
        this.logger.error({ key, err: e }, 'reconcile failed permanently; not retrying');
      } else {
        const delay = queue.addRateLimited(key);
        this.metrics?.reconcileErrorsTotal.inc({ controller: this.name });
        this.logger.warn({ key, err: e, attempt: queue.numRequeues(key), retryInMs: delay }, 'reconcile failed; retrying with back-off');
      }
    } finally {
      this.inFlight.delete(key);
      this.metrics?.reconcileDurationSeconds.observe({ controller: this.name }, Math.max(0, this.clock.now() - started) / 1000);
    }
  }

  /**
   * Enqueues every key at start, then every resyncMs / RESYNC_SLICES the keys of the next slice (a hash of the
   * key): each key once a period. Enqueuing all of them at once made every policy reconcile — and write its
   * refreshed status — in the same minute, every 5 minutes (docs/scaling.md).
   */
  private async resyncLoop(queue: WorkQueue, signal: AbortSignal): Promise<void> {
    if (this.listKeys === undefined) return;
    await this.enqueueSlice(queue, undefined);
    if (!(this.resyncMs > 0)) return;
    for (let tick = 1; ; tick++) {
      try {
        await this.clock.sleep(this.resyncMs / RESYNC_SLICES, signal);
      } catch {
        return;
      }
      await this.enqueueSlice(queue, tick % RESYNC_SLICES);
    }
  }

  /** Enqueues the keys of `slice` (undefined: every key). */
  private async enqueueSlice(queue: WorkQueue, slice: number | undefined): Promise<void> {
    if (this.listKeys === undefined || queue.isShuttingDown()) return;
    try {
      let n = 0;
      for (const key of await this.listKeys()) {
        if (slice !== undefined && hash32(key) % RESYNC_SLICES !== slice) continue;
        queue.add(key);
        n++;
      }
      this.logger.debug({ keys: n, slice }, 'resync enqueued keys');
    } catch (e: unknown) {
      this.logger.error({ err: e }, 'resync could not list keys');
    }
  }
}
