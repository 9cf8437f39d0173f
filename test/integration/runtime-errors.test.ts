/**
 * Error mapping against the real API server: the Status bodies it really sends become the typed errors the
 * operator branches on (NotFound, AlreadyExists, Conflict, Invalid with field causes, BadRequest for a bad MicroTime).
 */
import * as k8s from '@kubernetes/client-node';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKubeError, isAlreadyExists, isConflict, isNotFound, toKubeError } from '../../src/k8s/errors.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../support/cluster.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('Kubernetes error mapping on the real API server', () => {
  let ns = '';
  beforeAll(async () => {
    ns = await createTestNamespace(kc, 'rt-errors');
  });
  afterAll(async () => {
    await deleteTestNamespace(kc, ns);
  });

  it('maps a missing object to NotFound with the server message', async () => {
    const e = await failure(() => core.readNamespacedConfigMap({ name: 'absent', namespace: ns }));
    expect(isNotFound(e)).toBe(true);
    expect(describeKubeError(e)).toBe('NotFound (404): configmaps "absent" not found');
  });

  it('tells AlreadyExists from Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' }, data: { v: '1' } } });
    const exists = await failure(() => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' } } }));
    expect(isAlreadyExists(exists)).toBe(true);
    expect(isConflict(exists)).toBe(false);
    await core.replaceNamespacedConfigMap({ name: 'dup', namespace: ns, body: { ...cm, data: { v: '2' } } });
    const stale = await failure(() => core.replaceNamespacedConfigMap({ name: 'dup', namespace: ns, body: { ...cm, data: { v: '3' } } }));
    expect(isConflict(stale)).toBe(true);
    expect(toKubeError(stale).message).toMatch(/the object has been modified/);
  });

  it('extracts field causes from an Invalid (422)', async () => {
    const e = toKubeError(await failure(() => core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Not_Valid' } } })));
    expect(e.code).toBe('Invalid');
    expect(e.status).toBe(422);
    expect(e.causes.some((c) => c.field === 'metadata.name')).toBe(true);
    expect(describeKubeError(e)).toMatch(/^Invalid \(422\): ConfigMap "Not_Valid" is invalid: metadata\.name/);
  });

  it('rejects a Lease renewTime without six fractional digits as BadRequest, and accepts V1MicroTime', async () => {
    const spec = { holderIdentity: 'x', renewTime: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 123)) };
    const e = toKubeError(await failure(() => coordination.createNamespacedLease({ namespace: ns, body: { metadata: { name: 'plain-date' }, spec } })));
    expect(e.code).toBe('BadRequest');
    const ok = await coordination.createNamespacedLease({
      namespace: ns,
      body: { metadata: { name: 'micro' }, spec: { holderIdentity: 'x', renewTime: new k8s.V1MicroTime(Date.UTC(2026, 0, 1, 0, 0, 0, 123)) } },
    });
    expect(String(ok.spec?.renewTime)).toBe('2026-01-01T00:00:00.123000Z');
  });

  it('maps a refused connection to Unavailable', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = new k8s.KubeConfig();
    dead.loadFromOptions({
      clusters: [{ name: 'dead', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'dead', cluster: 'dead', user: 'u' }],
      currentContext: 'dead',
    });
    const e = toKubeError(await failure(() => dead.makeApiClient(k8s.CoreV1Api).listNamespace()));
    expect(e.code).toBe('Unavailable');
    expect(e.reason).toBe('ECONNREFUSED');
  });
});
