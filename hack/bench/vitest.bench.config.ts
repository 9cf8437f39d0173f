// Vitest configuration for benchmark scripts only (hack/bench). Not part of `npm test`: the root vitest.config.ts
// never includes hack/. Vitest is used here as a TypeScript runner that needs no build step; each benchmark is one
// long "test" that reports numbers and fails only when the benchmark itself could not run.
//   npm run bench (hack/bench/scale.ts), npm run bench:detection (hack/bench/detection-latency.ts)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['hack/bench/detection-latency.ts', 'hack/bench/scale.ts', 'hack/bench/sharding.ts'],
    environment: 'node',
    testTimeout: 6 * 3600_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // Print the benchmark's own output as it happens.
    reporters: ['verbose'],
    disableConsoleIntercept: true,
  },
});
