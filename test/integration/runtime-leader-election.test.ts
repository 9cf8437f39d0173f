/**
 * Leader election against the real API server: two candidates contend for one Lease in a test namespace.
 * Short timings (lease 3 s, renew deadline 2 s, retry 0.5 s) keep the tests quick; the real clock is used because
 * the API server is real.
 */
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/runtime/clock.js';
import { createLeaseStore, LeaderElector, type LeaseStore } from '../../src/runtime/leader-election.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';

const kc = testKubeConfig();
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const LEASE = 'kubeskippy-test-leader';

/** A store that can be cut off from the API server, like a replica behind a network partition. */
function partitionable(store: LeaseStore): LeaseStore & { cut: boolean } {
  const wrapper = {
    cut: false,
    describe: store.describe,
    get: (signal?: AbortSignal) => (wrapper.cut ? Promise.reject(new Error('partitioned')) : store.get(signal)),
    create: (...args: Parameters<LeaseStore['create']>) => (wrapper.cut ? Promise.reject(new Error('partitioned')) : store.create(...args)),
    update: (...args: Parameters<LeaseStore['update']>) => (wrapper.cut ? Promise.reject(new Error('partitioned')) : store.update(...args)),
  };
  return wrapper;
}

function candidate(
  namespace: string,
  identity: string,
  events: string[],
  leaseDurationMs = 3_000,
  renewDeadlineMs = 2_000,
): { elector: LeaderElector; store: ReturnType<typeof partitionable> } {
  const store = partitionable(createLeaseStore(coordination, namespace, LEASE));
  const elector = new LeaderElector({
    store,
    identity,
    clock: systemClock,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs: 500,
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: (reason) => events.push(`${identity} stopped ${reason}`),
  });
  return { elector, store };
}

/** Samples both candidates every 20 ms for `ms` and returns the largest number that claimed leadership at once. */
async function maxConcurrentLeaders(electors: readonly LeaderElector[], ms: number): Promise<number> {
  let max = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    max = Math.max(max, electors.filter((e) => e.isLeader()).length);
    await new Promise((r) => setTimeout(r, 20));
  }
  return max;
}

describe('leader election on a real Lease', () => {
  let ns = '';
  const running: LeaderElector[] = [];
  beforeEach(async (ctx) => {
    ns = await createTestNamespace(kc, `rt-le-${ctx.task.name.slice(0, 20)}`);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.stop()));
    await deleteTestNamespace(kc, ns);
  });

  it('lets exactly one of two candidates lead, writing valid MicroTime fields', async () => {
    const events: string[] = [];
    const a = candidate(ns, 'replica-a', events);
    const b = candidate(ns, 'replica-b', events);
    running.push(a.elector, b.elector);
    a.elector.start();
    b.elector.start();
    await waitFor('a leader', () => Promise.resolve(a.elector.isLeader() || b.elector.isLeader()), 15_000);
    expect(await maxConcurrentLeaders([a.elector, b.elector], 2_500)).toBe(1);

    const leader = a.elector.isLeader() ? 'replica-a' : 'replica-b';
    const lease = await coordination.readNamespacedLease({ name: LEASE, namespace: ns });
    expect(lease.spec?.holderIdentity).toBe(leader);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    // client-node hands MicroTime back as the raw JSON string: check the server stored six fractional digits.
    expect(String(lease.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(String(lease.spec?.acquireTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    // The leader keeps renewing.
    const renewed = await waitFor(
      'a renewal',
      async () => {
        const l = await coordination.readNamespacedLease({ name: LEASE, namespace: ns });
        return String(l.spec?.renewTime) !== String(lease.spec?.renewTime) ? l : undefined;
      },
      5_000,
    );
    expect(renewed.spec?.holderIdentity).toBe(leader);
    expect(a.elector.leader()).toBe(leader);
    expect(b.elector.leader()).toBe(leader);
  });

  it('hands over at once when the leader stops and releases the Lease', async () => {
    const events: string[] = [];
    // A 60 s lease: had replica-b waited for it to expire, the 10 s wait below would time out. (A 20 s renew
    // deadline, so that a slow Lease update on a loaded machine does not end replica-a's term early.)
    const a = candidate(ns, 'replica-a', events, 60_000, 20_000);
    running.push(a.elector);
    a.elector.start();
    await waitFor('replica-a leading', () => Promise.resolve(a.elector.isLeader()), 15_000);
    const b = candidate(ns, 'replica-b', events, 60_000, 20_000);
    running.push(b.elector);
    b.elector.start();
    await waitFor('replica-b observing replica-a', () => Promise.resolve(b.elector.leader() === 'replica-a'), 5_000);

    await a.elector.stop();
    const released = await coordination.readNamespacedLease({ name: LEASE, namespace: ns });
    expect(released.spec?.holderIdentity ?? '').toBe('');
    expect(released.spec?.leaseDurationSeconds).toBe(1);
    // Well before the 60 s lease would have expired: the release, not the expiry, handed it over.
    await waitFor('replica-b leading', () => Promise.resolve(b.elector.isLeader()), 10_000, 20);
    expect(events).toEqual(['replica-a started', 'replica-a stopped released', 'replica-b started']);
    const lease = await coordination.readNamespacedLease({ name: LEASE, namespace: ns });
    expect(lease.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
  });

  it('when the leader is cut off, it steps down before the other takes over: never two leaders', async () => {
    const events: string[] = [];
    const a = candidate(ns, 'replica-a', events);
    running.push(a.elector);
    a.elector.start();
    await waitFor('replica-a leading', () => Promise.resolve(a.elector.isLeader()), 15_000);
    const b = candidate(ns, 'replica-b', events);
    running.push(b.elector);
    b.elector.start();
    await waitFor('replica-b observing replica-a', () => Promise.resolve(b.elector.leader() === 'replica-a'), 5_000);

    a.store.cut = true;
    const sampling = maxConcurrentLeaders([a.elector, b.elector], 6_000);
    await waitFor('replica-b leading', () => Promise.resolve(b.elector.isLeader()), 10_000, 20);
    expect(await sampling).toBe(1);
    expect(events.indexOf('replica-a stopped renew-deadline')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('replica-a stopped renew-deadline')).toBeLessThan(events.indexOf('replica-b started'));
    // Reconnected, the old leader sees the new holder and stays a follower.
    a.store.cut = false;
    expect(await maxConcurrentLeaders([a.elector, b.elector], 1_500)).toBe(1);
    expect(a.elector.leader()).toBe('replica-b');
  });
});
