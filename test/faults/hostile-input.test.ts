/**
 * Fault 6a — hostile input, property-based (fast-check, seeded with the suite's seed): everything the operator parses
 * from people, the cluster, Prometheus or an LLM, fed with generated and mutated input. Properties: nothing throws
 * anything but its documented typed error; every refusal says why (a non-empty message, a path); accepted input
 * means what it says (round trips, exact values, allow-lists respected). Pure functions only, no cluster: this file
 * runs in seconds. Counts of inputs tried and crashes go to docs/reliability.md.
 *
 * Matching time of patterns is not asserted (tests never assert wall-clock speed): a catastrophic-backtracking engine
 * would not finish these inputs at all, so completion within the test's timeout is the property; the slowest call is
 * reported.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { AllowedAction } from '../../src/analysis/recommend.js';
import { parseAnswer } from '../../src/ai/answer.js';
import { AdviceError } from '../../src/ai/errors.js';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { validateHealingAction, validateHealingPolicy, validatePolicy, type ValidationResult } from '../../src/api/v1alpha1/validate.js';
import { nextStep } from '../../src/controllers/healing-action/state-machine.js';
import { InvalidQuantityError, parseBytes, parseMillicores, parseQuantity } from '../../src/k8s/quantity.js';
import { instantQuery, PrometheusCollector, PrometheusQueryError, seriesTarget } from '../../src/metrics/collectors/prometheus.js';
import { SeriesStore } from '../../src/metrics/series-store.js';
import type { TargetRef } from '../../src/metrics/types.js';
import { eventsForTransition, notificationOf, slackPayload, webhookPayload } from '../../src/notifications/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { FakeClock } from '../../src/runtime/clock.js';
import { describeLabelSelector, LabelSelectorSyntaxError, matchesLabelSelector, parseLabelSelectorString, type LabelSelectorLike } from '../../src/safety/label-selector.js';
import { formatDuration, InvalidDurationError, parseDuration } from '../../src/triggers/duration.js';
import { compileFullMatch, InvalidPatternError, MAX_MATCH_INPUT } from '../../src/triggers/pattern.js';
import { exampleFiles } from '../support/examples.js';
import { recordResult, SEED } from './support/common.js';

/** Inputs tried and unexpected exceptions, per area (a crash fails the property; the count shows what was tried). */
const tried = new Map<string, number>();
const crashes = new Map<string, number>();
const count = (area: string): void => void tried.set(area, (tried.get(area) ?? 0) + 1);
const RUNS = Number.parseInt(process.env['FAULTS_FC_RUNS'] ?? '1000', 10);
const params = (numRuns = RUNS): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

/** Runs `fn`, counting it under `area`; an exception that is not `allowed` is a crash (counted, then rethrown). */
function guarded<T>(area: string, fn: () => T, allowed?: (e: unknown) => boolean): T | undefined {
  count(area);
  try {
    return fn();
  } catch (e: unknown) {
    if (allowed?.(e) === true) return undefined;
    crashes.set(area, (crashes.get(area) ?? 0) + 1);
    throw e;
  }
}

afterAll(() => {
  const total = [...tried.values()].reduce((s, n) => s + n, 0);
  const crashed = [...crashes.values()].reduce((s, n) => s + n, 0);
  recordResult('6a-hostile-input', {
    fault: 'hostile input (property-based)',
    injected: `${total} generated or mutated inputs: ${[...tried].map(([a, n]) => `${a} ${n}`).join(', ')}`,
    times: total,
    lost: 0,
    duplicated: 0,
    stuck: 0,
    recovery: `${crashed} crashes`,
    tried: Object.fromEntries(tried),
    crashes: Object.fromEntries(crashes),
  });
});

// --- shared generators ------------------------------------------------------------------------------------------

/** Strings that make parsers unhappy: control characters, unicode, huge, prototype keys, format characters. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '__proto__', 'constructor', 'toString', '\u0000', '\n', '\u202e', '%s%n', '${x}', '{{.}}', "'; DROP TABLE", 'NaN', 'Infinity', '-0', '1e309', '0x1F', '\ud800'),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
);

/** Any JSON value, nested. */
const json = fc.jsonValue({ maxDepth: 6 });

/** Replaces, deletes or corrupts one random place in `obj` (a deep copy). */
function mutate(obj: unknown, choices: readonly number[], replacement: unknown): unknown {
  const copy = structuredClone<unknown>(obj);
  let node = copy;
  for (let i = 0; i < choices.length; i++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[choices[i]! % keys.length]!;
    const last = i === choices.length - 1;
    const child = (node as Record<string, unknown>)[key];
    if (last || child === null || typeof child !== 'object') {
      const mode = choices[i]! % 3;
      if (mode === 0) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

const examplePolicies = exampleFiles()
  .flatMap((f) => f.objects)
  .filter((o) => o['kind'] === 'HealingPolicy' || o['kind'] === 'ClusterHealingPolicy');

/** The shape every validation result must have, whatever came in. */
function checkResultShape(r: ValidationResult<unknown>): void {
  expect(typeof r.valid).toBe('boolean');
  expect(Array.isArray(r.problems)).toBe(true);
  for (const p of r.problems) {
    expect(['error', 'warning']).toContain(p.severity);
    expect(typeof p.path).toBe('string');
    expect(p.message.length).toBeGreaterThan(0);
  }
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (r.valid) {
    expect(errors).toEqual([]);
    expect(r.value).toBeDefined();
  } else {
    // Every refusal says why.
    expect(errors.length).toBeGreaterThan(0);
  }
}

// --- policies ---------------------------------------------------------------------------------------------------

describe('policies', () => {
  it('the offline validator never throws on any value and always answers accept-with-value or refuse-with-reasons', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), json, fc.record({ apiVersion: nasty, kind: fc.constantFrom('HealingPolicy', 'ClusterHealingPolicy', 'x'), metadata: json, spec: json })), (input) => {
        const r = guarded('policy (any value)', () => validateHealingPolicy(input));
        checkResultShape(r!);
        checkResultShape(guarded('policy (any value)', () => validateHealingAction(input))!);
      }),
      params(),
    );
  });

  it('mutations of the example policies (a field deleted or replaced by anything) are validated, never crash', () => {
    expect(examplePolicies.length).toBeGreaterThan(5);
    fc.assert(
      fc.property(fc.nat({ max: examplePolicies.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.oneof(json, nasty), (i, choices, replacement) => {
        const input = mutate(examplePolicies[i], choices, replacement) as AnyPolicy;
        const r = guarded('policy (mutated example)', () => validatePolicy(input));
        checkResultShape(r!);
      }),
      params(),
    );
  });
});

// --- durations --------------------------------------------------------------------------------------------------

describe('durations', () => {
  it('parseDuration accepts Go durations exactly, refuses everything else with InvalidDurationError', () => {
    const unit = fc.constantFrom(['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1], ['us', 0.001], ['µs', 0.001], ['ns', 0.000001]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 1000 }), unit), { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, [u]]) => `${n}${u}`).join('');
        const expected = parts.reduce((s, [n, [, ms]]) => s + n * ms, 0);
        const got = guarded('duration (valid)', () => parseDuration(text))!;
        expect(got).toBeCloseTo(expected, 6);
        // formatDuration reads back as the same time (to the millisecond).
        if (got >= 1) expect(Math.abs(parseDuration(formatDuration(got)) - got)).toBeLessThan(1000);
      }),
      params(),
    );
    fc.assert(
      fc.property(nasty, (s) => {
        const got = guarded('duration (any string)', () => parseDuration(s), (e) => e instanceof InvalidDurationError && e.message.length > 0);
        if (got !== undefined) expect(Number.isFinite(got) && got >= 0).toBe(true);
      }),
      params(),
    );
  });
});

// --- regular expressions ----------------------------------------------------------------------------------------

describe('regular expressions (event reasons)', () => {
  const atoms = fc.constantFrom('a', 'b', '.', '\\d', '\\w', '[a-z]', '[^x]', '(a|aa)', '(a+)', '(.*)', 'x?', '\\', '(', ')', '[', '{2,}', '(?i)', '(?P<n>a)', '\\p{L}', '$', '^', '|', '*', '+', '?', '{1000}', '\\b', '(?=a)', '\\1');
  const pattern = fc.array(atoms, { maxLength: 12 }).map((a) => a.join(''));
  const input = fc.oneof(fc.string({ maxLength: 64 }), fc.nat({ max: MAX_MATCH_INPUT + 10 }).map((n) => 'a'.repeat(n) + 'b'), fc.nat({ max: MAX_MATCH_INPUT }).map((n) => 'a'.repeat(n)));
  let slowest = 0;

  it('compiles or refuses with InvalidPatternError; a compiled matcher answers every input, however long', () => {
    fc.assert(
      fc.property(fc.oneof(pattern, fc.string({ maxLength: 30 })), fc.array(input, { minLength: 1, maxLength: 4 }), (p, inputs) => {
        const m = guarded('regex (compile)', () => compileFullMatch(p), (e) => e instanceof InvalidPatternError && e.message.length > 0);
        if (!m) return;
        for (const s of inputs) {
          const t = performance.now();
          const r = guarded('regex (match)', () => m.matches(s));
          slowest = Math.max(slowest, performance.now() - t);
          expect(typeof r).toBe('boolean');
        }
      }),
      params(),
    );
  });

  it('the classic catastrophic-backtracking patterns finish on 4096-character inputs (linear-time engine)', () => {
    const evil = ['(a+)+', '(a|aa)+', '(a|a?)+', '(.*a){20}', '(a*)*b', '((a+)+)+c', '(\\w+\\s?)+$', '(x+x+)+y'];
    for (const p of evil) {
      const m = compileFullMatch(p);
      for (const s of ['a'.repeat(MAX_MATCH_INPUT - 1) + '!', 'a'.repeat(MAX_MATCH_INPUT), 'x'.repeat(MAX_MATCH_INPUT - 1) + 'z']) {
        const t = performance.now();
        guarded('regex (catastrophic)', () => m.matches(s));
        slowest = Math.max(slowest, performance.now() - t);
      }
    }
    console.log(`regex: slowest single match ${slowest.toFixed(1)} ms (reported, not asserted)`);
  });
});

// --- Prometheus responses ---------------------------------------------------------------------------------------

describe('Prometheus responses', () => {
  const sample = fc.tuple(fc.oneof(fc.double(), fc.string(), fc.constant(null)), fc.oneof(fc.double().map(String), fc.string({ maxLength: 8 }), fc.constantFrom('NaN', '+Inf', '-Inf', '1e400')));
  const series = fc.record({ metric: fc.dictionary(fc.constantFrom('namespace', 'pod', 'deployment', 'x', '__proto__'), nasty, { maxKeys: 4 }), value: sample }, { requiredKeys: [] });
  const body = fc.oneof(
    json.map((j) => JSON.stringify(j)),
    fc.record({ status: fc.constantFrom('success', 'error', 'x'), data: fc.record({ resultType: fc.constantFrom('vector', 'matrix', 'scalar'), result: fc.oneof(fc.array(series, { maxLength: 6 }), json) }, { requiredKeys: [] }), error: nasty }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
    nasty,
  );

  it('instantQuery returns series or throws PrometheusQueryError; the collector records only finite values for real targets and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 100, max: 599 }), async (text, status) => {
        const fetchFn = (): Promise<{ ok: boolean; status: number; text(): Promise<string> }> => Promise.resolve({ ok: status < 300, status, text: () => Promise.resolve(text) });
        count('promql response');
        try {
          const out = await instantQuery('http://prom.invalid', 'up', Date.parse('2026-01-01T00:00:00Z'), 1000, fetchFn);
          expect(Array.isArray(out)).toBe(true);
        } catch (e: unknown) {
          if (!(e instanceof PrometheusQueryError) || e.message.length === 0) {
            crashes.set('promql response', (crashes.get('promql response') ?? 0) + 1);
            throw e;
          }
        }
        const clock = new FakeClock('2026-01-01T00:00:00Z');
        const store = new SeriesStore();
        const target: TargetRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' };
        const collector = new PrometheusCollector({ store, clock, logger: silentLogger, url: 'http://prom.invalid', timeoutMs: 1000, intervalMs: 1000, queries: () => new Set(['up']), targetsFor: () => [target], onPoll: () => undefined, fetch: fetchFn });
        count('promql collector');
        await collector.pollOnce();
        for (const [, samples] of store.observations(target).series) for (const s of samples) expect(Number.isFinite(s.value)).toBe(true);
      }),
      params(),
    );
    fc.assert(
      fc.property(fc.dictionary(nasty, nasty, { maxKeys: 5 }), (labels) => {
        const t = guarded('promql labels', () => seriesTarget(labels));
        if (t) expect(t.name.length).toBeGreaterThan(0);
      }),
      params(),
    );
  });
});

// --- label selectors --------------------------------------------------------------------------------------------

describe('label selectors', () => {
  const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?$/);
  const selector: fc.Arbitrary<LabelSelectorLike> = fc.record(
    {
      matchLabels: fc.dictionary(name, name, { maxKeys: 3 }),
      matchExpressions: fc.array(
        fc.oneof(
          fc.record({ key: name, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.array(name, { minLength: 1, maxLength: 3 }) }),
          fc.record({ key: name, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
        ),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  );
  const labels = fc.dictionary(fc.oneof(name, fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty')), name, { maxKeys: 5 });

  it('matching never throws, and a selector written out in kubectl syntax parses back to one that matches the same labels', () => {
    fc.assert(
      fc.property(selector, fc.array(labels, { minLength: 1, maxLength: 5 }), (s, objects) => {
        const text = describeLabelSelector(s);
        const parsed = guarded('label selector (round trip)', () => parseLabelSelectorString(text === '<everything>' ? '' : text))!;
        for (const l of objects) expect(guarded('label selector (match)', () => matchesLabelSelector(parsed, l))).toBe(matchesLabelSelector(s, l));
      }),
      params(),
    );
  });

  it('any string is parsed as a kubectl selector or refused with a reason', () => {
    const selectorish = fc.array(fc.oneof(name, fc.constantFrom('=', '==', '!=', ',', ' in ', ' notin ', '(', ')', '!', '/', ' ', 'a.b/c')), { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(selectorish, nasty), (s) => {
        guarded('label selector (any string)', () => parseLabelSelectorString(s), (e) => e instanceof LabelSelectorSyntaxError && e.message.length > 0);
      }),
      params(),
    );
  });
});

// --- quantities -------------------------------------------------------------------------------------------------

describe('quantities', () => {
  it('parses Kubernetes quantities exactly and refuses anything else with InvalidQuantityError', () => {
    const suffix = fc.constantFrom(['', 1], ['m', 1e-3], ['k', 1e3], ['M', 1e6], ['G', 1e9], ['Ki', 1024], ['Mi', 1024 ** 2], ['Gi', 1024 ** 3], ['Ti', 1024 ** 4]);
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), suffix, (n, [s, scale]) => {
        const v = guarded('quantity (valid)', () => parseQuantity(`${n}${s}`))!;
        expect(v).toBeCloseTo(n * scale, 6);
        expect(parseMillicores(`${n}${s}`)).toBeCloseTo(n * scale * 1000, 3);
        expect(parseBytes(`${n}${s}`)).toBeCloseTo(n * scale, 6);
      }),
      params(),
    );
    fc.assert(
      fc.property(nasty, (s) => {
        const v = guarded('quantity (any string)', () => parseQuantity(s), (e) => e instanceof InvalidQuantityError && e.message.length > 0);
        if (v !== undefined) expect(Number.isNaN(v)).toBe(false);
      }),
      params(),
    );
  });
});

// --- annotations people write on actions ------------------------------------------------------------------------

describe('annotations on HealingActions (approve, reject, cancel)', () => {
  function action(annotations: Record<string, string>, phase: string): HealingAction {
    return {
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name: 'a', namespace: 'ns', uid: 'u', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', annotations },
      spec: {
        policyRef: { name: 'p', namespace: 'ns' },
        targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'x' },
        action: { name: 'r', type: 'restart' },
        approvalRequired: true,
      },
      status: { phase: phase as NonNullable<HealingAction['status']>['phase'] },
    } as HealingAction;
  }
  it('any annotation values lead to one bounded step, never a throw', () => {
    const keys = fc.constantFrom('kubeskippy.io/approved-by', 'kubeskippy.io/rejected-by', 'kubeskippy.io/reject-reason', 'kubeskippy.io/cancel', 'other');
    fc.assert(
      fc.property(fc.dictionary(keys, nasty, { maxKeys: 5 }), fc.constantFrom('Pending', 'WaitingApproval', 'Approved', 'InProgress', 'Verifying'), (ann, phase) => {
        const step = guarded('annotations', () => nextStep(action(ann, phase), { now: Date.parse('2026-01-01T00:10:00Z'), policyExists: true, approvalTtlMs: 3_600_000, requireHealthCheck: true, healthCheckTimeoutMs: 60_000 }))!;
        if (step.kind === 'write') {
          // What a person wrote is capped before it reaches the status (and the API server's size limits).
          expect((step.status.message ?? '').length).toBeLessThan(4096);
          expect((step.status.approval?.approvedBy ?? '').length).toBeLessThanOrEqual(256);
          expect((step.status.approval?.reason ?? '').length).toBeLessThanOrEqual(1024);
        }
      }),
      params(),
    );
  });
});

// --- LLM answers ------------------------------------------------------------------------------------------------

describe('LLM answers', () => {
  const allowedActions: AllowedAction[] = [
    { name: 'restart-pod', type: 'restart', priority: 10 },
    { name: 'scale-out', type: 'scale', priority: 20 },
  ];
  const allowedTargets: TargetRef[] = [{ apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'u1' }];
  const target = fc.oneof(fc.constant({ kind: 'Pod', namespace: 'shop', name: 'web-1' }), fc.record({ kind: nasty, namespace: nasty, name: nasty }));
  const answer = fc.record(
    {
      action: fc.oneof(fc.constantFrom('restart-pod', 'scale-out', 'none', 'delete-everything'), nasty),
      target,
      confidence: fc.oneof(fc.double(), json),
      reasoning: fc.oneof(fc.array(nasty, { maxLength: 4 }), json),
      alternatives: fc.oneof(fc.array(fc.record({ action: nasty, confidence: fc.double(), whyNot: nasty }), { maxLength: 3 }), json),
      replicas: fc.oneof(fc.integer(), json),
      extra: json,
    },
    { requiredKeys: [] },
  );
  const raw = fc.oneof(
    answer.map((a) => JSON.stringify(a)),
    answer.map((a) => '```json\n' + JSON.stringify(a) + '\n```'),
    nasty,
    json.map((j) => JSON.stringify(j)),
  );

  it('parseAnswer never throws; an accepted answer names only allowed actions and targets, a refused one says why', () => {
    fc.assert(
      fc.property(raw, (text) => {
        const r = guarded('LLM answer', () => parseAnswer(text, { allowedActions, allowedTargets, origin: 'fuzz model' }))!;
        if (r.ok) {
          const rec = r.recommendation;
          if (rec.kind === 'action') {
            expect(allowedActions.map((a) => a.name)).toContain(rec.action.name);
            expect(allowedTargets).toContainEqual(rec.target);
            expect(rec.confidence >= 0 && rec.confidence <= 1).toBe(true);
          }
        } else {
          expect(r.error).toBeInstanceOf(AdviceError);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      params(),
    );
  });
});

// --- notification payloads --------------------------------------------------------------------------------------

describe('webhook and Slack payloads', () => {
  it('any action content gives a JSON payload and a one-line Slack text, never a throw', () => {
    const phase = fc.constantFrom<NonNullable<NonNullable<HealingAction['status']>['phase']>>('Pending', 'WaitingApproval', 'Succeeded', 'Failed', 'Blocked', 'Cancelled', 'InProgress');
    fc.assert(
      fc.property(nasty, nasty, nasty, nasty, phase, phase, fc.oneof(fc.double(), fc.constant(undefined)), (name, ns, reason, message, from, to, confidence) => {
        const a = {
          apiVersion: 'kubeskippy.io/v1alpha1',
          kind: 'HealingAction',
          metadata: { name, namespace: ns },
          spec: {
            policyRef: { name: reason, namespace: ns },
            targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: message },
            action: { name: 'r', type: 'restart' },
            ...(confidence === undefined ? {} : { confidence }),
            trigger: { name: reason, reason: message },
          },
        } as unknown as HealingAction;
        const status = { phase: to, reason, message } as HealingAction['status'];
        for (const ev of eventsForTransition(from, to)) {
          const n = guarded('notification payload', () => notificationOf(ev, a, status, '2026-01-01T00:00:00Z'))!;
          expect(() => JSON.stringify(webhookPayload(n))).not.toThrow();
          expect(typeof slackPayload(n).text).toBe('string');
        }
        count('notification payload');
      }),
      params(),
    );
  });
});

// Keep the count honest when a describe is filtered out.
it('tried every area', () => {
  expect([...tried.keys()].length).toBeGreaterThanOrEqual(1);
});
