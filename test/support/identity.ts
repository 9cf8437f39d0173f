/**
 * Real identities for RBAC and admission tests: a ServiceAccount's token from the TokenRequest API, made into a
 * KubeConfig for the same API server. The API server authenticates such a request exactly as it would a pod's,
 * so what RBAC and admission do to it is what they do in production — no impersonation, no SubjectAccessReview
 * standing in for the real thing.
 */
import * as k8s from '@kubernetes/client-node';
import { apiRequest, statusMessage } from './api-server.js';

/** A ServiceAccount that tests act as. */
export interface TestIdentity {
  /** The username the API server authenticates it as: system:serviceaccount:<namespace>:<name>. */
  readonly username: string;
  readonly namespace: string;
  readonly name: string;
  /** A KubeConfig with the ServiceAccount's bearer token, against the same server and CA as the admin's. */
  readonly kubeConfig: k8s.KubeConfig;
}

/**
 * A KubeConfig that authenticates with `token` against the current cluster of `admin` (server, CA and TLS settings
 * copied; the admin's client certificate is not).
 */
export function kubeConfigWithToken(admin: k8s.KubeConfig, token: string, userName: string): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: userName, token }],
    contexts: [{ name: userName, cluster: cluster.name, user: userName }],
    currentContext: userName,
  });
  return kc;
}

/**
 * Asks the TokenRequest API (POST .../serviceaccounts/<name>/token) for a bound token of an existing ServiceAccount,
 * valid `expirationSeconds` (the server's minimum is 600). Throws with the server's message on failure.
 */
export async function requestToken(admin: k8s.KubeConfig, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const res = await apiRequest(admin, {
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name} failed (${res.status}): ${statusMessage(res)}`);
  const token = (res.body as { status?: { token?: string } }).status?.token ?? '';
  if (token === '') throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** Creates ServiceAccount `name` in `namespace` (it may already exist) and returns it as a {@link TestIdentity}. */
export async function createIdentity(admin: k8s.KubeConfig, namespace: string, name: string): Promise<TestIdentity> {
  const res = await apiRequest(admin, {
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating ServiceAccount ${namespace}/${name} failed (${res.status}): ${statusMessage(res)}`);
  const username = `system:serviceaccount:${namespace}:${name}`;
  return { username, namespace, name, kubeConfig: kubeConfigWithToken(admin, await requestToken(admin, namespace, name), username) };
}

/** Who the API server says `kc` is (SelfSubjectReview): username and groups. */
export async function whoAmI(kc: k8s.KubeConfig): Promise<{ username: string; groups: string[] }> {
  const res = await apiRequest(kc, {
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  if (res.status !== 201) throw new Error(`SelfSubjectReview failed (${res.status}): ${statusMessage(res)}`);
  const info = (res.body as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status?.userInfo ?? {};
  return { username: info.username ?? '', groups: info.groups ?? [] };
}
