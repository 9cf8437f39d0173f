import { describe, expect, it } from 'vitest';
import { INVALID_POLICY_CASES, SEED_CRASHLOOP_YAML, VALID_POLICY_CASES } from '../../../test/support/policy-cases.js';
import { parse } from 'yaml';
import type { AnyPolicy } from './healing-policy.js';
import { validateHealingAction, validateHealingPolicy, validatePolicy } from './validate.js';

// The same table runs against the real API server in test/integration/api-validation.test.ts.
describe('validatePolicy on the shared table of cases', () => {
  it.each(VALID_POLICY_CASES.map((c) => [c.name, c] as const))('accepts %s', (_name, c) => {
    const result = validatePolicy(c.policy as unknown as AnyPolicy);
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.each(INVALID_POLICY_CASES.map((c) => [c.name, c] as const))('rejects %s, naming the field', (_name, c) => {
    const result = validatePolicy(c.policy as unknown as AnyPolicy);
    expect(result.valid).toBe(false);
    expect(result.value).toBeUndefined();
    expect(result.problems.map((p) => p.path)).toContain(c.field);
    for (const p of result.problems) expect(p.severity).toBe('error');
  });
});

describe('validateHealingPolicy defaults', () => {
  it('fills in the defaults the API server stores, including those inside safetyRules', () => {
    const result = validateHealingPolicy(parse(SEED_CRASHLOOP_YAML));
    expect(result.valid).toBe(true);
    const spec = result.value!.spec;
    expect(spec.mode).toBe('automatic');
    expect(spec.triggers[0]).toMatchObject({ cooldownPeriod: '5m', metricTrigger: { operator: '>', duration: '0s' } });
    expect(spec.actions[0]).toMatchObject({ priority: 10, requiresApproval: false });
    expect(spec.safetyRules).toEqual({ maxActionsPerHour: 5, requireHealthCheck: true, healthCheckTimeout: '5m', maxUnavailable: 1 });
  });

  it('drops null fields before validating, as the API server does (an empty `healthCheckTimeout:` in YAML is its default)', () => {
    const input = parse(SEED_CRASHLOOP_YAML) as { spec: Record<string, unknown> };
    input.spec['safetyRules'] = { healthCheckTimeout: null, maxActionsPerHour: null };
    input.spec['mode'] = null;
    const result = validateHealingPolicy(input);
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.value?.spec.safetyRules).toMatchObject({ healthCheckTimeout: '5m', maxActionsPerHour: 5 });
    expect(result.value?.spec.mode).toBe('automatic');
    // A required field that is null is missing, as on the server.
    const noTriggers = parse(SEED_CRASHLOOP_YAML) as { spec: Record<string, unknown> };
    noTriggers.spec['triggers'] = null;
    expect(validateHealingPolicy(noTriggers).problems.map((p) => p.message)).toContain('Required value');
  });

  it('does not modify its input', () => {
    const input = parse(SEED_CRASHLOOP_YAML) as Record<string, unknown>;
    const copy = structuredClone(input);
    validateHealingPolicy(input);
    expect(input).toEqual(copy);
  });

  it('never throws, whatever it is given', () => {
    for (const input of [null, undefined, 42, 'x', [], {}, { kind: 'HealingPolicy' }, { spec: { triggers: 'no' } }]) {
      expect(validateHealingPolicy(input).valid).toBe(false);
    }
  });
});

describe('validateHealingPolicy warnings', () => {
  const base = parse(SEED_CRASHLOOP_YAML) as { spec: Record<string, unknown> };

  it('warns about a delete action without approval, but keeps the policy valid', () => {
    const p = structuredClone(base);
    p.spec['actions'] = [{ name: 'd', type: 'delete' }];
    const result = validateHealingPolicy(p);
    expect(result.valid).toBe(true);
    expect(result.problems).toContainEqual(expect.objectContaining({ severity: 'warning', path: 'spec.actions[0]' }));
  });

  it('warns, instead of refusing, about a delete without a labelSelector when a human approves each delete', () => {
    const p = structuredClone(base);
    p.spec['selector'] = { resources: [{ apiVersion: 'v1', kind: 'Pod' }] };
    p.spec['actions'] = [{ name: 'd', type: 'delete', requiresApproval: true }];
    const result = validateHealingPolicy(p);
    expect(result.valid).toBe(true);
    expect(result.problems).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'spec.selector', message: expect.stringMatching(/delete action.*waits for a human to approve/) as unknown }),
    ]);
    // The same policy without the approval is refused: the warning exists only because a person stands in between.
    p.spec['actions'] = [{ name: 'd', type: 'delete' }];
    expect(validateHealingPolicy(p).problems).toContainEqual(expect.objectContaining({ severity: 'error', path: 'spec.selector' }));
  });

  it('warns about a trigger without cooldown', () => {
    const p = structuredClone(base);
    p.spec['triggers'] = [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 }, cooldownPeriod: '0s' }];
    expect(validateHealingPolicy(p).problems).toContainEqual(
      expect.objectContaining({ severity: 'warning', path: 'spec.triggers[0].cooldownPeriod' }),
    );
  });

  it('warns about a selector that matches everything', () => {
    const p = { ...structuredClone(base), kind: 'ClusterHealingPolicy' };
    p.spec['selector'] = { namespaces: ['*'] };
    expect(validatePolicy(p as unknown as AnyPolicy).problems).toContainEqual(
      expect.objectContaining({ severity: 'warning', path: 'spec.selector', message: expect.stringMatching(/every pod in every namespace/) as unknown }),
    );
  });
});

describe('validateHealingAction', () => {
  const action = {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'crashloop-healing-restart-xyz123' },
    spec: {
      policyRef: { name: 'crashloop-pod-healing' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', name: 'my-app-pod-abc', namespace: 'demo' },
      action: { name: 'restart-crashed-pods', type: 'restart' },
    },
  };

  it('accepts a minimal action and applies its defaults', () => {
    const result = validateHealingAction(action);
    expect(result.valid).toBe(true);
    expect(result.value?.spec).toMatchObject({ approvalRequired: false, dryRun: false, timeout: '10m', source: 'rule' });
  });

  it('rejects an action without a target, naming the field', () => {
    const { targetResource: _t, ...spec } = action.spec;
    const result = validateHealingAction({ ...action, spec });
    expect(result.valid).toBe(false);
    expect(result.problems.map((p) => p.path)).toContain('spec.targetResource');
  });
});
