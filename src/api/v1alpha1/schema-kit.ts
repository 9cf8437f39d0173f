/**
 * Building blocks for the API schemas. Every schema here is plain JSON Schema (TypeBox), restricted to what a
 * Kubernetes structural CRD schema accepts, so one definition yields the TypeScript type (Static<>), the offline
 * validator (ajv) and the generated CRD YAML.
 *
 * Cross-field rules are written twice, side by side: as CEL for the API server (`x-kubernetes-validations`) and as
 * a TypeScript predicate for offline validation. Tests apply the same cases to both and require the same verdict.
 */
import { Type, type SchemaOptions, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A cross-field validation rule: CEL for the API server, and the same rule as a TypeScript predicate. */
export interface CelRule<T> {
  /** CEL expression over `self` (and `oldSelf` for transition rules — not used here). */
  readonly rule: string;
  /** Message shown when the rule fails; names the field and what is wrong. */
  readonly message: string;
  /** Field the failure is reported on, relative to `self` (JSONPath-like: `.metricTrigger`). */
  readonly fieldPath?: string;
  /** Kubernetes reason for the failure; the API server's default is FieldValueInvalid. */
  readonly reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  /** The same rule in TypeScript: returns true when `self` (already defaulted) satisfies it. */
  readonly check: (self: T) => boolean;
  /**
   * Offline only: the detail the API server adds to `message` for this failure (e.g. Go's regexp error), so the
   * offline message is as specific as the server's. Called only when `check` failed.
   */
  readonly explain?: (self: T) => string | undefined;
}

/** Symbol under which a schema node keeps its rules' TypeScript predicates (never serialised). */
export const RULES: unique symbol = Symbol.for('kubeskippy.io/rules');

/** A schema node that may carry CEL rules. */
export type RuleCarrier = TSchema & { [RULES]?: readonly CelRule<never>[]; 'x-kubernetes-validations'?: unknown[] };

/** Attaches cross-field rules to a schema node (both the CEL form and the predicates). Returns the same node. */
export function withRules<S extends TSchema>(schema: S, rules: readonly CelRule<Static<S>>[]): S {
  const node = schema as RuleCarrier;
  node['x-kubernetes-validations'] = rules.map(({ rule, message, fieldPath, reason }) => ({
    rule,
    message,
    ...(fieldPath === undefined ? {} : { fieldPath }),
    ...(reason === undefined ? {} : { reason }),
  }));
  node[RULES] = rules;
  return schema;
}

/** A string restricted to `values` (rendered as a JSON-schema enum, which CRDs accept; TypeBox unions are not). */
export function StringEnum<const V extends readonly string[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A map from string keys to string values (`additionalProperties`, the CRD form of a map). */
export function StringMap(options: SchemaOptions = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    ...options,
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 1024 },
  });
}

/** Go/Kubernetes duration strings such as "90s", "3m", "1h30m", "500ms" (no sign, no bare numbers). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';

/** Nanoseconds per duration unit, as Go's time package defines them. */
const DURATION_UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * True when a duration that matches DURATION_PATTERN also fits Go's time.Duration (int64 nanoseconds, about
 * 2562047h), i.e. when Go's time.ParseDuration — and so CEL's duration() — accepts it.
 */
export function isDurationInRange(value: string): boolean {
  const max = 2n ** 63n - 1n;
  let total = 0n;
  for (const m of value.matchAll(/([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/g)) {
    const unit = DURATION_UNIT_NS[m[3] ?? ''] ?? 1n;
    const fraction = m[2] ?? '';
    // Whole nanoseconds of the fractional part, truncated as Go does.
    const fractionNs = fraction === '' ? 0n : (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += BigInt(m[1] ?? '0') * unit + fractionNs;
    if (total > max) return false;
  }
  return true;
}

/**
 * A duration string field ("3m", "1h30m"). The pattern fixes the syntax; the CEL rule (duration(), which parses
 * like Go) refuses values beyond time.Duration's range, which the operator could not represent.
 */
export function Duration(options: SchemaOptions = {}): TUnsafe<string> {
  return withRules(Type.Unsafe<string>({ ...options, type: 'string', maxLength: 32, pattern: DURATION_PATTERN }), [
    {
      rule: "duration(self) >= duration('0s')",
      message: 'must be a duration of at most 2562047h (Go time.Duration)',
      check: (s) => isDurationInRange(s),
    },
  ]);
}

/** A percentage of at most 100 ("0%" … "100%", leading zeros allowed): the CEL and TypeScript forms agree. */
const AT_MOST_100_PERCENT = '^0*([0-9]?[0-9]|100)%$';

/**
 * An integer or a percentage string such as "25%" (Kubernetes int-or-string). A percentage above 100% is refused
 * with the message Kubernetes gives a Deployment's maxUnavailable: it can only mean a typo, and read literally it
 * would let one action disrupt more replicas than the workload has.
 */
export function IntOrPercent(options: SchemaOptions = {}): TUnsafe<number | string> {
  return withRules(
    Type.Unsafe<number | string>({
      ...options,
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    }),
    [
      {
        rule: "type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",
        message: 'must be a non-negative integer or a percentage such as "25%"',
        check: (self) => (typeof self === 'number' ? Number.isInteger(self) && self >= 0 : /^[0-9]+%$/.test(self)),
      },
      {
        // Only percentages are judged here; anything else is the rule above's to refuse (one message per mistake).
        rule: `type(self) == int || !self.matches('^[0-9]+%$') || self.matches('${AT_MOST_100_PERCENT}')`,
        message: 'must not be greater than 100%',
        check: (self) => typeof self === 'number' || !/^[0-9]+%$/.test(self) || new RegExp(AT_MOST_100_PERCENT).test(self),
        explain: (self) => `Invalid value: ${JSON.stringify(self)}`,
      },
    ],
  );
}

/** Any JSON value, kept as written (for patch values). */
export function AnyJson(options: SchemaOptions = {}): TUnsafe<unknown> {
  return Type.Unsafe<unknown>({ ...options, 'x-kubernetes-preserve-unknown-fields': true });
}

/** A Kubernetes object name (DNS subdomain). */
export function ObjectName(options: SchemaOptions = {}): TUnsafe<string> {
  return Type.Unsafe<string>({
    ...options,
    type: 'string',
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
  });
}

/** A DNS label: names of triggers and actions, namespaces. */
export function DnsLabel(options: SchemaOptions = {}): TUnsafe<string> {
  return Type.Unsafe<string>({
    ...options,
    type: 'string',
    minLength: 1,
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  });
}
