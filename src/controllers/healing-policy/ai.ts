/**
 * The facts the analyzer's recommendation needs about one target, gathered from what the policy reconciler already
 * holds: the target's observations (memory and CPU series, events, conditions), its workload and that workload's
 * latest rollout from the caches, the health of the dependencies it declares, and what the policy has learnt on
 * that workload. Pure: the reconciler passes the cached objects in.
 */
import type { V1Deployment, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import type { Learning } from '../../api/v1alpha1/healing-policy.js';
import { recommend, type Recommendation, type RecommendationInput } from '../../analysis/recommend.js';
import type { AssessOptions, Assessment, SeriesInput } from '../../analysis/types.js';
import { timestampMs } from '../../k8s/time.js';
import { targetKey, type Sample, type TargetObservations } from '../../metrics/types.js';
import type { TriggerFiring } from '../../triggers/evaluate.js';
import type { Inventory, SelectedTarget } from './select.js';

/**
 * Annotation on a workload (or pod) naming what it depends on: comma-separated names of Deployments or StatefulSets
 * in the same namespace. When one of them has fewer ready replicas than desired, the analyzer does not restart the
 * dependant for probe failures — its failing dependency, not the dependant, needs attention.
 */
export const DEPENDS_ON_ANNOTATION = 'kubeskippy.io/depends-on';

/** Metrics the analyzer reads for a recommendation, besides what the triggers use. */
export const AI_METRICS = ['memory_usage_percent', 'cpu_usage_percent'] as const;

/** How much history a recommendation's assessments look at. */
export const AI_LOOKBACK_MS = 60 * 60_000;

/** What recommendFor needs besides the target. */
export interface AiContext {
  readonly now: number;
  readonly inventory: Pick<Inventory, 'deployments' | 'statefulSets' | 'replicaSets'>;
  readonly learning: Learning | undefined;
  readonly assess: (input: SeriesInput, options: AssessOptions) => Assessment;
  /** How far ahead a breach counts (the predictive trigger's horizon, else 30 min). */
  readonly horizonMs: number;
}

/** The analyzer's assessment of one percent-of-limit series of the target, or undefined without enough data. */
function assessPercent(obs: TargetObservations, metric: string, kind: 'memory' | 'cpu', ctx: AiContext): Assessment | undefined {
  const samples = (obs.series.get(metric) ?? []).filter((s: Sample) => s.at >= ctx.now - AI_LOOKBACK_MS && s.at <= ctx.now);
  const last = samples.at(-1);
  if (last === undefined || samples.length < 5) return undefined;
  return ctx.assess({ samples, kind, limit: 100, now: last.at, unit: '%' }, { horizonMs: ctx.horizonMs, maxLookbackMs: AI_LOOKBACK_MS });
}

/** The names in a depends-on annotation whose Deployment or StatefulSet is short of ready replicas now. */
export function failingDependencies(annotations: Readonly<Record<string, string>>, namespace: string, inv: AiContext['inventory']): string[] {
  const names = (annotations[DEPENDS_ON_ANNOTATION] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '')
    .slice(0, 32);
  const workloads: (V1Deployment | V1StatefulSet)[] = [...inv.deployments(namespace), ...inv.statefulSets(namespace)];
  return names.filter((name) => {
    const w = workloads.find((x) => x.metadata?.name === name);
    if (w === undefined) return true;
    return (w.status?.readyReplicas ?? 0) < (w.spec?.replicas ?? 1);
  });
}

/** The owning Deployment's newest ReplicaSet (its latest rollout), if the target belongs to a Deployment. */
function latestRollout(target: SelectedTarget, inv: AiContext['inventory']): RecommendationInput['rollout'] {
  const w = target.workload ?? (target.ref.kind === 'Deployment' ? target.ref : undefined);
  if (w?.kind !== 'Deployment') return undefined;
  const owned = inv.replicaSets(w.namespace).filter((rs: V1ReplicaSet) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === w.name));
  let newest: { at: number; revision: number } | undefined;
  for (const rs of owned) {
    const at = timestampMs(rs.metadata?.creationTimestamp);
    const revision = Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '0');
    if (at !== undefined && (newest === undefined || revision > newest.revision)) newest = { at, revision };
  }
  return newest === undefined ? undefined : { newestReplicaSetCreatedAt: newest.at, revision: newest.revision };
}

/** The target's owner as the recommendation sees it (replicas for scale decisions). */
function ownerOf(target: SelectedTarget, inv: AiContext['inventory']): RecommendationInput['owner'] {
  const w = target.workload ?? (target.ref.kind === 'Pod' ? undefined : target.ref);
  if (w === undefined) return undefined;
  const obj = w.kind === 'Deployment' ? inv.deployments(w.namespace).find((d) => d.metadata?.name === w.name) : w.kind === 'StatefulSet' ? inv.statefulSets(w.namespace).find((d) => d.metadata?.name === w.name) : undefined;
  const replicas = obj?.spec?.replicas;
  return { kind: w.kind, name: w.name, ...(replicas === undefined ? {} : { replicas }) };
}

/**
 * The analyzer's recommendation for `target`, whose trigger `firing` fired, among the policy's `applicable`
 * actions. Never throws for lack of data: without series the assessments are simply absent.
 */
export function recommendFor(target: SelectedTarget, obs: TargetObservations, firing: TriggerFiring, applicable: readonly ActionTemplate[], ctx: AiContext): Recommendation {
  return analyzeTarget(target, obs, firing, applicable, ctx).recommendation;
}

/** What recommendFor decided, with the facts it decided on (for an LLM's second opinion). */
export interface TargetAnalysis {
  readonly input: RecommendationInput;
  readonly recommendation: Recommendation;
}

/** recommendFor, returning the recommendation's input as well. */
export function analyzeTarget(target: SelectedTarget, obs: TargetObservations, firing: TriggerFiring, applicable: readonly ActionTemplate[], ctx: AiContext): TargetAnalysis {
  const workload = targetKey(target.workload ?? target.ref);
  const memory = firing.forecast?.assessment !== undefined && firing.values['metric']?.startsWith('memory') ? firing.forecast.assessment : assessPercent(obs, 'memory_usage_percent', 'memory', ctx);
  const cpu = firing.forecast?.assessment !== undefined && firing.values['metric']?.startsWith('cpu') ? firing.forecast.assessment : assessPercent(obs, 'cpu_usage_percent', 'cpu', ctx);
  const owner = ownerOf(target, ctx.inventory);
  const rollout = latestRollout(target, ctx.inventory);
  const failing = failingDependencies({ ...(target.annotations ?? {}), ...workloadAnnotations(target, ctx.inventory) }, target.ref.namespace, ctx.inventory);
  const input: RecommendationInput = {
    target: target.ref,
    now: ctx.now,
    ...(memory === undefined ? {} : { memory }),
    ...(cpu === undefined ? {} : { cpu }),
    events: obs.events,
    conditions: obs.conditions,
    ...(owner === undefined ? {} : { owner }),
    ...(rollout === undefined ? {} : { rollout }),
    ...(failing.length === 0 ? {} : { failingDependencies: failing }),
    allowedActions: applicable.map((a) => ({ name: a.name, type: a.type, ...(a.priority === undefined ? {} : { priority: a.priority }) })),
    history: (ctx.learning?.outcomes ?? []).filter((o) => o.workload === workload),
    trigger: firing.trigger,
  };
  return { input, recommendation: recommend(input) };
}

function workloadAnnotations(target: SelectedTarget, inv: AiContext['inventory']): Readonly<Record<string, string>> {
  const w = target.workload;
  if (w === undefined) return {};
  const obj = w.kind === 'Deployment' ? inv.deployments(w.namespace).find((d) => d.metadata?.name === w.name) : w.kind === 'StatefulSet' ? inv.statefulSets(w.namespace).find((d) => d.metadata?.name === w.name) : undefined;
  return obj?.metadata?.annotations ?? {};
}
