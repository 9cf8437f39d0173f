/**
 * The policy reconciler (I/O shell), for HealingPolicies and ClusterHealingPolicies alike: reads a policy and the
 * informer caches, asks the pure parts what to do (select → evaluate triggers → decide), creates HealingActions
 * (in their targets' namespaces), records Events and metrics, and writes the policy status. The requeue is the
 * exact time the next trigger could fire. Queue keys are ledger policy keys (safety/types policyKey):
 * "namespace/name" for a HealingPolicy, "ClusterHealingPolicy/name" for a cluster policy.
 */
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import { BUILTIN_METRICS } from '../../api/v1alpha1/common.js';
import { CROSS_NAMESPACE_REFUSAL, type AnyPolicy, type HealingPolicyStatus } from '../../api/v1alpha1/healing-policy.js';
import { validatePolicy } from '../../api/v1alpha1/validate.js';
import type { EventSink } from '../../k8s/event-recorder.js';
import { describeKubeError, isAlreadyExists, isNotFound } from '../../k8s/errors.js';
import type { SeriesStore } from '../../metrics/series-store.js';
import { targetKey, type TargetObservations, type TargetRef } from '../../metrics/types.js';
import type { Logger } from '../../observability/logger.js';
import type { OperatorMetrics } from '../../observability/metrics.js';
import type { Clock } from '../../runtime/clock.js';
import { FencedError, type ReconcileResult } from '../../runtime/controller.js';
import { actionsAllowed, formatDuration, rollsOutAt } from '../../safety/budget.js';
import { stormVerdict } from '../../safety/rules.js';
import { executedAt, hasExecuted, parsePolicyKey, policyIdOf, policyKey, settledAt, toLedgerEntry, type PolicyId } from '../../safety/types.js';
import {
  DEFAULT_EVALUATE_OPTIONS,
  evaluateTriggers,
  EVENTS_UNAVAILABLE_KEY,
  type EvaluateOptions,
  type TriggerEvaluations,
  type TriggerFiring,
  type TriggerState,
} from '../../triggers/evaluate.js';
import { buildHealingAction, LABELS } from './build-action.js';
import { updateLearning } from './learning.js';
import { decidePolicy, workloadClaim, type ActionHistoryEntry, type PolicyDecision, type PolicyDecisionInput } from './decide.js';
import { FailingWorkloads } from './failing.js';
import { createSelectionCache, type Inventory, type SelectedTarget } from './select.js';
import { AI_METRICS, analyzeTarget, recommendFor, type AiContext, type TargetAnalysis } from './ai.js';
import type { AdvisedRecommendation } from '../../ai/answer.js';
import type { Advisor } from '../../ai/advisor.js';
import { summarizeObservations } from '../../ai/request.js';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import { assessSeries } from '../../analysis/assess.js';
import { createAssessmentCache } from '../../triggers/assessment-cache.js';
import { parseDuration } from '../../triggers/duration.js';
import { findCondition } from '../conditions.js';
import { invalidPolicyStatus, overBudgetPolicyStatus, POLICY_CONDITIONS, policyStatus, statusMergePatch, statusNeedsWrite, statusRefreshPhase } from './status.js';
import { changeDelayMs, type PassCost } from './pacing.js';

/** Event reasons on policies and targets. */
export const POLICY_EVENTS = {
  ActionCreated: 'HealingActionCreated',
  WouldAct: 'WouldAct',
  LadderExhausted: 'EscalationExhausted',
  InvalidPolicy: 'InvalidPolicy',
  SelectionProblem: 'SelectionProblem',
  DataUnavailable: 'DataUnavailable',
  DataAvailable: 'DataAvailable',
  EvaluationOverBudget: 'EvaluationOverBudget',
  CrossNamespaceSelector: 'CrossNamespaceSelector',
  StormSuppressed: 'StormSuppressed',
  StormOver: 'StormOver',
} as const;

/** The API writes the reconciler makes. */
export interface PolicyApi {
  /** Creates `action` in `namespace` (its target's). */
  createAction(namespace: string, action: HealingAction): Promise<void>;
  /** Merge-patches the status subresource of policy `id` with `status` (null removes a field). */
  patchPolicyStatus(id: PolicyId, status: HealingPolicyStatus | Record<string, unknown>): Promise<void>;
}

/** Operator settings the reconciler reads. */
export interface PolicyReconcilerSettings {
  readonly forceDryRun: boolean;
  readonly paused: boolean;
  readonly prometheusConfigured: boolean;
  readonly escalationWindowMs: number;
  /**
   * The longest the reconciler waits before re-evaluating a policy with something under way: a target firing, held,
   * proposed or of unknown state.
   */
  readonly maxRequeueMs: number;
  /**
   * The longest it waits before re-evaluating a quiet policy — every target clear. Each result that can change by
   * time alone says when (a sample going stale, a forecast entering its horizon, an event leaving its window) and
   * so does the budget in the status, so this is only a safety net; absent: maxRequeueMs.
   */
  readonly quietRequeueMs?: number;
  /**
   * lastEvaluated is refreshed once in each period of this length even when nothing changed (each policy at its own
   * point of the period: statusRefreshPhase).
   */
  readonly statusRefreshMs: number;
  /**
   * The longest one policy's trigger evaluation may run in one reconcile. Past it the pass is abandoned, the policy
   * is reported (Ready=False EvaluationOverBudget, an Event, a metric) and skipped for ten times the budget, so one
   * tenant's policy cannot take the operator's time from everyone else's.
   */
  readonly evaluationBudgetMs: number;
  readonly evaluate?: EvaluateOptions;
  /**
   * Storm suppression (stormSuppression): more than `maxWorkloads` workloads of a namespace failing within `windowMs`
   * — firing a trigger of a policy that acts, or with a HealingAction — holds every new action there, as one incident
   * with one Event per policy, instead of one Blocked HealingAction per firing. Absent: disabled here (the safety gate
   * applies its own storm rule to the ledger either way).
   */
  readonly storm?: { readonly maxWorkloads: number; readonly windowMs: number };
}

/** Dependencies of the reconciler. */
export interface HealingPolicyReconcilerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly events: EventSink;
  readonly store: SeriesStore;
  readonly api: PolicyApi;
  readonly settings: PolicyReconcilerSettings;
  readonly getPolicy: (id: PolicyId) => AnyPolicy | undefined;
  /**
   * Whether this replica writes policy `id`'s status (default: always). Sharded, every replica evaluates a cluster
   * policy over the namespaces it holds, and one of them writes its status (docs/scaling.md).
   */
  readonly writesStatus?: (id: PolicyId) => boolean;
  /** The HealingActions that name policy `id` (its ledger), in whatever namespaces they live. */
  readonly listActions: (id: PolicyId) => readonly HealingAction[];
  readonly inventory: () => Inventory;
  /** Whether the Event informer has synced (event triggers are unknown until it has). */
  readonly eventsSynced: () => boolean;
  /** The last error of each failing PromQL query, and of the metrics.k8s.io poll. */
  readonly prometheusErrors: () => ReadonlyMap<string, string>;
  readonly metricsServerError: () => string | undefined;
  /** Monotonic milliseconds for measuring work (default performance.now); tests pass a stepped one. */
  readonly stopwatch?: () => number;
  /** The optional LLM advisor (ai.provider): a second opinion on AI-decided firings, with fallback. */
  readonly advisor?: Pick<Advisor, 'advise'>;
  /** Lets other work run between slices of a long evaluation (default: setImmediate). */
  readonly yieldToEventLoop?: () => Promise<void>;
  /**
   * Fencing: true while this replica may act in the namespace (with leader election, `elector.isLeader()`; sharded,
   * also the Lease of the namespace's shard; undefined namespace: membership only). Asked right before every
   * HealingAction create and every status write; false throws FencedError, so a leader that was frozen and wakes
   * after another took the Lease creates and writes nothing. Default: always true.
   */
  readonly mayAct?: (namespace?: string) => boolean;
}

const EXPECTATION_TTL_MS = 60_000;
/** Evaluation yields to the event loop after this much uninterrupted work, so informers and probes keep running. */
const EVALUATION_SLICE_MS = 10;
/** The trigger states of a target that never fired: one shared empty map, not one per target per pass. */
const NO_TRIGGER_STATES: ReadonlyMap<string, TriggerState> = new Map();
/** A policy over its evaluation budget is skipped for this many times the budget. */
const OVER_BUDGET_PENALTY_FACTOR = 10;

/** Reconciles HealingPolicies. One instance per operator; `reconcile` is the controller's ReconcileFn. */
export class HealingPolicyReconciler {
  private readonly deps: HealingPolicyReconcilerDeps;
  /** policy key → target key → until when: actions created but maybe not yet in the informer cache. */
  private readonly expectations = new Map<string, Map<string, number>>();
  private readonly invalidReported = new Map<string, number>();
  /** policy key → until when it is skipped for running over its evaluation budget. */
  private readonly overBudgetUntil = new Map<string, number>();
  /** policy key → what its last complete evaluation pass cost (pacing.ts). */
  private readonly passCosts = new Map<string, PassCost>();
  /** policy key → whether a data source was failing at the last reconcile (for the DataUnavailable Events). */
  private readonly degraded = new Map<string, boolean>();
  /**
   * Validation of each cached policy object, memoised by identity: the informer replaces the object when the policy
   * changes, and validating (schema plus rules) on every reconcile was a tenth of the operator's CPU in the scale
   * benchmark.
   */
  private readonly validated = new WeakMap<AnyPolicy, { raw: AnyPolicy; crossNamespace?: string; validation: ReturnType<typeof validatePolicy> }>();
  /** Selections memoised per policy object and namespace versions (select.ts). */
  private readonly select = createSelectionCache();
  /** Series assessments memoised across reconciles: an unchanged series is not assessed again. */
  private readonly assessments = createAssessmentCache(assessSeries);
  /** The storm's evidence, shared by all policies (undefined: storm suppression off). */
  private readonly failing: FailingWorkloads | undefined;
  /**
   * `${policy key}|${namespace}` → the targets held so far: storms this policy has announced (one StormSuppressed
   * Event each, then StormOver), and whose firings were counted (each target once per storm, not per evaluation).
   */
  private readonly storms = new Map<string, Set<string>>();

  constructor(deps: HealingPolicyReconcilerDeps) {
    this.deps = deps;
    const storm = deps.settings.storm;
    this.failing = storm === undefined ? undefined : new FailingWorkloads(storm.windowMs);
  }

  /** The API writes, each behind the fence. */
  private async createAction(namespace: string, action: HealingAction): Promise<void> {
    this.fence(`creating a HealingAction in ${namespace}`, namespace);
    await this.deps.api.createAction(namespace, action);
  }

  private async patchStatus(id: PolicyId, status: HealingPolicyStatus | Record<string, unknown>): Promise<void> {
    // A cluster policy's status has no namespace: membership is what is checked (writesStatus picks its writer).
    this.fence(`writing the status of policy ${id.name}`, id.kind === 'HealingPolicy' ? id.namespace : undefined);
    await this.deps.api.patchPolicyStatus(id, status);
  }

  private fence(what: string, namespace: string | undefined): void {
    if (this.deps.mayAct !== undefined && !this.deps.mayAct(namespace)) throw new FencedError(`not ${what}: this replica no longer holds the leader lease${namespace === undefined ? '' : ` for namespace ${namespace}`}`);
  }

  /** Metric queries a policy needs collected (built-in names and PromQL), for the collectors. */
  static queriesOf(policy: Pick<AnyPolicy, 'spec'>): string[] {
    const out = new Set<string>();
    // The analyzer weighs memory and CPU whatever fired, so AI-decided policies need both collected.
    if (policy.spec.strategy === 'ai' || policy.spec.triggers.some((t) => t.type === 'predictive')) for (const m of AI_METRICS) out.add(m);
    for (const t of policy.spec.triggers) {
      if (t.metricTrigger) out.add(t.metricTrigger.query);
      if (t.predictiveTrigger) out.add(t.predictiveTrigger.metric ?? 'memory_usage_percent');
    }
    return [...out];
  }

  /**
   * How long a reconcile of the policy with key `key` that a change of observations asks for should wait (ms; 0: at
   * once): paced by the cost of its last evaluation pass (pacing.ts). Reconciles for any other reason are not paced.
   */
  changeDelayMs(key: string): number {
    return changeDelayMs(this.passCosts.get(key), this.deps.clock.now());
  }

  /** Reconciles the policy with ledger key `key`. Throws only for API errors worth a retry with back-off. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { clock, settings } = this.deps;
    const id = parsePolicyKey(key);
    const { namespace, name } = id;
    const stored = this.deps.getPolicy(id);
    if (!stored) {
      this.expectations.delete(key);
      this.invalidReported.delete(key);
      this.overBudgetUntil.delete(key);
      this.passCosts.delete(key);
      this.degraded.delete(key);
      for (const s of this.storms.keys()) if (s.startsWith(`${key}|`)) this.storms.delete(s);
      return {};
    }
    const now = clock.now();
    const skippedUntil = this.overBudgetUntil.get(key);
    if (skippedUntil !== undefined && skippedUntil > now) return { requeueAfterMs: skippedUntil - now };
    // A HealingPolicy stored before selector.namespaces was refused: confined to its own namespace and reported.
    let checked = this.validated.get(stored);
    if (checked === undefined) {
      const confined = confineToOwnNamespace(stored);
      checked = { raw: confined.policy, ...(confined.crossNamespace === undefined ? {} : { crossNamespace: confined.crossNamespace }), validation: validatePolicy(confined.policy) };
      this.validated.set(stored, checked);
    }
    const { raw, crossNamespace, validation } = checked;
    if (crossNamespace !== undefined) this.reportCrossNamespace(raw, crossNamespace);
    if (!validation.valid || !validation.value) {
      return this.reportInvalid(raw, validation.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`), now);
    }
    this.invalidReported.delete(key);
    const policy = validation.value;
    const generation = raw.metadata.generation ?? 0;

    const selection = this.select(policy, this.deps.inventory());
    const ledgerObjects = this.deps.listActions(id);
    const ledger = ledgerObjects.map((a) => toLedgerEntry(a)).filter((e) => e !== undefined);
    this.settleExpectations(key, ledgerObjects, now);

    const queries = HealingPolicyReconciler.queriesOf(policy);
    const options: EvaluateOptions = { ...(settings.evaluate ?? DEFAULT_EVALUATE_OPTIONS), assess: this.assessments.assess };
    const history = new Map<string, ActionHistoryEntry[]>();
    for (const a of [...ledgerObjects].sort((x, y) => (x.metadata.creationTimestamp ?? '').localeCompare(y.metadata.creationTimestamp ?? ''))) {
      const t = a.spec.targetResource;
      const k = targetKey(t);
      history.set(k, [
        ...(history.get(k) ?? []),
        {
          name: a.metadata.name ?? '',
          actionName: a.spec.action.name,
          escalationLevel: a.spec.escalationLevel ?? 0,
          phase: a.status?.phase ?? 'Pending',
          createdAt: Date.parse(a.metadata.creationTimestamp ?? '') || now,
          dryRun: a.spec.dryRun ?? false,
          type: a.spec.action.type,
          claim: claimOf(a),
        },
      ]);
    }

    // Last firing per target and trigger, indexed once: a policy over thousands of pods must not scan the ledger
    // per target. The trigger's cooldown runs from where the safety gate's does — when an executed action settled
    // (finished) — so the policy does not create an action that the gate is bound to refuse as Blocked(Cooldown)
    // when the previous one took longer than its cooldown to verify. An action that never executed (Blocked)
    // still counts from its creation: it spaces out the refusals of a firing that keeps being denied.
    const lastFired = new Map<string, Map<string, number>>();
    for (const e of ledger) {
      if (e.trigger === undefined) continue;
      const k = targetKey(e.target);
      const m = lastFired.get(k) ?? new Map<string, number>();
      m.set(e.trigger, Math.max(m.get(e.trigger) ?? Number.NEGATIVE_INFINITY, hasExecuted(e) ? settledAt(e) : e.createdAt));
      lastFired.set(k, m);
    }
    // Most targets of a quiet cluster are clear, and a metric trigger is clear by its latest sample alone: evaluate
    // on the latest samples first, and read whole series only for targets that are not clear (the benchmark's
    // largest remaining reconcile cost was copying series). The analyzer reads history, so its policies skip this.
    const quickFirst = policy.spec.strategy !== 'ai' && !policy.spec.triggers.some((t) => t.type === 'predictive');
    // A target on which every trigger is clear is not kept: only its checkAt matters to the decision. What a pass of
    // thousands of targets keeps alive across its yields survives the young generation's collections and is swept
    // later by a full one — the clear results of the pass over every pod (results, values, reason texts) were most
    // of what reached the old generation in a quiet minute (allocation profile, docs/scaling.md), and so of RSS.
    let clearCheckAt: number | undefined;
    const allClear = (evaluations: TriggerEvaluations): boolean => {
      if (!evaluations.results.every((r) => r.status === 'clear')) return false;
      if (evaluations.checkAt !== undefined && (clearCheckAt === undefined || evaluations.checkAt < clearCheckAt)) clearCheckAt = evaluations.checkAt;
      return true;
    };
    const evaluated = await this.withinBudget(selection.targets, (target) => {
      const fired = lastFired.size === 0 ? undefined : lastFired.get(targetKey(target.ref));
      const states = fired === undefined ? NO_TRIGGER_STATES : new Map<string, TriggerState>([...fired].map(([trigger, at]) => [trigger, { lastFiredAt: at }] as const));
      if (quickFirst && allClear(evaluateTriggers(policy.spec.triggers, this.observe(target.ref, queries, policy, true), states, now, options))) return undefined;
      // Not clear on the latest samples, or a policy that reads history: judged on the whole series. The
      // observations are kept with the result, since the analyzer reads a firing target's again.
      const observations = this.observe(target.ref, queries, policy);
      const evaluations = evaluateTriggers(policy.spec.triggers, observations, states, now, options);
      return allClear(evaluations) ? undefined : { target, observations, evaluations };
    });
    if (!evaluated.complete) return this.reportOverBudget(raw, evaluated, selection.targets.length, now);
    this.passCosts.set(key, { endedAt: clock.now(), loopMs: evaluated.elapsedMs });
    if (this.overBudgetUntil.delete(key)) this.deps.logger.info({ policy: key }, 'policy evaluation is back within its budget');
    const targets = evaluated.results;
    const observationsOf = new Map(targets.flatMap((t) => (t.observations === undefined ? [] : [[t.target, t.observations] as const])));
    const predictiveHorizon = policy.spec.triggers.find((t) => t.type === 'predictive')?.predictiveTrigger?.horizon;
    const aiContext: AiContext = {
      now,
      inventory: this.deps.inventory(),
      learning: raw.status?.learning,
      assess: this.assessments.assess,
      horizonMs: parseDuration(predictiveHorizon ?? '30m'),
    };
    const asked: { target: SelectedTarget; firing: TriggerFiring; applicable: readonly ActionTemplate[]; analysis: TargetAnalysis }[] = [];
    const storm = this.stormInput(policy, targets, ledgerObjects, now);
    const decisionInput = {
      policy,
      now,
      targets,
      ...(clearCheckAt === undefined ? {} : { clearCheckAt }),
      history,
      ...(storm === undefined ? {} : { storm }),
      recentlyCreated: new Set(this.expectations.get(key)?.keys() ?? []),
      forceDryRun: settings.forceDryRun,
      escalationWindowMs: settings.escalationWindowMs,
      ...(raw.status?.learning === undefined ? {} : { learning: raw.status.learning }),
    };
    let decision = decidePolicy({
      ...decisionInput,
      recommend: (target, firing, applicable) => {
        const analysis = analyzeTarget(target, observationsOf.get(target) ?? emptyObservations(target.ref), firing, applicable, aiContext);
        asked.push({ target, firing, applicable, analysis });
        return analysis.recommendation;
      },
    });
    // With an LLM configured, it gives a second opinion on each firing the analyzer decided; the decision is then
    // taken again with its answers (the same pure decision, so nothing else changes). Any failure falls back.
    const advised = this.deps.advisor && asked.length > 0 ? await this.adviseAll(policy, asked) : undefined;
    if (advised !== undefined) {
      decision = decidePolicy({ ...decisionInput, recommend: (target, firing, applicable) => advised.get(target) ?? recommendFor(target, observationsOf.get(target) ?? emptyObservations(target.ref), firing, applicable, aiContext) });
    }
    for (const { target, analysis } of asked) {
      const r = advised?.get(target) ?? analysis.recommendation;
      this.deps.metrics.aiRecommendationsTotal.inc({ policy: name, namespace, outcome: r.kind === 'action' ? r.action.type : 'none' });
      // A declined firing is asked again on every reconcile while it lasts: only the decisions are worth info.
      this.deps.logger[r.kind === 'action' ? 'info' : 'debug'](
        { policy: key, target: targetKey(target.ref), recommendation: r.kind === 'action' ? r.action.name : 'none', rule: r.rule, ...(r.kind === 'action' ? { confidence: r.confidence } : {}), reasoning: r.reasoning },
        'analyzer recommendation',
      );
    }

    let created = 0;
    for (const p of decision.proposals) {
      const action = buildHealingAction(policy, p, now);
      try {
        await this.createAction(action.metadata.namespace ?? p.target.ref.namespace, action);
      } catch (e: unknown) {
        if (!isAlreadyExists(e)) throw e;
        // The same firing was already recorded (deterministic name): nothing to do.
        continue;
      }
      created++;
      this.expect(key, targetKey(p.target.ref), now);
      const claim = workloadClaim(p.action.type, p.target.ref, p.target.workload);
      if (claim !== undefined) this.expect(key, claim, now);
      this.deps.metrics.triggerFiringsTotal.inc({ policy: name, namespace, trigger: p.firing.trigger, type: p.firing.type });
      // The action's own namespace, as the action controller counts its later phases (a cluster policy has none).
      this.deps.metrics.actionsTotal.inc({ policy: name, namespace: action.metadata.namespace ?? p.target.ref.namespace, type: p.action.type, phase: 'Pending', source: p.ai ? 'ai' : 'rule' });
      if (p.ai) this.deps.metrics.aiConfidence.observe(p.ai.confidence);
      this.deps.metrics.detectionLatencySeconds.observe(Math.max(0, now - (p.firing.breachSince ?? p.firing.since)) / 1000);
      const message = `${p.dryRun ? 'dry run: ' : ''}${p.action.type} ${p.target.ref.kind}/${p.target.ref.name} (${action.metadata.name ?? ''}): ${p.firing.reason}; ${p.rationale}`;
      this.deps.events.record(policySubject(policy), { type: 'Normal', reason: POLICY_EVENTS.ActionCreated, message, action: 'Evaluate' });
      this.deps.events.record(p.target.ref, { type: 'Normal', reason: POLICY_EVENTS.ActionCreated, message: `policy ${name}: ${message}` });
      if (p.ladderExhausted) {
        this.deps.events.record(p.target.ref, { type: 'Warning', reason: POLICY_EVENTS.LadderExhausted, message: `policy ${name}: ${p.rationale}` });
      }
      this.deps.logger.info(
        {
          policy: key,
          target: targetKey(p.target.ref),
          action: action.metadata.name,
          trigger: p.firing.trigger,
          reason: p.firing.reason,
          source: p.ai ? 'ai' : 'rule',
          ...(p.ai ? { confidence: p.ai.confidence, reasoning: p.ai.reasoning, alternatives: p.ai.alternatives } : {}),
        },
        'created HealingAction',
      );
    }
    for (const h of decision.held) {
      if (h.reason === 'Monitoring') {
        this.deps.metrics.triggerFiringsTotal.inc({ policy: name, namespace, trigger: h.firing.trigger, type: h.firing.type });
        this.deps.events.record(policySubject(policy), { type: 'Normal', reason: POLICY_EVENTS.WouldAct, message: h.message });
      } else if (h.reason === 'NoApplicableAction') {
        this.deps.events.record(policySubject(policy), { type: 'Warning', reason: POLICY_EVENTS.LadderExhausted, message: h.message });
        this.deps.events.record(h.target.ref, { type: 'Warning', reason: POLICY_EVENTS.LadderExhausted, message: `policy ${name}: ${h.message}` });
      }
    }

    this.reportStorms(policy, key, decision, now);

    const maxActionsPerHour = policy.spec.safetyRules?.maxActionsPerHour ?? 5;
    const allowed = actionsAllowed({ key: policyKey(namespace, name, id.kind), maxActionsPerHour }, ledger, now);
    const lastActionAt = ledger.reduce<number | undefined>((m, e) => (m === undefined || e.createdAt > m ? e.createdAt : m), undefined);
    const unknownReasons = [...new Set(decision.unknown.map((u) => `${u.trigger}: ${u.reason}`))];
    this.reportDataSources(raw, key, decision.unknown);
    const learning = updateLearning(raw.status?.learning, ledgerObjects, settings.escalationWindowMs, now);
    const status = policyStatus(raw.status, {
      now,
      generation,
      matched: selection.targets.length,
      activeTriggers: decision.activeTriggers,
      actionsTaken: ledger.filter(hasExecuted).length,
      actionsAllowed: allowed,
      maxActionsPerHour,
      ...(lastActionAt === undefined && created === 0 ? {} : { lastActionAt: created > 0 ? now : (lastActionAt ?? now) }),
      paused: settings.paused,
      selectionProblems: selection.problems,
      unknownReasons,
      ...(crossNamespace === undefined ? {} : { crossNamespace }),
      ...(learning === undefined ? {} : { learning }),
    });
    if ((this.deps.writesStatus?.(id) ?? true) && statusNeedsWrite(raw.status, status, now, settings.statusRefreshMs, statusRefreshPhase(key, settings.statusRefreshMs))) {
      try {
        await this.patchStatus(id, statusMergePatch(raw.status, status));
      } catch (e: unknown) {
        if (!isNotFound(e)) throw e;
      }
    }
    const quiet = created === 0 && decision.proposals.length === 0 && decision.held.length === 0 && decision.unknown.length === 0 && decision.activeTriggers.length === 0;
    const floor = now + (quiet ? (settings.quietRequeueMs ?? settings.maxRequeueMs) : settings.maxRequeueMs);
    // actionsAllowed in the status rises when an execution leaves the rolling hour, with nothing else changing.
    const next = Math.min(floor, decision.checkAt ?? floor, rollsOutAt(ledger.filter(hasExecuted).map(executedAt), now) ?? floor);
    return { requeueAfterMs: Math.max(50, next - now) };
  }

  /**
   * Runs `fn` over `items`, yielding to the event loop after every slice of work, and stops once the policy's
   * evaluation budget is spent. `results` holds fn's results other than undefined (nothing to keep for that item);
   * `evaluated` counts the items fn ran on; `complete` is false when it stopped early.
   */
  private async withinBudget<T, R>(items: readonly T[], fn: (item: T) => R | undefined): Promise<{ results: R[]; evaluated: number; complete: boolean; elapsedMs: number }> {
    const stopwatch = this.deps.stopwatch ?? (() => performance.now());
    const yieldNow = this.deps.yieldToEventLoop ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
    const budget = this.deps.settings.evaluationBudgetMs;
    const results: R[] = [];
    let evaluated = 0;
    let elapsedMs = 0;
    let sliceStart = stopwatch();
    for (const item of items) {
      const r = fn(item);
      evaluated++;
      if (r !== undefined) results.push(r);
      const t = stopwatch();
      if (t - sliceStart >= EVALUATION_SLICE_MS || elapsedMs + (t - sliceStart) > budget) {
        elapsedMs += t - sliceStart;
        if (elapsedMs > budget) return { results, evaluated, complete: evaluated === items.length, elapsedMs };
        await yieldNow();
        sliceStart = stopwatch();
      }
    }
    elapsedMs += stopwatch() - sliceStart;
    return { results, evaluated, complete: true, elapsedMs };
  }

  /** Marks a policy whose evaluation ran over budget (status, Event, metric) and skips it for a while. */
  private async reportOverBudget(raw: AnyPolicy, run: { evaluated: number; elapsedMs: number }, total: number, now: number): Promise<ReconcileResult> {
    const id = policyIdOf(raw);
    const { namespace, name } = id;
    const key = policyKey(namespace, name, id.kind);
    const budget = this.deps.settings.evaluationBudgetMs;
    const penaltyMs = Math.max(1000, OVER_BUDGET_PENALTY_FACTOR * budget);
    const firstTime = !this.overBudgetUntil.has(key);
    this.overBudgetUntil.set(key, now + penaltyMs);
    const message =
      `evaluating ${run.evaluated} of ${total} targets took ${Math.round(run.elapsedMs)} ms, over the ${budget} ms budget: ` +
      `this pass was abandoned and the policy is skipped for ${Math.round(penaltyMs / 1000)}s; narrow its selector or raise policyEvaluationBudgetSeconds`;
    this.deps.metrics.policyEvaluationOverrunsTotal.inc({ policy: name, namespace });
    this.deps.logger.warn({ policy: key, elapsedMs: Math.round(run.elapsedMs), evaluated: run.evaluated, total }, 'policy evaluation over budget: skipped');
    if (firstTime) this.deps.events.record(policySubject(raw), { type: 'Warning', reason: POLICY_EVENTS.EvaluationOverBudget, message, action: 'Evaluate' });
    try {
      if (this.deps.writesStatus?.(id) ?? true) await this.patchStatus(id, overBudgetPolicyStatus(raw, message, now));
    } catch (e: unknown) {
      if (e instanceof FencedError) throw e;
      if (!isNotFound(e)) this.deps.logger.warn({ policy: key, err: describeKubeError(e) }, 'could not write status of a policy over budget');
    }
    return { requeueAfterMs: penaltyMs };
  }

  /**
   * Asks the LLM advisor about every firing the analyzer decided, in parallel (the advisor bounds concurrency and
   * time). A fallback keeps the analyzer's recommendation and says why in its reasoning. Never throws.
   */
  private async adviseAll(policy: AnyPolicy, asked: readonly { target: SelectedTarget; firing: TriggerFiring; applicable: readonly ActionTemplate[]; analysis: TargetAnalysis }[]): Promise<Map<SelectedTarget, AdvisedRecommendation>> {
    const advisor = this.deps.advisor;
    const out = new Map<SelectedTarget, AdvisedRecommendation>();
    if (advisor === undefined) return out;
    const id = policyIdOf(policy);
    await Promise.all(
      asked.map(async ({ target, firing, analysis }) => {
        const { input, recommendation } = analysis;
        const result = await advisor.advise({
          policy: { kind: id.kind, ...(id.kind === 'HealingPolicy' ? { namespace: id.namespace } : {}), name: id.name },
          target: target.ref,
          trigger: { name: firing.trigger, type: firing.type, reason: firing.reason, values: firing.values },
          builtin: recommendation,
          ...summarizeObservations({ now: input.now, events: input.events, conditions: input.conditions, ...(input.memory ? { memory: input.memory } : {}), ...(input.cpu ? { cpu: input.cpu } : {}) }),
          allowedActions: input.allowedActions,
          // The answer may name only this target: the decision acts on the target that breached.
          allowedTargets: [target.ref],
        });
        out.set(target, result.source === 'llm' ? result.recommendation : { ...recommendation, reasoning: [...recommendation.reasoning, `LLM advice not used (${result.fallbackReason}): the built-in analyzer decided`] });
      }),
    );
    return out;
  }

  /**
   * A target's observations, with reasons for data that cannot exist (no Prometheus, events not synced yet).
   * `latestOnly`: the quick first pass — latest samples only, read live from the store (no copies), so the result
   * must be evaluated at once and not kept (see SeriesStore.observations).
   */
  private observe(ref: TargetRef, queries: readonly string[], policy: AnyPolicy, latestOnly = false): TargetObservations {
    const obs = this.deps.store.observations(ref, { metrics: queries, latestOnly, live: latestOnly });
    const extra = new Map<string, string>();
    for (const q of queries) {
      if ((BUILTIN_METRICS as readonly string[]).includes(q)) {
        if (q.includes('usage') && !obs.series.has(q) && this.deps.metricsServerError()) extra.set(q, this.deps.metricsServerError() ?? '');
        continue;
      }
      if (!this.deps.settings.prometheusConfigured) {
        extra.set(q, `"${q.slice(0, 80)}" is not a built-in metric and no Prometheus URL is configured`);
      } else {
        // Also when samples are still held: once they go stale, the reason must name the failing query's error
        // (a fresh sample is still used, whatever the error).
        const err = this.deps.prometheusErrors().get(q);
        if (err) extra.set(q, err);
      }
    }
    if (policy.spec.triggers.some((t) => t.type === 'event') && !this.deps.eventsSynced()) {
      extra.set(EVENTS_UNAVAILABLE_KEY, 'the Event informer has not synced yet');
    }
    // The store's map is shared (live) or already a copy: merged into a new one only when there is something to add.
    return extra.size === 0 ? obs : { ...obs, unavailable: new Map([...obs.unavailable, ...extra]) };
  }

  /**
   * Degraded mode, as Events: a Warning (DataUnavailable) when a data source the policy needs starts failing — a
   * collector's error (metrics-server or Prometheus gone) or data gone stale — and a Normal (DataAvailable) when every
   * source answers again. Data not collected yet (a fresh target, an operator that just started) is not a failure.
   * The DataAvailable condition says the same on the status; the Events make the moment visible in `kubectl describe`.
   */
  private reportDataSources(raw: AnyPolicy, key: string, unknown: PolicyDecision['unknown']): void {
    const failing = unknown.filter((u) => u.code === 'unavailable' || u.code === 'stale');
    const reasons = [...new Set(failing.map((u) => `${u.trigger}: ${u.reason}`))];
    const was = this.degraded.get(key) ?? findCondition(raw.status?.conditions, POLICY_CONDITIONS.DataAvailable)?.status === 'False';
    const failingNow = reasons.length > 0;
    this.degraded.set(key, failingNow);
    if (failingNow && !was) {
      const message = `triggers cannot be evaluated on ${new Set(failing.map((u) => targetKey(u.target.ref))).size} target(s), so they neither fire nor clear: ${reasons.slice(0, 3).join('; ')}`;
      this.deps.events.record(policySubject(raw), { type: 'Warning', reason: POLICY_EVENTS.DataUnavailable, message: message.slice(0, 1024), action: 'Evaluate' });
      this.deps.logger.warn({ policy: key, reasons: reasons.slice(0, 5) }, 'policy data unavailable: its triggers cannot be evaluated');
    } else if (!failingNow && was) {
      this.deps.events.record(policySubject(raw), { type: 'Normal', reason: POLICY_EVENTS.DataAvailable, message: 'every data source of this policy answers again', action: 'Evaluate' });
      this.deps.logger.info({ policy: key }, 'policy data available again');
    }
  }

  /** Warns once per generation that a HealingPolicy's selector.namespaces is ignored. */
  private reportCrossNamespace(raw: AnyPolicy, message: string): void {
    const key = `cross/${policyKeyOf(raw)}`;
    const generation = raw.metadata.generation ?? 0;
    if (this.invalidReported.get(key) === generation) return;
    this.invalidReported.set(key, generation);
    this.deps.events.record(policySubject(raw), { type: 'Warning', reason: POLICY_EVENTS.CrossNamespaceSelector, message, action: 'Evaluate' });
    this.deps.logger.warn({ policy: policyKeyOf(raw) }, message);
  }

  private async reportInvalid(raw: AnyPolicy, problems: readonly string[], now: number): Promise<ReconcileResult> {
    const key = policyKeyOf(raw);
    const generation = raw.metadata.generation ?? 0;
    if (this.invalidReported.get(key) !== generation) {
      this.invalidReported.set(key, generation);
      this.deps.events.record(policySubject(raw), { type: 'Warning', reason: POLICY_EVENTS.InvalidPolicy, message: problems.join('; ') });
      this.deps.logger.warn({ policy: key, problems }, 'invalid HealingPolicy: not evaluated');
      try {
        if (this.deps.writesStatus?.(policyIdOf(raw)) ?? true) await this.patchStatus(policyIdOf(raw), invalidPolicyStatus(raw, problems, now));
      } catch (e: unknown) {
        if (e instanceof FencedError) throw e;
        this.deps.logger.warn({ policy: key, err: describeKubeError(e) }, 'could not write status of an invalid policy');
      }
    }
    return {};
  }

  /**
   * Feeds the storm's evidence with this pass — every target a trigger fires on (unless the policy only monitors)
   * and the policy's recent actions, so an operator that restarts in a storm still sees it — and returns the
   * decision's storm input. Undefined when storm suppression is off.
   */
  private stormInput(
    policy: AnyPolicy,
    targets: readonly { readonly target: SelectedTarget; readonly evaluations: TriggerEvaluations }[],
    ledger: readonly HealingAction[],
    now: number,
  ): PolicyDecisionInput['storm'] {
    const settings = this.deps.settings.storm;
    const failing = this.failing;
    if (settings === undefined || failing === undefined) return undefined;
    for (const a of ledger) {
      // The workload the action recorded (its pod may be gone): the same key a firing on any of its pods gives.
      const createdAt = Date.parse(a.metadata.creationTimestamp ?? '');
      const t = a.spec.targetResource;
      if (createdAt > now - settings.windowMs) failing.record(t.namespace, targetKey(a.spec.workloadRef ?? t), createdAt);
    }
    if ((policy.spec.mode ?? 'automatic') !== 'monitor') {
      for (const { target, evaluations } of targets) {
        if (evaluations.firing.length > 0) failing.record(target.ref.namespace, targetKey(target.workload ?? target.ref), now);
      }
    }
    return { maxWorkloads: settings.maxWorkloads, windowMs: settings.windowMs, failing: (ns) => failing.of(ns, now) };
  }

  /**
   * One incident, one Event: the first firing a storm holds in a namespace announces it on the policy (Warning
   * StormSuppressed); when the namespace is no longer in a storm, StormOver says so. Every held firing is counted.
   */
  private reportStorms(policy: AnyPolicy, key: string, decision: PolicyDecision, now: number): void {
    const settings = this.deps.settings.storm;
    const failing = this.failing;
    if (settings === undefined || failing === undefined) return;
    const name = policy.metadata.name ?? '';
    const heldIn = new Map<string, { targets: string[]; message: string }>();
    for (const h of decision.held) {
      if (h.reason !== 'StormSuppressed') continue;
      const ns = h.target.ref.namespace;
      const seen = heldIn.get(ns) ?? { targets: [], message: h.message };
      seen.targets.push(targetKey(h.target.ref));
      heldIn.set(ns, seen);
    }
    for (const [ns, { targets, message }] of heldIn) {
      const episode = `${key}|${ns}`;
      const known = this.storms.get(episode);
      const held = known ?? new Set<string>();
      let fresh = 0;
      for (const t of targets) {
        if (held.has(t)) continue;
        held.add(t);
        fresh++;
      }
      this.deps.metrics.stormHeldFiringsTotal.inc({ policy: name, namespace: ns }, fresh);
      if (known !== undefined) continue;
      this.storms.set(episode, held);
      this.deps.events.record(policySubject(policy), { type: 'Warning', reason: POLICY_EVENTS.StormSuppressed, message: `policy ${name}: ${message}`, action: 'Evaluate' });
      this.deps.logger.warn({ policy: key, namespace: ns, held: targets.length }, message);
    }
    for (const episode of this.storms.keys()) {
      if (!episode.startsWith(`${key}|`)) continue;
      const ns = episode.slice(key.length + 1);
      if (heldIn.has(ns) || stormVerdict(failing.of(ns, now), settings.maxWorkloads, settings.windowMs, now) !== undefined) continue;
      this.storms.delete(episode);
      const message = `policy ${name}: the storm in namespace ${ns} is over (${settings.maxWorkloads} or fewer workloads failing in the last ${formatDuration(settings.windowMs)}); acting again`;
      this.deps.events.record(policySubject(policy), { type: 'Normal', reason: POLICY_EVENTS.StormOver, message, action: 'Evaluate' });
      this.deps.logger.info({ policy: key, namespace: ns }, message);
    }
  }

  private expect(policy: string, target: string, now: number): void {
    const m = this.expectations.get(policy) ?? new Map<string, number>();
    m.set(target, now + EXPECTATION_TTL_MS);
    this.expectations.set(policy, m);
  }

  /** Drops expectations the informer has caught up with (or that expired). */
  private settleExpectations(policy: string, actions: readonly HealingAction[], now: number): void {
    const m = this.expectations.get(policy);
    if (!m) return;
    const seen = new Set(actions.flatMap((a) => [targetKey(a.spec.targetResource), claimOf(a)].filter((k) => k !== undefined)));
    for (const [t, until] of m) if (seen.has(t) || until <= now) m.delete(t);
    if (m.size === 0) this.expectations.delete(policy);
  }
}

/** The workload claim an existing action holds (see workloadClaim), from its recorded workloadRef. */
function claimOf(a: HealingAction): string | undefined {
  return workloadClaim(a.spec.action.type, a.spec.targetResource, a.spec.workloadRef);
}

function emptyObservations(target: TargetRef): TargetObservations {
  return { target, series: new Map(), conditions: new Map(), events: [], unavailable: new Map() };
}

/** The Event subject for a policy (a ClusterHealingPolicy has namespace ''). */
export function policySubject(p: AnyPolicy): TargetRef {
  const cluster = p.kind === 'ClusterHealingPolicy';
  return { apiVersion: 'kubeskippy.io/v1alpha1', kind: p.kind, namespace: cluster ? '' : (p.metadata.namespace ?? ''), name: p.metadata.name ?? '', ...(p.metadata.uid ? { uid: p.metadata.uid } : {}) };
}

/** The ledger (and queue) key of a policy object. */
export function policyKeyOf(p: AnyPolicy): string {
  const id = policyIdOf(p);
  return policyKey(id.namespace, id.name, id.kind);
}

/**
 * A HealingPolicy that carries selector.namespaces — stored before the API server refused it — with that field
 * removed, and the sentence saying so; any other policy unchanged. Pure.
 */
export function confineToOwnNamespace(p: AnyPolicy): { policy: AnyPolicy; crossNamespace?: string } {
  if (p.kind === 'ClusterHealingPolicy') return { policy: p };
  const listed = p.spec.selector.namespaces ?? [];
  if (listed.length === 0) return { policy: p };
  const { namespaces: _ignored, ...selector } = p.spec.selector;
  return {
    policy: { ...p, spec: { ...p.spec, selector } },
    crossNamespace: `selector.namespaces (${listed.slice(0, 5).join(', ')}${listed.length > 5 ? ', …' : ''}) is ignored: ${CROSS_NAMESPACE_REFUSAL}; this policy acts only in ${p.metadata.namespace ?? ''}`,
  };
}

/** The ledger label selector for one policy's actions (both kinds: the label holds the name only). */
export function policyActionSelector(policyName: string): string {
  return `${LABELS.policy}=${policyName}`;
}
