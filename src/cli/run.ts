/**
 * `kubeskippy run` (start the operator) and `kubeskippy install` (apply the CRDs). Thin: configuration loading,
 * kubeconfig resolution and the composition root do the work.
 */
import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import { allCrds } from '../api/v1alpha1/crd.js';
import { readAiApiKey } from '../config/ai-key.js';
import { loadOperatorConfig } from '../config/load.js';
import { CONFIG_SETTINGS, type OperatorConfig } from '../config/operator-config.js';
import { loadKubeConfig } from '../k8s/client.js';
import { describeKubeError } from '../k8s/errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { systemClock } from '../runtime/clock.js';
import { startOperator } from '../wiring.js';

/** Adds `--config`, `--kubeconfig` and one flag per operator setting to a command. */
export function addConfigFlags(cmd: Command): Command {
  cmd.option('--config <file>', 'operator configuration file (YAML); env KUBESKIPPY_CONFIG');
  for (const s of CONFIG_SETTINGS) {
    if (s.path === 'kubeconfig') continue;
    const arg = s.type === 'boolean' ? `${s.flag} [bool]` : s.type === 'string[]' ? `${s.flag} <values...>` : s.type === 'json' ? `${s.flag} <json>` : `${s.flag} <value>`;
    cmd.option(arg, `${s.description} (env ${s.env})`);
  }
  cmd.option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config');
  return cmd;
}

/** Loads the operator configuration from flags, the environment and the config file. Throws ConfigError. */
export async function loadConfigFrom(flags: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Promise<OperatorConfig> {
  return loadOperatorConfig({ flags, env, readFile: (p) => readFile(p, 'utf8') });
}

/**
 * Runs the operator until SIGTERM/SIGINT or a fatal condition. Resolves to the exit code: 0 after a clean stop,
 * 1 when the caches never synced, leadership was lost or something failed (so a Deployment restarts the pod). Once
 * stopped, the process is made to exit with that code if it has not within 5 s (exitWatchdog): for the CLI only.
 */
export async function runCommand(flags: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const config = await loadConfigFrom(flags, env);
  // Fails fast (ConfigError: one clear line, exit 1) when ai.apiKeyEnv names a variable that is unset or empty,
  // before anything connects anywhere; the key goes to the LLM advisor and nowhere else.
  const aiApiKey = readAiApiKey(config, env);
  const logger = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty' });
  const kubeconfigPath = typeof flags['kubeconfig'] === 'string' ? flags['kubeconfig'] : config.kubeconfig;
  const loaded = loadKubeConfig({ ...(kubeconfigPath ? { kubeconfigPath } : {}), env });
  logger.info({ kubeconfig: loaded.location, source: loaded.source, dryRun: config.dryRun, paused: config.paused }, 'starting kubeskippy');
  const operator = await startOperator({ config, kubeConfig: loaded.kubeConfig, clock: systemClock, logger, signals: process, env, ...(aiApiKey === undefined ? {} : { aiApiKey }) });
  const exit = await operator.done;
  logger.info({ reason: exit.reason, detail: exit.detail }, 'kubeskippy stopped');
  const code = exit.reason === 'stopped' || exit.reason === 'signal' ? 0 : 1;
  exitWatchdog(logger, code);
  return code;
}

/** How long a stopped operator may take to exit by itself before it is made to. */
const EXIT_GRACE_MS = 5_000;

/**
 * Everything is closed when the operator has stopped, but a handle left open somewhere (a socket a frozen and woken
 * replica still held, a library's timer) keeps Node running — and a replica that lost its Lease must go, so that its
 * Deployment restarts it clean (the fault suite saw one stay up more than 30 s after "kubeskippy stopped"). This
 * unref'd timer does nothing when the process exits on its own; otherwise it names what was still open and exits.
 */
function exitWatchdog(logger: Logger, code: number): void {
  const timer = setTimeout(() => {
    logger.warn({ open: process.getActiveResourcesInfo(), graceMs: EXIT_GRACE_MS }, 'still running after stopping; exiting');
    process.exit(code);
  }, EXIT_GRACE_MS);
  timer.unref();
}

/**
 * Applies the CRDs with server-side apply (field manager "kubeskippy"), the same as `kubectl apply -k config/crd`,
 * and waits until each kind is usable: Established, and its storage answering a list (for a moment after
 * Established a new kind's requests get 429 "storage is (re)initializing"). Returns lines to print; throws naming
 * the CRD when it is not usable within 30 s.
 */
export async function installCommand(flags: { kubeconfig?: string }, env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const loaded = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {}), env });
  // CustomObjectsApi sends the body untouched; the typed CRD model would drop x-kubernetes-* schema keys.
  const raw = loaded.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const ext = loaded.kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  const lines: string[] = [];
  for (const crd of allCrds()) {
    try {
      await raw.patchClusterCustomObject(
        { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: crd.metadata.name, body: crd, fieldManager: 'kubeskippy', force: true },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
    } catch (e: unknown) {
      throw new Error(`could not apply ${crd.metadata.name}: ${describeKubeError(e)}`, { cause: e });
    }
    // Why the kind is not usable yet, or undefined once it is.
    const problem = async (): Promise<string | undefined> => {
      try {
        const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
        if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return 'not Established';
        // Every CRD here is named <plural>.kubeskippy.io and served at v1alpha1.
        const plural = crd.metadata.name.slice(0, -`.${GROUP}`.length);
        await raw.listClusterCustomObject({ group: GROUP, version: VERSION, plural, limit: 1 });
        return undefined;
      } catch (e: unknown) {
        return describeKubeError(e);
      }
    };
    for (let i = 0; ; i++) {
      const p = await problem();
      if (p === undefined) break;
      if (i >= 300) throw new Error(`${crd.metadata.name} was applied but is not usable after 30 s: ${p}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    lines.push(`customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name} serverside-applied`);
  }
  return lines;
}
