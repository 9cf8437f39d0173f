/**
 * Episode-level evaluation: how the operator really uses the analyzer. It re-assesses every target at every poll
 * as data arrives, so what matters is not one verdict at a fixed "now" but when the first alarm comes before a
 * breach, and how often a series that never breaches raises one.
 *
 * A trajectory is one generated series (generator.ts, same shapes, mix and noise as the labelled sets) run for
 * RUN_SECONDS in all: its window and a continuation after it, together. The trajectory is replayed on a clock of
 * ASSESS_EVERY_SECONDS (every 4th poll of the operator's 15 s, a quarter of the cost), from the time it has
 * MIN_DATA_SECONDS of data until the first breach (the first sample at or above the limit) or the end of the
 * ASSESSED_SECONDS; at each tick the analyzer, the baseline and the operator's trigger see only the samples up to
 * then (and the analyzer, for the 60% of memory series whose starts the operator knows, the container starts up to
 * then). The coarser clock moves lead times by under a minute but skips brief alarms, so it undercounts alarm
 * episodes; the operator's trigger is therefore also replayed at every POLL_SECONDS, as it really runs. The last
 * HORIZON of the run is simulated but not assessed, so that an alarm in the assessed part of a trajectory counted
 * as healthy is false by the alarm's own terms (no breach within 30 min).
 */
import { assessSeries } from '../../src/analysis/assess.js';
import type { Sample } from '../../src/metrics/types.js';
import { createAssessmentCache } from '../../src/triggers/assessment-cache.js';
import { baselineAt, operatorAt } from './baseline.js';
import { generateSeries, HORIZON_SECONDS, type LabelledSeries } from './generator.js';

/** Length of a simulated trajectory: two assessed hours and the horizon after them, which only labels. */
export const ASSESSED_SECONDS = 2 * 3600;
export const RUN_SECONDS = ASSESSED_SECONDS + HORIZON_SECONDS;
/** The replay's clock: every 4th poll of 15 s. */
export const ASSESS_EVERY_SECONDS = 60;
/** The operator's poll; the operator's trigger is also replayed at every poll (its memo makes that affordable). */
export const POLL_SECONDS = 15;
/** Assessments start once the trajectory has this much data (the analyzer says insufficient-data below 4 min). */
export const MIN_DATA_SECONDS = 120;
/** Lead times the recall is reported for. */
export const LEADS_SECONDS = [300, 600] as const;

/** What one component said at every tick of one trajectory. */
export interface EpisodeTrace {
  readonly id: string;
  readonly kind: 'memory' | 'cpu';
  readonly pattern: string;
  readonly limit: number;
  /** First tick (s from the trajectory's first sample). */
  readonly from: number;
  /** Ticks (s from the first sample) and the verdict and latest value at each. */
  readonly ticks: readonly { readonly at: number; readonly alarm: boolean; readonly latest: number }[];
  /** Seconds from the first sample to the first breach; null when none within the run. */
  readonly breachAt: number | null;
  /** Seconds assessed (up to the breach or the end of the assessed part). */
  readonly assessedSeconds: number;
}

/** A trajectory: the samples of window and continuation in time order, and the container starts the operator knows. */
export interface Trajectory {
  readonly series: LabelledSeries;
  readonly samples: readonly Sample[];
  readonly starts: readonly number[] | undefined;
  /** ms of the first sample. */
  readonly t0: number;
  /** ms of the first sample at or above the limit, null when none within the run. */
  readonly breach: number | null;
}

/** The `index`-th trajectory of set `seed`. */
export function trajectory(seed: number, index: number): Trajectory {
  const series = generateSeries(seed, index, undefined, RUN_SECONDS);
  const samples = [...series.samples, ...series.future];
  const t0 = samples[0]?.at ?? series.now;
  const first = samples.find((s) => s.value >= series.limit);
  const breach = first === undefined || first.at > t0 + RUN_SECONDS * 1000 ? null : first.at;
  return { series, samples, starts: series.containerStarts, t0, breach };
}

export type Verdict = (samples: readonly Sample[], now: number, starts: readonly number[] | undefined) => boolean;

/** Replays one trajectory through one component, on a clock of `everySeconds` (default ASSESS_EVERY_SECONDS). */
export function replay(tr: Trajectory, verdict: Verdict, everySeconds: number = ASSESS_EVERY_SECONDS): EpisodeTrace {
  const { series, samples, t0, breach } = tr;
  const end = Math.min(breach ?? Infinity, t0 + ASSESSED_SECONDS * 1000);
  const ticks: { at: number; alarm: boolean; latest: number }[] = [];
  let k = 0;
  for (let now = t0 + MIN_DATA_SECONDS * 1000; now < end; now += everySeconds * 1000) {
    while (k < samples.length && (samples[k] as Sample).at <= now) k++;
    const seen = samples.slice(0, k);
    const starts = tr.starts?.filter((s) => s <= now);
    ticks.push({ at: (now - t0) / 1000, alarm: verdict(seen, now, starts), latest: (seen[seen.length - 1]?.value ?? 0) / series.limit });
  }
  return {
    id: series.id,
    kind: series.kind,
    pattern: series.pattern,
    limit: series.limit,
    from: MIN_DATA_SECONDS,
    ticks,
    breachAt: breach === null ? null : (breach - t0) / 1000,
    assessedSeconds: Math.max(0, (end - t0) / 1000 - MIN_DATA_SECONDS),
  };
}

/** The analyzer as the operator would call it at `now`. */
export const analyzerVerdict = (series: LabelledSeries): Verdict => (samples, now, starts) =>
  assessSeries({ samples, kind: series.kind, limit: series.limit, now, unit: series.unit, ...(starts === undefined ? {} : { containerStarts: starts }) }).willBreach;

/** The baseline (the real predictive trigger) at `now`. */
export const baselineVerdictAt = (series: LabelledSeries): Verdict => (samples, now) => baselineAt(series.id, series.kind, series.limit, samples, now).willBreach;

/** How often the operator's trigger said what, over all ticks of a run: status (unknown: with its code) → ticks. */
export type StatusTally = Record<string, number>;

/**
 * The operator's predictive trigger with its defaults (baseline.ts operatorAt) at `now`: an alarm is `firing`. One
 * assessment memo per trajectory, as the operator keeps one per target. `tally` counts the results by status, and
 * the clear results the guards produced by guard (minHistory, confirmation, minConfidence).
 */
export const operatorVerdictAt = (series: LabelledSeries, tally?: StatusTally): Verdict => {
  const cache = createAssessmentCache(assessSeries, 64);
  return (samples, now) => {
    const v = operatorAt(series.id, series.kind, series.limit, samples, now, cache.assess);
    if (tally !== undefined) {
      const key = v.status === 'unknown' ? `unknown ${v.code ?? ''}` : v.status === 'clear' ? `clear${guardOf(v.reason)}` : v.status;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    return v.status === 'firing';
  };
};

/** Which guard of the analyzer method withheld a forecast breach, from the trigger's reason ('' when none did). */
function guardOf(reason: string): string {
  if (reason.includes('of history since the container started')) return ' (minHistory)';
  if (reason.includes('on the latest sample only')) return ' (confirmation)';
  if (reason.includes('is below minConfidence')) return ' (minConfidence)';
  return '';
}

/** Episode figures of one component. */
export interface EpisodeReport {
  readonly trajectories: number;
  readonly breaching: number;
  readonly healthy: number;
  /** Per lead time: trajectories whose breach came late enough for that lead, and the share warned that early. */
  readonly leadRecall: readonly { readonly leadSeconds: number; readonly eligible: number; readonly warned: number; readonly recall: number }[];
  /** Breaching trajectories with an alarm within the horizon before the breach. */
  readonly warnedWithinHorizon: number;
  /** Median of breach − earliest alarm within the horizon before the breach (s), over those warned at all. */
  readonly medianLeadSeconds: number | null;
  /** Breaching trajectories alarmed earlier than the horizon before the breach (the alarm was wrong by its own terms then). */
  readonly alarmedBeforeHorizon: number;
  /** Of the breaching trajectories with any alarm: the share whose first alarm came while the value was below half the limit. */
  readonly firstAlarmBelowHalf: number | null;
  /** Healthy trajectories: alarm episodes (a false→true edge starts one), per trajectory and per assessed series-hour. */
  readonly falseAlarms: number;
  readonly falseAlarmsPerTrajectory: number;
  readonly falseAlarmsPerSeriesHour: number;
  readonly healthyAssessedHours: number;
  /** Share of healthy trajectories with at least one alarm. */
  readonly healthyWithAlarm: number;
  /** False alarm episodes by true pattern. */
  readonly falseAlarmsByPattern: Readonly<Record<string, number>>;
  /** Missed breaches (no alarm within the horizon before them, among those eligible for the 5-minute lead) by pattern. */
  readonly missedByPattern: Readonly<Record<string, number>>;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  xs.sort((a, b) => a - b);
  return xs.length % 2 === 1 ? (xs[xs.length >> 1] as number) : ((xs[xs.length / 2 - 1] as number) + (xs[xs.length / 2] as number)) / 2;
};

/** Scores the traces of one component. */
export function episodeReport(traces: readonly EpisodeTrace[]): EpisodeReport {
  const breaching = traces.filter((t) => t.breachAt !== null);
  const healthy = traces.filter((t) => t.breachAt === null);
  const leadRecall = LEADS_SECONDS.map((lead) => {
    const eligible = breaching.filter((t) => (t.breachAt as number) - t.from >= lead);
    const warned = eligible.filter((t) => t.ticks.some((k) => k.alarm && k.at <= (t.breachAt as number) - lead && k.at >= (t.breachAt as number) - HORIZON_SECONDS));
    return { leadSeconds: lead, eligible: eligible.length, warned: warned.length, recall: eligible.length === 0 ? 0 : warned.length / eligible.length };
  });
  const leads: number[] = [];
  let alarmedBeforeHorizon = 0;
  let withAlarm = 0;
  let belowHalf = 0;
  const missedByPattern: Record<string, number> = {};
  for (const t of breaching) {
    const b = t.breachAt as number;
    const inHorizon = t.ticks.find((k) => k.alarm && k.at >= b - HORIZON_SECONDS);
    if (inHorizon !== undefined) leads.push(b - inHorizon.at);
    if (t.ticks.some((k) => k.alarm && k.at < b - HORIZON_SECONDS)) alarmedBeforeHorizon++;
    const first = t.ticks.find((k) => k.alarm);
    if (first !== undefined) {
      withAlarm++;
      if (first.latest < 0.5) belowHalf++;
    }
    if (b - t.from >= (LEADS_SECONDS[0] as number) && !t.ticks.some((k) => k.alarm && k.at <= b - (LEADS_SECONDS[0] as number) && k.at >= b - HORIZON_SECONDS)) {
      const key = `${t.kind} ${t.pattern}`;
      missedByPattern[key] = (missedByPattern[key] ?? 0) + 1;
    }
  }
  let falseAlarms = 0;
  let hours = 0;
  let anyAlarm = 0;
  const falseAlarmsByPattern: Record<string, number> = {};
  for (const t of healthy) {
    hours += t.assessedSeconds / 3600;
    let prev = false;
    let n = 0;
    for (const k of t.ticks) {
      if (k.alarm && !prev) n++;
      prev = k.alarm;
    }
    falseAlarms += n;
    if (n > 0) {
      anyAlarm++;
      const key = `${t.kind} ${t.pattern}`;
      falseAlarmsByPattern[key] = (falseAlarmsByPattern[key] ?? 0) + n;
    }
  }
  return {
    trajectories: traces.length,
    breaching: breaching.length,
    healthy: healthy.length,
    leadRecall,
    warnedWithinHorizon: leads.length,
    medianLeadSeconds: median(leads),
    alarmedBeforeHorizon,
    firstAlarmBelowHalf: withAlarm === 0 ? null : belowHalf / withAlarm,
    falseAlarms,
    falseAlarmsPerTrajectory: healthy.length === 0 ? 0 : falseAlarms / healthy.length,
    falseAlarmsPerSeriesHour: hours === 0 ? 0 : falseAlarms / hours,
    healthyAssessedHours: hours,
    healthyWithAlarm: healthy.length === 0 ? 0 : anyAlarm / healthy.length,
    falseAlarmsByPattern,
    missedByPattern,
  };
}

/** What runEpisodes returns: one report per component, the operator's tick tally, and the traces. */
export interface EpisodeRun {
  readonly analyzer: EpisodeReport;
  readonly baseline: EpisodeReport;
  /** The operator's trigger on the same 60-s clock as the others. */
  readonly operator: EpisodeReport;
  /** The operator's trigger at every 15-s poll, as it really runs (more ticks: brief firings are not skipped). */
  readonly operatorEveryPoll: EpisodeReport;
  readonly operatorTicks: StatusTally;
  readonly traces: { readonly analyzer: EpisodeTrace[]; readonly baseline: EpisodeTrace[]; readonly operator: EpisodeTrace[]; readonly operatorEveryPoll: EpisodeTrace[] };
}

/** Runs the components over `count` trajectories of set `seed`. */
export function runEpisodes(seed: number, count: number): EpisodeRun {
  const ours: EpisodeTrace[] = [];
  const base: EpisodeTrace[] = [];
  const op: EpisodeTrace[] = [];
  const opPoll: EpisodeTrace[] = [];
  const operatorTicks: StatusTally = {};
  for (let i = 0; i < count; i++) {
    const tr = trajectory(seed, i);
    ours.push(replay(tr, analyzerVerdict(tr.series)));
    base.push(replay(tr, baselineVerdictAt(tr.series)));
    op.push(replay(tr, operatorVerdictAt(tr.series, operatorTicks)));
    opPoll.push(replay(tr, operatorVerdictAt(tr.series), POLL_SECONDS));
  }
  return {
    analyzer: episodeReport(ours),
    baseline: episodeReport(base),
    operator: episodeReport(op),
    operatorEveryPoll: episodeReport(opPoll),
    operatorTicks,
    traces: { analyzer: ours, baseline: base, operator: op, operatorEveryPoll: opPoll },
  };
}
