import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeError } from '../k8s/errors.js';
import { silentLogger } from '../observability/logger.js';
import { createControlPublisher } from './publisher.js';
import { formatOperatorState, OPERATOR_STATE_ANNOTATION, type OperatorState } from './switch.js';

const STATE: OperatorState = {
  identity: 'op-a',
  version: '0.1.0',
  since: '2026-03-01T10:00:00Z',
  dryRun: true,
  configPaused: false,
  maxActionsPerHour: 30,
  aiMaxActionsPerHour: 10,
  policyBreaker: { failureThreshold: 3, openSeconds: 600 },
  globalBreaker: { failureRate: 0.5, minActions: 5, windowSeconds: 900, openSeconds: 600 },
};

function setup(initial: k8s.V1ConfigMap | undefined) {
  let cm = initial;
  const writes: string[] = [];
  let fail: Error | undefined;
  const publisher = createControlPublisher({
    state: STATE,
    logger: silentLogger,
    current: () => cm,
    patchAnnotation: (value) => {
      if (fail !== undefined) return Promise.reject(fail);
      writes.push(value);
      cm = { ...cm, metadata: { ...cm?.metadata, annotations: { [OPERATOR_STATE_ANNOTATION]: value } } };
      return Promise.resolve();
    },
  });
  return { publisher, writes, set: (next: k8s.V1ConfigMap | undefined) => (cm = next), failWith: (e: Error | undefined) => (fail = e) };
}

describe('the operator-state publisher', () => {
  it('writes nothing before the manager starts it (only the leader reports)', async () => {
    const { publisher, writes } = setup({ metadata: { name: 'kubeskippy-control' } });
    await publisher.sync();
    expect(writes).toEqual([]);
  });

  it('reports once when started, and not again while the report is current', async () => {
    const { publisher, writes } = setup({ metadata: { name: 'kubeskippy-control' } });
    publisher.start();
    await publisher.sync();
    await publisher.sync();
    expect(writes).toEqual([formatOperatorState(STATE)]);
  });

  it('waits for the ConfigMap to exist, then reports', async () => {
    const { publisher, writes, set } = setup(undefined);
    publisher.start();
    await publisher.sync();
    expect(writes).toEqual([]);
    set({ metadata: { name: 'kubeskippy-control' } });
    await publisher.sync();
    expect(writes).toHaveLength(1);
  });

  it('leaves another replica\'s report alone', async () => {
    const other = formatOperatorState({ ...STATE, identity: 'op-b' });
    const { publisher, writes } = setup({ metadata: { name: 'kubeskippy-control', annotations: { [OPERATOR_STATE_ANNOTATION]: other } } });
    publisher.start();
    await publisher.sync();
    expect(writes).toEqual([]);
  });

  it('survives a failed write and tries again at the next sync; stops reporting once stopped', async () => {
    const { publisher, writes, failWith } = setup({ metadata: { name: 'kubeskippy-control' } });
    failWith(new KubeError('Forbidden', 'no', { status: 403 }));
    publisher.start();
    await publisher.sync();
    expect(writes).toEqual([]);
    failWith(undefined);
    await publisher.stop();
    await publisher.sync();
    expect(writes).toEqual([]);
  });
});
