import { describe, expect, it } from 'vitest';
import type { TargetRef } from '../../metrics/types.js';
import { clearanceSubject } from './verify-trigger.js';

const pod = (name: string): TargetRef => ({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name });
const deployment: TargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'web' };
const observedOnly =
  (...refs: TargetRef[]) =>
  (r: TargetRef): boolean =>
    refs.some((x) => x.kind === r.kind && x.name === r.name);

describe('clearanceSubject', () => {
  it("re-checks a replaced pod's trigger on its replacement, not on the workload's aggregate over all its pods", () => {
    expect(clearanceSubject(pod('web-1'), deployment, pod('web-3'), observedOnly(pod('web-1'), pod('web-3'), deployment))).toEqual({ kind: 'observe', ref: pod('web-3') });
  });

  it('waits for the first observation of the replacement instead of calling the trigger cleared', () => {
    expect(clearanceSubject(pod('web-1'), deployment, pod('web-3'), observedOnly(deployment))).toEqual({
      kind: 'pending',
      message: 'no observations of the replacement Pod/web-3 yet',
    });
  });

  it('re-checks the target itself while it is observed (a workload target, or a pod that was not replaced)', () => {
    expect(clearanceSubject(deployment, deployment, undefined, observedOnly(deployment))).toEqual({ kind: 'observe', ref: deployment });
    expect(clearanceSubject(pod('web-1'), deployment, undefined, observedOnly(pod('web-1'), deployment))).toEqual({ kind: 'observe', ref: pod('web-1') });
  });

  it("falls back to the workload for a pod that a rollout replaced (single-replica restart, rollback)", () => {
    expect(clearanceSubject(pod('web-1'), deployment, undefined, observedOnly(deployment))).toEqual({ kind: 'observe', ref: deployment });
  });

  it('never treats a workload without observations as cleared (right after an operator restart)', () => {
    expect(clearanceSubject(deployment, deployment, undefined, observedOnly())).toEqual({ kind: 'pending', message: 'no observations of Deployment/web yet' });
    expect(clearanceSubject(pod('web-1'), deployment, undefined, observedOnly())).toEqual({ kind: 'pending', message: 'no observations of Deployment/web yet' });
  });

  it('has nothing to re-check for a bare pod that is gone', () => {
    expect(clearanceSubject(pod('lonely'), undefined, undefined, observedOnly())).toEqual({ kind: 'gone', message: 'Pod/lonely is gone; nothing left to re-check' });
  });
});
