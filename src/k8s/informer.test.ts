import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../runtime/clock.js';
import { createKubeListWatch, Informer, resourcePath, stripManagedFields, type InformerRestartReason, type ListResult, type ListWatchSource, type WatchCallbacks } from './informer.js';

type Obj = k8s.V1ConfigMap;

interface ActiveWatch {
  readonly rv: string;
  readonly callbacks: WatchCallbacks;
  readonly signal: AbortSignal;
  resolve(): void;
  reject(e: Error): void;
}

/** A fake API server collection: mutations bump the resourceVersion and reach the open watch. */
class FakeSource implements ListWatchSource<Obj> {
  currentVersion?: (signal: AbortSignal) => Promise<string>;
  objects = new Map<string, Obj>();
  rv = 100;
  listCalls = 0;
  listError: (() => Error) | undefined;
  watches: ActiveWatch[] = [];

  get current(): ActiveWatch | undefined {
    const w = this.watches.at(-1);
    return w !== undefined && !w.signal.aborted ? w : undefined;
  }

  list(): Promise<ListResult<Obj>> {
    this.listCalls++;
    if (this.listError !== undefined) return Promise.reject(this.listError());
    return Promise.resolve({ items: [...this.objects.values()], resourceVersion: String(this.rv) });
  }

  watch(rv: string, callbacks: WatchCallbacks, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.watches.push({ rv, callbacks, signal, resolve, reject });
      signal.addEventListener('abort', () => resolve(), { once: true });
      callbacks.onConnect();
    });
  }

  /** Changes the server state; `silent` = the change is not delivered to the watch (missed event). */
  set(name: string, value: string, silent = false): void {
    const existed = this.objects.has(name);
    const obj: Obj = { metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv) }, data: { v: value } };
    this.objects.set(name, obj);
    if (!silent) this.current?.callbacks.onEvent(existed ? 'MODIFIED' : 'ADDED', obj);
  }

  del(name: string, silent = false): void {
    const obj = this.objects.get(name);
    if (obj === undefined) return;
    this.objects.delete(name);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    if (!silent) this.current?.callbacks.onEvent('DELETED', gone);
  }
}

function setup(options: { staleAfterMs?: number } = {}): {
  clock: FakeClock;
  source: FakeSource;
  informer: Informer<Obj>;
  events: string[];
  restarts: InformerRestartReason[];
} {
  const clock = new FakeClock();
  const source = new FakeSource();
  const events: string[] = [];
  const restarts: InformerRestartReason[] = [];
  const informer = new Informer<Obj>({
    name: 'configmaps',
    source,
    clock,
    staleAfterMs: options.staleAfterMs ?? 0,
    onRestart: (reason) => restarts.push(reason),
  });
  informer.addHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name ?? ''}=${o.data?.['v'] ?? ''}`),
    onUpdate: (o, old) => events.push(`update ${o.metadata?.name ?? ''} ${old.data?.['v'] ?? ''}->${o.data?.['v'] ?? ''}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name ?? ''}`),
  });
  return { clock, source, informer, events, restarts };
}

describe('Informer', () => {
  it('indexes objects by namespace, keeps the index right through deletes, and applies its transform before caching', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    const informer = new Informer<Obj>({ name: 'cm', source, clock, staleAfterMs: 0, transform: stripManagedFields });
    source.objects.set('x', { metadata: { name: 'x', namespace: 'other', resourceVersion: '1', managedFields: [{ manager: 'kubectl' }] }, data: {} });
    source.set('a', '1');
    informer.start();
    await flushMicrotasks();
    expect(informer.list('other').map((o) => o.metadata?.name)).toEqual(['x']);
    expect(informer.get('other', 'x')?.metadata?.managedFields).toBeUndefined();
    expect(informer.namespaces().sort()).toEqual(['ns', 'other']);
    const before = informer.namespaceVersion('ns');
    source.del('a');
    await flushMicrotasks();
    expect(informer.list('ns')).toEqual([]);
    expect(informer.namespaces()).toEqual(['other']);
    expect(informer.namespaceVersion('ns')).toBeGreaterThan(before);
    expect(informer.namespaceVersion('never')).toBe(0);
    await informer.stop();
  });

  it('hands the handlers the whole object but caches only what `keep` returns, and a relist of kept objects emits nothing', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    const seen: string[] = [];
    const keep = (o: Obj): Obj => ({ metadata: { ...o.metadata } });
    const informer = new Informer<Obj>({ name: 'cm', source, clock, staleAfterMs: 0, keep });
    informer.addHandler({
      onAdd: (o) => seen.push(`add ${o.data?.['v'] ?? '-'}`),
      onUpdate: (o, old) => seen.push(`update ${old.data?.['v'] ?? '-'}->${o.data?.['v'] ?? '-'}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name ?? ''}`),
    });
    source.set('a', '1');
    informer.start();
    await flushMicrotasks();
    source.set('a', '2');
    expect(seen).toEqual(['add 1', 'update -->2']);
    expect(informer.get('ns', 'a')?.data).toBeUndefined();
    expect(informer.get('ns', 'a')?.metadata?.resourceVersion).toBe(String(source.rv));
    expect(informer.list('ns')).toHaveLength(1);
    informer.restart('requested');
    await flushMicrotasks();
    expect(seen).toEqual(['add 1', 'update -->2']);
    source.del('a', true);
    informer.restart('requested');
    await flushMicrotasks();
    expect(seen).toEqual(['add 1', 'update -->2', 'delete a']);
    await informer.stop();
  });

  it('lists into the cache, emits an add per object and reports synced', async () => {
    const { source, informer, events } = setup();
    source.set('a', '1');
    source.set('b', '1');
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    expect(events).toEqual(['add a=1', 'add b=1']);
    expect(informer.get('ns', 'a')?.data).toEqual({ v: '1' });
    expect(informer.list('ns')).toHaveLength(2);
    expect(informer.list('other')).toHaveLength(0);
    expect(informer.keys()).toEqual(['ns/a', 'ns/b']);
    expect(source.current?.rv).toBe('102');
    await informer.stop();
  });

  it('applies watch events to the cache and handlers, ignoring repeats of a known version', async () => {
    const { source, informer, events } = setup();
    informer.start();
    await flushMicrotasks();
    source.set('a', '1');
    source.set('a', '2');
    const same = source.objects.get('a');
    if (same) source.current?.callbacks.onEvent('MODIFIED', same);
    source.del('a');
    expect(events).toEqual(['add a=1', 'update a 1->2', 'delete a']);
    expect(informer.get('ns', 'a')).toBeUndefined();
    expect(informer.lastSyncResourceVersion()).toBe(String(source.rv));
    await informer.stop();
  });

  it('says when its cache has caught up with a resourceVersion (a write of ours), or that it did not in time', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await flushMicrotasks();
    // Already past it.
    await expect(informer.waitForResourceVersion('50', 1000)).resolves.toBe(true);
    const waiting = informer.waitForResourceVersion('102', 1000);
    let settled: boolean | undefined;
    void waiting.then((v) => (settled = v));
    source.set('a', '1'); // rv 101
    await flushMicrotasks();
    expect(settled).toBeUndefined();
    source.set('b', '1'); // rv 102: every write up to 102 is in the cache now
    await flushMicrotasks();
    expect(settled).toBe(true);
    expect(informer.get('ns', 'a')).toBeDefined();
    // Never reached: false after the timeout, on the injected clock.
    const late = informer.waitForResourceVersion('999', 1000);
    await clock.advance(1000);
    await expect(late).resolves.toBe(false);
    // Not comparable: false at once (the caller reads the cluster instead).
    await expect(informer.waitForResourceVersion('not-a-number', 1000)).resolves.toBe(false);
    const pending = informer.waitForResourceVersion('2000', 60_000);
    await informer.stop();
    await expect(pending).resolves.toBe(false);
  });

  it('moves its resourceVersion on bookmarks without calling handlers', async () => {
    const { source, informer, events } = setup();
    informer.start();
    await flushMicrotasks();
    source.current?.callbacks.onEvent('BOOKMARK', { metadata: { resourceVersion: '555' } });
    expect(informer.lastSyncResourceVersion()).toBe('555');
    expect(events).toEqual([]);
    await informer.stop();
  });

  it('relists on restart and emits only what really changed meanwhile', async () => {
    const { source, informer, events, restarts } = setup();
    source.set('same', '1');
    source.set('changed', '1');
    source.set('removed', '1');
    informer.start();
    await flushMicrotasks();
    events.length = 0;
    // Changes the informer misses (e.g. a dead connection) …
    source.set('changed', '2', true);
    source.del('removed', true);
    source.set('new', '1', true);
    informer.restart();
    await flushMicrotasks();
    // … are recovered by the relist, and nothing else is re-emitted.
    expect(events.sort()).toEqual(['add new=1', 'delete removed', 'update changed 1->2']);
    expect(restarts).toEqual(['requested']);
    expect(informer.restarts).toBe(1);
    expect(source.listCalls).toBe(2);
    await informer.stop();
  });

  it('resumes from the last resourceVersion when a watch ends normally, without relisting', async () => {
    const { source, informer, clock } = setup();
    informer.start();
    await flushMicrotasks();
    await clock.advance(30_000);
    source.set('a', '1');
    source.current?.resolve();
    await flushMicrotasks();
    expect(source.listCalls).toBe(1);
    expect(source.watches).toHaveLength(2);
    expect(source.watches[1]?.rv).toBe(String(source.rv));
    await informer.stop();
  });

  describe('a quiet watch (no event, no bookmark) keeps its resourceVersion current', () => {
    /** A source that also answers currentVersion: the server's version now, which quiet collections do not see. */
    const probing = (source: FakeSource, probes: number[]): void => {
      source.currentVersion = (): Promise<string> => {
        probes.push(source.rv);
        return Promise.resolve(String(source.rv));
      };
    };
    /** One watch cycle: open for `ms`, then ended by the server (normally). */
    const cycle = async (source: FakeSource, clock: FakeClock, ms: number): Promise<void> => {
      await clock.advance(ms);
      source.current?.resolve();
      await flushMicrotasks();
    };

    it('asks for the current version once it has not moved for progressProbeMs, and resumes from it', async () => {
      const { source, clock } = setup();
      const probes: number[] = [];
      probing(source, probes);
      let counted = 0;
      const informer = new Informer<Obj>({ name: 'events', source, clock, staleAfterMs: 0, progressProbeMs: 60_000, progressSettleMs: 5_000, onProgressProbe: () => counted++ });
      informer.start();
      await flushMicrotasks();
      const listed = String(source.rv);
      // Elsewhere in the cluster the version moves on (other collections); this one sees nothing.
      source.rv += 40;
      await cycle(source, clock, 25_000);
      await cycle(source, clock, 25_000);
      expect(probes).toEqual([]);
      expect(source.watches.map((w) => w.rv)).toEqual([listed, listed, listed]);
      // 75 s without a move: the next watch's connect asked; that watch stayed open 25 s, so the version is adopted.
      await cycle(source, clock, 25_000);
      expect(probes).toHaveLength(1);
      await cycle(source, clock, 25_000);
      expect(source.watches.at(-1)?.rv).toBe(String(probes[0]));
      expect(source.listCalls).toBe(1);
      expect(counted).toBe(1);
      await informer.stop();
    });

    it('does not adopt a version when the watch ended sooner than progressSettleMs after the probe, or with 410', async () => {
      const { source, clock } = setup();
      const probes: number[] = [];
      probing(source, probes);
      const informer = new Informer<Obj>({ name: 'events', source, clock, staleAfterMs: 0, progressProbeMs: 20_000, progressSettleMs: 5_000 });
      informer.start();
      await flushMicrotasks();
      const listed = String(source.rv);
      source.rv += 10;
      // The second watch connects 25 s after the list and probes; it ends 2 s later: nothing adopted.
      await cycle(source, clock, 25_000);
      expect(probes).toHaveLength(1);
      await cycle(source, clock, 2_000);
      expect(source.watches.at(-1)?.rv).toBe(listed);
      // The next probe comes a whole progressProbeMs after the last one, answered or not.
      await cycle(source, clock, 15_000);
      expect(probes).toHaveLength(1);
      await cycle(source, clock, 25_000);
      expect(probes).toHaveLength(2);
      // That watch ends with 410: a relist, as without probes.
      await clock.advance(10_000);
      source.current?.callbacks.onEvent('ERROR', { kind: 'Status', code: 410 });
      await flushMicrotasks();
      expect(source.listCalls).toBe(2);
      await informer.stop();
    });

    it('never moves back: an event newer than the probed version wins', async () => {
      const { source, clock } = setup();
      const probes: number[] = [];
      probing(source, probes);
      const informer = new Informer<Obj>({ name: 'events', source, clock, staleAfterMs: 0, progressProbeMs: 1_000, progressSettleMs: 5_000 });
      informer.start();
      await flushMicrotasks();
      await cycle(source, clock, 25_000);
      expect(probes).toHaveLength(1);
      source.set('late', '1');
      await cycle(source, clock, 25_000);
      expect(source.watches.at(-1)?.rv).toBe(String(source.rv));
      expect(Number(source.watches.at(-1)?.rv)).toBeGreaterThan(probes[0] ?? 0);
      await informer.stop();
    });
  });

  it('backs off instead of spinning when watches end at once without events', async () => {
    const { source, informer, clock } = setup();
    informer.start();
    await flushMicrotasks();
    source.current?.resolve();
    await flushMicrotasks();
    expect(source.watches).toHaveLength(1);
    await clock.advance(1_000);
    expect(source.watches).toHaveLength(2);
    await informer.stop();
  });

  it('relists immediately on 410 Gone, from an HTTP error or an ERROR event, without counting a restart', async () => {
    const { source, informer, restarts } = setup();
    informer.start();
    await flushMicrotasks();
    source.current?.reject(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await flushMicrotasks();
    expect(source.listCalls).toBe(2);
    source.current?.callbacks.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    await flushMicrotasks();
    expect(source.listCalls).toBe(3);
    expect(restarts).toEqual([]);
    await informer.stop();
  });

  it('restarts after errors with exponential back-off and never gives up', async () => {
    const { source, informer, restarts, clock } = setup();
    informer.start();
    await flushMicrotasks();
    source.listError = () => Object.assign(new Error('boom'), { code: 500, body: '{"kind":"Status","message":"etcd down","code":500}' });
    source.current?.reject(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
    await flushMicrotasks();
    expect(restarts).toEqual(['error']);
    expect(source.listCalls).toBe(1);
    await clock.advance(1_000); // 1st back-off: list fails again
    expect(source.listCalls).toBe(2);
    await clock.advance(1_999);
    expect(source.listCalls).toBe(2);
    await clock.advance(1); // 2nd back-off: 2 s
    expect(source.listCalls).toBe(3);
    source.listError = undefined;
    await clock.advance(4_000); // 3rd back-off: 4 s, then the list succeeds
    expect(source.listCalls).toBe(4);
    expect(restarts).toEqual(['error', 'error', 'error']);
    expect(source.current).toBeDefined();
    await informer.stop();
  });

  it('restarts on a non-410 ERROR watch event', async () => {
    const { source, informer, restarts, clock } = setup();
    informer.start();
    await flushMicrotasks();
    source.current?.callbacks.onEvent('ERROR', { kind: 'Status', code: 500, message: 'internal error' });
    await flushMicrotasks();
    expect(restarts).toEqual(['error']);
    await clock.advance(1_000);
    expect(source.listCalls).toBe(2);
    await informer.stop();
  });

  it('restarts a watch that has been silent for longer than staleAfterMs', async () => {
    const { source, informer, restarts, clock } = setup({ staleAfterMs: 90_000 });
    informer.start();
    await flushMicrotasks();
    await clock.advance(60_000);
    source.set('a', '1'); // activity resets the watchdog
    await clock.advance(60_000);
    expect(restarts).toEqual([]);
    await clock.advance(30_000);
    expect(restarts).toEqual(['stale']);
    expect(source.listCalls).toBe(2);
    await informer.stop();
  });

  it('keeps going when a handler throws', async () => {
    const { source, informer, events } = setup();
    informer.addHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.start();
    await flushMicrotasks();
    source.set('a', '1');
    source.set('b', '1');
    expect(events).toEqual(['add a=1', 'add b=1']);
    await informer.stop();
  });

  it('calls no handler after stop and aborts the watch', async () => {
    const { source, informer, events } = setup();
    informer.start();
    await flushMicrotasks();
    const w = source.current;
    await informer.stop();
    expect(w?.signal.aborted).toBe(true);
    w?.callbacks.onEvent('ADDED', { metadata: { name: 'late', namespace: 'ns', resourceVersion: '999' } });
    expect(events).toEqual([]);
    expect(() => informer.start()).toThrow(/already started/);
  });
});

describe('resourcePath', () => {
  it('builds core and group paths, namespaced or not', () => {
    expect(resourcePath({ version: 'v1', plural: 'pods', namespace: 'ns' })).toBe('/api/v1/namespaces/ns/pods');
    expect(resourcePath({ group: 'apps', version: 'v1', plural: 'deployments' })).toBe('/apis/apps/v1/deployments');
    expect(resourcePath({ group: 'kubeskippy.io', version: 'v1alpha1', plural: 'healingpolicies', namespace: '' })).toBe('/apis/kubeskippy.io/v1alpha1/healingpolicies');
  });
});

describe('createKubeListWatch list paging', () => {
  const kc = {} as k8s.KubeConfig;
  const cm = (name: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: '1' } });

  it('follows raw JSON `continue` tokens (custom objects) and keeps the first page’s resourceVersion', async () => {
    const calls: (string | undefined)[] = [];
    const pages: Record<string, { items: Obj[]; metadata: Record<string, string> }> = {
      first: { items: [cm('a'), cm('b')], metadata: { resourceVersion: '42', continue: 't1' } },
      t1: { items: [cm('c'), cm('d')], metadata: { resourceVersion: '42', continue: 't2' } },
      t2: { items: [cm('e')], metadata: { resourceVersion: '42' } },
    };
    const source = createKubeListWatch<Obj>(kc, {
      path: '/x',
      pageSize: 2,
      list: (_signal, page) => {
        calls.push(page.continue);
        expect(page.limit).toBe(2);
        return Promise.resolve(pages[page.continue ?? 'first'] as unknown as k8s.KubernetesListObject<Obj>);
      },
    });
    const result = await source.list(new AbortController().signal, (o) => ({ metadata: { ...o.metadata, labels: { slim: 'y' } } }));
    expect(calls).toEqual([undefined, 't1', 't2']);
    expect(result.resourceVersion).toBe('42');
    expect(result.transformed).toBe(true);
    expect(result.items.map((o) => `${o.metadata?.name ?? ''}:${o.metadata?.labels?.['slim'] ?? ''}`)).toEqual(['a:y', 'b:y', 'c:y', 'd:y', 'e:y']);
  });

  it('follows typed `_continue` tokens, and without a transform hands the items over as they came', async () => {
    const source = createKubeListWatch<Obj>(kc, {
      path: '/x',
      list: (_signal, page) =>
        Promise.resolve(
          page.continue === undefined
            ? { items: [cm('a')], metadata: { resourceVersion: '7', _continue: 'next' } }
            : { items: [cm('b')], metadata: { resourceVersion: '7', _continue: '' } },
        ),
    });
    const result = await source.list(new AbortController().signal);
    expect(result.items.map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    expect(result.transformed).toBe(false);
  });

  it('refuses a server that returns the same continue token twice instead of looping', async () => {
    const source = createKubeListWatch<Obj>(kc, {
      path: '/loop',
      list: () => Promise.resolve({ items: [cm('a')], metadata: { resourceVersion: '7', _continue: 'same' } }),
    });
    await expect(source.list(new AbortController().signal)).rejects.toThrow(/list \/loop: the server returned the same continue token twice/);
  });

  it('lets a list function ignore paging: one response without a token is the whole list', async () => {
    const source = createKubeListWatch<Obj>(kc, { path: '/x', list: () => Promise.resolve({ items: [cm('a'), cm('b')], metadata: { resourceVersion: '3' } }) });
    expect((await source.list(new AbortController().signal)).items).toHaveLength(2);
  });
});
