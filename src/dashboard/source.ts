/**
 * Where the dashboard's data comes from: the operator's own in-memory state — informer caches of policies and
 * HealingActions, the series store, the safety settings, leader state — read through small injected functions and
 * turned into a DashboardView with the pure builders of view-model.ts. Reads caches only; makes no API calls, so a
 * busy page never adds load on the API server.
 *
 * Which targets have a trigger firing or pending is not stored anywhere: it is recomputed here with the policy
 * controller's own pure functions (selection in controllers/healing-policy/select.ts, evaluation in
 * triggers/evaluate.ts) over the same series store, so the charts show exactly what the controller would see now.
 * Cooldowns are not applied: a trigger that holds during its cooldown is still shown as firing (the condition is
 * true; only acting on it waits).
 */
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { selectTargets, type Inventory } from '../controllers/healing-policy/select.js';
import type { TargetObservations, TargetRef } from '../metrics/types.js';
import type { Clock } from '../runtime/clock.js';
import type { OperatorSafetySettings } from '../safety/types.js';
import { evaluateTriggers } from '../triggers/evaluate.js';
import {
  buildChart,
  buildCore,
  keyOfPolicy,
  selectChartSubjects,
  watchedMetric,
  type ChartView,
  type DashboardCore,
  type DashboardView,
  type ForecastFor,
  type ForecastLine,
  type TargetFiring,
} from './view-model.js';

/** Leader-election state for the header. */
export interface LeaderState {
  /** Leader election is on. */
  readonly election: boolean;
  /** This replica runs the controllers. */
  readonly leading: boolean;
  /** Who holds the Lease, when known. */
  readonly identity?: string | undefined;
}

/** What the dashboard reads from the operator. Every function must be cheap, synchronous and must not throw. */
export interface DashboardSourceDeps {
  readonly clock: Clock;
  readonly version: string;
  readonly settings: () => OperatorSafetySettings;
  /** Every policy this operator serves (PolicyDirectory.all()). */
  readonly policies: () => readonly AnyPolicy[];
  /** Every HealingAction in the namespaces this operator serves. */
  readonly actions: () => readonly HealingAction[];
  /** The cached objects selection reads (served namespaces only). */
  readonly inventory: () => Inventory;
  /** A snapshot of the series store for `target`, limited to `metrics`. */
  readonly observe: (target: TargetRef, metrics: readonly string[]) => TargetObservations;
  readonly leader: () => LeaderState;
  /** The informer caches have synced. */
  readonly synced: () => boolean;
  /** The analyzer's forecast line for a target's metric (undefined: none). */
  readonly forecastFor: ForecastFor;
  /** Calls `onChange` whenever a policy or HealingAction is added, updated or deleted; returns the unsubscribe. */
  readonly watch: (onChange: () => void) => () => void;
}

/**
 * Triggers firing or pending on each target, per policy, at `now` — the policy controller's evaluation replayed on
 * the same observations (no cooldowns, see the module comment). Pure given its inputs.
 */
export function firingTargets(
  policies: readonly AnyPolicy[],
  inventory: Inventory,
  observe: (target: TargetRef, metrics: readonly string[]) => TargetObservations,
  now: number,
): TargetFiring[] {
  const out: TargetFiring[] = [];
  const noState = new Map<string, never>();
  for (const policy of policies) {
    if (policy.metadata.deletionTimestamp !== undefined) continue;
    const key = keyOfPolicy(policy);
    const metrics = [...new Set(policy.spec.triggers.map(watchedMetric).flatMap((w) => (w ? [w.metric] : [])))];
    for (const target of selectTargets(policy, inventory).targets) {
      const { results } = evaluateTriggers(policy.spec.triggers, observe(target.ref, metrics), noState, now);
      for (const r of results) {
        if (r.status === 'firing' || r.status === 'cooldown') out.push({ policy: key, trigger: r.trigger, target: target.ref, status: 'firing' });
        else if (r.status === 'pending') out.push({ policy: key, trigger: r.trigger, target: target.ref, status: 'pending' });
      }
    }
  }
  return out;
}

/** Builds DashboardViews from the operator's state at the clock's `now`. */
export class DashboardSource {
  constructor(private readonly deps: DashboardSourceDeps) {}

  /** Subscribes to policy and action changes (see DashboardSourceDeps.watch). */
  watch(onChange: () => void): () => void {
    return this.deps.watch(onChange);
  }

  /** Header, safety state, policies and timeline at `now` (default: the clock's now). */
  core(now: number = this.deps.clock.now()): DashboardCore {
    const leader = this.deps.leader();
    return buildCore({
      now,
      version: this.deps.version,
      leaderElection: leader.election,
      leading: leader.leading,
      leaderIdentity: leader.identity,
      synced: this.deps.synced(),
      settings: this.deps.settings(),
      policies: this.deps.policies(),
      actions: this.deps.actions(),
    });
  }

  /** The charts for `core`'s timeline and the triggers firing now. Costs a trigger evaluation of every policy. */
  charts(core: DashboardCore): ChartView[] {
    const policies = this.deps.policies();
    const firing = firingTargets(policies, this.deps.inventory(), this.deps.observe, core.generatedAt);
    return selectChartSubjects(core.actions, firing, policies).map((subject) => {
      const samples = this.deps.observe(subject.target, [subject.metric]).series.get(subject.metric) ?? [];
      return buildChart(subject, samples, core.actions, this.forecast(subject.target, subject.metric));
    });
  }

  /** The analyzer's forecast; one that throws is reported as none rather than taking the page down. */
  private forecast(target: TargetRef, metric: string): ForecastLine | undefined {
    try {
      return this.deps.forecastFor(target, metric);
    } catch {
      return undefined;
    }
  }

  /** The whole page at the clock's now. */
  view(): DashboardView {
    const core = this.core();
    return { ...core, charts: this.charts(core) };
  }
}
