/**
 * The patch executor: strategic merge, JSON merge and JSON patch (RFC 6902) on Pods and apps workloads, with a
 * resourceVersion precondition, server-side dry run for plans, and a field-level diff of what changed.
 *
 * Also home of the pure JSON helpers the other executors reuse: JSON pointers, the deterministic JSON diff and
 * the precondition wrapper.
 */
import { PatchStrategy } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { ActionTemplate } from '../../api/v1alpha1/common.js';
import { ExecutorError, isExecutorError } from '../errors.js';
import type { Change, Execution, ExecutionContext, ExecutionRequest, Executor, ExecutorDeps, Plan, Verification, VerifySpec } from '../types.js';
import {
  assertNotDryRun,
  assertUid,
  describeRef,
  isWorkloadKind,
  objectPath,
  patchObject,
  preconditionVersion,
  readObject,
  refOf,
  targetProblems,
  throwIfProblems,
  toPlain,
  verifyOutcome,
  type KubeObject,
  type ObjectKind,
  type Problem,
} from '../workload.js';

/** One RFC 6902 operation (the subset of ops the API server accepts). */
export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

/** Escapes one JSON pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`). Pure. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Builds a JSON pointer from a patch operation's `path`: a pointer string is checked (must start with `/`, every
 * `~` followed by 0 or 1) and returned as is; a list of keys becomes `/k1/k2/...` with each key escaped (numbers
 * are array indexes). Throws ExecutorError Invalid for anything else, including the root pointer. Pure.
 */
export function toJsonPointer(path: unknown): string {
  if (typeof path === 'string') {
    if (!path.startsWith('/')) throw new ExecutorError('Invalid', `patch path "${path}" is not a JSON pointer (it must start with "/")`);
    if (/~(?![01])/.test(path)) throw new ExecutorError('Invalid', `patch path "${path}" has a "~" not followed by 0 or 1`);
    return path;
  }
  if (Array.isArray(path)) {
    if (path.length === 0) throw new ExecutorError('Invalid', 'patch path is an empty list of keys');
    const tokens = path.map((k: unknown) => {
      if (typeof k === 'number' && Number.isInteger(k) && k >= 0) return String(k);
      if (typeof k === 'string' && k.length > 0) return escapePointerToken(k);
      throw new ExecutorError('Invalid', `patch path key ${JSON.stringify(k)} must be a non-empty string or an array index`);
    });
    return `/${tokens.join('/')}`;
  }
  throw new ExecutorError('Invalid', 'patch path must be a JSON pointer string or a list of keys');
}

type PatchOperationSpec = NonNullable<NonNullable<ActionTemplate['patchAction']>['patches']>[number];

/**
 * Turns the seed's `patches` list into RFC 6902 operations: `op` defaults to `replace`, `path` may be a pointer or
 * a list of keys, `add`/`replace` need a `value`, `remove` must not have one. Throws ExecutorError Invalid. Pure.
 */
export function buildJsonPatch(patches: readonly PatchOperationSpec[]): JsonPatchOperation[] {
  return patches.map((p, i) => {
    const op = p.op ?? 'replace';
    let path: string;
    try {
      path = toJsonPointer(p.path);
    } catch (e: unknown) {
      throw new ExecutorError('Invalid', `patches[${i}]: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (op === 'remove') {
      if (p.value !== undefined) throw new ExecutorError('Invalid', `patches[${i}]: remove takes no value`);
      return { op, path };
    }
    if (p.value === undefined) throw new ExecutorError('Invalid', `patches[${i}]: ${op} needs a value`);
    return { op, path, value: p.value };
  });
}

const JSON_PATCH_OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses the `patch` string (YAML or JSON; JSON is YAML) for the given patch type: a mapping for strategic/merge,
 * a list of RFC 6902 operations for json. Throws ExecutorError Invalid with the parser's message. Pure.
 */
export function parsePatchDocument(text: string, type: 'strategic' | 'merge' | 'json'): Record<string, unknown> | JsonPatchOperation[] {
  let doc: unknown;
  try {
    doc = parseYaml(text) as unknown;
  } catch (e: unknown) {
    throw new ExecutorError('Invalid', `patch is neither valid YAML nor JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (type === 'json') {
    if (!Array.isArray(doc)) throw new ExecutorError('Invalid', 'a json patch must be a list of operations');
    return doc.map((item: unknown, i): JsonPatchOperation => {
      if (!isRecord(item) || typeof item['op'] !== 'string' || !JSON_PATCH_OPS.has(item['op'])) {
        throw new ExecutorError('Invalid', `patch[${i}] needs an op (add, remove, replace, move, copy, test)`);
      }
      const path = toJsonPointer(item['path']);
      const op = item['op'] as JsonPatchOperation['op'];
      return {
        op,
        path,
        ...('value' in item ? { value: item['value'] } : {}),
        ...(typeof item['from'] === 'string' ? { from: item['from'] } : {}),
      };
    });
  }
  if (!isRecord(doc)) throw new ExecutorError('Invalid', `a ${type} patch must be a mapping (an object), not ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  return doc;
}

function unescapePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function isContainer(v: unknown): v is Container {
  return typeof v === 'object' && v !== null;
}

function child(c: Container, token: string): unknown {
  if (Array.isArray(c)) return /^\d+$/.test(token) ? c[Number(token)] : undefined;
  return Object.prototype.hasOwnProperty.call(c, token) ? c[token] : undefined;
}

/**
 * Applies JSON patch operations to a copy of `doc` locally, only to explain a failure: the API server answers a
 * JSON patch that cannot be applied with a bare "the server rejected our request" (HTTP 422, no details). Returns
 * which operation fails and why ("operation 1 (add /metadata/labels/x): /metadata/labels does not exist"), or
 * undefined when all apply. Pure.
 */
export function findJsonPatchFailure(doc: unknown, ops: readonly JsonPatchOperation[]): string | undefined {
  const root: unknown = toPlain(doc);
  const fail = (i: number, op: JsonPatchOperation, why: string): string => `operation ${i} (${op.op} ${op.path}): ${why}`;
  const parentOf = (pointer: string): { parent: Container; key: string } | string => {
    const tokens = unescapePointer(pointer);
    const key = tokens.pop();
    if (key === undefined) return 'cannot patch the document root';
    let cur: unknown = root;
    let at = '';
    for (const t of tokens) {
      at += `/${escapePointerToken(t)}`;
      cur = isContainer(cur) ? child(cur, t) : undefined;
      if (!isContainer(cur)) return `${at} does not exist`;
    }
    return isContainer(cur) ? { parent: cur, key } : 'the document root is not an object';
  };
  const get = (pointer: string): { found: boolean; value?: unknown } => {
    const p = parentOf(pointer);
    if (typeof p === 'string') return { found: false };
    const v = child(p.parent, p.key);
    return v === undefined ? { found: false } : { found: true, value: v };
  };
  const add = (pointer: string, value: unknown): string | undefined => {
    const p = parentOf(pointer);
    if (typeof p === 'string') return p;
    if (Array.isArray(p.parent)) {
      const idx = p.key === '-' ? p.parent.length : /^\d+$/.test(p.key) ? Number(p.key) : NaN;
      if (Number.isNaN(idx) || idx > p.parent.length) return `array index ${p.key} is out of range (length ${p.parent.length})`;
      p.parent.splice(idx, 0, value);
    } else {
      p.parent[p.key] = value;
    }
    return undefined;
  };
  const remove = (pointer: string): string | undefined => {
    const p = parentOf(pointer);
    if (typeof p === 'string') return p;
    if (child(p.parent, p.key) === undefined) return `${pointer} does not exist`;
    if (Array.isArray(p.parent)) p.parent.splice(Number(p.key), 1);
    else delete p.parent[p.key];
    return undefined;
  };
  for (const [i, op] of ops.entries()) {
    let why: string | undefined;
    switch (op.op) {
      case 'add':
        why = add(op.path, toPlain(op.value));
        break;
      case 'remove':
        why = remove(op.path);
        break;
      case 'replace':
        why = get(op.path).found ? (remove(op.path) ?? add(op.path, toPlain(op.value))) : `${op.path} does not exist`;
        break;
      case 'test': {
        const cur = get(op.path);
        if (!cur.found) why = `${op.path} does not exist`;
        else if (stableStringify(cur.value) !== stableStringify(op.value)) why = `the value is ${stableStringify(cur.value)}, not ${stableStringify(op.value)}`;
        break;
      }
      case 'move':
      case 'copy': {
        const from = op.from === undefined ? { found: false } : get(op.from);
        if (!from.found) why = `from ${op.from ?? '(missing)'} does not exist`;
        else {
          if (op.op === 'move') why = remove(op.from ?? '');
          why ??= add(op.path, toPlain(from.value));
        }
        break;
      }
    }
    if (why !== undefined) return fail(i, op, why);
  }
  return undefined;
}

/** A patch ready to send: its Content-Type and body (without the precondition). */
export interface CompiledPatch {
  readonly patchType: PatchStrategy;
  readonly body: Record<string, unknown> | JsonPatchOperation[];
  /** How the body was built, for messages. */
  readonly source: string;
}

/**
 * Compiles a patchAction into a CompiledPatch. `patches` (structured operations) are always sent as a JSON patch,
 * whatever `type` says, because their add/replace/remove-at-a-path semantics are RFC 6902's. Throws ExecutorError
 * Invalid. Pure.
 */
export function compilePatch(spec: ActionTemplate['patchAction']): CompiledPatch {
  if (!spec) throw new ExecutorError('Invalid', 'a patch action needs patchAction');
  const hasDoc = (spec.patch?.length ?? 0) > 0;
  const hasOps = (spec.patches?.length ?? 0) > 0;
  if (hasDoc === hasOps) throw new ExecutorError('Invalid', 'give exactly one of patchAction.patch (a document) or patchAction.patches (operations)');
  if (hasOps) return { patchType: PatchStrategy.JsonPatch, body: buildJsonPatch(spec.patches ?? []), source: 'patches list as a JSON patch' };
  const type = spec.type;
  const body = parsePatchDocument(spec.patch ?? '', type);
  const patchType = type === 'json' ? PatchStrategy.JsonPatch : type === 'merge' ? PatchStrategy.MergePatch : PatchStrategy.StrategicMergePatch;
  return { patchType, body, source: `${type} patch` };
}

/**
 * Adds a resourceVersion precondition to a patch body. For merge and strategic patches it sets
 * `metadata.resourceVersion`; for JSON patches it prepends a `replace` of `/metadata/resourceVersion`. Either way
 * the API server compares the resulting version with the stored one and answers 409 Conflict when they differ.
 * (A JSON-patch `test` op would fail with 422 instead, which reads as "invalid", not "stale".) Pure.
 */
export function withResourceVersion(
  patchType: PatchStrategy,
  body: Record<string, unknown> | readonly JsonPatchOperation[],
  resourceVersion: string,
): Record<string, unknown> | JsonPatchOperation[] {
  if (patchType === PatchStrategy.JsonPatch) {
    const ops = Array.isArray(body) ? (body as readonly JsonPatchOperation[]) : [];
    return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...ops];
  }
  const doc = isRecord(body) ? body : {};
  const meta = isRecord(doc['metadata']) ? doc['metadata'] : {};
  return { ...doc, metadata: { ...meta, resourceVersion } };
}

/** Fields every diff ignores: they change on every write and say nothing about the change itself. */
export const VOLATILE_PATHS: readonly string[] = [
  'metadata.resourceVersion',
  'metadata.managedFields',
  'metadata.generation',
  'metadata.creationTimestamp',
  'status',
];

/** Options of diffJson. */
export interface DiffOptions {
  /** Paths (as formatted by formatPath) whose subtrees are ignored. */
  readonly ignore?: readonly string[];
  /** Longest rendered value; longer ones are cut and end with "…". Default 4096 (HealingAction status limit). */
  readonly maxValueLength?: number;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Formats a path of keys and indexes as `spec.template.spec.containers[0].env`; keys that are not identifiers
 * are quoted: `metadata.annotations["kubectl.kubernetes.io/restartedAt"]`. Pure.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** JSON.stringify with object keys sorted, so equal values render identically. Pure. */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

function render(value: unknown, max: number): string {
  const text = typeof value === 'string' ? value : stableStringify(value);
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/**
 * A small deterministic JSON diff: walks both values (object keys in sorted order, arrays by index, into added or
 * removed objects too) and reports each changed leaf, or each added/removed array or scalar, as {field, old, new};
 * a missing side has no old/new. Strings render as themselves, other values as sorted-key JSON. Pure.
 */
export function diffJson(before: unknown, after: unknown, options: DiffOptions = {}): Change[] {
  const ignore = options.ignore ?? [];
  const max = options.maxValueLength ?? 4096;
  const out: Change[] = [];
  const ignored = (p: string): boolean => ignore.some((i) => p === i || p.startsWith(`${i}.`) || p.startsWith(`${i}[`));
  const walk = (a: unknown, b: unknown, path: (string | number)[]): void => {
    const p = formatPath(path);
    if (path.length > 0 && ignored(p)) return;
    if (stableStringify(a) === stableStringify(b)) return;
    // Objects recurse even when one side is missing, so an added annotation is reported at its own key rather
    // than as a whole new annotations map; arrays (and scalars) are reported whole when added or removed.
    const objA = isRecord(a) ? a : a === undefined && isRecord(b) ? {} : undefined;
    const objB = isRecord(b) ? b : b === undefined && isRecord(a) ? {} : undefined;
    if (objA && objB) {
      const keys = [...new Set([...Object.keys(objA), ...Object.keys(objB)])].sort();
      for (const k of keys) walk(objA[k], objB[k], [...path, k]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i] as unknown, b[i] as unknown, [...path, i]);
      return;
    }
    out.push({ field: p === '' ? '(root)' : p, ...(a !== undefined ? { old: render(a, max) } : {}), ...(b !== undefined ? { new: render(b, max) } : {}) });
  };
  walk(before, after, []);
  return out;
}

/** Diff of two API objects, ignoring VOLATILE_PATHS. Pure. */
export function diffObjects(before: unknown, after: unknown): Change[] {
  return diffJson(toPlain(before), toPlain(after), { ignore: VOLATILE_PATHS });
}

const PATCH_KINDS: readonly ObjectKind[] = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'];

/** What verify checks after patching this object: a pod must be Ready, a workload's rollout complete. */
function verifySpecAfterPatch(kind: ObjectKind, after: KubeObject): VerifySpec {
  const m = after.metadata;
  if (kind === 'Pod') return { kind: 'pod-ready', namespace: m?.namespace ?? '', name: m?.name ?? '', uid: m?.uid ?? '' };
  if (!isWorkloadKind(kind)) return { kind: 'none' };
  return {
    kind: 'rollout',
    workload: { kind, namespace: m?.namespace ?? '', name: m?.name ?? '', uid: m?.uid ?? '' },
    generation: m?.generation ?? 0,
  };
}

/**
 * Patches the target (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet) with `patchAction`. Plans by server-side
 * dry run and diffs the result against the current object; executes with a resourceVersion precondition (409 →
 * StaleDecision); a patch the API server refuses → Rejected with the server's message.
 */
export class PatchExecutor implements Executor {
  readonly type = 'patch' as const;

  constructor(private readonly deps: ExecutorDeps) {}

  private problems(request: ExecutionRequest): Problem[] {
    const out = targetProblems(request, this.type, PATCH_KINDS);
    try {
      compilePatch(request.action.patchAction);
    } catch (e: unknown) {
      out.push({ code: 'Invalid', message: e instanceof Error ? e.message : String(e) });
    }
    return out;
  }

  /** See Executor.validate. */
  validate(request: ExecutionRequest): string[] {
    return this.problems(request).map((p) => p.message);
  }

  private async prepare(request: ExecutionRequest, ctx: ExecutionContext): Promise<{ kind: ObjectKind; current: KubeObject; compiled: CompiledPatch; body: unknown }> {
    throwIfProblems(this.problems(request));
    const compiled = compilePatch(request.action.patchAction);
    const t = request.target;
    const kind = t.kind as ObjectKind;
    const current = await readObject(this.deps, kind, t.namespace, t.name, ctx.signal);
    assertUid(t.uid, current, describeRef(t));
    const rv = preconditionVersion(t.resourceVersion, current, describeRef(t));
    return { kind, current, compiled, body: withResourceVersion(compiled.patchType, compiled.body, rv) };
  }

  // Sends the patch; a JSON patch the server could not apply gets a local explanation of which operation failed.
  private async send(
    kind: ObjectKind,
    current: KubeObject,
    compiled: CompiledPatch,
    body: unknown,
    dryRun: boolean,
    ctx: ExecutionContext,
    what: string,
  ): Promise<KubeObject> {
    const m = current.metadata;
    try {
      return await patchObject(this.deps, kind, m?.namespace ?? '', m?.name ?? '', body, compiled.patchType, { dryRun, signal: ctx.signal, what });
    } catch (e: unknown) {
      if (!isExecutorError(e, 'Rejected') || compiled.patchType !== PatchStrategy.JsonPatch || !Array.isArray(compiled.body)) throw e;
      const why = findJsonPatchFailure(current, compiled.body);
      if (why === undefined) throw e;
      throw new ExecutorError('Rejected', `${e.message}: ${why}`, {
        cause: e.cause,
        causes: [...e.causes, why],
        ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}),
      });
    }
  }

  /** See Executor.plan: server-side dry run of the patch, diffed against the current object. */
  async plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan> {
    const { kind, current, compiled, body } = await this.prepare(request, ctx);
    const t = request.target;
    const what = `patch ${describeRef(t)} (dry run)`;
    const result = await this.send(kind, current, compiled, body, true, ctx, what);
    const changes = diffObjects(current, result);
    return {
      action: this.type,
      mechanism: 'patch',
      object: refOf(kind, current),
      changes,
      calls: [{ method: 'PATCH', path: objectPath(kind, t.namespace, t.name), contentType: compiled.patchType, body }],
      noop: changes.length === 0,
      serverDryRun: true,
      message:
        changes.length === 0
          ? `the ${compiled.source} would not change ${describeRef(t)}`
          : `the ${compiled.source} would change ${changes.length} field(s) of ${describeRef(t)}`,
    };
  }

  /** See Executor.execute. */
  async execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    assertNotDryRun(request, this.type);
    const { kind, current, compiled, body } = await this.prepare(request, ctx);
    const t = request.target;
    const after = await this.send(kind, current, compiled, body, false, ctx, `patch ${describeRef(t)}`);
    const changes = diffObjects(current, after);
    ctx.log?.('info', 'patched', { target: describeRef(t), changes: changes.length });
    return {
      action: this.type,
      mechanism: 'patch',
      object: refOf(kind, after),
      changes,
      noop: changes.length === 0,
      message:
        changes.length === 0
          ? `applied the ${compiled.source} to ${describeRef(t)}; nothing changed`
          : `applied the ${compiled.source} to ${describeRef(t)}: ${changes.map((c) => c.field).join(', ')}`,
      executedAt: ctx.now,
      verify: changes.length === 0 ? { kind: 'none' } : verifySpecAfterPatch(kind, after),
    };
  }

  /** See Executor.verify: a patched pod is Ready, a patched workload's rollout is complete. */
  async verify(_request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification> {
    return verifyOutcome(this.deps, execution.verify, ctx);
  }
}
