/**
 * Kubernetes label-selector semantics as a pure function. Safety uses it for protected resources (the seed's
 * `critical: "true"` example) and the operator-wide protected selector; anything else that selects by label may
 * reuse it.
 */

/** One `matchExpressions` requirement. Structurally compatible with the API's LabelSelector schema. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[] | undefined;
}

/**
 * A Kubernetes label selector, read-only. The API type `LabelSelector` (src/api/v1alpha1/common.ts) is assignable
 * to it, so callers pass policy fields straight through.
 */
export interface LabelSelectorLike {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | undefined;
}

/** Labels of an object; `undefined` (an object without labels) behaves as no labels. */
export type Labels = Readonly<Record<string, string>> | undefined;

/**
 * True when `labels` satisfy `selector` with Kubernetes semantics: every matchLabels pair and every
 * matchExpressions requirement must hold (AND). An empty selector (`{}`) matches every object — callers that want
 * "absent selector matches nothing" (PodDisruptionBudget's nil selector) must handle absence themselves, which is
 * why this function does not accept `undefined`.
 *
 * - `In`: the key is present and its value is one of `values` (an empty list matches nothing).
 * - `NotIn`: the key is absent, or its value is not one of `values` (absent key matches, as in Kubernetes).
 * - `Exists` / `DoesNotExist`: presence of the key; `values` is ignored.
 *
 * Never throws.
 */
export function matchesLabelSelector(selector: LabelSelectorLike, labels: Labels): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(have, key) || have[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!matchesRequirement(req, have)) return false;
  }
  return true;
}

function matchesRequirement(req: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  // Object.hasOwn: a label literally named "constructor" or "toString" must not match through the prototype.
  const present = Object.hasOwn(labels, req.key);
  const value = present ? labels[req.key] : undefined;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
  }
}

/**
 * The selector in kubectl's `-l` syntax ("critical=true,tier in (db,cache),!legacy"), for messages and Events.
 * An empty selector renders as "<everything>" so a message never shows a blank where a rule is meant.
 */
export function describeLabelSelector(selector: LabelSelectorLike): string {
  const parts: string[] = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = (req.values ?? []).join(',');
    switch (req.operator) {
      case 'In':
        parts.push(`${req.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${req.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(req.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${req.key}`);
        break;
    }
  }
  return parts.length === 0 ? '<everything>' : parts.join(',');
}

/** A label selector string that kubectl would refuse (or that would silently select something else). */
export class LabelSelectorSyntaxError extends Error {
  readonly code = 'LabelSelectorSyntax';
  constructor(
    /** The selector as given. */
    readonly input: string,
    detail: string,
  ) {
    super(`invalid label selector ${JSON.stringify(input.slice(0, 120))}: ${detail}`);
    this.name = 'LabelSelectorSyntaxError';
  }
}

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(input: string, key: string): string {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new LabelSelectorSyntaxError(input, `label key ${JSON.stringify(key)}: the prefix must be a DNS subdomain`);
  }
  if (!LABEL_NAME.test(name)) {
    throw new LabelSelectorSyntaxError(input, `label key ${JSON.stringify(key)}: a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  }
  return key;
}

function checkValue(input: string, value: string): string {
  if (value !== '' && !LABEL_NAME.test(value)) {
    throw new LabelSelectorSyntaxError(input, `label value ${JSON.stringify(value)}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
  }
  return value;
}

/**
 * Parses a selector in kubectl's `-l` syntax — the one describeLabelSelector writes — into a LabelSelectorLike:
 * comma-separated terms, each `key=value`, `key==value`, `key!=value` (NotIn, so an absent key matches, as in
 * Kubernetes), `key in (a,b)`, `key notin (a,b)`, `key` (Exists) or `!key` (DoesNotExist); keys and values checked
 * as Kubernetes checks label keys and values. Pure.
 *
 * @throws LabelSelectorSyntaxError for anything else — an operator setting that silently selected nothing (or
 *   protected nothing) would be worse than one refused at start-up.
 */
export function parseLabelSelectorString(input: string): LabelSelectorLike {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  // Split on commas outside parentheses.
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of input) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth < 0 || depth > 1) throw new LabelSelectorSyntaxError(input, 'unbalanced parentheses');
    if (c === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += c;
  }
  if (depth !== 0) throw new LabelSelectorSyntaxError(input, 'unbalanced parentheses');
  terms.push(current);
  for (const raw of terms) {
    const term = raw.trim();
    if (term === '') {
      if (terms.length === 1) break; // the empty selector: everything
      throw new LabelSelectorSyntaxError(input, 'empty term (two commas in a row, or a trailing comma)');
    }
    const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (set) {
      const values = set[3]!.split(',').map((v) => checkValue(input, v.trim()));
      matchExpressions.push({ key: checkKey(input, set[1]!), operator: set[2] === 'in' ? 'In' : 'NotIn', values });
      continue;
    }
    const eq = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(term);
    if (eq) {
      const key = checkKey(input, eq[1]!);
      const value = checkValue(input, eq[3]!);
      if (eq[2] === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
      else {
        if (Object.hasOwn(matchLabels, key) && matchLabels[key] !== value) {
          // Two different values for one key can never both hold: as a set-based requirement it matches nothing.
          matchExpressions.push({ key, operator: 'In', values: [] });
        }
        Object.defineProperty(matchLabels, key, { value, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const not = /^!\s*(\S+)$/.exec(term);
    if (not) {
      matchExpressions.push({ key: checkKey(input, not[1]!), operator: 'DoesNotExist' });
      continue;
    }
    if (/^\S+$/.test(term)) {
      matchExpressions.push({ key: checkKey(input, term), operator: 'Exists' });
      continue;
    }
    throw new LabelSelectorSyntaxError(input, `cannot parse the term ${JSON.stringify(term.slice(0, 80))}`);
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}
