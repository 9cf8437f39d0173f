/**
 * Sharding namespaces across replicas (docs/scaling.md). With `sharding.shards` = N > 1:
 *
 * - every namespace belongs to one shard, by a stable hash of its name (shardOf);
 * - every replica renews a member Lease of its own (`kubeskippy-member-<identity>`); the live members are those
 *   whose member Lease was seen renewed within its duration, measured on OUR clock from the moment we saw it
 *   change (client-go's rule, as for leader election);
 * - shard s is desired by the live member that wins rendezvous hashing — the highest hash(s, member) — so that when
 *   a member comes or goes only the shards it wins or held move, spread over the others;
 * - a replica campaigns (the existing LeaderElector, unchanged rules) for the Lease `kubeskippy-shard-<s>` of each
 *   shard it desires, and stops campaigning for — releases — the ones it no longer desires. The shard Lease, not the
 *   hash, is what lets a replica act: two replicas whose views of the membership differ for a moment cannot both
 *   hold a shard.
 *
 * The coordinator is the Manager's elector: it "leads" while its member Lease is renewed, so the controllers run
 * on every live replica, and each reconcile asks holdsNamespace() whether this replica currently holds the shard of
 * the namespace concerned. Losing the member Lease ends the replica (its shards are being taken over), as losing the
 * single leader Lease does.
 *
 * Takeover after a crash: the dead member's Leases stop being renewed at the same moment; the others see its member
 * Lease expire after leaseDuration, desire its shards, and the shard Leases — whose last change they have been
 * watching all along (LeaseView.observedAt, seeded into each elector) — are expired by then, so they are taken at
 * the next attempt. After a clean stop both Leases are released and the takeover is immediate.
 */
import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import { LeaderElector, type LeadershipListener, type LeaseStore, type StoredLease } from './leader-election.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { hash32 } from './hash.js';

/** Name prefix of the member Leases. */
export const MEMBER_LEASE_PREFIX = 'kubeskippy-member-';
/** Name prefix of the shard Leases. */
export const SHARD_LEASE_PREFIX = 'kubeskippy-shard-';

/** The shard of a namespace: stable across replicas, restarts and versions (a hash of the name), in [0, shards). */
export function shardOf(namespace: string, shards: number): number {
  return shards <= 1 ? 0 : hash32(namespace) % shards;
}

function score(shard: number, member: string): string {
  return createHash('sha256').update(`${shard}\u0000${member}`).digest('hex');
}

/**
 * The member that owns `shard` among `members` by rendezvous hashing: the highest score(shard, member) (ties by
 * name). Undefined without members. Pure.
 */
export function shardOwner(shard: number, members: readonly string[]): string | undefined {
  let best: { member: string; score: string } | undefined;
  for (const member of members) {
    const s = score(shard, member);
    if (best === undefined || s > best.score || (s === best.score && member < best.member)) best = { member, score: s };
  }
  return best?.member;
}

/** The shards `identity` should hold among `members` (it must be one of them to hold any). Pure. */
export function desiredShards(identity: string, members: readonly string[], shards: number): number[] {
  if (!members.includes(identity)) return [];
  return Array.from({ length: shards }, (_, s) => s).filter((s) => shardOwner(s, members) === identity);
}

/** The Lease name of shard `s`. */
export function shardLeaseName(shard: number): string {
  return `${SHARD_LEASE_PREFIX}${shard}`;
}

/**
 * The member Lease name of `identity`: a DNS subdomain, so an identity with other characters (or too long) is
 * lowered, cleaned and suffixed with a hash of the original, so that two identities never share a Lease.
 */
export function memberLeaseName(identity: string): string {
  const clean = identity.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').replace(/[^a-z0-9]+$/, '');
  const name = `${MEMBER_LEASE_PREFIX}${clean}`;
  if (clean === identity && name.length <= 253 && clean !== '') return name;
  return `${name.slice(0, 240).replace(/[^a-z0-9]+$/, '')}-${hash32(identity).toString(16).padStart(8, '0')}`;
}

/** A Lease as the coordinator's watch saw it. */
export interface WatchedLease {
  readonly name: string;
  readonly holderIdentity?: string | undefined;
  readonly leaseDurationSeconds?: number | undefined;
  readonly resourceVersion: string;
}

/** The Leases of the operator's namespace, from a watch. */
export interface LeaseView {
  list(): readonly WatchedLease[];
  /** When (our clock) the watch delivered version `resourceVersion` of Lease `name`; undefined if it has not. */
  observedAt(name: string, resourceVersion: string): number | undefined;
}

/** Options of a ShardCoordinator. */
export interface ShardCoordinatorOptions {
  readonly identity: string;
  readonly shards: number;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** A LeaseStore for a Lease of the operator's namespace by name (createLeaseStore). */
  readonly store: (name: string) => LeaseStore;
  readonly leases: LeaseView;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly random?: () => number;
  /** Called (synchronously, from the election loops) when this replica starts or stops holding shards. */
  readonly onShardsChanged?: (change: { readonly acquired: readonly number[]; readonly lost: readonly number[] }) => void;
  /** Gauges: shards held, live members seen, and 1 while holding shard 0 (the operator-wide duties). */
  readonly gauges?: { readonly held?: { set(v: number): void }; readonly members?: { set(v: number): void }; readonly leader?: { set(v: number): void } };
}

/**
 * Runs the member Lease and one LeaderElector per desired shard (see the module comment). Implements the Manager's
 * elector contract: start(), stop(), isLeader() (= the member Lease is held), subscribe() (member Lease callbacks).
 */
export class ShardCoordinator {
  readonly identity: string;
  private readonly options: ShardCoordinatorOptions;
  private readonly logger: Logger;
  private readonly member: LeaderElector;
  private readonly electors = new Map<number, LeaderElector>();
  private readonly held = new Set<number>();
  private readonly releasing = new Set<Promise<void>>();
  private readonly shardCache = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private stopLoop: AbortController | undefined;
  private wake: (() => void) | undefined;
  private liveCount = 0;

  constructor(options: ShardCoordinatorOptions) {
    if (!Number.isInteger(options.shards) || options.shards < 1) throw new RangeError(`shards must be a positive integer, got ${options.shards}`);
    this.options = options;
    this.identity = options.identity;
    this.logger = (options.logger ?? silentLogger).child({ component: 'sharding', identity: options.identity });
    this.member = this.elector(memberLeaseName(options.identity));
  }

  /** Shard of a namespace (memoised). */
  shardOf(namespace: string): number {
    let s = this.shardCache.get(namespace);
    if (s === undefined) {
      s = shardOf(namespace, this.options.shards);
      if (this.shardCache.size > 100_000) this.shardCache.clear();
      this.shardCache.set(namespace, s);
    }
    return s;
  }

  /** Whether this replica holds shard `s` now (its Lease renewed within the renew deadline). */
  holdsShard(shard: number): boolean {
    return this.electors.get(shard)?.isLeader() === true;
  }

  /** Whether this replica may act in `namespace` now. */
  holdsNamespace(namespace: string): boolean {
    return this.holdsShard(this.shardOf(namespace));
  }

  /** The shards held now, ascending. */
  heldShards(): number[] {
    return [...this.electors.keys()].filter((s) => this.holdsShard(s)).sort((a, b) => a - b);
  }

  /** True while the member Lease is held: this replica is a live member (the Manager runs its controllers). */
  isLeader(): boolean {
    return this.member.isLeader();
  }

  /** The holder of shard 0 as last seen (for the dashboard's "leader"). */
  leader(): string | undefined {
    const lease = this.options.leases.list().find((l) => l.name === shardLeaseName(0));
    return lease?.holderIdentity === undefined || lease.holderIdentity === '' ? undefined : lease.holderIdentity;
  }

  /** Member Lease callbacks (the Manager starts controllers on start, shuts down on loss). */
  subscribe(listener: LeadershipListener): () => void {
    return this.member.subscribe(listener);
  }

  /** The live members as seen now, this replica included while its member Lease is held; sorted. */
  liveMembers(now = this.options.clock.now()): string[] {
    const out = new Set<string>();
    for (const l of this.options.leases.list()) {
      if (!l.name.startsWith(MEMBER_LEASE_PREFIX) || l.holderIdentity === undefined || l.holderIdentity === '') continue;
      const seen = this.options.leases.observedAt(l.name, l.resourceVersion);
      const durationMs = (l.leaseDurationSeconds ?? this.options.leaseDurationMs / 1000) * 1000;
      if (seen !== undefined && seen + durationMs > now) out.add(l.holderIdentity);
    }
    if (this.member.isLeader()) out.add(this.identity);
    else out.delete(this.identity);
    return [...out].sort();
  }

  /** Re-examines membership at once (call on a change of a Lease of the namespace). */
  poke(): void {
    this.wake?.();
  }

  /** Starts the member Lease and the shard loop (idempotent). */
  start(): void {
    if (this.loop !== undefined) return;
    this.member.start();
    const stop = new AbortController();
    this.stopLoop = stop;
    this.loop = this.run(stop.signal);
  }

  /**
   * Stops: releases every shard Lease held (after the Manager drained the controllers), then the member Lease, so
   * the others take over at once. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.loop === undefined) return;
    this.stopLoop?.abort();
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await Promise.all([...this.electors.values()].map((e) => e.stop()));
    this.electors.clear();
    await Promise.all([...this.releasing]);
    this.changed();
    await this.member.stop();
  }

  private elector(lease: string, shard?: number): LeaderElector {
    const o = this.options;
    const base = o.store(lease);
    // The elector starts from what our watch has seen of the Lease (when it last changed), so that a Lease whose
    // holder died long ago is known to be expired at the first look, not a whole leaseDuration later.
    const store: LeaseStore = { ...base, observedSince: (l: StoredLease) => o.leases.observedAt(lease, l.resourceVersion) };
    const elector = new LeaderElector({
      store,
      identity: o.identity,
      clock: o.clock,
      logger: this.logger,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      ...(o.random === undefined ? {} : { random: o.random }),
      ...(shard === 0 && o.gauges?.leader !== undefined ? { leaderGauge: o.gauges.leader } : {}),
    });
    if (shard !== undefined) {
      elector.subscribe({ onStartedLeading: () => this.changed(), onStoppedLeading: () => this.changed() });
    }
    return elector;
  }

  /** Compares the shards held with the last report and reports the difference. */
  private changed(): void {
    const now = new Set(this.heldShards());
    const acquired = [...now].filter((s) => !this.held.has(s));
    const lost = [...this.held].filter((s) => !now.has(s));
    if (acquired.length === 0 && lost.length === 0) return;
    this.held.clear();
    for (const s of now) this.held.add(s);
    this.options.gauges?.held?.set(now.size);
    this.logger.info({ held: [...now].sort((a, b) => a - b), acquired, lost }, 'shards changed');
    try {
      this.options.onShardsChanged?.({ acquired, lost });
    } catch (e: unknown) {
      this.logger.error({ err: e }, 'onShardsChanged threw');
    }
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      this.rebalance();
      this.changed();
      await new Promise<void>((resolve) => {
        const timer = new AbortController();
        this.wake = () => {
          timer.abort();
          resolve();
        };
        this.options.clock.sleep(this.options.retryPeriodMs, timer.signal).then(
          () => resolve(),
          () => resolve(),
        );
      });
      this.wake = undefined;
    }
  }

  /** Starts electors for the shards this replica should hold, stops (releases) the others. */
  private rebalance(): void {
    const members = this.liveMembers();
    if (members.length !== this.liveCount) {
      this.liveCount = members.length;
      this.options.gauges?.members?.set(members.length);
      this.logger.info({ members }, 'live members changed');
    }
    const desired = new Set(desiredShards(this.identity, members, this.options.shards));
    for (const s of desired) {
      if (this.electors.has(s)) continue;
      const e = this.elector(shardLeaseName(s), s);
      this.electors.set(s, e);
      e.start();
    }
    for (const [s, e] of [...this.electors]) {
      if (desired.has(s)) continue;
      this.electors.delete(s);
      const done = e.stop().finally(() => {
        this.releasing.delete(done);
        this.changed();
      });
      this.releasing.add(done);
    }
  }
}
