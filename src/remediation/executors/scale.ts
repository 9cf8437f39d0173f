/**
 * The scale executor: Deployments, StatefulSets and ReplicaSets through the scale subresource (the same path
 * `kubectl scale` and the HPA use), up/down by `replicas` or to an absolute count, clamped to
 * [minReplicas, maxReplicas]. A Pod target scales its owning workload.
 *
 * The Scale object shares its resourceVersion with the workload, so a replace carrying the version observed at
 * decision time fails with 409 (StaleDecision) if anyone changed the workload since.
 */
import type { V1Pod, V1Scale } from '@kubernetes/client-node';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import { callApi, ExecutorError } from '../errors.js';
import type { Execution, ExecutionContext, ExecutionRequest, Executor, ExecutorDeps, ObjectRef, Plan, Verification, WorkloadIdentity } from '../types.js';
import {
  assertNotDryRun,
  assertResourceVersion,
  assertUid,
  describeRef,
  objectPath,
  readObject,
  requestOptions,
  targetProblems,
  throwIfProblems,
  verifyOutcome,
  workloadForPod,
  workloadIdentity,
  type ObjectKind,
  type Problem,
} from '../workload.js';

type ScaleSpec = NonNullable<ActionTemplate['scaleAction']>;

/** Lower bound when the action gives no minReplicas (the schema's default). */
export const DEFAULT_MIN_REPLICAS = 1;
/** Upper bound when the action gives no maxReplicas (the schema's default). */
export const DEFAULT_MAX_REPLICAS = 10;

/** The outcome of the replica arithmetic. */
export interface ScaleComputation {
  readonly current: number;
  /** What the direction asked for before clamping. */
  readonly requested: number;
  /** What will be set. */
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  /** The bounds changed the requested count. */
  readonly clamped: boolean;
  /** desired === current. */
  readonly noop: boolean;
  /** Human explanation, e.g. "3 → 10 (requested 13, clamped to maxReplicas 10)". */
  readonly explanation: string;
}

/**
 * Computes the replica count: up adds `replicas`, down subtracts, absolute sets; the result is clamped to
 * [minReplicas, maxReplicas] (defaults 1 and 10). Clamping never moves the count against the direction: scaling
 * "up" a workload that is already above maxReplicas leaves it alone rather than scaling it down (and vice versa).
 * Pure.
 */
export function computeScale(current: number, spec: ScaleSpec): ScaleComputation {
  const min = spec.minReplicas ?? DEFAULT_MIN_REPLICAS;
  const max = spec.maxReplicas ?? DEFAULT_MAX_REPLICAS;
  const requested = spec.direction === 'up' ? current + spec.replicas : spec.direction === 'down' ? current - spec.replicas : spec.replicas;
  const bounded = Math.min(max, Math.max(min, requested));
  const desired = spec.direction === 'up' ? Math.max(current, bounded) : spec.direction === 'down' ? Math.min(current, bounded) : bounded;
  const clamped = desired !== requested;
  const bound = requested > max ? `maxReplicas ${max}` : requested < min ? `minReplicas ${min}` : `the current count ${current}`;
  const why = clamped ? ` (requested ${requested}, clamped to ${bound})` : '';
  return { current, requested, desired, min, max, clamped, noop: desired === current, explanation: `${current} → ${desired}${why}` };
}

type ScalableKind = 'Deployment' | 'StatefulSet' | 'ReplicaSet';
const SCALE_KINDS: readonly ObjectKind[] = ['Pod', 'Deployment', 'StatefulSet', 'ReplicaSet'];

interface ScaleTarget {
  readonly workload: WorkloadIdentity & { readonly kind: ScalableKind };
  readonly scale: V1Scale;
  /** Precondition for the replace: the version seen at decision time, else the one just read. */
  readonly resourceVersion: string;
  readonly viaPod?: string;
}

/**
 * Scales the target (or a Pod's owning workload) through the scale subresource. A count that clamping turns into
 * "no change" is NOT a success: plan reports it as a noop and execute throws NotApplicable. verify: spec still at
 * the desired count and readyReplicas == desired.
 */
export class ScaleExecutor implements Executor {
  readonly type = 'scale' as const;

  constructor(private readonly deps: ExecutorDeps) {}

  private problems(request: ExecutionRequest): Problem[] {
    const out = targetProblems(request, this.type, SCALE_KINDS);
    const s = request.action.scaleAction;
    if (!s) {
      out.push({ code: 'Invalid', message: 'a scale action needs scaleAction' });
      return out;
    }
    if (!Number.isInteger(s.replicas) || s.replicas < 0) out.push({ code: 'Invalid', message: 'scaleAction.replicas must be a non-negative integer' });
    if (s.direction !== 'absolute' && s.replicas < 1) out.push({ code: 'Invalid', message: `scaling ${s.direction} needs replicas >= 1` });
    const min = s.minReplicas ?? DEFAULT_MIN_REPLICAS;
    const max = s.maxReplicas ?? DEFAULT_MAX_REPLICAS;
    if (min > max) out.push({ code: 'Invalid', message: `minReplicas ${min} exceeds maxReplicas ${max}` });
    return out;
  }

  /** See Executor.validate. */
  validate(request: ExecutionRequest): string[] {
    return this.problems(request).map((p) => p.message);
  }

  private async resolve(request: ExecutionRequest, ctx: ExecutionContext): Promise<ScaleTarget> {
    throwIfProblems(this.problems(request));
    const t = request.target;
    let kind: ScalableKind;
    let name: string;
    let expectedUid: string | undefined;
    let expectedRv: string | undefined;
    let viaPod: string | undefined;
    if (t.kind === 'Pod') {
      const pod = (await readObject(this.deps, 'Pod', t.namespace, t.name, ctx.signal)) as V1Pod;
      assertUid(t.uid, pod, describeRef(t));
      assertResourceVersion(t.resourceVersion, pod, describeRef(t));
      const w = await workloadForPod(this.deps, pod, request.workload, ctx.signal);
      if (!w) throw new ExecutorError('NotApplicable', `${describeRef(t)} has no owning Deployment, StatefulSet or ReplicaSet to scale`);
      if (w.kind === 'DaemonSet') throw new ExecutorError('Unsupported', `${describeRef(t)} belongs to DaemonSet ${w.object.metadata?.name ?? '?'}, which cannot be scaled`);
      const id = workloadIdentity(w);
      kind = w.kind;
      name = id.name;
      expectedUid = id.uid;
      expectedRv = request.workload?.resourceVersion;
      viaPod = t.name;
    } else {
      kind = t.kind as ScalableKind;
      name = t.name;
      expectedUid = t.uid;
      expectedRv = t.resourceVersion;
    }
    const scale = await this.readScale(kind, t.namespace, name, ctx.signal);
    const uid = scale.metadata?.uid ?? '';
    if (expectedUid !== undefined && expectedUid !== '' && uid !== expectedUid) {
      throw new ExecutorError('StaleDecision', `${kind} ${t.namespace}/${name} was deleted and recreated since the decision (uid ${expectedUid} expected, found ${uid})`);
    }
    const resourceVersion = expectedRv ?? scale.metadata?.resourceVersion ?? '';
    return { workload: { kind, namespace: t.namespace, name, uid }, scale, resourceVersion, ...(viaPod ? { viaPod } : {}) };
  }

  private readScale(kind: ScalableKind, namespace: string, name: string, signal: AbortSignal): Promise<V1Scale> {
    const o = requestOptions(signal);
    return callApi({ what: `read scale of ${kind} ${namespace}/${name}`, signal }, () => {
      switch (kind) {
        case 'Deployment':
          return this.deps.apps.readNamespacedDeploymentScale({ name, namespace }, o);
        case 'StatefulSet':
          return this.deps.apps.readNamespacedStatefulSetScale({ name, namespace }, o);
        case 'ReplicaSet':
          return this.deps.apps.readNamespacedReplicaSetScale({ name, namespace }, o);
      }
    });
  }

  private scaleBody(target: ScaleTarget, replicas: number): V1Scale {
    const w = target.workload;
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: w.name, namespace: w.namespace, resourceVersion: target.resourceVersion },
      spec: { replicas },
    };
  }

  private replaceScale(target: ScaleTarget, body: V1Scale, dryRun: boolean, signal: AbortSignal): Promise<V1Scale> {
    const { kind, name, namespace } = target.workload;
    const o = requestOptions(signal);
    const p = { name, namespace, body, ...(dryRun ? { dryRun: 'All' } : {}) };
    return callApi({ what: `scale ${kind} ${namespace}/${name}${dryRun ? ' (dry run)' : ''}`, signal }, () => {
      switch (kind) {
        case 'Deployment':
          return this.deps.apps.replaceNamespacedDeploymentScale(p, o);
        case 'StatefulSet':
          return this.deps.apps.replaceNamespacedStatefulSetScale(p, o);
        case 'ReplicaSet':
          return this.deps.apps.replaceNamespacedReplicaSetScale(p, o);
      }
    });
  }

  private describe(target: ScaleTarget): string {
    const w = describeRef(target.workload);
    return target.viaPod ? `${w} (owner of pod ${target.viaPod})` : w;
  }

  private objectRef(target: ScaleTarget, resourceVersion: string | undefined): ObjectRef {
    const w = target.workload;
    return { apiVersion: 'apps/v1', kind: w.kind, namespace: w.namespace, name: w.name, uid: w.uid, ...(resourceVersion ? { resourceVersion } : {}) };
  }

  /** See Executor.plan: the replica arithmetic, validated by a server-side dry-run replace of the Scale. */
  async plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan> {
    const target = await this.resolve(request, ctx);
    const spec = request.action.scaleAction as ScaleSpec;
    const c = computeScale(target.scale.spec?.replicas ?? 0, spec);
    const body = this.scaleBody(target, c.desired);
    const call = { method: 'PUT' as const, path: objectPath(target.workload.kind, target.workload.namespace, target.workload.name, 'scale'), body };
    const ref = this.objectRef(target, target.scale.metadata?.resourceVersion);
    if (c.noop) {
      return {
        action: this.type,
        mechanism: 'none',
        object: ref,
        changes: [],
        calls: [],
        noop: true,
        serverDryRun: false,
        message: `no-op: scaling ${spec.direction} ${this.describe(target)} would not change it: ${c.explanation}`,
      };
    }
    const result = await this.replaceScale(target, body, true, ctx.signal);
    return {
      action: this.type,
      mechanism: 'scale',
      object: ref,
      changes: [{ field: 'spec.replicas', old: String(c.current), new: String(result.spec?.replicas ?? c.desired) }],
      calls: [call],
      noop: false,
      serverDryRun: true,
      message: `would scale ${this.describe(target)} ${c.explanation}`,
    };
  }

  /** See Executor.execute. Throws NotApplicable when clamping leaves nothing to change. */
  async execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    assertNotDryRun(request, this.type);
    const target = await this.resolve(request, ctx);
    const spec = request.action.scaleAction as ScaleSpec;
    const c = computeScale(target.scale.spec?.replicas ?? 0, spec);
    if (c.noop && c.clamped) {
      throw new ExecutorError('NotApplicable', `not scaled: scaling ${spec.direction} ${this.describe(target)} is a no-op: ${c.explanation}`);
    }
    if (c.noop) {
      return {
        action: this.type,
        mechanism: 'none',
        object: this.objectRef(target, target.scale.metadata?.resourceVersion),
        changes: [],
        noop: true,
        message: `${this.describe(target)} already has ${c.desired} replicas`,
        executedAt: ctx.now,
        verify: { kind: 'replicas', workload: target.workload, desired: c.desired },
      };
    }
    const result = await this.replaceScale(target, this.scaleBody(target, c.desired), false, ctx.signal);
    ctx.log?.('info', 'scaled', { workload: describeRef(target.workload), from: c.current, to: c.desired });
    return {
      action: this.type,
      mechanism: 'scale',
      object: this.objectRef(target, result.metadata?.resourceVersion),
      changes: [{ field: 'spec.replicas', old: String(c.current), new: String(c.desired) }],
      noop: false,
      message: `scaled ${this.describe(target)} ${c.explanation}`,
      executedAt: ctx.now,
      verify: { kind: 'replicas', workload: target.workload, desired: c.desired },
    };
  }

  /** See Executor.verify: readyReplicas == desired (and spec unchanged by anyone else). */
  verify(_request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification> {
    return verifyOutcome(this.deps, execution.verify, ctx);
  }
}
