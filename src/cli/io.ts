/**
 * Where the CLI writes. A module of its own because both the command tree (main.ts) and the commands it registers
 * (approve.ts) need the type: kept in either of them, the two modules would import each other.
 */

/** Where the CLI writes lines; injectable so tests can capture output. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The part of a writable stream closedPipeExit listens on (process.stdout in production). */
export interface ErrorEmitter {
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown;
}

/**
 * Makes a closed pipe on `stream` end the process quietly: `kubeskippy demo --print | head` stops reading after a
 * few lines, and the next write fails with EPIPE — which, unhandled, crashed the CLI with a stack trace. Calls
 * `exit(0)` on EPIPE (the reader has what it wanted, as with `git log | head`); any other error is rethrown, as
 * before. Returns nothing; call once, at process start.
 */
export function closedPipeExit(stream: ErrorEmitter, exit: (code: number) => void): void {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') {
      exit(0);
      return;
    }
    throw error;
  });
}
