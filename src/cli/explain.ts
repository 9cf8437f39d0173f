/**
 * `kubeskippy explain NAME -n NS`: the whole decision behind one HealingAction, from the action alone (its spec is
 * the decision as made; its status the journal) plus its policy when it still exists: what fired and the values
 * seen, the policy and the rung of its escalation ladder, every safety check's verdict (status.safety), the plan or
 * the execution, the result with metrics before and after, the approval, and a timeline. The AI section (source,
 * confidence, reasoning, alternatives; learning history) has its own place at the end.
 */
import type { HealingAction, SafetyCheck } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { ladder, neverHeld } from '../controllers/healing-policy/decide.js';
import { learningWorkload, outcomesFor } from '../controllers/healing-policy/learning.js';
import { describeKubeError } from '../k8s/errors.js';
import { actionPolicyId, type PolicyId } from '../safety/types.js';
import type { CommandOutcome } from './approve.js';
import { NotFoundError } from './errors.js';
import { ageOf, formatData, formatFields, formatTable, type OutputFormat } from './output.js';

/** The reads explain makes. */
export interface ExplainApi {
  /** The action, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<HealingAction | undefined>;
  /** The policy, or undefined when it does not exist (deleted since). */
  getPolicy(id: PolicyId): Promise<AnyPolicy | undefined>;
}

/** One line of the timeline. */
export interface TimelineEntry {
  readonly at: string;
  readonly what: string;
}

/** Everything explain shows (also the -o json|yaml document). */
export interface Explanation {
  readonly action: {
    readonly namespace: string;
    readonly name: string;
    readonly phase: string;
    readonly reason?: string;
    readonly message?: string;
    readonly dryRun: boolean;
  };
  readonly policy: {
    readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
    readonly namespace?: string;
    readonly name: string;
    /** False when the policy was deleted since (or could not be read): the ladder is then unknown. */
    readonly exists: boolean;
    /** Why the policy could not be read (e.g. not allowed to read ClusterHealingPolicies). */
    readonly unreadable?: string;
    readonly mode?: string;
    /** The action names in ladder order (priority, then spec order). */
    readonly ladder?: readonly string[];
  };
  /** 0-based position on the ladder (spec.escalationLevel). */
  readonly rung: number;
  readonly target: { readonly kind: string; readonly namespace: string; readonly name: string; readonly workload?: string };
  readonly trigger?: HealingAction['spec']['trigger'];
  readonly decision: {
    readonly action: string;
    readonly type: string;
    readonly settings?: Record<string, unknown>;
    readonly approvalRequired: boolean;
    readonly timeout?: string;
  };
  readonly approval?: NonNullable<HealingAction['status']>['approval'];
  readonly safety?: {
    /** When the gate ran: the start of execution (allowed), or the completion (Blocked). */
    readonly at?: string;
    /** The first denial, which decided (absent when the action was allowed). */
    readonly decidedBy?: string;
    readonly checks: readonly SafetyCheck[];
  };
  readonly plan?: unknown;
  readonly execution?: unknown;
  readonly result?: NonNullable<HealingAction['status']>['result'];
  readonly attempts?: number;
  readonly timeline: readonly TimelineEntry[];
  /** The analysis ("AI") section: who proposed the action, and how sure it was. */
  readonly analysis: {
    readonly source: 'rule' | 'ai';
    readonly confidence?: number;
    readonly reasoning?: readonly string[];
    readonly alternatives?: NonNullable<HealingAction['spec']['alternatives']>;
    /** What the policy has learnt on this workload (status.learning): each action's outcomes for this trigger. */
    readonly learning: readonly string[];
  };
}

/** The policy's outcome records for this action's workload and trigger, one line per action. */
function learningLines(policy: AnyPolicy | undefined, action: HealingAction): string[] {
  if (policy === undefined) return ['unknown: the policy is not readable'];
  const trigger = action.spec.trigger?.name ?? '';
  const records = outcomesFor(policy.status?.learning, learningWorkload(action)).filter((o) => o.trigger === trigger);
  if (records.length === 0) return [`nothing learnt yet on ${learningWorkload(action)} for trigger ${trigger}`];
  return records.map((o) => {
    const held = o.successes - o.recurrences;
    return `${o.action}: ${o.successes} verified (${held} held, ${o.recurrences} recurred within the escalation window), ${o.failures} failed${o.lastOutcome ? `; last ${o.lastOutcome}` : ''}${neverHeld(o) ? ' — never held: the ladder starts past it here' : ''}`;
  });
}

function ts(s: string | undefined): number {
  const t = Date.parse(s ?? '');
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
}

/** The settings block of the action template (restartAction, scaleAction …), if any. */
function templateSettings(a: HealingAction): Record<string, unknown> | undefined {
  const t = a.spec.action as unknown as Record<string, unknown>;
  const key = `${a.spec.action.type}Action`;
  const v = t[key];
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}

/**
 * Builds the explanation of `action` with its policy (undefined when deleted, or unreadable with the reason in
 * `policyError`). Pure.
 */
export function explainAction(action: HealingAction, policy: AnyPolicy | undefined, policyError?: string): Explanation {
  const s = action.status;
  const id = actionPolicyId(action);
  const t = action.spec.targetResource;
  const w = action.spec.workloadRef;
  const phase = s?.phase ?? 'Pending';
  const checks = s?.safety;
  const decidedBy = checks?.find((c) => c.verdict === 'deny')?.rule;

  const timeline: { at: string; what: string }[] = [];
  const add = (at: string | undefined, what: string): void => {
    if (at !== undefined && at !== '') timeline.push({ at, what });
  };
  add(action.spec.trigger?.firedAt, `trigger ${action.spec.trigger?.name ?? ''} fired`);
  add(action.metadata.creationTimestamp, 'HealingAction created');
  add(s?.approval?.approvedAt, s?.approval?.approved === false ? `rejected by ${s.approval.approvedBy ?? '?'}` : `approved by ${s?.approval?.approvedBy ?? '?'}`);
  add(s?.startTime, phase === 'Blocked' ? 'gate ran' : 'execution started');
  // Conditions after the start: timestamps have second precision, and the stable sort keeps this order for ties
  // (a condition set in the second the execution started is read after it, as it happened).
  for (const c of s?.conditions ?? []) add(c.lastTransitionTime, `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`);
  add(s?.nextAttemptTime, 'next attempt scheduled');
  add(s?.completionTime, `finished: ${phase}${s?.reason ? ` (${s.reason})` : ''}`);
  timeline.sort((a, b) => ts(a.at) - ts(b.at));

  const settings = templateSettings(action);
  const source = action.spec.source ?? 'rule';
  return {
    action: {
      namespace: action.metadata.namespace ?? '',
      name: action.metadata.name ?? '',
      phase,
      ...(s?.reason ? { reason: s.reason } : {}),
      ...(s?.message ? { message: s.message } : {}),
      dryRun: action.spec.dryRun === true,
    },
    policy: {
      kind: id.kind,
      ...(id.kind === 'HealingPolicy' ? { namespace: id.namespace } : {}),
      name: id.name,
      exists: policy !== undefined,
      ...(policyError === undefined ? {} : { unreadable: policyError }),
      ...(policy ? { mode: policy.spec.mode ?? 'automatic', ladder: ladder(policy.spec.actions).map((x) => x.name) } : {}),
    },
    rung: action.spec.escalationLevel ?? 0,
    target: { kind: t.kind, namespace: t.namespace, name: t.name, ...(w ? { workload: `${w.kind} ${w.namespace}/${w.name}` } : {}) },
    ...(action.spec.trigger ? { trigger: action.spec.trigger } : {}),
    decision: {
      action: action.spec.action.name,
      type: action.spec.action.type,
      ...(settings ? { settings } : {}),
      approvalRequired: action.spec.approvalRequired === true,
      ...(action.spec.timeout ? { timeout: action.spec.timeout } : {}),
    },
    ...(s?.approval ? { approval: s.approval } : {}),
    ...(checks
      ? {
          safety: {
            ...(phase === 'Blocked' ? (s?.completionTime ? { at: s.completionTime } : {}) : s?.startTime ? { at: s.startTime } : {}),
            ...(decidedBy ? { decidedBy } : {}),
            checks,
          },
        }
      : {}),
    ...(s?.result?.plan !== undefined ? { plan: s.result.plan } : {}),
    ...(s?.execution !== undefined ? { execution: s.execution } : {}),
    ...(s?.result ? { result: s.result } : {}),
    ...(s?.attempts !== undefined ? { attempts: s.attempts } : {}),
    timeline,
    analysis: {
      source,
      ...(action.spec.confidence !== undefined ? { confidence: action.spec.confidence } : {}),
      ...(action.spec.reasoning ? { reasoning: action.spec.reasoning } : {}),
      ...(action.spec.alternatives ? { alternatives: action.spec.alternatives } : {}),
      learning: learningLines(policy, action),
    },
  };
}

function objectText(o: unknown): string | undefined {
  if (o === null || typeof o !== 'object') return undefined;
  const r = o as { kind?: unknown; namespace?: unknown; name?: unknown };
  return typeof r.kind === 'string' && typeof r.name === 'string' ? `${r.kind} ${typeof r.namespace === 'string' && r.namespace !== '' ? `${r.namespace}/` : ''}${r.name}` : undefined;
}

/** A JSON value as text: strings as they are, anything else as JSON. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
}

function changesText(changes: unknown): string[] {
  if (!Array.isArray(changes)) return [];
  return changes.map((c: unknown) => {
    const x = (c ?? {}) as { field?: unknown; old?: unknown; new?: unknown };
    return `${text(x.field)}: ${x.old === undefined ? '(unset)' : text(x.old)} → ${x.new === undefined ? '(removed)' : text(x.new)}`;
  });
}

function callsText(calls: unknown): string[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((c: unknown) => {
    const x = (c ?? {}) as { method?: unknown; path?: unknown; body?: unknown };
    return `${text(x.method)} ${text(x.path)}${x.body === undefined ? '' : ` ${text(x.body)}`}`;
  });
}

/** The human rendering. `now` makes the header's age. Pure. */
export function renderExplanation(e: Explanation, now: number): string[] {
  const out: string[] = [];
  const section = (title: string, lines: readonly string[]): void => {
    if (lines.length === 0) return;
    out.push('', title, ...lines);
  };
  const a = e.action;
  out.push(`HealingAction ${a.namespace}/${a.name}: ${a.phase}${a.reason ? ` (${a.reason})` : ''}${a.dryRun ? ' — dry run' : ''}`);
  if (a.message) out.push(`  ${a.message}`);

  const p = e.policy;
  const pname = `${p.kind} ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}`;
  const ladderText =
    p.ladder === undefined
      ? `rung ${e.rung + 1} (the policy's ladder is unknown)`
      : `${p.ladder.map((n, i) => `${i + 1}. ${n}`).join(' → ')}; this action: rung ${e.rung + 1}, ${e.decision.action}`;
  const state = p.exists ? `(mode ${p.mode ?? 'automatic'})` : p.unreadable === undefined ? '(deleted since)' : `(could not be read: ${p.unreadable})`;
  section('Policy', formatFields([['Policy', `${pname} ${state}`], ['Ladder', ladderText]]));
  section('Target', formatFields([['Object', `${e.target.kind} ${e.target.namespace}/${e.target.name}`], ...(e.target.workload ? [['Workload', e.target.workload] as const] : [])]));

  const tr = e.trigger;
  if (tr) {
    const values = Object.entries(tr.values ?? {}).map(([k, v]) => `${k}=${v}`);
    section(
      'What fired',
      formatFields([
        ['Trigger', `${tr.name} (${tr.type}) at ${tr.firedAt}`],
        ...(tr.observedValue !== undefined ? [['Observed', `${tr.observedValue}${tr.threshold === undefined ? '' : ` (threshold ${tr.threshold})`}`] as const] : []),
        ...(tr.reason ? [['Reason', tr.reason] as const] : []),
        ...(values.length > 0 ? [['Values', values.join(', ')] as const] : []),
      ]),
    );
  } else {
    section('What fired', ['  no trigger recorded (the action was written by hand or by the analysis layer)']);
  }

  const ap = e.approval;
  const approval = !e.decision.approvalRequired
    ? 'not required'
    : ap?.approved === true
      ? `approved by ${ap.approvedBy ?? '?'} at ${ap.approvedAt ?? '?'}`
      : ap?.approved === false
        ? ap.approvedBy
          ? `rejected by ${ap.approvedBy} at ${ap.approvedAt ?? '?'}${ap.reason ? `: ${ap.reason}` : ''}`
          : 'expired: nobody approved it in time'
        : a.phase === 'WaitingApproval' || a.phase === 'Pending'
          ? `waiting: kubeskippy approve ${a.name} -n ${a.namespace}`
          : 'required; no decision recorded';
  section(
    'Decision',
    formatFields([
      ['Action', `${e.decision.type} (${e.decision.action})${e.decision.settings ? ` ${JSON.stringify(e.decision.settings)}` : ''}`],
      ['Approval', approval],
      ['Dry run', a.dryRun ? 'yes: the change is computed, nothing is mutated' : 'no'],
      ...(e.attempts !== undefined ? [['Attempts', String(e.attempts)] as const] : []),
    ]),
  );

  if (e.safety) {
    const width = Math.max(...e.safety.checks.map((c) => c.rule.length));
    const lines = e.safety.checks.map((c) => {
      const mark = c.verdict === 'deny' ? 'DENY' : c.verdict === 'note' ? 'note' : 'pass';
      const decided = c.rule === e.safety?.decidedBy ? '   ← decided' : '';
      return `  ${mark}  ${c.rule.padEnd(width)}${c.message ? `  ${c.message}` : ''}${decided}`.trimEnd();
    });
    const verdict = e.safety.decidedBy === undefined ? 'allowed' : `blocked by ${e.safety.decidedBy} (later rules are shown as they would have answered)`;
    section(`Safety checks${e.safety.at ? ` (gate at ${e.safety.at})` : ''}: ${verdict}`, lines);
  } else if (['Pending', 'WaitingApproval', 'Approved'].includes(a.phase)) {
    section('Safety checks', ['  not run yet: the gate runs right before execution']);
  } else {
    section('Safety checks', ['  not recorded (the action was decided before the operator recorded per-rule verdicts, or never reached the gate)']);
  }

  const plan = e.plan as { mechanism?: unknown; object?: unknown; calls?: unknown; serverDryRun?: unknown; noop?: unknown } | undefined;
  if (plan !== undefined && plan !== null) {
    section(
      'Plan (dry run)',
      [
        ...formatFields([
          ['Mechanism', text(plan.mechanism ?? '?')],
          ...(objectText(plan.object) ? [['Object', objectText(plan.object) ?? ''] as const] : []),
          ['Checked by', plan.serverDryRun === true ? 'the API server (server-side dry run)' : 'the executor only'],
          ...(plan.noop === true ? [['No-op', 'nothing would change'] as const] : []),
        ]),
        ...callsText(plan.calls).map((c) => `    ${c}`),
      ],
    );
  }
  const ex = e.execution as { mechanism?: unknown; object?: unknown; message?: unknown; executedAt?: unknown } | undefined;
  if (ex !== undefined && ex !== null) {
    section(
      'Execution',
      formatFields([
        ['Mechanism', text(ex.mechanism ?? '?')],
        ...(objectText(ex.object) ? [['Object', objectText(ex.object) ?? ''] as const] : []),
        ...(typeof ex.message === 'string' ? [['Message', ex.message] as const] : []),
        ...(typeof ex.executedAt === 'number' ? [['Executed', new Date(ex.executedAt).toISOString()] as const] : []),
      ]),
    );
  }
  const r = e.result;
  if (r) {
    const before = r.metricsBefore ?? {};
    const after = r.metricsAfter ?? {};
    const metrics = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    section('Result', [
      ...formatFields([
        ['Success', r.success ? 'yes' : a.phase === 'InProgress' || a.phase === 'Verifying' ? 'not yet (verifying)' : 'no'],
        ...(r.message ? [['Message', r.message] as const] : []),
        ...(r.error ? [['Error', r.error] as const] : []),
      ]),
      ...changesText(r.changes).map((c) => `  change: ${c}`),
      ...(metrics.length > 0 ? formatTable([['METRIC', 'BEFORE', 'AFTER'], ...metrics.map((m) => [m, before[m] ?? '-', after[m] ?? '-'])]).map((l) => `  ${l}`) : []),
    ]);
  }
  section('Timeline', e.timeline.map((x) => `  ${x.at}  ${x.what}`));

  const an = e.analysis;
  // The analysis layer's own section: its fields are filled by AI-proposed actions (source ai) and stay in place,
  // saying so, for rule-made ones.
  section('Analysis (AI): source, confidence, reasoning, alternatives, learning history', [
    ...formatFields([
      ['Source', an.source === 'ai' ? 'ai: chosen by the analysis layer' : 'rule: the policy\'s escalation ladder decided'],
      ['Confidence', an.confidence !== undefined ? `${Math.round(an.confidence * 100)}%` : '-'],
    ]),
    '  Learning (this workload, this trigger):',
    ...an.learning.map((x) => `    - ${x}`),
    ...(an.reasoning && an.reasoning.length > 0 ? ['  Reasoning:', ...an.reasoning.map((x) => `    - ${x}`)] : []),
    ...(an.alternatives && an.alternatives.length > 0
      ? ['  Alternatives:', ...an.alternatives.map((x) => `    - ${x.action} (${Math.round(x.confidence * 100)}%)${x.reason ? `: ${x.reason}` : ''}`)]
      : []),
  ]);
  out.push('', `(created ${ageOf(e.timeline.find((x) => x.what === 'HealingAction created')?.at, now)} ago)`);
  return out;
}

/** Reads the action (NotFoundError when missing) and its policy, and renders the explanation. */
export async function explainCommand(api: ExplainApi, input: { namespace: string; name: string; output: OutputFormat }, now: number): Promise<CommandOutcome> {
  const action = await api.get(input.namespace, input.name);
  if (!action) throw new NotFoundError(`healingaction "${input.name}" not found in namespace "${input.namespace}"`);
  let policy: AnyPolicy | undefined;
  let policyError: string | undefined;
  try {
    policy = await api.getPolicy(actionPolicyId(action));
  } catch (e: unknown) {
    // The action alone tells most of the story: a policy the user may not read (a ClusterHealingPolicy) is noted.
    policyError = describeKubeError(e);
  }
  const e = explainAction(action, policy, policyError);
  return { code: 0, out: input.output === 'human' ? renderExplanation(e, now) : formatData(e, input.output), err: [] };
}
