import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { ClusterHealingPolicy, HealingPolicy, HealingPolicyStatus } from '../../api/v1alpha1/healing-policy.js';
import type { EventSink, EventSpec } from '../../k8s/event-recorder.js';
import { SeriesStore } from '../../metrics/series-store.js';
import { silentLogger } from '../../observability/logger.js';
import { createMetrics } from '../../observability/metrics.js';
import { FakeClock } from '../../runtime/clock.js';
import { FencedError } from '../../runtime/controller.js';
import { MAX_PACE_MS } from './pacing.js';
import { HealingPolicyReconciler, POLICY_EVENTS, type PolicyReconcilerSettings } from './controller.js';
import { inventoryOf } from './select.js';

const NS = 'tenant-a';

function policy(selector: HealingPolicy['spec']['selector'] = {}): HealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name: 'heavy', namespace: NS, uid: 'uid-heavy', generation: 1 },
    spec: {
      selector,
      triggers: [{ name: 'crash', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    },
  };
}

/** The reconciler settings these tests share, with `over` on top. */
function settingsWith(over: Partial<PolicyReconcilerSettings> = {}): PolicyReconcilerSettings {
  return { forceDryRun: false, paused: false, prometheusConfigured: false, escalationWindowMs: 3_600_000, maxRequeueMs: 30_000, statusRefreshMs: 60_000, evaluationBudgetMs: 10_000, ...over };
}

const pod = (name: string, namespace = NS): V1Pod => ({ metadata: { name, namespace, uid: `uid-${name}` }, status: { phase: 'Running' } });

/** A reconciler over `pods` whose stopwatch advances `msPerRead` on every read, as if each target cost that. */
function setup(
  pods: V1Pod[],
  msPerRead: number,
  budgetMs: number,
  stored: HealingPolicy = policy(),
  mayAct: () => boolean = () => true,
  extra: { store?: SeriesStore; clock?: FakeClock; quietRequeueMs?: number; actions?: () => HealingAction[] } = {},
) {
  const clock = extra.clock ?? new FakeClock('2026-01-01T12:00:00Z');
  const events: EventSpec[] = [];
  const statuses: (HealingPolicyStatus | Record<string, unknown>)[] = [];
  let elapsed = 0;
  let yields = 0;
  const sink: EventSink = { record: (_s, e) => void events.push(e), flush: () => Promise.resolve() };
  const metrics = createMetrics();
  const reconciler = new HealingPolicyReconciler({
    clock,
    logger: silentLogger,
    metrics,
    events: sink,
    store: extra.store ?? new SeriesStore(),
    api: { createAction: () => Promise.resolve(), patchPolicyStatus: (_id, s) => {
        statuses.push(s);
        return Promise.resolve();
      } },
    settings: settingsWith({ evaluationBudgetMs: budgetMs, ...(extra.quietRequeueMs === undefined ? {} : { quietRequeueMs: extra.quietRequeueMs }) }),
    getPolicy: () => stored,
    listActions: extra.actions ?? (() => []),
    inventory: () => inventoryOf({ pods }),
    eventsSynced: () => true,
    prometheusErrors: () => new Map(),
    metricsServerError: () => undefined,
    stopwatch: () => (elapsed += msPerRead),
    yieldToEventLoop: () => {
      yields++;
      return Promise.resolve();
    },
    mayAct,
  });
  return { reconciler, clock, events, statuses, metrics, yields: () => yields };
}

describe('HealingPolicyReconciler evaluation budget', () => {
  it('abandons a pass over budget, reports it and skips the policy for ten times the budget', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p${i}`));
    const { reconciler, clock, events, statuses, metrics } = setup(pods, 5, 100);
    const result = await reconciler.reconcile(`${NS}/heavy`);
    expect(result.requeueAfterMs).toBe(1000);
    expect(events.map((e) => e.reason)).toEqual([POLICY_EVENTS.EvaluationOverBudget]);
    expect(events[0]?.message).toMatch(/of 100 targets took \d+ ms, over the 100 ms budget/);
    const ready = (statuses.at(-1) as HealingPolicyStatus).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'EvaluationOverBudget' });
    expect((await metrics.registry.getSingleMetricAsString('kubeskippy_policy_evaluation_overruns_total'))).toMatch(/policy="heavy",namespace="tenant-a"} 1/);

    // Skipped while the penalty runs: no evaluation, no new status, no second Event.
    await clock.advance(500);
    statuses.length = 0;
    expect((await reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(500);
    expect(statuses).toEqual([]);
    expect(events).toHaveLength(1);
  });

  it('evaluates a policy within budget fully, yielding to the event loop between slices', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p${i}`));
    const { reconciler, events, statuses, yields } = setup(pods, 1, 10_000);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events).toEqual([]);
    const status = statuses.at(-1) as HealingPolicyStatus;
    expect(status.matchedResources).toBe(100);
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    // Two stopwatch reads per target at 1 ms each: a 10 ms slice ends every few targets.
    expect(yields()).toBeGreaterThan(5);
  });
});

describe('HealingPolicyReconciler pacing', () => {
  it('paces change-driven passes by the cost of the last complete pass', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p${i}`));
    const { reconciler, clock } = setup(pods, 0.1, 10_000);
    const key = `${NS}/heavy`;
    expect(reconciler.changeDelayMs(key)).toBe(0);
    await reconciler.reconcile(key);
    const first = reconciler.changeDelayMs(key);
    // About two stopwatch reads per target at 0.1 ms: a pass of about 20 ms, so about 400 ms of pacing.
    expect(first).toBeGreaterThan(200);
    expect(first).toBeLessThan(MAX_PACE_MS);
    await clock.advance(10);
    expect(reconciler.changeDelayMs(key)).toBe(first - 10);
    await clock.advance(first);
    expect(reconciler.changeDelayMs(key)).toBe(0);
  });

  it('does not pace a policy whose pass was cheap', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p${i}`));
    const { reconciler } = setup(pods, 0.01, 10_000);
    await reconciler.reconcile(`${NS}/light`);
    expect(reconciler.changeDelayMs(`${NS}/light`)).toBe(0);
  });

  it('does not pace after a pass abandoned over budget (the policy is skipped instead)', async () => {
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p${i}`));
    const { reconciler } = setup(pods, 5, 100);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(reconciler.changeDelayMs(`${NS}/heavy`)).toBe(0);
  });
});

describe('HealingPolicyReconciler requeue', () => {
  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name, uid: `uid-${name}` });
  function quietSetup(restarts: number, actions: () => HealingAction[] = () => []) {
    const clock = new FakeClock('2026-01-01T12:00:00Z');
    const store = new SeriesStore();
    const sample = (at: number) => {
      for (const name of ['p0', 'p1']) store.recordSample(ref(name), 'restart_count', { at, value: restarts }, at);
    };
    sample(clock.now() - 10_000);
    const s = setup([pod('p0'), pod('p1')], 0, 10_000, policy(), () => true, { store, clock, quietRequeueMs: 300_000, actions });
    return { ...s, sample };
  }

  it('waits for a quiet policy until its latest sample goes stale, not for the short floor', async () => {
    const { reconciler, clock, sample } = quietSetup(0);
    // The samples are 10 s old and go stale after 120 s (DEFAULT_EVALUATE_OPTIONS): 110 s + 1 ms.
    expect((await reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(110_001);
    // A fresh sample (the collector's periodic resample) moves the re-check along with it.
    await clock.advance(60_000);
    sample(clock.now());
    expect((await reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(120_001);
  });

  it('re-checks on the short floor once the data is stale (unknown), or when a target fires', async () => {
    const quiet = quietSetup(0);
    await quiet.clock.advance(110_001);
    const stale = quiet.statuses.length;
    expect((await quiet.reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(30_000);
    expect(quiet.statuses.length).toBeGreaterThan(stale);
    const firing = quietSetup(9);
    expect((await firing.reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(30_000);
  });

  it('uses the quiet floor when nothing can change by time alone, and the short one without quietRequeueMs', async () => {
    const conditionOnly: HealingPolicy = {
      ...policy(),
      spec: { ...policy().spec, triggers: [{ name: 'oom', type: 'condition', conditionTrigger: { type: 'OOMKilled' } }] },
    };
    const quiet = setup([pod('p0')], 0, 10_000, conditionOnly, () => true, { quietRequeueMs: 300_000 });
    expect((await quiet.reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(300_000);
    const legacy = setup([pod('p0')], 0, 10_000, conditionOnly);
    expect((await legacy.reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(30_000);
  });

  it('re-checks when an execution leaves the rolling hour, so actionsAllowed in the status rises on time', async () => {
    const clock = new FakeClock('2026-01-01T12:00:00Z');
    const started = new Date(clock.now() - 3_590_000).toISOString();
    const done: HealingAction = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name: 'heavy-restart-1', namespace: NS, creationTimestamp: started },
      spec: {
        policyRef: { name: 'heavy', namespace: NS },
        targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'gone' },
        action: { name: 'restart', type: 'restart' },
      },
      status: { phase: 'Succeeded', startTime: started, completionTime: started },
    };
    const conditionOnly: HealingPolicy = {
      ...policy(),
      spec: { ...policy().spec, triggers: [{ name: 'oom', type: 'condition', conditionTrigger: { type: 'OOMKilled' } }] },
    };
    const s = setup([pod('p0')], 0, 10_000, conditionOnly, () => true, { clock, quietRequeueMs: 300_000, actions: () => [done] });
    expect((await s.reconciler.reconcile(`${NS}/heavy`)).requeueAfterMs).toBe(10_000);
  });
});

describe('HealingPolicyReconciler tenancy', () => {
  it('confines a HealingPolicy stored with selector.namespaces to its own namespace, and says so', async () => {
    const pods = [pod('mine'), pod('theirs', 'tenant-b')];
    const { reconciler, events, statuses } = setup(pods, 0, 10_000, policy({ namespaces: ['tenant-b', '*'] }));
    await reconciler.reconcile(`${NS}/heavy`);
    const status = statuses.at(-1) as HealingPolicyStatus;
    expect(status.matchedResources).toBe(1);
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'CrossNamespaceSelector' });
    expect(ready?.message).toMatch(/selector.namespaces \(tenant-b, \*\) is ignored: a HealingPolicy acts only in its own namespace.*this policy acts only in tenant-a/);
    expect(events.map((e) => e.reason)).toEqual([POLICY_EVENTS.CrossNamespaceSelector]);
    // Reported once per generation, not on every reconcile.
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events).toHaveLength(1);
  });
});

describe('HealingPolicyReconciler fencing', () => {
  it('writes no status (and creates no action) once this replica may no longer act', async () => {
    const { reconciler, statuses } = setup([pod('p0')], 0, 10_000, policy(), () => false);
    await expect(reconciler.reconcile(`${NS}/heavy`)).rejects.toBeInstanceOf(FencedError);
    expect(statuses).toEqual([]);
  });
});

describe('HealingPolicyReconciler degraded mode', () => {
  it('records DataUnavailable when metrics-server fails and DataAvailable when it answers again, once each', async () => {
    const clock = new FakeClock('2026-01-01T12:00:00Z');
    const events: EventSpec[] = [];
    const statuses: HealingPolicyStatus[] = [];
    const store = new SeriesStore();
    let metricsError: string | undefined = 'metrics.k8s.io: 503 the server is currently unable to handle the request';
    const memory: HealingPolicy = {
      ...policy(),
      spec: { ...policy().spec, triggers: [{ name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 90 } }] },
    };
    let stored = memory;
    const reconciler = new HealingPolicyReconciler({
      clock,
      logger: silentLogger,
      metrics: createMetrics(),
      events: { record: (_s, e) => void events.push(e), flush: () => Promise.resolve() },
      store,
      api: {
        createAction: () => Promise.resolve(),
        patchPolicyStatus: (_id, s) => {
          statuses.push(s);
          stored = { ...stored, status: { ...(stored.status ?? {}), ...(s as HealingPolicyStatus) } };
          return Promise.resolve();
        },
      },
      settings: settingsWith(),
      getPolicy: () => stored,
      listActions: () => [],
      inventory: () => inventoryOf({ pods: [pod('p0')] }),
      eventsSynced: () => true,
      prometheusErrors: () => new Map(),
      metricsServerError: () => metricsError,
    });
    await reconciler.reconcile(`${NS}/heavy`);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning DataUnavailable']);
    expect(events[0]?.message).toMatch(/memory: .*503 the server is currently unable/);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'DataAvailable')).toMatchObject({ status: 'False', reason: 'DataUnavailable' });

    metricsError = undefined;
    await clock.advance(5_000);
    store.recordSample({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p0', uid: 'uid-p0' }, 'memory_usage_percent', { at: clock.now(), value: 20 }, clock.now());
    await reconciler.reconcile(`${NS}/heavy`);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning DataUnavailable', 'Normal DataAvailable']);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'DataAvailable')).toMatchObject({ status: 'True' });
  });

  it('names the Prometheus error once the samples it left go stale, and uses them while fresh', async () => {
    const clock = new FakeClock('2026-01-01T12:00:00Z');
    const statuses: HealingPolicyStatus[] = [];
    const store = new SeriesStore();
    const query = 'sum by (namespace, pod) (queue_depth)';
    const queryErrors = new Map<string, string>();
    const prom: HealingPolicy = { ...policy(), spec: { ...policy().spec, triggers: [{ name: 'queue', type: 'metric', metricTrigger: { query, threshold: 100 } }] } };
    const reconciler = new HealingPolicyReconciler({
      clock,
      logger: silentLogger,
      metrics: createMetrics(),
      events: { record: () => undefined, flush: () => Promise.resolve() },
      store,
      api: { createAction: () => Promise.resolve(), patchPolicyStatus: (_id, s) => {
          statuses.push(s);
          return Promise.resolve();
        } },
      settings: settingsWith({ prometheusConfigured: true }),
      getPolicy: () => prom,
      listActions: () => [],
      inventory: () => inventoryOf({ pods: [pod('p0')] }),
      eventsSynced: () => true,
      prometheusErrors: () => queryErrors,
      metricsServerError: () => undefined,
    });
    store.recordSample({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p0', uid: 'uid-p0' }, query, { at: clock.now(), value: 5 }, clock.now());
    queryErrors.set(query, 'Prometheus unreachable: connect ECONNREFUSED 127.0.0.1:9090');
    await reconciler.reconcile(`${NS}/heavy`);
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'DataAvailable')).toMatchObject({ status: 'True' });
    await clock.advance(10 * 60_000);
    await reconciler.reconcile(`${NS}/heavy`);
    const data = statuses.at(-1)?.conditions?.find((c) => c.type === 'DataAvailable');
    expect(data).toMatchObject({ status: 'False', reason: 'DataUnavailable' });
    expect(data?.message).toMatch(/old \(older than .*\); unavailable: Prometheus unreachable: connect ECONNREFUSED/);
  });

  it('does not call data not collected yet (a fresh operator) unavailable', async () => {
    const { reconciler, events } = setup([pod('p0')], 0, 10_000, {
      ...policy(),
      spec: { ...policy().spec, triggers: [{ name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 90 } }] },
    });
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events).toEqual([]);
  });
});

describe('HealingPolicyReconciler metrics', () => {
  it('counts the action a ClusterHealingPolicy creates under the action’s own namespace, as its later phases are', async () => {
    const clock = new FakeClock('2026-01-01T12:00:00Z');
    const store = new SeriesStore();
    const metrics = createMetrics();
    const target = { apiVersion: 'v1', kind: 'Pod', namespace: 'tenant-b', name: 'crasher', uid: 'uid-crasher' };
    store.recordSample(target, 'restart_count', { at: clock.now() - 1000, value: 5 }, clock.now());
    const cluster: ClusterHealingPolicy = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'ClusterHealingPolicy',
      metadata: { name: 'crashes', uid: 'uid-crashes', generation: 1 },
      spec: {
        selector: { namespaces: ['*'] },
        triggers: [{ name: 'crash', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
        actions: [{ name: 'restart', type: 'restart' }],
      },
    };
    const created: HealingAction[] = [];
    const reconciler = new HealingPolicyReconciler({
      clock,
      logger: silentLogger,
      metrics,
      events: { record: () => undefined, flush: () => Promise.resolve() },
      store,
      api: {
        createAction: (_ns, a) => {
          created.push(a);
          return Promise.resolve();
        },
        patchPolicyStatus: () => Promise.resolve(),
      },
      settings: settingsWith(),
      getPolicy: () => cluster,
      listActions: () => [],
      inventory: () => inventoryOf({ pods: [{ metadata: { name: 'crasher', namespace: 'tenant-b', uid: 'uid-crasher' }, status: { phase: 'Running' } }] }),
      eventsSynced: () => true,
      prometheusErrors: () => new Map(),
      metricsServerError: () => undefined,
    });
    await reconciler.reconcile('ClusterHealingPolicy/crashes');
    expect(created.map((a) => a.metadata.namespace)).toEqual(['tenant-b']);
    const text = await metrics.registry.getSingleMetricAsString('kubeskippy_actions_total');
    expect(text).toContain('kubeskippy_actions_total{policy="crashes",namespace="tenant-b",type="restart",phase="Pending",source="rule"} 1');
  });
});

/** A reconciler with storm suppression (at most 10 failing workloads in 5 minutes) over `pods`, recording what it does. */
function stormSetup(opts: { pods: V1Pod[]; replicaSets?: V1ReplicaSet[]; stored?: HealingPolicy; ledger?: HealingAction[] }) {
  const clock = new FakeClock('2026-01-01T12:00:00Z');
  const store = new SeriesStore();
  const metrics = createMetrics();
  const events: EventSpec[] = [];
  const created: HealingAction[] = [];
  const restarts = (p: V1Pod, value: number): void => {
    store.recordSample({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' }, 'restart_count', { at: clock.now() - 1000, value }, clock.now());
  };
  const reconciler = new HealingPolicyReconciler({
    clock,
    logger: silentLogger,
    metrics,
    events: { record: (_s, e) => void events.push(e), flush: () => Promise.resolve() },
    store,
    api: {
      createAction: (_ns, a) => {
        created.push(a);
        return Promise.resolve();
      },
      patchPolicyStatus: () => Promise.resolve(),
    },
    settings: settingsWith({ storm: { maxWorkloads: 10, windowMs: 300_000 } }),
    getPolicy: () => opts.stored ?? policy(),
    listActions: () => opts.ledger ?? created,
    inventory: () => inventoryOf({ pods: opts.pods, ...(opts.replicaSets ? { replicaSets: opts.replicaSets } : {}) }),
    eventsSynced: () => true,
    prometheusErrors: () => new Map(),
    metricsServerError: () => undefined,
  });
  return { reconciler, clock, metrics, events, created, restarts };
}

describe('HealingPolicyReconciler storm suppression', () => {
  it('holds every firing of a namespace with more failing workloads than the limit, as one incident, and acts again once it subsides', async () => {
    const pods = Array.from({ length: 12 }, (_, i) => pod(`p${String(i).padStart(2, '0')}`));
    const { reconciler, clock, metrics, events, created, restarts } = stormSetup({ pods });
    for (const p of pods) restarts(p, 5);
    await reconciler.reconcile(`${NS}/heavy`);
    await clock.advance(10_000);
    for (const p of pods) restarts(p, 5);
    await reconciler.reconcile(`${NS}/heavy`);
    // Twelve pods without a workload are twelve failing workloads: none is acted on, one Event says why, and each
    // held target is counted once however often it is evaluated.
    expect(created).toEqual([]);
    expect(events.map((e) => e.reason)).toEqual([POLICY_EVENTS.StormSuppressed]);
    expect(events[0]?.message).toMatch(/storm in namespace tenant-a: 12 workloads failing in the last 5m \(limit 10\); no new action there/);
    expect(await metrics.registry.getSingleMetricAsString('kubeskippy_storm_held_firings_total')).toContain('kubeskippy_storm_held_firings_total{policy="heavy",namespace="tenant-a"} 12');

    // Ten recover; the window passes with two still failing: the storm is over and those two are acted on.
    await clock.advance(301_000);
    for (const p of pods) restarts(p, pods.indexOf(p) < 2 ? 5 : 0);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events.map((e) => e.reason).filter((r) => r.startsWith('Storm'))).toEqual([POLICY_EVENTS.StormSuppressed, POLICY_EVENTS.StormOver]);
    expect(created.map((a) => a.spec.targetResource.name)).toEqual(['p00', 'p01']);
  });

  it('counts a workload once, whether it is seen through an action in the ledger or through a firing pod', async () => {
    // Six Deployments, one pod each (through its ReplicaSet), every pod firing, every Deployment already acted on.
    const names = Array.from({ length: 6 }, (_, i) => `w${i}`);
    const replicaSets: V1ReplicaSet[] = names.map((n) => ({ metadata: { name: `${n}-rs`, namespace: NS, uid: `uid-${n}-rs`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: n, uid: `uid-${n}`, controller: true }] } }));
    const pods: V1Pod[] = names.map((n) => ({
      metadata: { name: `${n}-pod`, namespace: NS, uid: `uid-${n}-pod`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${n}-rs`, uid: `uid-${n}-rs`, controller: true }] },
      status: { phase: 'Running' },
    }));
    const at = new Date(Date.parse('2026-01-01T12:00:00Z') - 60_000).toISOString();
    const ledger: HealingAction[] = names.map((n, i) => ({
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name: `a${i}`, namespace: NS, creationTimestamp: at, labels: { 'kubeskippy.io/policy': 'heavy' } },
      spec: {
        policyRef: { name: 'heavy', namespace: NS },
        targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: `${n}-old-pod` },
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: n },
        action: { name: 'restart', type: 'restart' },
      },
      status: { phase: 'Succeeded' },
    }));
    const stored: HealingPolicy = { ...policy(), spec: { ...policy().spec, safetyRules: { maxActionsPerHour: 100 } } };
    const { reconciler, events, created, restarts } = stormSetup({ pods, replicaSets, stored, ledger });
    for (const p of pods) restarts(p, 5);
    await reconciler.reconcile(`${NS}/heavy`);
    // Six failing workloads, not twelve (six pods acted on + six Deployments firing): under the limit, acted on.
    expect(events.filter((e) => e.reason === POLICY_EVENTS.StormSuppressed)).toEqual([]);
    expect(created).toHaveLength(6);
  });

  it('does not count the firings of a policy that only monitors', async () => {
    const pods = Array.from({ length: 12 }, (_, i) => pod(`p${i}`));
    const stored: HealingPolicy = { ...policy(), spec: { ...policy().spec, mode: 'monitor' } };
    const { reconciler, events, restarts } = stormSetup({ pods, stored, ledger: [] });
    for (const p of pods) restarts(p, 5);
    await reconciler.reconcile(`${NS}/heavy`);
    expect(events.filter((e) => e.reason === POLICY_EVENTS.StormSuppressed)).toEqual([]);
    expect(events.filter((e) => e.reason === POLICY_EVENTS.WouldAct)).toHaveLength(12);
  });
});
