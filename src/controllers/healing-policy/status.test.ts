import { describe, expect, it } from 'vitest';
import type { HealingPolicyStatus } from '../../api/v1alpha1/healing-policy.js';
import { policyStatus, statusNeedsWrite, statusRefreshFor, type PolicyStatusInput } from './status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const REFRESH = 60_000;

const input = (over: Partial<PolicyStatusInput> = {}): PolicyStatusInput => ({
  now: T0,
  generation: 1,
  matched: 120,
  activeTriggers: ['restarts'],
  actionsTaken: 3,
  actionsAllowed: 97,
  maxActionsPerHour: 100,
  lastActionAt: T0 - 5000,
  paused: false,
  selectionProblems: [],
  unknownReasons: [],
  ...over,
});

/** What the API server returns for a stored status: the same JSON with every object's keys sorted. */
function asServerReturnsIt(status: HealingPolicyStatus): HealingPolicyStatus {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return JSON.parse(JSON.stringify(sort(status))) as HealingPolicyStatus;
}

describe('statusRefreshFor', () => {
  it('gives each policy its own period between half the refresh interval and all of it, the same on every call', () => {
    const periods = Array.from({ length: 100 }, (_, i) => statusRefreshFor(`apps-${i}/quiet`, 600_000));
    expect(periods.every((p) => p >= 300_000 && p <= 600_000)).toBe(true);
    expect(statusRefreshFor('apps-7/quiet', 600_000)).toBe(periods[7]);
    // Spread: of 100 policies started together, no minute of the five holds more than a third of the refreshes.
    const perMinute = [0, 0, 0, 0, 0];
    for (const p of periods) perMinute[Math.min(4, Math.floor((p - 300_000) / 60_000))]!++;
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(33);
    expect(Math.min(...perMinute)).toBeGreaterThan(5);
  });
});

describe('statusNeedsWrite', () => {
  const written = asServerReturnsIt(policyStatus(undefined, input()));

  it.each<[string, boolean, HealingPolicyStatus | undefined, PolicyStatusInput]>([
    ['no status yet', true, undefined, input()],
    ['nothing changed, as the API server returns it (keys sorted)', false, written, input({ now: T0 + 10_000 })],
    ['nothing changed, but lastEvaluated is older than the refresh interval', true, written, input({ now: T0 + REFRESH })],
    ['a count changed', true, written, input({ now: T0 + 10_000, matched: 119 })],
    ['a field went away (no active trigger any more)', true, written, input({ now: T0 + 10_000, activeTriggers: [] })],
    ['a condition changed', true, written, input({ now: T0 + 10_000, actionsAllowed: 0 })],
  ])('%s → write: %s', (_name, expected, prev, next) => {
    expect(statusNeedsWrite(prev, policyStatus(prev, next), next.now, REFRESH)).toBe(expected);
  });

  it('does not write again right after its own write came back through the informer', () => {
    // The loop it must not start: write → MODIFIED → reconcile → write …
    let stored = asServerReturnsIt(policyStatus(undefined, input()));
    let writes = 0;
    for (let i = 1; i <= 10; i++) {
      const now = T0 + i * 1000;
      const next = policyStatus(stored, input({ now }));
      if (statusNeedsWrite(stored, next, now, REFRESH)) {
        writes++;
        stored = asServerReturnsIt(next);
      }
    }
    expect(writes).toBe(0);
  });
});
