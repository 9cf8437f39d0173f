/**
 * Per-target short-term memory of what the collectors saw: numeric series, the latest state of each condition,
 * recent Events and "could not read" reasons. Collectors write; trigger evaluation, the analyzer and the
 * dashboard read `observations(target)` snapshots.
 *
 * No I/O and no clock: every write and prune takes `now`. Memory is bounded by construction, because a policy over
 * 10 000 pods (or a PromQL query per pod) must not grow the operator without limit: samples live in fixed-maximum
 * ring buffers of doubles (16 bytes a sample, grown on demand), and every collection — targets, series per target,
 * conditions, events, unavailable reasons — has a cap with least-recently-written eviction, counted in stats().
 * Worst case ≈ maxTargets × maxSeriesPerTarget × maxSamplesPerSeries × 16 bytes plus small per-entry overheads.
 * In practice each metric is kept only as long as its readers need (setRetention, planned by the operator from its
 * policies), and a target carries no event-id set or unavailable-reason map until it has one.
 */
import { capText, MAX_EVENT_MESSAGE, MAX_EVENT_REASON } from '../k8s/input-limits.js';
import { targetKey, type ConditionState, type EventOccurrence, type Sample, type TargetObservations, type TargetRef } from './types.js';

/** Limits of a SeriesStore. All are required to be positive (counts: positive integers). */
export interface SeriesStoreOptions {
  /** Samples older than now − retentionMs are dropped. Must cover the longest trigger duration/lookback. */
  readonly retentionMs: number;
  /** Ring size of one series; the oldest sample is overwritten beyond it. */
  readonly maxSamplesPerSeries: number;
  /** Distinct metrics (built-in names and PromQL queries) per target; also caps unavailable reasons. */
  readonly maxSeriesPerTarget: number;
  /** Distinct condition types per target. */
  readonly maxConditionsPerTarget: number;
  /** Events kept per target (the oldest go first). */
  readonly maxEventsPerTarget: number;
  /** Events older than now − eventRetentionMs are dropped. Must cover the longest event-trigger window. */
  readonly eventRetentionMs: number;
  /** Targets kept; the least recently written one is evicted to admit a new one. */
  readonly maxTargets: number;
  /** prune() forgets a target that received no write for this long (a deleted pod nobody called forget() for). */
  readonly targetIdleMs: number;
  /**
   * Samples held, across all series, in the cached copies that whole-series reads hand out (see SampleRing.toArray);
   * the copies cached longest ago are dropped beyond it (a later read copies again).
   */
  readonly maxSnapshotSamples: number;
}

/**
 * Defaults sized for a 15 s collection interval: 30 min of history (predictive lookback 10 m, durations of a few
 * minutes), 1 h of events. Worst case with every cap full ≈ 20 000 × 16 × 128 × 16 B ≈ 650 MB; a realistic
 * 10 000 pods × 8 built-in series × 120 samples ≈ 150 MB. Lower maxTargets for smaller operators.
 */
export const DEFAULT_SERIES_STORE_OPTIONS: SeriesStoreOptions = {
  retentionMs: 30 * 60_000,
  maxSamplesPerSeries: 128,
  maxSeriesPerTarget: 16,
  maxConditionsPerTarget: 32,
  maxEventsPerTarget: 128,
  eventRetentionMs: 60 * 60_000,
  maxTargets: 20_000,
  targetIdleMs: 60 * 60_000,
  maxSnapshotSamples: 100_000,
};

/** Thrown by the SeriesStore constructor for a limit that is not a positive number (or integer, for counts). */
export class InvalidSeriesStoreOptionsError extends Error {
  /** Stable code for error mapping at the boundaries. */
  readonly code = 'InvalidSeriesStoreOptions';
  constructor(
    readonly option: keyof SeriesStoreOptions,
    readonly value: unknown,
  ) {
    super(`invalid series store option ${option}: ${String(value)} (must be a positive ${option.startsWith('max') ? 'integer' : 'number'})`);
    this.name = 'InvalidSeriesStoreOptionsError';
  }
}

/**
 * How long each metric's samples are kept, when that is shorter than retentionMs: `byMetric` for the metrics listed,
 * `othersMs` for every other. Set from what reads each series (SeriesStore.setRetention): a pod's status series kept
 * an hour while the policies over it look ten minutes back was most of a long-running operator's growth.
 */
export interface RetentionPlan {
  readonly byMetric: ReadonlyMap<string, number>;
  readonly othersMs: number;
}

/** A condition as a collector reports it. */
export interface ConditionInput {
  readonly status: ConditionState['status'];
  /**
   * When the condition entered this status (lastTransitionTime). Omit it for states without a transition time
   * (container waiting reasons such as CrashLoopBackOff): the store then keeps the stored `since` while the status
   * is unchanged and uses `now` when it changes, so "held for 3m" is measured from the first observation.
   */
  readonly since?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** Sizes and cumulative eviction counters, for /metrics gauges and counters. */
export interface SeriesStoreStats {
  readonly targets: number;
  readonly series: number;
  readonly samples: number;
  /** Sample slots allocated in ring buffers (× 16 bytes ≈ their memory). */
  readonly allocatedSampleSlots: number;
  readonly conditions: number;
  readonly events: number;
  readonly unavailable: number;
  /** Cumulative: targets evicted to admit new ones (maxTargets). */
  readonly evictedTargets: number;
  /** Cumulative: series evicted to admit new metrics on a target (maxSeriesPerTarget). */
  readonly evictedSeries: number;
  /** Cumulative: samples overwritten by a full ring (maxSamplesPerSeries). */
  readonly overwrittenSamples: number;
  /** Cumulative: samples refused (NaN, non-finite time, older than retention or than the series' latest). */
  readonly rejectedSamples: number;
  /** Cumulative: events, conditions and unavailable reasons evicted by their caps. */
  readonly evictedEntries: number;
}

/** What prune() removed. */
export interface PruneResult {
  readonly targets: number;
  readonly series: number;
  readonly samples: number;
  readonly events: number;
}

/**
 * Free-form strings from the cluster (Event reasons and messages, condition texts, collection errors) are capped
 * here, the one door every collector goes through, before trigger patterns or any other pure code read them.
 */
const clip = (s: string): string => capText(s, MAX_EVENT_MESSAGE);
/** An empty series, shared. */
const NO_SAMPLES: readonly Sample[] = Object.freeze([]);
/** The Events of a target that has none: one frozen array for all, instead of a new empty one per snapshot. */
const NO_EVENTS: readonly EventOccurrence[] = Object.freeze([]);

/**
 * Bounds what the rings' cached snapshots hold, store-wide: a copy is about 45 bytes a sample against the ring's
 * 16, and a predictive or AI-decided policy reads every series of every target it selects whole, every pass — an
 * hour of 15-s samples of two metrics over 5 000 pods, all cached, was 92.8 MiB of copies beside 28.6 MiB of rings
 * (hack/bench/store-copies.mjs; 7.8 MiB with the default budget). The copy cached longest ago is dropped first. A ring discarded while holding a copy stays counted until its
 * turn comes: bounded all the same.
 */
class SnapshotBudget {
  /** Insertion order = cached longest ago first. */
  private readonly held = new Map<SampleRing, number>();
  private total = 0;

  constructor(private readonly maxSamples: number) {}

  /** Counts `samples` for `ring`'s new copy, dropping the oldest other copies beyond the budget. */
  hold(ring: SampleRing, samples: number): void {
    this.release(ring);
    this.held.set(ring, samples);
    this.total += samples;
    for (const [other, n] of this.held) {
      if (this.total <= this.maxSamples || other === ring) break;
      this.held.delete(other);
      this.total -= n;
      other.dropSnapshot();
    }
  }

  /** Forgets `ring`'s copy (it changed). */
  release(ring: SampleRing): void {
    const n = this.held.get(ring);
    if (n === undefined) return;
    this.held.delete(ring);
    this.total -= n;
  }

  /** Samples held in cached copies. */
  samples(): number {
    return this.total;
  }
}

/**
 * Ring buffer of (time, value) doubles, ascending by time, growing by doubling up to `max` samples. The pairs live
 * interleaved in one plain array of doubles (V8 stores it unboxed): a typed array costs about 200 bytes of wrapper
 * and ArrayBuffer per series, twice per ring, which at 5 000 pods was more than the samples themselves
 * (docs/benchmarks.md, heap snapshot).
 */
class SampleRing {
  /** [t0, v0, t1, v1, …] over `capacity` slots. */
  private data: number[];
  private start = 0;
  length = 0;
  /**
   * The last snapshot handed out, frozen, until the ring changes. Policies read the same series many times between
   * two samples (every reconcile of every policy over the target).
   */
  private snapshot: readonly Sample[] | undefined;
  /** The store's write counter at this series' last write: the least recently written series has the lowest. */
  writtenSeq = 0;

  constructor(
    private readonly max: number,
    private readonly budget?: SnapshotBudget,
  ) {
    this.data = new Array<number>(2 * Math.min(8, max)).fill(0);
  }

  /** Drops the cached copy (the budget's eviction; the ring itself is unchanged). */
  dropSnapshot(): void {
    this.snapshot = undefined;
  }

  /** The ring changed: its cached copies are stale. */
  private invalidate(): void {
    if (this.snapshot !== undefined) {
      this.snapshot = undefined;
      this.budget?.release(this);
    }
  }

  get capacity(): number {
    return this.data.length / 2;
  }

  private slot(i: number): number {
    return (this.start + i) % this.capacity;
  }

  private timeAt(slot: number): number {
    return this.data[2 * slot] as number;
  }

  private valueAt(slot: number): number {
    return this.data[2 * slot + 1] as number;
  }

  private put(slot: number, at: number, value: number): void {
    this.data[2 * slot] = at;
    this.data[2 * slot + 1] = value;
  }

  lastAt(): number | undefined {
    return this.length === 0 ? undefined : this.timeAt(this.slot(this.length - 1));
  }

  firstAt(): number | undefined {
    return this.length === 0 ? undefined : this.timeAt(this.start);
  }

  /**
   * Appends a sample. Same time as the latest: replaces its value (a re-read is not a new observation). Earlier
   * than the latest: refused, because evaluation relies on ascending order and continuity.
   * Returns what happened; 'overwrote' means the oldest sample was dropped to make room.
   */
  push(at: number, value: number): 'appended' | 'replaced' | 'overwrote' | 'refused' {
    const last = this.lastAt();
    if (last !== undefined) {
      if (at < last) return 'refused';
      this.invalidate();
      if (at === last) {
        this.data[2 * this.slot(this.length - 1) + 1] = value;
        return 'replaced';
      }
    }
    this.invalidate();
    if (this.length === this.capacity) {
      if (this.capacity < this.max) {
        this.grow(Math.min(this.max, this.capacity * 2));
      } else {
        this.put(this.start, at, value);
        this.start = (this.start + 1) % this.capacity;
        return 'overwrote';
      }
    }
    this.put(this.slot(this.length), at, value);
    this.length++;
    return 'appended';
  }

  /** Drops samples with time < cutoff; returns how many. */
  dropBefore(cutoff: number): number {
    let dropped = 0;
    while (this.length > 0 && this.timeAt(this.start) < cutoff) {
      this.start = (this.start + 1) % this.capacity;
      this.length--;
      dropped++;
    }
    if (this.length === 0) this.start = 0;
    if (dropped > 0) this.invalidate();
    return dropped;
  }

  /**
   * The samples, oldest first, as a frozen array, shared until the ring changes or the store's snapshot budget
   * drops it (SnapshotBudget).
   */
  toArray(): readonly Sample[] {
    if (this.snapshot !== undefined) return this.snapshot;
    const out: Sample[] = new Array<Sample>(this.length);
    for (let i = 0; i < this.length; i++) {
      const s = this.slot(i);
      out[i] = { at: this.timeAt(s), value: this.valueAt(s) };
    }
    const snapshot = Object.freeze(out);
    this.snapshot = snapshot;
    this.budget?.hold(this, this.length);
    return snapshot;
  }

  /**
   * The latest sample alone (none: empty), in a new array. Not cached: a cached one-sample copy could stay alive in
   * the old generation for every series (≈ 130 bytes each, up to 3 MiB over 24 500 series at 5 000 pods) to spare
   * the quick pass an allocation that dies young.
   */
  latest(): readonly Sample[] {
    if (this.length === 0) return NO_SAMPLES;
    const i = this.slot(this.length - 1);
    return [{ at: this.timeAt(i), value: this.valueAt(i) }];
  }

  /** The samples at or after `from`, preceded by the last one before it (if any); a fresh array, not cached. */
  since(from: number): Sample[] {
    let first = this.length;
    while (first > 0 && this.timeAt(this.slot(first - 1)) >= from) first--;
    const out: Sample[] = [];
    for (let i = Math.max(0, first - 1); i < this.length; i++) {
      const s = this.slot(i);
      out.push({ at: this.timeAt(s), value: this.valueAt(s) });
    }
    return out;
  }

  private grow(capacity: number): void {
    const data = new Array<number>(2 * capacity).fill(0);
    for (let i = 0; i < this.length; i++) {
      const s = this.slot(i);
      data[2 * i] = this.timeAt(s);
      data[2 * i + 1] = this.valueAt(s);
    }
    this.data = data;
    this.start = 0;
  }
}

interface StoredEvent {
  readonly id: string;
  readonly occurrence: EventOccurrence;
}

interface TargetEntry {
  ref: TargetRef;
  /** Map order = least recently written first (re-inserted on write), for eviction. */
  readonly series: Map<string, SampleRing>;
  readonly conditions: Map<string, ConditionState>;
  /**
   * Ascending by time; ids are unique (a duplicate delivery is found by scanning at most maxEventsPerTarget ids — a
   * Set of ids per target weighed more than most targets' events, which are none).
   */
  events: StoredEvent[];
  /** Created with the first reason: most targets never have one, and an empty Map per target adds up. */
  unavailable: Map<string, string> | undefined;
  lastWrite: number;
}

/** The unavailable reasons of a target that has none (never written: observations() hands it out read-only). */
const NO_REASONS: ReadonlyMap<string, string> = new Map();

/** Deletes the first (least recently written) key of a Map-as-LRU. */
function evictOldest<K, V>(map: Map<K, V>): void {
  const first = map.keys().next();
  if (first.done !== true) map.delete(first.value);
}

/**
 * Deletes the series written least recently (lowest writtenSeq). A target's few series are scanned instead of
 * being kept in write order: re-inserting a key on every write (touchKey) is what the store did most at 5 000 pods
 * (each poll writes four series of every pod), and each re-insertion leaves a hole the Map rehashes away.
 */
function evictLeastRecentlyWritten(series: Map<string, SampleRing>): void {
  let oldest: string | undefined;
  let seq = Number.POSITIVE_INFINITY;
  for (const [metric, ring] of series) {
    if (ring.writtenSeq < seq) {
      seq = ring.writtenSeq;
      oldest = metric;
    }
  }
  if (oldest !== undefined) series.delete(oldest);
}

/** Re-inserts a key so the Map's order stays "least recently written first". */
function touchKey<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
}

/**
 * Bounded per-target store of observations: one instance per operator process (built in wiring.ts), written by
 * collectors and read by reconcilers, every call with an explicit `now`. Never throws after construction.
 */
export class SeriesStore {
  private readonly options: SeriesStoreOptions;
  /** Map order = least recently written first, so eviction takes the first key. */
  private readonly entries = new Map<string, TargetEntry>();
  /**
   * The key written last, already at the end of `entries`: consecutive writes to one target (a poll records four
   * series of a pod in a row) re-insert it once. Every insertion goes through entry(), which keeps this true.
   */
  private newestKey: string | undefined;
  /** Counts series writes, for SampleRing.writtenSeq. */
  private writes = 0;
  /** Per-metric retention shorter than options.retentionMs (setRetention); none: everything is kept that long. */
  private retention: RetentionPlan | undefined;
  /** What the rings' cached whole-series copies may hold (options.maxSnapshotSamples). */
  private readonly snapshots: SnapshotBudget;
  private evictedTargets = 0;
  private evictedSeries = 0;
  private overwrittenSamples = 0;
  private rejectedSamples = 0;
  private evictedEntries = 0;

  /**
   * @param options limits; omitted ones take DEFAULT_SERIES_STORE_OPTIONS.
   * @throws InvalidSeriesStoreOptionsError when a limit is not a positive number (counts: positive integer).
   */
  constructor(options: Partial<SeriesStoreOptions> = {}) {
    const merged: SeriesStoreOptions = { ...DEFAULT_SERIES_STORE_OPTIONS, ...options };
    for (const [key, value] of Object.entries(merged) as [keyof SeriesStoreOptions, number][]) {
      const ok = typeof value === 'number' && Number.isFinite(value) && value > 0 && (!key.startsWith('max') || Number.isInteger(value));
      if (!ok) throw new InvalidSeriesStoreOptionsError(key, value);
    }
    this.options = merged;
    this.snapshots = new SnapshotBudget(merged.maxSnapshotSamples);
  }

  /**
   * Keeps each metric only as long as `plan` says (what its readers need), retentionMs at most: the samples beyond
   * go at the next prune() and at each write to their series. A value that is not a positive number counts as
   * retentionMs (keeping more is the safe side). A longer retention than before is not retroactive: what was dropped
   * stays dropped. `undefined` keeps every metric for retentionMs again. Never throws.
   */
  setRetention(plan: RetentionPlan | undefined): void {
    if (plan === undefined) {
      this.retention = undefined;
      return;
    }
    const max = this.options.retentionMs;
    const clamp = (ms: number): number => (Number.isFinite(ms) && ms > 0 ? Math.min(ms, max) : max);
    this.retention = { byMetric: new Map([...plan.byMetric].map(([m, ms]) => [m, clamp(ms)] as const)), othersMs: clamp(plan.othersMs) };
  }

  /** How long samples of `metric` are kept (setRetention, or retentionMs). */
  retentionOf(metric: string): number {
    const plan = this.retention;
    if (plan === undefined) return this.options.retentionMs;
    return plan.byMetric.get(metric) ?? plan.othersMs;
  }

  /**
   * Records one sample of `metric` for `target`. Clears the metric's unavailable reason (it was just read).
   * Refused (returns false): NaN value, non-finite time, time before now − the metric's retention, or before the series'
   * latest sample. A sample at the latest sample's time replaces its value. ±Infinity is kept (PromQL can
   * return it, and it compares meaningfully).
   */
  recordSample(target: TargetRef, metric: string, sample: Sample, now: number): boolean {
    const cutoff = now - this.retentionOf(metric);
    if (Number.isNaN(sample.value) || !Number.isFinite(sample.at) || sample.at < cutoff) {
      this.rejectedSamples++;
      return false;
    }
    const entry = this.entry(target, now);
    entry.unavailable?.delete(metric);
    let ring = entry.series.get(metric);
    if (ring === undefined) {
      if (entry.series.size >= this.options.maxSeriesPerTarget) {
        evictLeastRecentlyWritten(entry.series);
        this.evictedSeries++;
      }
      ring = new SampleRing(this.options.maxSamplesPerSeries, this.snapshots);
      entry.series.set(metric, ring);
    }
    ring.writtenSeq = ++this.writes;
    const outcome = ring.push(sample.at, sample.value);
    if (outcome === 'refused') {
      this.rejectedSamples++;
      if (ring.length === 0) entry.series.delete(metric);
      return false;
    }
    if (outcome === 'overwrote') this.overwrittenSamples++;
    ring.dropBefore(cutoff);
    return true;
  }

  /** Records several samples of one metric (e.g. a Prometheus range query), in order; returns how many were kept. */
  recordSamples(target: TargetRef, metric: string, samples: Iterable<Sample>, now: number): number {
    let kept = 0;
    for (const s of samples) if (this.recordSample(target, metric, s, now)) kept++;
    return kept;
  }

  /**
   * Records why `metric` (or a condition type, or EVENTS_UNAVAILABLE_KEY of the trigger layer) could not be read
   * for `target`. Samples already held are kept: evaluation decides by their freshness. Cleared by the next
   * recordSample/recordCondition for the same key, or by clearUnavailable.
   */
  recordUnavailable(target: TargetRef, metric: string, reason: string, now: number): void {
    const entry = this.entry(target, now);
    const reasons = (entry.unavailable ??= new Map());
    if (!reasons.has(metric) && reasons.size >= this.options.maxSeriesPerTarget) {
      evictOldest(reasons);
      this.evictedEntries++;
    }
    touchKey(reasons, metric, clip(reason));
  }

  /** Removes an unavailable reason (e.g. the Event informer recovered). No-op for an unknown target. */
  clearUnavailable(target: TargetRef, metric: string): void {
    this.entries.get(targetKey(target))?.unavailable?.delete(metric);
  }

  /**
   * Records the current state of one condition type, replacing the previous one, and clears an unavailable
   * reason under the same type. See ConditionInput.since for how `since` is kept when omitted.
   */
  recordCondition(target: TargetRef, type: string, input: ConditionInput, now: number): void {
    const entry = this.entry(target, now);
    this.putCondition(entry, type, input, now);
  }

  /**
   * Sets exactly these conditions for `target`: types not listed are removed (a container that left
   * CrashLoopBackOff simply stops being reported). `since` is kept per type as in recordCondition.
   */
  replaceConditions(target: TargetRef, conditions: Iterable<readonly [string, ConditionInput]>, now: number): void {
    const entry = this.entry(target, now);
    const seen = new Set<string>();
    for (const [type, input] of conditions) {
      seen.add(type);
      this.putCondition(entry, type, input, now);
    }
    for (const type of [...entry.conditions.keys()]) if (!seen.has(type)) entry.conditions.delete(type);
  }

  /**
   * Records an Event occurrence under a caller-chosen `id` (e.g. Event uid + count, or uid + resourceVersion),
   * so relists and duplicate deliveries are counted once. Returns false when the id is already held, the time is
   * not finite, or the occurrence is older than now − eventRetentionMs. Beyond maxEventsPerTarget the oldest go.
   */
  recordEvent(target: TargetRef, id: string, occurrence: EventOccurrence, now: number): boolean {
    const cutoff = now - this.options.eventRetentionMs;
    if (!Number.isFinite(occurrence.at) || occurrence.at < cutoff) return false;
    const entry = this.entry(target, now);
    if (entry.events.some((e) => e.id === id)) return false;
    const stored: StoredEvent = {
      id,
      occurrence: Object.freeze({
        at: occurrence.at,
        reason: capText(occurrence.reason, MAX_EVENT_REASON),
        type: occurrence.type,
        count: occurrence.count,
        ...(occurrence.message === undefined ? {} : { message: clip(occurrence.message) }),
      }),
    };
    // Usually an append; a late delivery is inserted in time order.
    let i = entry.events.length;
    while (i > 0 && (entry.events[i - 1] as StoredEvent).occurrence.at > occurrence.at) i--;
    entry.events.splice(i, 0, stored);
    this.dropEvents(entry, cutoff);
    while (entry.events.length > this.options.maxEventsPerTarget) {
      entry.events.shift();
      this.evictedEntries++;
    }
    return entry.events.includes(stored);
  }

  /**
   * A snapshot of everything held for `target` that the caller may keep and pure code may read while the store
   * keeps changing: fresh maps and arrays, and for each series a frozen array, shared between callers until that
   * series changes (so a snapshot is cheap to take again; the samples must not be modified). An unknown target gives
   * empty observations. `latestOnly` gives each series as its latest sample alone: enough to tell that a metric
   * trigger is clear, which is what most evaluations of a quiet cluster find (the policy reconciler then asks for
   * the whole series only for the targets that are not).
   * `options.metrics` limits the series copied (the queries a policy needs), to keep snapshots cheap.
   * `live` skips the copies of the conditions, Events and unavailable reasons: the result then reads the store's own
   * maps, and is valid only until the store is next written — for a caller that evaluates at once and keeps nothing
   * (the quick first pass over every target of a policy; those copies were the largest cost of a quiet minute at
   * 5 000 pods in the scale benchmark's profile).
   */
  observations(target: TargetRef, options: { readonly metrics?: Iterable<string>; readonly latestOnly?: boolean; readonly live?: boolean } = {}): TargetObservations {
    const entry = this.entries.get(targetKey(target));
    if (entry === undefined) {
      return { target, series: new Map(), conditions: new Map(), events: [], unavailable: new Map() };
    }
    const live = options.live === true;
    const series = new Map<string, readonly Sample[]>();
    const read = (ring: SampleRing): readonly Sample[] => (options.latestOnly === true ? ring.latest() : ring.toArray());
    if (options.metrics === undefined) {
      for (const [metric, ring] of entry.series) series.set(metric, read(ring));
    } else {
      for (const metric of options.metrics) {
        const ring = entry.series.get(metric);
        if (ring !== undefined) series.set(metric, read(ring));
      }
    }
    return {
      target: entry.ref,
      series,
      conditions: live ? entry.conditions : new Map(entry.conditions),
      events: entry.events.length === 0 ? NO_EVENTS : entry.events.map((e) => e.occurrence),
      unavailable: entry.unavailable === undefined ? (live ? NO_REASONS : new Map()) : live ? entry.unavailable : new Map(entry.unavailable),
    };
  }

  /**
   * The samples of one series at or after `from`, preceded by the last one before it (a window and its baseline),
   * as a fresh array that is not kept: for collectors that derive a value from recent history (restart_rate)
   * without making the store hold a snapshot of the whole series.
   */
  window(target: Pick<TargetRef, 'kind' | 'namespace' | 'name'>, metric: string, from: number): Sample[] {
    return this.entries.get(targetKey(target))?.series.get(metric)?.since(from) ?? [];
  }

  /** Whether anything is held for `target`. */
  has(target: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): boolean {
    return this.entries.has(targetKey(target));
  }

  /**
   * Whether any condition is held for `target` — false for a target never given one, and for one evicted or
   * forgotten since (a later write starts it afresh), which a collector re-dating what it recorded must know.
   */
  hasConditions(target: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): boolean {
    return (this.entries.get(targetKey(target))?.conditions.size ?? 0) > 0;
  }

  /** The targets held, least recently written first. */
  targets(): TargetRef[] {
    return [...this.entries.values()].map((e) => e.ref);
  }

  /**
   * Drops samples older than now − their metric's retention (setRetention; retentionMs at most), events older than now − eventRetentionMs, series left empty, and
   * targets with no write for targetIdleMs. Call periodically; writes also trim the series they touch.
   */
  prune(now: number): PruneResult {
    const eventCutoff = now - this.options.eventRetentionMs;
    const idleCutoff = now - this.options.targetIdleMs;
    let targets = 0;
    let series = 0;
    let samples = 0;
    let events = 0;
    // Deleting the current entry while iterating a Map is safe (iteration goes on with the next one): no copies
    // of thousands of entries every housekeeping tick.
    // (forEach, not for…of over entries: no [key, value] pair allocated per entry.)
    this.entries.forEach((entry, key) => {
      if (entry.lastWrite < idleCutoff) {
        this.entries.delete(key);
        targets++;
        return;
      }
      entry.series.forEach((ring, metric) => {
        samples += ring.dropBefore(now - this.retentionOf(metric));
        if (ring.length === 0) {
          entry.series.delete(metric);
          series++;
        }
      });
      events += this.dropEvents(entry, eventCutoff);
    });
    return { targets, series, samples, events };
  }

  /** Forgets everything about `target` (the object was deleted). Returns whether anything was held. */
  forget(target: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): boolean {
    return this.entries.delete(targetKey(target));
  }

  /** Samples held in the cached whole-series copies (at most options.maxSnapshotSamples). */
  snapshotSamples(): number {
    return this.snapshots.samples();
  }

  /** Current sizes and cumulative eviction counters. O(targets × series). */
  stats(): SeriesStoreStats {
    let series = 0;
    let samples = 0;
    let allocatedSampleSlots = 0;
    let conditions = 0;
    let events = 0;
    let unavailable = 0;
    for (const entry of this.entries.values()) {
      series += entry.series.size;
      for (const ring of entry.series.values()) {
        samples += ring.length;
        allocatedSampleSlots += ring.capacity;
      }
      conditions += entry.conditions.size;
      events += entry.events.length;
      unavailable += entry.unavailable?.size ?? 0;
    }
    return {
      targets: this.entries.size,
      series,
      samples,
      allocatedSampleSlots,
      conditions,
      events,
      unavailable,
      evictedTargets: this.evictedTargets,
      evictedSeries: this.evictedSeries,
      overwrittenSamples: this.overwrittenSamples,
      rejectedSamples: this.rejectedSamples,
      evictedEntries: this.evictedEntries,
    };
  }

  /**
   * The entry for `target`, created if needed (evicting the least recently written target at maxTargets) and
   * marked as just written. A different uid under the same name is a new object (a recreated StatefulSet pod):
   * its predecessor's history must not leak into its triggers, so the entry starts afresh.
   */
  private entry(target: TargetRef, now: number): TargetEntry {
    const key = targetKey(target);
    let entry = this.entries.get(key);
    if (entry !== undefined && target.uid !== undefined && entry.ref.uid !== undefined && target.uid !== entry.ref.uid) {
      this.entries.delete(key);
      entry = undefined;
    }
    if (entry === undefined) {
      if (this.entries.size >= this.options.maxTargets) {
        evictOldest(this.entries);
        this.evictedTargets++;
      }
      entry = {
        ref: { ...target },
        series: new Map(),
        conditions: new Map(),
        events: [],
        unavailable: undefined,
        lastWrite: now,
      };
    } else if (target.uid !== undefined && entry.ref.uid === undefined) {
      entry.ref = { ...target };
    }
    entry.lastWrite = Math.max(entry.lastWrite, now);
    if (key !== this.newestKey || !this.entries.has(key)) touchKey(this.entries, key, entry);
    this.newestKey = key;
    return entry;
  }

  private putCondition(entry: TargetEntry, type: string, input: ConditionInput, now: number): void {
    const previous = entry.conditions.get(type);
    if (previous === undefined && entry.conditions.size >= this.options.maxConditionsPerTarget) {
      evictOldest(entry.conditions);
      this.evictedEntries++;
    }
    const since = input.since ?? (previous !== undefined && previous.status === input.status ? previous.since : now);
    const state: ConditionState = Object.freeze({
      status: input.status,
      since,
      ...(input.reason === undefined ? {} : { reason: clip(input.reason) }),
      ...(input.message === undefined ? {} : { message: clip(input.message) }),
    });
    touchKey(entry.conditions, type, state);
    entry.unavailable?.delete(type);
  }

  /** Drops events older than `cutoff` from the front; returns how many. */
  private dropEvents(entry: TargetEntry, cutoff: number): number {
    let n = 0;
    while (n < entry.events.length && (entry.events[n] as StoredEvent).occurrence.at < cutoff) n++;
    if (n > 0) entry.events = entry.events.slice(n);
    return n;
  }
}
