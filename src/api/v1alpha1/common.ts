/** Schema parts shared by HealingPolicy and HealingAction. */
import { Type, type Static } from '@sinclair/typebox';
import { AnyJson, DnsLabel, StringEnum, StringMap, withRules, type CelRule } from './schema-kit.js';

/** The API group and version of every KubeSkippy resource. */
export const GROUP = 'kubeskippy.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Metric names the operator computes itself (no Prometheus needed). Any other query is PromQL. */
export const BUILTIN_METRICS = [
  'restart_count',
  'restart_rate',
  'cpu_usage_percent',
  'cpu_usage_millicores',
  'memory_usage_percent',
  'memory_usage_bytes',
  'ready',
  'unavailable_replicas',
] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];

export const TRIGGER_TYPES = ['metric', 'event', 'condition', 'predictive'] as const;
export const ACTION_TYPES = ['restart', 'scale', 'patch', 'delete', 'rollback'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];
export const COMPARISON_OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(StringMap({ description: 'Labels that must all be present with these values.' })),
    matchExpressions: Type.Optional(
      Type.Array(
        withRules(
          Type.Object({
            key: Type.String({ minLength: 1, maxLength: 317 }),
            operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const),
            values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64 })),
          }),
          [
            {
              rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
              message: 'In and NotIn need at least one value; Exists and DoesNotExist take none',
              fieldPath: '.values',
              check: (s) =>
                s.operator === 'In' || s.operator === 'NotIn' ? (s.values?.length ?? 0) > 0 : (s.values?.length ?? 0) === 0,
            },
          ],
        ),
        { maxItems: 16 },
      ),
    ),
  },
  { description: 'A Kubernetes label selector (matchLabels and matchExpressions are ANDed).' },
);
export type LabelSelector = Static<typeof LabelSelectorSchema>;

export const RestartActionSchema = Type.Object({
  strategy: Type.Optional(
    StringEnum(['recreate', 'rolling', 'graceful'] as const, {
      default: 'rolling',
      description:
        'rolling: rollout-restart the owning workload (or evict one pod, respecting PodDisruptionBudgets); graceful: evict the pod with its grace period; recreate: delete the pod.',
    }),
  ),
  maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Pods restarted at once.' })),
  gracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: 'Termination grace period for evicted or deleted pods.' })),
  allowDeleteFallback: Type.Optional(
    Type.Boolean({ default: false, description: 'Delete the pod when the Eviction API is not available. Never used to bypass a PodDisruptionBudget.' }),
  ),
});

export const ScaleActionSchema = withRules(
  Type.Object({
    direction: StringEnum(['up', 'down', 'absolute'] as const, { description: 'up/down: change by replicas; absolute: set to replicas.' }),
    replicas: Type.Integer({ minimum: 0, maximum: 1000, description: 'Replicas to add or remove (up/down), or the target count (absolute).' }),
    minReplicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 1 })),
    maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 10 })),
  }),
  [
    {
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not exceed maxReplicas',
      fieldPath: '.minReplicas',
      check: (s) => (s.minReplicas ?? 1) <= (s.maxReplicas ?? 10),
    },
    {
      rule: "self.direction == 'absolute' ? (self.replicas >= self.minReplicas && self.replicas <= self.maxReplicas) : self.replicas >= 1",
      message: 'replicas must be at least 1 for up/down, and within minReplicas..maxReplicas for absolute',
      fieldPath: '.replicas',
      check: (s) =>
        s.direction === 'absolute' ? s.replicas >= (s.minReplicas ?? 1) && s.replicas <= (s.maxReplicas ?? 10) : s.replicas >= 1,
    },
  ],
);

/** One structured patch operation. `path` is a JSON pointer ("/spec/replicas") or a list of keys (seed form). */
export const PatchOperationSchema = Type.Object({
  op: Type.Optional(StringEnum(['add', 'replace', 'remove'] as const, { default: 'replace' })),
  path: Type.Unsafe<string | string[]>({
    'x-kubernetes-preserve-unknown-fields': true,
    description: 'JSON pointer such as "/spec/template/spec/containers/0/image", or the list of keys ["spec", "replicas"].',
  }),
  value: Type.Optional(AnyJson({ description: 'The value to set (any JSON).' })),
});

export const PatchActionSchema = withRules(
  Type.Object({
    type: StringEnum(['strategic', 'merge', 'json'] as const, { default: 'strategic' }),
    patch: Type.Optional(Type.String({ maxLength: 32768, description: 'The patch document, YAML or JSON.' })),
    patches: Type.Optional(Type.Array(PatchOperationSchema, { maxItems: 64, description: 'Structured operations.' })),
  }),
  [
    {
      rule: '(has(self.patch) && size(self.patch) > 0) != (has(self.patches) && size(self.patches) > 0)',
      message: 'give exactly one of patch (a document) or patches (a list of operations)',
      check: (s) => ((s.patch?.length ?? 0) > 0) !== ((s.patches?.length ?? 0) > 0),
    },
  ],
);

export const DeleteActionSchema = Type.Object({
  gracePeriodSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  propagationPolicy: Type.Optional(StringEnum(['Orphan', 'Background', 'Foreground'] as const, { default: 'Background' })),
  force: Type.Optional(Type.Boolean({ default: false, description: 'Delete with grace period 0.' })),
});

export const RollbackActionSchema = Type.Object({
  revision: Type.Optional(
    Type.Integer({ minimum: 0, description: 'Deployment revision to return to; 0 or absent means the previous revision.' }),
  ),
});

const PER_TYPE_FIELD: Record<ActionType, 'restartAction' | 'scaleAction' | 'patchAction' | 'deleteAction' | 'rollbackAction'> = {
  restart: 'restartAction',
  scale: 'scaleAction',
  patch: 'patchAction',
  delete: 'deleteAction',
  rollback: 'rollbackAction',
};

const ActionTemplateObject = Type.Object({
    name: DnsLabel({ description: 'Name of this action, unique in the policy.' }),
    type: StringEnum(ACTION_TYPES),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    priority: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 10,
        description: 'Lower runs first: 1 emergency delete, 5 optimisation delete, 8 predictive scale, 10 healing, 15 config patch.',
      }),
    ),
    requiresApproval: Type.Optional(Type.Boolean({ default: false })),
    restartAction: Type.Optional(RestartActionSchema),
    scaleAction: Type.Optional(ScaleActionSchema),
    patchAction: Type.Optional(PatchActionSchema),
    deleteAction: Type.Optional(DeleteActionSchema),
    rollbackAction: Type.Optional(RollbackActionSchema),
  });

export const ActionTemplateSchema = withRules(ActionTemplateObject, [
    {
      rule: "self.type != 'scale' || has(self.scaleAction)",
      message: 'a scale action needs scaleAction',
      fieldPath: '.scaleAction',
      reason: 'FieldValueRequired',
      check: (s) => s.type !== 'scale' || s.scaleAction !== undefined,
    },
    {
      rule: "self.type != 'patch' || has(self.patchAction)",
      message: 'a patch action needs patchAction',
      fieldPath: '.patchAction',
      reason: 'FieldValueRequired',
      check: (s) => s.type !== 'patch' || s.patchAction !== undefined,
    },
    ...(Object.entries(PER_TYPE_FIELD) as [ActionType, (typeof PER_TYPE_FIELD)[ActionType]][]).map(
      ([type, field]): CelRule<Static<typeof ActionTemplateObject>> => ({
        rule: `!has(self.${field}) || self.type == '${type}'`,
        message: `${field} is only for actions of type ${type}`,
        fieldPath: `.${field}`,
        reason: 'FieldValueForbidden',
        check: (s) => s[field] === undefined || s.type === type,
      }),
    ),
  ]);
export type ActionTemplate = Static<typeof ActionTemplateSchema>;

/** Standard Kubernetes condition (metav1.Condition). */
export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: Type.String({ maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Condition = Static<typeof ConditionSchema>;
