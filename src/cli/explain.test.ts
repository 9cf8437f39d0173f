import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { KubeError } from '../k8s/errors.js';
import { NotFoundError } from './errors.js';
import { explainAction, explainCommand, type ExplainApi } from './explain.js';

const NOW = Date.parse('2026-03-01T12:10:00Z');

const policy: HealingPolicy = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingPolicy',
  metadata: { name: 'crash', namespace: 'shop' },
  spec: {
    selector: {},
    triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
    actions: [
      { name: 'rollback-release', type: 'rollback', priority: 20 },
      { name: 'restart-pod', type: 'restart', priority: 10, restartAction: { strategy: 'rolling' } },
    ],
  },
};

function action(over: Partial<HealingAction['spec']> = {}, status: HealingAction['status'] = undefined): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'crash-restart-pod-1a2b', namespace: 'shop', creationTimestamp: '2026-03-01T12:00:01Z' },
    spec: {
      policyRef: { name: 'crash' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-7d9-x' },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
      action: { name: 'restart-pod', type: 'restart', restartAction: { strategy: 'rolling' } },
      trigger: { name: 'restarts', type: 'metric', firedAt: '2026-03-01T12:00:00Z', reason: 'restart_count 4 > 3', observedValue: 4, threshold: 3, values: { restart_count: '4' } },
      escalationLevel: 0,
      ...over,
    },
    ...(status === undefined ? {} : { status }),
  };
}

const succeeded: HealingAction['status'] = {
  phase: 'Succeeded',
  reason: 'Verified',
  message: 'pod replaced and Ready; restart_count cleared',
  attempts: 1,
  startTime: '2026-03-01T12:00:02Z',
  completionTime: '2026-03-01T12:01:00Z',
  execution: { mechanism: 'evict', object: { kind: 'Pod', namespace: 'shop', name: 'web-7d9-x' }, message: 'evicted', executedAt: Date.parse('2026-03-01T12:00:02Z') },
  result: { success: true, message: 'evicted', metricsBefore: { restart_count: '4', memory_usage_percent: '91%' }, metricsAfter: { restart_count: '0' }, changes: [{ field: 'pod', old: 'web-7d9-x', new: '(evicted)' }] },
  safety: [
    { rule: 'paused', verdict: 'pass' },
    { rule: 'in-flight', verdict: 'pass' },
    { rule: 'disruption-budget', verdict: 'note', message: 'Deployment shop/web has a single replica' },
  ],
  conditions: [
    { type: 'Executed', status: 'True', reason: 'Executed', message: 'evicted', lastTransitionTime: '2026-03-01T12:00:02Z' },
    { type: 'Verified', status: 'True', reason: 'Verified', message: 'ok', lastTransitionTime: '2026-03-01T12:01:00Z' },
  ],
};

describe('explainAction', () => {
  it('tells the whole story of an executed action, in order', () => {
    const e = explainAction(action(), policy);
    expect(e.policy).toMatchObject({ exists: true, mode: 'automatic', ladder: ['restart-pod', 'rollback-release'] });
    expect(e.timeline.map((x) => x.what)).toEqual(['trigger restarts fired', 'HealingAction created']);
    const done = explainAction(action({}, succeeded), policy);
    expect(done.timeline.map((x) => x.what)).toEqual([
      'trigger restarts fired',
      'HealingAction created',
      'execution started',
      'Executed=True (Executed)',
      'Verified=True (Verified)',
      'finished: Succeeded (Verified)',
    ]);
    expect(done.safety).toEqual({ at: '2026-03-01T12:00:02Z', checks: succeeded?.safety });
  });

  it('names the rule that blocked, and keeps the later verdicts', () => {
    const e = explainAction(
      action({}, {
        phase: 'Blocked',
        reason: 'RateLimited',
        completionTime: '2026-03-01T12:00:02Z',
        safety: [
          { rule: 'paused', verdict: 'pass' },
          { rule: 'policy-rate', verdict: 'deny', message: 'policy shop/crash used 5 of 5 actions in the last hour' },
          { rule: 'pdb', verdict: 'deny', message: 'PodDisruptionBudget web allows 0 disruptions' },
        ],
      }),
      policy,
    );
    expect(e.safety?.decidedBy).toBe('policy-rate');
    expect(e.safety?.at).toBe('2026-03-01T12:00:02Z');
  });
});

function fakeApi(a: HealingAction | undefined, p: HealingPolicy | undefined | Error): ExplainApi {
  return {
    get: () => Promise.resolve(a),
    getPolicy: () => (p instanceof Error ? Promise.reject(p) : Promise.resolve(p)),
  };
}

describe('kubeskippy explain', () => {
  it('prints each section: policy and rung, target, what fired, decision, safety checks, execution, result with metrics, timeline, AI', async () => {
    const out = await explainCommand(fakeApi(action({}, succeeded), policy), { namespace: 'shop', name: 'x', output: 'human' }, NOW);
    const text = out.out.join('\n');
    if (process.env['SHOW'] === '1') console.log(text);
    expect(out.out[0]).toBe('HealingAction shop/crash-restart-pod-1a2b: Succeeded (Verified)');
    expect(text).toMatch(/Policy:\s+HealingPolicy shop\/crash \(mode automatic\)/);
    expect(text).toMatch(/Ladder:\s+1\. restart-pod → 2\. rollback-release; this action: rung 1, restart-pod/);
    expect(text).toMatch(/Workload:\s+Deployment shop\/web/);
    expect(text).toMatch(/Observed:\s+4 \(threshold 3\)/);
    expect(text).toMatch(/Values:\s+restart_count=4/);
    expect(text).toMatch(/Approval:\s+not required/);
    expect(text).toMatch(/Safety checks \(gate at 2026-03-01T12:00:02Z\): allowed/);
    expect(text).toMatch(/note {2}disruption-budget {2}Deployment shop\/web has a single replica/);
    expect(text).toMatch(/Mechanism:\s+evict/);
    expect(text).toMatch(/restart_count\s+4\s+0/);
    expect(text).toMatch(/memory_usage_percent\s+91%\s+-/);
    expect(text).toMatch(/change: pod: web-7d9-x → \(evicted\)/);
    expect(text).toMatch(/Analysis \(AI\).*\n\s+Source:\s+rule: the policy's escalation ladder decided/);
    expect(text).toMatch(/Learning \(this workload, this trigger\):\n\s+- (nothing learnt yet|unknown)/);
  });

  it('shows the AI fields when the analysis layer proposed the action', async () => {
    const ai = action({ source: 'ai', confidence: 0.87, reasoning: ['memory grows 4%/min', 'limit in 12 min'], alternatives: [{ action: 'scale', confidence: 0.4, reason: 'more replicas share the load' }] });
    const text = (await explainCommand(fakeApi(ai, policy), { namespace: 'shop', name: 'x', output: 'human' }, NOW)).out.join('\n');
    expect(text).toMatch(/Confidence:\s+87%/);
    expect(text).toContain('    - limit in 12 min');
    expect(text).toContain('    - scale (40%): more replicas share the load');
  });

  it("shows what the policy has learnt on the action's workload for its trigger", async () => {
    const learnt: HealingPolicy = {
      ...policy,
      status: {
        learning: {
          outcomes: [
            { workload: 'Deployment/shop/web', trigger: 'restarts', action: 'restart-pod', successes: 3, failures: 0, recurrences: 3, lastOutcome: '2026-03-01T11:00:00Z' },
            { workload: 'Deployment/shop/other', trigger: 'restarts', action: 'restart-pod', successes: 9, failures: 0, recurrences: 0 },
          ],
        },
      },
    };
    const text = (await explainCommand(fakeApi(action(), learnt), { namespace: 'shop', name: 'x', output: 'human' }, NOW)).out.join('\n');
    expect(text).toContain('    - restart-pod: 3 verified (0 held, 3 recurred within the escalation window), 0 failed; last 2026-03-01T11:00:00Z — never held: the ladder starts past it here');
    expect(text).not.toContain('9 verified');
  });

  it('marks the deciding denial, and says when the policy is gone or unreadable', async () => {
    const blocked = action({}, { phase: 'Blocked', reason: 'Paused', completionTime: '2026-03-01T12:00:02Z', safety: [{ rule: 'paused', verdict: 'deny', message: 'the operator is paused' }] });
    const gone = (await explainCommand(fakeApi(blocked, undefined), { namespace: 'shop', name: 'x', output: 'human' }, NOW)).out.join('\n');
    expect(gone).toMatch(/DENY {2}paused {2}the operator is paused {3}← decided/);
    expect(gone).toMatch(/\(deleted since\)/);
    expect(gone).toMatch(/rung 1 \(the policy's ladder is unknown\)/);
    const hidden = (await explainCommand(fakeApi(blocked, new KubeError('Forbidden', 'nope', { status: 403 })), { namespace: 'shop', name: 'x', output: 'human' }, NOW)).out.join('\n');
    expect(hidden).toMatch(/could not be read: Forbidden \(403\): nope/);
  });

  it('says the gate has not run yet for a waiting action, and how to approve it', async () => {
    const waiting = action({ approvalRequired: true }, { phase: 'WaitingApproval' });
    const text = (await explainCommand(fakeApi(waiting, policy), { namespace: 'shop', name: 'x', output: 'human' }, NOW)).out.join('\n');
    expect(text).toMatch(/Approval:\s+waiting: kubeskippy approve crash-restart-pod-1a2b -n shop/);
    expect(text).toMatch(/not run yet: the gate runs right before execution/);
  });

  it('answers -o yaml with the same facts, and NotFound for a missing action', async () => {
    const out = await explainCommand(fakeApi(action({}, succeeded), policy), { namespace: 'shop', name: 'x', output: 'yaml' }, NOW);
    expect(out.out.join('\n')).toMatch(/decidedBy|checks:/);
    await expect(explainCommand(fakeApi(undefined, policy), { namespace: 'shop', name: 'nope', output: 'human' }, NOW)).rejects.toThrow(NotFoundError);
  });
});
