/**
 * Polls the metrics.k8s.io API (served by metrics-server) for every pod's CPU and memory, and records them as
 * absolute values and as a percentage of the pod's real limits (or requests when it has no limits). A workload
 * gets the highest value among its pods — the pod closest to its limit is the one that matters.
 * The API has no watch, so this is the operator's one periodic list; it runs only while a policy needs it, and only
 * for the namespaces such policies cover (one cluster-wide list, or one list per namespace when that is cheaper).
 */
import type { PodMetric, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Informer } from '../../k8s/informer.js';
import { describeKubeError } from '../../k8s/errors.js';
import { parseBytes, parseMillicores } from '../../k8s/quantity.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../runtime/clock.js';
import { IntervalLoop } from '../../runtime/interval-loop.js';
import { podWorkload } from '../../controllers/healing-policy/select.js';
import { resourceBasis, type NoBasis, type ResourceBasis } from '../pod-status.js';
import type { SeriesStore } from '../series-store.js';
import { targetKey, type TargetRef } from '../types.js';
import { podRef } from './kube-status.js';

/** The metrics this collector provides. */
export const RESOURCE_METRICS = ['cpu_usage_millicores', 'cpu_usage_percent', 'memory_usage_bytes', 'memory_usage_percent'] as const;

/** The piece of the metrics API the collector calls (client-node's Metrics satisfies it). */
export interface PodMetricsSource {
  getPodMetrics(namespace?: string): Promise<{ items: PodMetric[] }>;
}

/** Dependencies of the collector. */
export interface MetricsServerCollectorDeps {
  readonly store: SeriesStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly source: PodMetricsSource;
  readonly pods: Informer<V1Pod>;
  readonly replicaSets: Informer<V1ReplicaSet>;
  readonly intervalMs: number;
  /** Whether any policy currently needs resource metrics; polling pauses while false. */
  readonly wanted: () => boolean;
  readonly onPoll: (targets: readonly TargetRef[]) => void;
  readonly onError?: (error: unknown) => void;
  /** What each successful poll cost: wall ms of the API calls and of recording, pod metrics returned, requests made. */
  readonly onPolled?: (cost: PollCost) => void;
  /** Monotonic milliseconds for measuring the poll (default performance.now). */
  readonly stopwatch?: () => number;
  /**
   * The namespaces whose pods a policy needs resource metrics for (undefined: every namespace). Pods elsewhere are
   * not recorded, and when these namespaces are few and hold at most half the pods, they are polled one by one
   * instead of listing every pod's metrics in the cluster (see chooseRequests).
   */
  readonly namespaces?: () => ReadonlySet<string> | undefined;
  /**
   * Which of RESOURCE_METRICS a policy reads (undefined: all). Only those are recorded: a series is history kept for
   * every pod polled (~2 KiB a pod at a 15 s interval), and 5 000 pods × four series was the largest part of the
   * operator's heap when the policies read one. A metric's history starts with the first poll after a policy
   * reads it.
   */
  readonly metrics?: () => ReadonlySet<string> | undefined;
}

/** The longest list of namespaces polled one request each; beyond it one cluster-wide list is cheaper. */
export const MAX_NAMESPACED_POLLS = 32;

/**
 * What to request: `undefined` for one cluster-wide list, or the namespaces to list one by one. Per namespace when
 * there are at most MAX_NAMESPACED_POLLS of them and their pods are at most half of all pods: a request costs a
 * round trip, an item costs its parsing and recording whoever asked for it (the scale benchmark measured ~0.2 ms a
 * pod and ~5 ms a request on a busy 2-core machine), so a few namespaces of a big cluster are far cheaper alone, and
 * most of a cluster is cheaper in one go. Pure.
 */
export function chooseRequests(wanted: ReadonlySet<string> | undefined, podsIn: (namespace: string) => number, allPods: number): readonly string[] | undefined {
  if (wanted === undefined || wanted.size > MAX_NAMESPACED_POLLS) return undefined;
  let pods = 0;
  for (const ns of wanted) pods += podsIn(ns);
  return pods * 2 <= allPods ? [...wanted].sort() : undefined;
}

/** The cost of one poll, for kubeskippy_collector_poll_duration_seconds. */
export interface PollCost {
  readonly requestMs: number;
  readonly recordMs: number;
  readonly items: number;
  readonly requests: number;
}

/** What a pod's percentages are computed against (see resourceBasis). */
export interface PodBases {
  readonly cpu: ResourceBasis | NoBasis;
  readonly memory: ResourceBasis | NoBasis;
}

/** The bases of a pod's percentages, from its spec. */
export function podBases(pod: V1Pod): PodBases {
  return { cpu: resourceBasis(pod, 'cpu'), memory: resourceBasis(pod, 'memory') };
}

/**
 * One pod's usage converted to our metrics; `unavailable` holds reasons for percentages that cannot be computed.
 * `bases` defaults to podBases(pod); a caller polling the same pod object again may pass the ones it kept.
 */
export function podUsage(pod: V1Pod, metric: PodMetric, bases: PodBases = podBases(pod)): { values: Record<string, number>; unavailable: Record<string, string> } {
  const cpu = metric.containers.reduce((s, c) => s + parseMillicores(c.usage.cpu), 0);
  const memory = metric.containers.reduce((s, c) => s + parseBytes(c.usage.memory), 0);
  const values: Record<string, number> = { cpu_usage_millicores: cpu, memory_usage_bytes: memory };
  const unavailable: Record<string, string> = {};
  const cpuBasis = bases.cpu;
  if (cpuBasis.amount !== undefined) values['cpu_usage_percent'] = (cpu / cpuBasis.amount) * 100;
  else unavailable['cpu_usage_percent'] = 'reason' in cpuBasis ? cpuBasis.reason : 'no basis';
  const memBasis = bases.memory;
  if (memBasis.amount !== undefined) values['memory_usage_percent'] = (memory / memBasis.amount) * 100;
  else unavailable['memory_usage_percent'] = 'reason' in memBasis ? memBasis.reason : 'no basis';
  return { values, unavailable };
}

/** Polls metrics.k8s.io on an interval until stopped. */
export class MetricsServerCollector {
  private readonly deps: MetricsServerCollectorDeps;
  private loop: IntervalLoop | undefined;
  private lastError: string | undefined;
  /**
   * Per pod object, its ref and percentage bases: every poll reads thousands of pods whose specs did not change
   * (the informer stores a new object for every update, so an entry never outlives its pod's state).
   */
  private readonly known = new WeakMap<V1Pod, { readonly ref: TargetRef; readonly bases: PodBases }>();

  constructor(deps: MetricsServerCollectorDeps) {
    this.deps = deps;
  }

  /** The last poll's error, if the last poll failed (for policy conditions). */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Starts polling in the background (a poll at once, then every intervalMs). */
  start(): void {
    this.loop ??= new IntervalLoop({ clock: this.deps.clock, intervalMs: this.deps.intervalMs, tick: () => (this.deps.wanted() ? this.pollOnce() : undefined) });
    this.loop.start();
  }

  /** Stops polling; resolves when the loop has ended. */
  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One poll: records every pod's usage (and its workload's maximum). Never throws. */
  async pollOnce(): Promise<void> {
    const { store, clock } = this.deps;
    const stopwatch = this.deps.stopwatch ?? (() => performance.now());
    const t0 = stopwatch();
    const wanted = this.deps.namespaces?.();
    const recorded = this.deps.metrics?.();
    const records = (metric: string): boolean => recorded === undefined || recorded.has(metric);
    const requests = chooseRequests(wanted, (ns) => this.deps.pods.list(ns).length, this.deps.pods.keys().length);
    let items: PodMetric[];
    try {
      items =
        requests === undefined
          ? (await this.deps.source.getPodMetrics()).items
          : (await Promise.all(requests.map((ns) => this.deps.source.getPodMetrics(ns)))).flatMap((r) => r.items);
    } catch (e: unknown) {
      this.lastError = `metrics.k8s.io unavailable: ${describeKubeError(e)}`;
      this.deps.onError?.(e);
      const now = clock.now();
      const refs = (wanted === undefined ? this.deps.pods.list() : [...wanted].flatMap((ns) => this.deps.pods.list(ns))).map(podRef);
      for (const ref of refs) for (const m of RESOURCE_METRICS) if (records(m)) store.recordUnavailable(ref, m, this.lastError, now);
      this.deps.onPoll(refs);
      return;
    }
    this.lastError = undefined;
    const t1 = stopwatch();
    const now = clock.now();
    const touched: TargetRef[] = [];
    const workloadMax = new Map<string, { ref: TargetRef; at: number; values: Record<string, number> }>();
    // One ReplicaSet index per namespace per poll (a pod's workload is found through its ReplicaSet).
    const replicaSets = new Map<string, ReadonlyMap<string, V1ReplicaSet>>();
    const replicaSetsOf = (ns: string): ReadonlyMap<string, V1ReplicaSet> => {
      let m = replicaSets.get(ns);
      if (m === undefined) replicaSets.set(ns, (m = new Map(this.deps.replicaSets.list(ns).map((r) => [r.metadata?.uid ?? '', r] as const))));
      return m;
    };
    // Items of one poll share a few timestamps (metrics-server scrapes per node): each is parsed once.
    const times = new Map<string, number>();
    const timeOf = (ts: string): number => {
      let t = times.get(ts);
      if (t === undefined) times.set(ts, (t = Date.parse(ts) || now));
      return t;
    };
    for (const item of items) {
      if (wanted !== undefined && !wanted.has(item.metadata.namespace)) continue;
      const pod = this.deps.pods.get(item.metadata.namespace, item.metadata.name);
      if (!pod) continue;
      let known = this.known.get(pod);
      const ref = known?.ref ?? podRef(pod);
      const at = timeOf(item.timestamp);
      let usage: ReturnType<typeof podUsage>;
      try {
        if (known === undefined) this.known.set(pod, (known = { ref, bases: podBases(pod) }));
        usage = podUsage(pod, item, known.bases);
      } catch (e: unknown) {
        for (const m of RESOURCE_METRICS) if (records(m)) store.recordUnavailable(ref, m, `unreadable metrics: ${e instanceof Error ? e.message : String(e)}`, now);
        continue;
      }
      for (const [m, v] of Object.entries(usage.values)) if (records(m)) store.recordSample(ref, m, { at, value: v }, now);
      for (const [m, reason] of Object.entries(usage.unavailable)) if (records(m)) store.recordUnavailable(ref, m, reason, now);
      touched.push(ref);
      const workload = podWorkload(pod, replicaSetsOf(ref.namespace));
      if (workload) {
        const key = targetKey(workload);
        const agg = workloadMax.get(key) ?? { ref: workload, at, values: {} };
        agg.at = Math.max(agg.at, at);
        for (const [m, v] of Object.entries(usage.values)) if (records(m)) agg.values[m] = Math.max(agg.values[m] ?? Number.NEGATIVE_INFINITY, v);
        workloadMax.set(key, agg);
      }
    }
    for (const { ref, at, values } of workloadMax.values()) {
      for (const [m, v] of Object.entries(values)) store.recordSample(ref, m, { at, value: v }, now);
      touched.push(ref);
    }
    this.deps.onPolled?.({ requestMs: t1 - t0, recordMs: stopwatch() - t1, items: items.length, requests: requests?.length ?? 1 });
    this.deps.onPoll(touched);
  }
}
