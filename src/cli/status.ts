/**
 * `kubeskippy status`: one screen on the whole installation — the leader, the pause switch and the global dry run,
 * the operator-wide budgets (rule and AI) used in the rolling hour, open circuit breakers, and every policy of
 * both kinds with its mode, Ready condition and budget left.
 *
 * Everything comes from the API server: policies and their status, the HealingActions (the ledger, from which the
 * budgets and breakers are recomputed exactly as the safety gate does), the Lease, and the control ConfigMap with
 * the operator's reported settings. A section the user may not read (a Lease in the operator's namespace, say) is
 * shown as unknown with the reason; only failing to read the policies fails the command.
 */
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy, ClusterHealingPolicy, HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { CONTROL_CONFIGMAP, describePause, OPERATOR_STATE_ANNOTATION, parseOperatorState, readControl, type ControlState, type OperatorState } from '../control/switch.js';
import { describeKubeError, isForbidden, isNotFound } from '../k8s/errors.js';
import { budgetUsage, formatInstant } from '../safety/budget.js';
import { evaluateGlobalBreaker, evaluatePolicyBreaker, type BreakerStatus } from '../safety/circuit-breaker.js';
import { DEFAULT_OPERATOR_SAFETY, executedAt, hasExecuted, policyIdOf, policyKey, toLedgerEntry, type LedgerEntry } from '../safety/types.js';
import { defaultOperatorConfig } from '../config/load.js';
import type { OperatorConfig } from '../config/operator-config.js';
import type { CommandOutcome } from './approve.js';
import { ageOf, formatData, formatFields, formatTable, type OutputFormat } from './output.js';

/** The Lease fields status shows. */
export interface LeaseInfo {
  readonly holderIdentity?: string;
  /** ms since the epoch. */
  readonly renewTime?: number;
  readonly leaseDurationSeconds?: number;
}

/** A ConfigMap as far as status reads it. */
export interface ConfigMapInfo {
  readonly data?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The reads status makes. Each may reject with API errors; status reports them per section. */
export interface StatusApi {
  listPolicies(namespace: string | undefined): Promise<readonly HealingPolicy[]>;
  listClusterPolicies(): Promise<readonly ClusterHealingPolicy[]>;
  listActions(namespace: string | undefined): Promise<readonly HealingAction[]>;
  getLease(namespace: string, name: string): Promise<LeaseInfo | undefined>;
  getConfigMap(namespace: string, name: string): Promise<ConfigMapInfo | undefined>;
}

/** What to show. */
export interface StatusInput {
  /** The operator's namespace (its Lease and control ConfigMap). */
  readonly operatorNamespace: string;
  readonly leaseName: string;
  /** Namespaced policies and actions of this namespace only; undefined: every namespace. */
  readonly namespace: string | undefined;
  readonly output: OutputFormat;
}

/** A section read, or why it could not be. */
type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

async function read<T>(f: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e: unknown) {
    return { ok: false, error: isForbidden(e) ? `not allowed: ${describeKubeError(e)}` : describeKubeError(e) };
  }
}

/** The breaker thresholds status judges with. */
export type BreakerThresholds = Pick<OperatorState, 'policyBreaker' | 'globalBreaker'>;

/** The operator configuration's defaults (src/config/operator-config.ts), used when the operator reported nothing. */
export function thresholdsOf(config: OperatorConfig): BreakerThresholds {
  return {
    policyBreaker: { failureThreshold: config.circuitBreaker.failureThreshold, openSeconds: config.circuitBreaker.openSeconds },
    globalBreaker: {
      failureRate: config.globalCircuitBreaker.failureRate,
      minActions: config.globalCircuitBreaker.minActions,
      windowSeconds: config.globalCircuitBreaker.windowSeconds,
      openSeconds: config.circuitBreaker.openSeconds,
    },
  };
}

const DEFAULT_THRESHOLDS: BreakerThresholds = {
  policyBreaker: { failureThreshold: DEFAULT_OPERATOR_SAFETY.policyBreaker.failureThreshold, openSeconds: DEFAULT_OPERATOR_SAFETY.policyBreaker.openMs / 1000 },
  globalBreaker: {
    failureRate: DEFAULT_OPERATOR_SAFETY.globalBreaker.failureRate,
    minActions: DEFAULT_OPERATOR_SAFETY.globalBreaker.minActions,
    windowSeconds: DEFAULT_OPERATOR_SAFETY.globalBreaker.windowMs / 1000,
    openSeconds: DEFAULT_OPERATOR_SAFETY.globalBreaker.openMs / 1000,
  },
};

/** One policy's line of the report. */
export interface PolicyLine {
  readonly kind: 'HealingPolicy' | 'ClusterHealingPolicy';
  readonly namespace?: string;
  readonly name: string;
  readonly mode: string;
  readonly ready: { readonly status: string; readonly reason?: string; readonly message?: string };
  readonly paused: boolean;
  readonly budgetLeft?: number;
  readonly maxActionsPerHour: number;
  readonly firing: readonly string[];
  readonly actionsTaken?: number;
  readonly lastActionTime?: string;
  readonly breaker: 'closed' | 'open' | 'half-open';
}

/** The whole report (also the -o json|yaml document). */
export interface StatusReport {
  readonly operator: {
    readonly namespace: string;
    readonly leader: { readonly holder: string; readonly renewedAt?: string; readonly expired: boolean } | { readonly holder: null; readonly note: string };
    readonly paused: { readonly paused: boolean; readonly bySwitch: boolean; readonly byConfig?: boolean; readonly detail?: string; readonly switch?: ControlState };
    /** undefined: unknown (the operator has not reported its settings). */
    readonly dryRun?: boolean;
    readonly settings?: OperatorState;
  };
  readonly budgets?: {
    readonly scope: string;
    readonly rule: { readonly used: number; readonly limit?: number; readonly nextSlotAt?: string };
    readonly ai: { readonly used: number; readonly limit?: number; readonly nextSlotAt?: string };
  };
  readonly breakers?: { readonly global: BreakerStatus; readonly policies: readonly BreakerStatus[] };
  readonly policies: readonly PolicyLine[];
  /** Sections that could not be read, in words. */
  readonly unknown: readonly string[];
}

function condition(p: AnyPolicy, type: string): { status: string; reason?: string; message?: string } | undefined {
  const c = p.status?.conditions?.find((x) => x.type === type);
  return c === undefined ? undefined : { status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
}

/** An instant as RFC 3339 (formatting a given instant, not reading the clock). */
function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * Builds the report from what was read, at `now`. Budgets and breakers are recomputed from the ledger with the
 * operator's reported settings (the defaults when it has not reported any — then the limits are left out). Pure.
 */
export function buildStatus(
  input: Pick<StatusInput, 'operatorNamespace' | 'namespace' | 'leaseName'>,
  reads: {
    readonly policies: Read<readonly AnyPolicy[]>;
    readonly clusterPolicies: Read<readonly AnyPolicy[]>;
    readonly actions: Read<readonly HealingAction[]>;
    readonly lease: Read<LeaseInfo | undefined>;
    readonly control: Read<ConfigMapInfo | undefined>;
  },
  now: number,
  defaults: BreakerThresholds = DEFAULT_THRESHOLDS,
): StatusReport {
  const unknown: string[] = [];
  const note = (what: string, r: Read<unknown>): void => {
    if (!r.ok) unknown.push(`${what}: ${r.error}`);
  };
  note('ClusterHealingPolicies', reads.clusterPolicies);
  note('HealingActions (budgets, breakers)', reads.actions);
  note(`Lease ${input.operatorNamespace}/${input.leaseName}`, reads.lease);
  note(`ConfigMap ${input.operatorNamespace}/${CONTROL_CONFIGMAP} (pause switch, operator settings)`, reads.control);

  const control = reads.control.ok ? reads.control.value : undefined;
  const settings = parseOperatorState(control?.annotations?.[OPERATOR_STATE_ANNOTATION]);
  const sw = reads.control.ok ? readControl(control) : undefined;
  const byConfig = settings?.configPaused;
  const bySwitch = sw?.paused === true;
  const paused = {
    paused: bySwitch || byConfig === true,
    bySwitch,
    ...(byConfig === undefined ? {} : { byConfig }),
    ...(sw === undefined ? {} : { switch: sw }),
    ...(bySwitch ? { detail: describePause(sw) } : byConfig === true ? { detail: 'paused by the operator configuration (paused: true)' } : {}),
  };

  let leader: StatusReport['operator']['leader'];
  if (!reads.lease.ok) leader = { holder: null, note: `unknown (${reads.lease.error})` };
  else if (reads.lease.value === undefined) leader = { holder: null, note: `no Lease ${input.leaseName}: leader election is off, or no operator runs in ${input.operatorNamespace}` };
  else if (!reads.lease.value.holderIdentity) leader = { holder: null, note: 'the Lease is released: no replica leads' };
  else {
    const l = reads.lease.value;
    const expired = l.renewTime !== undefined && l.leaseDurationSeconds !== undefined && now > l.renewTime + l.leaseDurationSeconds * 1000;
    leader = { holder: l.holderIdentity ?? '', ...(l.renewTime === undefined ? {} : { renewedAt: iso(l.renewTime) ?? '' }), expired };
  }

  const policies = [...(reads.policies.ok ? reads.policies.value : []), ...(reads.clusterPolicies.ok ? reads.clusterPolicies.value : [])];
  const ledger: LedgerEntry[] = reads.actions.ok
    ? reads.actions.value
        .map((a) => {
          const w = a.spec.workloadRef;
          return toLedgerEntry(a, w ? { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, ...(w.uid ? { uid: w.uid } : {}) } : undefined);
        })
        .filter((e) => e !== undefined)
    : [];
  // Without a report, the breakers are judged with the configuration's defaults (said so in the output).
  const thresholds = settings ?? defaults;
  const breakerSettings = {
    policy: { failureThreshold: thresholds.policyBreaker.failureThreshold, openMs: thresholds.policyBreaker.openSeconds * 1000 },
    global: {
      failureRate: thresholds.globalBreaker.failureRate,
      minActions: thresholds.globalBreaker.minActions,
      windowMs: thresholds.globalBreaker.windowSeconds * 1000,
      openMs: thresholds.globalBreaker.openSeconds * 1000,
    },
  };
  const policyBreakers = new Map(policies.map((p) => {
    const id = policyIdOf(p);
    const key = policyKey(id.namespace, id.name, id.kind);
    return [key, evaluatePolicyBreaker(ledger, key, breakerSettings.policy, now)] as const;
  }));

  const lines: PolicyLine[] = policies
    .map((p): PolicyLine => {
      const id = policyIdOf(p);
      const ready = condition(p, 'Ready') ?? { status: 'Unknown', reason: 'NotEvaluated', message: 'the operator has not written a status (is it running and serving this namespace?)' };
      const s = p.status;
      return {
        kind: id.kind,
        ...(id.kind === 'HealingPolicy' ? { namespace: id.namespace } : {}),
        name: id.name,
        mode: p.spec.mode ?? 'automatic',
        ready,
        paused: condition(p, 'Paused')?.status === 'True',
        ...(s?.actionsAllowed === undefined ? {} : { budgetLeft: s.actionsAllowed }),
        maxActionsPerHour: p.spec.safetyRules?.maxActionsPerHour ?? 5,
        firing: s?.activeTriggers ?? [],
        ...(s?.actionsTaken === undefined ? {} : { actionsTaken: s.actionsTaken }),
        ...(s?.lastActionTime === undefined ? {} : { lastActionTime: s.lastActionTime }),
        breaker: policyBreakers.get(policyKey(id.namespace, id.name, id.kind))?.state ?? 'closed',
      };
    })
    .sort((a, b) => a.kind.localeCompare(b.kind) || (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name));

  const usage = (source: 'rule' | 'ai', limit: number | undefined): { used: number; limit?: number; nextSlotAt?: string } => {
    const times = ledger.filter((e) => e.source === source && !e.dryRun && hasExecuted(e)).map(executedAt);
    const u = budgetUsage(times, limit ?? Number.MAX_SAFE_INTEGER, now);
    const next = limit !== undefined && u.remaining === 0 ? iso(u.nextSlotAt) : undefined;
    return { used: u.used, ...(limit === undefined ? {} : { limit }), ...(next === undefined ? {} : { nextSlotAt: next }) };
  };

  return {
    operator: {
      namespace: input.operatorNamespace,
      leader,
      paused,
      ...(settings === undefined ? {} : { dryRun: settings.dryRun, settings }),
    },
    ...(reads.actions.ok
      ? {
          budgets: {
            scope: input.namespace === undefined ? 'all namespaces' : `namespace ${input.namespace} only`,
            rule: usage('rule', settings?.maxActionsPerHour),
            ai: usage('ai', settings?.aiMaxActionsPerHour),
          },
          breakers: {
            global: evaluateGlobalBreaker(ledger, breakerSettings.global, now),
            policies: [...policyBreakers.values()].filter((b) => b.state !== 'closed'),
          },
        }
      : {}),
    policies: lines,
    unknown,
  };
}

/** The human rendering of a report. Pure. */
export function renderStatus(r: StatusReport, now: number): string[] {
  const out: string[] = [];
  const op = r.operator;
  const leader =
    op.leader.holder === null
      ? op.leader.note
      : `${op.leader.holder}${op.leader.renewedAt === undefined ? '' : ` (renewed ${ageOf(op.leader.renewedAt, now)} ago${op.leader.expired ? ', EXPIRED: no replica is renewing it' : ''})`}`;
  const paused = op.paused.paused
    ? `YES — ${op.paused.detail ?? 'paused'}${op.paused.bySwitch ? ' (kubeskippy resume lifts it)' : ''}`
    : op.paused.switch === undefined
      ? 'no (the pause switch could not be read)'
      : 'no';
  const dryRun = op.dryRun === undefined ? 'unknown (the operator has not reported its settings)' : op.dryRun ? 'YES — every action only computes its change (operator config dryRun: true)' : 'no';
  const settings = op.settings === undefined ? 'not reported (no operator leads, or it cannot write the control ConfigMap)' : `reported by ${op.settings.identity} (v${op.settings.version}) since ${op.settings.since}`;
  out.push(`Operator (namespace ${op.namespace})`, ...formatFields([['Leader', leader], ['Paused', paused], ['Dry run', dryRun], ['Settings', settings]]));

  if (r.budgets !== undefined) {
    const b = (u: { used: number; limit?: number; nextSlotAt?: string }): string =>
      `${u.used}${u.limit === undefined ? ' used (limit unknown)' : ` of ${u.limit} used`}${u.nextSlotAt === undefined ? '' : `; exhausted, next slot at ${formatInstant(Date.parse(u.nextSlotAt), now)}`}`;
    out.push('', `Budgets (rolling hour, ${r.budgets.scope})`, ...formatFields([['Rule actions', b(r.budgets.rule)], ['AI actions', b(r.budgets.ai)]]));
  }
  if (r.breakers !== undefined) {
    const open = r.breakers.policies;
    out.push(
      '',
      `Circuit breakers${op.settings === undefined ? ' (judged with the default thresholds: the operator reported none)' : ''}`,
      ...formatFields([
        ['Global', r.breakers.global.message.replace(/^global circuit is /, '')],
        ['Policies', open.length === 0 ? 'none open' : `${open.length} not closed`],
      ]),
      ...open.map((b) => `    ${b.message}`),
    );
  }

  out.push('', 'Policies');
  if (r.policies.length === 0) out.push('  none found');
  else {
    const rows = r.policies.map((p) => [
      p.kind === 'ClusterHealingPolicy' ? 'chp' : 'hp',
      p.namespace ?? '-',
      p.name,
      p.mode,
      p.ready.status === 'True' ? 'True' : `${p.ready.status}${p.ready.reason ? ` (${p.ready.reason})` : ''}`,
      p.budgetLeft === undefined ? `?/${p.maxActionsPerHour}` : `${p.budgetLeft}/${p.maxActionsPerHour}`,
      p.breaker,
      p.firing.length === 0 ? '-' : p.firing.join(','),
      p.actionsTaken === undefined ? '-' : String(p.actionsTaken),
      p.lastActionTime === undefined ? '-' : ageOf(p.lastActionTime, now),
    ]);
    out.push(...formatTable([['KIND', 'NAMESPACE', 'NAME', 'MODE', 'READY', 'BUDGET LEFT', 'BREAKER', 'FIRING', 'ACTIONS', 'LAST ACTION'], ...rows]).map((l) => `  ${l}`));
    for (const p of r.policies.filter((x) => x.ready.status !== 'True' && x.ready.message)) {
      out.push(`  ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}: ${p.ready.message ?? ''}`);
    }
  }
  if (r.unknown.length > 0) out.push('', 'Not shown', ...r.unknown.map((u) => `  ${u}`));
  return out;
}

/**
 * Reads everything and returns the report as lines (human, JSON or YAML). Rejects only when the policies cannot be
 * read (the API error decides the exit code); every other section degrades to "unknown".
 */
export async function statusCommand(api: StatusApi, input: StatusInput, now: number): Promise<CommandOutcome> {
  const policies = await api.listPolicies(input.namespace);
  const [clusterPolicies, actions, lease, control] = await Promise.all([
    read(() => api.listClusterPolicies()),
    read(() => api.listActions(input.namespace)),
    read(async () => api.getLease(input.operatorNamespace, input.leaseName)),
    read(async () => {
      try {
        return await api.getConfigMap(input.operatorNamespace, CONTROL_CONFIGMAP);
      } catch (e: unknown) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    }),
  ]);
  const report = buildStatus(input, { policies: { ok: true, value: policies }, clusterPolicies, actions, lease, control }, now, thresholdsOf(await defaultOperatorConfig()));
  const out = input.output === 'human' ? renderStatus(report, now) : formatData(report, input.output);
  return { code: 0, out, err: [] };
}
