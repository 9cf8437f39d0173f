// Tests of the page's formatting module (static/format.js, plain JavaScript run by the browser), in Node.
import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatBeforeAfter,
  formatBudget,
  formatConfidence,
  formatCounts,
  formatDuration,
  formatMetric,
  formatNumber,
  formatTarget,
  formatTrigger,
  phaseStyle,
} from './static/format.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5000, '0s'],
    [45_000, '45s'],
    [270_000, '4m 30s'],
    [3_600_000, '1h'],
    [3_605_000, '1h'],
    [3_900_000, '1h 5m'],
    [2 * 86_400_000 + 3 * 3_600_000 + 59_000, '2d 3h'],
  ])('%i ms is %s', (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });
});

describe('formatAgo', () => {
  it.each([
    [1000, 1000, 'just now'],
    [0, 12_000, '12s ago'],
    [180_000, 0, 'in 3m'],
  ])('at %i seen at %i is %s', (at, now, want) => {
    expect(formatAgo(at, now)).toBe(want);
  });
});

describe('formatNumber and formatMetric', () => {
  it.each([
    ['restart_count', 7, '7'],
    ['restart_count', 2.5, '2.5'],
    ['memory_usage_percent', 66.4321, '66.4%'],
    ['cpu_usage_percent', 100, '100%'],
    ['memory_usage_bytes', 100 * 2 ** 20, '100Mi'],
    ['memory_usage_bytes', 1.5 * 2 ** 30, '1.5Gi'],
    ['memory_usage_bytes', 512, '512B'],
    ['cpu_usage_millicores', 249.6, '250m'],
    ['rate(http_errors[5m])', 0.12345, '0.123'],
    ['rate(x[5m])', Number.POSITIVE_INFINITY, 'Infinity'],
  ])('%s %d is %s', (metric, v, want) => {
    expect(formatMetric(metric, v)).toBe(want);
  });

  it('writes huge and tiny numbers compactly', () => {
    expect(formatNumber(12_345_678)).toBe('1.23e+7');
    expect(formatNumber(0.0001234)).toBe('1.23e-4');
  });
});

describe('phaseStyle', () => {
  it('gives every phase a symbol as well as a tone, so colour is never the only cue', () => {
    const phases = ['Pending', 'WaitingApproval', 'Approved', 'InProgress', 'Verifying', 'Succeeded', 'Failed', 'Cancelled', 'Blocked'];
    const symbols = new Set(phases.map((p) => phaseStyle(p).symbol));
    expect(phaseStyle('Succeeded')).toEqual({ tone: 'good', symbol: '✓' });
    expect(phaseStyle('Failed')).toEqual({ tone: 'bad', symbol: '✗' });
    expect(phaseStyle('Blocked').tone).toBe('warn');
    expect(symbols.has('✓') && symbols.has('✗') && symbols.has('⊘')).toBe(true);
    expect(phaseStyle('SomethingNew')).toEqual({ tone: 'neutral', symbol: '○' });
  });
});

describe('words', () => {
  it('formats a budget, and says when a used-up one frees a slot', () => {
    expect(formatBudget({ used: 1, limit: 5, remaining: 4 }, 0)).toBe('4 of 5 left');
    expect(formatBudget({ used: 5, limit: 5, remaining: 0, nextSlotAt: 120_000 }, 0)).toBe('0 of 5 left · next in 2m');
    expect(formatBudget({ used: 0, limit: 0, remaining: 0 }, 0)).toBe('none allowed (limit 0)');
  });

  it('formats a fired trigger with its numbers', () => {
    expect(formatTrigger({ name: 'restarts', type: 'metric', reason: 'restart_count 4 > 2', observedValue: 4, threshold: 2 })).toBe('restarts (metric): restart_count 4 > 2 — observed 4, threshold 2');
    expect(formatTrigger({ name: 'oom', type: 'condition' })).toBe('oom (condition)');
  });

  it('pairs metrics before and after, marking what is missing on one side', () => {
    expect(formatBeforeAfter({ restart_count: '7', ready: '0' }, { restart_count: '0' })).toEqual(['ready 0 → ?', 'restart_count 7 → 0']);
  });

  it('shows the before values alone when nothing was recorded after (dry run, target gone)', () => {
    expect(formatBeforeAfter({ restart_count: '3', ready: '0' }, {})).toEqual(['before: ready 0, restart_count 3']);
    expect(formatBeforeAfter({}, {})).toEqual([]);
  });

  it('formats counts in lifecycle order without zeros, confidence and targets', () => {
    expect(formatCounts({ byPhase: { Failed: 1, Succeeded: 3, Pending: 0 } })).toBe('3 Succeeded · 1 Failed');
    expect(formatConfidence(0.866)).toBe('87%');
    expect(formatTarget({ kind: 'Pod', namespace: 'shop', name: 'web-1' })).toBe('Pod shop/web-1');
  });
});
