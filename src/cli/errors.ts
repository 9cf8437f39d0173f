/**
 * The CLI's exit codes and the one place where failures become them. Commands either return an outcome with a
 * code, or throw; `exitCodeOf` and `describeError` turn anything thrown into a code and one clear line.
 *
 *   0  done
 *   1  refused or failed: nothing to approve, validate found errors, an API error not listed below
 *   2  bad usage: unknown command or flag, a missing or malformed argument, an invalid operator configuration
 *   3  not found: the named HealingAction or policy does not exist
 *   4  unreachable: no usable kubeconfig, the API server (or Prometheus, for replay) cannot be reached, timed
 *      out or answered 5xx (Prometheus refusing a query is 1)
 *   5  not allowed: the API server refused the credentials (401) or the request (403: RBAC, admission policy)
 */
import { ConfigError } from '../config/load.js';
import { KubeConfigError } from '../k8s/client.js';
import { describeKubeError, KubeError, toKubeError } from '../k8s/errors.js';
import { PrometheusUnavailableError, RangeQueryError } from '../replay/prometheus-range.js';

/** Exit codes of the CLI (see the module comment). */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, NotFound: 3, Unavailable: 4, Forbidden: 5 } as const;
/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad invocation (exit code 2). The message is one line. */
export class UsageError extends Error {
  readonly code = 'Usage';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The named object does not exist (exit code 3). */
export class NotFoundError extends Error {
  readonly code = 'NotFound';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** A service the command needs (the API server, Prometheus) cannot be reached or failed (exit code 4). */
export class UnavailableError extends Error {
  readonly code = 'Unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

/** True for errors that came from a Kubernetes API call (client-node or our KubeError). */
function isKubeCallError(e: unknown): boolean {
  if (e instanceof KubeError) return true;
  const k = toKubeError(e);
  return k.code !== 'Unknown' || k.status !== undefined;
}

/** The exit code for anything a command threw. */
export function exitCodeOf(e: unknown): ExitCodeValue {
  if (e instanceof UsageError || e instanceof ConfigError) return ExitCode.Usage;
  if (e instanceof NotFoundError) return ExitCode.NotFound;
  if (e instanceof UnavailableError || e instanceof KubeConfigError || e instanceof PrometheusUnavailableError) return ExitCode.Unavailable;
  if (e instanceof RangeQueryError) return ExitCode.Failure;
  if (isKubeCallError(e)) {
    switch (toKubeError(e).code) {
      case 'NotFound':
        return ExitCode.NotFound;
      case 'Unauthorized':
      case 'Forbidden':
        return ExitCode.Forbidden;
      case 'Unavailable':
      case 'Aborted':
        return ExitCode.Unavailable;
      default:
        return ExitCode.Failure;
    }
  }
  return ExitCode.Failure;
}

/**
 * One line for anything a command threw: the message of our own errors, the API server's words for API errors — and
 * for an invalid operator configuration, its list of problems, one line each.
 */
export function describeError(e: unknown): string {
  // A configuration error lists every bad setting, one per line: joined, the list would be unreadable.
  if (e instanceof ConfigError) return e.message;
  if (e instanceof UsageError || e instanceof NotFoundError || e instanceof UnavailableError || e instanceof KubeConfigError) return oneLine(e.message);
  if (e instanceof PrometheusUnavailableError || e instanceof RangeQueryError) return oneLine(e.message);
  if (isKubeCallError(e)) return describeKubeError(e);
  return oneLine(e instanceof Error ? e.message : String(e));
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
