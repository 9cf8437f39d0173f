/**
 * Helpers for integration tests against the real local cluster: a KubeConfig for it, one fresh namespace per
 * test (deleted afterwards), and polling of real cluster state with a deadline.
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Path of the local cluster's kubeconfig (written by hack/cluster/up.sh). */
export const kubeconfigPath = process.env['KUBESKIPPY_TEST_KUBECONFIG'] ?? path.join(root, '.cluster/kubeconfig');

/** A KubeConfig for the local cluster. */
export function testKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/**
 * Identifies this test file's run: its namespaces carry the label kubeskippy.io/test-run=<TEST_RUN_ID>, and the
 * operators it starts serve only those namespaces, so operators of other test files (or other people's runs on
 * the same cluster) never act on its objects.
 */
export const TEST_RUN_ID = randomBytes(4).toString('hex');

/** The operator namespaceSelector matching this run's namespaces. */
export const TEST_NAMESPACE_SELECTOR = `kubeskippy.io/test-run=${TEST_RUN_ID}`;

/** Creates a namespace with a unique name derived from `prefix`, labelled for this run; returns its name. */
export async function createTestNamespace(kc: k8s.KubeConfig, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+$/, '').slice(0, 40)}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'kubeskippy.io/test': 'true', 'kubeskippy.io/test-run': TEST_RUN_ID, ...labels } } } });
  // The serviceaccount controller creates "default" asynchronously; pods are refused until it exists.
  await waitFor(`default ServiceAccount in ${name}`, async () => {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  return name;
}

/** Deletes a namespace created by createTestNamespace (does not wait for it to disappear). */
export async function deleteTestNamespace(kc: k8s.KubeConfig, name: string): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.deleteNamespace({ name }).catch(() => undefined);
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than false/undefined, and returns that value.
 * Throws, naming `what` and the last error seen, when `timeoutMs` passes first. For waiting on real cluster state
 * only; logic under test uses a fake clock instead.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (e: unknown) {
      lastError = e;
    }
    if (performance.now() > deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
