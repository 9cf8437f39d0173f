import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createKubeClients, KubeConfigError, loadKubeConfig, requestOptions, type KubeConfigFs } from './client.js';

function kubeconfig(cluster: string, server: string, extra = ''): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster: {server: "${server}", certificate-authority: ca.crt}
users:
- name: ${cluster}-user
  user: {token: t}
contexts:
- name: ${cluster}
  context: {cluster: ${cluster}, user: ${cluster}-user}
${extra}current-context: ${cluster}
`;
}

function memoryFs(files: Record<string, string>): KubeConfigFs {
  return {
    exists: (f) => f in files,
    readFile: (f) => {
      const text = files[f];
      if (text === undefined) throw new Error(`ENOENT ${f}`);
      return text;
    },
  };
}

const files = {
  '/explicit/config': kubeconfig('explicit', 'https://127.0.0.1:1001'),
  '/env/a': kubeconfig('env-a', 'https://127.0.0.1:1002'),
  '/env/b': kubeconfig('env-b', 'https://127.0.0.1:1003'),
  '/home/me/.kube/config': kubeconfig('home', 'https://127.0.0.1:1004'),
  '/sa/token': 'token',
  '/sa/namespace': 'kubeskippy-system\n',
  '/sa/ca.crt': 'ca',
};
const inClusterEnv = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('loadKubeConfig', () => {
  it.each([
    ['an explicit path wins over everything', { kubeconfigPath: '/explicit/config', env: { KUBECONFIG: '/env/a', HOME: '/home/me', ...inClusterEnv } }, 'explicit', 'https://127.0.0.1:1001'],
    ['KUBECONFIG wins over in-cluster and home', { env: { KUBECONFIG: '/env/a', HOME: '/home/me', ...inClusterEnv } }, 'env', 'https://127.0.0.1:1002'],
    ['in-cluster wins over home', { env: { HOME: '/home/me', ...inClusterEnv } }, 'in-cluster', 'https://10.0.0.1:443'],
    ['~/.kube/config is the last resort', { env: { HOME: '/home/me' } }, 'home', 'https://127.0.0.1:1004'],
  ] as const)('%s', (_name, options, source, server) => {
    const loaded = loadKubeConfig({ ...options, fs: memoryFs(files), serviceAccountDir: '/sa' });
    expect(loaded.source).toBe(source);
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe(server);
  });

  it('merges several KUBECONFIG files, first definition and current-context winning, skipping missing files', () => {
    const loaded = loadKubeConfig({ env: { KUBECONFIG: '/missing:/env/a:/env/b' }, fs: memoryFs(files) });
    expect(loaded.kubeConfig.getCurrentContext()).toBe('env-a');
    expect(loaded.kubeConfig.getContexts().map((c) => c.name)).toEqual(['env-a', 'env-b']);
    expect(loaded.location).toBe('/env/a:/env/b');
  });

  it('resolves relative certificate paths against the kubeconfig file', () => {
    const loaded = loadKubeConfig({ kubeconfigPath: '/explicit/config', fs: memoryFs(files) });
    expect(loaded.kubeConfig.getCurrentCluster()?.caFile).toBe('/explicit/ca.crt');
  });

  it('builds the in-cluster config from the environment passed in, with the service account token file and namespace', () => {
    const loaded = loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, fs: memoryFs(files), serviceAccountDir: '/sa' });
    expect(loaded.kubeConfig.getCurrentCluster()).toMatchObject({ server: 'https://[fd00::1]:6443', caFile: '/sa/ca.crt' });
    expect(loaded.kubeConfig.getCurrentUser()?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: '/sa/token' } });
    expect(loaded.kubeConfig.getContextObject('inClusterContext')?.namespace).toBe('kubeskippy-system');
  });

  it('selects a named context', () => {
    const loaded = loadKubeConfig({ env: { KUBECONFIG: '/env/a:/env/b' }, context: 'env-b', fs: memoryFs(files) });
    expect(loaded.kubeConfig.getCurrentCluster()?.server).toBe('https://127.0.0.1:1003');
  });

  it.each([
    ['a missing explicit file', { kubeconfigPath: '/nope' }, /does not exist/],
    ['KUBECONFIG naming only missing files', { env: { KUBECONFIG: '/x:/y' } }, /none of the files in KUBECONFIG/],
    ['nothing at all', { env: {} }, /no kubeconfig found/],
    ['an unknown context', { kubeconfigPath: '/explicit/config', context: 'nope' }, /context "nope" not found/],
    ['an unparsable file', { kubeconfigPath: '/bad' }, /cannot load kubeconfig \/bad/],
  ] as const)('throws KubeConfigError for %s', (_name, options, message) => {
    expect(() => loadKubeConfig({ ...options, fs: memoryFs({ ...files, '/bad': ': : :\n\t-' }) })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ ...options, fs: memoryFs({ ...files, '/bad': ': : :\n\t-' }) })).toThrow(message);
  });
});

describe('createKubeClients', () => {
  it('creates each typed client once, on first use', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig('c', 'https://127.0.0.1:1'));
    const clients = createKubeClients(kc);
    expect(clients.core).toBe(clients.core);
    expect(clients.core).toBeInstanceOf(k8s.CoreV1Api);
    expect(clients.coordination).toBeInstanceOf(k8s.CoordinationV1Api);
    expect(clients.api(k8s.BatchV1Api)).toBe(clients.api(k8s.BatchV1Api));
    expect(clients.objects).toBe(clients.objects);
  });
});

describe('requestOptions', () => {
  it('adds a middleware that ties the request to the signal and keeps existing options', async () => {
    const ac = new AbortController();
    const base = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    const options = requestOptions(ac.signal, base);
    expect(options?.middleware).toHaveLength(2);
    const ctx = new k8s.RequestContext('https://127.0.0.1/x', k8s.HttpMethod.GET);
    const mw = options?.middleware?.[1];
    const out = await mw?.pre(ctx).toPromise();
    expect(out?.getSignal()).toBe(ac.signal);
    expect(requestOptions(undefined, base)).toBe(base);
  });
});
