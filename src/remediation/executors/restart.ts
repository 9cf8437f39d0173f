/**
 * The restart executor.
 *
 * Pod targets:
 * - strategy rolling/graceful → the Eviction API (policy/v1), which respects PodDisruptionBudgets. A 429 is
 *   PdbBlocked and is final: we never delete around a budget (argo-rollouts #908). Only when the eviction API
 *   itself is unavailable (404/405 for the subresource) and `allowDeleteFallback` is set do we delete instead.
 * - strategy recreate → delete the pod with uid + resourceVersion preconditions.
 * - a pod of a Deployment with exactly one replica → a rollout restart of the Deployment instead of an eviction:
 *   the Deployment surges a new pod before stopping the old one, so the app never has zero pods (karpenter #1599).
 *   StatefulSets are excluded on purpose: their rollout deletes the pod before recreating it, so it would gain
 *   nothing over an eviction and would skip the PodDisruptionBudget.
 *
 * Workload targets (Deployment, StatefulSet, DaemonSet): a rollout restart, i.e. the pod template annotation
 * `kubectl.kubernetes.io/restartedAt` set to ctx.now, as `kubectl rollout restart` does, with a resourceVersion
 * precondition.
 */
import { ApiException, PatchStrategy, type V1DeleteOptions, type V1Eviction, type V1Pod } from '@kubernetes/client-node';
import { callApi, ExecutorError, mapApiError, parseApiStatus } from '../errors.js';
import type { Change, Execution, ExecutionContext, ExecutionRequest, Executor, ExecutorDeps, Plan, PlannedCall, Verification, VerifySpec } from '../types.js';
import {
  assertNotDryRun,
  assertResourceVersion,
  assertUid,
  describeRef,
  objectPath,
  patchObject,
  podReplacementSpec,
  preconditionVersion,
  readObject,
  readWorkload,
  refOf,
  requestOptions,
  RESTARTED_AT_ANNOTATION,
  targetProblems,
  throwIfProblems,
  verifyOutcome,
  workloadForPod,
  workloadIdentity,
  type ObjectKind,
  type Problem,
  type Workload,
} from '../workload.js';
import { diffObjects } from './patch.js';

const RESTART_KINDS: readonly ObjectKind[] = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet'];

/** Immediate re-reads after a refused resourceVersion precondition (see RestartExecutor.execute). */
export const CONFLICT_RETRIES = 3;

/**
 * The restartedAt value for `now`: RFC 3339 in UTC without fractional seconds, the format kubectl writes
 * (`time.Now().Format(time.RFC3339)`). Formatting a given instant, not reading the clock. Pure.
 */
export function restartedAtValue(now: number): string {
  return new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The merge patch of a rollout restart, with the resourceVersion precondition. Pure. */
export function rolloutRestartPatch(now: number, resourceVersion: string): Record<string, unknown> {
  return {
    metadata: { resourceVersion },
    spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAtValue(now) } } } },
  };
}

type RolloutTarget = Extract<Workload, { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' }>;

/** How a restart will be carried out, decided from the live objects. */
type RestartDecision =
  | { readonly mechanism: 'rollout-restart'; readonly workload: RolloutTarget; readonly resourceVersion: string; readonly pod?: V1Pod; readonly text: Wording }
  | { readonly mechanism: 'evict' | 'delete'; readonly pod: V1Pod; readonly uid: string; readonly resourceVersion: string; readonly text: Wording }
  | { readonly mechanism: 'none'; readonly pod: V1Pod; readonly text: Wording };

/** What a plan says it would do, and what an execution says it did. */
interface Wording {
  readonly plan: string;
  readonly done: string;
}

function evictionBody(pod: V1Pod, uid: string, resourceVersion: string, grace: number | undefined, dryRun: boolean): V1Eviction {
  return {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '' },
    deleteOptions: {
      preconditions: { uid, resourceVersion },
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      ...(dryRun ? { dryRun: ['All'] } : {}),
    },
  };
}

// DELETE ignores query parameters when a body is sent (the API server decodes options from one or the other), so
// dryRun, grace period and preconditions all travel in the body.
function podDeleteBody(uid: string, resourceVersion: string, grace: number | undefined, dryRun: boolean): V1DeleteOptions {
  return {
    preconditions: { uid, resourceVersion },
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    ...(dryRun ? { dryRun: ['All'] } : {}),
  };
}

/** Whether an eviction failure means "the eviction subresource does not exist here" rather than "no such pod". */
function evictionUnavailable(e: unknown, podName: string): boolean {
  if (!(e instanceof ApiException)) return false;
  const code = (e as ApiException<unknown>).code;
  if (code === 405) return true;
  if (code !== 404) return false;
  const status = parseApiStatus((e as ApiException<unknown>).body);
  // A missing pod is reported as NotFound for kind "pods" with the pod's name; anything else is a missing route.
  return !(status?.details?.kind === 'pods' && status.details.name === podName);
}

/**
 * Restarts a pod (evict / delete / rollout restart of a single-replica Deployment) or a workload (rollout restart).
 * Throws PdbBlocked when a PodDisruptionBudget refuses the eviction (plan included: the dry-run eviction is checked
 * against budgets too), StaleDecision on a failed precondition, TargetGone when the target vanished.
 */
export class RestartExecutor implements Executor {
  readonly type = 'restart' as const;

  constructor(private readonly deps: ExecutorDeps) {}

  private problems(request: ExecutionRequest): Problem[] {
    return targetProblems(request, this.type, RESTART_KINDS);
  }

  /** See Executor.validate. */
  validate(request: ExecutionRequest): string[] {
    return this.problems(request).map((p) => p.message);
  }

  private async decide(request: ExecutionRequest, ctx: ExecutionContext): Promise<RestartDecision> {
    throwIfProblems(this.problems(request));
    const t = request.target;
    const strategy = request.action.restartAction?.strategy ?? 'rolling';
    if (t.kind !== 'Pod') {
      const w = (await readWorkload(this.deps, t.kind as RolloutTarget['kind'], t.namespace, t.name, ctx.signal)) as RolloutTarget;
      assertUid(t.uid, w.object, describeRef(t));
      return {
        mechanism: 'rollout-restart',
        workload: w,
        resourceVersion: preconditionVersion(t.resourceVersion, w.object, describeRef(t)),
        text: { plan: `would rollout-restart ${describeRef(t)}`, done: `rollout-restarted ${describeRef(t)}` },
      };
    }
    const pod = (await readObject(this.deps, 'Pod', t.namespace, t.name, ctx.signal)) as V1Pod;
    assertUid(t.uid, pod, describeRef(t));
    const uid = pod.metadata?.uid ?? '';
    if (pod.metadata?.deletionTimestamp) {
      const already = `pod ${t.name} is already terminating`;
      return { mechanism: 'none', pod, text: { plan: `nothing to do: ${already}`, done: `nothing done: ${already}` } };
    }
    if (strategy === 'recreate') {
      return { mechanism: 'delete', pod, uid, resourceVersion: preconditionVersion(t.resourceVersion, pod, describeRef(t)), text: { plan: `would delete pod ${t.name} (strategy recreate)`, done: `deleted pod ${t.name} (strategy recreate)` } };
    }
    const w = await workloadForPod(this.deps, pod, request.workload, ctx.signal);
    if (w?.kind === 'Deployment' && (w.object.spec?.replicas ?? 1) === 1) {
      // The pod itself is not mutated here, so its version is checked by hand; the Deployment gets the precondition.
      assertResourceVersion(t.resourceVersion, pod, describeRef(t));
      const strategyType = w.object.spec?.strategy?.type;
      const surge = w.object.spec?.strategy?.rollingUpdate?.maxSurge;
      const single =
        `a rollout restart instead of an eviction: Deployment ${w.object.metadata?.name ?? '?'} has 1 replica, ` +
        'so it surges a new pod before the old one stops';
      const caveat =
        strategyType === 'Recreate' || surge === 0 || surge === '0%'
          ? ` (note: its ${strategyType === 'Recreate' ? 'Recreate strategy' : 'maxSurge 0'} stops the old pod before the new one starts)`
          : '';
      return {
        mechanism: 'rollout-restart',
        workload: w,
        pod,
        resourceVersion: preconditionVersion(request.workload?.resourceVersion, w.object, describeRef(workloadIdentity(w))),
        text: {
          plan: `would restart pod ${t.name} by ${single}${caveat}`,
          done: `restarted pod ${t.name} by ${single}${caveat}`,
        },
      };
    }
    return {
      mechanism: 'evict',
      pod,
      uid,
      resourceVersion: preconditionVersion(t.resourceVersion, pod, describeRef(t)),
      text: { plan: `would evict pod ${t.name} through the Eviction API (strategy ${strategy})`, done: `evicted pod ${t.name} (strategy ${strategy})` },
    };
  }

  private grace(request: ExecutionRequest): number | undefined {
    return request.action.restartAction?.gracePeriodSeconds;
  }

  private async removePod(
    request: ExecutionRequest,
    d: Extract<RestartDecision, { mechanism: 'evict' | 'delete' }>,
    dryRun: boolean,
    ctx: ExecutionContext,
  ): Promise<{ mechanism: 'evict' | 'delete'; call: PlannedCall; note: string }> {
    const name = d.pod.metadata?.name ?? '';
    const namespace = d.pod.metadata?.namespace ?? '';
    const grace = this.grace(request);
    if (d.mechanism === 'delete') {
      const call = await this.deletePod(name, namespace, d, grace, dryRun, ctx);
      return { mechanism: 'delete', call, note: '' };
    }
    const body = evictionBody(d.pod, d.uid, d.resourceVersion, grace, dryRun);
    const call: PlannedCall = { method: 'POST', path: objectPath('Pod', namespace, name, 'eviction'), body: evictionBody(d.pod, d.uid, d.resourceVersion, grace, false) };
    const what = `evict pod ${namespace}/${name}${dryRun ? ' (dry run)' : ''}`;
    if (ctx.signal.aborted) throw new ExecutorError('Aborted', `${what}: aborted before the call`);
    try {
      await this.deps.core.createNamespacedPodEviction({ name, namespace, body, ...(dryRun ? { dryRun: 'All' } : {}) }, requestOptions(ctx.signal));
      return { mechanism: 'evict', call, note: '' };
    } catch (e: unknown) {
      if (!evictionUnavailable(e, name)) throw mapApiError(e, { what, eviction: true, signal: ctx.signal });
      const code = e instanceof ApiException ? (e as ApiException<unknown>).code : 0;
      if (request.action.restartAction?.allowDeleteFallback !== true) {
        throw new ExecutorError('Unsupported', `${what}: the Eviction API is not available (HTTP ${code}) and allowDeleteFallback is off`, { cause: e, httpStatus: code });
      }
      ctx.log?.('warn', 'eviction API unavailable; deleting the pod instead (allowDeleteFallback)', { pod: `${namespace}/${name}`, status: code });
      const fallback = await this.deletePod(name, namespace, d, grace, dryRun, ctx);
      return { mechanism: 'delete', call: fallback, note: ` instead of evicting it: the Eviction API is not available (HTTP ${code}) and allowDeleteFallback permits a delete` };
    }
  }

  private async deletePod(
    name: string,
    namespace: string,
    d: { readonly uid: string; readonly resourceVersion: string },
    grace: number | undefined,
    dryRun: boolean,
    ctx: ExecutionContext,
  ): Promise<PlannedCall> {
    const body = podDeleteBody(d.uid, d.resourceVersion, grace, dryRun);
    await callApi({ what: `delete pod ${namespace}/${name}${dryRun ? ' (dry run)' : ''}`, signal: ctx.signal }, () =>
      this.deps.core.deleteNamespacedPod({ name, namespace, body }, requestOptions(ctx.signal)),
    );
    return { method: 'DELETE', path: objectPath('Pod', namespace, name), body: podDeleteBody(d.uid, d.resourceVersion, grace, false) };
  }

  private async rolloutRestart(
    d: Extract<RestartDecision, { mechanism: 'rollout-restart' }>,
    dryRun: boolean,
    ctx: ExecutionContext,
  ): Promise<{ after: Workload['object']; changes: Change[]; call: PlannedCall }> {
    const id = workloadIdentity(d.workload);
    const body = rolloutRestartPatch(ctx.now, d.resourceVersion);
    const after = (await patchObject(this.deps, id.kind, id.namespace, id.name, body, PatchStrategy.MergePatch, {
      dryRun,
      signal: ctx.signal,
      what: `rollout restart ${describeRef(id)}${dryRun ? ' (dry run)' : ''}`,
    })) as Workload['object'];
    return {
      after,
      changes: diffObjects(d.workload.object, after),
      call: { method: 'PATCH', path: objectPath(id.kind, id.namespace, id.name), contentType: PatchStrategy.MergePatch, body },
    };
  }

  private podChange(pod: V1Pod, mechanism: 'evict' | 'delete'): Change {
    return { field: `pods/${pod.metadata?.name ?? '?'}`, old: `${pod.status?.phase ?? 'Unknown'} (uid ${pod.metadata?.uid ?? '?'})`, new: mechanism === 'evict' ? 'evicted' : 'deleted' };
  }

  /** See Executor.plan: dry-run eviction (checked against PodDisruptionBudgets), dry-run delete, or dry-run patch. */
  async plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan> {
    const d = await this.decide(request, ctx);
    switch (d.mechanism) {
      case 'none':
        return { action: this.type, mechanism: 'none', object: refOf('Pod', d.pod), changes: [], calls: [], noop: true, serverDryRun: false, message: d.text.plan };
      case 'rollout-restart': {
        const r = await this.rolloutRestart(d, true, ctx);
        return {
          action: this.type,
          mechanism: 'rollout-restart',
          object: refOf(d.workload.kind, d.workload.object),
          changes: r.changes,
          calls: [r.call],
          noop: r.changes.length === 0,
          serverDryRun: true,
          message: d.text.plan,
        };
      }
      case 'evict':
      case 'delete': {
        const r = await this.removePod(request, d, true, ctx);
        return {
          action: this.type,
          mechanism: r.mechanism,
          object: refOf('Pod', d.pod),
          changes: [this.podChange(d.pod, r.mechanism)],
          calls: [r.call],
          noop: false,
          serverDryRun: true,
          message: r.mechanism === d.mechanism ? d.text.plan : `would delete pod ${d.pod.metadata?.name ?? '?'}${r.note}`,
        };
      }
    }
  }

  /**
   * See Executor.execute. The mutation carries the resourceVersion read a moment before (and the target's uid). When
   * the API refuses that precondition (409) the mutation did not happen; the usual cause is not a changed decision
   * but a status that moved on between our read and the call — a crash-looping pod's status changes every few
   * seconds, and on a loaded API server the gap is long enough to lose that race again and again (measured in the
   * fault suite: half the evictions of crash-looping pods refused). So it reads the object again and retries at once,
   * at most {@link CONFLICT_RETRIES} times; the uid check still refuses a pod or workload that was replaced meanwhile.
   */
  async execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    assertNotDryRun(request, this.type);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.executeOnce(request, ctx);
      } catch (e: unknown) {
        if (!(e instanceof ExecutorError && e.code === 'StaleDecision' && e.httpStatus === 409) || attempt >= CONFLICT_RETRIES || ctx.signal.aborted) throw e;
        ctx.log?.('info', 'the object changed between our read and the call; reading it again', { target: describeRef(request.target), attempt: attempt + 1 });
      }
    }
  }

  private async executeOnce(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    const d = await this.decide(request, ctx);
    switch (d.mechanism) {
      case 'none':
        return {
          action: this.type,
          mechanism: 'none',
          object: refOf('Pod', d.pod),
          changes: [],
          noop: true,
          message: d.text.done,
          executedAt: ctx.now,
          verify: await podReplacementSpec(this.deps, d.pod, ctx.signal),
        };
      case 'rollout-restart': {
        const r = await this.rolloutRestart(d, false, ctx);
        const id = workloadIdentity(d.workload);
        const verify: VerifySpec = {
          kind: 'rollout',
          workload: id,
          generation: r.after.metadata?.generation ?? 0,
          ...(d.pod ? { oldPod: { name: d.pod.metadata?.name ?? '', uid: d.pod.metadata?.uid ?? '' } } : {}),
        };
        ctx.log?.('info', 'rollout restart', { workload: describeRef(id), viaPod: d.pod?.metadata?.name });
        return {
          action: this.type,
          mechanism: 'rollout-restart',
          object: refOf(d.workload.kind, r.after),
          changes: r.changes,
          noop: r.changes.length === 0,
          message: d.text.done,
          executedAt: ctx.now,
          verify,
        };
      }
      case 'evict':
      case 'delete': {
        // Taken before acting, so the pods that already exist are never mistaken for the replacement.
        const verify = await podReplacementSpec(this.deps, d.pod, ctx.signal);
        const r = await this.removePod(request, d, false, ctx);
        ctx.log?.('info', r.mechanism === 'evict' ? 'evicted pod' : 'deleted pod', { pod: `${request.target.namespace}/${request.target.name}` });
        return {
          action: this.type,
          mechanism: r.mechanism,
          object: refOf('Pod', d.pod),
          changes: [this.podChange(d.pod, r.mechanism)],
          noop: false,
          message: r.mechanism === d.mechanism ? d.text.done : `deleted pod ${d.pod.metadata?.name ?? '?'}${r.note}`,
          executedAt: ctx.now,
          verify,
        };
      }
    }
  }

  /**
   * See Executor.verify: for a pod, the old pod (uid) is gone and a replacement from its controller is Running and
   * Ready (a bare pod: gone); for a rollout restart, the rollout is complete (and the old pod gone).
   */
  verify(_request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification> {
    return verifyOutcome(this.deps, execution.verify, ctx);
  }
}
