/**
 * kubeskippy_api_requests_total against the real API server: requests made through a counting KubeConfig — typed
 * API calls, a Watch, metrics.k8s.io — are each counted once with the audit verb and resource the API server uses,
 * and the operator counts its own informers' requests.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodMetricsClient } from '../../src/k8s/pod-metrics-client.js';
import { countingKubeConfig, type ApiRequestInfo } from '../../src/k8s/request-counter.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { ensureCrds } from '../support/resources.js';

const kc = testKubeConfig();
let ns = '';

beforeAll(async () => {
  ns = await createTestNamespace(kc, 'request-counter');
  // The controller-manager publishes kube-root-ca.crt into every new namespace a moment later; let that happen
  // first, so the watch below sees only the ConfigMap the test makes.
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await waitFor('kube-root-ca.crt in the new namespace', async () =>
    (await core.listNamespacedConfigMap({ namespace: ns })).items.some((c) => c.metadata?.name === 'kube-root-ca.crt'), 30_000, 100);
});
afterAll(async () => {
  await deleteTestNamespace(kc, ns);
});

const req = (verb: string, resource: string, group = '', subresource = ''): ApiRequestInfo => ({ verb, group, resource, subresource });

describe('a counting KubeConfig on the real API server', () => {
  it('counts a typed list, get, create, patch, delete and a watch with their audit verbs, and nothing else', async () => {
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(kc, (r) => seen.push(r));
    const core = counted.makeApiClient(k8s.CoreV1Api);

    const before = await core.listNamespacedConfigMap({ namespace: ns });
    expect(seen).toEqual([req('list', 'configmaps')]);

    // A real watch: it connects, is counted once, and delivers the ConfigMap created below.
    const received: string[] = [];
    const watch = await new k8s.Watch(counted).watch(
      `/api/v1/namespaces/${ns}/configmaps`,
      { resourceVersion: before.metadata?.resourceVersion ?? '' },
      (type: string, obj: k8s.V1ConfigMap) => received.push(`${type} ${obj.metadata?.name ?? ''}`),
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'probe' }, data: { a: '1' } } });
      const got = await core.readNamespacedConfigMap({ namespace: ns, name: 'probe' });
      expect(got.data).toEqual({ a: '1' });
      await core.patchNamespacedConfigMap(
        { namespace: ns, name: 'probe', body: { data: { a: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'probe' });
      await waitFor('the watch to see the ConfigMap deleted', () => Promise.resolve(received.includes('DELETED probe')), 10_000, 50);
    } finally {
      watch.abort();
    }
    expect(received).toEqual(['ADDED probe', 'MODIFIED probe', 'DELETED probe']);
    expect(seen).toEqual([
      req('list', 'configmaps'),
      req('watch', 'configmaps'),
      req('create', 'configmaps'),
      req('get', 'configmaps'),
      req('patch', 'configmaps'),
      req('delete', 'configmaps'),
    ]);

    // Requests through the original KubeConfig are not counted.
    await kc.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: ns });
    expect(seen).toHaveLength(6);
  });

  it('counts custom resources with their group and subresource, and metrics.k8s.io as its own group', async () => {
    await ensureCrds();
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(kc, (r) => seen.push(r));
    const co = counted.makeApiClient(k8s.CustomObjectsApi);
    await co.listNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies' });
    await expect(
      co.patchNamespacedCustomObjectStatus(
        { group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies', name: 'missing', body: { status: {} } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
    ).rejects.toThrow();
    await new k8s.Metrics(counted).getPodMetrics(ns);
    // The operator's own metrics.k8s.io client (no fetch) goes through the same hook.
    await new PodMetricsClient(counted).getPodMetrics(ns);
    await new PodMetricsClient(counted).getPodMetrics();
    expect(seen).toEqual([
      req('list', 'healingpolicies', 'kubeskippy.io'),
      // Counted when sent, whatever the answer (404 here).
      req('patch', 'healingpolicies', 'kubeskippy.io', 'status'),
      req('list', 'pods', 'metrics.k8s.io'),
      req('list', 'pods', 'metrics.k8s.io'),
      req('list', 'pods', 'metrics.k8s.io'),
    ]);
  });
});

describe('the operator', () => {
  it('counts its own requests in kubeskippy_api_requests_total: one list and a watch per informer at start', async () => {
    await ensureCrds();
    const operator = await startTestOperator({}, kc);
    try {
      const count = async (verb: string, group: string, resource: string): Promise<number> => {
        const metric = await operator.metrics.apiRequestsTotal.get();
        return metric.values.filter((v) => v.labels.verb === verb && v.labels.group === group && v.labels.resource === resource && v.labels.subresource === '').reduce((s, v) => s + v.value, 0);
      };
      for (const [group, resource] of [
        ['', 'pods'],
        ['', 'namespaces'],
        ['', 'events'],
        ['apps', 'replicasets'],
        ['kubeskippy.io', 'healingpolicies'],
        ['kubeskippy.io', 'healingactions'],
      ] as const) {
        expect(await count('list', group, resource), `list ${resource}`).toBe(1);
        await waitFor(`a watch on ${resource}`, async () => (await count('watch', group, resource)) >= 1, 10_000, 50);
      }
      const text = await operator.metrics.registry.metrics();
      expect(text).toContain('kubeskippy_api_requests_total{verb="list",group="",resource="pods",subresource=""} 1');
    } finally {
      await operator.stop();
    }
  });
});
