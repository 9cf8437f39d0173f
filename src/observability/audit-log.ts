/**
 * The append-only audit trail: one JSON object per line for every decision the operator takes (action created,
 * denied, executed, verified, approved…), with its time, policy, target, action, decision, reason and confidence.
 * Writing never throws into the caller: a failure to serialise or write is counted, logged and reported through
 * `onError`, and the operator carries on (the HealingAction in the API server stays the ledger of record).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Clock } from '../runtime/clock.js';
import { silentLogger, type Logger } from './logger.js';

/** One audited decision. Extra fields are allowed and written as given. */
export interface AuditRecord {
  /** Policy as `namespace/name`. */
  readonly policy: string;
  /** What happened: created, denied, executed, succeeded, failed, approved, dry-run, recommended… */
  readonly decision: string;
  /** Target as `Kind/namespace/name`. */
  readonly target?: string;
  /** Action type or name (restart, scale…). */
  readonly action?: string;
  /** Why (a denial reason such as RateLimited, a verification message…). */
  readonly reason?: string;
  /** Confidence 0–1 of an analysis recommendation. */
  readonly confidence?: number;
  /** rule or ai. */
  readonly source?: string;
  /** The HealingAction's name, when there is one. */
  readonly healingAction?: string;
  readonly dryRun?: boolean;
  readonly [extra: string]: unknown;
}

/** Options of createAuditLog: exactly one of `path` (appended to, created if missing) or `stream`. */
export interface AuditLogOptions {
  readonly clock: Clock;
  readonly path?: string;
  readonly stream?: Writable;
  readonly logger?: Logger;
  /** Called for each failure (after it was counted and logged). Exceptions it throws are swallowed. */
  readonly onError?: (error: Error) => void;
}

/** The audit writer. */
export interface AuditLog {
  /** Appends one line with `time` (ISO, from the clock) first. Never throws. */
  write(record: AuditRecord): void;
  /** Lines handed to the stream so far. */
  readonly written: number;
  /** Failures so far (serialisation or stream errors). */
  readonly errors: number;
  /** Flushes and closes the underlying file (a passed-in stream is ended only if `endStream`). Never rejects. */
  close(options?: { endStream?: boolean }): Promise<void>;
}

/** An ISO-8601 rendering of a clock reading (formats a given instant; does not read the time). */
function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** A stand-in used when the audit log is disabled (no path configured). */
export const disabledAuditLog: AuditLog = {
  write: () => undefined,
  written: 0,
  errors: 0,
  close: () => Promise.resolve(),
};

/** Creates the audit writer. Throws only for invalid options (neither or both of path and stream). */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  if ((options.path === undefined) === (options.stream === undefined)) {
    throw new TypeError('createAuditLog needs exactly one of path or stream');
  }
  const logger = (options.logger ?? silentLogger).child({ component: 'audit-log' });
  const ownsStream = options.path !== undefined;
  const stream: Writable = options.stream ?? createWriteStream(options.path ?? '', { flags: 'a', encoding: 'utf8' });
  let written = 0;
  let errors = 0;
  let closed = false;

  const fail = (error: Error, what: string): void => {
    errors++;
    logger.error({ err: error, path: options.path }, what);
    try {
      options.onError?.(error);
    } catch {
      // A broken error callback must not turn an audit failure into an operator failure.
    }
  };
  stream.on('error', (e: Error) => fail(e, 'audit log stream failed'));

  return {
    get written() {
      return written;
    },
    get errors() {
      return errors;
    },
    write(record) {
      let line: string;
      try {
        line = `${JSON.stringify({ time: isoTime(options.clock.now()), ...record })}\n`;
      } catch (e: unknown) {
        fail(e instanceof Error ? e : new Error(String(e)), 'audit record could not be serialised');
        return;
      }
      if (closed || stream.destroyed || stream.writableEnded) {
        fail(new Error('audit log is closed'), 'audit record dropped');
        return;
      }
      try {
        stream.write(line);
        written++;
      } catch (e: unknown) {
        fail(e instanceof Error ? e : new Error(String(e)), 'audit record could not be written');
      }
    },
    close(closeOptions = {}) {
      if (closed) return Promise.resolve();
      closed = true;
      if (!ownsStream && closeOptions.endStream !== true) return Promise.resolve();
      return new Promise<void>((resolve) => {
        if (stream.destroyed) {
          resolve();
          return;
        }
        stream.end(() => resolve());
        stream.once('error', () => resolve());
      });
    },
  };
}
