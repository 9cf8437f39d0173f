/**
 * What an LLM is asked about one AI-decided firing: the AdviceRequest, and the pure helper that summarises a
 * target's observations into it. The request holds summaries only — numbers, states, capped reasons — never raw
 * samples, annotations, labels, pod specs, environment values or anything read from a Secret: what is not in this
 * type cannot reach a prompt (prompt.ts picks its fields one by one and never spreads an object).
 */
import type { AllowedAction, Recommendation } from '../analysis/recommend.js';
import type { Assessment, Pattern } from '../analysis/types.js';
import type { ConditionState, EventOccurrence, TargetRef } from '../metrics/types.js';

/** The policy that fired. */
export interface AdvicePolicyRef {
  readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
  /** The policy's namespace; '' or absent for a ClusterHealingPolicy. */
  readonly namespace?: string;
  readonly name: string;
}

/** The trigger firing being decided. */
export interface AdviceFiring {
  /** The trigger's name in the policy. */
  readonly name: string;
  /** metric | event | condition | predictive. */
  readonly type: string;
  /** The evaluator's one-sentence reason ("memory_usage_percent 91% > 85% for 3m10s"). */
  readonly reason: string;
  /**
   * The observations that made it fire (TriggerFiring.values). The prompt keeps at most 12, capped, and never the
   * `message` key (a condition message is free text).
   */
  readonly values: Readonly<Record<string, string>>;
}

/** The few numbers of an assessment the model needs; never its samples or forecast points. */
export interface AssessmentSummary {
  readonly pattern: Pattern;
  readonly willBreach: boolean;
  /** Seconds to the median forecast crossing of the limit; null when none is forecast. */
  readonly secondsToLimit: number | null;
  /** Calibrated probability that the limit is reached within the horizon. */
  readonly breachProbability: number;
  /** Calibrated probability that `willBreach` is right. */
  readonly confidence: number;
  /** The series' level now and its slope per minute, in `unit`. */
  readonly levelNow: number;
  readonly slopePerMinute: number;
  /** Unit of levelNow and slopePerMinute ("%" = percent of the container's limit). */
  readonly unit: string;
}

/** Occurrences of one Event reason on the target within the summary window. */
export interface EventSummary {
  readonly reason: string;
  /** Normal | Warning. */
  readonly type: string;
  readonly count: number;
  /** Seconds since the latest occurrence. */
  readonly lastSeenSecondsAgo: number;
  /** The latest occurrence's message (the prompt redacts and caps it). */
  readonly message?: string;
}

/** One condition or container-state pseudo-condition (Ready, CrashLoopBackOff, OOMKilled …). */
export interface ConditionSummary {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  /** Seconds in this status. */
  readonly forSeconds: number;
  /** The condition's CamelCase reason; its free-text message is never carried. */
  readonly reason?: string;
}

/** Everything an LLM is told about one AI-decided firing. Plain data. */
export interface AdviceRequest {
  readonly policy: AdvicePolicyRef;
  /** The target that breached. */
  readonly target: TargetRef;
  readonly trigger: AdviceFiring;
  /** The built-in analyzer's recommendation: what the model is asked to confirm or correct, and the fallback. */
  readonly builtin: Recommendation;
  readonly assessments: { readonly memory?: AssessmentSummary; readonly cpu?: AssessmentSummary };
  readonly events: readonly EventSummary[];
  readonly conditions: readonly ConditionSummary[];
  /** The policy's actions applicable to the target; the answer may only name one of these (or none). */
  readonly allowedActions: readonly AllowedAction[];
  /**
   * Targets the answer may name, all inside the policy's selection (the target, and its workload when an action
   * may act on it). Empty means the target alone.
   */
  readonly allowedTargets: readonly TargetRef[];
}

/** How far back summarised events reach by default (the analyzer's own event window). */
export const ADVICE_EVENT_WINDOW_MS = 15 * 60_000;

/** Inputs of {@link summarizeObservations}. */
export interface SummaryInput {
  readonly now: number;
  readonly events: readonly EventOccurrence[];
  readonly conditions: ReadonlyMap<string, ConditionState>;
  readonly memory?: Assessment;
  readonly cpu?: Assessment;
  /** Unit of the memory and CPU series assessed; default "%" (percent of limit, as the analyzer's AI metrics). */
  readonly memoryUnit?: string;
  readonly cpuUnit?: string;
  /** Events older than this (ms before now) are left out; default {@link ADVICE_EVENT_WINDOW_MS}. */
  readonly windowMs?: number;
}

/** The number rounded to `digits` decimals (summaries carry no false precision, and stay deterministic). */
function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The numbers of an assessment a prompt carries. */
export function summarizeAssessment(a: Assessment, unit = '%'): AssessmentSummary {
  return {
    pattern: a.pattern,
    willBreach: a.willBreach,
    secondsToLimit: a.secondsToLimit === null ? null : Math.round(a.secondsToLimit),
    breachProbability: round(a.breachProbability, 2),
    confidence: round(a.confidence, 2),
    levelNow: round(a.forecast.levelAtNow, 1),
    slopePerMinute: round(a.forecast.slopePerSecond * 60, 3),
    unit,
  };
}

/**
 * The events, conditions and assessments of one target as an AdviceRequest carries them: events in the window
 * grouped by reason and type (counts summed, the latest message kept), conditions with how long they have held.
 * Pure; never throws. Ordering is left to the prompt builder.
 */
export function summarizeObservations(input: SummaryInput): Pick<AdviceRequest, 'events' | 'conditions' | 'assessments'> {
  const windowMs = input.windowMs ?? ADVICE_EVENT_WINDOW_MS;
  const groups = new Map<string, { reason: string; type: string; count: number; last: number; message?: string }>();
  for (const e of input.events) {
    if (e.at > input.now || e.at <= input.now - windowMs) continue;
    const key = `${e.type}\u0000${e.reason}`;
    const g = groups.get(key) ?? { reason: e.reason, type: e.type, count: 0, last: -Infinity };
    g.count += Math.max(1, e.count);
    if (e.at >= g.last) {
      g.last = e.at;
      if (e.message !== undefined) g.message = e.message;
    }
    groups.set(key, g);
  }
  const events: EventSummary[] = [...groups.values()].map((g) => ({
    reason: g.reason,
    type: g.type,
    count: g.count,
    lastSeenSecondsAgo: Math.round((input.now - g.last) / 1000),
    ...(g.message === undefined ? {} : { message: g.message }),
  }));
  const conditions: ConditionSummary[] = [...input.conditions.entries()].map(([type, c]) => ({
    type,
    status: c.status,
    forSeconds: Math.max(0, Math.round((input.now - c.since) / 1000)),
    ...(c.reason === undefined ? {} : { reason: c.reason }),
  }));
  return {
    events,
    conditions,
    assessments: {
      ...(input.memory === undefined ? {} : { memory: summarizeAssessment(input.memory, input.memoryUnit) }),
      ...(input.cpu === undefined ? {} : { cpu: summarizeAssessment(input.cpu, input.cpuUnit) }),
    },
  };
}
