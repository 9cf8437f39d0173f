import { describe, expect, it } from 'vitest';
import {
  CONTROL_KEYS,
  describePause,
  formatOperatorState,
  parseOperatorState,
  pauseData,
  readControl,
  resumeData,
  shouldPublish,
  type OperatorState,
} from './switch.js';

const STATE: OperatorState = {
  identity: 'op-a',
  version: '0.1.0',
  since: '2026-03-01T10:00:00Z',
  dryRun: false,
  configPaused: false,
  maxActionsPerHour: 30,
  aiMaxActionsPerHour: 10,
  policyBreaker: { failureThreshold: 3, openSeconds: 600 },
  globalBreaker: { failureRate: 0.5, minActions: 5, windowSeconds: 900, openSeconds: 600 },
};

describe('readControl', () => {
  it.each([
    ['no ConfigMap at all', undefined, false],
    ['a ConfigMap without data', {}, false],
    ['paused "true"', { data: { paused: 'true' } }, true],
    ['paused " TRUE "', { data: { paused: ' TRUE ' } }, true],
    ['paused "yes"', { data: { paused: 'yes' } }, true],
    ['paused "false"', { data: { paused: 'false' } }, false],
    ['paused ""', { data: { paused: '' } }, false],
    ['paused "0"', { data: { paused: '0' } }, false],
    ['paused "maybe" (fail safe: paused)', { data: { paused: 'maybe' } }, true],
  ] as const)('reads %s', (_what, cm, paused) => {
    expect(readControl(cm).paused).toBe(paused);
  });

  it('says why an unrecognised value counts as paused', () => {
    expect(readControl({ data: { paused: 'maybe' } }).problem).toMatch(/"maybe", neither true nor false: read as paused/);
    expect(readControl({ data: { paused: 'true' } }).problem).toBeUndefined();
  });

  it('round-trips what pause and resume write, keeping the last pause on record after a resume', () => {
    const paused = readControl({ data: pauseData('alice', 'incident 42', '2026-03-01T10:00:00Z') });
    expect(paused).toEqual({ paused: true, reason: 'incident 42', pausedBy: 'alice', pausedAt: '2026-03-01T10:00:00Z' });
    expect(describePause(paused)).toBe('paused by alice at 2026-03-01T10:00:00Z: incident 42');
    const resumed = readControl({ data: { ...pauseData('alice', 'incident 42', '2026-03-01T10:00:00Z'), ...resumeData('bob', '2026-03-01T11:00:00Z') } });
    expect(resumed).toMatchObject({ paused: false, reason: 'incident 42', resumedBy: 'bob', resumedAt: '2026-03-01T11:00:00Z' });
    expect(Object.values(CONTROL_KEYS)).toEqual(expect.arrayContaining(Object.keys(resumeData('x', 'y'))));
  });
});

describe('operator state', () => {
  it('round-trips through the annotation text', () => {
    expect(parseOperatorState(formatOperatorState(STATE))).toEqual(STATE);
    expect(parseOperatorState(formatOperatorState({ ...STATE, namespaceSelector: 'team=a' }))?.namespaceSelector).toBe('team=a');
  });

  it.each([undefined, '', 'not json', '[]', '{"identity":"x"}', JSON.stringify({ ...STATE, dryRun: 'no' })])('refuses %j', (text) => {
    expect(parseOperatorState(text)).toBeUndefined();
  });

  it('publishes when nothing (or garbage) is there, or its own report is stale; never over another replica\'s', () => {
    expect(shouldPublish(undefined, STATE)).toBe(true);
    expect(shouldPublish('garbage', STATE)).toBe(true);
    expect(shouldPublish(formatOperatorState(STATE), STATE)).toBe(false);
    expect(shouldPublish(formatOperatorState({ ...STATE, dryRun: true }), STATE)).toBe(true);
    expect(shouldPublish(formatOperatorState({ ...STATE, identity: 'op-b', dryRun: true }), STATE)).toBe(false);
  });
});
