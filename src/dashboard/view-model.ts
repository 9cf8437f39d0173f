/**
 * The dashboard's view model: pure functions from what the operator holds (policy and action objects from its
 * informer caches, the safety settings, the ledger, series samples, leader state) to the JSON the page renders.
 * Nothing here reads the clock, the network or the environment; `now` is passed in. Every figure in the output is
 * computed from those inputs — the page shows nothing that the operator did not measure or read (the earlier
 * implementation's dashboard showed hard-coded numbers, PRODUCT.md).
 *
 * Budgets and breakers are computed with the same functions the safety gate uses (safety/budget.ts,
 * safety/circuit-breaker.ts), over the same ledger projection (safety/types.ts toLedgerEntry), so the page agrees
 * with what the gate would decide at `now`.
 */
import type { ActionPhase, HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy, Trigger } from '../api/v1alpha1/healing-policy.js';
import { timestampMs } from '../k8s/time.js';
import type { Sample, TargetRef } from '../metrics/types.js';
import { targetKey } from '../metrics/types.js';
import { budgetUsage, policyBudgetUsage, type BudgetUsage } from '../safety/budget.js';
import { evaluateGlobalBreaker, evaluatePolicyBreaker, type BreakerStatus } from '../safety/circuit-breaker.js';
import {
  actionPolicyKey,
  executedAt,
  hasExecuted,
  IN_FLIGHT_PHASES,
  policyKey,
  QUEUED_PHASES,
  toLedgerEntry,
  type LedgerEntry,
  type OperatorSafetySettings,
} from '../safety/types.js';

/** Newest actions kept in the timeline; older ones are counted but not listed. */
export const MAX_TIMELINE = 100;
/** Charts on the page at most (one per target and metric). */
export const MAX_CHARTS = 8;
/** The policy API default for safetyRules.maxActionsPerHour (applied when a cached object lacks it). */
const DEFAULT_POLICY_MAX_ACTIONS = 5;
/** The storm window the safety rules use when none is configured (safety/rules.ts DEFAULT_STORM_WINDOW_MS). */
const DEFAULT_STORM_WINDOW_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Output: the JSON the page reads
// ---------------------------------------------------------------------------------------------------------------

/** One point of a chart: [time in ms since the epoch, value]. */
export type ChartPoint = readonly [number, number];

/**
 * What the analysis layer expects a metric of a target to do, as a line to draw: points from now into the future
 * and a short label ("linear trend, R² 0.93"). Supplied by an injected {@link ForecastFor}.
 */
export interface ForecastLine {
  readonly points: readonly ChartPoint[];
  readonly label: string;
}

/**
 * The forecast of `metric` for `target`, or undefined when the analyzer has none. Must not throw and must be
 * cheap: it is called for every chart on every refresh.
 */
export type ForecastFor = (target: TargetRef, metric: string) => ForecastLine | undefined;

/** Operator identity and the switches the header shows. */
export interface OperatorView {
  readonly version: string;
  /** Whether leader election is on; when off, this replica acts alone. */
  readonly leaderElection: boolean;
  /** This replica runs the controllers (leading, or no election). */
  readonly leading: boolean;
  /** The identity holding the Lease, when known. */
  readonly leaderIdentity?: string;
  /** The informer caches have synced; before that every list below is incomplete. */
  readonly synced: boolean;
  readonly paused: boolean;
  readonly dryRun: boolean;
}

/** A rolling-hour budget. */
export interface BudgetView {
  readonly used: number;
  readonly limit: number;
  readonly remaining: number;
  /** When a slot frees up while none is left (ms); absent when one is free or the limit is 0. */
  readonly nextSlotAt?: number;
}

/** A circuit breaker's state (safety/circuit-breaker.ts BreakerStatus, as JSON). */
export interface BreakerView {
  readonly scope: string;
  readonly state: 'closed' | 'open' | 'half-open';
  readonly failures: number;
  readonly outcomes: number;
  readonly since?: number;
  readonly until?: number;
  readonly message: string;
}

/** Storm suppression in one namespace: distinct workloads with HealingActions created within the window. */
export interface StormNamespaceView {
  readonly namespace: string;
  readonly workloads: number;
  /** storm: more than the limit (new actions there are StormSuppressed); at-limit: one more workload would be. */
  readonly state: 'storm' | 'at-limit' | 'calm';
}

/** Storm suppression settings and what the ledger says about each namespace with recent actions. */
export interface StormView {
  readonly enabled: boolean;
  readonly maxWorkloads?: number;
  readonly windowMs?: number;
  /** Namespaces with at least one action in the window, the most workloads first. */
  readonly namespaces: readonly StormNamespaceView[];
}

/** Everything "may the operator act now?" depends on that is not per target. */
export interface SafetyView {
  readonly paused: boolean;
  readonly dryRun: boolean;
  /** The operator-wide budget of rule-sourced actions in the rolling hour. */
  readonly ruleBudget: BudgetView;
  /** The separate operator-wide budget of AI-sourced actions. */
  readonly aiBudget: BudgetView;
  readonly globalBreaker: BreakerView;
  /** Per-policy breakers that are not closed (a closed one is the normal state and shown on the policy row). */
  readonly openBreakers: readonly BreakerView[];
  readonly storm: StormView;
  /** Actions executing or verifying now. */
  readonly inFlight: number;
  /** Actions created and not yet past the gate (Pending, WaitingApproval, Approved). */
  readonly queued: number;
  readonly waitingApproval: number;
}

/** A standard condition, as the page shows it. */
export interface ConditionView {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** A trigger of a policy, in words. */
export interface TriggerView {
  readonly name: string;
  readonly type: Trigger['type'];
  /** "restart_count > 2", "memory_usage_percent > 85 for 3m", "event BackOff ×3 in 5m" … */
  readonly summary: string;
}

/** One row of the policies table. */
export interface PolicyRow {
  /** The ledger key: "namespace/name" or "ClusterHealingPolicy/name". */
  readonly key: string;
  readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
  /** '' for a ClusterHealingPolicy. */
  readonly namespace: string;
  readonly name: string;
  readonly mode: string;
  /** status.matchedResources as the policy controller last wrote it. */
  readonly matched?: number;
  /** status.activeTriggers: triggers firing (or in cooldown) on at least one target. */
  readonly activeTriggers: readonly string[];
  readonly triggers: readonly TriggerView[];
  /** The policy's own rolling-hour budget, from the ledger at `now` (real executions only, as the gate counts). */
  readonly budget: BudgetView;
  readonly breaker: BreakerView;
  /** status.actionsTaken. */
  readonly actionsTaken?: number;
  readonly lastActionAt?: number;
  readonly lastEvaluatedAt?: number;
  /** The Ready condition, when the controller has written one. */
  readonly ready?: ConditionView;
  /** Other conditions that are not in their normal state (Paused=True, BudgetExhausted=True, DataAvailable=False). */
  readonly warnings: readonly ConditionView[];
}

/** The trigger firing recorded on an action. */
export interface FiredTriggerView {
  readonly name: string;
  readonly type: string;
  readonly firedAt?: number;
  readonly reason?: string;
  readonly observedValue?: number;
  readonly threshold?: number;
  readonly values: Readonly<Record<string, string>>;
}

/** The outcome recorded on an action. */
export interface ResultView {
  readonly success: boolean;
  readonly message?: string;
  readonly error?: string;
  readonly metricsBefore: Readonly<Record<string, string>>;
  readonly metricsAfter: Readonly<Record<string, string>>;
}

/** One entry of the timeline. */
export interface ActionRow {
  /** "namespace/name" of the HealingAction. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** The resourceVersion the row was built from (changes with every status write). */
  readonly resourceVersion?: string;
  readonly createdAt: number;
  readonly phase: ActionPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly policy: string;
  readonly target: { readonly apiVersion: string; readonly kind: string; readonly namespace: string; readonly name: string };
  /** targetKey of the target ("Kind/namespace/name"), matching ChartView.targetKey. */
  readonly targetKey: string;
  readonly actionName: string;
  readonly actionType: string;
  readonly dryRun: boolean;
  readonly source: 'rule' | 'ai';
  readonly confidence?: number;
  readonly reasoning: readonly string[];
  readonly alternatives: readonly { readonly action: string; readonly confidence: number; readonly reason?: string }[];
  readonly escalationLevel?: number;
  readonly trigger?: FiredTriggerView;
  readonly startedAt?: number;
  readonly completedAt?: number;
  readonly result?: ResultView;
  readonly approval?: { readonly required: boolean; readonly approved?: boolean; readonly by?: string };
}

/** A horizontal line on a chart: a trigger's threshold. */
export interface ThresholdView {
  readonly value: number;
  readonly operator: string;
  /** "ns/policy · trigger". */
  readonly label: string;
}

/** A vertical marker on a chart: an action created for the target. */
export interface MarkerView {
  readonly at: number;
  readonly phase: ActionPhase;
  readonly name: string;
}

/** One chart: a metric of a target, the thresholds that watch it, the actions taken and the forecast. */
export interface ChartView {
  /** targetKey + "|" + metric: stable across refreshes. */
  readonly key: string;
  readonly target: { readonly kind: string; readonly namespace: string; readonly name: string };
  readonly targetKey: string;
  readonly metric: string;
  /** Why the chart is shown: the target has actions, a trigger firing or pending, or both. */
  readonly why: readonly ('actions' | 'firing' | 'pending')[];
  readonly points: readonly ChartPoint[];
  readonly thresholds: readonly ThresholdView[];
  readonly markers: readonly MarkerView[];
  readonly forecast?: ForecastLine;
}

/** Counts over every HealingAction the operator holds (not only the timeline's newest). */
export interface ActionCounts {
  readonly total: number;
  readonly byPhase: Readonly<Partial<Record<ActionPhase, number>>>;
}

/** The whole page. */
export interface DashboardView {
  /** The `now` every figure was computed at (ms). */
  readonly generatedAt: number;
  readonly operator: OperatorView;
  readonly safety: SafetyView;
  readonly policies: readonly PolicyRow[];
  /** Newest first, at most MAX_TIMELINE. */
  readonly actions: readonly ActionRow[];
  readonly counts: ActionCounts;
  readonly charts: readonly ChartView[];
}

// ---------------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------------

function budgetView(u: BudgetUsage): BudgetView {
  return {
    used: u.used,
    limit: u.limit,
    remaining: u.remaining,
    // nextSlotAt equals now while a slot is free: only a future time says anything.
    ...(u.remaining === 0 && u.nextSlotAt !== undefined ? { nextSlotAt: u.nextSlotAt } : {}),
  };
}

/** A BreakerStatus as JSON for the page. */
export function breakerView(b: BreakerStatus): BreakerView {
  return {
    scope: b.scope,
    state: b.state,
    failures: b.failures,
    outcomes: b.outcomes,
    ...(b.since === undefined ? {} : { since: b.since }),
    ...(b.until === undefined ? {} : { until: b.until }),
    message: b.message,
  };
}

/**
 * The ledger as the gate sees it: every action projected with its recorded workload (spec.workloadRef), so storm
 * counting groups a Deployment's pods as one workload. Objects not persisted yet are skipped.
 */
export function ledgerOf(actions: readonly HealingAction[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const a of actions) {
    const w = a.spec.workloadRef;
    const e = toLedgerEntry(a, w ? { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, ...(w.uid ? { uid: w.uid } : {}) } : undefined);
    if (e) out.push(e);
  }
  return out;
}

/**
 * The operator-wide budget of `source` actions in the rolling hour before `now`: real executions only (dry runs
 * never consume a real budget), counted like the gate's global-rate and ai-rate rules.
 */
export function operatorBudget(ledger: readonly LedgerEntry[], source: 'rule' | 'ai', limit: number, now: number): BudgetView {
  const times = ledger.filter((e) => e.source === source && !e.dryRun && hasExecuted(e)).map(executedAt);
  return budgetView(budgetUsage(times, limit, now));
}

/**
 * Storm state per namespace, counted like the gate's storm rule: distinct workloads (a pod without one counts as
 * itself) with actions created within the window. Disabled settings give `enabled: false` and no namespaces.
 */
export function stormView(ledger: readonly LedgerEntry[], settings: OperatorSafetySettings['storm'], now: number): StormView {
  const max = settings.maxTargetsFailing;
  if (max === undefined) return { enabled: false, namespaces: [] };
  const windowMs = settings.windowMs ?? DEFAULT_STORM_WINDOW_MS;
  const byNamespace = new Map<string, Set<string>>();
  for (const e of ledger) {
    if (e.createdAt <= now - windowMs) continue;
    const unit = e.workload ?? e.target;
    const set = byNamespace.get(e.target.namespace) ?? new Set<string>();
    set.add(targetKey(unit));
    byNamespace.set(e.target.namespace, set);
  }
  const namespaces = [...byNamespace.entries()]
    .map(([namespace, set]): StormNamespaceView => ({
      namespace,
      workloads: set.size,
      state: set.size > max ? 'storm' : set.size === max ? 'at-limit' : 'calm',
    }))
    .sort((a, b) => b.workloads - a.workloads || a.namespace.localeCompare(b.namespace));
  return { enabled: true, maxWorkloads: max, windowMs, namespaces };
}

/**
 * The operator-wide safety state at `now`. `policyBreakers` are the policies' breakers as their rows computed them
 * (evaluated once per policy); the ones not closed are listed.
 */
export function buildSafety(ledger: readonly LedgerEntry[], settings: OperatorSafetySettings, policyBreakers: readonly BreakerView[], now: number): SafetyView {
  const openBreakers = policyBreakers.filter((b) => b.state !== 'closed');
  return {
    paused: settings.paused,
    dryRun: settings.forceDryRun,
    ruleBudget: operatorBudget(ledger, 'rule', settings.maxActionsPerHour, now),
    aiBudget: operatorBudget(ledger, 'ai', settings.aiMaxActionsPerHour, now),
    globalBreaker: breakerView(evaluateGlobalBreaker(ledger, settings.globalBreaker, now)),
    openBreakers,
    storm: stormView(ledger, settings.storm, now),
    inFlight: ledger.filter((e) => IN_FLIGHT_PHASES.has(e.phase)).length,
    queued: ledger.filter((e) => QUEUED_PHASES.has(e.phase)).length,
    waitingApproval: ledger.filter((e) => e.phase === 'WaitingApproval').length,
  };
}

/** A trigger in words, with the API defaults applied ("memory_usage_percent > 85 for 3m"). */
export function describeTrigger(t: Trigger): string {
  switch (t.type) {
    case 'metric': {
      const m = t.metricTrigger;
      if (!m) return 'metric (no settings)';
      const held = m.duration && m.duration !== '0s' ? ` for ${m.duration}` : '';
      return `${m.query} ${m.operator ?? '>'} ${m.threshold}${held}`;
    }
    case 'event': {
      const e = t.eventTrigger;
      if (!e) return 'event (no settings)';
      return `event ${e.type ? `${e.type} ` : ''}${e.reason} ×${e.count ?? 1} in ${e.window ?? '5m'}`;
    }
    case 'condition': {
      const c = t.conditionTrigger;
      if (!c) return 'condition (no settings)';
      const held = c.duration && c.duration !== '0s' ? ` for ${c.duration}` : '';
      return `${c.type}=${c.status ?? 'True'}${held}`;
    }
    case 'predictive': {
      const p = t.predictiveTrigger ?? {};
      return `${p.metric ?? 'memory_usage_percent'} forecast to reach ${p.threshold ?? 100} within ${p.horizon ?? '30m'}`;
    }
  }
}

function conditionView(c: { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string }): ConditionView {
  return { type: c.type, status: c.status, reason: c.reason, message: c.message };
}

/** Conditions whose non-normal state deserves attention on the policies table. */
const NORMAL_STATUS: Readonly<Record<string, 'True' | 'False'>> = { Paused: 'False', BudgetExhausted: 'False', DataAvailable: 'True' };

/** The key of a policy object in the ledger. */
export function keyOfPolicy(p: AnyPolicy): string {
  return p.kind === 'ClusterHealingPolicy' ? policyKey('', p.metadata.name ?? '', 'ClusterHealingPolicy') : policyKey(p.metadata.namespace ?? '', p.metadata.name ?? '');
}

/** One policies-table row at `now`, its budget and breaker computed from the ledger (the whole ledger or the policy's own entries). */
export function buildPolicyRow(p: AnyPolicy, ledger: readonly LedgerEntry[], settings: OperatorSafetySettings, now: number): PolicyRow {
  const key = keyOfPolicy(p);
  const status = p.status;
  const maxActionsPerHour = p.spec.safetyRules?.maxActionsPerHour ?? DEFAULT_POLICY_MAX_ACTIONS;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  const lastActionAt = timestampMs(status?.lastActionTime);
  const lastEvaluatedAt = timestampMs(status?.lastEvaluated);
  return {
    key,
    kind: p.kind,
    namespace: p.kind === 'ClusterHealingPolicy' ? '' : (p.metadata.namespace ?? ''),
    name: p.metadata.name ?? '',
    mode: p.spec.mode ?? 'automatic',
    ...(status?.matchedResources === undefined ? {} : { matched: status.matchedResources }),
    activeTriggers: [...(status?.activeTriggers ?? [])],
    triggers: p.spec.triggers.map((t) => ({ name: t.name, type: t.type, summary: describeTrigger(t) })),
    budget: budgetView(policyBudgetUsage({ key, maxActionsPerHour }, ledger, now)),
    breaker: breakerView(evaluatePolicyBreaker(ledger, key, settings.policyBreaker, now)),
    ...(status?.actionsTaken === undefined ? {} : { actionsTaken: status.actionsTaken }),
    ...(lastActionAt === undefined ? {} : { lastActionAt }),
    ...(lastEvaluatedAt === undefined ? {} : { lastEvaluatedAt }),
    ...(ready ? { ready: conditionView(ready) } : {}),
    warnings: (status?.conditions ?? []).filter((c) => NORMAL_STATUS[c.type] !== undefined && c.status !== NORMAL_STATUS[c.type]).map(conditionView),
  };
}

/** Sorts policies for the table: cluster policies first, then by namespace and name. */
export function comparePolicyRows(a: PolicyRow, b: PolicyRow): number {
  return (a.kind === b.kind ? 0 : a.kind === 'ClusterHealingPolicy' ? -1 : 1) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

/** One timeline entry; undefined for an object without name, namespace or creationTimestamp (not persisted). */
export function buildActionRow(a: HealingAction): ActionRow | undefined {
  const { metadata, spec, status } = a;
  const createdAt = timestampMs(metadata.creationTimestamp);
  if (metadata.name === undefined || metadata.namespace === undefined || createdAt === undefined) return undefined;
  const t = spec.targetResource;
  const trig = spec.trigger;
  const firedAt = timestampMs(trig?.firedAt);
  const startedAt = timestampMs(status?.startTime);
  const completedAt = timestampMs(status?.completionTime);
  const r = status?.result;
  const approval = status?.approval;
  return {
    key: `${metadata.namespace}/${metadata.name}`,
    namespace: metadata.namespace,
    name: metadata.name,
    ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
    createdAt,
    phase: status?.phase ?? 'Pending',
    ...(status?.reason === undefined ? {} : { reason: status.reason }),
    ...(status?.message === undefined ? {} : { message: status.message }),
    policy: actionPolicyKey(a),
    target: { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name },
    targetKey: targetKey(t),
    actionName: spec.action.name,
    actionType: spec.action.type,
    dryRun: spec.dryRun ?? false,
    source: spec.source ?? 'rule',
    ...(spec.confidence === undefined ? {} : { confidence: spec.confidence }),
    reasoning: [...(spec.reasoning ?? [])],
    alternatives: (spec.alternatives ?? []).map((x) => ({ action: x.action, confidence: x.confidence, ...(x.reason === undefined ? {} : { reason: x.reason }) })),
    ...(spec.escalationLevel === undefined ? {} : { escalationLevel: spec.escalationLevel }),
    ...(trig
      ? {
          trigger: {
            name: trig.name,
            type: trig.type,
            ...(firedAt === undefined ? {} : { firedAt }),
            ...(trig.reason === undefined ? {} : { reason: trig.reason }),
            ...(trig.observedValue === undefined ? {} : { observedValue: trig.observedValue }),
            ...(trig.threshold === undefined ? {} : { threshold: trig.threshold }),
            values: { ...(trig.values ?? {}) },
          },
        }
      : {}),
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(completedAt === undefined ? {} : { completedAt }),
    ...(r
      ? {
          result: {
            success: r.success,
            ...(r.message === undefined ? {} : { message: r.message }),
            ...(r.error === undefined ? {} : { error: r.error }),
            metricsBefore: { ...(r.metricsBefore ?? {}) },
            metricsAfter: { ...(r.metricsAfter ?? {}) },
          },
        }
      : {}),
    ...(approval
      ? { approval: { required: approval.required, ...(approval.approved === undefined ? {} : { approved: approval.approved }), ...(approval.approvedBy === undefined ? {} : { by: approval.approvedBy }) } }
      : {}),
  };
}

/** Newest first; ties by key so the order is stable. */
export function compareActionRows(a: ActionRow, b: ActionRow): number {
  return b.createdAt - a.createdAt || a.key.localeCompare(b.key);
}

/** The timeline: rows of every persisted action, newest first, at most `limit`. */
export function buildTimeline(actions: readonly HealingAction[], limit: number = MAX_TIMELINE): ActionRow[] {
  return actions
    .map(buildActionRow)
    .filter((r): r is ActionRow => r !== undefined)
    .sort(compareActionRows)
    .slice(0, Math.max(0, limit));
}

/** Counts of every action by phase. */
export function countActions(actions: readonly HealingAction[]): ActionCounts {
  const byPhase: Partial<Record<ActionPhase, number>> = {};
  for (const a of actions) {
    const phase = a.status?.phase ?? 'Pending';
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
  }
  return { total: actions.length, byPhase };
}

// ---------------------------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------------------------

/** A trigger holding (firing) or about to (pending) on a target, as the trigger evaluator reported it. */
export interface TargetFiring {
  /** The policy's ledger key. */
  readonly policy: string;
  readonly trigger: string;
  readonly target: TargetRef;
  readonly status: 'firing' | 'pending';
}

/** A chart to draw: which target and metric, and which thresholds apply — before samples are fetched. */
export interface ChartSubject {
  readonly target: TargetRef;
  readonly metric: string;
  readonly why: readonly ('actions' | 'firing' | 'pending')[];
  readonly thresholds: readonly ThresholdView[];
}

/** The metric a trigger watches, with the threshold it compares against, if it watches one. */
export function watchedMetric(t: Trigger): { metric: string; threshold: number; operator: string } | undefined {
  if (t.type === 'metric' && t.metricTrigger) return { metric: t.metricTrigger.query, threshold: t.metricTrigger.threshold, operator: t.metricTrigger.operator ?? '>' };
  if (t.type === 'predictive') {
    const p = t.predictiveTrigger ?? {};
    return { metric: p.metric ?? 'memory_usage_percent', threshold: p.threshold ?? 100, operator: 'forecast ≥' };
  }
  return undefined;
}

/**
 * Which charts to draw: one per (target, metric) for every target that has actions in `timeline` (newest first)
 * or a trigger firing or pending in `firing`, for the metric each of those triggers watches — the trigger recorded
 * on the action, or the one firing (an action without a trigger: every metric its policy watches). Targets with
 * actions come first, in timeline order, then firing ones; at most `limit` charts. `why` says, per chart, which of
 * the three brought it. Thresholds are every trigger of the involved policies on that metric. Triggers on events or
 * conditions have no metric to draw.
 */
export function selectChartSubjects(
  timeline: readonly ActionRow[],
  firing: readonly TargetFiring[],
  policies: readonly AnyPolicy[],
  limit: number = MAX_CHARTS,
): ChartSubject[] {
  type Why = 'actions' | 'firing' | 'pending';
  const byKey = new Map(policies.map((p) => [keyOfPolicy(p), p] as const));
  interface Acc {
    readonly target: TargetRef;
    /** metric → why it is charted, in first-seen order. */
    readonly metrics: Map<string, Set<Why>>;
    readonly policies: Set<string>;
  }
  const order: string[] = [];
  const acc = new Map<string, Acc>();
  const touch = (target: TargetRef, why: Why, policyKey: string, trigger: string | undefined): void => {
    const p = byKey.get(policyKey);
    if (!p) return;
    const k = targetKey(target);
    let a = acc.get(k);
    if (!a) {
      a = { target, metrics: new Map(), policies: new Set() };
      acc.set(k, a);
      order.push(k);
    }
    a.policies.add(policyKey);
    for (const t of p.spec.triggers) {
      if (trigger !== undefined && t.name !== trigger) continue;
      const w = watchedMetric(t);
      if (!w) continue;
      const set = a.metrics.get(w.metric) ?? new Set<Why>();
      set.add(why);
      a.metrics.set(w.metric, set);
    }
  };
  for (const row of timeline) touch(row.target, 'actions', row.policy, row.trigger?.name);
  for (const f of firing) touch(f.target, f.status, f.policy, f.trigger);
  const out: ChartSubject[] = [];
  for (const k of order) {
    const a = acc.get(k) as Acc;
    for (const [metric, why] of a.metrics) {
      if (out.length >= limit) return out;
      const thresholds: ThresholdView[] = [];
      for (const pk of [...a.policies].sort()) {
        for (const t of byKey.get(pk)?.spec.triggers ?? []) {
          const w = watchedMetric(t);
          if (w?.metric === metric) thresholds.push({ value: w.threshold, operator: w.operator, label: `${pk} · ${t.name}` });
        }
      }
      out.push({ target: a.target, metric, why: [...why].sort(), thresholds });
    }
  }
  return out;
}

/** A chart from its subject, the samples held for it, the actions on its target and the analyzer's forecast. */
export function buildChart(subject: ChartSubject, samples: readonly Sample[], timeline: readonly ActionRow[], forecast: ForecastLine | undefined): ChartView {
  const tk = targetKey(subject.target);
  const first = samples[0]?.at;
  return {
    key: `${tk}|${subject.metric}`,
    target: { kind: subject.target.kind, namespace: subject.target.namespace, name: subject.target.name },
    targetKey: tk,
    metric: subject.metric,
    why: subject.why,
    // ±Infinity (kept by the store for PromQL) cannot be drawn or sent as JSON.
    points: samples.filter((s) => Number.isFinite(s.value)).map((s): ChartPoint => [s.at, s.value]),
    thresholds: subject.thresholds,
    // Markers before the first sample would stretch the time axis back past the data.
    markers: timeline
      .filter((r) => r.targetKey === tk && (first === undefined || r.createdAt >= first))
      .map((r) => ({ at: r.createdAt, phase: r.phase, name: r.name }))
      .sort((a, b) => a.at - b.at),
    ...(forecast && forecast.points.length > 0
      ? { forecast: { label: forecast.label, points: forecast.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])) } }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The whole page
// ---------------------------------------------------------------------------------------------------------------

/** Everything the page is built from, as plain data read from the operator at one instant. */
export interface DashboardInput {
  readonly now: number;
  readonly version: string;
  readonly leaderElection: boolean;
  readonly leading: boolean;
  readonly leaderIdentity?: string | undefined;
  readonly synced: boolean;
  readonly settings: OperatorSafetySettings;
  readonly policies: readonly AnyPolicy[];
  /** Every HealingAction the operator serves (its ledger). */
  readonly actions: readonly HealingAction[];
}

/** Everything but the charts (which need samples): header, safety, policies, timeline, counts. */
export type DashboardCore = Omit<DashboardView, 'charts'>;

/** Builds the header, safety state, policy rows and timeline. Pure. */
export function buildCore(input: DashboardInput): DashboardCore {
  const { now, settings } = input;
  const ledger = ledgerOf(input.actions);
  // Each policy's rows need only its own entries: grouping once keeps a refresh O(actions + policies), not their product.
  const byPolicy = new Map<string, LedgerEntry[]>();
  for (const e of ledger) {
    const list = byPolicy.get(e.policy);
    if (list) list.push(e);
    else byPolicy.set(e.policy, [e]);
  }
  const policies = input.policies.map((p) => buildPolicyRow(p, byPolicy.get(keyOfPolicy(p)) ?? [], settings, now)).sort(comparePolicyRows);
  return {
    generatedAt: now,
    operator: {
      version: input.version,
      leaderElection: input.leaderElection,
      leading: input.leading,
      ...(input.leaderIdentity === undefined ? {} : { leaderIdentity: input.leaderIdentity }),
      synced: input.synced,
      paused: settings.paused,
      dryRun: settings.forceDryRun,
    },
    safety: buildSafety(ledger, settings, policies.map((p) => p.breaker), now),
    policies,
    actions: buildTimeline(input.actions),
    counts: countActions(input.actions),
  };
}
