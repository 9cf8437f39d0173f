import { describe, expect, it } from 'vitest';
import { KubeError } from '../k8s/errors.js';
import { ExitCode } from './errors.js';
import { pauseCommand, resumeCommand, type ControlApi, type ControlObject } from './pause.js';

/** An in-memory ConfigMap with resourceVersion preconditions, as the API server checks them. */
class FakeControl implements ControlApi {
  obj: ControlObject | undefined;
  writes = 0;
  /** Runs after each read: simulates another writer. */
  onRead: (() => void) | undefined;
  constructor(public user = 'alice') {}
  whoAmI(): Promise<string> {
    return Promise.resolve(this.user);
  }
  getControl(): Promise<ControlObject | undefined> {
    const o = this.obj;
    this.onRead?.();
    return Promise.resolve(o);
  }
  createControl(_ns: string, data: Readonly<Record<string, string>>): Promise<void> {
    if (this.obj) return Promise.reject(new KubeError('AlreadyExists', 'exists', { status: 409, reason: 'AlreadyExists' }));
    this.writes++;
    this.obj = { resourceVersion: '1', data: { ...data } };
    return Promise.resolve();
  }
  patchControl(_ns: string, rv: string, data: Readonly<Record<string, string>>): Promise<void> {
    if (!this.obj) return Promise.reject(new KubeError('NotFound', 'gone', { status: 404 }));
    if (this.obj.resourceVersion !== rv) return Promise.reject(new KubeError('Conflict', 'modified', { status: 409 }));
    this.writes++;
    this.obj = { resourceVersion: String(Number(rv) + 1), data: { ...this.obj.data, ...data } };
    return Promise.resolve();
  }
}

const AT = '2026-03-01T12:00:00Z';

describe('kubeskippy pause / resume', () => {
  it('creates the switch when missing, recording the authenticated user and the reason', async () => {
    const api = new FakeControl('system:serviceaccount:ops:oncall');
    const out = await pauseCommand(api, { namespace: 'kubeskippy-system', reason: 'incident 42' }, AT);
    expect(out.code).toBe(ExitCode.Ok);
    expect(out.out[0]).toMatch(/^kubeskippy paused by system:serviceaccount:ops:oncall: incident 42/);
    expect(api.obj?.data).toEqual({ paused: 'true', reason: 'incident 42', pausedBy: 'system:serviceaccount:ops:oncall', pausedAt: AT });
  });

  it('changes nothing when already paused, and says by whom', async () => {
    const api = new FakeControl();
    await pauseCommand(api, { namespace: 'ns', reason: 'first' }, AT);
    const same = Object.assign(new FakeControl('bob'), { obj: api.obj });
    const out = await pauseCommand(same, { namespace: 'ns', reason: 'second' }, AT);
    expect(out.out).toEqual([`kubeskippy is already paused by alice at ${AT}: first; nothing changed`]);
    expect(same.writes).toBe(0);
  });

  it('needs a reason (usage), before any request', async () => {
    const api = new FakeControl();
    expect((await pauseCommand(api, { namespace: 'ns', reason: '  ' }, AT)).code).toBe(ExitCode.Usage);
    expect(api.obj).toBeUndefined();
  });

  it('resumes, keeping the last pause on record; resuming when not paused changes nothing', async () => {
    const api = new FakeControl();
    await pauseCommand(api, { namespace: 'ns', reason: 'incident 42' }, AT);
    api.user = 'bob';
    const out = await resumeCommand(api, { namespace: 'ns' }, '2026-03-01T13:00:00Z');
    expect(out.out).toEqual([`kubeskippy resumed by bob (it was paused by alice at ${AT}: incident 42)`]);
    expect(api.obj?.data).toMatchObject({ paused: 'false', reason: 'incident 42', resumedBy: 'bob' });
    const twice = await resumeCommand(api, { namespace: 'ns' }, AT);
    expect(twice.out[0]).toMatch(/is not paused/);
    expect(api.writes).toBe(2);
  });

  it('re-reads after a conflict and decides on what is there now', async () => {
    const api = new FakeControl();
    await pauseCommand(api, { namespace: 'ns', reason: 'x' }, AT);
    await resumeCommand(api, { namespace: 'ns' }, AT);
    let reads = 0;
    api.onRead = () => {
      // Someone else pauses between our read and our write.
      if (++reads === 1 && api.obj) api.obj = { resourceVersion: '99', data: { ...api.obj.data, paused: 'true', pausedBy: 'carol', reason: 'storm' } };
    };
    const out = await pauseCommand(api, { namespace: 'ns', reason: 'mine' }, AT);
    expect(out.out[0]).toMatch(/already paused by carol.*storm; nothing changed/);
  });
});
