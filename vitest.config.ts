import { defineConfig } from 'vitest/config';

// Three test projects:
// - unit: pure logic and in-memory components, next to the code (src/**/*.test.ts, hack/**/*.test.ts for the
//   evaluation's generator) — milliseconds each.
// - integration: against the real local cluster (kube-apiserver, controller-manager, kwok, metrics-server);
//   the global setup brings the cluster up (building it on a cache miss) and every test uses its own namespace.
// - faults: the operator under injected faults (SIGKILL/SIGSTOP, leader hand-over, API server and etcd restarts, a
//   slow or refusing API through real proxies, dependencies gone, storms, hostile input, secrets in logs);
//   `npm run test:faults`, 25 minutes (measured) on a shared 2-core machine, so not part of `npm test`
//   (docs/reliability.md).
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
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/faults/support/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          // One fault at a time: the scenarios share one cluster and some restart its API server.
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
