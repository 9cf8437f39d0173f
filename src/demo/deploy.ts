/**
 * Puts scenarios on a cluster and takes them off again: namespaces, Deployments, HealingPolicies. The demo runner
 * and the scenario suite share it. Also the operator settings the demo runs with, so the suite tests the same.
 */
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import { isNotFound } from '../k8s/errors.js';
import type { Clock } from '../runtime/clock.js';
import { DEMO_LABELS, buildNamespace, scenarioObjects } from './scenarios.js';
import type { ScenarioPlacement } from './simulator.js';

/** Where the demo operator listens (the dashboard URL the demo prints). */
export const DEMO_ADDRESSES = {
  metricsBindAddress: '127.0.0.1:18080',
  dashboardBindAddress: '127.0.0.1:18081',
  healthBindAddress: '127.0.0.1:18082',
} as const;

/** The port the demo's Prometheus prefers. */
export const DEMO_PROMETHEUS_PORT = 19090;

/**
 * The operator settings of the demo (flags for loadOperatorConfig), apart from addresses and the namespace
 * selector: 5-s metrics polls, budgets that let every scenario act (the seed's AI budget of 10/hour would stop the
 * AI twins after their first few actions: 40 here), storm suppression beyond 3 workloads in 5 minutes (the chaos
 * monkey's namespace has 6; no other scenario has more than 3 failing), a 10-minute escalation window, and a global circuit breaker that judges the failure rate
 * on at least 10 actions instead of 5: two of the demo's ladders fail their first rung by design (a restart cannot fix
 * a bad release or a limit that is too small), and on 5 actions that alone opens the breaker for every scenario.
 */
export const DEMO_OPERATOR_SETTINGS: Readonly<Record<string, unknown>> = {
  'leaderElection.enabled': false,
  'metricsServer.pollIntervalSeconds': 5,
  maxActionsPerHour: 300,
  aiMaxActionsPerHour: 40,
  'stormSuppression.maxFailingWorkloads': 3,
  'stormSuppression.windowSeconds': 300,
  escalationWindowSeconds: 600,
  'globalCircuitBreaker.minActions': 10,
  protectedNamespaces: ['kube-system'],
};

/** The namespace selector of the demo operator: it serves only the demo's namespaces. */
export const DEMO_NAMESPACE_SELECTOR = `${DEMO_LABELS.demo}=true`;

function sleep(clock: Clock, ms: number): Promise<void> {
  return clock.sleep(ms);
}

/** Awaits `call`, treating the errors `ignore` accepts as done (already exists, already gone). */
async function tolerate(call: Promise<unknown>, ignore: (e: unknown) => boolean): Promise<void> {
  try {
    await call;
  } catch (e: unknown) {
    if (!ignore(e)) throw e;
  }
}

const alreadyExists = (e: unknown): boolean => e instanceof k8s.ApiException && e.code === 409;

/**
 * Deletes every namespace of an earlier demo (labelled with a demo scenario) and waits until they are gone, so a
 * new demo starts clean. Returns their names.
 */
export async function removeDemoNamespaces(kc: k8s.KubeConfig, clock: Clock, timeoutMs = 180_000): Promise<string[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = await core.listNamespace({ labelSelector: `${DEMO_LABELS.demo}=true,${DEMO_LABELS.scenario}` });
  const names = list.items.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
  await Promise.all(names.map((name) => tolerate(core.deleteNamespace({ name }), isNotFound)));
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const left = (await core.listNamespace({ labelSelector: `${DEMO_LABELS.demo}=true,${DEMO_LABELS.scenario}` })).items.length;
    if (left === 0) return names;
    if (clock.now() > deadline) throw new Error(`${left} namespace(s) of the previous demo are still terminating after ${Math.round(timeoutMs / 1000)}s`);
    await sleep(clock, 1000);
  }
}

/**
 * Creates a scenario's objects: its namespace (unless `createNamespace` is false: the suite creates its own), its
 * Deployments and its HealingPolicies. Objects that exist already are left as they are.
 */
export async function deployScenario(kc: k8s.KubeConfig, placement: ScenarioPlacement, opts: { createNamespace: boolean; clock: Clock }): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const ns = placement.namespace;
  if (opts.createNamespace) {
    await tolerate(core.createNamespace({ body: buildNamespace(placement.scenario, ns) }), alreadyExists);
    // Pods are refused until the namespace's default ServiceAccount exists.
    const deadline = opts.clock.now() + 30_000;
    for (;;) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: ns });
        break;
      } catch (e: unknown) {
        if (opts.clock.now() > deadline) throw e;
        await sleep(opts.clock, 250);
      }
    }
  }
  const { deployments, policies } = scenarioObjects(placement.scenario, ns);
  for (const d of deployments) await tolerate(apps.createNamespacedDeployment({ namespace: ns, body: d }), alreadyExists);
  for (const p of policies) {
    await tolerate(co.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'healingpolicies', body: p }), alreadyExists);
  }
}

/** Waits until every Deployment of the placements has all its replicas Ready. Throws naming those that are not. */
export async function waitForScenarios(kc: k8s.KubeConfig, placements: readonly ScenarioPlacement[], clock: Clock, timeoutMs = 120_000): Promise<void> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const notReady: string[] = [];
    for (const p of placements) {
      const list = await apps.listNamespacedDeployment({ namespace: p.namespace });
      for (const w of p.scenario.workloads) {
        const d = list.items.find((x) => x.metadata?.name === w.name);
        if ((d?.status?.readyReplicas ?? 0) < w.replicas) notReady.push(`${p.namespace}/${w.name}`);
      }
    }
    if (notReady.length === 0) return;
    if (clock.now() > deadline) throw new Error(`demo apps not Ready after ${Math.round(timeoutMs / 1000)}s: ${notReady.join(', ')}`);
    await sleep(clock, 1000);
  }
}

/** The kwok nodes of the cluster (annotation kwok.x-k8s.io/node: fake): the demo's pods are simulated there. */
export async function kwokNodes(kc: k8s.KubeConfig): Promise<string[]> {
  const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
  return nodes.items.filter((n) => n.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake').map((n) => n.metadata?.name ?? '');
}
