/**
 * The runtime pieces wired together against the real API server, as the operator's composition root will do:
 * informer → controller (keys), leader election, health/metrics server, manager lifecycle and shutdown.
 */
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestOptions } from '../../src/k8s/client.js';
import { createKubeListWatch, Informer, resourcePath } from '../../src/k8s/informer.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startHealthServer, type HealthServer } from '../../src/observability/health-server.js';
import { systemClock } from '../../src/runtime/clock.js';
import { Controller } from '../../src/runtime/controller.js';
import { createLeaseStore, LeaderElector } from '../../src/runtime/leader-election.js';
import { Manager } from '../../src/runtime/manager.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

describe('manager lifecycle on the real cluster', () => {
  let ns = '';
  let server: HealthServer | undefined;
  let manager: Manager | undefined;
  beforeEach(async () => {
    ns = await createTestNamespace(kc, 'rt-manager');
  });
  afterEach(async () => {
    await manager?.stop();
    await server?.close();
    await deleteTestNamespace(kc, ns);
  });

  it('syncs, leads, reconciles changes, serves probes and metrics, and on stop drains and releases the Lease', async () => {
    const metrics = createMetrics();
    const informer = new Informer<k8s.V1ConfigMap>({
      name: 'configmaps',
      clock: systemClock,
      source: createKubeListWatch(kc, {
        path: resourcePath({ version: 'v1', plural: 'configmaps', namespace: ns }),
        list: (signal) => core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'app=managed' }, requestOptions(signal)),
        labelSelector: 'app=managed',
      }),
      onRestart: () => metrics.informerRestartsTotal.inc({ resource: 'configmaps' }),
    });
    const reconciled: string[] = [];
    const controller = new Controller({
      name: 'configmaps',
      clock: systemClock,
      metrics,
      workers: 2,
      listKeys: () => informer.keys(),
      reconcile: (key) => {
        const [namespace = '', name = ''] = key.split('/');
        reconciled.push(`${key}=${informer.get(namespace, name)?.data?.['v'] ?? 'deleted'}`);
        return Promise.resolve();
      },
    });
    const enqueue = (o: k8s.V1ConfigMap): void => controller.enqueue(`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`);
    informer.addHandler({ onAdd: enqueue, onUpdate: enqueue, onDelete: enqueue });
    const elector = new LeaderElector({
      store: createLeaseStore(coordination, ns, 'kubeskippy-leader'),
      identity: 'manager-test',
      clock: systemClock,
      // Generous timings: leader election is not under test here, and one slow Lease update on a loaded machine
      // must not make the manager step down.
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      leaderGauge: metrics.leader,
    });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'existing', labels: { app: 'managed' } }, data: { v: '1' } } });

    const m = new Manager({ clock: systemClock, informers: [informer], controllers: [controller], elector, cacheSyncTimeoutMs: 30_000, shutdownTimeoutMs: 5_000 });
    manager = m;
    server = await startHealthServer({ readiness: () => m.readiness(), liveness: () => m.liveness(), registry: metrics.registry });
    await m.start();
    await waitFor('leadership and controllers', () => Promise.resolve(m.isActive()), 15_000);
    await waitFor('the existing object reconciled', () => Promise.resolve(reconciled.includes(`${ns}/existing=1`)), 15_000);

    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'fresh', labels: { app: 'managed' } }, data: { v: '7' } } });
    await waitFor('a new object reconciled', () => Promise.resolve(reconciled.includes(`${ns}/fresh=7`)), 40_000);
    await core.deleteNamespacedConfigMap({ name: 'fresh', namespace: ns });
    await waitFor('a deletion reconciled', () => Promise.resolve(reconciled.includes(`${ns}/fresh=deleted`)), 40_000);

    const readyz = await fetch(`${server.url}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ status: 'ok', checks: { 'informer:configmaps': { ok: true }, 'leader-election': { message: 'leader' } } });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('kubeskippy_leader 1');
    expect(text).toMatch(/kubeskippy_reconcile_duration_seconds_count\{controller="configmaps"\} [3-9]/);

    await m.stop();
    expect(await m.done).toEqual({ reason: 'stopped' });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    const lease = await coordination.readNamespacedLease({ name: 'kubeskippy-leader', namespace: ns });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(controller.isRunning()).toBe(false);
    expect(await metrics.registry.getSingleMetricAsString('kubeskippy_leader')).toContain('kubeskippy_leader 0');
  });
});
