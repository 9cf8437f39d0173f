/**
 * Lease-based leader election with client-go's rules (k8s.io/client-go/tools/leaderelection):
 * - acquire the Lease when it does not exist, when we already hold it, when it has no holder (released), or when
 *   the holder has not renewed for `leaseDurationSeconds` — measured on OUR clock from the moment we last saw the
 *   record change (client-go #448), never by comparing the remote renewTime with our clock (clock skew);
 * - writes are optimistic (resourceVersion): a 409 means another candidate won the race;
 * - the leader renews every `retryPeriodMs`; if no renewal succeeded for `renewDeadlineMs` it steps down (before
 *   the lease can expire for others, since renewDeadline < leaseDuration);
 * - stop() releases the Lease (empty holder, leaseDurationSeconds 1) so a standby takes over at once.
 * renewTime/acquireTime are MicroTime: written as k8s.V1MicroTime (six fractional digits; a plain Date is 400).
 */
import * as k8s from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { requestOptions } from '../k8s/client.js';
import { describeKubeError, isAlreadyExists, isConflict, isNotFound, toKubeError } from '../k8s/errors.js';
import { silentLogger, type Logger } from '../observability/logger.js';

/** The Lease fields election reads and writes, times in ms since the epoch. */
export interface LeaseRecord {
  /** Empty or undefined: nobody holds it. */
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: number;
  readonly renewTime?: number;
  readonly leaseTransitions?: number;
}

/** A LeaseRecord as stored, with the resourceVersion that guards the next write. */
export interface StoredLease extends LeaseRecord {
  readonly resourceVersion: string;
}

/** Access to one Lease object. Errors are KubeErrors (AlreadyExists on create, Conflict on a stale update). */
export interface LeaseStore {
  /** Human-readable location, e.g. `kubeskippy-system/kubeskippy-leader`. */
  readonly describe: string;
  /** The Lease, or undefined when it does not exist. */
  get(signal?: AbortSignal): Promise<StoredLease | undefined>;
  create(record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease>;
  /** Replaces the Lease if it is still at `resourceVersion`. */
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<StoredLease>;
  /**
   * Optional: when (our clock) this version of the Lease was first seen by someone watching it for us — a sharded
   * replica's watch of every Lease (runtime/sharding.ts). The elector then counts the lease duration from there
   * instead of from its own first read. Undefined: not known.
   */
  observedSince?(lease: StoredLease): number | undefined;
}

/** Reads a MicroTime/Time field: client-node returns the JSON string unchanged for MicroTime, a Date for Time. */
export function microTimeToMs(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function toStored(lease: k8s.V1Lease): StoredLease {
  const s = lease.spec ?? {};
  const acquireTime = microTimeToMs(s.acquireTime);
  const renewTime = microTimeToMs(s.renewTime);
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    ...(s.holderIdentity === undefined ? {} : { holderIdentity: s.holderIdentity }),
    ...(s.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: s.leaseDurationSeconds }),
    ...(acquireTime === undefined ? {} : { acquireTime }),
    ...(renewTime === undefined ? {} : { renewTime }),
    ...(s.leaseTransitions === undefined ? {} : { leaseTransitions: s.leaseTransitions }),
  };
}

/** The Lease spec for `record`, with MicroTime values that serialise with six fractional digits. */
export function toLeaseSpec(record: LeaseRecord): k8s.V1LeaseSpec {
  return {
    holderIdentity: record.holderIdentity ?? '',
    ...(record.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: record.leaseDurationSeconds }),
    ...(record.acquireTime === undefined ? {} : { acquireTime: new k8s.V1MicroTime(record.acquireTime) }),
    ...(record.renewTime === undefined ? {} : { renewTime: new k8s.V1MicroTime(record.renewTime) }),
    ...(record.leaseTransitions === undefined ? {} : { leaseTransitions: record.leaseTransitions }),
  };
}

/** The CoordinationV1Api methods a LeaseStore uses. */
export type LeaseApi = Pick<k8s.CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** A LeaseStore over the real API (`kc.makeApiClient(k8s.CoordinationV1Api)`). Errors are mapped to KubeError. */
export function createLeaseStore(api: LeaseApi, namespace: string, name: string): LeaseStore {
  const metadata = (resourceVersion?: string): k8s.V1ObjectMeta => ({
    name,
    namespace,
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  });
  return {
    describe: `${namespace}/${name}`,
    async get(signal) {
      try {
        return toStored(await api.readNamespacedLease({ name, namespace }, requestOptions(signal)));
      } catch (e: unknown) {
        if (isNotFound(e)) return undefined;
        throw toKubeError(e);
      }
    },
    async create(record, signal) {
      try {
        const body: k8s.V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: metadata(), spec: toLeaseSpec(record) };
        return toStored(await api.createNamespacedLease({ namespace, body }, requestOptions(signal)));
      } catch (e: unknown) {
        throw toKubeError(e);
      }
    },
    async update(record, resourceVersion, signal) {
      try {
        const body: k8s.V1Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: metadata(resourceVersion),
          spec: toLeaseSpec(record),
        };
        return toStored(await api.replaceNamespacedLease({ name, namespace, body }, requestOptions(signal)));
      } catch (e: unknown) {
        throw toKubeError(e);
      }
    },
  };
}

/** Why this candidate stopped leading. */
export type StepDownReason = 'renew-deadline' | 'lost' | 'released';

/** Leadership callbacks. Exceptions thrown by them are logged and ignored. */
export interface LeadershipListener {
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: (reason: StepDownReason) => void;
  /** The observed holder changed (undefined: nobody holds it). */
  readonly onNewLeader?: (identity: string | undefined) => void;
}

/** Options of a LeaderElector. */
export interface LeaderElectorOptions extends LeadershipListener {
  readonly store: LeaseStore;
  /** This candidate's unique identity (pod name + a random suffix is a good choice). */
  readonly identity: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How long a lease is valid after its last renewal, as written into the Lease; default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before stepping down; default 10 s. Must be < leaseDuration. */
  readonly renewDeadlineMs?: number;
  /** Interval between attempts; default 2 s. renewDeadline must exceed 1.2 × retryPeriod. */
  readonly retryPeriodMs?: number;
  /** Random number in [0, 1) for the jitter of acquire attempts; default Math.random. */
  readonly random?: () => number;
  /** Set to 1 while leading and 0 otherwise (the kubeskippy_leader gauge). */
  readonly leaderGauge?: { set(value: number): void };
}

/** client-go's JitterFactor: acquire retries wait retryPeriod · (1 + 1.2 · rand). */
const JITTER_FACTOR = 1.2;

type Attempt = 'acquired' | 'renewed' | 'held' | 'conflict' | 'error';

/**
 * Campaigns for one Lease. `start()` begins the loop; `isLeader()` says whether this candidate may act now;
 * `stop()` ends the loop and releases the Lease if held. Construction throws RangeError for inconsistent timings.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly store: LeaseStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly random: () => number;
  private readonly gauge: { set(value: number): void } | undefined;
  private readonly listeners: LeadershipListener[] = [];

  private leading = false;
  private lastRenew = 0;
  private observed: StoredLease | undefined;
  /** Our clock's time when `observed` last changed. */
  private observedAt = 0;
  private loop: Promise<void> | undefined;
  private stopController: AbortController | undefined;

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.store = options.store;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'leader-election', lease: options.store.describe, identity: options.identity });
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.random = options.random ?? Math.random;
    this.gauge = options.leaderGauge;
    if (this.identity === '') throw new RangeError('leader election identity must not be empty');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > JITTER_FACTOR * this.retryPeriodMs)) throw new RangeError('renewDeadline must be greater than 1.2 × retryPeriod');
    if (!(this.retryPeriodMs > 0)) throw new RangeError('retryPeriod must be positive');
    if (this.leaseDurationMs % 1000 !== 0) throw new RangeError('leaseDuration must be whole seconds (Lease.spec.leaseDurationSeconds)');
    this.listeners.push(options);
  }

  /** Adds leadership callbacks; returns a function that removes them. */
  subscribe(listener: LeadershipListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /**
   * True while this candidate leads AND its last successful renewal is younger than renewDeadline — checked against
   * the clock on every call, so it turns false on time even if the renew loop is starved.
   */
  isLeader(): boolean {
    return this.leading && this.clock.now() - this.lastRenew < this.renewDeadlineMs;
  }

  /** The holder seen in the last read of the Lease (undefined if none or not read yet). */
  leader(): string | undefined {
    const holder = this.observed?.holderIdentity;
    return holder === undefined || holder === '' ? undefined : holder;
  }

  /** True between start() and the end of stop(). */
  isRunning(): boolean {
    return this.loop !== undefined;
  }

  /** Starts campaigning (idempotent). */
  start(): void {
    if (this.loop !== undefined) return;
    const stop = new AbortController();
    this.stopController = stop;
    this.loop = this.run(stop.signal);
  }

  /**
   * Stops campaigning; if leading, steps down (onStoppedLeading('released')) and releases the Lease so another
   * candidate can take it immediately. Release failures are logged, never thrown. Idempotent.
   */
  async stop(): Promise<void> {
    const loop = this.loop;
    if (loop === undefined) return;
    this.stopController?.abort();
    await loop;
    const wasLeading = this.leading;
    this.setLeading(false, 'released');
    if (wasLeading) await this.release();
    this.loop = undefined;
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      const started = this.clock.now();
      let wait: number;
      if (this.leading) {
        const remaining = this.lastRenew + this.renewDeadlineMs - started;
        if (remaining <= 0) {
          this.logger.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew the lease within the renew deadline; stepping down');
          this.setLeading(false, 'renew-deadline');
          continue;
        }
        const result = await this.attempt(stop, remaining);
        if (stop.aborted) break;
        if (result === 'renewed' || result === 'acquired') {
          this.lastRenew = started;
        } else if (result === 'held') {
          this.logger.warn({ holder: this.leader() }, 'another candidate holds the lease; stepping down');
          this.setLeading(false, 'lost');
          continue;
        }
        const left = this.lastRenew + this.renewDeadlineMs - this.clock.now();
        wait = Math.max(0, Math.min(this.retryPeriodMs, left));
      } else {
        const result = await this.attempt(stop, this.renewDeadlineMs);
        if (stop.aborted) break;
        if (result === 'acquired' || result === 'renewed') {
          this.lastRenew = started;
          this.setLeading(true);
          wait = this.retryPeriodMs;
        } else {
          wait = this.retryPeriodMs * (1 + JITTER_FACTOR * this.random());
        }
      }
      try {
        await this.clock.sleep(wait, stop);
      } catch {
        break;
      }
    }
  }

  /** One tryAcquireOrRenew, abandoned (and its request aborted) after `timeoutMs`. */
  private async attempt(stop: AbortSignal, timeoutMs: number): Promise<Attempt> {
    const ac = new AbortController();
    const onStop = (): void => ac.abort();
    stop.addEventListener('abort', onStop, { once: true });
    const timer = new AbortController();
    const timeout = this.clock.sleep(timeoutMs, timer.signal).then(
      () => {
        ac.abort(new Error('lease attempt timed out'));
        return 'error' as const;
      },
      () => 'error' as const,
    );
    try {
      return await Promise.race([this.tryAcquireOrRenew(ac.signal), timeout]);
    } finally {
      timer.abort();
      stop.removeEventListener('abort', onStop);
    }
  }

  /**
   * A renewal without reading the Lease first, from the version we last wrote (client-go's elector keeps its
   * record the same way): half the requests of read-then-write, which was the bulk of a quiet operator's API traffic
   * (docs/benchmarks.md). Undefined when it does not apply or someone else wrote the Lease since (409): the caller
   * then reads it and decides as usual.
   */
  private async tryRenewFromCache(signal: AbortSignal): Promise<Attempt | undefined> {
    const held = this.observed;
    if (!this.leading || held === undefined || held.holderIdentity !== this.identity) return undefined;
    const now = this.clock.now();
    const next: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: held.acquireTime ?? now,
      renewTime: now,
      leaseTransitions: held.leaseTransitions ?? 0,
    };
    try {
      const updated = await this.store.update(next, held.resourceVersion, signal);
      if (signal.aborted) return 'error';
      this.observe(updated);
      return 'renewed';
    } catch (e: unknown) {
      if (isConflict(e)) return undefined;
      if (!signal.aborted) this.logger.warn({ err: describeKubeError(e) }, 'cannot renew the lease');
      return 'error';
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const renewed = await this.tryRenewFromCache(signal);
    if (renewed !== undefined) return renewed;
    const now = this.clock.now();
    let current: StoredLease | undefined;
    try {
      current = await this.store.get(signal);
    } catch (e: unknown) {
      if (!signal.aborted) this.logger.warn({ err: describeKubeError(e) }, 'cannot read the lease');
      return 'error';
    }
    if (signal.aborted) return 'error';
    const mine: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: now,
      renewTime: now,
    };
    if (current === undefined) {
      try {
        const created = await this.store.create({ ...mine, leaseTransitions: 0 }, signal);
        if (signal.aborted) return 'error';
        this.observe(created);
        return 'acquired';
      } catch (e: unknown) {
        if (isAlreadyExists(e)) return 'conflict';
        if (!signal.aborted) this.logger.warn({ err: describeKubeError(e) }, 'cannot create the lease');
        return 'error';
      }
    }
    this.observe(current);
    const holder = current.holderIdentity ?? '';
    const weHold = holder === this.identity;
    const durationMs = (current.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    if (holder !== '' && !weHold && this.observedAt + durationMs > now) return 'held';
    const next: LeaseRecord = weHold
      ? { ...mine, acquireTime: current.acquireTime ?? now, leaseTransitions: current.leaseTransitions ?? 0 }
      : { ...mine, leaseTransitions: (current.leaseTransitions ?? 0) + 1 };
    try {
      const updated = await this.store.update(next, current.resourceVersion, signal);
      if (signal.aborted) return 'error';
      this.observe(updated);
      return weHold ? 'renewed' : 'acquired';
    } catch (e: unknown) {
      if (isConflict(e)) return 'conflict';
      if (!signal.aborted) this.logger.warn({ err: describeKubeError(e) }, 'cannot update the lease');
      return 'error';
    }
  }

  /** Records what we saw; the local observation time moves only when the record changed. */
  private observe(lease: StoredLease): void {
    if (this.observed?.resourceVersion === lease.resourceVersion) return;
    const before = this.leader();
    this.observed = lease;
    this.observedAt = Math.min(this.clock.now(), this.store.observedSince?.(lease) ?? Number.POSITIVE_INFINITY);
    const after = this.leader();
    if (before !== after) {
      this.logger.info({ holder: after ?? null }, 'lease holder changed');
      this.notify((l) => l.onNewLeader?.(after));
    }
  }

  private setLeading(leading: boolean, reason: StepDownReason = 'released'): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.gauge?.set(leading ? 1 : 0);
    if (leading) {
      this.logger.info('started leading');
      this.notify((l) => l.onStartedLeading?.());
    } else {
      this.logger.info({ reason }, 'stopped leading');
      this.notify((l) => l.onStoppedLeading?.(reason));
    }
  }

  private notify(call: (listener: LeadershipListener) => void): void {
    for (const listener of [...this.listeners]) {
      try {
        call(listener);
      } catch (e: unknown) {
        this.logger.error({ err: e }, 'leadership callback threw');
      }
    }
  }

  /** Clears the holder if it is still us (client-go's ReleaseOnCancel). */
  private async release(): Promise<void> {
    const ac = new AbortController();
    const timer = new AbortController();
    const timeout = this.clock.sleep(this.renewDeadlineMs, timer.signal).then(
      () => ac.abort(new Error('lease release timed out')),
      () => undefined,
    );
    try {
      const current = await Promise.race([this.store.get(ac.signal), timeout.then(() => undefined)]);
      if (current === undefined || current.holderIdentity !== this.identity) return;
      const now = this.clock.now();
      const released: LeaseRecord = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: current.leaseTransitions ?? 0,
      };
      const updated = await Promise.race([this.store.update(released, current.resourceVersion, ac.signal), timeout.then(() => undefined)]);
      if (updated !== undefined) {
        this.observe(updated);
        this.logger.info('released the lease');
      }
    } catch (e: unknown) {
      this.logger.warn({ err: describeKubeError(e) }, 'cannot release the lease; others take over when it expires');
    } finally {
      timer.abort();
    }
  }
}
