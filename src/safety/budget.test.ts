import { describe, expect, it } from 'vitest';
import {
  HOUR_MS,
  actionsAllowed,
  budgetUsage,
  formatDuration,
  formatInstant,
  nextSlotAt,
  parseIntOrPercent,
  policyBudgetUsage,
  resolveMaxUnavailable,
  rollsOutAt,
} from './budget.js';
import type { LedgerEntry } from './types.js';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const POLICY = { key: 'apps/crash-heal', maxActionsPerHour: 5 };

let seq = 0;
function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  const at = over.startedAt ?? NOW - 10 * MIN;
  return {
    name: `act-${seq++}`,
    namespace: 'apps',
    policy: POLICY.key,
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: `web-${seq}` },
    type: 'restart',
    source: 'rule',
    phase: 'Succeeded',
    createdAt: at,
    startedAt: at,
    completedAt: at + MIN,
    dryRun: false,
    verified: true,
    ...over,
  };
}

describe('budgetUsage', () => {
  it('counts times inside the rolling window and leaves the rest', () => {
    const times = [NOW - 61 * MIN, NOW - 59 * MIN, NOW - MIN];
    expect(budgetUsage(times, 5, NOW)).toEqual({ used: 2, limit: 5, remaining: 3, nextSlotAt: NOW });
  });

  it('no longer counts an action exactly one hour old (the window is open at its start)', () => {
    expect(budgetUsage([NOW - HOUR_MS], 1, NOW).used).toBe(0);
    expect(budgetUsage([NOW - HOUR_MS + 1], 1, NOW).used).toBe(1);
  });

  it('puts the next slot where the oldest counted execution rolls out of the hour', () => {
    const times = [NOW - 50 * MIN, NOW - 40 * MIN, NOW - 30 * MIN];
    expect(budgetUsage(times, 3, NOW).nextSlotAt).toBe(NOW + 10 * MIN);
  });

  it('waits for enough executions to roll out when usage is above a lowered limit', () => {
    const times = [NOW - 50 * MIN, NOW - 40 * MIN, NOW - 30 * MIN, NOW - 20 * MIN];
    // limit 2: three of the four must roll out; the third-oldest does so at NOW + 30m.
    expect(budgetUsage(times, 2, NOW)).toEqual({ used: 4, limit: 2, remaining: 0, nextSlotAt: NOW + 30 * MIN });
  });

  it('never promises a slot when the limit is 0', () => {
    expect(budgetUsage([], 0, NOW)).toEqual({ used: 0, limit: 0, remaining: 0 });
  });

  it('counts times in the future (a replica whose clock runs ahead) rather than ignoring them', () => {
    expect(budgetUsage([NOW + 5 * MIN], 1, NOW).used).toBe(1);
  });
});

describe('rollsOutAt', () => {
  it('is when the oldest time still inside the window leaves it', () => {
    expect(rollsOutAt([NOW - 70 * MIN, NOW - 50 * MIN, NOW - 5 * MIN], NOW)).toBe(NOW - 50 * MIN + HOUR_MS);
    // Exactly one window old has rolled out already (budgetUsage's rule).
    expect(rollsOutAt([NOW - HOUR_MS], NOW)).toBeUndefined();
    expect(rollsOutAt([], NOW)).toBeUndefined();
    expect(rollsOutAt([NOW - 2 * MIN], NOW, 5 * MIN)).toBe(NOW + 3 * MIN);
  });
});

describe('actionsAllowed and nextSlotAt (policy status)', () => {
  it('is the rule budget left for this policy in the last hour', () => {
    const ledger = [entry(), entry(), entry({ startedAt: NOW - 61 * MIN })];
    expect(actionsAllowed(POLICY, ledger, NOW)).toBe(3);
    expect(nextSlotAt(POLICY, ledger, NOW)).toBe(NOW);
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['another policy', { policy: 'apps/other' }],
    ['an AI-sourced action (AI has its own budget)', { source: 'ai' }],
    ['a dry run', { dryRun: true }],
    ['a blocked action', { phase: 'Blocked', startedAt: undefined, completedAt: undefined }],
    ['a pending action', { phase: 'Pending', startedAt: undefined, completedAt: undefined }],
    ['an action waiting for approval', { phase: 'WaitingApproval', startedAt: undefined, completedAt: undefined }],
    ['an action cancelled before it started', { phase: 'Cancelled', startedAt: undefined }],
  ])('does not count %s', (_name, over) => {
    expect(actionsAllowed(POLICY, [entry(over)], NOW)).toBe(5);
  });

  it.each<[string, Partial<LedgerEntry>]>([
    ['a succeeded action', {}],
    ['a failed action', { phase: 'Failed', verified: false }],
    ['an action in progress', { phase: 'InProgress', completedAt: undefined }],
    ['an action being verified', { phase: 'Verifying', completedAt: undefined }],
    ['an action cancelled after it started (it may have mutated)', { phase: 'Cancelled' }],
    ['an in-progress action whose startTime is not written yet (counted from creation)', { phase: 'InProgress', startedAt: undefined, completedAt: undefined, createdAt: NOW - MIN }],
  ])('counts %s', (_name, over) => {
    expect(actionsAllowed(POLICY, [entry(over)], NOW)).toBe(4);
  });

  it('counts dry runs only when asked, for a policy in dryrun mode', () => {
    const ledger = [entry({ dryRun: true }), entry({ dryRun: true })];
    expect(actionsAllowed(POLICY, ledger, NOW)).toBe(5);
    expect(actionsAllowed(POLICY, ledger, NOW, { includeDryRuns: true })).toBe(3);
  });

  it('reports the next slot when the budget is spent', () => {
    const ledger = [50, 40, 30, 20, 10].map((m) => entry({ startedAt: NOW - m * MIN }));
    expect(policyBudgetUsage(POLICY, ledger, NOW)).toMatchObject({ used: 5, remaining: 0 });
    expect(nextSlotAt(POLICY, ledger, NOW)).toBe(NOW + 10 * MIN);
  });

  it('has no next slot for a policy allowed 0 actions per hour', () => {
    expect(nextSlotAt({ key: POLICY.key, maxActionsPerHour: 0 }, [], NOW)).toBeUndefined();
  });
});

describe('resolveMaxUnavailable', () => {
  it.each<[number | string, number, number, string]>([
    [1, 3, 1, 'an integer is used as is'],
    [2, 1, 2, 'an integer above the replica count is only a cap'],
    [0, 3, 0, '0 forbids disruptions'],
    ['50%', 4, 2, 'a percentage of replicas'],
    ['50%', 5, 2, 'a percentage rounds down (2.5 → 2)'],
    ['25%', 3, 1, 'a percentage that rounds to 0 is raised to 1 so healing can progress'],
    ['10%', 1, 1, 'even for one replica (the last-ready rule still protects it)'],
    ['0%', 3, 0, '"0%" forbids disruptions'],
    ['100%', 3, 3, '"100%" is every replica'],
    ['25%', 0, 0, 'a workload with no replicas has nothing to disrupt'],
    ['abc', 3, 0, 'an invalid string fails closed'],
    [-1, 3, 0, 'a negative integer fails closed'],
    [1.5, 3, 0, 'a fraction fails closed'],
  ])('resolves %j of %i replicas to %i: %s', (value, replicas, expected) => {
    expect(resolveMaxUnavailable(value, replicas)).toBe(expected);
  });
});

describe('parseIntOrPercent', () => {
  it.each<[number | string, ReturnType<typeof parseIntOrPercent>]>([
    [3, { kind: 'int', value: 3 }],
    ['25%', { kind: 'percent', value: 25 }],
    ['3', undefined],
    ['%', undefined],
    ['-5%', undefined],
    ['2.5%', undefined],
  ])('parses %j', (value, expected) => {
    expect(parseIntOrPercent(value)).toEqual(expected);
  });
});

describe('message formats', () => {
  it('shows an instant on the same UTC day as a time of day', () => {
    expect(formatInstant(Date.parse('2026-03-01T10:42:07.500Z'), NOW)).toBe('10:42:07 UTC');
  });

  it('shows the date of an instant on another day', () => {
    expect(formatInstant(Date.parse('2026-03-02T00:15:00Z'), NOW)).toBe('2026-03-02 00:15:00 UTC');
  });

  it.each<[number, string]>([
    [0, '0s'],
    [-5, '0s'],
    [1, '1s'],
    [45_000, '45s'],
    [270_000, '4m 30s'],
    [HOUR_MS, '1h'],
    [2 * HOUR_MS + 5 * MIN, '2h 5m'],
  ])('formats %i ms as %s', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});
