// Vitest as the TypeScript runner for the analyzer's evaluation scripts (hack/eval): not tests, and not part of
// `npm test` (the root vitest.config.ts never includes hack/). Each script is one long "test" that prints a
// report and writes its results; it fails only when the script itself cannot run.
//   npm run eval:analyzer     → hack/eval/analyzer-eval.ts
//   npm run eval:calibrate    → hack/eval/fit-calibration.ts
//   npm run bench:analyzer    → hack/eval/analyzer-bench.ts
//   npx vitest run --config hack/eval/vitest.eval.config.ts hack/eval/trigger-guards.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['hack/eval/analyzer-eval.ts', 'hack/eval/fit-calibration.ts', 'hack/eval/analyzer-bench.ts', 'hack/eval/trigger-guards.ts'],
    environment: 'node',
    testTimeout: 30 * 60_000,
    fileParallelism: false,
    reporters: ['verbose'],
    disableConsoleIntercept: true,
  },
});
