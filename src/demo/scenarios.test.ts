import { describe, expect, it } from 'vitest';
import { validatePolicy } from '../api/v1alpha1/validate.js';
import { matchesLabelSelector } from '../safety/label-selector.js';
import { SCENARIO_IDS, SCENARIOS, buildDeployment, demoNamespace, scenarioObjects } from './scenarios.js';

describe('the demo scenarios', () => {
  it('cover every scenario id once, each with a story, the seed\'s words and a valid namespace', () => {
    expect(SCENARIOS.map((s) => s.id)).toEqual([...SCENARIO_IDS]);
    for (const s of SCENARIOS) {
      expect(s.story.length).toBeGreaterThan(20);
      expect(s.seed.length).toBeGreaterThan(10);
      expect(demoNamespace(s.id)).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    }
  });

  it.each(SCENARIOS.map((s) => [s.id, s] as const))('%s: every policy passes the API\'s validation', (_id, s) => {
    for (const p of scenarioObjects(s, 'ns').policies) {
      const r = validatePolicy(p);
      expect(r.problems?.filter((x) => x.severity !== 'warning') ?? [], p.metadata.name).toEqual([]);
    }
  });

  it.each(SCENARIOS.map((s) => [s.id, s] as const))('%s: every policy selects at least one of its workloads, and a twin\'s policy only its own side', (_id, s) => {
    for (const draft of s.policies('ns')) {
      const selected = s.workloads.filter((w) => matchesLabelSelector(draft.spec.selector.labelSelector ?? {}, buildDeployment(s, w, 'ns').spec?.template.metadata?.labels ?? {}));
      expect(selected.length, draft.name).toBeGreaterThan(0);
      if (draft.twin !== undefined) expect(selected.every((w) => w.twin === undefined || w.twin === draft.twin), draft.name).toBe(true);
    }
  });

  it('makes twins identical but for their name and side', () => {
    for (const s of SCENARIOS) {
      const rules = s.workloads.filter((w) => w.twin === 'rules');
      const ai = s.workloads.filter((w) => w.twin === 'ai');
      expect(rules.length, s.id).toBe(ai.length);
      rules.forEach((r, i) => {
        const a = ai[i]!;
        expect({ ...a.sim, replicas: a.replicas, limits: a.limits, role: a.role }).toEqual({ ...r.sim, replicas: r.replicas, limits: r.limits, role: r.role });
      });
    }
  });

  it('protects the critical app the way the seed writes it', () => {
    const s = SCENARIOS.find((x) => x.id === 'protected-app')!;
    expect(s.workloads[0]?.labels).toEqual({ critical: 'true' });
    expect(s.policies('ns')[0]?.spec.safetyRules?.protectedResources).toEqual([{ kind: 'Pod', labelSelector: { matchLabels: { critical: 'true' } } }]);
  });

  it('reads the network\'s latency through PromQL, in the namespace it is placed in', () => {
    const s = SCENARIOS.find((x) => x.id === 'network-degradation')!;
    expect(s.policies('team-a').map((p) => p.spec.triggers[0]?.metricTrigger?.query)).toEqual([
      'max by (namespace, pod) (demo_dependency_latency_seconds{namespace="team-a", app="checkout-ai"})',
      'max by (namespace, pod) (demo_dependency_latency_seconds{namespace="team-a", app="checkout-rules"})',
    ]);
    expect(s.workloads.find((w) => w.name === 'checkout-ai')?.annotations).toEqual({ 'kubeskippy.io/depends-on': 'payments-db' });
  });
});
