import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ClusterHealingPolicy, HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import { createSelectionCache, inventoryOf, mayActInNamespace, podWorkload, selectTargets, type Inventory } from './select.js';

function pod(ns: string, name: string, labels: Record<string, string> = {}, owner?: { kind: string; name: string; uid: string }, phase = 'Running'): V1Pod {
  return {
    metadata: { namespace: ns, name, uid: `u-${name}`, labels, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', ...owner, controller: true }] } : {}) },
    status: { phase },
  };
}
const rs: V1ReplicaSet = {
  metadata: { namespace: 'apps', name: 'web-abc', uid: 'u-rs', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-dep', controller: true }] },
};
const dep: V1Deployment = { metadata: { namespace: 'apps', name: 'web', uid: 'u-dep', labels: { app: 'web' } } };

const NAMESPACE_LABELS: Readonly<Record<string, Record<string, string>>> = { apps: { team: 'shop' }, other: { team: 'ledger' } };

const inv: Inventory = inventoryOf(
  {
  pods: [
    pod('apps', 'web-abc-1', { app: 'web' }, { kind: 'ReplicaSet', name: 'web-abc', uid: 'u-rs' }),
    pod('apps', 'web-abc-2', { app: 'web' }, { kind: 'ReplicaSet', name: 'web-abc', uid: 'u-rs' }),
    pod('apps', 'db-0', { app: 'db' }, { kind: 'StatefulSet', name: 'db', uid: 'u-db' }),
    pod('apps', 'done', { app: 'web' }, undefined, 'Succeeded'),
    pod('other', 'web-x', { app: 'web' }),
  ],
  deployments: [dep],
  statefulSets: [],
  daemonSets: [],
  replicaSets: [rs],
  },
  (ns) => NAMESPACE_LABELS[ns],
);

function policy(selector: HealingPolicy['spec']['selector'], ns = 'apps'): HealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name: 'p', namespace: ns },
    spec: { selector, triggers: [], actions: [] },
  };
}

function clusterPolicy(selector: ClusterHealingPolicy['spec']['selector']): ClusterHealingPolicy {
  return { apiVersion: 'kubeskippy.io/v1alpha1', kind: 'ClusterHealingPolicy', metadata: { name: 'cp' }, spec: { selector, triggers: [], actions: [] } };
}

describe('mayActInNamespace', () => {
  it('lets a HealingPolicy act only in its own namespace', () => {
    expect(mayActInNamespace(policy({}), 'apps', {})).toBe(true);
    expect(mayActInNamespace(policy({ namespaces: ['other'] }), 'other', {})).toBe(false);
    expect(mayActInNamespace(policy({}), '', {})).toBe(false);
  });

  it('lets a ClusterHealingPolicy act where its namespaces and namespaceSelector both allow, and nowhere without either', () => {
    expect(mayActInNamespace(clusterPolicy({}), 'apps', {})).toBe(false);
    expect(mayActInNamespace(clusterPolicy({ namespaces: ['*'] }), 'apps', undefined)).toBe(true);
    expect(mayActInNamespace(clusterPolicy({ namespaceSelector: { matchLabels: { team: 'shop' } } }), 'apps', { team: 'shop' })).toBe(true);
    expect(mayActInNamespace(clusterPolicy({ namespaceSelector: { matchLabels: { team: 'shop' } } }), 'apps', undefined)).toBe(false);
    expect(mayActInNamespace(clusterPolicy({ namespaces: ['apps'], namespaceSelector: { matchLabels: { team: 'x' } } }), 'apps', { team: 'shop' })).toBe(false);
  });
});

describe('selectTargets', () => {
  it("selects pods in the policy's own namespace by default, skipping finished pods", () => {
    const s = selectTargets(policy({ labelSelector: { matchLabels: { app: 'web' } } }), inv);
    expect(s.targets.map((t) => t.ref.name)).toEqual(['web-abc-1', 'web-abc-2']);
    expect(s.targets[0]?.workload).toMatchObject({ kind: 'Deployment', name: 'web' });
  });

  it('never leaves the own namespace of a HealingPolicy, even one stored with selector.namespaces', () => {
    const s = selectTargets(policy({ namespaces: ['*', 'other'], labelSelector: { matchLabels: { app: 'web' } } }), inv);
    expect(s.targets.map((t) => `${t.ref.namespace}/${t.ref.name}`)).toEqual(['apps/web-abc-1', 'apps/web-abc-2']);
  });

  it('selects every namespace of a ClusterHealingPolicy with "*" and honours excludeNames', () => {
    const s = selectTargets(
      clusterPolicy({ namespaces: ['*'], labelSelector: { matchLabels: { app: 'web' } }, resources: [{ apiVersion: 'v1', kind: 'Pod', excludeNames: ['web-abc-2'] }] }),
      inv,
    );
    expect(s.targets.map((t) => t.ref.name).sort()).toEqual(['web-abc-1', 'web-x']);
  });

  it('selects the namespaces a ClusterHealingPolicy names or selects by label, and with both only those satisfying both', () => {
    const names = (sel: ClusterHealingPolicy['spec']['selector']): string[] => selectTargets(clusterPolicy({ labelSelector: { matchLabels: { app: 'web' } }, ...sel }), inv).targets.map((t) => t.ref.name).sort();
    expect(names({ namespaces: ['other'] })).toEqual(['web-x']);
    expect(names({ namespaceSelector: { matchLabels: { team: 'shop' } } })).toEqual(['web-abc-1', 'web-abc-2']);
    expect(names({ namespaces: ['other'], namespaceSelector: { matchLabels: { team: 'shop' } } })).toEqual([]);
    expect(names({ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }).length).toBe(3);
  });

  it('selects workloads by their own labels and resolves their pods through the ReplicaSet', () => {
    const s = selectTargets(policy({ labelSelector: { matchLabels: { app: 'web' } }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] }), inv);
    expect(s.targets).toHaveLength(1);
    expect(s.targets[0]?.ref).toMatchObject({ kind: 'Deployment', name: 'web' });
    expect(s.targets[0]?.pods.map((p) => p.metadata?.name)).toEqual(['web-abc-1', 'web-abc-2']);
  });

  it('reports unsupported kinds and wrong apiVersions as problems instead of failing', () => {
    const s = selectTargets(policy({ resources: [{ apiVersion: 'v1', kind: 'Service' }, { apiVersion: 'v1', kind: 'Deployment' }] }), inv);
    expect(s.targets).toEqual([]);
    expect(s.problems).toEqual([expect.stringMatching(/kind Service is not supported/), expect.stringMatching(/Deployment is served as apps\/v1/)]);
  });

  it('selects nothing, without error, when nothing matches', () => {
    expect(selectTargets(policy({ labelSelector: { matchLabels: { app: 'none' } } }), inv).targets).toEqual([]);
  });
});

describe('podWorkload', () => {
  it('resolves StatefulSet pods directly and bare pods to nothing', () => {
    expect(podWorkload(inv.pods('apps')[2]!, [])).toMatchObject({ kind: 'StatefulSet', name: 'db' });
    expect(podWorkload(inv.pods('other')[0]!, [])).toBeUndefined();
  });
});

describe('createSelectionCache', () => {
  it('selects again only when a namespace the policy reads changed', () => {
    const versions = new Map([['apps', '1']]);
    let reads = 0;
    const counted: Inventory = { ...inv, pods: (ns) => (reads++, inv.pods(ns)), version: (ns) => versions.get(ns) ?? '0' };
    const select = createSelectionCache();
    const p = policy({ labelSelector: { matchLabels: { app: 'web' } } });
    const first = select(p, counted);
    const readsOnce = reads;
    expect(select(p, counted)).toBe(first);
    expect(reads).toBe(readsOnce);
    versions.set('apps', '2');
    expect(select(p, counted)).not.toBe(first);
    expect(select(p, counted).targets.map((t) => t.ref.name)).toEqual(first.targets.map((t) => t.ref.name));
    // Another object for the policy (it changed): selected afresh.
    expect(select({ ...p }, counted)).not.toBe(first);
  });

  it('selects again only the namespaces that changed, in the order selectTargets gives', () => {
    const versions = new Map([['apps', '1'], ['other', '1']]);
    const pods = new Map<string, V1Pod[]>([['apps', [...inv.pods('apps')]], ['other', [...inv.pods('other')]]]);
    const reads: string[] = [];
    const live: Inventory = { ...inv, pods: (ns) => (reads.push(ns), pods.get(ns) ?? []), version: (ns) => versions.get(ns) ?? '0' };
    const select = createSelectionCache();
    const p = clusterPolicy({ namespaces: ['*'], resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }, { apiVersion: 'v1', kind: 'Pod' }] });
    const names = (s: { targets: readonly { ref: { kind: string; namespace: string; name: string } }[] }): string[] => s.targets.map((t) => `${t.ref.kind}/${t.ref.namespace}/${t.ref.name}`);
    expect(names(select(p, live))).toEqual(names(selectTargets(p, live)));
    reads.length = 0;
    pods.set('other', [...(pods.get('other') ?? []), pod('other', 'web-y', { app: 'web' })]);
    versions.set('other', '2');
    const second = select(p, live);
    expect(reads).toEqual(['other']);
    expect(names(second)).toContain('Pod/other/web-y');
    expect(names(second)).toEqual(names(selectTargets(p, live)));
    // Workloads first, then pods, each in namespace order — as before the cache.
    expect(names(second)).toEqual(['Deployment/apps/web', 'Pod/apps/web-abc-1', 'Pod/apps/web-abc-2', 'Pod/apps/db-0', 'Pod/other/web-x', 'Pod/other/web-y']);
  });
});
