import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { confirmIntent, IntentOrder } from './confirm.js';
import { DEFAULT_OPERATOR_SAFETY, type LedgerEntry, type SafetyInput } from './types.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

function entry(name: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    name,
    namespace: 'apps',
    policy: 'ClusterHealingPolicy/fleet',
    trigger: 'crash',
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: `${name}-pod` },
    type: 'restart',
    source: 'rule',
    phase: 'InProgress',
    createdAt: NOW - MIN,
    startedAt: NOW - MIN,
    dryRun: false,
    ...over,
  };
}

/** The candidate `mine` of cluster policy fleet (3/hour), with a global budget of `global`. */
function input(ledger: LedgerEntry[], global = 100, source: 'rule' | 'ai' = 'rule'): SafetyInput {
  return {
    now: NOW,
    candidate: {
      name: 'mine',
      namespace: 'apps',
      createdAt: NOW,
      policy: 'ClusterHealingPolicy/fleet',
      trigger: 'crash',
      target: { ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'mine-pod' }, labels: {}, annotations: {}, ready: true },
      type: 'restart',
      source,
      dryRun: false,
    },
    policy: { maxActionsPerHour: 3, protectedResources: [], maxUnavailable: 1, cooldownMs: 0 },
    operator: { ...DEFAULT_OPERATOR_SAFETY, maxActionsPerHour: global, aiMaxActionsPerHour: 1 },
    ledger,
    tenancy: { policyKind: 'ClusterHealingPolicy', policyNamespace: '', namespaceAllowed: true, allowedNamespaces: 'every namespace' },
    selection: { exists: true, matchesSelector: true },
    pdbs: [],
  };
}

describe('confirmIntent', () => {
  it('lets the intent proceed when the intents before it leave room in every budget', () => {
    const ledger = [entry('a'), entry('b'), entry('later-1'), entry('later-2')];
    const before = (e: LedgerEntry): boolean => !e.name.startsWith('later');
    expect(confirmIntent(input(ledger), before)).toEqual({ allowed: true, dryRun: false, notes: [] });
  });

  it('gives way when the intents written before it used the cluster policy\'s budget (a racing replica got there first)', () => {
    const ledger = [entry('a'), entry('b'), entry('c'), entry('later')];
    const d = confirmIntent(input(ledger), (e) => e.name !== 'later');
    expect(d).toMatchObject({ allowed: false, reason: 'RateLimited', rule: 'policy-rate' });
    expect(d.allowed ? '' : d.message).toMatch(/checked again after writing the intent/);
  });

  it('gives way for the operator-wide budget too, counting every policy', () => {
    const ledger = [entry('x', { policy: 'apps/p' }), entry('y', { policy: 'shop/q', namespace: 'shop' })];
    expect(confirmIntent(input(ledger, 2), () => true)).toMatchObject({ allowed: false, reason: 'RateLimited', rule: 'global-rate' });
    expect(confirmIntent(input(ledger, 3), () => true).allowed).toBe(true);
  });

  it('counts only executed entries, and only those of the rolling hour', () => {
    const ledger = [entry('blocked', { phase: 'Blocked' }), entry('pending', { phase: 'Pending', startedAt: undefined }), entry('old', { phase: 'Succeeded', startedAt: NOW - 61 * MIN }), entry('a'), entry('b')];
    expect(confirmIntent(input(ledger), () => true).allowed).toBe(true);
  });

  it('applies the AI budget to AI-sourced intents', () => {
    expect(confirmIntent(input([entry('ai', { source: 'ai' })], 100, 'ai'), () => true)).toMatchObject({ allowed: false, rule: 'ai-rate' });
  });

  it('never stops a dry run', () => {
    const dry = input([entry('a'), entry('b'), entry('c')]);
    expect(confirmIntent({ ...dry, candidate: { ...dry.candidate, dryRun: true } }, () => true).allowed).toBe(true);
  });
});

function action(name: string, rv: string, startTime?: string, uid = `uid-${name}`): HealingAction {
  const a: HealingAction = {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: 'apps', uid, resourceVersion: rv },
    spec: { policyRef: { name: 'p' }, targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'x' }, action: { name: 'r', type: 'restart' } },
    ...(startTime === undefined ? {} : { status: { phase: 'InProgress', startTime } }),
  };
  return a;
}

describe('IntentOrder', () => {
  const e = (name: string): Pick<LedgerEntry, 'namespace' | 'name'> => ({ namespace: 'apps', name });
  const T = '2026-03-01T10:00:00Z';

  it('orders two racing intents by the version of their intent writes, the same way on every replica', () => {
    const order = new IntentOrder();
    order.observe(action('a', '10', T), action('a', '9'));
    order.observe(action('b', '11', T), action('b', '8'));
    // a's intent (10) came before b's (11): b counts a, a does not count b.
    expect(order.isBefore(e('a'), 11n)).toBe(true);
    expect(order.isBefore(e('b'), 10n)).toBe(false);
  });

  it('keeps the intent version when the action is written again later (Verifying, Succeeded)', () => {
    const order = new IntentOrder();
    order.observe(action('a', '10', T), action('a', '9'));
    order.observe(action('a', '20', T), action('a', '10', T));
    expect(order.isBefore(e('a'), 15n)).toBe(true);
  });

  it('counts as earlier what it first saw already executed (after a relist), or never saw', () => {
    const order = new IntentOrder();
    order.observe(action('a', '30', T));
    expect(order.isBefore(e('a'), 15n)).toBe(true);
    expect(order.isBefore(e('unknown'), 15n)).toBe(true);
  });

  it('forgets deleted actions and ones that have not started', () => {
    const order = new IntentOrder();
    order.observe(action('a', '10', T), action('a', '9'));
    order.forget(action('a', '11', T));
    order.observe(action('b', '12'));
    expect(order.size).toBe(0);
  });
});
