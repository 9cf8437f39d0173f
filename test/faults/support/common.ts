/**
 * What every fault test shares: where its artifacts go (operator logs, Events, result rows for docs/reliability.md),
 * a seeded random number generator (the run prints its seed; FAULTS_SEED replays one), and the fake secrets that
 * every operator of the suite carries, so the secrets test can prove none of them reached a log line or an Event.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Everything the fault suite writes: logs/, events/, results/. Git-ignored (test-artifacts/). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts/faults');

/** Creates (if needed) and returns `ARTIFACTS/<sub>`. */
export function artifactDir(sub: string): string {
  const dir = path.join(ARTIFACTS, sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Secret-looking values put into every operator's environment and credentials (never real ones). Each has a shape
 * that a scanner for key material would recognise, and a unique core so that a hit cannot be a coincidence.
 */
export const FAKE_SECRETS = {
  /** The bearer token of the operator's kubeconfig (a service-account token stand-in). */
  apiToken: 'eyJhbGciOiJSUzI1NiJ9.ZmF1bHRzLXN1aXRlLXRva2VuLTdmM2E5YzE.c2lnbmF0dXJlLWZha2UtOTkx',
  /** The LLM API key, in the variable ai.apiKeyEnv names. */
  llmApiKey: 'sk-faults-9Qm2vXr7LpK4tZ8wNc3bHd6yJf1sAe5u',
  /** A webhook Authorization header value, from notifications.sinks[].headersFromEnv. */
  webhookSecret: 'whsec_faults_Zx81Kq0PmV3nR7tY2uB5cW9eL4hG6jDa',
  /** The token in a Slack-style incoming-webhook URL (notifications.sinks[].urlFromEnv). */
  webhookUrlToken: 'T0FAULTS/B0FAULTS/xoxFaultsHookPath8Jq2Lm5Rt',
  /** An unrelated secret sitting in the environment. */
  envToken: 'ghp_faultsSuiteToken4Tq9Wz2Xv7Nb3Kc8Md5Lf1Hj6',
} as const;

/** The environment variables carrying the fake secrets (added to every spawned operator's environment). */
export const SECRET_ENV = {
  FAULTS_LLM_API_KEY: FAKE_SECRETS.llmApiKey,
  FAULTS_WEBHOOK_SECRET: FAKE_SECRETS.webhookSecret,
  FAULTS_GITHUB_TOKEN: FAKE_SECRETS.envToken,
} as const;

/** The run's seed: FAULTS_SEED when set, else a fixed default so a plain run is reproducible. */
export const SEED = Number.parseInt(process.env['FAULTS_SEED'] ?? '20261204', 10);

/** mulberry32, seeded: the demo's generator (src/demo/sim-rules.ts), so one PRNG serves both. */
export { createRng as seededRandom } from '../../../src/demo/sim-rules.js';

/** One row of the reliability table (docs/reliability.md), written by each fault test. */
export interface FaultResult {
  readonly fault: string;
  readonly injected: string;
  readonly times: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly stuck: number;
  readonly recovery: string;
  readonly notes?: readonly string[];
  readonly [key: string]: unknown;
}

/** Records a result row (results/<id>.json) and prints it. */
export function recordResult(id: string, result: FaultResult): void {
  writeFileSync(path.join(artifactDir('results'), `${id}.json`), `${JSON.stringify({ ...result, seed: SEED, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`[faults] ${id}: ${JSON.stringify(result)}`);
}

/** Appends a line to the suite's timeline (timeline.log), for reading a run afterwards. */
export function note(line: string): void {
  appendFileSync(path.join(artifactDir(''), 'timeline.log'), `${new Date().toISOString()} ${line}\n`);
}

/** Resolves after `ms`. Only for pacing a scenario or waiting on the real cluster; logic uses fake clocks. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
