import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { ClusterHealingPolicy, HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { formatOperatorState, OPERATOR_STATE_ANNOTATION, pauseData, type OperatorState } from '../control/switch.js';
import { KubeError } from '../k8s/errors.js';
import { statusCommand, type StatusApi, type StatusReport } from './status.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const SETTINGS: OperatorState = {
  identity: 'op-7f',
  version: '0.1.0',
  since: '2026-03-01T08:00:00Z',
  dryRun: true,
  configPaused: false,
  maxActionsPerHour: 4,
  aiMaxActionsPerHour: 10,
  policyBreaker: { failureThreshold: 2, openSeconds: 600 },
  globalBreaker: { failureRate: 0.9, minActions: 50, windowSeconds: 3600, openSeconds: 600 },
};

function policy(name: string, ns: string, over: Partial<HealingPolicy['status']> = {}, ready: 'True' | 'False' = 'True'): HealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name, namespace: ns },
    spec: { selector: {}, triggers: [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }], actions: [{ name: 'r', type: 'restart' }], mode: 'automatic', safetyRules: { maxActionsPerHour: 5 } },
    status: {
      actionsAllowed: 3,
      actionsTaken: 2,
      activeTriggers: ['t'],
      lastActionTime: iso(NOW - 5 * MIN),
      conditions: [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'Evaluating' : 'SelectionProblem', message: ready === 'True' ? 'watching 2 resources' : 'no such kind', lastTransitionTime: iso(NOW - 60 * MIN) }],
      ...over,
    },
  };
}

const chp: ClusterHealingPolicy = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'ClusterHealingPolicy',
  metadata: { name: 'fleet' },
  spec: { selector: { namespaces: ['*'] }, triggers: [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }], actions: [{ name: 'r', type: 'restart' }], mode: 'monitor' },
};

let seq = 0;
function executed(policyName: string, ns: string, agoMs: number, over: { failed?: boolean; source?: 'rule' | 'ai'; dryRun?: boolean } = {}): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: `a-${seq++}`, namespace: ns, creationTimestamp: iso(NOW - agoMs) },
    spec: {
      policyRef: { name: policyName },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: `p-${seq}` },
      action: { name: 'r', type: 'restart' },
      ...(over.source ? { source: over.source } : {}),
      ...(over.dryRun ? { dryRun: true } : {}),
    },
    status: {
      phase: over.failed ? 'Failed' : 'Succeeded',
      startTime: iso(NOW - agoMs),
      completionTime: iso(NOW - agoMs + 30_000),
      result: { success: !over.failed },
    },
  };
}

function api(over: Partial<StatusApi> = {}): StatusApi {
  return {
    listPolicies: () => Promise.resolve([policy('crash', 'shop'), policy('broken', 'web', {}, 'False')]),
    listClusterPolicies: () => Promise.resolve([chp]),
    listActions: () =>
      Promise.resolve([
        executed('crash', 'shop', 10 * MIN),
        executed('crash', 'shop', 20 * MIN, { source: 'ai' }),
        executed('broken', 'web', 6 * MIN, { failed: true }),
        executed('broken', 'web', 4 * MIN, { failed: true }),
        executed('crash', 'shop', 2 * 60 * MIN),
        executed('crash', 'shop', 3 * MIN, { dryRun: true }),
      ]),
    getLease: () => Promise.resolve({ holderIdentity: 'op-7f', renewTime: NOW - 3000, leaseDurationSeconds: 15 }),
    getConfigMap: () => Promise.resolve({ data: pauseData('alice', 'incident 42', '2026-03-01T11:50:00Z'), annotations: { [OPERATOR_STATE_ANNOTATION]: formatOperatorState(SETTINGS) } }),
    ...over,
  };
}

const INPUT = { operatorNamespace: 'kubeskippy-system', leaseName: 'kubeskippy-leader', namespace: undefined, output: 'human' as const };

describe('kubeskippy status', () => {
  it('shows the leader, the pause with who and why, the dry run, the budgets used against the reported limits, open breakers and every policy', async () => {
    const out = await statusCommand(api(), INPUT, NOW);
    if (process.env['SHOW'] === '1') console.log(out.out.join('\n'));
    expect(out.code).toBe(0);
    const text = out.out.join('\n');
    expect(text).toMatch(/Leader:\s+op-7f \(renewed 3s ago\)/);
    expect(text).toMatch(/Paused:\s+YES — paused by alice at 2026-03-01T11:50:00Z: incident 42 \(kubeskippy resume lifts it\)/);
    expect(text).toMatch(/Dry run:\s+YES/);
    // Rule budget: 3 real executions in the hour (not the dry run, not the one 2h ago) of the reported 4.
    expect(text).toMatch(/Rule actions:\s+3 of 4 used/);
    expect(text).toMatch(/AI actions:\s+1 of 10 used/);
    // Two failed verifications in a row open web/broken's breaker (threshold 2, as reported).
    expect(text).toMatch(/circuit for policy web\/broken is open: 2 consecutive failed verifications/);
    expect(out.out.find((l) => /\bhp\s+shop\s+crash\b/.test(l))).toMatch(/automatic\s+True\s+3\/5\s+closed\s+t\s+2\s+5m$/);
    expect(out.out.find((l) => /\bchp\s+-\s+fleet\b/.test(l))).toMatch(/monitor\s+Unknown \(NotEvaluated\)/);
    expect(out.out.find((l) => /\bhp\s+web\s+broken\b/.test(l))).toMatch(/False \(SelectionProblem\).*open/);
    expect(text).toContain('web/broken: no such kind');
  });

  it('gives the same report as JSON with -o json', async () => {
    const out = await statusCommand(api(), { ...INPUT, output: 'json' }, NOW);
    const r = JSON.parse(out.out.join('\n')) as StatusReport;
    expect(r.operator.paused).toMatchObject({ paused: true, bySwitch: true, byConfig: false });
    expect(r.operator.dryRun).toBe(true);
    expect(r.budgets?.rule).toEqual({ used: 3, limit: 4 });
    expect(r.policies.map((p) => `${p.kind}/${p.namespace ?? ''}/${p.name}`)).toEqual(['ClusterHealingPolicy//fleet', 'HealingPolicy/shop/crash', 'HealingPolicy/web/broken']);
  });

  it('shows what it may not read as unknown, and still succeeds', async () => {
    const forbidden = (): Promise<never> => Promise.reject(new KubeError('Forbidden', 'leases.coordination.k8s.io is forbidden', { status: 403 }));
    const out = await statusCommand(api({ getLease: forbidden, getConfigMap: forbidden, listClusterPolicies: forbidden }), INPUT, NOW);
    expect(out.code).toBe(0);
    const text = out.out.join('\n');
    expect(text).toMatch(/Leader:\s+unknown \(not allowed: Forbidden \(403\)/);
    expect(text).toMatch(/Paused:\s+no \(the pause switch could not be read\)/);
    expect(text).toMatch(/Dry run:\s+unknown/);
    expect(text).toMatch(/Rule actions:\s+3 used \(limit unknown\)/);
    expect(text).toMatch(/Not shown\n {2}ClusterHealingPolicies: not allowed/);
  });

  it('says when no operator leads, and fails only when the policies cannot be read', async () => {
    const out = await statusCommand(api({ getLease: () => Promise.resolve(undefined), getConfigMap: () => Promise.resolve(undefined) }), INPUT, NOW);
    expect(out.out.join('\n')).toMatch(/Leader:\s+no Lease kubeskippy-leader/);
    expect(out.out.join('\n')).toMatch(/Paused:\s+no$/m);
    await expect(statusCommand(api({ listPolicies: () => Promise.reject(new KubeError('Forbidden', 'no', { status: 403 })) }), INPUT, NOW)).rejects.toThrow(/no/);
  });

  it('marks a Lease nobody renews as expired', async () => {
    const out = await statusCommand(api({ getLease: () => Promise.resolve({ holderIdentity: 'gone', renewTime: NOW - 60_000, leaseDurationSeconds: 15 }) }), INPUT, NOW);
    expect(out.out.join('\n')).toMatch(/Leader:\s+gone \(renewed 60s ago, EXPIRED/);
  });
});
