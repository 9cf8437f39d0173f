import { describe, expect, it } from 'vitest';
import {
  revisionOf,
  rollbackAnnotations,
  rollbackPatch,
  rollbackTemplate,
  selectRollbackRevision,
  templatesEqualIgnoringHash,
  templatesEqualIgnoringRestart,
  type RevisionCandidate,
} from './rollback.js';

const rs = (name: string, revision: number): RevisionCandidate => ({ name, uid: `uid-${name}`, revision });

describe('selectRollbackRevision', () => {
  it('picks the second-highest revision when none is requested (kubectl rollout undo)', () => {
    const s = selectRollbackRevision([rs('a', 1), rs('c', 3), rs('b', 2)]);
    expect(s).toEqual({ ok: true, candidate: rs('b', 2) });
    expect(selectRollbackRevision([rs('a', 1), rs('c', 3), rs('b', 2)], 0)).toEqual(s);
  });

  it('skips gaps in the history', () => {
    expect(selectRollbackRevision([rs('a', 2), rs('b', 7)])).toEqual({ ok: true, candidate: rs('a', 2) });
  });

  it('passes over revisions that only differ from the current one by a rollout restart (restart, then roll back)', () => {
    const restart = (name: string, revision: number): RevisionCandidate => ({ ...rs(name, revision), restartOfCurrent: true });
    // 1 healthy, 2 the bad release, 3 = 2 + restartedAt (the restart rung): back to 1, not to 2.
    expect(selectRollbackRevision([rs('a', 1), restart('b', 2), restart('c', 3)])).toEqual({ ok: true, candidate: rs('a', 1) });
    // An explicit request is honoured as given.
    expect(selectRollbackRevision([rs('a', 1), restart('b', 2), restart('c', 3)], 2)).toEqual({ ok: true, candidate: restart('b', 2) });
    expect(selectRollbackRevision([restart('b', 2), restart('c', 3)])).toEqual({
      ok: false,
      reason: 'no previous revision to roll back to: revisions 2 differ from the current template only by a rollout restart',
    });
  });

  it('picks exactly the requested revision', () => {
    expect(selectRollbackRevision([rs('a', 1), rs('b', 2), rs('c', 3)], 1)).toEqual({ ok: true, candidate: rs('a', 1) });
  });

  it('says why when there is nothing to return to', () => {
    expect(selectRollbackRevision([])).toEqual({ ok: false, reason: expect.stringContaining('no rollout history') as unknown });
    expect(selectRollbackRevision([rs('a', 1)])).toEqual({ ok: false, reason: 'no previous revision to roll back to (only revision 1 exists)' });
    expect(selectRollbackRevision([rs('a', 1), rs('b', 3)], 2)).toEqual({ ok: false, reason: 'revision 2 is not in the rollout history (revisions: 1, 3)' });
  });
});

describe('revisionOf', () => {
  it('reads the revision annotation, ignoring garbage', () => {
    expect(revisionOf({ 'deployment.kubernetes.io/revision': '12' })).toBe(12);
    expect(revisionOf({ 'deployment.kubernetes.io/revision': 'x1' })).toBeUndefined();
    expect(revisionOf(undefined)).toBeUndefined();
  });
});

describe('rollback template and annotations', () => {
  const template = {
    metadata: { labels: { app: 'web', 'pod-template-hash': 'abc123' }, annotations: { a: 'b' } },
    spec: { containers: [{ name: 'app', image: 'app:2' }] },
  };

  it('drops the pod-template-hash label and keeps everything else', () => {
    expect(rollbackTemplate(template)).toEqual({
      metadata: { labels: { app: 'web' }, annotations: { a: 'b' } },
      spec: { containers: [{ name: 'app', image: 'app:2' }] },
    });
  });

  it('compares templates ignoring the hash label', () => {
    const same = { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'app', image: 'app:2' }] } };
    expect(templatesEqualIgnoringHash(template, same)).toBe(true);
    expect(templatesEqualIgnoringHash(template, { ...same, spec: { containers: [{ name: 'app', image: 'app:3' }] } })).toBe(false);
  });

  it('tells a rollout restart apart from a real change of the template', () => {
    const restarted = { ...template, metadata: { ...template.metadata, annotations: { a: 'b', 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } } };
    expect(templatesEqualIgnoringHash(template, restarted)).toBe(false);
    expect(templatesEqualIgnoringRestart(template, restarted)).toBe(true);
    expect(templatesEqualIgnoringRestart(restarted, { ...restarted, spec: { containers: [{ name: 'app', image: 'app:3' }] } })).toBe(false);
    const bare = { metadata: { labels: { app: 'web' } }, spec: template.spec };
    expect(templatesEqualIgnoringRestart(bare, { ...bare, metadata: { ...bare.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': 'x' } } })).toBe(true);
  });

  it("keeps the Deployment's rollout bookkeeping annotations and takes the rest from the ReplicaSet", () => {
    const deployment = { 'deployment.kubernetes.io/revision': '3', team: 'new', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const replicaSet = { 'deployment.kubernetes.io/revision': '2', 'deployment.kubernetes.io/desired-replicas': '2', team: 'old', extra: 'x' };
    expect(rollbackAnnotations(deployment, replicaSet)).toEqual({
      'deployment.kubernetes.io/revision': '3',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      team: 'old',
      extra: 'x',
    });
  });

  it('builds the JSON patch with the resourceVersion precondition first', () => {
    const ops = rollbackPatch(
      { metadata: { annotations: { 'deployment.kubernetes.io/revision': '3' } } },
      { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } }, spec: { selector: {}, template } },
      '99',
    );
    expect(ops).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '99' },
      { op: 'replace', path: '/spec/template', value: rollbackTemplate(template) },
      { op: 'add', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '3' } },
    ]);
  });
});
