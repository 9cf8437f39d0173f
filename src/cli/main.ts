/**
 * The `kubeskippy` command line: parses argv into a command and maps every outcome to an exit code in one place
 * (0 success, 1 a problem found or an operation failed, 2 bad usage). Commands are thin: they call the same
 * services the operator uses.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { analyzeCommand } from './analyze.js';
import { crdsCommand } from './crds.js';
import { registerApprovalCommands } from './approve.js';
import type { CliIo } from './io.js';
import { UsageError, validateCommand } from './validate.js';
import { addConfigFlags, installCommand, runCommand } from './run.js';

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes of the CLI. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** Builds the command tree. Each action sets `state.code`. */
function buildProgram(io: CliIo, state: { code: number }): Command {
  const program = new Command('kubeskippy')
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
    .action(async (files: string[]) => {
      try {
        const outcome = await validateCommand(files);
        for (const line of outcome.lines) io.out(line);
        state.code = outcome.code;
      } catch (e: unknown) {
        if (!(e instanceof UsageError)) throw e;
        io.err(`kubeskippy validate: ${e.message}`);
        state.code = ExitCode.Usage;
      }
    });

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
      state.code = await runCommand(opts, process.env);
    },
  );

  program
    .command('install')
    .description('apply the KubeSkippy CRDs to the cluster (same as kubectl apply -k config/crd)')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config')
    .action(async (opts: { kubeconfig?: string }) => {
      for (const line of await installCommand(opts, process.env)) io.out(line);
      state.code = ExitCode.Ok;
    });

  registerApprovalCommands(program, io, state, process.env);

  return program;
}

/**
 * Runs the CLI with `argv` (without the node and script paths) and resolves to the process exit code.
 * Never calls process.exit and never throws: errors become one clear line on stderr and a non-zero code.
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const state = { code: ExitCode.Ok as number };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.code;
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      // --help and --version end through exitOverride with code 0.
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    io.err(`kubeskippy: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.Failure;
  }
}
