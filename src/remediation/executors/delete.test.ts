import { describe, expect, it } from 'vitest';
import { isExecutorError } from '../errors.js';
import type { ExecutionContext, ExecutionRequest, ExecutorDeps } from '../types.js';
import { DeleteExecutor, deleteOptions } from './delete.js';

const ctx: ExecutionContext = { now: 0, signal: new AbortController().signal };

/** Clients that record every method touched and fail the test if anything is called. */
function untouchable(): { deps: ExecutorDeps; touched: string[] } {
  const touched: string[] = [];
  const client = new Proxy(
    {},
    {
      get: (_t, prop) => (): Promise<never> => {
        touched.push(String(prop));
        return Promise.reject(new Error(`unexpected API call ${String(prop)}`));
      },
    },
  );
  return { deps: { core: client, apps: client } as unknown as ExecutorDeps, touched };
}

const req = (kind: string, namespace: string): ExecutionRequest => ({
  target: { apiVersion: kind === 'Namespace' || kind === 'Node' || kind === 'PersistentVolume' ? 'v1' : 'apps/v1', kind, namespace, name: 'x' },
  action: { name: 'd', type: 'delete', deleteAction: { force: true } },
  dryRun: false,
});

describe('DeleteExecutor refusals', () => {
  it.each([
    ['Namespace', ''],
    ['Namespace', 'x'],
    ['Node', ''],
    ['PersistentVolume', ''],
    ['ClusterRole', ''],
    ['ConfigMap', 'ns'],
    ['Deployment', ''],
  ])('refuses %s (namespace "%s") as Unsupported without any API call', async (kind, namespace) => {
    const { deps, touched } = untouchable();
    const executor = new DeleteExecutor(deps);
    expect(executor.validate(req(kind, namespace)).length).toBeGreaterThan(0);
    for (const run of [() => executor.plan(req(kind, namespace), ctx), () => executor.execute(req(kind, namespace), ctx)]) {
      const e: unknown = await run().catch((err: unknown) => err);
      expect(isExecutorError(e, 'Unsupported'), String(e)).toBe(true);
    }
    expect(touched).toEqual([]);
  });
});

describe('deleteOptions', () => {
  it('defaults to Background propagation and pins uid and resourceVersion', () => {
    expect(deleteOptions(undefined, 'u', '5', false)).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: 'u', resourceVersion: '5' },
      propagationPolicy: 'Background',
    });
  });

  it('uses grace 0 for force, over any gracePeriodSeconds', () => {
    expect(deleteOptions({ force: true, gracePeriodSeconds: 30 }, 'u', '5', false).gracePeriodSeconds).toBe(0);
    expect(deleteOptions({ gracePeriodSeconds: 30, propagationPolicy: 'Foreground' }, 'u', '5', false)).toMatchObject({ gracePeriodSeconds: 30, propagationPolicy: 'Foreground' });
  });

  it('puts dryRun in the body, where the API server reads it when a body is sent', () => {
    expect(deleteOptions({ propagationPolicy: 'Orphan' }, 'u', '5', true)).toMatchObject({ dryRun: ['All'], propagationPolicy: 'Orphan' });
  });
});
