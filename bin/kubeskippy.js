#!/usr/bin/env node
// The `kubeskippy` command (also usable as the kubectl plugin `kubectl skippy`). A thin shell: all the work is in
// dist/kubeskippy.mjs, which `npm run build` compiles from src/ and bundles with @kubernetes/client-node
// (hack/build/bundle.mjs says why).
import { closedPipeExit, main } from '../dist/kubeskippy.mjs';

closedPipeExit(process.stdout, (code) => process.exit(code));
process.exitCode = await main(process.argv.slice(2));
