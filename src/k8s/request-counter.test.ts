import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyRequest, countingKubeConfig, type ApiRequestInfo } from './request-counter.js';

const S = 'https://127.0.0.1:6443';

describe('classifyRequest', () => {
  const cases: [method: string, url: string, expected: [verb: string, group: string, resource: string, subresource?: string]][] = [
    // core group, cluster-wide and namespaced collections
    ['GET', `${S}/api/v1/pods`, ['list', '', 'pods']],
    ['GET', `${S}/api/v1/pods?watch=true&resourceVersion=12&allowWatchBookmarks=true`, ['watch', '', 'pods']],
    ['GET', `${S}/api/v1/pods?watch=1`, ['watch', '', 'pods']],
    ['GET', `${S}/api/v1/pods?watch=false`, ['list', '', 'pods']],
    ['GET', `${S}/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb`, ['list', '', 'pods']],
    ['GET', `${S}/api/v1/namespaces/demo/pods/web-1`, ['get', '', 'pods']],
    ['HEAD', `${S}/api/v1/namespaces/demo/pods/web-1`, ['get', '', 'pods']],
    ['POST', `${S}/api/v1/namespaces/demo/pods`, ['create', '', 'pods']],
    ['PUT', `${S}/api/v1/namespaces/demo/pods/web-1`, ['update', '', 'pods']],
    ['PATCH', `${S}/api/v1/namespaces/demo/pods/web-1`, ['patch', '', 'pods']],
    ['DELETE', `${S}/api/v1/namespaces/demo/pods/web-1`, ['delete', '', 'pods']],
    ['DELETE', `${S}/api/v1/namespaces/demo/pods?labelSelector=x`, ['deletecollection', '', 'pods']],
    // subresources
    ['POST', `${S}/api/v1/namespaces/demo/pods/web-1/eviction`, ['create', '', 'pods', 'eviction']],
    ['GET', `${S}/api/v1/namespaces/demo/pods/web-1/log`, ['get', '', 'pods', 'log']],
    ['PATCH', `${S}/apis/apps/v1/namespaces/demo/deployments/web/scale`, ['patch', 'apps', 'deployments', 'scale']],
    // the Namespace resource itself, and its own subresources
    ['GET', `${S}/api/v1/namespaces`, ['list', '', 'namespaces']],
    ['GET', `${S}/api/v1/namespaces?watch=true`, ['watch', '', 'namespaces']],
    ['GET', `${S}/api/v1/namespaces/demo`, ['get', '', 'namespaces']],
    ['DELETE', `${S}/api/v1/namespaces/demo`, ['delete', '', 'namespaces']],
    ['PUT', `${S}/api/v1/namespaces/demo/finalize`, ['update', '', 'namespaces', 'finalize']],
    ['PATCH', `${S}/api/v1/namespaces/demo/status`, ['patch', '', 'namespaces', 'status']],
    // named groups: apps, custom resources with the status subresource, leases, metrics.k8s.io
    ['GET', `${S}/apis/apps/v1/replicasets`, ['list', 'apps', 'replicasets']],
    ['GET', `${S}/apis/kubeskippy.io/v1alpha1/healingactions?watch=true`, ['watch', 'kubeskippy.io', 'healingactions']],
    ['POST', `${S}/apis/kubeskippy.io/v1alpha1/namespaces/demo/healingactions`, ['create', 'kubeskippy.io', 'healingactions']],
    ['PATCH', `${S}/apis/kubeskippy.io/v1alpha1/namespaces/demo/healingpolicies/p/status`, ['patch', 'kubeskippy.io', 'healingpolicies', 'status']],
    ['PUT', `${S}/apis/coordination.k8s.io/v1/namespaces/kubeskippy-system/leases/kubeskippy`, ['update', 'coordination.k8s.io', 'leases']],
    ['GET', `${S}/apis/metrics.k8s.io/v1beta1/namespaces/demo/pods`, ['list', 'metrics.k8s.io', 'pods']],
    ['GET', `${S}/apis/metrics.k8s.io/v1beta1/nodes/kwok-node-1`, ['get', 'metrics.k8s.io', 'nodes']],
    // cluster-scoped objects by name
    ['GET', `${S}/api/v1/nodes/kwok-node-1`, ['get', '', 'nodes']],
    ['PATCH', `${S}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/healingactions.kubeskippy.io`, ['patch', 'apiextensions.k8s.io', 'customresourcedefinitions']],
    // the deprecated /watch/ prefix
    ['GET', `${S}/api/v1/watch/namespaces/demo/pods`, ['watch', '', 'pods']],
    ['GET', `${S}/api/v1/watch/namespaces/demo/pods/web-1`, ['watch', '', 'pods']],
    // non-resource requests: discovery, version, health
    ['GET', `${S}/api`, ['get', '', '']],
    ['GET', `${S}/api/v1`, ['get', '', '']],
    ['GET', `${S}/apis`, ['get', '', '']],
    ['GET', `${S}/apis/apps/v1`, ['get', '', '']],
    ['GET', `${S}/version`, ['get', '', '']],
    ['GET', `${S}/healthz`, ['get', '', '']],
    ['POST', `${S}/apis/apps`, ['post', '', '']],
    // relative URLs and encoded segments
    ['GET', '/api/v1/namespaces/demo/configmaps', ['list', '', 'configmaps']],
    ['GET', `${S}/api/v1/namespaces/demo/configmaps/a%2Fb`, ['get', '', 'configmaps']],
    ['GET', `${S}/api/v1/namespaces/demo/configmaps/%E0%A4%A`, ['get', '', 'configmaps']],
  ];

  it.each(cases)('%s %s is %j', (method, url, [verb, group, resource, subresource = '']) => {
    expect(classifyRequest(method, url)).toEqual({ verb, group, resource, subresource });
  });

  it('strips the path prefix of a server behind a proxy', () => {
    const base = '/k8s/clusters/c-1';
    expect(classifyRequest('GET', `https://rancher.example${base}/api/v1/pods?watch=true`, base)).toEqual({ verb: 'watch', group: '', resource: 'pods', subresource: '' });
    expect(classifyRequest('GET', `https://rancher.example${base}/apis/apps/v1/namespaces/x/deployments/y`, `${base}/`)).toEqual({
      verb: 'get',
      group: 'apps',
      resource: 'deployments',
      subresource: '',
    });
    // A prefix that does not match is left alone.
    expect(classifyRequest('GET', `${S}/api/v1/pods`, '/other')).toEqual({ verb: 'list', group: '', resource: 'pods', subresource: '' });
  });

  it('calls an unparseable URL a non-resource request instead of throwing', () => {
    expect(classifyRequest('GET', 'http://[broken')).toEqual({ verb: 'get', group: '', resource: '', subresource: '' });
  });
});

function tokenKubeConfig(server = S): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

describe('countingKubeConfig', () => {
  it('observes each request with its classification and still authenticates it', async () => {
    const kc = tokenKubeConfig();
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(kc, (r) => seen.push(r));
    const ctx = new k8s.RequestContext(`${S}/api/v1/namespaces/demo/pods?watch=true`, k8s.HttpMethod.GET);
    await counted.applySecurityAuthentication(ctx);
    expect(seen).toEqual([{ verb: 'watch', group: '', resource: 'pods', subresource: '' }]);
    expect(ctx.getHeaders()['Authorization']).toBe('Bearer secret-token');
  });

  it('is a view: the original KubeConfig is unchanged and its own requests are not observed', async () => {
    const kc = tokenKubeConfig();
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(kc, (r) => seen.push(r));
    expect(counted).toBeInstanceOf(k8s.KubeConfig);
    expect(counted.getCurrentCluster()?.server).toBe(S);
    expect(counted.getCurrentUser()?.name).toBe('u');
    await kc.applySecurityAuthentication(new k8s.RequestContext(`${S}/api/v1/pods`, k8s.HttpMethod.GET));
    expect(seen).toEqual([]);
    expect(Object.prototype.hasOwnProperty.call(kc, 'applySecurityAuthentication')).toBe(false);
  });

  it('counts in every layer when views are nested, and each operator only its own', async () => {
    const kc = tokenKubeConfig();
    const outer: string[] = [];
    const inner: string[] = [];
    const a = countingKubeConfig(kc, (r) => outer.push(r.verb));
    const b = countingKubeConfig(a, (r) => inner.push(r.verb));
    const c = countingKubeConfig(kc, () => {
      throw new Error('observers must not break requests');
    });
    await b.applySecurityAuthentication(new k8s.RequestContext(`${S}/api/v1/pods`, k8s.HttpMethod.GET));
    await c.applySecurityAuthentication(new k8s.RequestContext(`${S}/api/v1/pods`, k8s.HttpMethod.POST));
    expect(inner).toEqual(['list']);
    expect(outer).toEqual(['list']);
  });

  it('passes the server path prefix to the classification', async () => {
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(tokenKubeConfig('https://proxy.example/k8s/c1'), (r) => seen.push(r));
    await counted.applySecurityAuthentication(new k8s.RequestContext('https://proxy.example/k8s/c1/apis/apps/v1/deployments', k8s.HttpMethod.GET));
    expect(seen).toEqual([{ verb: 'list', group: 'apps', resource: 'deployments', subresource: '' }]);
  });

  it('is what API clients built from it use for every call', async () => {
    const seen: ApiRequestInfo[] = [];
    const counted = countingKubeConfig(tokenKubeConfig('http://127.0.0.1:1'), (r) => seen.push(r));
    const core = counted.makeApiClient(k8s.CoreV1Api);
    // Nothing listens on port 1: the request fails after it was authenticated (and counted).
    await expect(core.readNamespacedPod({ name: 'x', namespace: 'demo' })).rejects.toThrow();
    expect(seen).toEqual([{ verb: 'get', group: '', resource: 'pods', subresource: '' }]);
  });
});
