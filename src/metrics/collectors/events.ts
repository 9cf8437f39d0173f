/**
 * Kubernetes Events into per-target occurrences. An Event object aggregates repeats in its `count`; each update
 * that raises the count adds that many occurrences at the event's last-seen time, so "3 BackOff events in 5m" counts
 * repeats, and a relist (which re-delivers every Event) adds nothing twice.
 */
import type { CoreV1Event, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Informer } from '../../k8s/informer.js';
import type { Clock } from '../../runtime/clock.js';
import { podWorkload } from '../../controllers/healing-policy/select.js';
import type { SeriesStore } from '../series-store.js';
import type { EventOccurrence, ObservationChange, TargetRef } from '../types.js';
import { timestampMs } from '../../k8s/time.js';

/** Dependencies of the event collector. */
export interface EventCollectorDeps {
  readonly store: SeriesStore;
  readonly clock: Clock;
  readonly events: Informer<CoreV1Event>;
  readonly pods: Informer<V1Pod>;
  readonly replicaSets: Informer<V1ReplicaSet>;
  /** Called for each target an Event was recorded for (`events: true`, with the pod's labels when cached). */
  readonly onChange: (change: ObservationChange) => void;
  /** Event uids whose last count is remembered (oldest forgotten first). */
  readonly maxTrackedEvents?: number;
}

/** When an Event last occurred: series.lastObservedTime, lastTimestamp, eventTime, firstTimestamp, else `now`. */
export function eventTime(e: CoreV1Event, now: number): number {
  return (
    timestampMs(e.series?.lastObservedTime) ??
    timestampMs(e.lastTimestamp) ??
    timestampMs(e.eventTime) ??
    timestampMs(e.firstTimestamp) ??
    now
  );
}

/** The total occurrences an Event object stands for (count, or series.count, at least 1). */
export function eventCount(e: CoreV1Event): number {
  return Math.max(1, e.series?.count ?? e.count ?? 1);
}

/** Records Events against the objects they involve — and, for a pod, also against its workload. */
export class EventCollector {
  private readonly deps: EventCollectorDeps;
  private readonly lastCount = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;

  constructor(deps: EventCollectorDeps) {
    this.deps = deps;
  }

  /** Subscribes to the Event informer. */
  start(): void {
    this.unsubscribe = this.deps.events.addHandler({ onAdd: (e) => this.record(e), onUpdate: (e) => this.record(e), onDelete: (e) => this.forget(e) });
  }

  /** Removes the handler. */
  stop(): void {
    this.unsubscribe?.();
  }

  /** Records the new occurrences in one Event object. */
  record(e: CoreV1Event): void {
    const involved = e.involvedObject;
    const uid = e.metadata?.uid;
    if (!involved?.kind || !involved.name || !uid) return;
    const now = this.deps.clock.now();
    const count = eventCount(e);
    const seen = this.lastCount.get(uid) ?? 0;
    if (count <= seen) return;
    this.remember(uid, count);
    const occurrence: EventOccurrence = {
      at: eventTime(e, now),
      reason: e.reason ?? '',
      type: e.type ?? 'Normal',
      count: count - seen,
      ...(e.message ? { message: e.message } : {}),
    };
    const namespace = involved.namespace ?? e.metadata?.namespace ?? '';
    const target: TargetRef = {
      apiVersion: involved.apiVersion ?? 'v1',
      kind: involved.kind,
      namespace,
      name: involved.name,
      ...(involved.uid ? { uid: involved.uid } : {}),
    };
    const id = `${uid}:${count}`;
    this.deps.store.recordEvent(target, id, occurrence, now);
    const pod = involved.kind === 'Pod' ? this.deps.pods.get(namespace, involved.name) : undefined;
    const labels = pod?.metadata?.labels;
    this.deps.onChange({ target, ...(labels === undefined ? {} : { labels }), events: true });
    if (pod !== undefined) {
      const workload = podWorkload(pod, this.deps.replicaSets.list(namespace));
      if (workload) {
        this.deps.store.recordEvent(workload, id, occurrence, now);
        this.deps.onChange({ target: workload, events: true });
      }
    }
  }

  /**
   * Forgets a deleted Event's last count: a uid is never reused, and the API server deletes every Event an hour
   * after its last update, so the map holds the live Events' counts rather than the last 50 000 ever seen.
   */
  forget(e: CoreV1Event): void {
    const uid = e.metadata?.uid;
    if (uid !== undefined) this.lastCount.delete(uid);
  }

  /** How many Events' last counts are remembered. */
  trackedEvents(): number {
    return this.lastCount.size;
  }

  private remember(uid: string, count: number): void {
    this.lastCount.delete(uid);
    this.lastCount.set(uid, count);
    const max = this.deps.maxTrackedEvents ?? 50_000;
    while (this.lastCount.size > max) {
      const oldest = this.lastCount.keys().next().value;
      if (oldest === undefined) break;
      this.lastCount.delete(oldest);
    }
  }
}
