import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { WorkQueue } from './queue.js';

function setup(options: { baseDelayMs?: number; maxDelayMs?: number } = {}): { clock: FakeClock; q: WorkQueue; depths: number[] } {
  const clock = new FakeClock();
  const depths: number[] = [];
  const q = new WorkQueue({ clock, onDepthChange: (d) => depths.push(d), ...options });
  return { clock, q, depths };
}

describe('WorkQueue', () => {
  it('hands out keys in FIFO order and collapses duplicates while they wait', async () => {
    const { q } = setup();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands a key that is processing to a second worker, and re-queues it on done', async () => {
    const { q } = setup();
    q.add('a');
    const key = await q.get();
    expect(key).toBe('a');
    q.add('a'); // changed while processing
    expect(q.len()).toBe(0);
    let second: string | undefined = 'unset';
    void q.get().then((k) => (second = k));
    await flushMicrotasks();
    expect(second).toBe('unset'); // a second worker waits instead of getting 'a'
    q.done('a');
    await flushMicrotasks();
    expect(second).toBe('a');
  });

  it('does not re-queue a processed key that was not added again', async () => {
    const { q } = setup();
    q.add('a');
    q.done((await q.get()) ?? '');
    expect(q.len()).toBe(0);
  });

  it('wakes waiting workers when a key arrives', async () => {
    const { q } = setup();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('adds a key after the delay, measured on the injected clock', async () => {
    const { clock, q } = setup();
    q.addAfter('a', 1000);
    expect(q.len()).toBe(0);
    await clock.advance(999);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('keeps the earliest of two delayed adds of the same key', async () => {
    const { clock, q } = setup();
    q.addAfter('a', 5000);
    q.addAfter('a', 1000);
    q.addAfter('a', 3000);
    await clock.advance(1000);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    await clock.advance(10_000);
    expect(q.len()).toBe(0); // the later adds were superseded, not kept
  });

  it('adds immediately for a non-positive delay', () => {
    const { q } = setup();
    q.addAfter('a', 0);
    expect(q.len()).toBe(1);
  });

  it('backs off exponentially per key until forget, up to the cap', async () => {
    const { clock, q } = setup({ baseDelayMs: 5, maxDelayMs: 30 });
    const delays = [q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')];
    expect(delays).toEqual([5, 10, 20, 30, 30]);
    expect(q.numRequeues('a')).toBe(5);
    expect(q.addRateLimited('b')).toBe(5); // per key
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(5);
    await clock.advance(5);
    expect(q.len()).toBe(2);
  });

  it('uses a 5 ms base and a 5 minute cap by default', () => {
    const { q } = setup();
    expect(q.addRateLimited('a')).toBe(5);
    for (let i = 0; i < 40; i++) q.addRateLimited('a');
    expect(q.addRateLimited('a')).toBe(300_000);
  });

  it('resolves waiting and later get() with undefined after shutDown and drops queued keys', async () => {
    const { q } = setup();
    const waiting = q.get();
    await q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it('drops queued keys on shutDown but still hands them out when draining', async () => {
    const plain = setup().q;
    plain.add('a');
    void plain.shutDown();
    expect(await plain.get()).toBeUndefined();

    const draining = setup().q;
    draining.add('a');
    draining.add('b');
    void draining.shutDown(true);
    expect(await draining.get()).toBe('a');
    expect(await draining.get()).toBe('b');
    draining.done('a');
    draining.done('b');
    expect(await draining.get()).toBeUndefined();
  });

  it('resolves shutDown only when every processing key is done', async () => {
    const { q } = setup();
    q.add('a');
    await q.get();
    let finished = false;
    void q.shutDown().then(() => (finished = true));
    await flushMicrotasks();
    expect(finished).toBe(false);
    q.done('a');
    await flushMicrotasks();
    expect(finished).toBe(true);
  });

  it('cancels pending delayed adds on shutDown', async () => {
    const { clock, q } = setup();
    q.addAfter('a', 100);
    await q.shutDown();
    expect(clock.pendingSleeps).toBe(0);
    await clock.advance(200);
    expect(q.len()).toBe(0);
  });

  it('reports the depth of waiting keys', async () => {
    const { q, depths } = setup();
    q.add('a');
    q.add('b');
    await q.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  it('rejects an invalid back-off configuration', () => {
    expect(() => new WorkQueue({ clock: new FakeClock(), baseDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
  });
});
