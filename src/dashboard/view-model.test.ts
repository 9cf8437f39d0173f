import { describe, expect, it } from 'vitest';
import { action, at, chp, hp, settingsWith, T0 } from '../../test/support/dashboard.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { Trigger } from '../api/v1alpha1/healing-policy.js';
import {
  buildActionRow,
  buildChart,
  buildCore,
  buildPolicyRow,
  buildSafety,
  buildTimeline,
  countActions,
  describeTrigger,
  ledgerOf,
  operatorBudget,
  selectChartSubjects,
  stormView,
  type ActionRow,
  type TargetFiring,
} from './view-model.js';

const MIN = 60_000;

describe('buildActionRow', () => {
  it('carries what the timeline shows: phase, target, trigger values, source, result', () => {
    const row = buildActionRow(
      action('a1', { created: -MIN, started: -50_000, completed: -10_000, phase: 'Succeeded', reason: 'Verified', message: 'healthy', success: true, source: 'ai', confidence: 0.8, reasoning: ['leak'] }),
    );
    expect(row).toMatchObject({
      key: 'shop/a1',
      createdAt: T0 - MIN,
      startedAt: T0 - 50_000,
      completedAt: T0 - 10_000,
      phase: 'Succeeded',
      reason: 'Verified',
      message: 'healthy',
      policy: 'shop/crashloop',
      target: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' },
      targetKey: 'Pod/shop/web-1',
      actionType: 'restart',
      source: 'ai',
      confidence: 0.8,
      reasoning: ['leak'],
      trigger: { name: 'restarts', type: 'metric', firedAt: T0 - MIN, reason: 'restart_count 4 > 2', observedValue: 4, threshold: 2, values: { restart_count: '4' } },
      result: { success: true, metricsBefore: { restart_count: '4' }, metricsAfter: { restart_count: '0' } },
    });
  });

  it('reads an action without status as Pending, and a cluster policy reference by its ledger key', () => {
    const a = action('a2', { policy: 'oom', policyKind: 'ClusterHealingPolicy' });
    delete a.status;
    expect(buildActionRow(a)).toMatchObject({ phase: 'Pending', policy: 'ClusterHealingPolicy/oom' });
  });

  it('skips an object that was never persisted (no creationTimestamp)', () => {
    const a = action('a3');
    delete a.metadata.creationTimestamp;
    expect(buildActionRow(a)).toBeUndefined();
  });

  it('accepts creationTimestamp as a Date, the shape typed list responses give', () => {
    const a = action('a4');
    (a.metadata as { creationTimestamp?: unknown }).creationTimestamp = new Date(T0 - 5000);
    expect(buildActionRow(a)?.createdAt).toBe(T0 - 5000);
  });
});

describe('buildTimeline and countActions', () => {
  const actions = [action('old', { created: -3 * MIN }), action('new', { created: -MIN, phase: 'Failed' }), action('b-same', { created: -2 * MIN }), action('a-same', { created: -2 * MIN })];

  it('lists newest first, ties by key, up to the limit', () => {
    expect(buildTimeline(actions).map((r) => r.name)).toEqual(['new', 'a-same', 'b-same', 'old']);
    expect(buildTimeline(actions, 2).map((r) => r.name)).toEqual(['new', 'a-same']);
  });

  it('counts every action by phase, also those beyond the timeline limit', () => {
    expect(countActions(actions)).toEqual({ total: 4, byPhase: { Succeeded: 3, Failed: 1 } });
  });
});

describe('operatorBudget', () => {
  const cases: { name: string; actions: HealingAction[]; source: 'rule' | 'ai'; limit: number; want: object }[] = [
    { name: 'nothing executed', actions: [], source: 'rule', limit: 30, want: { used: 0, limit: 30, remaining: 30 } },
    {
      name: 'counts real executions within the hour only',
      actions: [action('in', { started: -10 * MIN }), action('out', { created: -70 * MIN, started: -61 * MIN }), action('dry', { started: -MIN, dryRun: true })],
      source: 'rule',
      limit: 30,
      want: { used: 1, remaining: 29 },
    },
    {
      name: 'does not count actions that never executed',
      actions: [action('blocked', { phase: 'Blocked', reason: 'Cooldown' }), action('pending', { phase: 'Pending' })],
      source: 'rule',
      limit: 30,
      want: { used: 0 },
    },
    {
      name: 'keeps the AI budget separate',
      actions: [action('rule', { started: -MIN }), action('ai', { started: -MIN, source: 'ai' })],
      source: 'ai',
      limit: 10,
      want: { used: 1, remaining: 9 },
    },
    {
      name: 'says when the next slot opens once the budget is used up',
      actions: [action('x', { started: -50 * MIN }), action('y', { started: -20 * MIN })],
      source: 'rule',
      limit: 2,
      want: { used: 2, remaining: 0, nextSlotAt: T0 + 10 * MIN },
    },
  ];
  it.each(cases)('$name', ({ actions, source, limit, want }) => {
    expect(operatorBudget(ledgerOf(actions), source, limit, T0)).toMatchObject(want);
  });

  it('reports no next slot while one is free', () => {
    expect(operatorBudget([], 'rule', 3, T0)).not.toHaveProperty('nextSlotAt');
  });
});

describe('stormView', () => {
  const pods = (n: number, workload?: string, created = -MIN) => Array.from({ length: n }, (_, i) => action(`p${workload ?? 'bare'}${i}`, { target: `pod-${workload ?? 'bare'}-${i}`, created, ...(workload ? { workload } : {}) }));
  const cases: { name: string; actions: HealingAction[]; max: number; want: { workloads: number; state: string } | undefined }[] = [
    { name: 'one Deployment with many restarted pods is one workload', actions: pods(5, 'web'), max: 2, want: { workloads: 1, state: 'calm' } },
    { name: 'bare pods count one each', actions: pods(2), max: 2, want: { workloads: 2, state: 'at-limit' } },
    { name: 'more workloads than the limit is a storm', actions: [...pods(1, 'a'), ...pods(1, 'b'), ...pods(1, 'c')], max: 2, want: { workloads: 3, state: 'storm' } },
    { name: 'actions older than the window do not count', actions: pods(3, undefined, -10 * MIN), max: 2, want: undefined },
  ];
  it.each(cases)('$name', ({ actions, max, want }) => {
    const view = stormView(ledgerOf(actions), { maxTargetsFailing: max, windowMs: 5 * MIN }, T0);
    expect(view).toMatchObject({ enabled: true, maxWorkloads: max, windowMs: 5 * MIN });
    expect(view.namespaces[0]).toEqual(want === undefined ? undefined : { namespace: 'shop', ...want });
  });

  it('is disabled without a limit', () => {
    expect(stormView(ledgerOf(pods(3)), {}, T0)).toEqual({ enabled: false, namespaces: [] });
  });
});

describe('buildSafety', () => {
  it('counts actions in flight, queued and awaiting approval, and reports the switches', () => {
    const actions = [
      action('run', { phase: 'InProgress', started: -1000 }),
      action('verify', { phase: 'Verifying', started: -2000 }),
      action('wait', { phase: 'WaitingApproval' }),
      action('pending', { phase: 'Pending' }),
      action('done', { phase: 'Succeeded', started: -MIN }),
    ];
    const s = buildSafety(ledgerOf(actions), settingsWith({ paused: true, forceDryRun: true }), [], T0);
    expect(s).toMatchObject({ paused: true, dryRun: true, inFlight: 2, queued: 2, waitingApproval: 1, openBreakers: [] });
    expect(s.ruleBudget).toMatchObject({ used: 3, limit: 30 });
  });

  it('lists the policy breakers that are not closed, with the gate’s message', () => {
    const failures = [1, 2, 3].map((i) => action(`f${i}`, { phase: 'Failed', created: -(10 - i) * MIN, started: -(10 - i) * MIN, completed: -(9 - i) * MIN, success: false }));
    const core = buildCore({ now: T0, version: '1', leaderElection: false, leading: true, synced: true, settings: settingsWith(), policies: [hp('crashloop'), hp('other')], actions: failures });
    expect(core.safety.openBreakers).toHaveLength(1);
    expect(core.safety.openBreakers[0]).toMatchObject({ scope: 'policy shop/crashloop', state: 'open', failures: 3 });
    expect(core.safety.openBreakers[0]?.message).toMatch(/circuit for policy shop\/crashloop is open/);
    expect(core.policies.find((p) => p.key === 'shop/crashloop')?.breaker.state).toBe('open');
    expect(core.policies.find((p) => p.key === 'shop/other')?.breaker.state).toBe('closed');
    expect(core.safety.globalBreaker.state).toBe('closed');
  });
});

describe('describeTrigger', () => {
  const cases: { trigger: Trigger; want: string }[] = [
    { trigger: { name: 'r', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }, want: 'restart_count > 3' },
    { trigger: { name: 'm', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, operator: '>=', duration: '3m' } }, want: 'memory_usage_percent >= 85 for 3m' },
    { trigger: { name: 'e', type: 'event', eventTrigger: { reason: 'BackOff', type: 'Warning', count: 3, window: '10m' } }, want: 'event Warning BackOff ×3 in 10m' },
    { trigger: { name: 'c', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False', duration: '1m' } }, want: 'Ready=False for 1m' },
    { trigger: { name: 'p', type: 'predictive', predictiveTrigger: {} }, want: 'memory_usage_percent forecast to reach 100 within 30m' },
  ];
  it.each(cases)('$want', ({ trigger, want }) => {
    expect(describeTrigger(trigger)).toBe(want);
  });
});

describe('buildPolicyRow', () => {
  it('computes the budget left from the ledger at now, like the gate (real executions of this policy only)', () => {
    const ledger = ledgerOf([action('a', { started: -MIN }), action('b', { started: -2 * MIN }), action('dry', { started: -MIN, dryRun: true }), action('other', { started: -MIN, policy: 'other' })]);
    const row = buildPolicyRow(hp('crashloop'), ledger, settingsWith(), T0);
    expect(row).toMatchObject({ key: 'shop/crashloop', kind: 'HealingPolicy', namespace: 'shop', name: 'crashloop', mode: 'automatic', matched: 3, budget: { used: 2, limit: 5, remaining: 3 } });
    expect(row.breaker.state).toBe('closed');
    expect(row.ready).toMatchObject({ status: 'True', reason: 'Evaluating' });
    expect(row.triggers).toEqual([{ name: 'restarts', type: 'metric', summary: 'restart_count > 2' }]);
  });

  it('keys a ClusterHealingPolicy by kind and shows no namespace; a policy not reconciled yet has no Ready', () => {
    const row = buildPolicyRow(chp('oom'), [], settingsWith(), T0);
    expect(row).toMatchObject({ key: 'ClusterHealingPolicy/oom', kind: 'ClusterHealingPolicy', namespace: '', mode: 'dryrun', activeTriggers: [], warnings: [] });
    expect(row).not.toHaveProperty('ready');
    expect(row).not.toHaveProperty('matched');
  });

  it('surfaces conditions out of their normal state as warnings', () => {
    const p = hp('crashloop', {
      status: {
        activeTriggers: ['restarts'],
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Evaluating', message: '', lastTransitionTime: at(0) },
          { type: 'BudgetExhausted', status: 'True', reason: 'BudgetUsedUp', message: 'all 5 used', lastTransitionTime: at(0) },
          { type: 'Paused', status: 'False', reason: 'NotPaused', message: '', lastTransitionTime: at(0) },
          { type: 'DataAvailable', status: 'False', reason: 'DataUnavailable', message: 'no metrics-server', lastTransitionTime: at(0) },
        ],
      },
    });
    const row = buildPolicyRow(p, [], settingsWith(), T0);
    expect(row.activeTriggers).toEqual(['restarts']);
    expect(row.warnings.map((w) => `${w.type}=${w.status}`)).toEqual(['BudgetExhausted=True', 'DataAvailable=False']);
  });
});

describe('selectChartSubjects', () => {
  const memory = hp('memory', {
    spec: {
      triggers: [
        { name: 'high', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85 } },
        { name: 'leak', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent', threshold: 95 } },
        { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 5 } },
        { name: 'oom', type: 'condition', conditionTrigger: { type: 'OOMKilled' } },
      ],
    },
  });
  const eventsOnly = hp('events', { spec: { triggers: [{ name: 'backoff', type: 'event', eventTrigger: { reason: 'BackOff' } }] } });
  const policies = [hp('crashloop'), memory, eventsOnly];
  const rows = (...as: HealingAction[]): ActionRow[] => buildTimeline(as);
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name });
  const memoryAction = (name: string, f: Parameters<typeof action>[1]) => {
    const a = action(name, { policy: 'memory', ...f });
    a.spec.trigger = { name: 'high', type: 'metric', firedAt: at(-60_000), observedValue: 91, threshold: 85 };
    return a;
  };

  it('charts the metric of the trigger behind each action or firing, with every threshold on it, targets with actions first', () => {
    const firing: TargetFiring[] = [{ policy: 'shop/memory', trigger: 'leak', target: pod('api-0'), status: 'pending' }];
    const subjects = selectChartSubjects(rows(action('a', { target: 'web-1' })), firing, policies);
    expect(subjects.map((s) => [s.target.name, s.metric, s.why])).toEqual([
      ['web-1', 'restart_count', ['actions']],
      ['api-0', 'memory_usage_percent', ['pending']],
    ]);
    expect(subjects[1]?.thresholds).toEqual([
      { value: 85, operator: '>', label: 'shop/memory · high' },
      { value: 95, operator: 'forecast ≥', label: 'shop/memory · leak' },
    ]);
  });

  it('does not chart a policy’s other metrics that nothing fired on', () => {
    const subjects = selectChartSubjects(rows(memoryAction('m', { target: 'api-0' })), [], policies);
    expect(subjects.map((s) => s.metric)).toEqual(['memory_usage_percent']);
  });

  it('charts every metric of the policy for an action that records no trigger', () => {
    const a = memoryAction('m', { target: 'api-0' });
    delete a.spec.trigger;
    expect(selectChartSubjects(rows(a), [], policies).map((s) => s.metric)).toEqual(['memory_usage_percent', 'restart_count']);
  });

  it('merges actions and firings on one target and metric into one chart, saying why for each chart', () => {
    const firing: TargetFiring[] = [
      { policy: 'shop/crashloop', trigger: 'restarts', target: pod('web-1'), status: 'firing' },
      { policy: 'shop/memory', trigger: 'high', target: pod('web-1'), status: 'pending' },
    ];
    const subjects = selectChartSubjects(rows(action('a', { target: 'web-1' }), action('b', { target: 'web-1', created: -2 * MIN })), firing, policies);
    expect(subjects.map((s) => [s.metric, s.why])).toEqual([
      ['restart_count', ['actions', 'firing']],
      ['memory_usage_percent', ['pending']],
    ]);
    expect(subjects[0]?.thresholds.map((t) => t.label)).toEqual(['shop/crashloop · restarts', 'shop/memory · restarts']);
  });

  it('draws nothing for triggers on events or conditions, or for a policy that is gone', () => {
    expect(selectChartSubjects(rows(action('a', { policy: 'events' }), action('b', { policy: 'deleted' })), [], policies)).toEqual([]);
  });

  it('stops at the limit', () => {
    const many = rows(...Array.from({ length: 5 }, (_, i) => action(`a${i}`, { target: `web-${i}` })));
    expect(selectChartSubjects(many, [], policies, 3)).toHaveLength(3);
  });
});

describe('buildChart', () => {
  const subject = { target: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' }, metric: 'restart_count', why: ['actions' as const], thresholds: [{ value: 2, operator: '>', label: 'shop/crashloop · restarts' }] };

  it('keeps finite samples, marks the target’s actions inside the sampled range, and adds the forecast', () => {
    const timeline = buildTimeline([
      action('on-target', { target: 'web-1', created: -MIN, phase: 'Failed' }),
      action('elsewhere', { target: 'web-2', created: -MIN }),
      action('before-samples', { target: 'web-1', created: -60 * MIN }),
    ]);
    const samples = [
      { at: T0 - 5 * MIN, value: 1 },
      { at: T0 - 2 * MIN, value: Number.POSITIVE_INFINITY },
      { at: T0 - 30_000, value: 4 },
    ];
    const chart = buildChart(subject, samples, timeline, { label: 'trend', points: [[T0, 4], [T0 + MIN, Number.NaN], [T0 + 2 * MIN, 6]] });
    expect(chart).toMatchObject({ key: 'Pod/shop/web-1|restart_count', targetKey: 'Pod/shop/web-1', metric: 'restart_count' });
    expect(chart.points).toEqual([[T0 - 5 * MIN, 1], [T0 - 30_000, 4]]);
    expect(chart.markers).toEqual([{ at: T0 - MIN, phase: 'Failed', name: 'on-target' }]);
    expect(chart.forecast).toEqual({ label: 'trend', points: [[T0, 4], [T0 + 2 * MIN, 6]] });
  });

  it('has no forecast when the analyzer gives none or an empty one', () => {
    expect(buildChart(subject, [], [], undefined)).not.toHaveProperty('forecast');
    expect(buildChart(subject, [], [], { label: 'x', points: [] })).not.toHaveProperty('forecast');
  });
});

describe('buildCore', () => {
  it('builds the header from leader state and settings, policies sorted cluster-first', () => {
    const core = buildCore({
      now: T0,
      version: '1.2.3',
      leaderElection: true,
      leading: false,
      leaderIdentity: 'other-replica',
      synced: true,
      settings: settingsWith({ forceDryRun: true }),
      policies: [hp('zeta'), chp('alpha'), hp('beta', { namespace: 'a-ns' })],
      actions: [action('a')],
    });
    expect(core.generatedAt).toBe(T0);
    expect(core.operator).toEqual({ version: '1.2.3', leaderElection: true, leading: false, leaderIdentity: 'other-replica', synced: true, paused: false, dryRun: true });
    expect(core.policies.map((p) => p.key)).toEqual(['ClusterHealingPolicy/alpha', 'a-ns/beta', 'shop/zeta']);
    expect(core.actions.map((a) => a.name)).toEqual(['a']);
    expect(core.counts.total).toBe(1);
  });
});
