import { describe, expect, it } from 'vitest';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import type { HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { Recommendation } from '../../analysis/recommend.js';
import type { TriggerEvaluations, TriggerFiring } from '../../triggers/evaluate.js';
import { decidePolicy, ladder, proposalName, type ActionHistoryEntry, type PolicyDecisionInput } from './decide.js';
import type { SelectedTarget } from './select.js';

const now = Date.parse('2026-01-01T12:00:00Z');
const MIN = 60_000;

function policy(actions: ActionTemplate[], mode: HealingPolicy['spec']['mode'] = 'automatic'): HealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name: 'heal', namespace: 'apps', uid: 'uid-1' },
    spec: {
      selector: {},
      triggers: [{ name: 'crash', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions,
      mode,
    },
  };
}

function target(name: string, kind = 'Pod', workloadKind?: string): SelectedTarget {
  return {
    ref: { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, namespace: 'apps', name, uid: `uid-${name}` },
    labels: {},
    annotations: {},
    pods: [],
    ...(workloadKind ? { workload: { apiVersion: 'apps/v1', kind: workloadKind, namespace: 'apps', name: 'web' } } : {}),
  };
}

const firing: TriggerFiring = {
  trigger: 'crash',
  type: 'metric',
  status: 'firing',
  reason: 'restart_count 5 > 3',
  since: now - 1000,
  observedValue: 5,
  threshold: 3,
  values: { restart_count: '5' },
};
const firingEval: TriggerEvaluations = { results: [firing], firing: [firing] };
const clearEval: TriggerEvaluations = {
  results: [{ trigger: 'crash', type: 'metric', status: 'clear', reason: 'restart_count 0 ≤ 3' }],
  firing: [],
};

const restart: ActionTemplate = { name: 'restart', type: 'restart', priority: 10 };
const patch: ActionTemplate = { name: 'debug', type: 'patch', priority: 15, patchAction: { type: 'strategic', patch: 'x: 1' } };
const rollback: ActionTemplate = { name: 'undo', type: 'rollback', priority: 20 };

function input(over: Partial<PolicyDecisionInput> = {}): PolicyDecisionInput {
  return {
    policy: policy([rollback, restart, patch]),
    now,
    targets: [{ target: target('p1', 'Pod', 'Deployment'), evaluations: firingEval }],
    history: new Map(),
    recentlyCreated: new Set(),
    forceDryRun: false,
    escalationWindowMs: 60 * MIN,
    ...over,
  };
}

function hist(actionName: string, phase: ActionHistoryEntry['phase'], ageMs: number, level = 0): ActionHistoryEntry {
  return { name: `a-${actionName}-${ageMs}`, actionName, escalationLevel: level, phase, createdAt: now - ageMs, dryRun: false };
}

describe('ladder', () => {
  it('orders actions by priority, lower first, keeping spec order for ties', () => {
    const same: ActionTemplate = { name: 'restart2', type: 'restart', priority: 10 };
    expect(ladder([rollback, restart, same, patch]).map((a) => a.name)).toEqual(['restart', 'restart2', 'debug', 'undo']);
  });
});

describe('decidePolicy', () => {
  it('proposes the highest-priority action for a firing target, and nothing for a clear one', () => {
    const d = decidePolicy(
      input({ targets: [{ target: target('p1', 'Pod', 'Deployment'), evaluations: firingEval }, { target: target('p2'), evaluations: clearEval }] }),
    );
    expect(d.proposals).toHaveLength(1);
    expect(d.proposals[0]).toMatchObject({ action: { name: 'restart' }, escalationLevel: 0, dryRun: false, approvalRequired: false });
    expect(d.proposals[0]!.target.ref.name).toBe('p1');
    expect(d.activeTriggers).toEqual(['crash']);
  });

  it('creates nothing in monitor mode and says what it would have done', () => {
    const d = decidePolicy(input({ policy: policy([restart], 'monitor') }));
    expect(d.proposals).toEqual([]);
    expect(d.held[0]).toMatchObject({ reason: 'Monitoring' });
  });

  it('marks actions dry-run in dryrun mode or under the global switch, and approval-required in manual mode', () => {
    expect(decidePolicy(input({ policy: policy([restart], 'dryrun') })).proposals[0]?.dryRun).toBe(true);
    expect(decidePolicy(input({ forceDryRun: true })).proposals[0]?.dryRun).toBe(true);
    expect(decidePolicy(input({ policy: policy([restart], 'manual') })).proposals[0]?.approvalRequired).toBe(true);
    expect(decidePolicy(input({ policy: policy([{ ...restart, requiresApproval: true }]) })).proposals[0]?.approvalRequired).toBe(true);
  });

  it('holds a firing while an action for the same target is in flight or was just created', () => {
    const key = 'Pod/apps/p1';
    expect(decidePolicy(input({ history: new Map([[key, [hist('restart', 'Verifying', MIN)]]]) })).held[0]?.reason).toBe('InFlight');
    expect(decidePolicy(input({ recentlyCreated: new Set([key]) })).held[0]?.reason).toBe('InFlight');
  });

  it('proposes one rollback or scale per workload, however many of its pods fire, and one restart per pod', () => {
    const pods = ['p1', 'p2', 'p3'].map((n) => ({ target: target(n, 'Pod', 'Deployment'), evaluations: firingEval }));
    const once = decidePolicy(input({ policy: policy([rollback]), targets: pods }));
    expect(once.proposals.map((p) => p.target.ref.name)).toEqual(['p1']);
    expect(once.held.map((h) => [h.target.ref.name, h.reason])).toEqual([['p2', 'InFlight'], ['p3', 'InFlight']]);
    expect(once.held[0]?.message).toMatch(/a rollback of Deployment\/apps\/web is already under way/);
    expect(decidePolicy(input({ policy: policy([restart]), targets: pods })).proposals).toHaveLength(3);
  });

  it('holds a workload-level action while another pod of the workload has one in flight or just created', () => {
    const claim = 'rollback@Deployment/apps/web';
    const other = { ...hist('undo', 'Verifying', MIN), type: 'rollback' as const, claim };
    const pods = [{ target: target('p2', 'Pod', 'Deployment'), evaluations: firingEval }];
    expect(decidePolicy(input({ policy: policy([rollback]), targets: pods, history: new Map([['Pod/apps/p1', [other]]]) })).held[0]?.reason).toBe('InFlight');
    expect(decidePolicy(input({ policy: policy([rollback]), targets: pods, recentlyCreated: new Set([claim]) })).held[0]?.reason).toBe('InFlight');
    // A finished rollback claims nothing any more.
    const done = { ...other, phase: 'Succeeded' as const };
    expect(decidePolicy(input({ policy: policy([rollback]), targets: pods, history: new Map([['Pod/apps/p1', [done]]]) })).proposals).toHaveLength(1);
  });

  it('holds every firing of a namespace in a storm, and none of one at the limit', () => {
    const failing = (n: number): ReadonlyMap<string, number> => new Map(Array.from({ length: n }, (_, i) => [`Deployment/apps/w${i}`, now - i * 1000] as const));
    const storm = (n: number): NonNullable<PolicyDecisionInput['storm']> => ({ maxWorkloads: 3, windowMs: 5 * MIN, failing: (ns) => (ns === 'apps' ? failing(n) : new Map()) });
    // Two others and this target's workload make three: at the limit, acted on.
    expect(decidePolicy(input({ storm: storm(2) })).proposals).toHaveLength(1);
    const held = decidePolicy(input({ storm: storm(3) }));
    expect(held.proposals).toEqual([]);
    expect(held.held[0]).toMatchObject({ reason: 'StormSuppressed', message: expect.stringMatching(/storm in namespace apps: 4 workloads failing in the last 5m \(limit 3\)/) as unknown });
    // Per namespace: the storm in apps holds nothing elsewhere, and a target already counted is not counted twice.
    const other = { ...target('q1', 'Pod', 'Deployment'), ref: { ...target('q1').ref, namespace: 'other' } };
    const mixed = decidePolicy(input({ storm: storm(3), targets: [{ target: other, evaluations: firingEval }, { target: target('p1', 'Pod', 'Deployment'), evaluations: firingEval }] }));
    expect(mixed.proposals.map((p) => p.target.ref.name)).toEqual(['q1']);
    expect(mixed.held.map((h) => h.reason)).toEqual(['StormSuppressed']);
    const counted = new Map([...failing(3), ['Deployment/apps/web', now]]);
    expect(decidePolicy(input({ storm: { maxWorkloads: 3, windowMs: 5 * MIN, failing: () => counted } })).held[0]?.message).toMatch(/4 workloads failing/);
    // Sightings older than the window do not count.
    const old = new Map(Array.from({ length: 5 }, (_, i) => [`Deployment/apps/w${i}`, now - 6 * MIN] as const));
    expect(decidePolicy(input({ storm: { maxWorkloads: 3, windowMs: 5 * MIN, failing: () => old } })).proposals).toHaveLength(1);
  });

  it('escalates to the next action when the problem recurs after a verified success', () => {
    const d = decidePolicy(input({ history: new Map([['Pod/apps/p1', [hist('restart', 'Succeeded', 10 * MIN)]]]) }));
    expect(d.proposals[0]).toMatchObject({ action: { name: 'debug' }, escalationLevel: 1 });
    expect(d.proposals[0]!.rationale).toMatch(/verified but the problem recurred/);
  });

  it('escalates restart → patch → rollback and then repeats the last rung, flagged as exhausted', () => {
    const h = [hist('restart', 'Succeeded', 30 * MIN), hist('debug', 'Failed', 20 * MIN, 1)];
    expect(decidePolicy(input({ history: new Map([['Pod/apps/p1', h]]) })).proposals[0]?.action.name).toBe('undo');
    const all = [...h, hist('undo', 'Succeeded', 10 * MIN, 2)];
    const d = decidePolicy(input({ history: new Map([['Pod/apps/p1', all]]) }));
    expect(d.proposals[0]).toMatchObject({ action: { name: 'undo' }, ladderExhausted: true, escalationLevel: 2 });
    expect(d.proposals[0]!.rationale).toMatch(/a human should look/);
  });

  it('keeps dry runs on their own ladder', () => {
    const dry = { ...hist('restart', 'Succeeded', 10 * MIN), dryRun: true };
    expect(decidePolicy(input({ history: new Map([['Pod/apps/p1', [dry]]]) })).proposals[0]?.action.name).toBe('restart');
  });

  it('starts the ladder over when the last action is older than the escalation window', () => {
    const d = decidePolicy(input({ history: new Map([['Pod/apps/p1', [hist('restart', 'Succeeded', 61 * MIN)]]]) }));
    expect(d.proposals[0]?.action.name).toBe('restart');
  });

  it('retries the same rung after a Blocked action', () => {
    const d = decidePolicy(input({ history: new Map([['Pod/apps/p1', [hist('restart', 'Blocked', 6 * MIN)]]]) }));
    expect(d.proposals[0]?.action.name).toBe('restart');
  });

  it('skips actions that cannot act on the target kind (rollback needs a Deployment)', () => {
    const d = decidePolicy(input({ policy: policy([rollback]), targets: [{ target: target('bare'), evaluations: firingEval }] }));
    expect(d.held[0]?.reason).toBe('NoApplicableAction');
  });

  it('gives the same name to the same firing and a new name to the next one', () => {
    const t = target('p1');
    const p = policy([restart]);
    expect(proposalName(p, 'restart', t, 0)).toBe(proposalName(p, 'restart', t, 0));
    expect(proposalName(p, 'restart', t, 0)).not.toBe(proposalName(p, 'restart', t, 1));
    expect(proposalName(p, 'restart', t, 0)).toMatch(/^heal-restart-[0-9a-f]{10}$/);
  });

  it('reports the earliest check time across targets', () => {
    const pending: TriggerEvaluations = {
      results: [{ trigger: 'crash', type: 'metric', status: 'pending', reason: 'x', breachSince: now, checkAt: now + 5000, values: {} }],
      firing: [],
      checkAt: now + 5000,
    };
    const d = decidePolicy(input({ targets: [{ target: target('p2'), evaluations: pending }] }));
    expect(d.checkAt).toBe(now + 5000);
    expect(d.proposals).toEqual([]);
  });

  it('counts the check time of the all-clear targets left out of the pass (clearCheckAt), whichever is earlier', () => {
    const pending: TriggerEvaluations = {
      results: [{ trigger: 'crash', type: 'metric', status: 'pending', reason: 'x', breachSince: now, checkAt: now + 5000, values: {} }],
      firing: [],
      checkAt: now + 5000,
    };
    expect(decidePolicy(input({ targets: [], clearCheckAt: now + 7000 })).checkAt).toBe(now + 7000);
    expect(decidePolicy(input({ targets: [{ target: target('p2'), evaluations: pending }], clearCheckAt: now + 3000 })).checkAt).toBe(now + 3000);
    expect(decidePolicy(input({ targets: [{ target: target('p2'), evaluations: pending }], clearCheckAt: now + 9000 })).checkAt).toBe(now + 5000);
    expect(decidePolicy(input({ targets: [] })).checkAt).toBeUndefined();
  });
});

describe('learning shapes where an escalation starts', () => {
  const learning = (successes: number, failures: number, recurrences: number): NonNullable<PolicyDecisionInput['learning']> => ({
    outcomes: [{ workload: 'Deployment/apps/web', trigger: 'crash', action: 'restart', successes, failures, recurrences }],
  });

  it('skips a rung that never held on this workload for this trigger, and says so', () => {
    const d = decidePolicy(input({ policy: policy([restart, patch, rollback]), learning: learning(2, 1, 2) }));
    expect(d.proposals[0]?.action.name).toBe('debug');
    expect(d.proposals[0]?.rationale).toMatch(/learnt on this workload: skipped restart \(2 verified, 2 recurred, 1 failed\)/);
  });

  it('keeps a rung that held at least once, or was tried only once', () => {
    expect(decidePolicy(input({ policy: policy([restart, patch]), learning: learning(2, 0, 1) })).proposals[0]?.action.name).toBe('restart');
    expect(decidePolicy(input({ policy: policy([restart, patch]), learning: learning(0, 1, 0) })).proposals[0]?.action.name).toBe('restart');
  });

  it('never skips the last rung', () => {
    expect(decidePolicy(input({ policy: policy([restart]), learning: learning(0, 5, 0) })).proposals[0]?.action.name).toBe('restart');
  });
});

describe('the analyzer decides AI firings', () => {
  const predictiveFiring: TriggerFiring = { ...firing, trigger: 'leak', type: 'predictive', reason: 'linear-leak: memory reaches 100% in 20m' };
  const recommendRestart = (): Recommendation => ({
    kind: 'action',
    rule: 'memory-forecast',
    action: { name: 'restart', type: 'restart' },
    target: target('p1').ref,
    priority: 10,
    confidence: 0.91,
    reasoning: ['memory rises 2%/min', 'limit in 20 min'],
    alternatives: [{ action: { name: 'debug', type: 'patch' }, confidence: 0.4, whyNot: 'a patch does not free leaked memory' }],
  });

  it('takes the recommended action for a predictive firing, with confidence, reasoning and alternatives', () => {
    const asked: string[] = [];
    const d = decidePolicy(
      input({
        policy: policy([rollback, restart, patch]),
        targets: [{ target: target('p1', 'Pod', 'Deployment'), evaluations: { results: [predictiveFiring], firing: [predictiveFiring] } }],
        recommend: (_t, f, applicable) => {
          asked.push(`${f.trigger}: ${applicable.map((a) => a.name).join(',')}`);
          return recommendRestart();
        },
      }),
    );
    expect(asked).toEqual(['leak: restart,debug,undo']);
    expect(d.proposals[0]).toMatchObject({ action: { name: 'restart' }, ai: { rule: 'memory-forecast', confidence: 0.91, alternatives: [{ action: 'debug', confidence: 0.4 }] } });
  });

  it('holds a firing the analyzer declines, saying why', () => {
    const d = decidePolicy(
      input({
        policy: { ...policy([restart]), spec: { ...policy([restart]).spec, strategy: 'ai' } },
        recommend: () => ({ kind: 'none', rule: 'dependency-failing', target: target('p1').ref, reasoning: ['payments-db is failing'], alternatives: [] }),
      }),
    );
    expect(d.proposals).toEqual([]);
    expect(d.held[0]).toMatchObject({ reason: 'AnalyzerDeclined', message: expect.stringContaining('payments-db is failing') as unknown });
  });

  it('leaves rule firings of a rules policy to the ladder', () => {
    const d = decidePolicy(input({ policy: policy([restart]), recommend: () => { throw new Error('must not be asked'); } }));
    expect(d.proposals[0]?.ai).toBeUndefined();
  });
});
