/**
 * The gate's per-rule verdicts in the compact form a HealingAction records (status.safety), so that `kubeskippy
 * explain` can show each check long after the cluster has changed. Pure.
 */
import type { SafetyCheck } from '../api/v1alpha1/healing-action.js';
import { explainSafety } from './rules.js';
import type { RuleResult, SafetyInput } from './types.js';

/** The longest message kept per rule (the API field's limit). */
const MAX_MESSAGE = 1024;

function cap(s: string): string {
  return s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 1)}…`;
}

/** One rule's result as a recorded verdict: null → pass, a pass with notes → note, a denial → deny. */
export function toSafetyCheck(rule: string, result: RuleResult): SafetyCheck {
  if (result === null) return { rule, verdict: 'pass' };
  if (!result.allowed) return { rule, verdict: 'deny', message: cap(result.message) };
  return result.notes.length === 0 ? { rule, verdict: 'pass' } : { rule, verdict: 'note', message: cap(result.notes.join('; ')) };
}

/**
 * Every rule's verdict for `input`, in evaluation order ({@link explainSafety}: rules after the first denial are
 * evaluated too). Never throws.
 */
export function safetyChecks(input: SafetyInput): SafetyCheck[] {
  return explainSafety(input).map(({ rule, result }) => toSafetyCheck(rule, result));
}
