/**
 * The informer against the real API server: it sees adds, updates and deletes of ConfigMaps in a test namespace
 * (only those matching its label selector), survives forced restarts and a silently dead watch, and a relist never
 * repeats an effect for an object version it already handled; a quiet collection's version is kept current, so a
 * resumed watch survives etcd's compaction without a relist.
 */
import * as k8s from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestOptions } from '../../src/k8s/client.js';
import { countingKubeConfig } from '../../src/k8s/request-counter.js';
import { createKubeListWatch, Informer, listPageParams, resourcePath, type InformerRestartReason, type ListWatchSource } from '../../src/k8s/informer.js';
import { systemClock } from '../../src/runtime/clock.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { compactEtcd } from '../faults/support/control-plane.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const SELECTOR = 'app=informer-test';

function source(namespace: string): ListWatchSource<k8s.V1ConfigMap> {
  return createKubeListWatch<k8s.V1ConfigMap>(kc, {
    path: resourcePath({ version: 'v1', plural: 'configmaps', namespace }),
    list: (signal) => core.listNamespacedConfigMap({ namespace, labelSelector: SELECTOR }, requestOptions(signal)),
    labelSelector: SELECTOR,
  });
}

/** A source whose watch can go deaf: the connection looks open but delivers nothing (a half-open TCP socket). */
function deafenable(inner: ListWatchSource<k8s.V1ConfigMap>): ListWatchSource<k8s.V1ConfigMap> & { deaf: boolean } {
  const s = {
    deaf: false,
    list: (signal: AbortSignal) => inner.list(signal),
    watch: (rv: string, callbacks: Parameters<ListWatchSource<k8s.V1ConfigMap>['watch']>[1], signal: AbortSignal) =>
      inner.watch(
        rv,
        {
          onConnect: () => {
            if (!s.deaf) callbacks.onConnect();
          },
          onEvent: (type, obj) => {
            if (!s.deaf) callbacks.onEvent(type, obj);
          },
        },
        signal,
      ),
  };
  return s;
}

function configMap(name: string, value: string, labelled = true): k8s.V1ConfigMap {
  return { metadata: { name, ...(labelled ? { labels: { app: 'informer-test' } } : {}) }, data: { v: value } };
}

/** Records handler calls as "verb name@resourceVersion" (an effect per object version). */
function recorder(informer: Informer<k8s.V1ConfigMap>): string[] {
  const effects: string[] = [];
  const id = (o: k8s.V1ConfigMap): string => `${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`;
  informer.addHandler({
    onAdd: (o) => effects.push(`add ${id(o)}`),
    onUpdate: (o) => effects.push(`update ${id(o)}`),
    onDelete: (o) => effects.push(`delete ${o.metadata?.name ?? ''}`),
  });
  return effects;
}

describe('informer on real ConfigMaps', () => {
  let ns = '';
  let informer: Informer<k8s.V1ConfigMap> | undefined;
  beforeEach(async (ctx) => {
    ns = await createTestNamespace(kc, `rt-inf-${ctx.task.name.slice(0, 20)}`);
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await deleteTestNamespace(kc, ns);
  });

  it('lists existing objects, then sees add, update and delete, honouring the label selector', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('before', '1') });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('unlabelled', '1', false) });
    informer = new Informer({ name: 'configmaps', source: source(ns), clock: systemClock });
    const effects = recorder(informer);
    informer.start();
    await waitFor('sync', () => Promise.resolve(informer?.hasSynced()), 15_000);
    expect(informer.list().map((c) => c.metadata?.name)).toEqual(['before']);

    const created = await core.createNamespacedConfigMap({ namespace: ns, body: configMap('cm', '1') });
    await waitFor('add', () => Promise.resolve(informer?.get(ns, 'cm')), 40_000);
    const updated = await core.replaceNamespacedConfigMap({ name: 'cm', namespace: ns, body: { ...created, data: { v: '2' } } });
    await waitFor('update', () => Promise.resolve(informer?.get(ns, 'cm')?.data?.['v'] === '2'), 40_000);
    await core.deleteNamespacedConfigMap({ name: 'cm', namespace: ns });
    await waitFor('delete', () => Promise.resolve(informer?.get(ns, 'cm') === undefined), 40_000);
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('unlabelled-2', '1', false) });

    expect(effects).toEqual([
      `add before@${informer.list()[0]?.metadata?.resourceVersion ?? ''}`,
      `add cm@${created.metadata?.resourceVersion ?? ''}`,
      `update cm@${updated.metadata?.resourceVersion ?? ''}`,
      'delete cm',
    ]);
  });

  it('survives forced restarts, relisting without repeating any effect', async () => {
    const restarts: InformerRestartReason[] = [];
    informer = new Informer({ name: 'configmaps', source: source(ns), clock: systemClock, onRestart: (r) => restarts.push(r) });
    const effects = recorder(informer);
    informer.start();
    await waitFor('sync', () => Promise.resolve(informer?.hasSynced()), 15_000);
    for (const name of ['a', 'b', 'c']) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(name, '1') });
    await waitFor('three objects', () => Promise.resolve(informer?.list().length === 3), 40_000);

    for (let i = 0; i < 3; i++) informer.restart();
    await core.patchNamespacedConfigMap(
      { name: 'b', namespace: ns, body: { data: { v: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitFor('update after restarts', () => Promise.resolve(informer?.get(ns, 'b')?.data?.['v'] === '2'), 40_000);

    expect(restarts).toEqual(['requested', 'requested', 'requested']);
    expect(informer.restarts).toBe(3);
    expect(effects.filter((e) => e.startsWith('add'))).toHaveLength(3);
    expect(effects.filter((e) => e.startsWith('update'))).toHaveLength(1);
    expect(new Set(effects).size).toBe(effects.length); // no effect twice for the same object version
  });

  it('restarts a silently dead watch through its watchdog and recovers every missed change by relisting', async () => {
    const s = deafenable(source(ns));
    const restarts: InformerRestartReason[] = [];
    // 10 s: longer than the three writes and the wait below take even on a loaded machine.
    informer = new Informer({ name: 'configmaps', source: s, clock: systemClock, staleAfterMs: 10_000, onRestart: (r) => restarts.push(r) });
    const effects = recorder(informer);
    for (const name of ['keep', 'change', 'remove']) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(name, '1') });
    informer.start();
    await waitFor('sync', () => Promise.resolve(informer?.list().length === 3), 15_000);
    expect(effects).toHaveLength(3);
    effects.length = 0;

    s.deaf = true;
    const changed = await core.patchNamespacedConfigMap(
      { name: 'change', namespace: ns, body: { data: { v: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'remove', namespace: ns });
    const added = await core.createNamespacedConfigMap({ namespace: ns, body: configMap('new', '1') });
    // Deaf: nothing arrives, however long we wait (less than the watchdog's limit).
    await new Promise((r) => setTimeout(r, 500));
    expect(effects).toEqual([]);
    s.deaf = false;

    await waitFor('watchdog restart', () => Promise.resolve(restarts.includes('stale')), 30_000);
    await waitFor('relisted', () => Promise.resolve(effects.length >= 3), 15_000);
    expect(effects.sort()).toEqual([
      `add new@${added.metadata?.resourceVersion ?? ''}`,
      `update change@${changed.metadata?.resourceVersion ?? ''}`,
      'delete remove',
    ].sort());
    expect(informer.list().map((c) => c.metadata?.name).sort()).toEqual(['change', 'keep', 'new']);
  });

  it("keeps watching across client-node's 30 s inactivity timeout without relisting or counting a restart", async () => {
    const restarts: InformerRestartReason[] = [];
    let lists = 0;
    const inner = source(ns);
    const counted: ListWatchSource<k8s.V1ConfigMap> = { list: (signal) => (lists++, inner.list(signal)), watch: (rv, cb, signal) => inner.watch(rv, cb, signal) };
    informer = new Informer({ name: 'configmaps', source: counted, clock: systemClock, onRestart: (r) => restarts.push(r) });
    informer.start();
    await waitFor('sync', () => Promise.resolve(informer?.hasSynced()), 15_000);
    // Quiet for longer than the watch's 30 s inactivity timeout: the informer must resume from its resourceVersion.
    await new Promise((r) => setTimeout(r, 33_000));
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('late', '1') });
    await waitFor('event after the quiet period', () => Promise.resolve(informer?.get(ns, 'late')), 10_000);
    expect(restarts).toEqual([]);
    expect(lists).toBe(1);
  });

  it("keeps a quiet, uncached collection's version current (probe), so its watch resumes across an etcd compaction without a relist", async () => {
    // Events: the API server keeps no watch cache for them, so a quiet Events watch never gets a bookmark with a
    // newer version — the production case (docs/scaling.md: 15 relists of Events a minute, twenty minutes in).
    const counting = (): ListWatchSource<k8s.CoreV1Event> & { lists: number; watches: number } => {
      const inner = createKubeListWatch<k8s.CoreV1Event>(kc, {
        path: resourcePath({ version: 'v1', plural: 'events', namespace: ns }),
        list: (signal, page) => core.listNamespacedEvent({ namespace: ns, ...listPageParams(page) }, requestOptions(signal)),
      });
      const s = {
        lists: 0,
        watches: 0,
        list: (signal: AbortSignal) => (s.lists++, inner.list(signal)),
        currentVersion: (signal: AbortSignal) => inner.currentVersion?.(signal) ?? Promise.resolve(''),
        watch: (rv: string, cb: Parameters<ListWatchSource<k8s.CoreV1Event>['watch']>[1], signal: AbortSignal) => (s.watches++, inner.watch(rv, cb, signal)),
      };
      return s;
    };
    const probed = counting();
    const unprobed = counting();
    let probes = 0;
    const withProbe = new Informer<k8s.CoreV1Event>({ name: 'events', source: probed, clock: systemClock, progressProbeMs: 3_000, progressSettleMs: 1_000, onProgressProbe: () => probes++ });
    const without = new Informer<k8s.CoreV1Event>({ name: 'events', source: unprobed, clock: systemClock, progressProbeMs: 0 });
    const seen: string[] = [];
    withProbe.addHandler({ onAdd: (e) => seen.push(e.metadata?.name ?? '') });
    try {
      withProbe.start();
      without.start();
      await waitFor('sync', () => Promise.resolve(withProbe.hasSynced() && without.hasSynced()), 15_000);
      const listed = Number(without.lastSyncResourceVersion());
      // Writes elsewhere move etcd's revision on; the Events of this namespace stay quiet.
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap('elsewhere', '1', false) });
      // The probed informer adopts the current version when its watch ends normally (the server ends it at 25 s).
      await waitFor('the quiet version moved on', () => Promise.resolve(Number(withProbe.lastSyncResourceVersion()) > listed), 80_000, 500);
      const current = Number(withProbe.lastSyncResourceVersion());
      expect(Number(without.lastSyncResourceVersion())).toBe(listed);
      await compactEtcd(current);
      const watchesAtCompaction = probed.watches;
      // The informer that kept its list's version resumes from a compacted revision: 410, a relist (the scenario bites).
      await waitFor('the unprobed informer relisted', () => Promise.resolve(unprobed.lists >= 2), 60_000, 500);
      // The probed one resumed (a new watch after the compaction) and is still on its first list.
      await waitFor('a watch resumed after the compaction', () => Promise.resolve(probed.watches >= watchesAtCompaction + 1), 60_000, 500);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(probed.lists).toBe(1);
      expect(probes).toBeGreaterThan(0);
      // And it still sees what happens.
      await core.createNamespacedEvent({
        namespace: ns,
        body: { metadata: { name: 'late' }, involvedObject: { kind: 'ConfigMap', name: 'elsewhere', namespace: ns }, reason: 'Test', message: 'after compaction', type: 'Normal' },
      });
      await waitFor('an Event after the compaction', () => Promise.resolve(seen.includes('late')), 30_000);
      expect(probed.lists).toBe(1);
    } finally {
      await Promise.all([withProbe.stop(), without.stop()]);
    }
  });

  it('lists in pages, slims each page as it arrives, and watches from the paged snapshot', async () => {
    for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`paged-${i}`, String(i)) });
    const pages: { limit: number; continue?: string }[] = [];
    const paged = createKubeListWatch<k8s.V1ConfigMap>(kc, {
      path: resourcePath({ version: 'v1', plural: 'configmaps', namespace: ns }),
      list: (signal, page) => (pages.push(page), core.listNamespacedConfigMap({ namespace: ns, labelSelector: SELECTOR, ...listPageParams(page) }, requestOptions(signal))),
      labelSelector: SELECTOR,
      pageSize: 3,
    });
    let transforms = 0;
    informer = new Informer({
      name: 'configmaps',
      source: paged,
      clock: systemClock,
      transform: (cm) => (transforms++, { metadata: cm.metadata ?? {}, data: { slim: 'yes' } }),
    });
    informer.start();
    await waitFor('sync', () => Promise.resolve(informer?.hasSynced()), 15_000);
    // 7 objects in pages of 3: three requests, the later two with the server's continue token.
    expect(pages.map((p) => [p.limit, p.continue === undefined ? 'first' : 'continued'])).toEqual([
      [3, 'first'],
      [3, 'continued'],
      [3, 'continued'],
    ]);
    expect(informer.list().map((c) => c.metadata?.name).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `paged-${i}`));
    // Each object went through the transform once, on its page.
    expect(transforms).toBe(7);
    expect(informer.list().every((c) => c.data?.['slim'] === 'yes')).toBe(true);
    // The watch resumes from the list's snapshot: a change after it arrives, nothing is missed or repeated.
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('paged-late', 'x') });
    await waitFor('the watch after a paged list', () => Promise.resolve(informer?.get(ns, 'paged-late')), 10_000);
    expect(informer.list()).toHaveLength(8);
    expect(transforms).toBe(8);
  });

  it("lists the API server's own JSON when given no list: in pages, with the selectors, in the watch's shape", async () => {
    for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`raw-${i}`, String(i)) });
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap('raw-unlabelled', 'x', false) });
    const requests: string[] = [];
    const counted = countingKubeConfig(kc, (r) => requests.push(`${r.verb} ${r.resource}`));
    const raw = createKubeListWatch<k8s.V1ConfigMap>(counted, {
      path: resourcePath({ version: 'v1', plural: 'configmaps', namespace: ns }),
      labelSelector: SELECTOR,
      pageSize: 3,
    });
    const listed = await raw.list(new AbortController().signal);
    // 7 labelled objects in pages of 3: three list requests; the unlabelled one and kube-root-ca.crt left out.
    expect(requests).toEqual(['list configmaps', 'list configmaps', 'list configmaps']);
    expect(listed.items.map((c) => c.metadata?.name).sort()).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `raw-${i}`));
    expect(Number(listed.resourceVersion)).toBeGreaterThan(0);
    // Not client-node's typed copy (which turns timestamps into Dates): the JSON a watch event carries.
    expect(listed.items.every((c) => typeof c.metadata?.creationTimestamp === 'string')).toBe(true);
  });

  it('counts a failing list as restarts with the mapped error, and keeps trying with back-off', async () => {
    const customObjects = kc.makeApiClient(k8s.CustomObjectsApi);
    const restarts: string[] = [];
    const missing = createKubeListWatch<k8s.V1ConfigMap>(kc, {
      path: resourcePath({ group: 'nope.example.io', version: 'v1', plural: 'things', namespace: ns }),
      list: async (signal) =>
        (await customObjects.listNamespacedCustomObject({ group: 'nope.example.io', version: 'v1', plural: 'things', namespace: ns }, requestOptions(signal))) as k8s.KubernetesListObject<k8s.V1ConfigMap>,
    });
    informer = new Informer({
      name: 'things',
      source: missing,
      clock: systemClock,
      backoff: { initialMs: 50, maxMs: 100 },
      onRestart: (reason, error) => restarts.push(`${reason}:${error?.code ?? ''}`),
    });
    informer.start();
    await waitFor('two failed attempts', () => Promise.resolve(restarts.length >= 2), 10_000);
    expect(restarts.slice(0, 2)).toEqual(['error:NotFound', 'error:NotFound']);
    expect(informer.hasSynced()).toBe(false);
  });
});
