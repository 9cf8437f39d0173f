import { describe, expect, it } from 'vitest';
import { action, hp, settingsWith, T0 } from '../../test/support/dashboard.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { diffRows, diffViews, formatRetry, formatSse } from './changes.js';
import { buildCore, type ChartView, type DashboardView } from './view-model.js';

const viewOf = (o: { actions?: HealingAction[]; policies?: AnyPolicy[]; now?: number; charts?: ChartView[]; paused?: boolean } = {}): DashboardView => ({
  ...buildCore({
    now: o.now ?? T0,
    version: '1',
    leaderElection: false,
    leading: true,
    synced: true,
    settings: settingsWith({ paused: o.paused ?? false }),
    policies: o.policies ?? [hp('crashloop')],
    actions: o.actions ?? [],
  }),
  charts: o.charts ?? [],
});

describe('diffRows', () => {
  const a = { key: 'a', v: 1 };
  const b = { key: 'b', v: 1 };
  const cases = [
    { name: 'same rows: nothing', prev: [a, b], next: [a, b], upserted: [], removed: [] },
    { name: 'a changed row', prev: [a, b], next: [{ key: 'a', v: 2 }, b], upserted: ['a'], removed: [] },
    { name: 'a new row', prev: [a], next: [a, b], upserted: ['b'], removed: [] },
    { name: 'a row gone', prev: [a, b], next: [b], upserted: [], removed: ['a'] },
  ];
  it.each(cases)('$name', ({ prev, next, upserted, removed }) => {
    const d = diffRows(prev, next);
    expect(d.upserted.map((r) => r.key)).toEqual(upserted);
    expect(d.removed).toEqual(removed);
  });
});

describe('diffViews', () => {
  it('starts a page with one snapshot', () => {
    const v = viewOf();
    expect(diffViews(undefined, v)).toEqual([{ event: 'snapshot', data: v }]);
  });

  it('sends nothing when nothing changed, and the safety state when asked for the periodic snapshot', () => {
    const v = viewOf();
    expect(diffViews(v, viewOf())).toEqual([]);
    expect(diffViews(v, viewOf(), { forceSafety: true }).map((e) => e.event)).toEqual(['safety']);
  });

  it('sends a new action with the new counts', () => {
    const events = diffViews(viewOf(), viewOf({ actions: [action('a1', { phase: 'Pending' })] }));
    expect(events.map((e) => e.event)).toEqual(['action', 'counts', 'safety']);
    expect(events[0]).toMatchObject({ event: 'action', data: { key: 'shop/a1', phase: 'Pending' } });
  });

  it('sends an action again when its status changes, and nothing for the unchanged ones', () => {
    const before = viewOf({ actions: [action('a1', { phase: 'InProgress', started: -1000, resourceVersion: '5' }), action('a2', { created: -5 * 60_000 })] });
    const after = viewOf({ actions: [action('a1', { phase: 'Succeeded', started: -1000, completed: 0, success: true, resourceVersion: '6' }), action('a2', { created: -5 * 60_000 })] });
    const actions = diffViews(before, after).filter((e) => e.event === 'action');
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ data: { key: 'shop/a1', phase: 'Succeeded', result: { success: true } } });
  });

  it('sends several new actions oldest first, so a page appending them keeps time order', () => {
    const events = diffViews(viewOf(), viewOf({ actions: [action('older', { created: -2000 }), action('newer', { created: -1000 })] }));
    expect(events.filter((e) => e.event === 'action').map((e) => (e.data as { name: string }).name)).toEqual(['older', 'newer']);
  });

  it('reports deleted actions and policies by key', () => {
    const events = diffViews(viewOf({ actions: [action('gone')] }), viewOf({ policies: [] }));
    expect(events).toContainEqual({ event: 'action-removed', data: { key: 'shop/gone' } });
    expect(events).toContainEqual({ event: 'policy-removed', data: { key: 'shop/crashloop' } });
  });

  it('sends a policy whose budget moved with time alone', () => {
    const used = [action('x', { started: -59 * 60_000, created: -59 * 60_000 })];
    const events = diffViews(viewOf({ actions: used }), viewOf({ actions: used, now: T0 + 2 * 60_000 }));
    expect(events.find((e) => e.event === 'policy')).toMatchObject({ data: { key: 'shop/crashloop', budget: { used: 0, remaining: 5 } } });
  });

  it('sends the operator header when a switch changes, and charts when they change', () => {
    const chart: ChartView = { key: 'k', target: { kind: 'Pod', namespace: 'shop', name: 'p' }, targetKey: 'Pod/shop/p', metric: 'restart_count', why: ['actions'], points: [[T0, 1]], thresholds: [], markers: [] };
    const events = diffViews(viewOf(), viewOf({ paused: true, charts: [chart] }));
    expect(events.map((e) => e.event)).toEqual(['operator', 'safety', 'charts']);
  });
});

describe('formatSse', () => {
  it('writes one event with its JSON on a single data line, even when strings hold newlines', () => {
    const text = formatSse({ event: 'action', data: { message: 'line 1\nline 2\r\nevent: fake' } });
    expect(text).toBe('event: action\ndata: {"message":"line 1\\nline 2\\r\\nevent: fake"}\n\n');
    expect(text.split('\n').filter((l) => l.startsWith('data:'))).toHaveLength(1);
  });

  it('writes the reconnect delay', () => {
    expect(formatRetry(2000.4)).toBe('retry: 2000\n\n');
  });
});
