/**
 * Full-match patterns from policies (event reasons), matched in linear time. The API server validates these as
 * RE2 (Go's regexp); matching them with JavaScript's backtracking RegExp let one pattern such as `(a+)+` and one
 * Event with a long reason stall the operator's event loop for minutes — for every tenant. re2js is the
 * JavaScript port of RE2: its time is linear in the input whatever the pattern, and it speaks RE2's syntax, so no
 * translation into another regex dialect is needed (only Go's looser spellings, see re2jsSource).
 */
import { RE2JS } from 're2js';
import { re2jsSource } from '../api/v1alpha1/re2.js';

/** Longest input a pattern is matched against; the collectors already cap cluster strings below this. */
export const MAX_MATCH_INPUT = 4096;

/** A compiled full-match pattern. */
export interface FullMatcher {
  /** True when the whole of `input` matches (as Go's `^(?:pattern)$` would). Linear in `input`'s length. */
  matches(input: string): boolean;
}

/** A pattern the API server would not have accepted (or that the engine cannot compile). */
export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
}

const cache = new Map<string, FullMatcher>();
const CACHE_MAX = 256;

/**
 * Compiles `pattern` (RE2 syntax, as validated by the API server) as a full match, with Go's semantics: `.` does not
 * match a newline unless `(?s)`, flags such as `(?i)` apply as written. Cached by pattern (bounded). Throws
 * InvalidPatternError naming the problem for a pattern Go would refuse.
 */
export function compileFullMatch(pattern: string): FullMatcher {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const spelled = re2jsSource(pattern);
  if ('error' in spelled) throw new InvalidPatternError(`${JSON.stringify(pattern)} is not a valid RE2 regular expression: ${spelled.error.message}`);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(spelled.source);
  } catch (e: unknown) {
    throw new InvalidPatternError(`${JSON.stringify(pattern)} cannot be compiled: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Longer inputs never reach here from the collectors; refusing them keeps the cost bounded regardless.
  const matcher: FullMatcher = { matches: (input) => input.length <= MAX_MATCH_INPUT && compiled.matches(input) };
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(pattern, matcher);
  return matcher;
}
