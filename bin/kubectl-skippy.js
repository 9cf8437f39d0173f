#!/usr/bin/env node
// The kubectl plugin `kubectl skippy …`: kubectl runs the executable named kubectl-skippy that it finds on PATH
// with the arguments after "skippy" (npm links this file as kubectl-skippy). The same CLI as `kubeskippy`, naming
// itself as the plugin in usage lines.
import { closedPipeExit, main } from '../dist/kubeskippy.mjs';

closedPipeExit(process.stdout, (code) => process.exit(code));
process.exitCode = await main(process.argv.slice(2), undefined, { name: 'kubectl skippy' });
