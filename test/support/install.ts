/**
 * The install artifacts on the real API server: rendering the Helm chart with the project's own helm, and
 * server-side apply of rendered objects by their REST path. Shared by the install test (dry-run of everything) and
 * the RBAC and admission tests (which create the chart's roles and policy for real, under unique names).
 *
 * helm comes from hack/tools/build-helm.sh (built from the Go module proxy on a cache miss; instant when cached).
 */
import type * as k8s from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { apiRequest, collectionPath, repoRoot, statusMessage, TEST_FIELD_MANAGER, type ApiResponse, type KubeObject } from './api-server.js';

/** The chart's directory. */
export const chartDir = path.join(repoRoot, 'charts/kubeskippy');

/** REST collection (plural) of every kind the install renders; an unknown kind fails the test loudly. */
const PLURALS: Readonly<Record<string, string>> = {
  Namespace: 'namespaces',
  CustomResourceDefinition: 'customresourcedefinitions',
  ServiceAccount: 'serviceaccounts',
  ConfigMap: 'configmaps',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Service: 'services',
  Deployment: 'deployments',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
};

/**
 * Cluster-scoped kinds among them. kustomize's namespace transformer does not know that ValidatingAdmissionPolicy
 * and its binding are cluster-scoped and gives them the overlay's namespace; kubectl ignores a namespace on a
 * cluster-scoped object (it asks discovery for the scope), and so do these helpers.
 */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

/** `o` as kubectl would send it: without a namespace when its kind is cluster-scoped. */
function scoped(o: KubeObject): KubeObject {
  if (!CLUSTER_SCOPED.has(o.kind) || o.metadata.namespace === undefined) return o;
  const { namespace: _ignored, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/** The REST path of a rendered object. Throws for a kind the table above does not know. */
export function objectPath(o: KubeObject): string {
  const plural = PLURALS[o.kind];
  if (plural === undefined) throw new Error(`the test does not know the REST path of kind ${o.kind}`);
  return `${collectionPath(o.apiVersion, plural, scoped(o).metadata.namespace)}/${o.metadata.name}`;
}

/** Server-side apply of one object (field manager kubeskippy-test, strict field validation); with dryRun nothing is persisted. */
export async function applyObject(kc: k8s.KubeConfig, o: KubeObject, dryRun: boolean): Promise<ApiResponse> {
  const query = `fieldManager=${TEST_FIELD_MANAGER}&force=true&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`;
  return apiRequest(kc, { method: 'PATCH', path: `${objectPath(o)}?${query}`, body: JSON.stringify(scoped(o)), contentType: 'application/apply-patch+yaml' });
}

/** Applies `o` for real and throws with the server's message unless it is accepted. */
export async function applyOrThrow(kc: k8s.KubeConfig, o: KubeObject): Promise<void> {
  const res = await applyObject(kc, o, false);
  if (res.status >= 300) throw new Error(`applying ${o.kind}/${o.metadata.name} failed (${res.status}): ${statusMessage(res)}`);
}

/** Deletes an object by its REST path; a missing object is fine. Throws on any other failure. */
export async function deleteObject(kc: k8s.KubeConfig, o: KubeObject): Promise<void> {
  const res = await apiRequest(kc, { method: 'DELETE', path: objectPath(o) });
  if (res.status >= 300 && res.status !== 404) throw new Error(`deleting ${o.kind}/${o.metadata.name} failed (${res.status}): ${statusMessage(res)}`);
}

/** Every object of a multi-document YAML stream (empty documents dropped). */
export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/**
 * Builds helm on a cache miss (minutes) or finds the cached one (instant) and returns its path. Throws with the
 * script's stderr when the build fails.
 */
export function ensureHelm(): string {
  const t0 = performance.now();
  const built = spawnSync(path.join(repoRoot, 'hack/tools/build-helm.sh'), [], { cwd: repoRoot, encoding: 'utf8', timeout: 25 * 60_000 });
  if (built.status !== 0) throw new Error(`hack/tools/build-helm.sh failed (${String(built.status)}): ${built.stderr}`);
  const seconds = (performance.now() - t0) / 1000;
  // Visible in the test output: a cold build takes minutes, a cached one well under a second.
  if (seconds > 5) process.stderr.write(`hack/tools/build-helm.sh took ${seconds.toFixed(0)} s (cold build)\n`);
  return built.stdout.trim().split('\n').at(-1) ?? '';
}

/** Options of helmTemplate. */
export interface HelmTemplateOptions {
  readonly helm: string;
  /** The Kubernetes version to render for (the server's gitVersion). */
  readonly kubeVersion: string;
  readonly release: string;
  readonly namespace: string;
  /** A values file's text. */
  readonly values?: string;
  readonly includeCrds?: boolean;
}

/** `helm template` of the chart; throws with helm's stderr when it fails. */
export function helmTemplate(o: HelmTemplateOptions): KubeObject[] {
  const args = ['template', o.release, chartDir, '--namespace', o.namespace, '--kube-version', o.kubeVersion, ...(o.includeCrds === false ? [] : ['--include-crds'])];
  const dir = mkdtempSync(path.join(tmpdir(), 'kubeskippy-helm-'));
  try {
    if (o.values !== undefined) {
      writeFileSync(path.join(dir, 'values.yaml'), o.values);
      args.push('--values', path.join(dir, 'values.yaml'));
    }
    const r = spawnSync(o.helm, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`helm template failed (${String(r.status)}): ${r.stderr}`);
    return parseObjects(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The API server's version (gitVersion, e.g. "v1.36.3"), for `helm template --kube-version`. */
export async function serverVersion(kc: k8s.KubeConfig): Promise<string> {
  const version = await apiRequest(kc, { method: 'GET', path: '/version' });
  return (version.body as { gitVersion: string }).gitVersion;
}

/** The one rendered object of `kind` whose name ends with `nameSuffix`. Throws when there is none. */
export function findObject(objects: readonly KubeObject[], kind: string, nameSuffix = ''): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name.endsWith(nameSuffix));
  if (!o) throw new Error(`no ${kind} *${nameSuffix} rendered`);
  return o;
}
