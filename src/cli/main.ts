/**
 * The `kubeskippy` command line (also the kubectl plugin `kubectl skippy`): parses argv into a command and maps
 * every outcome to an exit code (errors.ts is the one place that decides them). Commands are thin: they call the
 * same services and pure functions the operator uses.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { analyzeCommand } from './analyze.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { isoTime } from '../controllers/conditions.js';
import { actionsCommand, parseActionFilters, watchActions, type ActionFilterFlags } from './actions.js';
import { registerApprovalCommands, runCommand, type CommandContext } from './approve.js';
import { createClusterApi } from './cluster-api.js';
import { connect, withConnectionFlags, type ConnectionFlags } from './connect.js';
import { crdsCommand } from './crds.js';
import { demoCommand, type DemoFlags } from './demo.js';
import { describeError, ExitCode, exitCodeOf, UsageError } from './errors.js';
import { explainCommand } from './explain.js';
import type { CliIo } from './io.js';
import { parseOutputFormat } from './output.js';
import { pauseCommand, resumeCommand } from './pause.js';
import { loadMetricMap, parseDurationFlag, parsePolicyArg, parseTime, replayCommand } from './replay.js';
import { addConfigFlags, installCommand, runCommand as runOperator } from './run.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

export { ExitCode } from './errors.js';
export { closedPipeExit } from './io.js';

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** What main needs besides argv and where to print; every field has a production default. */
export interface MainOptions {
  /** The program name in usage lines: "kubeskippy", or "kubectl skippy" when run as the kubectl plugin. */
  readonly name?: string;
  /** The environment (KUBECONFIG, KUBESKIPPY_NAMESPACE, HOME…); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /** Aborted on Ctrl-C: ends `actions --watch` (exit 0). Default: SIGINT/SIGTERM of this process. */
  readonly signal?: AbortSignal;
  /** The terminal, for `demo`'s live summary and confirmation; default: this process's, when stdout is a TTY. */
  readonly terminal?: Terminal | undefined;
}

/** A terminal to redraw on and to ask on. */
export interface Terminal {
  /** Replaces the screen's content with these lines. */
  redraw(lines: readonly string[]): void;
  /** Asks a yes/no question; true for an answer starting with y. */
  confirm(question: string): Promise<boolean>;
}

/** This process's terminal, or undefined when stdin and stdout are not both TTYs. */
function processTerminal(): Terminal | undefined {
  if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) return undefined;
  return {
    redraw: (lines) => process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`),
    confirm: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** The operator's namespace for commands that read its Lease and control switch: flag > KUBESKIPPY_NAMESPACE > default. */
function operatorNamespace(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag ?? env['KUBESKIPPY_NAMESPACE'] ?? 'kubeskippy-system';
}

type OutputFlag = { output?: string };

/** Builds the command tree. Each action sets `state.code`. */
function buildProgram(io: CliIo, state: { code: number }, options: Required<Omit<MainOptions, 'signal' | 'terminal'>> & { signal: () => AbortSignal; terminal: Terminal | undefined }): Command {
  const { env, clock } = options;
  const ctx: CommandContext = { name: options.name, io, state, env };
  const program = new Command(options.name)
    .description('Self-healing operator for Kubernetes')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('version')
    .description('print the version')
    .action(() => {
      io.out(VERSION);
      state.code = ExitCode.Ok;
    });

  program
    .command('crds')
    .description('print the CustomResourceDefinitions (pipe to kubectl apply -f -), or write them to a directory')
    .option('--out <dir>', 'write one YAML file per CRD into this directory')
    .action(async (opts: { out?: string }) => {
      for (const line of await crdsCommand(opts.out)) io.out(opts.out === undefined ? line.trimEnd() : `wrote ${line}`);
      state.code = ExitCode.Ok;
    });

  program
    .command('validate')
    .description(
      'check HealingPolicy and HealingAction YAML offline with the API server\'s schema; prints FILE:LINE:COL: error|warning: FIELD: MESSAGE; exit 1 on any error',
    )
    .argument('<files...>', 'YAML files, or directories of them')
    .action(async (files: string[]) =>
      runCommand(ctx, 'validate', async () => {
        const outcome = await validateCommand(files);
        return { code: outcome.code, out: outcome.lines, err: [] };
      }),
    );

  program
    .command('analyze')
    .description(
      'forecast recorded series (one JSON file each: metric, unit, limit, samples [[unixSeconds, value], …]) with the built-in analyzer; exit 1 if any will reach its limit within the horizon',
    )
    .argument('<files...>', 'JSON series files (format: docs/analyze.md)')
    .option('--horizon <duration>', 'how far ahead a breach counts', '30m')
    .option('-o, --output <format>', 'text or json (one object per line)', 'text')
    .action(async (files: string[], opts: { horizon: string; output: string }) => {
      const outcome = await analyzeCommand(files, opts);
      for (const line of outcome.lines) io.out(line);
      for (const line of outcome.errors) io.err(`kubeskippy analyze: ${line}`);
      state.code = outcome.code;
    });

  addConfigFlags(program.command('run').description('run the operator (developer loop: against .cluster/kubeconfig from outside the cluster)')).action(
    async (opts: Record<string, unknown>) => {
      state.code = await runOperator(opts, env);
    },
  );

  program
    .command('install')
    .description('apply the KubeSkippy CRDs to the cluster (same as kubectl apply -k config/crd)')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config')
    .action(async (opts: { kubeconfig?: string }) =>
      runCommand(ctx, 'install', async () => ({ code: ExitCode.Ok, out: await installCommand(opts, env), err: [] })),
    );

  program
    .command('demo')
    .description(
      'run the demo against the cluster of the current context (its nodes must be kwok\'s, as npm run demo\'s are): replaces the namespaces demo-* with every seed scenario, runs Prometheus and the operator with its dashboard, shows a live summary, and reports on Ctrl-C or after --duration',
    )
    .option('--duration <duration>', 'run this long, then stop and report (e.g. 10m); default: until Ctrl-C')
    .option('--report <file>', 'write the JSON report here (the HTML page beside it, .html); default STATE_DIR/report.json')
    .option('-y, --yes', 'do not ask before changing the cluster')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, ~/.kube/config (its current context)')
    .option('--state-dir <dir>', 'the operator log, Prometheus data and the default report', '.kubeskippy-demo')
    .option('--no-prometheus', 'do not start Prometheus (the network scenario then has no latency data)')
    .option('--scenarios <ids>', 'only these scenarios, comma-separated (default: all)')
    .option('--print', 'print the scenarios\' manifests as YAML and exit (touches no cluster)')
    .option('--local', 'the cluster is the local one of npm run demo (says so at the end)')
    .action(async (flags: DemoFlags) =>
      runCommand(ctx, 'demo', async () => {
        const terminal = options.terminal;
        return demoCommand(flags, {
          io: { out: io.out, err: io.err, ...(terminal === undefined ? {} : { live: (lines: readonly string[]) => terminal.redraw(lines) }) },
          env,
          clock,
          signal: options.signal(),
          ...(terminal === undefined ? {} : { confirm: (q: string) => terminal.confirm(q) }),
        });
      }),
    );

  registerApprovalCommands(program, ctx);

  const outputOption = (c: Command): Command => c.option('-o, --output <format>', 'json or yaml (default: human-readable)');
  const operatorOptions = (c: Command): Command =>
    c
      .option('--operator-namespace <namespace>', 'namespace of the operator (its Lease and kubeskippy-control); default $KUBESKIPPY_NAMESPACE, else kubeskippy-system')
      .option('--lease-name <name>', 'the leader-election Lease', 'kubeskippy-leader');

  withConnectionFlags(
    outputOption(
      program
        .command('actions')
        .description('list HealingActions (NAME, POLICY, ACTION, TARGET, PHASE, REASON, AGE), filtered; -w streams changes')
        .option('-A, --all-namespaces', 'the actions of every namespace')
        .option('--pending', 'only actions waiting for approval')
        .option('--policy <name>', 'only actions of this policy: NAME, NAMESPACE/NAME, or chp/NAME for a ClusterHealingPolicy')
        .option('--phase <phases>', 'only these phases, comma-separated (e.g. Blocked,Failed)')
        .option('--target <target>', 'only actions on this target or workload: NAME or KIND/NAME (pod/web-1, deployment/web)')
        .option('--source <source>', 'only actions proposed by rule or ai')
        .option('--since <duration>', 'only actions created within this long (e.g. 30m, 2h)')
        .option('-w, --watch', 'after listing, print every change until interrupted (a real watch)'),
    ),
    'the actions',
  ).action(async (flags: ConnectionFlags & OutputFlag & ActionFilterFlags & { allNamespaces?: boolean; watch?: boolean }) =>
    runCommand(ctx, 'actions', async () => {
      const output = parseOutputFormat(flags.output);
      const filters = parseActionFilters(flags, clock.now());
      const c = connect(flags, env);
      const api = createClusterApi(c.kc);
      const namespace = flags.allNamespaces === true ? undefined : c.namespace;
      if (flags.watch !== true) return actionsCommand(api, { namespace, filters, output }, clock.now());
      const code = await watchActions({ namespace, filters, output, source: api.actionSource(namespace), clock, signal: options.signal(), out: io.out, err: io.err });
      return { code: code === 0 ? ExitCode.Ok : ExitCode.Failure, out: [], err: [] };
    }),
  );

  withConnectionFlags(
    operatorOptions(
      outputOption(
        program
          .command('status')
          .description('the installation at a glance: leader, pause and dry-run state, budgets used, open circuit breakers, every policy with its mode, Ready and budget left')
          .option('-A, --all-namespaces', 'policies and actions of every namespace (the default unless -n is given)'),
      ),
    ),
    'the policies to show (default: every namespace)',
  ).action(async (flags: ConnectionFlags & OutputFlag & { allNamespaces?: boolean; operatorNamespace?: string; leaseName: string }) =>
    runCommand(ctx, 'status', async () => {
      const output = parseOutputFormat(flags.output);
      const c = connect(flags, env);
      const namespace = c.namespaceGiven && flags.allNamespaces !== true ? c.namespace : undefined;
      return statusCommand(createClusterApi(c.kc), { operatorNamespace: operatorNamespace(flags.operatorNamespace, env), leaseName: flags.leaseName, namespace, output }, clock.now());
    }),
  );

  withConnectionFlags(
    outputOption(
      program
        .command('explain')
        .description('the whole decision behind a HealingAction: what fired, the policy and its ladder, each safety check, the plan or execution, the result, the approval, the timeline')
        .argument('<name>', 'the HealingAction'),
    ),
    'the action',
  ).action(async (name: string, flags: ConnectionFlags & OutputFlag) =>
    runCommand(ctx, 'explain', async () => {
      const output = parseOutputFormat(flags.output);
      const c = connect(flags, env);
      return explainCommand(createClusterApi(c.kc), { namespace: c.namespace, name, output }, clock.now());
    }),
  );

  const controlCommand = (c: Command): Command =>
    c
      .option('--operator-namespace <namespace>', 'namespace of the operator (where kubeskippy-control lives); default $KUBESKIPPY_NAMESPACE, else kubeskippy-system')
      .option('--as <user>', 'impersonate this user (Kubernetes impersonation, as kubectl --as; needs the impersonate right)')
      .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config');
  controlCommand(
    program
      .command('pause')
      .description('stop every action operator-wide (every replica; evaluation and status continue): sets data.paused in the ConfigMap kubeskippy-control, recording who and why')
      .requiredOption('--reason <text>', 'why (recorded, and shown on every action it blocks)'),
  ).action(async (flags: ConnectionFlags & { reason: string; operatorNamespace?: string }) =>
    runCommand(ctx, 'pause', async () => {
      const c = connect(flags, env);
      return pauseCommand(createClusterApi(c.kc), { namespace: operatorNamespace(flags.operatorNamespace, env), reason: flags.reason }, isoTime(clock.now()));
    }),
  );
  controlCommand(program.command('resume').description('lift a pause set by kubeskippy pause (the operator config\'s own paused: true stays)')).action(
    async (flags: ConnectionFlags & { operatorNamespace?: string }) =>
      runCommand(ctx, 'resume', async () => {
        const c = connect(flags, env);
        return resumeCommand(createClusterApi(c.kc), { namespace: operatorNamespace(flags.operatorNamespace, env) }, isoTime(clock.now()));
      }),
  );

  withConnectionFlags(
    outputOption(
      program
        .command('replay')
        .description('run a policy over history from Prometheus and print what it would have done and when: firings, actions, where its budget would have blocked (mutates nothing)')
        .argument('<policy>', 'NAME (a HealingPolicy in -n), NAMESPACE/NAME, or chp/NAME for a ClusterHealingPolicy')
        .requiredOption('--from <time>', 'start: RFC 3339 (2026-03-01T10:00:00Z), or a duration ago (2h)')
        .option('--to <time>', 'end: RFC 3339, a duration ago, or now', 'now')
        .option('--step <duration>', 'simulated clock step (also the query resolution)', '1m')
        .option('--prometheus-url <url>', 'Prometheus base URL; default $KUBESKIPPY_PROMETHEUS_URL')
        .option('--metrics-map <file>', 'YAML overriding the PromQL of built-in metrics and conditions (see docs/replay.md)')
        .option('--escalation-window <duration>', 'a recurrence within this of the last action escalates (as the operator\'s escalationWindowSeconds)', '1h')
        .option('--timeout <duration>', 'per Prometheus request', '30s'),
    ),
    'the policy',
  ).action(async (policyArg: string, flags: ConnectionFlags & OutputFlag & { from: string; to: string; step: string; prometheusUrl?: string; metricsMap?: string; escalationWindow: string; timeout: string }) =>
    runCommand(ctx, 'replay', async () => {
      const output = parseOutputFormat(flags.output);
      const now = clock.now();
      const prometheusUrl = flags.prometheusUrl ?? env['KUBESKIPPY_PROMETHEUS_URL'];
      if (prometheusUrl === undefined || !/^https?:\/\/\S+$/.test(prometheusUrl)) {
        throw new UsageError('replay reads history from Prometheus: give --prometheus-url http://… (or set KUBESKIPPY_PROMETHEUS_URL)');
      }
      const input = {
        from: parseTime('--from', flags.from, now),
        to: parseTime('--to', flags.to, now),
        stepMs: parseDurationFlag('--step', flags.step),
        escalationWindowMs: parseDurationFlag('--escalation-window', flags.escalationWindow),
        timeoutMs: parseDurationFlag('--timeout', flags.timeout),
        metricMap: await loadMetricMap(flags.metricsMap),
        prometheusUrl,
        output,
      };
      const c = connect(flags, env);
      return replayCommand(createClusterApi(c.kc), { ...input, policy: parsePolicyArg(policyArg, c.namespace) }, (line) => io.err(line));
    }),
  );

  return program;
}

/** Aborts when this process gets SIGINT or SIGTERM (Ctrl-C ends a watch cleanly). */
function processSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}

/**
 * Runs the CLI with `argv` (without the node and script paths) and resolves to the process exit code (errors.ts).
 * Never calls process.exit and never throws: errors become one clear line on stderr and a non-zero code.
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo, options: MainOptions = {}): Promise<number> {
  const state = { code: ExitCode.Ok as number };
  const program = buildProgram(io, state, {
    name: options.name ?? 'kubeskippy',
    env: options.env ?? process.env,
    clock: options.clock ?? systemClock,
    signal: () => options.signal ?? processSignal(),
    terminal: 'terminal' in options ? options.terminal : io === defaultIo ? processTerminal() : undefined,
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.code;
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    io.err(`${options.name ?? 'kubeskippy'}: ${describeError(e)}`);
    return exitCodeOf(e);
  }
}
