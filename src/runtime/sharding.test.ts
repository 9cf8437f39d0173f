import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { KubeError } from '../k8s/errors.js';
import type { LeaseRecord, LeaseStore, StoredLease } from './leader-election.js';
import { desiredShards, memberLeaseName, MEMBER_LEASE_PREFIX, ShardCoordinator, shardLeaseName, shardOf, shardOwner, type LeaseView, type WatchedLease } from './sharding.js';

describe('shardOf', () => {
  it('is stable and spreads namespaces over the shards', () => {
    expect(shardOf('shop', 8)).toBe(shardOf('shop', 8));
    expect(shardOf('anything', 1)).toBe(0);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`team-${i}`, 8)] = (counts[shardOf(`team-${i}`, 8)] ?? 0) + 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('rendezvous hashing', () => {
  const members = ['a', 'b', 'c'];
  it('gives every shard exactly one owner among the members', () => {
    const all = members.flatMap((m) => desiredShards(m, members, 12));
    expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const m of members) expect(desiredShards(m, members, 12).length).toBeGreaterThan(0);
    expect(desiredShards('stranger', members, 12)).toEqual([]);
    expect(shardOwner(3, [])).toBeUndefined();
  });

  it('moves only the shards of a member that leaves, and only to the others', () => {
    const before = new Map(Array.from({ length: 32 }, (_, s) => [s, shardOwner(s, members)] as const));
    const after = new Map(Array.from({ length: 32 }, (_, s) => [s, shardOwner(s, ['a', 'c'])] as const));
    for (const [s, owner] of before) if (owner !== 'b') expect(after.get(s)).toBe(owner);
    expect([...after.values()].every((o) => o === 'a' || o === 'c')).toBe(true);
  });

  it('does not depend on the order the members are listed in', () => {
    for (let s = 0; s < 16; s++) expect(shardOwner(s, ['c', 'a', 'b'])).toBe(shardOwner(s, members));
  });
});

describe('memberLeaseName', () => {
  it('keeps a DNS-safe identity and makes any other one safe and unique', () => {
    expect(memberLeaseName('kubeskippy-7d9f-x2')).toBe('kubeskippy-member-kubeskippy-7d9f-x2');
    const odd = memberLeaseName('Pod_A:1');
    expect(odd).toMatch(/^kubeskippy-member-[a-z0-9.-]+$/);
    expect(odd).not.toBe(memberLeaseName('pod-a-1'));
    expect(memberLeaseName('x'.repeat(400)).length).toBeLessThanOrEqual(253);
  });
});

/** Leases in memory with the API server's optimistic concurrency, and a watch that sees each change at once. */
class Leases implements LeaseView {
  readonly leases = new Map<string, StoredLease>();
  private readonly seen = new Map<string, { rv: string; at: number }>();
  private rv = 0;
  constructor(private readonly clock: FakeClock) {}

  list(): WatchedLease[] {
    return [...this.leases].map(([name, l]) => ({ name, holderIdentity: l.holderIdentity, leaseDurationSeconds: l.leaseDurationSeconds, resourceVersion: l.resourceVersion }));
  }
  observedAt(name: string, rv: string): number | undefined {
    const s = this.seen.get(name);
    return s?.rv === rv ? s.at : undefined;
  }
  /** A store for one Lease; `dead()` true makes every call hang (a crashed process). */
  store(name: string, dead: () => boolean): LeaseStore {
    const op = <T>(fn: () => T): Promise<T> => (dead() ? new Promise<T>(() => undefined) : Promise.resolve().then(fn));
    const write = (record: LeaseRecord): StoredLease => {
      const l = { ...record, resourceVersion: String(++this.rv) };
      this.leases.set(name, l);
      this.seen.set(name, { rv: l.resourceVersion, at: this.clock.now() });
      return { ...l };
    };
    return {
      describe: name,
      get: () => op(() => (this.leases.has(name) ? { ...this.leases.get(name)! } : undefined)),
      create: (record) =>
        op(() => {
          if (this.leases.has(name)) throw new KubeError('AlreadyExists', 'exists', { status: 409, reason: 'AlreadyExists' });
          return write(record);
        }),
      update: (record, rv) =>
        op(() => {
          if (this.leases.get(name)?.resourceVersion !== rv) throw new KubeError('Conflict', 'stale', { status: 409, reason: 'Conflict' });
          return write(record);
        }),
    };
  }
}

function replica(identity: string, clock: FakeClock, leases: Leases, shards = 6): { c: ShardCoordinator; kill(): void } {
  let dead = false;
  const c = new ShardCoordinator({
    identity,
    shards,
    clock,
    store: (name) => leases.store(name, () => dead),
    leases,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    random: () => 0,
  });
  return { c, kill: () => (dead = true) };
}

async function run(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    await clock.advance(500);
    await flushMicrotasks();
  }
}

describe('ShardCoordinator', () => {
  it('splits the shards between live members, each shard held by one, and takes them all back when the other stops', async () => {
    const clock = new FakeClock();
    const leases = new Leases(clock);
    const a = replica('a', clock, leases);
    const b = replica('b', clock, leases);
    a.c.start();
    b.c.start();
    await run(clock, 10_000);
    const heldA = a.c.heldShards();
    const heldB = b.c.heldShards();
    expect([...heldA, ...heldB].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(heldA.filter((s) => heldB.includes(s))).toEqual([]);
    expect(heldA).toEqual(desiredShards('a', ['a', 'b'], 6));
    expect(a.c.liveMembers()).toEqual(['a', 'b']);
    expect(a.c.holdsNamespace('shop')).toBe(heldA.includes(shardOf('shop', 6)));
    expect(leases.leases.get(`${MEMBER_LEASE_PREFIX}a`)?.holderIdentity).toBe('a');

    // A clean stop releases everything: the other takes over within a retry period, not a lease duration.
    await b.c.stop();
    expect(leases.leases.get(shardLeaseName(heldB[0] ?? 0))?.holderIdentity).toBe('');
    a.c.poke();
    await run(clock, 3_000);
    expect(a.c.heldShards()).toEqual([0, 1, 2, 3, 4, 5]);
    await a.c.stop();
  });

  it('takes over the shards of a member that died once its Leases expire, and never two holders at once', async () => {
    const clock = new FakeClock();
    const leases = new Leases(clock);
    const a = replica('a', clock, leases);
    const b = replica('b', clock, leases);
    const changes: string[] = [];
    a.c.start();
    b.c.start();
    await run(clock, 10_000);
    const heldB = b.c.heldShards();
    expect(heldB.length).toBeGreaterThan(0);
    b.kill();
    let takenAt: number | undefined;
    const killedAt = clock.now();
    for (let t = 0; t < 40_000 && takenAt === undefined; t += 500) {
      await run(clock, 500);
      // Never two holders: B (dead, cannot renew) stops claiming within its renew deadline, before its Lease expires.
      for (const s of heldB) if (a.c.holdsShard(s) && b.c.holdsShard(s)) changes.push(`both hold ${s}`);
      if (heldB.every((s) => a.c.holdsShard(s))) takenAt = clock.now();
    }
    expect(changes).toEqual([]);
    expect(takenAt).toBeDefined();
    // Member Lease expiry (15 s) plus at most a couple of retry periods.
    expect((takenAt ?? 0) - killedAt).toBeLessThanOrEqual(15_000 + 2 * 2_000 + 500);
    expect(a.c.heldShards()).toEqual([0, 1, 2, 3, 4, 5]);
    await a.c.stop();
  });

  it('reports the shards it acquires and loses', async () => {
    const clock = new FakeClock();
    const leases = new Leases(clock);
    const seen: { acquired: readonly number[]; lost: readonly number[] }[] = [];
    const c = new ShardCoordinator({
      identity: 'solo',
      shards: 3,
      clock,
      store: (name) => leases.store(name, () => false),
      leases,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      random: () => 0,
      onShardsChanged: (change) => seen.push(change),
    });
    c.start();
    await run(clock, 6_000);
    expect(c.heldShards()).toEqual([0, 1, 2]);
    expect(seen.flatMap((x) => x.acquired).sort()).toEqual([0, 1, 2]);
    await c.stop();
    expect(seen.flatMap((x) => x.lost).sort()).toEqual([0, 1, 2]);
  });
});
