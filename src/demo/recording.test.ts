import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { actionRecord, decisionFromLog, hasActed } from './recording.js';
import { operatorLogSink } from './runner.js';

const T = Date.UTC(2026, 0, 1);

describe('recording', () => {
  it('reads the analyzer\'s decisions from the operator\'s log records, declines included', () => {
    const rec = { level: 'debug', msg: 'analyzer recommendation', policy: 'demo-net/checkout-ai', target: 'Pod/demo-net/c-1', recommendation: 'none', rule: 'dependency-failing', reasoning: ['payments-db is failing'] };
    expect(decisionFromLog(rec, T)).toEqual({ at: T, namespace: 'demo-net', policy: 'checkout-ai', target: 'Pod/demo-net/c-1', recommendation: 'none', rule: 'dependency-failing', reasoning: ['payments-db is failing'] });
    expect(decisionFromLog({ msg: 'created HealingAction' }, T)).toBeUndefined();
  });

  it('keeps info and above in the operator log file, and the analyzer\'s decisions whatever their level', () => {
    const written: string[] = [];
    const decisions: string[] = [];
    const sink = operatorLogSink({ write: (l: string) => written.push(l) }, (d) => decisions.push(d.recommendation), { now: () => T });
    sink.write(`${JSON.stringify({ level: 'debug', msg: 'noise' })}\n`);
    sink.write(`${JSON.stringify({ level: 'info', msg: 'created HealingAction' })}\n${JSON.stringify({ level: 'debug', msg: 'analyzer recommendation', policy: 'a/b', recommendation: 'none' })}\n`);
    sink.write('not json\n');
    expect(written.map((l) => l.trim())).toEqual(['{"level":"info","msg":"created HealingAction"}', '{"level":"debug","msg":"analyzer recommendation","policy":"a/b","recommendation":"none"}', 'not json']);
    expect(decisions).toEqual(['none']);
  });

  it('records an action with its workload, scale, source and times; only a non-dry run that ran has acted', () => {
    const a = {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name: 'x', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:10Z' },
      spec: {
        policyRef: { kind: 'HealingPolicy', name: 'p', namespace: 'ns' },
        targetResource: { apiVersion: 'v1', kind: 'Pod', name: 'cpu-ai-7fbd6c5f5d-jt4pj', namespace: 'ns' },
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cpu-ai', namespace: 'ns' },
        action: { name: 'add', type: 'scale', scaleAction: { direction: 'absolute', replicas: 3 } },
        trigger: { name: 'f', type: 'predictive', firedAt: '2026-01-01T00:00:09Z', observedValue: 56.6 },
        source: 'ai',
        confidence: 0.59,
      },
      status: { phase: 'Succeeded', startTime: '2026-01-01T00:00:11Z', completionTime: '2026-01-01T00:01:00Z' },
    } as unknown as HealingAction;
    const r = actionRecord(a, () => undefined);
    expect(r).toMatchObject({ workload: 'cpu-ai', scale: { direction: 'absolute', replicas: 3 }, source: 'ai', confidence: 0.59, createdAt: T + 10_000, startedAt: T + 11_000, completedAt: T + 60_000, trigger: { observedValue: 56.6 } });
    expect(hasActed(r)).toBe(true);
    expect(hasActed({ ...r, dryRun: true })).toBe(false);
    expect(hasActed({ ...r, phase: 'Blocked' })).toBe(false);
    // A pod target without workloadRef: its workload from the listings, else from the pod name.
    const bare = { ...a, spec: { ...a.spec, workloadRef: undefined } } as unknown as HealingAction;
    expect(actionRecord(bare, () => 'from-listing').workload).toBe('from-listing');
    expect(actionRecord(bare, () => undefined).workload).toBe('cpu-ai');
  });
});
