/**
 * The gate's storm fast path (SafetyGate.check → stormFromCache): in a storm seen in the cached ledger, an action is
 * refused before any live read; otherwise the full check runs and reads the cluster. The clients here throw on any
 * call, so "no live read" is what the first test proves and "reads the cluster" what the second does. The full
 * check against a real API server is covered by the integration and fault suites.
 */
import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { SafetyGate, type GateClients, type LedgerCache } from './gate.js';
import { DEFAULT_OPERATOR_SAFETY } from './types.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const NS = 'shop';

function action(name: string, workload: string, createdSecondsAgo: number): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: NS, uid: `uid-${name}`, resourceVersion: '1', creationTimestamp: new Date(NOW - createdSecondsAgo * 1000).toISOString() },
    spec: {
      policyRef: { name: 'heal', namespace: NS },
      targetResource: { apiVersion: 'v1', kind: 'Pod', name: `${workload}-pod`, namespace: NS },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workload, namespace: NS },
      action: { name: 'restart', type: 'restart' },
    },
  };
}

/** Clients whose every call fails: a check that reaches the cluster rejects with this error. */
const noClients = new Proxy({}, { get: () => new Proxy({}, { get: () => () => Promise.reject(new Error('live read')) }) }) as GateClients;

function gate(cached: HealingAction[]): SafetyGate {
  const cache: LedgerCache = { actions: () => cached, waitFor: () => Promise.resolve(true), intents: { isBefore: () => true } };
  return new SafetyGate({ clients: noClients, settings: () => DEFAULT_OPERATOR_SAFETY, cache });
}

describe('SafetyGate storm fast path', () => {
  it('refuses an action as StormSuppressed from the cache, reading nothing live, when more workloads than the limit failed', async () => {
    const max = DEFAULT_OPERATOR_SAFETY.storm.maxTargetsFailing ?? 0;
    const cached = Array.from({ length: max }, (_, i) => action(`a${i}`, `w${i}`, 30));
    const candidate = action('new', 'w-new', 0);
    const { decision, input } = await gate([...cached, candidate]).check(candidate, undefined, NOW);
    expect(decision).toMatchObject({ allowed: false, reason: 'StormSuppressed', rule: 'storm' });
    expect(decision.allowed ? '' : decision.message).toMatch(/cache of HealingActions/);
    expect(input).toBeUndefined();
  });

  it('keeps the precedence of the ledger rules ahead of the storm: a spent budget goes to the full check, which names it', async () => {
    const max = DEFAULT_OPERATOR_SAFETY.storm.maxTargetsFailing ?? 0;
    // More workloads than the storm limit, and the operator-wide budget spent by actions that executed.
    const executed = Array.from({ length: DEFAULT_OPERATOR_SAFETY.maxActionsPerHour }, (_, i) => ({
      ...action(`x${i}`, `w${i % (max + 1)}`, 30),
      status: { phase: 'Succeeded' as const, startTime: new Date(NOW - 20_000).toISOString() },
    }));
    const candidate = action('new', 'w-new', 0);
    await expect(gate([...executed, candidate]).check(candidate, undefined, NOW)).rejects.toThrow('live read');
  });

  it('goes to the full (live) check when the cache shows no storm: at the limit, or when the actions are older than the window', async () => {
    const max = DEFAULT_OPERATOR_SAFETY.storm.maxTargetsFailing ?? 0;
    const atLimit = Array.from({ length: max - 1 }, (_, i) => action(`a${i}`, `w${i}`, 30));
    await expect(gate(atLimit).check(action('new', 'w-new', 0), undefined, NOW)).rejects.toThrow('live read');
    const old = Array.from({ length: max * 2 }, (_, i) => action(`o${i}`, `w${i}`, 3600));
    await expect(gate(old).check(action('new', 'w-new', 0), undefined, NOW)).rejects.toThrow('live read');
  });
});
