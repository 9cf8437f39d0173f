/** HealingPolicy: what to watch, when to act, what to do, and the safety rules around it. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  ActionTemplateSchema,
  BUILTIN_METRICS,
  COMPARISON_OPERATORS,
  ConditionSchema,
  LabelSelectorSchema,
  TRIGGER_TYPES,
  type LabelSelector,
} from './common.js';
import { re2SyntaxError } from './re2.js';
import { DnsLabel, Duration, IntOrPercent, StringEnum, withRules, type CelRule } from './schema-kit.js';

export const POLICY_MODES = ['monitor', 'dryrun', 'automatic', 'manual'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

/** Built-in metrics that can never be negative, so a negative threshold for them is a mistake. */
const NON_NEGATIVE_METRICS: readonly string[] = BUILTIN_METRICS;

const ResourceFilterSchema = Type.Object({
  apiVersion: Type.String({ minLength: 1, maxLength: 253, description: 'e.g. v1, apps/v1' }),
  kind: Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$', description: 'e.g. Pod, Deployment' }),
  excludeNames: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 256 })),
});

const ProtectedResourceSchema = Type.Object({
  apiVersion: Type.Optional(Type.String({ maxLength: 253 })),
  kind: Type.Optional(Type.String({ maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$' })),
  excludeNames: Type.Optional(
    Type.Array(Type.String({ maxLength: 253 }), {
      maxItems: 256,
      description: 'Names of this kind that are protected (the field keeps the original design’s name).',
    }),
  ),
  labelSelector: Type.Optional(LabelSelectorSchema),
});

const NamespaceList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 63, pattern: '^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$' }), { maxItems: 256, description });

const ResourcesField = Type.Optional(
  Type.Array(ResourceFilterSchema, {
    maxItems: 16,
    description: 'Kinds to watch (default: Pods). Workloads are resolved to their pods and back.',
  }),
);

/**
 * Why a namespaced policy may not list namespaces: the right to write a HealingPolicy in one namespace must never
 * become the right to disrupt workloads in another through the operator (a confused deputy).
 */
export const CROSS_NAMESPACE_REFUSAL =
  'a HealingPolicy acts only in its own namespace: remove selector.namespaces, or use a ClusterHealingPolicy (cluster-scoped, written by cluster administrators) with selector.namespaces or selector.namespaceSelector to act across namespaces';

/** What a namespaced HealingPolicy watches: objects of its own namespace, by kind and labels. */
export const SelectorSchema = withRules(
  Type.Object({
    namespaces: Type.Optional(
      NamespaceList(
        'Not allowed on a HealingPolicy, which acts only in its own namespace (use a ClusterHealingPolicy). Kept in the schema so that objects stored before this rule can still be read, reported and never acted on elsewhere.',
      ),
    ),
    labelSelector: Type.Optional(LabelSelectorSchema),
    resources: ResourcesField,
  }),
  [
    {
      rule: '!has(self.namespaces) || size(self.namespaces) == 0',
      message: CROSS_NAMESPACE_REFUSAL,
      fieldPath: '.namespaces',
      reason: 'FieldValueForbidden',
      check: (s) => (s.namespaces ?? []).length === 0,
    },
  ],
);

/** What a ClusterHealingPolicy watches: objects of the namespaces it names or selects, by kind and labels. */
export const ClusterSelectorSchema = withRules(
  Type.Object({
    namespaces: Type.Optional(NamespaceList('Namespaces to act in; "*" for every namespace. With namespaceSelector, a namespace must satisfy both.')),
    namespaceSelector: Type.Optional(
      Type.Object(LabelSelectorSchema.properties, { description: 'Labels of the namespaces to act in. With namespaces, a namespace must satisfy both.' }),
    ),
    labelSelector: Type.Optional(LabelSelectorSchema),
    resources: ResourcesField,
  }),
  [
    {
      rule: '(has(self.namespaces) && size(self.namespaces) > 0) || has(self.namespaceSelector)',
      message: 'a ClusterHealingPolicy must say where it acts: selector.namespaces (names, or "*" for every namespace) or selector.namespaceSelector',
      reason: 'FieldValueRequired',
      check: (s) => (s.namespaces ?? []).length > 0 || s.namespaceSelector !== undefined,
    },
  ],
);

const MetricTriggerSchema = withRules(
  Type.Object({
    query: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: `A built-in metric (${BUILTIN_METRICS.join(', ')}) or a PromQL query (needs a Prometheus URL).`,
    }),
    threshold: Type.Number(),
    operator: Type.Optional(StringEnum(COMPARISON_OPERATORS, { default: '>' })),
    duration: Type.Optional(Duration({ default: '0s', description: 'How long the comparison must hold continuously.' })),
  }),
  [
    {
      rule: `!(self.query in [${NON_NEGATIVE_METRICS.map((m) => `'${m}'`).join(', ')}]) || self.threshold >= 0.0`,
      message: 'threshold must not be negative for a built-in metric (they are never below zero)',
      fieldPath: '.threshold',
      check: (s) => !NON_NEGATIVE_METRICS.includes(s.query) || s.threshold >= 0,
    },
  ],
);

/**
 * True when the API server can compile `pattern`: CEL's matches() uses Go's regexp (RE2 syntax), which differs
 * from JavaScript's RegExp both ways, so this asks a parser of Go's syntax (./re2.ts) rather than `new RegExp`.
 */
export function isPortableRegex(pattern: string): boolean {
  return re2SyntaxError(pattern) === undefined;
}

/**
 * An event reason pattern. The rule sits on the string itself so that the API server reports the failure at
 * `…eventTrigger.reason` (a rule's fieldPath is ignored when the rule fails with a runtime error, which is how a
 * bad pattern fails: matches() compiles it at evaluation time and the compile error becomes the message).
 */
const EventReasonSchema = withRules(
  Type.String({
    minLength: 1,
    maxLength: 256,
    description:
      'Event reason, matched in full as an RE2 regular expression: "BackOff" matches exactly, "BackOff|Failed.*" either.',
  }),
  [
    {
      rule: "type(''.matches(self)) == bool",
      message: 'must be a valid RE2 regular expression',
      check: (s) => isPortableRegex(s),
      explain: (s) => {
        const error = re2SyntaxError(s);
        return error === undefined ? undefined : `Invalid value: ${JSON.stringify(s)}: ${error.message}`;
      },
    },
  ],
);

const EventTriggerSchema = Type.Object({
  reason: EventReasonSchema,
  type: Type.Optional(StringEnum(['Normal', 'Warning'] as const)),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
  window: Type.Optional(Duration({ default: '5m', description: 'Sliding window in which count events must occur.' })),
});

const ConditionTriggerSchema = Type.Object({
  type: Type.String({
    minLength: 1,
    maxLength: 316,
    description:
      'A condition type of the object (Ready, Available, …) or a container state of its pods (CrashLoopBackOff, OOMKilled, ImagePullBackOff …).',
  }),
  status: Type.Optional(StringEnum(['True', 'False', 'Unknown'] as const, { default: 'True' })),
  duration: Type.Optional(Duration({ default: '0s', description: 'How long the condition must hold.' })),
});

const PredictiveTriggerSchema = withRules(
  Type.Object({
    metric: Type.Optional(
      StringEnum(['memory_usage_percent', 'memory_usage_bytes', 'cpu_usage_percent', 'restart_count'] as const, {
        default: 'memory_usage_percent',
      }),
    ),
    threshold: Type.Optional(Type.Number({ minimum: 0, default: 100, description: 'The value whose crossing is forecast (100 = the limit).' })),
    horizon: Type.Optional(Duration({ default: '30m', description: 'Fire when the forecast crossing is within this time.' })),
    method: Type.Optional(
      StringEnum(['analyzer', 'linear'] as const, {
        default: 'analyzer',
        description:
          'analyzer: the built-in analyzer (robust trend, change points, GC sawtooth, warm-ups, cycles; calibrated confidence). linear: one least-squares line with R² as confidence (the original rule, kept for comparison).',
      }),
    ),
    minConfidence: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        default: 0.7,
        description: 'Minimum confidence to act: the analyzer’s calibrated probability that the limit is reached within the horizon (linear: R² of the fit).',
      }),
    ),
    minValue: Type.Optional(Type.Number({ minimum: 0, description: 'Do not act below this current value (the seed acts from 30%).' })),
    lookback: Type.Optional(Duration({ default: '1h', description: 'History used for the forecast.' })),
    minHistory: Type.Optional(
      Duration({
        default: '8m',
        description:
          'analyzer: act only on a series with at least this much history since the container last started — a few minutes cannot tell a leak from a warm-up. The forecast must also hold on two consecutive samples.',
      }),
    ),
    minSamples: Type.Optional(Type.Integer({ minimum: 3, maximum: 10000, default: 5 })),
  }),
  [],
);

const TRIGGER_SETTING = {
  metric: 'metricTrigger',
  event: 'eventTrigger',
  condition: 'conditionTrigger',
  predictive: 'predictiveTrigger',
} as const;

const TriggerObject = Type.Object({
  name: DnsLabel({ description: 'Name of this trigger, unique in the policy.' }),
  type: StringEnum(TRIGGER_TYPES),
  metricTrigger: Type.Optional(MetricTriggerSchema),
  eventTrigger: Type.Optional(EventTriggerSchema),
  conditionTrigger: Type.Optional(ConditionTriggerSchema),
  predictiveTrigger: Type.Optional(PredictiveTriggerSchema),
  cooldownPeriod: Type.Optional(Duration({ default: '5m', description: 'Minimum time between firings on the same target.' })),
});

export const TriggerSchema = withRules(
  TriggerObject,
  Object.entries(TRIGGER_SETTING).flatMap(([type, field]): CelRule<Static<typeof TriggerObject>>[] => [
    {
      rule: `self.type != '${type}' || has(self.${field})`,
      message: `a ${type} trigger needs ${field}`,
      fieldPath: `.${field}`,
      reason: 'FieldValueRequired',
      check: (s) => s.type !== type || s[field] !== undefined,
    },
    {
      rule: `!has(self.${field}) || self.type == '${type}'`,
      message: `${field} is only for triggers of type ${type}`,
      fieldPath: `.${field}`,
      reason: 'FieldValueForbidden',
      check: (s) => s[field] === undefined || s.type === type,
    },
  ]),
);
export type Trigger = Static<typeof TriggerSchema>;

export const SafetyRulesSchema = Type.Object({
  maxActionsPerHour: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 10000, default: 5, description: 'Actions this policy may execute in any rolling hour.' }),
  ),
  protectedResources: Type.Optional(
    Type.Array(ProtectedResourceSchema, { maxItems: 64, description: 'Resources this policy must never act on.' }),
  ),
  requireHealthCheck: Type.Optional(Type.Boolean({ default: true, description: 'Verify the target is healthy after acting.' })),
  healthCheckTimeout: Type.Optional(Duration({ default: '5m' })),
  maxUnavailable: Type.Optional(
    IntOrPercent({ default: 1, description: 'Replicas of one workload that may be disrupted at once, counting actions in flight.' }),
  ),
});

/** The spec fields both policy kinds share, around the kind's own selector. */
const specFields = <S extends TSchema>(selector: S) => ({
  selector,
  triggers: Type.Array(TriggerSchema, {
    minItems: 1,
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  }),
  actions: Type.Array(ActionTemplateSchema, {
    minItems: 1,
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  }),
  // Defaulted to {} so that its own defaults (maxActionsPerHour, healthCheckTimeout …) appear on every stored
  // policy: an absent object is never defaulted into, neither by the API server nor by ajv.
  safetyRules: Type.Optional(Type.Object(SafetyRulesSchema.properties, { default: {} })),
  mode: Type.Optional(StringEnum(POLICY_MODES, { default: 'automatic' })),
  strategy: Type.Optional(
    StringEnum(['rules', 'ai'] as const, {
      default: 'rules',
      description:
        'rules: a firing takes the escalation ladder (actions by priority). ai: the built-in analyzer chooses among the actions for each firing, with a confidence, its reasoning and the alternatives (source: ai, counted against the AI budget). Predictive triggers are decided by the analyzer either way.',
    }),
  ),
});
const HealingPolicySpecObject = Type.Object(specFields(SelectorSchema));
const ClusterHealingPolicySpecObject = Type.Object(specFields(ClusterSelectorSchema));

/** True when a label selector constrains anything (an empty selector matches every object). */
function isNonEmptySelector(ls: LabelSelector | undefined): boolean {
  return Object.keys(ls?.matchLabels ?? {}).length > 0 || (ls?.matchExpressions ?? []).length > 0;
}

/**
 * True when a human approves every delete the policy can make: the policy is in manual mode, or each delete action
 * has requiresApproval. Exported for the validator's warning, which must agree with the rule below.
 */
export function deletesNeedApproval(spec: { readonly mode?: PolicyMode | undefined; readonly actions: readonly { readonly type: string; readonly requiresApproval?: boolean | undefined }[] }): boolean {
  return spec.mode === 'manual' || spec.actions.every((a) => a.type !== 'delete' || a.requiresApproval === true);
}

/** True when the policy has a delete action but no label selector that constrains anything. */
export function deletesWithoutLabels(spec: { readonly selector: { readonly labelSelector?: LabelSelector | undefined }; readonly actions: readonly { readonly type: string }[] }): boolean {
  return spec.actions.some((a) => a.type === 'delete') && !isNonEmptySelector(spec.selector.labelSelector);
}

/**
 * A delete over "every pod in the namespace" is the one mistake that cannot be undone by the next reconcile, so a
 * delete action demands a label selector that constrains something (namespaces and kinds alone do not count) —
 * unless a human approves each delete (mode manual, or requiresApproval on every delete action): then the person
 * approving is the narrowing, and `kubeskippy validate` warns instead of refusing.
 */
const deleteNeedsLabels = {
    rule:
      "!self.actions.exists(a, a.type == 'delete') || (has(self.selector.labelSelector) && ((has(self.selector.labelSelector.matchLabels) && size(self.selector.labelSelector.matchLabels) > 0) || (has(self.selector.labelSelector.matchExpressions) && size(self.selector.labelSelector.matchExpressions) > 0))) || (has(self.mode) && self.mode == 'manual') || self.actions.all(a, a.type != 'delete' || (has(a.requiresApproval) && a.requiresApproval))",
    message:
      'a policy with a delete action needs a non-empty selector.labelSelector (matchLabels or matchExpressions), so that it cannot delete everything it watches, unless a human approves each delete (requiresApproval: true on every delete action, or mode: manual)',
    fieldPath: '.selector',
    check: (s: Static<typeof HealingPolicySpecObject> | Static<typeof ClusterHealingPolicySpecObject>) => !deletesWithoutLabels(s) || deletesNeedApproval(s),
};

export const HealingPolicySpecSchema = withRules(HealingPolicySpecObject, [deleteNeedsLabels]);
export type HealingPolicySpec = Static<typeof HealingPolicySpecSchema>;

export const ClusterHealingPolicySpecSchema = withRules(ClusterHealingPolicySpecObject, [deleteNeedsLabels]);
export type ClusterHealingPolicySpec = Static<typeof ClusterHealingPolicySpecSchema>;

/** Outcome counts of one action for one trigger on one workload: what the policy has learnt. */
const OutcomeSchema = Type.Object({
  workload: Type.String({ maxLength: 400, description: 'Kind/namespace/name of the workload (or bare pod) acted on.' }),
  trigger: Type.String({ maxLength: 63 }),
  action: Type.String({ maxLength: 63 }),
  successes: Type.Integer({ minimum: 0, description: 'Verified successes (including those that later recurred).' }),
  failures: Type.Integer({ minimum: 0, description: 'Executions that failed or did not verify.' }),
  recurrences: Type.Integer({ minimum: 0, description: 'Verified successes after which the trigger fired again within the escalation window.' }),
  lastOutcome: Type.Optional(Type.String({ format: 'date-time' })),
});

/**
 * What a policy has learnt from its own actions, persisted in its status so that it survives operator restarts and
 * the garbage collection of old HealingActions. The high-water marks make counting idempotent: an action is counted
 * once, when its completion (or, for a recurrence, its creation) is newer than the mark.
 */
export const LearningSchema = Type.Object({
  completedThrough: Type.Optional(Type.String({ format: 'date-time', description: 'Actions completed up to here are counted.' })),
  createdThrough: Type.Optional(Type.String({ format: 'date-time', description: 'Actions created up to here were checked for recurrence.' })),
  outcomes: Type.Optional(Type.Array(OutcomeSchema, { maxItems: 200, description: 'Most recently updated first; the oldest are dropped.' })),
});
export type Learning = Static<typeof LearningSchema>;

export const HealingPolicyStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastEvaluated: Type.Optional(Type.String({ format: 'date-time' })),
  matchedResources: Type.Optional(Type.Integer({ minimum: 0 })),
  activeTriggers: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 32 })),
  actionsTaken: Type.Optional(
    Type.Integer({ minimum: 0, description: 'HealingActions of this policy that executed (or are executing); Blocked and Cancelled-before-start ones did nothing and are not counted.' }),
  ),
  actionsAllowed: Type.Optional(Type.Integer({ minimum: 0, description: 'Budget left in the current rolling hour.' })),
  lastActionTime: Type.Optional(Type.String({ format: 'date-time' })),
  learning: Type.Optional(LearningSchema),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});
export type HealingPolicyStatus = Static<typeof HealingPolicyStatusSchema>;

/** Object metadata as far as validation is concerned (the API server owns the rest). */
export const ObjectMetaSchema = Type.Unsafe<{
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: string;
}>({ type: 'object' });

export const HealingPolicySchema = Type.Object({
  apiVersion: Type.Literal('kubeskippy.io/v1alpha1'),
  kind: Type.Literal('HealingPolicy'),
  metadata: ObjectMetaSchema,
  spec: HealingPolicySpecSchema,
  status: Type.Optional(HealingPolicyStatusSchema),
});
export type HealingPolicy = Static<typeof HealingPolicySchema>;

/** ClusterHealingPolicy: a HealingPolicy that acts across the namespaces it names or selects. Cluster-scoped. */
export const ClusterHealingPolicySchema = Type.Object({
  apiVersion: Type.Literal('kubeskippy.io/v1alpha1'),
  kind: Type.Literal('ClusterHealingPolicy'),
  metadata: ObjectMetaSchema,
  spec: ClusterHealingPolicySpecSchema,
  status: Type.Optional(HealingPolicyStatusSchema),
});
export type ClusterHealingPolicy = Static<typeof ClusterHealingPolicySchema>;

/** Either kind of policy: what evaluation, decisions and the gate work with. */
export type AnyPolicy = HealingPolicy | ClusterHealingPolicy;

/** The two policy kinds. */
export const POLICY_KINDS = ['HealingPolicy', 'ClusterHealingPolicy'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** True for a cluster-scoped policy. */
export function isClusterPolicy(p: Pick<AnyPolicy, 'kind'>): p is ClusterHealingPolicy {
  return p.kind === 'ClusterHealingPolicy';
}
