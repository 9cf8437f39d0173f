/**
 * The examples under examples/ are documentation users copy: each says what it does, together they cover every
 * trigger and action type, they include the seed's rules, and every one passes the offline validator without an
 * error. (test/integration/api-resources.test.ts applies them to the real API server.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { validatePolicy } from '../../src/api/v1alpha1/validate.js';
import { BUILTIN_METRICS } from '../../src/api/v1alpha1/common.js';
import { repoRoot } from '../support/api-server.js';
import { exampleFiles, withoutHeader } from '../support/examples.js';
import { SEED_CRASHLOOP_YAML } from '../support/policy-cases.js';

interface Trigger {
  name: string;
  type: string;
  metricTrigger?: { query: string; threshold: number; operator?: string; duration?: string };
  eventTrigger?: { reason: string };
  conditionTrigger?: { type: string; status?: string };
  predictiveTrigger?: Record<string, unknown>;
}
interface Action {
  type: string;
  restartAction?: { strategy?: string };
  scaleAction?: { direction: string };
  patchAction?: { patch?: string; patches?: unknown[] };
}
interface Policy {
  kind: string;
  metadata: { name: string };
  spec: { triggers: Trigger[]; actions: Action[]; safetyRules?: { protectedResources?: { labelSelector?: { matchLabels?: Record<string, string> } }[] } };
}

const files = exampleFiles();
const policies = files.flatMap((f) => f.objects as unknown as Policy[]);
const triggers = policies.flatMap((p) => p.spec.triggers);
const actions = policies.flatMap((p) => p.spec.actions);
const isBuiltin = (q: string): boolean => (BUILTIN_METRICS as readonly string[]).includes(q);

/** Policies whose rule is "trigger matching t → action matching a". */
const rule = (t: (t: Trigger) => boolean, a: (a: Action) => boolean): Policy[] =>
  policies.filter((p) => p.spec.triggers.some(t) && p.spec.actions.some(a));

describe('examples/', () => {
  it.each(files.map((f) => [f.file, f] as const))('%s starts with a comment header saying what it does', (_file, f) => {
    expect(f.text).toMatch(/^# .+\n(# .*\n)*# What it does: /);
    expect(f.objects.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [f.file, f] as const))('%s passes the offline validator without an error', (_file, f) => {
    for (const o of f.objects) {
      const result = validatePolicy(o as unknown as AnyPolicy);
      expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it('cover every trigger type: built-in metric, PromQL metric, event, condition (with CrashLoopBackOff), predictive', () => {
    expect(triggers.some((t) => t.type === 'metric' && isBuiltin(t.metricTrigger!.query))).toBe(true);
    expect(triggers.some((t) => t.type === 'metric' && !isBuiltin(t.metricTrigger!.query))).toBe(true);
    expect(triggers.some((t) => t.type === 'event')).toBe(true);
    expect(triggers.some((t) => t.type === 'condition' && t.conditionTrigger!.type === 'CrashLoopBackOff')).toBe(true);
    expect(triggers.some((t) => t.type === 'condition' && t.conditionTrigger!.type === 'Ready')).toBe(true);
    expect(triggers.some((t) => t.type === 'predictive')).toBe(true);
  });

  it('cover every action type, and both forms of patch', () => {
    expect(new Set(actions.map((a) => a.type))).toEqual(new Set(['restart', 'scale', 'patch', 'delete', 'rollback']));
    expect(actions.some((a) => a.patchAction?.patch !== undefined)).toBe(true);
    expect(actions.some((a) => a.patchAction?.patches !== undefined)).toBe(true);
  });

  it("include the seed's three rules", () => {
    // Memory > 85% for 3 minutes → restart with the rolling strategy.
    expect(
      rule(
        (t) => t.metricTrigger?.query === 'memory_usage_percent' && t.metricTrigger.threshold === 85 && t.metricTrigger.duration === '3m' && (t.metricTrigger.operator ?? '>') === '>',
        (a) => a.type === 'restart' && a.restartAction?.strategy === 'rolling',
      ),
    ).toHaveLength(1);
    // Restart count > 3 in 5 minutes → a debug configuration patch.
    expect(
      rule(
        (t) => t.metricTrigger?.query === 'restart_rate' && t.metricTrigger.threshold === 3,
        (a) => a.type === 'patch' && /debug/i.test(a.patchAction?.patch ?? ''),
      ),
    ).toHaveLength(1);
    // CPU > 80% for 2 minutes → scale up.
    expect(
      rule(
        (t) => t.metricTrigger?.query === 'cpu_usage_percent' && t.metricTrigger.threshold === 80 && t.metricTrigger.duration === '2m',
        (a) => a.type === 'scale' && a.scaleAction?.direction === 'up',
      ),
    ).toHaveLength(1);
  });

  it('include a safety-rules example protecting resources labelled critical: "true"', () => {
    const protectedCritical = policies.filter((p) =>
      (p.spec.safetyRules?.protectedResources ?? []).some((r) => r.labelSelector?.matchLabels?.['critical'] === 'true'),
    );
    expect(protectedCritical.map((p) => p.metadata.name)).toContain('safety-rules');
  });

  it("keep the seed's crashloop policy verbatim", () => {
    const seedFile = files.find((f) => f.file === 'seed-crashloop-policy.yaml');
    expect(seedFile).toBeDefined();
    expect(withoutHeader(seedFile!.text)).toBe(SEED_CRASHLOOP_YAML);
  });

  // The seed document lives beside the repository (shared/), in development and in CI; compare with it when present.
  const seedDoc = path.resolve(repoRoot, '../shared/seed/how-kubeskippy-works.md');
  it.skipIf(!existsSync(seedDoc))("copies the crashloop policy from the seed document character for character", () => {
    const doc = readFileSync(seedDoc, 'utf8');
    const block = /### Step 1: Policy Definition\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(SEED_CRASHLOOP_YAML);
  });
});
