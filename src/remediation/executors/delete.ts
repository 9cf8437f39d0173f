/**
 * The delete executor: deletes a Pod or an apps workload with a grace period, a propagation policy and uid +
 * resourceVersion preconditions. Never a Namespace, a Node or any other cluster-scoped object: those are refused
 * by validation, before any API call is made.
 */
import type { V1DeleteOptions, V1Pod } from '@kubernetes/client-node';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import { callApi } from '../errors.js';
import type { Execution, ExecutionContext, ExecutionRequest, Executor, ExecutorDeps, Plan, Verification, VerifySpec } from '../types.js';
import {
  assertNotDryRun,
  assertUid,
  describeRef,
  objectPath,
  podController,
  podReplacementSpec,
  preconditionVersion,
  readObject,
  refOf,
  requestOptions,
  targetProblems,
  throwIfProblems,
  verifyOutcome,
  type KubeObject,
  type ObjectKind,
  type Problem,
} from '../workload.js';

const DELETE_KINDS: readonly ObjectKind[] = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'];

type DeleteSpec = NonNullable<ActionTemplate['deleteAction']>;

/**
 * DeleteOptions for a delete action: `force` means grace period 0 (and wins over gracePeriodSeconds);
 * propagationPolicy defaults to Background, as kubectl's. Preconditions pin the exact object version the decision
 * was made on. Everything travels in the body: with a body, the API server ignores DELETE query parameters (a
 * `?dryRun=All` next to a body is silently a real delete). Pure.
 */
export function deleteOptions(spec: DeleteSpec | undefined, uid: string, resourceVersion: string, dryRun: boolean): V1DeleteOptions {
  const grace = spec?.force === true ? 0 : spec?.gracePeriodSeconds;
  return {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    preconditions: { uid, resourceVersion },
    propagationPolicy: spec?.propagationPolicy ?? 'Background',
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    ...(dryRun ? { dryRun: ['All'] } : {}),
  };
}

/**
 * Deletes the target. verify: the object (uid) is gone; for a pod with a controller, also a replacement Running
 * and Ready. Throws Unsupported for cluster-scoped or unsupported kinds without calling the API.
 */
export class DeleteExecutor implements Executor {
  readonly type = 'delete' as const;

  constructor(private readonly deps: ExecutorDeps) {}

  private problems(request: ExecutionRequest): Problem[] {
    const out = targetProblems(request, this.type, DELETE_KINDS);
    const g = request.action.deleteAction?.gracePeriodSeconds;
    if (g !== undefined && (!Number.isInteger(g) || g < 0)) out.push({ code: 'Invalid', message: 'deleteAction.gracePeriodSeconds must be a non-negative integer' });
    return out;
  }

  /** See Executor.validate. */
  validate(request: ExecutionRequest): string[] {
    return this.problems(request).map((p) => p.message);
  }

  private async prepare(request: ExecutionRequest, ctx: ExecutionContext): Promise<{ kind: ObjectKind; current: KubeObject; uid: string; resourceVersion: string }> {
    // Validation first: a Namespace or Node target must be refused before any request leaves the process.
    throwIfProblems(this.problems(request));
    const t = request.target;
    const kind = t.kind as ObjectKind;
    const current = await readObject(this.deps, kind, t.namespace, t.name, ctx.signal);
    assertUid(t.uid, current, describeRef(t));
    return { kind, current, uid: current.metadata?.uid ?? '', resourceVersion: preconditionVersion(t.resourceVersion, current, describeRef(t)) };
  }

  private async delete(kind: ObjectKind, namespace: string, name: string, body: V1DeleteOptions, ctx: ExecutionContext, dryRun: boolean): Promise<void> {
    const o = requestOptions(ctx.signal);
    const p = { name, namespace, body };
    await callApi({ what: `delete ${kind} ${namespace}/${name}${dryRun ? ' (dry run)' : ''}`, signal: ctx.signal }, async (): Promise<void> => {
      switch (kind) {
        case 'Pod':
          await this.deps.core.deleteNamespacedPod(p, o);
          return;
        case 'Deployment':
          await this.deps.apps.deleteNamespacedDeployment(p, o);
          return;
        case 'StatefulSet':
          await this.deps.apps.deleteNamespacedStatefulSet(p, o);
          return;
        case 'DaemonSet':
          await this.deps.apps.deleteNamespacedDaemonSet(p, o);
          return;
        case 'ReplicaSet':
          await this.deps.apps.deleteNamespacedReplicaSet(p, o);
          return;
      }
    });
  }

  private describeOptions(body: V1DeleteOptions): string {
    const grace = body.gracePeriodSeconds !== undefined ? `gracePeriodSeconds ${body.gracePeriodSeconds}` : 'default grace period';
    return `propagationPolicy ${body.propagationPolicy ?? 'Background'}, ${grace}`;
  }

  /** See Executor.plan: a server-side dry-run delete with the same options and preconditions. */
  async plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan> {
    const { kind, current, uid, resourceVersion } = await this.prepare(request, ctx);
    const t = request.target;
    const spec = request.action.deleteAction;
    await this.delete(kind, t.namespace, t.name, deleteOptions(spec, uid, resourceVersion, true), ctx, true);
    const body = deleteOptions(spec, uid, resourceVersion, false);
    return {
      action: this.type,
      mechanism: 'delete',
      object: refOf(kind, current),
      changes: [{ field: `${kind}/${t.name}`, old: `exists (uid ${uid})`, new: `deleted (${this.describeOptions(body)})` }],
      calls: [{ method: 'DELETE', path: objectPath(kind, t.namespace, t.name), body }],
      noop: false,
      serverDryRun: true,
      message: `would delete ${describeRef(t)} (${this.describeOptions(body)})`,
    };
  }

  /** See Executor.execute. */
  async execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    assertNotDryRun(request, this.type);
    const { kind, current, uid, resourceVersion } = await this.prepare(request, ctx);
    const t = request.target;
    const body = deleteOptions(request.action.deleteAction, uid, resourceVersion, false);
    // A controlled pod is verified by its replacement; the sibling list must be taken before the delete.
    const verify: VerifySpec =
      kind === 'Pod' && podController(current as V1Pod)
        ? await podReplacementSpec(this.deps, current as V1Pod, ctx.signal)
        : { kind: 'gone', object: { ...refOf(kind, current), uid } };
    await this.delete(kind, t.namespace, t.name, body, ctx, false);
    ctx.log?.('info', 'deleted', { target: describeRef(t), options: this.describeOptions(body) });
    return {
      action: this.type,
      mechanism: 'delete',
      object: refOf(kind, current),
      changes: [{ field: `${kind}/${t.name}`, old: `exists (uid ${uid})`, new: `deleted (${this.describeOptions(body)})` }],
      noop: false,
      message: `deleted ${describeRef(t)} (${this.describeOptions(body)})`,
      executedAt: ctx.now,
      verify,
    };
  }

  /** See Executor.verify: gone (uid), and for a controlled pod a Ready replacement. */
  verify(_request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification> {
    return verifyOutcome(this.deps, execution.verify, ctx);
  }
}
