import { describe, expect, it } from 'vitest';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { KubeError } from '../k8s/errors.js';
import * as k8s from '@kubernetes/client-node';
import { approveCommand, cancelCommand, impersonate, isAwaitingApproval, rejectCommand, usernameOf, type ActionsApi } from './approve.js';
import { formatAge } from './output.js';
import { ExitCode, main } from './main.js';

const t0 = Date.parse('2026-03-01T12:00:00Z');

function action(name: string, over: { phase?: NonNullable<HealingAction['status']>['phase']; approvalRequired?: boolean; annotations?: Record<string, string>; createdAgoMs?: number; namespace?: string; reason?: string } = {}): HealingAction {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: {
      name,
      namespace: over.namespace ?? 'apps',
      resourceVersion: '1',
      creationTimestamp: new Date(t0 - (over.createdAgoMs ?? 30_000)).toISOString(),
      ...(over.annotations ? { annotations: over.annotations } : {}),
    },
    spec: {
      policyRef: { name: 'crashloop' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace: over.namespace ?? 'apps', name: `${name}-pod` },
      action: { name: 'restart', type: 'restart' },
      approvalRequired: over.approvalRequired ?? true,
    },
    ...(over.phase ? { status: { phase: over.phase, ...(over.reason ? { reason: over.reason } : {}) } } : {}),
  };
}

/**
 * An in-memory API: resourceVersions bump on every write, stale preconditions get 409 like the API server's.
 * `user` is who the "server" authenticates; {@link FakeApi.as} gives another user a view of the same objects.
 */
class FakeApi implements ActionsApi {
  objects = new Map<string, HealingAction>();
  patches: { name: string; annotations: Readonly<Record<string, string>> }[] = [];
  /** Runs after a read, before the next annotate: simulates another writer. */
  onRead: ((a: HealingAction) => void) | undefined;
  user = 'alice';
  whoAmICalls = 0;

  /** The same objects, as seen by `user`. */
  as(user: string): FakeApi {
    const other = new FakeApi();
    other.objects = this.objects;
    other.patches = this.patches;
    other.user = user;
    return other;
  }

  whoAmI(): Promise<string> {
    this.whoAmICalls++;
    return Promise.resolve(this.user);
  }

  constructor(...items: HealingAction[]) {
    for (const a of items) this.put(a);
  }

  put(a: HealingAction): void {
    this.objects.set(`${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`, a);
  }

  /** Replaces the stored object with a changed copy and a new resourceVersion. */
  change(namespace: string, name: string, f: (a: HealingAction) => HealingAction): void {
    const a = this.objects.get(`${namespace}/${name}`);
    if (!a) throw new Error('no such object');
    const next = f(structuredClone(a));
    this.put({ ...next, metadata: { ...next.metadata, resourceVersion: String(Number(a.metadata.resourceVersion ?? '0') + 1) } });
  }

  get(namespace: string, name: string): Promise<HealingAction | undefined> {
    const a = this.objects.get(`${namespace}/${name}`);
    if (a) this.onRead?.(a);
    return Promise.resolve(a ? structuredClone(a) : undefined);
  }

  list(namespace: string | undefined): Promise<readonly HealingAction[]> {
    return Promise.resolve([...this.objects.values()].filter((a) => namespace === undefined || a.metadata.namespace === namespace));
  }

  annotate(namespace: string, name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>): Promise<void> {
    const a = this.objects.get(`${namespace}/${name}`);
    if (!a) return Promise.reject(new KubeError('NotFound', `healingactions "${name}" not found`, { status: 404 }));
    if (a.metadata.resourceVersion !== resourceVersion) {
      return Promise.reject(new KubeError('Conflict', 'the object has been modified; please apply your changes to the latest version and try again', { status: 409 }));
    }
    this.patches.push({ name, annotations });
    this.change(namespace, name, (x) => ({ ...x, metadata: { ...x.metadata, annotations: { ...x.metadata.annotations, ...annotations } } }));
    return Promise.resolve();
  }
}

describe('kubeskippy approve', () => {
  it('sets kubeskippy.io/approved-by to the user the API server authenticates', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' })).as('system:serviceaccount:ops:oncall');
    const out = await approveCommand(api, { namespace: 'apps', name: 'heal-a' });
    expect(out).toEqual({ code: 0, out: ['healingaction.kubeskippy.io/heal-a approved by system:serviceaccount:ops:oncall'], err: [] });
    expect(api.objects.get('apps/heal-a')?.metadata.annotations).toEqual({ 'kubeskippy.io/approved-by': 'system:serviceaccount:ops:oncall' });
    expect(api.whoAmICalls).toBe(1);
  });

  it('writes nothing when the server cannot say who the user is', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' }));
    api.whoAmI = () => Promise.reject(new KubeError('Unauthorized', 'Unauthorized', { status: 401 }));
    await expect(approveCommand(api, { namespace: 'apps', name: 'heal-a' })).rejects.toThrow(/Unauthorized/);
    expect(api.patches).toEqual([]);
  });

  it('approves an action the operator has not picked up yet when it requires approval', async () => {
    const api = new FakeApi(action('heal-a'));
    expect((await approveCommand(api, { namespace: 'apps', name: 'heal-a' })).code).toBe(0);
  });

  it.each(['Succeeded', 'Failed', 'Cancelled', 'Blocked', 'Approved', 'InProgress', 'Verifying'] as const)(
    'refuses to approve an action that is already %s, and changes nothing',
    async (phase) => {
      const api = new FakeApi(action('heal-x', { phase }));
      const out = await approveCommand(api, { namespace: 'apps', name: 'heal-x' });
      expect(out).toEqual({ code: 1, out: [], err: [`heal-x is already ${phase}; nothing to approve`] });
      expect(api.patches).toEqual([]);
    },
  );

  it('refuses an action that never needed approval', async () => {
    const api = new FakeApi(action('heal-x', { approvalRequired: false }));
    const out = await approveCommand(api, { namespace: 'apps', name: 'heal-x' });
    expect(out.code).toBe(1);
    expect(out.err).toEqual(['heal-x does not require approval; nothing to approve']);
  });

  it('says "not found" for a missing action', async () => {
    const out = await approveCommand(new FakeApi(), { namespace: 'apps', name: 'nope' });
    expect(out).toEqual({ code: ExitCode.NotFound, out: [], err: ['healingaction "nope" not found in namespace "apps"'] });
  });

  it('refuses when someone already rejected it (the operator would cancel it anyway)', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval', annotations: { 'kubeskippy.io/rejected-by': 'bob', 'kubeskippy.io/reject-reason': 'no' } }));
    const out = await approveCommand(api, { namespace: 'apps', name: 'heal-a' });
    expect(out.code).toBe(1);
    expect(out.err).toEqual(['heal-a was already rejected by bob; nothing to approve']);
  });

  it('re-reads after a conflict and answers about the action as it is now', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' }));
    let reads = 0;
    api.onRead = () => {
      // Between the CLI's first read and its patch, the operator expires the request.
      if (++reads === 1) api.change('apps', 'heal-a', (a) => ({ ...a, status: { phase: 'Cancelled', reason: 'ApprovalExpired' } }));
    };
    const out = await approveCommand(api, { namespace: 'apps', name: 'heal-a' });
    expect(out).toEqual({ code: 1, out: [], err: ['heal-a is already Cancelled; nothing to approve'] });
    expect(api.patches).toEqual([]);
  });

  it('lets only one of two racing approvals through', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' }));
    const [a, b] = await Promise.all([
      approveCommand(api, { namespace: 'apps', name: 'heal-a' }),
      approveCommand(api.as('bob'), { namespace: 'apps', name: 'heal-a' }),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    expect(api.patches).toHaveLength(1);
    expect([...a.err, ...b.err][0]).toMatch(/^heal-a was already approved by (alice|bob); nothing to approve$/);
  });
});

describe('kubeskippy reject', () => {
  it('sets rejected-by (the authenticated user) and the reason', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' })).as('bob');
    const out = await rejectCommand(api, { namespace: 'apps', name: 'heal-a', reason: ' not during the sale ' });
    expect(out).toEqual({ code: 0, out: ['healingaction.kubeskippy.io/heal-a rejected by bob: not during the sale'], err: [] });
    expect(api.objects.get('apps/heal-a')?.metadata.annotations).toEqual({ 'kubeskippy.io/rejected-by': 'bob', 'kubeskippy.io/reject-reason': 'not during the sale' });
  });

  it('needs a reason, and says so before asking the server anything', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval' }));
    expect((await rejectCommand(api, { namespace: 'apps', name: 'heal-a', reason: '  ' })).code).toBe(2);
    expect(api.patches).toEqual([]);
    expect(api.whoAmICalls).toBe(0);
  });

  it('refuses to reject a finished action', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'Succeeded' }));
    const out = await rejectCommand(api, { namespace: 'apps', name: 'heal-a', reason: 'late' });
    expect(out).toEqual({ code: 1, out: [], err: ['heal-a is already Succeeded; nothing to reject'] });
  });
});

describe('kubeskippy cancel', () => {
  it.each(['Pending', 'WaitingApproval', 'Approved'] as const)('sets kubeskippy.io/cancel on an action that is still %s', async (phase) => {
    const api = new FakeApi(action('heal-a', { phase, annotations: phase === 'Approved' ? { 'kubeskippy.io/approved-by': 'bob' } : {} }));
    const out = await cancelCommand(api, { namespace: 'apps', name: 'heal-a' });
    expect(out).toEqual({
      code: 0,
      out: ['healingaction.kubeskippy.io/heal-a cancellation requested by alice (the operator cancels it unless execution has started)'],
      err: [],
    });
    expect(api.objects.get('apps/heal-a')?.metadata.annotations?.['kubeskippy.io/cancel']).toBe('alice');
  });

  it('cancels an action that needs no approval, as long as it has not started', async () => {
    const api = new FakeApi(action('heal-a', { approvalRequired: false }));
    expect((await cancelCommand(api, { namespace: 'apps', name: 'heal-a' })).code).toBe(0);
  });

  it.each(['InProgress', 'Verifying', 'Succeeded', 'Failed', 'Cancelled', 'Blocked'] as const)('refuses to cancel an action that is %s', async (phase) => {
    const api = new FakeApi(action('heal-x', { phase }));
    expect(await cancelCommand(api, { namespace: 'apps', name: 'heal-x' })).toEqual({ code: 1, out: [], err: [`heal-x is already ${phase}; nothing to cancel`] });
    expect(api.patches).toEqual([]);
  });

  it('refuses when the action was already rejected or cancelled', async () => {
    const rejected = new FakeApi(action('heal-a', { phase: 'WaitingApproval', annotations: { 'kubeskippy.io/rejected-by': 'bob' } }));
    expect((await cancelCommand(rejected, { namespace: 'apps', name: 'heal-a' })).err).toEqual(['heal-a was already rejected by bob; nothing to cancel']);
    const cancelled = new FakeApi(action('heal-a', { phase: 'Approved', annotations: { 'kubeskippy.io/cancel': 'carol' } }));
    expect((await cancelCommand(cancelled, { namespace: 'apps', name: 'heal-a' })).err).toEqual(['heal-a was already cancelled by carol; nothing to cancel']);
  });

  it('keeps approvals from reviving an action someone cancelled', async () => {
    const api = new FakeApi(action('heal-a', { phase: 'WaitingApproval', annotations: { 'kubeskippy.io/cancel': 'carol' } }));
    expect((await approveCommand(api, { namespace: 'apps', name: 'heal-a' })).err).toEqual(['heal-a was already cancelled by carol; nothing to approve']);
  });
});

describe('approval helpers', () => {
  it('reads the username of a SelfSubjectReview, and refuses an answer without one', () => {
    expect(usernameOf({ status: { userInfo: { username: 'kubernetes-admin', groups: ['system:masters'] } } })).toBe('kubernetes-admin');
    expect(() => usernameOf({ status: { userInfo: {} } })).toThrow(/did not say who you are/);
    expect(() => usernameOf({})).toThrow(/did not say who you are/);
  });

  it('impersonates by setting the current user\'s "as", the way kubectl --as does, leaving other users alone', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
      users: [{ name: 'me', token: 't' }, { name: 'other', token: 'u' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'me' }],
      currentContext: 'ctx',
    });
    impersonate(kc, 'alice');
    expect(kc.getCurrentUser()).toMatchObject({ name: 'me', token: 't', impersonateUser: 'alice' });
    expect(kc.users.find((u) => u.name === 'other')?.impersonateUser).toBeUndefined();
  });

  it('formats ages the way kubectl does', () => {
    expect([0, 59_000, 119_000, 125_000, 600_000, 7_200_000, 18_000_000 + 420_000, 30 * 3600_000, 72 * 3600_000, -5].map(formatAge)).toEqual([
      '0s', '59s', '119s', '2m5s', '10m', '120m', '5h7m', '30h', '3d', '0s',
    ]);
  });

  it('treats WaitingApproval, and Pending with approvalRequired, as awaiting approval', () => {
    expect(isAwaitingApproval(action('a', { phase: 'WaitingApproval' }))).toBe(true);
    expect(isAwaitingApproval(action('a'))).toBe(true);
    expect(isAwaitingApproval(action('a', { approvalRequired: false }))).toBe(false);
    expect(isAwaitingApproval(action('a', { phase: 'Approved' }))).toBe(false);
  });
});

describe('the approval commands in the CLI', () => {
  function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
  }

  it('needs --reason to reject', async () => {
    const c = capture();
    expect(await main(['reject', 'heal-a'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/--reason/);
  });

  it('offers --as as impersonation on every command, and cancel as a command', async () => {
    for (const command of ['approve', 'reject', 'cancel', 'actions']) {
      const c = capture();
      expect(await main([command, '--help'], c.io)).toBe(ExitCode.Ok);
      expect(c.out.join('\n')).toMatch(/--as <user>\s+impersonate this user \(Kubernetes impersonation/);
    }
  });

  it('reports an unreadable kubeconfig as one line and the "unreachable" exit code', async () => {
    const c = capture();
    expect(await main(['approve', 'heal-a', '--kubeconfig', '/nonexistent/kubeconfig'], c.io)).toBe(ExitCode.Unavailable);
    expect(c.err).toEqual(['kubeskippy approve: kubeconfig /nonexistent/kubeconfig does not exist']);
  });
});
