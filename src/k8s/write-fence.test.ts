import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FencedError } from '../runtime/controller.js';
import { fencedKubeConfig } from './write-fence.js';

const S = 'https://127.0.0.1:6443';

function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: S, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

async function send(kc: k8s.KubeConfig, method: k8s.HttpMethod, path: string): Promise<string> {
  const ctx = new k8s.RequestContext(`${S}${path}`, method);
  try {
    await kc.applySecurityAuthentication(ctx);
    return 'sent';
  } catch (e: unknown) {
    return e instanceof FencedError ? `fenced: ${e.message}` : `error: ${String(e)}`;
  }
}

describe('fencedKubeConfig', () => {
  it('refuses writes before they are sent while the Lease is not held, and lets reads, Leases and Events through', async () => {
    let leader = false;
    const kc = fencedKubeConfig(kubeConfig(), () => leader);
    const action = '/apis/kubeskippy.io/v1alpha1/namespaces/shop/healingactions/a1/status';
    expect(await send(kc, k8s.HttpMethod.PATCH, action)).toBe('fenced: not sending patch healingactions/status: this replica no longer holds its Lease');
    expect(await send(kc, k8s.HttpMethod.POST, '/api/v1/namespaces/shop/pods/web-1/eviction')).toMatch(/^fenced: not sending create pods\/eviction/);
    expect(await send(kc, k8s.HttpMethod.DELETE, '/api/v1/namespaces/shop/pods/web-1')).toMatch(/^fenced/);
    expect(await send(kc, k8s.HttpMethod.GET, action)).toBe('sent');
    expect(await send(kc, k8s.HttpMethod.PUT, '/apis/coordination.k8s.io/v1/namespaces/kubeskippy-system/leases/kubeskippy-leader')).toBe('sent');
    expect(await send(kc, k8s.HttpMethod.POST, '/api/v1/namespaces/shop/events')).toBe('sent');
    leader = true;
    expect(await send(kc, k8s.HttpMethod.PATCH, action)).toBe('sent');
  });

  it('still authenticates what it sends (the token reaches the request)', async () => {
    const kc = fencedKubeConfig(kubeConfig(), () => true);
    const ctx = new k8s.RequestContext(`${S}/api/v1/pods`, k8s.HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getHeaders()['Authorization']).toBe('Bearer secret');
  });
});
