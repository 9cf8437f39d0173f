/**
 * Why an LLM could not advise, as a typed error with a stable code. Every failure of the optional LLM path ends as
 * one of these and then as a fallback to the built-in analyzer: the code is the `result` label of
 * `kubeskippy_llm_requests_total` (`fallback-<code>`) and the start of the fallback reason, so it must stay stable.
 */

/** Every code an AdviceError can carry. */
export const ADVICE_ERROR_CODES = [
  /** The answer is not one JSON object (nor one ```json fenced block holding one). */
  'MalformedAnswer',
  /** The answer is JSON but breaks the answer schema (missing, extra or out-of-range field); `field` names it. */
  'SchemaViolation',
  /** The answer names an action the policy does not allow (in `action` or an alternative). */
  'ActionNotAllowed',
  /** The answer names a target that is not among the allowed targets (outside the policy's selection). */
  'TargetNotAllowed',
  /** The overall deadline (ai.timeoutSeconds) passed before an answer arrived. */
  'Timeout',
  /** The provider could not be reached (connection refused, reset, DNS). Retried once. */
  'NetworkError',
  /** The provider answered with an HTTP error status; transient for 5xx and 429 (retried once), else final. */
  'HttpError',
  /** The provider refused the credentials (HTTP 401/403). Never retried: the same key fails again. */
  'Unauthorized',
  /** The provider's reply is not the chat API's envelope (not JSON, no message content, too large). */
  'BadResponse',
  /** Too many consecutive failures: the advisor stopped calling the provider for a while. */
  'CircuitOpen',
  /** As many requests as allowed are already in flight; this one was not sent. */
  'Busy',
  /** A defect: something threw that should not have. Logged with the error. */
  'Internal',
] as const;

/** A stable advice failure code. */
export type AdviceErrorCode = (typeof ADVICE_ERROR_CODES)[number];

/** Options of an AdviceError beyond code and message. */
export interface AdviceErrorOptions {
  readonly cause?: unknown;
  /** The answer field at fault (`confidence`, `target`, `alternatives/1/action` …), for answer errors. */
  readonly field?: string;
  /** HTTP status of the provider's reply, for HttpError and Unauthorized. */
  readonly status?: number;
  /** How long the provider asked us to wait (Retry-After), when it did. */
  readonly retryAfterMs?: number;
}

/** Codes whose request may succeed if sent again unchanged (the advisor retries these once). */
const TRANSIENT_CODES: ReadonlySet<AdviceErrorCode> = new Set(['NetworkError']);

/**
 * A failure of the LLM path. `message` is for humans and logs: it never contains the API key (providers redact it)
 * and quotes at most a capped, redacted snippet of what the provider said.
 */
export class AdviceError extends Error {
  override readonly name = 'AdviceError';
  readonly code: AdviceErrorCode;
  readonly field: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: AdviceErrorCode, message: string, options: AdviceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether sending the same request again may succeed: network errors, HTTP 5xx and 429. */
  get transient(): boolean {
    if (TRANSIENT_CODES.has(this.code)) return true;
    return this.code === 'HttpError' && this.status !== undefined && (this.status >= 500 || this.status === 429);
  }
}

/** True if `e` is an AdviceError (with the given code, when one is passed). */
export function isAdviceError(e: unknown, code?: AdviceErrorCode): e is AdviceError {
  return e instanceof AdviceError && (code === undefined || e.code === code);
}
