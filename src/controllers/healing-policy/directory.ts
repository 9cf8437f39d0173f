/**
 * Both policy kinds, and the ledger of each, as the controllers read them from the informer caches: one place that
 * knows HealingPolicies live in namespaces and ClusterHealingPolicies do not, which namespaces this operator
 * serves, and which policies could act in a namespace. Reads caches only; no API calls.
 */
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { AnyPolicy, ClusterHealingPolicy, HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import { actionPolicyKey, policyKey, type PolicyId } from '../../safety/types.js';
import { mayActInNamespace } from './select.js';

/** The cache reads the directory needs (an Informer satisfies each). */
export interface CacheView<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** Dependencies of the directory. */
export interface PolicyDirectoryDeps {
  readonly policies: CacheView<HealingPolicy>;
  readonly clusterPolicies: CacheView<ClusterHealingPolicy>;
  readonly actions: CacheView<HealingAction>;
  /** A namespace's labels (undefined: unknown namespace). */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /** Whether this operator serves `namespace` (its namespaceSelector); HealingPolicies elsewhere are not its. */
  readonly inScope: (namespace: string | undefined) => boolean;
}

/** Policies and their ledgers, from the caches. */
export class PolicyDirectory {
  constructor(private readonly deps: PolicyDirectoryDeps) {}

  /** The policy `id` names, if cached (a HealingPolicy only when its namespace is served). */
  get(id: PolicyId): AnyPolicy | undefined {
    if (id.kind === 'ClusterHealingPolicy') return this.deps.clusterPolicies.get('', id.name);
    return this.deps.inScope(id.namespace) ? this.deps.policies.get(id.namespace, id.name) : undefined;
  }

  /**
   * Every policy this operator serves: HealingPolicies of served namespaces, and every ClusterHealingPolicy (whose
   * targets are then limited to served namespaces by the inventory).
   */
  all(): AnyPolicy[] {
    return [...this.deps.policies.list().filter((p) => this.deps.inScope(p.metadata.namespace)), ...this.deps.clusterPolicies.list()];
  }

  /** The cluster policies. */
  clusterPolicies(): readonly ClusterHealingPolicy[] {
    return this.deps.clusterPolicies.list();
  }

  /** Policies that could act in `namespace`: its own HealingPolicies, and the cluster policies that reach it. */
  covering(namespace: string): AnyPolicy[] {
    if (!this.deps.inScope(namespace)) return [];
    const labels = this.deps.namespaceLabels(namespace);
    return [...this.deps.policies.list(namespace), ...this.deps.clusterPolicies.list().filter((p) => mayActInNamespace(p, namespace, labels))];
  }

  /**
   * The HealingActions that name policy `id` — its ledger. A HealingPolicy's live in its namespace; a cluster
   * policy's in its targets' namespaces (only served ones count).
   */
  actionsOf(id: PolicyId): HealingAction[] {
    const key = policyKey(id.namespace, id.name, id.kind);
    const candidates = id.kind === 'ClusterHealingPolicy' ? this.deps.actions.list().filter((a) => this.deps.inScope(a.metadata.namespace)) : this.deps.actions.list(id.namespace);
    return candidates.filter((a) => a.spec.policyRef.name === id.name && actionPolicyKey(a) === key);
  }
}
