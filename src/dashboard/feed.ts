/**
 * The live feed behind `/api/events`: keeps the last view sent to the connected pages and pushes what changed.
 *
 * - A policy or HealingAction change (informer add/update/delete) schedules a refresh after `debounceMs`, so a burst
 *   of watch events costs one rebuild; it rebuilds everything but the charts (which cost a trigger evaluation).
 * - Every `refreshMs` a full refresh (charts included) runs and sends the safety state even when unchanged: budgets
 *   roll, breakers half-open and storms end with time alone, and the page shows when it last heard.
 * - Every `heartbeatMs` a heartbeat event keeps the stream alive through proxies and lets the page detect a dead one.
 * Nothing is computed while no page is connected. Time comes from the injected clock.
 */
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { IntervalLoop } from '../runtime/interval-loop.js';
import { diffViews, formatSse, type DashboardEvent } from './changes.js';
import type { ChartView, DashboardCore, DashboardView } from './view-model.js';

/** What the feed reads (a DashboardSource satisfies it). */
export interface FeedSource {
  core(): DashboardCore;
  charts(core: DashboardCore): ChartView[];
  watch(onChange: () => void): () => void;
}

/** One connected page: `send` writes a chunk of the event stream. */
export interface FeedClient {
  send(chunk: string): void;
}

/** Options of a DashboardFeed. */
export interface DashboardFeedOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly source: FeedSource;
  /** Full refresh and periodic safety snapshot; default 5 s. */
  readonly refreshMs?: number;
  /** Heartbeat interval; default 15 s. */
  readonly heartbeatMs?: number;
  /** Delay that collapses a burst of changes into one refresh; default 200 ms. */
  readonly debounceMs?: number;
}

/** Pushes dashboard changes to connected pages. start() once; stop() ends the loops. */
export class DashboardFeed {
  private readonly clients = new Set<FeedClient>();
  private last: DashboardView | undefined;
  private scheduled = false;
  private unwatch: (() => void) | undefined;
  private readonly abort = new AbortController();
  private readonly refreshLoop: IntervalLoop;
  private readonly heartbeatLoop: IntervalLoop;

  constructor(private readonly options: DashboardFeedOptions) {
    const onError = (e: unknown): void => options.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'dashboard refresh failed');
    this.refreshLoop = new IntervalLoop({ clock: options.clock, intervalMs: options.refreshMs ?? 5000, tickOnStart: false, tick: () => this.refresh(true), onError });
    this.heartbeatLoop = new IntervalLoop({
      clock: options.clock,
      intervalMs: options.heartbeatMs ?? 15_000,
      tickOnStart: false,
      tick: () => this.broadcast([{ event: 'heartbeat', data: { at: options.clock.now() } }]),
      onError,
    });
  }

  /** Number of connected pages. */
  get connected(): number {
    return this.clients.size;
  }

  /** Starts watching for changes and the periodic loops. Idempotent. */
  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.options.source.watch(() => this.changed());
    this.refreshLoop.start();
    this.heartbeatLoop.start();
  }

  /** Stops the loops and forgets the clients (the server closes their streams). */
  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    this.abort.abort();
    this.clients.clear();
    await Promise.all([this.refreshLoop.stop(), this.heartbeatLoop.stop()]);
  }

  /**
   * Connects a page: brings every connected page up to date, then sends this one a snapshot of the same view.
   * Returns the function that disconnects it. Throws only if the view cannot be built (the caller answers 500).
   */
  subscribe(client: FeedClient): () => void {
    this.refresh(true, false);
    const view = this.last as DashboardView;
    this.clients.add(client);
    client.send(formatSse({ event: 'snapshot', data: view }));
    return () => {
      this.clients.delete(client);
      // With nobody watching, the next page must start from a fresh snapshot, not a diff against a stale view.
      if (this.clients.size === 0) this.last = undefined;
    };
  }

  /** A fresh view, charts included (for GET /api/view). Does not change what the feed has sent. */
  view(): DashboardView {
    const core = this.options.source.core();
    return { ...core, charts: this.options.source.charts(core) };
  }

  /** Something changed: refresh soon, once for a burst. */
  private changed(): void {
    if (this.scheduled || this.clients.size === 0) return;
    this.scheduled = true;
    this.options.clock.sleep(this.options.debounceMs ?? 200, this.abort.signal).then(
      () => {
        this.scheduled = false;
        try {
          this.refresh(false);
        } catch (e: unknown) {
          this.options.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'dashboard refresh failed');
        }
      },
      () => undefined,
    );
  }

  /**
   * Rebuilds the view and sends the differences to every page. `periodic`: charts are rebuilt and the safety state
   * is sent even when unchanged. `onlyIfWatched` (default true): skip the work while nobody is connected.
   */
  private refresh(periodic: boolean, onlyIfWatched = true): void {
    if (onlyIfWatched && this.clients.size === 0) return;
    const core = this.options.source.core();
    const charts = periodic || this.last === undefined ? this.options.source.charts(core) : this.last.charts;
    const next: DashboardView = { ...core, charts };
    const events = this.last === undefined ? [] : diffViews(this.last, next, { forceSafety: periodic });
    this.last = next;
    this.broadcast(events);
  }

  private broadcast(events: readonly DashboardEvent[]): void {
    if (events.length === 0 || this.clients.size === 0) return;
    const chunk = events.map(formatSse).join('');
    for (const c of [...this.clients]) c.send(chunk);
  }
}
