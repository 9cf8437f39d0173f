import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { INVALID_POLICY_CASES, SEED_CRASHLOOP_YAML, VALID_POLICY_CASES } from '../../test/support/policy-cases.js';
import { ExitCode, main } from './main.js';
import { UsageError, validateCommand, validateYaml, type ValidateFs } from './validate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** An in-memory file system: paths ending in "/" are directories listing the files under them. */
function memoryFs(files: Record<string, string>): ValidateFs {
  return {
    readFile: (file) => {
      const text = files[file];
      return text === undefined
        ? Promise.reject(Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' }))
        : Promise.resolve(text);
    },
    readDir: (p) => {
      if (files[p] !== undefined) return Promise.resolve(undefined);
      const prefix = p.endsWith('/') ? p : `${p}/`;
      const entries = Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
      return entries.length > 0
        ? Promise.resolve(entries)
        : Promise.reject(Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' }));
    },
  };
}

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

const BAD_POLICY = `apiVersion: kubeskippy.io/v1alpha1
kind: HealingPolicy
metadata:
  name: bad
spec:
  selector:
    labelSelector:
      matchLabels: {app: web}
  triggers:
  - name: high-memory
    type: webhook
`;

describe('validateYaml', () => {
  it('accepts the seed crashloop policy with no problem at all', () => {
    expect(validateYaml('seed.yaml', SEED_CRASHLOOP_YAML)).toEqual({ objects: 1, problems: [] });
  });

  it('locates a wrong value at its key, and a missing field at its parent', () => {
    const { problems } = validateYaml('bad.yaml', BAD_POLICY);
    expect(problems).toContainEqual(
      expect.objectContaining({ file: 'bad.yaml', line: 11, col: 5, severity: 'error', path: 'spec.triggers[0].type' }),
    );
    // spec.actions is missing: reported where spec starts.
    expect(problems).toContainEqual(expect.objectContaining({ line: 5, col: 1, path: 'spec.actions', message: 'Required value' }));
  });

  it('points at the regular expression that does not compile, with Go\'s explanation', () => {
    const text = SEED_CRASHLOOP_YAML.replace(
      / {2}- name: high-restart-count[\s\S]*?threshold: 3\n/,
      '  - name: backoff\n    type: event\n    eventTrigger:\n      reason: "Back(Off"\n',
    );
    const { problems } = validateYaml('re.yaml', text);
    expect(problems).toEqual([
      expect.objectContaining({
        line: 14,
        col: 7,
        path: 'spec.triggers[0].eventTrigger.reason',
        message: expect.stringContaining('missing closing )') as unknown,
      }),
    ]);
  });

  it('checks every document, skips empty ones, and reports unknown kinds as errors', () => {
    const text = `${SEED_CRASHLOOP_YAML}---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n`;
    const { objects, problems } = validateYaml('multi.yaml', text);
    expect(objects).toBe(1);
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'error', path: 'kind', line: 23, col: 1, message: expect.stringMatching(/unknown kind "ConfigMap"/) as unknown }),
    ]);
  });

  it('validates the items of a List with their full path', () => {
    const list = stringify({ apiVersion: 'v1', kind: 'List', items: [parseYaml(SEED_CRASHLOOP_YAML), parseYaml(BAD_POLICY)] });
    const { objects, problems } = validateYaml('list.yaml', list);
    expect(objects).toBe(2);
    expect(problems.map((p) => p.path)).toEqual(['items[1].spec.actions', 'items[1].spec.triggers[0].type']);
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    const { problems } = validateYaml('syntax.yaml', 'kind: HealingPolicy\nkind: HealingPolicy\n');
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', line: 2, col: 1, message: expect.stringMatching(/^invalid YAML: .*unique/) as unknown })]);
  });

  it('reads yes/no as booleans, as kubectl does', () => {
    const text = SEED_CRASHLOOP_YAML.replace('    type: restart\n', '    type: restart\n    requiresApproval: yes\n');
    expect(validateYaml('bool.yaml', text).problems).toEqual([]);
  });

  it('validates HealingActions too', () => {
    const action = `apiVersion: kubeskippy.io/v1alpha1
kind: HealingAction
metadata:
  name: crashloop-healing-restart-xyz123
spec:
  policyRef: {name: crashloop-pod-healing}
  targetResource: {apiVersion: v1, kind: Pod, name: my-app-pod-abc}
  action: {name: restart, type: restart}
`;
    expect(validateYaml('action.yaml', action)).toEqual({
      objects: 1,
      problems: [expect.objectContaining({ severity: 'error', line: 7, col: 3, path: 'spec.targetResource.namespace', message: 'Required value' })],
    });
  });

  it('reports a document that is not an object', () => {
    expect(validateYaml('scalar.yaml', 'just text\n').problems).toEqual([
      expect.objectContaining({ severity: 'error', line: 1, col: 1, message: expect.stringMatching(/expected a Kubernetes object/) as unknown }),
    ]);
  });

  it('gives the same verdict as the API server on every case of the shared table', () => {
    for (const c of VALID_POLICY_CASES) {
      const { problems } = validateYaml('case.yaml', stringify(c.policy));
      expect(problems.filter((p) => p.severity === 'error'), c.name).toEqual([]);
    }
    for (const c of INVALID_POLICY_CASES) {
      const { problems } = validateYaml('case.yaml', stringify(c.policy));
      expect(problems.filter((p) => p.severity === 'error').map((p) => p.path), c.name).toContain(c.field);
    }
    // The 10 000-trigger case is a 1 MB YAML file: parsing it takes seconds on a busy two-core machine.
  }, 60_000);
});

describe('validateCommand', () => {
  it('exits 0 with only a summary for clean files, and expands directories', async () => {
    const fs = memoryFs({ 'policies/a.yaml': SEED_CRASHLOOP_YAML, 'policies/b.yml': SEED_CRASHLOOP_YAML, 'policies/notes.txt': 'x' });
    const outcome = await validateCommand(['policies'], fs);
    expect(outcome).toEqual({ lines: ['2 files, 2 objects: 0 errors, 0 warnings'], code: 0, errors: 0, warnings: 0 });
  });

  it('prints FILE:LINE:COL: severity: field: message for each problem and exits 1 on an error', async () => {
    const outcome = await validateCommand(['bad.yaml'], memoryFs({ 'bad.yaml': BAD_POLICY }));
    expect(outcome.code).toBe(1);
    expect(outcome.lines).toEqual([
      'bad.yaml:5:1: error: spec.actions: Required value',
      'bad.yaml:11:5: error: spec.triggers[0].type: Unsupported value: "webhook": supported values: "metric", "event", "condition", "predictive"',
      '1 file, 1 object: 2 errors, 0 warnings',
    ]);
  });

  it('exits 0 when there are only warnings', async () => {
    const risky = SEED_CRASHLOOP_YAML.replace('      threshold: 3\n', '      threshold: 3\n    cooldownPeriod: 0s\n');
    const outcome = await validateCommand(['risky.yaml'], memoryFs({ 'risky.yaml': risky }));
    expect(outcome.code).toBe(0);
    expect(outcome.lines[0]).toBe(
      'risky.yaml:16:5: warning: spec.triggers[0].cooldownPeriod: no cooldown: the trigger may fire again on the same target right after an action',
    );
  });

  it('refuses to run without files, and names a file it cannot read, before printing anything', async () => {
    await expect(validateCommand([], memoryFs({}))).rejects.toBeInstanceOf(UsageError);
    await expect(validateCommand(['a.yaml', 'missing.yaml'], memoryFs({ 'a.yaml': BAD_POLICY }))).rejects.toThrow(
      'cannot read missing.yaml: no such file or directory',
    );
  });
});

describe('kubeskippy validate (the command line)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kubeskippy-validate-'));
    await writeFile(path.join(dir, 'good.yaml'), SEED_CRASHLOOP_YAML);
    await writeFile(path.join(dir, 'bad.yaml'), BAD_POLICY);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 for a valid file', async () => {
    const c = capture();
    expect(await main(['validate', path.join(dir, 'good.yaml')], c.io)).toBe(ExitCode.Ok);
    expect(c.out).toEqual(['1 file, 1 object: 0 errors, 0 warnings']);
  });

  it('exits 1 and prints located problems for an invalid file', async () => {
    const c = capture();
    const bad = path.join(dir, 'bad.yaml');
    expect(await main(['validate', path.join(dir, 'good.yaml'), bad], c.io)).toBe(ExitCode.Failure);
    expect(c.out[0]).toBe(`${bad}:5:1: error: spec.actions: Required value`);
  });

  it('exits 2 with one clear line when a file cannot be read', async () => {
    const c = capture();
    expect(await main(['validate', path.join(dir, 'nope.yaml')], c.io)).toBe(ExitCode.Usage);
    expect(c.err).toEqual([`kubeskippy validate: cannot read ${path.join(dir, 'nope.yaml')}: no such file or directory`]);
    expect(c.out).toEqual([]);
  });

  it('exits 2 when no file is given', async () => {
    const c = capture();
    expect(await main(['validate'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/missing required argument 'files'/);
  });

  it('finds no error in any example under examples/', async () => {
    const c = capture();
    expect(await main(['validate', path.join(repoRoot, 'examples')], c.io)).toBe(ExitCode.Ok);
    expect(c.out.at(-1)).toMatch(/^\d+ files, \d+ objects: 0 errors, /);
  });
});
