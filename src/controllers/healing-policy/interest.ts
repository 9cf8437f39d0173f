/**
 * Which policies a change of observations concerns. Pure.
 *
 * Every pod update used to re-evaluate every policy of its namespace (and every ClusterHealingPolicy reaching it):
 * O(pods × policies) work per event, which the scale benchmark showed saturating the operator's one thread at a
 * few hundred pods and a hundred policies (docs/benchmarks.md). A policy's evaluation reads only its triggers' inputs
 * over the objects its selector selects, so a change is passed to it only when:
 * - the policy selects the target's kind (and not by an excluded name), and
 * - the target's labels (when known) match its label selector, unless what changed is selection itself, and
 * - what changed is something its triggers read: a metric it queries, conditions (condition triggers), Events
 *   (event triggers), or selection (appearing, going away, labels, phase).
 * Policies decided by the analyzer ("ai" strategy, predictive triggers) read every observation of a target, so every
 * change of a selected target concerns them. The periodic requeue (at most 30 s) and resync stay as safety nets.
 */
import type { AnyPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { ObservationChange } from '../../metrics/types.js';
import { matchesLabelSelector } from '../../safety/label-selector.js';
import { HealingPolicyReconciler } from './controller.js';
import { policyResources } from './select.js';

/** What a policy reads, derived from its spec. */
export interface PolicyInterest {
  /** Kind → names excluded by `resources[].excludeNames`. */
  readonly kinds: ReadonlyMap<string, ReadonlySet<string>>;
  readonly labelSelector: AnyPolicy['spec']['selector']['labelSelector'];
  /** Metric queries (built-in names and PromQL) its triggers read. */
  readonly metrics: ReadonlySet<string>;
  readonly conditions: boolean;
  readonly events: boolean;
  /** Reads everything about a target (the analyzer decides). */
  readonly everything: boolean;
}

/** What `policy` reads. */
export function policyInterest(policy: Pick<AnyPolicy, 'spec'>): PolicyInterest {
  const kinds = new Map<string, Set<string>>();
  for (const r of policyResources(policy)) kinds.set(r.kind, new Set([...(kinds.get(r.kind) ?? []), ...(r.excludeNames ?? [])]));
  const triggers = policy.spec.triggers;
  return {
    kinds,
    labelSelector: policy.spec.selector.labelSelector,
    metrics: new Set(HealingPolicyReconciler.queriesOf(policy)),
    conditions: triggers.some((t) => t.type === 'condition'),
    events: triggers.some((t) => t.type === 'event'),
    everything: policy.spec.strategy === 'ai' || triggers.some((t) => t.type === 'predictive'),
  };
}

/** Whether `change` concerns a policy that reads `interest` (see the module comment). */
export function concerns(interest: PolicyInterest, change: ObservationChange): boolean {
  const excluded = interest.kinds.get(change.target.kind);
  if (excluded === undefined || excluded.has(change.target.name)) return false;
  if (change.selection === true) return true;
  if (change.labels !== undefined && !matchesLabelSelector(interest.labelSelector ?? {}, change.labels)) return false;
  if (interest.everything) return true;
  if (change.conditions === true && interest.conditions) return true;
  if (change.events === true && interest.events) return true;
  if (change.anyMetric === true && interest.metrics.size > 0) return true;
  return (change.metrics ?? []).some((m) => interest.metrics.has(m));
}

/** policyInterest memoised per policy object (the informer replaces the object when the policy changes). */
export function createInterestCache(): (policy: AnyPolicy) => PolicyInterest {
  const cache = new WeakMap<AnyPolicy, PolicyInterest>();
  return (policy) => {
    let interest = cache.get(policy);
    if (interest === undefined) {
      interest = policyInterest(policy);
      cache.set(policy, interest);
    }
    return interest;
  };
}
