/**
 * Typed executor errors with stable codes, and the mapping from Kubernetes API failures to them.
 *
 * The team-wide error mapping is planned for `src/k8s/errors.ts`; until it lands, this module is the only place
 * in `src/remediation` that looks at HTTP status codes. The mapping is deliberately small: an executor needs to
 * tell a caller whether the target vanished, the decision went stale, a PodDisruptionBudget said no, the API
 * server rejected the change, we lack permission, the action cannot apply, or the failure was transient.
 */
import { ApiException } from '@kubernetes/client-node';

/** Every code an ExecutorError can carry. Codes are stable: callers switch on them and record them in status. */
export const EXECUTOR_ERROR_CODES = [
  /** The target (or an object the action needs) does not exist any more (HTTP 404). */
  'TargetGone',
  /** The object changed since the decision was made: a resourceVersion/uid precondition failed (HTTP 409). */
  'StaleDecision',
  /** The Eviction API refused because a PodDisruptionBudget would be violated (HTTP 429 from eviction). */
  'PdbBlocked',
  /** The API server refused the change as invalid (HTTP 400/422); the message carries its causes. */
  'Rejected',
  /** The operator is not allowed to do this (HTTP 401/403). */
  'Forbidden',
  /** The action cannot work on this kind of target at all (e.g. delete on a Namespace); refused before any call. */
  'Unsupported',
  /** The action's settings are malformed (e.g. a patch document that does not parse), or execute called in dry run. */
  'Invalid',
  /** The action does not apply to the target's current state (e.g. rollback without a previous revision). */
  'NotApplicable',
  /** A server or network failure that may succeed if retried (HTTP 5xx, throttling 429, connection errors). */
  'Transient',
  /** The caller's AbortSignal fired. */
  'Aborted',
] as const;

/** A stable executor error code. */
export type ExecutorErrorCode = (typeof EXECUTOR_ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<ExecutorErrorCode> = new Set(['Transient', 'PdbBlocked']);

/** Options of an ExecutorError beyond code and message. */
export interface ExecutorErrorOptions {
  readonly cause?: unknown;
  /** The HTTP status of the API response that caused this error, if any. */
  readonly httpStatus?: number;
  /** Individual causes reported by the API server (`field: message`). */
  readonly causes?: readonly string[];
  /** How long the API server asked us to wait before retrying. */
  readonly retryAfterMs?: number;
}

/**
 * The only error type executors throw on purpose. `code` is stable; `message` is for humans and includes the API
 * server's own message where there is one. `retryable` says whether the same request may succeed later unchanged
 * (a stale decision is not retryable: it must be re-decided on fresh state).
 */
export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
  readonly code: ExecutorErrorCode;
  readonly httpStatus: number | undefined;
  readonly causes: readonly string[];
  readonly retryAfterMs: number | undefined;

  constructor(code: ExecutorErrorCode, message: string, options: ExecutorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.causes = options.causes ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Whether retrying the same request unchanged can succeed (Transient, PdbBlocked). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** True if `e` is an ExecutorError (with the given code, when one is passed). */
export function isExecutorError(e: unknown, code?: ExecutorErrorCode): e is ExecutorError {
  return e instanceof ExecutorError && (code === undefined || e.code === code);
}

/** The parts of a Kubernetes `Status` body that the mapping uses. */
export interface ApiStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: {
    readonly name?: string;
    readonly kind?: string;
    readonly retryAfterSeconds?: number;
    readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses the body of a failed API call into a Status. client-node 2.x hands the raw response text to
 * ApiException, so the body is usually a JSON string; an already-parsed object is accepted too. Returns
 * undefined for anything that is not a Status.
 */
export function parseApiStatus(body: unknown): ApiStatus | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(value) || value['kind'] !== 'Status') return undefined;
  const out: { -readonly [K in keyof ApiStatus]: ApiStatus[K] } = {};
  if (typeof value['message'] === 'string') out.message = value['message'];
  if (typeof value['reason'] === 'string') out.reason = value['reason'];
  if (typeof value['code'] === 'number') out.code = value['code'];
  const details = value['details'];
  if (isRecord(details)) {
    const causes = Array.isArray(details['causes'])
      ? details['causes'].filter(isRecord).map((c) => ({
          ...(typeof c['reason'] === 'string' ? { reason: c['reason'] } : {}),
          ...(typeof c['message'] === 'string' ? { message: c['message'] } : {}),
          ...(typeof c['field'] === 'string' ? { field: c['field'] } : {}),
        }))
      : undefined;
    out.details = {
      ...(typeof details['name'] === 'string' ? { name: details['name'] } : {}),
      ...(typeof details['kind'] === 'string' ? { kind: details['kind'] } : {}),
      ...(typeof details['retryAfterSeconds'] === 'number' ? { retryAfterSeconds: details['retryAfterSeconds'] } : {}),
      ...(causes ? { causes } : {}),
    };
  }
  return out;
}

/** What the failed call was doing; shapes the message and a few code decisions. */
export interface ApiErrorContext {
  /** Human description of the call, e.g. `evict Pod shop/web-1`. */
  readonly what: string;
  /** The call was an eviction: a 429 then means a PodDisruptionBudget refused it. */
  readonly eviction?: boolean;
  /** The caller's signal: an abort is reported as Aborted whatever the transport said. */
  readonly signal?: AbortSignal;
}

function causeLines(status: ApiStatus | undefined): string[] {
  return (status?.details?.causes ?? [])
    .map((c) => [c.field, c.message ?? c.reason].filter((s): s is string => typeof s === 'string' && s.length > 0).join(': '))
    .filter((s) => s.length > 0);
}

/**
 * Maps any failure of an API call to an ExecutorError. An ExecutorError passes through unchanged.
 * 404 → TargetGone; 409 → StaleDecision; 429 → PdbBlocked for evictions, Transient otherwise; 400/422 → Rejected
 * (with the server's message and causes); 401/403 → Forbidden; 405/415 → Unsupported; 5xx and transport errors →
 * Transient; an aborted signal → Aborted. Never throws.
 */
export function mapApiError(e: unknown, context: ApiErrorContext): ExecutorError {
  if (e instanceof ExecutorError) return e;
  if (context.signal?.aborted) {
    return new ExecutorError('Aborted', `${context.what}: aborted`, { cause: e });
  }
  if (!(e instanceof ApiException)) {
    const name = e instanceof Error ? e.name : '';
    if (name === 'AbortError' || name === 'TimeoutError') {
      return new ExecutorError('Aborted', `${context.what}: aborted`, { cause: e });
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new ExecutorError('Transient', `${context.what} failed: ${msg}`, { cause: e });
  }
  const code = (e as ApiException<unknown>).code;
  const status = parseApiStatus((e as ApiException<unknown>).body);
  const serverMessage = status?.message ?? `HTTP ${String(code)}`;
  const causes = causeLines(status);
  // Eviction 429s carry their reason only in the causes ("The disruption budget X needs 3 healthy pods...").
  const extra = causes.filter((c) => !serverMessage.includes(c));
  const full = extra.length > 0 ? `${serverMessage} (${extra.join('; ')})` : serverMessage;
  const message = `${context.what}: ${full}`;
  const retryAfterMs = status?.details?.retryAfterSeconds !== undefined ? status.details.retryAfterSeconds * 1000 : undefined;
  const options: ExecutorErrorOptions = {
    cause: e,
    httpStatus: code,
    causes,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  if (code === 404) return new ExecutorError('TargetGone', message, options);
  if (code === 409) return new ExecutorError('StaleDecision', message, options);
  if (code === 429) return new ExecutorError(context.eviction ? 'PdbBlocked' : 'Transient', message, options);
  if (code === 400 || code === 422) return new ExecutorError('Rejected', message, options);
  if (code === 401 || code === 403) return new ExecutorError('Forbidden', message, options);
  if (code === 405 || code === 415) return new ExecutorError('Unsupported', message, options);
  return new ExecutorError('Transient', message, options);
}

/**
 * Runs one API call and maps its failure with mapApiError. Checks the signal first so an aborted action makes no
 * further calls.
 */
export async function callApi<T>(context: ApiErrorContext, call: () => Promise<T>): Promise<T> {
  if (context.signal?.aborted) throw new ExecutorError('Aborted', `${context.what}: aborted before the call`);
  try {
    return await call();
  } catch (e: unknown) {
    throw mapApiError(e, context);
  }
}
