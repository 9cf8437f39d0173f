import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { HealingPolicy, HealingPolicyStatus } from '../../api/v1alpha1/healing-policy.js';
import { SeriesStore } from '../../metrics/series-store.js';
import { silentLogger } from '../../observability/logger.js';
import { createMetrics } from '../../observability/metrics.js';
import { FakeClock } from '../../runtime/clock.js';
import { HealingPolicyReconciler } from './controller.js';
import { inventoryOf } from './select.js';

const NS = 'shop';
const policy: HealingPolicy = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'crash', namespace: NS, uid: 'uid-crash', generation: 1 },
  spec: {
    selector: {},
    triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
    actions: [{ name: 'restart', type: 'restart' }],
  },
};

function action(name: string, status: HealingAction['status']): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: NS, creationTimestamp: '2026-01-01T11:30:00Z' },
    spec: {
      policyRef: { name: 'crash' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: `${name}-pod` },
      action: { name: 'restart', type: 'restart' },
      trigger: { name: 'restarts', type: 'metric', firedAt: '2026-01-01T11:30:00Z' },
    },
    ...(status === undefined ? {} : { status }),
  };
}

describe('HealingPolicy status.actionsTaken', () => {
  it('counts the actions that executed or are executing, not the Blocked, the never-started Cancelled or the queued ones', async () => {
    const started = { startTime: '2026-01-01T11:30:01Z' };
    const ledger = [
      action('ok', { phase: 'Succeeded', ...started }),
      action('failed', { phase: 'Failed', ...started }),
      action('running', { phase: 'InProgress', ...started }),
      action('verifying', { phase: 'Verifying', ...started }),
      action('cancelled-mid-way', { phase: 'Cancelled', ...started }),
      action('blocked', { phase: 'Blocked', reason: 'RateLimited' }),
      action('rejected', { phase: 'Cancelled', reason: 'Rejected' }),
      action('waiting', { phase: 'WaitingApproval' }),
      action('new', undefined),
    ];
    const statuses: (HealingPolicyStatus | Record<string, unknown>)[] = [];
    const reconciler = new HealingPolicyReconciler({
      clock: new FakeClock('2026-01-01T12:00:00Z'),
      logger: silentLogger,
      metrics: createMetrics(),
      events: { record: () => undefined, flush: () => Promise.resolve() },
      store: new SeriesStore(),
      api: {
        createAction: () => Promise.resolve(),
        patchPolicyStatus: (_id, s) => {
          statuses.push(s);
          return Promise.resolve();
        },
      },
      settings: { forceDryRun: false, paused: false, prometheusConfigured: false, escalationWindowMs: 3_600_000, maxRequeueMs: 30_000, statusRefreshMs: 60_000, evaluationBudgetMs: 10_000 },
      getPolicy: () => policy,
      listActions: () => ledger,
      inventory: () => inventoryOf({}),
      eventsSynced: () => true,
      prometheusErrors: () => new Map(),
      metricsServerError: () => undefined,
    });
    await reconciler.reconcile(`${NS}/crash`);
    expect((statuses.at(-1) as HealingPolicyStatus).actionsTaken).toBe(5);
  });
});
