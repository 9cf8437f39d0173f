/**
 * The operator's metrics.k8s.io client against the real API server and metrics-server: it returns what
 * client-node's Metrics returns for the same pods, and the API server's errors reach errors.ts with their code.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKubeError } from '../../src/k8s/errors.js';
import { PodMetricsClient } from '../../src/k8s/pod-metrics-client.js';
import { parseBytes } from '../../src/k8s/quantity.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';

const kc = testKubeConfig();
let ns = '';

beforeAll(async () => {
  ns = await createTestNamespace(kc, 'pod-metrics-client');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (const [name, memory] of [['small', '64Mi'], ['large', '200Mi']] as const) {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name, annotations: { 'sim.kubeskippy.io/memory': memory } },
        spec: { containers: [{ name: 'app', image: 'example.invalid/app:1', resources: { limits: { memory: '512Mi', cpu: '1' } } }] },
      },
    });
  }
});
afterAll(async () => {
  await deleteTestNamespace(kc, ns);
});

const usage = (list: { items: k8s.PodMetric[] }): Record<string, number> =>
  Object.fromEntries(list.items.map((p) => [p.metadata.name, p.containers.reduce((s, c) => s + parseBytes(c.usage.memory), 0)]));

describe('PodMetricsClient on the real cluster', () => {
  it('lists a namespace and the whole cluster as client-node Metrics does', async () => {
    const ours = new PodMetricsClient(kc);
    const listed = await waitFor('both pods in metrics.k8s.io', async () => {
      const l = await ours.getPodMetrics(ns);
      return l.items.length === 2 ? l : undefined;
    }, 120_000, 2000);
    expect(usage(listed)).toEqual({ small: 64 * 2 ** 20, large: 200 * 2 ** 20 });
    expect(listed.items.every((p) => p.metadata.namespace === ns && p.timestamp !== '' && p.window !== '')).toBe(true);
    // The same scrape through client-node's own client (fetch): the same items.
    const theirs = await new k8s.Metrics(kc).getPodMetrics(ns);
    expect(usage(theirs)).toEqual(usage(listed));
    const all = await ours.getPodMetrics();
    expect(usage({ items: all.items.filter((p) => p.metadata.namespace === ns) })).toEqual(usage(listed));
  });

  it('rejects an unauthenticated request with the API server Unauthorized, and an unreachable server as Unavailable', async () => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster in the test kubeconfig');
    const stranger = new k8s.KubeConfig();
    stranger.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'stranger', token: 'not-a-token' }],
      contexts: [{ name: 'stranger', cluster: cluster.name, user: 'stranger' }],
      currentContext: 'stranger',
    });
    const denied = await new PodMetricsClient(stranger).getPodMetrics(ns).catch((e: unknown) => e);
    expect(toKubeError(denied).code).toBe('Unauthorized');

    const gone = new k8s.KubeConfig();
    gone.loadFromOptions({
      clusters: [{ ...cluster, name: 'gone', server: 'https://127.0.0.1:1' }],
      users: kc.users,
      contexts: [{ name: 'gone', cluster: 'gone', user: kc.getCurrentUser()?.name ?? '' }],
      currentContext: 'gone',
    });
    const refused = await new PodMetricsClient(gone).getPodMetrics().catch((e: unknown) => e);
    expect(toKubeError(refused).code).toBe('Unavailable');
    expect(toKubeError(refused).reason).toBe('ECONNREFUSED');
  });
});
