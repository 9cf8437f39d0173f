import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { KubeError } from '../k8s/errors.js';
import type { ListResult, ListWatchSource, WatchCallbacks } from '../k8s/informer.js';
import { systemClock } from '../runtime/clock.js';
import { actionsCommand, matchesFilters, parseActionFilters, watchActions, type WatchedAction } from './actions.js';
import { UsageError } from './errors.js';

const t0 = Date.parse('2026-03-01T12:00:00Z');

function action(
  name: string,
  over: { phase?: NonNullable<HealingAction['status']>['phase']; createdAgoMs?: number; namespace?: string; reason?: string; policy?: string; cluster?: boolean; source?: 'rule' | 'ai'; target?: string; workload?: string; approvalRequired?: boolean } = {},
): WatchedAction {
  const ns = over.namespace ?? 'apps';
  const a: HealingAction = {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: ns, resourceVersion: '1', creationTimestamp: new Date(t0 - (over.createdAgoMs ?? 30_000)).toISOString() },
    spec: {
      policyRef: over.cluster ? { kind: 'ClusterHealingPolicy', name: over.policy ?? 'crashloop' } : { name: over.policy ?? 'crashloop' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: over.target ?? `${name}-pod` },
      ...(over.workload ? { workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: over.workload } } : {}),
      action: { name: 'restart', type: 'restart' },
      approvalRequired: over.approvalRequired ?? true,
      ...(over.source ? { source: over.source } : {}),
    },
    ...(over.phase ? { status: { phase: over.phase, ...(over.reason ? { reason: over.reason } : {}) } } : {}),
  };
  // Informers hold the objects as the API returns them; the timestamp is a string either way.
  return a as unknown as WatchedAction;
}

const list = (items: HealingAction[]) => ({
  list: (namespace: string | undefined) => Promise.resolve(items.filter((a) => namespace === undefined || a.metadata.namespace === namespace)),
});

describe('kubeskippy actions', () => {
  const api = list([
    action('heal-new', { phase: 'WaitingApproval', reason: 'AwaitingApproval', createdAgoMs: 5_000 }),
    action('heal-old', { phase: 'Blocked', reason: 'RateLimited', createdAgoMs: 3 * 3600_000 }),
    action('heal-fresh', { createdAgoMs: 1_000 }),
    action('heal-elsewhere', { phase: 'Succeeded', namespace: 'other', createdAgoMs: 200_000 }),
  ]);

  it('lists a namespace oldest first with NAME, POLICY, ACTION, TARGET, PHASE, REASON, AGE', async () => {
    const out = await actionsCommand(api, { namespace: 'apps', filters: {} }, t0);
    expect(out.code).toBe(0);
    expect(out.out).toEqual([
      'NAME         POLICY      ACTION    TARGET               PHASE             REASON             AGE',
      'heal-old     crashloop   restart   Pod/heal-old-pod     Blocked           RateLimited        3h',
      'heal-new     crashloop   restart   Pod/heal-new-pod     WaitingApproval   AwaitingApproval   5s',
      'heal-fresh   crashloop   restart   Pod/heal-fresh-pod   Pending           <none>             1s',
    ]);
  });

  it('with --pending lists only actions waiting for approval', async () => {
    const out = await actionsCommand(api, { namespace: 'apps', filters: { pending: true } }, t0);
    expect(out.out.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['heal-new', 'heal-fresh']);
  });

  it('adds a NAMESPACE column across all namespaces and says so when nothing matches', async () => {
    const all = await actionsCommand(api, { namespace: undefined, filters: {} }, t0);
    expect(all.out[0]).toMatch(/^NAMESPACE\s+NAME\s+POLICY/);
    expect(all.out).toHaveLength(5);
    expect(all.out.some((l) => l.startsWith('other ') && l.includes('heal-elsewhere') && l.endsWith('3m20s'))).toBe(true);
    const none = await actionsCommand(api, { namespace: 'empty', filters: { pending: true } }, t0);
    expect(none).toEqual({ code: 0, out: [], err: ['No actions waiting for approval found in empty namespace.'] });
  });

  it('prints a kubectl-style List with -o json, filters applied', async () => {
    const out = await actionsCommand(api, { namespace: 'apps', filters: { phases: ['Blocked'] }, output: 'json' }, t0);
    const doc = JSON.parse(out.out.join('\n')) as { kind: string; items: HealingAction[] };
    expect(doc.kind).toBe('List');
    expect(doc.items.map((a) => a.metadata.name)).toEqual(['heal-old']);
  });
});

describe('action filters', () => {
  const a = action('a', { phase: 'Blocked', policy: 'mem', target: 'web-1', workload: 'web', source: 'ai', createdAgoMs: 10 * 60_000 });
  it.each([
    ['--policy mem', { policy: 'mem' }, true],
    ['--policy other', { policy: 'other' }, false],
    ['--policy apps/mem', { policy: 'apps/mem' }, true],
    ['--policy shop/mem (another namespace)', { policy: 'shop/mem' }, false],
    ['--policy chp/mem (it is a namespaced policy)', { policy: 'chp/mem' }, false],
    ['--phase Blocked', { phase: 'blocked' }, true],
    ['--phase Failed,Succeeded', { phase: 'Failed,Succeeded' }, false],
    ['--target web-1', { target: 'web-1' }, true],
    ['--target pod/web-1', { target: 'pod/web-1' }, true],
    ['--target deployment/web (its workload)', { target: 'deployment/web' }, true],
    ['--target statefulset/web', { target: 'statefulset/web' }, false],
    ['--source ai', { source: 'ai' }, true],
    ['--source rule', { source: 'rule' }, false],
    ['--since 1h', { since: '1h' }, true],
    ['--since 5m', { since: '5m' }, false],
  ] as const)('%s', (_flag, flags, expected) => {
    expect(matchesFilters(a, parseActionFilters(flags, t0))).toBe(expected);
  });

  it('matches a cluster policy by chp/NAME or ClusterHealingPolicy/NAME', () => {
    const c = action('c', { cluster: true, policy: 'fleet' });
    expect(matchesFilters(c, parseActionFilters({ policy: 'chp/fleet' }, t0))).toBe(true);
    expect(matchesFilters(c, parseActionFilters({ policy: 'ClusterHealingPolicy/fleet' }, t0))).toBe(true);
    expect(matchesFilters(c, parseActionFilters({ policy: 'apps/fleet' }, t0))).toBe(false);
  });

  it.each([
    [{ phase: 'Done' }, /--phase "Done" is not a phase/],
    [{ source: 'human' }, /--source "human": use rule or ai/],
    [{ since: 'yesterday' }, /--since "yesterday" is not a duration/],
  ])('refuses %j as bad usage', (flags, message) => {
    expect(() => parseActionFilters(flags, t0)).toThrow(UsageError);
    expect(() => parseActionFilters(flags, t0)).toThrow(message);
  });
});

/** A collection that lists, then streams what the test sends. */
class Source implements ListWatchSource<WatchedAction> {
  callbacks: WatchCallbacks | undefined;
  listError: Error | undefined;
  constructor(private readonly items: WatchedAction[]) {}
  list(): Promise<ListResult<WatchedAction>> {
    if (this.listError) return Promise.reject(this.listError);
    return Promise.resolve({ items: this.items, resourceVersion: '10' });
  }
  watch(_rv: string, callbacks: WatchCallbacks, signal: AbortSignal): Promise<void> {
    this.callbacks = callbacks;
    callbacks.onConnect();
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('kubeskippy actions --watch', () => {
  it('prints the current actions, then each change that passes the filters, until interrupted', async () => {
    const source = new Source([action('heal-b', { createdAgoMs: 1000 }), action('heal-a', { createdAgoMs: 5000, phase: 'Failed' })]);
    const out: string[] = [];
    const ac = new AbortController();
    const done = watchActions({ namespace: 'apps', filters: { phases: ['Pending', 'InProgress', 'Failed'] }, output: 'human', source, clock: systemClock, signal: ac.signal, out: (l) => out.push(l), err: () => undefined });
    await until(() => out.length === 3);
    expect(out[0]).toMatch(/^NAME\s+POLICY\s+ACTION\s+TARGET\s+PHASE\s+REASON\s+AGE$/);
    expect(out.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['heal-a', 'heal-b']);
    source.callbacks?.onEvent('MODIFIED', { ...action('heal-b', { phase: 'InProgress' }), metadata: { ...action('heal-b').metadata, resourceVersion: '11' } });
    source.callbacks?.onEvent('ADDED', { ...action('heal-c', { phase: 'Blocked' }), metadata: { ...action('heal-c').metadata, resourceVersion: '12' } });
    await until(() => out.length === 4);
    expect(out[3]).toMatch(/^heal-b\s.*InProgress/);
    ac.abort();
    expect(await done).toBe(0);
    // heal-c is Blocked: filtered out.
    expect(out.join('\n')).not.toContain('heal-c');
  });

  it('streams JSON events, one per line, with -o json', async () => {
    const source = new Source([action('heal-a')]);
    const out: string[] = [];
    const ac = new AbortController();
    const done = watchActions({ namespace: undefined, filters: {}, output: 'json', source, clock: systemClock, signal: ac.signal, out: (l) => out.push(l), err: () => undefined });
    await until(() => out.length === 1);
    source.callbacks?.onEvent('DELETED', action('heal-a'));
    await until(() => out.length === 2);
    ac.abort();
    await done;
    expect(out.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['ADDED', 'DELETED']);
  });

  it('fails with the API error when the first list is refused', async () => {
    const source = new Source([]);
    source.listError = new KubeError('Forbidden', 'healingactions is forbidden', { status: 403 });
    const ac = new AbortController();
    await expect(watchActions({ namespace: 'apps', filters: {}, output: 'human', source, clock: systemClock, signal: ac.signal, out: () => undefined, err: () => undefined })).rejects.toThrow(/forbidden/);
  });
});
