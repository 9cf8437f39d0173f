import { defineConfig } from 'vitest/config';

// Three test projects:
// - unit: pure logic and in-memory components, next to the code (src/**/*.test.ts, hack/**/*.test.ts for the
//   evaluation's generator) — milliseconds each.
// - integration: against the real local cluster (kube-apiserver, controller-manager, kwok, metrics-server);
//   the global setup brings the cluster up (building it on a cache miss) and every test uses its own namespace.
// - e2e: what a person sees — the real operator on the real cluster, its dashboard driven in Debian's headless
//   Chromium (playwright-core), and the demo's scenarios healed and measured (test/e2e/scenarios.test.ts); same
//   cluster setup as integration, screenshots and the scenario report in test-artifacts/.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts', 'hack/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Integration files share one cluster; running two at once on a 2-core machine only adds contention.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // The scenario suite runs its scenarios at once, each in its own namespace.
          maxConcurrency: 10,
        },
      },
    ],
  },
});
