import { describe, expect, it } from 'vitest';
import { adjustForOutcomes, NO_OUTCOMES, recordOutcome } from './learning.js';

describe('recordOutcome', () => {
  it('counts successes, failures and recurrences of earlier successes', () => {
    let s = NO_OUTCOMES;
    s = recordOutcome(s, 'success');
    s = recordOutcome(s, 'recurrence');
    s = recordOutcome(s, 'recurrence');
    s = recordOutcome(s, 'failure');
    expect(s).toEqual({ successes: 1, failures: 1, recurrences: 1 });
  });
});

describe('adjustForOutcomes', () => {
  const history = [
    { trigger: 'oom-leak', action: 'restart-pod', successes: 4, failures: 0, recurrences: 4 },
    { trigger: 'oom-leak', action: 'raise-limit', successes: 3, failures: 0, recurrences: 0 },
    { trigger: 'crashloop', action: 'restart-pod', successes: 0, failures: 6, recurrences: 0 },
  ];

  it('leaves the prior alone without a matching record', () => {
    expect(adjustForOutcomes(0.7, history, 'memory-forecast', 'restart-pod')).toEqual({ confidence: 0.7 });
  });

  it('lowers an action whose successes all recurred, and raises one that lasted', () => {
    const restart = adjustForOutcomes(0.8, history, 'oom-leak', 'restart-pod');
    const patch = adjustForOutcomes(0.45, history, 'oom-leak', 'raise-limit');
    expect(restart.confidence).toBeLessThan(0.6);
    expect(patch.confidence).toBeGreaterThan(0.55);
    // Four recurring restarts are enough for the escalation to overtake them.
    expect(patch.confidence).toBeGreaterThan(restart.confidence);
    expect(restart.note).toMatch(/4 of 4 succeeded, 4 of those recurred/);
  });

  it('weighs a long run of failures more than a single one', () => {
    const many = adjustForOutcomes(0.6, history, 'crashloop', 'restart-pod').confidence;
    const one = adjustForOutcomes(0.6, [{ trigger: 'crashloop', action: 'restart-pod', successes: 0, failures: 1, recurrences: 0 }], 'crashloop', 'restart-pod').confidence;
    expect(many).toBeLessThan(one);
    expect(one).toBeLessThan(0.6);
  });
});
