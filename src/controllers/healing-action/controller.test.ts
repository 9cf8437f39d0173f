import { describe, expect, it } from 'vitest';
import type { HealingAction, HealingActionStatus } from '../../api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { EventSink } from '../../k8s/event-recorder.js';
import { SeriesStore } from '../../metrics/series-store.js';
import type { AuditLog } from '../../observability/audit-log.js';
import { silentLogger } from '../../observability/logger.js';
import { createMetrics } from '../../observability/metrics.js';
import { ExecutorRegistry } from '../../remediation/registry.js';
import type { Execution, Executor } from '../../remediation/types.js';
import { FakeClock } from '../../runtime/clock.js';
import { FencedError } from '../../runtime/controller.js';
import type { SafetyGate } from '../../safety/gate.js';
import { HealingActionReconciler } from './controller.js';

const NS = 'shop';

function action(status?: HealingActionStatus): HealingAction {
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

const POLICY = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'heal', namespace: NS, uid: 'p' },
  spec: { selector: {}, triggers: [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 } }], actions: [{ name: 'restart', type: 'restart' }] },
} as HealingPolicy;

/**
 * A reconciler over one stored action whose fence (`mayAct`) the test flips, e.g. from inside the gate or the
 * journal write — the moments a leader can be frozen and wake up after another replica took the Lease.
 */
function setup(opts: { onGate?: () => void; onWrite?: (s: HealingActionStatus) => void } = {}) {
  const clock = new FakeClock('2026-01-01T12:00:05Z');
  let stored = action();
  let rv = 1;
  const writes: HealingActionStatus[] = [];
  const executed: string[] = [];
  let leading = true;
  const executor: Executor = {
    type: 'restart',
    validate: () => [],
    plan: () => Promise.reject(new Error('not planned in this test')),
    execute: (req, ctx): Promise<Execution> => {
      executed.push(req.target.name);
      return Promise.resolve({ action: 'restart', mechanism: 'evict', object: req.target, changes: [], noop: false, message: 'evicted', executedAt: ctx.now, verify: { kind: 'none' } } as Execution);
    },
    verify: () => Promise.resolve({ status: 'healthy', message: 'ok' }),
  };
  const sink: EventSink = { record: () => undefined, flush: () => Promise.resolve() };
  const audit: AuditLog = { write: () => undefined, written: 0, errors: 0, close: () => Promise.resolve() };
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
    audit,
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
    getPolicy: () => POLICY,
    settings: { approvalTtlMs: 3_600_000, callTimeoutMs: 30_000 },
    mayAct: () => leading,
  });
  return { reconciler, writes, executed, fence: () => (leading = false), stored: () => stored };
}

describe('HealingActionReconciler fencing', () => {
  it('executes when this replica leads throughout: journal first, then the mutation, then the result', async () => {
    const { reconciler, writes, executed } = setup();
    await reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal);
    expect(writes.map((w) => w.phase)).toEqual(['InProgress', 'Verifying']);
    expect(executed).toEqual(['web-1']);
  });

  it('writes no journal and executes nothing when the lease is lost while the gate runs', async () => {
    let fence: () => void = () => undefined;
    const h = setup({ onGate: () => fence() });
    fence = h.fence;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.writes).toEqual([]);
    expect(h.executed).toEqual([]);
  });

  it('does not execute an action it journalled if the lease was lost before the mutation; the journal stays for the next leader to verify', async () => {
    let fence: () => void = () => undefined;
    const h = setup({ onWrite: (s) => s.phase === 'InProgress' && fence() });
    fence = h.fence;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.executed).toEqual([]);
    expect(h.writes.map((w) => w.phase)).toEqual(['InProgress']);
    expect(h.stored().status?.executionId).toBe('uid-1/1');
  });

  it('writes no verification result once fenced', async () => {
    const h = setup();
    await h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal);
    h.fence();
    const before = h.writes.length;
    await expect(h.reconciler.reconcile(`${NS}/heal-1`, new AbortController().signal)).rejects.toBeInstanceOf(FencedError);
    expect(h.writes).toHaveLength(before);
  });
});
