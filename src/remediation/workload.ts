/**
 * Workloads around a target: resolving a Pod's owning workload through ownerReferences, reading and patching the
 * kinds the executors act on, rollout-status predicates (the same rules `kubectl rollout status` applies), and the
 * one shared `verifyOutcome` that every executor's `verify` delegates to.
 *
 * The predicates are pure (plain objects in, a status out); the rest is thin I/O over the injected clients. Every
 * API call carries the caller's AbortSignal.
 */
import {
  Observable,
  type PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type V1DaemonSet,
  type V1Deployment,
  type V1ObjectMeta,
  type V1OwnerReference,
  type V1Pod,
  type V1ReplicaSet,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { callApi, ExecutorError, isExecutorError } from './errors.js';
import type { ExecutorDeps, ExecutionContext, ObjectRef, PodController, Verification, VerifySpec, WorkloadIdentity } from './types.js';

/** Workload kinds the executors act on (all in apps/v1). */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const;
/** One of WORKLOAD_KINDS. */
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
/** Kinds an executor can read, patch or delete: Pod plus the workloads. */
export type ObjectKind = 'Pod' | WorkloadKind;

/** A workload object with its kind as discriminant. */
export type Workload =
  | { readonly kind: 'Deployment'; readonly object: V1Deployment }
  | { readonly kind: 'StatefulSet'; readonly object: V1StatefulSet }
  | { readonly kind: 'DaemonSet'; readonly object: V1DaemonSet }
  | { readonly kind: 'ReplicaSet'; readonly object: V1ReplicaSet };

/** Any object an executor reads or patches. */
export type KubeObject = V1Pod | V1Deployment | V1StatefulSet | V1DaemonSet | V1ReplicaSet;

/** Annotation `kubectl rollout restart` sets on the pod template; the same one is used here. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
/** Annotation holding a Deployment's / ReplicaSet's revision number. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Label the Deployment controller adds to a ReplicaSet's pod template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** True if `kind` is one of WORKLOAD_KINDS. */
export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** True if `kind` is Pod or a workload kind. */
export function isObjectKind(kind: string): kind is ObjectKind {
  return kind === 'Pod' || isWorkloadKind(kind);
}

/** apiVersion of an ObjectKind. */
export function apiVersionOf(kind: ObjectKind): string {
  return kind === 'Pod' ? 'v1' : 'apps/v1';
}

/** The API group of an apiVersion ('' for the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Request path of an object (and optional subresource), for plans. */
export function objectPath(kind: ObjectKind, namespace: string, name: string, subresource?: string): string {
  const plural: Record<ObjectKind, string> = {
    Pod: 'pods',
    Deployment: 'deployments',
    StatefulSet: 'statefulsets',
    DaemonSet: 'daemonsets',
    ReplicaSet: 'replicasets',
  };
  const prefix = kind === 'Pod' ? '/api/v1' : '/apis/apps/v1';
  const base = `${prefix}/namespaces/${namespace}/${plural[kind]}/${name}`;
  return subresource ? `${base}/${subresource}` : base;
}

// A client-node middleware that hands the caller's AbortSignal to the underlying fetch, so an aborted action also
// cancels the request in flight rather than only refusing the next one.
function signalMiddleware(signal: AbortSignal): ObservableMiddleware {
  return {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

/**
 * Per-call client-node options: the AbortSignal, and the Content-Type header when `patchType` is given (typed
 * patch calls need it: without it the server answers 415).
 */
export function requestOptions(signal: AbortSignal, patchType?: PatchStrategy): ConfigurationOptions {
  const base: ConfigurationOptions = { middleware: [signalMiddleware(signal)], middlewareMergeStrategy: 'append' };
  return patchType === undefined ? base : setHeaderOptions('Content-Type', patchType, base);
}

/** Converts a client-node model instance into plain JSON (what the API server sent, modulo unknown fields). */
export function toPlain(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** `Kind namespace/name`, for messages. */
export function describeRef(ref: { readonly kind: string; readonly namespace: string; readonly name: string }): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** The controller ownerReference of an object, if it has one. */
export function controllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return meta?.ownerReferences?.find((o) => o.controller === true);
}

/** The controller that recreates this pod (ReplicaSet, StatefulSet, DaemonSet, Job, …), if any. Pure. */
export function podController(pod: V1Pod): PodController | undefined {
  const c = controllerOf(pod.metadata);
  return c ? { kind: c.kind, name: c.name, uid: c.uid } : undefined;
}

/** True if the pod is Running and its Ready condition is True. Pure. */
export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Waiting reasons that mean a pod will not become Ready without intervention. */
const STUCK_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** The first container waiting reason that means the pod is stuck (CrashLoopBackOff, ImagePullBackOff …). Pure. */
export function stuckReason(pod: V1Pod): string | undefined {
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const reason = cs.state?.waiting?.reason;
    if (reason !== undefined && STUCK_REASONS.has(reason)) return `${cs.name}: ${reason}`;
  }
  return undefined;
}

/** A label selector string matching exactly these labels (`a=b,c=d`, keys sorted). */
export function labelSelectorFor(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  if (!labels) return undefined;
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? undefined : keys.map((k) => `${k}=${labels[k] ?? ''}`).join(',');
}

/** Identity of a workload object (kind, namespace, name, uid). Throws if the object lacks metadata. */
export function workloadIdentity(w: Workload): WorkloadIdentity {
  const m = w.object.metadata;
  if (!m?.name || !m.namespace || !m.uid) throw new ExecutorError('Transient', `${w.kind} without name/namespace/uid in API response`);
  return { kind: w.kind, namespace: m.namespace, name: m.name, uid: m.uid };
}

/** ObjectRef of an object of a known kind, with its current uid and resourceVersion. */
export function refOf(kind: ObjectKind, obj: KubeObject): ObjectRef {
  const m = obj.metadata;
  return {
    apiVersion: apiVersionOf(kind),
    kind,
    namespace: m?.namespace ?? '',
    name: m?.name ?? '',
    ...(m?.uid ? { uid: m.uid } : {}),
    ...(m?.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
  };
}

/** Reads a Pod or a workload. 404 → TargetGone. */
export async function readObject(
  deps: ExecutorDeps,
  kind: ObjectKind,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<KubeObject> {
  const what = `read ${kind} ${namespace}/${name}`;
  const o = requestOptions(signal);
  return callApi({ what, signal }, (): Promise<KubeObject> => {
    switch (kind) {
      case 'Pod':
        return deps.core.readNamespacedPod({ name, namespace }, o);
      case 'Deployment':
        return deps.apps.readNamespacedDeployment({ name, namespace }, o);
      case 'StatefulSet':
        return deps.apps.readNamespacedStatefulSet({ name, namespace }, o);
      case 'DaemonSet':
        return deps.apps.readNamespacedDaemonSet({ name, namespace }, o);
      case 'ReplicaSet':
        return deps.apps.readNamespacedReplicaSet({ name, namespace }, o);
    }
  });
}

/** Reads a workload as a discriminated Workload. 404 → TargetGone. */
export async function readWorkload(
  deps: ExecutorDeps,
  kind: WorkloadKind,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<Workload> {
  const what = `read ${kind} ${namespace}/${name}`;
  const o = requestOptions(signal);
  return callApi({ what, signal }, async (): Promise<Workload> => {
    switch (kind) {
      case 'Deployment':
        return { kind, object: await deps.apps.readNamespacedDeployment({ name, namespace }, o) };
      case 'StatefulSet':
        return { kind, object: await deps.apps.readNamespacedStatefulSet({ name, namespace }, o) };
      case 'DaemonSet':
        return { kind, object: await deps.apps.readNamespacedDaemonSet({ name, namespace }, o) };
      case 'ReplicaSet':
        return { kind, object: await deps.apps.readNamespacedReplicaSet({ name, namespace }, o) };
    }
  });
}

/** Options of patchObject. */
export interface PatchOptions {
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  /** Description for error messages, e.g. `rollout restart Deployment shop/web`. */
  readonly what: string;
}

/** Patches a Pod or workload with the given patch type (server-side dry run when `dryRun`). Maps API errors. */
export async function patchObject(
  deps: ExecutorDeps,
  kind: ObjectKind,
  namespace: string,
  name: string,
  body: unknown,
  patchType: PatchStrategy,
  options: PatchOptions,
): Promise<KubeObject> {
  const o = requestOptions(options.signal, patchType);
  const dry = options.dryRun ? { dryRun: 'All' } : {};
  const p = { name, namespace, body, ...dry };
  return callApi({ what: options.what, signal: options.signal }, (): Promise<KubeObject> => {
    switch (kind) {
      case 'Pod':
        return deps.core.patchNamespacedPod(p, o);
      case 'Deployment':
        return deps.apps.patchNamespacedDeployment(p, o);
      case 'StatefulSet':
        return deps.apps.patchNamespacedStatefulSet(p, o);
      case 'DaemonSet':
        return deps.apps.patchNamespacedDaemonSet(p, o);
      case 'ReplicaSet':
        return deps.apps.patchNamespacedReplicaSet(p, o);
    }
  });
}

/** Throws StaleDecision when the object's uid differs from the expected one (the object was recreated). */
export function assertUid(expected: string | undefined, obj: KubeObject, what: string): void {
  const actual = obj.metadata?.uid;
  if (expected !== undefined && expected !== '' && actual !== expected) {
    throw new ExecutorError(
      'StaleDecision',
      `${what} was deleted and recreated since the decision (uid ${expected} expected, found ${actual ?? 'none'})`,
    );
  }
}

/**
 * Throws StaleDecision when an object we do NOT mutate (a pod whose workload is acted on) changed since the
 * decision. Objects we mutate get the server-side precondition instead.
 */
export function assertResourceVersion(expected: string | undefined, obj: KubeObject, what: string): void {
  const actual = obj.metadata?.resourceVersion;
  if (expected !== undefined && expected !== '' && actual !== expected) {
    throw new ExecutorError(
      'StaleDecision',
      `${what} changed since the decision (resourceVersion ${expected} expected, found ${actual ?? 'none'})`,
    );
  }
}

/**
 * The resourceVersion to use as a mutation's precondition: the one observed when the decision was made if the
 * caller passed it, else the one just read (which still protects against a change between read and write).
 */
export function preconditionVersion(expected: string | undefined, obj: KubeObject, what: string): string {
  const rv = expected !== undefined && expected !== '' ? expected : obj.metadata?.resourceVersion;
  if (rv === undefined || rv === '') throw new ExecutorError('Transient', `${what}: object has no resourceVersion`);
  return rv;
}

/**
 * Resolves the workload that owns a pod: Pod → ReplicaSet → Deployment (or the ReplicaSet itself when no
 * Deployment controls it), Pod → StatefulSet, Pod → DaemonSet. Returns undefined for a bare pod or one controlled by
 * something else (a Job, a custom controller). Checks owner uids so a recreated owner is not mistaken for the
 * original (StaleDecision); a vanished owner is TargetGone.
 */
export async function resolveOwningWorkload(deps: ExecutorDeps, pod: V1Pod, signal: AbortSignal): Promise<Workload | undefined> {
  const namespace = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod.metadata);
  if (!owner || groupOf(owner.apiVersion) !== 'apps' || !isWorkloadKind(owner.kind)) return undefined;
  const first = await readWorkload(deps, owner.kind, namespace, owner.name, signal);
  assertUid(owner.uid, first.object, describeRef({ kind: owner.kind, namespace, name: owner.name }));
  if (first.kind !== 'ReplicaSet') return first;
  const rsOwner = controllerOf(first.object.metadata);
  if (!rsOwner || rsOwner.kind !== 'Deployment' || groupOf(rsOwner.apiVersion) !== 'apps') return first;
  const deployment = await readWorkload(deps, 'Deployment', namespace, rsOwner.name, signal);
  assertUid(rsOwner.uid, deployment.object, describeRef({ kind: 'Deployment', namespace, name: rsOwner.name }));
  return deployment;
}

/**
 * The workload an action on `pod` acts on: resolved through ownerReferences, and cross-checked against the
 * workload the caller resolved when the decision was made (a different owner now → StaleDecision).
 */
export async function workloadForPod(
  deps: ExecutorDeps,
  pod: V1Pod,
  expected: ObjectRef | undefined,
  signal: AbortSignal,
): Promise<Workload | undefined> {
  const w = await resolveOwningWorkload(deps, pod, signal);
  if (expected && w) {
    const id = workloadIdentity(w);
    if (expected.kind !== id.kind || expected.name !== id.name || (expected.uid !== undefined && expected.uid !== id.uid)) {
      throw new ExecutorError(
        'StaleDecision',
        `the pod's owner is now ${describeRef(id)} (uid ${id.uid}), not ${describeRef(expected)} as when the decision was made`,
      );
    }
  }
  return w;
}

/** Result of a rollout-status predicate. */
export interface RolloutStatus {
  readonly done: boolean;
  readonly failed: boolean;
  readonly message: string;
}

const progressing = (message: string): RolloutStatus => ({ done: false, failed: false, message });
const complete = (message: string): RolloutStatus => ({ done: true, failed: false, message });
const broken = (message: string): RolloutStatus => ({ done: false, failed: true, message });

/**
 * Deployment rollout status, as `kubectl rollout status` judges it and a little stricter: the controller has
 * observed the latest generation, all desired replicas are updated and available, and no old replicas remain.
 * ProgressDeadlineExceeded is a failure. Pure.
 */
export function deploymentRolloutStatus(d: V1Deployment): RolloutStatus {
  const generation = d.metadata?.generation ?? 0;
  const observed = d.status?.observedGeneration ?? 0;
  if (observed < generation) return progressing(`waiting for the Deployment controller to observe generation ${generation} (observed ${observed})`);
  const progress = d.status?.conditions?.find((c) => c.type === 'Progressing');
  if (progress?.reason === 'ProgressDeadlineExceeded') return broken(`Deployment exceeded its progress deadline: ${progress.message ?? ''}`.trim());
  const want = d.spec?.replicas ?? 1;
  const updated = d.status?.updatedReplicas ?? 0;
  const total = d.status?.replicas ?? 0;
  const available = d.status?.availableReplicas ?? 0;
  if (updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (total > want) return progressing(`${total - want} surplus replicas pending termination`);
  if (available < want) return progressing(`${available} of ${want} updated replicas available`);
  return complete(`rollout complete: ${want} replicas updated and available`);
}

/**
 * StatefulSet rollout status (kubectl's rules): generation observed, all replicas ready, the update revision
 * rolled out (respecting a RollingUpdate partition), and no surplus replicas. OnDelete sets are complete when
 * ready, since their pods only update when deleted. Pure.
 */
export function statefulSetRolloutStatus(s: V1StatefulSet): RolloutStatus {
  const generation = s.metadata?.generation ?? 0;
  const observed = s.status?.observedGeneration ?? 0;
  if (observed === 0 || observed < generation) return progressing(`waiting for the StatefulSet controller to observe generation ${generation}`);
  const want = s.spec?.replicas ?? 1;
  const ready = s.status?.readyReplicas ?? 0;
  const total = s.status?.replicas ?? 0;
  if (ready < want) return progressing(`${ready} of ${want} pods ready`);
  if (total > want) return progressing(`${total - want} surplus pods pending termination`);
  if (s.spec?.updateStrategy?.type === 'OnDelete') return complete(`${want} pods ready (OnDelete update strategy)`);
  const partition = s.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    const updated = s.status?.updatedReplicas ?? 0;
    if (updated < want - partition) return progressing(`${updated} of ${want - partition} pods updated (partition ${partition})`);
    return complete(`partitioned rollout complete: ${updated} pods updated`);
  }
  if (s.status?.updateRevision !== s.status?.currentRevision) {
    return progressing(`rolling update in progress: ${s.status?.updatedReplicas ?? 0} of ${want} pods at revision ${s.status?.updateRevision ?? '?'}`);
  }
  return complete(`rollout complete: ${want} pods ready at revision ${s.status?.currentRevision ?? '?'}`);
}

/** DaemonSet rollout status (kubectl's rules): generation observed, every scheduled pod updated and available. Pure. */
export function daemonSetRolloutStatus(d: V1DaemonSet): RolloutStatus {
  const generation = d.metadata?.generation ?? 0;
  const observed = d.status?.observedGeneration ?? 0;
  if (observed < generation) return progressing(`waiting for the DaemonSet controller to observe generation ${generation}`);
  const want = d.status?.desiredNumberScheduled ?? 0;
  const updated = d.status?.updatedNumberScheduled ?? 0;
  const available = d.status?.numberAvailable ?? 0;
  if (updated < want) return progressing(`${updated} of ${want} pods updated`);
  if (available < want) return progressing(`${available} of ${want} updated pods available`);
  return complete(`rollout complete: ${want} pods updated and available`);
}

/** ReplicaSet status: generation observed, all desired replicas ready, no surplus. Pure. */
export function replicaSetRolloutStatus(r: V1ReplicaSet): RolloutStatus {
  const generation = r.metadata?.generation ?? 0;
  const observed = r.status?.observedGeneration ?? 0;
  if (observed < generation) return progressing(`waiting for the ReplicaSet controller to observe generation ${generation}`);
  const want = r.spec?.replicas ?? 1;
  const ready = r.status?.readyReplicas ?? 0;
  const total = r.status?.replicas ?? 0;
  if (ready < want) return progressing(`${ready} of ${want} replicas ready`);
  if (total > want) return progressing(`${total - want} surplus replicas pending termination`);
  return complete(`${want} replicas ready`);
}

/** Rollout status of any workload. Pure. */
export function rolloutStatus(w: Workload): RolloutStatus {
  switch (w.kind) {
    case 'Deployment':
      return deploymentRolloutStatus(w.object);
    case 'StatefulSet':
      return statefulSetRolloutStatus(w.object);
    case 'DaemonSet':
      return daemonSetRolloutStatus(w.object);
    case 'ReplicaSet':
      return replicaSetRolloutStatus(w.object);
  }
}

/** Desired replicas of a scalable workload (DaemonSets have none: undefined). Pure. */
export function specReplicas(w: Workload): number | undefined {
  return w.kind === 'DaemonSet' ? undefined : (w.object.spec?.replicas ?? 1);
}

/**
 * Whether a scaled workload has reached `desired`: spec still says `desired` (otherwise someone else changed it:
 * failed), the controller observed the change, `desired` replicas exist and all are ready. Pure.
 */
export function replicasStatus(w: Workload, desired: number): RolloutStatus {
  if (w.kind === 'DaemonSet') return broken('a DaemonSet has no replica count');
  const spec = w.object.spec?.replicas ?? 1;
  if (spec !== desired) return broken(`spec.replicas is now ${spec}, not ${desired}: changed by someone else`);
  const generation = w.object.metadata?.generation ?? 0;
  const observed = w.object.status?.observedGeneration ?? 0;
  if (observed < generation) return progressing(`waiting for the ${w.kind} controller to observe generation ${generation}`);
  const ready = w.object.status?.readyReplicas ?? 0;
  const total = w.object.status?.replicas ?? 0;
  if (ready < desired) return progressing(`${ready} of ${desired} replicas ready`);
  if (total > desired) return progressing(`${total - desired} surplus replicas pending termination`);
  return complete(`${desired} of ${desired} replicas ready`);
}

const POLL_PODS_MS = 1000;
const POLL_ROLLOUT_MS = 2000;

function fromRollout(s: RolloutStatus, pollMs: number): Verification {
  if (s.failed) return { status: 'failed', message: s.message };
  if (s.done) return { status: 'healthy', message: s.message };
  return { status: 'progressing', message: s.message, checkAgainMs: pollMs };
}

async function readOrUndefined(
  deps: ExecutorDeps,
  kind: ObjectKind,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<KubeObject | undefined> {
  try {
    return await readObject(deps, kind, namespace, name, signal);
  } catch (e: unknown) {
    if (isExecutorError(e, 'TargetGone')) return undefined;
    throw e;
  }
}

async function verifyPodReplaced(deps: ExecutorDeps, spec: Extract<VerifySpec, { kind: 'pod-replaced' }>, ctx: ExecutionContext): Promise<Verification> {
  const existing = new Set(spec.existingPodUids ?? []);
  const list = await callApi({ what: `list pods in ${spec.namespace}`, signal: ctx.signal }, () =>
    deps.core.listNamespacedPod(
      { namespace: spec.namespace, ...(spec.labelSelector ? { labelSelector: spec.labelSelector } : {}) },
      requestOptions(ctx.signal),
    ),
  );
  const old = list.items.find((p) => p.metadata?.uid === spec.podUid);
  if (!spec.controller) {
    return old
      ? { status: 'progressing', message: `pod ${spec.podName} is still terminating`, checkAgainMs: POLL_PODS_MS }
      : { status: 'healthy', message: `pod ${spec.podName} is gone (it has no controller, so nothing replaces it)` };
  }
  const controllerUid = spec.controller.uid;
  const replacements = list.items.filter(
    (p) =>
      p.metadata?.uid !== spec.podUid &&
      !existing.has(p.metadata?.uid ?? '') &&
      p.metadata?.deletionTimestamp === undefined &&
      controllerOf(p.metadata)?.uid === controllerUid,
  );
  const ready = replacements.find(isPodReady);
  const owner = `${spec.controller.kind} ${spec.controller.name}`;
  if (old) {
    const suffix = ready ? `; replacement ${ready.metadata?.name ?? '?'} is Ready` : '';
    return { status: 'progressing', message: `old pod ${spec.podName} is still terminating${suffix}`, checkAgainMs: POLL_PODS_MS };
  }
  if (ready) {
    return {
      status: 'healthy',
      message: `pod ${spec.podName} is gone; replacement ${ready.metadata?.name ?? '?'} from ${owner} is Running and Ready`,
      replacement: { apiVersion: 'v1', kind: 'Pod', namespace: spec.namespace, name: ready.metadata?.name ?? '', ...(ready.metadata?.uid ? { uid: ready.metadata.uid } : {}) },
    };
  }
  const stuck = replacements.map((p) => ({ p, reason: stuckReason(p) })).find((x) => x.reason !== undefined);
  if (stuck && replacements.every((p) => stuckReason(p) !== undefined)) {
    return { status: 'failed', message: `replacement pod ${stuck.p.metadata?.name ?? '?'} is stuck (${stuck.reason ?? ''})` };
  }
  return {
    status: 'progressing',
    message: replacements.length === 0 ? `waiting for ${owner} to create a replacement pod` : `waiting for a replacement pod from ${owner} to become Ready`,
    checkAgainMs: POLL_PODS_MS,
  };
}

/**
 * The shared verification behind every executor's `verify`: one non-blocking check of `spec` against the live
 * cluster. Throws ExecutorError only for API failures other than 404; a vanished object is a `failed` (or, for
 * `gone`, `healthy`) result.
 */
export async function verifyOutcome(deps: ExecutorDeps, spec: VerifySpec, ctx: ExecutionContext): Promise<Verification> {
  switch (spec.kind) {
    case 'none':
      return { status: 'healthy', message: 'nothing was changed' };
    case 'pod-replaced':
      return verifyPodReplaced(deps, spec, ctx);
    case 'gone': {
      const o = spec.object;
      if (!isObjectKind(o.kind)) return { status: 'failed', message: `cannot verify objects of kind ${o.kind}` };
      const now = await readOrUndefined(deps, o.kind, o.namespace, o.name, ctx.signal);
      if (!now) return { status: 'healthy', message: `${describeRef(o)} is gone` };
      if (now.metadata?.uid !== o.uid) return { status: 'healthy', message: `${describeRef(o)} (uid ${o.uid}) is gone; a new object with that name exists` };
      return { status: 'progressing', message: `${describeRef(o)} is still being deleted`, checkAgainMs: POLL_PODS_MS };
    }
    case 'pod-ready': {
      const pod = (await readOrUndefined(deps, 'Pod', spec.namespace, spec.name, ctx.signal)) as V1Pod | undefined;
      if (!pod || pod.metadata?.uid !== spec.uid) return { status: 'failed', message: `pod ${spec.name} (uid ${spec.uid}) is gone` };
      if (isPodReady(pod)) return { status: 'healthy', message: `pod ${spec.name} is Running and Ready` };
      const stuck = stuckReason(pod);
      if (stuck) return { status: 'failed', message: `pod ${spec.name} is stuck (${stuck})` };
      return { status: 'progressing', message: `waiting for pod ${spec.name} to become Ready`, checkAgainMs: POLL_PODS_MS };
    }
    case 'rollout':
      return verifyRollout(deps, spec, ctx);
    case 'replicas': {
      const w = await readWorkloadOrUndefined(deps, spec.workload, ctx.signal);
      if (!w) return { status: 'failed', message: `${describeRef(spec.workload)} (uid ${spec.workload.uid}) is gone` };
      return fromRollout(replicasStatus(w, spec.desired), POLL_ROLLOUT_MS);
    }
  }
}

async function readWorkloadOrUndefined(deps: ExecutorDeps, id: WorkloadIdentity, signal: AbortSignal): Promise<Workload | undefined> {
  try {
    const w = await readWorkload(deps, id.kind, id.namespace, id.name, signal);
    return w.object.metadata?.uid === id.uid ? w : undefined;
  } catch (e: unknown) {
    if (isExecutorError(e, 'TargetGone')) return undefined;
    throw e;
  }
}

async function verifyRollout(deps: ExecutorDeps, spec: Extract<VerifySpec, { kind: 'rollout' }>, ctx: ExecutionContext): Promise<Verification> {
  const w = await readWorkloadOrUndefined(deps, spec.workload, ctx.signal);
  if (!w) return { status: 'failed', message: `${describeRef(spec.workload)} (uid ${spec.workload.uid}) is gone` };
  const observed = w.object.status?.observedGeneration ?? 0;
  if (observed < spec.generation) {
    return { status: 'progressing', message: `waiting for the ${w.kind} controller to observe generation ${spec.generation}`, checkAgainMs: POLL_ROLLOUT_MS };
  }
  const status = rolloutStatus(w);
  if (!status.done) return fromRollout(status, POLL_ROLLOUT_MS);
  if (spec.replicaSetUid !== undefined && w.kind === 'Deployment') {
    const current = w.object.metadata?.annotations?.[REVISION_ANNOTATION];
    const list = await callApi({ what: `list ReplicaSets in ${spec.workload.namespace}`, signal: ctx.signal }, () =>
      deps.apps.listNamespacedReplicaSet({ namespace: spec.workload.namespace }, requestOptions(ctx.signal)),
    );
    const rs = list.items.find((r) => r.metadata?.uid === spec.replicaSetUid);
    const rsRevision = rs?.metadata?.annotations?.[REVISION_ANNOTATION];
    if (!rs || rsRevision !== current) {
      const moved = (w.object.metadata?.generation ?? 0) > spec.generation;
      return moved
        ? { status: 'failed', message: `the Deployment was changed again after the rollback (now at revision ${current ?? '?'})` }
        : { status: 'progressing', message: `waiting for the Deployment to adopt the rolled-back ReplicaSet`, checkAgainMs: POLL_ROLLOUT_MS };
    }
  }
  if (spec.oldPod) {
    const pod = await readOrUndefined(deps, 'Pod', spec.workload.namespace, spec.oldPod.name, ctx.signal);
    if (pod && pod.metadata?.uid === spec.oldPod.uid) {
      return { status: 'progressing', message: `rollout complete; old pod ${spec.oldPod.name} is still terminating`, checkAgainMs: POLL_PODS_MS };
    }
    return { status: 'healthy', message: `${status.message}; old pod ${spec.oldPod.name} is gone` };
  }
  return { status: 'healthy', message: status.message };
}

/**
 * The verification for "this pod goes away and its controller replaces it": remembers the controller, the pod's
 * labels (as a list filter) and the controller's other pods that exist now, so a later check counts only a new
 * pod as the replacement.
 */
export async function podReplacementSpec(deps: ExecutorDeps, pod: V1Pod, signal: AbortSignal): Promise<Extract<VerifySpec, { kind: 'pod-replaced' }>> {
  const namespace = pod.metadata?.namespace ?? '';
  const controller = podController(pod);
  const labelSelector = labelSelectorFor(pod.metadata?.labels);
  const base = { kind: 'pod-replaced' as const, namespace, podName: pod.metadata?.name ?? '', podUid: pod.metadata?.uid ?? '' };
  if (!controller) return base;
  const list = await callApi({ what: `list pods in ${namespace}`, signal }, () =>
    deps.core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }, requestOptions(signal)),
  );
  const existingPodUids = list.items
    .filter((p) => controllerOf(p.metadata)?.uid === controller.uid && p.metadata?.uid !== base.podUid)
    .map((p) => p.metadata?.uid ?? '')
    .filter((u) => u !== '')
    .sort();
  return { ...base, controller, ...(labelSelector ? { labelSelector } : {}), existingPodUids };
}

/** A problem found by an executor's validation, with the error code plan/execute throw for it. */
export interface Problem {
  readonly code: 'Unsupported' | 'Invalid';
  readonly message: string;
}

/** Kinds that are cluster-scoped (never acted on); named so refusals can say why. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'RuntimeClass',
  'IngressClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'CertificateSigningRequest',
]);

/**
 * Checks common to every executor: the action type matches, the target is namespaced, and its kind (and API group)
 * is one this executor handles. Pure.
 */
export function targetProblems(
  request: { readonly target: { readonly apiVersion: string; readonly kind: string; readonly namespace: string; readonly name: string }; readonly action: { readonly type: string } },
  type: string,
  kinds: readonly ObjectKind[],
): Problem[] {
  const out: Problem[] = [];
  const t = request.target;
  if (request.action.type !== type) out.push({ code: 'Invalid', message: `action type ${request.action.type} given to the ${type} executor` });
  if (CLUSTER_SCOPED_KINDS.has(t.kind)) {
    out.push({ code: 'Unsupported', message: `${t.kind} is cluster-scoped: ${type} never acts on cluster-scoped objects` });
    return out;
  }
  if (!t.namespace) out.push({ code: 'Unsupported', message: `${t.kind} ${t.name} has no namespace: ${type} only acts on namespaced objects` });
  if (!t.name) out.push({ code: 'Invalid', message: 'target has no name' });
  if (!(kinds as readonly string[]).includes(t.kind)) {
    out.push({ code: 'Unsupported', message: `${type} does not support ${t.kind} targets (supported: ${kinds.join(', ')})` });
  } else if (groupOf(t.apiVersion) !== groupOf(apiVersionOf(t.kind as ObjectKind))) {
    out.push({ code: 'Unsupported', message: `${t.kind} of apiVersion ${t.apiVersion} is not supported (expected ${apiVersionOf(t.kind as ObjectKind)})` });
  }
  return out;
}

/** Throws the first problem as an ExecutorError (all messages joined). */
export function throwIfProblems(problems: readonly Problem[]): void {
  const first = problems[0];
  if (first) throw new ExecutorError(first.code, problems.map((p) => p.message).join('; '));
}

/** Refuses dry-run requests in execute: a dry run must never mutate. */
export function assertNotDryRun(request: { readonly dryRun: boolean }, type: string): void {
  if (request.dryRun) throw new ExecutorError('Invalid', `${type}: execute called for a dry-run request; only plan may run in dry run`);
}
