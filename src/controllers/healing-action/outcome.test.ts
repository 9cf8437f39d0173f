import { describe, expect, it } from 'vitest';
import type { HealingAction, HealingActionStatus } from '../../api/v1alpha1/healing-action.js';
import type { TargetObservations } from '../../metrics/types.js';
import { FAILURE_OBSERVED, failureObservedCondition, healingKind, healingOutcome, healingResult, observedFailure } from './outcome.js';

const NOW = Date.parse('2026-01-01T12:10:00Z');
const T = '2026-01-01T12:00:00Z';

function action(trigger: 'predictive' | 'metric' | undefined, extra: Partial<HealingAction['spec']> = {}, status?: HealingActionStatus): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name: 'a', namespace: 'shop' },
    spec: {
      policyRef: { name: 'leaks' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' },
      action: { name: 'restart', type: 'restart' },
      ...(trigger ? { trigger: { name: 't', type: trigger, firedAt: T } } : {}),
      ...extra,
    },
    ...(status ? { status } : {}),
  };
}

const cond = (type: string, status: 'True' | 'False') => ({ type, status, reason: 'r', message: '', lastTransitionTime: T });
const verified = (failureObserved?: 'True' | 'False'): HealingActionStatus => ({
  phase: 'Succeeded',
  conditions: [cond('Verified', 'True'), ...(failureObserved ? [cond(FAILURE_OBSERVED, failureObserved)] : [])],
});

function obs(parts: Partial<TargetObservations> = {}): TargetObservations {
  return { target: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' }, series: new Map(), conditions: new Map(), events: [], unavailable: new Map(), ...parts };
}

describe('healingKind and healingResult', () => {
  it.each([
    ['predictive', 'predictive'],
    ['metric', 'reactive'],
    [undefined, 'reactive'],
  ] as const)('calls an action whose trigger is %s %s', (trigger, kind) => {
    expect(healingKind(action(trigger))).toBe(kind);
  });

  it.each([
    ['Succeeded', 'succeeded'],
    ['Failed', 'failed'],
    ['Blocked', 'blocked'],
    ['Cancelled', 'cancelled'],
    ['Verifying', undefined],
    ['Pending', undefined],
    [undefined, undefined],
  ] as const)('maps phase %s to result %s', (phase, result) => {
    expect(healingResult(phase)).toBe(result);
  });
});

describe('observedFailure', () => {
  const before = Date.parse('2026-01-01T12:05:00Z');

  it('sees no failure in a target that only grew', () => {
    expect(observedFailure(obs({ series: new Map([['memory_usage_percent', [{ at: before - 60_000, value: 20 }, { at: before, value: 30 }]], ['restart_count', [{ at: before, value: 0 }]]]), conditions: new Map([['OOMKilled', { status: 'False', since: 0 }]]) }), before)).toEqual({ failed: false });
  });

  it.each([
    ['an OOMKilled condition', obs({ conditions: new Map([['OOMKilled', { status: 'True', since: 0 }]]) }), 'OOMKilled'],
    ['a CrashLoopBackOff condition', obs({ conditions: new Map([['CrashLoopBackOff', { status: 'True', since: 0, message: 'app: back-off' }]]) }), 'CrashLoopBackOff'],
    ['an OOMKilling Event', obs({ events: [{ at: before - 1000, reason: 'OOMKilling', type: 'Warning', count: 1 }] }), 'OOMEvent'],
    ['a crash back-off Event', obs({ events: [{ at: before - 1000, reason: 'BackOff', type: 'Warning', count: 3, message: 'Back-off restarting failed container app' }] }), 'CrashEvent'],
    ['a restart', obs({ series: new Map([['restart_count', [{ at: before - 120_000, value: 0 }, { at: before - 60_000, value: 1 }]]]) }), 'Restarted'],
  ])('sees %s as a failure that already happened', (_, o, reason) => {
    expect(observedFailure(o, before)).toMatchObject({ failed: true, reason });
  });

  it('ignores Events and restarts after the action, and image-pull back-offs', () => {
    const o = obs({
      events: [
        { at: before + 1000, reason: 'OOMKilling', type: 'Warning', count: 1 },
        { at: before - 1000, reason: 'BackOff', type: 'Normal', count: 1, message: 'Back-off pulling image "x"' },
      ],
      series: new Map([['restart_count', [{ at: before - 1000, value: 0 }, { at: before + 1000, value: 1 }]]]),
    });
    expect(observedFailure(o, before)).toEqual({ failed: false });
  });

  it('becomes a FailureObserved condition', () => {
    expect(failureObservedCondition({ failed: false })).toMatchObject({ type: FAILURE_OBSERVED, status: 'False', reason: 'NoFailureObserved' });
    expect(failureObservedCondition({ failed: true, reason: 'OOMKilled', message: 'm' })).toEqual({ type: FAILURE_OBSERVED, status: 'True', reason: 'OOMKilled', message: 'm' });
  });
});

describe('healingOutcome', () => {
  it('counts a verified predictive action with no failure before it as a prevented failure, with its time to heal', () => {
    const a = action('predictive', { source: 'ai' }, { phase: 'Verifying' });
    expect(healingOutcome(a, verified('False'), NOW)).toEqual({
      labels: { policy: 'leaks', namespace: 'shop', source: 'ai', kind: 'predictive', result: 'succeeded' },
      timeToHealSeconds: 600,
      prevented: true,
    });
  });

  it('does not count as prevented a predictive action that repaired a failure, or whose observation was never recorded', () => {
    const a = action('predictive', {}, { phase: 'Verifying' });
    expect(healingOutcome(a, verified('True'), NOW)?.prevented).toBe(false);
    expect(healingOutcome(a, verified(), NOW)?.prevented).toBe(false);
  });

  it('counts a reactive success with its time to heal, never as prevented', () => {
    const out = healingOutcome(action('metric', {}, { phase: 'Verifying' }), verified('False'), NOW);
    expect(out).toEqual({ labels: { policy: 'leaks', namespace: 'shop', source: 'rule', kind: 'reactive', result: 'succeeded' }, timeToHealSeconds: 600, prevented: false });
  });

  it('gives no time to heal and no prevention to a success that was not verified', () => {
    const out = healingOutcome(action('predictive', {}, { phase: 'InProgress' }), { phase: 'Succeeded', conditions: [cond(FAILURE_OBSERVED, 'False')] }, NOW);
    expect(out).toEqual({ labels: expect.objectContaining({ result: 'succeeded' }) as unknown, prevented: false });
  });

  it.each([
    ['Failed', 'failed'],
    ['Blocked', 'blocked'],
    ['Cancelled', 'cancelled'],
  ] as const)('counts %s as result %s, without time to heal', (phase, result) => {
    expect(healingOutcome(action('metric'), { phase }, NOW)).toEqual({ labels: expect.objectContaining({ result }) as unknown, prevented: false });
  });

  it('counts nothing for a phase that is not an end, a repeated write of the same end, or a dry run', () => {
    expect(healingOutcome(action('metric'), { phase: 'Verifying' }, NOW)).toBeUndefined();
    expect(healingOutcome(action('metric', {}, { phase: 'Failed' }), { phase: 'Failed' }, NOW)).toBeUndefined();
    expect(healingOutcome(action('metric', { dryRun: true }), verified(), NOW)).toBeUndefined();
  });
});
