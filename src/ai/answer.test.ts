import { describe, expect, it } from 'vitest';
import { adviceRequest, answerJson, BUILTIN, DEPLOYMENT, POD } from '../../test/support/advice.js';
import { RECOMMENDATION_PRIORITY } from '../analysis/recommend.js';
import { ANSWER_LIMITS, extractAnswerJson, LLM_RULE, parseAnswer, type AnswerContext, type AnswerResult } from './answer.js';
import type { AdviceErrorCode } from './errors.js';

const request = adviceRequest();
const ctx: AnswerContext = { allowedActions: request.allowedActions, allowedTargets: [POD, DEPLOYMENT], builtin: BUILTIN, origin: 'openai test-model' };

function failure(result: AnswerResult): { code: AdviceErrorCode; field: string | undefined; message: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.recommendation)}`);
  return { code: result.error.code, field: result.error.field, message: result.error.message };
}

describe('parseAnswer', () => {
  it('turns a valid answer into an analyzer-shaped recommendation with rule llm, the full target and the built-in priority', () => {
    const r = parseAnswer(answerJson(), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.recommendation).toEqual({
      kind: 'action',
      rule: LLM_RULE,
      action: { name: 'restart-pod', type: 'restart', priority: 10 },
      target: POD,
      priority: BUILTIN.kind === 'action' ? BUILTIN.priority : -1,
      confidence: 0.8,
      reasoning: [
        'decided by the LLM (openai test-model); its confidence is its own estimate, not calibrated',
        'memory rises linearly and reaches the limit in about 18 minutes',
        'a restart resets the leak before the OOM kill',
      ],
      alternatives: [{ action: { name: 'raise-memory', type: 'patch', priority: 15 }, confidence: 0.3, whyNot: 'only delays the leak' }],
    });
  });

  it('accepts the workload as target when it is allowed, and prices an action the analyzer did not pick by the seed table', () => {
    const r = parseAnswer(answerJson({ action: 'scale-out', target: { kind: 'Deployment', namespace: 'shop', name: 'web' } }), ctx);
    expect(r.ok && r.recommendation.kind === 'action' ? [r.recommendation.target, r.recommendation.priority] : r).toEqual([DEPLOYMENT, RECOMMENDATION_PRIORITY.predictiveScale]);
  });

  it('keeps the analyzer\'s replica count only when the model picks the same scale action', () => {
    const scaling = { ...ctx, builtin: { ...BUILTIN, action: { name: 'scale-out', type: 'scale' as const }, replicas: 4 } };
    const same = parseAnswer(answerJson({ action: 'scale-out' }), scaling);
    const other = parseAnswer(answerJson({ action: 'restart-pod' }), scaling);
    expect(same.ok && same.recommendation.kind === 'action' ? same.recommendation.replicas : 'x').toBe(4);
    expect(other.ok && other.recommendation.kind === 'action' ? other.recommendation.replicas : 'x').toBeUndefined();
  });

  it('reads "none" as no action, and drops "none" alternatives', () => {
    const r = parseAnswer(answerJson({ action: 'none', alternatives: [{ action: 'none', confidence: 0.2, whyNot: 'x' }, { action: 'restart-pod', confidence: 0.4, whyNot: 'not needed yet' }] }), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.recommendation.kind).toBe('none');
    expect(r.recommendation.rule).toBe(LLM_RULE);
    expect(r.recommendation.alternatives.map((a) => ('name' in a.action ? a.action.name : a.action.type))).toEqual(['restart-pod']);
  });

  it('tolerates one ```json fenced block that is the whole answer', () => {
    expect(parseAnswer(`\`\`\`json\n${answerJson()}\n\`\`\``, ctx).ok).toBe(true);
    expect(parseAnswer(`  \`\`\`\n${answerJson()}\n\`\`\`\n`, ctx).ok).toBe(true);
  });

  it.each([
    ['free text', 'SAFE to restart the pod'],
    ['the word UNSAFE', 'UNSAFE'],
    ['prose around a fenced block', `Here is my answer:\n\`\`\`json\n${answerJson()}\n\`\`\``],
    ['JSON followed by prose', `${answerJson()} I hope this helps`],
    ['truncated JSON', answerJson().slice(0, 40)],
    ['a JSON array', `[${answerJson()}]`],
    ['a JSON string', JSON.stringify(answerJson())],
    ['nothing', '   '],
    ['an oversized answer', `{"action": "restart-pod", "pad": "${'x'.repeat(ANSWER_LIMITS.rawChars)}"}`],
  ])('rejects %s as MalformedAnswer', (_name, raw) => {
    expect(failure(parseAnswer(raw, ctx)).code).toBe('MalformedAnswer');
  });

  it.each([
    ['an extra field', { note: 'trust me' }, 'note'],
    ['an extra field in the target', { target: { kind: 'Pod', namespace: 'shop', name: POD.name, uid: 'u' } }, 'target/uid'],
    ['a confidence above 1', { confidence: 1.5 }, 'confidence'],
    ['a confidence as a string', { confidence: '0.9' }, 'confidence'],
    ['a missing reasoning', { reasoning: undefined }, 'reasoning'],
    ['an empty reasoning', { reasoning: [] }, 'reasoning'],
    ['too many reasoning lines', { reasoning: Array.from({ length: ANSWER_LIMITS.reasoningLines + 1 }, () => 'why') }, 'reasoning'],
    ['an overlong reasoning line', { reasoning: ['x'.repeat(ANSWER_LIMITS.sentence + 1)] }, 'reasoning/0'],
    ['an alternative without whyNot', { alternatives: [{ action: 'raise-memory', confidence: 0.3 }] }, 'alternatives/0/whyNot'],
    ['an action that is not a string', { action: 3 }, 'action'],
  ])('rejects %s as SchemaViolation naming the field', (_name, overrides, field) => {
    const f = failure(parseAnswer(answerJson(overrides), ctx));
    expect(f.code).toBe('SchemaViolation');
    expect(f.field).toBe(field);
    expect(f.message).toContain(field);
  });

  it.each([
    ['an action the policy does not have', { action: 'delete-namespace' }, 'action'],
    ['an action name that only contains an allowed one', { action: 'restart-pod-UNSAFE' }, 'action'],
    ['an action in other case', { action: 'Restart-Pod' }, 'action'],
    ['an action type instead of a name', { action: 'restart' }, 'action'],
    ['an alternative the policy does not have', { alternatives: [{ action: 'rollback', confidence: 0.1, whyNot: 'no rollout' }] }, 'alternatives/0/action'],
  ])('rejects %s as ActionNotAllowed', (_name, overrides, field) => {
    const f = failure(parseAnswer(answerJson(overrides), ctx));
    expect(f).toMatchObject({ code: 'ActionNotAllowed', field });
  });

  it.each([
    ['a pod outside the selection', { kind: 'Pod', namespace: 'shop', name: 'payments-0' }],
    ['the right name in another namespace', { kind: 'Pod', namespace: 'kube-system', name: POD.name }],
    ['the right name as another kind', { kind: 'StatefulSet', namespace: 'shop', name: 'web' }],
    ['a Secret', { kind: 'Secret', namespace: 'shop', name: 'db-credentials' }],
  ])('rejects %s as TargetNotAllowed', (_name, target) => {
    expect(failure(parseAnswer(answerJson({ target }), ctx))).toMatchObject({ code: 'TargetNotAllowed', field: 'target' });
  });

  it('allows no target at all when the allow-list is empty', () => {
    expect(failure(parseAnswer(answerJson(), { ...ctx, allowedTargets: [] })).code).toBe('TargetNotAllowed');
  });

  it('cleans what the model wrote before it is stored: no control or invisible characters', () => {
    const r = parseAnswer(answerJson({ reasoning: ['line\u0000one\u202e\nstill one'] }), ctx);
    expect(r.ok ? r.recommendation.reasoning[1] : r).toBe('line one still one');
  });

  it('never throws, whatever the text', () => {
    for (const raw of ['{', '{"__proto__": {"x": 1}}', '{"action": null}', '\u0000', '```json\n```', `{"a":${'['.repeat(10_000)}`]) {
      expect(parseAnswer(raw, ctx).ok).toBe(false);
    }
  });
});

describe('extractAnswerJson', () => {
  it('returns the object of a bare or fenced answer', () => {
    expect(extractAnswerJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(extractAnswerJson('```JSON\n{"a": 1}\n```')).toEqual({ ok: true, value: { a: 1 } });
  });
});
