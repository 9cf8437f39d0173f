/**
 * The policy controller's decision, pure: given the selected targets, their trigger evaluations and the ledger of
 * this policy's earlier actions, which HealingActions to create now — one decision per target, the escalation
 * ladder applied — and which firings are held back and why.
 */
import { createHash } from 'node:crypto';
import type { ActionTemplate, ActionType } from '../../api/v1alpha1/common.js';
import type { ActionPhase } from '../../api/v1alpha1/healing-action.js';
import { TERMINAL_PHASES } from '../../api/v1alpha1/healing-action.js';
import type { AnyPolicy, Learning, PolicyMode } from '../../api/v1alpha1/healing-policy.js';
import { targetKey, type TargetRef } from '../../metrics/types.js';
import { stormVerdict, WORKLOAD_LEVEL_TYPES } from '../../safety/rules.js';
import { formatDuration } from '../../safety/budget.js';
import type { AdvisedRecommendation } from '../../ai/answer.js';
import type { TriggerEvaluations, TriggerFiring, UnknownCode } from '../../triggers/evaluate.js';
import type { SelectedTarget } from './select.js';

/** Kinds each action type can act on (a Pod target's workload is used for scale and rollback). */
const APPLICABLE: Readonly<Record<ActionTemplate['type'], readonly string[]>> = {
  restart: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet'],
  scale: ['Pod', 'Deployment', 'StatefulSet', 'ReplicaSet'],
  patch: ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  delete: ['Pod', 'ReplicaSet'],
  rollback: ['Pod', 'Deployment'],
};

/** One earlier action of this policy on one target, as the ladder needs it. */
export interface ActionHistoryEntry {
  readonly name: string;
  readonly actionName: string;
  readonly escalationLevel: number;
  readonly phase: ActionPhase;
  readonly createdAt: number;
  readonly dryRun: boolean;
  /** The action's type and its workload claim (workloadClaim), for workload-level actions. */
  readonly type?: ActionType;
  readonly claim?: string | undefined;
}

/** Everything the decision reads. */
export interface PolicyDecisionInput {
  /** The policy, validated and defaulted. */
  readonly policy: AnyPolicy;
  readonly now: number;
  /**
   * The evaluated targets on which some trigger is not clear. A target on which every trigger is clear may be left
   * out (the policy controller keeps none of them: a quiet pass over thousands of targets should hold nothing per
   * target); only its checkAt would count, given as clearCheckAt.
   */
  readonly targets: readonly { readonly target: SelectedTarget; readonly evaluations: TriggerEvaluations }[];
  /** The earliest checkAt of the all-clear targets left out of `targets`, if any has one. */
  readonly clearCheckAt?: number;
  /** Earlier actions of this policy, by target key (targetKey of the target). */
  readonly history: ReadonlyMap<string, readonly ActionHistoryEntry[]>;
  /**
   * Target keys — and workload claims (workloadClaim) — for which an action was just created and may not be in the
   * ledger cache yet.
   */
  readonly recentlyCreated: ReadonlySet<string>;
  /** Operator-wide dry-run switch. */
  readonly forceDryRun: boolean;
  /** A recurrence within this time of the last action escalates; after it the ladder starts over. */
  readonly escalationWindowMs: number;
  /** What the policy has learnt (status.learning): a rung that never held on a workload is not started with there. */
  readonly learning?: Learning;
  /**
   * The analyzer's recommendation for a firing among the applicable actions (ai.ts recommendFor). Asked only for
   * AI-decided firings — a predictive trigger, or any firing of a policy with strategy ai — and only when an action
   * could be created. Absent: such firings take the ladder like any other.
   */
  readonly recommend?: (target: SelectedTarget, firing: TriggerFiring, applicable: readonly ActionTemplate[]) => AdvisedRecommendation;
  /**
   * Storm suppression (the operator's stormSuppression): more than `maxWorkloads` workloads of one namespace seen
   * failing within the window — firing now, or with an action in it — is one incident: no new action there. `failing`
   * gives, per namespace, when each workload (targetKey of the workload, or of a pod without one) was last seen
   * failing, this pass's firings included. Absent: no suppression here (the safety gate still applies rule 16).
   */
  readonly storm?: {
    readonly maxWorkloads: number;
    readonly windowMs: number;
    readonly failing: (namespace: string) => ReadonlyMap<string, number>;
  };
}

/** A HealingAction to create. */
export interface ActionProposal {
  /** Deterministic name: the same firing evaluated twice yields the same name, so a second create is refused. */
  readonly name: string;
  readonly target: SelectedTarget;
  readonly firing: TriggerFiring;
  readonly action: ActionTemplate;
  readonly escalationLevel: number;
  readonly dryRun: boolean;
  readonly approvalRequired: boolean;
  /** Why this rung of the ladder (for the reasoning list and Events). */
  readonly rationale: string;
  /** Every rung was tried within the escalation window: this repeats the last one, and a human should look. */
  readonly ladderExhausted: boolean;
  /** Set when the analyzer chose the action (source: ai). */
  readonly ai?: {
    readonly rule: string;
    readonly confidence: number;
    readonly reasoning: readonly string[];
    readonly alternatives: readonly { readonly action: string; readonly confidence: number; readonly reason: string }[];
  };
}

/** A firing that does not become an action now, and why. */
export interface HeldFiring {
  readonly target: SelectedTarget;
  readonly firing: TriggerFiring;
  readonly reason: 'Monitoring' | 'InFlight' | 'NoApplicableAction' | 'AnalyzerDeclined' | 'StormSuppressed';
  readonly message: string;
}

/** The decision for one policy reconcile. */
export interface PolicyDecision {
  readonly proposals: readonly ActionProposal[];
  readonly held: readonly HeldFiring[];
  /** Names of triggers firing (or in cooldown) on at least one target. */
  readonly activeTriggers: readonly string[];
  /** Targets with a trigger that could not be evaluated, with the reason and its code (first per target). */
  readonly unknown: readonly { readonly target: SelectedTarget; readonly trigger: string; readonly reason: string; readonly code: UnknownCode }[];
  /** Earliest time a result may change by time alone: requeue then. */
  readonly checkAt?: number;
}

/** The policy's actions as a ladder: by priority (lower first), stable in spec order for equal priorities. */
export function ladder(actions: readonly ActionTemplate[]): ActionTemplate[] {
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => (x.a.priority ?? 10) - (y.a.priority ?? 10) || x.i - y.i)
    .map((x) => x.a);
}

/** Deterministic action name: policy name, action, and a hash of policy uid, target and sequence number. */
export function proposalName(policy: AnyPolicy, actionName: string, target: SelectedTarget, sequence: number): string {
  const hash = createHash('sha256')
    .update(`${policy.metadata.uid ?? policy.metadata.name ?? ''}/${target.ref.uid ?? targetKey(target.ref)}/${sequence}`)
    .digest('hex')
    .slice(0, 10);
  const prefix = `${(policy.metadata.name ?? 'policy').slice(0, 30)}-${actionName.slice(0, 20)}`.replace(/-+$/, '');
  return `${prefix}-${hash}`;
}

/**
 * The key under which a workload-level action (scale, rollback) claims its workload: one rollback of a Deployment at
 * a time, whichever of its pods fired. Undefined for actions that concern only their own target. A bad release
 * crash-loops every new pod; each pod's firing must not propose its own rollback of the same Deployment (the gate
 * would refuse all but one as Superseded — the right outcome, but a Blocked action per pod is noise in the ledger).
 */
export function workloadClaim(type: ActionType, target: TargetRef, workload: TargetRef | undefined): string | undefined {
  if (!WORKLOAD_LEVEL_TYPES.has(type)) return undefined;
  const w = workload ?? (target.kind === 'Pod' ? undefined : target);
  return w === undefined ? undefined : `${type}@${targetKey(w)}`;
}

/**
 * Why a target's namespace is in a storm (see PolicyDecisionInput.storm), or undefined when it is not. The verdict
 * depends only on the namespace and on whether the target's own workload is already among the failing ones, so it is
 * computed at most twice per namespace and decision, not once per target (a storm of thousands of firing pods must
 * not cost targets × failing workloads).
 */
function stormChecker(input: PolicyDecisionInput): (target: SelectedTarget) => string | undefined {
  const storm = input.storm;
  if (storm === undefined) return () => undefined;
  const { maxWorkloads, windowMs, failing } = storm;
  const now = input.now;
  const byNamespace = new Map<string, { seen: ReadonlyMap<string, number>; counted?: string | null; added?: string | null }>();
  const verdictOf = (ns: string, seen: ReadonlyMap<string, number>): string | null => {
    const v = stormVerdict(seen, maxWorkloads, windowMs, now);
    if (v === undefined) return null;
    return (
      `storm in namespace ${ns}: ${v.workloads} workloads failing in the last ${formatDuration(windowMs)} (limit ${maxWorkloads}); ` +
      `no new action there until it subsides (at the earliest in ${formatDuration(v.endsAt - now)}) — one incident, not a mass restart`
    );
  };
  return (target) => {
    const ns = target.ref.namespace;
    let entry = byNamespace.get(ns);
    if (entry === undefined) byNamespace.set(ns, (entry = { seen: failing(ns) }));
    const own = entry.seen.get(targetKey(target.workload ?? target.ref));
    if (own !== undefined && own > now - windowMs) {
      // Already counted among the failing workloads.
      entry.counted ??= verdictOf(ns, entry.seen);
      return entry.counted ?? undefined;
    }
    // Not yet counted: the verdict with one more workload failing now (whichever it is).
    entry.added ??= verdictOf(ns, new Map([...entry.seen, ['\u0000this target', now]]));
    return entry.added ?? undefined;
  };
}

function isInFlight(phase: ActionPhase): boolean {
  return !TERMINAL_PHASES.includes(phase) && phase !== 'Blocked';
}

/**
 * Chooses the rung: the first applicable action, or — when the last action on this target was verified (or
 * failed) within the escalation window and the problem is back — the next applicable one after it. A Blocked or
 * Cancelled last action did not act, so its rung is tried again.
 */
function chooseRung(
  steps: readonly ActionTemplate[],
  history: readonly ActionHistoryEntry[],
  now: number,
  windowMs: number,
  learnt: ReadonlyMap<string, Outcome>,
): { index: number; rationale: string } {
  const last = history.at(-1);
  if (!last || now - last.createdAt > windowMs) {
    const why = last ? 'first rung: the last action on this target is older than the escalation window' : 'first rung';
    return startRung(steps, learnt, why);
  }
  const lastIndex = steps.findIndex((s) => s.name === last.actionName);
  if (last.phase === 'Succeeded' || last.phase === 'Failed') {
    const verb = last.phase === 'Succeeded' ? 'was verified but the problem recurred' : 'failed';
    return { index: lastIndex + 1, rationale: `escalated: ${last.actionName} (${last.name}) ${verb}` };
  }
  return { index: Math.max(0, lastIndex), rationale: `retrying ${last.actionName}: the last attempt was ${last.phase}` };
}

type Outcome = NonNullable<Learning['outcomes']>[number];

/**
 * True when an action has never held on a workload: executed at least twice there for this trigger, and every
 * verified success came back within the escalation window (or none was verified).
 */
export function neverHeld(o: Pick<Outcome, 'successes' | 'failures' | 'recurrences'>): boolean {
  return o.successes + o.failures >= 2 && o.successes - o.recurrences <= 0;
}

/**
 * Where a new escalation starts: the first rung, except that rungs which never held on this workload for this
 * trigger (learning) are skipped — the last rung is always kept, so a policy never runs out of actions this way.
 */
function startRung(steps: readonly ActionTemplate[], learnt: ReadonlyMap<string, Outcome>, why: string): { index: number; rationale: string } {
  const skipped: string[] = [];
  let index = 0;
  while (index < steps.length - 1) {
    const o = learnt.get(steps[index]!.name);
    if (o === undefined || !neverHeld(o)) break;
    skipped.push(`${o.action} (${o.successes} verified, ${o.recurrences} recurred, ${o.failures} failed)`);
    index++;
  }
  if (skipped.length === 0) return { index, rationale: why };
  return { index, rationale: `${why}; learnt on this workload: skipped ${skipped.join(', ')} — it never held` };
}

/** Decides, for every target, whether to create an action now. Never throws, never reads the clock. */
export function decidePolicy(input: PolicyDecisionInput): PolicyDecision {
  const { policy, now } = input;
  const mode: PolicyMode = policy.spec.mode ?? 'automatic';
  const steps = ladder(policy.spec.actions);
  const proposals: ActionProposal[] = [];
  const stormIn = stormChecker(input);
  const held: HeldFiring[] = [];
  const unknown: { target: SelectedTarget; trigger: string; reason: string; code: UnknownCode }[] = [];
  const active = new Set<string>();
  let checkAt: number | undefined = input.clearCheckAt;
  // Workload claims held by actions in flight, just created, or proposed earlier in this pass: claim → who holds it.
  const claims = new Map<string, string>();
  for (const entries of input.history.values()) {
    for (const h of entries) if (h.claim !== undefined && isInFlight(h.phase)) claims.set(h.claim, `${h.name} is still ${h.phase}`);
  }
  for (const k of input.recentlyCreated) if (!claims.has(k)) claims.set(k, 'an action for it was just created');
  /** Holds a proposal whose workload another action already claims; else records its claim. True when held. */
  const claimedElsewhere = (target: SelectedTarget, firing: TriggerFiring, action: ActionTemplate, name: string): boolean => {
    const claim = workloadClaim(action.type, target.ref, target.workload);
    if (claim === undefined) return false;
    const holder = claims.get(claim);
    if (holder !== undefined) {
      const w = targetKey(target.workload ?? target.ref);
      held.push({ target, firing, reason: 'InFlight', message: `a ${action.type} of ${w} is already under way (${holder}); not proposing another for ${targetKey(target.ref)}` });
      return true;
    }
    claims.set(claim, `${name} was proposed in the same pass`);
    return false;
  };

  for (const { target, evaluations } of input.targets) {
    if (evaluations.checkAt !== undefined && (checkAt === undefined || evaluations.checkAt < checkAt)) checkAt = evaluations.checkAt;
    for (const r of evaluations.results) {
      if (r.status === 'firing' || r.status === 'cooldown') active.add(r.trigger);
    }
    const firstUnknown = evaluations.results.find((r) => r.status === 'unknown');
    if (firstUnknown) unknown.push({ target, trigger: firstUnknown.trigger, reason: firstUnknown.reason, code: firstUnknown.code });

    const firing = evaluations.firing[0];
    if (!firing) continue;
    const key = targetKey(target.ref);
    const history = input.history.get(key) ?? [];
    if (mode === 'monitor') {
      held.push({ target, firing, reason: 'Monitoring', message: `mode monitor: would act on ${key} (${firing.reason})` });
      continue;
    }
    const inFlight = history.find((h) => isInFlight(h.phase));
    if (inFlight || input.recentlyCreated.has(key)) {
      held.push({
        target,
        firing,
        reason: 'InFlight',
        message: inFlight ? `${inFlight.name} is still ${inFlight.phase} for ${key}` : `an action for ${key} was just created`,
      });
      continue;
    }
    const applicable = steps.filter((s) => APPLICABLE[s.type].includes(target.ref.kind) && (s.type !== 'rollback' || target.ref.kind === 'Deployment' || target.workload?.kind === 'Deployment'));
    if (applicable.length === 0) {
      held.push({ target, firing, reason: 'NoApplicableAction', message: `no action of this policy can act on a ${target.ref.kind}` });
      continue;
    }
    const storm = stormIn(target);
    if (storm !== undefined) {
      held.push({ target, firing, reason: 'StormSuppressed', message: storm });
      continue;
    }
    const dryRun = mode === 'dryrun' || input.forceDryRun;
    if (input.recommend && (firing.type === 'predictive' || policy.spec.strategy === 'ai')) {
      const rec = input.recommend(target, firing, applicable);
      const alternatives = rec.alternatives.map((a) => ({ action: 'name' in a.action ? a.action.name : a.action.type, confidence: a.confidence, reason: a.whyNot }));
      if (rec.kind === 'none') {
        held.push({ target, firing, reason: 'AnalyzerDeclined', message: `the analyzer recommends no action on ${key}: ${rec.reasoning.join('; ')}` });
        continue;
      }
      const chosen = applicable.find((a) => a.name === rec.action.name) ?? applicable[0]!;
      // A scale the analyzer sized is an absolute one, kept within the action's own bounds.
      const bounds = chosen.scaleAction;
      const replicas = rec.replicas === undefined ? undefined : Math.min(bounds?.maxReplicas ?? Number.MAX_SAFE_INTEGER, Math.max(bounds?.minReplicas ?? 0, rec.replicas));
      const action: ActionTemplate =
        chosen.type === 'scale' && replicas !== undefined ? { ...chosen, scaleAction: { ...chosen.scaleAction, direction: 'absolute', replicas } } : chosen;
      const name = proposalName(policy, action.name, target, history.length);
      if (claimedElsewhere(target, firing, action, name)) continue;
      proposals.push({
        name,
        target,
        firing,
        action,
        escalationLevel: Math.max(0, steps.findIndex((s) => s.name === action.name)),
        dryRun,
        approvalRequired: mode === 'manual' || action.requiresApproval === true,
        rationale: `the analyzer chose ${action.name} (${rec.rule}, confidence ${rec.confidence.toFixed(2)})`,
        ladderExhausted: false,
        ai: { rule: rec.rule, confidence: rec.confidence, reasoning: rec.reasoning, alternatives },
      });
      continue;
    }
    // Dry runs climb their own ladder: a planned restart says nothing about whether a real one worked.
    const workload = targetKey(target.workload ?? target.ref);
    const learnt = new Map((input.learning?.outcomes ?? []).filter((o) => o.workload === workload && o.trigger === firing.trigger).map((o) => [o.action, o] as const));
    const rung = chooseRung(applicable, history.filter((h) => h.dryRun === dryRun), now, input.escalationWindowMs, learnt);
    const exhausted = rung.index >= applicable.length;
    const index = exhausted ? applicable.length - 1 : rung.index;
    const action = applicable[index]!;
    const name = proposalName(policy, action.name, target, history.length);
    if (claimedElsewhere(target, firing, action, name)) continue;
    proposals.push({
      name,
      target,
      firing,
      action,
      escalationLevel: index,
      dryRun,
      approvalRequired: mode === 'manual' || action.requiresApproval === true,
      rationale: exhausted
        ? `every action of the ladder (${applicable.map((a) => a.name).join(' → ')}) was tried within the escalation window; repeating ${action.name} — a human should look`
        : rung.rationale,
      ladderExhausted: exhausted,
    });
  }
  return {
    proposals,
    held,
    activeTriggers: [...active].sort(),
    unknown,
    ...(checkAt === undefined ? {} : { checkAt }),
  };
}
