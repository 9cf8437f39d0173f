/**
 * `kubeskippy replay POLICY --from T [--to T] [--step D]`: runs a policy over history read from Prometheus and
 * prints what it would have done and when — firings, the actions and their rung of the ladder, and where the
 * policy's budget (or its protectedResources) would have blocked. Reads only: nothing in the cluster changes.
 *
 * Each built-in metric and condition the policy's triggers use becomes a `query_range` (src/replay/metric-map.ts,
 * configurable with --metrics-map); PromQL triggers are queried as written. The targets are the series' pods (or
 * workloads) in the namespaces the policy may act in; when the policy has a labelSelector, a target's labels come
 * from the live object, so targets that no longer exist are skipped and counted. The simulation itself is the
 * pure engine in src/replay/engine.ts.
 */
import { readFile } from 'node:fs/promises';
import type * as k8s from '@kubernetes/client-node';
import { BUILTIN_METRICS } from '../api/v1alpha1/common.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { validatePolicy } from '../api/v1alpha1/validate.js';
import { mayActInNamespace, podWorkload, policyResources, selectsObject, type SelectedTarget } from '../controllers/healing-policy/select.js';
import { seriesTarget } from '../metrics/collectors/prometheus.js';
import { targetKey, type Sample, type TargetRef } from '../metrics/types.js';
import { EVENTS_NOT_REPLAYABLE, historyNeededMs, replayEvaluateOptions, replayPolicy, type ReplayEvent, type ReplayResult, type ReplayTarget } from '../replay/engine.js';
import { DEFAULT_METRIC_MAP, DERIVED, expandQuery, MetricMapError, parseMetricMap, type MetricMap } from '../replay/metric-map.js';
import { rangeQuery, type RangeFetch, type RangeSeries } from '../replay/prometheus-range.js';
import { InvalidDurationError, parseDuration } from '../triggers/duration.js';
import type { PolicyId } from '../safety/types.js';
import type { CommandOutcome } from './approve.js';
import { ExitCode, NotFoundError, UsageError } from './errors.js';
import { formatData, formatFields, formatTable, type OutputFormat } from './output.js';

/** The cluster reads replay makes (policy, namespaces, live objects for labels). */
export interface ReplayApi {
  getPolicy(id: PolicyId): Promise<AnyPolicy | undefined>;
  listNamespaces(): Promise<readonly k8s.V1Namespace[]>;
  listPods(namespace: string): Promise<readonly k8s.V1Pod[]>;
  /** The workloads of a namespace (their labels, and pods' owners). */
  listWorkloads(namespace: string): Promise<{ readonly deployments: readonly k8s.V1Deployment[]; readonly statefulSets: readonly k8s.V1StatefulSet[]; readonly daemonSets: readonly k8s.V1DaemonSet[]; readonly replicaSets: readonly k8s.V1ReplicaSet[] }>;
}

/** Parsed input of the command. */
export interface ReplayCommandInput {
  readonly policy: PolicyId;
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly prometheusUrl: string;
  readonly metricMap: MetricMap;
  readonly escalationWindowMs: number;
  readonly timeoutMs: number;
  readonly output: OutputFormat;
  readonly fetch?: RangeFetch;
}

/** The most steps one replay may take: past it, a coarser --step is the answer. */
export const MAX_STEPS = 100_000;

/**
 * A time flag: RFC 3339 ("2026-03-01T10:00:00Z"), "now", or a duration meaning that long before now ("2h", "-2h").
 * Throws UsageError naming the flag.
 */
export function parseTime(flag: string, value: string, now: number): number {
  const v = value.trim();
  if (v === 'now') return now;
  const relative = /^-?[0-9]/.test(v) && !/[T:]/.test(v);
  if (relative) {
    try {
      return now - parseDuration(v.replace(/^-/, ''));
    } catch (e: unknown) {
      if (!(e instanceof InvalidDurationError)) throw e;
    }
  }
  const t = Date.parse(v);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) throw new UsageError(`${flag} ${JSON.stringify(value)}: use a time such as 2026-03-01T10:00:00Z, "now", or a duration ago such as 2h`);
  return t;
}

/** A duration flag in ms. Throws UsageError naming the flag. */
export function parseDurationFlag(flag: string, value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new UsageError(`${flag} must be longer than 0`);
    return ms;
  } catch (e: unknown) {
    if (e instanceof InvalidDurationError) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration such as 30s, 1m or 1h30m`, { cause: e });
    throw e;
  }
}

/** The policy named on the command line: NAME (a HealingPolicy in -n), NS/NAME, or chp/NAME. */
export function parsePolicyArg(arg: string, namespace: string): PolicyId {
  const slash = arg.indexOf('/');
  if (slash < 0) return { kind: 'HealingPolicy', namespace, name: arg };
  const head = arg.slice(0, slash);
  const name = arg.slice(slash + 1);
  if (name === '' || name.includes('/')) throw new UsageError(`policy ${JSON.stringify(arg)}: use NAME, NAMESPACE/NAME or chp/NAME`);
  const k = head.toLowerCase();
  if (k === 'chp' || k === 'clusterhealingpolicy' || k === 'clusterhealingpolicies') return { kind: 'ClusterHealingPolicy', namespace: '', name };
  if (k === 'hp' || k === 'healingpolicy' || k === 'healingpolicies') return { kind: 'HealingPolicy', namespace, name };
  return { kind: 'HealingPolicy', namespace: head, name };
}

/** Reads a --metrics-map file over the defaults. Throws UsageError (unreadable) or MetricMapError. */
export async function loadMetricMap(file: string | undefined): Promise<MetricMap> {
  if (file === undefined) return DEFAULT_METRIC_MAP;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e: unknown) {
    throw new UsageError(`--metrics-map ${file}: cannot read it (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  try {
    return parseMetricMap(text);
  } catch (e: unknown) {
    if (e instanceof MetricMapError) throw new UsageError(`--metrics-map ${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** One query replay runs: what it stands for and the PromQL. */
export interface PlannedQuery {
  /** The metric name (or PromQL text) or condition type the samples are recorded under. */
  readonly key: string;
  readonly kind: 'metric' | 'condition';
  readonly promql: string;
}

/**
 * The queries a policy needs, and why some of its triggers cannot be replayed (event triggers; a condition with no
 * query in the map). `namespaces`: where the policy may act ('all' for every namespace). Pure.
 */
export function planQueries(policy: AnyPolicy, map: MetricMap, namespaces: readonly string[] | 'all'): { queries: PlannedQuery[]; unavailable: Map<string, string> } {
  const queries = new Map<string, PlannedQuery>();
  const unavailable = new Map<string, string>();
  const metric = (name: string): void => {
    if (!(BUILTIN_METRICS as readonly string[]).includes(name)) {
      queries.set(`metric/${name}`, { key: name, kind: 'metric', promql: name });
      return;
    }
    const template = map.metrics[name];
    if (template === DERIVED) {
      metric('restart_count');
      return;
    }
    if (template === undefined) {
      unavailable.set(name, `no PromQL for ${name}: add it under metrics: in --metrics-map`);
      return;
    }
    queries.set(`metric/${name}`, { key: name, kind: 'metric', promql: expandQuery(template, namespaces) });
  };
  for (const t of policy.spec.triggers) {
    if (t.metricTrigger) metric(t.metricTrigger.query);
    if (t.predictiveTrigger) metric(t.predictiveTrigger.metric ?? 'memory_usage_percent');
    if (t.conditionTrigger) {
      const type = t.conditionTrigger.type;
      const template = map.conditions[type];
      if (template === undefined) unavailable.set(type, `no PromQL for condition ${type}: add it under conditions: in --metrics-map`);
      else queries.set(`condition/${type}`, { key: type, kind: 'condition', promql: expandQuery(template, namespaces) });
    }
    if (t.eventTrigger) unavailable.set(EVENTS_NOT_REPLAYABLE[0], EVENTS_NOT_REPLAYABLE[1]);
  }
  return { queries: [...queries.values()], unavailable };
}

/** What was fetched and kept, for the report. */
interface DataReport {
  readonly queries: readonly { readonly key: string; readonly promql: string; readonly series: number }[];
  readonly skipped: number;
  readonly skippedWhy: string;
}

/** Live objects of one namespace, looked up once. */
interface LiveObjects {
  readonly byKindName: Map<string, { labels: Record<string, string>; annotations: Record<string, string>; workload?: TargetRef }>;
}

async function liveObjects(api: ReplayApi, namespace: string): Promise<LiveObjects> {
  const [pods, w] = await Promise.all([api.listPods(namespace), api.listWorkloads(namespace)]);
  const byKindName = new Map<string, { labels: Record<string, string>; annotations: Record<string, string>; workload?: TargetRef }>();
  for (const p of pods) {
    const workload = podWorkload(p, w.replicaSets);
    byKindName.set(`Pod/${p.metadata?.name ?? ''}`, { labels: p.metadata?.labels ?? {}, annotations: p.metadata?.annotations ?? {}, ...(workload ? { workload } : {}) });
  }
  const add = (kind: string, list: readonly { metadata?: k8s.V1ObjectMeta }[]): void => {
    for (const o of list) byKindName.set(`${kind}/${o.metadata?.name ?? ''}`, { labels: o.metadata?.labels ?? {}, annotations: o.metadata?.annotations ?? {} });
  };
  add('Deployment', w.deployments);
  add('StatefulSet', w.statefulSets);
  add('DaemonSet', w.daemonSets);
  add('ReplicaSet', w.replicaSets);
  return { byKindName };
}

function isoTime(ms: number): string {
  // Formatting a given instant, not reading the clock.
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function describeEvent(e: ReplayEvent): string {
  const rung = e.rung === undefined ? '' : ` (rung ${e.rung + 1}: ${e.action ?? ''})`;
  const flags = [e.dryRun ? 'dry run' : '', e.approval ? 'approval assumed' : ''].filter((x) => x !== '');
  const suffix = flags.length > 0 ? ` [${flags.join(', ')}]` : '';
  switch (e.outcome) {
    case 'action':
      return `${e.actionType ?? ''}${rung}${suffix}: ${e.reason}`;
    case 'blocked':
      return `BLOCKED ${e.blockedReason ?? ''} ${e.actionType ?? ''}${rung}: ${e.message ?? ''}`;
    case 'monitor':
      return `would act (monitor mode: an Event only): ${e.reason}`;
    case 'no-action':
      return `fired, but ${e.message ?? 'no action applies'}`;
  }
}

/** The human rendering. Pure. */
export function renderReplay(policy: AnyPolicy, input: Pick<ReplayCommandInput, 'from' | 'to' | 'stepMs'>, data: DataReport, unavailable: ReadonlyMap<string, string>, result: ReplayResult): string[] {
  const ns = policy.kind === 'ClusterHealingPolicy' ? '' : `${policy.metadata.namespace ?? ''}/`;
  const s = result.summary;
  const out = [
    `Replay of ${policy.kind} ${ns}${policy.metadata.name ?? ''} (mode ${policy.spec.mode ?? 'automatic'}), ${isoTime(input.from)} → ${isoTime(input.to)} every ${input.stepMs / 1000}s (${s.steps} steps)`,
    ...formatFields([
      ['Targets', `${s.targets}`],
      ...data.queries.map((q) => [`Data ${q.key}`, `${q.series} series ← ${q.promql}`] as const),
      ...(data.skipped > 0 ? [['Skipped', `${data.skipped} series: ${data.skippedWhy}`] as const] : []),
      ...[...unavailable.entries()].map(([k, why]) => [`Not replayable`, k === EVENTS_NOT_REPLAYABLE[0] ? why : `${k}: ${why}`] as const),
    ]),
    '',
  ];
  if (result.events.length === 0) out.push('Nothing would have fired in this time range.');
  else {
    out.push(
      ...formatTable([
        ['TIME', 'TARGET', 'TRIGGER', 'WHAT'],
        ...result.events.map((e) => [isoTime(e.at), `${e.target.kind} ${e.target.namespace}/${e.target.name}`, e.trigger, describeEvent(e)]),
      ]),
    );
  }
  const types = Object.entries(s.actionsByType).map(([t, n]) => `${t} ${n}`).join(', ');
  const blocked = Object.entries(s.blocked).map(([r, n]) => `${r} ${n}`).join(', ');
  out.push(
    '',
    'Summary',
    ...formatFields([
      ['Decisions', `${s.firings} (firings not suppressed by a cooldown)`],
      ['Actions', `${s.actions}${types === '' ? '' : ` (${types})`}`],
      ['Blocked', `${Object.values(s.blocked).reduce((a, b) => a + b, 0)}${blocked === '' ? '' : ` (${blocked})`}`],
      ...(s.firstBudgetBlockAt === undefined
        ? []
        : [['Budget', `maxActionsPerHour ${policy.spec.safetyRules?.maxActionsPerHour ?? 5} first blocked an action at ${isoTime(s.firstBudgetBlockAt)}`] as const]),
      ...(s.monitored > 0 ? [['Monitor only', `${s.monitored}`] as const] : []),
      ...(s.noAction > 0 ? [['No action fits', `${s.noAction}`] as const] : []),
    ]),
    ...s.unknown.slice(0, 5).map((u) => `  could not evaluate ${u.trigger} (${u.count} target-steps): ${u.reason}`),
    '',
    'Assumed: every action executes at once and is verified (a recurrence escalates), approvals are given, and the data',
    'after an action is what happened without it. Not simulated: global budgets, circuit breakers, PDBs and disruption budgets.',
  );
  return out;
}

/**
 * Runs the replay: reads the policy (NotFoundError when missing), plans and runs the range queries (progress on
 * `progress`), selects targets, simulates, and renders. Mutates nothing.
 */
export async function replayCommand(api: ReplayApi, input: ReplayCommandInput, progress: (line: string) => void): Promise<CommandOutcome> {
  if (input.to < input.from) throw new UsageError('--to is before --from');
  const steps = Math.floor((input.to - input.from) / input.stepMs) + 1;
  if (steps > MAX_STEPS) throw new UsageError(`${steps} steps is more than ${MAX_STEPS}: use a coarser --step or a shorter range`);
  const stored = await api.getPolicy(input.policy);
  if (!stored) {
    throw new NotFoundError(
      input.policy.kind === 'ClusterHealingPolicy'
        ? `clusterhealingpolicy "${input.policy.name}" not found`
        : `healingpolicy "${input.policy.name}" not found in namespace "${input.policy.namespace}"`,
    );
  }
  const validated = validatePolicy(stored);
  if (!validated.valid || !validated.value) {
    return { code: ExitCode.Failure, out: [], err: [`the policy is invalid, so the operator would not evaluate it either: ${validated.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`] };
  }
  const policy = validated.value;

  // Where the policy may act: its own namespace, or a cluster policy's names/selector over the live namespaces.
  let namespaces: readonly string[] | 'all';
  let namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  if (policy.kind === 'HealingPolicy') namespaces = [policy.metadata.namespace ?? ''];
  else {
    const sel = policy.spec.selector;
    if (sel.namespaceSelector === undefined && (sel.namespaces ?? []).includes('*')) namespaces = 'all';
    else if (sel.namespaceSelector === undefined) namespaces = sel.namespaces ?? [];
    else {
      const all = await api.listNamespaces();
      namespaceLabels = new Map(all.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
      namespaces = [...namespaceLabels.keys()].filter((n) => mayActInNamespace(policy, n, namespaceLabels.get(n)));
    }
  }

  const { queries, unavailable } = planQueries(policy, input.metricMap, namespaces);
  const options = replayEvaluateOptions(input.stepMs);
  const fetchFrom = input.from - historyNeededMs(policy, options);
  const fetched: { q: PlannedQuery; series: RangeSeries[] }[] = [];
  for (const [i, q] of queries.entries()) {
    progress(`querying Prometheus ${i + 1}/${queries.length}: ${q.key}`);
    const series = await rangeQuery(
      { baseUrl: input.prometheusUrl, query: q.promql, from: fetchFrom, to: input.to, stepMs: input.stepMs, timeoutMs: input.timeoutMs, ...(input.fetch ? { fetch: input.fetch } : {}) },
      (done, total) => {
        if (total > 1) progress(`  ${q.key}: chunk ${done}/${total}`);
      },
    );
    fetched.push({ q, series });
  }

  // Targets: every series that names an object inside the policy's selector.
  const labelled = Object.keys(policy.spec.selector.labelSelector?.matchLabels ?? {}).length > 0 || (policy.spec.selector.labelSelector?.matchExpressions ?? []).length > 0;
  const live = new Map<string, Promise<LiveObjects>>();
  const liveIn = (ns: string): Promise<LiveObjects> => {
    let l = live.get(ns);
    if (l === undefined) live.set(ns, (l = liveObjects(api, ns)));
    return l;
  };
  const kinds = new Set(policyResources(policy).map((r) => r.kind));
  const targets = new Map<string, { target: SelectedTarget; series: Map<string, Sample[]>; conditions: Map<string, Sample[]> }>();
  const skipped = new Set<string>();
  const counts = new Map<string, number>();
  for (const { q, series } of fetched) {
    for (const s of series) {
      const ref = seriesTarget(s.labels);
      if (ref === undefined || !kinds.has(ref.kind)) continue;
      const key = targetKey(ref);
      let entry = targets.get(key);
      if (entry === undefined) {
        if (skipped.has(key)) continue;
        const obj = (await liveIn(ref.namespace)).byKindName.get(`${ref.kind}/${ref.name}`);
        if (labelled && obj === undefined) {
          skipped.add(key);
          continue;
        }
        if (!selectsObject(policy, ref, obj?.labels ?? {}, namespaceLabels.get(ref.namespace) ?? (namespaces === 'all' ? {} : undefined))) continue;
        entry = {
          target: { ref, labels: obj?.labels ?? {}, annotations: obj?.annotations ?? {}, ...(obj?.workload ? { workload: obj.workload } : {}), pods: [] },
          series: new Map(),
          conditions: new Map(),
        };
        targets.set(key, entry);
      }
      (q.kind === 'metric' ? entry.series : entry.conditions).set(q.key, [...s.samples]);
      counts.set(q.key, (counts.get(q.key) ?? 0) + 1);
    }
  }

  const list: ReplayTarget[] = [...targets.values()].sort((a, b) => targetKey(a.target.ref).localeCompare(targetKey(b.target.ref)));
  const work = steps * Math.max(1, list.length);
  let lastPct = -1;
  const result = replayPolicy({
    policy,
    targets: list,
    from: input.from,
    to: input.to,
    stepMs: input.stepMs,
    escalationWindowMs: input.escalationWindowMs,
    unavailable,
    // Progress only where it helps: long simulations.
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (work >= 20_000 && pct >= lastPct + 10) {
        lastPct = pct;
        progress(`simulating: ${pct}% (${done} of ${total} target-steps)`);
      }
    },
  });
  const data: DataReport = {
    queries: queries.map((q) => ({ key: q.key, promql: q.promql, series: counts.get(q.key) ?? 0 })),
    skipped: skipped.size,
    skippedWhy: 'objects that no longer exist: their labels cannot be checked against selector.labelSelector',
  };
  if (input.output === 'human') return { code: ExitCode.Ok, out: renderReplay(policy, input, data, unavailable, result), err: [] };
  return {
    code: ExitCode.Ok,
    out: formatData(
      {
        policy: { kind: policy.kind, ...(policy.kind === 'HealingPolicy' ? { namespace: policy.metadata.namespace } : {}), name: policy.metadata.name, mode: policy.spec.mode ?? 'automatic' },
        from: isoTime(input.from),
        to: isoTime(input.to),
        stepSeconds: input.stepMs / 1000,
        data,
        unavailable: Object.fromEntries(unavailable),
        events: result.events.map((e) => ({ ...e, at: isoTime(e.at) })),
        summary: { ...result.summary, ...(result.summary.firstBudgetBlockAt === undefined ? {} : { firstBudgetBlockAt: isoTime(result.summary.firstBudgetBlockAt) }) },
      },
      input.output,
    ),
    err: [],
  };
}
