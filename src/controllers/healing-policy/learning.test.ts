import { describe, expect, it } from 'vitest';
import type { ActionPhase, HealingAction } from '../../api/v1alpha1/healing-action.js';
import { isoTime } from '../conditions.js';
import { outcomesFor, updateLearning } from './learning.js';

const T0 = Date.parse('2026-01-01T12:00:00Z');
const MIN = 60_000;
const WINDOW = 60 * MIN;

function action(name: string, opts: { created: number; phase?: string; completed?: number; trigger?: string; act?: string; dryRun?: boolean; workload?: string }): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: 'shop', creationTimestamp: isoTime(opts.created) },
    spec: {
      policyRef: { name: 'p' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: `${name}-pod` },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: opts.workload ?? 'web' },
      action: { name: opts.act ?? 'restart', type: 'restart' },
      trigger: { name: opts.trigger ?? 'crash', type: 'metric', firedAt: isoTime(opts.created) },
      dryRun: opts.dryRun ?? false,
    },
    status: { phase: (opts.phase ?? 'Pending') as ActionPhase, ...(opts.completed === undefined ? {} : { completionTime: isoTime(opts.completed) }) },
  };
}

describe('updateLearning', () => {
  it('counts verified successes and failures per workload, trigger and action, once each', () => {
    const ledger = [
      action('a1', { created: T0, phase: 'Succeeded', completed: T0 + MIN }),
      action('a2', { created: T0 + 2 * MIN, phase: 'Failed', completed: T0 + 3 * MIN, act: 'rollback' }),
      action('a3', { created: T0 + 2 * MIN, phase: 'Succeeded', completed: T0 + 3 * MIN, dryRun: true }),
    ];
    const first = updateLearning(undefined, ledger, WINDOW, T0 + 10 * MIN);
    expect(outcomesFor(first, 'Deployment/shop/web')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ trigger: 'crash', action: 'restart', successes: 1, failures: 0 }),
        expect.objectContaining({ trigger: 'crash', action: 'rollback', successes: 0, failures: 1 }),
      ]),
    );
    // A restart, a relist, another replica: the same ledger counted again changes nothing.
    expect(updateLearning(first, ledger, WINDOW, T0 + 20 * MIN)).toBe(first);
  });

  it('marks a verified success as recurred when the same trigger fires on the same workload within the window', () => {
    const ok = action('a1', { created: T0, phase: 'Succeeded', completed: T0 + MIN });
    let learning = updateLearning(undefined, [ok], WINDOW, T0 + 2 * MIN);
    const again = action('a2', { created: T0 + 10 * MIN });
    learning = updateLearning(learning, [ok, again], WINDOW, T0 + 11 * MIN);
    expect(outcomesFor(learning, 'Deployment/shop/web')[0]).toMatchObject({ action: 'restart', successes: 1, recurrences: 1 });
    // Much later (outside the window) is a new problem, not a recurrence.
    const later = action('a3', { created: T0 + 3 * WINDOW });
    learning = updateLearning(learning, [ok, again, later], WINDOW, T0 + 3 * WINDOW + MIN);
    expect(outcomesFor(learning, 'Deployment/shop/web')[0]?.recurrences).toBe(1);
  });

  it('waits for outcomes of the last seconds, which the cache may not hold completely yet', () => {
    const ledger = [action('a1', { created: T0, phase: 'Succeeded', completed: T0 + MIN })];
    expect(outcomesFor(updateLearning(undefined, ledger, WINDOW, T0 + MIN + 1000), 'Deployment/shop/web')).toEqual([]);
    expect(outcomesFor(updateLearning(undefined, ledger, WINDOW, T0 + MIN + 6000), 'Deployment/shop/web')).toHaveLength(1);
  });
});
