/**
 * Reads what a kubelet reports about a pod — restarts, readiness, container states, resource limits — into the
 * plain observations trigger evaluation works on. Pure: the pod and `now` in, data out.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseBytes, parseMillicores } from '../k8s/quantity.js';
import type { ConditionState } from './types.js';

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

function toMs(t: Date | string | undefined, fallback: number): number {
  if (t === undefined) return fallback;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : fallback;
}

/** Restart count and readiness of a pod. */
export function podStatusMetrics(pod: V1Pod): PodStatusMetrics {
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 1 : 0;
  return { restart_count: restarts, ready };
}

/**
 * The pod's conditions (Ready, ContainersReady, PodScheduled, …, with their lastTransitionTime) plus
 * pseudo-conditions for container states: `CrashLoopBackOff`, `ImagePullBackOff`, … are True while a container
 * waits with that reason (since when it last terminated, else `previous?.since`, else `now`), and `OOMKilled` is
 * True when a container's last termination was an OOM kill (since that termination).
 * `previous` (the conditions recorded before) keeps the `since` of a state that has not changed.
 */
export function podConditions(
  pod: V1Pod,
  now: number,
  previous?: ReadonlyMap<string, ConditionState>,
): Map<string, ConditionState> {
  const out = new Map<string, ConditionState>();
  for (const c of pod.status?.conditions ?? []) {
    const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
    out.set(c.type, {
      status,
      since: toMs(c.lastTransitionTime, previous?.get(c.type)?.status === status ? previous.get(c.type)!.since : now),
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    });
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const reason of WAITING_REASONS) {
    const waiting = statuses.filter((s) => s.state?.waiting?.reason === reason);
    const prev = previous?.get(reason);
    if (waiting.length > 0) {
      // Since the earliest of: the last termination of a waiting container, or when we first saw it waiting.
      const terminations = waiting.map((s) => toMs(s.lastState?.terminated?.finishedAt, Number.POSITIVE_INFINITY));
      const firstSeen = prev?.status === 'True' ? prev.since : now;
      out.set(reason, {
        status: 'True',
        since: Math.min(firstSeen, ...terminations),
        reason,
        message: waiting.map((s) => `${s.name}: ${s.state?.waiting?.message ?? reason}`).join('; '),
      });
    } else {
      out.set(reason, { status: 'False', since: prev?.status === 'False' ? prev.since : now });
    }
  }
  const oom = statuses.filter((s) => s.lastState?.terminated?.reason === 'OOMKilled' || s.state?.terminated?.reason === 'OOMKilled');
  if (oom.length > 0) {
    const at = Math.min(...oom.map((s) => toMs((s.state?.terminated ?? s.lastState?.terminated)?.finishedAt, now)));
    out.set('OOMKilled', { status: 'True', since: at, reason: 'OOMKilled', message: oom.map((s) => s.name).join(', ') });
  } else {
    out.set('OOMKilled', { status: 'False', since: previous?.get('OOMKilled')?.status === 'False' ? previous.get('OOMKilled')!.since : now });
  }
  return out;
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
