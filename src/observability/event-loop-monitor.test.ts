import { describe, expect, it } from 'vitest';
import { startEventLoopMonitor } from './event-loop-monitor.js';

describe('startEventLoopMonitor', () => {
  it('observes how late its timer ran when the thread was held', async () => {
    const observed: number[] = [];
    const stop = startEventLoopMonitor({ observe: (v: number) => void observed.push(v) }, { intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    // Hold the thread: the next tick can only run after this returns, about 120 ms late.
    const until = performance.now() + 120;
    while (performance.now() < until) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 30));
    stop();
    expect(Math.max(...observed)).toBeGreaterThanOrEqual(0.1);
    expect(observed.every((v) => v >= 0)).toBe(true);
  });
});
