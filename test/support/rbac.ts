/** RBAC rules as data, for tests that compare what roles grant. */

/** One PolicyRule of a Role or ClusterRole. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Every (group, resource, verb) the rules grant, as sorted "group/resource:verb" strings ("core" for ""). */
export function grants(rules: readonly Rule[]): string[] {
  return rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g === '' ? 'core' : g}/${res}:${v}`))))
    .sort();
}

/** "group/resource:verb" strings for every pair of the given group/resources and verbs. */
export function expand(groupResources: readonly string[], verbs: readonly string[]): string[] {
  return groupResources.flatMap((gr) => verbs.map((v) => `${gr}:${v}`));
}

/** Exactly what the operator may do cluster-wide (PRODUCT.md and issue 3's RBAC list). */
export const EXPECTED_MANAGER_GRANTS: readonly string[] = [
  ...expand(['kubeskippy.io/healingpolicies', 'kubeskippy.io/healingactions'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
  ...expand(['kubeskippy.io/healingpolicies/status', 'kubeskippy.io/healingactions/status'], ['get', 'update', 'patch']),
  ...expand(['core/pods'], ['get', 'list', 'watch', 'delete']),
  ...expand(['core/pods/eviction'], ['create']),
  ...expand(['core/events', 'events.k8s.io/events'], ['get', 'list', 'watch', 'create', 'patch']),
  ...expand(['apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'apps/replicasets'], ['get', 'list', 'watch', 'patch', 'update']),
  ...expand(['apps/deployments/scale', 'apps/statefulsets/scale', 'apps/replicasets/scale'], ['get', 'update', 'patch']),
  ...expand(['policy/poddisruptionbudgets', 'autoscaling/horizontalpodautoscalers'], ['get', 'list', 'watch']),
  ...expand(['core/namespaces', 'core/nodes', 'core/services'], ['get', 'list', 'watch']),
  ...expand(['metrics.k8s.io/pods', 'metrics.k8s.io/nodes'], ['get', 'list']),
].sort();

/** Problems with a role's rules: any wildcard, any mention of Secrets. Empty when the rules are clean. */
export function riskyRules(name: string, rules: readonly Rule[]): string[] {
  const problems: string[] = [];
  for (const r of rules) {
    for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) if (v.includes('*')) problems.push(`${name}: wildcard "${v}"`);
    for (const res of r.resources) if (res === 'secrets' || res.startsWith('secrets/')) problems.push(`${name}: grants ${res}`);
  }
  return problems;
}
