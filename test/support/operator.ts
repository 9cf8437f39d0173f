/**
 * Runs the real operator against the local cluster for integration tests: in-process (startTestOperator — fast,
 * its metrics and series store inspectable) or as a separate process (spawnOperator — for kill -9 tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as k8s from '@kubernetes/client-node';
import { loadOperatorConfig } from '../../src/config/load.js';
import { createLogger, silentLogger, type Logger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/runtime/clock.js';
import { startOperator, type RunningOperator } from '../../src/wiring.js';
import { kubeconfigPath, TEST_NAMESPACE_SELECTOR, testKubeConfig } from './cluster.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Flags for tests: no leader election, servers on ephemeral loopback ports, fast polling. */
export const TEST_OPERATOR_FLAGS: Readonly<Record<string, unknown>> = {
  'leaderElection.enabled': false,
  healthBindAddress: '127.0.0.1:0',
  metricsBindAddress: '0',
  dashboardBindAddress: '0',
  'metricsServer.pollIntervalSeconds': 5,
  protectedNamespaces: ['kube-system'],
  maxActionsPerHour: 1000,
  namespaceSelector: TEST_NAMESPACE_SELECTOR,
};

/** Starts the operator in this process. Set KUBESKIPPY_TEST_LOG=1 to see its logs. */
export async function startTestOperator(flags: Record<string, unknown> = {}, kc: k8s.KubeConfig = testKubeConfig()): Promise<RunningOperator> {
  const config = await loadOperatorConfig({ flags: { ...TEST_OPERATOR_FLAGS, ...flags }, env: {} });
  const logger: Logger = process.env['KUBESKIPPY_TEST_LOG'] === '1' ? createLogger({ level: 'debug', pretty: true }) : silentLogger;
  return startOperator({ config, kubeConfig: kc, clock: systemClock, logger });
}

/** An operator in a child process (`node bin/kubeskippy.js run`), which a test can kill with any signal. */
export interface SpawnedOperator {
  readonly process: ChildProcess;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the built operator (needs `npm run build`). Extra CLI flags are appended. */
export function spawnOperator(args: readonly string[] = []): SpawnedOperator {
  let out = '';
  const proc = spawn(
    path.join(root, 'node_modules/.bin/node'),
    [
      path.join(root, 'bin/kubeskippy.js'),
      'run',
      '--kubeconfig',
      kubeconfigPath,
      '--leader-election-enabled',
      'false',
      '--health-bind-address',
      '0',
      '--metrics-bind-address',
      '0',
      '--dashboard-bind-address',
      '0',
      '--metrics-server-poll-interval-seconds',
      '5',
      '--namespace-selector',
      TEST_NAMESPACE_SELECTOR,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return {
    process: proc,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) {
          resolve(proc.exitCode);
          return;
        }
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      }),
  };
}
