/**
 * What a demo run records, as plain data: the pods as listed every couple of seconds, their CPU and memory as
 * metrics.k8s.io served them, the Deployments' replicas, every HealingAction, the analyzer's decisions (from the
 * operator's log) and the faults the simulator injected. The report (report.ts) is computed from this alone —
 * measured, not declared. Conversions from API objects live here too, pure.
 */
import type * as k8s from '@kubernetes/client-node';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { timestampMs } from '../k8s/time.js';
import type { ScenarioId } from './scenarios.js';
import type { Injection } from './simulator.js';

/** One pod at one listing. */
export interface PodSample {
  readonly at: number;
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly uid: string;
  readonly ready: boolean;
  readonly restarts: number;
  /** lastState.terminated.reason of the container (OOMKilled, Error …). */
  readonly lastReason?: string;
  /** state.waiting.reason (CrashLoopBackOff …). */
  readonly waiting?: string;
  /** When the running container started (ms), while running. */
  readonly runningSince?: number;
  readonly deleting: boolean;
}

/** One pod's usage at one metrics.k8s.io poll, in percent of its limits. */
export interface UsageSample {
  readonly at: number;
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly cpuPercent?: number;
  readonly memoryPercent?: number;
}

/** A Deployment's replicas at one poll. */
export interface ReplicaSample {
  readonly at: number;
  readonly namespace: string;
  readonly workload: string;
  readonly desired: number;
  readonly ready: number;
}

/** A HealingAction, as the report needs it. */
export interface ActionRecord {
  readonly name: string;
  readonly namespace: string;
  readonly policy: string;
  /** The Deployment the action is about (the target itself, or a pod's owner). */
  readonly workload: string;
  readonly targetKind: string;
  readonly targetName: string;
  readonly type: string;
  /** For scale actions: up, down or absolute, and the count. */
  readonly scale?: { readonly direction: string; readonly replicas: number };
  readonly source: 'rule' | 'ai';
  readonly confidence?: number;
  readonly dryRun: boolean;
  readonly phase: string;
  readonly reason?: string;
  readonly message?: string;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly completedAt?: number;
  readonly trigger: { readonly name: string; readonly type: string; readonly observedValue?: number; readonly threshold?: number };
  readonly reasoning: readonly string[];
}

/** One recommendation of the analyzer (from the operator's log), including those that declined to act. */
export interface DecisionRecord {
  readonly at: number;
  readonly namespace: string;
  readonly policy: string;
  readonly target: string;
  /** The action's name, or "none". */
  readonly recommendation: string;
  readonly rule?: string;
  readonly confidence?: number;
  readonly reasoning: readonly string[];
}

/** Everything a run recorded. */
export interface Recording {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly scenarios: readonly { readonly id: ScenarioId; readonly namespace: string }[];
  readonly pods: readonly PodSample[];
  readonly usage: readonly UsageSample[];
  readonly replicas: readonly ReplicaSample[];
  readonly actions: readonly ActionRecord[];
  readonly decisions: readonly DecisionRecord[];
  readonly injections: readonly Injection[];
}

/** Phases in which an action has acted (or is acting) on the cluster. */
const ACTED = new Set(['InProgress', 'Verifying', 'Succeeded', 'Failed']);

/** True when the action changed (or is changing) something: not a dry run, and it ran. */
export function hasActed(a: Pick<ActionRecord, 'dryRun' | 'phase' | 'startedAt'>): boolean {
  return !a.dryRun && (ACTED.has(a.phase) || (a.phase === 'Cancelled' && a.startedAt !== undefined));
}

/** A pod of a listing as a sample. */
export function podSample(pod: k8s.V1Pod, at: number): PodSample {
  const c = pod.status?.containerStatuses?.[0];
  const runningSince = c?.state?.running ? timestampMs(c.state.running.startedAt) : undefined;
  const lastReason = c?.lastState?.terminated?.reason;
  const waiting = c?.state?.waiting?.reason;
  return {
    at,
    namespace: pod.metadata?.namespace ?? '',
    workload: pod.metadata?.labels?.['app'] ?? '',
    pod: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    ready: pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false,
    restarts: c?.restartCount ?? 0,
    ...(lastReason === undefined ? {} : { lastReason }),
    ...(waiting === undefined ? {} : { waiting }),
    ...(runningSince === undefined ? {} : { runningSince }),
    deleting: pod.metadata?.deletionTimestamp !== undefined,
  };
}

/**
 * A HealingAction as a record. `workloadOf` names the Deployment of a pod the action no longer finds (the pod may
 * be gone); the action's own workloadRef is preferred.
 */
export function actionRecord(a: HealingAction, workloadOf: (namespace: string, pod: string) => string | undefined): ActionRecord {
  const ns = a.metadata.namespace ?? '';
  const t = a.spec.targetResource;
  const workload = a.spec.workloadRef?.name ?? (t.kind === 'Pod' ? (workloadOf(ns, t.name) ?? t.name.replace(/-[a-z0-9]{5,10}-[a-z0-9]{5}$/, '')) : t.name);
  const s = a.status;
  const startedAt = timestampMs(s?.startTime);
  const completedAt = timestampMs(s?.completionTime);
  const scale = a.spec.action.scaleAction;
  return {
    name: a.metadata.name ?? '',
    namespace: ns,
    policy: a.spec.policyRef.name,
    workload,
    targetKind: t.kind,
    targetName: t.name,
    type: a.spec.action.type,
    ...(scale === undefined ? {} : { scale: { direction: scale.direction, replicas: scale.replicas } }),
    source: a.spec.source ?? 'rule',
    ...(a.spec.confidence === undefined ? {} : { confidence: a.spec.confidence }),
    dryRun: a.spec.dryRun ?? false,
    phase: s?.phase ?? 'Pending',
    ...(s?.reason === undefined ? {} : { reason: s.reason }),
    ...(s?.message === undefined ? {} : { message: s.message.slice(0, 300) }),
    createdAt: timestampMs(a.metadata.creationTimestamp) ?? 0,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(completedAt === undefined ? {} : { completedAt }),
    trigger: {
      name: a.spec.trigger?.name ?? '',
      type: a.spec.trigger?.type ?? '',
      ...(a.spec.trigger?.observedValue === undefined ? {} : { observedValue: a.spec.trigger.observedValue }),
      ...(a.spec.trigger?.threshold === undefined ? {} : { threshold: a.spec.trigger.threshold }),
    },
    reasoning: (a.spec.reasoning ?? []).slice(0, 8).map((r) => r.slice(0, 300)),
  };
}

/**
 * An analyzer decision from one operator log record (the 'analyzer recommendation' lines the policy reconciler
 * writes), or undefined for any other record.
 */
export function decisionFromLog(rec: Readonly<Record<string, unknown>>, at: number): DecisionRecord | undefined {
  if (rec['msg'] !== 'analyzer recommendation') return undefined;
  const policy = typeof rec['policy'] === 'string' ? rec['policy'] : '';
  const target = typeof rec['target'] === 'string' ? rec['target'] : '';
  // Policy keys are namespace/name (HealingPolicy) or chp/name; targets Kind/namespace/name.
  const parts = policy.split('/');
  const namespace = parts.length > 1 ? (parts[parts.length - 2] ?? '') : (target.split('/')[1] ?? '');
  const reasoning = Array.isArray(rec['reasoning']) ? rec['reasoning'].filter((r): r is string => typeof r === 'string') : [];
  return {
    at,
    namespace,
    policy: parts[parts.length - 1] ?? policy,
    target,
    recommendation: typeof rec['recommendation'] === 'string' ? rec['recommendation'] : 'none',
    ...(typeof rec['rule'] === 'string' ? { rule: rec['rule'] } : {}),
    ...(typeof rec['confidence'] === 'number' ? { confidence: rec['confidence'] } : {}),
    reasoning: reasoning.slice(0, 6).map((r) => r.slice(0, 300)),
  };
}
