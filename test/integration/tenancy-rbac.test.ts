/**
 * Tenancy with real users on the real API server: the people are ServiceAccounts with tokens from the TokenRequest
 * API (the server authenticates them like any user), bound in namespace A only, by RoleBinding, to Kubernetes'
 * built-in view, edit and admin ClusterRoles — which hold KubeSkippy's rights only because the chart's
 * kubeskippy-view/-edit/-admin roles aggregate into them. The chart's HealingAction admission policy is bound to
 * this file's namespaces (test/support/admission.ts).
 *
 * Where the HealingActions come from: the stand-in operator ServiceAccount (the chart's manager role, named in the
 * policy) creates them in A and B and writes their status, as the operator would — the policy admits exactly that,
 * so the namespaces can stay bound from the start and nothing is created around the rules under test. No operator
 * process runs: nothing here depends on one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveCommand, cancelCommand, createActionsApi } from '../../src/cli/approve.js';
import { isForbidden } from '../../src/k8s/errors.js';
import { healingAction, installTestAdmission, type TestAdmission } from '../support/admission.js';
import { apiRequest, installCrds, statusMessage, type ApiResponse, type KubeObject } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { createIdentity, type TestIdentity } from '../support/identity.js';
import { applyOrThrow, deleteObject, ensureHelm, findObject, serverVersion } from '../support/install.js';
import { EXPECTED_USER_GRANTS, grants, type Rule } from '../support/rbac.js';

const kc = testKubeConfig();
let nsA = '';
let nsB = '';
let people = '';
let admission: TestAdmission;
const userRoles: KubeObject[] = [];
let editor: TestIdentity;
let viewer: TestIdentity;
let owner: TestIdentity;

const MERGE = 'application/merge-patch+json';
const APPROVED_BY = 'kubeskippy.io/approved-by';
const BUILT_IN = { view: 'view', edit: 'edit', admin: 'admin' } as const;

function path(kind: 'healingpolicies' | 'healingactions', namespace: string, name = '', subresource = ''): string {
  return `/apis/kubeskippy.io/v1alpha1/namespaces/${namespace}/${kind}${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}`;
}

function policy(name: string): KubeObject {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name },
    spec: {
      selector: { labelSelector: { matchLabels: { app: 'web' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions: [{ name: 'restart', type: 'restart', requiresApproval: true }],
      mode: 'manual',
    },
  };
}

/** A HealingAction in `namespace`, created and moved to WaitingApproval by the stand-in operator. */
async function operatorAction(namespace: string, name: string): Promise<void> {
  const op = admission.operator.kubeConfig;
  const created = await apiRequest(op, { method: 'POST', path: path('healingactions', namespace), body: healingAction(name, namespace) });
  expect(created.status, statusMessage(created)).toBe(201);
  const status = await apiRequest(op, { method: 'PATCH', path: path('healingactions', namespace, name, 'status'), body: { status: { phase: 'WaitingApproval' } }, contentType: MERGE });
  expect(status.status, statusMessage(status)).toBe(200);
}

/** Binds `who` to a built-in ClusterRole in `namespace` (RoleBinding: that namespace only). */
async function bind(who: TestIdentity, clusterRole: string, namespace: string): Promise<void> {
  const res = await apiRequest(kc, {
    method: 'POST',
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    body: {
      metadata: { name: `${who.name}-${clusterRole}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: who.name, namespace: who.namespace }],
    },
  });
  expect(res.status, statusMessage(res)).toBe(201);
}

/** Whether `who` may do `verb` on `resource` in `namespace`, by the server's SelfSubjectAccessReview. */
async function may(who: TestIdentity, verb: string, resource: string, namespace: string): Promise<boolean> {
  const res = await apiRequest(who.kubeConfig, {
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: 'kubeskippy.io', resource, verb, namespace } } },
  });
  return (res.body as { status?: { allowed?: boolean } }).status?.allowed === true;
}

function expectForbiddenByRbac(res: ApiResponse, who: TestIdentity, verb: string, resource: string): void {
  expect(res.status, statusMessage(res)).toBe(403);
  expect(statusMessage(res)).toContain(`User "${who.username}" cannot ${verb} resource "${resource}"`);
}

function expectDeniedByPolicy(res: ApiResponse, message: string): void {
  expect(res.status, statusMessage(res)).toBe(403);
  expect(statusMessage(res)).toContain(`ValidatingAdmissionPolicy '${admission.policyName}'`);
  expect(statusMessage(res)).toContain(message);
}

beforeAll(async () => {
  await installCrds(kc);
  const helm = ensureHelm();
  const kubeVersion = await serverVersion(kc);
  nsA = await createTestNamespace(kc, 'tenant-a');
  nsB = await createTestNamespace(kc, 'tenant-b');
  people = await createTestNamespace(kc, 'tenant-people');
  admission = await installTestAdmission(kc, { helm, kubeVersion, probeNamespace: nsA });

  // The people's roles, from the same rendering (unique names): they aggregate into the built-in roles.
  for (const level of ['view', 'edit', 'admin'] as const) userRoles.push(findObject(admission.rendered, 'ClusterRole', `-kubeskippy-${level}`));
  for (const role of userRoles) await applyOrThrow(kc, role);
  await waitFor('the aggregated roles in the built-in view, edit and admin', async () => {
    for (const level of ['view', 'edit', 'admin'] as const) {
      const res = await apiRequest(kc, { method: 'GET', path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${BUILT_IN[level]}` });
      const have = new Set(grants(((res.body as { rules?: Rule[] }).rules ?? []).map((r) => ({ ...r, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] }))));
      if (!EXPECTED_USER_GRANTS[level].every((g) => have.has(g))) return false;
    }
    return true;
  }, 60_000);

  editor = await createIdentity(kc, people, 'editor');
  viewer = await createIdentity(kc, people, 'viewer');
  owner = await createIdentity(kc, people, 'owner');
  await bind(editor, 'edit', nsA);
  await bind(viewer, 'view', nsA);
  await bind(owner, 'admin', nsA);
  await waitFor('the RoleBindings to take effect', async () =>
    (await may(editor, 'create', 'healingpolicies', nsA)) && (await may(viewer, 'list', 'healingactions', nsA)) && (await may(owner, 'delete', 'healingactions', nsA)),
  30_000);

  await operatorAction(nsA, 'heal-a');
  await operatorAction(nsA, 'heal-a2');
  await operatorAction(nsA, 'heal-a3');
  await operatorAction(nsB, 'heal-b');
}, 30 * 60_000);

afterAll(async () => {
  for (const role of userRoles) await deleteObject(kc, role);
  await admission?.remove();
  for (const n of [nsA, nsB, people]) if (n) await deleteTestNamespace(kc, n);
});

describe('a namespace editor (built-in "edit" in namespace A, a real token)', () => {
  it('creates and updates a HealingPolicy in A', async () => {
    const created = await apiRequest(editor.kubeConfig, { method: 'POST', path: path('healingpolicies', nsA), body: policy('restarts') });
    expect(created.status, statusMessage(created)).toBe(201);
    const updated = await apiRequest(editor.kubeConfig, { method: 'PATCH', path: path('healingpolicies', nsA, 'restarts'), body: { spec: { mode: 'dryrun' } }, contentType: MERGE });
    expect(updated.status, statusMessage(updated)).toBe(200);
    expect((updated.body as { spec: { mode: string } }).spec.mode).toBe('dryrun');
  });

  it('cannot create a HealingPolicy in B', async () => {
    const res = await apiRequest(editor.kubeConfig, { method: 'POST', path: path('healingpolicies', nsB), body: policy('restarts') });
    expectForbiddenByRbac(res, editor, 'create', 'healingpolicies');
    expect(statusMessage(res)).toContain(`in the namespace "${nsB}"`);
  });

  it('cannot write a HealingPolicy in A that reaches into B: the API server refuses selector.namespaces and names the cluster-scoped kind', async () => {
    const reaching = policy('reach-b') as KubeObject & { spec: { selector: Record<string, unknown> } };
    reaching.spec.selector['namespaces'] = [nsB];
    const res = await apiRequest(editor.kubeConfig, { method: 'POST', path: path('healingpolicies', nsA), body: reaching });
    expect(res.status, statusMessage(res)).toBe(422);
    expect(statusMessage(res)).toMatch(/spec\.selector\.namespaces: Forbidden: a HealingPolicy acts only in its own namespace.*ClusterHealingPolicy/);
  });

  it('cannot create a ClusterHealingPolicy (cluster-scoped: cluster administrators only)', async () => {
    const res = await apiRequest(editor.kubeConfig, {
      method: 'POST',
      path: '/apis/kubeskippy.io/v1alpha1/clusterhealingpolicies',
      body: { ...policy('everywhere'), kind: 'ClusterHealingPolicy', spec: { ...(policy('everywhere')['spec'] as object), selector: { namespaces: ['*'] } } },
    });
    expectForbiddenByRbac(res, editor, 'create', 'clusterhealingpolicies');
  });

  it('cannot create a HealingAction in A (RBAC), and neither can cluster-admin, who has the right (the admission policy)', async () => {
    expectForbiddenByRbac(await apiRequest(editor.kubeConfig, { method: 'POST', path: path('healingactions', nsA), body: healingAction('forged', nsA) }), editor, 'create', 'healingactions');
    expectDeniedByPolicy(await apiRequest(kc, { method: 'POST', path: path('healingactions', nsA), body: healingAction('forged', nsA) }), 'HealingActions are created only by the KubeSkippy operator');
  });

  it("cannot write a HealingAction's status", async () => {
    const res = await apiRequest(editor.kubeConfig, { method: 'PATCH', path: path('healingactions', nsA, 'heal-a', 'status'), body: { status: { phase: 'Approved' } }, contentType: MERGE });
    expectForbiddenByRbac(res, editor, 'patch', 'healingactions/status');
  });

  it('approves an action in A with `kubeskippy approve`, recorded under the name the API server knows', async () => {
    const out = await approveCommand(createActionsApi(editor.kubeConfig), { namespace: nsA, name: 'heal-a' });
    expect(out).toEqual({ code: 0, out: [`healingaction.kubeskippy.io/heal-a approved by ${editor.username}`], err: [] });
    const action = await apiRequest(kc, { method: 'GET', path: path('healingactions', nsA, 'heal-a') });
    expect((action.body as KubeObject).metadata['annotations']).toEqual({ [APPROVED_BY]: editor.username });
    expect(await cancelCommand(createActionsApi(editor.kubeConfig), { namespace: nsA, name: 'heal-a3' })).toMatchObject({ code: 0 });
  });

  it('cannot approve an action in B', async () => {
    await expect(approveCommand(createActionsApi(editor.kubeConfig), { namespace: nsB, name: 'heal-b' })).rejects.toSatisfy(isForbidden);
    const res = await apiRequest(editor.kubeConfig, { method: 'PATCH', path: path('healingactions', nsB, 'heal-b'), body: { metadata: { annotations: { [APPROVED_BY]: editor.username } } }, contentType: MERGE });
    expectForbiddenByRbac(res, editor, 'patch', 'healingactions');
  });

  it('cannot approve under someone else\'s name, even where it may approve', async () => {
    const res = await apiRequest(editor.kubeConfig, { method: 'PATCH', path: path('healingactions', nsA, 'heal-a2'), body: { metadata: { annotations: { [APPROVED_BY]: owner.username } } }, contentType: MERGE });
    expectDeniedByPolicy(res, `${APPROVED_BY}="${owner.username}" must name the user making the request, "${editor.username}"`);
  });

  it('cannot change what an action does, nor delete one (that is the namespace admin\'s call)', async () => {
    const retarget = await apiRequest(editor.kubeConfig, { method: 'PATCH', path: path('healingactions', nsA, 'heal-a2'), body: { spec: { targetResource: { name: 'db-0' } } }, contentType: MERGE });
    expect(retarget.status, statusMessage(retarget)).toBe(422);
    expect(statusMessage(retarget)).toContain('spec is immutable');
    expectForbiddenByRbac(await apiRequest(editor.kubeConfig, { method: 'DELETE', path: path('healingactions', nsA, 'heal-a2') }), editor, 'delete', 'healingactions');
  });
});

describe('the other built-in roles in namespace A', () => {
  it('view reads policies and actions but cannot approve', async () => {
    const list = await apiRequest(viewer.kubeConfig, { method: 'GET', path: path('healingactions', nsA) });
    expect(list.status, statusMessage(list)).toBe(200);
    expect((list.body as { items: KubeObject[] }).items.map((a) => a.metadata.name).sort()).toEqual(['heal-a', 'heal-a2', 'heal-a3']);
    expect((await apiRequest(viewer.kubeConfig, { method: 'GET', path: path('healingpolicies', nsA) })).status).toBe(200);
    await expect(approveCommand(createActionsApi(viewer.kubeConfig), { namespace: nsA, name: 'heal-a2' })).rejects.toSatisfy(isForbidden);
  });

  it('admin deletes a HealingAction, but creates none either', async () => {
    const res = await apiRequest(owner.kubeConfig, { method: 'DELETE', path: path('healingactions', nsA, 'heal-a2') });
    expect(res.status, statusMessage(res)).toBe(200);
    expectForbiddenByRbac(await apiRequest(owner.kubeConfig, { method: 'POST', path: path('healingactions', nsA), body: healingAction('forged', nsA) }), owner, 'create', 'healingactions');
  });
});
