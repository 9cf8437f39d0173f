import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { action, hp, settingsWith, T0 } from '../../test/support/dashboard.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { inventoryOf, type Inventory } from '../controllers/healing-policy/select.js';
import { SeriesStore } from '../metrics/series-store.js';
import type { TargetRef } from '../metrics/types.js';
import { FakeClock } from '../runtime/clock.js';
import { DashboardSource, firingTargets, type DashboardSourceDeps } from './source.js';

const pod = (name: string, labels: Record<string, string> = { app: 'web' }): V1Pod => ({ metadata: { namespace: 'shop', name, uid: `u-${name}`, labels }, status: { phase: 'Running' } });
const ref = (name: string): TargetRef => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name, uid: `u-${name}` });
const inventory = (...pods: V1Pod[]): Inventory => inventoryOf({ pods });

/** A store where each named pod has restart_count samples every 10 s up to T0. */
function storeWith(samples: Record<string, number[]>): SeriesStore {
  const store = new SeriesStore();
  for (const [name, values] of Object.entries(samples)) {
    values.forEach((value, i) => store.recordSample(ref(name), 'restart_count', { at: T0 - (values.length - 1 - i) * 10_000, value }, T0));
  }
  return store;
}

describe('firingTargets', () => {
  it('reports, per target, the triggers that hold now (firing) or are waiting out their duration (pending)', () => {
    const store = storeWith({ crashing: [1, 3, 5], healthy: [0, 0, 0], held: [3, 4, 5] });
    const policies: AnyPolicy[] = [
      hp('crashloop'),
      hp('slow', { spec: { triggers: [{ name: 'sustained', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2, duration: '1m' } }] } }),
    ];
    const out = firingTargets(policies, inventory(pod('crashing'), pod('healthy'), pod('held')), (t, m) => store.observations(t, { metrics: m }), T0);
    expect(out.map((f) => `${f.policy} ${f.trigger} ${f.target.name} ${f.status}`).sort()).toEqual([
      'shop/crashloop restarts crashing firing',
      'shop/crashloop restarts held firing',
      'shop/slow sustained crashing pending',
      'shop/slow sustained held pending',
    ]);
  });

  it('looks only at the targets the policy selects', () => {
    const store = storeWith({ other: [9, 9, 9] });
    expect(firingTargets([hp('crashloop')], inventory(pod('other', { app: 'db' })), (t, m) => store.observations(t, { metrics: m }), T0)).toEqual([]);
  });
});

function deps(over: Partial<DashboardSourceDeps> = {}): DashboardSourceDeps {
  const clock = new FakeClock(T0);
  const store = storeWith({ crashing: [1, 3, 5] });
  const actions: HealingAction[] = [action('a1', { target: 'crashing', created: -15_000 })];
  return {
    clock,
    version: '9.9.9',
    settings: () => settingsWith(),
    policies: () => [hp('crashloop')],
    actions: () => actions,
    inventory: () => inventory(pod('crashing')),
    observe: (t, m) => store.observations(t, { metrics: m }),
    leader: () => ({ election: true, leading: true, identity: 'me' }),
    synced: () => true,
    forecastFor: () => undefined,
    watch: () => () => undefined,
    ...over,
  };
}

describe('DashboardSource', () => {
  it('builds the view at the clock’s now from the caches, with a chart of the target’s samples and its action', () => {
    const view = new DashboardSource(deps()).view();
    expect(view.generatedAt).toBe(T0);
    expect(view.operator).toMatchObject({ version: '9.9.9', leaderElection: true, leading: true, leaderIdentity: 'me', synced: true });
    expect(view.actions.map((a) => a.name)).toEqual(['a1']);
    expect(view.charts).toHaveLength(1);
    expect(view.charts[0]).toMatchObject({
      key: 'Pod/shop/crashing|restart_count',
      why: ['actions', 'firing'],
      points: [[T0 - 20_000, 1], [T0 - 10_000, 3], [T0, 5]],
      thresholds: [{ value: 2, operator: '>' }],
      markers: [{ at: T0 - 15_000, name: 'a1' }],
    });
  });

  it('draws the analyzer’s forecast when it has one, asking for the chart’s own target and metric', () => {
    const asked: string[] = [];
    const view = new DashboardSource(
      deps({
        forecastFor: (t, metric) => {
          asked.push(`${t.kind}/${t.namespace}/${t.name} ${metric}`);
          return { label: 'trend', points: [[T0, 5], [T0 + 60_000, 8]] };
        },
      }),
    ).view();
    expect(asked).toEqual(['Pod/shop/crashing restart_count']);
    expect(view.charts[0]?.forecast).toEqual({ label: 'trend', points: [[T0, 5], [T0 + 60_000, 8]] });
  });

  it('shows no forecast, rather than failing, when the analyzer throws', () => {
    const view = new DashboardSource(
      deps({
        forecastFor: () => {
          throw new Error('analyzer bug');
        },
      }),
    ).view();
    expect(view.charts[0]).not.toHaveProperty('forecast');
  });
});
