/**
 * Watch-driven collection of what kubelets and controllers report: pod restarts, readiness and container states,
 * and workload replica status. A pod update from the informer is recorded at once and reported through `onChange`,
 * so a crash loop is detected from the pod update event, not from the next poll.
 */
import type { V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import type { Informer } from '../../k8s/informer.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../runtime/clock.js';
import { podWorkload } from '../../controllers/healing-policy/select.js';
import { conditionsDependOnTime, podConditions, podStatusMetrics } from '../pod-status.js';
import type { ConditionInput, SeriesStore } from '../series-store.js';
import { targetKey, type ObservationChange, type TargetRef } from '../types.js';

/** restart_rate counts restarts within this trailing window (the seed's "restarts > 3 in 5 minutes"). */
export const RESTART_RATE_WINDOW_MS = 5 * 60_000;

type Workload = V1Deployment | V1StatefulSet | V1DaemonSet | V1ReplicaSet;

/** Informers the collector reads. */
export interface KubeStatusInformers {
  readonly pods: Informer<V1Pod>;
  readonly replicaSets: Informer<V1ReplicaSet>;
  readonly deployments: Informer<V1Deployment>;
  readonly statefulSets: Informer<V1StatefulSet>;
  readonly daemonSets: Informer<V1DaemonSet>;
}

/** Dependencies of the collector. */
export interface KubeStatusCollectorDeps {
  readonly store: SeriesStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers: KubeStatusInformers;
  /**
   * Called when a target's observations changed — a metric's value, a condition's status, or what selection looks
   * at — with what changed (the policy controller enqueues the policies that read it). A record that changes nothing
   * (a periodic resample, a status update of fields no trigger reads) calls nothing.
   */
  readonly onChange: (change: ObservationChange) => void;
}

/** What was last reported for a target, to tell a change from a repeat. */
interface Reported {
  readonly metrics: ReadonlyMap<string, number>;
  readonly conditions: string;
  readonly selection: string;
}

/**
 * The part of a condition set triggers compare (type, status, reason); messages and times are left out. Interned:
 * nearly every healthy pod has the same one, and each pod's own copy (≈ 290 bytes) was 1.4 MiB at 5 000 pods.
 */
function conditionSignature(conditions: ReadonlyMap<string, ConditionInput>): string {
  const s = [...conditions].map(([type, c]) => `${type}=${c.status}/${c.reason ?? ''}`).sort().join(',');
  const known = SIGNATURES.get(s);
  if (known !== undefined) return known;
  // Bounded: a cluster with more distinct condition sets than this just stops sharing the newest ones.
  if (SIGNATURES.size < MAX_SIGNATURES) SIGNATURES.set(s, s);
  return s;
}
const SIGNATURES = new Map<string, string>();
const MAX_SIGNATURES = 4_096;

function labelSignature(labels: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The TargetRef of a pod. */
export function podRef(pod: V1Pod): TargetRef {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
  };
}

function workloadRef(kind: string, w: Workload): TargetRef {
  return {
    apiVersion: 'apps/v1',
    kind,
    namespace: w.metadata?.namespace ?? '',
    name: w.metadata?.name ?? '',
    ...(w.metadata?.uid ? { uid: w.metadata.uid } : {}),
  };
}

/**
 * Restarts within the trailing window, from the recorded restart_count series: the latest value minus the value
 * at the start of the window (the last sample at or before it, else the first in it).
 */
export function restartsInWindow(samples: readonly { at: number; value: number }[], now: number, windowMs: number): number {
  const latest = samples.at(-1);
  if (!latest) return 0;
  const start = now - windowMs;
  let baseline = samples[0]!;
  for (const s of samples) {
    if (s.at <= start) baseline = s;
    else break;
  }
  return Math.max(0, latest.value - baseline.value);
}

/** Records pod and workload status into the series store as informer events arrive. */
export class KubeStatusCollector {
  private readonly deps: KubeStatusCollectorDeps;
  private readonly unsubscribe: (() => void)[] = [];
  /** targetKey → what was last reported for it. */
  private readonly reported = new Map<string, Reported>();
  /**
   * Pods recorded from this very object whose conditions cannot change with time alone (conditionsDependOnTime),
   * with the values recorded: resample re-dates their samples instead of reading the pod again — at 5 000 pods,
   * re-deriving every pod's conditions each minute was the operator's largest source of garbage in a quiet minute.
   * The informer stores a new object for every update, so an entry never outlives the state it describes, and a
   * WeakMap lets it go with its object.
   */
  private readonly recordedFrom = new WeakMap<V1Pod, { readonly ref: TargetRef; readonly restartCount: number; readonly ready: number }>();
  /**
   * What each pod object adds to its workloads' conditions, kept when time cannot change it: a resample reads
   * every pod for two workloads (its ReplicaSet and its Deployment). Pods that only say "False" share one list.
   */
  private readonly workloadConditions = new WeakMap<V1Pod, readonly (readonly [string, ConditionInput])[]>();
  /** The shared lists of all-"False" conditions, by their types. */
  private readonly allFalse = new Map<string, readonly (readonly [string, ConditionInput])[]>();

  constructor(deps: KubeStatusCollectorDeps) {
    this.deps = deps;
  }

  /** Subscribes to the informers (call before they start, so the initial list is recorded too). */
  start(): void {
    const { informers } = this.deps;
    this.unsubscribe.push(
      informers.pods.addHandler({
        onAdd: (p) => this.recordPod(p),
        onUpdate: (p) => this.recordPod(p),
        onDelete: (p) => this.forgetPod(p),
      }),
    );
    const workloadHandlers = <T extends Workload>(kind: string) => ({
      onAdd: (w: T) => this.recordWorkload(kind, w),
      onUpdate: (w: T) => this.recordWorkload(kind, w),
      onDelete: (w: T) => {
        const ref = workloadRef(kind, w);
        this.deps.store.forget(ref);
        this.forgetReported(ref, w.metadata?.labels);
      },
    });
    this.unsubscribe.push(informers.deployments.addHandler(workloadHandlers<V1Deployment>('Deployment')));
    this.unsubscribe.push(informers.statefulSets.addHandler(workloadHandlers<V1StatefulSet>('StatefulSet')));
    this.unsubscribe.push(informers.daemonSets.addHandler(workloadHandlers<V1DaemonSet>('DaemonSet')));
    this.unsubscribe.push(informers.replicaSets.addHandler(workloadHandlers<V1ReplicaSet>('ReplicaSet')));
  }

  /** Removes the informer handlers. */
  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Records one pod's status now, then its workload's pod-derived observations. */
  recordPod(pod: V1Pod): void {
    const now = this.deps.clock.now();
    const ref = this.recordPodOnly(pod, now);
    if (!this.cachesSynced()) return;
    const workload = podWorkload(pod, this.deps.informers.replicaSets.list(ref.namespace));
    if (workload) this.recordWorkloadPods(workload, now);
  }

  /** Records one pod's own observations and reports what changed; returns its ref. */
  private recordPodOnly(pod: V1Pod, now: number): TargetRef {
    const { store } = this.deps;
    const ref = podRef(pod);
    const m = podStatusMetrics(pod);
    store.recordSample(ref, 'restart_count', { at: now, value: m.restart_count }, now);
    store.recordSample(ref, 'ready', { at: now, value: m.ready }, now);
    const restarts = store.window(ref, 'restart_count', now - RESTART_RATE_WINDOW_MS);
    const rate = restartsInWindow(restarts, now, RESTART_RATE_WINDOW_MS);
    store.recordSample(ref, 'restart_rate', { at: now, value: rate }, now);
    const conditions = podConditions(pod, now);
    store.replaceConditions(ref, conditions, now);
    const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    const selection = `${pod.metadata?.uid ?? ''}|${finished ? 'done' : ''}|${pod.metadata?.deletionTimestamp === undefined ? '' : 'deleting'}|${labelSignature(pod.metadata?.labels)}`;
    this.report(ref, pod.metadata?.labels, new Map([['restart_count', m.restart_count], ['ready', m.ready], ['restart_rate', rate]]), conditions, selection);
    if (conditionsDependOnTime(pod)) this.recordedFrom.delete(pod);
    else this.recordedFrom.set(pod, { ref, restartCount: m.restart_count, ready: m.ready });
    return ref;
  }

  /** The pod's conditions that speak for its workload (not POD_ONLY), computed once per pod object when time cannot change them. */
  private workloadConditionsOf(pod: V1Pod, now: number): readonly (readonly [string, ConditionInput])[] {
    const cached = this.workloadConditions.get(pod);
    if (cached !== undefined) return cached;
    const part = [...podConditions(pod, now)].filter(([type]) => !POD_ONLY.has(type));
    if (conditionsDependOnTime(pod)) return part;
    let kept: readonly (readonly [string, ConditionInput])[] = part;
    if (part.every(([, c]) => c.status === 'False' && Object.keys(c).length === 1)) {
      const types = part.map(([type]) => type).join(',');
      kept = this.allFalse.get(types) ?? part.map(([type]) => [type, FALSE] as const);
      this.allFalse.set(types, kept);
    }
    this.workloadConditions.set(pod, kept);
    return kept;
  }

  /**
   * Resample of one pod: when it is the object last recorded and its conditions do not depend on time, re-dates
   * its samples (restart_rate recomputed: restarts leave its window with time) and reports only a changed rate;
   * otherwise records it in full. Either way the store ends as recordPodOnly would leave it.
   */
  private refreshPod(pod: V1Pod, now: number): void {
    const known = this.recordedFrom.get(pod);
    const reported = known === undefined ? undefined : this.reported.get(targetKey(known.ref));
    if (known === undefined || reported === undefined || !this.deps.store.hasConditions(known.ref)) {
      this.recordPodOnly(pod, now);
      return;
    }
    const { store } = this.deps;
    const { ref } = known;
    store.recordSample(ref, 'restart_count', { at: now, value: known.restartCount }, now);
    store.recordSample(ref, 'ready', { at: now, value: known.ready }, now);
    // Restart counts only grow within a pod, so with none there is nothing to count in the window.
    const rate = known.restartCount === 0 ? 0 : restartsInWindow(store.window(ref, 'restart_count', now - RESTART_RATE_WINDOW_MS), now, RESTART_RATE_WINDOW_MS);
    store.recordSample(ref, 'restart_rate', { at: now, value: rate }, now);
    if (reported.metrics.get('restart_rate') === rate) return;
    this.reported.set(targetKey(ref), { ...reported, metrics: new Map(reported.metrics).set('restart_rate', rate) });
    const labels = pod.metadata?.labels;
    this.deps.onChange({ target: ref, ...(labels === undefined ? {} : { labels }), metrics: ['restart_rate'] });
  }

  private forgetPod(pod: V1Pod): void {
    const ref = podRef(pod);
    this.deps.store.forget(ref);
    this.forgetReported(ref, pod.metadata?.labels);
    if (!this.cachesSynced()) return;
    const workload = podWorkload(pod, this.deps.informers.replicaSets.list(ref.namespace));
    if (workload) this.recordWorkloadPods(workload, this.deps.clock.now());
  }

  /** Reports what changed since the last report for `ref` (nothing: no call). */
  private report(ref: TargetRef, labels: Readonly<Record<string, string>> | undefined, metrics: ReadonlyMap<string, number>, conditions: ReadonlyMap<string, ConditionInput>, selection: string): void {
    const key = targetKey(ref);
    const prev = this.reported.get(key);
    const next: Reported = { metrics, conditions: conditionSignature(conditions), selection };
    this.reported.set(key, next);
    const changedMetrics = [...metrics].filter(([m, v]) => prev?.metrics.get(m) !== v).map(([m]) => m);
    const conditionsChanged = prev === undefined || prev.conditions !== next.conditions;
    const selectionChanged = prev === undefined || prev.selection !== selection;
    if (changedMetrics.length === 0 && !conditionsChanged && !selectionChanged) return;
    this.deps.onChange({
      target: ref,
      ...(labels === undefined ? {} : { labels }),
      ...(changedMetrics.length > 0 ? { metrics: changedMetrics } : {}),
      ...(conditionsChanged ? { conditions: true } : {}),
      ...(selectionChanged ? { selection: true } : {}),
    });
  }

  private forgetReported(ref: TargetRef, labels: Readonly<Record<string, string>> | undefined): void {
    if (this.reported.delete(targetKey(ref))) this.deps.onChange({ target: ref, ...(labels === undefined ? {} : { labels }), selection: true });
  }

  /**
   * Whether pods can be attributed to their workloads: both the pod and the ReplicaSet caches hold their first
   * list. Before that, a workload's pod-derived observations would be computed from part of its pods — a Deployment
   * whose crash-looping pods are not listed yet would show restart_count 0, and a verification right after an
   * operator restart would take that for "the trigger cleared".
   */
  private cachesSynced(): boolean {
    return this.deps.informers.pods.hasSynced() && this.deps.informers.replicaSets.hasSynced();
  }

  /**
   * Records every pod and workload again from the caches. The informer only reports changes, and a pod that stays
   * unready without any update must still produce fresh samples: otherwise "ready == 0 for 3m" could never fire
   * and a quiet healthy pod would look like missing data. Call periodically (well inside the evaluator's
   * maxSampleAge).
   */
  resample(): void {
    const now = this.deps.clock.now();
    // Each pod once, then each workload once (recordPod would recount a workload's pods for every one of them).
    for (const pod of this.deps.informers.pods.list()) this.refreshPod(pod, now);
    this.recordAll();
  }

  /**
   * Records every cached workload. Call once the informers have synced: workload observations are held back until
   * then (see cachesSynced), and an idle workload might send no event to record it by.
   */
  recordAll(): void {
    const { deployments, statefulSets, daemonSets, replicaSets } = this.deps.informers;
    for (const w of deployments.list()) this.recordWorkload('Deployment', w);
    for (const w of statefulSets.list()) this.recordWorkload('StatefulSet', w);
    for (const w of daemonSets.list()) this.recordWorkload('DaemonSet', w);
    for (const w of replicaSets.list()) this.recordWorkload('ReplicaSet', w);
  }

  private podsOf(workload: TargetRef): V1Pod[] {
    const rs = new Map(this.deps.informers.replicaSets.list(workload.namespace).map((r) => [r.metadata?.uid ?? '', r] as const));
    return this.deps.informers.pods.list(workload.namespace).filter((p) => {
      const w = podWorkload(p, rs);
      return w !== undefined && w.kind === workload.kind && w.name === workload.name;
    });
  }

  /**
   * Workload status from its own object (replicas, conditions), merged with its pods' container states. Does
   * nothing until the pod and ReplicaSet caches have synced (recordAll catches up then).
   */
  recordWorkload(kind: string, w: Workload): void {
    if (!this.cachesSynced()) return;
    const now = this.deps.clock.now();
    this.recordWorkloadPods(workloadRef(kind, w), now, w);
  }

  private recordWorkloadPods(ref: TargetRef, now: number, object?: Workload): void {
    const { store, informers } = this.deps;
    const w =
      object ??
      (ref.kind === 'Deployment'
        ? informers.deployments.get(ref.namespace, ref.name)
        : ref.kind === 'StatefulSet'
          ? informers.statefulSets.get(ref.namespace, ref.name)
          : ref.kind === 'DaemonSet'
            ? informers.daemonSets.get(ref.namespace, ref.name)
            : informers.replicaSets.get(ref.namespace, ref.name));
    const pods = this.podsOf(ref);
    const restarts = pods.reduce((sum, p) => sum + podStatusMetrics(p).restart_count, 0);
    store.recordSample(ref, 'restart_count', { at: now, value: restarts }, now);
    const series = store.window(ref, 'restart_count', now - RESTART_RATE_WINDOW_MS);
    const rate = restartsInWindow(series, now, RESTART_RATE_WINDOW_MS);
    store.recordSample(ref, 'restart_rate', { at: now, value: rate }, now);
    const reported = new Map<string, number>([['restart_count', restarts], ['restart_rate', rate]]);
    const conditions = new Map<string, ConditionInput>();
    if (w) {
      const { desired, ready, unavailable } = replicaCounts(w);
      store.recordSample(ref, 'unavailable_replicas', { at: now, value: unavailable }, now);
      store.recordSample(ref, 'ready', { at: now, value: ready >= desired ? 1 : 0 }, now);
      reported.set('unavailable_replicas', unavailable);
      reported.set('ready', ready >= desired ? 1 : 0);
      for (const c of w.status?.conditions ?? []) {
        const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
        const t = c.lastTransitionTime as Date | string | undefined;
        const since = t === undefined ? undefined : t instanceof Date ? t.getTime() : Date.parse(t);
        conditions.set(c.type, { status, ...(since !== undefined && Number.isFinite(since) ? { since } : {}), ...(c.reason ? { reason: c.reason } : {}) });
      }
    }
    // A pseudo-condition (CrashLoopBackOff, OOMKilled, …) holds for the workload when it holds for any of its pods.
    for (const pod of pods) {
      for (const [type, c] of this.workloadConditionsOf(pod, now)) {
        const prev = conditions.get(type);
        if (!prev || (prev.status !== 'True' && c.status === 'True')) conditions.set(type, c);
      }
    }
    store.replaceConditions(ref, conditions, now);
    // A workload's pods are part of what its selection yields (SelectedTarget.pods): a pod added or gone changes it.
    const podSet = pods.map((p) => p.metadata?.uid ?? '').sort().join(',');
    this.report(ref, w?.metadata?.labels, reported, conditions, `${w?.metadata?.uid ?? ''}|${labelSignature(w?.metadata?.labels)}|${podSet}`);
  }
}

/** A condition that is "False" and says nothing more (shared; frozen because it is). */
const FALSE: ConditionInput = Object.freeze({ status: 'False' });

/** Pod conditions that describe one pod, not its workload (the workload has its own replica counts). */
const POD_ONLY = new Set(['Ready', 'ContainersReady', 'PodScheduled', 'Initialized', 'PodReadyToStartContainers']);

/** Desired, ready and unavailable replicas of a workload. */
export function replicaCounts(w: Workload): { desired: number; ready: number; unavailable: number } {
  if ('desiredNumberScheduled' in (w.status ?? {})) {
    const s = (w as V1DaemonSet).status;
    const desired = s?.desiredNumberScheduled ?? 0;
    return { desired, ready: s?.numberReady ?? 0, unavailable: s?.numberUnavailable ?? Math.max(0, desired - (s?.numberAvailable ?? 0)) };
  }
  const spec = (w as V1Deployment).spec;
  const status = (w as V1Deployment).status;
  const desired = spec?.replicas ?? 1;
  const ready = status?.readyReplicas ?? 0;
  const available = status?.availableReplicas ?? 0;
  return { desired, ready, unavailable: status?.unavailableReplicas ?? Math.max(0, desired - available) };
}

