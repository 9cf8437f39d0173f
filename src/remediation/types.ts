/**
 * The executor contract: one Executor per action type (restart, scale, patch, delete, rollback), all behind the
 * same four calls (DESIGN.md convention 7):
 *
 * - `validate(request)` — pure: what is wrong with this action for this target (empty = fine). No I/O.
 * - `plan(request, ctx)` — reads the cluster and computes the exact change without mutating anything, using the
 *   API server's dry run (`dryRun: All`) wherever the API offers it. Dry-run HealingActions stop here.
 * - `execute(request, ctx)` — makes the change, guarded by resourceVersion/uid preconditions, and says what to
 *   verify. Never called for dry-run requests (it refuses with Invalid if it is).
 * - `verify(request, execution, ctx)` — ONE non-blocking check of the outcome; the caller polls until `healthy`,
 *   `failed`, or its own timeout.
 *
 * Executors never read the clock or the environment: `now` and an AbortSignal come in the ExecutionContext.
 * Failures are thrown as ExecutorError with a stable code (see errors.ts). Plans and executions are plain JSON
 * data, so the HealingAction controller can journal them in status and verify after an operator restart.
 */
import type { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ActionTemplate, ActionType } from '../api/v1alpha1/common.js';
import type { TargetRef } from '../metrics/types.js';

/** A namespaced object as the executors address it; resourceVersion is the version observed, when known. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/**
 * The target of an action as seen when the decision was made. `resourceVersion`, when given, becomes the
 * precondition of the mutation (stale → StaleDecision); when omitted, the executor guards with the uid (if given)
 * and the resourceVersion it reads just before mutating.
 */
export type ExecutionTarget = TargetRef & { readonly resourceVersion?: string };

/** What to do: the target, the action template, the owning workload if already resolved, and dry run or not. */
export interface ExecutionRequest {
  readonly target: ExecutionTarget;
  readonly action: ActionTemplate;
  /**
   * The workload that owns the target (Pod → Deployment/StatefulSet/DaemonSet/ReplicaSet), if the caller resolved
   * it. When absent and the action needs it, the executor resolves it through ownerReferences. A resourceVersion
   * here is used as the precondition for mutations of the workload.
   */
  readonly workload?: ObjectRef;
  /** Dry run: only `plan` may be called. */
  readonly dryRun: boolean;
}

/** Severity of an executor log line. */
export type LogLevel = 'debug' | 'info' | 'warn';

/** Per-call context. `now` is ms since the epoch, read once by the caller; executors never read a clock. */
export interface ExecutionContext {
  readonly now: number;
  /** Aborts in-flight API calls; an aborted call fails with ExecutorError code Aborted. */
  readonly signal: AbortSignal;
  /** Optional structured log sink. */
  readonly log?: (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void;
}

/** One changed field: `field` is a path like `spec.template.spec.containers[0].env`; values rendered as text. */
export interface Change {
  readonly field: string;
  readonly old?: string;
  readonly new?: string;
}

/** How the change is made. */
export type Mechanism = 'evict' | 'delete' | 'rollout-restart' | 'scale' | 'patch' | 'rollback' | 'none';

/** One API call a plan would make (what `execute` will send, modulo the resourceVersion read at that time). */
export interface PlannedCall {
  readonly method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Request path, e.g. `/apis/apps/v1/namespaces/shop/deployments/web/scale`. */
  readonly path: string;
  /** Content-Type for PATCH (json-patch, merge-patch or strategic-merge-patch). */
  readonly contentType?: string;
  readonly body?: unknown;
}

/** The exact change an action would make, computed without mutating anything. */
export interface Plan {
  readonly action: ActionType;
  readonly mechanism: Mechanism;
  /** The object that would be changed (may be the target's owning workload), with the version read. */
  readonly object: ObjectRef;
  readonly changes: readonly Change[];
  readonly calls: readonly PlannedCall[];
  /** True when executing would change nothing (e.g. scale clamped to the current count). */
  readonly noop: boolean;
  /** True when the API server validated the change in a server-side dry run. */
  readonly serverDryRun: boolean;
  readonly message: string;
}

/** A workload whose rollout is checked, with its owner-independent identity. */
export interface WorkloadIdentity {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The controller that recreates a pod, used to find its replacement. */
export interface PodController {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** What `verify` must check after an execution. Plain data, safe to journal. */
export type VerifySpec =
  /** Nothing changed (noop): healthy at once. */
  | { readonly kind: 'none' }
  /** The pod (uid) is gone and, when it had a controller, a replacement from that controller is Running and Ready. */
  | {
      readonly kind: 'pod-replaced';
      readonly namespace: string;
      readonly podName: string;
      readonly podUid: string;
      readonly controller?: PodController;
      /** Labels of the old pod: a replacement from the same controller carries the same template labels. */
      readonly labelSelector?: string;
      /** Uids of the controller's other pods when the action ran: they are not replacements. */
      readonly existingPodUids?: readonly string[];
    }
  /** The object (uid) is gone from the API; for a controlled pod also a replacement Ready (see pod-replaced). */
  | { readonly kind: 'gone'; readonly object: ObjectRef & { readonly uid: string } }
  /**
   * The workload's rollout is complete at or after `generation`. For a rollback, the Deployment must be running
   * the ReplicaSet `replicaSetUid`; for a restart of a single-replica pod, the old pod must be gone too.
   */
  | {
      readonly kind: 'rollout';
      readonly workload: WorkloadIdentity;
      readonly generation: number;
      readonly replicaSetUid?: string;
      readonly oldPod?: { readonly name: string; readonly uid: string };
    }
  /** The workload has `desired` replicas, all ready (scale). */
  | { readonly kind: 'replicas'; readonly workload: WorkloadIdentity; readonly desired: number }
  /** The pod (uid) is Running and Ready (patch of a pod). */
  | { readonly kind: 'pod-ready'; readonly namespace: string; readonly name: string; readonly uid: string };

/** What `execute` did: the changes made and what to verify. */
export interface Execution {
  readonly action: ActionType;
  readonly mechanism: Mechanism;
  /** The object changed, with its resourceVersion after the change where the API returned one. */
  readonly object: ObjectRef;
  readonly changes: readonly Change[];
  readonly noop: boolean;
  readonly message: string;
  /** ctx.now when executed. */
  readonly executedAt: number;
  readonly verify: VerifySpec;
}

/** Outcome of one verification check. */
export interface Verification {
  readonly status: 'healthy' | 'progressing' | 'failed';
  readonly message: string;
  /** When `progressing`: a sensible delay before the next check. */
  readonly checkAgainMs?: number;
  /**
   * When `healthy` because the target pod's controller replaced it: the Ready pod that now stands in for it — the
   * object on which to re-check what was wrong with the target.
   */
  readonly replacement?: ObjectRef;
}

/** The action-specific part of every executor. */
export interface Executor {
  readonly type: ActionType;
  /** Problems with this action for this target; empty when it can be planned. Pure, no I/O. */
  validate(request: ExecutionRequest): string[];
  /** The exact change, computed without mutating (server-side dry run where possible). Throws ExecutorError. */
  plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan>;
  /** Makes the change with preconditions. Refuses dry-run requests. Throws ExecutorError. */
  execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution>;
  /** One non-blocking check of the outcome of `execution`. Throws ExecutorError only for API failures. */
  verify(request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification>;
}

/** The CoreV1Api calls the executors use (a Pick, so tests can pass small fakes). */
export type CoreClient = Pick<
  CoreV1Api,
  'readNamespacedPod' | 'listNamespacedPod' | 'createNamespacedPodEviction' | 'deleteNamespacedPod' | 'patchNamespacedPod'
>;

/** The AppsV1Api calls the executors use. */
export type AppsClient = Pick<
  AppsV1Api,
  | 'readNamespacedDeployment'
  | 'readNamespacedStatefulSet'
  | 'readNamespacedDaemonSet'
  | 'readNamespacedReplicaSet'
  | 'listNamespacedReplicaSet'
  | 'patchNamespacedDeployment'
  | 'patchNamespacedStatefulSet'
  | 'patchNamespacedDaemonSet'
  | 'patchNamespacedReplicaSet'
  | 'deleteNamespacedDeployment'
  | 'deleteNamespacedStatefulSet'
  | 'deleteNamespacedDaemonSet'
  | 'deleteNamespacedReplicaSet'
  | 'readNamespacedDeploymentScale'
  | 'readNamespacedStatefulSetScale'
  | 'readNamespacedReplicaSetScale'
  | 'replaceNamespacedDeploymentScale'
  | 'replaceNamespacedStatefulSetScale'
  | 'replaceNamespacedReplicaSetScale'
>;

/** API clients injected into every executor (constructor injection; nothing loads a kubeconfig here). */
export interface ExecutorDeps {
  readonly core: CoreClient;
  readonly apps: AppsClient;
}
