/**
 * The only place that sniffs HTTP status codes. Errors from @kubernetes/client-node (ApiException with `.code` and
 * `.body`, watch errors with `.statusCode`, ERROR watch events carrying a Status), from undici (network failures
 * nested in `cause`) and from aborts are mapped to one KubeError type with a stable `code`. Everything else in the
 * operator asks `isNotFound(e)`, `isConflict(e)`, … or switches on `toKubeError(e).code`.
 */

/** Stable codes of Kubernetes API failures. */
export const KUBE_ERROR_CODES = [
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'TooManyRequests',
  'Forbidden',
  'Unauthorized',
  'Invalid',
  'BadRequest',
  'Gone',
  'Unavailable',
  'Aborted',
  'Unknown',
] as const;
/** A stable code of a Kubernetes API failure. */
export type KubeErrorCode = (typeof KUBE_ERROR_CODES)[number];

/** One field-level cause from a Status body (`details.causes[]`), e.g. a rejected field of an Invalid (422). */
export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** What a KubeError carries besides its code and message. */
export interface KubeErrorDetails {
  /** HTTP status, when the API server answered. */
  readonly status?: number;
  /** The Status `reason` (NotFound, AlreadyExists, Conflict, Invalid, TooManyRequests, …). */
  readonly reason?: string;
  /** Field-level causes (Invalid) or other causes (a PDB blocking an eviction). */
  readonly causes?: readonly StatusCause[];
  /** Seconds the server asked us to wait (429/503 Retry-After or Status details). */
  readonly retryAfterSeconds?: number;
  /** The original error. */
  readonly cause?: unknown;
}

/**
 * A failed Kubernetes API call, with a stable code. `message` is the API server's own message (never the raw
 * response headers); `causes` holds field errors for Invalid.
 */
export class KubeError extends Error {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly causes: readonly StatusCause[];
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: KubeErrorCode,
    message: string,
    details: KubeErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = `${code}Error`;
    this.status = details.status;
    this.reason = details.reason;
    this.causes = details.causes ?? [];
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Parses a Status body (object or JSON text); undefined when it is not one. */
function parseStatus(body: unknown): Record<string, unknown> | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  return isRecord(value) && (value['kind'] === 'Status' || 'reason' in value || 'message' in value) ? value : undefined;
}

function causesOf(status: Record<string, unknown> | undefined): StatusCause[] {
  const details = status?.['details'];
  const raw = isRecord(details) ? details['causes'] : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((c) => {
    const reason = str(c['reason']);
    const message = str(c['message']);
    const field = str(c['field']);
    return { ...(reason === undefined ? {} : { reason }), ...(message === undefined ? {} : { message }), ...(field === undefined ? {} : { field }) };
  });
}

function retryAfterOf(status: Record<string, unknown> | undefined, headers: unknown): number | undefined {
  const details = status?.['details'];
  const fromBody = isRecord(details) ? details['retryAfterSeconds'] : undefined;
  if (typeof fromBody === 'number' && fromBody > 0) return fromBody;
  if (isRecord(headers)) {
    const h = headers['retry-after'] ?? headers['Retry-After'];
    const n = typeof h === 'string' ? Number(h) : NaN;
    if (Number.isFinite(n) && n > 0) return n;
  }
  return undefined;
}

function codeForStatus(status: number, reason: string | undefined): KubeErrorCode {
  switch (status) {
    case 400:
    case 415:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
    case 410:
      return 'Gone';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    default:
      return status >= 500 ? 'Unavailable' : 'Unknown';
  }
}

/** A network-level failure code (ECONNREFUSED, UND_ERR_SOCKET, …) found along the `cause` chain. */
function networkCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && isRecord(cur); depth++) {
    const code = cur['code'];
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    cur = cur['cause'];
  }
  return undefined;
}

function httpStatusOf(e: Record<string, unknown>): number | undefined {
  for (const key of ['code', 'statusCode'] as const) {
    const v = e[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599) return v;
  }
  return undefined;
}

function fromHttp(status: number, body: unknown, headers: unknown, fallback: string, cause: unknown): KubeError {
  const parsed = parseStatus(body);
  const reason = str(parsed?.['reason']);
  const causes = causesOf(parsed);
  const retryAfterSeconds = retryAfterOf(parsed, headers);
  const message = str(parsed?.['message']) ?? (typeof body === 'string' && body.trim() !== '' && !body.trim().startsWith('{') ? body.trim().slice(0, 500) : fallback);
  return new KubeError(codeForStatus(status, reason), message, {
    status,
    ...(reason === undefined ? {} : { reason }),
    causes,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    cause,
  });
}

/**
 * Maps anything thrown by a Kubernetes call to a KubeError. Idempotent (a KubeError is returned as is); never
 * throws. Recognises: client-node ApiException (`code` + `body`), watch errors (`statusCode`), Status objects
 * (e.g. from an ERROR watch event), undici network errors (`cause.code`), AbortError/TimeoutError. Anything else is
 * `Unknown` with the original error as `cause`.
 */
export function toKubeError(e: unknown): KubeError {
  if (e instanceof KubeError) return e;
  if (isRecord(e)) {
    const status = httpStatusOf(e);
    if (status !== undefined) {
      if ('body' in e) return fromHttp(status, e['body'], e['headers'], `HTTP ${status}`, e);
      if (e['kind'] === 'Status') return fromHttp(status, e, undefined, `HTTP ${status}`, e);
      const msg = e instanceof Error && e.message !== '' ? e.message : `HTTP ${status}`;
      return fromHttp(status, undefined, undefined, msg, e);
    }
    const net = networkCode(e);
    if (net !== undefined) {
      const base = e instanceof Error ? e.message : 'network error';
      return new KubeError('Unavailable', `${base} (${net})`, { reason: net, cause: e });
    }
    if (e['name'] === 'TimeoutError') return new KubeError('Unavailable', 'request timed out', { reason: 'Timeout', cause: e });
    if (e['name'] === 'AbortError') return new KubeError('Aborted', 'request aborted', { cause: e });
  }
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : 'unknown error';
  return new KubeError('Unknown', message.split('\n')[0] ?? message, { cause: e });
}

/** The error's KubeError code (mapping it first). */
export function kubeErrorCode(e: unknown): KubeErrorCode {
  return toKubeError(e).code;
}

/** True for 404 NotFound. */
export function isNotFound(e: unknown): boolean {
  return kubeErrorCode(e) === 'NotFound';
}
/** True for 409 AlreadyExists (a create raced with another create). */
export function isAlreadyExists(e: unknown): boolean {
  return kubeErrorCode(e) === 'AlreadyExists';
}
/** True for 409 Conflict (a stale resourceVersion: someone else wrote first). Not true for AlreadyExists. */
export function isConflict(e: unknown): boolean {
  return kubeErrorCode(e) === 'Conflict';
}
/** True for 429 TooManyRequests (throttling, or an eviction refused by a PodDisruptionBudget). */
export function isTooManyRequests(e: unknown): boolean {
  return kubeErrorCode(e) === 'TooManyRequests';
}
/** True for 403 Forbidden (RBAC). */
export function isForbidden(e: unknown): boolean {
  return kubeErrorCode(e) === 'Forbidden';
}
/** True for 401 Unauthorized (credentials rejected). */
export function isUnauthorized(e: unknown): boolean {
  return kubeErrorCode(e) === 'Unauthorized';
}
/** True for 422 Invalid (the object failed validation; see `causes`). */
export function isInvalid(e: unknown): boolean {
  return kubeErrorCode(e) === 'Invalid';
}
/** True for 410 Gone (a watch's resourceVersion is too old: relist). */
export function isGone(e: unknown): boolean {
  return kubeErrorCode(e) === 'Gone';
}
/** True when the API server could not be reached or failed (5xx, connection refused/reset, timeouts). */
export function isUnavailable(e: unknown): boolean {
  return kubeErrorCode(e) === 'Unavailable';
}
/** True when the failure is worth retrying unchanged later (Conflict after a re-read, 429, 5xx, network). */
export function isRetryable(e: unknown): boolean {
  const code = kubeErrorCode(e);
  return code === 'Conflict' || code === 'TooManyRequests' || code === 'Unavailable';
}

/**
 * One clear line for logs, Events and the CLI: `Invalid (422): ConfigMap "x" is invalid: [field: message]`.
 * Field causes are appended when the server's message does not already name them.
 */
export function describeKubeError(e: unknown): string {
  const k = toKubeError(e);
  const head = k.status === undefined ? k.code : `${k.code} (${k.status})`;
  const extra = k.causes
    .map((c) => [c.field, c.message ?? c.reason].filter((s) => s !== undefined).join(': '))
    .filter((s) => s !== '' && !k.message.includes(s));
  const retry = k.retryAfterSeconds === undefined ? '' : ` (retry after ${k.retryAfterSeconds}s)`;
  const line = `${head}: ${k.message}${extra.length > 0 ? ` [${extra.join('; ')}]` : ''}${retry}`;
  return line.replace(/\s*\n\s*/g, ' ');
}
