/**
 * Polls the metrics.k8s.io API (served by metrics-server) for every pod's CPU and memory, and records them as
 * absolute values and as a percentage of the pod's real limits (or requests when it has no limits). A workload
 * gets the highest value among its pods — the pod closest to its limit is the one that matters.
 * The API has no watch, so this is the operator's one periodic list; it runs only while a policy needs it.
 */
import type { PodMetric, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Informer } from '../../k8s/informer.js';
import { describeKubeError } from '../../k8s/errors.js';
import { parseBytes, parseMillicores } from '../../k8s/quantity.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../runtime/clock.js';
import { IntervalLoop } from '../../runtime/interval-loop.js';
import { podWorkload } from '../../controllers/healing-policy/select.js';
import { resourceBasis } from '../pod-status.js';
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
}

/** One pod's usage converted to our metrics; `unavailable` holds reasons for percentages that cannot be computed. */
export function podUsage(pod: V1Pod, metric: PodMetric): { values: Record<string, number>; unavailable: Record<string, string> } {
  const cpu = metric.containers.reduce((s, c) => s + parseMillicores(c.usage.cpu), 0);
  const memory = metric.containers.reduce((s, c) => s + parseBytes(c.usage.memory), 0);
  const values: Record<string, number> = { cpu_usage_millicores: cpu, memory_usage_bytes: memory };
  const unavailable: Record<string, string> = {};
  const cpuBasis = resourceBasis(pod, 'cpu');
  if (cpuBasis.amount !== undefined) values['cpu_usage_percent'] = (cpu / cpuBasis.amount) * 100;
  else unavailable['cpu_usage_percent'] = 'reason' in cpuBasis ? cpuBasis.reason : 'no basis';
  const memBasis = resourceBasis(pod, 'memory');
  if (memBasis.amount !== undefined) values['memory_usage_percent'] = (memory / memBasis.amount) * 100;
  else unavailable['memory_usage_percent'] = 'reason' in memBasis ? memBasis.reason : 'no basis';
  return { values, unavailable };
}

/** Polls metrics.k8s.io on an interval until stopped. */
export class MetricsServerCollector {
  private readonly deps: MetricsServerCollectorDeps;
  private loop: IntervalLoop | undefined;
  private lastError: string | undefined;

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
    let items: PodMetric[];
    try {
      items = (await this.deps.source.getPodMetrics()).items;
    } catch (e: unknown) {
      this.lastError = `metrics.k8s.io unavailable: ${describeKubeError(e)}`;
      this.deps.onError?.(e);
      const now = clock.now();
      const refs = this.deps.pods.list().map(podRef);
      for (const ref of refs) for (const m of RESOURCE_METRICS) store.recordUnavailable(ref, m, this.lastError, now);
      this.deps.onPoll(refs);
      return;
    }
    this.lastError = undefined;
    const now = clock.now();
    const touched: TargetRef[] = [];
    const workloadMax = new Map<string, { ref: TargetRef; at: number; values: Record<string, number> }>();
    for (const item of items) {
      const pod = this.deps.pods.get(item.metadata.namespace, item.metadata.name);
      if (!pod) continue;
      const ref = podRef(pod);
      const at = Date.parse(item.timestamp) || now;
      let usage: ReturnType<typeof podUsage>;
      try {
        usage = podUsage(pod, item);
      } catch (e: unknown) {
        for (const m of RESOURCE_METRICS) store.recordUnavailable(ref, m, `unreadable metrics: ${e instanceof Error ? e.message : String(e)}`, now);
        continue;
      }
      for (const [m, v] of Object.entries(usage.values)) store.recordSample(ref, m, { at, value: v }, now);
      for (const [m, reason] of Object.entries(usage.unavailable)) store.recordUnavailable(ref, m, reason, now);
      touched.push(ref);
      const workload = podWorkload(pod, this.deps.replicaSets.list(ref.namespace));
      if (workload) {
        const key = targetKey(workload);
        const agg = workloadMax.get(key) ?? { ref: workload, at, values: {} };
        agg.at = Math.max(agg.at, at);
        for (const [m, v] of Object.entries(usage.values)) agg.values[m] = Math.max(agg.values[m] ?? Number.NEGATIVE_INFINITY, v);
        workloadMax.set(key, agg);
      }
    }
    for (const { ref, at, values } of workloadMax.values()) {
      for (const [m, v] of Object.entries(values)) store.recordSample(ref, m, { at, value: v }, now);
      touched.push(ref);
    }
    this.deps.onPoll(touched);
  }
}
