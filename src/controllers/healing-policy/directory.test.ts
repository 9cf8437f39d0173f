import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { ClusterHealingPolicy, HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import { parsePolicyKey, policyKey } from '../../safety/types.js';
import { PolicyDirectory, type CacheView } from './directory.js';

function cache<T extends { metadata: { namespace?: string; name?: string } }>(items: T[]): CacheView<T> {
  return {
    get: (ns, name) => items.find((i) => (i.metadata.namespace ?? '') === ns && i.metadata.name === name),
    list: (ns) => (ns === undefined ? items : items.filter((i) => i.metadata.namespace === ns)),
  };
}

const hp = (ns: string, name: string): HealingPolicy => ({ apiVersion: 'kubeskippy.io/v1alpha1', kind: 'HealingPolicy', metadata: { namespace: ns, name }, spec: { selector: {}, triggers: [], actions: [] } });
const chp = (name: string, selector: ClusterHealingPolicy['spec']['selector']): ClusterHealingPolicy => ({ apiVersion: 'kubeskippy.io/v1alpha1', kind: 'ClusterHealingPolicy', metadata: { name }, spec: { selector, triggers: [], actions: [] } });
const action = (ns: string, name: string, policyRef: HealingAction['spec']['policyRef']): HealingAction => ({
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingAction',
  metadata: { namespace: ns, name },
  spec: { policyRef, targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'p' }, action: { name: 'r', type: 'restart' } },
});

const labels: Record<string, Record<string, string>> = { shop: { team: 'shop' }, ledger: { team: 'ledger' }, other: {} };
const directory = new PolicyDirectory({
  policies: cache([hp('shop', 'web'), hp('other', 'web')]),
  clusterPolicies: cache([chp('shops', { namespaceSelector: { matchLabels: { team: 'shop' } } }), chp('all', { namespaces: ['*'] })]),
  actions: cache([
    action('shop', 'a1', { name: 'web' }),
    action('shop', 'a2', { kind: 'ClusterHealingPolicy', name: 'web' }),
    action('ledger', 'a3', { kind: 'ClusterHealingPolicy', name: 'shops' }),
    action('shop', 'a4', { kind: 'ClusterHealingPolicy', name: 'shops' }),
    action('other', 'a5', { kind: 'ClusterHealingPolicy', name: 'shops' }),
  ]),
  namespaceLabels: (ns) => labels[ns],
  inScope: (ns) => ns !== 'other',
});

describe('PolicyDirectory', () => {
  it('serves the HealingPolicies of served namespaces and every cluster policy', () => {
    expect(directory.all().map((p) => `${p.kind}/${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`)).toEqual([
      'HealingPolicy/shop/web',
      'ClusterHealingPolicy//shops',
      'ClusterHealingPolicy//all',
    ]);
    expect(directory.get({ kind: 'HealingPolicy', namespace: 'other', name: 'web' })).toBeUndefined();
  });

  it('finds the policies that could act in a namespace by its own policies and the cluster policies reaching it', () => {
    expect(directory.covering('shop').map((p) => p.metadata.name)).toEqual(['web', 'shops', 'all']);
    expect(directory.covering('ledger').map((p) => p.metadata.name)).toEqual(['all']);
    expect(directory.covering('other')).toEqual([]);
  });

  it("keeps each policy's ledger apart by kind, across namespaces for a cluster policy, served namespaces only", () => {
    expect(directory.actionsOf({ kind: 'HealingPolicy', namespace: 'shop', name: 'web' }).map((a) => a.metadata.name)).toEqual(['a1']);
    expect(directory.actionsOf({ kind: 'ClusterHealingPolicy', namespace: '', name: 'shops' }).map((a) => a.metadata.name)).toEqual(['a3', 'a4']);
  });
});

describe('policy keys', () => {
  it('round-trip for both kinds and never collide', () => {
    for (const id of [{ kind: 'HealingPolicy', namespace: 'shop', name: 'web' }, { kind: 'ClusterHealingPolicy', namespace: '', name: 'web' }] as const) {
      expect(parsePolicyKey(policyKey(id.namespace, id.name, id.kind))).toEqual(id);
    }
    expect(policyKey('shop', 'web')).not.toBe(policyKey('', 'web', 'ClusterHealingPolicy'));
  });
});
