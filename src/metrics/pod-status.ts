/**
 * Reads what a kubelet reports about a pod — restarts, readiness, container states, resource limits — into the
 * plain observations trigger evaluation works on. Pure: the pod and `now` in, data out.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseBytes, parseMillicores } from '../k8s/quantity.js';
import { timestampMs } from '../k8s/time.js';
import type { ConditionInput } from './series-store.js';

/** Built-in metric values read from a pod's status at one moment. */
export interface PodStatusMetrics {
  /** Sum of restartCount over the pod's containers. */
  readonly restart_count: number;
  /** 1 when the pod's Ready condition is True, else 0. */
  readonly ready: number;
}

/** Container waiting/terminated reasons reported as pseudo-conditions, so condition triggers can use them. */
const WAITING_REASONS = [
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'InvalidImageName',
  'RunContainerError',
] as const;

/** Restart count and readiness of a pod. */
export function podStatusMetrics(pod: V1Pod): PodStatusMetrics {
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 1 : 0;
  return { restart_count: restarts, ready };
}

/** How recently a container must have terminated, with repeated restarts, to count as crash-looping while it runs. */
export const CRASH_LOOP_WINDOW_MS = 5 * 60_000;

/**
 * The pod's conditions (Ready, ContainersReady, PodScheduled, …, with their lastTransitionTime) plus
 * pseudo-conditions for container states, so condition triggers can use them:
 * - `CrashLoopBackOff` is True while a container waits in CrashLoopBackOff, and also while it runs between two
 *   back-offs (restarted at least twice, last termination less than 5 minutes ago) — a crash loop alternates
 *   waiting and running, and "in a crash loop for 2m" must not reset at every restart;
 * - `ImagePullBackOff`, `ErrImagePull`, `CreateContainerConfigError`, … are True while a container waits with
 *   that reason;
 * - `OOMKilled` is True while a container's last termination was an OOM kill (since that termination).
 * Pseudo-conditions other than OOMKilled carry no `since`: the series store keeps the time it first saw them.
 */
export function podConditions(pod: V1Pod, now: number): Map<string, ConditionInput> {
  const out = new Map<string, ConditionInput>();
  for (const c of pod.status?.conditions ?? []) {
    const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
    const since = c.lastTransitionTime === undefined ? undefined : (timestampMs(c.lastTransitionTime) ?? now);
    out.set(c.type, {
      status,
      ...(since === undefined ? {} : { since }),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    });
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const reason of WAITING_REASONS) {
    const waiting = statuses.filter((s) => s.state?.waiting?.reason === reason);
    const looping =
      reason === 'CrashLoopBackOff'
        ? statuses.filter(
            (s) =>
              s.state?.running !== undefined &&
              (s.restartCount ?? 0) >= 2 &&
              now - (timestampMs(s.lastState?.terminated?.finishedAt) ?? Number.NEGATIVE_INFINITY) < CRASH_LOOP_WINDOW_MS,
          )
        : [];
    if (waiting.length + looping.length > 0) {
      out.set(reason, {
        status: 'True',
        reason,
        message: [...waiting.map((s) => `${s.name}: ${s.state?.waiting?.message ?? reason}`), ...looping.map((s) => `${s.name}: restarted ${s.restartCount} times`)].join('; '),
      });
    } else {
      out.set(reason, { status: 'False' });
    }
  }
  const oom = statuses.filter((s) => s.lastState?.terminated?.reason === 'OOMKilled' || s.state?.terminated?.reason === 'OOMKilled');
  if (oom.length > 0) {
    const at = Math.min(...oom.map((s) => timestampMs((s.state?.terminated ?? s.lastState?.terminated)?.finishedAt) ?? now));
    out.set('OOMKilled', { status: 'True', since: at, reason: 'OOMKilled', message: oom.map((s) => s.name).join(', ') });
  } else {
    out.set('OOMKilled', { status: 'False' });
  }
  return out;
}

/**
 * Whether podConditions(pod, now) may differ for two values of `now`: a container that terminated (its crash loop
 * ages out of CRASH_LOOP_WINDOW_MS; an OOM kill without a finish time is dated `now`), or a condition whose
 * lastTransitionTime cannot be read (dated `now`). When false, the same pod object always yields the same
 * conditions, and a periodic resample may keep the ones it recorded (KubeStatusCollector.resample). Pure.
 */
export function conditionsDependOnTime(pod: V1Pod): boolean {
  for (const c of pod.status?.conditions ?? []) if (c.lastTransitionTime !== undefined && timestampMs(c.lastTransitionTime) === undefined) return true;
  for (const list of [pod.status?.initContainerStatuses, pod.status?.containerStatuses]) {
    for (const s of list ?? []) if (s.lastState?.terminated !== undefined || s.state?.terminated !== undefined) return true;
  }
  return false;
}

/** The resource a percentage is computed against, summed over the pod's containers. */
export interface ResourceBasis {
  /** Millicores (CPU) or bytes (memory). */
  readonly amount: number;
  /** Whether the amount is the containers' limits or, lacking those, their requests. */
  readonly basis: 'limit' | 'request';
}

/** Why a percentage cannot be computed for a pod. */
export interface NoBasis {
  readonly amount?: undefined;
  readonly reason: string;
}

/**
 * The CPU (millicores) or memory (bytes) a pod's usage percentage is measured against: the sum of its containers'
 * limits when every container has one, else the sum of requests when every container has one, else none (a
 * percentage of an unknown amount would be a made-up number — the earlier attempt assumed 512Mi).
 */
export function resourceBasis(pod: V1Pod, resource: 'cpu' | 'memory'): ResourceBasis | NoBasis {
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) return { reason: 'pod has no containers' };
  const parse = resource === 'cpu' ? parseMillicores : parseBytes;
  for (const basis of ['limit', 'request'] as const) {
    const values = containers.map((c) => (basis === 'limit' ? c.resources?.limits : c.resources?.requests)?.[resource]);
    if (values.every((v): v is string => typeof v === 'string')) {
      const amount = values.reduce((sum, v) => sum + parse(v), 0);
      if (amount > 0) return { amount, basis };
    }
  }
  return { reason: `no ${resource} limit or request on every container of the pod` };
}
