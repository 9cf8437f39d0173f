/**
 * The operator-wide control switch, kept in the API server so that every replica obeys it (whichever holds the
 * leader Lease) and it survives restarts: the ConfigMap `kubeskippy-control` in the operator's namespace.
 *
 *   data.paused     "true" stops every action (the safety gate's `paused` rule, and the policies' Paused
 *                   condition); "false" or absent resumes. Written by `kubeskippy pause` / `resume` (or kubectl).
 *   data.reason, data.pausedBy, data.pausedAt, data.resumedBy, data.resumedAt
 *                   who paused, why and when — shown in Blocked(Paused) messages and `kubeskippy status`.
 *   annotation kubeskippy.io/operator-state
 *                   written by the operator (the leader): its effective settings (global dry run, the config file's
 *                   own pause flag, the budgets and breaker thresholds), which `kubeskippy status` cannot see
 *                   otherwise.
 *
 * The operator watches it (an informer: the policies' Paused condition follows every change) and the safety gate
 * reads it again right before every action, as it reads everything it decides on.
 *
 * Why a ConfigMap in the operator's namespace rather than a field of some cluster object: pausing is an operations
 * decision about this installation, the right to make it is one namespaced RBAC rule (patch on one named object),
 * and it reads with plain kubectl. Pure: parsing and formatting only.
 */

/** Name of the control ConfigMap (in the operator's namespace, OperatorConfig.namespace). */
export const CONTROL_CONFIGMAP = 'kubeskippy-control';

/** Keys of the control ConfigMap's data. */
export const CONTROL_KEYS = {
  paused: 'paused',
  reason: 'reason',
  pausedBy: 'pausedBy',
  pausedAt: 'pausedAt',
  resumedBy: 'resumedBy',
  resumedAt: 'resumedAt',
} as const;

/** The annotation on the control ConfigMap where the operator reports its effective settings. */
export const OPERATOR_STATE_ANNOTATION = 'kubeskippy.io/operator-state';

/** The switch as people set it. */
export interface ControlState {
  readonly paused: boolean;
  /** Why (the pause's --reason); kept after a resume as the last pause's reason. */
  readonly reason?: string;
  readonly pausedBy?: string;
  readonly pausedAt?: string;
  readonly resumedBy?: string;
  readonly resumedAt?: string;
  /** Set when data.paused holds a value that is neither true nor false: read as paused (fail safe), and why. */
  readonly problem?: string;
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0', '']);

/**
 * Reads the switch from the ConfigMap (undefined: it does not exist — not paused). A value of data.paused that is
 * neither true nor false counts as paused: someone meant to set the switch, and stopping is the safe reading.
 */
export function readControl(cm: { readonly data?: Readonly<Record<string, string>> | undefined } | undefined): ControlState {
  const data = cm?.data ?? {};
  const raw = data[CONTROL_KEYS.paused];
  const value = (raw ?? '').trim().toLowerCase();
  const paused = TRUE.has(value) || !FALSE.has(value);
  const opt = (k: string): string | undefined => {
    const v = data[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const reason = opt(CONTROL_KEYS.reason);
  const pausedBy = opt(CONTROL_KEYS.pausedBy);
  const pausedAt = opt(CONTROL_KEYS.pausedAt);
  const resumedBy = opt(CONTROL_KEYS.resumedBy);
  const resumedAt = opt(CONTROL_KEYS.resumedAt);
  return {
    paused,
    ...(reason === undefined ? {} : { reason }),
    ...(pausedBy === undefined ? {} : { pausedBy }),
    ...(pausedAt === undefined ? {} : { pausedAt }),
    ...(resumedBy === undefined ? {} : { resumedBy }),
    ...(resumedAt === undefined ? {} : { resumedAt }),
    ...(paused && !TRUE.has(value) ? { problem: `data.paused is ${JSON.stringify(raw)}, neither true nor false: read as paused` } : {}),
  };
}

/** "by alice at 2026-…: incident 42" — who paused and why, for messages. Empty parts are left out. */
export function describePause(s: ControlState): string {
  const who = s.pausedBy === undefined ? '' : ` by ${s.pausedBy}`;
  const when = s.pausedAt === undefined ? '' : ` at ${s.pausedAt}`;
  const why = s.problem ?? s.reason;
  return `paused${who}${when}${why === undefined ? '' : `: ${why}`}`;
}

/** The data a pause writes. */
export function pauseData(user: string, reason: string, at: string): Record<string, string> {
  return { [CONTROL_KEYS.paused]: 'true', [CONTROL_KEYS.reason]: reason, [CONTROL_KEYS.pausedBy]: user, [CONTROL_KEYS.pausedAt]: at };
}

/** The data a resume writes (the last pause's who/why stay, for the record). */
export function resumeData(user: string, at: string): Record<string, string> {
  return { [CONTROL_KEYS.paused]: 'false', [CONTROL_KEYS.resumedBy]: user, [CONTROL_KEYS.resumedAt]: at };
}

/** The operator's effective settings as it reports them on the control ConfigMap. */
export interface OperatorState {
  /** This replica's leader-election identity. */
  readonly identity: string;
  readonly version: string;
  /** When this replica started reporting (ISO time). */
  readonly since: string;
  /** Global dry run (OperatorConfig.dryRun). */
  readonly dryRun: boolean;
  /** The config file's own pause flag (OperatorConfig.paused), besides the switch in data.paused. */
  readonly configPaused: boolean;
  readonly maxActionsPerHour: number;
  readonly aiMaxActionsPerHour: number;
  readonly policyBreaker: { readonly failureThreshold: number; readonly openSeconds: number };
  readonly globalBreaker: { readonly failureRate: number; readonly minActions: number; readonly windowSeconds: number; readonly openSeconds: number };
  /** The namespaces this operator serves (OperatorConfig.namespaceSelector), when limited. */
  readonly namespaceSelector?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses the operator-state annotation; undefined when absent or not the expected shape. Never throws. */
export function parseOperatorState(text: string | undefined): OperatorState | undefined {
  if (text === undefined || text === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const num = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  const pb = v['policyBreaker'];
  const gb = v['globalBreaker'];
  if (
    typeof v['identity'] !== 'string' ||
    typeof v['version'] !== 'string' ||
    typeof v['since'] !== 'string' ||
    typeof v['dryRun'] !== 'boolean' ||
    typeof v['configPaused'] !== 'boolean' ||
    !num(v['maxActionsPerHour']) ||
    !num(v['aiMaxActionsPerHour']) ||
    !isRecord(pb) ||
    !num(pb['failureThreshold']) ||
    !num(pb['openSeconds']) ||
    !isRecord(gb) ||
    !num(gb['failureRate']) ||
    !num(gb['minActions']) ||
    !num(gb['windowSeconds']) ||
    !num(gb['openSeconds'])
  ) {
    return undefined;
  }
  return v as unknown as OperatorState;
}

/** The annotation value for `state` (stable key order, so equal states compare equal as text). */
export function formatOperatorState(state: OperatorState): string {
  return JSON.stringify({
    identity: state.identity,
    version: state.version,
    since: state.since,
    dryRun: state.dryRun,
    configPaused: state.configPaused,
    maxActionsPerHour: state.maxActionsPerHour,
    aiMaxActionsPerHour: state.aiMaxActionsPerHour,
    policyBreaker: { failureThreshold: state.policyBreaker.failureThreshold, openSeconds: state.policyBreaker.openSeconds },
    globalBreaker: {
      failureRate: state.globalBreaker.failureRate,
      minActions: state.globalBreaker.minActions,
      windowSeconds: state.globalBreaker.windowSeconds,
      openSeconds: state.globalBreaker.openSeconds,
    },
    ...(state.namespaceSelector === undefined ? {} : { namespaceSelector: state.namespaceSelector }),
  });
}

/**
 * Whether the operator with `identity` should (re)write its state over `current` (the annotation as found):
 * when there is none, or when it is its own and out of date. Another identity's report is left alone — with
 * leader election only the leader reports (and overwrites its predecessor's once, when it starts leading); without
 * it, two operators sharing a namespace must not take turns rewriting the object forever.
 */
export function shouldPublish(current: string | undefined, mine: OperatorState): boolean {
  const found = parseOperatorState(current);
  if (found === undefined) return true;
  return found.identity === mine.identity && current !== formatOperatorState(mine);
}
