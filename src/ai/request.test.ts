import { describe, expect, it } from 'vitest';
import type { Assessment } from '../analysis/types.js';
import type { ConditionState } from '../metrics/types.js';
import { summarizeAssessment, summarizeObservations } from './request.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

const assessment: Assessment = {
  pattern: 'linear-leak',
  willBreach: true,
  secondsToLimit: 1079.6,
  interval: { low: 900, high: 1300 },
  confidence: 0.8712,
  breachProbability: 0.8712,
  rawProbability: 0.9,
  calibrationGroup: 'trend',
  reasoning: ['rising'],
  forecast: { model: 'line', fittedFrom: NOW - 3_600_000, levelAtNow: 82.44, slopePerSecond: 0.007, noiseSigma: 0.5, points: [{ at: NOW, value: 82.44 }, { at: NOW + 60_000, value: 82.86 }] },
  samplesUsed: 240,
  resets: [],
  outliers: 0,
};

describe('summarizeAssessment', () => {
  it('keeps a few rounded numbers and no samples or forecast points', () => {
    expect(summarizeAssessment(assessment)).toEqual({
      pattern: 'linear-leak',
      willBreach: true,
      secondsToLimit: 1080,
      breachProbability: 0.87,
      confidence: 0.87,
      levelNow: 82.4,
      slopePerMinute: 0.42,
      unit: '%',
    });
  });
});

describe('summarizeObservations', () => {
  it('groups events in the window by reason and type, sums their counts and keeps the latest message', () => {
    const s = summarizeObservations({
      now: NOW,
      events: [
        { at: NOW - 60_000, reason: 'BackOff', type: 'Warning', count: 3, message: 'older' },
        { at: NOW - 10_000, reason: 'BackOff', type: 'Warning', count: 2, message: 'newer' },
        { at: NOW - 20 * 60_000, reason: 'BackOff', type: 'Warning', count: 9, message: 'outside the window' },
        { at: NOW + 5_000, reason: 'Future', type: 'Warning', count: 1 },
        { at: NOW - 5_000, reason: 'Pulled', type: 'Normal', count: 0 },
      ],
      conditions: new Map(),
    });
    expect(s.events).toEqual([
      { reason: 'BackOff', type: 'Warning', count: 5, lastSeenSecondsAgo: 10, message: 'newer' },
      { reason: 'Pulled', type: 'Normal', count: 1, lastSeenSecondsAgo: 5 },
    ]);
  });

  it('reports conditions with how long they held, their reason, and never their message', () => {
    const conditions = new Map<string, ConditionState>([['CrashLoopBackOff', { status: 'True', since: NOW - 90_000, reason: 'BackOff', message: 'password=hunter2' }]]);
    const s = summarizeObservations({ now: NOW, events: [], conditions, memory: assessment });
    expect(s.conditions).toEqual([{ type: 'CrashLoopBackOff', status: 'True', forSeconds: 90, reason: 'BackOff' }]);
    expect(JSON.stringify(s)).not.toContain('hunter2');
    expect(s.assessments.memory?.pattern).toBe('linear-leak');
    expect(s.assessments.cpu).toBeUndefined();
  });
});
