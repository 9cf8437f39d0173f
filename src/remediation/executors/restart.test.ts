import { ApiException, type V1Deployment, type V1Pod, type V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import { isExecutorError, type ExecutorError } from '../errors.js';
import type { ExecutionContext, ExecutionRequest, ExecutorDeps } from '../types.js';
import { RestartExecutor, restartedAtValue, rolloutRestartPatch } from './restart.js';

const NOW = Date.parse('2026-03-04T05:06:07.890Z');
const ctx: ExecutionContext = { now: NOW, signal: new AbortController().signal };

function status(code: number, message: string, details: Record<string, unknown> = {}): ApiException<unknown> {
  return new ApiException(code, 'x', JSON.stringify({ kind: 'Status', status: 'Failure', message, details, code }), {});
}

interface Call {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

/** Pod "web-1" of ReplicaSet "web-abc" of Deployment "web" with `replicas`; eviction behaves as `evict` says. */
function cluster(replicas: number, evict: () => Promise<unknown>): { deps: ExecutorDeps; calls: Call[] } {
  const calls: Call[] = [];
  const pod: V1Pod = {
    metadata: {
      name: 'web-1',
      namespace: 'ns',
      uid: 'pod-uid',
      resourceVersion: '10',
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true }],
    },
    status: { phase: 'Running' },
  };
  const rs: V1ReplicaSet = {
    metadata: { name: 'web-abc', namespace: 'ns', uid: 'rs-uid', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true }] },
    spec: { selector: {} },
  };
  const dep: V1Deployment = { metadata: { name: 'web', namespace: 'ns', uid: 'dep-uid', resourceVersion: '20', generation: 1 }, spec: { replicas, selector: {}, template: {} } };
  const record =
    <T>(method: string, result: () => Promise<T>) =>
    (params: Record<string, unknown>): Promise<T> => {
      calls.push({ method, params });
      return result();
    };
  const deps = {
    core: {
      readNamespacedPod: record('readNamespacedPod', () => Promise.resolve(pod)),
      listNamespacedPod: record('listNamespacedPod', () => Promise.resolve({ items: [pod] })),
      createNamespacedPodEviction: record('createNamespacedPodEviction', evict),
      deleteNamespacedPod: record('deleteNamespacedPod', () => Promise.resolve(pod)),
    },
    apps: {
      readNamespacedReplicaSet: record('readNamespacedReplicaSet', () => Promise.resolve(rs)),
      readNamespacedDeployment: record('readNamespacedDeployment', () => Promise.resolve(dep)),
      patchNamespacedDeployment: record('patchNamespacedDeployment', () => Promise.resolve(dep)),
    },
  } as unknown as ExecutorDeps;
  return { deps, calls };
}

function request(restartAction: NonNullable<ActionTemplate['restartAction']>, dryRun = false): ExecutionRequest {
  return { target: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web-1', uid: 'pod-uid' }, action: { name: 'r', type: 'restart', restartAction }, dryRun };
}

async function failure(p: Promise<unknown>): Promise<ExecutorError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isExecutorError(e)) throw new Error(`expected an ExecutorError, got ${String(e)}`);
  return e;
}

const methods = (calls: readonly Call[]): string[] => calls.map((c) => c.method);
const routeMissing = (): Promise<never> => Promise.reject(status(404, 'the server could not find the requested resource'));

describe('restartedAtValue', () => {
  it('formats ctx.now as kubectl does: RFC 3339 UTC, whole seconds', () => {
    expect(restartedAtValue(NOW)).toBe('2026-03-04T05:06:07Z');
    expect(rolloutRestartPatch(NOW, '5')).toEqual({
      metadata: { resourceVersion: '5' },
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-03-04T05:06:07Z' } } } },
    });
  });
});

describe('RestartExecutor on a pod', () => {
  it('evicts with uid and resourceVersion preconditions and the grace period', async () => {
    const { deps, calls } = cluster(3, () => Promise.resolve({}));
    const execution = await new RestartExecutor(deps).execute(request({ strategy: 'graceful', gracePeriodSeconds: 7 }), ctx);
    expect(execution.mechanism).toBe('evict');
    const eviction = calls.find((c) => c.method === 'createNamespacedPodEviction');
    expect(eviction?.params['body']).toMatchObject({ deleteOptions: { preconditions: { uid: 'pod-uid', resourceVersion: '10' }, gracePeriodSeconds: 7 } });
    expect(eviction?.params).not.toHaveProperty('dryRun');
    expect(methods(calls)).not.toContain('deleteNamespacedPod');
  });

  it('plans with a dry-run eviction that carries dryRun in the query and in the body', async () => {
    const { deps, calls } = cluster(3, () => Promise.resolve({}));
    const plan = await new RestartExecutor(deps).plan(request({ strategy: 'rolling' }), ctx);
    expect(plan).toMatchObject({ mechanism: 'evict', serverDryRun: true });
    const eviction = calls.find((c) => c.method === 'createNamespacedPodEviction');
    expect(eviction?.params['dryRun']).toBe('All');
    expect(eviction?.params['body']).toMatchObject({ deleteOptions: { dryRun: ['All'] } });
  });

  it('never deletes around a PodDisruptionBudget, even with allowDeleteFallback', async () => {
    const { deps, calls } = cluster(3, () => Promise.reject(status(429, "Cannot evict pod as it would violate the pod's disruption budget.")));
    const e = await failure(new RestartExecutor(deps).execute(request({ strategy: 'rolling', allowDeleteFallback: true }), ctx));
    expect(e.code).toBe('PdbBlocked');
    expect(methods(calls)).not.toContain('deleteNamespacedPod');
  });

  it('deletes instead when the Eviction API is missing and allowDeleteFallback is set', async () => {
    for (const unavailable of [routeMissing, () => Promise.reject(status(405, 'method not allowed'))]) {
      const { deps, calls } = cluster(3, unavailable);
      const execution = await new RestartExecutor(deps).execute(request({ strategy: 'rolling', allowDeleteFallback: true }), ctx);
      expect(execution.mechanism).toBe('delete');
      expect(execution.message).toMatch(/^deleted pod web-1 instead of evicting it: the Eviction API is not available \(HTTP 40[45]\)/);
      const del = calls.find((c) => c.method === 'deleteNamespacedPod');
      expect(del?.params['body']).toMatchObject({ preconditions: { uid: 'pod-uid', resourceVersion: '10' } });
    }
  });

  it('refuses (Unsupported) when the Eviction API is missing and no fallback is allowed', async () => {
    const { deps, calls } = cluster(3, routeMissing);
    const e = await failure(new RestartExecutor(deps).execute(request({ strategy: 'rolling' }), ctx));
    expect(e.code).toBe('Unsupported');
    expect(e.message).toContain('allowDeleteFallback is off');
    expect(methods(calls)).not.toContain('deleteNamespacedPod');
  });

  it('reports a pod that vanished during the eviction as TargetGone, not as a missing API', async () => {
    const { deps, calls } = cluster(3, () => Promise.reject(status(404, 'pods "web-1" not found', { name: 'web-1', kind: 'pods' })));
    const e = await failure(new RestartExecutor(deps).execute(request({ strategy: 'rolling', allowDeleteFallback: true }), ctx));
    expect(e.code).toBe('TargetGone');
    expect(methods(calls)).not.toContain('deleteNamespacedPod');
  });

  it('recreate deletes with preconditions, and its plan puts dryRun in the DELETE body (query parameters are ignored with a body)', async () => {
    const { deps, calls } = cluster(3, () => Promise.resolve({}));
    const executor = new RestartExecutor(deps);
    await executor.plan(request({ strategy: 'recreate' }), ctx);
    const dry = calls.find((c) => c.method === 'deleteNamespacedPod');
    expect(dry?.params['body']).toEqual({ preconditions: { uid: 'pod-uid', resourceVersion: '10' }, dryRun: ['All'] });
    expect(dry?.params).not.toHaveProperty('dryRun');
    calls.length = 0;
    const execution = await executor.execute(request({ strategy: 'recreate' }), ctx);
    expect(execution.mechanism).toBe('delete');
    expect(calls.find((c) => c.method === 'deleteNamespacedPod')?.params['body']).toEqual({ preconditions: { uid: 'pod-uid', resourceVersion: '10' } });
    expect(methods(calls)).not.toContain('createNamespacedPodEviction');
  });

  it('rollout-restarts a single-replica Deployment instead of evicting its pod, stamped with ctx.now', async () => {
    const { deps, calls } = cluster(1, () => Promise.resolve({}));
    const execution = await new RestartExecutor(deps).execute(request({ strategy: 'rolling' }), ctx);
    expect(execution.mechanism).toBe('rollout-restart');
    expect(execution.message).toContain('rollout restart instead of an eviction');
    expect(execution.verify).toMatchObject({ kind: 'rollout', workload: { kind: 'Deployment', name: 'web', uid: 'dep-uid' }, oldPod: { name: 'web-1', uid: 'pod-uid' } });
    expect(calls.find((c) => c.method === 'patchNamespacedDeployment')?.params['body']).toEqual(rolloutRestartPatch(NOW, '20'));
    expect(methods(calls)).not.toContain('createNamespacedPodEviction');
  });

  it('refuses to execute a dry-run request without calling the API', async () => {
    const { deps, calls } = cluster(3, () => Promise.resolve({}));
    const e = await failure(new RestartExecutor(deps).execute(request({ strategy: 'rolling' }, true), ctx));
    expect(e.code).toBe('Invalid');
    expect(calls).toEqual([]);
  });

  it('refuses a stale uid before mutating', async () => {
    const { deps, calls } = cluster(3, () => Promise.resolve({}));
    const req = request({ strategy: 'rolling' });
    const e = await failure(new RestartExecutor(deps).execute({ ...req, target: { ...req.target, uid: 'recreated' } }, ctx));
    expect(e.code).toBe('StaleDecision');
    expect(methods(calls)).toEqual(['readNamespacedPod']);
  });

  it('reads the pod again and evicts it when its status moved on between the read and the eviction (409), once it succeeds', async () => {
    let refusals = 2;
    const { deps, calls } = cluster(3, () =>
      refusals-- > 0 ? Promise.reject(status(409, 'Operation cannot be fulfilled on Pod "web-1": the object has been modified')) : Promise.resolve({}),
    );
    const done = await new RestartExecutor(deps).execute(request({ strategy: 'rolling' }), ctx);
    expect(done.mechanism).toBe('evict');
    expect(methods(calls).filter((m) => m === 'createNamespacedPodEviction')).toHaveLength(3);
    expect(methods(calls).filter((m) => m === 'readNamespacedPod')).toHaveLength(3);
  });

  it('gives up as StaleDecision after a few refused preconditions in a row', async () => {
    const { deps, calls } = cluster(3, () => Promise.reject(status(409, 'the object has been modified')));
    const e = await failure(new RestartExecutor(deps).execute(request({ strategy: 'rolling' }), ctx));
    expect(e.code).toBe('StaleDecision');
    expect(methods(calls).filter((m) => m === 'createNamespacedPodEviction')).toHaveLength(4);
  });

  it('validates target kinds', () => {
    const executor = new RestartExecutor(cluster(3, () => Promise.resolve({})).deps);
    expect(executor.validate(request({}))).toEqual([]);
    expect(executor.validate({ ...request({}), target: { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'ns', name: 'x' } })[0]).toContain('does not support ReplicaSet');
  });
});
