import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { eventsForTransition, notificationOf, slackPayload, webhookPayload } from './events.js';

describe('eventsForTransition', () => {
  it.each([
    [undefined, 'WaitingApproval', ['created', 'waiting-approval']],
    [undefined, 'InProgress', ['created']],
    [undefined, 'Blocked', ['created', 'blocked']],
    ['Pending', 'Blocked', ['created', 'blocked']],
    ['WaitingApproval', 'Approved', []],
    ['Approved', 'InProgress', []],
    ['InProgress', 'Verifying', []],
    ['Verifying', 'Succeeded', ['succeeded']],
    ['Verifying', 'Failed', ['failed']],
    ['InProgress', 'Approved', []],
    ['WaitingApproval', 'Cancelled', []],
    ['Verifying', 'Verifying', []],
    ['Verifying', undefined, []],
  ] as const)('%s → %s gives %j', (from, to, events) => {
    expect(eventsForTransition(from, to)).toEqual(events);
  });
});

const action: HealingAction = {
  apiVersion: 'kubeskippy.io/v1alpha1',
  kind: 'HealingAction',
  metadata: { name: 'crash-restart-1a2b', namespace: 'shop' },
  spec: {
    policyRef: { name: 'crash' },
    targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' },
    action: { name: 'restart', type: 'restart' },
    trigger: { name: 'restarts', type: 'metric', firedAt: '2026-03-01T10:00:00Z', reason: 'restart_count 4 > 3' },
  },
};

describe('payloads', () => {
  const n = notificationOf('failed', action, { phase: 'Failed', reason: 'VerificationTimeout', message: 'not healthy within 300s' }, '2026-03-01T10:05:00Z');

  it('gives webhooks the whole event as JSON', () => {
    expect(webhookPayload(n)).toEqual({
      kind: 'kubeskippy.io/notification',
      version: 'v1',
      event: 'failed',
      time: '2026-03-01T10:05:00Z',
      action: {
        namespace: 'shop',
        name: 'crash-restart-1a2b',
        policy: { kind: 'HealingPolicy', namespace: 'shop', name: 'crash' },
        type: 'restart',
        target: { kind: 'Pod', namespace: 'shop', name: 'web-1' },
        phase: 'Failed',
        reason: 'VerificationTimeout',
        message: 'not healthy within 300s',
        source: 'rule',
        dryRun: false,
        trigger: { name: 'restarts', reason: 'restart_count 4 > 3' },
      },
    });
  });

  it('gives Slack one readable line, with the approve command when a person is needed', () => {
    expect(slackPayload(n)).toEqual({ text: '[kubeskippy] FAILED: restart Pod shop/web-1 (policy shop/crash, action shop/crash-restart-1a2b) — VerificationTimeout: not healthy within 300s' });
    const waiting = notificationOf('waiting-approval', action, { phase: 'WaitingApproval' }, '2026-03-01T10:05:00Z');
    expect(slackPayload(waiting).text).toMatch(/waiting for approval: .* — kubeskippy approve crash-restart-1a2b -n shop$/);
  });
});
