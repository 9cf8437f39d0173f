/**
 * V8 settings for the long-running operator process, applied once when it starts (`kubeskippy run`, the demo).
 */
import v8 from 'node:v8';

/**
 * Turns off V8's bytecode flushing for this process. V8 drops the compiled code of a function that has not run for
 * a few garbage collections, to save memory in browser tabs. In a quiet operator that is the code of every rare
 * path — a trigger firing, an action created, an execution — so the first detection after a quiet spell ran cold:
 * measured at 5 000 pods, detection p50 128 ms with flushing, 57 ms without (docs/scaling.md). The operator's code
 * is small and fixed, so keeping it costs a few MiB. The flag is read at every collection, so setting it at run
 * time takes effect (Node does not freeze V8 flags after start).
 */
export function keepCompiledCode(): void {
  v8.setFlagsFromString('--no-flush-bytecode');
}
