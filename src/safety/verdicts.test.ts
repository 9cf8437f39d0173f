import { describe, expect, it } from 'vitest';
import { SAFETY_RULES } from './rules.js';
import { DEFAULT_OPERATOR_SAFETY, type SafetyInput } from './types.js';
import { safetyChecks, toSafetyCheck } from './verdicts.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');

/** A restart of Ready pod apps/web-1 (Deployment apps/web, 3 of 3 ready) with nothing in the way. */
function input(over: Partial<SafetyInput> = {}): SafetyInput {
  return {
    now: NOW,
    candidate: {
      name: 'act-new',
      namespace: 'apps',
      createdAt: NOW,
      policy: 'apps/crash-heal',
      trigger: 'crash',
      target: { ref: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: 'web-1' }, labels: { app: 'web' }, annotations: {}, ready: true },
      workload: { ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'web' }, labels: { app: 'web' }, annotations: {} },
      type: 'restart',
      source: 'rule',
      dryRun: false,
    },
    policy: { maxActionsPerHour: 5, protectedResources: [], maxUnavailable: 1, cooldownMs: 300_000 },
    operator: { ...DEFAULT_OPERATOR_SAFETY, maxActionsPerHour: 100 },
    ledger: [],
    tenancy: { policyKind: 'HealingPolicy', policyNamespace: 'apps', namespaceAllowed: true, allowedNamespaces: 'its own namespace apps' },
    selection: { exists: true, matchesSelector: true },
    workloadState: { replicas: 3, readyReplicas: 3 },
    pdbs: [],
    ...over,
  };
}

describe('toSafetyCheck', () => {
  it.each([
    ['a silent pass', null, { rule: 'r', verdict: 'pass' }],
    ['a pass without notes', { allowed: true, notes: [] }, { rule: 'r', verdict: 'pass' }],
    ['a pass with notes', { allowed: true, notes: ['a', 'b'] }, { rule: 'r', verdict: 'note', message: 'a; b' }],
    ['a denial', { allowed: false, rule: 'paused', reason: 'Paused', message: 'paused' }, { rule: 'r', verdict: 'deny', message: 'paused' }],
  ] as const)('records %s', (_what, result, expected) => {
    expect(toSafetyCheck('r', result)).toEqual(expected);
  });

  it('caps a message at the 1024 characters the API field holds', () => {
    const check = toSafetyCheck('r', { allowed: false, rule: 'storm', reason: 'StormSuppressed', message: 'x'.repeat(5000) });
    expect(check.message).toHaveLength(1024);
  });
});

describe('safetyChecks', () => {
  it('records every rule in evaluation order, all passing when nothing is in the way', () => {
    const checks = safetyChecks(input());
    expect(checks.map((c) => c.rule)).toEqual(SAFETY_RULES.map((r) => r.name));
    expect(checks.every((c) => c.verdict === 'pass')).toBe(true);
  });

  it('records the deciding denial and what else would have refused or noted', () => {
    const checks = safetyChecks(input({ operator: { ...DEFAULT_OPERATOR_SAFETY, paused: true, forceDryRun: true }, selection: { exists: false, matchesSelector: false } }));
    const notPass = checks.filter((c) => c.verdict !== 'pass').map((c) => [c.rule, c.verdict]);
    expect(notPass).toEqual([
      ['paused', 'deny'],
      ['selection', 'deny'],
      ['dry-run', 'note'],
    ]);
    expect(checks[0]?.message).toMatch(/operator is paused/);
  });
});
