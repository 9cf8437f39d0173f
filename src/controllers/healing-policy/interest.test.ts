import { describe, expect, it } from 'vitest';
import type { HealingPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { ObservationChange, TargetRef } from '../../metrics/types.js';
import { concerns, createInterestCache, policyInterest } from './interest.js';

type Spec = HealingPolicy['spec'];
const restart = [{ name: 'restart', type: 'restart' as const }];
const spec = (triggers: Spec['triggers'], extra: Partial<Spec> = {}): Pick<HealingPolicy, 'spec'> => ({
  spec: { selector: { labelSelector: { matchLabels: { app: 'web' } } }, triggers, actions: restart, ...extra },
});
const restarts = spec([{ name: 'r', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }]);
const memory = spec([{ name: 'm', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 90 } }]);
const crashloop = spec([{ name: 'c', type: 'condition', conditionTrigger: { type: 'CrashLoopBackOff' } }]);
const backoff = spec([{ name: 'e', type: 'event', eventTrigger: { reason: 'BackOff' } }]);
const predictive = spec([{ name: 'p', type: 'predictive', predictiveTrigger: { metric: 'memory_usage_percent', threshold: 90 } }]);
const deployments = spec([{ name: 'r', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }], {
  selector: { resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', excludeNames: ['legacy'] }] },
});

const pod = (name = 'web-1'): TargetRef => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name });
const web = { app: 'web' };
const change = (c: Partial<ObservationChange>): ObservationChange => ({ target: pod(), labels: web, ...c });

describe('concerns', () => {
  it('passes a metric change only to the policies that query that metric', () => {
    const c = change({ metrics: ['restart_count', 'ready'] });
    expect(concerns(policyInterest(restarts), c)).toBe(true);
    expect(concerns(policyInterest(memory), c)).toBe(false);
    expect(concerns(policyInterest(memory), change({ metrics: ['memory_usage_percent'] }))).toBe(true);
  });

  it('passes condition changes to condition triggers and Events to event triggers', () => {
    expect(concerns(policyInterest(crashloop), change({ conditions: true }))).toBe(true);
    expect(concerns(policyInterest(crashloop), change({ events: true }))).toBe(false);
    expect(concerns(policyInterest(backoff), change({ events: true }))).toBe(true);
    expect(concerns(policyInterest(restarts), change({ conditions: true, events: true }))).toBe(false);
  });

  it('skips a target whose labels the selector rules out, unless selection itself changed', () => {
    const other = { app: 'db' };
    expect(concerns(policyInterest(restarts), change({ labels: other, metrics: ['restart_count'] }))).toBe(false);
    // The labels may have just changed away from a match: the policy must drop the target.
    expect(concerns(policyInterest(restarts), change({ labels: other, selection: true }))).toBe(true);
    // Unknown labels (a poll of a whole namespace) are not ruled out.
    expect(concerns(policyInterest(restarts), { target: pod(''), metrics: ['restart_count'] })).toBe(true);
  });

  it('skips kinds the policy does not select, and excluded names', () => {
    const deployment = (name: string): TargetRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name });
    expect(concerns(policyInterest(deployments), change({ metrics: ['restart_count'] }))).toBe(false);
    expect(concerns(policyInterest(deployments), { target: deployment('web'), metrics: ['restart_count'] })).toBe(true);
    expect(concerns(policyInterest(deployments), { target: deployment('legacy'), metrics: ['restart_count'], selection: true })).toBe(false);
  });

  it('passes everything about a selected target to policies the analyzer decides', () => {
    expect(concerns(policyInterest(predictive), change({ conditions: true }))).toBe(true);
    expect(concerns(policyInterest(spec(restarts.spec.triggers, { strategy: 'ai' })), change({ events: true }))).toBe(true);
    expect(concerns(policyInterest(predictive), change({ labels: { app: 'db' }, conditions: true }))).toBe(false);
  });

  it('passes a change of unknown metrics (PromQL) to every policy with a metric trigger', () => {
    expect(concerns(policyInterest(restarts), change({ anyMetric: true }))).toBe(true);
    expect(concerns(policyInterest(crashloop), change({ anyMetric: true }))).toBe(false);
  });
});

describe('createInterestCache', () => {
  it('derives a policy object\'s interest once', () => {
    const interestOf = createInterestCache();
    const p = { ...restarts, apiVersion: 'kubeskippy.io/v1alpha1', kind: 'HealingPolicy', metadata: { name: 'p', namespace: 'shop' } } as HealingPolicy;
    expect(interestOf(p)).toBe(interestOf(p));
    expect(interestOf({ ...p })).not.toBe(interestOf(p));
  });
});
