/**
 * The operator's lifecycle, in the order controller-runtime uses:
 *   start informers → wait until every informer has synced (with a timeout) → campaign for the leader Lease (if
 *   enabled) → start the controllers when leading.
 * Shutdown (stop(), SIGTERM/SIGINT, or lost leadership) runs in reverse: stop controllers (drain with a deadline)
 * → release the Lease (only after the drain, so no two leaders act at once) → stop informers → close servers.
 * Losing leadership ends the manager (as controller-runtime does) rather than continuing as a standby with
 * possibly stale in-memory state; the caller decides the exit code. The manager never calls process.exit.
 */
import type { Clock } from './clock.js';
import type { LeadershipListener, StepDownReason } from './leader-election.js';
import { silentLogger, type Logger } from '../observability/logger.js';

/** An informer as the manager sees it. */
export interface ManagedInformer {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
}

/** A controller as the manager sees it. */
export interface ManagedController {
  readonly name: string;
  start(): void;
  stop(options: { deadlineMs: number }): Promise<unknown>;
}

/** A leader elector as the manager sees it. */
export interface ManagedElector {
  start(): void;
  stop(): Promise<void>;
  isLeader(): boolean;
  subscribe(listener: LeadershipListener): () => void;
}

/** Something to close last (the health/metrics server, the audit log). */
export interface Closeable {
  readonly name: string;
  close(): Promise<void>;
}

/** Process signal subscription (pass `process`); injectable so tests can raise signals. */
export interface SignalSource {
  once(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  removeListener(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

/** A shutdown step (an informer stopping, a closeable closing) at least this long is logged. */
const SLOW_SHUTDOWN_STEP_MS = 1000;

/** Options of a Manager. */
export interface ManagerOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly informers: readonly ManagedInformer[];
  readonly controllers: readonly ManagedController[];
  /** Leader election; omit to run controllers without it (single replica, tests). */
  readonly elector?: ManagedElector;
  /** Closed at the very end of shutdown, in order. */
  readonly closeables?: readonly Closeable[];
  /** Longest wait for informers to sync; default 120 s. */
  readonly cacheSyncTimeoutMs?: number;
  /** How long in-flight reconciles may finish during shutdown; default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /** Poll interval while waiting for sync; default 100 ms. */
  readonly syncPollMs?: number;
  /** Stop on SIGTERM/SIGINT from this source. */
  readonly signals?: SignalSource;
}

/** Why the manager ended. */
export type ManagerExitReason = 'stopped' | 'signal' | 'leadership-lost' | 'sync-timeout' | 'failed';

/** How the manager ended; `error` is set for sync-timeout and failed. */
export interface ManagerExit {
  readonly reason: ManagerExitReason;
  readonly detail?: string;
  readonly error?: Error;
}

/** One readiness check result. */
export interface ReadinessCheck {
  readonly ok: boolean;
  readonly message?: string;
}

/** Readiness as served on /readyz. */
export interface ReadinessReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

/** Informers did not sync within the timeout. */
export class CacheSyncTimeoutError extends Error {
  readonly code = 'CacheSyncTimeout';
  constructor(readonly unsynced: readonly string[], timeoutMs: number) {
    super(`informers not synced after ${timeoutMs} ms: ${unsynced.join(', ')}`);
    this.name = 'CacheSyncTimeoutError';
  }
}

type State = 'new' | 'syncing' | 'running' | 'stopping' | 'stopped';

/**
 * Runs the lifecycle above. `start()` resolves once informers are synced and the controllers are started (or the
 * elector is campaigning); it rejects (after shutting everything down) with CacheSyncTimeoutError. `done` resolves
 * with the exit reason once shutdown has completed, whatever caused it.
 */
export class Manager {
  readonly done: Promise<ManagerExit>;
  private readonly options: ManagerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private state: State = 'new';
  private controllersRunning = false;
  private resolveDone: (exit: ManagerExit) => void = () => undefined;
  private shutdownPromise: Promise<void> | undefined;
  private readonly cleanups: (() => void)[] = [];
  private readonly syncAbort = new AbortController();

  constructor(options: ManagerOptions) {
    this.options = options;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'manager' });
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Runs the start sequence. Throws if called twice; rejects with CacheSyncTimeoutError (after cleaning up). */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('manager already started');
    this.state = 'syncing';
    this.installSignalHandlers();
    for (const informer of this.options.informers) informer.start();
    this.logger.info({ informers: this.options.informers.map((i) => i.name) }, 'informers started; waiting for sync');
    const synced = await this.waitForSync();
    if (this.state !== 'syncing') return; // stopped while syncing
    if (!synced) {
      const unsynced = this.options.informers.filter((i) => !i.hasSynced()).map((i) => i.name);
      const error = new CacheSyncTimeoutError(unsynced, this.options.cacheSyncTimeoutMs ?? 120_000);
      this.logger.error({ unsynced }, error.message);
      await this.shutdown({ reason: 'sync-timeout', error });
      throw error;
    }
    this.state = 'running';
    const elector = this.options.elector;
    if (elector === undefined) {
      this.startControllers();
      return;
    }
    this.cleanups.push(
      elector.subscribe({
        onStartedLeading: () => {
          if (this.state === 'running') this.startControllers();
        },
        onStoppedLeading: (reason: StepDownReason) => {
          if (this.state !== 'running') return; // our own shutdown released the lease
          this.logger.error({ reason }, 'leadership lost; shutting down');
          void this.shutdown({ reason: 'leadership-lost', detail: reason });
        },
      }),
    );
    elector.start();
    this.logger.info('campaigning for leadership');
  }

  /** Shuts down (see the module comment) and resolves when done. Idempotent; safe before start(). */
  stop(reason: ManagerExitReason = 'stopped', detail?: string): Promise<void> {
    return this.shutdown({ reason, ...(detail === undefined ? {} : { detail }) });
  }

  /** True while controllers are running (leading, or no election). */
  isActive(): boolean {
    return this.controllersRunning;
  }

  /**
   * Readiness for /readyz: every informer synced, the manager running (not starting or stopping), and either
   * leading or a healthy standby. A standby is ready: it serves metrics and can take over.
   */
  readiness(): ReadinessReport {
    const checks: Record<string, ReadinessCheck> = {};
    for (const informer of this.options.informers) {
      checks[`informer:${informer.name}`] = informer.hasSynced() ? { ok: true } : { ok: false, message: 'not synced' };
    }
    checks['manager'] = this.state === 'running' ? { ok: true } : { ok: false, message: this.state };
    if (this.options.elector !== undefined) {
      checks['leader-election'] = { ok: true, message: this.options.elector.isLeader() ? 'leader' : 'standby' };
    }
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }

  /** Liveness for /healthz: false only once the manager has stopped. */
  liveness(): ReadinessReport {
    const ok = this.state !== 'stopped';
    return { ok, checks: { manager: ok ? { ok } : { ok, message: 'stopped' } } };
  }

  private startControllers(): void {
    if (this.controllersRunning) return;
    this.controllersRunning = true;
    for (const c of this.options.controllers) {
      try {
        c.start();
      } catch (e: unknown) {
        this.logger.error({ err: e, controller: c.name }, 'controller failed to start');
        void this.shutdown({ reason: 'failed', error: e instanceof Error ? e : new Error(String(e)), detail: c.name });
        return;
      }
    }
    this.logger.info({ controllers: this.options.controllers.map((c) => c.name) }, 'controllers started');
  }

  private async waitForSync(): Promise<boolean> {
    const deadline = this.clock.now() + (this.options.cacheSyncTimeoutMs ?? 120_000);
    const poll = this.options.syncPollMs ?? 100;
    for (;;) {
      if (this.options.informers.every((i) => i.hasSynced())) return true;
      if (this.state !== 'syncing') return false;
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      try {
        await this.clock.sleep(Math.min(poll, left), this.syncAbort.signal);
      } catch {
        return false;
      }
    }
  }

  private installSignalHandlers(): void {
    const signals = this.options.signals;
    if (signals === undefined) return;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const handler = (): void => {
        this.logger.info({ signal: sig }, 'signal received; shutting down');
        void this.shutdown({ reason: 'signal', detail: sig });
      };
      signals.once(sig, handler);
      this.cleanups.push(() => signals.removeListener(sig, handler));
    }
  }

  private shutdown(exit: ManagerExit): Promise<void> {
    this.shutdownPromise ??= this.runShutdown(exit);
    return this.shutdownPromise;
  }

  /** Runs one shutdown step; one that took a second or more is logged with its duration (a slow exit says why). */
  private async timed(step: string, fn: () => Promise<void>): Promise<void> {
    const started = this.clock.now();
    await fn();
    const ms = this.clock.now() - started;
    if (ms >= SLOW_SHUTDOWN_STEP_MS) this.logger.info({ step, ms }, 'slow shutdown step');
  }

  private async runShutdown(exit: ManagerExit): Promise<void> {
    const wasNew = this.state === 'new';
    this.state = 'stopping';
    this.syncAbort.abort();
    this.logger.info({ reason: exit.reason, detail: exit.detail }, 'shutting down');
    if (!wasNew) {
      const lost = exit.reason === 'leadership-lost';
      // Another replica may already be leading: abort in-flight work at once instead of draining, and stop
      // campaigning first so we do not re-acquire the lease while shutting down.
      if (lost) await this.options.elector?.stop().catch((e: unknown) => this.logger.error({ err: e }, 'leader election stop failed'));
      const deadlineMs = lost ? 0 : (this.options.shutdownTimeoutMs ?? 30_000);
      if (this.controllersRunning) {
        await Promise.all(
          this.options.controllers.map((c) =>
            c.stop({ deadlineMs }).catch((e: unknown) => this.logger.error({ err: e, controller: c.name }, 'controller stop failed')),
          ),
        );
        this.controllersRunning = false;
      }
      // Release the lease only now: in-flight work has drained, so the next leader cannot overlap with us.
      await this.options.elector?.stop().catch((e: unknown) => this.logger.error({ err: e }, 'leader election stop failed'));
      await Promise.all(
        this.options.informers.map((i) =>
          this.timed(`informer ${i.name}`, () => i.stop().catch((e: unknown) => this.logger.error({ err: e, informer: i.name }, 'informer stop failed'))),
        ),
      );
    }
    for (const c of this.options.closeables ?? []) {
      await this.timed(c.name, () => c.close().catch((e: unknown) => this.logger.error({ err: e, closeable: c.name }, 'close failed')));
    }
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.state = 'stopped';
    this.logger.info({ reason: exit.reason }, 'stopped');
    this.resolveDone(exit);
  }
}
