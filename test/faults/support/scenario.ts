/**
 * Cluster-side helpers of the fault scenarios: namespaces (their Events saved before deletion, for the secrets
 * scan), workloads whose pods crash on demand, a watch that keeps every HealingAction's phase history, and the
 * accounting that matches the mutations the proxy saw against the actions that made them.
 */
import * as k8s from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HealingAction } from '../../../src/api/v1alpha1/healing-action.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../../support/cluster.js';
import { listActions } from '../../support/resources.js';
import { mutationOf, type ProxiedRequest } from './api-proxy.js';
import { artifactDir } from './common.js';

export const kc = testKubeConfig();
export const core = kc.makeApiClient(k8s.CoreV1Api);
export const apps = kc.makeApiClient(k8s.AppsV1Api);
export const co = kc.makeApiClient(k8s.CustomObjectsApi);
export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** Phases after which nothing more happens to an action. */
export const FINISHED: readonly string[] = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'];

/** Annotations that make a pod crash-loop fast (kwok Stages in hack/cluster/manifests/kwok.yaml). */
export const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '3s' };

const created: string[] = [];

/** A fresh namespace of this run, remembered for cleanup. */
export async function faultNamespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = await createTestNamespace(kc, prefix, labels);
  created.push(ns);
  return ns;
}

/** Saves every Event of `ns` to test-artifacts/faults/events/<ns>.json (the secrets test scans them). */
export async function saveEvents(ns: string): Promise<number> {
  const list = await core.listNamespacedEvent({ namespace: ns }).catch(() => ({ items: [] as k8s.CoreV1Event[] }));
  writeFileSync(path.join(artifactDir('events'), `${ns}.json`), JSON.stringify(list.items.map((e) => ({ reason: e.reason, type: e.type, message: e.message, involved: e.involvedObject })), null, 1));
  return list.items.length;
}

/** Saves the Events of, then deletes, every namespace this file created. */
export async function cleanupNamespaces(): Promise<void> {
  for (const ns of created.splice(0)) {
    await saveEvents(ns);
    await deleteTestNamespace(kc, ns);
  }
}

/** A Deployment with `replicas` pods carrying app=<name> and `labels`, 100Mi/1 CPU limits. */
export function deployment(name: string, replicas: number, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): k8s.V1Deployment {
  const all = { app: name, ...labels };
  const limits = { memory: '100Mi', cpu: '1' };
  return {
    metadata: { name, labels: all },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: all, annotations },
        spec: { containers: [{ name: 'app', image: 'example.invalid/app:1', resources: { limits, requests: limits } }], terminationGracePeriodSeconds: 0 },
      },
    },
  };
}

/** Live pods (no deletionTimestamp) of a namespace. */
export async function livePods(ns: string, labelSelector?: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns, ...(labelSelector ? { labelSelector } : {}) })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
}

/** Makes `pod` crash-loop. Errors (the pod went away meanwhile) are ignored; returns whether it was patched. */
export async function crashPod(ns: string, pod: string, annotations: Record<string, string> = CRASH): Promise<boolean> {
  try {
    await core.patchNamespacedPod({ name: pod, namespace: ns, body: { metadata: { annotations } } }, mergePatch);
    return true;
  } catch {
    return false;
  }
}

/** True when the pod is Ready. */
export function isReady(p: k8s.V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** One phase change of an action as the watch saw it. */
export interface Transition {
  readonly phase: string;
  readonly reason: string;
  readonly executionId?: string;
  readonly at: number;
}

/** A running watch of one namespace's HealingActions. */
export interface ActionWatch {
  /** Phase history by action name. */
  readonly transitions: Map<string, Transition[]>;
  /** The latest object by action name. */
  readonly latest: Map<string, HealingAction>;
  /** When the watch first saw each action (Date.now(); creationTimestamp has only second precision). */
  readonly firstSeen: Map<string, number>;
  /** Called for each new object version. */
  onChange: ((a: HealingAction) => void) | undefined;
  stop(): void;
}

/**
 * Watches a namespace's HealingActions until stopped, reconnecting from the last resourceVersion (bookmarks keep it
 * fresh) or afresh once it expired. Used as the test's own view, independent of the operator's.
 */
export async function watchActions(ns: string): Promise<ActionWatch> {
  let stopped = false;
  let resourceVersion: string | undefined;
  let current: AbortController | undefined;
  const w: ActionWatch = {
    transitions: new Map(),
    latest: new Map(),
    firstSeen: new Map(),
    onChange: undefined,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
  const record = (a: HealingAction): void => {
    const name = a.metadata.name ?? '';
    w.latest.set(name, a);
    if (!w.firstSeen.has(name)) w.firstSeen.set(name, Date.now());
    const list = w.transitions.get(name) ?? [];
    const t: Transition = { phase: a.status?.phase ?? 'Pending', reason: a.status?.reason ?? '', ...(a.status?.executionId ? { executionId: a.status.executionId } : {}), at: Date.now() };
    const last = list.at(-1);
    if (last?.phase !== t.phase || last.reason !== t.reason || last.executionId !== t.executionId) list.push(t);
    w.transitions.set(name, list);
    w.onChange?.(a);
  };
  const connect = async (): Promise<void> => {
    current = await new k8s.Watch(kc).watch(
      `/apis/kubeskippy.io/v1alpha1/namespaces/${ns}/healingactions`,
      { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
      (type: string, obj: HealingAction) => {
        if (type === 'ERROR') {
          resourceVersion = undefined;
          return;
        }
        resourceVersion = obj.metadata.resourceVersion ?? resourceVersion;
        if (type !== 'BOOKMARK') record(obj);
      },
      () => {
        if (!stopped) setTimeout(reconnect, 200);
      },
    );
    if (stopped) current.abort();
  };
  const reconnect = (): void => {
    if (stopped) return;
    connect().catch(() => setTimeout(reconnect, 500));
  };
  await connect();
  return w;
}

/** Counts of actions by phase. */
export function byPhase(actions: readonly HealingAction[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of actions) out[a.status?.phase ?? 'Pending'] = (out[a.status?.phase ?? 'Pending'] ?? 0) + 1;
  return out;
}

/** Counts of actions by "phase/reason". */
export function byReason(actions: readonly HealingAction[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of actions) {
    const k = `${a.status?.phase ?? 'Pending'}/${a.status?.reason ?? ''}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** What the proxy saw executed, matched against the actions. */
export interface MutationAccount {
  /** Successful (2xx) mutations by the operator on objects of the namespace. */
  readonly mutations: number;
  /** Mutation requests refused or failed (4xx/5xx, or no answer), by status. */
  readonly refused: number;
  readonly refusedByStatus: Record<string, number>;
  /** Actions with more than one successful mutation of their target: name → count. */
  readonly duplicated: Map<string, number>;
  /** Successful mutations of an object no action targeted. */
  readonly unowned: string[];
  /** Actions that passed the gate (an executionId) with no successful mutation of their target. */
  readonly executedWithoutMutation: string[];
  /** Successful mutations per action. */
  readonly perAction: Map<string, number>;
}

/**
 * Matches successful mutations of pods and workloads in `ns` to the actions that target them. Pod names are unique
 * in a namespace over the run (ReplicaSet suffixes), so a pod mutation belongs to the action on that pod; a
 * workload mutation belongs to the action on that workload that started last before it (actions on one target
 * never overlap).
 */
export function accountMutations(requests: readonly ProxiedRequest[], ns: string, actions: readonly HealingAction[]): MutationAccount {
  const perAction = new Map<string, number>();
  const unowned: string[] = [];
  let mutations = 0;
  let refused = 0;
  const refusedByStatus: Record<string, number> = {};
  for (const r of requests) {
    const m = mutationOf(r);
    if (!m || m.namespace !== ns) continue;
    if (r.status === undefined || r.status < 200 || r.status >= 300) {
      refused++;
      const k = `${m.kind} ${String(r.status ?? 'no answer')}`;
      refusedByStatus[k] = (refusedByStatus[k] ?? 0) + 1;
      continue;
    }
    mutations++;
    const candidates = actions
      .filter((a) => a.spec.targetResource.name === m.name || (m.kind !== 'evict' && m.kind !== 'delete-pod' && a.spec.workloadRef?.name === m.name))
      .filter((a) => a.status?.startTime !== undefined && Math.floor(Date.parse(a.status.startTime) / 1000) * 1000 <= r.at)
      .sort((x, y) => Date.parse(x.status?.startTime ?? '') - Date.parse(y.status?.startTime ?? ''));
    const owner = candidates.at(-1);
    if (!owner) unowned.push(`${r.method} ${r.path} @${new Date(r.at).toISOString()}`);
    else perAction.set(owner.metadata.name ?? '', (perAction.get(owner.metadata.name ?? '') ?? 0) + 1);
  }
  const duplicated = new Map([...perAction].filter(([, n]) => n > 1));
  const executedWithoutMutation = actions
    .filter((a) => a.status?.executionId !== undefined && a.spec.dryRun !== true && !perAction.has(a.metadata.name ?? ''))
    .map((a) => `${a.metadata.name ?? ''} (${a.status?.phase ?? ''} ${a.status?.reason ?? ''})`);
  return { mutations, refused, refusedByStatus, duplicated, unowned, executedWithoutMutation, perAction };
}

/** Lists the namespace's actions (oldest first). */
export const actionsIn = (ns: string): Promise<HealingAction[]> => listActions(kc, ns);

/** Median and maximum of a list of numbers (NaN when empty). */
export function stats(values: readonly number[]): { n: number; median: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)]!, max: s.length === 0 ? Number.NaN : s.at(-1)! };
}

/** The Deployment a ReplicaSet pod belongs to, by its name (`<deployment>-<rs hash>-<pod suffix>`). */
export function deploymentOfPod(pod: string): string {
  return pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
}

/**
 * Deployments with an action still in flight (any phase before terminal), so a test injects no new fault there: a
 * crash injected into the replacement pod of an action being verified would fail that verification.
 */
export function busyDeployments(watch: ActionWatch): Set<string> {
  return new Set(
    [...watch.latest.values()]
      .filter((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'))
      .map((a) => a.spec.workloadRef?.name ?? deploymentOfPod(a.spec.targetResource.name)),
  );
}
