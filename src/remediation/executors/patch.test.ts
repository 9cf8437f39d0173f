import { PatchStrategy } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isExecutorError } from '../errors.js';
import {
  buildJsonPatch,
  compilePatch,
  diffJson,
  diffObjects,
  escapePointerToken,
  findJsonPatchFailure,
  formatPath,
  parsePatchDocument,
  stableStringify,
  toJsonPointer,
  withResourceVersion,
} from './patch.js';

function invalid(f: () => unknown): string {
  try {
    f();
  } catch (e: unknown) {
    if (isExecutorError(e, 'Invalid')) return e.message;
    throw e;
  }
  throw new Error('expected an Invalid ExecutorError');
}

describe('JSON pointers', () => {
  it.each([
    [['spec', 'replicas'], '/spec/replicas'],
    [['spec', 'template', 'spec', 'containers', '0', 'image'], '/spec/template/spec/containers/0/image'],
    [['metadata', 'annotations', 'kubectl.kubernetes.io/restartedAt'], '/metadata/annotations/kubectl.kubernetes.io~1restartedAt'],
    [['metadata', 'labels', 'a~b/c'], '/metadata/labels/a~0b~1c'],
    ['/spec/replicas', '/spec/replicas'],
    ['/metadata/annotations/a~1b', '/metadata/annotations/a~1b'],
  ] as const)('builds %j into %s', (path, pointer) => {
    expect(toJsonPointer(path)).toBe(pointer);
  });

  it('accepts array indexes given as numbers in a key list', () => {
    expect(toJsonPointer(['spec', 'containers', 0, 'env', '-'])).toBe('/spec/containers/0/env/-');
  });

  it('escapes ~ before / so "~1" in a key is not read back as "/"', () => {
    expect(escapePointerToken('~1')).toBe('~01');
  });

  it.each([
    ['spec.replicas', 'must start with "/"'],
    ['/a/~2', 'not followed by 0 or 1'],
    [[], 'empty list'],
    [['spec', ''], 'non-empty string'],
    [['spec', -1], 'non-empty string or an array index'],
    [42, 'JSON pointer string or a list of keys'],
  ] as const)('refuses %j', (path, message) => {
    expect(invalid(() => toJsonPointer(path))).toContain(message);
  });
});

describe('buildJsonPatch', () => {
  it('defaults op to replace, converts key lists, and keeps remove without a value', () => {
    expect(
      buildJsonPatch([
        { path: ['spec', 'replicas'], value: 3 },
        { op: 'add', path: '/metadata/labels/x', value: 'y' },
        { op: 'remove', path: ['metadata', 'annotations', 'a/b'] },
      ]),
    ).toEqual([
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/x', value: 'y' },
      { op: 'remove', path: '/metadata/annotations/a~1b' },
    ]);
  });

  it('names the failing entry', () => {
    expect(invalid(() => buildJsonPatch([{ path: '/a', value: 1 }, { op: 'add', path: '/b' }]))).toBe('patches[1]: add needs a value');
    expect(invalid(() => buildJsonPatch([{ op: 'remove', path: '/a', value: 1 }]))).toBe('patches[0]: remove takes no value');
    expect(invalid(() => buildJsonPatch([{ path: 'a.b', value: 1 }]))).toContain('patches[0]: patch path "a.b"');
  });
});

describe('parsePatchDocument and compilePatch', () => {
  it('reads YAML and JSON documents for merge and strategic patches', () => {
    expect(parsePatchDocument('spec:\n  replicas: 3\n', 'strategic')).toEqual({ spec: { replicas: 3 } });
    expect(parsePatchDocument('{"spec": {"replicas": 3}}', 'merge')).toEqual({ spec: { replicas: 3 } });
  });

  it('reads a list of operations for a json patch, checking each pointer', () => {
    expect(parsePatchDocument('- op: replace\n  path: /spec/replicas\n  value: 2\n', 'json')).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    expect(invalid(() => parsePatchDocument('[{"op":"replace","path":"spec"}]', 'json'))).toContain('must start with "/"');
    expect(invalid(() => parsePatchDocument('[{"op":"frobnicate","path":"/a"}]', 'json'))).toContain('patch[0] needs an op');
  });

  it('refuses a document of the wrong shape or syntax', () => {
    expect(invalid(() => parsePatchDocument('spec: {replicas: 3}', 'json'))).toBe('a json patch must be a list of operations');
    expect(invalid(() => parsePatchDocument('- a\n- b\n', 'merge'))).toContain('must be a mapping');
    expect(invalid(() => parsePatchDocument('"just a string"', 'strategic'))).toContain('must be a mapping');
    expect(invalid(() => parsePatchDocument('spec: [unclosed', 'merge'))).toContain('neither valid YAML nor JSON');
  });

  it('maps each type to its Content-Type; a patches list is always a JSON patch', () => {
    expect(compilePatch({ type: 'strategic', patch: 'a: 1' }).patchType).toBe(PatchStrategy.StrategicMergePatch);
    expect(compilePatch({ type: 'merge', patch: 'a: 1' }).patchType).toBe(PatchStrategy.MergePatch);
    expect(compilePatch({ type: 'json', patch: '[]' }).patchType).toBe(PatchStrategy.JsonPatch);
    const list = compilePatch({ type: 'strategic', patches: [{ path: ['a'], value: 1 }] });
    expect(list.patchType).toBe(PatchStrategy.JsonPatch);
    expect(list.source).toBe('patches list as a JSON patch');
  });

  it('needs exactly one of patch and patches', () => {
    expect(invalid(() => compilePatch({ type: 'merge' }))).toContain('exactly one');
    expect(invalid(() => compilePatch({ type: 'merge', patch: 'a: 1', patches: [{ path: '/a', value: 1 }] }))).toContain('exactly one');
    expect(invalid(() => compilePatch(undefined))).toContain('needs patchAction');
  });
});

describe('withResourceVersion', () => {
  it('sets metadata.resourceVersion in merge documents, keeping other metadata', () => {
    expect(withResourceVersion(PatchStrategy.MergePatch, { metadata: { labels: { a: 'b' } }, spec: {} }, '42')).toEqual({
      metadata: { labels: { a: 'b' }, resourceVersion: '42' },
      spec: {},
    });
  });

  it('prepends a replace of /metadata/resourceVersion to a JSON patch (409 when stale, not 422 like a test op)', () => {
    expect(withResourceVersion(PatchStrategy.JsonPatch, [{ op: 'remove', path: '/a' }], '7')).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '7' },
      { op: 'remove', path: '/a' },
    ]);
  });
});

describe('formatPath', () => {
  it('uses dots for identifiers, brackets for indexes and quoted keys', () => {
    expect(formatPath(['spec', 'template', 'spec', 'containers', 0, 'env'])).toBe('spec.template.spec.containers[0].env');
    expect(formatPath(['metadata', 'annotations', 'kubectl.kubernetes.io/restartedAt'])).toBe('metadata.annotations["kubectl.kubernetes.io/restartedAt"]');
    expect(formatPath(['metadata', 'labels', 'app-name'])).toBe('metadata.labels["app-name"]');
    expect(formatPath([])).toBe('');
  });
});

describe('diffJson', () => {
  it('reports nothing for equal values regardless of key order', () => {
    expect(diffJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('reports changed leaves with their paths, in sorted key order', () => {
    expect(diffJson({ spec: { replicas: 1, paused: false } }, { spec: { replicas: 3, paused: true } })).toEqual([
      { field: 'spec.paused', old: 'false', new: 'true' },
      { field: 'spec.replicas', old: '1', new: '3' },
    ]);
  });

  it('reports an added array whole, and an added map key by key', () => {
    const before = { spec: { containers: [{ name: 'app' }] }, metadata: {} };
    const after = { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: '1' }] }] }, metadata: { annotations: { 'x/y': 'z' } } };
    expect(diffJson(before, after)).toEqual([
      { field: 'metadata.annotations["x/y"]', new: 'z' },
      { field: 'spec.containers[0].env', new: '[{"name":"A","value":"1"}]' },
    ]);
  });

  it('reports removed values with old only, array elements by index', () => {
    expect(diffJson({ a: [1, 2, 3], b: 'x' }, { a: [1, 3] })).toEqual([
      { field: 'a[1]', old: '2', new: '3' },
      { field: 'a[2]', old: '3' },
      { field: 'b', old: 'x' },
    ]);
  });

  it('reports a type change whole and a root change as (root)', () => {
    expect(diffJson({ a: { b: 1 } }, { a: 'flat' })).toEqual([{ field: 'a', old: '{"b":1}', new: 'flat' }]);
    expect(diffJson(1, 2)).toEqual([{ field: '(root)', old: '1', new: '2' }]);
  });

  it('skips ignored subtrees and cuts long values', () => {
    const changes = diffJson({ metadata: { resourceVersion: '1' }, status: { x: 1 }, v: 'a' }, { metadata: { resourceVersion: '2' }, status: { x: 2 }, v: 'b'.repeat(20) }, {
      ignore: ['metadata.resourceVersion', 'status'],
      maxValueLength: 5,
    });
    expect(changes).toEqual([{ field: 'v', old: 'a', new: 'bbbb…' }]);
  });

  it('diffObjects ignores volatile metadata and status, and normalises model instances', () => {
    const before = { metadata: { resourceVersion: '1', generation: 1, creationTimestamp: new Date(0) }, spec: { replicas: 1 }, status: { readyReplicas: 1 } };
    const after = { metadata: { resourceVersion: '2', generation: 2, creationTimestamp: new Date(0) }, spec: { replicas: 2 }, status: { readyReplicas: 2 } };
    expect(diffObjects(before, after)).toEqual([{ field: 'spec.replicas', old: '1', new: '2' }]);
  });

  it('renders with sorted keys so the output is deterministic', () => {
    expect(stableStringify({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });
});

describe('findJsonPatchFailure', () => {
  const doc = { metadata: { name: 'web' }, spec: { replicas: 1, containers: [{ name: 'app' }] } };

  it('finds nothing wrong with operations that apply', () => {
    expect(
      findJsonPatchFailure(doc, [
        { op: 'add', path: '/metadata/labels', value: {} },
        { op: 'add', path: '/metadata/labels/team', value: 'a' },
        { op: 'replace', path: '/spec/replicas', value: 2 },
        { op: 'test', path: '/spec/replicas', value: 2 },
        { op: 'add', path: '/spec/containers/-', value: { name: 'b' } },
        { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/0' },
        { op: 'remove', path: '/spec/containers/1' },
        { op: 'move', from: '/metadata/labels', path: '/metadata/annotations' },
      ]),
    ).toBeUndefined();
  });

  it.each([
    [{ op: 'add', path: '/metadata/labels/team', value: 'a' }, 'operation 0 (add /metadata/labels/team): /metadata/labels does not exist'],
    [{ op: 'replace', path: '/spec/paused', value: true }, '/spec/paused does not exist'],
    [{ op: 'remove', path: '/spec/containers/3' }, '/spec/containers/3 does not exist'],
    [{ op: 'add', path: '/spec/containers/5', value: {} }, 'array index 5 is out of range (length 1)'],
    [{ op: 'test', path: '/spec/replicas', value: 2 }, 'the value is 1, not 2'],
    [{ op: 'move', from: '/nope', path: '/x' }, 'from /nope does not exist'],
  ] as const)('explains %j', (op, why) => {
    expect(findJsonPatchFailure(doc, [op])).toContain(why);
  });

  it('does not modify the document it checks', () => {
    const copy = structuredClone(doc);
    findJsonPatchFailure(doc, [{ op: 'replace', path: '/spec/replicas', value: 9 }]);
    expect(doc).toEqual(copy);
  });
});
