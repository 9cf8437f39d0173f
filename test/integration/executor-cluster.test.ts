/**
 * Every executor against the real local cluster (kube-apiserver + controller-manager + kwok): the change is made,
 * verified, guarded by preconditions, refused where it must be, and a plan (dry run) mutates nothing.
 *
 * Tests run concurrently, each in its own namespace, to keep the file within a few minutes.
 */
import * as k8s from '@kubernetes/client-node';
import { describe, type ExpectStatic, type TestContext } from 'vitest';
import { it } from 'vitest';
import type { ActionTemplate } from '../../src/api/v1alpha1/common.js';
import { ExecutorError, isExecutorError, type ExecutorErrorCode } from '../../src/remediation/errors.js';
import { restartedAtValue } from '../../src/remediation/executors/restart.js';
import { createDefaultRegistry } from '../../src/remediation/registry.js';
import type { Execution, ExecutionContext, ExecutionRequest, Executor, ExecutionTarget } from '../../src/remediation/types.js';
import { isPodReady, RESTARTED_AT_ANNOTATION, REVISION_ANNOTATION } from '../../src/remediation/workload.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const policy = kc.makeApiClient(k8s.PolicyV1Api);
const registry = createDefaultRegistry({ core, apps });
const restart = registry.get('restart');
const scale = registry.get('scale');
const patch = registry.get('patch');
const del = registry.get('delete');
const rollback = registry.get('rollback');

const READY_MS = 90_000;
const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function ctx(): ExecutionContext {
  // Tests may read the wall clock; the executors only ever see it through ctx.now.
  return { now: Date.now(), signal: new AbortController().signal };
}

async function namespace(t: TestContext, prefix: string): Promise<string> {
  const ns = await createTestNamespace(kc, `ex-${prefix}`);
  t.onTestFinished(async () => {
    await deleteTestNamespace(kc, ns);
  });
  return ns;
}

function podTemplate(labels: Record<string, string>, image = 'example.invalid/app:1'): k8s.V1PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: 'app', image }], terminationGracePeriodSeconds: 1 } };
}

async function deployment(ns: string, name: string, replicas: number): Promise<k8s.V1Deployment> {
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: { metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) } },
  });
  return waitRollout(ns, name);
}

async function waitRollout(ns: string, name: string): Promise<k8s.V1Deployment> {
  return waitFor(`Deployment ${name} rolled out`, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace: ns });
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    return (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
      s?.updatedReplicas === want &&
      s.readyReplicas === want &&
      s.availableReplicas === want &&
      (s.replicas ?? 0) === want
      ? d
      : undefined;
  }, READY_MS);
}

async function pods(ns: string, app: string): Promise<k8s.V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function firstPod(ns: string, app: string): Promise<k8s.V1Pod> {
  const p = (await pods(ns, app))[0];
  if (!p) throw new Error(`no pod for ${app}`);
  return p;
}

function podTarget(p: k8s.V1Pod, resourceVersion?: string): ExecutionTarget {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: p.metadata!.namespace!,
    name: p.metadata!.name!,
    uid: p.metadata!.uid!,
    ...(resourceVersion ? { resourceVersion } : {}),
  };
}

function target(kind: string, ns: string, name: string, resourceVersion?: string): ExecutionTarget {
  return { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, namespace: ns, name, ...(resourceVersion ? { resourceVersion } : {}) };
}

function request(t: ExecutionTarget, action: Omit<ActionTemplate, 'name'>, dryRun = false): ExecutionRequest {
  return { target: t, action: { name: 'a', ...action }, dryRun };
}

async function rejects(expect: ExpectStatic, p: Promise<unknown>, code: ExecutorErrorCode): Promise<ExecutorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ExecutorError ${code}`).toBeInstanceOf(ExecutorError);
  if (!isExecutorError(e)) throw new Error('unreachable');
  expect(e.code, e.message).toBe(code);
  return e;
}

async function verified(executor: Executor, req: ExecutionRequest, execution: Execution, timeoutMs = READY_MS): Promise<string> {
  return waitFor(`verification of ${execution.message}`, async () => {
    const v = await executor.verify(req, execution, ctx());
    if (v.status === 'failed') throw new Error(`verification failed: ${v.message}`);
    return v.status === 'healthy' ? v.message : undefined;
  }, timeoutMs, 500);
}

async function resourceVersions(ns: string): Promise<string> {
  const [d, r, p, s] = await Promise.all([
    apps.listNamespacedDeployment({ namespace: ns }),
    apps.listNamespacedReplicaSet({ namespace: ns }),
    core.listNamespacedPod({ namespace: ns }),
    apps.listNamespacedStatefulSet({ namespace: ns }),
  ]);
  return [...d.items, ...r.items, ...p.items, ...s.items]
    .map((o) => `${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`)
    .sort()
    .join(',');
}

async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (e: unknown) {
    return e instanceof k8s.ApiException && (e as k8s.ApiException<unknown>).code === 404;
  }
}

describe.concurrent('executors on the real cluster', () => {
  describe('restart', () => {
    it('evicts one pod of a 3-replica Deployment; the plan mutates nothing; a replacement becomes Ready', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'evict');
      await deployment(ns, 'web', 3);
      const victim = await firstPod(ns, 'web');
      const req = request(podTarget(victim, victim.metadata!.resourceVersion), { type: 'restart', restartAction: { strategy: 'rolling' } });

      const before = await resourceVersions(ns);
      const plan = await restart.plan({ ...req, dryRun: true }, ctx());
      expect(plan.mechanism).toBe('evict');
      expect(plan.serverDryRun).toBe(true);
      expect(plan.changes).toEqual([{ field: `pods/${victim.metadata!.name!}`, old: `Running (uid ${victim.metadata!.uid!})`, new: 'evicted' }]);
      expect(plan.calls[0]?.path).toBe(`/api/v1/namespaces/${ns}/pods/${victim.metadata!.name!}/eviction`);
      expect(await resourceVersions(ns)).toBe(before);
      await rejects(expect, restart.execute({ ...req, dryRun: true }, ctx()), 'Invalid');
      const stale = await rejects(expect, restart.execute(request(podTarget(victim, '1'), { type: 'restart' }), ctx()), 'StaleDecision');
      expect(stale.message).toContain('the ResourceVersion in the precondition (1) does not match');
      expect(await resourceVersions(ns)).toBe(before);

      const execution = await restart.execute(req, ctx());
      expect(execution.mechanism).toBe('evict');
      const message = await verified(restart, req, execution);
      expect(message).toMatch(/replacement .* is Running and Ready/);
      expect(await gone(() => core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns }))).toBe(true);
      const now = await pods(ns, 'web');
      expect(now.filter(isPodReady)).toHaveLength(3);
      expect(now.map((p) => p.metadata?.uid)).not.toContain(victim.metadata!.uid);
    });

    it('is refused with PdbBlocked when a PDB with minAvailable=3 covers a 3-replica Deployment, and never deletes instead', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'pdb');
      await deployment(ns, 'web', 3);
      await policy.createNamespacedPodDisruptionBudget({
        namespace: ns,
        body: { metadata: { name: 'web' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } } },
      });
      await waitFor('PDB observed with 3 healthy pods', async () => {
        const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: ns });
        return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === 3;
      }, READY_MS);
      const victim = await firstPod(ns, 'web');
      const req = request(podTarget(victim), { type: 'restart', restartAction: { strategy: 'graceful', allowDeleteFallback: true } });
      const before = await resourceVersions(ns);

      const planned = await rejects(expect, restart.plan(req, ctx()), 'PdbBlocked');
      expect(planned.message).toMatch(/disruption budget/i);
      const executed = await rejects(expect, restart.execute(req, ctx()), 'PdbBlocked');
      expect(executed.httpStatus).toBe(429);
      expect(executed.message).toContain('The disruption budget web needs 3 healthy pods');

      const still = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns });
      expect(still.metadata?.deletionTimestamp).toBeUndefined();
      expect(still.metadata?.uid).toBe(victim.metadata!.uid);
      expect(await resourceVersions(ns)).toBe(before);
    });

    it('restarts the pod of a single-replica Deployment by a rollout restart instead of an eviction', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'single');
      await deployment(ns, 'solo', 1);
      const victim = await firstPod(ns, 'solo');
      const req = request(podTarget(victim), { type: 'restart', restartAction: { strategy: 'rolling' } });
      const c = ctx();

      const plan = await restart.plan(req, c);
      expect(plan.mechanism).toBe('rollout-restart');
      expect(plan.object).toMatchObject({ kind: 'Deployment', name: 'solo' });
      expect(plan.changes).toEqual([{ field: `spec.template.metadata.annotations["${RESTARTED_AT_ANNOTATION}"]`, new: restartedAtValue(c.now) }]);

      const execution = await restart.execute(req, c);
      expect(execution.mechanism).toBe('rollout-restart');
      expect(execution.message).toContain('rollout restart instead of an eviction');
      const d = await apps.readNamespacedDeployment({ name: 'solo', namespace: ns });
      expect(d.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(restartedAtValue(c.now));
      await verified(restart, req, execution);
      const now = await pods(ns, 'solo');
      expect(now).toHaveLength(1);
      expect(now[0]?.metadata?.uid).not.toBe(victim.metadata!.uid);
      expect(isPodReady(now[0]!)).toBe(true);
    });

    it('rollout-restarts a Deployment target and fails with StaleDecision on a Deployment changed since the decision', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'rollout');
      const d0 = await deployment(ns, 'web', 2);
      const oldUids = (await pods(ns, 'web')).map((p) => p.metadata?.uid);
      const staleRv = d0.metadata!.resourceVersion!;
      await apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { metadata: { labels: { touched: 'yes' } } } }, merge);

      const stale = request(target('Deployment', ns, 'web', staleRv), { type: 'restart' });
      await rejects(expect, restart.plan(stale, ctx()), 'StaleDecision');
      await rejects(expect, restart.execute(stale, ctx()), 'StaleDecision');
      const untouched = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(untouched.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBeUndefined();

      const req = request(target('Deployment', ns, 'web'), { type: 'restart' });
      const execution = await restart.execute(req, ctx());
      expect(execution.mechanism).toBe('rollout-restart');
      expect(execution.verify).toMatchObject({ kind: 'rollout', workload: { kind: 'Deployment', name: 'web' } });
      await verified(restart, req, execution);
      const now = await pods(ns, 'web');
      expect(now.filter(isPodReady)).toHaveLength(2);
      for (const p of now) expect(oldUids).not.toContain(p.metadata?.uid);
    });

    it('recreates a pod by delete with preconditions; a stale pod resourceVersion is StaleDecision', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'recreate');
      await deployment(ns, 'web', 2);
      const victim = await firstPod(ns, 'web');
      const stale = request(podTarget(victim, '1'), { type: 'restart', restartAction: { strategy: 'recreate', gracePeriodSeconds: 0 } });
      const e = await rejects(expect, restart.execute(stale, ctx()), 'StaleDecision');
      expect(e.httpStatus).toBe(409);
      expect((await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();

      const req = request(podTarget(victim, victim.metadata!.resourceVersion), { type: 'restart', restartAction: { strategy: 'recreate', gracePeriodSeconds: 0 } });
      const plan = await restart.plan(req, ctx());
      expect(plan.mechanism).toBe('delete');
      expect(plan.calls[0]?.body).toMatchObject({ preconditions: { uid: victim.metadata!.uid, resourceVersion: victim.metadata!.resourceVersion }, gracePeriodSeconds: 0 });
      expect((await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
      const execution = await restart.execute(req, ctx());
      expect(execution.mechanism).toBe('delete');
      await verified(restart, req, execution);
    });
  });

  describe('scale', () => {
    it('scales a Deployment up, down and with clamping, verifying readyReplicas; a Pod target scales its Deployment', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'scale-deploy');
      await deployment(ns, 'web', 2);
      const dep = target('Deployment', ns, 'web');

      const before = await resourceVersions(ns);
      const up = request(dep, { type: 'scale', scaleAction: { direction: 'up', replicas: 2, minReplicas: 1, maxReplicas: 4 } });
      const plan = await scale.plan({ ...up, dryRun: true }, ctx());
      expect(plan).toMatchObject({ mechanism: 'scale', serverDryRun: true, noop: false, changes: [{ field: 'spec.replicas', old: '2', new: '4' }] });
      expect(plan.calls[0]?.path).toBe(`/apis/apps/v1/namespaces/${ns}/deployments/web/scale`);
      expect(await resourceVersions(ns)).toBe(before);

      let execution = await scale.execute(up, ctx());
      expect(execution.changes).toEqual([{ field: 'spec.replicas', old: '2', new: '4' }]);
      expect(await verified(scale, up, execution)).toBe('4 of 4 replicas ready');

      // Already at maxReplicas: clamping makes "up" a no-op, which is reported, not treated as success.
      const atMax = request(dep, { type: 'scale', scaleAction: { direction: 'up', replicas: 3, maxReplicas: 4 } });
      const noop = await scale.plan(atMax, ctx());
      expect(noop.noop).toBe(true);
      expect(noop.message).toContain('clamped to maxReplicas 4');
      await rejects(expect, scale.execute(atMax, ctx()), 'NotApplicable');

      const pod = await firstPod(ns, 'web');
      const down = request(podTarget(pod), { type: 'scale', scaleAction: { direction: 'down', replicas: 5, minReplicas: 1, maxReplicas: 10 } });
      execution = await scale.execute(down, ctx());
      expect(execution.object).toMatchObject({ kind: 'Deployment', name: 'web' });
      expect(execution.message).toContain('clamped to minReplicas 1');
      expect(execution.changes).toEqual([{ field: 'spec.replicas', old: '4', new: '1' }]);
      expect(await verified(scale, down, execution)).toBe('1 of 1 replicas ready');

      const absolute = request(dep, { type: 'scale', scaleAction: { direction: 'absolute', replicas: 3, minReplicas: 1, maxReplicas: 5 } });
      execution = await scale.execute(absolute, ctx());
      await verified(scale, absolute, execution);
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.status?.readyReplicas).toBe(3);
    });

    it('scales a StatefulSet (absolute, then down through one of its pods) and refuses a stale decision', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'scale-sts');
      const created = await apps.createNamespacedStatefulSet({
        namespace: ns,
        body: { metadata: { name: 'db' }, spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: podTemplate({ app: 'db' }) } },
      });
      await waitFor('StatefulSet ready', async () => (await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns })).status?.readyReplicas === 1, READY_MS);

      const stale = request(target('StatefulSet', ns, 'db', created.metadata!.resourceVersion), { type: 'scale', scaleAction: { direction: 'up', replicas: 1 } });
      await rejects(expect, scale.execute(stale, ctx()), 'StaleDecision');
      expect((await apps.readNamespacedStatefulSet({ name: 'db', namespace: ns })).spec?.replicas).toBe(1);

      const abs = request(target('StatefulSet', ns, 'db'), { type: 'scale', scaleAction: { direction: 'absolute', replicas: 3, minReplicas: 1, maxReplicas: 5 } });
      let execution = await scale.execute(abs, ctx());
      expect(execution.changes).toEqual([{ field: 'spec.replicas', old: '1', new: '3' }]);
      expect(await verified(scale, abs, execution)).toBe('3 of 3 replicas ready');

      const pod = await firstPod(ns, 'db');
      const down = request(podTarget(pod), { type: 'scale', scaleAction: { direction: 'down', replicas: 1 } });
      execution = await scale.execute(down, ctx());
      expect(execution.object).toMatchObject({ kind: 'StatefulSet', name: 'db' });
      expect(await verified(scale, down, execution)).toBe('2 of 2 replicas ready');

      // A StatefulSet pod comes back under the same name: the replacement is recognised by its new uid.
      const member = await firstPod(ns, 'db');
      const evictReq = request(podTarget(member), { type: 'restart' });
      const evicted = await restart.execute(evictReq, ctx());
      expect(evicted.mechanism).toBe('evict');
      expect(await verified(restart, evictReq, evicted)).toMatch(/is gone; replacement .* is Running and Ready/);
      const back = await core.readNamespacedPod({ name: member.metadata!.name!, namespace: ns });
      expect(back.metadata?.uid).not.toBe(member.metadata!.uid);
    });

    it('rollout-restarts a DaemonSet, and evicting one of its pods is verified by the DaemonSet replacing it', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'daemonset');
      await apps.createNamespacedDaemonSet({
        namespace: ns,
        body: { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate({ app: 'agent' }) } },
      });
      const nodes = (await core.listNode()).items.length;
      await waitFor('DaemonSet pods ready', async () => {
        const d = await apps.readNamespacedDaemonSet({ name: 'agent', namespace: ns });
        return d.status?.desiredNumberScheduled === nodes && d.status.numberReady === nodes;
      }, READY_MS);
      const before = (await pods(ns, 'agent')).map((p) => p.metadata?.uid);

      const req = request(target('DaemonSet', ns, 'agent'), { type: 'restart' });
      const execution = await restart.execute(req, ctx());
      expect(execution.mechanism).toBe('rollout-restart');
      expect(await verified(restart, req, execution)).toContain('rollout complete');
      const after = await pods(ns, 'agent');
      expect(after).toHaveLength(nodes);
      for (const p of after) expect(before).not.toContain(p.metadata?.uid);

      const member = after[0]!;
      const evictReq = request(podTarget(member), { type: 'restart', restartAction: { strategy: 'graceful' } });
      const evicted = await restart.execute(evictReq, ctx());
      expect(evicted.verify).toMatchObject({ kind: 'pod-replaced', controller: { kind: 'DaemonSet', name: 'agent' } });
      await verified(restart, evictReq, evicted);
    });
  });

  describe('patch', () => {
    it('applies a strategic-merge patch given as YAML; the dry-run plan returns the exact change and mutates nothing', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'patch-smp');
      await deployment(ns, 'web', 1);
      const yamlPatch = ['spec:', '  template:', '    spec:', '      containers:', '        - name: app', '          env:', '            - name: LOG_LEVEL', '              value: debug'].join('\n');
      const req = request(target('Deployment', ns, 'web'), { type: 'patch', patchAction: { type: 'strategic', patch: yamlPatch } });
      expect(patch.validate(req)).toEqual([]);

      const before = await resourceVersions(ns);
      const plan = await patch.plan({ ...req, dryRun: true }, ctx());
      expect(plan.serverDryRun).toBe(true);
      expect(plan.changes).toEqual([{ field: 'spec.template.spec.containers[0].env', new: '[{"name":"LOG_LEVEL","value":"debug"}]' }]);
      expect(plan.calls[0]?.contentType).toBe('application/strategic-merge-patch+json');
      expect(await resourceVersions(ns)).toBe(before);

      const execution = await patch.execute(req, ctx());
      expect(execution.changes).toEqual(plan.changes);
      await verified(patch, req, execution);
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.spec?.template.spec?.containers[0]?.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('example.invalid/app:1');
    });

    it('applies a JSON merge patch, a JSON patch string, and a patches list with key-list and pointer paths', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'patch-json');
      await deployment(ns, 'web', 1);
      const dep = target('Deployment', ns, 'web');

      const mergeReq = request(dep, { type: 'patch', patchAction: { type: 'merge', patch: '{"metadata":{"annotations":{"team":"payments"}}}' } });
      let execution = await patch.execute(mergeReq, ctx());
      expect(execution.changes).toEqual([{ field: 'metadata.annotations.team', new: 'payments' }]);
      await verified(patch, mergeReq, execution);

      const jsonReq = request(dep, { type: 'patch', patchAction: { type: 'json', patch: '[{"op": "replace", "path": "/spec/replicas", "value": 2}]' } });
      execution = await patch.execute(jsonReq, ctx());
      expect(execution.changes).toEqual([{ field: 'spec.replicas', old: '1', new: '2' }]);
      await verified(patch, jsonReq, execution);

      const listReq = request(dep, {
        type: 'patch',
        patchAction: {
          type: 'json',
          patches: [
            { path: ['spec', 'template', 'spec', 'containers', '0', 'image'], value: 'example.invalid/app:2' },
            { op: 'add', path: ['spec', 'template', 'metadata', 'labels', 'kubeskippy.io/patched'], value: 'true' },
            { op: 'add', path: '/spec/template/metadata/annotations', value: { 'example.com/why': 'leak' } },
          ],
        },
      });
      const plan = await patch.plan(listReq, ctx());
      expect(plan.calls[0]?.body).toEqual([
        { op: 'replace', path: '/metadata/resourceVersion', value: plan.object.resourceVersion },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'example.invalid/app:2' },
        { op: 'add', path: '/spec/template/metadata/labels/kubeskippy.io~1patched', value: 'true' },
        { op: 'add', path: '/spec/template/metadata/annotations', value: { 'example.com/why': 'leak' } },
      ]);
      execution = await patch.execute(listReq, ctx());
      expect(execution.changes).toEqual([
        { field: 'spec.template.metadata.annotations["example.com/why"]', new: 'leak' },
        { field: 'spec.template.metadata.labels["kubeskippy.io/patched"]', new: 'true' },
        { field: 'spec.template.spec.containers[0].image', old: 'example.invalid/app:1', new: 'example.invalid/app:2' },
      ]);
      await verified(patch, listReq, execution);
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('example.invalid/app:2');
      expect(d.status?.readyReplicas).toBe(2);
    });

    it("reports a patch the API server refuses as Rejected with the server's message, and a stale one as StaleDecision", async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'patch-bad');
      const d0 = await deployment(ns, 'web', 1);
      const bad = request(target('Deployment', ns, 'web'), {
        type: 'patch',
        patchAction: { type: 'strategic', patch: 'spec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ""\n' },
      });
      const planned = await rejects(expect, patch.plan(bad, ctx()), 'Rejected');
      expect(planned.httpStatus).toBe(422);
      expect(planned.message).toContain('spec.template.spec.containers[0].image: Required value');
      await rejects(expect, patch.execute(bad, ctx()), 'Rejected');
      // The API server says only "the server rejected our request" for a JSON patch it cannot apply; we add which op.
      const missingParent = request(target('Deployment', ns, 'web'), {
        type: 'patch',
        patchAction: { type: 'json', patches: [{ op: 'add', path: ['metadata', 'labels', 'team'], value: 'a' }] },
      });
      const unapplied = await rejects(expect, patch.plan(missingParent, ctx()), 'Rejected');
      expect(unapplied.message).toContain('the server rejected our request');
      expect(unapplied.message).toContain('operation 0 (add /metadata/labels/team): /metadata/labels does not exist');

      await apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { metadata: { labels: { touched: 'yes' } } } }, merge);
      const stale = request(target('Deployment', ns, 'web', d0.metadata!.resourceVersion), { type: 'patch', patchAction: { type: 'merge', patch: 'spec: {replicas: 3}' } });
      await rejects(expect, patch.execute(stale, ctx()), 'StaleDecision');
      const staleJson = request(target('Deployment', ns, 'web', d0.metadata!.resourceVersion), { type: 'patch', patchAction: { type: 'json', patches: [{ path: '/spec/replicas', value: 3 }] } });
      await rejects(expect, patch.execute(staleJson, ctx()), 'StaleDecision');
      expect((await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).spec?.replicas).toBe(1);
    });

    it('patches a Pod and verifies it stays Ready', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'patch-pod');
      await deployment(ns, 'web', 1);
      const pod = await firstPod(ns, 'web');
      const req = request(podTarget(pod), { type: 'patch', patchAction: { type: 'merge', patch: 'metadata: {labels: {quarantine: "true"}}' } });
      const execution = await patch.execute(req, ctx());
      expect(execution.verify).toMatchObject({ kind: 'pod-ready', name: pod.metadata!.name });
      expect(await verified(patch, req, execution)).toContain('Running and Ready');
    });
  });

  describe('delete', () => {
    it('deletes a Deployment with propagationPolicy Orphan (its ReplicaSet survives) after a dry run that deletes nothing', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'delete-orphan');
      await deployment(ns, 'web', 1);
      const req = request(target('Deployment', ns, 'web'), { type: 'delete', deleteAction: { propagationPolicy: 'Orphan', gracePeriodSeconds: 5 } });
      const before = await resourceVersions(ns);
      const plan = await del.plan({ ...req, dryRun: true }, ctx());
      expect(plan.serverDryRun).toBe(true);
      expect(plan.calls[0]?.body).toMatchObject({ propagationPolicy: 'Orphan', gracePeriodSeconds: 5, preconditions: { resourceVersion: plan.object.resourceVersion } });
      expect(plan.calls[0]?.body).not.toHaveProperty('dryRun');
      // Wait a moment: a dry run that secretly deleted would show up as the ReplicaSet's pods being replaced.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await resourceVersions(ns)).toBe(before);

      const execution = await del.execute(req, ctx());
      expect(execution.message).toContain('propagationPolicy Orphan');
      await verified(del, req, execution);
      const rs = await apps.listNamespacedReplicaSet({ namespace: ns });
      expect(rs.items).toHaveLength(1);
      expect(rs.items[0]?.metadata?.ownerReferences ?? []).toEqual([]);
    });

    it('deletes a Deployment in the foreground; deletes a pod of a Deployment with force and sees a replacement Ready', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'delete-fg');
      await deployment(ns, 'web', 2);
      await deployment(ns, 'api', 1);
      const victim = await firstPod(ns, 'web');
      const podReq = request(podTarget(victim), { type: 'delete', deleteAction: { force: true } });
      const podExec = await del.execute(podReq, ctx());
      expect(podExec.message).toContain('gracePeriodSeconds 0');
      expect(podExec.verify.kind).toBe('pod-replaced');
      await verified(del, podReq, podExec);

      const depReq = request(target('Deployment', ns, 'api'), { type: 'delete', deleteAction: { propagationPolicy: 'Foreground' } });
      const depExec = await del.execute(depReq, ctx());
      await verified(del, depReq, depExec);
      expect(await pods(ns, 'api')).toEqual([]);
    });

    it('refuses to delete a Namespace or a Node before any API call, and refuses a stale decision', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'delete-refuse');
      const nsReq = request({ apiVersion: 'v1', kind: 'Namespace', namespace: '', name: ns }, { type: 'delete' });
      expect(del.validate(nsReq).join()).toContain('cluster-scoped');
      await rejects(expect, del.plan(nsReq, ctx()), 'Unsupported');
      await rejects(expect, del.execute(nsReq, ctx()), 'Unsupported');
      const nodes = await core.listNode();
      const node = nodes.items[0]!.metadata!.name!;
      await rejects(expect, del.execute(request({ apiVersion: 'v1', kind: 'Node', namespace: '', name: node }, { type: 'delete' }), ctx()), 'Unsupported');
      expect((await core.readNamespace({ name: ns })).status?.phase).toBe('Active');
      expect((await core.readNode({ name: node })).metadata?.deletionTimestamp).toBeUndefined();

      const d0 = await deployment(ns, 'web', 1);
      await apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { metadata: { labels: { touched: 'yes' } } } }, merge);
      await rejects(expect, del.execute(request(target('Deployment', ns, 'web', d0.metadata!.resourceVersion), { type: 'delete' }), ctx()), 'StaleDecision');
      expect((await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
    });
  });

  describe('rollback', () => {
    it('rolls a Deployment back to the previous revision after two rollouts, then to revision 1 through a Pod target', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'rollback');
      await deployment(ns, 'web', 2);
      for (const image of ['example.invalid/app:2', 'example.invalid/app:3']) {
        await apps.patchNamespacedDeployment(
          { name: 'web', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
        );
        await waitRollout(ns, 'web');
      }
      const req = request(target('Deployment', ns, 'web'), { type: 'rollback' });
      const before = await resourceVersions(ns);
      const plan = await rollback.plan({ ...req, dryRun: true }, ctx());
      expect(plan.message).toContain('from revision 3 to revision 2');
      expect(plan.changes).toEqual([{ field: 'spec.template.spec.containers[0].image', old: 'example.invalid/app:3', new: 'example.invalid/app:2' }]);
      expect(await resourceVersions(ns)).toBe(before);

      const execution = await rollback.execute(req, ctx());
      expect(execution.verify).toMatchObject({ kind: 'rollout' });
      await verified(rollback, req, execution);
      let d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('example.invalid/app:2');
      expect(d.metadata?.annotations?.[REVISION_ANNOTATION]).toBe('4');
      expect(d.spec?.template.metadata?.labels).toEqual({ app: 'web' });

      const pod = await firstPod(ns, 'web');
      const toFirst = request(podTarget(pod), { type: 'rollback', rollbackAction: { revision: 1 } });
      const second = await rollback.execute(toFirst, ctx());
      expect(second.object).toMatchObject({ kind: 'Deployment', name: 'web' });
      await verified(rollback, toFirst, second);
      d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('example.invalid/app:1');
    });

    it('fails clearly without a previous revision, and with StaleDecision on a changed Deployment', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'rollback-none');
      const d0 = await deployment(ns, 'web', 1);
      const e = await rejects(expect, rollback.plan(request(target('Deployment', ns, 'web'), { type: 'rollback' }), ctx()), 'NotApplicable');
      expect(e.message).toContain('no previous revision to roll back to (only revision 1 exists)');
      await rejects(expect, rollback.execute(request(target('Deployment', ns, 'web'), { type: 'rollback', rollbackAction: { revision: 7 } }), ctx()), 'NotApplicable');

      await apps.patchNamespacedDeployment(
        { name: 'web', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'example.invalid/app:2' }] } } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      );
      await waitRollout(ns, 'web');
      await rejects(expect, rollback.execute(request(target('Deployment', ns, 'web', d0.metadata!.resourceVersion), { type: 'rollback' }), ctx()), 'StaleDecision');
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('example.invalid/app:2');
    });
  });

  describe('a target deleted mid-action', () => {
    it('fails every executor with TargetGone when the target vanished between plan and execute', async (t) => {
      const { expect } = t;
      const ns = await namespace(t, 'gone');
      await deployment(ns, 'web', 1);
      const pod = await firstPod(ns, 'web');
      const dep = target('Deployment', ns, 'web');
      const requests: [Executor, ExecutionRequest][] = [
        [restart, request(dep, { type: 'restart' })],
        [scale, request(dep, { type: 'scale', scaleAction: { direction: 'up', replicas: 1 } })],
        [patch, request(dep, { type: 'patch', patchAction: { type: 'merge', patch: '{"metadata":{"labels":{"x":"y"}}}' } })],
        [del, request(dep, { type: 'delete' })],
        [rollback, request(podTarget(pod), { type: 'rollback' })],
        [restart, request(podTarget(pod), { type: 'restart', restartAction: { strategy: 'recreate' } })],
      ];
      // Plans succeed while the objects exist (rollback has no previous revision: NotApplicable, not TargetGone).
      for (const [executor, req] of requests.slice(0, 4)) await executor.plan(req, ctx());
      await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns, body: { propagationPolicy: 'Foreground', gracePeriodSeconds: 0 } });
      // The foreground deletion may already have taken the pod with its ReplicaSet (garbage collection): a 404 here
      // is the state we want, not a failure.
      await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: ns, body: { gracePeriodSeconds: 0 } }).catch((e: unknown) => {
        if (!(e instanceof k8s.ApiException && (e as k8s.ApiException<unknown>).code === 404)) throw e;
      });
      await waitFor('Deployment and pod gone', async () =>
        (await gone(() => apps.readNamespacedDeployment({ name: 'web', namespace: ns }))) &&
        (await gone(() => core.readNamespacedPod({ name: pod.metadata!.name!, namespace: ns }))), READY_MS);
      for (const [executor, req] of requests) {
        const e = await rejects(expect, executor.execute(req, ctx()), 'TargetGone');
        expect(e.message).toMatch(/not found/);
      }
    });
  });
});
