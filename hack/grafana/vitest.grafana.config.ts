// Vitest as the TypeScript runner for `npm run grafana:build` (hack/grafana/build.ts): not a test, and not part of
// `npm test`. The dashboard's checks are hack/grafana/dashboard.test.ts (unit project) and
// test/integration/grafana-panels.test.ts.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['hack/grafana/build.ts'],
    environment: 'node',
    reporters: ['verbose'],
    disableConsoleIntercept: true,
  },
});
