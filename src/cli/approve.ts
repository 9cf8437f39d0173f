/**
 * `kubeskippy approve NAME`, `kubeskippy reject NAME --reason TEXT` and `kubeskippy cancel NAME`.
 *
 * Decisions are recorded the same way plain kubectl records them — annotations on the HealingAction
 * (kubeskippy.io/approved-by, kubeskippy.io/rejected-by + kubeskippy.io/reject-reason, kubeskippy.io/cancel) — so
 * the operator has one input to read and `kubectl annotate` stays a first-class path. The operator moves the action
 * on and records the decider in status.approval; the CLI never writes status.
 *
 * The name written is the user the API server authenticates (a SelfSubjectReview), never a name typed on the
 * command line or the kubeconfig's entry name (a local label such as "kind-admin" that the server never sees): the
 * admission policy in config/admission refuses any other name, so an approval cannot be spoofed. `--as USER` is
 * Kubernetes impersonation, as in kubectl: it needs the `impersonate` right, and the server then authenticates the
 * request as USER.
 *
 * The commands are thin functions over {@link ActionsApi} (input → output lines + exit code) so they are tested
 * with an in-memory fake; {@link registerApprovalCommands} wires them into the command tree with a real client.
 * Exit codes (errors.ts): 0 done, 1 refused (nothing to approve…), 2 bad usage, 3 not found, 4 unreachable, 5 not
 * allowed.
 */
import * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { ANNOTATIONS } from '../controllers/healing-action/state-machine.js';
import { isConflict, isNotFound } from '../k8s/errors.js';
import { connect, withConnectionFlags, type ConnectionFlags } from './connect.js';
// Tests elsewhere import impersonation from here, where it used to live.
export { impersonate } from './connect.js';
import { describeError, ExitCode, exitCodeOf, type ExitCodeValue } from './errors.js';
import type { CliIo } from './io.js';

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
  /**
   * The username the API server authenticates these requests as (after impersonation, when the client
   * impersonates). Rejects when the server cannot say (an API error, or an empty username).
   */
  whoAmI(): Promise<string>;
}

/** What a command printed and how it ended. */
export interface CommandOutcome {
  readonly code: ExitCodeValue;
  /** Lines for stdout. */
  readonly out: readonly string[];
  /** Lines for stderr. */
  readonly err: readonly string[];
}

/**
 * Input of approve, reject and cancel. There is no "user": who decides is whoever the API server authenticates
 * ({@link ActionsApi.whoAmI}); the operator records that name in status.approval.approvedBy.
 */
export interface DecisionInput {
  readonly namespace: string;
  readonly name: string;
}

/** A decision a person can record on an action. */
type Verb = 'approve' | 'reject' | 'cancel';

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
  return { code: ExitCode.Failure, out: [], err: [line] };
}

function notFound(input: DecisionInput): CommandOutcome {
  return { code: ExitCode.NotFound, out: [], err: [`healingaction "${input.name}" not found in namespace "${input.namespace}"`] };
}

/** Phases in which the operator still honours kubeskippy.io/cancel (the state machine's "before execution"). */
const CANCELLABLE_PHASES: readonly string[] = ['Pending', 'WaitingApproval', 'Approved'];

/**
 * Why `a` cannot take the decision `verb`, or undefined when it can. A decision already recorded in annotations
 * (the operator has not acted on it yet) counts: the operator reads a rejection before an approval, so approving a
 * rejected action would print a success that never happens. Cancelling is possible until execution starts, also
 * after an approval; a rejection or an earlier cancel already ends the action.
 */
function refusal(a: HealingAction, verb: Verb): string | undefined {
  const name = a.metadata.name ?? '';
  const phase = phaseOf(a);
  if (verb === 'cancel') {
    if (!CANCELLABLE_PHASES.includes(phase)) return `${name} is already ${phase}; nothing to cancel`;
  } else if (!isAwaitingApproval(a)) {
    return phase === 'Pending' ? `${name} does not require approval; nothing to ${verb}` : `${name} is already ${phase}; nothing to ${verb}`;
  }
  const cancelledBy = annotation(a, ANNOTATIONS.cancel);
  if (cancelledBy !== undefined) return `${name} was already cancelled by ${cancelledBy}; nothing to ${verb}`;
  const rejectedBy = annotation(a, ANNOTATIONS.rejectedBy);
  if (rejectedBy !== undefined) return `${name} was already rejected by ${rejectedBy}; nothing to ${verb}`;
  const approvedBy = annotation(a, ANNOTATIONS.approvedBy);
  if (approvedBy !== undefined && verb !== 'cancel') return `${name} was already approved by ${approvedBy}; nothing to ${verb}`;
  return undefined;
}

const PAST: Record<Verb, string> = { approve: 'approved', reject: 'rejected', cancel: 'cancelled' };

/**
 * Learns who the server says we are, reads the action, checks that it can take the decision, and sets the
 * annotations `annotationsFor(user)` with the read resourceVersion as a precondition. A conflict means the action
 * changed in between (the operator expired it, someone else decided): read again and re-check, so the answer is
 * about the action as it is.
 */
async function decide(
  api: ActionsApi,
  input: DecisionInput,
  verb: Verb,
  annotationsFor: (user: string) => Readonly<Record<string, string>>,
  done: (user: string) => string,
): Promise<CommandOutcome> {
  const user = await api.whoAmI();
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const a = await api.get(input.namespace, input.name);
    if (!a) return notFound(input);
    const why = refusal(a, verb);
    if (why !== undefined) return refused(why);
    try {
      await api.annotate(input.namespace, input.name, a.metadata.resourceVersion ?? '', annotationsFor(user));
    } catch (e: unknown) {
      if (isNotFound(e)) return notFound(input);
      if (isConflict(e)) continue;
      throw e;
    }
    return { code: 0, out: [done(user)], err: [] };
  }
  return refused(`${input.name} kept changing while it was being ${PAST[verb]}; try again`);
}

/**
 * Approves a HealingAction that waits for approval: sets kubeskippy.io/approved-by to the authenticated user.
 * Refused (exit 1) when the action does not exist, does not await approval (already approved, executed, finished,
 * blocked…) or already carries a decision. Rejects on API errors other than NotFound/Conflict (including a failed
 * {@link ActionsApi.whoAmI}).
 */
export async function approveCommand(api: ActionsApi, input: DecisionInput): Promise<CommandOutcome> {
  return decide(api, input, 'approve', (user) => ({ [ANNOTATIONS.approvedBy]: user }), (user) => `${RESOURCE}/${input.name} approved by ${user}`);
}

/**
 * Rejects a HealingAction that waits for approval (sets kubeskippy.io/rejected-by to the authenticated user, and
 * kubeskippy.io/reject-reason); the operator then cancels it with the reason. Same refusals as
 * {@link approveCommand}; an empty reason is a usage error (exit 2), found before any request is made.
 */
export async function rejectCommand(api: ActionsApi, input: DecisionInput & { readonly reason: string }): Promise<CommandOutcome> {
  const reason = input.reason.trim();
  if (reason === '') return { code: ExitCode.Usage, out: [], err: ['a rejection needs a reason: --reason TEXT'] };
  return decide(
    api,
    input,
    'reject',
    (user) => ({ [ANNOTATIONS.rejectedBy]: user, [ANNOTATIONS.rejectReason]: reason }),
    (user) => `${RESOURCE}/${input.name} rejected by ${user}: ${reason}`,
  );
}

/**
 * Asks the operator to cancel a HealingAction that has not started executing (phase Pending, WaitingApproval or
 * Approved): sets kubeskippy.io/cancel to the authenticated user. The operator honours it only until execution
 * starts, so the output says "cancellation requested". Refused (exit 1) when the action does not exist, is
 * executing or finished, or was already rejected or cancelled.
 */
export async function cancelCommand(api: ActionsApi, input: DecisionInput): Promise<CommandOutcome> {
  return decide(
    api,
    input,
    'cancel',
    (user) => ({ [ANNOTATIONS.cancel]: user }),
    (user) => `${RESOURCE}/${input.name} cancellation requested by ${user} (the operator cancels it unless execution has started)`,
  );
}

/** Reads the username out of a SelfSubjectReview answer; rejects when there is none. Pure. */
export function usernameOf(review: k8s.V1SelfSubjectReview): string {
  const username = review.status?.userInfo?.username ?? '';
  if (username === '') throw new Error('the API server did not say who you are (SelfSubjectReview returned no username)');
  return username;
}

/** An {@link ActionsApi} over a real cluster. */
export function createActionsApi(kc: k8s.KubeConfig): ActionsApi {
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
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
    // Every authenticated user may create a SelfSubjectReview (the built-in system:basic-user role); it is what
    // `kubectl auth whoami` asks, and the only source of the name the admission policy compares against.
    whoAmI: async () => usernameOf(await authn.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } })),
  };
}

/** What every command registration gets: where to print, where to put the exit code, the environment. */
export interface CommandContext {
  /** The program name for messages: "kubeskippy", or "kubectl skippy" as the plugin. */
  readonly name: string;
  readonly io: CliIo;
  readonly state: { code: number };
  /** The process environment (KUBECONFIG, HOME…), passed in so nothing here reads process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs a command and reports its outcome through `ctx`: outcome lines to stdout/stderr (refusals prefixed with the
 * command), anything thrown as one line and the exit code errors.ts gives it.
 */
export async function runCommand(ctx: CommandContext, command: string, run: () => Promise<CommandOutcome>): Promise<void> {
  let outcome: CommandOutcome;
  try {
    outcome = await run();
  } catch (e: unknown) {
    outcome = { code: exitCodeOf(e), out: [], err: [describeError(e)] };
  }
  for (const line of outcome.out) ctx.io.out(line);
  for (const line of outcome.err) ctx.io.err(outcome.code === ExitCode.Ok ? line : `${ctx.name} ${command}: ${line}`);
  ctx.state.code = outcome.code;
}

/** Adds `approve`, `reject` and `cancel` to the command tree. */
export function registerApprovalCommands(program: Command, ctx: CommandContext): void {
  const recorded = 'records the user the API server authenticates you as';
  const api = (flags: ConnectionFlags): { api: ActionsApi; namespace: string } => {
    const c = connect(flags, ctx.env);
    return { api: createActionsApi(c.kc), namespace: c.namespace };
  };

  withConnectionFlags(
    program
      .command('approve')
      .description(`approve a HealingAction that waits for approval (sets the kubeskippy.io/approved-by annotation; ${recorded})`)
      .argument('<name>', 'the HealingAction'),
    'the action',
  ).action(async (name: string, flags: ConnectionFlags) =>
    runCommand(ctx, 'approve', async () => {
      const c = api(flags);
      return approveCommand(c.api, { namespace: c.namespace, name });
    }),
  );

  withConnectionFlags(
    program
      .command('reject')
      .description(`reject a HealingAction that waits for approval; the operator cancels it with the reason (${recorded})`)
      .argument('<name>', 'the HealingAction')
      .requiredOption('--reason <text>', 'why it is rejected (recorded on the action)'),
    'the action',
  ).action(async (name: string, flags: ConnectionFlags & { reason: string }) =>
    runCommand(ctx, 'reject', async () => {
      const c = api(flags);
      return rejectCommand(c.api, { namespace: c.namespace, name, reason: flags.reason });
    }),
  );

  withConnectionFlags(
    program
      .command('cancel')
      .description(`cancel a HealingAction that has not started executing (sets the kubeskippy.io/cancel annotation; ${recorded})`)
      .argument('<name>', 'the HealingAction'),
    'the action',
  ).action(async (name: string, flags: ConnectionFlags) =>
    runCommand(ctx, 'cancel', async () => {
      const c = api(flags);
      return cancelCommand(c.api, { namespace: c.namespace, name });
    }),
  );
}
