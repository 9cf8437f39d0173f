/**
 * The dashboard end to end: the real operator (in this process) on the real cluster, serving its dashboard on
 * 127.0.0.1, and Debian's Chromium driven by playwright-core as the person looking at it. Crash-looping pods make
 * the operator create real HealingActions; the page must show them — the second one arriving live over Server-Sent
 * Events, without a reload — and the screenshot is kept in test-artifacts/dashboard.png.
 *
 * Chromium comes from the Debian package `chromium` (hack/ci/system-packages.sh installs it); the test never
 * downloads a browser and fails, naming the package, when it is missing.
 */
import * as k8s from '@kubernetes/client-node';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { RunningOperator } from '../../src/wiring.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig, waitFor } from '../support/cluster.js';
import { startTestOperator } from '../support/operator.js';
import { createPod, createPolicy, ensureCrds, listActions } from '../support/resources.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(root, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
/** The launch flags known to work on these machines: no sandbox as root, and no background connections. */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const crashAnnotations = { 'sim.kubeskippy.io/crash': 'true', 'sim.kubeskippy.io/crash-after': '1s', 'sim.kubeskippy.io/backoff': '1s' };

const kc = testKubeConfig();
let operator: RunningOperator | undefined;
let context: BrowserContext | undefined;
let userDataDir = '';
let ns = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed (${CHROMIUM}): install the Debian package "chromium" (hack/ci/system-packages.sh does); this test never downloads a browser`);
  }
  await ensureCrds();
  operator = await startTestOperator({ dashboardBindAddress: '127.0.0.1:0' });
  ns = await createTestNamespace(kc, 'dashboard');
  userDataDir = mkdtempSync(path.join(tmpdir(), 'kubeskippy-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1000 },
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await operator?.stop();
  if (ns) await deleteTestNamespace(kc, ns);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** The action the operator created for `target`, once it exists. */
async function actionFor(target: string): Promise<HealingAction> {
  return waitFor(`a HealingAction for ${target}`, async () => (await listActions(kc, ns)).find((a) => a.spec.targetResource.name === target), 120_000, 500);
}

async function phaseOf(name: string): Promise<string> {
  const a = (await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .getNamespacedCustomObject({ group: 'kubeskippy.io', version: 'v1alpha1', namespace: ns, plural: 'healingactions', name })) as HealingAction;
  return a.status?.phase ?? 'Pending';
}

const item = (page: Page, a: HealingAction) => page.locator(`#timeline li[data-key="${ns}/${a.metadata.name ?? ''}"]`);

describe('the dashboard', () => {
  it('shows the actions the operator really creates, the second arriving live without a reload, with its chart', async () => {
    const url = operator?.dashboard?.url;
    expect(url, 'the operator serves its dashboard').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await createPolicy(kc, ns, 'crashloop', {
      selector: { labelSelector: { matchLabels: { app: 'crashy' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 } }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
    });
    await createPolicy(kc, ns, 'crashloop-dryrun', {
      selector: { labelSelector: { matchLabels: { app: 'crashy-dry' } } },
      triggers: [
        { name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2 } },
        { name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 80, duration: '1m' } },
      ],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
    });
    await createPod(kc, ns, 'crasher-1', { labels: { app: 'crashy' }, annotations: crashAnnotations });
    // Uses 90% of its memory limit: over the dry-run policy's 80%, which must hold for 1m before it fires.
    await createPod(kc, ns, 'hungry', { labels: { app: 'crashy-dry' }, annotations: { 'sim.kubeskippy.io/memory': '90Mi' } });

    const page = await (context as BrowserContext).newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(url as string);
    await expect.poll(() => page.locator('#badge-live').textContent(), { timeout: 15_000 }).toContain('live');
    // A reload would lose this mark and navigate the main frame again.
    let navigations = 0;
    page.on('framenavigated', (f) => (f === page.mainFrame() ? navigations++ : undefined));
    await page.evaluate(() => {
      Object.assign(globalThis, { loadedOnce: 'yes' });
    });

    // 1. The first action, created by the operator for the crash-looping pod, appears in the timeline.
    const first = await actionFor('crasher-1');
    const firstItem = item(page, first);
    await firstItem.waitFor({ timeout: 30_000 });
    await expect.poll(() => firstItem.textContent()).toContain(`Pod ${ns}/crasher-1`);
    const firstText = (await firstItem.textContent()) ?? '';
    expect(firstText).toContain('restarts (metric)');
    expect(firstText).toContain(`policy ${ns}/crashloop`);
    expect(firstText).toMatch(/observed \d+, threshold 2/);
    await expect.poll(() => page.locator(`#policies tr[data-key="${ns}/crashloop"]`).textContent()).toContain('restart_count > 2');

    // 2. A second crash-looping pod: its action must arrive over the event stream, without a reload.
    await createPod(kc, ns, 'crasher-2', { labels: { app: 'crashy-dry' }, annotations: crashAnnotations });
    const second = await actionFor('crasher-2');
    const secondItem = item(page, second);
    await secondItem.waitFor({ timeout: 30_000 });
    expect(await secondItem.textContent()).toContain(`Pod ${ns}/crasher-2`);
    expect(await page.evaluate(() => (globalThis as { loadedOnce?: string }).loadedOnce)).toBe('yes');
    expect(navigations).toBe(0);
    // Newest first.
    const keys = await Promise.all((await page.locator('#timeline li').all()).map((l) => l.getAttribute('data-key')));
    expect(keys.indexOf(`${ns}/${second.metadata.name ?? ''}`)).toBeLessThan(keys.indexOf(`${ns}/${first.metadata.name ?? ''}`));

    // 3. Status changes arrive too: the page shows each action's phase as the API server has it.
    for (const a of [first, second]) {
      const name = a.metadata.name ?? '';
      const terminal = await waitFor(`${name} settled`, async () => {
        const p = await phaseOf(name);
        return ['Succeeded', 'Failed', 'Blocked', 'Cancelled'].includes(p) ? p : undefined;
      }, 120_000, 500);
      await expect.poll(() => item(page, a).getAttribute('data-phase'), { timeout: 30_000 }).toBe(terminal);
    }
    expect(await secondItem.textContent()).toContain('dry run');

    // 4. The still-crashing pod gets a chart of its restart_count with the threshold, drawn by uPlot.
    const chart = page.locator(`figure.chart[data-key="Pod/${ns}/crasher-2|restart_count"]`);
    await chart.locator('canvas').waitFor({ timeout: 30_000 });
    const caption = (await chart.locator('figcaption').textContent()) ?? '';
    const latest = Number(/restart_count\s*(\d+)/.exec(caption)?.[1]);
    expect(latest).toBeGreaterThan(2);
    expect(await chart.textContent()).toContain(`threshold > 2 (${ns}/crashloop-dryrun · restarts)`);

    // 5. Memory from metrics.k8s.io reaches a chart too: the hungry pod's trigger is pending (or has fired since).
    const memory = page.locator(`figure.chart[data-key="Pod/${ns}/hungry|memory_usage_percent"]`);
    await expect
      .poll(
        () => page.evaluate((key) => (globalThis as unknown as { kubeskippy: { view: { charts: { key: string; points: unknown[] }[] } } }).kubeskippy.view.charts.find((c) => c.key === key)?.points.length ?? 0, `Pod/${ns}/hungry|memory_usage_percent`),
        { timeout: 120_000, interval: 1000 },
      )
      .toBeGreaterThanOrEqual(2);
    await memory.locator('canvas').waitFor({ timeout: 15_000 });
    expect(await memory.textContent()).toMatch(/90(\.\d)?%/);
    expect(await memory.textContent()).toContain(`threshold > 80% (${ns}/crashloop-dryrun · memory)`);

    // Every figure on the page came from the operator: the actions the page holds are the ones the API serves.
    const mine = (actions: { key: string; phase: string }[]) => actions.filter((a) => a.key.startsWith(`${ns}/`)).map((a) => `${a.key} ${a.phase}`).sort();
    await expect
      .poll(async () => {
        const api = (await (await fetch(`${url as string}/api/actions`)).json()) as { actions: { key: string; phase: string }[] };
        const shown = await page.evaluate(() => (globalThis as unknown as { kubeskippy: { view: { actions: { key: string; phase: string }[] } } }).kubeskippy.view.actions);
        return JSON.stringify(mine(shown)) === JSON.stringify(mine(api.actions)) ? mine(shown) : [];
      }, { timeout: 15_000 })
      .toHaveLength((await listActions(kc, ns)).length);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    // No CSP violation, failed request or script error on the way.
    expect(problems).toEqual([]);
  });
});
