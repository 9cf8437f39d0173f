/**
 * `kubeskippy approve NAME`, `kubeskippy reject NAME --reason TEXT` and `kubeskippy actions [--pending]`.
 *
 * Approval is recorded the same way plain kubectl records it — annotations on the HealingAction
 * (kubeskippy.io/approved-by, kubeskippy.io/rejected-by + kubeskippy.io/reject-reason) — so the operator has one
 * input to read and `kubectl annotate` stays a first-class path. The operator moves the action on and records the
 * approver in status.approval; the CLI never writes status.
 *
 * The commands are thin functions over {@link ActionsApi} (input → output lines + exit code) so they are tested
 * with an in-memory fake; {@link registerApprovalCommands} wires them into the command tree with a real client.
 * Exit codes: 0 done, 1 refused (not found, nothing to approve) or an API failure, 2 bad usage.
 */
import * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { ANNOTATIONS } from '../controllers/healing-action/state-machine.js';
import { KubeConfigError, loadKubeConfig } from '../k8s/client.js';
import { describeKubeError, isConflict, isNotFound } from '../k8s/errors.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import type { CliIo } from './main.js';

/** The small slice of the Kubernetes API these commands need. */
export interface ActionsApi {
  /** The action, or undefined when it does not exist. Rejects on other API errors. */
  get(namespace: string, name: string): Promise<HealingAction | undefined>;
  /** The actions of `namespace`, or of every namespace when it is undefined. */
  list(namespace: string | undefined): Promise<readonly HealingAction[]>;
  /**
   * Merge-patches metadata.annotations with `resourceVersion` as a precondition: rejects with a 409 Conflict when
   * the action changed since it was read (and with 404 when it is gone).
   */
  annotate(namespace: string, name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>): Promise<void>;
}

/** What a command printed and how it ended. */
export interface CommandOutcome {
  readonly code: 0 | 1 | 2;
  /** Lines for stdout. */
  readonly out: readonly string[];
  /** Lines for stderr. */
  readonly err: readonly string[];
}

/** Input of approve and reject. */
export interface DecisionInput {
  readonly namespace: string;
  readonly name: string;
  /** Who decides; recorded by the operator in status.approval.approvedBy. */
  readonly user: string;
}

const RESOURCE = 'healingaction.kubeskippy.io';

/** A read-check-patch loop gives up after this many conflicts: something keeps rewriting the action. */
const MAX_CONFLICTS = 5;

function phaseOf(a: HealingAction): string {
  return a.status?.phase ?? 'Pending';
}

function annotation(a: HealingAction, key: string): string | undefined {
  const v = a.metadata.annotations?.[key];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * True when the action waits for a human: phase WaitingApproval, or still Pending (the operator has not seen it
 * yet) with spec.approvalRequired. Every other phase is past the point where an approval means anything.
 */
export function isAwaitingApproval(a: HealingAction): boolean {
  const phase = phaseOf(a);
  return phase === 'WaitingApproval' || (phase === 'Pending' && a.spec.approvalRequired === true);
}

function refused(line: string): CommandOutcome {
  return { code: 1, out: [], err: [line] };
}

function notFound(input: DecisionInput): CommandOutcome {
  return refused(`healingaction "${input.name}" not found in namespace "${input.namespace}"`);
}

/**
 * Why `a` cannot take the decision `verb`, or undefined when it can. A decision already recorded in annotations
 * (the operator has not acted on it yet) counts: the operator reads a rejection before an approval, so approving a
 * rejected action would print a success that never happens.
 */
function refusal(a: HealingAction, verb: 'approve' | 'reject'): string | undefined {
  const name = a.metadata.name ?? '';
  if (!isAwaitingApproval(a)) {
    const phase = phaseOf(a);
    return phase === 'Pending' ? `${name} does not require approval; nothing to ${verb}` : `${name} is already ${phase}; nothing to ${verb}`;
  }
  const rejectedBy = annotation(a, ANNOTATIONS.rejectedBy);
  if (rejectedBy !== undefined) return `${name} was already rejected by ${rejectedBy}; nothing to ${verb}`;
  const approvedBy = annotation(a, ANNOTATIONS.approvedBy);
  if (approvedBy !== undefined) return `${name} was already approved by ${approvedBy}; nothing to ${verb}`;
  return undefined;
}

/**
 * Reads the action, checks that it awaits approval, and sets `annotations` with the read resourceVersion as a
 * precondition. A conflict means the action changed in between (the operator expired it, someone else decided):
 * read again and re-check, so the answer is about the action as it is.
 */
async function decide(
  api: ActionsApi,
  input: DecisionInput,
  verb: 'approve' | 'reject',
  annotations: Readonly<Record<string, string>>,
  done: string,
): Promise<CommandOutcome> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const a = await api.get(input.namespace, input.name);
    if (!a) return notFound(input);
    const why = refusal(a, verb);
    if (why !== undefined) return refused(why);
    try {
      await api.annotate(input.namespace, input.name, a.metadata.resourceVersion ?? '', annotations);
    } catch (e: unknown) {
      if (isNotFound(e)) return notFound(input);
      if (isConflict(e)) continue;
      throw e;
    }
    return { code: 0, out: [done], err: [] };
  }
  return refused(`${input.name} kept changing while it was being ${verb === 'approve' ? 'approved' : 'rejected'}; try again`);
}

/**
 * Approves a HealingAction that waits for approval (sets kubeskippy.io/approved-by to `user`). Refused (exit 1)
 * when the action does not exist, does not await approval (already approved, executed, finished, blocked…) or
 * already carries a decision. Rejects only on API errors other than NotFound/Conflict.
 */
export async function approveCommand(api: ActionsApi, input: DecisionInput): Promise<CommandOutcome> {
  return decide(api, input, 'approve', { [ANNOTATIONS.approvedBy]: input.user }, `${RESOURCE}/${input.name} approved by ${input.user}`);
}

/**
 * Rejects a HealingAction that waits for approval (sets kubeskippy.io/rejected-by and kubeskippy.io/reject-reason);
 * the operator then cancels it with the reason. Same refusals as {@link approveCommand}; an empty reason is a usage
 * error (exit 2).
 */
export async function rejectCommand(api: ActionsApi, input: DecisionInput & { readonly reason: string }): Promise<CommandOutcome> {
  const reason = input.reason.trim();
  if (reason === '') return { code: 2, out: [], err: ['a rejection needs a reason: --reason TEXT'] };
  return decide(
    api,
    input,
    'reject',
    { [ANNOTATIONS.rejectedBy]: input.user, [ANNOTATIONS.rejectReason]: reason },
    `${RESOURCE}/${input.name} rejected by ${input.user}: ${reason}`,
  );
}

/** Input of the actions listing. */
export interface ListInput {
  /** undefined: every namespace (adds a NAMESPACE column). */
  readonly namespace: string | undefined;
  /** Only actions that wait for approval (see {@link isAwaitingApproval}). */
  readonly pending: boolean;
}

/**
 * A duration as kubectl prints ages: "45s", "3m12s" under 10 minutes, "42m", "5h7m" under 8 hours, "20h", "3d".
 * Negative durations (clock skew) print as "0s". Pure.
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Left-aligned columns separated by three spaces, as kubectl prints tables. Pure. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ').trimEnd());
}

/**
 * Lists HealingActions oldest first as NAME, POLICY, ACTION, TARGET, PHASE, REASON, AGE (NAMESPACE first when
 * listing every namespace). `now` is the time ages are measured from. Empty reasons print as "<none>".
 */
export async function actionsCommand(api: ActionsApi, input: ListInput, now: number): Promise<CommandOutcome> {
  const items = (await api.list(input.namespace)).filter((a) => !input.pending || isAwaitingApproval(a));
  if (items.length === 0) {
    const where = input.namespace === undefined ? '' : ` in ${input.namespace} namespace`;
    return { code: 0, out: [], err: [`No ${input.pending ? 'actions waiting for approval' : 'resources'} found${where}.`] };
  }
  const sorted = [...items].sort(
    (x, y) =>
      (x.metadata.creationTimestamp ?? '').localeCompare(y.metadata.creationTimestamp ?? '') ||
      (x.metadata.namespace ?? '').localeCompare(y.metadata.namespace ?? '') ||
      (x.metadata.name ?? '').localeCompare(y.metadata.name ?? ''),
  );
  const all = input.namespace === undefined;
  const header = [...(all ? ['NAMESPACE'] : []), 'NAME', 'POLICY', 'ACTION', 'TARGET', 'PHASE', 'REASON', 'AGE'];
  const rows = sorted.map((a) => {
    const created = Date.parse(a.metadata.creationTimestamp ?? '');
    return [
      ...(all ? [a.metadata.namespace ?? ''] : []),
      a.metadata.name ?? '',
      a.spec.policyRef.name,
      a.spec.action.type,
      `${a.spec.targetResource.kind}/${a.spec.targetResource.name}`,
      phaseOf(a),
      a.status?.reason ?? '<none>',
      Number.isFinite(created) ? formatAge(now - created) : '<unknown>',
    ];
  });
  return { code: 0, out: formatTable([header, ...rows]), err: [] };
}

/** An {@link ActionsApi} over a real cluster. */
export function createActionsApi(kc: k8s.KubeConfig): ActionsApi {
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const plural = 'healingactions';
  return {
    get: async (namespace, name) => {
      try {
        return (await co.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })) as HealingAction;
      } catch (e: unknown) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    list: async (namespace) => {
      const list = (namespace === undefined
        ? await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
        : await co.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as { items?: HealingAction[] };
      return list.items ?? [];
    },
    annotate: async (namespace, name, resourceVersion, annotations) => {
      await co.patchNamespacedCustomObject(
        // resourceVersion in a merge patch is a precondition: the server answers 409 if the object changed.
        { group: GROUP, version: VERSION, namespace, plural, name, body: { metadata: { resourceVersion, annotations } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    },
  };
}

interface ConnectionFlags {
  readonly namespace?: string;
  readonly kubeconfig?: string;
}

/** The kubeconfig, the namespace to use (flag > context > "default") and the current user's name. */
function connect(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): { api: ActionsApi; namespace: string; user: string | undefined } {
  const { kubeConfig: kc } = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {}), env });
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { api: createActionsApi(kc), namespace: flags.namespace ?? contextNamespace ?? 'default', user: kc.getCurrentUser()?.name };
}

/**
 * Adds `approve`, `reject` and `actions` to the command tree. Each action sets `state.code` and prints through
 * `io`; API and kubeconfig failures become one line on stderr and exit code 1. `env` is the process environment
 * (KUBECONFIG, HOME…), passed in so nothing here reads process.env.
 */
export function registerApprovalCommands(
  program: Command,
  io: CliIo,
  state: { code: number },
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock = systemClock,
): void {
  const report = (command: string, outcome: CommandOutcome): void => {
    for (const line of outcome.out) io.out(line);
    for (const line of outcome.err) io.err(outcome.code === 0 ? line : `kubeskippy ${command}: ${line}`);
    state.code = outcome.code;
  };
  const guarded = async (command: string, run: () => Promise<CommandOutcome>): Promise<void> => {
    try {
      report(command, await run());
    } catch (e: unknown) {
      report(command, { code: 1, out: [], err: [e instanceof KubeConfigError ? e.message : describeKubeError(e)] });
    }
  };
  const whoAmI = (flags: { as?: string }, user: string | undefined): string | undefined => flags.as ?? user;
  const noUser = (): CommandOutcome => ({ code: 2, out: [], err: ['cannot tell who you are from the kubeconfig: pass --as USER'] });

  program
    .command('approve')
    .description('approve a HealingAction that waits for approval (sets the kubeskippy.io/approved-by annotation)')
    .argument('<name>', 'the HealingAction')
    .option('-n, --namespace <namespace>', 'namespace of the action; default: the kubeconfig context\'s, else "default"')
    .option('--as <user>', 'approver to record; default: the kubeconfig\'s current user')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config')
    .action(async (name: string, flags: ConnectionFlags & { as?: string }) =>
      guarded('approve', async () => {
        const c = connect(flags, env);
        const user = whoAmI(flags, c.user);
        return user === undefined ? noUser() : approveCommand(c.api, { namespace: c.namespace, name, user });
      }),
    );

  program
    .command('reject')
    .description('reject a HealingAction that waits for approval; the operator cancels it with the reason')
    .argument('<name>', 'the HealingAction')
    .requiredOption('--reason <text>', 'why it is rejected (recorded on the action)')
    .option('-n, --namespace <namespace>', 'namespace of the action; default: the kubeconfig context\'s, else "default"')
    .option('--as <user>', 'who rejects; default: the kubeconfig\'s current user')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config')
    .action(async (name: string, flags: ConnectionFlags & { as?: string; reason: string }) =>
      guarded('reject', async () => {
        const c = connect(flags, env);
        const user = whoAmI(flags, c.user);
        return user === undefined ? noUser() : rejectCommand(c.api, { namespace: c.namespace, name, user, reason: flags.reason });
      }),
    );

  program
    .command('actions')
    .description('list HealingActions: NAME, POLICY, ACTION, TARGET, PHASE, REASON, AGE')
    .option('-n, --namespace <namespace>', 'namespace; default: the kubeconfig context\'s, else "default"')
    .option('-A, --all-namespaces', 'list the actions of every namespace')
    .option('--pending', 'only actions waiting for approval')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config')
    .action(async (flags: ConnectionFlags & { allNamespaces?: boolean; pending?: boolean }) =>
      guarded('actions', async () => {
        const c = connect(flags, env);
        return actionsCommand(c.api, { namespace: flags.allNamespaces === true ? undefined : c.namespace, pending: flags.pending === true }, clock.now());
      }),
    );
}
