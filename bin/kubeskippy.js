#!/usr/bin/env node
// The `kubeskippy` command (also usable as the kubectl plugin `kubectl skippy`). A thin shell: all the work is in
// dist/cli, compiled from src/cli by `npm run build`.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
