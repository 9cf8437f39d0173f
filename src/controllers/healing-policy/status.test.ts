import { describe, expect, it } from 'vitest';
import type { HealingPolicyStatus } from '../../api/v1alpha1/healing-policy.js';
import { policyStatus, statusNeedsWrite, statusRefreshPhase, type PolicyStatusInput } from './status.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const REFRESH = 60_000;
const REFRESH_10M = 600_000;

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

describe('statusRefreshPhase', () => {
  it('gives each policy its own point of the period, the same on every call, spread over the whole period', () => {
    const phases = Array.from({ length: 100 }, (_, i) => statusRefreshPhase(`apps-${i}/quiet`, 600_000));
    expect(phases.every((p) => p >= 0 && p < 600_000)).toBe(true);
    expect(statusRefreshPhase('apps-7/quiet', 600_000)).toBe(phases[7]);
    // Of 100 policies started together, no minute of the ten holds more than a fifth of the refreshes.
    const perMinute = Array.from({ length: 10 }, () => 0);
    for (const p of phases) perMinute[Math.floor(p / 60_000)]!++;
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(20);
  });

  it('refreshes an unchanged status once in each slot of the period, at the policy\'s own point of it', () => {
    const phase = 4 * 60_000;
    const at = (t: number): HealingPolicyStatus => asServerReturnsIt(policyStatus(undefined, input({ now: t })));
    // Written at minute 1 of a 10-minute period whose slots start at minute 4: due at minute 4, not before.
    const prev = at(T0 + 60_000);
    const same = (t: number): boolean => statusNeedsWrite(prev, policyStatus(prev, input({ now: t })), t, REFRESH_10M, phase);
    expect(same(T0 + 3.9 * 60_000)).toBe(false);
    expect(same(T0 + 4 * 60_000)).toBe(true);
    // Written right at minute 4: the next refresh is at minute 14, a whole period later.
    const prev2 = at(T0 + 4 * 60_000);
    expect(statusNeedsWrite(prev2, policyStatus(prev2, input({ now: T0 + 13.9 * 60_000 })), T0 + 13.9 * 60_000, REFRESH_10M, phase)).toBe(false);
    expect(statusNeedsWrite(prev2, policyStatus(prev2, input({ now: T0 + 14 * 60_000 })), T0 + 14 * 60_000, REFRESH_10M, phase)).toBe(true);
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
