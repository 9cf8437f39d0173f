/**
 * One table of policy cases (HealingPolicy and ClusterHealingPolicy), valid and invalid, shared by the offline validator's unit test and the
 * integration test that sends each case to the real API server: both must give the same verdict, and for an
 * invalid case both must name the same field.
 */

/** A JSON object as written in a manifest. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object (a manifest or part of one). */
export type JsonObject = { [key: string]: Json };

/** One case of the table. */
export interface PolicyCase {
  /** What the case is about, as a sentence fragment ("an unknown trigger type"). Unique in the table. */
  readonly name: string;
  /** The whole object; metadata.name is unique per case, metadata.namespace is left to the caller. */
  readonly policy: JsonObject;
  /** The policy's kind (ClusterHealingPolicy cases are cluster-scoped: the caller makes their names unique). */
  readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
  readonly valid: boolean;
  /** Invalid cases: the field path (API server notation) that the API server and the validator must both name. */
  readonly field?: string;
  /** Invalid cases: a phrase the API server's message must contain besides the field (what is wrong). */
  readonly says?: RegExp;
}

/** The crashloop policy of the seed document (Slide 5, Step 1), character for character. */
export const SEED_CRASHLOOP_YAML = `apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: crashloop-pod-healing
spec:
  selector:
    labelSelector:
      matchLabels:
        issue: "crashloop"
  triggers:
  - name: high-restart-count
    type: metric
    metricTrigger:
      query: "restart_count"
      threshold: 3
  actions:
  - name: restart-crashed-pods
    type: restart
`;

const memoryTrigger: JsonObject = {
  name: 'high-memory',
  type: 'metric',
  metricTrigger: { query: 'memory_usage_percent', threshold: 85, duration: '3m' },
};
const restartAction: JsonObject = { name: 'restart', type: 'restart', restartAction: { strategy: 'rolling' } };

/** A small valid policy: memory above 85% for 3 minutes restarts the pod's workload. */
function spec(overrides: JsonObject = {}): JsonObject {
  return {
    selector: { labelSelector: { matchLabels: { app: 'web' } } },
    triggers: [memoryTrigger],
    actions: [restartAction],
    ...overrides,
  };
}

const withTrigger = (trigger: JsonObject, more: JsonObject = {}): JsonObject => spec({ triggers: [trigger], ...more });
const withAction = (action: JsonObject, more: JsonObject = {}): JsonObject => spec({ actions: [action], ...more });
const metric = (metricTrigger: JsonObject, more: JsonObject = {}): JsonObject =>
  withTrigger({ name: 't', type: 'metric', metricTrigger, ...more });
const event = (eventTrigger: JsonObject): JsonObject => withTrigger({ name: 't', type: 'event', eventTrigger });
const scale = (scaleAction: JsonObject): JsonObject => withAction({ name: 'a', type: 'scale', scaleAction });
const patch = (patchAction: JsonObject): JsonObject => withAction({ name: 'a', type: 'patch', patchAction });
const safety = (safetyRules: JsonObject): JsonObject => spec({ safetyRules });

function manyTriggers(n: number): Json[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `t-${i}`,
    type: 'metric',
    metricTrigger: { query: 'restart_count', threshold: i },
  }));
}

interface Row {
  name: string;
  spec: JsonObject;
  field?: string;
  says?: RegExp;
  /** Replaces the generated metadata (for cases about the name). */
  metadata?: JsonObject;
  /** Default HealingPolicy. */
  kind?: 'ClusterHealingPolicy';
}

const VALID: Row[] = [
  { name: 'the memory > 85% for 3m → restart rule', spec: spec() },
  { name: 'a metric trigger with only query and threshold (operator defaults to >)', spec: metric({ query: 'restart_count', threshold: 3 }) },
  { name: 'durations such as 1h30m, 90s, 500ms and 1.5h', spec: withTrigger({ ...memoryTrigger, cooldownPeriod: '1h30m', metricTrigger: { query: 'cpu_usage_percent', threshold: 80, duration: '90s' } }, { safetyRules: { healthCheckTimeout: '1.5h' } }) },
  { name: "the longest duration Go can hold (2562047h)", spec: withTrigger({ ...memoryTrigger, cooldownPeriod: '2562047h' }) },
  { name: 'a duration of 500ms', spec: metric({ query: 'ready', threshold: 1, operator: '<', duration: '500ms' }) },
  { name: 'a negative threshold for a PromQL query', spec: metric({ query: 'deriv(free_bytes[5m])', threshold: -1024, operator: '<' }) },
  { name: 'an event reason that is a regular expression', spec: event({ reason: 'BackOff|Failed.*', type: 'Warning', count: 3, window: '5m' }) },
  { name: 'an RE2-only regular expression (flags and a Unicode class)', spec: event({ reason: '(?i)back-?off\\p{Greek}*' }) },
  { name: 'a condition trigger on the CrashLoopBackOff pseudo-condition', spec: withTrigger({ name: 'crashloop', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff', duration: '1m' } }) },
  { name: 'a predictive trigger with every default', spec: withTrigger({ name: 'leak', type: 'predictive', predictiveTrigger: {} }) },
  { name: 'maxUnavailable as a percentage', spec: safety({ maxUnavailable: '25%' }) },
  { name: 'maxUnavailable 0', spec: safety({ maxUnavailable: 0 }) },
  { name: 'maxUnavailable of exactly 100%', spec: safety({ maxUnavailable: '100%' }) },
  { name: 'maxUnavailable 0%', spec: safety({ maxUnavailable: '0%' }) },
  { name: 'an absolute scale to exactly maxReplicas', spec: scale({ direction: 'absolute', replicas: 10, minReplicas: 2, maxReplicas: 10 }) },
  { name: 'a patch given as a list of operations with key-list paths', spec: patch({ type: 'json', patches: [{ op: 'add', path: ['spec', 'replicas'], value: 3 }] }) },
  { name: 'a delete action with a matchExpressions selector', spec: withAction({ name: 'd', type: 'delete', requiresApproval: true }, { selector: { labelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['batch'] }] } } }) },
  { name: 'a delete scoped by namespace and resources only, each delete approved by a human', spec: withAction({ name: 'd', type: 'delete', requiresApproval: true }, { selector: { resources: [{ apiVersion: 'v1', kind: 'Pod' }] } }) },
  { name: 'a delete with an empty selector in manual mode', spec: withAction({ name: 'd', type: 'delete' }, { selector: {}, mode: 'manual' }) },
  { name: 'the maximum of 32 triggers', spec: spec({ triggers: manyTriggers(32) }) },
  { name: 'an empty namespaces list on a HealingPolicy (its own namespace)', spec: spec({ selector: { namespaces: [], labelSelector: { matchLabels: { app: 'web' } } } }) },
  { name: 'a ClusterHealingPolicy over every namespace ("*") in monitor mode', kind: 'ClusterHealingPolicy', spec: spec({ selector: { namespaces: ['*'] }, mode: 'monitor' }) },
  { name: 'a ClusterHealingPolicy choosing namespaces by label', kind: 'ClusterHealingPolicy', spec: spec({ selector: { namespaceSelector: { matchLabels: { team: 'shop' } }, labelSelector: { matchLabels: { app: 'web' } } } }) },
  { name: 'a ClusterHealingPolicy with both namespaces and a namespaceSelector', kind: 'ClusterHealingPolicy', spec: spec({ selector: { namespaces: ['shop', 'shop-canary'], namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } } }) },
];

const INVALID: Row[] = [
  { name: 'an unknown trigger type', spec: withTrigger({ name: 't', type: 'webhook' }), field: 'spec.triggers[0].type', says: /Unsupported value: "webhook"/ },
  { name: 'a metric trigger without metricTrigger', spec: withTrigger({ name: 't', type: 'metric' }), field: 'spec.triggers[0].metricTrigger', says: /a metric trigger needs metricTrigger/ },
  { name: 'metricTrigger on an event trigger', spec: withTrigger({ name: 't', type: 'event', eventTrigger: { reason: 'BackOff' }, metricTrigger: { query: 'restart_count', threshold: 1 } }), field: 'spec.triggers[0].metricTrigger', says: /only for triggers of type metric/ },
  { name: 'a negative threshold for a built-in metric', spec: metric({ query: 'memory_usage_percent', threshold: -5 }), field: 'spec.triggers[0].metricTrigger.threshold', says: /must not be negative/ },
  { name: 'a threshold written as a string', spec: metric({ query: 'memory_usage_percent', threshold: '85%' }), field: 'spec.triggers[0].metricTrigger.threshold', says: /must be of type number/ },
  { name: 'an unknown comparison operator', spec: metric({ query: 'restart_count', threshold: 3, operator: '=>' }), field: 'spec.triggers[0].metricTrigger.operator', says: /Unsupported value: "=>"/ },
  { name: 'an unparseable duration', spec: metric({ query: 'restart_count', threshold: 3, duration: '3 minutes' }), field: 'spec.triggers[0].metricTrigger.duration', says: /should match/ },
  { name: 'a duration in days (Go durations stop at hours)', spec: withTrigger({ ...memoryTrigger, cooldownPeriod: '1d' }), field: 'spec.triggers[0].cooldownPeriod', says: /should match/ },
  { name: 'a bare number as a duration', spec: withTrigger({ ...memoryTrigger, cooldownPeriod: '300' }), field: 'spec.triggers[0].cooldownPeriod', says: /should match/ },
  { name: "a duration beyond Go's time.Duration range", spec: withTrigger({ ...memoryTrigger, cooldownPeriod: '3000000h' }), field: 'spec.triggers[0].cooldownPeriod', says: /at most 2562047h/ },
  { name: 'a negative duration', spec: safety({ healthCheckTimeout: '-5m' }), field: 'spec.safetyRules.healthCheckTimeout', says: /should match/ },
  { name: 'an event reason regex that does not compile', spec: event({ reason: 'Back(Off' }), field: 'spec.triggers[0].eventTrigger.reason', says: /missing closing \)/ },
  { name: 'an event reason using look-ahead (not RE2)', spec: event({ reason: 'Back(?!Off)' }), field: 'spec.triggers[0].eventTrigger.reason', says: /invalid or unsupported Perl syntax/ },
  { name: 'an unknown event type', spec: event({ reason: 'BackOff', type: 'Error' }), field: 'spec.triggers[0].eventTrigger.type', says: /Unsupported value: "Error"/ },
  { name: 'an event count of 0', spec: event({ reason: 'BackOff', count: 0 }), field: 'spec.triggers[0].eventTrigger.count', says: /greater than or equal to 1/ },
  { name: 'a condition status other than True/False/Unknown', spec: withTrigger({ name: 't', type: 'condition', conditionTrigger: { type: 'Ready', status: 'Yes' } }), field: 'spec.triggers[0].conditionTrigger.status', says: /Unsupported value: "Yes"/ },
  { name: 'a predictive minConfidence above 1', spec: withTrigger({ name: 't', type: 'predictive', predictiveTrigger: { minConfidence: 1.5 } }), field: 'spec.triggers[0].predictiveTrigger.minConfidence', says: /less than or equal to 1/ },
  { name: 'a predictive trigger on a metric it cannot forecast', spec: withTrigger({ name: 't', type: 'predictive', predictiveTrigger: { metric: 'ready' } }), field: 'spec.triggers[0].predictiveTrigger.metric', says: /Unsupported value: "ready"/ },
  { name: 'two triggers with the same name', spec: spec({ triggers: [memoryTrigger, { ...memoryTrigger, metricTrigger: { query: 'restart_count', threshold: 3 } }] }), field: 'spec.triggers[1]', says: /Duplicate value/ },
  { name: 'two actions with the same name', spec: spec({ actions: [restartAction, { name: 'restart', type: 'rollback' }] }), field: 'spec.actions[1]', says: /Duplicate value/ },
  { name: 'an empty trigger list', spec: spec({ triggers: [] }), field: 'spec.triggers', says: /at least 1 item/ },
  { name: 'no actions at all', spec: { selector: { labelSelector: { matchLabels: { app: 'web' } } }, triggers: [memoryTrigger] }, field: 'spec.actions', says: /Required value/ },
  { name: 'no selector', spec: { triggers: [memoryTrigger], actions: [restartAction] }, field: 'spec.selector', says: /Required value/ },
  { name: '10 000 triggers', spec: spec({ triggers: manyTriggers(10_000) }), field: 'spec.triggers', says: /Too many: 10000: must have at most 32 items/ },
  { name: 'a trigger name with capitals', spec: withTrigger({ ...memoryTrigger, name: 'HighMemory' }), field: 'spec.triggers[0].name', says: /should match/ },
  { name: 'an unknown field (a typo of cooldownPeriod)', spec: withTrigger({ ...memoryTrigger, cooldown: '5m' }), field: 'spec.triggers[0].cooldown', says: /unknown field/ },
  { name: 'an unknown action type', spec: withAction({ name: 'a', type: 'reboot' }), field: 'spec.actions[0].type', says: /Unsupported value: "reboot"/ },
  { name: 'an unknown restart strategy', spec: withAction({ name: 'a', type: 'restart', restartAction: { strategy: 'reboot' } }), field: 'spec.actions[0].restartAction.strategy', says: /Unsupported value: "reboot"/ },
  { name: 'a scale action without scaleAction', spec: withAction({ name: 'a', type: 'scale' }), field: 'spec.actions[0].scaleAction', says: /a scale action needs scaleAction/ },
  { name: 'scaleAction on a restart action', spec: withAction({ name: 'a', type: 'restart', scaleAction: { direction: 'up', replicas: 1 } }), field: 'spec.actions[0].scaleAction', says: /only for actions of type scale/ },
  { name: 'an unknown scale direction', spec: scale({ direction: 'sideways', replicas: 1 }), field: 'spec.actions[0].scaleAction.direction', says: /Unsupported value: "sideways"/ },
  { name: 'minReplicas above maxReplicas', spec: scale({ direction: 'up', replicas: 1, minReplicas: 5, maxReplicas: 3 }), field: 'spec.actions[0].scaleAction.minReplicas', says: /minReplicas must not exceed maxReplicas/ },
  { name: 'an absolute scale outside minReplicas..maxReplicas', spec: scale({ direction: 'absolute', replicas: 50, maxReplicas: 20 }), field: 'spec.actions[0].scaleAction.replicas', says: /within minReplicas..maxReplicas/ },
  { name: 'a scale up by 0 replicas', spec: scale({ direction: 'up', replicas: 0 }), field: 'spec.actions[0].scaleAction.replicas', says: /at least 1 for up\/down/ },
  { name: 'a patch action without patchAction', spec: withAction({ name: 'a', type: 'patch' }), field: 'spec.actions[0].patchAction', says: /a patch action needs patchAction/ },
  { name: 'a patch with both patch and patches', spec: patch({ patch: '{"spec":{}}', patches: [{ path: '/spec/replicas', value: 1 }] }), field: 'spec.actions[0].patchAction', says: /exactly one of patch/ },
  { name: 'a patch with neither patch nor patches', spec: patch({ type: 'merge' }), field: 'spec.actions[0].patchAction', says: /exactly one of patch/ },
  { name: 'an unknown patch type', spec: patch({ type: 'yaml', patch: 'spec: {}' }), field: 'spec.actions[0].patchAction.type', says: /Unsupported value: "yaml"/ },
  { name: 'a 1 MB patch', spec: patch({ patch: `{"metadata":{"annotations":{"a":"${'x'.repeat(1_000_000)}"}}}` }), field: 'spec.actions[0].patchAction.patch', says: /Too long: may not be (more|longer) than 32768/ },
  { name: 'an unapproved delete action with an empty selector', spec: withAction({ name: 'd', type: 'delete' }, { selector: {} }), field: 'spec.selector', says: /delete action needs a non-empty selector.labelSelector/ },
  { name: 'two delete actions without a labelSelector, one of them unapproved', spec: spec({ selector: { resources: [{ apiVersion: 'v1', kind: 'Pod' }] }, actions: [{ name: 'd1', type: 'delete', requiresApproval: true }, { name: 'd2', type: 'delete' }] }), field: 'spec.selector', says: /unless a human approves each delete/ },
  { name: 'a delete action whose label selector is empty', spec: withAction({ name: 'd', type: 'delete' }, { selector: { labelSelector: {} } }), field: 'spec.selector', says: /delete action needs a non-empty selector.labelSelector/ },
  { name: 'a cluster-wide delete whose label selector is empty', kind: 'ClusterHealingPolicy', spec: withAction({ name: 'd', type: 'delete' }, { selector: { namespaces: ['*'], labelSelector: {} } }), field: 'spec.selector', says: /delete action needs a non-empty selector.labelSelector/ },
  { name: 'a HealingPolicy that names another namespace', spec: spec({ selector: { namespaces: ['payments'], labelSelector: { matchLabels: { app: 'web' } } } }), field: 'spec.selector.namespaces', says: /acts only in its own namespace.*ClusterHealingPolicy/ },
  { name: 'a HealingPolicy over every namespace ("*")', spec: spec({ selector: { namespaces: ['*'] }, mode: 'monitor' }), field: 'spec.selector.namespaces', says: /acts only in its own namespace/ },
  { name: 'a ClusterHealingPolicy that does not say where it acts', kind: 'ClusterHealingPolicy', spec: spec(), field: 'spec.selector', says: /must say where it acts/ },
  { name: 'a namespaceSelector on a HealingPolicy', spec: spec({ selector: { namespaceSelector: { matchLabels: { team: 'shop' } } } }), field: 'spec.selector.namespaceSelector', says: /unknown field/ },
  { name: 'an unknown delete propagation policy', spec: withAction({ name: 'd', type: 'delete', deleteAction: { propagationPolicy: 'Cascade' } }), field: 'spec.actions[0].deleteAction.propagationPolicy', says: /Unsupported value: "Cascade"/ },
  { name: 'a negative action priority', spec: withAction({ ...restartAction, priority: -1 }), field: 'spec.actions[0].priority', says: /greater than or equal to 0/ },
  { name: 'an unknown mode', spec: spec({ mode: 'yolo' }), field: 'spec.mode', says: /Unsupported value: "yolo"/ },
  { name: 'maxUnavailable that is neither a number nor a percentage', spec: safety({ maxUnavailable: 'half' }), field: 'spec.safetyRules.maxUnavailable', says: /non-negative integer or a percentage/ },
  { name: 'a fractional maxUnavailable', spec: safety({ maxUnavailable: 1.5 }), field: 'spec.safetyRules.maxUnavailable', says: /must be of type integer,string/ },
  { name: 'maxUnavailable above 100%', spec: safety({ maxUnavailable: '150%' }), field: 'spec.safetyRules.maxUnavailable', says: /must not be greater than 100%/ },
  { name: 'maxUnavailable of 101%', spec: safety({ maxUnavailable: '101%' }), field: 'spec.safetyRules.maxUnavailable', says: /must not be greater than 100%/ },
  { name: 'a negative maxUnavailable', spec: safety({ maxUnavailable: -1 }), field: 'spec.safetyRules.maxUnavailable', says: /non-negative integer or a percentage/ },
  { name: 'a negative maxActionsPerHour', spec: safety({ maxActionsPerHour: -1 }), field: 'spec.safetyRules.maxActionsPerHour', says: /greater than or equal to 0/ },
  { name: 'a protected resource kind in lower case', spec: safety({ protectedResources: [{ kind: 'pod' }] }), field: 'spec.safetyRules.protectedResources[0].kind', says: /should match/ },
  { name: 'a namespace name that is not a DNS label', kind: 'ClusterHealingPolicy', spec: spec({ selector: { namespaces: ['Kube_System'], labelSelector: { matchLabels: { app: 'web' } } } }), field: 'spec.selector.namespaces[0]', says: /should match/ },
  { name: 'a policy without a name', spec: spec(), metadata: {}, field: 'metadata.name', says: /name or generateName is required/ },
  { name: 'a name that is not a DNS subdomain', spec: spec(), metadata: { name: 'Memory_Restart' }, field: 'metadata.name', says: /RFC 1123 subdomain/ },
  { name: 'a matchExpressions In without values', spec: spec({ selector: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } } }), field: 'spec.selector.labelSelector.matchExpressions[0].values', says: /need at least one value/ },
];

function build(rows: readonly Row[], valid: boolean, prefix: string): PolicyCase[] {
  return rows.map((row, i) => {
    const kind = row.kind ?? 'HealingPolicy';
    const object: JsonObject = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind,
      metadata: row.metadata ?? { name: `${prefix}-${String(i).padStart(2, '0')}` },
      spec: row.spec,
    };
    return {
      name: row.name,
      policy: object,
      kind,
      valid,
      ...(row.field === undefined ? {} : { field: row.field }),
      ...(row.says === undefined ? {} : { says: row.says }),
    };
  });
}

/** Policies the API server and the validator must both accept. */
export const VALID_POLICY_CASES: readonly PolicyCase[] = build(VALID, true, 'valid');
/** Policies the API server and the validator must both reject, each naming `field`. */
export const INVALID_POLICY_CASES: readonly PolicyCase[] = build(INVALID, false, 'invalid');
/** Every case. */
export const POLICY_CASES: readonly PolicyCase[] = [...VALID_POLICY_CASES, ...INVALID_POLICY_CASES];
