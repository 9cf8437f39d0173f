import { describe, expect, it } from 'vitest';
import { evaluateGlobalBreaker, evaluatePolicyBreaker } from './circuit-breaker.js';
import type { GlobalBreakerSettings, LedgerEntry, PolicyBreakerSettings } from './types.js';

const T0 = Date.parse('2026-03-01T09:00:00Z');
const MIN = 60_000;
const POLICY = 'apps/crash-heal';
const SETTINGS: PolicyBreakerSettings = { failureThreshold: 3, openMs: 15 * MIN };
const GLOBAL: GlobalBreakerSettings = { failureRate: 0.5, minActions: 4, windowMs: 60 * MIN, openMs: 15 * MIN };

let seq = 0;
/** An executed action that started at T0 + `minute` and finished (verified or not) a minute later. */
function outcome(minute: number, ok: boolean, over: Partial<LedgerEntry> = {}): LedgerEntry {
  const startedAt = T0 + minute * MIN;
  return {
    name: `act-${String(seq++).padStart(3, '0')}`,
    namespace: 'apps',
    policy: POLICY,
    target: { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name: `web-${seq}` },
    type: 'restart',
    source: 'rule',
    phase: ok ? 'Succeeded' : 'Failed',
    createdAt: startedAt,
    startedAt,
    completedAt: startedAt + MIN,
    dryRun: false,
    verified: ok,
    ...over,
  };
}

function inFlight(minute: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return outcome(minute, true, { phase: 'InProgress', completedAt: undefined, verified: undefined, ...over });
}

const at = (minute: number): number => T0 + minute * MIN;

describe('per-policy circuit breaker', () => {
  it('is closed with no history', () => {
    const s = evaluatePolicyBreaker([], POLICY, SETTINGS, at(0));
    expect(s).toMatchObject({ state: 'closed', failures: 0, outcomes: 0 });
    expect(s.since).toBeUndefined();
  });

  it('stays closed below the threshold and says how close it is', () => {
    const s = evaluatePolicyBreaker([outcome(0, false), outcome(5, false)], POLICY, SETTINGS, at(10));
    expect(s.state).toBe('closed');
    expect(s.failures).toBe(2);
    expect(s.message).toContain('2 consecutive failed verifications (opens at 3)');
  });

  it('opens after failureThreshold consecutive failed verifications, until the last failure + openMs', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(12));
    expect(s).toMatchObject({ state: 'open', failures: 3, since: at(11), until: at(11) + 15 * MIN });
    expect(s.message).toBe(
      'circuit for policy apps/crash-heal is open: 3 consecutive failed verifications (threshold 3); half-opens at 09:26:00 UTC (in 14m)',
    );
  });

  it('does not open when a success breaks the run of failures', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, true), outcome(15, false)];
    expect(evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(20))).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('stays open on every call until openMs has passed (nothing resets it)', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false)];
    for (const minute of [12, 15, 20, 25]) {
      expect(evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(minute)).state).toBe('open');
    }
  });

  it('stays open longer when another failure arrives while open', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false), outcome(13, false)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(27));
    expect(s).toMatchObject({ state: 'open', until: at(14) + 15 * MIN });
  });

  it('half-opens after openMs and allows a trial', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(26));
    expect(s).toMatchObject({ state: 'half-open', since: at(26) });
    expect(s.trialInFlight).toBeUndefined();
    expect(s.message).toContain('one trial action may run');
  });

  it('reports the trial in flight while half-open, so a second action is refused', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false), inFlight(27)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(28));
    expect(s.state).toBe('half-open');
    expect(s.trialInFlight).toBe(ledger[3]?.name);
    expect(s.message).toContain(`trial action ${ledger[3]?.name ?? ''} is in flight`);
  });

  it('does not treat the action being evaluated as the trial in flight', () => {
    const trial = inFlight(27);
    const s = evaluatePolicyBreaker([outcome(0, false), outcome(5, false), outcome(10, false), trial], POLICY, SETTINGS, at(28), trial);
    expect(s.trialInFlight).toBeUndefined();
  });

  it('closes when the trial succeeds', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false), outcome(27, true)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(30));
    expect(s).toMatchObject({ state: 'closed', failures: 0, since: at(28) });
  });

  it('reopens when the trial fails, for another openMs from that failure', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false), outcome(27, false)];
    const s = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(30));
    expect(s).toMatchObject({ state: 'open', since: at(28), until: at(28) + 15 * MIN });
    expect(s.message).toContain('the trial action failed verification');
  });

  it('is not closed by a late success of an action that started before it opened', () => {
    // Started at minute 9 (before the breaker opened at 11), finished at minute 30, after the open period ended.
    const late = outcome(9, true, { completedAt: at(30) });
    const s = evaluatePolicyBreaker([outcome(0, false), outcome(5, false), outcome(10, false), late], POLICY, SETTINGS, at(31));
    expect(s.state).toBe('half-open');
  });

  it('ignores dry runs (they never verify anything)', () => {
    const ledger = [0, 5, 10].map((m) => outcome(m, false, { dryRun: true }));
    expect(evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(12)).state).toBe('closed');
  });

  it('ignores other policies', () => {
    const ledger = [0, 5, 10].map((m) => outcome(m, false, { policy: 'apps/other' }));
    expect(evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(12)).state).toBe('closed');
  });

  it('counts a Succeeded action whose result says verification failed as a failure', () => {
    const ledger = [0, 5, 10].map((m) => outcome(m, true, { verified: false }));
    expect(evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(12)).state).toBe('open');
  });

  it('is disabled by a failureThreshold of 0', () => {
    const ledger = [0, 5, 10].map((m) => outcome(m, false));
    const s = evaluatePolicyBreaker(ledger, POLICY, { failureThreshold: 0, openMs: MIN }, at(12));
    expect(s.state).toBe('closed');
    expect(s.message).toContain('disabled');
  });

  it('gives the same answer whatever order the ledger is listed in (derived, not accumulated)', () => {
    const ledger = [outcome(0, false), outcome(5, false), outcome(10, false), outcome(27, false)];
    const a = evaluatePolicyBreaker(ledger, POLICY, SETTINGS, at(30));
    const b = evaluatePolicyBreaker([...ledger].reverse(), POLICY, SETTINGS, at(30));
    expect(b).toEqual(a);
  });
});

describe('global circuit breaker', () => {
  it('opens when at least minActions outcomes in the window failed at the failure rate or more', () => {
    const ledger = [outcome(0, true, { policy: 'a/x' }), outcome(2, false, { policy: 'b/y' }), outcome(4, false, { policy: 'c/z' }), outcome(6, true), outcome(8, false)];
    // At minute 7 (4 outcomes): 2 of 4 failed = 50% ≥ 50% → opens; the failure at minute 9 keeps it open longer.
    const s = evaluateGlobalBreaker(ledger, GLOBAL, at(10));
    expect(s).toMatchObject({ state: 'open', since: at(7), until: at(9) + 15 * MIN, failures: 2, outcomes: 4 });
    expect(s.message).toBe(
      'global circuit is open: 2 of 4 actions failed verification within 1h (50% ≥ 50%); half-opens at 09:24:00 UTC (in 14m)',
    );
  });

  it('stays closed below minActions however bad the rate', () => {
    const ledger = [outcome(0, false), outcome(2, false), outcome(4, false)];
    const s = evaluateGlobalBreaker(ledger, GLOBAL, at(10));
    expect(s).toMatchObject({ state: 'closed', failures: 3, outcomes: 3 });
    expect(s.message).toBe('global circuit is closed: 3 of 3 actions failed verification in the last 1h (opens at 50% of at least 4)');
  });

  it('stays closed below the failure rate', () => {
    const ledger = [outcome(0, true), outcome(2, false), outcome(4, true), outcome(6, true), outcome(8, true)];
    expect(evaluateGlobalBreaker(ledger, GLOBAL, at(10)).state).toBe('closed');
  });

  it('does not count outcomes older than the window', () => {
    const ledger = [outcome(-120, false), outcome(-118, false), outcome(0, true), outcome(2, false), outcome(4, true)];
    expect(evaluateGlobalBreaker(ledger, GLOBAL, at(10)).state).toBe('closed');
  });

  it('half-opens after openMs, allows one trial, and closes on its success without old failures re-tripping it', () => {
    const failures = [outcome(0, false), outcome(2, false), outcome(4, false), outcome(6, false)];
    expect(evaluateGlobalBreaker(failures, GLOBAL, at(25)).state).toBe('half-open');
    expect(evaluateGlobalBreaker([...failures, inFlight(24, { policy: 'x/y' })], GLOBAL, at(25)).trialInFlight).toBeDefined();
    const closed = evaluateGlobalBreaker([...failures, outcome(24, true)], GLOBAL, at(30));
    expect(closed).toMatchObject({ state: 'closed', since: at(25), failures: 0, outcomes: 1 });
  });

  it('reopens when the trial fails', () => {
    const ledger = [outcome(0, false), outcome(2, false), outcome(4, false), outcome(6, false), outcome(24, false)];
    expect(evaluateGlobalBreaker(ledger, GLOBAL, at(30))).toMatchObject({ state: 'open', since: at(25), until: at(40) });
  });
});
