/**
 * The HealingAction reconciler in memory: a fake action API, gate and executor around the real state machine, the
 * real series store and the real metrics registry — what the dashboards count when an action ends.
 */
import { describe, expect, it } from 'vitest';
import type { HealingAction, HealingActionStatus } from '../../api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { EventSink } from '../../k8s/event-recorder.js';
import { SeriesStore } from '../../metrics/series-store.js';
import type { TargetRef } from '../../metrics/types.js';
import { disabledAuditLog } from '../../observability/audit-log.js';
import { silentLogger } from '../../observability/logger.js';
import { createMetrics, type OperatorMetrics } from '../../observability/metrics.js';
import { ExecutorRegistry } from '../../remediation/registry.js';
import type { Execution, Executor } from '../../remediation/types.js';
import { FakeClock } from '../../runtime/clock.js';
import { FencedError } from '../../runtime/controller.js';
import type { SafetyGate } from '../../safety/gate.js';
import type { SafetyDecision } from '../../safety/types.js';
import { HealingActionReconciler } from './controller.js';
import { FAILURE_OBSERVED } from './outcome.js';

const NS = 'shop';
const START = '2026-01-01T12:00:00Z';
const POD: TargetRef = { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'web-1', uid: 'uid-web-1' };

const policy: HealingPolicy = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'leaks', namespace: NS, uid: 'uid-leaks', generation: 1 },
  spec: {
    selector: {},
    triggers: [
      { name: 'leak', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent' } },
      { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } },
    ],
    actions: [{ name: 'restart', type: 'restart' }],
  },
};

function healingAction(trigger: 'leak' | 'restarts', extra: Partial<HealingAction['spec']> = {}): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: `leaks-${trigger}`, namespace: NS, uid: `uid-${trigger}`, resourceVersion: '1', generation: 1, creationTimestamp: START },
    spec: {
      policyRef: { name: 'leaks', namespace: NS },
      targetResource: { ...POD },
      action: { name: 'restart', type: 'restart' },
      // Fired 30 s before the action was created.
      trigger: { name: trigger, type: trigger === 'leak' ? 'predictive' : 'metric', firedAt: '2026-01-01T11:59:30Z' },
      source: trigger === 'leak' ? 'ai' : 'rule',
      ...extra,
    },
  };
}

const restart: Executor = {
  type: 'restart',
  validate: () => [],
  plan: () => Promise.resolve({ action: 'restart', mechanism: 'delete', object: { ...POD }, changes: [], calls: [], noop: false, serverDryRun: true, message: 'would delete the pod' }),
  execute: (_req, ctx) => Promise.resolve({ action: 'restart', mechanism: 'delete', object: { ...POD }, changes: [], noop: false, message: 'deleted pod web-1', executedAt: ctx.now, verify: { kind: 'none' } }),
  verify: () => Promise.resolve({ status: 'healthy', message: 'replaced' }),
};

function setup(decision: SafetyDecision = { allowed: true, dryRun: false, notes: [] }) {
  const clock = new FakeClock(START);
  const store = new SeriesStore();
  const metrics = createMetrics();
  const stored = new Map<string, HealingAction>();
  let version = 1;
  const events: EventSink = { record: () => undefined, flush: () => Promise.resolve() };
  const reconciler = new HealingActionReconciler({
    clock,
    logger: silentLogger,
    metrics,
    events,
    audit: disabledAuditLog,
    api: {
      readAction: (ns, name) => Promise.resolve(structuredClone(stored.get(`${ns}/${name}`))),
      writeStatus: (ns, name, resourceVersion, status: HealingActionStatus) => {
        const a = stored.get(`${ns}/${name}`);
        if (!a || a.metadata.resourceVersion !== resourceVersion) throw new Error(`stale write of ${name}`);
        const updated = { ...a, metadata: { ...a.metadata, resourceVersion: String(++version) }, status };
        stored.set(`${ns}/${name}`, updated);
        return Promise.resolve(structuredClone(updated));
      },
    },
    gate: { check: () => Promise.resolve({ decision }), confirm: () => Promise.resolve(decision) },
    executors: new ExecutorRegistry([restart]),
    store,
    getPolicy: () => policy,
    settings: { approvalTtlMs: 3_600_000, callTimeoutMs: 5_000 },
  });
  /** Reconciles `a` until it stops asking for an immediate requeue, `stepMs` of fake time between passes. */
  const run = async (a: HealingAction, stepMs = 30_000): Promise<HealingAction> => {
    stored.set(`${NS}/${a.metadata.name ?? ''}`, a);
    for (let i = 0; i < 10; i++) {
      const r = await reconciler.reconcile(`${NS}/${a.metadata.name ?? ''}`, new AbortController().signal);
      if (r.requeueAfterMs === undefined) break;
      // The executor replaced the pod: the store no longer holds the old one, as after a real pod deletion.
      if (stored.get(`${NS}/${a.metadata.name ?? ''}`)?.status?.phase === 'Verifying') store.forget(POD);
      await clock.advance(stepMs);
    }
    return stored.get(`${NS}/${a.metadata.name ?? ''}`) as HealingAction;
  };
  return { clock, store, metrics, run };
}

async function value(metrics: OperatorMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  // A histogram's _sum and _count are values of the base metric, named by metricName.
  const base = name.replace(/_(sum|count)$/, '');
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name || x.name === base);
  return m?.values.find((v) => ((v as { metricName?: string }).metricName ?? m.name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('HealingActionReconciler outcome metrics', () => {
  it('counts a verified predictive restart of a pod that never failed as a prevented failure, with its time to heal', async () => {
    const { store, metrics, run, clock } = setup();
    store.recordSample(POD, 'memory_usage_percent', { at: clock.now() - 10_000, value: 31 }, clock.now());
    store.recordSample(POD, 'restart_count', { at: clock.now() - 10_000, value: 0 }, clock.now());
    const done = await run(healingAction('leak'));
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.conditions?.find((c) => c.type === FAILURE_OBSERVED)).toMatchObject({ status: 'False', reason: 'NoFailureObserved' });
    expect(await value(metrics, 'kubeskippy_healings_total', { policy: 'leaks', namespace: NS, source: 'ai', kind: 'predictive', result: 'succeeded' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_prevented_failures_total', { policy: 'leaks', namespace: NS })).toBe(1);
    // Fired 30 s before creation; executed at creation; verified on the next pass, 30 s later.
    expect(await value(metrics, 'kubeskippy_time_to_heal_seconds_sum', { policy: 'leaks', namespace: NS, source: 'ai' })).toBe(60);
    expect(await value(metrics, 'kubeskippy_time_to_heal_seconds_count', { policy: 'leaks', namespace: NS, source: 'ai' })).toBe(1);
  });

  it('does not count as prevented a predictive restart of a pod that was already OOM-killed', async () => {
    const { store, metrics, run, clock } = setup();
    store.recordCondition(POD, 'OOMKilled', { status: 'True', since: clock.now() - 60_000, reason: 'OOMKilled' }, clock.now());
    const done = await run(healingAction('leak'));
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.conditions?.find((c) => c.type === FAILURE_OBSERVED)).toMatchObject({ status: 'True', reason: 'OOMKilled' });
    expect(await value(metrics, 'kubeskippy_healings_total', { kind: 'predictive', result: 'succeeded' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_prevented_failures_total', {})).toBeUndefined();
  });

  it('counts a reactive success with its time to heal and records no FailureObserved condition', async () => {
    const { metrics, run } = setup();
    const done = await run(healingAction('restarts'));
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.conditions?.find((c) => c.type === FAILURE_OBSERVED)).toBeUndefined();
    expect(await value(metrics, 'kubeskippy_healings_total', { source: 'rule', kind: 'reactive', result: 'succeeded' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_time_to_heal_seconds_count', { source: 'rule' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_prevented_failures_total', {})).toBeUndefined();
  });

  it('counts a denied action once as a blocked healing and as a safety denial', async () => {
    const { metrics, run } = setup({ allowed: false, reason: 'Cooldown', rule: 'cooldown', message: 'cooling down' });
    const done = await run(healingAction('leak'));
    expect(done.status?.phase).toBe('Blocked');
    expect(await value(metrics, 'kubeskippy_healings_total', { kind: 'predictive', result: 'blocked' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_safety_denials_total', { reason: 'Cooldown' })).toBe(1);
    expect(await value(metrics, 'kubeskippy_time_to_heal_seconds_count', {})).toBeUndefined();
  });

  it('counts no healing for a dry run, only its phases', async () => {
    const { metrics, run } = setup();
    const done = await run(healingAction('leak', { dryRun: true }));
    expect(done.status?.phase).toBe('Succeeded');
    expect(await value(metrics, 'kubeskippy_healings_total', {})).toBeUndefined();
    expect(await value(metrics, 'kubeskippy_actions_total', { phase: 'Succeeded' })).toBe(1);
  });
});

function fencedAction(status?: HealingActionStatus): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'heal-1', namespace: NS, uid: 'uid-1', resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T12:00:00Z' },
    spec: {
      policyRef: { name: 'heal', namespace: NS },
      targetResource: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: NS, uid: 'pod-uid' },
      action: { name: 'restart', type: 'restart' },
    },
    ...(status ? { status } : {}),
  };
}

const FENCED_POLICY = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'heal', namespace: NS, uid: 'p' },
  spec: { selector: {}, triggers: [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 } }], actions: [{ name: 'restart', type: 'restart' }] },
} as HealingPolicy;

/**
 * A reconciler over one stored action whose fence (`mayAct`) the test flips, e.g. from inside the gate or the
 * journal write — the moments a leader can be frozen and wake up after another replica took the Lease.
 */
function fencingSetup(opts: { onGate?: () => void; onWrite?: (s: HealingActionStatus) => void; shardHeld?: (namespace: string | undefined) => boolean; executeError?: Error } = {}) {
  const clock = new FakeClock('2026-01-01T12:00:05Z');
  let stored = fencedAction();
  let rv = 1;
  const writes: HealingActionStatus[] = [];
  const executed: string[] = [];
  let leading = true;
  const executor: Executor = {
    type: 'restart',
    validate: () => [],
    plan: () => Promise.reject(new Error('not planned in this test')),
    execute: (req, ctx): Promise<Execution> => {
      if (opts.executeError !== undefined) return Promise.reject(opts.executeError);
      executed.push(req.target.name);
      return Promise.resolve({ action: 'restart', mechanism: 'evict', object: req.target, changes: [], noop: false, message: 'evicted', executedAt: ctx.now, verify: { kind: 'none' } } as Execution);
    },
    verify: () => Promise.resolve({ status: 'healthy', message: 'ok' }),
  };
  const sink: EventSink = { record: () => undefined, flush: () => Promise.resolve() };
  const gate = {
    check: () => {
      opts.onGate?.();
      return Promise.resolve({ decision: { allowed: true, dryRun: false, notes: [] } });
    },
  } as unknown as SafetyGate;
  const reconciler = new HealingActionReconciler({
    clock,
    logger: silentLogger,
    metrics: createMetrics(),
    events: sink,
    audit: disabledAuditLog,
    api: {
      readAction: () => Promise.resolve(stored),
      writeStatus: (_ns, _name, resourceVersion, status) => {
        if (resourceVersion !== String(rv)) return Promise.reject(new Error('conflict'));
        writes.push(status);
        stored = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++rv) }, status };
        opts.onWrite?.(status);
        return Promise.resolve(stored);
      },
    },
    gate,
    executors: new ExecutorRegistry([executor]),
    store: new SeriesStore(),
    getPolicy: () => FENCED_POLICY,
    settings: { approvalTtlMs: 3_600_000, callTimeoutMs: 30_000 },
    mayAct: (namespace) => leading && (opts.shardHeld?.(namespace) ?? true),
  });
  return { reconciler, writes, executed, fence: () => (leading = false), stored: () => stored };
}

describe('HealingActionReconciler fencing', () => {
  it('executes when this replica leads throughout: journal first, then the mutation, then the result', async () => {
    const { reconciler, writes, executed } = fencingSetup();
    await reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal);
    expect(writes.map((w) => w.phase)).toEqual(['InProgress', 'Verifying']);
    expect(executed).toEqual(['web-1']);
  });

  it('writes no journal and executes nothing when the lease is lost while the gate runs', async () => {
    let fence: () => void = () => undefined;
    const h = fencingSetup({ onGate: () => fence() });
    fence = h.fence;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.writes).toEqual([]);
    expect(h.executed).toEqual([]);
  });

  it('does not execute an action it journalled if the lease was lost before the mutation; the journal stays for the next leader to verify', async () => {
    let fence: () => void = () => undefined;
    const h = fencingSetup({ onWrite: (s) => s.phase === 'InProgress' && fence() });
    fence = h.fence;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.executed).toEqual([]);
    expect(h.writes.map((w) => w.phase)).toEqual(['InProgress']);
    expect(h.stored().status?.executionId).toBe('uid-1/1');
  });

  it('asks for the namespace of the action: sharded, a replica that lost that shard writes and executes nothing', async () => {
    const asked: (string | undefined)[] = [];
    let held = true;
    const h = fencingSetup({
      shardHeld: (ns) => {
        asked.push(ns);
        return held;
      },
      onWrite: (s) => s.phase === 'InProgress' && (held = false),
    });
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(new Set(asked)).toEqual(new Set([NS]));
    expect(h.executed).toEqual([]);
  });

  it('writes no result for a mutation the wire fence refused (wrapped by the executor): the journal stays for the next leader', async () => {
    const refused = new Error('evicting pod web-1 failed', { cause: new FencedError('not sending create pods/eviction: this replica no longer holds its Lease') });
    const h = fencingSetup({ executeError: refused });
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.writes.map((w) => w.phase)).toEqual(['InProgress']);
  });

  it('writes no verification result once fenced', async () => {
    const h = fencingSetup();
    await h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal);
    h.fence();
    const before = h.writes.length;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.writes).toHaveLength(before);
  });
});
