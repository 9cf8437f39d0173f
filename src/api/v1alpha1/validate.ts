/**
 * Offline validation of HealingPolicy and HealingAction objects with the same schema the API server enforces:
 * structure, enums, limits and defaults through ajv, then the cross-field rules (the TypeScript twin of each CEL
 * rule) and list-map key uniqueness. Also lists warnings for valid but risky policies.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HealingActionSchema, type HealingAction } from './healing-action.js';
import { ClusterHealingPolicySchema, deletesWithoutLabels, HealingPolicySchema, type AnyPolicy, type ClusterHealingPolicy, type HealingPolicy } from './healing-policy.js';
import { BUILTIN_METRICS } from './common.js';
import { DURATION_PATTERN, RULES, type CelRule } from './schema-kit.js';

/** One problem found in an object, located by its field path (`spec.triggers[0].type`). */
export interface ValidationProblem {
  readonly severity: 'error' | 'warning';
  /** Field path in the API server's notation. */
  readonly path: string;
  readonly message: string;
}

/** The outcome of validating one object: the defaulted object when valid, and every problem found. */
export interface ValidationResult<T> {
  readonly valid: boolean;
  /** The object with schema defaults applied (a copy; the input is not modified). Present when valid. */
  readonly value?: T;
  readonly problems: readonly ValidationProblem[];
}

type Segment = string | number;
type SchemaNode = Record<string, unknown> & { [RULES]?: readonly CelRule<never>[] };

/** Renders a path as the API server does: spec.triggers[0].metricTrigger. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** Parses an API-server style field path back into segments (used to locate problems in YAML). */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[1] !== undefined) segments.push(m[1]);
  }
  return segments;
}

/**
 * Deep-copies a schema for ajv: object nodes with declared properties refuse unknown fields (as the API server
 * does under strict field validation), except where the schema preserves unknown fields. Rule predicates are kept
 * on the copy so the rule walk can find them.
 */
function strictCopy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCopy);
  if (node === null || typeof node !== 'object') return node;
  const src = node as SchemaNode;
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(src)) out[k] = strictCopy(v);
  const rules = src[RULES];
  if (rules) out[RULES] = rules;
  if (out['properties'] !== undefined && out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv;
}

function describeAjvError(e: ErrorObject, value: unknown): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'Required value';
    case 'additionalProperties':
      return `unknown field "${String(p['additionalProperty'])}"`;
    case 'enum':
      return `Unsupported value: ${JSON.stringify(value)}: supported values: ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `Unsupported value: ${JSON.stringify(value)}: must be ${JSON.stringify(p['allowedValue'])}`;
    case 'pattern':
      return p['pattern'] === DURATION_PATTERN
        ? `Invalid value: ${JSON.stringify(value)}: must be a duration such as "90s", "3m" or "1h30m"`
        : `Invalid value: ${JSON.stringify(value)}: must match ${String(p['pattern'])}`;
    case 'maxItems':
      return `Too many: ${Array.isArray(value) ? value.length : '?'}: must have at most ${String(p['limit'])} items`;
    case 'minItems':
      return `Required value: must have at least ${String(p['limit'])} item${p['limit'] === 1 ? '' : 's'}`;
    case 'maxLength':
      return `Too long: may not be longer than ${String(p['limit'])}`;
    case 'minLength':
      return `Invalid value: ${JSON.stringify(value)}: must be at least ${String(p['limit'])} characters`;
    case 'minimum':
      return `Invalid value: ${JSON.stringify(value)}: must be greater than or equal to ${String(p['limit'])}`;
    case 'maximum':
      return `Invalid value: ${JSON.stringify(value)}: must be less than or equal to ${String(p['limit'])}`;
    case 'type':
      return `Invalid value: ${JSON.stringify(typeof value === 'string' ? value : typeof value)}: must be ${String(p['type'])}`;
    default:
      return e.message ?? e.keyword;
  }
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function pointerToSegments(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Errors from ajv, de-duplicated and located. anyOf noise (int-or-string) is folded into one message. */
function structuralProblems(errors: readonly ErrorObject[], data: unknown): ValidationProblem[] {
  const seen = new Set<string>();
  const problems: ValidationProblem[] = [];
  for (const e of errors) {
    const at = pointerToSegments(e.instancePath);
    if (e.keyword === 'required') at.push(String((e.params as { missingProperty: string }).missingProperty));
    if (e.keyword === 'additionalProperties') at.push(String((e.params as { additionalProperty: string }).additionalProperty));
    const path = formatPath(at);
    const message =
      e.keyword === 'anyOf' || (e.schemaPath.includes('/anyOf/') && e.keyword === 'type')
        ? `Invalid value: ${JSON.stringify(valueAt(data, at))}: must be an integer or a string`
        : describeAjvError(e, valueAt(data, pointerToSegments(e.instancePath)));
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ severity: 'error', path, message });
  }
  return problems;
}

/** Walks schema and data together, running each node's rule predicates and list-map uniqueness checks. */
function ruleProblems(schema: SchemaNode, data: unknown, path: Segment[], out: ValidationProblem[]): void {
  if (data === undefined) return;
  for (const rule of schema[RULES] ?? []) {
    let ok: boolean;
    try {
      ok = (rule.check as (s: unknown) => boolean)(data);
    } catch {
      ok = false;
    }
    if (!ok) {
      const at = rule.fieldPath ? [...path, ...parsePath(rule.fieldPath)] : path;
      let detail: string | undefined;
      try {
        detail = (rule.explain as ((s: unknown) => string | undefined) | undefined)?.(data);
      } catch {
        detail = undefined;
      }
      out.push({ severity: 'error', path: formatPath(at), message: detail === undefined ? rule.message : `${detail}: ${rule.message}` });
    }
  }
  const props = schema['properties'] as Record<string, SchemaNode> | undefined;
  if (props && data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const [key, sub] of Object.entries(props)) {
      ruleProblems(sub, (data as Record<string, unknown>)[key], [...path, key], out);
    }
  }
  const items = schema['items'] as SchemaNode | undefined;
  if (items && Array.isArray(data)) {
    const mapKeys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
    const seen = new Map<string, number>();
    data.forEach((item: unknown, i) => {
      ruleProblems(items, item, [...path, i], out);
      if (mapKeys && item !== null && typeof item === 'object') {
        const key = JSON.stringify(mapKeys.map((k) => (item as Record<string, unknown>)[k]));
        if (seen.has(key)) {
          out.push({
            severity: 'error',
            path: formatPath([...path, i]),
            message: `Duplicate value: ${mapKeys.map((k) => `${k}=${JSON.stringify((item as Record<string, unknown>)[k])}`).join(', ')}`,
          });
        } else {
          seen.set(key, i);
        }
      }
    });
  }
}

/** A DNS subdomain (RFC 1123), which the API server requires of every custom resource's name. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The API server's own checks of metadata.name that matter for a manifest (the schema leaves metadata to it):
 * a name or generateName is required, and a name must be a lowercase DNS subdomain of at most 253 characters.
 */
function metadataProblems(data: unknown): ValidationProblem[] {
  if (data === null || typeof data !== 'object') return [];
  const meta = (data as { metadata?: unknown }).metadata;
  if (meta === null || typeof meta !== 'object') return [];
  const { name, generateName } = meta as { name?: unknown; generateName?: unknown };
  if (name === undefined || name === '') {
    return typeof generateName === 'string' && generateName !== ''
      ? []
      : [{ severity: 'error', path: 'metadata.name', message: 'Required value: name or generateName is required' }];
  }
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return [
      {
        severity: 'error',
        path: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      },
    ];
  }
  return [];
}

/**
 * Drops object fields whose value is null where the schema does not say `nullable: true`, in place — what the API
 * server does before defaulting and validation (apiextensions: "null values for fields that do not specify nullable
 * are pruned"). So `healthCheckTimeout:` left empty in YAML is accepted offline as `kubectl apply` accepts it
 * (found by the fault suite comparing this validator with the API server).
 */
function pruneNulls(schema: SchemaNode | undefined, data: unknown): void {
  if (schema === undefined || data === null || typeof data !== 'object') return;
  if (Array.isArray(data)) {
    const items = schema['items'] as SchemaNode | undefined;
    for (const item of data) pruneNulls(items, item);
    return;
  }
  const props = schema['properties'] as Record<string, SchemaNode> | undefined;
  const additional = schema['additionalProperties'];
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const sub = props?.[key] ?? (additional !== null && typeof additional === 'object' ? (additional as SchemaNode) : undefined);
    if (record[key] === null) {
      if (sub !== undefined && sub['nullable'] !== true) delete record[key];
      continue;
    }
    pruneNulls(sub, record[key]);
  }
}

/** A compiled validator for one kind. */
class KindValidator<T> {
  private readonly validateFn: ValidateFunction;
  private readonly schema: SchemaNode;

  constructor(schema: unknown) {
    this.schema = strictCopy(schema) as SchemaNode;
    this.validateFn = createAjv().compile(this.schema);
  }

  validate(input: unknown): ValidationResult<T> {
    const data: unknown = structuredClone(input);
    pruneNulls(this.schema, data);
    const ok = this.validateFn(data);
    if (!ok) return { valid: false, problems: [...structuralProblems(this.validateFn.errors ?? [], data), ...metadataProblems(data)] };
    const problems: ValidationProblem[] = metadataProblems(data);
    ruleProblems(this.schema, data, [], problems);
    if (problems.length > 0) return { valid: false, problems };
    return { valid: true, value: data as T, problems: [] };
  }
}

let policyValidator: KindValidator<HealingPolicy> | undefined;
let clusterPolicyValidator: KindValidator<ClusterHealingPolicy> | undefined;
let actionValidator: KindValidator<HealingAction> | undefined;

/** Validates a HealingPolicy object (as parsed from YAML/JSON). Never throws. */
export function validateHealingPolicy(input: unknown): ValidationResult<HealingPolicy> {
  policyValidator ??= new KindValidator<HealingPolicy>(HealingPolicySchema);
  const result = policyValidator.validate(input);
  if (!result.valid || !result.value) return result;
  return { ...result, problems: policyWarnings(result.value) };
}

/** Validates a ClusterHealingPolicy object (as parsed from YAML/JSON). Never throws. */
export function validateClusterHealingPolicy(input: unknown): ValidationResult<ClusterHealingPolicy> {
  clusterPolicyValidator ??= new KindValidator<ClusterHealingPolicy>(ClusterHealingPolicySchema);
  const result = clusterPolicyValidator.validate(input);
  if (!result.valid || !result.value) return result;
  return { ...result, problems: policyWarnings(result.value) };
}

/** Validates a policy of either kind, chosen by its `kind`. Never throws. */
export function validatePolicy(input: AnyPolicy): ValidationResult<AnyPolicy> {
  return input.kind === 'ClusterHealingPolicy' ? validateClusterHealingPolicy(input) : validateHealingPolicy(input);
}

/** Validates a HealingAction object. Never throws. */
export function validateHealingAction(input: unknown): ValidationResult<HealingAction> {
  actionValidator ??= new KindValidator<HealingAction>(HealingActionSchema);
  return actionValidator.validate(input);
}

/** Edit distance, for "did you mean" hints on metric names. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Warnings for a valid (defaulted) policy: things that are allowed but probably not what the author wants.
 */
export function policyWarnings(policy: AnyPolicy): ValidationProblem[] {
  const warnings: ValidationProblem[] = [];
  const warn = (path: string, message: string): void => {
    warnings.push({ severity: 'warning', path, message });
  };
  const spec = policy.spec;
  spec.triggers.forEach((t, i) => {
    if (/^0+(\.0+)?(ns|us|µs|ms|s|m|h)$/.test(t.cooldownPeriod ?? '')) {
      warn(`spec.triggers[${i}].cooldownPeriod`, 'no cooldown: the trigger may fire again on the same target right after an action');
    }
    const q = t.metricTrigger?.query;
    if (q !== undefined && /^[a-z_]+$/.test(q) && !(BUILTIN_METRICS as readonly string[]).includes(q)) {
      const near = BUILTIN_METRICS.find((m) => distance(m, q) <= 2);
      if (near) warn(`spec.triggers[${i}].metricTrigger.query`, `"${q}" is not a built-in metric (did you mean "${near}"?); it will be sent to Prometheus`);
    }
  });
  spec.actions.forEach((a, i) => {
    if (a.type === 'delete' && a.requiresApproval !== true && spec.mode !== 'manual') {
      warn(`spec.actions[${i}]`, 'delete action without approval: set requiresApproval: true or mode: manual');
    }
  });
  const sel = spec.selector;
  const ls = sel.labelSelector;
  const emptyLabels = !ls || (Object.keys(ls.matchLabels ?? {}).length === 0 && (ls.matchExpressions ?? []).length === 0);
  if (emptyLabels && (sel.namespaces ?? []).includes('*') && !('namespaceSelector' in sel && sel.namespaceSelector !== undefined)) {
    warn('spec.selector', 'the selector matches every pod in every namespace');
  } else if (deletesWithoutLabels(spec)) {
    // Valid only because a human approves each delete (the schema refuses it otherwise): say what that person signs up for.
    warn('spec.selector', 'no labelSelector with a delete action: every object the policy watches in its namespaces can be proposed for deletion; each delete waits for a human to approve it — add a labelSelector to narrow it');
  } else if (emptyLabels) {
    warn('spec.selector', 'no labelSelector: the policy matches every pod in its namespaces');
  }
  const kinds = new Set((sel.resources ?? [{ kind: 'Pod' }]).map((r) => r.kind));
  (spec.safetyRules?.protectedResources ?? []).forEach((p, i) => {
    const all = !p.labelSelector && (p.excludeNames ?? []).length === 0;
    if (all && (p.kind === undefined || kinds.has(p.kind))) {
      warn(`spec.safetyRules.protectedResources[${i}]`, `protects every ${p.kind ?? 'resource'}: this policy can never act on its ${p.kind ?? ''} targets`.replace(/ +/g, ' '));
    }
  });
  if (spec.safetyRules?.maxActionsPerHour === 0 && spec.mode !== 'monitor') {
    warn('spec.safetyRules.maxActionsPerHour', 'is 0: every action will be blocked (RateLimited)');
  }
  return warnings;
}
