/**
 * Raw access to the local cluster's API server for tests that must see exactly what it answers (status codes,
 * Status messages, Table responses, server-side dry-run), plus the idempotent CRD installation every API test
 * starts with. CRDs are cluster-scoped and shared by everyone using the cluster: they are applied, never deleted.
 */
import type * as k8s from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { kubeconfigPath, waitFor } from './cluster.js';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The field manager of every server-side apply made by tests. */
export const TEST_FIELD_MANAGER = 'kubeskippy-test';

/** An API server response: HTTP status and the parsed JSON body (or the raw text when it is not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  /** The Warning headers' texts (deprecations, PodSecurity "would violate" notices …). */
  readonly warnings: readonly string[];
}

/** A request to the API server. `path` includes the query string. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  /** Content-Type of the body; JSON by default (use application/apply-patch+yaml for server-side apply). */
  readonly contentType?: string;
  readonly accept?: string;
}

/** Sends one request with the kubeconfig's credentials and resolves with the response, whatever its status. */
export async function apiRequest(kc: k8s.KubeConfig, req: ApiRequest): Promise<ApiResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(req.path, cluster.server);
  const payload = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const options: https.RequestOptions = {
    method: req.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    headers: {
      Accept: req.accept ?? 'application/json',
      ...(payload === undefined ? {} : { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
    },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise<ApiResponse>((resolve, reject) => {
    const r = https.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          // Not JSON (rare: proxies, plain-text errors): keep the text.
        }
        const raw: string | string[] | undefined = res.headers['warning'];
        const headers: string[] = raw === undefined ? [] : typeof raw === 'string' ? [raw] : raw;
        // A Warning header is `299 - "text"`; several arrive as separate headers (joined by Node with ", ").
        const warnings = headers.flatMap((w: string) =>
          [...w.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1')),
        );
        resolve({ status: res.statusCode ?? 0, body, text, warnings });
      });
    });
    r.on('error', reject);
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}

/** The message of a Kubernetes Status body ("" when the body is not a Status). */
export function statusMessage(res: ApiResponse): string {
  const body = res.body;
  if (body !== null && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return res.text;
}

/** A Kubernetes object as plain data. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The REST path of an object's collection (no name), from its apiVersion and kind; `plural` as the API serves it. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${namespace}/${plural}`;
}

/** The generated CRD manifests committed under config/crd/bases. */
export function crdManifests(): KubeObject[] {
  const dir = path.join(repoRoot, 'config/crd/bases');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(path.join(dir, f), 'utf8')) as KubeObject);
}

interface CrdStatus {
  metadata?: { generation?: number };
  status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] };
}

/**
 * Installs (or updates) the KubeSkippy CRDs by server-side apply with field manager "kubeskippy-test" and waits
 * until each is Established and its storage serves. Idempotent, safe to run from several test files and by several people at once.
 * Throws with the API server's message when a CRD is refused (e.g. a CEL rule whose estimated cost is too high).
 */
export async function installCrds(kc: k8s.KubeConfig): Promise<void> {
  for (const crd of crdManifests()) {
    const res = await apiRequest(kc, {
      method: 'PATCH',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}?fieldManager=${TEST_FIELD_MANAGER}&force=true&fieldValidation=Strict`,
      body: JSON.stringify(crd),
      contentType: 'application/apply-patch+yaml',
    });
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`applying CRD ${crd.metadata.name} failed (${res.status}): ${statusMessage(res)}`);
    }
  }
  for (const crd of crdManifests()) {
    await waitFor(`CRD ${crd.metadata.name} Established`, async () => {
      const res = await apiRequest(kc, { method: 'GET', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}` });
      const c = res.body as CrdStatus;
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') === true;
    }, 60_000);
    // Right after Established the new kind answers 429 "storage is (re)initializing" for a moment.
    const plural = crd.metadata.name.split('.')[0] ?? '';
    await waitFor(`${crd.metadata.name} serving`, async () => {
      const res = await apiRequest(kc, { method: 'GET', path: `/apis/kubeskippy.io/v1alpha1/${plural}?limit=1` });
      return res.status === 200;
    }, 60_000);
  }
}

/** The project's own kubectl (built by hack/cluster/build.sh for the version in hack/cluster/versions.sh). */
export function kubectlPath(): string {
  const versions = readFileSync(path.join(repoRoot, 'hack/cluster/versions.sh'), 'utf8');
  const version = /KUBE_VERSION=\$\{KUBE_VERSION:-([0-9.]+)\}/.exec(versions)?.[1];
  if (version === undefined) throw new Error('cannot find KUBE_VERSION in hack/cluster/versions.sh');
  return path.join(repoRoot, `.cache/bin/kube-v${version}/kubectl`);
}

/** The outcome of a kubectl run. */
export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * kubectl's discovery cache for this test process. The default (~/.kube/cache) is keyed by host and port only, and
 * every local cluster is 127.0.0.1: a cluster that reused a port inherited another cluster's discovery for hours
 * (seen: "the server doesn't have a resource type kubeskippy" on a fresh cluster whose CRDs were installed).
 */
const kubectlCacheDir = mkdtempSync(path.join(os.tmpdir(), 'kubeskippy-kubectl-cache-'));

/** Runs the project's kubectl against the test cluster with `args`, feeding `input` on stdin. Never throws. */
export function kubectl(args: readonly string[], input?: string): KubectlResult {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', kubeconfigPath, '--cache-dir', kubectlCacheDir, ...args], {
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
