/**
 * The install artifacts as files: least-privilege RBAC listed exactly, the aggregated roles for people, the
 * HealingAction admission policy, a hardened manager Deployment whose config file the operator's own loader
 * accepts, and a Dockerfile that builds a non-root image. Rendering and server-side dry-run of the whole install
 * are in test/integration/api-install.test.ts; what the roles and the policy do on a real API server is in
 * test/integration/{operator-rbac,admission-policy,tenancy-rbac}.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadOperatorConfig } from '../../src/config/load.js';
import { repoRoot } from '../support/api-server.js';
import { EXPECTED_CONTROL_GRANTS, EXPECTED_LEADER_ELECTION_GRANTS, EXPECTED_MANAGER_GRANTS, EXPECTED_USER_GRANTS, grants, riskyRules, type Rule } from '../support/rbac.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };

function readObjects(dir: string): Obj[] {
  const abs = path.join(repoRoot, dir);
  return readdirSync(abs)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(abs, f), 'utf8')).map((d) => d.toJS() as Obj));
}

describe('config/rbac', () => {
  const objects = readObjects('config/rbac');
  const byName = (kind: string, name: string): Obj => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`${kind} ${name} not found`);
    return o;
  };

  it('grants the operator exactly the permissions it needs, cluster-wide', () => {
    expect(grants(byName('ClusterRole', 'kubeskippy-manager')['rules'] as Rule[])).toEqual(EXPECTED_MANAGER_GRANTS);
  });

  it('grants Leases only in the operator namespace, and only get/create/update', () => {
    const role = byName('Role', 'kubeskippy-leader-election');
    expect(role.metadata.namespace).toBe('kubeskippy-system');
    expect(grants(role['rules'] as Rule[])).toEqual(EXPECTED_LEADER_ELECTION_GRANTS);
  });

  it('grants the one control ConfigMap (the pause switch) only in the operator namespace, by name: get, list, watch, patch', () => {
    const role = byName('Role', 'kubeskippy-control');
    expect(role.metadata.namespace).toBe('kubeskippy-system');
    expect(grants(role['rules'] as Rule[])).toEqual(EXPECTED_CONTROL_GRANTS);
  });

  it.each(['view', 'edit', 'admin'] as const)('gives people kubeskippy-%s, aggregated into the built-in role of the same name', (level) => {
    const role = byName('ClusterRole', `kubeskippy-${level}`);
    expect(grants(role['rules'] as Rule[])).toEqual(EXPECTED_USER_GRANTS[level]);
    // Exactly one aggregation label: the built-in roles nest (view into edit, edit into admin) by themselves.
    const aggregation = Object.keys(role.metadata.labels ?? {}).filter((k) => k.startsWith('rbac.authorization.k8s.io/aggregate-to-'));
    expect(aggregation).toEqual([`rbac.authorization.k8s.io/aggregate-to-${level}`]);
    expect(role.metadata.labels?.[aggregation[0]!]).toBe('true');
  });

  it('lets no person create HealingActions or write any status: only the operator does', () => {
    const people = objects.filter((x) => x.kind === 'ClusterRole' && x.metadata.name !== 'kubeskippy-manager');
    expect(people.map((r) => r.metadata.name).sort()).toEqual(['kubeskippy-admin', 'kubeskippy-edit', 'kubeskippy-view']);
    const all = people.flatMap((r) => grants(r['rules'] as Rule[]));
    expect(all.filter((g) => g.startsWith('kubeskippy.io/healingactions:create') || g.includes('/status:'))).toEqual([]);
    // ClusterHealingPolicies reach across namespaces: written by cluster administrators only.
    expect(all.filter((g) => g.startsWith('kubeskippy.io/clusterhealingpolicies') && !/:(get|list|watch)$/.test(g))).toEqual([]);
  });

  it('uses no wildcard and never mentions Secrets', () => {
    const roles = objects.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role');
    expect(roles.length).toBeGreaterThanOrEqual(2);
    expect(roles.flatMap((o) => riskyRules(o.metadata.name, o['rules'] as Rule[]))).toEqual([]);
  });

  it('binds the operator\'s roles to the kubeskippy ServiceAccount in kubeskippy-system', () => {
    expect(byName('ServiceAccount', 'kubeskippy').metadata.namespace).toBe('kubeskippy-system');
    for (const [kind, name] of [['ClusterRoleBinding', 'kubeskippy-manager'], ['RoleBinding', 'kubeskippy-leader-election'], ['RoleBinding', 'kubeskippy-control']] as const) {
      const b = byName(kind, name);
      expect(b['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'kubeskippy', namespace: 'kubeskippy-system' }]);
      expect((b['roleRef'] as { name: string }).name).toBe(name);
    }
  });
});

describe('config/admission', () => {
  const objects = readObjects('config/admission');
  const policy = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  const binding = objects.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
  type PolicySpec = {
    failurePolicy: string;
    matchConstraints: { resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[] };
    variables: { name: string; expression: string }[];
    validations: { expression: string; reason: string }[];
  };
  const spec = policy['spec'] as PolicySpec;

  it('names as "the operator" the ServiceAccount that config/rbac binds the manager role to', () => {
    const rbac = readObjects('config/rbac');
    const subject = (rbac.find((o) => o.kind === 'ClusterRoleBinding')!['subjects'] as { name: string; namespace: string }[])[0]!;
    const operator = spec.variables.find((v) => v.name === 'operator')?.expression;
    expect(operator).toBe(`'system:serviceaccount:${subject.namespace}:${subject.name}'`);
  });

  it('matches CREATE and UPDATE of healingactions only (not their status subresource), fails closed and is bound with Deny', () => {
    expect(spec.matchConstraints.resourceRules).toEqual([{ apiGroups: ['kubeskippy.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['healingactions'] }]);
    expect(spec.failurePolicy).toBe('Fail');
    expect(spec.validations.map((v) => v.reason)).toEqual(['Forbidden', 'Forbidden', 'Forbidden']);
    expect(binding['spec']).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
  });

  it('is part of config/default', () => {
    const k = parseAllDocuments(readFileSync(path.join(repoRoot, 'config/default/kustomization.yaml'), 'utf8'))[0]!.toJS() as { resources: string[] };
    expect(k.resources).toContain('../admission');
  });
});

describe('config/manager', () => {
  const objects = readObjects('config/manager');
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  type Container = {
    args: string[];
    image: string;
    ports: { name: string; containerPort: number }[];
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    securityContext: Record<string, unknown>;
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  };
  const podSpec = (deployment['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
  const container = (podSpec['containers'] as Container[])[0]!;

  it('runs two replicas of `kubeskippy run --config /etc/kubeskippy/config.yaml` in kubeskippy-system', () => {
    expect(deployment.metadata).toMatchObject({ name: 'kubeskippy-controller-manager', namespace: 'kubeskippy-system' });
    expect((deployment['spec'] as { replicas: number }).replicas).toBe(2);
    expect(container.args).toEqual(['run', '--config', '/etc/kubeskippy/config.yaml']);
    expect(container.image).toMatch(/^kubeskippy\/operator:\d+\.\d+\.\d+$/);
    expect(podSpec['serviceAccountName']).toBe('kubeskippy');
  });

  it('is hardened: non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, resources set', () => {
    expect(podSpec['securityContext']).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String) as unknown, memory: expect.any(String) as unknown });
    expect(container.resources.limits['memory']).toBeDefined();
    // The only writable path is the /tmp emptyDir; the config is mounted read-only.
    expect(container.volumeMounts).toEqual([
      { name: 'config', mountPath: '/etc/kubeskippy', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
  });

  it('probes /healthz and /readyz on port 8082 and exposes metrics (8080) and dashboard (8081) Services', () => {
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080 },
      { name: 'dashboard', containerPort: 8081 },
      { name: 'health', containerPort: 8082 },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    const services = Object.fromEntries(
      objects.filter((o) => o.kind === 'Service').map((s) => [s.metadata.name, (s['spec'] as { ports: { port: number }[] }).ports.map((p) => p.port)]),
    );
    expect(services).toEqual({ 'kubeskippy-metrics': [8080], 'kubeskippy-dashboard': [8081] });
  });

  it("ships a config file the operator's loader accepts, with leader election on and servers on 0.0.0.0", async () => {
    const file = path.join(repoRoot, 'config/manager/config.yaml');
    const config = await loadOperatorConfig({ flags: { config: file }, env: {}, readFile: (f) => readFileSync(f, 'utf8') });
    expect(config.leaderElection.enabled).toBe(true);
    expect(config.namespace).toBe('kubeskippy-system');
    expect([config.metricsBindAddress, config.dashboardBindAddress, config.healthBindAddress]).toEqual([
      '0.0.0.0:8080',
      '0.0.0.0:8081',
      '0.0.0.0:8082',
    ]);
    expect(config.protectedNamespaces).toContain('kube-system');
  });

  it('ships the control ConfigMap (the pause switch) without data, so re-applying never resumes a paused operator', () => {
    const control = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kubeskippy-control');
    expect(control?.metadata.namespace).toBe('kubeskippy-system');
    expect(control?.['data']).toBeUndefined();
  });

  it('lives in a namespace that enforces the restricted Pod Security Standard', () => {
    const ns = objects.find((o) => o.kind === 'Namespace');
    expect(ns?.metadata.name).toBe('kubeskippy-system');
    expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const instructions = text.split('\n').filter((l) => /^[A-Z]+ /.test(l));

  it('builds with node:24 and runs on a slim Node 24 image', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms[0]).toMatch(/^FROM node:24[-\w.]* AS build$/);
    expect(froms.at(-1)).toMatch(/^FROM node:24[-\w.]*slim[-\w.]*$/);
  });

  it('runs as a numeric non-root user with the documented entrypoint', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    // node, its V8 flags (which NODE_OPTIONS refuses; the benchmarks read them from here), then the CLI.
    const entrypoint = instructions.filter((l) => l.startsWith('ENTRYPOINT ')).at(-1);
    expect(entrypoint).toMatch(/^ENTRYPOINT \["node", (?:"--[a-z-]+(?:=[\w.]+)?", )*"\/app\/bin\/kubeskippy\.js"\]$/);
    expect(instructions.at(-1)).toBe('CMD ["run"]');
  });

  it('copies into the build stage every file `npm run build` reads', () => {
    const build = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build'] ?? '';
    // The files the script names (tsconfig.build.json, hack/build/bundle.mjs, src/…), as paths from the root.
    const named = [...build.matchAll(/(?:^|\s)((?:hack|src|tsconfig)[\w./-]*)/g)].map((m) => m[1] as string);
    expect(named).toEqual(expect.arrayContaining(['tsconfig.build.json', 'hack/build/bundle.mjs']));
    const stage = instructions.slice(0, instructions.findIndex((l, i) => i > 0 && l.startsWith('FROM ')));
    const copied = stage.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.split(' ').slice(1, -1));
    for (const file of named) expect(copied.some((c) => file === c || file.startsWith(`${c.replace(/\/$/, '')}/`)), file).toBe(true);
  });

  it('names no registry host (images are written as name:tag)', () => {
    for (const from of instructions.filter((l) => l.startsWith('FROM '))) {
      // A registry host is a first path component with a dot or a port ("host.example/x", "host:5000/x").
      const parts = (from.split(' ')[1] ?? '').split('/');
      if (parts.length > 1) expect(parts[0], from).not.toMatch(/[.:]/);
    }
  });
});
