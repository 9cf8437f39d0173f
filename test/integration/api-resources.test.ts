/**
 * The KubeSkippy resources as the real API server serves them: the CRDs install (their CEL rules within the cost
 * budget), every example and the seed's YAML apply, defaults appear on stored objects exactly as the offline
 * validator computes them, status is written only through the status subresource, and kubectl's views (short
 * names, category, printer columns) work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { validateHealingAction, validatePolicy } from '../../src/api/v1alpha1/validate.js';
import { apiRequest, collectionPath, crdManifests, installCrds, kubectl, statusMessage, TEST_FIELD_MANAGER, type ApiResponse } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, TEST_RUN_ID, testKubeConfig } from '../support/cluster.js';
import { exampleFiles } from '../support/examples.js';
import { SEED_CRASHLOOP_YAML } from '../support/policy-cases.js';

const kc = testKubeConfig();
let ns = '';

const policies = (): string => collectionPath('kubeskippy.io/v1alpha1', 'healingpolicies', ns);
const actions = (): string => collectionPath('kubeskippy.io/v1alpha1', 'healingactions', ns);

beforeAll(async () => {
  await installCrds(kc);
  ns = await createTestNamespace(kc, 'api-resources');
});
afterAll(async () => {
  if (ns !== '') await deleteTestNamespace(kc, ns);
});

function expectStatus(res: ApiResponse, status: number): void {
  expect(res.status, statusMessage(res)).toBe(status);
}

interface Stored {
  metadata: { name: string; generation: number; resourceVersion: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function healingAction(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name },
    spec: {
      policyRef: { name: 'crashloop-pod-healing' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', name: 'my-app-pod-abc', namespace: ns },
      action: { name: 'restart-crashed-pods', type: 'restart' },
    },
    ...extra,
  };
}

describe('the CRDs on the real API server', () => {
  it('are accepted with every CEL rule (estimated costs within budget), and re-applying them changes nothing', async () => {
    for (const crd of crdManifests()) {
      const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
      const before = (await apiRequest(kc, { method: 'GET', path })).body as Stored;
      const res = await apiRequest(kc, {
        method: 'PATCH',
        path: `${path}?fieldManager=${TEST_FIELD_MANAGER}&force=true&fieldValidation=Strict`,
        body: JSON.stringify(crd),
        contentType: 'application/apply-patch+yaml',
      });
      expectStatus(res, 200);
      expect((res.body as Stored).metadata.generation).toBe(before.metadata.generation);
    }
  });

  it('serve the short names hp and ha and the category kubeskippy in discovery', async () => {
    const res = await apiRequest(kc, { method: 'GET', path: '/apis/kubeskippy.io/v1alpha1' });
    expectStatus(res, 200);
    const resources = (res.body as { resources: { name: string; shortNames?: string[]; categories?: string[] }[] }).resources;
    expect(resources.find((r) => r.name === 'healingpolicies')).toMatchObject({ shortNames: ['hp'], categories: ['kubeskippy'] });
    expect(resources.find((r) => r.name === 'healingactions')).toMatchObject({ shortNames: ['ha'], categories: ['kubeskippy'] });
  });

  it('let kubectl list both kinds by short name and by the kubeskippy category', async () => {
    const created = await apiRequest(kc, { method: 'POST', path: actions(), body: healingAction('listed') });
    expectStatus(created, 201);
    const byCategory = kubectl(['get', 'kubeskippy', '-n', ns, '-o', 'name']);
    expect(byCategory.status, byCategory.stderr).toBe(0);
    expect(byCategory.stdout).toContain('healingaction.kubeskippy.io/listed');
    for (const short of ['hp', 'ha']) {
      const r = kubectl(['get', short, '-n', ns]);
      expect(r.status, r.stderr).toBe(0);
    }
  });
});

describe('examples and the seed YAML', () => {
  const examples = exampleFiles().flatMap((f) => f.objects.map((o, i) => [`${f.file}#${i}`, o] as const));

  it.each(examples)('%s is created for real, and stored with exactly the defaults the validator computes', async (_name, object) => {
    const cluster = object['kind'] === 'ClusterHealingPolicy';
    // Cluster-scoped names are shared by every run on this cluster: make this one unique, and remove it after.
    const body = cluster ? { ...object, metadata: { name: `${String((object['metadata'] as { name: string }).name)}-${TEST_RUN_ID}` } } : object;
    const path = cluster ? collectionPath('kubeskippy.io/v1alpha1', 'clusterhealingpolicies') : policies();
    const res = await apiRequest(kc, { method: 'POST', path: `${path}?fieldValidation=Strict`, body });
    try {
      expectStatus(res, 201);
      const offline = validatePolicy(body as unknown as AnyPolicy);
      expect(offline.valid).toBe(true);
      expect((res.body as Stored).spec).toEqual(offline.value?.spec);
    } finally {
      if (cluster) await apiRequest(kc, { method: 'DELETE', path: `${path}/${String((body['metadata'] as { name: string }).name)}` });
    }
  });

  it('applies the seed crashloop policy unchanged with kubectl (strict field validation) and defaults it', async () => {
    const seedNs = await createTestNamespace(kc, 'api-seed');
    try {
      const r = kubectl(['apply', '--validate=strict', '--server-side', `--field-manager=${TEST_FIELD_MANAGER}`, '-n', seedNs, '-f', '-'], SEED_CRASHLOOP_YAML);
      expect(r.status, r.stderr).toBe(0);
      const stored = await apiRequest(kc, {
        method: 'GET',
        path: `${collectionPath('kubeskippy.io/v1alpha1', 'healingpolicies', seedNs)}/crashloop-pod-healing`,
      });
      expectStatus(stored, 200);
      const spec = (stored.body as Stored).spec;
      expect(spec).toMatchObject({
        mode: 'automatic',
        triggers: [{ name: 'high-restart-count', cooldownPeriod: '5m', metricTrigger: { query: 'restart_count', threshold: 3, operator: '>', duration: '0s' } }],
        actions: [{ name: 'restart-crashed-pods', type: 'restart', priority: 10, requiresApproval: false }],
        safetyRules: { maxActionsPerHour: 5, requireHealthCheck: true, healthCheckTimeout: '5m', maxUnavailable: 1 },
      });
    } finally {
      await deleteTestNamespace(kc, seedNs);
    }
  });
});

describe('defaults', () => {
  it('appear on a stored HealingAction as the validator computes them', async () => {
    const object = healingAction('defaults');
    const res = await apiRequest(kc, { method: 'POST', path: actions(), body: object });
    expectStatus(res, 201);
    const spec = (res.body as Stored).spec;
    expect(spec).toMatchObject({ approvalRequired: false, dryRun: false, timeout: '10m', source: 'rule', action: { priority: 10, requiresApproval: false } });
    expect(spec).toEqual(validateHealingAction(object).value?.spec);
  });
});

describe('the status subresource', () => {
  const statusOf = async (path: string): Promise<Stored> => (await apiRequest(kc, { method: 'GET', path })).body as Stored;

  it('ignores status on create and on update of a HealingPolicy, and accepts it through /status', async () => {
    const policy = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingPolicy',
      metadata: { name: 'with-status' },
      spec: { selector: { labelSelector: { matchLabels: { app: 'web' } } }, triggers: [{ name: 't', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }], actions: [{ name: 'r', type: 'restart' }] },
      status: { actionsTaken: 7, matchedResources: 3 },
    };
    const created = await apiRequest(kc, { method: 'POST', path: policies(), body: policy });
    expectStatus(created, 201);
    expect((created.body as Stored).status).toBeUndefined();

    const path = `${policies()}/with-status`;
    const current = await statusOf(path);
    const updated = await apiRequest(kc, { method: 'PUT', path, body: { ...current, status: { actionsTaken: 9 } } });
    expectStatus(updated, 200);
    expect((updated.body as Stored).status).toBeUndefined();

    const patched = await apiRequest(kc, {
      method: 'PATCH',
      path: `${path}/status`,
      body: { status: { actionsTaken: 2, activeTriggers: ['t'], lastActionTime: '2026-01-20T10:15:00Z' } },
      contentType: 'application/merge-patch+json',
    });
    expectStatus(patched, 200);
    const after = await statusOf(path);
    expect(after.status).toEqual({ actionsTaken: 2, activeTriggers: ['t'], lastActionTime: '2026-01-20T10:15:00Z' });
    // A status write is not a spec change.
    expect(after.metadata.generation).toBe(current.metadata.generation);

    // And a spec update leaves the status written through the subresource alone.
    const respec = await apiRequest(kc, { method: 'PUT', path, body: { ...after, spec: { ...after.spec, mode: 'monitor' }, status: { actionsTaken: 0 } } });
    expectStatus(respec, 200);
    expect((respec.body as Stored).status).toEqual(after.status);
    expect((respec.body as Stored).metadata.generation).toBe(current.metadata.generation + 1);
  });

  it('ignores status on create of a HealingAction, and validates what is written through /status', async () => {
    const created = await apiRequest(kc, { method: 'POST', path: actions(), body: healingAction('phases', { status: { phase: 'Succeeded' } }) });
    expectStatus(created, 201);
    expect((created.body as Stored).status).toBeUndefined();

    const path = `${actions()}/phases/status`;
    const bad = await apiRequest(kc, { method: 'PATCH', path, body: { status: { phase: 'Done' } }, contentType: 'application/merge-patch+json' });
    expectStatus(bad, 422);
    expect(statusMessage(bad)).toContain('status.phase');

    const ok = await apiRequest(kc, {
      method: 'PATCH',
      path,
      body: { status: { phase: 'Blocked', reason: 'Cooldown', attempts: 0 } },
      contentType: 'application/merge-patch+json',
    });
    expectStatus(ok, 200);
    expect((ok.body as Stored).status).toEqual({ phase: 'Blocked', reason: 'Cooldown', attempts: 0 });
  });
});

describe('printer columns', () => {
  interface Table {
    kind: string;
    columnDefinitions: { name: string; priority: number }[];
    rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
  }

  async function table(path: string): Promise<Table> {
    const res = await apiRequest(kc, { method: 'GET', path, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    expectStatus(res, 200);
    const t = res.body as Table;
    expect(t.kind).toBe('Table');
    return t;
  }

  const defaultColumns = (t: Table): string[] => t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase());

  it('are declared on both CRDs as the server stores them', async () => {
    const read = async (name: string): Promise<string[]> => {
      const res = await apiRequest(kc, { method: 'GET', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}` });
      const crd = res.body as { spec: { versions: { additionalPrinterColumns?: { name: string; priority?: number }[] }[] } };
      return (crd.spec.versions[0]?.additionalPrinterColumns ?? []).filter((c) => (c.priority ?? 0) === 0).map((c) => c.name.toUpperCase());
    };
    expect(await read('healingactions.kubeskippy.io')).toEqual(['POLICY', 'ACTION', 'TARGET', 'PHASE', 'AGE']);
    expect(await read('healingpolicies.kubeskippy.io')).toEqual(['MODE', 'TRIGGERS', 'ACTIONS TAKEN', 'LAST ACTION', 'AGE']);
  });

  it('serve NAME, POLICY, ACTION, TARGET, PHASE, AGE for HealingActions', async () => {
    const created = await apiRequest(kc, { method: 'POST', path: actions(), body: healingAction('table-row') });
    expectStatus(created, 201);
    const patched = await apiRequest(kc, {
      method: 'PATCH',
      path: `${actions()}/table-row/status`,
      body: { status: { phase: 'Succeeded' } },
      contentType: 'application/merge-patch+json',
    });
    expectStatus(patched, 200);
    const t = await table(actions());
    expect(defaultColumns(t)).toEqual(['NAME', 'POLICY', 'ACTION', 'TARGET', 'PHASE', 'AGE']);
    const row = t.rows.find((r) => r.object.metadata.name === 'table-row');
    const names = t.columnDefinitions.map((c) => c.name.toUpperCase());
    const cell = (column: string): unknown => row?.cells[names.indexOf(column)];
    expect([cell('NAME'), cell('POLICY'), cell('ACTION'), cell('TARGET'), cell('PHASE')]).toEqual([
      'table-row',
      'crashloop-pod-healing',
      'restart',
      'my-app-pod-abc',
      'Succeeded',
    ]);
  });

  it('serve NAME, MODE, TRIGGERS, ACTIONS TAKEN, LAST ACTION, AGE for HealingPolicies', async () => {
    const created = await apiRequest(kc, {
      method: 'POST',
      path: policies(),
      body: { apiVersion: 'kubeskippy.io/v1alpha1', kind: 'HealingPolicy', metadata: { name: 'table-policy' }, spec: { selector: {}, triggers: [{ name: 't', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False' } }], actions: [{ name: 'r', type: 'restart' }] } },
    });
    expectStatus(created, 201);
    const t = await table(policies());
    expect(defaultColumns(t)).toEqual(['NAME', 'MODE', 'TRIGGERS', 'ACTIONS TAKEN', 'LAST ACTION', 'AGE']);
    const row = t.rows.find((r) => r.object.metadata.name === 'table-policy');
    expect(row?.cells[1]).toBe('automatic');
  });

  it('render in the real kubectl: MODE, TRIGGERS, ACTIONS TAKEN; FIRING with -o wide; TRIGGERS shows only the first trigger', async () => {
    const created = await apiRequest(kc, {
      method: 'POST',
      path: policies(),
      body: {
        apiVersion: 'kubeskippy.io/v1alpha1',
        kind: 'HealingPolicy',
        metadata: { name: 'two-triggers' },
        spec: {
          selector: {},
          triggers: [
            { name: 'high-restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } },
            { name: 'crashloop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff' } },
          ],
          actions: [{ name: 'r', type: 'restart' }],
        },
      },
    });
    expectStatus(created, 201);
    const patched = await apiRequest(kc, {
      method: 'PATCH',
      path: `${policies()}/two-triggers/status`,
      body: { status: { activeTriggers: ['crashloop', 'high-restarts'], actionsTaken: 2 } },
      contentType: 'application/merge-patch+json',
    });
    expectStatus(patched, 200);
    const rows = (args: string[]): string[][] => {
      const r = kubectl(['get', 'healingpolicy', 'two-triggers', '-n', ns, ...args]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    };
    const plain = rows([]);
    expect(plain[0]).toEqual(['NAME', 'MODE', 'TRIGGERS', 'ACTIONS TAKEN', 'LAST ACTION', 'AGE']);
    // No action yet: LAST ACTION is empty, so the row has one cell fewer than the header.
    expect(plain[1]?.slice(0, 4)).toEqual(['two-triggers', 'automatic', 'high-restarts', '2']);
    const wide = rows(['-o', 'wide']);
    expect(wide[0]).toEqual(['NAME', 'MODE', 'TRIGGERS', 'FIRING', 'ACTIONS TAKEN', 'LAST ACTION', 'AGE']);
    // FIRING (an array field) prints whole; TRIGGERS (.spec.triggers[*].name) prints the FIRST match only, because
    // server-side printing keeps the first JSONPath result (apiextensions-apiserver tableconvertor): the second
    // trigger, crashloop, is not in that cell.
    expect(wide[1]?.slice(0, 5)).toEqual(['two-triggers', 'automatic', 'high-restarts', '["crashloop","high-restarts"]', '2']);
  });

  it('show the same columns in kubectl get', () => {
    const r = kubectl(['get', 'healingactions', '-n', ns]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]?.trim().split(/\s{2,}/)).toEqual(['NAME', 'POLICY', 'ACTION', 'TARGET', 'PHASE', 'AGE']);
  });
});
