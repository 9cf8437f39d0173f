import type { V1Deployment, V1DaemonSet, V1Pod, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isExecutorError } from './errors.js';
import type { ExecutionContext, ExecutorDeps, VerifySpec } from './types.js';
import {
  daemonSetRolloutStatus,
  deploymentRolloutStatus,
  isPodReady,
  labelSelectorFor,
  replicaSetRolloutStatus,
  replicasStatus,
  resolveOwningWorkload,
  statefulSetRolloutStatus,
  stuckReason,
  targetProblems,
  verifyOutcome,
} from './workload.js';

const meta = (generation: number) => ({ name: 'w', namespace: 'ns', uid: 'u', generation });

function deployment(spec: number, status: Partial<NonNullable<V1Deployment['status']>>, generation = 2): V1Deployment {
  return { metadata: meta(generation), spec: { replicas: spec, selector: {}, template: {} }, status: { observedGeneration: 2, ...status } };
}

describe('deploymentRolloutStatus', () => {
  it.each([
    ['complete', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), true, false, 'rollout complete'],
    ['generation not observed', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 3), false, false, 'observe generation 3'],
    ['not all updated', deployment(3, { replicas: 4, updatedReplicas: 2, availableReplicas: 3 }), false, false, '2 of 3 replicas updated'],
    ['old replicas left', deployment(3, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }), false, false, '1 old replicas pending termination'],
    ['not available', deployment(3, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }), false, false, '2 of 3 updated replicas available'],
    [
      'deadline exceeded',
      deployment(3, { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }] }),
      false,
      true,
      'progress deadline',
    ],
  ] as const)('%s', (_name, d, done, failed, message) => {
    const s = deploymentRolloutStatus(d);
    expect(s.done).toBe(done);
    expect(s.failed).toBe(failed);
    expect(s.message).toContain(message);
  });
});

describe('statefulSetRolloutStatus', () => {
  const sts = (status: Partial<NonNullable<V1StatefulSet['status']>>, partition?: number, type = 'RollingUpdate'): V1StatefulSet => ({
    metadata: meta(1),
    spec: {
      replicas: 3,
      selector: {},
      serviceName: 's',
      template: {},
      updateStrategy: { type, ...(partition !== undefined ? { rollingUpdate: { partition } } : {}) },
    },
    status: { observedGeneration: 1, replicas: 3, ...status },
  });

  it('is complete when all replicas are ready at the update revision', () => {
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' })).done).toBe(true);
  });
  it('waits for the revision to roll out', () => {
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 3, currentRevision: 'r1', updateRevision: 'r2', updatedReplicas: 1 }))).toMatchObject({ done: false });
  });
  it('waits for readiness', () => {
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 2, currentRevision: 'r2', updateRevision: 'r2' })).message).toBe('2 of 3 pods ready');
  });
  it('respects a partition', () => {
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 3, updatedReplicas: 1, currentRevision: 'r1', updateRevision: 'r2' }, 2)).done).toBe(true);
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 3, updatedReplicas: 0, currentRevision: 'r1', updateRevision: 'r2' }, 2)).done).toBe(false);
  });
  it('treats OnDelete sets as complete when ready', () => {
    expect(statefulSetRolloutStatus(sts({ readyReplicas: 3, currentRevision: 'r1', updateRevision: 'r2' }, undefined, 'OnDelete')).done).toBe(true);
  });
  it('waits until the controller has observed anything at all', () => {
    expect(statefulSetRolloutStatus({ ...sts({ readyReplicas: 3 }), status: { replicas: 3, observedGeneration: 0 } }).done).toBe(false);
  });
});

describe('daemonSetRolloutStatus and replicaSetRolloutStatus', () => {
  const ds = (updated: number, available: number): V1DaemonSet => ({
    metadata: meta(1),
    spec: { selector: {}, template: {} },
    status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: updated, numberAvailable: available, currentNumberScheduled: 3, numberMisscheduled: 0, numberReady: available },
  });
  it('needs every scheduled pod updated and available', () => {
    expect(daemonSetRolloutStatus(ds(3, 3)).done).toBe(true);
    expect(daemonSetRolloutStatus(ds(2, 3)).message).toBe('2 of 3 pods updated');
    expect(daemonSetRolloutStatus(ds(3, 1)).message).toBe('1 of 3 updated pods available');
  });
  it('needs a ReplicaSet to have exactly its ready replicas', () => {
    const rs = (ready: number, total: number): V1ReplicaSet => ({ metadata: meta(1), spec: { replicas: 2, selector: {} }, status: { observedGeneration: 1, readyReplicas: ready, replicas: total } });
    expect(replicaSetRolloutStatus(rs(2, 2)).done).toBe(true);
    expect(replicaSetRolloutStatus(rs(1, 2)).done).toBe(false);
    expect(replicaSetRolloutStatus(rs(2, 3)).done).toBe(false);
  });
});

describe('replicasStatus', () => {
  const w = (spec: number, ready: number, total: number): { kind: 'Deployment'; object: V1Deployment } => ({
    kind: 'Deployment',
    object: deployment(spec, { readyReplicas: ready, replicas: total }),
  });
  it('is healthy when readyReplicas == desired and nothing surplus remains', () => {
    expect(replicasStatus(w(4, 4, 4), 4)).toMatchObject({ done: true, message: '4 of 4 replicas ready' });
  });
  it('waits for readiness and for surplus pods to go', () => {
    expect(replicasStatus(w(4, 3, 4), 4).done).toBe(false);
    expect(replicasStatus(w(2, 2, 3), 2).done).toBe(false);
  });
  it('fails when someone else changed spec.replicas', () => {
    expect(replicasStatus(w(5, 5, 5), 4)).toMatchObject({ failed: true });
  });
});

describe('pod helpers', () => {
  const pod = (phase: string, ready: string, waiting?: string): V1Pod => ({
    status: {
      phase,
      conditions: [{ type: 'Ready', status: ready }],
      containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: ready === 'True', restartCount: 0, ...(waiting ? { state: { waiting: { reason: waiting } } } : {}) }],
    },
  });
  it('is Ready only when Running with Ready=True', () => {
    expect(isPodReady(pod('Running', 'True'))).toBe(true);
    expect(isPodReady(pod('Running', 'False'))).toBe(false);
    expect(isPodReady(pod('Pending', 'True'))).toBe(false);
  });
  it('recognises stuck containers', () => {
    expect(stuckReason(pod('Running', 'False', 'CrashLoopBackOff'))).toBe('app: CrashLoopBackOff');
    expect(stuckReason(pod('Pending', 'False', 'ContainerCreating'))).toBeUndefined();
  });
  it('builds a sorted label selector', () => {
    expect(labelSelectorFor({ b: '2', a: '1' })).toBe('a=1,b=2');
    expect(labelSelectorFor({})).toBeUndefined();
  });
});

describe('targetProblems', () => {
  const req = (kind: string, namespace = 'ns', apiVersion = kind === 'Pod' || kind === 'Namespace' || kind === 'Node' ? 'v1' : 'apps/v1') => ({
    target: { apiVersion, kind, namespace, name: 'x' },
    action: { type: 'delete' },
  });
  it('accepts supported namespaced kinds', () => {
    expect(targetProblems(req('Pod'), 'delete', ['Pod', 'Deployment'])).toEqual([]);
  });
  it('refuses cluster-scoped kinds as Unsupported, saying why', () => {
    expect(targetProblems(req('Namespace', ''), 'delete', ['Pod'])).toEqual([{ code: 'Unsupported', message: 'Namespace is cluster-scoped: delete never acts on cluster-scoped objects' }]);
    expect(targetProblems(req('Node', ''), 'delete', ['Pod'])[0]?.code).toBe('Unsupported');
  });
  it('refuses objects without a namespace, unknown kinds and wrong groups', () => {
    expect(targetProblems(req('Pod', ''), 'delete', ['Pod']).map((p) => p.code)).toEqual(['Unsupported']);
    expect(targetProblems(req('ConfigMap'), 'delete', ['Pod'])[0]?.message).toContain('does not support ConfigMap');
    expect(targetProblems(req('Deployment', 'ns', 'extensions/v1beta1'), 'delete', ['Deployment'])[0]?.message).toContain('expected apps/v1');
  });
  it('refuses a template of another type', () => {
    expect(targetProblems({ ...req('Pod'), action: { type: 'scale' } }, 'delete', ['Pod'])[0]).toEqual({ code: 'Invalid', message: 'action type scale given to the delete executor' });
  });
});

// A tiny in-memory API: objects by "Kind/name"; unknown reads answer 404 like the API server.
function fakeDeps(objects: Record<string, unknown>, pods: V1Pod[] = []): ExecutorDeps {
  const read = (kind: string) => (p: { name: string }): Promise<unknown> => {
    const o = objects[`${kind}/${p.name}`];
    return o ? Promise.resolve(o) : Promise.reject(new ApiException(404, 'x', JSON.stringify({ kind: 'Status', message: `${kind} "${p.name}" not found`, code: 404 }), {}));
  };
  return {
    core: { readNamespacedPod: read('Pod'), listNamespacedPod: () => Promise.resolve({ items: pods }) },
    apps: {
      readNamespacedReplicaSet: read('ReplicaSet'),
      readNamespacedDeployment: read('Deployment'),
      readNamespacedStatefulSet: read('StatefulSet'),
      readNamespacedDaemonSet: read('DaemonSet'),
    },
  } as unknown as ExecutorDeps;
}

const owner = (kind: string, name: string, uid: string, apiVersion = 'apps/v1') => ({ apiVersion, kind, name, uid, controller: true });
const signal = new AbortController().signal;

describe('resolveOwningWorkload', () => {
  const rs: V1ReplicaSet = { metadata: { name: 'web-abc', namespace: 'ns', uid: 'rs1', ownerReferences: [owner('Deployment', 'web', 'd1')] }, spec: { selector: {} } };
  const dep: V1Deployment = { metadata: { name: 'web', namespace: 'ns', uid: 'd1' }, spec: { selector: {}, template: {} } };
  const pod = (ref?: ReturnType<typeof owner>): V1Pod => ({ metadata: { name: 'p', namespace: 'ns', uid: 'p1', ...(ref ? { ownerReferences: [ref] } : {}) } });

  it('follows Pod → ReplicaSet → Deployment', async () => {
    const w = await resolveOwningWorkload(fakeDeps({ 'ReplicaSet/web-abc': rs, 'Deployment/web': dep }), pod(owner('ReplicaSet', 'web-abc', 'rs1')), signal);
    expect(w?.kind).toBe('Deployment');
    expect(w?.object.metadata?.uid).toBe('d1');
  });

  it('stops at a ReplicaSet no Deployment controls', async () => {
    const bare = { ...rs, metadata: { ...rs.metadata, ownerReferences: [] } };
    expect((await resolveOwningWorkload(fakeDeps({ 'ReplicaSet/web-abc': bare }), pod(owner('ReplicaSet', 'web-abc', 'rs1')), signal))?.kind).toBe('ReplicaSet');
  });

  it('returns StatefulSets and DaemonSets directly', async () => {
    const sts: V1StatefulSet = { metadata: { name: 'db', namespace: 'ns', uid: 's1' }, spec: { selector: {}, serviceName: 'db', template: {} } };
    expect((await resolveOwningWorkload(fakeDeps({ 'StatefulSet/db': sts }), pod(owner('StatefulSet', 'db', 's1')), signal))?.kind).toBe('StatefulSet');
  });

  it('returns nothing for a bare pod or a pod of a Job', async () => {
    expect(await resolveOwningWorkload(fakeDeps({}), pod(), signal)).toBeUndefined();
    expect(await resolveOwningWorkload(fakeDeps({}), pod(owner('Job', 'j', 'j1', 'batch/v1')), signal)).toBeUndefined();
  });

  it('refuses an owner that was recreated under the same name (StaleDecision), and a vanished owner (TargetGone)', async () => {
    const e1: unknown = await resolveOwningWorkload(fakeDeps({ 'ReplicaSet/web-abc': rs }), pod(owner('ReplicaSet', 'web-abc', 'OTHER')), signal).catch((e: unknown) => e);
    expect(isExecutorError(e1, 'StaleDecision')).toBe(true);
    const e2: unknown = await resolveOwningWorkload(fakeDeps({}), pod(owner('ReplicaSet', 'web-abc', 'rs1')), signal).catch((e: unknown) => e);
    expect(isExecutorError(e2, 'TargetGone')).toBe(true);
  });
});

describe('verifyOutcome for a replaced pod', () => {
  const ctx: ExecutionContext = { now: 0, signal };
  const spec: VerifySpec = {
    kind: 'pod-replaced',
    namespace: 'ns',
    podName: 'old',
    podUid: 'old-uid',
    controller: { kind: 'ReplicaSet', name: 'rs', uid: 'rs1' },
    existingPodUids: ['sibling'],
  };
  const pod = (name: string, uid: string, ready: boolean, extra: Partial<V1Pod['status']> = {}): V1Pod => ({
    metadata: { name, uid, ownerReferences: [owner('ReplicaSet', 'rs', 'rs1')] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
  });

  it('does not count pods that existed before the action as the replacement', async () => {
    const v = await verifyOutcome(fakeDeps({}, [pod('sibling', 'sibling', true)]), spec, ctx);
    expect(v).toMatchObject({ status: 'progressing', message: 'waiting for ReplicaSet rs to create a replacement pod' });
  });

  it('waits while the old pod is still terminating', async () => {
    const v = await verifyOutcome(fakeDeps({}, [pod('old', 'old-uid', true), pod('new', 'new', true)]), spec, ctx);
    expect(v.status).toBe('progressing');
    expect(v.message).toContain('still terminating');
  });

  it('is healthy once the old pod is gone and a new one is Ready, and names that replacement', async () => {
    const v = await verifyOutcome(fakeDeps({}, [pod('sibling', 'sibling', true), pod('new', 'new', true)]), spec, ctx);
    expect(v).toEqual({
      status: 'healthy',
      message: 'pod old is gone; replacement new from ReplicaSet rs is Running and Ready',
      replacement: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'new', uid: 'new' },
    });
  });

  it('fails when every replacement is stuck', async () => {
    const stuck = pod('new', 'new', false, {
      containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
    });
    expect((await verifyOutcome(fakeDeps({}, [stuck]), spec, ctx)).status).toBe('failed');
  });

  it('is healthy for a bare pod once it is gone', async () => {
    const bare: VerifySpec = { kind: 'pod-replaced', namespace: 'ns', podName: 'old', podUid: 'old-uid' };
    expect((await verifyOutcome(fakeDeps({}, []), bare, ctx)).status).toBe('healthy');
  });
});
