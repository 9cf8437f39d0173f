/**
 * Where the CLI writes. A module of its own because both the command tree (main.ts) and the commands it registers
 * (approve.ts) need the type: kept in either of them, the two modules would import each other.
 */

/** Where the CLI writes lines; injectable so tests can capture output. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}
