/**
 * Go/Kubernetes duration strings ("90s", "3m", "1h30m", "1.5h", "500ms") ⇄ milliseconds.
 *
 * The API schema accepts durations by pattern only; this is the one place that turns them into numbers, with the
 * semantics of Go's time.ParseDuration (the language the rest of the Kubernetes ecosystem writes them in), minus
 * the sign: a negative "for" or "window" means nothing in a policy, so it is refused rather than clamped.
 */

/** Nanoseconds per unit, exactly as Go's time package defines them (both micro signs, U+00B5 and U+03BC). */
const UNIT_NS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 MICRO SIGN
  ['μs', 1_000n], // U+03BC GREEK SMALL LETTER MU
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Go's limit: a Duration is an int64 count of nanoseconds (about 292 years). */
const MAX_NS = 2n ** 63n - 1n;
const NS_PER_MS = 1_000_000n;

/** Thrown by parseDuration for a string that is not a non-negative Go duration; names the input and why. */
export class InvalidDurationError extends Error {
  /** Stable code for error mapping at the boundaries. */
  readonly code = 'InvalidDuration';
  constructor(
    /** The rejected input, as given. */
    readonly input: string,
    detail: string,
  ) {
    super(`invalid duration ${JSON.stringify(input.slice(0, 64))}: ${detail}`);
    this.name = 'InvalidDurationError';
  }
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * Parses a duration such as "1h30m", "90s", "500ms", "1.5h", ".5s" or "0" into milliseconds (possibly
 * fractional: "1500us" is 1.5). Follows Go's time.ParseDuration: a sequence of decimal numbers, each with an
 * optional fraction and a unit out of ns, us, µs, ms, s, m, h; "0" alone is allowed; no whitespace. Unlike Go,
 * a sign ("+1s", "-1s") is refused. Fractions are exact to the nanosecond (truncated below it, as Go does).
 *
 * @throws InvalidDurationError for an empty string, a sign, a missing or unknown unit, a malformed number, or a
 *   total beyond Go's int64-nanosecond range.
 */
export function parseDuration(input: string): number {
  const known = PARSED.get(input);
  if (known !== undefined) return known;
  const ms = parseUncached(input);
  if (PARSED.size < PARSED_MAX) PARSED.set(input, ms);
  return ms;
}

/**
 * Parsed durations by text. Policies hold a handful of distinct durations, parsed for every target at every
 * evaluation (BigInt arithmetic — about 2 % of the operator's CPU at 5 000 pods in the scale benchmark's profile).
 * Bounded, so hostile input cannot grow it; failures are not kept (they throw again).
 */
const PARSED = new Map<string, number>();
const PARSED_MAX = 4096;

function parseUncached(input: string): number {
  if (input === '0') return 0;
  if (input === '') throw new InvalidDurationError(input, 'empty');
  if (input[0] === '+' || input[0] === '-') throw new InvalidDurationError(input, 'a sign is not allowed');

  let total = 0n;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (!(c === '.' || isDigit(c))) throw new InvalidDurationError(input, `expected a number at position ${i}`);

    const intStart = i;
    while (isDigit(input[i])) i++;
    const intDigits = input.slice(intStart, i);
    let fracDigits = '';
    if (input[i] === '.') {
      i++;
      const fracStart = i;
      while (isDigit(input[i])) i++;
      fracDigits = input.slice(fracStart, i);
    }
    // Go accepts "1." and ".5" but not a lone ".".
    if (intDigits === '' && fracDigits === '') throw new InvalidDurationError(input, `expected a number at position ${intStart}`);

    const unitStart = i;
    while (i < input.length && input[i] !== '.' && !isDigit(input[i])) i++;
    const unit = input.slice(unitStart, i);
    if (unit === '') throw new InvalidDurationError(input, 'missing unit (one of ns, us, µs, ms, s, m, h)');
    const unitNs = UNIT_NS.get(unit);
    if (unitNs === undefined) throw new InvalidDurationError(input, `unknown unit ${JSON.stringify(unit)} (one of ns, us, µs, ms, s, m, h)`);

    const whole = intDigits === '' ? 0n : BigInt(intDigits);
    // Exact fraction: digits × unit / 10^digits, truncated to whole nanoseconds like Go.
    const frac = fracDigits === '' ? 0n : (BigInt(fracDigits) * unitNs) / 10n ** BigInt(fracDigits.length);
    total += whole * unitNs + frac;
    if (total > MAX_NS) throw new InvalidDurationError(input, 'out of range (more than about 292 years)');
  }
  // Split before converting so whole milliseconds stay exact even beyond 2^53 nanoseconds.
  return Number(total / NS_PER_MS) + Number(total % NS_PER_MS) / 1e6;
}

/**
 * Renders milliseconds as a short duration for humans and for round-trips through parseDuration: "3m", "1h5m",
 * "31m12s", "1.5s", "250ms", "0s". Whole units are shown from hours down to seconds with zero parts omitted;
 * under a second it shows milliseconds; between 1s and 1m a fractional second keeps up to 3 decimals. Beyond a
 * minute, seconds are rounded to whole seconds (an ETA of "31m12.5s" helps no one). Negative input is rendered
 * with a leading "-" (never produced by parseDuration, but a caller may format a difference).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Number(ms.toPrecision(3))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(3))}s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}
