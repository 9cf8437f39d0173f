import { afterEach, describe, expect, it } from 'vitest';
import { action, hp, settingsWith } from '../../test/support/dashboard.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { silentLogger } from '../observability/logger.js';
import { FakeClock, flushMicrotasks } from '../runtime/clock.js';
import { DashboardFeed, type FeedSource } from './feed.js';
import { buildCore, type ChartView, type DashboardCore } from './view-model.js';

/** A source over a mutable list of actions, counting how often it is asked to build. */
class FakeSource implements FeedSource {
  actions: HealingAction[] = [];
  coreCalls = 0;
  chartCalls = 0;
  private listener: (() => void) | undefined;
  constructor(private readonly clock: FakeClock) {}
  core(): DashboardCore {
    this.coreCalls++;
    return buildCore({ now: this.clock.now(), version: '1', leaderElection: false, leading: true, synced: true, settings: settingsWith(), policies: [hp('crashloop')], actions: this.actions });
  }
  charts(): ChartView[] {
    this.chartCalls++;
    return [];
  }
  watch(onChange: () => void): () => void {
    this.listener = onChange;
    return () => (this.listener = undefined);
  }
  change(): void {
    this.listener?.();
  }
}

/** Collects the event names a client received. */
function client(): { send: (chunk: string) => void; events: () => string[]; data: () => unknown[] } {
  const chunks: string[] = [];
  const parse = (): { event: string; data: unknown }[] =>
    chunks
      .join('')
      .split('\n\n')
      .filter((b) => b.trim() !== '')
      .map((b) => {
        const lines = b.split('\n');
        return { event: (lines.find((l) => l.startsWith('event: ')) ?? '').slice(7), data: JSON.parse((lines.find((l) => l.startsWith('data: ')) ?? 'data: null').slice(6)) as unknown };
      });
  return { send: (c) => chunks.push(c), events: () => parse().map((e) => e.event), data: () => parse().map((e) => e.data) };
}

let feed: DashboardFeed | undefined;
afterEach(async () => {
  await feed?.stop();
  feed = undefined;
});

function setup(): { clock: FakeClock; source: FakeSource; feed: DashboardFeed } {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  feed = new DashboardFeed({ clock, logger: silentLogger, source, refreshMs: 5000, heartbeatMs: 15_000, debounceMs: 200 });
  feed.start();
  return { clock, source, feed };
}

describe('DashboardFeed', () => {
  it('sends a new page a snapshot first', () => {
    const { feed } = setup();
    const c = client();
    feed.subscribe(c);
    expect(c.events()).toEqual(['snapshot']);
  });

  it('pushes a new HealingAction after the debounce, with one rebuild for a burst of changes', async () => {
    const { clock, source, feed } = setup();
    const c = client();
    feed.subscribe(c);
    const before = source.coreCalls;
    source.actions = [action('a1', { phase: 'Pending' })];
    for (let i = 0; i < 5; i++) source.change();
    await flushMicrotasks();
    expect(c.events()).toEqual(['snapshot']);
    await clock.advance(200);
    expect(source.coreCalls - before).toBe(1);
    expect(c.events()).toEqual(['snapshot', 'action', 'counts', 'safety']);
    expect(c.data()[1]).toMatchObject({ key: 'shop/a1', phase: 'Pending' });
  });

  it('sends the safety state every refresh even when unchanged, rebuilding the charts', async () => {
    const { clock, source, feed } = setup();
    const c = client();
    feed.subscribe(c);
    const charts = source.chartCalls;
    await clock.advance(5000);
    expect(c.events()).toEqual(['snapshot', 'safety']);
    expect(source.chartCalls).toBe(charts + 1);
  });

  it('sends heartbeats with the clock’s time', async () => {
    const { clock, feed } = setup();
    const c = client();
    feed.subscribe(c);
    await clock.advance(15_000);
    const heartbeats = c.data().filter((_, i) => c.events()[i] === 'heartbeat');
    expect(heartbeats).toEqual([{ at: clock.now() }]);
  });

  it('builds nothing while no page is connected', async () => {
    const { clock, source } = setup();
    source.change();
    await clock.advance(20_000);
    expect(source.coreCalls).toBe(0);
  });

  it('gives the next page a fresh snapshot after the last one left', async () => {
    const { clock, source, feed } = setup();
    const first = client();
    const leave = feed.subscribe(first);
    leave();
    source.actions = [action('while-nobody-watched')];
    await clock.advance(200);
    const second = client();
    feed.subscribe(second);
    expect(second.events()).toEqual(['snapshot']);
    expect(second.data()[0]).toMatchObject({ actions: [{ name: 'while-nobody-watched' }] });
  });

  it('brings connected pages up to date before a new page’s snapshot, so all agree', () => {
    const { source, feed } = setup();
    const first = client();
    feed.subscribe(first);
    source.actions = [action('a1')];
    feed.subscribe(client());
    expect(first.events()).toContain('action');
  });

  it('stops sending after stop()', async () => {
    const { clock, feed } = setup();
    const c = client();
    feed.subscribe(c);
    await feed.stop();
    await clock.advance(60_000);
    expect(c.events()).toEqual(['snapshot']);
  });
});
