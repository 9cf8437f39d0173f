/**
 * What the operator's informer caches keep of pods and workloads. The caches hold every pod of the cluster, and
 * most of a real pod object is spec the operator never reads from a cache (env, volumes, probes, tolerations,
 * affinity …): every executor, and the safety gate, read the object they act on LIVE from the API server. What is
 * read from the caches, and therefore kept:
 *
 * - metadata: name, namespace, uid, resourceVersion, generation, creation and deletion timestamps, labels,
 *   annotations (opt-out, simulation and revision annotations), ownerReferences (pod → ReplicaSet → Deployment);
 * - a pod's containers' names, images and resources (the basis of the percentage metrics, pod-status.ts), its
 *   nodeName, and its whole status except addresses (phase, conditions, container statuses with restart counts,
 *   states and last states, reason, message, startTime);
 * - a workload's replicas, selector, strategy and minReadySeconds, its pod template's labels and annotations (not
 *   the pod spec), and its whole status.
 *
 * - an Event's identity (name, namespace, uid, resourceVersion), the object it involves, reason, type, counts,
 *   times and message (capped): what the event collector reads, as the informer hands it over. The Events cache
 *   itself keeps only the identity (eventIdentity): it holds every Event of the last hour in the cluster — after a
 *   few storms on the benchmark cluster, tens of thousands — and nothing reads an Event from it.
 *
 * managedFields are always dropped (stripManagedFields). New code that reads another field from a cached pod or
 * workload must add it here (cache-transforms.test.ts lists what must survive).
 */
import type * as k8s from '@kubernetes/client-node';
import { capText, MAX_EVENT_MESSAGE, MAX_EVENT_REASON } from './input-limits.js';

/** Copies the listed keys of `from` that are defined. */
function pick<T extends object, K extends keyof T>(from: T | undefined, keys: readonly K[]): Pick<T, K> {
  const out: Partial<T> = {};
  if (from === undefined) return out as Pick<T, K>;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out as Pick<T, K>;
}

const METADATA_KEYS = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'labels', 'annotations', 'ownerReferences'] as const;

function slimMetadata(m: k8s.V1ObjectMeta | undefined): k8s.V1ObjectMeta {
  return pick(m, METADATA_KEYS);
}

function slimContainer(c: k8s.V1Container): k8s.V1Container {
  return pick(c, ['name', 'image', 'resources'] as const);
}

/** A pod as the caches keep it (see the module comment). Returns a new object. */
export function slimPod(pod: k8s.V1Pod): k8s.V1Pod {
  const spec = pod.spec;
  const out: k8s.V1Pod = { ...pick(pod, ['apiVersion', 'kind'] as const), metadata: slimMetadata(pod.metadata) };
  if (spec !== undefined) {
    out.spec = {
      containers: spec.containers.map(slimContainer),
      ...(spec.initContainers === undefined ? {} : { initContainers: spec.initContainers.map(slimContainer) }),
      ...(spec.nodeName === undefined ? {} : { nodeName: spec.nodeName }),
    };
  }
  if (pod.status !== undefined) {
    out.status = pick(pod.status, ['phase', 'conditions', 'containerStatuses', 'initContainerStatuses', 'reason', 'message', 'startTime'] as const);
  }
  return out;
}

type Workload = k8s.V1Deployment | k8s.V1ReplicaSet | k8s.V1StatefulSet | k8s.V1DaemonSet;

/** A workload as the caches keep it, without its pod template's spec (see the module comment). Returns a new object. */
export function slimWorkload<T extends Workload>(w: T): T {
  const spec = w.spec as (Workload['spec'] & { replicas?: number; strategy?: unknown; updateStrategy?: unknown; minReadySeconds?: number }) | undefined;
  const out = { ...pick(w, ['apiVersion', 'kind', 'status'] as const), metadata: slimMetadata(w.metadata) } as T;
  if (spec !== undefined) {
    const template = spec.template;
    (out as { spec?: unknown }).spec = {
      ...pick(spec, ['replicas', 'selector', 'strategy', 'updateStrategy', 'minReadySeconds'] as const),
      ...(template === undefined ? {} : { template: { metadata: pick(template.metadata, ['labels', 'annotations'] as const) } }),
    };
  }
  return out;
}

/**
 * An Event as the cache keeps it: what the event collector reads (see the module comment), with the reason and
 * message capped as the series store caps them. Returns a new object.
 */
export function slimEvent(e: k8s.CoreV1Event): k8s.CoreV1Event {
  const out: k8s.CoreV1Event = {
    ...pick(e, ['apiVersion', 'kind', 'type', 'count', 'eventTime', 'firstTimestamp', 'lastTimestamp'] as const),
    metadata: pick(e.metadata, ['name', 'namespace', 'uid', 'resourceVersion'] as const),
    involvedObject: pick(e.involvedObject, ['apiVersion', 'kind', 'name', 'namespace', 'uid'] as const),
  };
  if (e.reason !== undefined) out.reason = capText(e.reason, MAX_EVENT_REASON);
  if (e.message !== undefined) out.message = capText(e.message, MAX_EVENT_MESSAGE);
  if (e.series !== undefined) out.series = pick(e.series, ['count', 'lastObservedTime'] as const);
  return out;
}

/**
 * What the Events cache keeps of an Event once the collector has seen it: its identity (namespace, name, uid,
 * resourceVersion — what a relist compares and a delete handler reads), and an empty involvedObject so the type
 * holds. Returns a new object that shares the strings of `e`.
 */
export function eventIdentity(e: k8s.CoreV1Event): k8s.CoreV1Event {
  return { metadata: pick(e.metadata, ['name', 'namespace', 'uid', 'resourceVersion'] as const), involvedObject: {} };
}
