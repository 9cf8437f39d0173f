/**
 * Crash recovery and the healing stories (issue 5, "Must show") on the real cluster with the real operator:
 * - an operator killed with SIGKILL between intent (InProgress journalled) and done, 20 times in a row, never
 *   executes an action twice and leaves none stuck;
 * - the escalation ladder climbs from restart to rollback when a bad release keeps crashing;
 * - the seed's memory-leak story (Slide 6) end to end, with before/after memory in the result;
 * - a restarted operator does not duplicate an action that waits for approval.
 *
 * The kill tests run the built operator as a child process (`npm run build` first); the stories run it in-process.
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import { parseBytes } from '../../src/k8s/quantity.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { spawnOperator, startTestOperator, type SpawnedOperator } from '../support/operator.js';
import { createPod, createPolicy, ensureCrds, listActions, waitForActions, waitForPhase, waitForReady } from '../support/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const metricsApi = new k8s.Metrics(kc);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const FINISHED = ['Succeeded', 'Failed', 'Cancelled', 'Blocked'];
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REVISION = 'deployment.kubernetes.io/revision';
const CRASH = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '2s' };

/**
 * Budgets and breakers out of the way for the kill tests: actions that a kill interrupted before their mutation are
 * (correctly) verified, not re-executed, and so fail — which would open the breakers this test is not about. The
 * global breaker and budget also count other test runs' actions on the shared cluster.
 */
const SPAWN_FLAGS = ['--max-actions-per-hour', '1000', '--circuit-breaker-failure-threshold', '1000', '--global-circuit-breaker-min-actions', '100000'];

const namespaces: string[] = [];
const children = new Set<SpawnedOperator>();

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/kubeskippy.mjs'))) throw new Error('dist/ is missing: run `npm run build` before the integration tests');
  await ensureCrds();
}, 120_000);

afterAll(async () => {
  for (const c of children) c.process.kill('SIGKILL');
  await Promise.all(namespaces.map((ns) => deleteTestNamespace(kc, ns)));
});

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(kc, prefix);
  namespaces.push(ns);
  return ns;
}

/** A spawned operator and a promise of its exit, set up before anything can kill it (no missed 'exit'). */
function spawn(): { op: SpawnedOperator; exited: Promise<NodeJS.Signals | number | null>; killedByUs: () => boolean; kill: (signal?: NodeJS.Signals) => void } {
  const op = spawnOperator(SPAWN_FLAGS);
  children.add(op);
  let ours = false;
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
    op.process.once('exit', (code, signal) => {
      children.delete(op);
      resolve(signal ?? code);
    });
  });
  return {
    op,
    exited,
    killedByUs: () => ours,
    kill: (signal = 'SIGKILL') => {
      ours = true;
      op.process.kill(signal);
    },
  };
}

interface DeploymentOptions {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly limits?: Record<string, string>;
  readonly strategy?: k8s.V1DeploymentStrategy;
  readonly revisionHistoryLimit?: number;
}

function deployment(name: string, replicas: number, o: DeploymentOptions = {}): k8s.V1Deployment {
  const labels = { app: name, ...(o.labels ?? {}) };
  const limits = o.limits ?? { memory: '100Mi', cpu: '1' };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: o.revisionHistoryLimit } : {}),
      template: {
        metadata: { labels, annotations: o.annotations ?? {} },
        spec: { containers: [{ name: 'app', image: 'example.invalid/app:1', resources: { limits, requests: limits } }] },
      },
    },
  };
}

/** Phase transitions of the HealingActions in a namespace as a watch sees them, with the test's clock. */
interface ActionLog {
  readonly transitions: Map<string, { phase: string; reason: string; at: number }[]>;
  readonly executionIds: Map<string, Set<string>>;
  /** Called on every InProgress carrying an executionId not seen before (a gate pass, i.e. an intent). */
  onIntent: ((name: string) => void) | undefined;
  stop(): void;
}

/**
 * Watches a namespace's HealingActions until stopped. client-node ends a watch after 30 s without events, so it
 * reconnects from the last resourceVersion seen (bookmarks keep that fresh), or afresh when that has expired.
 */
async function watchActions(ns: string): Promise<ActionLog> {
  let stopped = false;
  let resourceVersion: string | undefined;
  let current: AbortController | undefined;
  const log: ActionLog = {
    transitions: new Map(),
    executionIds: new Map(),
    onIntent: undefined,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
  const record = (a: HealingAction): void => {
    const name = a.metadata.name ?? '';
    const phase = a.status?.phase ?? 'Pending';
    const list = log.transitions.get(name) ?? [];
    const reason = a.status?.reason ?? '';
    const last = list.at(-1);
    if (last?.phase !== phase || last.reason !== reason) list.push({ phase, reason, at: Date.now() });
    log.transitions.set(name, list);
    const id = a.status?.executionId;
    if (phase === 'InProgress' && id !== undefined) {
      const ids = log.executionIds.get(name) ?? new Set<string>();
      const fresh = !ids.has(id);
      ids.add(id);
      log.executionIds.set(name, ids);
      if (fresh) log.onIntent?.(name);
    }
  };
  const connect = async (): Promise<void> => {
    current = await new k8s.Watch(kc).watch(
      `/apis/kubeskippy.io/v1alpha1/namespaces/${ns}/healingactions`,
      { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
      (type: string, obj: HealingAction) => {
        if (type === 'ERROR') {
          resourceVersion = undefined; // expired: start afresh (re-delivers every action as ADDED)
          return;
        }
        resourceVersion = obj.metadata.resourceVersion ?? resourceVersion;
        if (type !== 'BOOKMARK') record(obj);
      },
      () => {
        if (!stopped) reconnect();
      },
    );
    if (stopped) current.abort();
  };
  const reconnect = (): void => {
    connect().catch(() => setTimeout(reconnect, 500));
  };
  await connect();
  return log;
}

function seconds(iso: string | undefined): number {
  return iso === undefined ? Number.NaN : Math.floor(Date.parse(iso) / 1000) * 1000;
}

function clock(t: number, t0: number): string {
  return `T+${((t - t0) / 1000).toFixed(1).padStart(5)}s`;
}

describe('an operator killed at any moment', () => {
  it('never executes an action twice and leaves every action in a terminal phase after 20 SIGKILLs, most right after the intent was journalled', async () => {
    const ns = await namespace('rec-kill');
    const names = ['app-0', 'app-1', 'app-2', 'app-3', 'app-4', 'app-5'];
    // A generous history keeps every ReplicaSet, so every rollout restart the cluster saw stays countable.
    for (const n of names) await apps.createNamespacedDeployment({ namespace: ns, body: deployment(n, 3, { labels: { tier: 'kill' }, revisionHistoryLimit: 200 }) });
    for (const n of names) await waitForReady(kc, ns, n, 3);
    await createPolicy(kc, ns, 'heal-crashes', {
      selector: { resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], labelSelector: { matchLabels: { tier: 'kill' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '1s' }],
      actions: [{ name: 'restart', type: 'restart', priority: 10 }],
      safetyRules: { maxActionsPerHour: 1000, healthCheckTimeout: '15s', maxUnavailable: 1 },
    });

    /** Makes one pod of every Deployment that has no crashing pod crash-loop (a fresh fault to heal). */
    const injectFaults = async (): Promise<void> => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
      for (const n of names) {
        const mine = pods.filter((p) => p.metadata?.labels?.['app'] === n);
        if (mine.some((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true')) continue;
        const victim = mine.find((p) => p.status?.phase === 'Running');
        if (!victim) continue;
        await core
          .patchNamespacedPod({ name: victim.metadata?.name ?? '', namespace: ns, body: { metadata: { annotations: CRASH } } }, mergePatch)
          .catch(() => undefined);
      }
    };

    const log = await watchActions(ns);
    const kills: { i: number; mode: string; delayMs: number; lifeMs: number; interrupted: string[] }[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        await injectFaults();
        const child = spawn();
        const started = Date.now();
        const intents: string[] = [];
        // Every fourth kill lands at a random moment (start-up, gate, verification); the others a few ms after an
        // intent was journalled — the window in which the mutation is being made.
        const random = i % 4 === 3;
        const delayMs = random ? 500 + Math.floor(Math.random() * 3500) : ([0, 40, 120, 250, 400, 600] as const)[i % 6]!;
        const killed = new Promise<void>((resolve) => {
          const fallback = setTimeout(() => {
            child.kill();
            resolve();
          }, random ? delayMs : 25_000);
          if (random) return;
          log.onIntent = (name) => {
            intents.push(name);
            if (intents.length > 1) return;
            clearTimeout(fallback);
            const fire = (): void => {
              child.kill();
              resolve();
            };
            if (delayMs === 0) fire();
            else setTimeout(fire, delayMs);
          };
        });
        // Whatever happens, also record the intents a random kill interrupts.
        if (random) log.onIntent = (name) => intents.push(name);
        const exit = await Promise.race([killed.then(() => child.exited), child.exited]);
        log.onIntent = undefined;
        if (!child.killedByUs()) throw new Error(`the operator exited by itself (${String(exit)}):\n${child.op.output().slice(-3000)}`);
        expect(exit).toBe('SIGKILL');
        // What the kill interrupted: intents of this life still InProgress, i.e. with no "done" written.
        const now = await listActions(kc, ns);
        const interrupted = now.filter((a) => a.status?.phase === 'InProgress' && intents.includes(a.metadata.name ?? '')).map((a) => a.metadata.name ?? '');
        kills.push({ i, mode: random ? 'random' : 'after intent', delayMs, lifeMs: Date.now() - started, interrupted });
      }

      // A last operator, left alone, must finish everything: recovered actions verified, new faults healed.
      const final = spawn();
      const settled = await waitFor(
        'every action finished and every Deployment healthy',
        async () => {
          const actions = await listActions(kc, ns);
          if (actions.some((a) => !FINISHED.includes(a.status?.phase ?? 'Pending'))) return undefined;
          const pods = (await core.listNamespacedPod({ namespace: ns })).items;
          if (pods.some((p) => p.metadata?.annotations?.['sim.kubeskippy.io/crash'] === 'true')) return undefined;
          for (const n of names) if ((await apps.readNamespacedDeployment({ name: n, namespace: ns })).status?.readyReplicas !== 3) return undefined;
          return actions;
        },
        150_000,
        1000,
      );
      // Still settled a little later: nothing left half-done that would wake up.
      await sleep(3000);
      const actions = await listActions(kc, ns);
      expect(actions.map((a) => a.metadata.name)).toEqual(settled.map((a) => a.metadata.name));
      final.kill('SIGTERM');
      expect(await final.exited).toBe(0);

      // The mutations the cluster saw: every rollout restart leaves a ReplicaSet carrying its restartedAt (the
      // history limit keeps them all). Each is attributed to the action on that Deployment that started last before
      // it — actions on one target never overlap (checked below).
      const replicaSets = (await apps.listNamespacedReplicaSet({ namespace: ns })).items;
      const owned = new Map<string, string[]>();
      const unowned: string[] = [];
      let mutations = 0;
      for (const n of names) {
        const dep = await apps.readNamespacedDeployment({ name: n, namespace: ns });
        const restarts = [
          ...new Set(
            replicaSets
              .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === dep.metadata?.uid))
              .map((rs) => rs.spec?.template?.metadata?.annotations?.[RESTARTED_AT])
              .filter((v): v is string => v !== undefined),
          ),
        ].sort();
        mutations += restarts.length;
        const started = actions
          .filter((a) => a.spec.targetResource.name === n && a.status?.startTime !== undefined)
          .sort((x, y) => seconds(x.status?.startTime) - seconds(y.status?.startTime));
        for (const r of restarts) {
          const owner = started.filter((a) => seconds(a.status?.startTime) <= Date.parse(r)).at(-1);
          if (!owner) unowned.push(`${n}@${r}`);
          else owned.set(owner.metadata.name ?? '', [...(owned.get(owner.metadata.name ?? '') ?? []), r]);
        }
      }

      const between = kills.filter((k) => k.interrupted.length > 0);
      const interruptedNames = new Set(between.flatMap((k) => k.interrupted));
      const mutatedBeforeKill = [...interruptedNames].filter((n) => owned.has(n)).length;
      const phases = new Map<string, number>();
      for (const a of actions) phases.set(a.status?.phase ?? 'Pending', (phases.get(a.status?.phase ?? 'Pending') ?? 0) + 1);
      const retries = (name: string): number => (log.transitions.get(name) ?? []).filter((t) => t.reason === 'RetryScheduled').length;
      const dump = path.join(tmpdir(), `kubeskippy-operator-recovery-${ns}.json`);
      writeFileSync(dump, JSON.stringify({ kills, actions, transitions: Object.fromEntries(log.transitions), owned: Object.fromEntries(owned), unowned }, null, 1));
      console.log(
        [
          `operator-recovery: ${kills.length} SIGKILLs; ${between.length} landed between intent and done ` +
            `(${interruptedNames.size} actions interrupted: ${mutatedBeforeKill} after their mutation was made, ${interruptedNames.size - mutatedBeforeKill} before it)`,
          ...kills.map(
            (k) =>
              `  kill ${String(k.i + 1).padStart(2)}  ${k.mode.padEnd(12)} delay ${String(k.delayMs).padStart(4)} ms  life ${String(k.lifeMs).padStart(5)} ms  ` +
              (k.interrupted.length > 0 ? `between intent and done: ${k.interrupted.map((n) => `${n}${owned.has(n) ? ' (mutated)' : ' (not yet mutated)'}`).join(', ')}` : '-'),
          ),
          `  ${actions.length} actions: ${[...phases].map(([p, c]) => `${c} ${p}`).join(', ')}; ` +
            `${mutations} rollout restarts seen by the cluster, owned by ${owned.size} actions; details in ${dump}`,
        ].join('\n'),
      );

      // 1. Every action is in a terminal phase.
      for (const a of actions) expect(FINISHED, `${a.metadata.name ?? ''} is ${a.status?.phase ?? 'Pending'}`).toContain(a.status?.phase);

      // 2. The journal: a new executionId only for a retry the operator scheduled after an attempt the API refused
      //    (RetryScheduled); never a second one because the operator restarted.
      for (const a of actions) {
        const name = a.metadata.name ?? '';
        const attempts = a.status?.attempts ?? 0;
        expect(attempts, `${name} made ${attempts} attempts with ${retries(name)} scheduled retries`).toBeLessThanOrEqual(1 + retries(name));
        if (a.status?.executionId !== undefined) expect(a.status.executionId).toBe(`${a.metadata.uid ?? ''}/${attempts}`);
        expect(log.executionIds.get(name)?.size ?? 0).toBeLessThanOrEqual(attempts);
      }

      // 3. No action mutated twice, no mutation without an action, and every journalled execution really happened.
      expect(unowned, 'rollout restarts made by no action').toEqual([]);
      for (const [name, restarts] of owned) expect(restarts, `${name} restarted its Deployment more than once`).toHaveLength(1);
      for (const a of actions) {
        if (a.status?.execution !== undefined && a.status.execution !== null) {
          expect(owned.get(a.metadata.name ?? ''), `${a.metadata.name ?? ''} journalled an execution the cluster never saw`).toHaveLength(1);
        }
      }
      expect(mutations).toBeLessThanOrEqual(actions.filter((a) => a.status?.startTime !== undefined).length);
      // Only a rollout restart removes an injected crash here, so an action verified healthy must have made one: a
      // recovered action whose mutation never happened may fail, but must not pass verification on stale data.
      for (const a of actions) {
        if (a.status?.phase === 'Succeeded') expect(owned.get(a.metadata.name ?? ''), `${a.metadata.name ?? ''} Succeeded without a mutation`).toHaveLength(1);
      }

      // 4. One decision, one action: never two actions for the same Deployment in flight at once.
      for (const n of names) {
        const mine = actions.filter((a) => a.spec.targetResource.name === n);
        for (let k = 1; k < mine.length; k++) {
          const prev = mine[k - 1]!;
          const next = mine[k]!;
          expect(seconds(next.metadata.creationTimestamp), `${next.metadata.name ?? ''} was created while ${prev.metadata.name ?? ''} was in flight`).toBeGreaterThanOrEqual(
            seconds(prev.status?.completionTime),
          );
        }
      }

      // The test proves nothing about the journal unless some kills really interrupted an execution.
      expect(between.length).toBeGreaterThanOrEqual(1);
    } finally {
      log.stop();
      for (const c of children) c.process.kill('SIGKILL');
    }
  }, 900_000);

  it('does not create a second action for a firing that waits for approval when the operator is killed and restarted', async () => {
    const ns = await namespace('rec-approval');
    await createPod(kc, ns, 'looper', { labels: { app: 'manual' }, annotations: CRASH });
    await createPolicy(kc, ns, 'ask-first', {
      selector: { labelSelector: { matchLabels: { app: 'manual' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 0 }, cooldownPeriod: '1s' }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
      mode: 'manual',
    });
    const first = spawn();
    const [waiting] = await waitForActions(kc, ns, 1, 60_000);
    await waitForPhase(kc, ns, waiting!.metadata.name ?? '', ['WaitingApproval'], 30_000);
    first.kill();
    expect(await first.exited).toBe('SIGKILL');

    const second = spawn();
    try {
      // Proof that the new operator evaluates the policy while the first firing still holds: a second crash-looping
      // pod gets its own action from it.
      await createPod(kc, ns, 'newcomer', { labels: { app: 'manual' }, annotations: CRASH });
      const both = await waitForActions(kc, ns, 2, 60_000);
      expect(both.map((a) => a.spec.targetResource.name).sort()).toEqual(['looper', 'newcomer']);
      await waitForPhase(kc, ns, both.find((a) => a.spec.targetResource.name === 'newcomer')!.metadata.name ?? '', ['WaitingApproval'], 30_000);
      // Several more policy evaluations (the looper's restart count keeps rising, so each pod update re-evaluates).
      await sleep(6000);
      const all = await listActions(kc, ns);
      const forLooper = all.filter((a) => a.spec.targetResource.name === 'looper');
      expect(forLooper.map((a) => a.metadata.uid)).toEqual([waiting!.metadata.uid]);
      expect(forLooper[0]!.status?.phase).toBe('WaitingApproval');
      expect(all).toHaveLength(2);
      const pod = await core.readNamespacedPod({ name: 'looper', namespace: ns });
      expect(pod.metadata?.uid).toBe(waiting!.spec.targetResource.uid);
    } finally {
      second.kill();
      await second.exited;
    }
  }, 180_000);
});

describe('healing stories', () => {
  let operator: RunningOperator | undefined;
  beforeAll(async () => {
    operator = await startTestOperator({ 'globalCircuitBreaker.minActions': 100000 });
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
  });

  // The two stories run side by side (each in its own namespace, one operator): most of their time is waiting.
  it.concurrent('escalates from restart to rollback when a bad release keeps crash-looping, and the rollback restores the healthy template', async ({ expect }) => {
    const ns = await namespace('rec-escalate');
    const t0 = Date.now();
    const healthy = deployment('shop', 2, { labels: { tier: 'shop' }, strategy: { type: 'Recreate' } });
    await apps.createNamespacedDeployment({ namespace: ns, body: healthy });
    await waitForReady(kc, ns, 'shop', 2);
    const revision1 = await waitFor('revision 1', async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace: ns })).items;
      return rs.length === 1 && rs[0]!.metadata?.annotations?.[REVISION] === '1' ? rs[0] : undefined;
    }, 30_000);
    // The bad release: revision 2 crash-loops and never becomes Ready.
    await apps.patchNamespacedDeployment(
      { name: 'shop', namespace: ns, body: { spec: { template: { metadata: { annotations: { ...CRASH, 'sim.kubeskippy.io/ready': 'false' } } } } } },
      mergePatch,
    );
    await waitFor('revision 2 pods crash-looping', async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      return pods.some((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0);
    }, 60_000);
    await createPolicy(kc, ns, 'release-guard', {
      selector: { resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }], labelSelector: { matchLabels: { tier: 'shop' } } },
      triggers: [{ name: 'crashing', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 }, cooldownPeriod: '5s' }],
      actions: [
        { name: 'rollback-release', type: 'rollback', priority: 20 },
        { name: 'restart-app', type: 'restart', priority: 10 },
      ],
      safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '20s' },
    });

    // The gate may first refuse a rollback for the restart's cooldown (Blocked); the one that counts passed the gate.
    const rollback = await waitFor(
      'a rollback action past the gate',
      async () => (await listActions(kc, ns)).find((a) => a.spec.action.type === 'rollback' && a.status?.startTime !== undefined),
      150_000,
      1000,
    );
    const done = await waitForPhase(kc, ns, rollback.metadata.name ?? '', FINISHED, 90_000);
    const actions = await listActions(kc, ns);
    const executed = actions.filter((a) => a.status?.phase !== 'Blocked');
    const rollbacks = actions.filter((a) => a.spec.action.type === 'rollback');
    console.log(
      [
        'operator-recovery: escalation',
        ...actions.map(
          (a) =>
            `  ${clock(Date.parse(a.metadata.creationTimestamp ?? ''), t0)}  ${a.spec.action.name.padEnd(16)} level ${a.spec.escalationLevel ?? 0}  ${a.status?.phase ?? 'Pending'}` +
            ` (${a.status?.reason ?? ''}): ${(a.status?.message ?? '').slice(0, 160)}`,
        ),
      ].join('\n'),
    );
    // First the restart, then — after it did not fix the crash loop — the rollback, on the same Deployment.
    expect(executed.map((a) => a.spec.action.type)).toEqual(['restart', 'rollback']);
    // The next rung waited for the restart's cooldown instead of being created only to be refused for it.
    expect(actions.filter((a) => a.status?.phase === 'Blocked').map((a) => `${a.metadata.name ?? ''}: ${a.status?.message ?? ''}`)).toEqual([]);
    expect(executed.every((a) => a.spec.targetResource.kind === 'Deployment' && a.spec.targetResource.name === 'shop')).toBe(true);
    expect(executed[0]!.status?.phase === 'Failed' || executed[0]!.status?.phase === 'Succeeded').toBe(true);
    expect(rollback.spec.escalationLevel).toBe(1);
    expect(rollbacks[0]!.spec.reasoning?.join(' ')).toMatch(/escalated: restart-app \(.+\) (failed|was verified but the problem recurred)/);
    expect(done.status?.phase).toBe('Succeeded');

    // The Deployment runs revision 1's template again, from revision 1's ReplicaSet, and its pods stop crashing.
    const dep = await apps.readNamespacedDeployment({ name: 'shop', namespace: ns });
    expect(dep.spec?.template.metadata?.annotations?.['sim.kubeskippy.io/crash']).toBeUndefined();
    expect(Number(dep.metadata?.annotations?.[REVISION])).toBeGreaterThanOrEqual(3);
    const current = await waitFor('the Deployment rolled back and Ready', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'shop', namespace: ns });
      if (d.status?.readyReplicas !== 2 || d.status.updatedReplicas !== 2) return undefined;
      const rs = (await apps.listNamespacedReplicaSet({ namespace: ns })).items;
      return rs.find((r) => r.metadata?.annotations?.[REVISION] === d.metadata?.annotations?.[REVISION]);
    }, 60_000, 500);
    expect(current.metadata?.uid).toBe(revision1.metadata?.uid);
    await sleep(4000);
    const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.annotations?.['sim.kubeskippy.io/crash']).toBeUndefined();
      expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  }, 300_000);

  it.concurrent("tells the seed's memory-leak story: leak, 85% held 30s, HealingAction, pod replaced, memory back to baseline, Succeeded with before/after", async ({ expect }) => {
    const ns = await namespace('rec-leak');
    const log = await watchActions(ns);
    try {
      // 90Mi at start (17.6%), +3Mi/s: 85% of 512Mi (435Mi) after ~115 s; a restart starts again from 90Mi.
      // metrics-server lists a new pod only after two scrapes (15 s apart), so the first observation of the
      // replacement comes ~30 s after it started; verification must end before the replacement itself crosses
      // 85% (~115 s after it started), hence a health-check timeout below that.
      await apps.createNamespacedDeployment({
        namespace: ns,
        body: deployment('memory-leak-app', 2, {
          annotations: { 'sim.kubeskippy.io/memory': '90Mi', 'sim.kubeskippy.io/memory-leak': '3Mi' },
          limits: { memory: '512Mi', cpu: '1' },
        }),
      });
      await createPolicy(kc, ns, 'memory-healing', {
        selector: { labelSelector: { matchLabels: { app: 'memory-leak-app' } } },
        triggers: [{ name: 'high-memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, operator: '>', duration: '30s' }, cooldownPeriod: '1m' }],
        actions: [{ name: 'restart-leaking-pod', type: 'restart', priority: 10, restartAction: { strategy: 'rolling' } }],
        safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '105s' },
      });
      await waitForReady(kc, ns, 'memory-leak-app', 2);
      const original = (await core.listNamespacedPod({ namespace: ns })).items;
      const leakStart = Math.min(...original.map((p) => Date.parse(String(p.status?.startTime ?? ''))));

      // The test watches metrics.k8s.io itself, to know when each pod first crossed 85%.
      const firstBreach = new Map<string, { at: number; percent: number }>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const list = await metricsApi.getPodMetrics(ns).catch(() => ({ items: [] as k8s.PodMetric[] }));
          for (const m of list.items) {
            const percent = (parseBytes(m.containers[0]?.usage.memory ?? '0') / (512 * 2 ** 20)) * 100;
            if (percent > 85 && !firstBreach.has(m.metadata.name)) firstBreach.set(m.metadata.name, { at: Date.parse(m.timestamp), percent });
          }
          await sleep(1000);
        }
      })();

      const executedAction = await waitFor(
        'a restart that executed',
        async () => (await listActions(kc, ns)).find((a) => a.status?.startTime !== undefined && a.status.phase !== 'Blocked'),
        240_000,
        1000,
      );
      const name = executedAction.metadata.name ?? '';
      const done = await waitForPhase(kc, ns, name, FINISHED, 150_000);
      sampling = false;
      await sampler;

      const target = done.spec.targetResource;
      const breach = firstBreach.get(target.name);
      const pods = (await core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
      const executedAt = Number((done.status?.execution as { executedAt?: number } | undefined)?.executedAt ?? Number.NaN);
      // The replacement made by this action: the first new pod. (The other original pod's own action, Blocked while
      // this one ran, may fire again after its cooldown and make a later one.)
      const replacement = pods
        .filter((p) => !original.some((o) => o.metadata?.uid === p.metadata?.uid))
        .sort((a, b) => Date.parse(String(a.metadata?.creationTimestamp ?? '')) - Date.parse(String(b.metadata?.creationTimestamp ?? '')))[0];
      // metrics-server reports a new pod only after two scrapes: wait for the replacement's first reading.
      const replacementUsage = replacement
        ? await waitFor('the replacement in metrics.k8s.io', async () => (await metricsApi.getPodMetrics(ns)).items.find((m) => m.metadata.name === replacement.metadata?.name), 90_000, 2000)
        : undefined;
      const at = (phase: string): number | undefined => log.transitions.get(name)?.find((t) => t.phase === phase)?.at;
      const all = await listActions(kc, ns);
      console.log(
        [
          `operator-recovery: memory-leak story (leak start = T+0, ${new Date(leakStart).toISOString()})`,
          `  ${clock(breach?.at ?? Number.NaN, leakStart)}  ${target.name} first over 85% in metrics.k8s.io (${breach?.percent.toFixed(1) ?? '?'}%)`,
          `  ${clock(Date.parse(done.metadata.creationTimestamp ?? ''), leakStart)}  HealingAction ${name} created: ${done.spec.trigger?.reason ?? ''}`,
          `  ${clock(at('InProgress') ?? Number.NaN, leakStart)}  gate passed, InProgress`,
          `  ${clock(executedAt, leakStart)}  executed: ${String((done.status?.execution as { message?: string } | undefined)?.message ?? '')}`,
          `  ${clock(at(done.status?.phase ?? '') ?? Number.NaN, leakStart)}  ${done.status?.phase ?? ''}: ${done.status?.message ?? ''}`,
          `  metricsBefore ${JSON.stringify(done.status?.result?.metricsBefore)}`,
          `  metricsAfter  ${JSON.stringify(done.status?.result?.metricsAfter)}`,
          `  replacement ${replacement?.metadata?.name ?? '?'} now uses ${replacementUsage?.containers[0]?.usage.memory ?? '(no reading)'} (metrics.k8s.io)`,
          ...all.map((a) => `  action ${a.metadata.name ?? ''} on ${a.spec.targetResource.name}: ${a.status?.phase ?? 'Pending'} ${a.status?.reason ?? ''}`),
        ].join('\n'),
      );

      // Leak → threshold crossed and held for 30 s → one HealingAction for the pod that crossed.
      expect(done.spec.trigger?.name).toBe('high-memory');
      expect(done.spec.trigger?.observedValue).toBeGreaterThan(85);
      expect(breach, `${target.name} never crossed 85% in metrics.k8s.io`).toBeDefined();
      expect(seconds(done.metadata.creationTimestamp)).toBeGreaterThanOrEqual(seconds(new Date(breach!.at + 30_000 - 1000).toISOString()));
      // → pod replaced: the old uid is gone, a new pod of the Deployment is Ready.
      expect(pods.some((p) => p.metadata?.uid === target.uid)).toBe(false);
      expect(replacement, 'no replacement pod').toBeDefined();
      expect(replacement!.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(Date.parse(String(replacement!.metadata?.creationTimestamp ?? ''))).toBeGreaterThanOrEqual(seconds(new Date(executedAt).toISOString()));
      // → Succeeded, with the high memory before and the baseline after.
      expect(done.status?.phase).toBe('Succeeded');
      expect(done.status?.result?.success).toBe(true);
      expect(Number.parseFloat(done.status?.result?.metricsBefore?.['memory_usage_percent'] ?? 'NaN')).toBeGreaterThanOrEqual(85);
      // "Back to baseline" means the leak started again from 90Mi: the value read after the change cannot exceed
      // what a fresh pod leaking 3Mi/s reaches by the time the action finished. Without the reset it would be
      // over 100%. (Timing of the read varies with the machine; this bound does not depend on it.)
      const finishedAt = at(done.status?.phase ?? '') ?? Date.now();
      const replacementAgeS = (finishedAt - Date.parse(String(replacement?.metadata?.creationTimestamp ?? ''))) / 1000 + 1;
      const afterPercent = Number.parseFloat(done.status?.result?.metricsAfter?.['memory_usage_percent'] ?? 'NaN');
      expect(afterPercent).toBeGreaterThanOrEqual((90 / 512) * 100 - 0.5);
      expect(afterPercent).toBeLessThanOrEqual(((90 + 3 * replacementAgeS) / 512) * 100 + 0.5);
      expect(afterPercent).toBeLessThan(85);
      // The replacement's memory, read independently, started again from its base (the leak reset).
      expect(replacementUsage, 'no metrics for the replacement').toBeDefined();
      expect(parseBytes(replacementUsage!.containers[0]!.usage.memory)).toBeLessThan(0.85 * 512 * 2 ** 20);
    } finally {
      log.stop();
    }
  }, 420_000);
});
