/**
 * What changed between two dashboard views, as the Server-Sent Events the page applies, and the SSE wire format.
 * Pure: the live feed (feed.ts) builds views and sends what this returns.
 *
 * Events (the `event:` field; `data:` is one line of JSON):
 * - `snapshot`  the whole DashboardView — first on every connection, so a reconnecting page starts consistent;
 * - `action`    an ActionRow that is new or changed (phase, status, result…);
 * - `action-removed` `{key}` — the action was deleted or fell off the timeline's newest MAX_TIMELINE;
 * - `policy`    a PolicyRow that is new or changed (status written, budget or breaker moved with time);
 * - `policy-removed` `{key}`;
 * - `counts`    ActionCounts when they changed;
 * - `operator`  OperatorView when it changed (leadership, cache sync);
 * - `safety`    the SafetyView — whenever it changed, and periodically as a snapshot even when it did not;
 * - `charts`    `{charts: ChartView[]}` when any chart changed;
 * - `heartbeat` `{at}` — keeps proxies from closing an idle stream and lets the page notice a dead one.
 */
import type { ActionCounts, ActionRow, ChartView, DashboardView, OperatorView, PolicyRow, SafetyView } from './view-model.js';

/** One event for the page. */
export type DashboardEvent =
  | { readonly event: 'snapshot'; readonly data: DashboardView }
  | { readonly event: 'action'; readonly data: ActionRow }
  | { readonly event: 'action-removed'; readonly data: { readonly key: string } }
  | { readonly event: 'policy'; readonly data: PolicyRow }
  | { readonly event: 'policy-removed'; readonly data: { readonly key: string } }
  | { readonly event: 'counts'; readonly data: ActionCounts }
  | { readonly event: 'operator'; readonly data: OperatorView }
  | { readonly event: 'safety'; readonly data: SafetyView }
  | { readonly event: 'charts'; readonly data: { readonly charts: readonly ChartView[] } }
  | { readonly event: 'heartbeat'; readonly data: { readonly at: number } };

/** Rows that changed between two keyed lists: new or different ones (in `next`'s order), and keys that went away. */
export function diffRows<R extends { readonly key: string }>(prev: readonly R[], next: readonly R[]): { upserted: R[]; removed: string[] } {
  const before = new Map(prev.map((r) => [r.key, JSON.stringify(r)] as const));
  const nextKeys = new Set(next.map((r) => r.key));
  return {
    upserted: next.filter((r) => before.get(r.key) !== JSON.stringify(r)),
    removed: prev.filter((r) => !nextKeys.has(r.key)).map((r) => r.key),
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Options of diffViews. */
export interface DiffOptions {
  /** Send `safety` even when unchanged: the periodic snapshot. */
  readonly forceSafety?: boolean;
}

/**
 * The events that turn a page showing `prev` into one showing `next`. Actions are sent oldest first so that a page
 * appending them in arrival order and one sorting them agree. With no `prev`, a single snapshot.
 */
export function diffViews(prev: DashboardView | undefined, next: DashboardView, options: DiffOptions = {}): DashboardEvent[] {
  if (prev === undefined) return [{ event: 'snapshot', data: next }];
  const out: DashboardEvent[] = [];
  if (!same(prev.operator, next.operator)) out.push({ event: 'operator', data: next.operator });
  const policies = diffRows(prev.policies, next.policies);
  for (const key of policies.removed) out.push({ event: 'policy-removed', data: { key } });
  for (const row of policies.upserted) out.push({ event: 'policy', data: row });
  const actions = diffRows(prev.actions, next.actions);
  for (const key of actions.removed) out.push({ event: 'action-removed', data: { key } });
  for (const row of [...actions.upserted].reverse()) out.push({ event: 'action', data: row });
  if (!same(prev.counts, next.counts)) out.push({ event: 'counts', data: next.counts });
  if (options.forceSafety === true || !same(prev.safety, next.safety)) out.push({ event: 'safety', data: next.safety });
  if (!same(prev.charts, next.charts)) out.push({ event: 'charts', data: { charts: next.charts } });
  return out;
}

/**
 * One event in the text/event-stream format. JSON.stringify never emits a raw newline (newlines inside strings
 * are escaped), so the data always fits on one `data:` line and cannot inject fields.
 */
export function formatSse(e: DashboardEvent | { readonly event: string; readonly data: unknown }): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** The `retry:` field that sets how long (ms) EventSource waits before reconnecting. */
export function formatRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}
