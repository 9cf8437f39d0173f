/**
 * The CLI against the real cluster and a real operator: `explain` shows what the operator recorded (every safety
 * verdict, the result), `pause` / `resume` stop and restart acting through the control ConfigMap (actions Blocked
 * Paused with who and why, the policies' Paused condition, the operator's reported settings), `actions -w` streams
 * changes through a real watch, and the whole thing runs as the kubectl plugin `kubectl skippy` with the project's
 * kubectl. The operator here has its own namespace (its Lease and kubeskippy-control live there, so pausing it
 * pauses no other test's operator) and serves only this file's namespaces.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import { createActionsApi } from '../../src/cli/approve.js';
import { main } from '../../src/cli/main.js';
import { OPERATOR_STATE_ANNOTATION, parseOperatorState } from '../../src/control/switch.js';
import { SAFETY_RULES } from '../../src/safety/rules.js';
import type { RunningOperator } from '../../src/wiring.js';
import { kubectlPath, repoRoot } from '../support/api-server.js';
import { createTestNamespace, deleteTestNamespace, kubeconfigPath, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createPod, createPolicy, ensureCrds, readPolicy, waitForActions, waitForPhase } from '../support/resources.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let home = '';
let apps = '';
let operator: RunningOperator | undefined;
let user = '';
const identity = `cli-test-${Math.random().toString(16).slice(2, 8)}`;

/** Runs the CLI in-process, as a user types it. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--kubeconfig', kubeconfigPath], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** The first action on pod `pod`. */
async function actionFor(pod: string): Promise<HealingAction> {
  return waitFor(`an action on ${pod}`, async () => {
    const all = await waitForActions(kc, apps, 1, 60_000);
    return all.find((a) => a.spec.targetResource.name === pod);
  }, 60_000, 250);
}

const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'];

beforeAll(async () => {
  await ensureCrds();
  home = await createTestNamespace(kc, 'cli-home');
  apps = await createTestNamespace(kc, 'cli-apps');
  user = await createActionsApi(kc).whoAmI();
  operator = await startTestOperator({
    namespace: home,
    'leaderElection.enabled': true,
    'leaderElection.identity': identity,
    // The global breaker and budget count actions cluster-wide (other files' too): out of reach here.
    maxActionsPerHour: 100_000,
    'globalCircuitBreaker.failureRate': 1,
    'globalCircuitBreaker.minActions': 100_000,
    'stormSuppression.maxFailingWorkloads': 0,
  });
  // One policy for the whole file: every pod labelled app=victim is "failing"; one action an hour.
  await createPolicy(kc, apps, 'victims', {
    selector: { labelSelector: { matchLabels: { app: 'victim' } } },
    triggers: [{ name: 'always', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0, operator: '>=' } }],
    actions: [{ name: 'recreate', type: 'restart', restartAction: { strategy: 'recreate' } }],
    safetyRules: { maxActionsPerHour: 1 },
  });
}, 300_000);

afterAll(async () => {
  await operator?.stop();
  for (const ns of [home, apps]) if (ns) await deleteTestNamespace(kc, ns);
});

describe('kubeskippy explain', () => {
  it('shows every safety verdict the operator recorded, the result, and the rule that blocked the next one', async () => {
    // No wait for the pod to be Ready: the policy fires on its first restart_count sample, and the operator may
    // delete it (recreate, 100 ms measured) before a poll ever sees it Ready — the race this test used to lose.
    await createPod(kc, apps, 'victim-1', { labels: { app: 'victim' } });
    const first = await waitForPhase(kc, apps, (await actionFor('victim-1')).metadata.name ?? '', FINISHED, 90_000);
    expect(first.status?.phase).toBe('Succeeded');
    expect(first.status?.safety?.map((c) => c.rule)).toEqual(SAFETY_RULES.map((r) => r.name));
    expect(first.status?.safety?.some((c) => c.verdict === 'deny')).toBe(false);

    const ok = await cli('explain', first.metadata.name ?? '', '-n', apps);
    expect(ok.code, ok.err.join('\n')).toBe(0);
    const text = ok.out.join('\n');
    expect(ok.out[0]).toBe(`HealingAction ${apps}/${first.metadata.name ?? ''}: Succeeded (${first.status?.reason ?? ''})`);
    expect(text).toMatch(new RegExp(`Policy:\\s+HealingPolicy ${apps}/victims \\(mode automatic\\)`));
    expect(text).toMatch(/Trigger:\s+always \(metric\)/);
    expect(text).toMatch(/Safety checks \(gate at .*\): allowed/);
    expect(text).toMatch(/pass {2}paused/);
    expect(text).toMatch(/note {2}disruption-budget\s+Pod .*victim-1 has no owning workload/);
    expect(text).toMatch(/Success:\s+yes/);
    expect(text).toMatch(/restart_count\s+\d+\s/);

    // The budget (1 an hour) is spent: the next victim's action is Blocked, and explain names the deciding rule.
    await createPod(kc, apps, 'victim-2', { labels: { app: 'victim' } });
    const second = await waitForPhase(kc, apps, (await actionFor('victim-2')).metadata.name ?? '', FINISHED, 90_000);
    expect(second.status).toMatchObject({ phase: 'Blocked', reason: 'RateLimited' });
    const blocked = await cli('explain', second.metadata.name ?? '', '-n', apps, '-o', 'json');
    const e = JSON.parse(blocked.out.join('\n')) as { safety: { decidedBy: string; checks: { rule: string; verdict: string; message?: string }[] } };
    expect(e.safety.decidedBy).toBe('policy-rate');
    expect(e.safety.checks.find((c) => c.rule === 'policy-rate')?.message).toMatch(/used 1 of 1 actions in the last hour/);
  });

  it('exits 3 for an action that does not exist, with one line', async () => {
    const r = await cli('explain', 'no-such-action', '-n', apps);
    expect(r.code).toBe(3);
    expect(r.err).toEqual([`kubeskippy explain: healingaction "no-such-action" not found in namespace "${apps}"`]);
  });
});

describe('kubeskippy pause / resume', () => {
  it('pauses every replica through kubeskippy-control: actions end Blocked (Paused) with who and why, policies show Paused; resume lifts it', async () => {
    const paused = await cli('pause', '--reason', 'cli integration test', '--operator-namespace', home);
    expect(paused.code, paused.err.join('\n')).toBe(0);
    expect(paused.out[0]).toMatch(new RegExp(`^kubeskippy paused by ${user.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cli integration test`));
    const cm = await core.readNamespacedConfigMap({ name: 'kubeskippy-control', namespace: home });
    expect(cm.data).toMatchObject({ paused: 'true', reason: 'cli integration test', pausedBy: user });

    const policy = await waitFor('the policy Paused', async () => {
      const p = await readPolicy(kc, apps, 'victims');
      return p.status?.conditions?.find((c) => c.type === 'Paused')?.status === 'True' ? p : undefined;
    }, 60_000, 250);
    expect(policy.status?.conditions?.find((c) => c.type === 'Paused')?.reason).toBe('OperatorPaused');

    // A new firing while paused is refused by the gate, and says who paused and why.
    await createPod(kc, apps, 'victim-3', { labels: { app: 'victim' } });
    const third = await waitForPhase(kc, apps, (await actionFor('victim-3')).metadata.name ?? '', FINISHED, 90_000);
    expect(third.status?.phase).toBe('Blocked');
    expect(third.status?.reason).toBe('Paused');
    expect(third.status?.message).toContain(`paused by ${user}`);
    expect(third.status?.message).toContain('cli integration test');

    // The leader reported its settings on the ConfigMap once it existed.
    const reported = await waitFor('the operator state', async () => {
      const c = await core.readNamespacedConfigMap({ name: 'kubeskippy-control', namespace: home });
      return parseOperatorState(c.metadata?.annotations?.[OPERATOR_STATE_ANNOTATION]);
    }, 60_000, 250);
    expect(reported).toMatchObject({ identity, dryRun: false, configPaused: false, maxActionsPerHour: 100_000 });

    // Pausing again changes nothing.
    const again = await cli('pause', '--reason', 'another', '--operator-namespace', home);
    expect(again.out[0]).toMatch(/already paused by .*cli integration test; nothing changed/);

    const resumed = await cli('resume', '--operator-namespace', home);
    expect(resumed.code, resumed.err.join('\n')).toBe(0);
    await waitFor('the policy not Paused', async () => (await readPolicy(kc, apps, 'victims')).status?.conditions?.find((c) => c.type === 'Paused')?.status === 'False', 60_000, 250);
  });
});

describe('kubeskippy actions --watch', () => {
  it('lists, then streams each change through a real watch until interrupted (exit 0)', async () => {
    const out: string[] = [];
    const ac = new AbortController();
    const watching = main(['actions', '-w', '-n', apps, '-o', 'json', '--target', 'victim-4', '--kubeconfig', kubeconfigPath], { out: (l) => out.push(l), err: () => undefined }, { signal: ac.signal });
    await createPod(kc, apps, 'victim-4', { labels: { app: 'victim' } });
    const events = await waitFor('the action on victim-4 to be added and then finish', async () => {
      await Promise.resolve();
      const parsed = out.map((l) => JSON.parse(l) as { type: string; object: HealingAction });
      return parsed.some((e) => e.type === 'ADDED') && parsed.some((e) => FINISHED.includes(e.object.status?.phase ?? '')) ? parsed : undefined;
    }, 90_000, 250);
    ac.abort();
    expect(await watching).toBe(0);
    expect(events.every((e) => e.object.spec.targetResource.name === 'victim-4')).toBe(true);
    expect(events.filter((e) => e.type === 'MODIFIED').length).toBeGreaterThanOrEqual(1);
    // Resumed: the gate no longer says Paused; the hourly budget of 1 (spent on victim-1) is what stops it now.
    expect(events.at(-1)?.object.status).toMatchObject({ phase: 'Blocked', reason: 'RateLimited' });
  });
});

describe('kubectl skippy (the kubectl plugin)', () => {
  it('runs through the project kubectl with kubectl-skippy on PATH: status, and exit codes kept', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'kubectl-skippy-'));
    try {
      symlinkSync(path.join(repoRoot, 'bin/kubectl-skippy.js'), path.join(bin, 'kubectl-skippy'));
      // `node` on PATH is the project's Node 24 (the plugin's shebang is /usr/bin/env node).
      const env = { ...process.env, PATH: `${bin}:${path.join(repoRoot, 'node_modules/.bin')}:${process.env['PATH'] ?? ''}` };
      const run = (...args: string[]) => spawnSync(kubectlPath(), ['skippy', ...args, '--kubeconfig', kubeconfigPath], { env, encoding: 'utf8', timeout: 60_000 });

      const status = run('status', '-n', apps, '--operator-namespace', home);
      expect(status.status, status.stderr).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`Leader:\\s+${identity} \\(renewed`));
      expect(status.stdout).toMatch(/Paused:\s+no/);
      expect(status.stdout).toMatch(/Dry run:\s+no/);
      expect(status.stdout).toMatch(new RegExp(`hp\\s+${apps}\\s+victims\\s+automatic\\s+True\\s+0/1`));

      const help = run('--help');
      expect(help.stdout).toMatch(/^Usage: kubectl skippy/);
      const missing = run('explain', 'nope', '-n', apps);
      expect(missing.status).toBe(3);
      expect(missing.stderr.trim()).toBe(`kubectl skippy explain: healingaction "nope" not found in namespace "${apps}"`);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
