import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { IntervalLoop } from './interval-loop.js';

describe('IntervalLoop', () => {
  it('ticks at once and then every interval of the clock, until stopped', async () => {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const loop = new IntervalLoop({ clock, intervalMs: 1000, tick: () => void ticks.push(clock.now()) });
    loop.start();
    await clock.advance(0);
    await clock.advance(2500);
    await loop.stop();
    await clock.advance(5000);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(ticks).toEqual([t0, t0 + 1000, t0 + 2000]);
  });

  it('waits one interval first when asked, and survives a tick that throws', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let n = 0;
    const loop = new IntervalLoop({
      clock,
      intervalMs: 1000,
      tickOnStart: false,
      tick: () => {
        n++;
        throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    loop.start();
    await clock.advance(999);
    expect(n).toBe(0);
    await clock.advance(1001);
    expect(n).toBe(2);
    expect(errors).toHaveLength(2);
    await loop.stop();
    expect(loop.running).toBe(false);
  });
});
