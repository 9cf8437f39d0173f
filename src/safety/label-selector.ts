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
