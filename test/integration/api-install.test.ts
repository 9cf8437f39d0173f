/**
 * The install artifacts against the real API server: the Helm chart (default values, and AI + Prometheus + 3
 * replicas) and `kubectl kustomize config/default` render, and every rendered object passes server-side dry-run
 * in order, in namespaces that enforce the restricted Pod Security Standard. The chart's RBAC, created for real
 * under a unique release name, is checked with SubjectAccessReviews: it allows what the operator does and
 * nothing else (no Secrets, no Leases outside its namespace). The chart and config/ carry the same operator role,
 * the same aggregated roles for people and the same HealingAction admission policy. (What the roles and the
 * policy do to real requests: operator-rbac, admission-policy and tenancy-rbac tests.)
 *
 * helm comes from hack/tools/build-helm.sh (built from the Go module proxy on a cache miss; instant when cached).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadOperatorConfig } from '../../src/config/load.js';
import { apiRequest, crdManifests, installCrds, kubectl, repoRoot, statusMessage, type ApiResponse, type KubeObject } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { applyObject, chartDir, ensureHelm, findObject as find, helmTemplate as renderChart, objectPath, parseObjects, serverVersion } from '../support/install.js';
import { EXPECTED_CONTROL_GRANTS, EXPECTED_MANAGER_GRANTS, EXPECTED_USER_GRANTS, grants, riskyRules, type Rule } from '../support/rbac.js';

const kc = testKubeConfig();
let helm = '';
let kubeVersion = '';
const namespaces: string[] = [];
/** Cluster-scoped objects this file created for real (unique names), removed afterwards. */
const clusterScoped: { path: string }[] = [];

/** Server-side apply of one object; with dryRun nothing is persisted. */
async function apply(o: KubeObject, dryRun: boolean): Promise<ApiResponse> {
  return applyObject(kc, o, dryRun);
}

/** Namespaces first, then CRDs, then everything else in the rendered order (as kubectl apply and helm do). */
function installOrder(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

/** Dry-runs every object in install order; returns one line per refused object or PodSecurity warning. */
async function dryRunAll(objects: readonly KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of installOrder(objects)) {
    const res = await apply(o, true);
    if (res.status !== 200 && res.status !== 201) problems.push(`${o.kind}/${o.metadata.name}: ${res.status} ${statusMessage(res)}`);
    for (const w of res.warnings) problems.push(`${o.kind}/${o.metadata.name}: warning: ${w}`);
  }
  return problems;
}

/** A namespace of this test that enforces (and warns about) the restricted Pod Security Standard. */
async function restrictedNamespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(kc, prefix);
  namespaces.push(ns);
  const res = await apiRequest(kc, {
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}`,
    body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } },
    contentType: 'application/merge-patch+json',
  });
  expect(res.status, statusMessage(res)).toBe(200);
  return ns;
}

function helmTemplate(release: string, namespace: string, values?: string): KubeObject[] {
  return renderChart({ helm, kubeVersion, release, namespace, ...(values === undefined ? {} : { values }) });
}

function roleProblems(objects: readonly KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
    .flatMap((o) => riskyRules(o.metadata.name, o['rules'] as Rule[]));
}

interface PodTemplateOwner {
  spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } };
}

/** The operator config a rendered ConfigMap carries, loaded by the operator's own loader. */
async function renderedConfig(objects: readonly KubeObject[]): ReturnType<typeof loadOperatorConfig> {
  const data = (find(objects, 'ConfigMap', '-config')['data'] as Record<string, string>)['config.yaml'] ?? '';
  return loadOperatorConfig({ flags: { config: 'config.yaml' }, env: {}, readFile: () => data });
}

beforeAll(async () => {
  await installCrds(kc);
  kubeVersion = await serverVersion(kc);
  helm = ensureHelm();
}, 30 * 60_000);

afterAll(async () => {
  for (const o of clusterScoped) await apiRequest(kc, { method: 'DELETE', path: o.path });
  for (const ns of namespaces) await deleteTestNamespace(kc, ns);
});

describe('the Helm chart', () => {
  it('renders with default values, and every object passes server-side dry-run in a restricted namespace', async () => {
    const ns = await restrictedNamespace('helm-default');
    const objects = helmTemplate('kubeskippy', ns);
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['CustomResourceDefinition', 'ServiceAccount', 'ConfigMap', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'Deployment', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
    );
    expect(await dryRunAll(objects)).toEqual([]);

    const deployment = find(objects, 'Deployment') as unknown as PodTemplateOwner;
    expect(deployment.spec.replicas).toBe(2);
    const config = await renderedConfig(objects);
    expect(config.leaderElection.enabled).toBe(true);
    expect(config.namespace).toBe(ns);
    expect(config.protectedNamespaces).toEqual(['kube-system', ns]);
    expect([config.dryRun, config.paused, config.ai.provider, config.prometheus.url]).toEqual([false, false, 'none', undefined]);
  });

  it('would notice a pod template that breaks the restricted standard (the dry-run check can fail)', async () => {
    const ns = await restrictedNamespace('helm-psa');
    const deployment = structuredClone(find(helmTemplate('kubeskippy', ns), 'Deployment')) as unknown as PodTemplateOwner & KubeObject;
    const container = (deployment.spec.template.spec['containers'] as Record<string, unknown>[])[0]!;
    delete container['securityContext'];
    const problems = await dryRunAll([deployment]);
    expect(problems).toEqual([expect.stringMatching(/would violate PodSecurity "restricted:latest": .*allowPrivilegeEscalation/)]);
  });

  it('ships CRDs identical to config/crd/bases', () => {
    const rendered = helmTemplate('kubeskippy', 'default').filter((o) => o.kind === 'CustomResourceDefinition');
    expect(rendered).toEqual(crdManifests());
  });

  it('renders AI + Prometheus + 3 replicas, which pass server-side dry-run, with leader election and the key from a Secret', async () => {
    const ns = await restrictedNamespace('helm-ai');
    const objects = helmTemplate(
      'skippy',
      ns,
      [
        'replicaCount: 3',
        'mode: {dryRun: true}',
        'prometheus: {url: "http://prometheus.monitoring.svc:9090"}',
        'ai: {provider: openai, url: "http://llm.ai.svc:8000/v1", model: "qwen2.5-7b-instruct", apiKeySecret: {name: llm-credentials, key: api-key}}',
      ].join('\n'),
    );
    expect(await dryRunAll(objects)).toEqual([]);
    const deployment = find(objects, 'Deployment') as unknown as PodTemplateOwner;
    expect(deployment.spec.replicas).toBe(3);
    const container = (deployment.spec.template.spec['containers'] as { env: { name: string; valueFrom?: unknown }[] }[])[0]!;
    expect(container.env).toContainEqual({ name: 'AI_API_KEY', valueFrom: { secretKeyRef: { name: 'llm-credentials', key: 'api-key' } } });
    const config = await renderedConfig(objects);
    expect(config.leaderElection.enabled).toBe(true);
    expect(config.dryRun).toBe(true);
    expect(config.prometheus.url).toBe('http://prometheus.monitoring.svc:9090');
    expect(config.ai).toMatchObject({ provider: 'openai', url: 'http://llm.ai.svc:8000/v1', model: 'qwen2.5-7b-instruct', apiKeyEnv: 'AI_API_KEY' });
  });

  it('turns leader election off for a single replica', async () => {
    const config = await renderedConfig(helmTemplate('kubeskippy', 'default', 'replicaCount: 1'));
    expect(config.leaderElection.enabled).toBe(false);
  });

  it('passes notification sinks to the operator config and their secrets to its environment', async () => {
    const objects = helmTemplate(
      'kubeskippy',
      'default',
      [
        'notifications:',
        '  sinks:',
        '  - {name: chat, kind: slack, urlFromEnv: SLACK_WEBHOOK_URL, events: [failed, blocked]}',
        '  secretEnv:',
        '  - {name: SLACK_WEBHOOK_URL, secretName: kubeskippy-notifications, key: slack-url}',
      ].join('\n'),
    );
    const data = (find(objects, 'ConfigMap', '-config')['data'] as Record<string, string>)['config.yaml'] ?? '';
    const config = await loadOperatorConfig({ flags: { config: 'config.yaml' }, env: { SLACK_WEBHOOK_URL: 'https://hooks.example/T/B/x' }, readFile: () => data });
    expect(config.notifications.sinks).toEqual([{ name: 'chat', kind: 'slack', urlFromEnv: 'SLACK_WEBHOOK_URL', events: ['failed', 'blocked'] }]);
    const deployment = find(objects, 'Deployment') as unknown as PodTemplateOwner;
    const env = ((deployment.spec.template.spec['containers'] as { env: { name: string; valueFrom?: unknown }[] }[])[0]?.env ?? []).find((e) => e.name === 'SLACK_WEBHOOK_URL');
    expect(env?.valueFrom).toEqual({ secretKeyRef: { name: 'kubeskippy-notifications', key: 'slack-url' } });
  });

  it('refuses values outside its schema', () => {
    const r = spawnSync(helm, ['template', 'x', chartDir, '--kube-version', kubeVersion, '--set', 'ai.provider=skynet'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ai\/provider/);
  });

  it('grants the same least-privilege rules as config/rbac, with no wildcard and no Secrets', () => {
    const objects = helmTemplate('kubeskippy', 'default');
    expect(grants(find(objects, 'ClusterRole', '-manager')['rules'] as Rule[])).toEqual(EXPECTED_MANAGER_GRANTS);
    const configRole = parse(readFileSync(path.join(repoRoot, 'config/rbac/role.yaml'), 'utf8')) as { rules: Rule[] };
    expect(find(objects, 'ClusterRole', '-manager')['rules']).toEqual(configRole.rules);
    const controlRole = parse(readFileSync(path.join(repoRoot, 'config/rbac/control_role.yaml'), 'utf8')) as { rules: Rule[] };
    expect(find(objects, 'Role', '-control')['rules']).toEqual(controlRole.rules);
    expect(grants(controlRole.rules)).toEqual(EXPECTED_CONTROL_GRANTS);
    // The pause switch itself, named as the operator looks for it, without data.
    const control = find(objects, 'ConfigMap', 'kubeskippy-control');
    expect([control.metadata.name, control['data']]).toEqual(['kubeskippy-control', undefined]);
    expect(roleProblems(objects)).toEqual([]);
  });

  it('gives people the same aggregated view, edit and admin roles as config/rbac', () => {
    const objects = helmTemplate('kubeskippy', 'default');
    const config = parseObjects(readFileSync(path.join(repoRoot, 'config/rbac/user_roles.yaml'), 'utf8'));
    for (const level of ['view', 'edit', 'admin'] as const) {
      const rendered = find(objects, 'ClusterRole', `-${level}`);
      expect(rendered.metadata.name).toBe(`kubeskippy-${level}`);
      expect(rendered['rules']).toEqual(find(config, 'ClusterRole', `-${level}`)['rules']);
      expect(grants(rendered['rules'] as Rule[])).toEqual(EXPECTED_USER_GRANTS[level]);
      expect((rendered.metadata['labels'] as Record<string, string>)[`rbac.authorization.k8s.io/aggregate-to-${level}`]).toBe('true');
    }
  });

  it('renders the admission policy of config/admission, naming the release\'s ServiceAccount as the operator; one value turns it off', () => {
    const config = parseObjects(readFileSync(path.join(repoRoot, 'config/admission/healingaction_policy.yaml'), 'utf8'));
    const standard = helmTemplate('kubeskippy', 'kubeskippy-system');
    expect(find(standard, 'ValidatingAdmissionPolicy')['spec']).toEqual(find(config, 'ValidatingAdmissionPolicy')['spec']);
    expect(find(standard, 'ValidatingAdmissionPolicyBinding')['spec']).toEqual(find(config, 'ValidatingAdmissionPolicyBinding')['spec']);

    const custom = helmTemplate('skippy', 'ops', 'serviceAccount: {name: healer}');
    const policy = find(custom, 'ValidatingAdmissionPolicy');
    expect(policy.metadata.name).toBe('skippy-kubeskippy-healingactions');
    const variables = (policy['spec'] as { variables: { name: string; expression: string }[] }).variables;
    expect(variables.find((v) => v.name === 'operator')?.expression).toBe("'system:serviceaccount:ops:healer'");
    expect(find(custom, 'ValidatingAdmissionPolicyBinding')['spec']).toEqual({ policyName: 'skippy-kubeskippy-healingactions', validationActions: ['Deny'] });

    const off = helmTemplate('kubeskippy', 'default', 'admissionPolicy: {enabled: false}');
    expect(off.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });

  it('ships the Grafana dashboard as a sidecar-labelled ConfigMap (on by default) and the alerting rules as a PrometheusRule (off by default)', () => {
    const standard = helmTemplate('kubeskippy', 'kubeskippy-system');
    const dashboard = find(standard, 'ConfigMap', '-grafana-dashboard');
    expect(dashboard.metadata['labels']).toMatchObject({ grafana_dashboard: '1' });
    const json = (dashboard['data'] as Record<string, string>)['kubeskippy-dashboard.json'] ?? '';
    expect(`${json}\n`).toBe(readFileSync(path.join(repoRoot, 'deploy/grafana/kubeskippy-dashboard.json'), 'utf8'));
    expect((JSON.parse(json) as { uid: string }).uid).toBe('kubeskippy-overview');
    expect(standard.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);

    const custom = helmTemplate('kubeskippy', 'ops', 'grafanaDashboard: {namespace: monitoring, label: dashboards, labelValue: kubeskippy, annotations: {grafana_folder: KubeSkippy}}\nprometheusRule: {enabled: true, labels: {release: kps}}');
    const moved = find(custom, 'ConfigMap', '-grafana-dashboard');
    expect([moved.metadata.namespace, moved.metadata['labels'], moved.metadata['annotations']]).toEqual([
      'monitoring',
      expect.objectContaining({ dashboards: 'kubeskippy' }),
      { grafana_folder: 'KubeSkippy' },
    ]);
    const rule = find(custom, 'PrometheusRule', '-alerts');
    expect(rule['apiVersion']).toBe('monitoring.coreos.com/v1');
    expect(rule.metadata['labels']).toMatchObject({ release: 'kps' });
    expect(rule['spec']).toEqual(parse(readFileSync(path.join(repoRoot, 'deploy/prometheus/kubeskippy-alerts.yaml'), 'utf8')));

    const off = helmTemplate('kubeskippy', 'default', 'grafanaDashboard: {enabled: false}');
    expect(off.filter((o) => o.metadata.name.endsWith('-grafana-dashboard'))).toEqual([]);
  });

  it('runs a pod that the restricted Pod Security Standard admits, and RBAC that allows exactly what the operator needs', async () => {
    const ns = await restrictedNamespace('helm-rbac');
    const release = `ks${ns.slice(-6)}`;
    const objects = helmTemplate(release, ns);
    // Create the identity and its RBAC for real (unique names), so the authorizer can be asked about them.
    for (const o of objects.filter((x) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(x.kind))) {
      const res = await apply(o, false);
      expect(res.status, statusMessage(res)).toBeLessThan(300);
      if (o.metadata.namespace === undefined) clusterScoped.push({ path: objectPath(o) });
    }
    const sa = find(objects, 'ServiceAccount').metadata.name;

    // The pod the Deployment would create, in a namespace that enforces "restricted": admitted means compliant.
    const deployment = find(objects, 'Deployment') as unknown as PodTemplateOwner;
    const pod = await apiRequest(kc, {
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/pods?dryRun=All&fieldValidation=Strict`,
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'manager', labels: deployment.spec.template.metadata.labels }, spec: deployment.spec.template.spec },
    });
    expect(pod.status, statusMessage(pod)).toBe(201);

    const can = async (attrs: Record<string, string>): Promise<boolean> => {
      const res = await apiRequest(kc, {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: `system:serviceaccount:${ns}:${sa}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
            resourceAttributes: attrs,
          },
        },
      });
      expect(res.status, statusMessage(res)).toBe(201);
      return (res.body as { status: { allowed: boolean } }).status.allowed;
    };
    // RBAC reaches the authorizer through an informer: wait for the first grant to be visible.
    await waitFor('RBAC of the release to take effect', () => can({ verb: 'list', resource: 'pods' }), 30_000);

    const allowed: Record<string, string>[] = [
      { verb: 'watch', resource: 'pods', namespace: 'default' },
      { verb: 'delete', resource: 'pods', namespace: 'default' },
      { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default' },
      { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'default' },
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'default' },
      { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'default' },
      { verb: 'create', group: 'kubeskippy.io', resource: 'healingactions', namespace: 'default' },
      { verb: 'patch', group: 'kubeskippy.io', resource: 'healingpolicies', subresource: 'status', namespace: 'default' },
      { verb: 'create', resource: 'events', namespace: 'default' },
      { verb: 'list', group: 'metrics.k8s.io', resource: 'pods' },
      { verb: 'watch', group: 'kubeskippy.io', resource: 'clusterhealingpolicies' },
      { verb: 'list', group: 'policy', resource: 'poddisruptionbudgets' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: ns },
      { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: ns },
      { verb: 'watch', resource: 'configmaps', name: 'kubeskippy-control', namespace: ns },
      { verb: 'get', resource: 'configmaps', name: 'kubeskippy-control', namespace: ns },
      { verb: 'patch', resource: 'configmaps', name: 'kubeskippy-control', namespace: ns },
    ];
    const denied: Record<string, string>[] = [
      { verb: 'get', resource: 'secrets', namespace: ns },
      { verb: 'list', resource: 'secrets' },
      { verb: 'create', resource: 'pods', namespace: 'default' },
      { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'default' },
      { verb: 'update', group: 'apps', resource: 'deployments', namespace: 'default' },
      { verb: 'update', resource: 'namespaces' },
      { verb: 'list', resource: 'nodes' },
      { verb: 'create', group: 'events.k8s.io', resource: 'events', namespace: 'default' },
      { verb: 'list', resource: 'services' },
      { verb: 'update', group: 'kubeskippy.io', resource: 'healingactions', namespace: 'default' },
      { verb: 'delete', group: 'kubeskippy.io', resource: 'healingpolicies', namespace: 'default' },
      { verb: 'get', resource: 'configmaps', namespace: 'default' },
      { verb: 'list', resource: 'configmaps', namespace: ns },
      { verb: 'patch', resource: 'configmaps', name: 'kubeskippy-config', namespace: ns },
      { verb: 'patch', resource: 'configmaps', name: 'kubeskippy-control', namespace: 'default' },
      { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default' },
      { verb: 'delete', group: 'coordination.k8s.io', resource: 'leases', namespace: ns },
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
      { verb: 'delete', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
    ];
    for (const a of allowed) expect(await can(a), `allowed: ${JSON.stringify(a)}`).toBe(true);
    for (const a of denied) expect(await can(a), `denied: ${JSON.stringify(a)}`).toBe(false);
  });
});

describe('kubectl kustomize config/default', () => {
  it('renders the CRDs, RBAC, Namespace and manager, and every object passes server-side dry-run', async () => {
    const ns = await restrictedNamespace('kustomize');
    // The overlay moves the install into this test's namespace (the shared cluster is not ours to install into).
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeskippy-kustomize-'));
    try {
      writeFileSync(
        path.join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          `namespace: ${ns}`,
          'resources:',
          `- ${path.relative(dir, path.join(repoRoot, 'config/default'))}`,
          // The snippet docs/security.md gives for overlays that move the operator: the admission policy's
          // "operator" follows the ServiceAccount's namespace.
          'replacements:',
          '- source: {kind: ServiceAccount, name: kubeskippy, fieldPath: metadata.namespace}',
          '  targets:',
          '  - select: {kind: ValidatingAdmissionPolicy, name: kubeskippy-healingactions}',
          '    fieldPaths: ["spec.variables.[name=operator].expression"]',
          '    options: {delimiter: ":", index: 2}',
          '',
        ].join('\n'),
      );
      const plain = kubectl(['kustomize', path.join(repoRoot, 'config/default')]);
      expect(plain.status, plain.stderr).toBe(0);
      expect(parseObjects(plain.stdout).filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['kubeskippy-system']);

      const r = kubectl(['kustomize', dir]);
      expect(r.status, r.stderr).toBe(0);
      const objects = parseObjects(r.stdout);
      expect(objects.map((o) => o.kind).sort()).toEqual(
        [
          ...['ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap'],
          ...['CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition'],
          ...['Deployment', 'Namespace', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Service', 'Service', 'ServiceAccount'],
          ...['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
        ],
      );
      const operator = (find(objects, 'ValidatingAdmissionPolicy')['spec'] as { variables: { name: string; expression: string }[] }).variables[0];
      expect(operator).toEqual({ name: 'operator', expression: `'system:serviceaccount:${ns}:kubeskippy'` });
      expect(installOrder(objects)[0]?.kind).toBe('Namespace');
      expect(await dryRunAll(objects)).toEqual([]);
      expect(roleProblems(objects)).toEqual([]);
      expect(grants(find(objects, 'ClusterRole', 'kubeskippy-manager')['rules'] as Rule[])).toEqual(EXPECTED_MANAGER_GRANTS);
      expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual(crdManifests());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
