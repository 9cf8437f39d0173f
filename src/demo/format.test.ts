import { describe, expect, it } from 'vitest';
import { markdownTable, renderLive, textTable, type LiveState } from './format.js';
import type { ActionRecord } from './recording.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function action(extra: Partial<ActionRecord>): ActionRecord {
  return {
    name: 'a',
    namespace: 'demo-x',
    policy: 'p',
    workload: 'w',
    targetKind: 'Pod',
    targetName: 'w-1',
    type: 'restart',
    source: 'rule',
    dryRun: false,
    phase: 'Succeeded',
    createdAt: T0,
    trigger: { name: 't', type: 'metric' },
    reasoning: ['memory 90% > 85%', 'first rung'],
    ...extra,
  };
}

function state(extra: Partial<LiveState>): LiveState {
  return {
    now: T0 + 60_000,
    startedAt: T0,
    durationMs: 600_000,
    urls: [{ name: 'dashboard', url: 'http://127.0.0.1:18081' }],
    actions: [],
    decisions: [],
    failures: { oomKilled: 1, crashes: 2, faults: 3 },
    scenarios: [{ id: 'x', namespace: 'demo-x' }],
    ...extra,
  };
}

describe('tables', () => {
  it('pads text columns to the widest cell', () => {
    expect(textTable(['a', 'bb'], [['ccc', 'd']])).toEqual(['a    bb', '---  --', 'ccc  d']);
  });

  it('escapes pipes in Markdown cells', () => {
    expect(markdownTable(['x'], [['a|b']])).toEqual(['| x |', '|---|', '| a\\|b |']);
  });
});

describe('the live summary', () => {
  it('shows progress, the URLs, actions by phase and the failures so far', () => {
    const lines = renderLive(state({ actions: [action({}), action({ name: 'b', phase: 'Blocked', reason: 'Protected' }), action({ name: 'c', dryRun: true })] }));
    expect(lines[0]).toBe('KubeSkippy demo — T+60s of 600s [###...........................]');
    expect(lines[1]).toBe('dashboard http://127.0.0.1:18081');
    expect(lines[2]).toBe('actions by phase: Succeeded 1 · Blocked Protected 1 · dry run 1');
    expect(lines[3]).toBe('acted per scenario: x 1');
    expect(lines[4]).toBe('failures so far: OOMKilled 1 · crashes 2 · faults injected 3');
  });

  it('lists the latest decisions with source, confidence and reasoning, a repeated decline once', () => {
    const decline = { at: T0 + 10_000, namespace: 'demo-x', policy: 'checkout-ai', target: 'Pod/demo-x/c-1', recommendation: 'none', rule: 'dependency-failing', reasoning: ['payments-db is failing'] };
    const lines = renderLive(
      state({
        actions: [action({ source: 'ai', confidence: 0.59, createdAt: T0 + 5000, reasoning: ['forecast', 'the limit in 4 min'] })],
        decisions: [decline, { ...decline, at: T0 + 20_000 }],
      }),
    );
    const latest = lines.slice(lines.indexOf('latest decisions:') + 1);
    expect(latest).toEqual([
      '  12:00:20 demo-x checkout-ai: analyzer declined c-1 [dependency-failing] payments-db is failing',
      '  12:00:05 demo-x p: restart w-1 → Succeeded [ai 0.59] the limit in 4 min',
    ]);
  });

  it('runs until Ctrl-C without a duration, and says so', () => {
    const { durationMs: _d, ...open } = state({});
    expect(renderLive(open)[0]).toBe('KubeSkippy demo — T+60s (Ctrl-C ends the demo and prints the report)');
  });
});
