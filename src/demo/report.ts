/**
 * The scenario report, pure: from a Recording (what the cluster and the operator did, as observed) to per-scenario
 * figures — time to detect, time to heal, failures prevented and failures that happened (OOMKilled, crash
 * terminations, readiness failures, CPU peaks over the line, from the pods' own status and usage), actions by type
 * and source, false actions on healthy apps, success rate — and the seed's claims beside our measured figures.
 * Nothing here is declared: every number is counted from the recording.
 *
 * Definitions (also in docs/demo.md):
 * - acted: a HealingAction that is not a dry run and ran (InProgress, Verifying, Succeeded, Failed, or Cancelled
 *   after it started); decisions: every HealingAction, blocked and dry-run ones included.
 * - success rate: Succeeded / (Succeeded + Failed) among acted actions that finished.
 * - an issue is an episode of a scenario (a leaking container's life, a CPU peak, a bad release, a chaos strike…);
 *   it is prevented when its failure never happened (the leaking pod was restarted before its OOM kill, the peak
 *   stayed under the line), and happened otherwise. Prevention rate: prevented / (prevented + happened).
 * - time to detect: from the episode's onset to the first HealingAction about it; time to heal: to the first
 *   verified (Succeeded) action about it, or, where the report checks the workload itself, to the moment it was
 *   whole again (all replicas Ready for 20 s).
 * - false action: an acted action on a workload whose role is healthy, protected, dependency or dependant.
 */
import { CPU_BREACH_PERCENT, SCENARIOS, type DemoTimings, type ScenarioDefinition, type ScenarioId, type ScenarioKind, type Twin, type WorkloadRole } from './scenarios.js';
import { sinePeaks } from './sim-rules.js';
import { hasActed, type ActionRecord, type PodSample, type Recording, type ReplicaSample } from './recording.js';
import type { Injection } from './simulator.js';

/** A distribution of durations (seconds). */
export interface Stat {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** One side of a twin, measured. */
export interface TwinResult {
  readonly twin: Twin;
  readonly workloads: readonly string[];
  readonly prevented: number;
  readonly happened: number;
  readonly acted: number;
  /** Seconds from the start of the run to its first acted action. */
  readonly firstActionSeconds?: number;
  readonly detect?: Stat;
  readonly heal?: Stat;
  /** What the trigger saw when it fired (e.g. memory percent), per acted action. */
  readonly valuesAtAction: readonly number[];
  readonly note: string;
}

/** Failures observed in a scenario's pods. */
export interface FailureCounts {
  readonly oomKilled: number;
  /** Container terminations for other reasons (each one a CrashLoopBackOff in the simulation). */
  readonly crashes: number;
  /** Readiness failures of running pods lasting 10 s or more. */
  readonly unready: number;
  /** CPU peaks above the breach line (CPU scenario). */
  readonly cpuBreaches: number;
}

/** The actions of a scenario, counted. */
export interface ActionCounts {
  readonly decisions: number;
  readonly acted: number;
  readonly dryRun: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly blocked: Readonly<Record<string, number>>;
  readonly byType: Readonly<Record<string, number>>;
  readonly bySource: { readonly rule: number; readonly ai: number };
  /** The analyzer's decisions that declined to act (from the operator's log). */
  readonly declined: number;
  readonly declinedRules: Readonly<Record<string, number>>;
}

/** One scenario, measured. */
export interface ScenarioResult {
  readonly id: ScenarioId;
  readonly kind: ScenarioKind;
  readonly title: string;
  readonly namespace: string;
  readonly seed: string;
  readonly story: string;
  readonly episodes: number;
  readonly prevented: number;
  readonly happened: number;
  readonly detect?: Stat;
  readonly heal?: Stat;
  readonly failures: FailureCounts;
  readonly actions: ActionCounts;
  readonly falseActions: number;
  /** Dry-run actions on such workloads: what a rule would have done wrongly. */
  readonly falseDryRun: number;
  readonly successRate?: number;
  readonly twins: readonly TwinResult[];
  /** Sentences measured from the run (first actions, values, what was blocked). */
  readonly notes: readonly string[];
}

/** A claim of the seed document beside what the run measured. */
export interface ClaimRow {
  readonly claim: string;
  readonly seed: string;
  readonly measured: string;
  readonly note: string;
}

/** A chart of one scenario: time series and markers (actions, faults). Times in Unix seconds. */
export interface ChartData {
  readonly scenario: ScenarioId;
  readonly title: string;
  readonly unit: string;
  readonly xs: readonly number[];
  readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[]; readonly axis?: 'right' }[];
  readonly markers: readonly { readonly at: number; readonly label: string; readonly kind: 'rule' | 'ai' | 'dry-run' | 'blocked' | 'fault' }[];
}

/** The whole report (the JSON of --report). */
export interface DemoReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly durationSeconds: number;
  /** Seconds from the start of the run to the first verified healing. */
  readonly firstHealingSeconds?: number;
  readonly totals: {
    readonly decisions: number;
    readonly acted: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly dryRun: number;
    readonly blocked: number;
    readonly prevented: number;
    readonly happened: number;
    readonly preventionRate?: number;
    readonly successRate?: number;
    readonly successRateBySource: { readonly rule?: number; readonly ai?: number };
    readonly averageAiConfidence?: number;
    readonly aiActions: number;
    readonly falseActions: number;
    readonly failures: FailureCounts;
  };
  readonly claims: readonly ClaimRow[];
  readonly scenarios: readonly ScenarioResult[];
  readonly charts: readonly ChartData[];
  readonly actions: readonly ActionRecord[];
  readonly injections: readonly Injection[];
}

// ---------------------------------------------------------------------------------------------------------------
// Facts derived from the pod samples

/** A restart of a container, seen as its restartCount growing between two listings. */
export interface RestartEvent {
  readonly at: number;
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly uid: string;
  readonly reason: string;
  readonly count: number;
}

/** Every restart in the samples (a growing restartCount), with the termination reason the pod reported. */
export function restartEvents(pods: readonly PodSample[]): RestartEvent[] {
  const out: RestartEvent[] = [];
  const last = new Map<string, PodSample>();
  for (const s of [...pods].sort((a, b) => a.at - b.at)) {
    const prev = last.get(s.uid);
    if (prev !== undefined && s.restarts > prev.restarts) {
      out.push({ at: s.at, namespace: s.namespace, workload: s.workload, pod: s.pod, uid: s.uid, reason: s.lastReason ?? 'Error', count: s.restarts - prev.restarts });
    } else if (prev === undefined && s.restarts > 0) {
      // First seen already restarted (a short listing gap at the start): count what it reports.
      out.push({ at: s.at, namespace: s.namespace, workload: s.workload, pod: s.pod, uid: s.uid, reason: s.lastReason ?? 'Error', count: s.restarts });
    }
    last.set(s.uid, s);
  }
  return out;
}

/** A pod's life as listed: first and last seen, and whether it disappeared before the end. */
export interface PodSpan {
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly uid: string;
  readonly first: number;
  readonly last: number;
  readonly gone: boolean;
}

/** Every pod's span; a pod not seen in the last 5 s of the recording is gone. */
export function podSpans(pods: readonly PodSample[], endedAt: number): PodSpan[] {
  const spans = new Map<string, { s: PodSample; first: number; last: number }>();
  for (const s of pods) {
    const x = spans.get(s.uid);
    if (x === undefined) spans.set(s.uid, { s, first: s.at, last: s.at });
    else {
      x.first = Math.min(x.first, s.at);
      x.last = Math.max(x.last, s.at);
    }
  }
  return [...spans.values()].map(({ s, first, last }) => ({ namespace: s.namespace, workload: s.workload, pod: s.pod, uid: s.uid, first, last, gone: last < endedAt - 5000 }));
}

/** One run of a container: from its start until the next start of the same pod, or the pod's last listing. */
export interface ContainerRun {
  readonly namespace: string;
  readonly workload: string;
  readonly pod: string;
  readonly uid: string;
  readonly start: number;
  readonly end: number;
}

/** The container runs in the samples (distinct running-since times per pod). */
export function containerRuns(pods: readonly PodSample[]): ContainerRun[] {
  const byPod = new Map<string, PodSample[]>();
  for (const s of pods) byPod.set(s.uid, [...(byPod.get(s.uid) ?? []), s]);
  const out: ContainerRun[] = [];
  for (const samples of byPod.values()) {
    samples.sort((a, b) => a.at - b.at);
    const first = samples[0]!;
    const lastAt = samples.at(-1)!.at;
    const starts = [...new Set(samples.map((s) => s.runningSince).filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
    starts.forEach((start, i) => out.push({ namespace: first.namespace, workload: first.workload, pod: first.pod, uid: first.uid, start, end: starts[i + 1] ?? lastAt }));
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Readiness failures of running pods (not being deleted) lasting at least minMs. */
export function unreadySpans(pods: readonly PodSample[], minMs = 10_000): { namespace: string; workload: string; pod: string; from: number; to: number }[] {
  const byPod = new Map<string, PodSample[]>();
  for (const s of pods) byPod.set(s.uid, [...(byPod.get(s.uid) ?? []), s]);
  const out: { namespace: string; workload: string; pod: string; from: number; to: number }[] = [];
  for (const samples of byPod.values()) {
    samples.sort((a, b) => a.at - b.at);
    let from: number | undefined;
    let prevAt = 0;
    for (const s of samples) {
      const bad = !s.ready && !s.deleting;
      if (bad && from === undefined) from = s.at;
      if (!bad && from !== undefined) {
        if (s.at - from >= minMs) out.push({ namespace: s.namespace, workload: s.workload, pod: s.pod, from, to: s.at });
        from = undefined;
      }
      prevAt = s.at;
    }
    const s = samples[0]!;
    if (from !== undefined && prevAt - from >= minMs) out.push({ namespace: s.namespace, workload: s.workload, pod: s.pod, from, to: prevAt });
  }
  return out;
}

/**
 * The first time at or after `from` from which the Deployment had all its desired replicas Ready (and at least one)
 * for `holdMs` — or until the end of the recording, if that came first after at least 10 s.
 */
export function wholeAgainAt(replicas: readonly ReplicaSample[], namespace: string, workload: string, from: number, holdMs: number): number | undefined {
  const samples = replicas.filter((r) => r.namespace === namespace && r.workload === workload && r.at >= from).sort((a, b) => a.at - b.at);
  let since: number | undefined;
  for (const r of samples) {
    const whole = r.desired > 0 && r.ready >= r.desired;
    if (whole) {
      since ??= r.at;
      if (r.at - since >= holdMs) return since;
    } else since = undefined;
  }
  const lastAt = samples.at(-1)?.at;
  return since !== undefined && lastAt !== undefined && lastAt - since >= 10_000 ? since : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Median, min, max and count of a list of seconds; undefined when empty. */
/** What one twin of a scenario measured, before it becomes a TwinResult row. */
interface TwinMeasure {
  readonly twin: TwinResult['twin'];
  readonly workloads: TwinResult['workloads'];
  readonly prevented: number;
  readonly happened: number;
  readonly acted: number;
  /** When its first action was created (ms), if any; `startedAt` is the run's start. */
  readonly first: number | undefined;
  readonly startedAt: number;
  readonly detect: readonly number[];
  readonly heal: readonly number[];
  readonly valuesAtAction: TwinResult['valuesAtAction'];
  readonly note: string;
}

/** Adds a twin's row to `m` and its episodes and timings to the scenario's totals. */
function addTwin(m: Measured, t: TwinMeasure): void {
  const d = stat(t.detect);
  const h = stat(t.heal);
  m.twins.push({
    twin: t.twin,
    workloads: t.workloads,
    prevented: t.prevented,
    happened: t.happened,
    acted: t.acted,
    ...(t.first === undefined ? {} : { firstActionSeconds: seconds(t.first - t.startedAt) }),
    ...(d === undefined ? {} : { detect: d }),
    ...(h === undefined ? {} : { heal: h }),
    valuesAtAction: t.valuesAtAction,
    note: t.note,
  });
  m.prevented += t.prevented;
  m.happened += t.happened;
  m.episodes += t.prevented + t.happened;
  m.detect.push(...t.detect);
  m.heal.push(...t.heal);
}

export function stat(values: readonly number[]): Stat | undefined {
  if (values.length === 0) return undefined;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, median: round1(median), min: round1(v[0]!), max: round1(v.at(-1)!) };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

const seconds = (ms: number): number => round1(ms / 1000);

function count<T>(items: readonly T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) {
    const k = key(t);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function isScaleUp(a: ActionRecord): boolean {
  return a.type === 'scale' && (a.scale?.direction === 'up' || a.scale?.direction === 'absolute');
}

function isScaleDown(a: ActionRecord): boolean {
  return a.type === 'scale' && a.scale?.direction === 'down';
}

function pct(x: number): string {
  return `${Math.round(x)}%`;
}

/** "45 s" / "4.2 min". */
export function formatSeconds(s: number): string {
  return s < 120 ? `${Math.round(s)} s` : `${round1(s / 60)} min`;
}

const FALSE_ROLES: readonly WorkloadRole[] = ['healthy', 'protected', 'dependency', 'dependant'];

// ---------------------------------------------------------------------------------------------------------------
// Per scenario

interface Measured {
  episodes: number;
  prevented: number;
  happened: number;
  detect: number[];
  heal: number[];
  twins: TwinResult[];
  notes: string[];
}

interface Context {
  readonly rec: Recording;
  readonly scenario: ScenarioDefinition;
  readonly namespace: string;
  readonly timings: DemoTimings;
  readonly pods: readonly PodSample[];
  readonly actions: readonly ActionRecord[];
  readonly restarts: readonly RestartEvent[];
  readonly spans: readonly PodSpan[];
  readonly injections: readonly Injection[];
}

function twinWorkloads(s: ScenarioDefinition, twin: Twin): string[] {
  return s.workloads.filter((w) => w.twin === twin).map((w) => w.name);
}

function measureLeak(c: Context): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  for (const twin of ['rules', 'ai'] as const) {
    const workloads = twinWorkloads(c.scenario, twin);
    let prevented = 0;
    let happened = 0;
    const detect: number[] = [];
    const heal: number[] = [];
    const values: number[] = [];
    const runs = containerRuns(c.pods.filter((p) => workloads.includes(p.workload)));
    for (const run of runs) {
      const oom = c.restarts.find((r) => r.uid === run.uid && r.reason === 'OOMKilled' && r.at > run.start && r.at <= run.end + 3000);
      const span = c.spans.find((s) => s.uid === run.uid);
      const action = c.actions.find((a) => hasActed(a) && a.targetName === run.pod && a.createdAt >= run.start - 1000 && a.createdAt <= run.end + 5000);
      if (oom !== undefined && (action === undefined || oom.at < (action.startedAt ?? action.createdAt))) {
        happened++;
        if (action !== undefined) detect.push(seconds(action.createdAt - run.start));
      } else if (action !== undefined && span?.gone === true) {
        prevented++;
        detect.push(seconds(action.createdAt - run.start));
        const healedAt = action.phase === 'Succeeded' && action.completedAt !== undefined ? action.completedAt : span.last;
        heal.push(seconds(healedAt - run.start));
        if (action.trigger.observedValue !== undefined) values.push(round1(action.trigger.observedValue));
      }
    }
    const acted = c.actions.filter((a) => hasActed(a) && workloads.includes(a.workload));
    const first = acted[0];
    const note =
      first === undefined
        ? `no action within the run (its trigger had not fired)`
        : `first action ${formatSeconds(seconds(first.createdAt - c.rec.startedAt))} into the run${values.length > 0 ? `, at ${values.map(pct).join(', ')} of the limit` : ''}`;
    addTwin(m, { twin, workloads, prevented, happened, acted: acted.length, first: first?.createdAt, startedAt: c.rec.startedAt, detect, heal, valuesAtAction: values, note });
    m.notes.push(`${twin}: ${prevented} leaking container(s) restarted before the OOM kill, ${happened} OOMKilled; ${note}`);
  }
  return m;
}

function measureCpu(c: Context): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  const t = c.timings.cpu;
  const quietAt = c.injections.find((i) => i.kind === 'cpu-quiet')?.at ?? c.rec.endedAt;
  const halfWindow = (t.periodSeconds * 1000) / 4;
  for (const twin of ['rules', 'ai'] as const) {
    const workloads = twinWorkloads(c.scenario, twin);
    const usage = c.rec.usage.filter((u) => u.namespace === c.namespace && workloads.includes(u.workload) && u.cpuPercent !== undefined);
    const firstUsage = usage[0]?.at ?? c.rec.endedAt;
    let prevented = 0;
    let happened = 0;
    const breachAt: number[] = [];
    // Peaks up to the load's subsiding; after it the load only falls, so samples past it cannot make a breach.
    for (const peak of sinePeaks(t.periodSeconds, firstUsage + halfWindow, quietAt)) {
      const around = usage.filter((u) => u.at >= peak - halfWindow && u.at <= Math.min(peak + halfWindow, quietAt));
      if (around.length === 0) continue;
      const max = Math.max(...around.map((u) => u.cpuPercent ?? 0));
      if (max > CPU_BREACH_PERCENT) {
        happened++;
        breachAt.push(peak);
      } else prevented++;
    }
    const acted = c.actions.filter((a) => hasActed(a) && workloads.includes(a.workload));
    const ups = acted.filter(isScaleUp);
    const downs = acted.filter(isScaleDown);
    const first = ups[0];
    const detect: number[] = [];
    const heal: number[] = [];
    const values: number[] = [];
    let note = 'no scale-up within the run';
    if (first !== undefined) {
      detect.push(seconds(first.createdAt - c.rec.startedAt));
      if (first.phase === 'Succeeded' && first.completedAt !== undefined) heal.push(seconds(first.completedAt - c.rec.startedAt));
      if (first.trigger.observedValue !== undefined) values.push(round1(first.trigger.observedValue));
      const nextPeak = sinePeaks(t.periodSeconds, first.createdAt, first.createdAt + t.periodSeconds * 1000)[0];
      const breachedBefore = breachAt.filter((b) => b < first.createdAt).length;
      note =
        `first scale-up ${formatSeconds(seconds(first.createdAt - c.rec.startedAt))} into the run at ${values.map(pct).join('') || '?'} CPU, ` +
        `${nextPeak === undefined ? '' : `${formatSeconds(seconds(nextPeak - first.createdAt))} before the next peak, `}after ${breachedBefore} peak(s) over ${CPU_BREACH_PERCENT}%`;
    }
    note += `; ${downs.length} scale-back(s)${downs.length > 0 ? `, the first ${formatSeconds(seconds(downs[0]!.createdAt - quietAt))} after the load subsided` : ''}`;
    addTwin(m, { twin, workloads, prevented, happened, acted: acted.length, first: first?.createdAt, startedAt: c.rec.startedAt, detect, heal, valuesAtAction: values, note });
    m.notes.push(`${twin}: ${happened} peak(s) over ${CPU_BREACH_PERCENT}%, ${prevented} under it after scaling; ${note}`);
  }
  return m;
}

function measureCrash(c: Context): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  for (const w of c.scenario.workloads.filter((x) => x.role === 'heal')) {
    const onset = c.restarts.filter((r) => r.workload === w.name).sort((a, b) => a.at - b.at)[0];
    if (onset === undefined) continue;
    m.episodes++;
    m.happened++;
    const mine = c.actions.filter((a) => a.workload === w.name && a.createdAt >= onset.at - 60_000);
    const firstActed = mine.find(hasActed);
    if (mine[0] !== undefined) m.detect.push(seconds(mine[0].createdAt - onset.at));
    const whole = firstActed === undefined ? undefined : wholeAgainAt(c.rec.replicas, c.namespace, w.name, firstActed.startedAt ?? firstActed.createdAt, 20_000);
    if (whole !== undefined) m.heal.push(seconds(whole - onset.at));
    const ladder = mine.filter(hasActed).map((a) => `${a.type} ${a.phase}`);
    m.notes.push(`${w.name}: crash loop from ${formatSeconds(seconds(onset.at - c.rec.startedAt))}; actions ${ladder.join(' → ') || 'none'}; ${whole === undefined ? 'not whole again by the end' : `whole again ${formatSeconds(seconds(whole - onset.at))} after the first crash`}`);
  }
  return m;
}

function measureRelease(c: Context): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  for (const twin of ['rules', 'ai'] as const) {
    const workloads = twinWorkloads(c.scenario, twin);
    const detect: number[] = [];
    const heal: number[] = [];
    let happened = 0;
    let perEpisode: number[] = [];
    for (const w of workloads) {
      const releases = c.injections.filter((i) => i.kind === 'bad-release' && i.workload === w).sort((a, b) => a.at - b.at);
      releases.forEach((inj, i) => {
        const until = releases[i + 1]?.at ?? c.rec.endedAt;
        happened++;
        const mine = c.actions.filter((a) => a.workload === w && a.createdAt >= inj.at && a.createdAt < until);
        if (mine[0] !== undefined) detect.push(seconds(mine[0].createdAt - inj.at));
        const acted = mine.filter(hasActed);
        perEpisode = [...perEpisode, acted.length];
        const firstActed = acted[0];
        const whole = firstActed === undefined ? undefined : wholeAgainAt(c.rec.replicas, c.namespace, w, firstActed.startedAt ?? firstActed.createdAt, 20_000);
        if (whole !== undefined && whole < until) heal.push(seconds(whole - inj.at));
        m.notes.push(`${w}, release at ${formatSeconds(seconds(inj.at - c.rec.startedAt))}: ${acted.map((a) => `${a.type} ${a.phase}`).join(' → ') || 'no action'}${whole !== undefined && whole < until ? `; whole again after ${formatSeconds(seconds(whole - inj.at))}` : ''}`);
      });
    }
    const acted = c.actions.filter((a) => hasActed(a) && workloads.includes(a.workload));
    const h = stat(heal);
    const note = `${perEpisode.join(', ') || '0'} action(s) per bad release; healed in ${h === undefined ? '—' : formatSeconds(h.median)} (median)`;
    addTwin(m, { twin, workloads, prevented: 0, happened, acted: acted.length, first: acted[0]?.createdAt, startedAt: c.rec.startedAt, detect, heal, valuesAtAction: [], note });
  }
  return m;
}

/** Pod-scoped faults (chaos strikes, stuck flaky pods): detected by an action on the pod, healed when it is replaced or Ready again. */
function measurePodFaults(c: Context, kinds: readonly Injection['kind'][]): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  for (const inj of c.injections.filter((i) => kinds.includes(i.kind))) {
    m.episodes++;
    m.happened++;
    const action = c.actions.find((a) => a.targetName === inj.pod && a.createdAt >= inj.at);
    if (action !== undefined) m.detect.push(seconds(action.createdAt - inj.at));
    const span = c.spans.find((s) => s.pod === inj.pod);
    const readyAgain = c.pods.find((p) => p.pod === inj.pod && p.at > inj.at + 3000 && p.ready)?.at;
    const healedAt = span?.gone === true ? Math.min(span.last, readyAgain ?? Number.POSITIVE_INFINITY) : readyAgain;
    if (healedAt !== undefined && Number.isFinite(healedAt)) m.heal.push(seconds(healedAt - inj.at));
  }
  return m;
}

function measureNetwork(c: Context): Measured {
  const m: Measured = { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  const degradations = c.injections.filter((i) => i.kind === 'network-degradation');
  const recoveries = c.injections.filter((i) => i.kind === 'network-recovery');
  const decisions = c.rec.decisions.filter((d) => d.namespace === c.namespace);
  for (const inj of degradations) {
    m.episodes++;
    m.happened++;
    const firstDecision = Math.min(
      ...decisions.filter((d) => d.at >= inj.at).map((d) => d.at),
      ...c.actions.filter((a) => a.createdAt >= inj.at).map((a) => a.createdAt),
    );
    if (Number.isFinite(firstDecision)) m.detect.push(seconds(firstDecision - inj.at));
    const recovered = recoveries.find((r) => r.at > inj.at);
    if (recovered !== undefined) m.heal.push(seconds(recovered.at - inj.at));
  }
  const declined = decisions.filter((d) => d.recommendation === 'none');
  const rules = count(declined, (d) => d.rule ?? 'no rule applies');
  m.notes.push(
    `the analyzer declined ${declined.length} firing(s) (${Object.entries(rules).map(([r, n]) => `${r} ${n}`).join(', ') || 'none'}); the rules twin (dry run) would have restarted ${c.actions.filter((a) => a.dryRun && a.type === 'restart').length} time(s); the network recovered by itself, so "heal" here is its recovery, not an action's`,
  );
  return m;
}

function measureScenario(c: Context): Measured {
  switch (c.scenario.kind) {
    case 'leak':
      return measureLeak(c);
    case 'cpu':
      return measureCpu(c);
    case 'crash':
      return measureCrash(c);
    case 'release':
      return measureRelease(c);
    case 'chaos':
      return measurePodFaults(c, ['chaos-unready', 'chaos-crash']);
    case 'flaky':
      return measurePodFaults(c, ['flaky-stuck']);
    case 'network':
      return measureNetwork(c);
    case 'protected':
      return { episodes: 0, prevented: 0, happened: 0, detect: [], heal: [], twins: [], notes: [] };
  }
}

function countActions(actions: readonly ActionRecord[], decisions: Recording['decisions']): ActionCounts {
  const acted = actions.filter(hasActed);
  const declined = decisions.filter((d) => d.recommendation === 'none');
  return {
    decisions: actions.length,
    acted: acted.length,
    dryRun: actions.filter((a) => a.dryRun).length,
    succeeded: acted.filter((a) => a.phase === 'Succeeded').length,
    failed: acted.filter((a) => a.phase === 'Failed').length,
    inFlight: acted.filter((a) => a.phase === 'InProgress' || a.phase === 'Verifying').length,
    blocked: count(actions.filter((a) => a.phase === 'Blocked'), (a) => a.reason ?? 'Blocked'),
    byType: count(acted, (a) => (a.type === 'scale' ? `scale ${a.scale?.direction === 'down' ? 'down' : 'up'}` : a.type)),
    bySource: { rule: acted.filter((a) => a.source === 'rule').length, ai: acted.filter((a) => a.source === 'ai').length },
    declined: declined.length,
    declinedRules: count(declined, (d) => d.rule ?? 'no rule applies'),
  };
}

function successRate(actions: readonly ActionRecord[]): number | undefined {
  const done = actions.filter((a) => hasActed(a) && (a.phase === 'Succeeded' || a.phase === 'Failed'));
  return done.length === 0 ? undefined : done.filter((a) => a.phase === 'Succeeded').length / done.length;
}

function failureCounts(c: Context, cpuBreaches: number): FailureCounts {
  return {
    oomKilled: c.restarts.filter((r) => r.reason === 'OOMKilled').reduce((s, r) => s + r.count, 0),
    crashes: c.restarts.filter((r) => r.reason !== 'OOMKilled').reduce((s, r) => s + r.count, 0),
    unready: unreadySpans(c.pods).length,
    cpuBreaches,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Charts

const CHART_STEP_MS = 15_000;

function chartFor(c: Context): ChartData {
  const { rec, scenario, namespace } = c;
  const start = Math.floor(rec.startedAt / CHART_STEP_MS) * CHART_STEP_MS;
  const xsMs: number[] = [];
  for (let t = start; t <= rec.endedAt; t += CHART_STEP_MS) xsMs.push(t);
  const bucket = (at: number): number => Math.floor((at - start) / CHART_STEP_MS);
  const series: { label: string; values: (number | null)[]; axis?: 'right' }[] = [];
  const maxSeries = (label: string, points: readonly { at: number; v: number }[], axis?: 'right'): void => {
    const values: (number | null)[] = xsMs.map(() => null);
    for (const p of points) {
      const i = bucket(p.at);
      if (i < 0 || i >= values.length) continue;
      values[i] = Math.max(values[i] ?? Number.NEGATIVE_INFINITY, round1(p.v));
    }
    series.push({ label, values, ...(axis === undefined ? {} : { axis }) });
  };
  let unit = '% ready';
  if (scenario.kind === 'leak' || scenario.kind === 'cpu') {
    const metric = scenario.kind === 'leak' ? 'memoryPercent' : 'cpuPercent';
    unit = scenario.kind === 'leak' ? 'memory, % of limit (max over pods)' : 'CPU, % of limit (max over pods)';
    for (const w of scenario.workloads) {
      const points = rec.usage.filter((u) => u.namespace === namespace && u.workload === w.name && u[metric] !== undefined).map((u) => ({ at: u.at, v: u[metric] ?? 0 }));
      maxSeries(w.name, points);
    }
    if (scenario.kind === 'cpu') {
      for (const w of scenario.workloads) {
        maxSeries(`${w.name} replicas`, rec.replicas.filter((r) => r.namespace === namespace && r.workload === w.name).map((r) => ({ at: r.at, v: r.desired })), 'right');
      }
    }
  } else {
    for (const w of scenario.workloads) {
      const points = rec.replicas.filter((r) => r.namespace === namespace && r.workload === w.name && r.desired > 0).map((r) => ({ at: r.at, v: (100 * r.ready) / r.desired }));
      // The lowest readiness in each bucket is the one worth seeing: take the minimum.
      const values: (number | null)[] = xsMs.map(() => null);
      for (const p of points) {
        const i = bucket(p.at);
        if (i >= 0 && i < values.length) values[i] = Math.min(values[i] ?? Number.POSITIVE_INFINITY, round1(p.v));
      }
      series.push({ label: w.name, values });
    }
  }
  const markers: ChartData['markers'][number][] = c.actions.map((a) => ({
    at: Math.round(a.createdAt / 1000),
    label: `${a.type}${a.scale ? ` ${a.scale.direction}` : ''} ${a.targetName} (${a.phase}${a.reason ? ` ${a.reason}` : ''}${a.confidence === undefined ? '' : `, ${a.confidence.toFixed(2)}`})`,
    kind: a.phase === 'Blocked' ? 'blocked' : a.dryRun ? 'dry-run' : a.source,
  }));
  for (const i of c.injections) markers.push({ at: Math.round(i.at / 1000), label: i.detail, kind: 'fault' });
  return { scenario: scenario.id, title: scenario.title, unit, xs: xsMs.map((t) => Math.round(t / 1000)), series, markers: markers.sort((a, b) => a.at - b.at) };
}

// ---------------------------------------------------------------------------------------------------------------
// The report

/**
 * The report of a recording. `timings` are those the run used (the CPU scenario's period, the network's timings);
 * `scenarios` defaults to the catalogue. Never throws on a short or empty recording: figures are then absent.
 */
export function buildReport(rec: Recording, timings: DemoTimings, scenarios: readonly ScenarioDefinition[] = SCENARIOS): DemoReport {
  const restarts = restartEvents(rec.pods);
  const spans = podSpans(rec.pods, rec.endedAt);
  const results: ScenarioResult[] = [];
  const charts: ChartData[] = [];
  for (const placed of rec.scenarios) {
    const scenario = scenarios.find((s) => s.id === placed.id);
    if (scenario === undefined) continue;
    const ns = placed.namespace;
    const c: Context = {
      rec,
      scenario,
      namespace: ns,
      timings,
      pods: rec.pods.filter((p) => p.namespace === ns),
      actions: rec.actions.filter((a) => a.namespace === ns),
      restarts: restarts.filter((r) => r.namespace === ns),
      spans: spans.filter((s) => s.namespace === ns),
      injections: rec.injections.filter((i) => i.namespace === ns),
    };
    const m = measureScenario(c);
    const roles = new Map(scenario.workloads.map((w) => [w.name, w.role] as const));
    const onFalseRole = (a: ActionRecord): boolean => FALSE_ROLES.includes(roles.get(a.workload) ?? 'heal');
    const d = stat(m.detect);
    const h = stat(m.heal);
    const rate = successRate(c.actions);
    const actions = countActions(c.actions, rec.decisions.filter((x) => x.namespace === ns));
    const notes = [...m.notes];
    const blocked = Object.entries(actions.blocked);
    if (blocked.length > 0) notes.push(`blocked: ${blocked.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    results.push({
      id: scenario.id,
      kind: scenario.kind,
      title: scenario.title,
      namespace: ns,
      seed: scenario.seed,
      story: scenario.story,
      episodes: m.episodes,
      prevented: m.prevented,
      happened: m.happened,
      ...(d === undefined ? {} : { detect: d }),
      ...(h === undefined ? {} : { heal: h }),
      failures: failureCounts(c, scenario.kind === 'cpu' ? m.happened : 0),
      actions,
      falseActions: c.actions.filter((a) => hasActed(a) && onFalseRole(a)).length,
      falseDryRun: c.actions.filter((a) => a.dryRun && onFalseRole(a)).length,
      ...(rate === undefined ? {} : { successRate: rate }),
      twins: m.twins,
      notes,
    });
    charts.push(chartFor(c));
  }
  const acted = rec.actions.filter(hasActed);
  const aiAll = rec.actions.filter((a) => a.source === 'ai' && a.confidence !== undefined);
  const prevented = results.reduce((s, r) => s + r.prevented, 0);
  const happened = results.reduce((s, r) => s + r.happened, 0);
  const firstHealed = acted.filter((a) => a.phase === 'Succeeded' && a.completedAt !== undefined).map((a) => a.completedAt!);
  const sum = (f: (r: ScenarioResult) => number): number => results.reduce((s, r) => s + f(r), 0);
  const rateRule = successRate(rec.actions.filter((a) => a.source === 'rule'));
  const rateAi = successRate(rec.actions.filter((a) => a.source === 'ai'));
  const rate = successRate(rec.actions);
  const totals: DemoReport['totals'] = {
    decisions: rec.actions.length,
    acted: acted.length,
    succeeded: acted.filter((a) => a.phase === 'Succeeded').length,
    failed: acted.filter((a) => a.phase === 'Failed').length,
    dryRun: rec.actions.filter((a) => a.dryRun).length,
    blocked: rec.actions.filter((a) => a.phase === 'Blocked').length,
    prevented,
    happened,
    ...(prevented + happened === 0 ? {} : { preventionRate: prevented / (prevented + happened) }),
    ...(rate === undefined ? {} : { successRate: rate }),
    successRateBySource: { ...(rateRule === undefined ? {} : { rule: rateRule }), ...(rateAi === undefined ? {} : { ai: rateAi }) },
    ...(aiAll.length === 0 ? {} : { averageAiConfidence: aiAll.reduce((s, a) => s + (a.confidence ?? 0), 0) / aiAll.length }),
    aiActions: aiAll.length,
    falseActions: sum((r) => r.falseActions),
    failures: {
      oomKilled: sum((r) => r.failures.oomKilled),
      crashes: sum((r) => r.failures.crashes),
      unready: sum((r) => r.failures.unready),
      cpuBreaches: sum((r) => r.failures.cpuBreaches),
    },
  };
  return {
    version: 1,
    startedAt: new Date(rec.startedAt).toISOString(),
    durationSeconds: seconds(rec.endedAt - rec.startedAt),
    ...(firstHealed.length === 0 ? {} : { firstHealingSeconds: seconds(Math.min(...firstHealed) - rec.startedAt) }),
    totals,
    claims: claimRows(totals, results, seconds(rec.endedAt - rec.startedAt)),
    scenarios: results,
    charts,
    actions: rec.actions,
    injections: rec.injections,
  };
}

function percentText(x: number | undefined): string {
  return x === undefined ? '—' : `${round1(100 * x)}%`;
}

/** The seed's claims beside the run's figures. */
export function claimRows(totals: DemoReport['totals'], results: readonly ScenarioResult[], durationSeconds: number): ClaimRow[] {
  const memoryAtAi = results
    .filter((r) => r.kind === 'leak')
    .flatMap((r) => r.twins.filter((t) => t.twin === 'ai').flatMap((t) => t.valuesAtAction));
  const deletes = results.reduce((s, r) => s + (r.actions.byType['delete'] ?? 0), 0);
  const perTen = durationSeconds > 0 ? (totals.acted * 600) / durationSeconds : 0;
  return [
    {
      claim: 'success rate of healing actions',
      seed: '95%+',
      measured: `${percentText(totals.successRate)} (${totals.succeeded} verified of ${totals.succeeded + totals.failed} finished; rules ${percentText(totals.successRateBySource.rule)}, AI ${percentText(totals.successRateBySource.ai)})`,
      note: 'Succeeded means verified: the target healthy again and its trigger clear, judged on observations after the action',
    },
    {
      claim: 'issues prevented before impact',
      seed: '30%',
      measured: `${percentText(totals.preventionRate)} (${totals.prevented} prevented, ${totals.happened} happened)`,
      note: 'prevented: a leaking container restarted before its OOM kill, a CPU peak kept under 80% by an earlier scale-up; crash loops, bad releases, chaos and network faults can only be healed, not prevented',
    },
    {
      claim: 'healing actions per 10-minute run',
      seed: '70+',
      measured: `${totals.acted} acted (${round1(perTen)} per 10 min), ${totals.decisions} decisions (${totals.blocked} blocked, ${totals.dryRun} dry runs)`,
      note: 'actions are a cost, not a score: budgets, cooldowns and storm suppression hold them to what the faults need',
    },
    {
      claim: 'average confidence of AI decisions',
      seed: '92%',
      measured: totals.averageAiConfidence === undefined ? '— (no AI action)' : `${round1(100 * totals.averageAiConfidence)}% over ${totals.aiActions} AI actions`,
      note: 'calibrated probabilities: forecasts from under 8 minutes of a container\'s data are worth at most 0.59',
    },
    {
      claim: 'AI intervenes on a memory leak at',
      seed: '30% of the limit',
      measured: memoryAtAi.length === 0 ? '—' : `${memoryAtAi.map(pct).join(', ')} of the limit`,
      note: 'the slow leak (memory-degradation) at the analyzer\'s default confidence; the fast one (memory-leak) at 0.55 after 4 min',
    },
    {
      claim: 'strategic deletes',
      seed: '15+',
      measured: String(deletes),
      note: 'no demo policy deletes: a delete is never the cure for these faults, and the analyzer proposes it only as a crash-loop alternative',
    },
    {
      claim: 'false actions on healthy, protected or victim apps',
      seed: '—',
      measured: String(totals.falseActions),
      note: 'acted actions on the GC sawtooth, the warm-up, the critical ledger, payments-db or its dependants',
    },
  ];
}
