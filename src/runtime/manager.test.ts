import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { FakeClock, flushMicrotasks } from './clock.js';
import type { LeadershipListener, StepDownReason } from './leader-election.js';
import { CacheSyncTimeoutError, Manager, type ManagedController, type ManagedElector, type ManagedInformer, type ManagerExit } from './manager.js';

class FakeInformer implements ManagedInformer {
  synced = false;
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  start(): void {
    this.log.push(`informer:${this.name}:start`);
  }
  stop(): Promise<void> {
    this.log.push(`informer:${this.name}:stop`);
    return Promise.resolve();
  }
  hasSynced(): boolean {
    return this.synced;
  }
}

class FakeController implements ManagedController {
  deadlines: number[] = [];
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  start(): void {
    this.log.push(`controller:${this.name}:start`);
  }
  stop(options: { deadlineMs: number }): Promise<unknown> {
    this.deadlines.push(options.deadlineMs);
    this.log.push(`controller:${this.name}:stop`);
    return Promise.resolve();
  }
}

class FakeElector implements ManagedElector {
  leading = false;
  private listeners: LeadershipListener[] = [];
  constructor(private readonly log: string[]) {}
  start(): void {
    this.log.push('elector:start');
  }
  stop(): Promise<void> {
    this.log.push('elector:stop');
    if (this.leading) this.lose('released');
    return Promise.resolve();
  }
  isLeader(): boolean {
    return this.leading;
  }
  subscribe(listener: LeadershipListener): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  win(): void {
    this.leading = true;
    for (const l of this.listeners) l.onStartedLeading?.();
  }
  lose(reason: StepDownReason): void {
    this.leading = false;
    for (const l of this.listeners) l.onStoppedLeading?.(reason);
  }
}

function setup(withElector = true): {
  clock: FakeClock;
  log: string[];
  informers: FakeInformer[];
  controller: FakeController;
  elector: FakeElector;
  signals: EventEmitter;
  manager: Manager;
  exit: () => ManagerExit | undefined;
} {
  const clock = new FakeClock();
  const log: string[] = [];
  const informers = [new FakeInformer('pods', log), new FakeInformer('policies', log)];
  const controller = new FakeController('policy', log);
  const elector = new FakeElector(log);
  const signals = new EventEmitter();
  const manager = new Manager({
    clock,
    informers,
    controllers: [controller],
    ...(withElector ? { elector } : {}),
    closeables: [{ name: 'health', close: () => (log.push('health:close'), Promise.resolve()) }],
    cacheSyncTimeoutMs: 10_000,
    shutdownTimeoutMs: 7_000,
    signals,
  });
  let exit: ManagerExit | undefined;
  void manager.done.then((e) => (exit = e));
  return { clock, log, informers, controller, elector, signals, manager, exit: () => exit };
}

describe('Manager', () => {
  it('starts informers, waits for sync, campaigns, and starts controllers only when leading', async () => {
    const { clock, log, informers, elector, manager } = setup();
    let started = false;
    void manager.start().then(() => (started = true));
    await flushMicrotasks();
    expect(log).toEqual(['informer:pods:start', 'informer:policies:start']);
    informers[0]!.synced = true;
    await clock.advance(500);
    expect(started).toBe(false);
    informers[1]!.synced = true;
    await clock.advance(100);
    expect(started).toBe(true);
    expect(log.at(-1)).toBe('elector:start');
    expect(manager.readiness().ok).toBe(true); // a synced standby is ready
    expect(manager.isActive()).toBe(false);
    elector.win();
    expect(log.at(-1)).toBe('controller:policy:start');
    expect(manager.isActive()).toBe(true);
    await manager.stop();
  });

  it('starts controllers at once without leader election', async () => {
    const { clock, log, informers, manager } = setup(false);
    for (const i of informers) i.synced = true;
    await manager.start();
    await clock.advance(0);
    expect(log).toContain('controller:policy:start');
    await manager.stop();
  });

  it('shuts down in reverse order: controllers (with the drain deadline), then the lease, then informers, then servers', async () => {
    const { log, informers, elector, manager, controller, exit } = setup();
    for (const i of informers) i.synced = true;
    await manager.start();
    elector.win();
    log.length = 0;
    await manager.stop();
    expect(log).toEqual(['controller:policy:stop', 'elector:stop', 'informer:pods:stop', 'informer:policies:stop', 'health:close']);
    expect(controller.deadlines).toEqual([7_000]);
    expect(exit()).toEqual({ reason: 'stopped' });
    expect(manager.readiness().ok).toBe(false);
    expect(manager.liveness().ok).toBe(false);
  });

  it('fails start with CacheSyncTimeoutError naming unsynced informers, after cleaning up', async () => {
    const { clock, informers, manager, exit, log } = setup();
    informers[0]!.synced = true;
    const result = manager.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advance(10_000);
    const error = await result;
    expect(error).toBeInstanceOf(CacheSyncTimeoutError);
    expect((error as CacheSyncTimeoutError).unsynced).toEqual(['policies']);
    expect(exit()?.reason).toBe('sync-timeout');
    expect(log).toContain('informer:policies:stop');
    expect(log).not.toContain('elector:start');
  });

  it('shuts down on SIGTERM', async () => {
    const { informers, manager, signals, exit } = setup();
    for (const i of informers) i.synced = true;
    await manager.start();
    signals.emit('SIGTERM');
    await manager.done;
    expect(exit()).toEqual({ reason: 'signal', detail: 'SIGTERM' });
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('ends when leadership is lost, aborting in-flight work at once and stopping the campaign first', async () => {
    const { informers, manager, elector, controller, log, exit } = setup();
    for (const i of informers) i.synced = true;
    await manager.start();
    elector.win();
    log.length = 0;
    elector.lose('renew-deadline');
    await manager.done;
    expect(exit()).toEqual({ reason: 'leadership-lost', detail: 'renew-deadline' });
    expect(controller.deadlines).toEqual([0]);
    expect(log.slice(0, 2)).toEqual(['elector:stop', 'controller:policy:stop']);
  });

  it('is idempotent on stop and safe to stop before start', async () => {
    const { manager, exit } = setup();
    await Promise.all([manager.stop(), manager.stop()]);
    expect(exit()?.reason).toBe('stopped');
  });

  it('reports not ready until informers have synced', async () => {
    const { clock, informers, manager } = setup();
    void manager.start();
    await flushMicrotasks();
    const r = manager.readiness();
    expect(r.ok).toBe(false);
    expect(r.checks['informer:pods']).toEqual({ ok: false, message: 'not synced' });
    for (const i of informers) i.synced = true;
    await clock.advance(100);
    expect(manager.readiness()).toMatchObject({ ok: true, checks: { 'leader-election': { ok: true, message: 'standby' } } });
    await manager.stop();
  });

  it('logs a shutdown step that took a second or more, with its duration, and not the quick ones', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (s: string) => void lines.push(...s.split('\n').filter((l) => l !== '')) } });
    const log: string[] = [];
    const informer = new FakeInformer('pods', log);
    informer.synced = true;
    const manager = new Manager({
      clock,
      logger,
      informers: [informer],
      controllers: [new FakeController('policy', log)],
      closeables: [
        { name: 'collectors', close: () => clock.advance(25_000) },
        { name: 'audit', close: () => Promise.resolve() },
      ],
    });
    await manager.start();
    await manager.stop();
    const slow = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'slow shutdown step');
    expect(slow.map((l) => [l['step'], l['ms']])).toEqual([['collectors', 25_000]]);
  });
});
