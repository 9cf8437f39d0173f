/**
 * How the CLI prints: kubectl-like tables and ages for people, and `-o json|yaml` for scripts. Pure.
 */
import { stringify } from 'yaml';
import { UsageError } from './errors.js';

/** The output formats of `-o`. */
export const OUTPUT_FORMATS = ['human', 'json', 'yaml'] as const;
/** One of {@link OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Reads `-o` (undefined: human). Throws UsageError for anything but json, yaml or human ("wide" is human too). */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'human' || value === 'wide') return 'human';
  if (value === 'json' || value === 'yaml') return value;
  throw new UsageError(`unknown output format "${value}": use -o json or -o yaml (default: human-readable)`);
}

/** `value` as lines of JSON (2-space indent) or YAML. */
export function formatData(value: unknown, format: 'json' | 'yaml'): string[] {
  const text = format === 'json' ? JSON.stringify(value, null, 2) : stringify(value, { lineWidth: 0 }).trimEnd();
  return text.split('\n');
}

/**
 * A duration as kubectl prints ages: "45s", "3m12s" under 10 minutes, "42m", "5h7m" under 8 hours, "20h", "3d".
 * Negative durations (clock skew) print as "0s".
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** The age of an ISO timestamp at `now`, or "<unknown>" when it is missing or unparseable. */
export function ageOf(iso: string | undefined, now: number): string {
  const t = Date.parse(iso ?? '');
  return Number.isFinite(t) ? formatAge(now - t) : '<unknown>';
}

/** Left-aligned columns separated by three spaces, as kubectl prints tables. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ').trimEnd());
}

/** "label:  value" lines with the values aligned, indented by `indent` spaces. */
export function formatFields(fields: readonly (readonly [string, string])[], indent = 2): string[] {
  const width = Math.max(0, ...fields.map(([k]) => k.length + 1));
  return fields.map(([k, v]) => `${' '.repeat(indent)}${`${k}:`.padEnd(width)}  ${v}`.trimEnd());
}
