/**
 * HealingAction: one decision about one target — the ledger entry the operator creates, executes, verifies and
 * keeps. Its status is the journal that makes execution idempotent across operator restarts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ActionTemplateSchema, ConditionSchema, TRIGGER_TYPES } from './common.js';
import { ObjectMetaSchema, POLICY_KINDS } from './healing-policy.js';
import { AnyJson, Duration, StringEnum, StringMap, withRules } from './schema-kit.js';

export const ACTION_PHASES = [
  'Pending',
  'WaitingApproval',
  'Approved',
  'InProgress',
  'Verifying',
  'Succeeded',
  'Failed',
  'Cancelled',
  'Blocked',
] as const;
export type ActionPhase = (typeof ACTION_PHASES)[number];

/** Phases after which nothing more happens to an action. */
export const TERMINAL_PHASES: readonly ActionPhase[] = ['Succeeded', 'Failed', 'Cancelled'];

/** Why an action was not executed (status.reason when phase is Blocked). */
export const BLOCK_REASONS = [
  'RateLimited',
  'Cooldown',
  'Protected',
  'BudgetExhausted',
  'PDB',
  'CircuitOpen',
  'Paused',
  'Superseded',
  'HPAConflict',
  'AtLimit',
  'GitOpsManaged',
  'OutsideSelector',
  'StormSuppressed',
  'NamespaceNotAllowed',
] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export const TargetResourceSchema = Type.Object({
  apiVersion: Type.String({ minLength: 1, maxLength: 253 }),
  kind: Type.String({ minLength: 1, maxLength: 63 }),
  name: Type.String({ minLength: 1, maxLength: 253 }),
  namespace: Type.String({ minLength: 1, maxLength: 63 }),
  uid: Type.Optional(Type.String({ maxLength: 64 })),
});
export type TargetResource = Static<typeof TargetResourceSchema>;

const FiredTriggerSchema = Type.Object({
  name: Type.String({ maxLength: 63 }),
  type: StringEnum(TRIGGER_TYPES),
  firedAt: Type.String({ format: 'date-time' }),
  reason: Type.Optional(Type.String({ maxLength: 1024, description: 'What was observed, in words.' })),
  observedValue: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  values: Type.Optional(StringMap({ description: 'Observations that made the trigger fire.' })),
});

const AlternativeSchema = Type.Object({
  action: Type.String({ maxLength: 63 }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  reason: Type.Optional(Type.String({ maxLength: 1024 })),
});

const ChangeSchema = Type.Object({
  field: Type.String({ maxLength: 1024 }),
  old: Type.Optional(Type.String({ maxLength: 4096 })),
  new: Type.Optional(Type.String({ maxLength: 4096 })),
});

const HealingActionSpecObject = Type.Object({
  policyRef: withRules(
    Type.Object({
      kind: Type.Optional(
        StringEnum(POLICY_KINDS, { default: 'HealingPolicy', description: 'HealingPolicy (in this namespace) or ClusterHealingPolicy.' }),
      ),
      name: Type.String({ minLength: 1, maxLength: 253 }),
      namespace: Type.Optional(
        Type.String({ maxLength: 63, description: 'A HealingPolicy’s namespace: must be the action’s own (the safety gate refuses any other).' }),
      ),
      uid: Type.Optional(Type.String({ maxLength: 64 })),
    }),
    [
      {
        rule: "!has(self.namespace) || !has(self.kind) || self.kind != 'ClusterHealingPolicy'",
        message: 'a ClusterHealingPolicy is cluster-scoped: policyRef.namespace must not be set',
        fieldPath: '.namespace',
        reason: 'FieldValueForbidden',
        check: (s) => s.namespace === undefined || s.kind !== 'ClusterHealingPolicy',
      },
    ],
  ),
  targetResource: TargetResourceSchema,
  workloadRef: Type.Optional(
    Type.Object(TargetResourceSchema.properties, {
      description: 'The workload that owns the target (its Deployment, StatefulSet…), recorded when the action is created so budgets still find it after the pod is gone.',
    }),
  ),
  action: ActionTemplateSchema,
  trigger: Type.Optional(FiredTriggerSchema),
  approvalRequired: Type.Optional(Type.Boolean({ default: false })),
  dryRun: Type.Optional(Type.Boolean({ default: false })),
  timeout: Type.Optional(Duration({ default: '10m', description: 'Give up (Failed) if not finished by then.' })),
  retryPolicy: Type.Optional(
    Type.Object({
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 3 })),
      backoff: Type.Optional(Duration({ default: '10s' })),
      backoffMultiplier: Type.Optional(Type.Number({ minimum: 1, maximum: 10, default: 2 })),
    }),
  ),
  source: Type.Optional(StringEnum(['rule', 'ai'] as const, { default: 'rule' })),
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  reasoning: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 32 })),
  alternatives: Type.Optional(Type.Array(AlternativeSchema, { maxItems: 16 })),
  escalationLevel: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 16, description: 'Position on the escalation ladder (0: first action).' }),
  ),
});
/**
 * The spec is the decision as it was made — what fired, what was chosen, for which target. It never changes after
 * creation: an edited spec would make the ledger lie, or let whoever may annotate an action (to approve it) also
 * retarget it. Approval, rejection and cancellation are annotations; progress is status.
 */
export const HealingActionSpecSchema = withRules(HealingActionSpecObject, [
  {
    rule: 'self == oldSelf',
    message: 'spec is immutable: a HealingAction records one decision; approve, reject or cancel it with an annotation instead',
    // Offline validation sees one object, never an update.
    check: () => true,
  },
]);
export type HealingActionSpec = Static<typeof HealingActionSpecSchema>;

/** A safety rule's verdict as recorded on an action. */
export const SAFETY_VERDICTS = ['pass', 'deny', 'note'] as const;
export type SafetyVerdict = (typeof SAFETY_VERDICTS)[number];

const SafetyCheckSchema = Type.Object({
  rule: Type.String({ maxLength: 63, description: 'The safety rule (paused, tenancy, selection, protected, policy-rate, pdb …).' }),
  verdict: StringEnum(SAFETY_VERDICTS, { description: 'pass; note: passed with something worth saying; deny: refused.' }),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type SafetyCheck = Static<typeof SafetyCheckSchema>;

export const HealingActionStatusSchema = Type.Object({
  phase: Type.Optional(StringEnum(ACTION_PHASES)),
  reason: Type.Optional(Type.String({ maxLength: 256, description: 'Machine-readable reason for the phase (Blocked: why).' })),
  message: Type.Optional(Type.String({ maxLength: 4096 })),
  attempts: Type.Optional(Type.Integer({ minimum: 0 })),
  startTime: Type.Optional(Type.String({ format: 'date-time' })),
  completionTime: Type.Optional(Type.String({ format: 'date-time' })),
  nextAttemptTime: Type.Optional(Type.String({ format: 'date-time' })),
  execution: Type.Optional(
    AnyJson({ description: 'What the executor did and what verification checks (journal; survives operator restarts).' }),
  ),
  executionId: Type.Optional(
    Type.String({ maxLength: 128, description: 'Intent recorded before a mutation; makes execution idempotent across restarts.' }),
  ),
  result: Type.Optional(
    Type.Object({
      success: Type.Boolean(),
      message: Type.Optional(Type.String({ maxLength: 4096 })),
      error: Type.Optional(Type.String({ maxLength: 4096 })),
      metricsBefore: Type.Optional(StringMap()),
      metricsAfter: Type.Optional(StringMap()),
      changes: Type.Optional(Type.Array(ChangeSchema, { maxItems: 64 })),
      plan: Type.Optional(AnyJson({ description: 'Dry run: the exact change that would be made.' })),
    }),
  ),
  safety: Type.Optional(
    Type.Array(SafetyCheckSchema, {
      maxItems: 32,
      description:
        'Every safety rule\'s verdict at the last gate check, in evaluation order. The first deny decided (phase Blocked); rules after it are recorded too, so a reader sees what else would have refused.',
    }),
  ),
  approval: Type.Optional(
    Type.Object({
      required: Type.Boolean(),
      approved: Type.Optional(Type.Boolean()),
      approvedBy: Type.Optional(Type.String({ maxLength: 256 })),
      approvedAt: Type.Optional(Type.String({ format: 'date-time' })),
      reason: Type.Optional(Type.String({ maxLength: 1024 })),
    }),
  ),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type HealingActionStatus = Static<typeof HealingActionStatusSchema>;

export const HealingActionSchema = Type.Object({
  apiVersion: Type.Literal('kubeskippy.io/v1alpha1'),
  kind: Type.Literal('HealingAction'),
  metadata: ObjectMetaSchema,
  spec: HealingActionSpecSchema,
  status: Type.Optional(HealingActionStatusSchema),
});
export type HealingAction = Static<typeof HealingActionSchema>;
