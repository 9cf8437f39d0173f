/**
 * `kubeskippy validate FILE…`: offline validation of HealingPolicy, ClusterHealingPolicy and HealingAction manifests with the schema the
 * API server enforces (src/api/v1alpha1), printing each problem as
 *   FILE:LINE:COL: error|warning: <field path>: <message>
 * located in the YAML (a missing field is reported at its parent). Exit codes: 0 no errors (warnings alone are
 * fine), 1 at least one error, 2 usage errors (no file, a file that cannot be read).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { API_VERSION } from '../api/v1alpha1/common.js';
import { parsePath, validateClusterHealingPolicy, validateHealingAction, validateHealingPolicy, type ValidationProblem } from '../api/v1alpha1/validate.js';
import { UsageError } from './errors.js';

// A bad invocation (no file, a file that cannot be read) is a UsageError: exit code 2.
export { UsageError };

/** The file access validate needs; injectable so tests run in memory. */
export interface ValidateFs {
  /** Reads a file as UTF-8. Rejects (e.g. ENOENT) when it cannot. */
  readFile(file: string): Promise<string>;
  /** The entries of `p` when it is a directory, undefined when it is a file. Rejects when `p` does not exist. */
  readDir(p: string): Promise<string[] | undefined>;
}

/** The real file system. */
export const nodeFs: ValidateFs = {
  readFile: (file) => readFile(file, 'utf8'),
  readDir: async (p) => ((await stat(p)).isDirectory() ? readdir(p) : undefined),
};

/** One problem, located in a file. */
export interface LocatedProblem extends ValidationProblem {
  readonly file: string;
  /** 1-based line and column. */
  readonly line: number;
  readonly col: number;
}

/** What validating one file found. */
export interface FileReport {
  /** Policies (of either kind) and HealingActions checked. */
  readonly objects: number;
  readonly problems: readonly LocatedProblem[];
}

/** Kinds this command validates, with their validators. */
const VALIDATORS: Record<string, (input: unknown) => { problems: readonly ValidationProblem[] }> = {
  HealingPolicy: validateHealingPolicy,
  ClusterHealingPolicy: validateClusterHealingPolicy,
  HealingAction: validateHealingAction,
};

type Segment = string | number;

/**
 * The source offset of the field at `segments` in `doc`: its key (for a map entry) or its first character (for a
 * list item). When a segment is missing (a required field, say) the deepest existing ancestor is returned.
 */
function locate(doc: Document, segments: readonly Segment[]): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const seg of segments) {
    if (isMap(node) && typeof seg === 'string') {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === seg);
      if (pair === undefined) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!isNode(item)) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/** A one-line message for a file system error ("no such file or directory"). */
function describeFsError(e: unknown): string {
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Validates the YAML `text` of `file`: every document, every policy (of either kind) and HealingAction in it (also inside a
 * `kind: List`), YAML syntax errors included. Other kinds are errors. Pure: reads nothing.
 */
export function validateYaml(file: string, text: string): FileReport {
  const lineCounter = new LineCounter();
  // YAML 1.1 booleans (yes/no/on/off), as kubectl reads manifests.
  const docs = parseAllDocuments(text, { lineCounter, version: '1.1', uniqueKeys: true, prettyErrors: false });
  const problems: LocatedProblem[] = [];
  const at = (offset: number, p: ValidationProblem): void => {
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ ...p, file, line, col });
  };
  let objects = 0;
  if (!Array.isArray(docs)) return { objects, problems };

  for (const doc of docs) {
    for (const e of doc.errors) at(e.pos[0], { severity: 'error', path: '', message: `invalid YAML: ${e.message}` });
    for (const w of doc.warnings) at(w.pos[0], { severity: 'warning', path: '', message: `YAML: ${w.message}` });
    if (doc.errors.length > 0) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e: unknown) {
      at(doc.contents?.range?.[0] ?? 0, { severity: 'error', path: '', message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    // An empty document (a trailing "---", or only comments) holds nothing to check.
    if (value === null || value === undefined) continue;

    const check = (obj: unknown, prefix: readonly Segment[]): void => {
      const report = (p: ValidationProblem): void => {
        const segments = [...prefix, ...parsePath(p.path)];
        const fullPath = prefix.length === 0 ? p.path : `${formatPrefix(prefix)}${p.path === '' ? '' : `.${p.path}`}`;
        at(locate(doc, segments), { ...p, path: fullPath });
      };
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        report({ severity: 'error', path: '', message: 'expected a Kubernetes object (a mapping with apiVersion and kind)' });
        return;
      }
      const kind = (obj as { kind?: unknown }).kind;
      if (kind === 'List' && Array.isArray((obj as { items?: unknown }).items)) {
        ((obj as { items: unknown[] }).items).forEach((item, i) => check(item, [...prefix, 'items', i]));
        return;
      }
      if (kind === undefined) {
        report({ severity: 'error', path: 'kind', message: 'Required value: every object needs a kind' });
        return;
      }
      const validator = typeof kind === 'string' ? VALIDATORS[kind] : undefined;
      if (validator === undefined) {
        report({
          severity: 'error',
          path: 'kind',
          message: `unknown kind ${JSON.stringify(kind)}: expected HealingPolicy, ClusterHealingPolicy or HealingAction (${API_VERSION})`,
        });
        return;
      }
      objects++;
      for (const p of validator(obj).problems) report(p);
    };
    check(value, []);
  }
  // Documents follow each other, so ordering by position keeps documents apart and reads top to bottom.
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { objects, problems };
}

function formatPrefix(prefix: readonly Segment[]): string {
  return prefix.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[');
}

/** Renders a problem as `FILE:LINE:COL: severity: path: message`. */
export function formatProblem(p: LocatedProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.severity}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}

/**
 * Expands the command's arguments into files: a directory stands for its *.yaml, *.yml and *.json files (not
 * recursive, sorted). Throws UsageError for no arguments or a path that cannot be read.
 */
async function expand(paths: readonly string[], fs: ValidateFs): Promise<string[]> {
  if (paths.length === 0) throw new UsageError('no file given: usage: kubeskippy validate FILE…');
  const files: string[] = [];
  for (const p of paths) {
    let entries: string[] | undefined;
    try {
      entries = await fs.readDir(p);
    } catch (e: unknown) {
      throw new UsageError(`cannot read ${p}: ${describeFsError(e)}`, { cause: e });
    }
    if (entries === undefined) files.push(p);
    else files.push(...entries.filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(p, f)));
  }
  return files;
}

/** The outcome of the command: lines to print and the exit code. */
export interface ValidateOutcome {
  readonly lines: readonly string[];
  readonly code: 0 | 1;
  readonly errors: number;
  readonly warnings: number;
}

/**
 * Validates `paths` (files or directories). Resolves with the lines to print (one per problem, then a summary)
 * and the exit code (1 when any error was found). Rejects with UsageError when there is nothing to validate or a
 * file cannot be read — before printing anything, so a typo in a file name is never mistaken for a clean result.
 */
export async function validateCommand(paths: readonly string[], fs: ValidateFs = nodeFs): Promise<ValidateOutcome> {
  const files = await expand(paths, fs);
  const texts: [string, string][] = [];
  for (const file of files) {
    try {
      texts.push([file, await fs.readFile(file)]);
    } catch (e: unknown) {
      throw new UsageError(`cannot read ${file}: ${describeFsError(e)}`, { cause: e });
    }
  }
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  let objects = 0;
  for (const [file, text] of texts) {
    const report = validateYaml(file, text);
    objects += report.objects;
    for (const p of report.problems) {
      lines.push(formatProblem(p));
      if (p.severity === 'error') errors++;
      else warnings++;
    }
  }
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(`${plural(files.length, 'file')}, ${plural(objects, 'object')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return { lines, code: errors > 0 ? 1 : 0, errors, warnings };
}
