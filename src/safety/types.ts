/**
 * Plain-data vocabulary of the safety rules: the ledger (a projection of HealingAction objects), the input the
 * gate gathers from the live cluster, and the decision. Nothing here does I/O or reads the clock.
 *
 * The ledger lives in the API server — every HealingAction is one entry — so budgets, cooldowns, breakers and
 * in-flight counts are recomputed from objects every time. That is what makes them survive an operator restart
 * and agree between replicas (the earlier implementation kept them in memory and lost them on restart).
 *
 * Optional input fields are typed `?: T | undefined` on purpose: the gate can copy possibly-absent Kubernetes
 * fields (`pod.metadata.labels`) straight in under exactOptionalPropertyTypes.
 */
import type { ActionType } from '../api/v1alpha1/common.js';
import { timestampMs } from '../k8s/time.js';
import type { ActionPhase, BlockReason, HealingAction } from '../api/v1alpha1/healing-action.js';
import type { TargetRef } from '../metrics/types.js';
import type { LabelSelectorLike, Labels } from './label-selector.js';

/** Who proposed an action: a policy rule, or the analysis layer ("AI"). */
export type ActionSource = 'rule' | 'ai';

/** The scale settings of a scale action, enough to tell a scale-down from a scale-up. */
export interface ScaleIntent {
  readonly direction: 'up' | 'down' | 'absolute';
  /** Replicas to add/remove (up/down) or the target count (absolute). */
  readonly replicas: number;
  /** The action's bounds (API defaults apply when absent). */
  readonly minReplicas?: number | undefined;
  readonly maxReplicas?: number | undefined;
}

/**
 * One HealingAction as the safety rules see it. Every field is derivable from the object alone (see
 * {@link toLedgerEntry}); times are ms since the epoch.
 */
export interface LedgerEntry {
  /** metadata.name of the HealingAction. */
  readonly name: string;
  /** metadata.namespace of the HealingAction. */
  readonly namespace: string;
  /** The policy that created it, as "namespace/name" (see {@link policyKey}). */
  readonly policy: string;
  /** spec.trigger.name — the trigger that fired, when a trigger did. */
  readonly trigger?: string | undefined;
  /** spec.targetResource. */
  readonly target: TargetRef;
  /** The workload the action disrupts (owning Deployment/StatefulSet/…), when known. */
  readonly workload?: TargetRef | undefined;
  readonly type: ActionType;
  /** spec.action.scaleAction of a scale action. */
  readonly scale?: ScaleIntent | undefined;
  readonly source: ActionSource;
  /** status.phase; an object without status is Pending. */
  readonly phase: ActionPhase;
  /** status.reason (Blocked: why). */
  readonly reason?: string | undefined;
  /** metadata.creationTimestamp. */
  readonly createdAt: number;
  /** status.startTime: when execution began. */
  readonly startedAt?: number | undefined;
  /** status.completionTime. */
  readonly completedAt?: number | undefined;
  readonly dryRun: boolean;
  /** status.result.success: the verification outcome, when there is one. */
  readonly verified?: boolean | undefined;
}

/**
 * The key of a policy in the ledger and in messages: "namespace/name" for a HealingPolicy,
 * "ClusterHealingPolicy/name" for a cluster-scoped one (no namespace is spelled with capitals, so the two never
 * collide).
 */
export function policyKey(namespace: string, name: string, kind: 'HealingPolicy' | 'ClusterHealingPolicy' = 'HealingPolicy'): string {
  return kind === 'ClusterHealingPolicy' ? `ClusterHealingPolicy/${name}` : `${namespace}/${name}`;
}

/** A policy's identity: its kind, namespace ('' for a ClusterHealingPolicy) and name. */
export interface PolicyId {
  readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
  readonly namespace: string;
  readonly name: string;
}

/** The inverse of policyKey: "ns/name" is a HealingPolicy, "ClusterHealingPolicy/name" a cluster policy. */
export function parsePolicyKey(key: string): PolicyId {
  const slash = key.indexOf('/');
  const first = slash < 0 ? '' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return first === 'ClusterHealingPolicy' ? { kind: 'ClusterHealingPolicy', namespace: '', name } : { kind: 'HealingPolicy', namespace: first, name };
}

/** The identity of a policy object. */
export function policyIdOf(p: { kind: string; metadata: { namespace?: string; name?: string } }): PolicyId {
  return p.kind === 'ClusterHealingPolicy'
    ? { kind: 'ClusterHealingPolicy', namespace: '', name: p.metadata.name ?? '' }
    : { kind: 'HealingPolicy', namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' };
}

/** The identity of the policy a HealingAction names (a HealingPolicy's namespace defaults to the action's own). */
export function actionPolicyId(action: Pick<HealingAction, 'metadata' | 'spec'>): PolicyId {
  const ref = action.spec.policyRef;
  return ref.kind === 'ClusterHealingPolicy'
    ? { kind: 'ClusterHealingPolicy', namespace: '', name: ref.name }
    : { kind: 'HealingPolicy', namespace: ref.namespace ?? action.metadata.namespace ?? '', name: ref.name };
}

/** The ledger key of the policy a HealingAction names (see policyKey). */
export function actionPolicyKey(action: Pick<HealingAction, 'metadata' | 'spec'>): string {
  const id = actionPolicyId(action);
  return policyKey(id.namespace, id.name, id.kind);
}

/**
 * Projects a HealingAction onto a LedgerEntry. Pure; never throws.
 *
 * Returns `undefined` for an object that has not been persisted yet (no name, namespace or creationTimestamp):
 * informers and lists never return such objects, so nothing real is dropped.
 *
 * `workload` is the owning workload of the target. HealingActionSpec has no field for it yet, so the gate has to
 * supply it (from the target's ownerReferences while the target exists). A `spec.workloadRef` field recorded at
 * creation would make the projection complete even after the target pod is gone — see the safety report.
 */
export function toLedgerEntry(action: HealingAction, workload?: TargetRef): LedgerEntry | undefined {
  const { metadata, spec, status } = action;
  const createdAt = timestampMs(metadata.creationTimestamp);
  if (metadata.name === undefined || metadata.namespace === undefined || createdAt === undefined) return undefined;
  const t = spec.targetResource;
  const scale = spec.action.scaleAction;
  return {
    name: metadata.name,
    namespace: metadata.namespace,
    policy: actionPolicyKey(action),
    trigger: spec.trigger?.name,
    target: { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name, ...(t.uid === undefined ? {} : { uid: t.uid }) },
    workload,
    type: spec.action.type,
    scale: scale === undefined ? undefined : { direction: scale.direction, replicas: scale.replicas },
    source: spec.source ?? 'rule',
    phase: status?.phase ?? 'Pending',
    reason: status?.reason,
    createdAt,
    startedAt: timestampMs(status?.startTime),
    completedAt: timestampMs(status?.completionTime),
    dryRun: spec.dryRun ?? false,
    verified: status?.result?.success,
  };
}

/**
 * Phases in which an action has executed (or is executing) — what budgets count. Cancelled counts only with a
 * startTime (see {@link hasExecuted}): a cancellation after execution began may already have mutated the cluster.
 */
export const EXECUTED_PHASES: ReadonlySet<ActionPhase> = new Set<ActionPhase>(['InProgress', 'Verifying', 'Succeeded', 'Failed']);

/**
 * Phases of an action that has passed the gate and not finished: it is disrupting its target right now.
 * Approved is not here: an approved action has not passed the gate yet, and counting it would let two approved
 * actions block each other forever.
 */
export const IN_FLIGHT_PHASES: ReadonlySet<ActionPhase> = new Set<ActionPhase>(['InProgress', 'Verifying']);

/** Phases of an action waiting for the gate (created, awaiting approval, or approved). */
export const QUEUED_PHASES: ReadonlySet<ActionPhase> = new Set<ActionPhase>(['Pending', 'WaitingApproval', 'Approved']);

/** True when the entry executed or is executing, i.e. it consumes budget. */
export function hasExecuted(e: LedgerEntry): boolean {
  return EXECUTED_PHASES.has(e.phase) || (e.phase === 'Cancelled' && e.startedAt !== undefined);
}

/**
 * When the entry executed, for rolling windows: startTime, or — if a writer set the phase before the time —
 * completionTime, then creationTimestamp. Falling back to an earlier time keeps the entry counted rather than lost.
 */
export function executedAt(e: LedgerEntry): number {
  return e.startedAt ?? e.completedAt ?? e.createdAt;
}

/** When the entry's effect ended (or, still running, began): the anchor for cooldowns and breaker outcomes. */
export function settledAt(e: LedgerEntry): number {
  return e.completedAt ?? e.startedAt ?? e.createdAt;
}

/**
 * True when `a` and `b` name the same object: same kind, namespace and name, and — when both carry a uid — the
 * same uid (a Deployment deleted and recreated under the same name is a different object).
 */
export function sameObject(a: TargetRef, b: TargetRef): boolean {
  if (a.kind !== b.kind || a.namespace !== b.namespace || a.name !== b.name) return false;
  return a.uid === undefined || b.uid === undefined || a.uid === b.uid;
}

/**
 * Whether a ledger entry counts for a candidate. Real candidates see only real entries: dry runs never consume a
 * real budget, start a real cooldown or hold a real slot. Dry-run candidates see both, so a dry run shows where
 * the budget *would* have stopped — a dry run that deducts nothing tells the user everything is allowed
 * (descheduler #1584), which is the failure we avoid.
 */
export function visibleTo(e: LedgerEntry, dryRunCandidate: boolean): boolean {
  return dryRunCandidate || !e.dryRun;
}

// ---------------------------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------------------------

/** An object as observed now: reference plus metadata the protection rules look at. */
export interface ObservedObject {
  readonly ref: TargetRef;
  readonly labels?: Labels;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
}

/** The candidate's target as observed now. */
export interface CandidateTarget extends ObservedObject {
  /**
   * metadata.creationTimestamp of the target. Lets a replacement pod inherit its predecessor's cooldown and
   * in-flight action: a Pod of the same workload created after an earlier restart/delete began is treated as the
   * same target. Without it, every replacement pod would start with a clean slate.
   */
  readonly createdAt?: number | undefined;
  /**
   * Whether the target is Ready (pods) — acting on a pod that is not Ready does not take a ready replica away.
   * `undefined` is treated as Ready (the conservative assumption).
   */
  readonly ready?: boolean | undefined;
}

/**
 * How the executor would disrupt pods, when it already knows: `evict` (Eviction API, honours PDBs), `delete`
 * (pod delete), `rollout-restart` (template annotation on the workload, surge-style). Absent: derived from the
 * action type and target kind (restart/delete of a Pod ⇒ pod removal; anything on a workload ⇒ rollout).
 */
export type DisruptionMechanism = 'evict' | 'delete' | 'rollout-restart';

/** The action the gate is asked about. */
export interface CandidateAction {
  /** Its own HealingAction name and namespace, so its own ledger entry is never counted against it. */
  readonly name: string;
  readonly namespace: string;
  /**
   * Its creationTimestamp. Orders it against other queued actions for the same target (the older one wins).
   * Absent: the candidate is treated as the newest.
   */
  readonly createdAt?: number | undefined;
  /** Policy key "namespace/name". */
  readonly policy: string;
  /** Name of the trigger that fired, if any (cooldowns are per trigger and target). */
  readonly trigger?: string | undefined;
  readonly target: CandidateTarget;
  /** The workload the action disrupts (the pod's owning Deployment/StatefulSet/…), when there is one. */
  readonly workload?: ObservedObject | undefined;
  readonly type: ActionType;
  /** spec.action.scaleAction for scale actions; a scale action without it is treated as a scale-down. */
  readonly scale?: ScaleIntent | undefined;
  readonly mechanism?: DisruptionMechanism | undefined;
  readonly source: ActionSource;
  /** spec.dryRun (the policy is in dryrun mode or the action was created as a dry run). */
  readonly dryRun: boolean;
}

/**
 * One `safetyRules.protectedResources` entry. Structurally compatible with the API type. An entry matches an
 * object when every field present matches: kind, apiVersion, name in `excludeNames` (the original design's name
 * for a list of PROTECTED names) and labelSelector. An entry with no fields protects everything.
 */
export interface ProtectedResourceRule {
  readonly apiVersion?: string | undefined;
  readonly kind?: string | undefined;
  readonly excludeNames?: readonly string[] | undefined;
  readonly labelSelector?: LabelSelectorLike | undefined;
}

/** The candidate policy's safety settings, with API defaults applied (see {@link DEFAULT_POLICY_SAFETY}). */
export interface PolicySafetyRules {
  /** Actions this policy may execute in any rolling hour (rule-sourced; AI has its own budget). 0 = none. */
  readonly maxActionsPerHour: number;
  readonly protectedResources?: readonly ProtectedResourceRule[] | undefined;
  /** Replicas of one workload that may be disrupted at once, counting actions in flight: 1, or "25%". */
  readonly maxUnavailable: number | string;
  /** The firing trigger's cooldownPeriod in ms (0: none). */
  readonly cooldownMs: number;
}

/** Per-policy circuit breaker settings. */
export interface PolicyBreakerSettings {
  /** Consecutive failed verifications that open the breaker. 0 disables it. */
  readonly failureThreshold: number;
  /** How long it stays open after the last failure before allowing one trial. */
  readonly openMs: number;
}

/** Operator-wide circuit breaker settings: trips on the verification-failure rate. */
export interface GlobalBreakerSettings {
  /** Failure rate (0–1) at or above which it opens. */
  readonly failureRate: number;
  /** Outcomes needed in the window before the rate means anything. */
  readonly minActions: number;
  readonly windowMs: number;
  /** How long it stays open after the last failure before allowing one trial. */
  readonly openMs: number;
}

/** Storm suppression settings; absent `maxTargetsFailing` disables it. */
export interface StormSettings {
  /** More than this many distinct workloads with new actions in one namespace within the window is a storm (rule 16; the policy controller also counts firing workloads). */
  readonly maxTargetsFailing?: number | undefined;
  /** Default {@link DEFAULT_STORM_WINDOW_MS}. */
  readonly windowMs?: number | undefined;
}

/** Operator-wide settings (OperatorConfig). */
export interface OperatorSafetySettings {
  /** Global pause: nothing runs. */
  readonly paused: boolean;
  /** Who paused and why ("paused by alice at …: incident 42"), for the denial message; absent for the config flag. */
  readonly pausedBecause?: string | undefined;
  /** Global dry-run: everything allowed runs as a dry run. */
  readonly forceDryRun: boolean;
  readonly protectedNamespaces: readonly string[];
  /** Objects (targets or their workloads) matching this are never acted on. */
  readonly protectedLabelSelector?: LabelSelectorLike | undefined;
  /** Rule-sourced actions per rolling hour across all policies. */
  readonly maxActionsPerHour: number;
  /** AI-sourced actions per rolling hour across all policies (a separate budget). */
  readonly aiMaxActionsPerHour: number;
  readonly policyBreaker: PolicyBreakerSettings;
  readonly globalBreaker: GlobalBreakerSettings;
  readonly storm: StormSettings;
}

/** The workload's replica counts now (spec.replicas and status.readyReplicas). */
export interface WorkloadState {
  readonly replicas: number;
  readonly readyReplicas: number;
}

/** A PodDisruptionBudget whose selector covers the target pod (from its status). */
export interface PdbState {
  readonly name: string;
  readonly disruptionsAllowed: number;
  readonly currentHealthy?: number | undefined;
  readonly desiredHealthy?: number | undefined;
  /** spec.unhealthyPodEvictionPolicy; absent = IfHealthyBudget (the Kubernetes default). */
  readonly unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow' | undefined;
}

/** The HorizontalPodAutoscaler whose scaleTargetRef is the workload. */
export interface HpaState {
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/** GitOps ownership detected on the workload (or on the target when the target is itself a workload). */
export interface GitOpsOwnership {
  readonly tool: 'argocd' | 'flux';
  /** The owning Application / Kustomization / HelmRelease, for messages. */
  readonly owner?: string | undefined;
}

/**
 * Who may act where (PRODUCT.md "Tenancy"), as the gate found it right before acting: the policy an action names,
 * and whether that policy may act in the target's namespace.
 */
export interface TenancyFacts {
  readonly policyKind: 'HealingPolicy' | 'ClusterHealingPolicy';
  /** The namespace of the HealingPolicy the action names (policyRef.namespace, else the action's own); '' for a ClusterHealingPolicy. */
  readonly policyNamespace: string;
  /** The policy's own namespace rule allows the target's namespace (false when the policy is gone). */
  readonly namespaceAllowed: boolean;
  /** Where the policy may act, in words ("its own namespace shop", "namespaces labelled team=shop"). */
  readonly allowedNamespaces: string;
}

/** Whether the target is still there and still selected by the policy (re-validated right before acting). */
export interface TargetSelection {
  readonly exists: boolean;
  readonly matchesSelector: boolean;
}

/** Everything a "may we act now?" decision depends on. */
export interface SafetyInput {
  /** The time of the decision (ms since the epoch), read once by the caller. */
  readonly now: number;
  readonly candidate: CandidateAction;
  readonly policy: PolicySafetyRules;
  readonly operator: OperatorSafetySettings;
  /** Every HealingAction the gate can see (all policies, all namespaces), the candidate's own included or not. */
  readonly ledger: readonly LedgerEntry[];
  readonly tenancy: TenancyFacts;
  readonly selection: TargetSelection;
  readonly workloadState?: WorkloadState | undefined;
  readonly pdbs?: readonly PdbState[] | undefined;
  readonly hpa?: HpaState | undefined;
  readonly gitOps?: GitOpsOwnership | undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------------------

/** Names of the rules, in evaluation order (see rules.ts). Finer than BlockReason: tells policy from global limits. */
export type SafetyRuleName =
  | 'paused'
  | 'tenancy'
  | 'selection'
  | 'protected'
  | 'policy-breaker'
  | 'global-breaker'
  | 'in-flight'
  | 'cooldown'
  | 'scale-limit'
  | 'policy-rate'
  | 'global-rate'
  | 'ai-rate'
  | 'disruption-budget'
  | 'pdb'
  | 'hpa'
  | 'gitops'
  | 'storm'
  | 'dry-run';

/** A refusal. */
export interface SafetyDenial {
  readonly allowed: false;
  readonly reason: BlockReason;
  /** The rule that refused. */
  readonly rule: SafetyRuleName;
  /** One clear sentence with the numbers behind it. */
  readonly message: string;
  /**
   * For time-based refusals: ms until the rule would pass if nothing else changes. Absent when time alone does
   * not help (protected, HPA, …): re-evaluate when the cluster or configuration changes.
   */
  readonly retryAfterMs?: number;
}

/** A rule passed, with something worth saying (recorded on the action and in its Event). */
export interface RulePass {
  readonly allowed: true;
  readonly notes: readonly string[];
}

/** One rule's verdict: `null` passes silently. */
export type RuleResult = SafetyDenial | RulePass | null;

/** The gate's decision. `dryRun` is the mode to execute in (the global switch may force it). */
export type SafetyDecision = { readonly allowed: true; readonly dryRun: boolean; readonly notes: readonly string[] } | SafetyDenial;

// ---------------------------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------------------------

/** The annotation that opts an object (a target or its workload) out of healing. Value "true" (any case). */
export const PROTECTED_ANNOTATION = 'kubeskippy.io/protected';

/** Storm window used when storm suppression is enabled without a window. */
export const DEFAULT_STORM_WINDOW_MS = 5 * 60_000;

/** The API's defaults for a policy's safetyRules and a trigger's cooldownPeriod. */
export const DEFAULT_POLICY_SAFETY: PolicySafetyRules = {
  maxActionsPerHour: 5,
  maxUnavailable: 1,
  cooldownMs: 5 * 60_000,
};

/**
 * Conservative operator defaults: kube-system protected, AI limited to 10 actions an hour (the seed), a policy's
 * breaker opening after 3 failed verifications for 15 minutes, the global breaker opening when half of at least
 * 10 outcomes in an hour failed, and storm suppression above 10 failing workloads in a namespace in 5 minutes.
 */
export const DEFAULT_OPERATOR_SAFETY: OperatorSafetySettings = {
  paused: false,
  forceDryRun: false,
  protectedNamespaces: ['kube-system'],
  maxActionsPerHour: 30,
  aiMaxActionsPerHour: 10,
  policyBreaker: { failureThreshold: 3, openMs: 15 * 60_000 },
  globalBreaker: { failureRate: 0.5, minActions: 10, windowMs: 60 * 60_000, openMs: 15 * 60_000 },
  storm: { maxTargetsFailing: 10, windowMs: DEFAULT_STORM_WINDOW_MS },
};
