#!/usr/bin/env node
// Bundles the compiled operator (DIST/cli/main.js, from tsc) with @kubernetes/client-node into DIST/kubeskippy.mjs,
// the module bin/kubeskippy.js loads. Usage: node hack/build/bundle.mjs [DIST=dist]
//
// Why: client-node 2.x is ~25 MB of generated JavaScript whose API groups live in a few monolithic modules, so an
// import loads every group although the operator calls a handful. V8 keeps each module's source text in the heap
// (lazy compilation reads it again), so that text alone was ~26 MiB of the operator's heap at 5 000 pods
// (docs/scaling.md). Bundled, esbuild keeps only what is reachable: the import costs ~50 MiB less RSS and starts
// about twice as fast. Every other package stays external, loaded from node_modules as before: they are small,
// some find files of their own at run time (pino's transport workers), and none gains from it.
//
// The bundle sits at DIST/ (not DIST/cli/) so that paths the code resolves from import.meta.url keep meaning the
// same (version.ts reads ../package.json); the dashboard finds its static files from either place.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const dist = path.resolve(process.argv[2] ?? 'dist');
const BUNDLED = '@kubernetes/client-node';

/** Marks every bare import external except client-node's own (relative imports inside it are bundled as usual). */
const onlyClientNode = {
  name: 'only-client-node',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === BUNDLED || args.path.startsWith(`${BUNDLED}/`)) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const started = performance.now();
const result = await build({
  entryPoints: [path.join(dist, 'cli/main.js')],
  outfile: path.join(dist, 'kubeskippy.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Whitespace only: V8 keeps the bundle's whole source text in the heap (lazy compilation reads it again), and
  // without indentation and comments it is 2.9 MiB instead of 6.6 (measured). Names are not minified, so stack
  // traces, CPU profiles and heap snapshots keep the functions' and classes' names; the source map leads back to
  // dist/ (node --enable-source-maps).
  minifyWhitespace: true,
  sourcemap: 'linked',
  plugins: [onlyClientNode],
  metafile: true,
  logLevel: 'warning',
});
// V8 stores a module's source text (kept in the heap for lazy compilation) as one byte a character only when
// every character is Latin-1; a single "—" makes the whole 7 MB string two bytes a character. esbuild escapes what
// is outside ASCII in strings, templates and identifiers, not in the doc comments it keeps: those are escaped here,
// and a character above Latin-1 anywhere else fails the build rather than doubling the operator's largest string.
const bundleFile = path.join(dist, 'kubeskippy.mjs');
const text = readFileSync(bundleFile, 'utf8');
// (Characters above U+00FF; a character class of the Latin-1 range would name the control characters.)
const wide = /[\u0100-\uffff]/;
const code = text.split('\n').filter((line) => wide.test(line) && !/^\s*(\/\/|\/\*|\*)/.test(line));
if (code.length > 0) throw new Error(`characters above Latin-1 outside comments in the bundle:\n${code.slice(0, 5).join('\n')}`);
writeFileSync(bundleFile, text.replace(/[\u0100-\uffff]/g, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`));

const out = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
const mib = (n) => (n / 2 ** 20).toFixed(1);
const fromClientNode = Object.entries(out.inputs)
  .filter(([p]) => p.includes('node_modules/@kubernetes/client-node/'))
  .reduce((s, [, i]) => s + i.bytesInOutput, 0);
console.log(
  `bundled ${path.relative(process.cwd(), path.join(dist, 'kubeskippy.mjs'))}: ${mib(out.bytes)} MiB, of which client-node ${mib(fromClientNode)} MiB, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
