/**
 * Fault 6b — hostile input through the real API server, against a running operator:
 * - generated policies (mutations of the examples) are checked offline and by the API server (dry-run create with
 *   strict field validation, as kubectl sends it): the two agree on accept/refuse, and every refusal says why;
 * - objects at the API's size limits: a ~1.5 MB policy patch (refused, with the reason), a policy with every field
 *   at its maximum (accepted, evaluated by the operator, which stays up);
 * - HealingActions crafted by a user (the API allows it where the admission policy is not installed): a target
 *   outside its policy's selector, a target in a protected namespace, a target in another namespace than the action,
 *   a policy that does not exist — each refused (Blocked or Cancelled) with a reason, nothing executed.
 */
import * as k8s from '@kubernetes/client-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { validatePolicy } from '../../src/api/v1alpha1/validate.js';
import { TEST_NAMESPACE_SELECTOR } from '../support/cluster.js';
import { exampleFiles } from '../support/examples.js';
import { createPod, createPolicy, ensureCrds, readPolicy } from '../support/resources.js';
import { mutationOf, startApiProxy, type ApiProxy } from './support/api-proxy.js';
import { recordResult, SEED, sleep } from './support/common.js';
import { killAllOperators, spawnFaultOperator, type FaultOperator } from './support/operators.js';
import { actionsIn, cleanupNamespaces, co, faultNamespace, FINISHED, kc, mergePatch } from './support/scenario.js';

let proxy: ApiProxy;
let op: FaultOperator;
let ns = '';
let protectedNs = '';
const counts = { generated: 0, agreed: 0, disagreements: [] as string[], serverRefusals: 0, refusalsWithoutReason: 0 };

beforeAll(async () => {
  await ensureCrds();
  proxy = startApiProxy();
  ns = await faultNamespace('faults-hostile');
  protectedNs = await faultNamespace('faults-hostile-prot');
  op = spawnFaultOperator({
    name: 'hostile',
    kubeconfig: await proxy.kubeconfig('hostile'),
    namespaceSelector: TEST_NAMESPACE_SELECTOR,
    args: ['--protected-namespaces', `kube-system,${protectedNs}`, '--max-actions-per-hour', '1000'],
  });
  await op.metricsUrl();
}, 180_000);

afterAll(async () => {
  await killAllOperators();
  await cleanupNamespaces();
  await proxy.close();
});

const examplePolicies = exampleFiles()
  .flatMap((f) => f.objects)
  .filter((o) => o['kind'] === 'HealingPolicy');

/** Replaces or deletes one place in a deep copy of `obj`. */
function mutate(obj: unknown, choices: readonly number[], replacement: unknown): unknown {
  const copy = structuredClone<unknown>(obj);
  let node = copy;
  for (let i = 0; i < choices.length; i++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node).filter((k) => k !== 'metadata' && k !== 'apiVersion' && k !== 'kind');
    if (keys.length === 0) break;
    const key = keys[choices[i]! % keys.length]!;
    const child = (node as Record<string, unknown>)[key];
    if (i === choices.length - 1 || child === null || typeof child !== 'object') {
      if (choices[i]! % 3 === 0) delete (node as Record<string, unknown>)[key];
      else (node as Record<string, unknown>)[key] = replacement;
      break;
    }
    node = child;
  }
  return copy;
}

describe('hostile input through the API server', () => {
  it('offline validation and the API server agree on generated policies, and every refusal says why', async () => {
    const replacement = fc.oneof(
      fc.constantFrom('', '0', '-1s', '3m', '(a+', 'Back(Off', 'restart', 'delete', 'nope', 1e9, -1, 0, 3.5, true, null, [], {}, 'x'.repeat(5000), { matchLabels: { 'bad key!': 'v' } }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const samples = fc.sample(fc.tuple(fc.nat({ max: examplePolicies.length - 1 }), fc.array(fc.nat(), { minLength: 2, maxLength: 6 }), replacement), { seed: SEED, numRuns: 150 });
    for (const [i, [example, choices, value]] of samples.entries()) {
      const body = mutate(examplePolicies[example], choices, value) as HealingPolicy;
      body.metadata = { name: `gen-${i}`, namespace: ns };
      const offline = validatePolicy(body);
      let server: { ok: true } | { ok: false; message: string };
      try {
        await co.createNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies', body, dryRun: 'All', fieldValidation: 'Strict' });
        server = { ok: true };
      } catch (e: unknown) {
        const message = e instanceof k8s.ApiException ? String((JSON.parse(String(e.body ?? '{}')) as { message?: string }).message ?? '') : String(e);
        server = { ok: false, message };
      }
      counts.generated++;
      if (!server.ok) {
        counts.serverRefusals++;
        if (server.message.trim() === '') counts.refusalsWithoutReason++;
      }
      if (offline.valid === server.ok) counts.agreed++;
      else {
        counts.disagreements.push(
          `gen-${i} (from ${examplePolicies[example]?.['metadata'] ? String((examplePolicies[example]['metadata'] as { name?: string }).name) : '?'}, path ${choices.join('.')} = ${JSON.stringify(value).slice(0, 60)}): offline ${offline.valid ? 'accepts' : `refuses: ${offline.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`).join('; ').slice(0, 200)}`}; server ${server.ok ? 'accepts' : `refuses: ${server.message.slice(0, 200)}`}`,
        );
      }
    }
    console.log(`fault 6b: ${counts.generated} generated policies, ${counts.agreed} agreements, ${counts.serverRefusals} refused by the server (${counts.refusalsWithoutReason} without a reason)\n  ${counts.disagreements.join('\n  ')}`);
    expect(counts.refusalsWithoutReason).toBe(0);
    expect(counts.disagreements).toEqual([]);
  }, 300_000);

  it('refuses a ~1.5 MB policy patch with the reason, accepts a policy with every field at its maximum, and the operator evaluates it and stays up', async () => {
    await createPolicy(kc, ns, 'small', {
      selector: { labelSelector: { matchLabels: { app: 'none' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    const huge = 'x'.repeat(1_500_000);
    const refusals: string[] = [];
    for (const patch of [
      { spec: { actions: [{ name: 'restart', type: 'restart', description: huge }] } },
      { spec: { actions: [{ name: 'p', type: 'patch', patchAction: { type: 'merge', patch: huge } }] } },
      { metadata: { annotations: { 'example.com/blob': huge } } },
    ]) {
      try {
        await co.patchNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingpolicies', name: 'small', body: patch }, mergePatch);
        refusals.push('ACCEPTED');
      } catch (e: unknown) {
        const code = e instanceof k8s.ApiException ? e.code : 0;
        const message = e instanceof k8s.ApiException ? String((JSON.parse(String(e.body ?? '{}')) as { message?: string }).message ?? e.body) : String(e);
        refusals.push(`${code}: ${message.slice(0, 160)}`);
      }
    }
    // Every field at its maximum: 16 actions, each a 32 KiB patch; 32 triggers with 256-character event-reason patterns.
    const pattern = (i: number): string => `${String.fromCharCode(97 + (i % 26))}${'x'.repeat(255)}`;
    const big: HealingPolicy['spec'] = {
      selector: { labelSelector: { matchLabels: { app: 'big' } } },
      triggers: Array.from({ length: 32 }, (_, i) => ({ name: `t${i}`, type: 'event' as const, eventTrigger: { reason: pattern(i), count: 1, window: '5m' } })),
      actions: Array.from({ length: 16 }, (_, i) => ({
        name: `patch-${i}`,
        type: 'patch' as const,
        priority: i,
        requiresApproval: true,
        description: 'd'.repeat(1024),
        patchAction: { type: 'merge' as const, patch: JSON.stringify({ metadata: { annotations: { blob: 'y'.repeat(32_700) } } }).slice(0, 32_768) },
      })),
    };
    let bigAccepted: string;
    try {
      await createPolicy(kc, ns, 'biggest-valid', big);
      bigAccepted = 'accepted';
    } catch (e: unknown) {
      bigAccepted = e instanceof k8s.ApiException ? `${e.code}: ${String(e.body).slice(0, 300)}` : String(e);
    }
    const size = JSON.stringify(big).length;
    // The operator reads it, evaluates it and writes its status; then a pod it selects appears, and it stays up.
    let ready: string | undefined;
    if (bigAccepted === 'accepted') {
      await createPod(kc, ns, 'big-target', { labels: { app: 'big' } });
      const end = Date.now() + 90_000;
      while (Date.now() < end) {
        ready = (await readPolicy(kc, ns, 'biggest-valid')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
        if (ready !== undefined) break;
        await sleep(1000);
      }
    }
    console.log(`fault 6b: 1.5 MB patches → ${refusals.join(' | ')}\n  biggest valid policy (${size} bytes of spec): ${bigAccepted}; Ready=${String(ready)}`);
    recordResult('6b-size-limits', {
      fault: 'objects at the API size limits',
      injected: `3 patches of 1.5 MB, 1 policy of ${Math.round(size / 1024)} KiB with every list and string at its maximum`,
      times: 4,
      lost: 0,
      duplicated: 0,
      stuck: 0,
      recovery: `patches refused (${refusals.map((r) => r.split(':')[0]).join(', ')}); the biggest valid policy ${bigAccepted}, Ready=${String(ready)}; operator up`,
      refusals,
    });
    expect(refusals.every((r) => !r.startsWith('ACCEPTED') && r.length > 6)).toBe(true);
    expect(bigAccepted).toBe('accepted');
    expect(ready).toBe('True');
    expect(op.hasExited(), op.output().slice(-2000)).toBe(false);
  }, 300_000);

  it('refuses HealingActions a user crafted for targets the policy may not touch, each with its reason, executing nothing', async () => {
    await createPolicy(kc, ns, 'only-web', {
      selector: { labelSelector: { matchLabels: { app: 'web' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    await createPolicy(kc, protectedNs, 'in-protected', {
      selector: {},
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 } }],
      actions: [{ name: 'restart', type: 'restart' }],
    });
    const db = await createPod(kc, ns, 'database', { labels: { app: 'db' } });
    const guarded = await createPod(kc, protectedNs, 'guarded', { labels: { app: 'web' } });
    const other = await createPod(kc, protectedNs, 'elsewhere', { labels: { app: 'web' } });
    const crafted = (namespace: string, name: string, policy: { name: string; namespace: string }, target: k8s.V1Pod): HealingAction => ({
      apiVersion: 'kubeskippy.io/v1alpha1',
      kind: 'HealingAction',
      metadata: { name, namespace },
      spec: {
        policyRef: policy,
        targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: target.metadata?.namespace ?? '', name: target.metadata?.name ?? '', uid: target.metadata?.uid ?? '' },
        action: { name: 'restart', type: 'restart' },
      },
    });
    const cases = [
      { ns, a: crafted(ns, 'outside-selector', { name: 'only-web', namespace: ns }, db), want: /Blocked|Cancelled/ },
      { ns: protectedNs, a: crafted(protectedNs, 'protected-namespace', { name: 'in-protected', namespace: protectedNs }, guarded), want: /Blocked/ },
      { ns, a: crafted(ns, 'cross-namespace', { name: 'only-web', namespace: ns }, other), want: /Blocked|Cancelled/ },
      { ns, a: crafted(ns, 'no-such-policy', { name: 'ghost', namespace: ns }, db), want: /Cancelled|Blocked/ },
    ];
    for (const c of cases) await co.createNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: c.ns, plural: 'healingactions', body: c.a });
    const results: { name: string; phase: string; reason: string; message: string }[] = [];
    for (const c of cases) {
      const end = Date.now() + 90_000;
      for (;;) {
        const a = (await actionsIn(c.ns)).find((x) => x.metadata.name === c.a.metadata.name);
        if (a && FINISHED.includes(a.status?.phase ?? 'Pending')) {
          results.push({ name: a.metadata.name ?? '', phase: a.status?.phase ?? '', reason: a.status?.reason ?? '', message: a.status?.message ?? '' });
          break;
        }
        if (Date.now() > end) throw new Error(`${c.a.metadata.name ?? ''} was not refused within 90 s (${JSON.stringify(a?.status)})`);
        await sleep(500);
      }
    }
    const mutations = proxy.requests.filter((r) => mutationOf(r) !== undefined && (mutationOf(r)?.namespace === ns || mutationOf(r)?.namespace === protectedNs));
    console.log(`fault 6b: crafted actions → ${results.map((r) => `${r.name}: ${r.phase}/${r.reason}: ${r.message.slice(0, 140)}`).join('\n  ')}`);
    recordResult('6c-crafted-actions', {
      fault: 'HealingActions crafted by a user',
      injected: `${cases.length} actions: target outside the selector, in a protected namespace, in another namespace, policy missing`,
      times: cases.length,
      lost: 0,
      duplicated: 0,
      stuck: 0,
      recovery: results.map((r) => `${r.name}: ${r.phase} (${r.reason})`).join('; '),
      results,
      policyAgreement: counts,
    });
    for (const [i, r] of results.entries()) {
      expect(r.phase, r.name).toMatch(cases[i]!.want);
      expect(r.reason.length, r.name).toBeGreaterThan(0);
      expect(r.message.length, r.name).toBeGreaterThan(10);
    }
    expect(results.find((r) => r.name === 'protected-namespace')?.reason).toBe('Protected');
    expect(mutations.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // The pods are untouched.
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.readNamespacedPod({ name: 'database', namespace: ns })).metadata?.uid).toBe(db.metadata?.uid);
    expect((await core.readNamespacedPod({ name: 'guarded', namespace: protectedNs })).metadata?.uid).toBe(guarded.metadata?.uid);
    expect(op.hasExited()).toBe(false);
  }, 300_000);
});
