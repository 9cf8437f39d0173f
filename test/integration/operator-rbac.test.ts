/**
 * The operator's own rights, proven on the real API server with the operator's real kind of identity: the chart's
 * ServiceAccount, manager ClusterRole, leader-election Role and their bindings are created for real (unique
 * release name), a token for the ServiceAccount comes from the TokenRequest API, and every request below is made
 * with that bearer token. The server's own SelfSubjectRulesReview must list exactly the expected rules (printed, to
 * quote), and real requests outside them are refused with 403 while the calls the operator makes succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healingAction } from '../support/admission.js';
import { apiRequest, installCrds, statusMessage, type ApiRequest, type KubeObject } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { createIdentity, type TestIdentity } from '../support/identity.js';
import { applyOrThrow, deleteObject, ensureHelm, findObject, helmTemplate, serverVersion } from '../support/install.js';
import { EXPECTED_CONTROL_GRANTS, EXPECTED_LEADER_ELECTION_GRANTS, EXPECTED_MANAGER_GRANTS, expand } from '../support/rbac.js';

const kc = testKubeConfig();
/** The operator's namespace (where its Lease lives) and a workload namespace it serves. */
let home = '';
let apps = '';
let operator: TestIdentity;
const clusterScoped: KubeObject[] = [];

/**
 * What every authenticated user may do (the built-in system:basic-user role): ask who they are and what they may
 * do. The review lists these too; they are not the operator's doing.
 */
const BASIC_USER_GRANTS = [
  ...expand(['authorization.k8s.io/selfsubjectaccessreviews', 'authorization.k8s.io/selfsubjectrulesreviews', 'authentication.k8s.io/selfsubjectreviews'], ['create']),
].sort();

interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}
interface RulesReview {
  resourceRules: ResourceRule[];
  nonResourceRules: { verbs: string[]; nonResourceURLs: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

/** The operator's SelfSubjectRulesReview in `namespace`, made with its own token. */
async function rulesReview(namespace: string): Promise<RulesReview> {
  const res = await apiRequest(operator.kubeConfig, {
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } },
  });
  expect(res.status, statusMessage(res)).toBe(201);
  return (res.body as { status: RulesReview }).status;
}

/** "group/resource:verb" for every rule of a review; a rule narrowed to named objects gives "group/resource[name]:verb". */
function reviewGrants(review: RulesReview): string[] {
  const all = review.resourceRules.flatMap((r) =>
    (r.apiGroups ?? []).flatMap((g) =>
      (r.resources ?? []).flatMap((res) =>
        (r.resourceNames ?? ['']).flatMap((name) => r.verbs.map((v) => `${g === '' ? 'core' : g}/${res}${name === '' ? '' : `[${name}]`}:${v}`)),
      ),
    ),
  );
  return [...new Set(all)].sort();
}

/** One line per rule, "group resource[,resource…]: verb,verb", sorted: what the test prints to quote. */
function summary(review: RulesReview): string[] {
  return review.resourceRules
    .map((r) => `${(r.apiGroups ?? []).map((g) => (g === '' ? 'core' : g)).join(',')} ${(r.resources ?? []).join(',')}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}: ${r.verbs.join(',')}`)
    .concat(review.nonResourceRules.map((r) => `nonResourceURLs ${r.nonResourceURLs.join(',')}: ${r.verbs.join(',')}`))
    .sort();
}

async function asOperator(req: ApiRequest): Promise<{ status: number; message: string }> {
  const res = await apiRequest(operator.kubeConfig, req);
  return { status: res.status, message: statusMessage(res) };
}

async function admin(req: ApiRequest): Promise<void> {
  const res = await apiRequest(kc, req);
  expect(res.status, `${req.method} ${req.path}: ${statusMessage(res)}`).toBeLessThan(300);
}

beforeAll(async () => {
  await installCrds(kc);
  const helm = ensureHelm();
  const kubeVersion = await serverVersion(kc);
  home = await createTestNamespace(kc, 'operator-home');
  apps = await createTestNamespace(kc, 'operator-apps');
  const rendered = helmTemplate({ helm, kubeVersion, release: `rbac-${home.slice(-6)}`, namespace: home, includeCrds: false });
  for (const o of rendered.filter((x) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(x.kind))) {
    // The people's roles would aggregate into the cluster's built-in roles: not this file's business.
    if (o.kind === 'ClusterRole' && !o.metadata.name.endsWith('-manager')) continue;
    await applyOrThrow(kc, o);
    if (o.metadata.namespace === undefined) clusterScoped.push(o);
  }
  operator = await createIdentity(kc, home, findObject(rendered, 'ServiceAccount').metadata.name);
  // RBAC reaches the authorizer through an informer: wait until the binding counts.
  await waitFor('the manager role to take effect', async () => (await asOperator({ method: 'GET', path: '/api/v1/pods?limit=1' })).status === 200, 30_000);

  // Real objects for the operator to be refused on.
  await admin({ method: 'POST', path: `/api/v1/namespaces/${apps}/secrets`, body: { metadata: { name: 'db-password' }, stringData: { password: 'hunter2' } } });
  await admin({ method: 'POST', path: `/api/v1/namespaces/${apps}/configmaps`, body: { metadata: { name: 'settings' }, data: { a: 'b' } } });
  await admin({ method: 'POST', path: `/api/v1/namespaces/${apps}/services`, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
  await admin({
    method: 'POST',
    path: `/apis/apps/v1/namespaces/${apps}/deployments`,
    body: {
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] } } },
    },
  });
}, 30 * 60_000);

afterAll(async () => {
  for (const o of clusterScoped) await deleteObject(kc, o);
  for (const n of [home, apps]) if (n) await deleteTestNamespace(kc, n);
});

describe("the operator's ServiceAccount, with a real token", () => {
  it('is granted exactly the manager role, plus the Lease and the control ConfigMap in its own namespace only, by the server\'s own account (SelfSubjectRulesReview)', async () => {
    const atHome = await rulesReview(home);
    const inApps = await rulesReview(apps);
    console.log(
      [
        `SelfSubjectRulesReview of ${operator.username}`,
        `-- in its own namespace ${home} (incomplete: ${String(atHome.incomplete)}):`,
        ...summary(atHome).map((l) => `   ${l}`),
        `-- in a workload namespace ${apps}: the same without coordination.k8s.io leases and the control ConfigMap`,
      ].join('\n'),
    );
    expect(atHome.incomplete).toBe(false);
    expect(reviewGrants(atHome)).toEqual([...new Set([...EXPECTED_MANAGER_GRANTS, ...EXPECTED_LEADER_ELECTION_GRANTS, ...EXPECTED_CONTROL_GRANTS, ...BASIC_USER_GRANTS])].sort());
    expect(reviewGrants(inApps)).toEqual([...new Set([...EXPECTED_MANAGER_GRANTS, ...BASIC_USER_GRANTS])].sort());
  });

  it('is refused (403) Secrets, creating pods, writing anything it does not heal, RBAC, Leases elsewhere, and writing policies or action specs', async () => {
    const merge = 'application/merge-patch+json';
    const refused: ApiRequest[] = [
      { method: 'GET', path: `/api/v1/namespaces/${apps}/secrets/db-password` },
      { method: 'GET', path: '/api/v1/secrets' },
      { method: 'GET', path: `/api/v1/namespaces/${apps}/configmaps/settings` },
      { method: 'POST', path: `/api/v1/namespaces/${apps}/pods`, body: { metadata: { name: 'miner' }, spec: { containers: [{ name: 'x', image: 'example.invalid/x' }] } } },
      { method: 'PATCH', path: `/api/v1/namespaces/${apps}/services/web`, body: { spec: { selector: { app: 'elsewhere' } } }, contentType: merge },
      { method: 'PATCH', path: `/api/v1/namespaces/${apps}/configmaps/settings`, body: { data: { a: 'c' } }, contentType: merge },
      { method: 'POST', path: `/apis/apps/v1/namespaces/${apps}/deployments`, body: { metadata: { name: 'other' } } },
      { method: 'PUT', path: `/apis/apps/v1/namespaces/${apps}/deployments/web`, body: { metadata: { name: 'web' } } },
      { method: 'PATCH', path: `/apis/batch/v1/namespaces/${apps}/jobs/any`, body: { spec: {} }, contentType: merge },
      { method: 'GET', path: '/api/v1/nodes' },
      { method: 'GET', path: '/api/v1/services' },
      { method: 'POST', path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', body: { metadata: { name: 'escalate' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: operator.name, namespace: home }] } },
      { method: 'POST', path: `/apis/coordination.k8s.io/v1/namespaces/${apps}/leases`, body: { metadata: { name: 'not-mine' } } },
      { method: 'PATCH', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingpolicies/any`, body: { spec: {} }, contentType: merge },
      { method: 'POST', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingpolicies`, body: { metadata: { name: 'mine' } } },
      { method: 'PATCH', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingactions/any`, body: { spec: {} }, contentType: merge },
      { method: 'DELETE', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingactions/any` },
    ];
    const outcomes = await Promise.all(refused.map(async (r) => `${r.method} ${r.path} -> ${(await asOperator(r)).status}`));
    expect(outcomes).toEqual(refused.map((r) => `${r.method} ${r.path} -> 403`));
    // A 403 from RBAC names the identity: the refusals are the authorizer's, not some other failure.
    expect((await asOperator(refused[0]!)).message).toContain(`User "${operator.username}" cannot get resource "secrets"`);
  });

  it('can do what the operator does: list pods everywhere, create a HealingAction and write its status, patch a workload, take its Lease', async () => {
    const ok = async (req: ApiRequest, status: number): Promise<void> => {
      const res = await asOperator(req);
      expect(res.status, `${req.method} ${req.path}: ${res.message}`).toBe(status);
    };
    await ok({ method: 'GET', path: '/api/v1/pods' }, 200);
    await ok({ method: 'GET', path: '/api/v1/namespaces' }, 200);
    await ok({ method: 'GET', path: '/api/v1/events?limit=5' }, 200);
    await ok({ method: 'GET', path: '/apis/kubeskippy.io/v1alpha1/healingpolicies' }, 200);
    await ok({ method: 'POST', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingactions`, body: healingAction('by-the-operator', apps) }, 201);
    await ok(
      { method: 'PATCH', path: `/apis/kubeskippy.io/v1alpha1/namespaces/${apps}/healingactions/by-the-operator/status`, body: { status: { phase: 'WaitingApproval' } }, contentType: 'application/merge-patch+json' },
      200,
    );
    // A rollout restart, as the restart executor sends it (server-side dry run: authorized exactly like the real one).
    await ok(
      {
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${apps}/deployments/web?dryRun=All`,
        body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } } } } },
        contentType: 'application/strategic-merge-patch+json',
      },
      200,
    );
    await ok({ method: 'GET', path: `/apis/apps/v1/namespaces/${apps}/deployments/web/scale` }, 200);
    await ok({ method: 'POST', path: `/apis/coordination.k8s.io/v1/namespaces/${home}/leases`, body: { metadata: { name: 'kubeskippy-leader' }, spec: { holderIdentity: 'me' } } }, 201);
  });

  it('watches, reads and patches the control ConfigMap by name (a list narrowed by field selector is authorized by resourceNames), and no other ConfigMap', async () => {
    await admin({ method: 'POST', path: `/api/v1/namespaces/${home}/configmaps`, body: { metadata: { name: 'kubeskippy-control' } } });
    await admin({ method: 'POST', path: `/api/v1/namespaces/${home}/configmaps`, body: { metadata: { name: 'kubeskippy-config' }, data: { 'config.yaml': '{}' } } });
    const byName = `fieldSelector=${encodeURIComponent('metadata.name=kubeskippy-control')}`;
    const list = await asOperator({ method: 'GET', path: `/api/v1/namespaces/${home}/configmaps?${byName}` });
    expect(list.status, list.message).toBe(200);
    const watch = await asOperator({ method: 'GET', path: `/api/v1/namespaces/${home}/configmaps?${byName}&watch=true&timeoutSeconds=1` });
    expect(watch.status, watch.message).toBe(200);
    const get = await asOperator({ method: 'GET', path: `/api/v1/namespaces/${home}/configmaps/kubeskippy-control` });
    expect(get.status, get.message).toBe(200);
    const patch = await asOperator({
      method: 'PATCH',
      path: `/api/v1/namespaces/${home}/configmaps/kubeskippy-control`,
      body: { metadata: { annotations: { 'kubeskippy.io/operator-state': '{}' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(patch.status, patch.message).toBe(200);
    const refused: ApiRequest[] = [
      { method: 'GET', path: `/api/v1/namespaces/${home}/configmaps` },
      { method: 'GET', path: `/api/v1/namespaces/${home}/configmaps/kubeskippy-config` },
      { method: 'PATCH', path: `/api/v1/namespaces/${home}/configmaps/kubeskippy-config`, body: { data: { 'config.yaml': 'paused: false' } }, contentType: 'application/merge-patch+json' },
      { method: 'GET', path: `/api/v1/namespaces/${apps}/configmaps?${byName}` },
      { method: 'DELETE', path: `/api/v1/namespaces/${home}/configmaps/kubeskippy-control` },
      { method: 'POST', path: `/api/v1/namespaces/${home}/configmaps`, body: { metadata: { name: 'other' } } },
    ];
    const outcomes = await Promise.all(refused.map(async (r) => `${r.method} ${r.path} -> ${(await asOperator(r)).status}`));
    expect(outcomes).toEqual(refused.map((r) => `${r.method} ${r.path} -> 403`));
  });
});
