/**
 * The safety rules: every "may we act now?" decision as a pure function of {@link SafetyInput}. One small function
 * per rule, each returning `null` (pass), a {@link RulePass} (pass with a note) or a {@link SafetyDenial}.
 * {@link evaluateSafety} applies them in this order and stops at the first denial:
 *
 *  1. paused            — global pause                                        → Paused
 *  1b. tenancy          — the action, its policy and its target are not all in namespaces the policy may act in
 *                                                                             → NamespaceNotAllowed
 *  2. selection         — target gone or no longer selected by the policy     → OutsideSelector
 *  3. protected         — protected namespace, operator label selector, the `kubeskippy.io/protected: "true"`
 *                         annotation on the target or its workload, the policy's protectedResources → Protected
 *  4. policy-breaker    — the policy's circuit is open / its half-open trial is in flight → CircuitOpen
 *  5. global-breaker    — the operator-wide circuit (failure rate)            → CircuitOpen
 *  6. in-flight         — another action of the same policy for the same target (for scale and rollback: the same
 *                         workload, whichever of its pods fired) is running or queued ahead → Superseded
 *  7. cooldown          — the same trigger acted on the same target (scale/rollback: workload) too recently → Cooldown
 *  8. scale-limit       — a scale action that its min/maxReplicas leave with nothing to change → AtLimit
 *  9. policy-rate       — the policy's rule budget for the rolling hour       → RateLimited
 * 10. global-rate       — the operator-wide rule budget                       → RateLimited
 * 11. ai-rate           — the operator-wide AI budget                         → RateLimited
 * 12. disruption-budget — maxUnavailable counting in-flight disruptions; never the last ready replica
 *                                                                             → BudgetExhausted
 * 13. pdb               — a covering PodDisruptionBudget forbids the eviction → PDB
 * 14. hpa               — a scale action on a workload an HPA manages         → HPAConflict
 * 15. gitops            — an action that would drift from Git on an Argo CD/Flux-managed workload → GitOpsManaged
 * 16. storm             — too many workloads in the namespace failing at once → StormSuppressed
 * 17. dry-run           — the global switch forces a dry run (a note, never a denial)
 *
 * Why this order: switches and facts that no waiting can change come first (pause, selection, protection), so a
 * protected target is reported as Protected rather than as rate-limited. The breaker comes before budgets because
 * it is the stronger statement about the policy. Duplicates are reported before cooldown and budgets so a second
 * action for a target that is being healed is Superseded — not a budget consumer; likewise a scale with nothing left
 * to change within its bounds is AtLimit before any budget is looked at. Time-based limits (cooldown,
 * rates) precede state-based ones (disruption, PDB), whose answer changes with the cluster rather than the clock.
 *
 * Budget choice for AI: AI-sourced actions are counted only against the operator-wide `aiMaxActionsPerHour`
 * (seed: 10/hour), never against a policy's maxActionsPerHour or the operator's rule budget, so a burst of AI
 * recommendations cannot starve the rules a team wrote, and vice versa. The worst case per hour is therefore
 * `maxActionsPerHour (global) + aiMaxActionsPerHour`. AI actions pass every other rule like rule actions do.
 *
 * Dry runs never consume real budgets; a dry-run candidate is evaluated against real and dry-run entries alike,
 * so a dry run shows where the real thing would stop (see `visibleTo`).
 */
import type { ActionType } from '../api/v1alpha1/common.js';
import type { BlockReason } from '../api/v1alpha1/healing-action.js';
import { targetKey, type TargetRef } from '../metrics/types.js';
import { computeScale } from '../remediation/executors/scale.js';
import { budgetUsage, formatDuration, formatInstant, parseIntOrPercent, resolveMaxUnavailable } from './budget.js';
import { evaluateGlobalBreaker, evaluatePolicyBreaker, type BreakerStatus } from './circuit-breaker.js';
import { describeLabelSelector, matchesLabelSelector, type Labels } from './label-selector.js';
import {
  DEFAULT_STORM_WINDOW_MS,
  IN_FLIGHT_PHASES,
  PROTECTED_ANNOTATION,
  QUEUED_PHASES,
  executedAt,
  hasExecuted,
  sameObject,
  settledAt,
  visibleTo,
  type ActionSource,
  type CandidateAction,
  type DisruptionMechanism,
  type GitOpsOwnership,
  type LedgerEntry,
  type ObservedObject,
  type ProtectedResourceRule,
  type RulePass,
  type RuleResult,
  type SafetyDecision,
  type SafetyDenial,
  type SafetyInput,
  type SafetyRuleName,
  type ScaleIntent,
} from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------------------

/** Kinds whose pod template a patch rewrites, so patching them rolls their pods. */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

function deny(rule: SafetyRuleName, reason: BlockReason, message: string, retryAfterMs?: number): SafetyDenial {
  // Never a zero or negative wait: a caller requeueing after 0 ms would spin.
  return { allowed: false, rule, reason, message, ...(retryAfterMs === undefined ? {} : { retryAfterMs: Math.max(1, retryAfterMs) }) };
}

function note(...notes: string[]): RulePass {
  return { allowed: true, notes };
}

function describe(ref: TargetRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** True when the candidate runs as a dry run: asked for, or forced by the operator. */
export function isEffectiveDryRun(input: SafetyInput): boolean {
  return input.candidate.dryRun || input.operator.forceDryRun;
}

/** Ledger entries other than the candidate's own, as the candidate's world sees them (see `visibleTo`). */
function others(input: SafetyInput): LedgerEntry[] {
  const c = input.candidate;
  const dry = isEffectiveDryRun(input);
  return input.ledger.filter((e) => !(e.name === c.name && e.namespace === c.namespace) && visibleTo(e, dry));
}

/** The workload a candidate disrupts: its declared workload, or the target itself when the target is not a Pod. */
export function candidateWorkload(c: Pick<CandidateAction, 'workload' | 'target'>): TargetRef | undefined {
  return c.workload?.ref ?? (c.target.ref.kind === 'Pod' ? undefined : c.target.ref);
}

function entryWorkload(e: LedgerEntry): TargetRef | undefined {
  return e.workload ?? (e.target.kind === 'Pod' ? undefined : e.target);
}

/**
 * True when ledger entry `e` concerns the candidate's target: the same object, or — for a pod that `e` restarted
 * or deleted — its replacement: a Pod of the same workload created after `e` started executing. Without this a
 * crash-looping pod's successor would escape the cooldown and the in-flight check of the action that replaced it.
 */
export function isSameOrSuccessorTarget(e: LedgerEntry, c: CandidateAction): boolean {
  if (sameObject(e.target, c.target.ref)) return true;
  if (e.target.kind !== 'Pod' || c.target.ref.kind !== 'Pod') return false;
  if ((e.type !== 'restart' && e.type !== 'delete') || !hasExecuted(e)) return false;
  const cw = c.workload?.ref;
  const created = c.target.createdAt;
  return e.workload !== undefined && cw !== undefined && created !== undefined && sameObject(e.workload, cw) && created >= executedAt(e);
}

/** What an action does to a workload's replicas. `readyCost`: ready replicas it may take away at once. */
export type Disruption =
  | { readonly kind: 'none' }
  | { readonly kind: 'pod-removal' | 'rollout' | 'scale-down' | 'workload-delete'; readonly readyCost: number };

/** The parts of an action that decide how it disrupts. */
export interface DisruptionSubject {
  readonly type: ActionType;
  readonly targetKind: string;
  readonly mechanism?: DisruptionMechanism | undefined;
  readonly scale?: ScaleIntent | undefined;
}

/**
 * Classifies an action's disruption, given the workload's desired `replicas` (undefined when unknown):
 *
 * - restart of a Pod: `pod-removal` (evict/delete) — except on a single-replica workload, where the executor does a
 *   surge-style rollout restart (karpenter #1599), unless `mechanism` says evict/delete; restart of a workload: `rollout`;
 * - delete of a Pod: `pod-removal`; delete of anything else: `workload-delete`, costing every replica;
 * - rollback, and patch of a workload kind (its template changes): `rollout`; patch of anything else: `none`;
 * - scale: up is `none`; down removes `replicas`; absolute removes what it takes below the current count; a scale
 *   action with no settings is treated as removing one replica (the cautious reading).
 */
export function classifyDisruption(s: DisruptionSubject, replicas: number | undefined): Disruption {
  switch (s.type) {
    case 'restart':
      if (s.mechanism === 'evict' || s.mechanism === 'delete') return { kind: 'pod-removal', readyCost: 1 };
      if (s.mechanism === 'rollout-restart' || s.targetKind !== 'Pod') return { kind: 'rollout', readyCost: 1 };
      return replicas !== undefined && replicas <= 1 ? { kind: 'rollout', readyCost: 1 } : { kind: 'pod-removal', readyCost: 1 };
    case 'delete':
      return s.targetKind === 'Pod' ? { kind: 'pod-removal', readyCost: 1 } : { kind: 'workload-delete', readyCost: Math.max(1, replicas ?? 1) };
    case 'rollback':
      return { kind: 'rollout', readyCost: 1 };
    case 'patch':
      return WORKLOAD_KINDS.has(s.targetKind) ? { kind: 'rollout', readyCost: 1 } : { kind: 'none' };
    case 'scale': {
      if (s.scale === undefined) return { kind: 'scale-down', readyCost: 1 };
      if (s.scale.direction === 'up') return { kind: 'none' };
      const removed = s.scale.direction === 'down' ? s.scale.replicas : replicas === undefined ? 1 : replicas - s.scale.replicas;
      return removed > 0 ? { kind: 'scale-down', readyCost: removed } : { kind: 'none' };
    }
  }
}

function candidateDisruption(input: SafetyInput): Disruption {
  const c = input.candidate;
  return classifyDisruption({ type: c.type, targetKind: c.target.ref.kind, mechanism: c.mechanism, scale: c.scale }, input.workloadState?.replicas);
}

// ---------------------------------------------------------------------------------------------------------------
// 1–3: switches and facts
// ---------------------------------------------------------------------------------------------------------------

/** Rule 1: the global pause stops every action, dry runs included. */
export function checkPaused(input: SafetyInput): RuleResult {
  const { paused, pausedBecause } = input.operator;
  if (!paused) return null;
  const why = pausedBecause === undefined ? 'global pause' : pausedBecause;
  return deny('paused', 'Paused', `the operator is paused (${why}): no action runs until it is resumed`);
}

/**
 * Rule 1b, tenancy: what lives in a namespace acts only in that namespace. A HealingAction acts only on objects of
 * its own namespace (and their workloads, which live there too); an action naming a HealingPolicy must live in that
 * policy's namespace; and the policy's own rule must allow the target's namespace (a HealingPolicy: its own; a
 * ClusterHealingPolicy: those it names or selects). Checked before everything else that is about the target, so a
 * hand-written or replayed action can never borrow another namespace's policy — or a cluster policy's reach.
 */
export function checkTenancy(input: SafetyInput): RuleResult {
  const { candidate: c, tenancy: t } = input;
  const target = c.target.ref;
  if (target.namespace !== c.namespace) {
    return deny('tenancy', 'NamespaceNotAllowed', `a HealingAction in namespace ${c.namespace} acts only on objects of that namespace; its target ${describe(target)} is in ${target.namespace}`);
  }
  const workload = c.workload?.ref;
  if (workload !== undefined && workload.namespace !== target.namespace) {
    return deny('tenancy', 'NamespaceNotAllowed', `the workload ${describe(workload)} is not in the target's namespace ${target.namespace}`);
  }
  if (t.policyKind === 'HealingPolicy' && t.policyNamespace !== c.namespace) {
    return deny('tenancy', 'NamespaceNotAllowed', `a HealingAction in namespace ${c.namespace} names the HealingPolicy ${c.policy} of namespace ${t.policyNamespace}: a HealingPolicy acts only in its own namespace`);
  }
  if (!t.namespaceAllowed) {
    return deny('tenancy', 'NamespaceNotAllowed', `policy ${c.policy} may act only in ${t.allowedNamespaces}; namespace ${target.namespace} is not one of them`);
  }
  return null;
}

/** Rule 2: the target must still exist and still match the policy's selector (re-validated right before acting). */
export function checkSelection(input: SafetyInput): RuleResult {
  const { candidate: c, selection } = input;
  if (!selection.exists) return deny('selection', 'OutsideSelector', `target ${describe(c.target.ref)} no longer exists`);
  if (!selection.matchesSelector) {
    return deny('selection', 'OutsideSelector', `target ${describe(c.target.ref)} no longer matches the selector of policy ${c.policy}`);
  }
  return null;
}

/**
 * True when a protectedResources entry covers `obj`: every field present must match — kind, apiVersion, name in
 * `excludeNames` (a list of protected names, despite the field's name) and labelSelector.
 */
export function matchesProtectedResource(rule: ProtectedResourceRule, obj: ObservedObject): boolean {
  if (rule.kind !== undefined && rule.kind !== obj.ref.kind) return false;
  if (rule.apiVersion !== undefined && rule.apiVersion !== obj.ref.apiVersion) return false;
  if (rule.excludeNames !== undefined && rule.excludeNames.length > 0 && !rule.excludeNames.includes(obj.ref.name)) return false;
  if (rule.labelSelector !== undefined && !matchesLabelSelector(rule.labelSelector, obj.labels)) return false;
  return true;
}

/** True when the object opts out with `kubeskippy.io/protected: "true"` (any case, surrounding spaces ignored). */
export function hasProtectedAnnotation(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const value = annotations !== undefined && Object.hasOwn(annotations, PROTECTED_ANNOTATION) ? annotations[PROTECTED_ANNOTATION] : undefined;
  return value?.trim().toLowerCase() === 'true';
}

function describeProtectedRule(rule: ProtectedResourceRule): string {
  const parts: string[] = [];
  if (rule.kind !== undefined) parts.push(`kind ${rule.kind}`);
  if (rule.apiVersion !== undefined) parts.push(`apiVersion ${rule.apiVersion}`);
  if (rule.excludeNames !== undefined && rule.excludeNames.length > 0) parts.push(`names ${rule.excludeNames.join(', ')}`);
  if (rule.labelSelector !== undefined) parts.push(`labels ${describeLabelSelector(rule.labelSelector)}`);
  return parts.length === 0 ? 'everything' : parts.join('; ');
}

/**
 * Rule 3: protected resources. The target and its workload are both checked — protecting a Deployment protects its
 * pods — against the operator's protected namespaces and label selector, the opt-out annotation and the policy's
 * protectedResources.
 */
export function checkProtected(input: SafetyInput): RuleResult {
  const { candidate: c, operator, policy } = input;
  const ns = c.target.ref.namespace;
  if (operator.protectedNamespaces.includes(ns)) {
    return deny('protected', 'Protected', `namespace ${ns} is protected by the operator (protectedNamespaces); ${describe(c.target.ref)} is never acted on`);
  }
  const objects: { readonly role: string; readonly obj: ObservedObject }[] = [{ role: 'target', obj: c.target }];
  if (c.workload !== undefined) objects.push({ role: 'workload', obj: c.workload });
  for (const { role, obj } of objects) {
    const selector = operator.protectedLabelSelector;
    if (selector !== undefined && matchesLabelSelector(selector, obj.labels)) {
      return deny('protected', 'Protected', `${role} ${describe(obj.ref)} matches the operator's protected label selector ${describeLabelSelector(selector)}`);
    }
    if (hasProtectedAnnotation(obj.annotations)) {
      return deny('protected', 'Protected', `${role} ${describe(obj.ref)} is annotated ${PROTECTED_ANNOTATION}: "true"`);
    }
  }
  const rules = policy.protectedResources ?? [];
  for (const [i, rule] of rules.entries()) {
    for (const { role, obj } of objects) {
      if (matchesProtectedResource(rule, obj)) {
        return deny(
          'protected',
          'Protected',
          `${role} ${describe(obj.ref)} is protected by policy ${c.policy} (safetyRules.protectedResources[${i}]: ${describeProtectedRule(rule)})`,
        );
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// 4–5: circuit breakers
// ---------------------------------------------------------------------------------------------------------------

function breakerVerdict(rule: SafetyRuleName, status: BreakerStatus, input: SafetyInput): RuleResult {
  switch (status.state) {
    case 'closed':
      return null;
    case 'open':
      return deny(rule, 'CircuitOpen', status.message, status.until === undefined ? undefined : status.until - input.now);
    case 'half-open': {
      if (status.trialInFlight !== undefined) return deny(rule, 'CircuitOpen', status.message);
      const circuit = status.scope === 'global' ? 'global circuit' : `circuit for ${status.scope}`;
      // A dry run verifies nothing, so it cannot be the trial; saying so keeps the audit trail honest.
      return isEffectiveDryRun(input)
        ? note(`${circuit} is half-open: this dry run is not the trial; the next real action is`)
        : note(`${circuit} is half-open: this action is the trial`);
    }
  }
}

/** Rule 4: the policy's circuit breaker (see circuit-breaker.ts). */
export function checkPolicyBreaker(input: SafetyInput): RuleResult {
  const c = input.candidate;
  const status = evaluatePolicyBreaker(input.ledger, c.policy, input.operator.policyBreaker, input.now, c);
  return breakerVerdict('policy-breaker', status, input);
}

/** Rule 5: the operator-wide circuit breaker, tripped by the verification-failure rate. */
export function checkGlobalBreaker(input: SafetyInput): RuleResult {
  const status = evaluateGlobalBreaker(input.ledger, input.operator.globalBreaker, input.now, input.candidate);
  return breakerVerdict('global-breaker', status, input);
}

// ---------------------------------------------------------------------------------------------------------------
// 6–7: duplicates and cooldown
// ---------------------------------------------------------------------------------------------------------------

function isOlderThan(e: LedgerEntry, c: CandidateAction): boolean {
  if (c.createdAt === undefined) return true;
  return e.createdAt < c.createdAt || (e.createdAt === c.createdAt && e.name < c.name);
}

/** Action types that change the workload itself, whichever of its pods fired: scale and rollback. */
export const WORKLOAD_LEVEL_TYPES: ReadonlySet<ActionType> = new Set<ActionType>(['scale', 'rollback']);

/**
 * True when `e` and the candidate are both workload-level actions (scale, rollback) of the same type on the same
 * workload. Per-pod triggers fire once per pod: without this, two pods of one Deployment at high CPU would scale
 * it twice at once (and each verification would see the other's change as someone else's).
 */
export function isSameWorkloadAction(e: LedgerEntry, c: CandidateAction): boolean {
  if (e.type !== c.type || !WORKLOAD_LEVEL_TYPES.has(c.type)) return false;
  const cw = candidateWorkload(c);
  const ew = entryWorkload(e);
  return cw !== undefined && ew !== undefined && sameObject(cw, ew);
}

/** The same target (or its successor), or for scale/rollback the same workload: what rules 6 and 7 compare. */
function concernsSameObject(e: LedgerEntry, c: CandidateAction): boolean {
  return isSameOrSuccessorTarget(e, c) || isSameWorkloadAction(e, c);
}

/**
 * Rule 6: one action per target and policy at a time (for scale and rollback: per workload). An action that passed
 * the gate and has not finished (InProgress, Verifying) always wins; among queued ones (Pending, WaitingApproval,
 * Approved) the older wins, so two queued duplicates can never block each other. Blocked and finished actions do
 * not count.
 */
export function checkInFlight(input: SafetyInput): RuleResult {
  const c = input.candidate;
  const mine = others(input).filter((e) => e.policy === c.policy && concernsSameObject(e, c));
  const running = mine.find((e) => IN_FLIGHT_PHASES.has(e.phase));
  const ahead = running ?? mine.find((e) => QUEUED_PHASES.has(e.phase) && isOlderThan(e, c));
  if (ahead === undefined) return null;
  return deny(
    'in-flight',
    'Superseded',
    `action ${ahead.name} (${ahead.type}, ${ahead.phase}) of policy ${c.policy} is already handling ${describe(c.target.ref)}`,
  );
}

/**
 * Rule 7: cooldown per trigger and target. Runs from when the previous action of the same policy and trigger on
 * the same target (or its predecessor pod) finished — or started, if it is still running — because the point is to
 * let the target settle after being acted on. Blocked and never-started actions did nothing, so they start no
 * cooldown.
 */
export function checkCooldown(input: SafetyInput): RuleResult {
  const { candidate: c, policy, now } = input;
  if (policy.cooldownMs <= 0) return null;
  const previous = others(input)
    .filter((e) => e.policy === c.policy && e.trigger === c.trigger && hasExecuted(e) && concernsSameObject(e, c))
    .reduce<LedgerEntry | undefined>((latest, e) => (latest === undefined || settledAt(e) > settledAt(latest) ? e : latest), undefined);
  if (previous === undefined) return null;
  const readyAt = settledAt(previous) + policy.cooldownMs;
  if (readyAt <= now) return null;
  const who = c.trigger === undefined ? `policy ${c.policy}` : `trigger ${c.trigger} of policy ${c.policy}`;
  return deny(
    'cooldown',
    'Cooldown',
    `${who} acted on ${describe(c.target.ref)} ${formatDuration(now - settledAt(previous))} ago (action ${previous.name}); ` +
      `cooldown is ${formatDuration(policy.cooldownMs)}, next at ${formatInstant(readyAt, now)}`,
    readyAt - now,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 8: scale bounds
// ---------------------------------------------------------------------------------------------------------------

/**
 * Rule 8: a scale action whose bounds leave nothing to change — "up" at maxReplicas, "down" at minReplicas, an
 * absolute count equal to the current one — is refused before it runs. There is nothing to heal within the
 * policy's limits; executing it would only end Failed, spend budget and count against the circuit breakers (which
 * would then stop unrelated healing). Uses the executor's own computeScale on the live replica count; passes when
 * that count is unknown (the executor decides then).
 */
export function checkScaleLimit(input: SafetyInput): RuleResult {
  const { candidate: c, workloadState } = input;
  if (c.type !== 'scale' || c.scale === undefined || workloadState === undefined) return null;
  const s = c.scale;
  const computed = computeScale(workloadState.replicas, {
    direction: s.direction,
    replicas: s.replicas,
    ...(s.minReplicas === undefined ? {} : { minReplicas: s.minReplicas }),
    ...(s.maxReplicas === undefined ? {} : { maxReplicas: s.maxReplicas }),
  });
  if (!computed.noop) return null;
  const w = candidateWorkload(c) ?? c.target.ref;
  return deny('scale-limit', 'AtLimit', `${describe(w)} is already at the action's limit: scaling ${s.direction} ${computed.explanation}`);
}

// ---------------------------------------------------------------------------------------------------------------
// 9–11: rate limits (rolling hour)
// ---------------------------------------------------------------------------------------------------------------

function rateDenial(rule: SafetyRuleName, who: string, setting: string, times: readonly number[], limit: number, now: number): RuleResult {
  const usage = budgetUsage(times, limit, now);
  if (usage.remaining > 0) return null;
  if (limit <= 0) return deny(rule, 'RateLimited', `${who} allows no actions (${setting} is 0)`);
  const slot = usage.nextSlotAt ?? now;
  return deny(
    rule,
    'RateLimited',
    `${who} used ${usage.used} of ${limit} actions in the last hour; next slot at ${formatInstant(slot, now)}`,
    slot - now,
  );
}

function executedTimes(input: SafetyInput, source: ActionSource, policy?: string): number[] {
  return others(input)
    .filter((e) => e.source === source && hasExecuted(e) && (policy === undefined || e.policy === policy))
    .map(executedAt);
}

/**
 * Rule 9: the policy's maxActionsPerHour, over actions that executed (InProgress, Verifying, Succeeded, Failed, or
 * Cancelled after starting) in the rolling hour before now. Rule-sourced candidates only.
 */
export function checkPolicyRate(input: SafetyInput): RuleResult {
  const c = input.candidate;
  if (c.source !== 'rule') return null;
  return rateDenial('policy-rate', `policy ${c.policy}`, 'safetyRules.maxActionsPerHour', executedTimes(input, 'rule', c.policy), input.policy.maxActionsPerHour, input.now);
}

/** Rule 10: the operator-wide budget for rule-sourced actions across all policies. */
export function checkGlobalRate(input: SafetyInput): RuleResult {
  if (input.candidate.source !== 'rule') return null;
  return rateDenial('global-rate', 'the operator-wide rule budget', 'maxActionsPerHour', executedTimes(input, 'rule'), input.operator.maxActionsPerHour, input.now);
}

/** Rule 11: the operator-wide, separate budget for AI-sourced actions. */
export function checkAiRate(input: SafetyInput): RuleResult {
  if (input.candidate.source !== 'ai') return null;
  return rateDenial('ai-rate', 'the AI budget', 'aiMaxActionsPerHour', executedTimes(input, 'ai'), input.operator.aiMaxActionsPerHour, input.now);
}

// ---------------------------------------------------------------------------------------------------------------
// 12–13: disruption budget and PDBs
// ---------------------------------------------------------------------------------------------------------------

/**
 * Rule 12: the disruption budget of the workload the candidate disrupts.
 *
 * - `maxUnavailable` (resolved against spec.replicas, see resolveMaxUnavailable) caps disruptive actions on one
 *   workload at once, counting those in flight (InProgress/Verifying restarts, deletes, rollbacks, template patches
 *   and scale-downs on the same workload) — in-flight work is never "healthy" (machine-api-operator #898).
 * - Never take the last ready replica: refused when `readyReplicas - inFlight - cost < 1` for an action that takes
 *   a ready replica. Status may already reflect an in-flight disruption, so this errs on the safe side. Exceptions:
 *   a target that is not Ready costs nothing; a workload with no ready replica has nothing left to protect (healing
 *   it is the point); a restart of a single-replica workload gets a note instead, because the executor must do a
 *   surge-style rollout restart that brings the new pod up before the old one goes.
 * - A disruptive action on a pod without a workload passes with a note (nothing will recreate it).
 * - Unknown replica counts for a known workload fail closed.
 */
export function checkDisruptionBudget(input: SafetyInput): RuleResult {
  const { candidate: c, workloadState: state } = input;
  const d = candidateDisruption(input);
  if (d.kind === 'none') return null;
  const workload = candidateWorkload(c);
  if (workload === undefined) {
    return note(`${describe(c.target.ref)} has no owning workload: nothing will recreate it`);
  }
  const w = describe(workload);
  if (state === undefined) {
    return deny('disruption-budget', 'BudgetExhausted', `replica counts of ${w} are unknown; refusing a disruptive ${c.type}`);
  }
  if (parseIntOrPercent(input.policy.maxUnavailable) === undefined) {
    return deny('disruption-budget', 'BudgetExhausted', `maxUnavailable ${JSON.stringify(input.policy.maxUnavailable)} of policy ${c.policy} is neither an integer nor a percentage; refusing disruptive actions`);
  }
  const inFlight = others(input).filter((e) => {
    const ew = entryWorkload(e);
    return IN_FLIGHT_PHASES.has(e.phase) && ew !== undefined && sameObject(ew, workload) &&
      classifyDisruption({ type: e.type, targetKind: e.target.kind, scale: e.scale }, state.replicas).kind !== 'none';
  });
  const maxUnavailable = resolveMaxUnavailable(input.policy.maxUnavailable, state.replicas);
  if (inFlight.length + 1 > maxUnavailable) {
    const names = inFlight.length === 0 ? '' : ` (${inFlight.map((e) => e.name).join(', ')})`;
    return deny(
      'disruption-budget',
      'BudgetExhausted',
      `${w} may have ${maxUnavailable} replica${maxUnavailable === 1 ? '' : 's'} disrupted at once (maxUnavailable ${String(input.policy.maxUnavailable)} of ${state.replicas}) ` +
        `and ${inFlight.length} disruptive action${inFlight.length === 1 ? ' is' : 's are'} in flight${names}`,
    );
  }
  const cost = c.target.ready === false ? 0 : d.readyCost;
  const readyAfter = state.readyReplicas - inFlight.length - cost;
  if (cost > 0 && state.readyReplicas >= 1 && readyAfter < 1) {
    if (c.type === 'restart' && d.kind === 'rollout' && state.replicas <= 1) {
      return note(`${w} has a single replica: the restart must be a surge-style rollout restart (new pod Ready before the old one goes)`);
    }
    return deny(
      'disruption-budget',
      'BudgetExhausted',
      `${c.type} would take the last ready replica of ${w}: ${state.readyReplicas} of ${state.replicas} ready, ${inFlight.length} disrupted in flight, this action takes ${cost}`,
    );
  }
  return null;
}

/**
 * Rule 13: PodDisruptionBudgets, for actions that remove pods directly (evict/delete). Mirrors the Eviction API: a
 * Ready pod needs `disruptionsAllowed > 0` on every covering PDB; a pod that is not Ready can be evicted under the
 * default IfHealthyBudget policy while `currentHealthy >= desiredHealthy`, and always under AlwaysAllow — so a
 * crash-looping pod is not held hostage by the budget it is itself breaking. Rollouts do not consult PDBs
 * (kubernetes #89820), so they pass.
 */
export function checkPdb(input: SafetyInput): RuleResult {
  const c = input.candidate;
  if (candidateDisruption(input).kind !== 'pod-removal') return null;
  for (const pdb of input.pdbs ?? []) {
    const healthy = pdb.currentHealthy !== undefined && pdb.desiredHealthy !== undefined ? ` (${pdb.currentHealthy} healthy, ${pdb.desiredHealthy} desired)` : '';
    let blocked: boolean;
    if (c.target.ready !== false) blocked = pdb.disruptionsAllowed <= 0;
    else if (pdb.unhealthyPodEvictionPolicy === 'AlwaysAllow') blocked = false;
    else if (pdb.currentHealthy !== undefined && pdb.desiredHealthy !== undefined) blocked = pdb.currentHealthy < pdb.desiredHealthy;
    else blocked = pdb.disruptionsAllowed <= 0;
    if (!blocked) continue;
    const workload = c.workload?.ref;
    const alternative = workload !== undefined && WORKLOAD_KINDS.has(workload.kind) ? `; a rollout restart of ${describe(workload)} would keep it available instead` : '';
    return deny(
      'pdb',
      'PDB',
      `PodDisruptionBudget ${pdb.name} allows ${pdb.disruptionsAllowed} disruption${pdb.disruptionsAllowed === 1 ? '' : 's'}${healthy}; evicting ${describe(c.target.ref)} would violate it${alternative}`,
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// 14–15: other controllers that own the workload
// ---------------------------------------------------------------------------------------------------------------

/** Rule 14: never scale a workload an HPA manages — the two would fight; the HPA's bounds are the knob to turn. */
export function checkHpa(input: SafetyInput): RuleResult {
  const { candidate: c, hpa } = input;
  if (c.type !== 'scale' || hpa === undefined) return null;
  const w = candidateWorkload(c) ?? c.target.ref;
  return deny(
    'hpa',
    'HPAConflict',
    `${describe(w)} is scaled by HorizontalPodAutoscaler ${hpa.name} (${hpa.minReplicas}–${hpa.maxReplicas} replicas); a scale action would fight it — change the HPA's minReplicas/maxReplicas instead`,
  );
}

/**
 * Detects GitOps ownership from an object's metadata: Argo CD's annotation tracking
 * (`argocd.argoproj.io/tracking-id`, owner = the Application) or `argocd.argoproj.io/instance` label; Flux's
 * `kustomize.toolkit.fluxcd.io/name` and `helm.toolkit.fluxcd.io/name` labels. The generic
 * `app.kubernetes.io/instance` label (Argo CD's default label tracking) is NOT used: Helm sets it too, and reading it
 * would refuse actions on every Helm release. Returns `undefined` when nothing is detected.
 */
export function detectGitOps(labels: Labels, annotations: Readonly<Record<string, string>> | undefined): GitOpsOwnership | undefined {
  const get = (m: Readonly<Record<string, string>> | undefined, k: string): string | undefined => (m !== undefined && Object.hasOwn(m, k) ? m[k] : undefined);
  const tracking = get(annotations, 'argocd.argoproj.io/tracking-id');
  if (tracking !== undefined) return { tool: 'argocd', owner: tracking.split(':')[0] };
  const argoInstance = get(labels, 'argocd.argoproj.io/instance');
  if (argoInstance !== undefined) return { tool: 'argocd', owner: argoInstance };
  for (const kind of ['kustomize', 'helm'] as const) {
    const name = get(labels, `${kind}.toolkit.fluxcd.io/name`);
    if (name !== undefined) {
      const ns = get(labels, `${kind}.toolkit.fluxcd.io/namespace`);
      const what = kind === 'kustomize' ? 'Kustomization' : 'HelmRelease';
      return { tool: 'flux', owner: `${what} ${ns === undefined ? '' : `${ns}/`}${name}` };
    }
  }
  return undefined;
}

/**
 * Rule 15: do not fight a GitOps reconciler. On an Argo CD/Flux-managed workload, actions that change what Git
 * declares — scale, rollback, and patch or delete of a non-Pod object — are refused (the reconciler would revert
 * them, or selfHeal would loop: argo-cd #7820, #15588). A restart through the template annotation passes with a note
 * (it may show as drift); actions on pods, which Git does not declare, pass.
 */
export function checkGitOps(input: SafetyInput): RuleResult {
  const { candidate: c, gitOps } = input;
  if (gitOps === undefined) return null;
  const targetIsPod = c.target.ref.kind === 'Pod';
  const drifts = c.type === 'scale' || c.type === 'rollback' || ((c.type === 'patch' || c.type === 'delete') && !targetIsPod);
  const owner = gitOps.owner === undefined ? '' : ` (${gitOps.owner})`;
  const tool = gitOps.tool === 'argocd' ? 'Argo CD' : 'Flux';
  const w = describe(candidateWorkload(c) ?? c.target.ref);
  if (drifts) {
    return deny('gitops', 'GitOpsManaged', `${w} is managed by ${tool}${owner}; a ${c.type} would drift from Git and be reverted — change it in Git instead`);
  }
  if (candidateDisruption(input).kind === 'rollout') {
    return note(`${w} is managed by ${tool}${owner}: the restart annotation on its pod template may show as drift`);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// 16–17: storms and the global dry-run switch
// ---------------------------------------------------------------------------------------------------------------

/** What the storm rule reads: the gate's fast path (SafetyGate.check) evaluates it on the cached ledger alone. */
export type StormInput = Pick<SafetyInput, 'now' | 'ledger'> & {
  readonly operator: Pick<SafetyInput['operator'], 'storm'>;
  readonly candidate: Pick<CandidateAction, 'name' | 'namespace' | 'createdAt' | 'target' | 'workload'>;
};

/**
 * Rule 16: storm suppression. When more than `maxTargetsFailing` distinct workloads (a pod without a workload counts
 * as itself) in the candidate's namespace — the candidate's included — had HealingActions created within the window,
 * the failures most likely share a cause (a dependency, a node), and restarting them all would only add load: act on
 * none of them, as one incident. Workloads, not pods, are counted so that one 50-pod Deployment with a few leaking
 * pods is not a storm (its disruption budget paces it). Every action counts as evidence of a failing target — dry
 * runs and blocked ones too — since the question is how much is failing, not how much we did.
 */
export function checkStorm(input: StormInput): RuleResult {
  const { candidate: c, operator, now } = input;
  const max = operator.storm.maxTargetsFailing;
  if (max === undefined) return null;
  const windowMs = operator.storm.windowMs ?? DEFAULT_STORM_WINDOW_MS;
  const ns = c.target.ref.namespace;
  const latest = new Map<string, number>();
  for (const e of input.ledger) {
    if (e.target.namespace !== ns || e.createdAt <= now - windowMs || (e.name === c.name && e.namespace === c.namespace)) continue;
    const key = targetKey(entryWorkload(e) ?? e.target);
    latest.set(key, Math.max(latest.get(key) ?? -Infinity, e.createdAt));
  }
  latest.set(targetKey(candidateWorkload(c) ?? c.target.ref), Math.max(now, c.createdAt ?? now));
  const storm = stormVerdict(latest, max, windowMs, now);
  if (storm === undefined) return null;
  return deny(
    'storm',
    'StormSuppressed',
    `storm in namespace ${ns}: ${storm.workloads} workloads got healing actions in the last ${formatDuration(windowMs)} (limit ${max}); ` +
      `acting on none of them — one incident, not a mass restart`,
    storm.endsAt - now,
  );
}

/**
 * The storm arithmetic, shared by rule 16 (over the ledger) and the policy controller (over the ledger and what is
 * firing now): given when each failing workload of one namespace was last seen failing, a storm is more than `max`
 * of them within the window. Returns how many, and when enough of them will have aged out for it to end; undefined
 * when there is no storm. Entries older than the window are ignored.
 */
export function stormVerdict(lastFailing: ReadonlyMap<string, number>, max: number, windowMs: number, now: number): { workloads: number; endsAt: number } | undefined {
  const times = [...lastFailing.values()].filter((t) => t > now - windowMs).sort((a, b) => a - b);
  if (times.length <= max) return undefined;
  // times.length - max workloads must age out; the last of them to do so decides when the storm is over.
  return { workloads: times.length, endsAt: (times[times.length - max - 1] ?? now) + windowMs };
}

/** Rule 17: the operator's global dry-run switch turns an allowed action into a dry run, with a note. */
export function checkDryRun(input: SafetyInput): RuleResult {
  return input.operator.forceDryRun && !input.candidate.dryRun
    ? note('the operator forces dry-run everywhere: this action computes its change but mutates nothing')
    : null;
}

// ---------------------------------------------------------------------------------------------------------------
// The gate's decision
// ---------------------------------------------------------------------------------------------------------------

/** A named rule. */
export interface SafetyRule {
  readonly name: SafetyRuleName;
  readonly check: (input: SafetyInput) => RuleResult;
}

/** Every rule, in evaluation order (see the module comment for why this order). */
export const SAFETY_RULES: readonly SafetyRule[] = [
  { name: 'paused', check: checkPaused },
  { name: 'tenancy', check: checkTenancy },
  { name: 'selection', check: checkSelection },
  { name: 'protected', check: checkProtected },
  { name: 'policy-breaker', check: checkPolicyBreaker },
  { name: 'global-breaker', check: checkGlobalBreaker },
  { name: 'in-flight', check: checkInFlight },
  { name: 'cooldown', check: checkCooldown },
  { name: 'scale-limit', check: checkScaleLimit },
  { name: 'policy-rate', check: checkPolicyRate },
  { name: 'global-rate', check: checkGlobalRate },
  { name: 'ai-rate', check: checkAiRate },
  { name: 'disruption-budget', check: checkDisruptionBudget },
  { name: 'pdb', check: checkPdb },
  { name: 'hpa', check: checkHpa },
  { name: 'gitops', check: checkGitOps },
  { name: 'storm', check: checkStorm },
  { name: 'dry-run', check: checkDryRun },
];

/**
 * May the candidate act now? Applies {@link SAFETY_RULES} in order and returns the first denial, or an allowance
 * with every note collected and `dryRun` true when the candidate is a dry run or the operator forces one. Pure and
 * total: never throws, reads no clock (`input.now` is the time).
 */
export function evaluateSafety(input: SafetyInput): SafetyDecision {
  const notes: string[] = [];
  for (const rule of SAFETY_RULES) {
    const result = rule.check(input);
    if (result === null) continue;
    if (!result.allowed) return result;
    notes.push(...result.notes);
  }
  return { allowed: true, dryRun: isEffectiveDryRun(input), notes };
}

/**
 * Every rule's verdict without stopping at the first denial — for the dashboard, `kubectl skippy why`, and policy
 * replay ("blocked by the rate limit, and would also have hit the PDB").
 */
export function explainSafety(input: SafetyInput): readonly { readonly rule: SafetyRuleName; readonly result: RuleResult }[] {
  return SAFETY_RULES.map((r) => ({ rule: r.name, result: r.check(input) }));
}
