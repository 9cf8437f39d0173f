/**
 * The HealingPolicy schema as the real API server enforces it: every case of the shared table gets the same verdict
 * from the API server (with strict field validation, as kubectl sends) and from the offline validator, and a
 * rejection names the offending field in both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { validatePolicy } from '../../src/api/v1alpha1/validate.js';
import { apiRequest, collectionPath, installCrds, statusMessage } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, TEST_RUN_ID, testKubeConfig } from '../support/cluster.js';
import { INVALID_POLICY_CASES, VALID_POLICY_CASES, type JsonObject, type PolicyCase } from '../support/policy-cases.js';

const kc = testKubeConfig();
let ns = '';

beforeAll(async () => {
  await installCrds(kc);
  ns = await createTestNamespace(kc, 'api-validation');
});
afterAll(async () => {
  if (ns !== '') await deleteTestNamespace(kc, ns);
});

/** Where a case's object lives: its namespace, or — for a ClusterHealingPolicy — the cluster. */
function casePath(c: PolicyCase): string {
  return c.kind === 'ClusterHealingPolicy' ? collectionPath('kubeskippy.io/v1alpha1', 'clusterhealingpolicies') : collectionPath('kubeskippy.io/v1alpha1', 'healingpolicies', ns);
}

/** The case's object, with a cluster-scoped name made unique to this run (other runs share the cluster). */
function caseObject(c: PolicyCase): JsonObject {
  if (c.kind !== 'ClusterHealingPolicy') return c.policy;
  const meta = c.policy['metadata'] as { name?: string };
  return meta.name === undefined ? c.policy : { ...c.policy, metadata: { name: `${meta.name}-${TEST_RUN_ID}` } };
}

async function create(c: PolicyCase): ReturnType<typeof apiRequest> {
  const res = await apiRequest(kc, { method: 'POST', path: `${casePath(c)}?fieldValidation=Strict`, body: caseObject(c) });
  if (res.status === 201 && c.kind === 'ClusterHealingPolicy') {
    await apiRequest(kc, { method: 'DELETE', path: `${casePath(c)}/${(caseObject(c)['metadata'] as { name: string }).name}` });
  }
  return res;
}

describe('HealingPolicy validation on the real API server', () => {
  it('has at least 25 distinct invalid cases, each naming a field', () => {
    expect(new Set(INVALID_POLICY_CASES.map((c) => c.name)).size).toBe(INVALID_POLICY_CASES.length);
    expect(INVALID_POLICY_CASES.length).toBeGreaterThanOrEqual(25);
    for (const c of INVALID_POLICY_CASES) expect(c.field, c.name).toBeTruthy();
  });

  it.each(VALID_POLICY_CASES.map((c) => [c.name, c] as const))('accepts %s, and so does the validator', async (_name, c) => {
    const res = await create(c);
    expect(res.status, statusMessage(res)).toBe(201);
    const offline = validatePolicy(c.policy as unknown as AnyPolicy);
    expect(offline.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(offline.valid).toBe(true);
  });

  it.each(INVALID_POLICY_CASES.map((c) => [c.name, c] as const))('rejects %s, naming the field, and so does the validator', async (_name, c) => {
    const res = await create(c);
    const message = statusMessage(res);
    // 422 Invalid for schema and CEL failures; 400 BadRequest for strict decoding (unknown fields).
    expect([400, 422], message).toContain(res.status);
    expect(message).toContain(c.field);
    if (c.says) expect(message).toMatch(c.says);

    const offline = validatePolicy(c.policy as unknown as AnyPolicy);
    expect(offline.valid).toBe(false);
    expect(offline.problems.map((p) => p.path), JSON.stringify(offline.problems)).toContain(c.field);

    // Nothing was stored under the case's name (when it has a usable one).
    const name = (c.policy['metadata'] as { name?: unknown }).name;
    if (typeof name === 'string' && /^[a-z0-9-]+$/.test(name)) {
      const stored = await apiRequest(kc, { method: 'GET', path: `${casePath(c)}/${(caseObject(c)['metadata'] as { name: string }).name}` });
      expect(stored.status).toBe(404);
    }
  });
});
