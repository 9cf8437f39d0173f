/**
 * The HealingAction admission policy (config/admission, the chart's admission-policy.yaml) on the real API server:
 * who may create HealingActions, under whose name decisions are recorded, and that the spec never changes — while
 * the operator's status writes pass. The policy is the chart's, rendered for a stand-in operator ServiceAccount and
 * bound only to this file's namespaces (test/support/admission.ts), so other tests' HealingActions are unaffected.
 * People are the cluster admin and users it impersonates (Kubernetes impersonation, as `kubeskippy approve --as`):
 * the policy sees the impersonated username, exactly as it would see that user's own credentials. The impersonated
 * alice and bob get, by a Role in the test namespace, every right on HealingActions a person could be given
 * (get, create, patch): what stops them below is the policy, not RBAC.
 */
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveCommand, createActionsApi, impersonate } from '../../src/cli/approve.js';
import { main } from '../../src/cli/main.js';
import { healingAction, installTestAdmission, type TestAdmission } from '../support/admission.js';
import { apiRequest, installCrds, statusMessage, type ApiResponse, type KubeObject } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, TEST_RUN_ID, testKubeConfig, waitFor } from '../support/cluster.js';
import { whoAmI } from '../support/identity.js';
import { ensureHelm, serverVersion } from '../support/install.js';

const kc = testKubeConfig();
let ns = '';
let admission: TestAdmission;
let adminName = '';
const extraNamespaces: string[] = [];

const APPROVED_BY = 'kubeskippy.io/approved-by';
const REJECTED_BY = 'kubeskippy.io/rejected-by';
const REJECT_REASON = 'kubeskippy.io/reject-reason';
const CANCEL = 'kubeskippy.io/cancel';

/** The admin's kubeconfig impersonating `user` (Impersonate-User, as kubectl --as). */
function as(user: string): k8s.KubeConfig {
  const k = testKubeConfig();
  impersonate(k, user);
  return k;
}

function actionPath(namespace: string, name = '', subresource = ''): string {
  return `/apis/kubeskippy.io/v1alpha1/namespaces/${namespace}/healingactions${name ? `/${name}` : ''}${subresource ? `/${subresource}` : ''}`;
}

async function create(who: k8s.KubeConfig, namespace: string, body: KubeObject): Promise<ApiResponse> {
  return apiRequest(who, { method: 'POST', path: actionPath(namespace), body });
}

async function mergePatch(who: k8s.KubeConfig, name: string, body: unknown, subresource = ''): Promise<ApiResponse> {
  return apiRequest(who, { method: 'PATCH', path: actionPath(ns, name, subresource), body, contentType: 'application/merge-patch+json' });
}

async function annotate(who: k8s.KubeConfig, name: string, annotations: Record<string, string | null>): Promise<ApiResponse> {
  return mergePatch(who, name, { metadata: { annotations } });
}

async function read(name: string): Promise<KubeObject & { spec: Record<string, unknown>; status?: { phase?: string } }> {
  const res = await apiRequest(kc, { method: 'GET', path: actionPath(ns, name) });
  expect(res.status, statusMessage(res)).toBe(200);
  return res.body as KubeObject & { spec: Record<string, unknown>; status?: { phase?: string } };
}

let counter = 0;
/** A fresh HealingAction, created by the stand-in operator as the real one would, waiting for approval. */
async function operatorAction(): Promise<string> {
  const name = `heal-${++counter}`;
  const created = await create(admission.operator.kubeConfig, ns, healingAction(name, ns));
  expect(created.status, statusMessage(created)).toBe(201);
  const status = await mergePatch(admission.operator.kubeConfig, name, { status: { phase: 'WaitingApproval' } }, 'status');
  expect(status.status, statusMessage(status)).toBe(200);
  return name;
}

/** The CRD's own rule (spec: self == oldSelf) refused the update, before any admission policy ran. */
function expectImmutable(res: ApiResponse): void {
  expect(res.status, statusMessage(res)).toBe(422);
  expect(statusMessage(res)).toContain('spec is immutable: a HealingAction records one decision');
}

function expectDenied(res: ApiResponse, message: string): void {
  expect(res.status, statusMessage(res)).toBe(403);
  expect(statusMessage(res)).toContain(`ValidatingAdmissionPolicy '${admission.policyName}'`);
  expect(statusMessage(res)).toContain(message);
}

beforeAll(async () => {
  await installCrds(kc);
  const helm = ensureHelm();
  const kubeVersion = await serverVersion(kc);
  ns = await createTestNamespace(kc, 'admission');
  admission = await installTestAdmission(kc, { helm, kubeVersion, probeNamespace: ns });
  adminName = (await whoAmI(kc)).username;
  expect(adminName).not.toBe('');
  await grantPeople(['get', 'list', 'create', 'patch']);
  await waitFor('the people\'s Role to take effect', async () => (await apiRequest(as('bob'), { method: 'GET', path: actionPath(ns) })).status === 200, 30_000);
}, 30 * 60_000);

/** A Role in the test namespace for the impersonated users alice and bob, with `verbs` on HealingActions. */
async function grantPeople(verbs: string[]): Promise<void> {
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;
  const role = await apiRequest(kc, { method: 'POST', path: `${rbac}/roles`, body: { metadata: { name: 'people' }, rules: [{ apiGroups: ['kubeskippy.io'], resources: ['healingactions'], verbs }] } });
  expect(role.status, statusMessage(role)).toBe(201);
  const binding = await apiRequest(kc, {
    method: 'POST',
    path: `${rbac}/rolebindings`,
    body: {
      metadata: { name: 'people' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'people' },
      subjects: ['alice', 'bob'].map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
    },
  });
  expect(binding.status, statusMessage(binding)).toBe(201);
}

afterAll(async () => {
  await admission?.remove();
  for (const n of [ns, ...extraNamespaces]) if (n) await deleteTestNamespace(kc, n);
});

describe('creating HealingActions', () => {
  it('is refused to anyone but the operator, cluster-admin included, with a message that says who may and what to do instead', async () => {
    const res = await create(kc, ns, healingAction('forged', ns));
    expectDenied(res, `HealingActions are created only by the KubeSkippy operator (${admission.operator.username}), not by ${adminName}: write a HealingPolicy and let the operator decide`);
    const impersonated = await create(as('alice'), ns, healingAction('forged', ns, { annotations: { [APPROVED_BY]: 'alice' } }));
    expectDenied(impersonated, 'not by alice');
  });

  it("is allowed to the operator's ServiceAccount, whose status writes through the status subresource pass too", async () => {
    const name = await operatorAction();
    const approved = await mergePatch(admission.operator.kubeConfig, name, { status: { phase: 'Approved', approval: { required: true, approved: true, approvedBy: 'alice' } } }, 'status');
    expect(approved.status, statusMessage(approved)).toBe(200);
    expect((await read(name)).status?.phase).toBe('Approved');
  });

  it('is not refused where the policy is not bound (another run\'s namespace): the binding, not the policy, decides where it applies', async () => {
    const elsewhere = await createTestNamespace(kc, 'admission-unbound', { 'kubeskippy.io/test-run': `not-${TEST_RUN_ID}` });
    extraNamespaces.push(elsewhere);
    const res = await create(kc, elsewhere, healingAction('hand-made', elsewhere));
    expect(res.status, statusMessage(res)).toBe(201);
  });
});

describe('decisions (approved-by, rejected-by, cancel)', () => {
  it("accepts each set to the requester's own username, which is what `kubeskippy approve` writes", async () => {
    const name = await operatorAction();
    const res = await annotate(kc, name, { [APPROVED_BY]: adminName });
    expect(res.status, statusMessage(res)).toBe(200);
    for (const key of [REJECTED_BY, CANCEL]) {
      const other = await operatorAction();
      const r = await annotate(as('alice'), other, { [key]: 'alice', ...(key === REJECTED_BY ? { [REJECT_REASON]: 'not now' } : {}) });
      expect(r.status, statusMessage(r)).toBe(200);
    }
    // The CLI learns the name from the API server (SelfSubjectReview), so it passes: here as the impersonated alice.
    const viaCli = await operatorAction();
    expect(await approveCommand(createActionsApi(as('alice')), { namespace: ns, name: viaCli })).toEqual({
      code: 0,
      out: [`healingaction.kubeskippy.io/${viaCli} approved by alice`],
      err: [],
    });
    expect((await read(viaCli)).metadata['annotations']).toEqual({ [APPROVED_BY]: 'alice' });
    // The whole command line: --as is impersonation, so the recorded name is the one the server authenticated.
    const viaMain = await operatorAction();
    const out: string[] = [];
    const err: string[] = [];
    expect(await main(['cancel', viaMain, '-n', ns, '--as', 'bob', '--kubeconfig', kubeconfigPath], { out: (l) => out.push(l), err: (l) => err.push(l) }), err.join('\n')).toBe(0);
    expect(out).toEqual([`healingaction.kubeskippy.io/${viaMain} cancellation requested by bob (the operator cancels it unless execution has started)`]);
    expect((await read(viaMain)).metadata['annotations']).toEqual({ [CANCEL]: 'bob' });
  });

  it("refuses any of them set to someone else's name, cluster-admin included, naming the annotation and the requester", async () => {
    const name = await operatorAction();
    for (const key of [APPROVED_BY, REJECTED_BY, CANCEL]) {
      expectDenied(await annotate(kc, name, { [key]: 'mallory' }), `${key}="mallory" must name the user making the request, "${adminName}"`);
    }
    expectDenied(await annotate(as('alice'), name, { [APPROVED_BY]: 'alice', [CANCEL]: 'bob' }), `${CANCEL}="bob" must name the user making the request, "alice"`);
    expect((await read(name)).metadata['annotations']).toBeUndefined();
  });

  it("lets unrelated changes through on an action someone else decided, refuses rewriting their name, and allows removing it", async () => {
    const name = await operatorAction();
    expect((await annotate(as('alice'), name, { [APPROVED_BY]: 'alice' })).status).toBe(200);
    const label = await mergePatch(kc, name, { metadata: { labels: { team: 'shop' }, annotations: { note: 'checked' } } });
    expect(label.status, statusMessage(label)).toBe(200);
    expectDenied(await annotate(kc, name, { [APPROVED_BY]: 'bob' }), `${APPROVED_BY}="bob" must name the user making the request`);
    // Removing records nothing in anyone's name (the operator records the approver in status when it acts).
    const removed = await annotate(kc, name, { [APPROVED_BY]: null });
    expect(removed.status, statusMessage(removed)).toBe(200);
    expect((await read(name)).metadata['annotations']).toEqual({ note: 'checked' });
  });

  it("keeps a rejection's reason with the one who rejected", async () => {
    const name = await operatorAction();
    expect((await annotate(as('bob'), name, { [REJECTED_BY]: 'bob', [REJECT_REASON]: 'not during the sale' })).status).toBe(200);
    expectDenied(await annotate(kc, name, { [REJECT_REASON]: 'ship it' }), `kubeskippy.io/reject-reason may only be written with your own kubeskippy.io/rejected-by ("${adminName}")`);
    expect((await annotate(as('bob'), name, { [REJECT_REASON]: 'not during the sale, nor after' })).status).toBe(200);
  });
});

describe('the spec and the status subresource', () => {
  it('refuses any change of the spec, the operator included, and lets metadata change', async () => {
    const name = await operatorAction();
    expectImmutable(await mergePatch(kc, name, { spec: { approvalRequired: false } }));
    expectImmutable(await mergePatch(kc, name, { spec: { targetResource: { name: 'someone-else' } } }));

    // The real operator has no right to patch HealingActions at all (RBAC stops it first); a test-only Role gives
    // the stand-in that right, to show the rule does not exempt the operator.
    const role = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`;
    const binding = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`;
    await apiRequest(kc, { method: 'POST', path: role, body: { metadata: { name: 'patch-actions' }, rules: [{ apiGroups: ['kubeskippy.io'], resources: ['healingactions'], verbs: ['patch'] }] } });
    await apiRequest(kc, {
      method: 'POST',
      path: binding,
      body: {
        metadata: { name: 'patch-actions' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'patch-actions' },
        subjects: [{ kind: 'ServiceAccount', name: admission.operator.name, namespace: admission.operator.namespace }],
      },
    });
    const byOperator = await waitFor('the test Role to take effect', async () => {
      const r = await mergePatch(admission.operator.kubeConfig, name, { spec: { approvalRequired: false } });
      return r.status === 403 ? undefined : r;
    }, 30_000);
    expectImmutable(byOperator);
    // The operator is exempt from the naming rule (it never writes decisions, but must never be stopped by it).
    expect((await annotate(admission.operator.kubeConfig, name, { [APPROVED_BY]: 'someone' })).status).toBe(200);

    const unchanged = await read(name);
    expect(unchanged.spec['approvalRequired']).toBe(true);
    expect((unchanged.spec['targetResource'] as { name: string }).name).toBe('web-0');
    // A full update (PUT) that carries the same spec passes.
    const put = await apiRequest(kc, { method: 'PUT', path: actionPath(ns, name), body: { ...unchanged, metadata: { ...unchanged.metadata, labels: { seen: 'yes' } } } });
    expect(put.status, statusMessage(put)).toBe(200);
  });

  it('is not consulted on status writes, and a status write changes nothing but status (no way around the rules)', async () => {
    const name = await operatorAction();
    // Cluster-admin may write status (the operator alone does, by RBAC); the API server keeps only .status of it.
    const res = await mergePatch(kc, name, { metadata: { annotations: { [APPROVED_BY]: 'mallory' } }, spec: { approvalRequired: false }, status: { phase: 'Approved' } }, 'status');
    expect(res.status, statusMessage(res)).toBe(200);
    const after = await read(name);
    expect(after.status?.phase).toBe('Approved');
    expect(after.metadata['annotations']).toBeUndefined();
    expect(after.spec['approvalRequired']).toBe(true);
  });
});
