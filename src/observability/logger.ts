/**
 * Structured logging. One pino logger per process, built by the composition root and handed down; components log
 * through `child({component})` loggers. Output is JSON lines (one object per line, `level` as a label, `time` as an
 * ISO string); `pretty` renders the same records as short human lines for a terminal, without extra dependencies.
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';

/** Log levels, most to least verbose; `silent` turns logging off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One logging call: a structured object first (may be empty), then a message; or a message alone. */
export interface LogMethod {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * What the rest of the code depends on: the subset of pino's logger it uses, so tests can pass a recorder or
 * `silentLogger` and nothing depends on a global logger.
 */
export interface Logger {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  /** A logger that adds `bindings` to every record (for example `{component: 'leader-election'}`). */
  child(bindings: Record<string, unknown>): Logger;
}

/** Where log lines go: anything with a `write(line)` method (a file stream, process.stdout, a test buffer). */
export interface LogDestination {
  write(chunk: string): unknown;
}

/** Options of createLogger. */
export interface LoggerOptions {
  /** Minimum level written; default `info`. */
  readonly level?: LogLevel;
  /** Human-readable lines instead of JSON (for a terminal); default false. */
  readonly pretty?: boolean;
  /** Where to write; default process.stdout. */
  readonly destination?: LogDestination;
  /** Fields added to every record (for example `{name: 'kubeskippy'}`). */
  readonly base?: Record<string, unknown>;
}

/**
 * Builds the process logger. Never throws for valid options. Error objects passed as `err` are serialised with
 * message, type and stack (pino's standard serializer).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const target = options.pretty === true ? prettyStream(destination) : destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    // pino writes synchronously to a plain stream object, which keeps ordering deterministic in tests.
    { write: (chunk: string) => void target.write(chunk) },
  );
}

/** A logger that discards everything; for tests and for components constructed without one. */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

const PRETTY_SKIP = new Set(['level', 'time', 'msg', 'component']);

/** Renders one JSON log line as `HH:MM:SS.mmm LEVEL [component] message key=value …`; non-JSON passes through. */
export function formatPrettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof rec['time'] === 'string' ? rec['time'].slice(11, 23) : '';
  const level = typeof rec['level'] === 'string' ? rec['level'].toUpperCase().padEnd(5) : '';
  const component = typeof rec['component'] === 'string' ? ` [${rec['component']}]` : '';
  const msg = typeof rec['msg'] === 'string' ? ` ${rec['msg']}` : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !PRETTY_SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level}${component}${msg}${fields === '' ? '' : ` ${fields}`}`;
}

function prettyStream(destination: LogDestination): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, callback) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      for (const line of text.split('\n')) {
        if (line !== '') destination.write(`${formatPrettyLine(line)}\n`);
      }
      callback();
    },
  });
}
