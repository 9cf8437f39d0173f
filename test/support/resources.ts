/** Builders and API shortcuts for integration tests: pods, policies and the HealingActions the operator makes. */
import * as k8s from '@kubernetes/client-node';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { waitFor } from './cluster.js';

/** A pod spec with one container and real limits (the percentage metrics need them). */
export function podSpec(limits: Record<string, string> = { memory: '100Mi', cpu: '1' }): k8s.V1PodSpec {
  return { containers: [{ name: 'app', image: 'example.invalid/app:1', resources: { limits, requests: limits } }] };
}

/** Creates a bare pod with labels and simulation annotations. */
export async function createPod(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string>; limits?: Record<string, string> } = {},
): Promise<k8s.V1Pod> {
  return kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({
    namespace,
    body: { metadata: { name, labels: opts.labels ?? {}, annotations: opts.annotations ?? {} }, spec: podSpec(opts.limits) },
  });
}

/** Creates a Deployment whose pods carry `labels` and `annotations`. */
export async function createDeployment(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string>; limits?: Record<string, string> } = {},
): Promise<k8s.V1Deployment> {
  const labels = { app: name, ...(opts.labels ?? {}) };
  return kc.makeApiClient(k8s.AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels, annotations: opts.annotations ?? {} }, spec: podSpec(opts.limits) },
      },
    },
  });
}

/** Waits until a Deployment has `replicas` ready replicas. */
export async function waitForReady(kc: k8s.KubeConfig, namespace: string, name: string, replicas: number, timeoutMs = 60_000): Promise<void> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await waitFor(`${name} ${replicas} ready`, async () => (await apps.readNamespacedDeployment({ name, namespace })).status?.readyReplicas === replicas, timeoutMs);
}

/** Creates a HealingPolicy from a spec. */
export async function createPolicy(kc: k8s.KubeConfig, namespace: string, name: string, spec: HealingPolicy['spec']): Promise<HealingPolicy> {
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  return (await co.createNamespacedCustomObject({
    group: 'kubeskippy.io',
    version: 'v1alpha1',
    namespace,
    plural: 'healingpolicies',
    body: { apiVersion: 'kubeskippy.io/v1alpha1', kind: 'HealingPolicy', metadata: { name, namespace }, spec },
  })) as HealingPolicy;
}

/** Reads a HealingPolicy. */
export async function readPolicy(kc: k8s.KubeConfig, namespace: string, name: string): Promise<HealingPolicy> {
  return (await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace, plural: 'healingpolicies', name })) as HealingPolicy;
}

/** Lists the HealingActions in a namespace, oldest first. */
export async function listActions(kc: k8s.KubeConfig, namespace: string): Promise<HealingAction[]> {
  const list = (await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .listNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace, plural: 'healingactions' })) as { items: HealingAction[] };
  return list.items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
}

/** Waits until at least `count` HealingActions exist in the namespace; returns them. */
export async function waitForActions(kc: k8s.KubeConfig, namespace: string, count: number, timeoutMs = 90_000): Promise<HealingAction[]> {
  return waitFor(`${count} HealingAction(s) in ${namespace}`, async () => {
    const items = await listActions(kc, namespace);
    return items.length >= count ? items : undefined;
  }, timeoutMs, 250);
}

/** Waits until an action reaches one of `phases`; returns it. */
export async function waitForPhase(kc: k8s.KubeConfig, namespace: string, name: string, phases: readonly string[], timeoutMs = 90_000): Promise<HealingAction> {
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  return waitFor(`${name} in ${phases.join('|')}`, async () => {
    const a = (await co.getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace, plural: 'healingactions', name })) as HealingAction;
    return phases.includes(a.status?.phase ?? 'Pending') ? a : undefined;
  }, timeoutMs, 250);
}

/** Events recorded on an object, newest last. */
export async function eventsFor(kc: k8s.KubeConfig, namespace: string, kind: string, name: string): Promise<k8s.CoreV1Event[]> {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` });
  return list.items;
}

/** Makes sure the CRDs are installed (idempotent server-side apply of the generated ones). */
export async function ensureCrds(): Promise<void> {
  const { installCommand } = await import('../../src/cli/run.js');
  const { kubeconfigPath } = await import('./cluster.js');
  await installCommand({ kubeconfig: kubeconfigPath }, {});
}
