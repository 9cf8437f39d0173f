/**
 * Correlation → recommendation: from a target's assessments, events, conditions, rollout and dependencies, which of
 * the policy's allowed actions to take (or none), how urgent, how sure, why, and what else was considered. Pure:
 * plain data in, plain data out, `now` injected; no clock, no I/O.
 *
 * The rules are an ordered list (the first that applies decides; a later one cannot override a block), each a
 * small function from the facts to candidate actions with a prior confidence. The priors are judgement, not
 * measurement — only the assessments' probabilities are calibrated — so each is stated with its reason, and the
 * outcome history of this workload (learning.ts) moves them: an action that keeps failing or recurring here loses
 * confidence and can drop behind its alternatives (restart → patch, the escalation order learned per workload).
 */
import type { ActionType } from '../api/v1alpha1/common.js';
import type { ConditionState, EventOccurrence, TargetRef } from '../metrics/types.js';
import { formatNumber, formatSeconds } from './format.js';
import { adjustForOutcomes, type OutcomeRecord } from './learning.js';
import type { Assessment, Pattern } from './types.js';

/**
 * The seed's priority table (lower runs first), which places a recommendation among everything the operator
 * might do. A policy's own action priorities order that policy's actions; this is the global urgency.
 */
export const RECOMMENDATION_PRIORITY = {
  emergencyDelete: 1,
  optimisationDelete: 5,
  predictiveScale: 8,
  healing: 10,
  configPatch: 15,
} as const;

/** An action the policy allows (its `actions[]`: name, type and the policy's own priority). */
export interface AllowedAction {
  readonly name: string;
  readonly type: ActionType;
  /** The policy's priority for this action (lower first; default 10). */
  readonly priority?: number;
}

/** The owning workload of the target. */
export interface OwnerInfo {
  readonly kind: string;
  readonly name: string;
  /** Current replicas, when the owner scales. */
  readonly replicas?: number;
  /** Replicas before any scale-up by the operator (the level to scale back to). */
  readonly baselineReplicas?: number;
}

/** The owner's latest rollout, as far as the ReplicaSets tell. */
export interface RolloutInfo {
  /** When the newest ReplicaSet was created (ms). */
  readonly newestReplicaSetCreatedAt: number;
  /** Its revision (deployment.kubernetes.io/revision). */
  readonly revision: number;
}

/** Everything the recommendation looks at, for one target. */
export interface RecommendationInput {
  readonly target: TargetRef;
  readonly now: number;
  readonly memory?: Assessment;
  readonly cpu?: Assessment;
  /** Recent events involving the target (OOMKilled / OOMKilling, BackOff, Unhealthy …), any order. */
  readonly events: readonly EventOccurrence[];
  /** Conditions and container-state pseudo-conditions (CrashLoopBackOff, OOMKilled, Ready …), as collected. */
  readonly conditions: ReadonlyMap<string, ConditionState>;
  readonly owner?: OwnerInfo;
  readonly rollout?: RolloutInfo;
  /** Names of dependencies that are failing now (empty or absent: none known to fail). */
  readonly failingDependencies?: readonly string[];
  /** The policy's actions; the recommendation only ever names one of these. */
  readonly allowedActions: readonly AllowedAction[];
  /** Outcomes of earlier actions on this workload (see learning.ts). */
  readonly history?: readonly OutcomeRecord[];
  /**
   * The policy trigger that fired, if any: outcome records are matched on it. Absent, they are matched on the rule
   * that decided (`oom-leak`, `crashloop-after-rollout` …).
   */
  readonly trigger?: string;
}

/** Rules, in the order they are tried. */
export const RULES = [
  'dependency-failing',
  'crashloop-after-rollout',
  'oom-leak',
  'oom-limit-too-low',
  'memory-forecast',
  'cpu-peaks-rising',
  'cpu-peak-passed',
  'crashloop',
  'probe-failures',
] as const;
/** A rule's id. */
export type RuleId = (typeof RULES)[number];

/** An action considered and not chosen. */
export interface Alternative {
  readonly action: AllowedAction | { readonly type: ActionType };
  readonly confidence: number;
  readonly whyNot: string;
}

/** Take this action. */
export interface ActionRecommendation {
  readonly kind: 'action';
  readonly rule: RuleId;
  readonly action: AllowedAction;
  readonly target: TargetRef;
  /** From {@link RECOMMENDATION_PRIORITY}. */
  readonly priority: number;
  /** 0–1: the rule's prior, moved by the assessments and the outcome history. */
  readonly confidence: number;
  /** For a scale: the replica count to set. */
  readonly replicas?: number;
  readonly reasoning: readonly string[];
  readonly alternatives: readonly Alternative[];
}

/** Do nothing, and why. */
export interface NoActionRecommendation {
  readonly kind: 'none';
  /** The rule that decided against acting, when one did (a block), else undefined. */
  readonly rule?: RuleId;
  readonly target: TargetRef;
  readonly reasoning: readonly string[];
  readonly alternatives: readonly Alternative[];
}

/** The result of {@link recommend}. Discriminated by `kind`. */
export type Recommendation = ActionRecommendation | NoActionRecommendation;

// ---------------------------------------------------------------------------------------------------------------
// Facts

/** How far back events count. */
const EVENT_WINDOW_MS = 15 * 60_000;
/** A crash loop that began within this long after the newest ReplicaSet was created is blamed on the rollout. */
const ROLLOUT_WINDOW_MS = 10 * 60_000;

const LEAK_PATTERNS: readonly Pattern[] = ['linear-leak', 'sawtooth-leak', 'leak-after-change-point', 'rising-oscillation', 'saturating-growth'];
/**
 * CPU shapes whose forecast breach a scale-up answers. A stationary `oscillation` is among them: when the forecast
 * (which keeps the cycle's phase) takes its next peak over the limit, the peak is coming whether or not the mean
 * rises — the seed's "predictive scaling before peaks" of a sine-wave load.
 */
const CPU_RISING_PATTERNS: readonly Pattern[] = ['oscillation', 'rising-oscillation', 'linear-leak', 'leak-after-change-point', 'saturating-growth'];

interface Facts {
  readonly input: RecommendationInput;
  /** OOM kills seen in the window (events), and whether the container's last termination was one. */
  readonly oomKills: number;
  readonly oomKilled: boolean;
  readonly crashLoopSince?: number;
  readonly probeFailures: number;
  readonly notReady: boolean;
  readonly failing: readonly string[];
  readonly memoryRising: boolean;
}

function countEvents(events: readonly EventOccurrence[], now: number, re: RegExp): number {
  return events.filter((e) => e.at <= now && e.at > now - EVENT_WINDOW_MS && re.test(e.reason)).reduce((n, e) => n + Math.max(1, e.count), 0);
}

function firstEvent(events: readonly EventOccurrence[], now: number, re: RegExp): number | undefined {
  const times = events.filter((e) => e.at <= now && e.at > now - EVENT_WINDOW_MS && re.test(e.reason)).map((e) => e.at);
  return times.length === 0 ? undefined : Math.min(...times);
}

function isTrue(conditions: ReadonlyMap<string, ConditionState>, type: string): ConditionState | undefined {
  const c = conditions.get(type);
  return c?.status === 'True' ? c : undefined;
}

function gatherFacts(input: RecommendationInput): Facts {
  const { events, now, conditions } = input;
  const oomCondition = isTrue(conditions, 'OOMKilled');
  const crash = isTrue(conditions, 'CrashLoopBackOff');
  const backOffSince = firstEvent(events, now, /^BackOff$/);
  const crashLoopSince = crash !== undefined ? Math.min(crash.since, backOffSince ?? crash.since) : countEvents(events, now, /^BackOff$/) >= 2 ? backOffSince : undefined;
  const ready = conditions.get('Ready');
  const mem = input.memory;
  return {
    input,
    oomKills: countEvents(events, now, /^OOMKill(ed|ing)$/),
    oomKilled: oomCondition !== undefined,
    ...(crashLoopSince === undefined ? {} : { crashLoopSince }),
    probeFailures: countEvents(events, now, /^Unhealthy$/),
    notReady: ready?.status === 'False',
    failing: input.failingDependencies ?? [],
    memoryRising: mem !== undefined && (mem.willBreach || (LEAK_PATTERNS.includes(mem.pattern) && mem.forecast.slopePerSecond > 0)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rules

/** A candidate action of a rule, before the policy and the history are applied. */
interface Candidate {
  readonly type: ActionType;
  readonly confidence: number;
  readonly priority: number;
  /** Why it would be right (used when it is chosen). */
  readonly why: string;
  /** Why it is not first (used when it is an alternative). */
  readonly whyNot: string;
  readonly replicas?: number;
  /**
   * This candidate is the escalation of that action type: when the action keeps recurring on this workload (at
   * least three recurrences, half its successes or more), the escalation takes its place in the order.
   */
  readonly escalates?: ActionType;
}

interface Finding {
  readonly rule: RuleId;
  readonly reasoning: string[];
  /** In the rule's order of preference. Empty with `block`: do nothing. */
  readonly candidates: Candidate[];
  /** The rule decides that no action should be taken (e.g. a restart cannot fix a failing dependency). */
  readonly block?: boolean;
}

type Rule = (f: Facts) => Finding | undefined;

function percent(p: number): string {
  return `${formatNumber(100 * p)}%`;
}

function etaText(a: Assessment): string {
  return a.secondsToLimit === null ? 'no crossing forecast' : a.secondsToLimit === 0 ? 'at the limit now' : `the limit in ${formatSeconds(a.secondsToLimit)}`;
}

const dependencyFailing: Rule = (f) => {
  if (f.failing.length === 0 || (f.probeFailures === 0 && !f.notReady)) return undefined;
  return {
    rule: 'dependency-failing',
    block: true,
    reasoning: [
      `${f.probeFailures > 0 ? `${f.probeFailures} probe failures in the last ${formatSeconds(EVENT_WINDOW_MS / 1000)}` : 'the pod is not Ready'} while ${f.failing.join(', ')} ${f.failing.length === 1 ? 'is' : 'are'} failing`,
      'a restart would not make a failing dependency answer, and it would drop the pod\'s warm state: no action until the dependency recovers',
    ],
    candidates: [
      { type: 'restart', confidence: 0.1, priority: RECOMMENDATION_PRIORITY.healing, why: '', whyNot: `the probes fail because ${f.failing.join(', ')} fails, not this pod` },
    ],
  };
};

const crashLoopAfterRollout: Rule = (f) => {
  const r = f.input.rollout;
  if (f.crashLoopSince === undefined || r === undefined) return undefined;
  const lag = f.crashLoopSince - r.newestReplicaSetCreatedAt;
  if (lag < -60_000 || lag > ROLLOUT_WINDOW_MS) return undefined;
  // The sooner after the rollout the crashes began, the more likely the new revision is the cause.
  const confidence = Math.max(0.6, 0.92 - (0.3 * Math.max(0, lag)) / ROLLOUT_WINDOW_MS);
  return {
    rule: 'crashloop-after-rollout',
    reasoning: [
      `the crash loop began ${formatSeconds(Math.max(0, lag) / 1000)} after ReplicaSet revision ${r.revision} was created: the new revision is the likely cause`,
    ],
    candidates: [
      { type: 'rollback', confidence, priority: RECOMMENDATION_PRIORITY.healing, why: `roll back to the revision before ${r.revision}`, whyNot: '' },
      { type: 'restart', confidence: 0.15, priority: RECOMMENDATION_PRIORITY.healing, why: 'restart the pod', whyNot: 'a restart runs the same revision again' },
    ],
  };
};

const oomLeak: Rule = (f) => {
  const mem = f.input.memory;
  if ((f.oomKills === 0 && !f.oomKilled) || !f.memoryRising || mem === undefined) return undefined;
  const p = mem.willBreach ? mem.breachProbability : 0.5;
  return {
    rule: 'oom-leak',
    reasoning: [
      `OOMKilled ${f.oomKills > 0 ? `${f.oomKills}× in the last ${formatSeconds(EVENT_WINDOW_MS / 1000)}` : 'on its last termination'}, and memory is rising again (${mem.pattern}, ${etaText(mem)}, probability ${percent(mem.breachProbability)}): a leak`,
    ],
    candidates: [
      {
        type: 'restart',
        confidence: 0.6 + 0.3 * p,
        priority: RECOMMENDATION_PRIORITY.healing,
        why: 'a restart gives the leak its whole limit again, before the next OOM kill',
        whyNot: '',
      },
      {
        type: 'patch',
        confidence: 0.45,
        priority: RECOMMENDATION_PRIORITY.configPatch,
        why: 'raise the memory limit to space the OOM kills out',
        whyNot: 'a higher limit only delays a leak; the escalation if restarts keep recurring',
        escalates: 'restart',
      },
      { type: 'rollback', confidence: 0.25, priority: RECOMMENDATION_PRIORITY.healing, why: 'return to a revision without the leak', whyNot: 'no recent rollout to blame' },
    ],
  };
};

const oomLimitTooLow: Rule = (f) => {
  if (f.oomKills === 0 && !f.oomKilled) return undefined;
  const mem = f.input.memory;
  return {
    rule: 'oom-limit-too-low',
    reasoning: [
      `OOMKilled${f.oomKills > 0 ? ` ${f.oomKills}× in the last ${formatSeconds(EVENT_WINDOW_MS / 1000)}` : ''} without a rising trend${mem === undefined ? ' (no memory series)' : ` (${mem.pattern})`}: the working set does not fit the limit`,
    ],
    candidates: [
      { type: 'patch', confidence: 0.65, priority: RECOMMENDATION_PRIORITY.configPatch, why: 'raise the memory limit', whyNot: '' },
      { type: 'restart', confidence: 0.3, priority: RECOMMENDATION_PRIORITY.healing, why: 'restart the pod', whyNot: 'the next peak of the same size is killed again' },
    ],
  };
};

const memoryForecast: Rule = (f) => {
  const mem = f.input.memory;
  if (mem === undefined || !mem.willBreach || !f.memoryRising) return undefined;
  return {
    rule: 'memory-forecast',
    reasoning: [`memory: ${mem.reasoning[0] ?? mem.pattern}; ${etaText(mem)} (probability ${percent(mem.breachProbability)})`],
    candidates: [
      { type: 'restart', confidence: mem.breachProbability, priority: RECOMMENDATION_PRIORITY.healing, why: 'restart before the OOM kill, at a time of our choosing', whyNot: '' },
      {
        type: 'patch',
        confidence: 0.4 * mem.breachProbability,
        priority: RECOMMENDATION_PRIORITY.configPatch,
        why: 'raise the memory limit',
        whyNot: 'a higher limit only delays a leak',
      },
    ],
  };
};

const cpuPeaksRising: Rule = (f) => {
  const cpu = f.input.cpu;
  if (cpu === undefined || !cpu.willBreach || !CPU_RISING_PATTERNS.includes(cpu.pattern)) return undefined;
  const replicas = f.input.owner?.replicas;
  const lead = cpu.interval?.low ?? cpu.secondsToLimit;
  return {
    rule: 'cpu-peaks-rising',
    reasoning: [
      `CPU: ${cpu.reasoning[0] ?? cpu.pattern}; ${etaText(cpu)} (probability ${percent(cpu.breachProbability)})`,
      `scale up now, ${lead === null ? 'before the peak' : `at least ${formatSeconds(lead)} before the earliest forecast crossing`}: new pods need time to start and warm up`,
    ],
    candidates: [
      {
        type: 'scale',
        confidence: cpu.breachProbability,
        priority: RECOMMENDATION_PRIORITY.predictiveScale,
        why: 'add capacity before the peak',
        whyNot: '',
        ...(replicas === undefined ? {} : { replicas: replicas + 1 }),
      },
      { type: 'restart', confidence: 0.1, priority: RECOMMENDATION_PRIORITY.healing, why: 'restart the pod', whyNot: 'load does not go away with a restart' },
    ],
  };
};

const cpuPeakPassed: Rule = (f) => {
  const cpu = f.input.cpu;
  const owner = f.input.owner;
  if (cpu === undefined || owner?.replicas === undefined || owner.baselineReplicas === undefined || owner.replicas <= owner.baselineReplicas) return undefined;
  if (cpu.willBreach || cpu.forecast.points.length === 0) return undefined;
  // The peak has passed when the forecast over the horizon is not rising and unlikely to reach the limit.
  if (cpu.forecast.slopePerSecond > 0 || cpu.breachProbability > 0.1) return undefined;
  const highest = Math.max(...cpu.forecast.points.map((p) => p.value), cpu.forecast.envelope?.peakAtNow ?? -Infinity);
  return {
    rule: 'cpu-peak-passed',
    reasoning: [
      `CPU's forecast over the horizon peaks at ${formatNumber(highest)} (${cpu.pattern}, probability of reaching the limit ${percent(cpu.breachProbability)}) with ${owner.replicas} replicas, above the baseline of ${owner.baselineReplicas}`,
    ],
    candidates: [
      {
        type: 'scale',
        confidence: 0.7 * (1 - cpu.breachProbability),
        // Nothing breaks if the scale-back waits: the lowest urgency of the table.
        priority: RECOMMENDATION_PRIORITY.configPatch,
        why: `scale back to ${owner.baselineReplicas} replicas: the peak has passed`,
        whyNot: '',
        replicas: owner.baselineReplicas,
      },
    ],
  };
};

const crashLoop: Rule = (f) => {
  if (f.crashLoopSince === undefined) return undefined;
  const r = f.input.rollout;
  return {
    rule: 'crashloop',
    reasoning: [
      `crash-looping for ${formatSeconds((f.input.now - f.crashLoopSince) / 1000)}${r === undefined ? '' : `, which began long after revision ${r.revision} rolled out`}`,
    ],
    candidates: [
      { type: 'restart', confidence: 0.4, priority: RECOMMENDATION_PRIORITY.healing, why: 'a fresh pod clears state a crash loop may be stuck on', whyNot: '' },
      { type: 'rollback', confidence: 0.25, priority: RECOMMENDATION_PRIORITY.healing, why: 'return to the previous revision', whyNot: 'the crashes do not follow a rollout' },
      { type: 'delete', confidence: 0.2, priority: RECOMMENDATION_PRIORITY.emergencyDelete, why: 'delete the pod so it is rescheduled elsewhere', whyNot: 'nothing points at the node' },
    ],
  };
};

const probeFailures: Rule = (f) => {
  if (f.probeFailures < 3) return undefined;
  return {
    rule: 'probe-failures',
    reasoning: [`${f.probeFailures} probe failures in the last ${formatSeconds(EVENT_WINDOW_MS / 1000)}, and no dependency is known to fail`],
    candidates: [{ type: 'restart', confidence: 0.6, priority: RECOMMENDATION_PRIORITY.healing, why: 'restart the unresponsive pod', whyNot: '' }],
  };
};

const RULE_FUNCTIONS: Readonly<Record<RuleId, Rule>> = {
  'dependency-failing': dependencyFailing,
  'crashloop-after-rollout': crashLoopAfterRollout,
  'oom-leak': oomLeak,
  'oom-limit-too-low': oomLimitTooLow,
  'memory-forecast': memoryForecast,
  'cpu-peaks-rising': cpuPeaksRising,
  'cpu-peak-passed': cpuPeakPassed,
  crashloop: crashLoop,
  'probe-failures': probeFailures,
};

// ---------------------------------------------------------------------------------------------------------------
// Decision

/** The allowed action of a type that the policy would run first (lowest policy priority, then name). */
function allowedOfType(allowed: readonly AllowedAction[], type: ActionType): AllowedAction | undefined {
  return [...allowed].filter((a) => a.type === type).sort((a, b) => (a.priority ?? 10) - (b.priority ?? 10) || a.name.localeCompare(b.name))[0];
}

/**
 * Recommends one of `input.allowedActions` for the target, or no action with the reasons. The first rule of
 * {@link RULES} that applies decides; its candidates are re-weighted by the outcome history and the best one the
 * policy allows is chosen; the others (allowed or not) become the alternatives with why they were not chosen.
 * Never throws.
 */
export function recommend(input: RecommendationInput): Recommendation {
  const facts = gatherFacts(input);
  for (const id of RULES) {
    const finding = RULE_FUNCTIONS[id](facts);
    if (finding === undefined) continue;
    return decide(input, finding);
  }
  const reasons: string[] = ['no rule applies: no OOM kill, crash loop, probe failures or forecast breach'];
  if (input.memory !== undefined) reasons.push(`memory: ${input.memory.pattern}, probability of reaching the limit ${percent(input.memory.breachProbability)}`);
  if (input.cpu !== undefined) reasons.push(`CPU: ${input.cpu.pattern}, probability of reaching the limit ${percent(input.cpu.breachProbability)}`);
  return { kind: 'none', target: input.target, reasoning: reasons, alternatives: [] };
}

function decide(input: RecommendationInput, finding: Finding): Recommendation {
  const trigger = input.trigger ?? finding.rule;
  const history = input.history ?? [];
  const learnedAll = finding.candidates.map((c) => {
    const allowed = allowedOfType(input.allowedActions, c.type);
    const learned = adjustForOutcomes(c.confidence, history, trigger, allowed?.name ?? c.type);
    return { c, allowed, confidence: learned.confidence, note: learned.note };
  });
  const adjusted = learnedAll.map((x) => {
    if (x.c.escalates === undefined) return x;
    const from = learnedAll.find((y) => y.c.type === x.c.escalates);
    const record = history.find((r) => r.trigger === trigger && r.action === (from?.allowed?.name ?? x.c.escalates));
    if (from === undefined || record === undefined || record.recurrences < 3 || record.recurrences < 0.5 * record.successes) return x;
    // The problem is confirmed to come back after the mitigation: the escalation inherits the rule's trust in it.
    const confidence = Math.max(x.confidence, from.c.confidence);
    return { ...x, confidence, note: `escalated: ${record.action} recurred ${record.recurrences} times after ${record.successes} successes on this workload` };
  });
  const reasoning = [...finding.reasoning];
  if (finding.block === true) {
    return {
      kind: 'none',
      rule: finding.rule,
      target: input.target,
      reasoning,
      alternatives: adjusted.map((x) => ({ action: x.allowed ?? { type: x.c.type }, confidence: x.confidence, whyNot: x.c.whyNot })),
    };
  }
  // The rule's order, unless the history moved a later candidate ahead (a stable sort keeps ties in rule order).
  const order = adjusted.map((x, i) => ({ ...x, i })).sort((a, b) => b.confidence - a.confidence || a.i - b.i);
  const chosen = order.find((x) => x.allowed !== undefined);
  if (chosen?.allowed === undefined) {
    return {
      kind: 'none',
      rule: finding.rule,
      target: input.target,
      reasoning: [...reasoning, `the policy allows none of ${[...new Set(finding.candidates.map((c) => c.type))].join(', ')}`],
      alternatives: order.map((x) => ({ action: { type: x.c.type }, confidence: x.confidence, whyNot: `not among the policy's actions (${x.c.why})` })),
    };
  }
  const firstChoice = order[0];
  if (firstChoice !== undefined && firstChoice !== chosen) {
    reasoning.push(`${firstChoice.c.type} would come first, but the policy does not allow it`);
  }
  if (chosen.i !== 0) {
    const preferred = adjusted[0];
    if (preferred !== undefined && preferred.allowed !== undefined && preferred.note !== undefined) reasoning.push(`${preferred.c.type} moved back: ${preferred.note}`);
  }
  reasoning.push(`${chosen.allowed.name} (${chosen.c.type}): ${chosen.c.why}`);
  if (chosen.note !== undefined) reasoning.push(chosen.note);
  const alternatives: Alternative[] = order
    .filter((x) => x !== chosen)
    .map((x) => ({
      action: x.allowed ?? { type: x.c.type },
      confidence: x.confidence,
      whyNot: x.allowed === undefined ? `not among the policy's actions (${x.c.whyNot || x.c.why})` : x.i < chosen.i ? (x.note ?? x.c.whyNot) : x.c.whyNot || 'ranked lower',
    }));
  return {
    kind: 'action',
    rule: finding.rule,
    action: chosen.allowed,
    target: input.target,
    priority: chosen.c.priority,
    confidence: chosen.confidence,
    ...(chosen.c.replicas === undefined ? {} : { replicas: chosen.c.replicas }),
    reasoning,
    alternatives,
  };
}
