import * as k8s from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { pooledKubeConfig } from './connection-pool.js';
import { countingKubeConfig } from './request-counter.js';

const S = 'https://127.0.0.1:6443';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function certKubeConfig(cert = 'client-cert-1'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: S, caData: b64('ca'), skipTLSVerify: false }],
    users: [{ name: 'u', certData: b64(cert), keyData: b64('key') }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function dispatcherOf(kc: k8s.KubeConfig): Promise<unknown> {
  const ctx = new k8s.RequestContext(`${S}/api/v1/pods`, k8s.HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

describe('pooledKubeConfig', () => {
  it('gives every request the same keep-alive Agent (client-node alone builds one per request)', async () => {
    const kc = certKubeConfig();
    expect(await dispatcherOf(kc)).not.toBe(await dispatcherOf(kc));
    const pooled = pooledKubeConfig(kc);
    const first = await dispatcherOf(pooled.kubeConfig);
    expect(first).toBeDefined();
    expect(await dispatcherOf(pooled.kubeConfig)).toBe(first);
    expect(pooled.created()).toBe(1);
    await pooled.close();
  });

  it('opens a new Agent when the client certificate changes, and closes the old one', async () => {
    const kc = certKubeConfig('cert-a');
    const pooled = pooledKubeConfig(kc);
    const first = (await dispatcherOf(pooled.kubeConfig)) as { closed?: boolean };
    const user = kc.getCurrentUser();
    if (user === null) throw new Error('no user');
    (user as { certData?: string }).certData = b64('cert-b');
    const second = await dispatcherOf(pooled.kubeConfig);
    expect(second).not.toBe(first);
    expect(pooled.created()).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(first.closed).toBe(true);
    await pooled.close();
  });

  it('closes gracefully, and aborts what is still in flight once the grace period is over', async () => {
    const pooled = pooledKubeConfig(certKubeConfig());
    const d = (await dispatcherOf(pooled.kubeConfig)) as { close: () => Promise<void>; destroy: () => Promise<void> };
    let destroyed = false;
    // A request hung on a dead connection: a graceful close would wait for it forever.
    d.close = () => new Promise<void>(() => undefined);
    d.destroy = () => {
      destroyed = true;
      return Promise.resolve();
    };
    vi.useFakeTimers();
    try {
      let done = false;
      const closing = pooled.close(2000).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(1999);
      expect([destroyed, done]).toEqual([false, false]);
      await vi.advanceTimersByTimeAsync(1);
      await closing;
      expect([destroyed, done]).toEqual([true, true]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('works under the counting view, which still sees every request', async () => {
    const seen: string[] = [];
    const pooled = pooledKubeConfig(certKubeConfig());
    const counted = countingKubeConfig(pooled.kubeConfig, (r) => seen.push(r.verb));
    const a = await dispatcherOf(counted);
    expect(await dispatcherOf(counted)).toBe(a);
    expect(seen).toEqual(['list', 'list']);
    await pooled.close();
  });
});
