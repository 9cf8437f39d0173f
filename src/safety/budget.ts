/**
 * Budget arithmetic: rolling-window action counts, when the next slot opens, maxUnavailable resolution, and the
 * time formats used in safety messages. Pure; `now` is always passed in.
 */
import type { LedgerEntry } from './types.js';
import { executedAt, hasExecuted, visibleTo } from './types.js';

/** One hour in ms: the window of every per-hour budget. */
export const HOUR_MS = 60 * 60_000;

/** How much of a rolling-window budget is used. */
export interface BudgetUsage {
  /** Executions inside the window. */
  readonly used: number;
  readonly limit: number;
  /** max(0, limit - used). */
  readonly remaining: number;
  /**
   * When at least one slot is free again: `now` when one is free already; absent when the limit is 0 (time alone
   * never frees a slot).
   */
  readonly nextSlotAt?: number;
}

/**
 * Usage of a budget of `limit` executions per rolling `windowMs`, given the execution times of everything that
 * counts against it. A time counts while `time > now - windowMs`: an action exactly one window old has rolled out.
 * Times in the future (another replica's clock running ahead) count, which errs on the safe side.
 */
export function budgetUsage(times: readonly number[], limit: number, now: number, windowMs: number = HOUR_MS): BudgetUsage {
  const inWindow = times.filter((t) => t > now - windowMs).sort((a, b) => a - b);
  const used = inWindow.length;
  const remaining = Math.max(0, limit - used);
  if (remaining > 0) return { used, limit, remaining, nextSlotAt: now };
  if (limit <= 0) return { used, limit, remaining };
  // used - limit + 1 executions must roll out before one slot is free; the last of them is inWindow[used - limit].
  const oldestToExpire = inWindow[used - limit];
  return { used, limit, remaining, ...(oldestToExpire === undefined ? {} : { nextSlotAt: oldestToExpire + windowMs }) };
}

/**
 * When the oldest of `times` still inside the rolling window leaves it (a budget's count drops by time alone), or
 * undefined when none is inside.
 */
export function rollsOutAt(times: readonly number[], now: number, windowMs: number = HOUR_MS): number | undefined {
  let oldest: number | undefined;
  for (const t of times) if (t > now - windowMs && (oldest === undefined || t < oldest)) oldest = t;
  return oldest === undefined ? undefined : oldest + windowMs;
}

/** A policy as far as its hourly budget is concerned. */
export interface PolicyBudget {
  /** "namespace/name". */
  readonly key: string;
  readonly maxActionsPerHour: number;
}

/** Options for the policy-status helpers. */
export interface PolicyBudgetOptions {
  /**
   * Count dry-run executions too. Pass true for a policy in dryrun mode, so its status shows the budget its dry
   * runs would have used; real budgets never count dry runs.
   */
  readonly includeDryRuns?: boolean | undefined;
}

/**
 * The policy's rule-budget usage in the rolling hour before `now`. Counts the policy's executed, rule-sourced
 * entries (AI actions have their own operator-wide budget and do not consume the policy's).
 */
export function policyBudgetUsage(policy: PolicyBudget, ledger: readonly LedgerEntry[], now: number, options: PolicyBudgetOptions = {}): BudgetUsage {
  const includeDryRuns = options.includeDryRuns ?? false;
  const times = ledger
    .filter((e) => e.policy === policy.key && e.source === 'rule' && hasExecuted(e) && visibleTo(e, includeDryRuns))
    .map(executedAt);
  return budgetUsage(times, policy.maxActionsPerHour, now);
}

/** Actions the policy may still execute in the current rolling hour — the policy status field `actionsAllowed`. */
export function actionsAllowed(policy: PolicyBudget, ledger: readonly LedgerEntry[], now: number, options: PolicyBudgetOptions = {}): number {
  return policyBudgetUsage(policy, ledger, now, options).remaining;
}

/**
 * When the policy may next execute an action: `now` if budget is left, the time the oldest counted execution rolls
 * out of the hour otherwise, `undefined` when maxActionsPerHour is 0.
 */
export function nextSlotAt(policy: PolicyBudget, ledger: readonly LedgerEntry[], now: number, options: PolicyBudgetOptions = {}): number | undefined {
  return policyBudgetUsage(policy, ledger, now, options).nextSlotAt;
}

/** An int-or-percent value, parsed. */
export type IntOrPercentValue = { readonly kind: 'int'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

/**
 * Parses Kubernetes int-or-string: a non-negative integer, or digits followed by "%". Returns `undefined` for
 * anything else (the API schema rejects those; this guards stale or hand-built objects).
 */
export function parseIntOrPercent(value: number | string): IntOrPercentValue | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { kind: 'int', value } : undefined;
  const m = /^([0-9]+)%$/.exec(value.trim());
  return m?.[1] === undefined ? undefined : { kind: 'percent', value: Number(m[1]) };
}

/**
 * How many replicas of a workload with `replicas` desired replicas may be disrupted at once.
 *
 * - An integer is used as is.
 * - A percentage is taken of `replicas` and rounded DOWN, as Kubernetes does for a Deployment's maxUnavailable —
 *   then raised to 1 when the percentage is above 0 and the workload has replicas, the way the Deployment
 *   controller refuses a rollout that could never make progress: "25%" of 3 replicas would otherwise forbid every
 *   healing action. Never taking the last ready replica is a separate rule, so the minimum of 1 cannot empty a
 *   workload.
 * - "0%" and 0 forbid disruptions; a workload with 0 replicas has nothing to disrupt (0).
 * - An invalid value resolves to 0: refusing is the safe reading of a setting we cannot understand.
 */
export function resolveMaxUnavailable(value: number | string, replicas: number): number {
  const parsed = parseIntOrPercent(value);
  if (parsed === undefined) return 0;
  if (parsed.kind === 'int') return parsed.value;
  if (replicas <= 0 || parsed.value === 0) return 0;
  return Math.max(1, Math.floor((replicas * parsed.value) / 100));
}

/**
 * An instant for messages, in UTC: "10:42:07 UTC" when it falls on the same UTC day as `now`, otherwise
 * "2026-01-02 10:42:07 UTC". (Formatting a given instant is not a clock read.)
 */
export function formatInstant(ms: number, now: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T10:42:07.000Z
  const sameDay = iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  return `${sameDay ? '' : `${iso.slice(0, 10)} `}${iso.slice(11, 19)} UTC`;
}

/** A duration for messages: "45s", "4m 30s", "1h", "2h 5m" (rounded up to whole seconds; "0s" for ≤ 0). */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 ? `${s}s` : ''].filter((p) => p !== '');
  return parts.length === 0 ? '0s' : parts.join(' ');
}
