/**
 * Cleaning text that crosses the LLM boundary, in either direction. Pure.
 *
 * Strings from the cluster (Event reasons and messages, names, trigger values) can be written by anyone who may
 * create an Event or name an object in a namespace, so before they reach a prompt they are treated as hostile:
 * invisible and control characters removed (they hide instructions from people reading logs), anything shaped
 * like a credential replaced by `[redacted]`, quotes flattened, and the result capped. Errors from providers go
 * through the same redaction, plus the removal of the exact API key, before they are logged.
 */
import { capText } from '../k8s/input-limits.js';

/** What replaces a redacted credential. */
export const REDACTED = '[redacted]';

// Control characters, bidirectional overrides and zero-width characters: none carries meaning in an Event
// message, and each can make text read differently to a person and to a model.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Credential shapes, most specific first. Each is replaced whole; `key=value` pairs keep their key so the sentence
 * still says what was there. A false positive costs a word of an Event message; a false negative leaks a secret to
 * a third party, so the patterns lean wide.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  // PEM blocks (private keys, certificates).
  [/-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)/g, REDACTED],
  // JSON Web Tokens (service-account tokens among them).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*)?/g, REDACTED],
  // Authorization schemes.
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // Credentials inside URLs: scheme://user:password@host.
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Well-known key prefixes: OpenAI/Anthropic-style sk-, GitHub, Slack, AWS access key ids, Google API keys.
  [/\b(sk|rk|pk)-[A-Za-z0-9_-]{12,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{16,}/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, REDACTED],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED],
  // key=value / key: value / "key": "value" where the key names a credential.
  [
    /\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*)(['"]?\s*[:=]\s*)(['"]?)[^\s'",;&]+\3/gi,
    `$1$2${REDACTED}`,
  ],
];

/** Runs of 32+ characters that could be base64 or hex. Hyphens and dots end a run, so names and UIDs are never one. */
const OPAQUE_RUN = /[A-Za-z0-9+/_=]{32,}/g;

/**
 * Whether a long run looks like key material rather than words: hex with letters and digits, or a mix of upper
 * case, lower case and digits (base64). A path such as `api/v1/namespaces/default/pods` is neither.
 */
function isOpaque(run: string): boolean {
  if (/^[0-9a-fA-F]+$/.test(run)) return /[0-9]/.test(run) && /[a-fA-F]/.test(run);
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
}

/** `text` with every credential-shaped part replaced by {@link REDACTED}. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of SECRET_PATTERNS) out = out.replace(re, replacement);
  return out.replace(OPAQUE_RUN, (run) => (isOpaque(run) ? REDACTED : run));
}

/**
 * `text` with every occurrence of each of `secrets` (the API key) replaced by {@link REDACTED}, then the
 * credential shapes of {@link redactSecrets}. Secrets shorter than 4 characters are ignored (replacing them would
 * shred the message and they are not keys).
 */
export function redactKnown(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.split(s).join(REDACTED);
  }
  return redactSecrets(out);
}

/**
 * A cluster string made safe to quote in a prompt: invisible characters become spaces, credentials are redacted,
 * `"` becomes `'` and `\` becomes `/` (the JSON framing then never needs an escape a model could misread), runs
 * of whitespace collapse, and the result is cut to `max` characters.
 */
export function cleanClusterText(text: string, max: number): string {
  // Lone surrogates would turn into 6-character escapes in JSON and break the size bound.
  const visible = text.toWellFormed().replace(INVISIBLE, ' ');
  const redacted = redactSecrets(visible);
  const flat = redacted.replace(/"/g, "'").replace(/\\/g, '/').replace(/\s+/g, ' ').trim();
  return capText(flat, max);
}

/** A model-written string made safe to store and log: invisible characters removed, whitespace collapsed, capped. */
export function cleanModelText(text: string, max: number): string {
  return capText(text.toWellFormed().replace(INVISIBLE, ' ').replace(/\s+/g, ' ').trim(), max);
}
