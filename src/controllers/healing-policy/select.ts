/**
 * Which objects a policy watches: its selector applied to the informer caches. Pure — the caller passes the
 * cached objects in.
 */
import type { V1DaemonSet, V1Deployment, V1Pod, V1ReplicaSet, V1StatefulSet } from '@kubernetes/client-node';
import type { AnyPolicy, HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { TargetRef } from '../../metrics/types.js';
import { matchesLabelSelector } from '../../safety/label-selector.js';

/** Kinds a policy can select, with their apiVersion. */
export const SUPPORTED_KINDS: Readonly<Record<string, string>> = {
  Pod: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
};

/** A workload object as the selection sees it. */
export type WorkloadObject = V1Deployment | V1StatefulSet | V1DaemonSet | V1ReplicaSet;

/**
 * The cached objects selection reads, by namespace: a policy reads only the namespaces it may act in, so the work of
 * one evaluation grows with its own namespaces, not with the cluster.
 */
export interface Inventory {
  /** A namespace's labels; undefined when the namespace is not known (then no namespaceSelector matches it). */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /** Namespaces that hold pods or workloads (where a cluster policy with "*" or a namespaceSelector looks). */
  readonly namespaces: () => readonly string[];
  readonly pods: (namespace: string) => readonly V1Pod[];
  readonly deployments: (namespace: string) => readonly V1Deployment[];
  readonly statefulSets: (namespace: string) => readonly V1StatefulSet[];
  readonly daemonSets: (namespace: string) => readonly V1DaemonSet[];
  readonly replicaSets: (namespace: string) => readonly V1ReplicaSet[];
  /**
   * A value that changes whenever anything selection reads in `namespace` changes (its objects, its labels); absent:
   * unknown, selections are not memoised.
   */
  readonly version?: (namespace: string) => string;
}

/** Plain lists of objects as an Inventory (tests, offline tools). */
export function inventoryOf(
  lists: { pods?: V1Pod[]; deployments?: V1Deployment[]; statefulSets?: V1StatefulSet[]; daemonSets?: V1DaemonSet[]; replicaSets?: V1ReplicaSet[] },
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined = () => ({}),
): Inventory {
  const inNs = <T extends { metadata?: { namespace?: string } }>(items: T[] | undefined) => (ns: string): T[] => (items ?? []).filter((o) => o.metadata?.namespace === ns);
  const all = [lists.pods, lists.deployments, lists.statefulSets, lists.daemonSets, lists.replicaSets].flatMap((l) => (l ?? []).map((o) => o.metadata?.namespace ?? ''));
  return {
    namespaceLabels,
    namespaces: () => [...new Set(all)],
    pods: inNs(lists.pods),
    deployments: inNs(lists.deployments),
    statefulSets: inNs(lists.statefulSets),
    daemonSets: inNs(lists.daemonSets),
    replicaSets: inNs(lists.replicaSets),
  };
}

/** One object a policy watches, with what is needed to observe and act on it. */
export interface SelectedTarget {
  readonly ref: TargetRef;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly resourceVersion?: string;
  /** For a pod: its controlling workload (Deployment through its ReplicaSet, StatefulSet, DaemonSet, or ReplicaSet). */
  readonly workload?: TargetRef;
  /** For a workload: its pods (resolved through ownerReferences); for a pod: itself. */
  readonly pods: readonly V1Pod[];
}

/** The result of selecting: targets, and problems with the selector worth reporting on the policy. */
export interface Selection {
  readonly targets: readonly SelectedTarget[];
  readonly problems: readonly string[];
}

function controllerOf(meta: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] } | undefined) {
  return meta?.ownerReferences?.find((o) => o.controller === true) ?? meta?.ownerReferences?.[0];
}

function isReplicaSetMap(x: readonly V1ReplicaSet[] | ReadonlyMap<string, V1ReplicaSet>): x is ReadonlyMap<string, V1ReplicaSet> {
  return !Array.isArray(x);
}

/**
 * Resolves a pod's controlling workload: Pod → ReplicaSet → Deployment, or Pod → StatefulSet/DaemonSet/ReplicaSet.
 * Bare pods have none.
 */
export function podWorkload(pod: V1Pod, replicaSets: readonly V1ReplicaSet[] | ReadonlyMap<string, V1ReplicaSet>): TargetRef | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const owner = controllerOf(pod.metadata);
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    // A map by uid (built once per namespace by selectTargets) makes this O(1) per pod.
    const rs: V1ReplicaSet | undefined = isReplicaSetMap(replicaSets)
      ? replicaSets.get(owner.uid)
      : replicaSets.find((r) => r.metadata?.uid === owner.uid || (r.metadata?.name === owner.name && r.metadata.namespace === ns));
    const rsOwner = controllerOf(rs?.metadata);
    if (rsOwner?.kind === 'Deployment') return { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: rsOwner.name, uid: rsOwner.uid };
    return { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: ns, name: owner.name, uid: owner.uid };
  }
  if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet') {
    return { apiVersion: 'apps/v1', kind: owner.kind, namespace: ns, name: owner.name, uid: owner.uid };
  }
  return undefined;
}

/** A policy as far as selection is concerned. */
export type SelectingPolicy = Pick<AnyPolicy, 'kind' | 'metadata' | 'spec'>;

/**
 * Whether a policy may act in `namespace` — the tenancy rule, used by selection and re-checked by the safety gate.
 * A HealingPolicy: only its own namespace, whatever its selector says (selector.namespaces is refused by the API
 * server; an object stored before that rule is reported and still confined). A ClusterHealingPolicy: the namespace
 * must be listed in selector.namespaces ("*" = any) when that is given, and match selector.namespaceSelector when
 * that is given; with neither, none. `namespaceLabels` are the namespace's labels (undefined: unknown namespace,
 * which no namespaceSelector matches).
 */
export function mayActInNamespace(policy: SelectingPolicy, namespace: string, namespaceLabels: Readonly<Record<string, string>> | undefined): boolean {
  if (policy.kind !== 'ClusterHealingPolicy') return namespace !== '' && namespace === policy.metadata.namespace;
  const sel = policy.spec.selector as { namespaces?: readonly string[]; namespaceSelector?: Parameters<typeof matchesLabelSelector>[0] };
  const listed = sel.namespaces ?? [];
  if (listed.length === 0 && sel.namespaceSelector === undefined) return false;
  if (listed.length > 0 && !listed.includes('*') && !listed.includes(namespace)) return false;
  if (sel.namespaceSelector !== undefined && (namespaceLabels === undefined || !matchesLabelSelector(sel.namespaceSelector, namespaceLabels))) return false;
  return namespace !== '';
}

/** In words, where a policy may act ("namespace shop", "namespaces labelled team=shop"), for messages. */
export function describeNamespaces(policy: SelectingPolicy): string {
  if (policy.kind !== 'ClusterHealingPolicy') return `its own namespace ${policy.metadata.namespace ?? ''}`;
  const sel = policy.spec.selector as { namespaces?: readonly string[]; namespaceSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } };
  const parts: string[] = [];
  const listed = sel.namespaces ?? [];
  if (listed.includes('*')) parts.push('every namespace');
  else if (listed.length > 0) parts.push(`namespaces ${listed.join(', ')}`);
  if (sel.namespaceSelector !== undefined) {
    const labels = Object.entries(sel.namespaceSelector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    const exprs = sel.namespaceSelector.matchExpressions?.length ?? 0;
    parts.push(`namespaces labelled ${[...labels, ...(exprs > 0 ? [`${exprs} expression(s)`] : [])].join(',') || '(anything)'}`);
  }
  return parts.join(' and ') || 'no namespace';
}

/** One entry of a policy's `selector.resources`. */
type PolicyResource = NonNullable<HealingPolicy['spec']['selector']['resources']>[number];

/** The kinds a policy watches, with their excluded names (default: every Pod). */
export function policyResources(policy: Pick<AnyPolicy, 'spec'>): NonNullable<HealingPolicy['spec']['selector']['resources']> {
  const r = policy.spec.selector.resources;
  return r && r.length > 0 ? r : [{ apiVersion: 'v1', kind: 'Pod' }];
}

/**
 * Whether one object is inside a policy's selector (namespace, kind, not an excluded name, labels). The same rules
 * selectTargets applies to whole caches; the safety gate applies them to a single live object.
 */
export function selectsObject(
  policy: SelectingPolicy,
  ref: TargetRef,
  labels: Readonly<Record<string, string>> | undefined,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!mayActInNamespace(policy, ref.namespace, namespaceLabels)) return false;
  const kind = policyResources(policy).find((r) => r.kind === ref.kind);
  if (!kind || (kind.excludeNames ?? []).includes(ref.name)) return false;
  return matchesLabelSelector(policy.spec.selector.labelSelector ?? {}, labels);
}


function refOf(kind: string, obj: { metadata?: { namespace?: string; name?: string; uid?: string } }): TargetRef {
  return {
    apiVersion: SUPPORTED_KINDS[kind] ?? 'v1',
    kind,
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}),
  };
}

/** The namespaces whose objects a policy may select: its own, those it lists, or those the inventory knows that it reaches. */
export function candidateNamespaces(policy: SelectingPolicy, inv: Pick<Inventory, 'namespaces' | 'namespaceLabels'>): string[] {
  if (policy.kind !== 'ClusterHealingPolicy') return policy.metadata.namespace ? [policy.metadata.namespace] : [];
  const listed = (policy.spec.selector as { namespaces?: readonly string[] }).namespaces ?? [];
  const pool = listed.length > 0 && !listed.includes('*') ? listed : inv.namespaces();
  return [...new Set(pool)].filter((ns) => mayActInNamespace(policy, ns, inv.namespaceLabels(ns)));
}

/**
 * selectTargets memoised per policy object (the informer replaces it when the policy changes) and, within it, per
 * namespace by that namespace's version (Inventory.version): in a quiet cluster a policy's selection is computed
 * once, not at every reconcile, and when one namespace changes only that namespace is selected again. A cluster
 * policy over 5 000 pods in 100 namespaces re-selected everything at every pod update of any namespace — 40–80 ms
 * on the event loop each time while pods crash-looped (the benchmark's detection phase, docs/scaling.md). Returns
 * the same Selection object while no namespace it reads changed. Without versions it selects every time.
 */
export function createSelectionCache(): (policy: SelectingPolicy, inv: Inventory) => Selection {
  const cache = new WeakMap<SelectingPolicy, { key: string; selection: Selection; parts: Map<string, { version: string; part: NamespaceSelection }> }>();
  return (policy, inv) => {
    const version = inv.version;
    if (version === undefined) return selectTargets(policy, inv);
    const namespaces = candidateNamespaces(policy, inv);
    const versions = namespaces.map((ns) => version(ns));
    const key = namespaces.map((ns, i) => `${ns}@${versions[i] ?? ''}`).join(',');
    const held = cache.get(policy);
    if (held?.key === key) return held.selection;
    const resources = policyResources(policy);
    const parts = new Map<string, { version: string; part: NamespaceSelection }>();
    const selected = namespaces.map((ns, i) => {
      const v = versions[i] ?? '';
      const old = held?.parts.get(ns);
      const part = old !== undefined && old.version === v ? old.part : selectInNamespace(policy, inv, ns, resources);
      parts.set(ns, { version: v, part });
      return part;
    });
    const selection = assemble(resources, selected);
    cache.set(policy, { key, selection, parts });
    return selection;
  };
}

/**
 * Applies a policy's selector to the inventory. Namespaces: see mayActInNamespace. Kinds: those in `resources` (default Pod); each kind's `excludeNames` are
 * skipped. The label selector applies to each selected object's own labels. Pods that are being deleted or have
 * finished (Succeeded/Failed) are not targets. Targets come resource by resource, each in namespace order.
 */
export function selectTargets(policy: SelectingPolicy, inv: Inventory): Selection {
  const resources = policyResources(policy);
  return assemble(
    resources,
    candidateNamespaces(policy, inv).map((ns) => selectInNamespace(policy, inv, ns, resources)),
  );
}

/** One namespace's targets, by the index of the policy resource that selected them (unsupported kinds: none). */
type NamespaceSelection = readonly (readonly SelectedTarget[])[];

/** Problems of the policy's resources (unsupported kinds, wrong apiVersions), by resource; undefined: supported. */
function resourceProblem(r: PolicyResource): string | undefined {
  const expected = SUPPORTED_KINDS[r.kind];
  if (!expected) return `kind ${r.kind} is not supported (supported: ${Object.keys(SUPPORTED_KINDS).join(', ')})`;
  if (r.apiVersion !== expected) return `${r.kind} is served as ${expected}, not ${r.apiVersion}`;
  return undefined;
}

/** The targets resource by resource, each resource's in namespace order, and the resources' problems. */
function assemble(resources: readonly PolicyResource[], parts: readonly NamespaceSelection[]): Selection {
  const problems = resources.map(resourceProblem).filter((p) => p !== undefined);
  const targets: SelectedTarget[] = [];
  resources.forEach((_, i) => {
    for (const part of parts) for (const t of part[i] ?? []) targets.push(t);
  });
  return { targets, problems };
}

/** The policy's targets in one namespace, by resource (see selectTargets). */
function selectInNamespace(policy: SelectingPolicy, inv: Inventory, ns: string, resources: readonly PolicyResource[]): NamespaceSelection {
  const labelSelector = policy.spec.selector.labelSelector ?? {};
  const pods = inv.pods(ns);
  const podsByWorkload = new Map<string, V1Pod[]>();
  const workloadOfPod = new Map<V1Pod, TargetRef | undefined>();
  const rsByUid = new Map(inv.replicaSets(ns).map((r) => [r.metadata?.uid ?? '', r] as const));
  for (const pod of pods) {
    const w = podWorkload(pod, rsByUid);
    workloadOfPod.set(pod, w);
    if (w) {
      const key = `${w.kind}/${w.name}`;
      const list = podsByWorkload.get(key);
      if (list) list.push(pod);
      else podsByWorkload.set(key, [pod]);
    }
  }

  return resources.map((r) => {
    if (resourceProblem(r) !== undefined) return [];
    const targets: SelectedTarget[] = [];
    const excluded = new Set(r.excludeNames ?? []);
    const eligible = (o: { metadata?: { namespace?: string; name?: string; labels?: Record<string, string>; deletionTimestamp?: Date } }): boolean =>
      !excluded.has(o.metadata?.name ?? '') &&
      o.metadata?.deletionTimestamp === undefined &&
      matchesLabelSelector(labelSelector, o.metadata?.labels);

    if (r.kind === 'Pod') {
      for (const pod of pods) {
        if (!eligible(pod) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
        const workload = workloadOfPod.get(pod);
        targets.push({
          ref: refOf('Pod', pod),
          labels: pod.metadata?.labels ?? {},
          annotations: pod.metadata?.annotations ?? {},
          ...(pod.metadata?.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
          ...(workload ? { workload } : {}),
          pods: [pod],
        });
      }
      return targets;
    }
    const byKind: (ns: string) => readonly WorkloadObject[] =
      r.kind === 'Deployment' ? inv.deployments : r.kind === 'StatefulSet' ? inv.statefulSets : r.kind === 'DaemonSet' ? inv.daemonSets : inv.replicaSets;
    for (const w of byKind(ns)) {
      if (!eligible(w)) continue;
      const ref = refOf(r.kind, w);
      targets.push({
        ref,
        labels: w.metadata?.labels ?? {},
        annotations: w.metadata?.annotations ?? {},
        ...(w.metadata?.resourceVersion ? { resourceVersion: w.metadata.resourceVersion } : {}),
        pods: podsByWorkload.get(`${ref.kind}/${ref.name}`) ?? [],
      });
    }
    return targets;
  });
}
