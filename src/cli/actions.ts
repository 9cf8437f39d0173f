/**
 * `kubeskippy actions`: lists HealingActions as a table (or -o json|yaml), filtered by policy, phase, target,
 * source and age, and with -w streams every change through a real watch (list, then watch from the list's
 * resourceVersion, reconnecting as informers do) until interrupted.
 */
import type * as k8s from '@kubernetes/client-node';
import { Informer, type ListWatchSource } from '../k8s/informer.js';
import type { KubeError } from '../k8s/errors.js';
import { ACTION_PHASES, type ActionPhase, type HealingAction } from '../api/v1alpha1/healing-action.js';
import { silentLogger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { InvalidDurationError, parseDuration } from '../triggers/duration.js';
import { isAwaitingApproval, type ActionsApi, type CommandOutcome } from './approve.js';
import { UsageError } from './errors.js';
import { ageOf, formatData, formatTable, type OutputFormat } from './output.js';

/** Which actions to show. Every filter given must match. */
export interface ActionFilters {
  /** Only actions waiting for approval. */
  readonly pending?: boolean;
  /** policyRef.name, or "ClusterHealingPolicy/NAME" / "chp/NAME" for a cluster policy. */
  readonly policy?: string;
  /** Any of these phases. */
  readonly phases?: readonly ActionPhase[];
  /** The target's (or its workload's) name, or KIND/NAME (kind case-insensitive). */
  readonly target?: string;
  readonly source?: 'rule' | 'ai';
  /** Created at or after this time (ms). */
  readonly createdSince?: number;
}

/** Raw filter flags as commander gives them. */
export interface ActionFilterFlags {
  readonly pending?: boolean;
  readonly policy?: string;
  readonly phase?: string;
  readonly target?: string;
  readonly source?: string;
  readonly since?: string;
}

/** Parses the filter flags; `now` anchors --since. Throws UsageError naming the bad flag. */
export function parseActionFilters(flags: ActionFilterFlags, now: number): ActionFilters {
  const phases = flags.phase
    ?.split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const found = ACTION_PHASES.find((x) => x.toLowerCase() === p.toLowerCase());
      if (found === undefined) throw new UsageError(`--phase ${JSON.stringify(p)} is not a phase: use ${ACTION_PHASES.join(', ')}`);
      return found;
    });
  if (flags.source !== undefined && flags.source !== 'rule' && flags.source !== 'ai') {
    throw new UsageError(`--source ${JSON.stringify(flags.source)}: use rule or ai`);
  }
  let createdSince: number | undefined;
  if (flags.since !== undefined) {
    try {
      createdSince = now - parseDuration(flags.since);
    } catch (e: unknown) {
      if (e instanceof InvalidDurationError) throw new UsageError(`--since ${JSON.stringify(flags.since)} is not a duration such as 30m or 2h`, { cause: e });
      throw e;
    }
  }
  return {
    ...(flags.pending === true ? { pending: true } : {}),
    ...(flags.policy === undefined ? {} : { policy: flags.policy }),
    ...(phases === undefined || phases.length === 0 ? {} : { phases }),
    ...(flags.target === undefined ? {} : { target: flags.target }),
    ...(flags.source === undefined ? {} : { source: flags.source }),
    ...(createdSince === undefined ? {} : { createdSince }),
  };
}

function matchesPolicy(a: HealingAction, wanted: string): boolean {
  const slash = wanted.indexOf('/');
  const ref = a.spec.policyRef;
  const kind = ref.kind ?? 'HealingPolicy';
  if (slash < 0) return ref.name === wanted;
  const k = wanted.slice(0, slash).toLowerCase();
  const name = wanted.slice(slash + 1);
  const wantCluster = k === 'clusterhealingpolicy' || k === 'chp';
  const wantNamespaced = k === 'healingpolicy' || k === 'hp';
  if (wantCluster) return kind === 'ClusterHealingPolicy' && ref.name === name;
  if (wantNamespaced) return kind === 'HealingPolicy' && ref.name === name;
  // "namespace/name": a HealingPolicy of that namespace.
  return kind === 'HealingPolicy' && (ref.namespace ?? a.metadata.namespace) === wanted.slice(0, slash) && ref.name === name;
}

function matchesTarget(a: HealingAction, wanted: string): boolean {
  const slash = wanted.indexOf('/');
  const kind = slash < 0 ? undefined : wanted.slice(0, slash).toLowerCase();
  const name = slash < 0 ? wanted : wanted.slice(slash + 1);
  const objects = [a.spec.targetResource, ...(a.spec.workloadRef ? [a.spec.workloadRef] : [])];
  return objects.some((o) => o.name === name && (kind === undefined || o.kind.toLowerCase() === kind));
}

/** True when `a` passes every filter. Pure. */
export function matchesFilters(a: HealingAction, f: ActionFilters): boolean {
  if (f.pending === true && !isAwaitingApproval(a)) return false;
  if (f.policy !== undefined && !matchesPolicy(a, f.policy)) return false;
  if (f.phases !== undefined && !f.phases.includes(a.status?.phase ?? 'Pending')) return false;
  if (f.target !== undefined && !matchesTarget(a, f.target)) return false;
  if (f.source !== undefined && (a.spec.source ?? 'rule') !== f.source) return false;
  if (f.createdSince !== undefined) {
    const created = Date.parse(a.metadata.creationTimestamp ?? '');
    if (!(created >= f.createdSince)) return false;
  }
  return true;
}

/** What the listing needs: the namespace (undefined: all), the filters and the output format. */
export interface ListInput {
  readonly namespace: string | undefined;
  readonly filters: ActionFilters;
  readonly output?: OutputFormat;
}

const HEADER = ['NAME', 'POLICY', 'ACTION', 'TARGET', 'PHASE', 'REASON', 'AGE'];

/** One table row for `a` (NAMESPACE first when `withNamespace`). */
export function actionRow(a: HealingAction, now: number, withNamespace: boolean): string[] {
  const ref = a.spec.policyRef;
  return [
    ...(withNamespace ? [a.metadata.namespace ?? ''] : []),
    a.metadata.name ?? '',
    ref.kind === 'ClusterHealingPolicy' ? `chp/${ref.name}` : ref.name,
    a.spec.action.type,
    `${a.spec.targetResource.kind}/${a.spec.targetResource.name}`,
    a.status?.phase ?? 'Pending',
    a.status?.reason ?? '<none>',
    ageOf(a.metadata.creationTimestamp, now),
  ];
}

/** The table header (NAMESPACE first when `withNamespace`). */
export function actionHeader(withNamespace: boolean): string[] {
  return [...(withNamespace ? ['NAMESPACE'] : []), ...HEADER];
}

function byAge(x: HealingAction, y: HealingAction): number {
  return (
    (x.metadata.creationTimestamp ?? '').localeCompare(y.metadata.creationTimestamp ?? '') ||
    (x.metadata.namespace ?? '').localeCompare(y.metadata.namespace ?? '') ||
    (x.metadata.name ?? '').localeCompare(y.metadata.name ?? '')
  );
}

/**
 * Lists HealingActions oldest first as NAME, POLICY, ACTION, TARGET, PHASE, REASON, AGE (NAMESPACE first when
 * listing every namespace), or as a kubectl-style List in JSON/YAML. `now` is the time ages are measured from.
 * A cluster policy prints as chp/NAME; empty reasons as "<none>". Nothing found is not an error (exit 0).
 */
export async function actionsCommand(api: Pick<ActionsApi, 'list'>, input: ListInput, now: number): Promise<CommandOutcome> {
  const items = [...(await api.list(input.namespace))].filter((a) => matchesFilters(a, input.filters)).sort(byAge);
  const output = input.output ?? 'human';
  if (output !== 'human') return { code: 0, out: formatData({ apiVersion: 'v1', kind: 'List', items }, output), err: [] };
  if (items.length === 0) {
    const where = input.namespace === undefined ? '' : ` in ${input.namespace} namespace`;
    const what = input.filters.pending === true ? 'actions waiting for approval' : Object.keys(input.filters).length > 0 ? 'matching actions' : 'resources';
    return { code: 0, out: [], err: [`No ${what} found${where}.`] };
  }
  const all = input.namespace === undefined;
  return { code: 0, out: formatTable([actionHeader(all), ...items.map((a) => actionRow(a, now, all))]), err: [] };
}

/** What a watch prints for one change; undefined when the action does not pass the filters. */
export function watchLine(type: 'ADDED' | 'MODIFIED' | 'DELETED', a: HealingAction, output: OutputFormat, now: number, withNamespace: boolean, widths: readonly number[]): string[] | undefined {
  if (output === 'json') return [JSON.stringify({ type, object: a })];
  if (output === 'yaml') return ['---', ...formatData({ type, object: a }, 'yaml')];
  const row = actionRow(a, now, withNamespace);
  if (type === 'DELETED') row[row.length - 3] = 'Deleted';
  return [row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ').trimEnd()];
}

/** A HealingAction as the informer holds it. */
export type WatchedAction = HealingAction & k8s.KubernetesObject;

/** Inputs of the watch. */
export interface WatchInput {
  readonly namespace: string | undefined;
  readonly filters: ActionFilters;
  readonly output: OutputFormat;
  /** The collection to list and watch (createKubeListWatch over healingactions). */
  readonly source: ListWatchSource<WatchedAction>;
  readonly clock: Clock;
  /** Aborting ends the watch (Ctrl-C); the command then resolves with exit code 0. */
  readonly signal: AbortSignal;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/**
 * Streams actions: first the current ones (as the list found them, oldest first), then one line per change —
 * ADDED, MODIFIED, DELETED — as kubectl get -w does. Reconnects after errors (the informer's back-off) and resumes
 * from the last resourceVersion. Resolves with 0 when `signal` aborts.
 */
export async function watchActions(input: WatchInput): Promise<number> {
  const all = input.namespace === undefined;
  let synced = false;
  // Before the first list succeeds, an error ends the command (exit code from it: forbidden, unreachable…); after,
  // the informer reconnects on its own and the user is told.
  let firstError: KubeError | undefined;
  const informer = new Informer<WatchedAction>({
    name: 'healingactions',
    source: input.source,
    clock: input.clock,
    logger: silentLogger,
    onRestart: (reason, error) => {
      if (!synced) firstError ??= error;
      else input.err(`watch interrupted (${reason}${error ? `: ${error.message}` : ''}); reconnecting`);
    },
  });
  // Column widths fixed from the header and first rows, as kubectl does: later rows are not realigned.
  const header = actionHeader(all);
  const widths = header.map((h) => Math.max(h.length, 12));
  widths[all ? 1 : 0] = 40;
  widths[all ? 4 : 3] = 32;
  let headerPrinted = false;
  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', a: HealingAction): void => {
    if (!matchesFilters(a, input.filters)) return;
    if (input.output === 'human' && !headerPrinted) {
      headerPrinted = true;
      input.out(header.map((cell, i) => (i === header.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   '));
    }
    for (const line of watchLine(type, a, input.output, input.clock.now(), all, widths) ?? []) input.out(line);
  };
  const initial: HealingAction[] = [];
  informer.addHandler({
    onAdd: (a) => (synced ? emit('ADDED', a) : initial.push(a)),
    onUpdate: (a) => emit('MODIFIED', a),
    onDelete: (a) => emit('DELETED', a),
  });
  informer.start();
  try {
    while (!informer.hasSynced()) {
      if (firstError !== undefined) throw firstError;
      await input.clock.sleep(50, input.signal);
    }
    synced = true;
    for (const a of initial.sort(byAge)) emit('ADDED', a);
    await new Promise<void>((resolve) => {
      if (input.signal.aborted) resolve();
      else input.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } catch (e: unknown) {
    if (!input.signal.aborted) throw e;
  } finally {
    await informer.stop();
  }
  return 0;
}
