/**
 * The model's answer: its JSON schema, the strict parse of the provider's raw text, and the checks against the
 * policy's allow-lists, ending in a recommendation of the analyzer's own shape (rule `llm`) or a typed failure.
 * Pure.
 *
 * Strict on purpose (the k8sgpt lesson: free text parsed for "SAFE" matched "UNSAFE"): the answer is one JSON
 * object — a single ```json fenced block around it is tolerated, nothing else — it must validate against
 * {@link AnswerSchema} (no extra fields), and it may only name actions the policy allows and targets inside the
 * policy's selection (the kubernaut lesson: a model picked a target the operator could not even read). Anything
 * else is a failure with a stable code; it is never retried (the same prompt gives the same answer at temperature
 * 0) and the built-in analyzer decides instead.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { RECOMMENDATION_PRIORITY, type ActionRecommendation, type AllowedAction, type Alternative, type NoActionRecommendation, type Recommendation, type RuleId } from '../analysis/recommend.js';
import type { TargetRef } from '../metrics/types.js';
import { AdviceError } from './errors.js';
import { cleanModelText } from './sanitize.js';

/** The `rule` of a recommendation the LLM made. */
export const LLM_RULE = 'llm';

/** Which rule decided: one of the analyzer's, or the LLM. */
export type AdvisedRule = RuleId | typeof LLM_RULE;

/** An analyzer-shaped action recommendation whose rule may be `llm`. */
export type AdvisedActionRecommendation = Omit<ActionRecommendation, 'rule'> & { readonly rule: AdvisedRule };
/** An analyzer-shaped no-action recommendation whose rule may be `llm`. */
export type AdvisedNoActionRecommendation = Omit<NoActionRecommendation, 'rule'> & { readonly rule?: AdvisedRule };
/**
 * The analyzer's {@link Recommendation}, widened so that `rule` may be `llm` (every Recommendation is one). The
 * analyzer's RuleId is a closed list of its own rules, so the LLM's rule lives in this wider type rather than in it.
 */
export type AdvisedRecommendation = AdvisedActionRecommendation | AdvisedNoActionRecommendation;

/** Caps of the answer schema (the prompt asks for less: 6 lines under 300 characters, 6 alternatives). */
export const ANSWER_LIMITS = {
  /** Largest raw answer read, in characters; longer is MalformedAnswer without parsing. */
  rawChars: 16_384,
  reasoningLines: 8,
  sentence: 400,
  alternatives: 8,
  name: 253,
  kind: 63,
} as const;

/** The word that means "take no action" in `action` and in alternatives (an action named `none` cannot be chosen). */
export const NO_ACTION = 'none';

/** The JSON schema every answer must satisfy. Unknown fields anywhere are a SchemaViolation. */
export const AnswerSchema = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: ANSWER_LIMITS.name }),
    target: Type.Object(
      {
        kind: Type.String({ minLength: 1, maxLength: ANSWER_LIMITS.kind }),
        namespace: Type.String({ maxLength: ANSWER_LIMITS.name }),
        name: Type.String({ minLength: 1, maxLength: ANSWER_LIMITS.name }),
      },
      { additionalProperties: false },
    ),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    reasoning: Type.Array(Type.String({ minLength: 1, maxLength: ANSWER_LIMITS.sentence }), { minItems: 1, maxItems: ANSWER_LIMITS.reasoningLines }),
    alternatives: Type.Optional(
      Type.Array(
        Type.Object(
          {
            action: Type.String({ minLength: 1, maxLength: ANSWER_LIMITS.name }),
            confidence: Type.Number({ minimum: 0, maximum: 1 }),
            whyNot: Type.String({ maxLength: ANSWER_LIMITS.sentence }),
          },
          { additionalProperties: false },
        ),
        { maxItems: ANSWER_LIMITS.alternatives },
      ),
    ),
  },
  { additionalProperties: false },
);

/** An answer that satisfies the schema (not yet checked against the allow-lists). */
export type Answer = Static<typeof AnswerSchema>;

// Compiled once: the schema is static, the allow-lists are checked after it (so their failures get their own codes).
const validateAnswer = new Ajv({ allErrors: false, strict: false }).compile<Answer>(AnswerSchema);

/** What an answer is checked against. */
export interface AnswerContext {
  /** The policy's actions applicable to the target. */
  readonly allowedActions: readonly AllowedAction[];
  /** Targets the answer may name (compared on kind, namespace and name); the matching one is returned whole. */
  readonly allowedTargets: readonly TargetRef[];
  /** The built-in recommendation: when the model picks the same action, its priority and replica count carry over. */
  readonly builtin?: Recommendation;
  /** Who answered, for the first reasoning line ("openai qwen2.5-7b-instruct"). */
  readonly origin: string;
}

/** The outcome of {@link parseAnswer}. */
export type AnswerResult = { readonly ok: true; readonly recommendation: AdvisedRecommendation; readonly answer: Answer } | { readonly ok: false; readonly error: AdviceError };

const fail = (error: AdviceError): AnswerResult => ({ ok: false, error });

/**
 * The JSON value in a raw answer: the whole text, or the body of one ```json (or bare ```) fenced block that is
 * the whole text. Returns a MalformedAnswer error for anything else, an empty or oversized answer, invalid JSON or
 * a value that is not an object.
 */
export function extractAnswerJson(raw: string): { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly error: AdviceError } {
  if (raw.length > ANSWER_LIMITS.rawChars) {
    return { ok: false, error: new AdviceError('MalformedAnswer', `the answer is ${raw.length} characters, more than the ${ANSWER_LIMITS.rawChars} read`) };
  }
  const trimmed = raw.trim();
  const fence = /^```(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?```$/i.exec(trimmed);
  const body = (fence?.[1] ?? trimmed).trim();
  if (!body.startsWith('{')) {
    return { ok: false, error: new AdviceError('MalformedAnswer', body === '' ? 'the answer is empty' : 'the answer is not a JSON object (nor one ```json block holding one)') };
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e: unknown) {
    const why = e instanceof Error ? cleanModelText(e.message, 120) : 'unparsable';
    return { ok: false, error: new AdviceError('MalformedAnswer', `the answer is not valid JSON: ${why}`, { cause: e }) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: new AdviceError('MalformedAnswer', 'the answer is not a JSON object') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The answer field an ajv error is about, as a slash path (`target/name`, `alternatives/0/whyNot`). */
function fieldOf(e: ErrorObject): string {
  const base = e.instancePath.replace(/^\//, '');
  const p = e.params as Record<string, unknown>;
  const join = (k: unknown): string => (base === '' ? String(k) : `${base}/${String(k)}`);
  if (e.keyword === 'additionalProperties') return join(p['additionalProperty']);
  if (e.keyword === 'required') return join(p['missingProperty']);
  return base === '' ? '(answer)' : base;
}

function describeViolation(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return 'is not a field of the answer';
  if (e.keyword === 'required') return 'is missing';
  return e.message ?? e.keyword;
}

const sameRef = (a: Pick<TargetRef, 'kind' | 'namespace' | 'name'>, b: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): boolean =>
  a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

/** The seed's priority table for an action the built-in analyzer did not pick. */
function priorityOf(action: AllowedAction, builtin: Recommendation | undefined): number {
  if (builtin?.kind === 'action' && builtin.action.name === action.name) return builtin.priority;
  switch (action.type) {
    case 'scale':
      return RECOMMENDATION_PRIORITY.predictiveScale;
    case 'patch':
      return RECOMMENDATION_PRIORITY.configPatch;
    case 'restart':
    case 'delete':
    case 'rollback':
      return RECOMMENDATION_PRIORITY.healing;
  }
}

/**
 * Parses and checks a raw answer. Returns the recommendation (rule `llm`, reasoning led by a line naming
 * `ctx.origin`, model strings cleaned) or the first failure: MalformedAnswer, SchemaViolation (with `field`),
 * ActionNotAllowed (`action` or `alternatives/<i>/action`), TargetNotAllowed (`target`). An empty
 * `ctx.allowedTargets` allows no target. Never throws.
 */
export function parseAnswer(raw: string, ctx: AnswerContext): AnswerResult {
  const extracted = extractAnswerJson(raw);
  if (!extracted.ok) return fail(extracted.error);
  const value = extracted.value;
  if (!validateAnswer(value)) {
    const e = validateAnswer.errors?.[0];
    const field = e === undefined ? '(answer)' : fieldOf(e);
    const why = e === undefined ? 'does not match the schema' : describeViolation(e);
    return fail(new AdviceError('SchemaViolation', `answer field ${cleanModelText(field, 80)} ${why}`, { field: cleanModelText(field, 80) }));
  }
  const answer: Answer = value;
  const allowedNames = ctx.allowedActions.map((a) => a.name).join(', ') || '(none)';
  const chosen = answer.action === NO_ACTION ? undefined : ctx.allowedActions.find((a) => a.name === answer.action);
  if (answer.action !== NO_ACTION && chosen === undefined) {
    return fail(new AdviceError('ActionNotAllowed', `the answer chose action "${cleanModelText(answer.action, 63)}", which the policy does not allow here (allowed: ${allowedNames}, or none)`, { field: 'action' }));
  }
  const target = ctx.allowedTargets.find((t) => sameRef(t, answer.target));
  if (target === undefined) {
    const named = `${answer.target.kind}/${answer.target.namespace}/${answer.target.name}`;
    return fail(new AdviceError('TargetNotAllowed', `the answer named target ${cleanModelText(named, 200)}, which is not among the allowed targets`, { field: 'target' }));
  }
  const alternatives: Alternative[] = [];
  for (const [i, alt] of (answer.alternatives ?? []).entries()) {
    if (alt.action === NO_ACTION) continue; // "do nothing" is not an action the analyzer's Alternative can name
    const action = ctx.allowedActions.find((a) => a.name === alt.action);
    if (action === undefined) {
      return fail(
        new AdviceError('ActionNotAllowed', `alternative ${i} names action "${cleanModelText(alt.action, 63)}", which the policy does not allow here (allowed: ${allowedNames})`, {
          field: `alternatives/${i}/action`,
        }),
      );
    }
    alternatives.push({ action, confidence: alt.confidence, whyNot: cleanModelText(alt.whyNot, ANSWER_LIMITS.sentence) });
  }
  const reasoning = [
    `decided by the LLM (${cleanModelText(ctx.origin, 120)}); its confidence is its own estimate, not calibrated`,
    ...answer.reasoning.map((r) => cleanModelText(r, ANSWER_LIMITS.sentence)).filter((r) => r !== ''),
  ];
  if (chosen === undefined) {
    return { ok: true, answer, recommendation: { kind: 'none', rule: LLM_RULE, target, reasoning, alternatives } };
  }
  const builtin = ctx.builtin;
  const replicas = builtin?.kind === 'action' && builtin.action.name === chosen.name ? builtin.replicas : undefined;
  return {
    ok: true,
    answer,
    recommendation: {
      kind: 'action',
      rule: LLM_RULE,
      action: chosen,
      target,
      priority: priorityOf(chosen, builtin),
      confidence: answer.confidence,
      ...(replicas === undefined ? {} : { replicas }),
      reasoning,
      alternatives,
    },
  };
}
