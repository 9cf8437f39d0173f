import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { createLeaseStore, LeaderElector, microTimeToMs, toLeaseSpec, type LeaseApi, type LeaseRecord, type LeaseStore, type StepDownReason, type StoredLease } from './leader-election.js';
import { KubeError } from '../k8s/errors.js';

/** An in-memory Lease with the API server's optimistic concurrency. */
class MemoryLeaseStore implements LeaseStore {
  readonly describe = 'test/lease';
  lease: StoredLease | undefined;
  private rv = 0;
  failWith: (() => Error) | undefined;
  hang = false;
  writes: LeaseRecord[] = [];
  reads = 0;

  get(signal?: AbortSignal): Promise<StoredLease | undefined> {
    this.reads++;
    return this.op(signal, () => (this.lease === undefined ? undefined : { ...this.lease }));
  }
  create(record: LeaseRecord, signal?: AbortSignal): Promise<StoredLease> {
    return this.op(signal, () => {
      if (this.lease !== undefined) throw new KubeError('AlreadyExists', 'exists', { status: 409, reason: 'AlreadyExists' });
      return this.write(record);
    });
  }
  update(record: LeaseRecord, resourceVersion: string, signal?: AbortSignal): Promise<StoredLease> {
    return this.op(signal, () => {
      if (this.lease?.resourceVersion !== resourceVersion) throw new KubeError('Conflict', 'stale', { status: 409, reason: 'Conflict' });
      return this.write(record);
    });
  }
  /** Another party writes the lease directly. */
  put(record: LeaseRecord): void {
    this.write(record);
  }
  private write(record: LeaseRecord): StoredLease {
    this.writes.push(record);
    this.lease = { ...record, resourceVersion: String(++this.rv) };
    return { ...this.lease };
  }
  private op<T>(signal: AbortSignal | undefined, fn: () => T): Promise<T> {
    if (this.hang) {
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    }
    const fail = this.failWith;
    if (fail !== undefined) return Promise.reject(fail());
    try {
      return Promise.resolve(fn());
    } catch (e: unknown) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }
}

interface Harness {
  clock: FakeClock;
  store: MemoryLeaseStore;
  elector: LeaderElector;
  events: string[];
}

function setup(identity = 'me', store = new MemoryLeaseStore(), clock = new FakeClock()): Harness {
  const events: string[] = [];
  const elector = new LeaderElector({
    store,
    identity,
    clock,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    random: () => 0,
    onStartedLeading: () => events.push(`${identity}:started`),
    onStoppedLeading: (reason: StepDownReason) => events.push(`${identity}:stopped:${reason}`),
  });
  return { clock, store, elector, events };
}

describe('LeaderElector', () => {
  it('renews from the version it wrote, without reading the Lease first, and reads it again after a conflict', async () => {
    const { elector, store, clock } = setup();
    elector.start();
    await flushMicrotasks();
    expect(elector.isLeader()).toBe(true);
    const reads = store.reads;
    const writes = store.writes.length;
    await clock.advance(2_000);
    await clock.advance(2_000);
    expect(store.writes.length).toBe(writes + 2);
    expect(store.reads).toBe(reads);
    // Someone else wrote the Lease (still naming us, e.g. an admin's touch): the version is stale, 409, read again.
    store.put({ ...store.lease, holderIdentity: 'me' });
    await clock.advance(2_000);
    expect(store.reads).toBe(reads + 1);
    expect(elector.isLeader()).toBe(true);
    await elector.stop();
  });

  it('creates the Lease when it does not exist and leads', async () => {
    const { elector, store, events } = setup();
    elector.start();
    await flushMicrotasks();
    expect(elector.isLeader()).toBe(true);
    expect(events).toEqual(['me:started']);
    expect(store.lease).toMatchObject({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 0 });
    await elector.stop();
  });

  it('renews every retry period, keeping acquireTime', async () => {
    const { elector, store, clock } = setup();
    const t0 = clock.now();
    elector.start();
    await flushMicrotasks();
    await clock.advance(2_000);
    await clock.advance(2_000);
    expect(store.lease?.renewTime).toBe(t0 + 4_000);
    expect(store.lease?.acquireTime).toBe(t0);
    expect(store.writes).toHaveLength(3);
    await elector.stop();
  });

  it('does not take a lease held by another candidate until it has stayed unchanged for leaseDuration on OUR clock', async () => {
    const { elector, store, clock } = setup();
    // The other holder's clock is an hour behind ours: by the remote renewTime the lease looks long expired.
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: clock.now() - 3_600_000, acquireTime: clock.now() - 3_600_000, leaseTransitions: 4 });
    elector.start();
    await flushMicrotasks();
    expect(elector.isLeader()).toBe(false);
    expect(elector.leader()).toBe('other');
    await clock.advance(14_000);
    expect(elector.isLeader()).toBe(false);
    await clock.advance(2_000);
    expect(elector.isLeader()).toBe(true);
    expect(store.lease).toMatchObject({ holderIdentity: 'me', leaseTransitions: 5 });
    await elector.stop();
  });

  it('never takes a lease whose holder keeps renewing it', async () => {
    const { elector, store, clock } = setup();
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: clock.now() });
    elector.start();
    for (let i = 0; i < 30; i++) {
      await clock.advance(2_000);
      store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: clock.now() });
    }
    expect(elector.isLeader()).toBe(false);
    await elector.stop();
  });

  it('takes a released lease (empty holder) at the next attempt', async () => {
    const { elector, store, clock } = setup();
    store.put({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: clock.now() });
    elector.start();
    await flushMicrotasks();
    expect(elector.isLeader()).toBe(true);
    await elector.stop();
  });

  it('steps down when renewals keep failing for the renew deadline', async () => {
    const { elector, store, clock, events } = setup();
    elector.start();
    await flushMicrotasks();
    store.failWith = () => new KubeError('Unavailable', 'connection refused');
    await clock.advance(8_000);
    expect(elector.isLeader()).toBe(true);
    await clock.advance(2_000);
    expect(elector.isLeader()).toBe(false);
    expect(events).toEqual(['me:started', 'me:stopped:renew-deadline']);
    await elector.stop();
  });

  it('steps down by the renew deadline even when a renewal hangs', async () => {
    const { elector, store, clock, events } = setup();
    elector.start();
    await flushMicrotasks();
    store.hang = true;
    await clock.advance(9_999);
    expect(elector.isLeader()).toBe(true);
    await clock.advance(1);
    expect(elector.isLeader()).toBe(false);
    expect(events).toContain('me:stopped:renew-deadline');
    await elector.stop();
  });

  it('a leader frozen past its renew deadline is no leader the moment it wakes, before its loop runs again', async () => {
    const { elector, clock, events, store } = setup();
    elector.start();
    await clock.advance(0);
    expect(elector.isLeader()).toBe(true);
    await clock.advance(4_000);
    expect(elector.isLeader()).toBe(true);
    // SIGSTOP for 20 s, during which another replica took the expired lease. On waking, isLeader() — which the
    // controllers' fence asks before every reconcile and every write — is already false, while the step-down
    // callback has not run yet (its timer is overdue, not yet fired).
    clock.jump(20_000);
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: clock.now() - 1_000, renewTime: clock.now() - 1_000, leaseTransitions: 1 });
    expect(elector.isLeader()).toBe(false);
    expect(events).toEqual(['me:started']);
    await clock.advance(0);
    expect(events).toEqual(['me:started', 'me:stopped:renew-deadline']);
    await elector.stop();
  });

  it('steps down at once when the lease shows another holder', async () => {
    const { elector, store, clock, events } = setup();
    elector.start();
    await flushMicrotasks();
    store.put({ holderIdentity: 'usurper', leaseDurationSeconds: 15, renewTime: clock.now() });
    await clock.advance(2_000);
    expect(elector.isLeader()).toBe(false);
    expect(events).toEqual(['me:started', 'me:stopped:lost']);
    await elector.stop();
  });

  it('lets exactly one of two candidates lead, and hands over when the leader stops', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = setup('a', store, clock);
    const b = setup('b', store, clock);
    a.elector.start();
    b.elector.start();
    for (let i = 0; i < 10; i++) {
      await clock.advance(1_000);
      expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    }
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    await leader.elector.stop();
    expect(store.lease).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(leader.events.at(-1)).toMatch(/stopped:released$/);
    await clock.advance(2_000);
    expect(follower.elector.isLeader()).toBe(true);
    await follower.elector.stop();
  });

  it('treats a 409 on create as a lost race', async () => {
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const { elector } = setup('me', store, clock);
    const realCreate = store.create.bind(store);
    store.create = (record, signal) => {
      store.put({ holderIdentity: 'fast', leaseDurationSeconds: 15, renewTime: clock.now() });
      return realCreate(record, signal);
    };
    store.lease = undefined;
    elector.start();
    await flushMicrotasks();
    expect(elector.isLeader()).toBe(false);
    await elector.stop();
  });

  it('does not release a lease it does not hold', async () => {
    const { elector, store, clock } = setup();
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: clock.now() });
    elector.start();
    await flushMicrotasks();
    await elector.stop();
    expect(store.lease?.holderIdentity).toBe('other');
  });

  it('sets the leader gauge', async () => {
    const values: number[] = [];
    const store = new MemoryLeaseStore();
    const elector = new LeaderElector({ store, identity: 'me', clock: new FakeClock(), leaderGauge: { set: (v) => values.push(v) } });
    elector.start();
    await flushMicrotasks();
    await elector.stop();
    expect(values).toEqual([1, 0]);
  });

  it('rejects inconsistent timings', () => {
    const base = { store: new MemoryLeaseStore(), identity: 'me', clock: new FakeClock() };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/leaseDuration/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/retryPeriod/);
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 15_500 })).toThrow(/whole seconds/);
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
  });
});

describe('Lease encoding', () => {
  it('writes renewTime and acquireTime as MicroTime with six fractional digits', () => {
    const spec = toLeaseSpec({ holderIdentity: 'me', renewTime: Date.parse('2026-01-01T00:00:00.123Z'), acquireTime: Date.parse('2026-01-01T00:00:00Z') });
    const json = JSON.parse(JSON.stringify(spec)) as Record<string, string>;
    expect(json['renewTime']).toBe('2026-01-01T00:00:00.123000Z');
    expect(json['acquireTime']).toBe('2026-01-01T00:00:00.000000Z');
  });

  it('reads MicroTime as the API returns it (a string) or as a Date', () => {
    expect(microTimeToMs('2026-01-01T00:00:00.123456Z')).toBe(Date.parse('2026-01-01T00:00:00.123Z'));
    expect(microTimeToMs(new k8s.V1MicroTime(5))).toBe(5);
    expect(microTimeToMs(undefined)).toBeUndefined();
    expect(microTimeToMs('garbage')).toBeUndefined();
  });

  it('maps the API: 404 is "no lease", replace carries the resourceVersion, 409 is a KubeError Conflict', async () => {
    const bodies: k8s.V1Lease[] = [];
    const api: LeaseApi = {
      readNamespacedLease: () => Promise.reject(new k8s.ApiException(404, 'not found', '{"kind":"Status","reason":"NotFound","code":404}', {})),
      createNamespacedLease: (req) => {
        bodies.push(req.body);
        return Promise.resolve({ ...req.body, metadata: { ...req.body.metadata, resourceVersion: '7' } });
      },
      replaceNamespacedLease: (req) => {
        bodies.push(req.body);
        return Promise.reject(new k8s.ApiException(409, 'conflict', '{"kind":"Status","reason":"Conflict","code":409,"message":"the object has been modified"}', {}));
      },
    };
    const store = createLeaseStore(api, 'ns', 'lease');
    expect(await store.get()).toBeUndefined();
    const created = await store.create({ holderIdentity: 'me', renewTime: 1000, leaseDurationSeconds: 15 });
    expect(created).toMatchObject({ resourceVersion: '7', holderIdentity: 'me', renewTime: 1000 });
    await expect(store.update({ holderIdentity: 'me' }, '7')).rejects.toMatchObject({ code: 'Conflict' });
    expect(bodies[1]?.metadata?.resourceVersion).toBe('7');
    expect(bodies[0]?.spec?.renewTime).toBeInstanceOf(k8s.V1MicroTime);
  });
});
