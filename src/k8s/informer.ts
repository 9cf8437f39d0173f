/**
 * A typed informer: list, then watch from the list's resourceVersion, keeping a local cache and calling handlers
 * on add/update/delete.
 *
 * Why not client-node's makeInformer/ListWatch as is: it stops for good on any error except 410 (we must restart
 * it), it cannot say when its first list has reached the cache (hasSynced), it does not ask for bookmarks, and a
 * stop() racing an in-flight connect leaves a second watch running (kubernetes-client/javascript #494, #1933).
 * So this informer owns the reflector loop and uses client-node's `Watch` (one HTTP watch with its 30 s
 * inactivity timeout) as its transport, behind the small ListWatchSource interface that tests can fake.
 *
 * Behaviour:
 * - a watch that ends normally (server close, 30 s inactivity timeout) resumes from the last resourceVersion;
 * - 410 Gone relists; any other error relists after an exponential back-off (1 s … 30 s by default) and counts a
 *   restart; the informer never gives up until stop();
 * - each watch asks the server to end it after WATCH_TIMEOUT_SECONDS (with a bookmark, where the server has a newer
 *   version), and a quiet collection's version is kept current by a probe (progressProbeMs), so resuming never
 *   meets a compacted version and relists;
 * - a staleness watchdog restarts (relists) when no list, watch connect or event was seen for `staleAfterMs`
 *   (silently dead TCP connections, kubernetes-client/javascript #596);
 * - a relist is diffed against the cache by resourceVersion, so handlers see only real changes (a restart never
 *   repeats an add for an object already known, and objects deleted meanwhile get a delete);
 * - the kube source lists in pages of 500 (as client-go's reflector does) and slims each page as it arrives, so a
 *   list of thousands of pods is never held whole in its raw form (the largest transient of a start).
 * Handlers run synchronously, in event order; an exception in one is logged and does not stop the informer.
 */
import * as k8s from '@kubernetes/client-node';
import type { Clock } from '../runtime/clock.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { describeKubeError, toKubeError, type KubeError } from './errors.js';
import { compareResourceVersions } from './resource-version.js';
import { getJson } from './json-get.js';

/** A list result: the objects and the collection's resourceVersion to watch from. */
export interface ListResult<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
  /** The items already went through the transform passed to list(). */
  readonly transformed?: boolean;
}

/** Watch event types as the API server sends them. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Callbacks of one watch. */
export interface WatchCallbacks {
  /** The server accepted the watch (HTTP 200). */
  onConnect(): void;
  onEvent(type: string, object: unknown): void;
}

/** Where an informer gets its data; `createKubeListWatch` builds the real one. */
export interface ListWatchSource<T> {
  /**
   * Lists every object (with the selectors the source was built with). A source may pass each object through
   * `transform` as it arrives, and says so with `transformed`; otherwise the informer transforms them.
   */
  list(signal: AbortSignal, transform?: (obj: T) => T): Promise<ListResult<T>>;
  /**
   * Watches from `resourceVersion`. Resolves when the watch ends normally (server close or inactivity timeout);
   * rejects on errors (HTTP status errors carry `statusCode`). Aborting `signal` ends it either way.
   */
  watch(resourceVersion: string, callbacks: WatchCallbacks, signal: AbortSignal): Promise<void>;
  /**
   * The collection's current resourceVersion, from a list of at most one object (a consistent read). Optional: an
   * informer with it keeps the resourceVersion of a quiet watch current (InformerOptions.progressProbeMs).
   */
  currentVersion?(signal: AbortSignal): Promise<string>;
}

/** Options of createKubeListWatch. */
export interface KubeListWatchOptions<T extends k8s.KubernetesObject> {
  /** Collection path to watch, e.g. `/api/v1/namespaces/ns/configmaps` or `/apis/apps/v1/deployments`. */
  readonly path: string;
  /**
   * Lists the same collection with the same selectors, one page at a time, e.g.
   * `(signal, page) => core.listNamespacedConfigMap({namespace, labelSelector, ...listPageParams(page)}, requestOptions(signal))`.
   * A function that ignores `page` lists everything at once (the response then has no continue token). Default:
   * `path` with the selectors, as the API server's JSON (json-get.ts) — the shape the watch delivers, and the
   * cheapest to read for the large collections (pods, events).
   */
  readonly list?: (signal: AbortSignal, page: ListPage) => Promise<k8s.KubernetesListObject<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Objects per list page (default 500). */
  readonly pageSize?: number;
}

/** One page of a list: at most `limit` objects, after the `continue` token of the previous page. */
export interface ListPage {
  readonly limit: number;
  readonly continue?: string;
}

/** A ListPage as client-node's list calls spell their parameters. */
export function listPageParams(page: ListPage | undefined): { limit?: number; _continue?: string } {
  if (page === undefined) return {};
  return page.continue === undefined ? { limit: page.limit } : { limit: page.limit, _continue: page.continue };
}

/** The continue token of a list response: `_continue` from client-node's typed lists, `continue` in raw JSON ones. */
function continueToken(list: k8s.KubernetesListObject<k8s.KubernetesObject>): string | undefined {
  const meta = list.metadata as (k8s.V1ListMeta & { continue?: string }) | undefined;
  const token = meta?._continue ?? meta?.continue;
  return token === undefined || token === '' ? undefined : token;
}

/** Builds the collection path of a resource: core (`group` '' or undefined) or named group, namespaced or not. */
export function resourcePath(resource: { readonly group?: string; readonly version: string; readonly plural: string; readonly namespace?: string }): string {
  const base = resource.group === undefined || resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const ns = resource.namespace === undefined || resource.namespace === '' ? '' : `/namespaces/${encodeURIComponent(resource.namespace)}`;
  return `${base}${ns}/${resource.plural}`;
}

/**
 * The server-side timeout of each watch request: under client-node's Watch inactivity timeout (30 s), so the server
 * closes a quiet watch with a bookmark instead of the client dropping it without one.
 */
export const WATCH_TIMEOUT_SECONDS = 25;

/** A ListWatchSource over the real API server, using client-node's Watch with bookmarks enabled. */
export function createKubeListWatch<T extends k8s.KubernetesObject>(kc: k8s.KubeConfig, options: KubeListWatchOptions<T>): ListWatchSource<T> {
  const listPage =
    options.list ??
    (async (signal: AbortSignal, page: ListPage) =>
      (await getJson(kc, options.path, {
        query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: page.limit, continue: page.continue },
        signal,
      })) as k8s.KubernetesListObject<T>);
  return {
    async list(signal, transform) {
      const limit = options.pageSize ?? 500;
      const items: T[] = [];
      let resourceVersion: string | undefined;
      let token: string | undefined;
      do {
        const page: k8s.KubernetesListObject<T> = await listPage(signal, token === undefined ? { limit } : { limit, continue: token });
        // Every page of a paged list is of the first page's snapshot.
        resourceVersion ??= page.metadata?.resourceVersion ?? '';
        for (const item of page.items) items.push(transform ? transform(item) : item);
        const next = continueToken(page);
        if (next !== undefined && next === token) throw new Error(`list ${options.path}: the server returned the same continue token twice`);
        token = next;
      } while (token !== undefined);
      return { items, resourceVersion: resourceVersion ?? '', transformed: transform !== undefined };
    },
    async currentVersion(signal) {
      return (await listPage(signal, { limit: 1 })).metadata?.resourceVersion ?? '';
    },
    watch(resourceVersion, callbacks, signal) {
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        const finish = (err: unknown): void => {
          if (settled) return;
          settled = true;
          // The 30 s inactivity timeout of client-node's Watch is a normal end: resume from the last version.
          if (err === null || err === undefined || signal.aborted || (err instanceof Error && err.name === 'TimeoutError')) resolve();
          else reject(err instanceof Error ? err : toKubeError(err));
        };
        // Ending the watch is ours to say once the signal aborts: client-node's Watch did not always call `done`
        // promptly after its request was aborted (measured: an informer's stop() took up to ~30 s, its inactivity
        // timeout, and so did every shutdown and a fenced leader's exit — the fault suite's frozen-leader test).
        if (signal.aborted) {
          finish(null);
          return;
        }
        signal.addEventListener('abort', () => finish(null), { once: true });
        // The server ends the watch itself just before client-node's 30 s inactivity timeout would, and sends a
        // bookmark 2 s before that deadline: every watch of a quiet resource then moves our resourceVersion on. Without
        // a deadline the server bookmarks once a minute, after the client had given up, so a quiet informer resumed
        // from its list's version for ever, until etcd's compaction passed it: a 410 and a relist — at 5 000
        // pods, 15 pages of Events a minute, twenty minutes after the start (docs/scaling.md).
        const query: Record<string, string | boolean> = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: String(WATCH_TIMEOUT_SECONDS) };
        if (options.labelSelector !== undefined) query['labelSelector'] = options.labelSelector;
        if (options.fieldSelector !== undefined) query['fieldSelector'] = options.fieldSelector;
        new k8s.Watch(kc)
          .watch(options.path, query, (type: string, obj: unknown) => {
            if (!signal.aborted) callbacks.onEvent(type, obj);
          }, finish)
          .then(
            (controller) => {
              if (signal.aborted) {
                controller.abort();
                return;
              }
              signal.addEventListener('abort', () => controller.abort(), { once: true });
              if (!settled) callbacks.onConnect();
            },
            finish,
          );
      });
    },
  };
}

/** Handlers of informer events; `onUpdate` gets the new and the previous object. */
export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
}

/** Why an informer restarted. */
export type InformerRestartReason = 'error' | 'stale' | 'requested';

/** Options of an Informer. */
export interface InformerOptions<T> {
  /** Resource name for logs and the restarts metric label, e.g. `pods`. */
  readonly name: string;
  readonly source: ListWatchSource<T>;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Back-off after errors: initial and maximum delay; default 1 s and 30 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Restart when nothing (list, connect, event, bookmark) was seen for this long; default 90 s; 0 disables. */
  readonly staleAfterMs?: number;
  /**
   * A watch that ends normally in less than this, without events, counts as a failure (backs off), so a server
   * that closes watches at once cannot make us spin; default 1 s.
   */
  readonly minWatchMs?: number;
  /**
   * A watch that resumes from a resourceVersion etcd has compacted away gets 410, and the informer relists. A quiet
   * collection's version moves only with bookmarks, which the API server sends only when its watch cache's version
   * moved (etcd progress notifications) and never for Events, which it does not cache: so every quiet informer
   * relisted every 5–10 minutes, the API server's compaction interval — at 5 000 pods, 17 pages of Events. When the
   * version has not moved for this long, the informer asks the source for the current one (currentVersion, a list
   * of one object) while its watch is open, and adopts it when that watch ends normally at least
   * `progressSettleMs` later: whatever changed up to that version was delivered on the open watch meanwhile. Default
   * 3 min (under the compaction interval); 0 disables.
   */
  readonly progressProbeMs?: number;
  /** How long a watch must stay open after a probe for its version to be adopted; default 5 s. */
  readonly progressSettleMs?: number;
  /** Called on every probe of the current version (for kubeskippy_informer_progress_probes_total). */
  readonly onProgressProbe?: () => void;
  /** Called on every restart (for kubeskippy_informer_restarts_total). */
  readonly onRestart?: (reason: InformerRestartReason, error?: KubeError) => void;
  /**
   * Applied to every object before it is cached (list and watch alike), e.g. stripManagedFields: what the cache does
   * not hold costs no memory. Must keep metadata.namespace, name and resourceVersion.
   */
  readonly transform?: (obj: T) => T;
  /**
   * What the cache keeps of an object once the handlers have seen it (after `transform`); default: all of it. For a
   * collection read only through its handlers (Events): the handlers get the whole object, `get`/`list` and an
   * update's `old` only what this returns. Must keep metadata.namespace, name and resourceVersion (a relist compares
   * them) and whatever the handlers' `onDelete` reads.
   */
  readonly keep?: (obj: T) => T;
}

/**
 * Drops metadata.managedFields — server-side apply bookkeeping that is often the largest part of an object and that
 * the operator never reads (controller-runtime users strip it the same way). Returns the same object, modified.
 */
export function stripManagedFields<T extends k8s.KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

type Phase = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

function keyOf(obj: k8s.KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** Thrown inside the loop for an ERROR watch event. */
class WatchErrorEvent extends Error {
  constructor(readonly status: unknown) {
    super('watch ERROR event');
  }
}

/**
 * A restartable, self-healing informer over one collection. Call `start()` once; `hasSynced()` turns true when the
 * first list has reached the cache and stays true. `stop()` ends everything (handlers are not called afterwards).
 */
export class Informer<T extends k8s.KubernetesObject> {
  readonly name: string;
  private readonly source: ListWatchSource<T>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly staleAfterMs: number;
  private readonly minWatchMs: number;
  private readonly progressProbeMs: number;
  private readonly progressSettleMs: number;
  private readonly onProgressProbe: (() => void) | undefined;
  /** When the resourceVersion last moved (list, event, bookmark, adopted probe). */
  private advancedAt = 0;
  private readonly onRestart: InformerOptions<T>['onRestart'];

  private readonly cache = new Map<string, T>();
  /** namespace → key → object, so that a namespace's objects are found without scanning the whole cache. */
  private readonly byNamespace = new Map<string, Map<string, T>>();
  /** namespace → a counter bumped whenever one of its objects is added, changed or removed. */
  private readonly namespaceVersions = new Map<string, number>();
  private readonly transform: ((obj: T) => T) | undefined;
  private readonly keep: ((obj: T) => T) | undefined;
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private synced = false;
  private phase: Phase = 'idle';
  private lastActivity = 0;
  private restartCount = 0;
  private stopController: AbortController | undefined;
  private cycle: AbortController | undefined;
  private loops: Promise<void>[] = [];
  /** Callers of waitForResourceVersion, resolved as the informer's resourceVersion passes theirs. */
  private waiters: { resourceVersion: string; resolve: (caughtUp: boolean) => void }[] = [];

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.source = options.source;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'informer', resource: options.name });
    this.initialBackoffMs = options.backoff?.initialMs ?? 1_000;
    this.maxBackoffMs = options.backoff?.maxMs ?? 30_000;
    this.staleAfterMs = options.staleAfterMs ?? 90_000;
    this.minWatchMs = options.minWatchMs ?? 1_000;
    this.progressProbeMs = options.progressProbeMs ?? 180_000;
    this.progressSettleMs = options.progressSettleMs ?? 5_000;
    this.onProgressProbe = options.onProgressProbe;
    this.onRestart = options.onRestart;
    this.transform = options.transform;
    this.keep = options.keep;
  }

  /** Registers handlers; returns a function that removes them. Objects already cached are not replayed. */
  addHandler(handlers: InformerHandlers<T>): () => void {
    this.handlers.push(handlers);
    return () => {
      const i = this.handlers.indexOf(handlers);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  /** Starts listing and watching. Throws if started twice. */
  start(): void {
    if (this.phase !== 'idle') throw new Error(`informer ${this.name} was already started`);
    const stop = new AbortController();
    this.stopController = stop;
    this.phase = 'listing';
    this.touch();
    this.loops = [this.run(stop.signal), this.watchdog(stop.signal)];
  }

  /** Stops for good and waits for the loops to end. The cache stays readable. Idempotent. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'idle') {
      this.phase = 'stopped';
      return;
    }
    this.phase = 'stopped';
    this.stopController?.abort();
    this.cycle?.abort();
    this.releaseWaiters();
    await Promise.all(this.loops);
  }

  /**
   * Abandons the current list/watch (or back-off wait) and relists at once; counts a restart. No-op unless running.
   */
  restart(reason: InformerRestartReason = 'requested'): void {
    if (this.phase === 'idle' || this.phase === 'stopped') return;
    this.countRestart(reason);
    this.cycle?.abort();
  }

  /** True once the first list is in the cache (stays true across restarts). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Restarts so far (errors, staleness, requests). */
  get restarts(): number {
    return this.restartCount;
  }

  /** The resourceVersion the informer would resume from. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /**
   * Resolves true once the cache reflects every change of the collection up to `resourceVersion` — e.g. the version
   * a write of ours returned: the watch delivers a collection's events in resourceVersion order, so once it has
   * passed ours, every earlier write is in the cache too (a relist jumps past it at once). Resolves false after
   * `timeoutMs` (measured on the injected clock), when stopped, or when either version is not comparable
   * (resource-version.ts): the caller must then read the cluster itself.
   */
  waitForResourceVersion(resourceVersion: string, timeoutMs: number): Promise<boolean> {
    const now = compareResourceVersions(this.resourceVersion, resourceVersion);
    if (now === undefined || this.phase === 'stopped') return Promise.resolve(false);
    if (now >= 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = new AbortController();
      const waiter = {
        resourceVersion,
        resolve: (caughtUp: boolean) => {
          timer.abort();
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(caughtUp);
        },
      };
      this.waiters.push(waiter);
      this.clock.sleep(timeoutMs, timer.signal).then(
        () => waiter.resolve(false),
        () => undefined,
      );
    });
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    for (const w of [...this.waiters]) {
      const c = compareResourceVersions(this.resourceVersion, w.resourceVersion);
      if (c === undefined || this.phase === 'stopped') w.resolve(false);
      else if (c >= 0) w.resolve(true);
    }
  }

  /** Cached objects, all or those of one namespace (from an index: no scan of the other namespaces). */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.cache.values()];
    const ns = this.byNamespace.get(namespace);
    return ns === undefined ? [] : [...ns.values()];
  }

  /**
   * A number that changes whenever an object of `namespace` is added, changed or removed in the cache (0: never
   * held one): callers memoise what they derive from a namespace's objects by it.
   */
  namespaceVersion(namespace: string): number {
    return this.namespaceVersions.get(namespace) ?? 0;
  }

  private bumpNamespace(namespace: string): void {
    this.namespaceVersions.set(namespace, (this.namespaceVersions.get(namespace) ?? 0) + 1);
  }

  /** Namespaces that hold at least one cached object. */
  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  /** The cached object, or undefined. Cluster-scoped objects have namespace ''. */
  get(namespace: string, name: string): T | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  /** Keys (`namespace/name`) of every cached object; convenient as a controller's listKeys. */
  keys(): string[] {
    return [...this.cache.keys()];
  }

  private touch(): void {
    this.lastActivity = this.clock.now();
  }

  private countRestart(reason: InformerRestartReason, error?: KubeError): void {
    this.restartCount++;
    try {
      this.onRestart?.(reason, error);
    } catch (e: unknown) {
      this.logger.error({ err: e }, 'onRestart callback threw');
    }
  }

  private async run(stop: AbortSignal): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!stop.aborted) {
      const cycle = new AbortController();
      this.cycle = cycle;
      this.touch();
      try {
        if (needList) {
          this.phase = 'listing';
          if (!(await this.relist(cycle.signal))) continue;
          needList = false;
          if (!this.synced) {
            this.synced = true;
            this.logger.info({ objects: this.cache.size }, 'synced');
          }
          this.touch();
        }
        this.phase = 'watching';
        const started = this.clock.now();
        const outcome = await this.watchOnce(cycle.signal);
        if (cycle.signal.aborted) {
          needList = true;
          continue;
        }
        if (outcome.gone) {
          this.logger.debug({ resourceVersion: this.resourceVersion }, 'resourceVersion expired (410); relisting');
          needList = true;
          continue;
        }
        if (outcome.events === 0 && this.clock.now() - started < this.minWatchMs) {
          failures++;
          await this.backoffSleep(failures, cycle.signal);
        } else {
          failures = 0;
        }
      } catch (e: unknown) {
        if (stop.aborted) break;
        if (cycle.signal.aborted) {
          needList = true;
          continue;
        }
        const err = toKubeError(e instanceof WatchErrorEvent ? e.status : e);
        needList = true;
        if (err.code === 'Gone') continue;
        failures++;
        this.countRestart('error', err);
        this.logger.warn({ err: describeKubeError(err), failures }, 'list/watch failed; relisting after back-off');
        await this.backoffSleep(failures, cycle.signal);
      }
    }
    this.phase = 'stopped';
  }

  /**
   * Lists into the cache; false when `cycle` was aborted meanwhile. A method of its own, with a signal of its own
   * for the request, so that nothing of the list response outlives it: as a local of the run loop, which then waits
   * on the watch, the whole typed list (every pod with its full spec, before the transform) stayed reachable — a
   * heap snapshot at 5 000 pods found it there — and so did whatever the request left listening on the cycle's signal.
   */
  private async relist(cycle: AbortSignal): Promise<boolean> {
    const request = new AbortController();
    const abort = (): void => request.abort();
    cycle.addEventListener('abort', abort, { once: true });
    try {
      const result = await this.source.list(request.signal, this.transform);
      if (cycle.aborted) return false;
      this.replace(result.items, result.transformed === true);
      this.resourceVersion = result.resourceVersion;
      this.advancedAt = this.clock.now();
      this.releaseWaiters();
      return true;
    } finally {
      cycle.removeEventListener('abort', abort);
    }
  }

  private async backoffSleep(failures: number, signal: AbortSignal): Promise<void> {
    this.phase = 'backoff';
    const delay = Math.min(this.initialBackoffMs * 2 ** (failures - 1), this.maxBackoffMs);
    await this.clock.sleep(delay, signal).catch(() => undefined);
  }

  private async watchOnce(signal: AbortSignal): Promise<{ gone: boolean; events: number }> {
    let gone = false;
    let events = 0;
    let errorStatus: unknown;
    // A sub-signal so an ERROR event can end this watch without ending the cycle.
    const watchAbort = new AbortController();
    const onCycleAbort = (): void => watchAbort.abort();
    signal.addEventListener('abort', onCycleAbort, { once: true });
    let probe: Promise<{ version: string; at: number } | undefined> | undefined;
    try {
      await this.source.watch(
        this.resourceVersion,
        {
          onConnect: () => {
            this.touch();
            if (this.source.currentVersion !== undefined && this.progressProbeMs > 0 && this.clock.now() - this.advancedAt >= this.progressProbeMs) {
              probe = this.probeVersion(watchAbort.signal);
            }
          },
          onEvent: (type, object) => {
            if (watchAbort.signal.aborted) return;
            this.touch();
            events++;
            if (type === 'ERROR') {
              const status = object as { code?: unknown } | undefined;
              if (status?.code === 410) gone = true;
              else errorStatus = object ?? { code: 500, kind: 'Status', message: 'watch ERROR event' };
              watchAbort.abort();
              return;
            }
            this.apply(type, object as T);
          },
        },
        watchAbort.signal,
      );
    } finally {
      signal.removeEventListener('abort', onCycleAbort);
    }
    if (errorStatus !== undefined) throw new WatchErrorEvent(errorStatus);
    const probed = await probe;
    if (!gone && !signal.aborted && probed !== undefined && this.clock.now() - probed.at >= this.progressSettleMs) this.adopt(probed.version);
    return { gone, events };
  }

  /**
   * The collection's current version (see InformerOptions.progressProbeMs) and when it was read; undefined when the
   * source could not say (the watch goes on as before). Never rejects.
   */
  private async probeVersion(signal: AbortSignal): Promise<{ version: string; at: number } | undefined> {
    this.advancedAt = this.clock.now(); // one probe per progressProbeMs, answered or not
    try {
      this.onProgressProbe?.();
      const version = await (this.source.currentVersion?.(signal) ?? Promise.resolve(''));
      return version === '' || signal.aborted ? undefined : { version, at: this.clock.now() };
    } catch (e: unknown) {
      this.logger.debug({ err: describeKubeError(toKubeError(e)) }, 'could not read the current resourceVersion');
      return undefined;
    }
  }

  /** Moves the resourceVersion forward to `version` (never back: an event may have passed it meanwhile). */
  private adopt(version: string): void {
    // Not comparable (a version that is not a number): keep ours.
    if (compareResourceVersions(version, this.resourceVersion) !== 1) return;
    this.logger.debug({ from: this.resourceVersion, to: version }, 'quiet watch: resourceVersion moved to the current one');
    this.resourceVersion = version;
    this.advancedAt = this.clock.now();
    this.releaseWaiters();
  }

  private apply(type: string, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(obj);
        break;
      case 'DELETED':
        this.remove(keyOf(obj), obj);
        break;
      case 'BOOKMARK':
        break;
      default:
        this.logger.debug({ type }, 'ignoring unknown watch event type');
        return;
    }
    if (rv !== undefined && rv !== '') {
      if (rv !== this.resourceVersion) this.advancedAt = this.clock.now();
      this.resourceVersion = rv;
      this.releaseWaiters();
    }
  }

  /**
   * Caches `raw` (through the transform unless `transformed`; what `keep` returns of it) and tells the handlers what
   * changed, with the whole transformed object.
   */
  private upsert(raw: T, transformed = false): void {
    const obj = this.transform && !transformed ? this.transform(raw) : raw;
    const key = keyOf(obj);
    const old = this.cache.get(key);
    const kept = this.keep ? this.keep(obj) : obj;
    this.cache.set(key, kept);
    const namespace = obj.metadata?.namespace ?? '';
    let index = this.byNamespace.get(namespace);
    if (index === undefined) this.byNamespace.set(namespace, (index = new Map<string, T>()));
    index.set(key, kept);
    if (old === undefined) {
      this.bumpNamespace(namespace);
      this.emit((h) => h.onAdd?.(obj));
    } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      this.bumpNamespace(namespace);
      this.emit((h) => h.onUpdate?.(obj, old));
    }
  }

  private remove(key: string, obj: T): void {
    const old = this.cache.get(key);
    if (old === undefined) return;
    this.cache.delete(key);
    const namespace = old.metadata?.namespace ?? '';
    const index = this.byNamespace.get(namespace);
    index?.delete(key);
    if (index?.size === 0) this.byNamespace.delete(namespace);
    this.bumpNamespace(namespace);
    this.emit((h) => h.onDelete?.(obj));
  }

  /** Makes the cache equal to `items`, emitting only real differences. */
  private replace(items: readonly T[], transformed: boolean): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(keyOf(obj));
      this.upsert(obj, transformed);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) this.remove(key, old);
    }
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    if (this.phase === 'stopped') return;
    for (const h of [...this.handlers]) {
      try {
        call(h);
      } catch (e: unknown) {
        this.logger.error({ err: e }, 'informer handler threw');
      }
    }
  }

  private async watchdog(stop: AbortSignal): Promise<void> {
    if (!(this.staleAfterMs > 0)) return;
    const interval = Math.max(1, Math.floor(this.staleAfterMs / 3));
    for (;;) {
      try {
        await this.clock.sleep(interval, stop);
      } catch {
        return;
      }
      const quiet = this.clock.now() - this.lastActivity;
      if ((this.phase === 'listing' || this.phase === 'watching') && quiet >= this.staleAfterMs) {
        this.logger.warn({ quietMs: quiet }, 'no list/watch activity; restarting');
        this.restart('stale');
      }
    }
  }
}
