/** RBAC rules as data, for tests that compare what roles grant. */

/** One PolicyRule of a Role or ClusterRole. */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  /** When present, the rule grants only these objects. */
  resourceNames?: string[];
  verbs: string[];
}

/**
 * Every (group, resource, verb) the rules grant, as sorted "group/resource:verb" strings ("core" for ""); a rule
 * limited to named objects gives "group/resource[name]:verb" per name.
 */
export function grants(rules: readonly Rule[]): string[] {
  return rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          (r.resourceNames ?? ['']).flatMap((name) => r.verbs.map((v) => `${g === '' ? 'core' : g}/${res}${name === '' ? '' : `[${name}]`}:${v}`)),
        ),
      ),
    )
    .sort();
}

/** "group/resource:verb" strings for every pair of the given group/resources and verbs. */
export function expand(groupResources: readonly string[], verbs: readonly string[]): string[] {
  return groupResources.flatMap((gr) => verbs.map((v) => `${gr}:${v}`));
}

/**
 * Exactly what the operator may do cluster-wide: every API call in src/ mapped to its (resource, verb), and
 * nothing else (config/rbac/role.yaml says why each rule exists). clusterhealingpolicies are read and their status
 * written by the ClusterHealingPolicy controller.
 */
export const EXPECTED_MANAGER_GRANTS: readonly string[] = [
  ...expand(['kubeskippy.io/healingpolicies', 'kubeskippy.io/clusterhealingpolicies'], ['get', 'list', 'watch']),
  ...expand(['kubeskippy.io/healingactions'], ['get', 'list', 'watch', 'create']),
  ...expand(['kubeskippy.io/healingpolicies/status', 'kubeskippy.io/healingactions/status'], ['patch']),
  ...expand(['kubeskippy.io/clusterhealingpolicies/status'], ['get', 'patch']),
  ...expand(['core/pods'], ['get', 'list', 'watch', 'patch', 'delete']),
  ...expand(['core/pods/eviction'], ['create']),
  ...expand(['core/events'], ['list', 'watch', 'create', 'patch']),
  ...expand(['core/namespaces'], ['get', 'list', 'watch']),
  ...expand(['apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'apps/replicasets'], ['get', 'list', 'watch', 'patch', 'delete']),
  ...expand(['apps/deployments/scale', 'apps/statefulsets/scale', 'apps/replicasets/scale'], ['get', 'update']),
  ...expand(['policy/poddisruptionbudgets', 'autoscaling/horizontalpodautoscalers', 'metrics.k8s.io/pods'], ['list']),
].sort();

/** What the operator may do in its own namespace only (the leader-election Role). */
export const EXPECTED_LEADER_ELECTION_GRANTS: readonly string[] = expand(['coordination.k8s.io/leases'], ['get', 'list', 'watch', 'create', 'update']).sort();

/**
 * The pause switch (the kubeskippy-control Role, in the operator's namespace only): list and watch the one
 * ConfigMap by name (field selector), get it before every action (the gate), patch it to report the operator's
 * settings. Nothing else of ConfigMaps.
 */
export const EXPECTED_CONTROL_GRANTS: readonly string[] = expand(['core/configmaps[kubeskippy-control]'], ['get', 'list', 'watch', 'patch']).sort();

const READ = ['get', 'list', 'watch'];

/** What the aggregated roles for people grant, by level (config/rbac/user_roles.yaml). */
export const EXPECTED_USER_GRANTS: Readonly<Record<'view' | 'edit' | 'admin', readonly string[]>> = {
  view: expand(['kubeskippy.io/healingpolicies', 'kubeskippy.io/healingactions', 'kubeskippy.io/clusterhealingpolicies'], READ).sort(),
  edit: [
    ...expand(['kubeskippy.io/healingactions', 'kubeskippy.io/clusterhealingpolicies'], READ),
    ...expand(['kubeskippy.io/healingpolicies'], [...READ, 'create', 'update', 'patch', 'delete']),
    ...expand(['kubeskippy.io/healingactions'], ['patch', 'update']),
  ].sort(),
  admin: [
    ...expand(['kubeskippy.io/healingactions', 'kubeskippy.io/clusterhealingpolicies'], READ),
    ...expand(['kubeskippy.io/healingpolicies'], [...READ, 'create', 'update', 'patch', 'delete']),
    ...expand(['kubeskippy.io/healingactions'], ['patch', 'update', 'delete']),
  ].sort(),
};

/** Problems with a role's rules: any wildcard, any mention of Secrets. Empty when the rules are clean. */
export function riskyRules(name: string, rules: readonly Rule[]): string[] {
  const problems: string[] = [];
  for (const r of rules) {
    for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) if (v.includes('*')) problems.push(`${name}: wildcard "${v}"`);
    for (const res of r.resources) if (res === 'secrets' || res.startsWith('secrets/')) problems.push(`${name}: grants ${res}`);
  }
  return problems;
}
