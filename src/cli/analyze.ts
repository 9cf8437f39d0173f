/**
 * `kubeskippy analyze FILE… [--horizon 30m] [-o json]`: the analyzer (src/analysis) on recorded series, one per
 * file. A thin shell: parse and validate the files, call assessSeries, print. The input format is documented in
 * docs/analyze.md:
 *
 *   {"metric": "memory_usage_bytes", "unit": "MiB", "limit": 512, "intervalSeconds": 15,
 *    "samples": [[unixSeconds, value], …]}
 *
 * Exit codes: 0 no series is forecast to reach its limit, 1 at least one is (a problem found, as `validate` does
 * with errors), 2 bad usage — a bad horizon or output format, a file that cannot be read or is not a valid series;
 * then nothing is printed on stdout and every bad file gets one line on stderr.
 */
import { readFile } from 'node:fs/promises';
import { assessSeries } from '../analysis/assess.js';
import { formatEta, formatNumber, formatSeconds } from '../analysis/format.js';
import type { Assessment, MetricKind, SeriesInput } from '../analysis/types.js';
import type { Sample } from '../metrics/types.js';
import { InvalidDurationError, parseDuration } from '../triggers/duration.js';

/** The file access analyze needs; injectable so tests run in memory. */
export interface AnalyzeFs {
  /** Reads a file as UTF-8. Rejects (e.g. ENOENT) when it cannot. */
  readFile(file: string): Promise<string>;
}

/** The real file system. */
export const nodeAnalyzeFs: AnalyzeFs = { readFile: (file) => readFile(file, 'utf8') };

/** Options of the command, as commander hands them over. */
export interface AnalyzeOptions {
  readonly horizon?: string;
  readonly output?: string;
}

/** What the command printed and how it ended. */
export interface AnalyzeOutcome {
  readonly code: 0 | 1 | 2;
  /** Lines for stdout. */
  readonly lines: readonly string[];
  /** Lines for stderr (one per bad file or option), without the command prefix. */
  readonly errors: readonly string[];
}

/** A validated input file. */
export interface SeriesFile {
  readonly metric: string;
  readonly kind: MetricKind;
  readonly unit?: string;
  readonly limit: number;
  readonly intervalSeconds?: number;
  /** Ascending by time, ms. */
  readonly samples: readonly Sample[];
  /** Known container starts, ms. */
  readonly containerStarts?: readonly number[];
  /** The assessment's time, ms: the file's `now`, else its latest sample. */
  readonly now: number;
}

/** Samples per file, at most: 6 hours at 1 s, far more than the analyzer looks at. */
const MAX_SAMPLES = 21_600;
/** Unix seconds after this are taken for milliseconds (year 2286): a common mistake worth naming. */
const MAX_UNIX_SECONDS = 1e10;

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** The kind a metric name implies: memory or CPU; undefined when it names neither. */
export function kindOfMetric(metric: string): MetricKind | undefined {
  if (/memory|mem_|rss|working_set|heap/i.test(metric)) return 'memory';
  if (/cpu/i.test(metric)) return 'cpu';
  return undefined;
}

/**
 * Parses and validates one file's text. Returns the series, or the problems found (each a short phrase naming the
 * field: "samples[3]: the value is not a finite number"). Pure.
 */
export function parseSeriesFile(text: string): { series: SeriesFile } | { problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e: unknown) {
    return { problems: [`not valid JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (!isRecord(data)) return { problems: ['expected a JSON object with metric, limit and samples'] };
  const problems: string[] = [];
  const { metric, unit, limit, intervalSeconds, samples, kind, containerStarts, now } = data;
  if (typeof metric !== 'string' || metric === '') problems.push('metric: required, a non-empty string (memory_usage_bytes, cpu_usage_percent …)');
  let resolvedKind: MetricKind | undefined;
  if (kind !== undefined) {
    if (kind === 'memory' || kind === 'cpu') resolvedKind = kind;
    else problems.push('kind: must be "memory" or "cpu"');
  } else if (typeof metric === 'string' && metric !== '') {
    resolvedKind = kindOfMetric(metric);
    if (resolvedKind === undefined) problems.push(`metric: ${JSON.stringify(metric)} names neither memory nor CPU; add "kind": "memory" or "cpu"`);
  }
  if (unit !== undefined && typeof unit !== 'string') problems.push('unit: must be a string');
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0) problems.push('limit: required, a positive number');
  if (intervalSeconds !== undefined && (typeof intervalSeconds !== 'number' || !Number.isFinite(intervalSeconds) || intervalSeconds <= 0)) {
    problems.push('intervalSeconds: must be a positive number');
  }
  const parsed: Sample[] = [];
  if (!Array.isArray(samples)) {
    problems.push('samples: required, an array of [unixSeconds, value] pairs');
  } else if (samples.length === 0) {
    problems.push('samples: empty');
  } else if (samples.length > MAX_SAMPLES) {
    problems.push(`samples: ${samples.length} samples, at most ${MAX_SAMPLES} (6 h at 1 s) are accepted`);
  } else {
    for (let i = 0; i < samples.length && problems.length < 10; i++) {
      const pair: unknown = samples[i];
      if (!Array.isArray(pair) || pair.length !== 2) {
        problems.push(`samples[${i}]: expected [unixSeconds, value]`);
        continue;
      }
      const at: unknown = (pair as unknown[])[0];
      const value: unknown = (pair as unknown[])[1];
      if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) problems.push(`samples[${i}]: the time is not a non-negative number of seconds`);
      else if (at > MAX_UNIX_SECONDS) problems.push(`samples[${i}]: the time ${at} looks like milliseconds; times are Unix seconds`);
      else if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`samples[${i}]: the value is not a finite number`);
      else parsed.push({ at: Math.round(at * 1000), value });
    }
  }
  const starts: number[] = [];
  if (containerStarts !== undefined) {
    if (!Array.isArray(containerStarts) || containerStarts.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > MAX_UNIX_SECONDS)) {
      problems.push('containerStarts: must be an array of Unix seconds');
    } else {
      starts.push(...(containerStarts as number[]).map((s) => Math.round(s * 1000)));
    }
  }
  if (now !== undefined && (typeof now !== 'number' || !Number.isFinite(now) || now < 0 || now > MAX_UNIX_SECONDS)) problems.push('now: must be Unix seconds');
  if (problems.length > 0 || resolvedKind === undefined || typeof metric !== 'string' || typeof limit !== 'number') return { problems };
  parsed.sort((a, b) => a.at - b.at);
  const latest = (parsed[parsed.length - 1] as Sample).at;
  return {
    series: {
      metric,
      kind: resolvedKind,
      ...(typeof unit === 'string' ? { unit } : {}),
      limit,
      ...(typeof intervalSeconds === 'number' ? { intervalSeconds } : {}),
      samples: parsed,
      ...(starts.length > 0 ? { containerStarts: starts } : {}),
      now: typeof now === 'number' ? Math.round(now * 1000) : latest,
    },
  };
}

/** The analyzer's input for a file. */
export function toSeriesInput(s: SeriesFile): SeriesInput {
  return {
    samples: s.samples,
    kind: s.kind,
    limit: s.limit,
    now: s.now,
    ...(s.unit === undefined ? {} : { unit: s.unit }),
    ...(s.containerStarts === undefined ? {} : { containerStarts: s.containerStarts }),
  };
}

/** The JSON line for one assessment (`-o json`). */
export function jsonLine(file: string, s: SeriesFile, a: Assessment): string {
  return JSON.stringify({
    file,
    metric: s.metric,
    unit: s.unit ?? null,
    limit: s.limit,
    willBreach: a.willBreach,
    secondsToLimit: a.secondsToLimit,
    interval: a.interval,
    confidence: round(a.confidence),
    breachProbability: round(a.breachProbability),
    pattern: a.pattern,
    reasoning: a.reasoning,
    forecast: {
      model: a.forecast.model,
      levelAtNow: round(a.forecast.levelAtNow),
      slopePerSecond: round(a.forecast.slopePerSecond, 6),
      ...(a.forecast.periodSeconds === undefined ? {} : { periodSeconds: Math.round(a.forecast.periodSeconds) }),
      ...(a.forecast.amplitude === undefined ? {} : { amplitude: round(a.forecast.amplitude) }),
      ...(a.forecast.asymptote === undefined ? {} : { asymptote: round(a.forecast.asymptote) }),
    },
  });
}

function round(x: number, digits = 4): number | null {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : null;
}

/** The human-readable lines for one assessment. */
export function textLines(file: string, s: SeriesFile, a: Assessment, horizonSeconds: number): string[] {
  let verdict: string;
  if (a.secondsToLimit === 0) verdict = 'at the limit now';
  else if (a.secondsToLimit === null) verdict = `no crossing of the limit forecast`;
  else verdict = `reaches the limit in ${formatEta(a.secondsToLimit, a.interval?.low ?? a.secondsToLimit, a.interval?.high ?? null, 4 * horizonSeconds)}`;
  const head = `${file}: ${s.metric} — ${a.pattern}: ${verdict}; ${a.willBreach ? `BREACH within ${formatSeconds(horizonSeconds)}` : `no breach within ${formatSeconds(horizonSeconds)}`} (confidence ${formatNumber(a.confidence)})`;
  return [head, ...a.reasoning.map((r) => `  - ${r}`)];
}

/**
 * Runs the command over `files`. Resolves with the lines to print and the exit code; never rejects (unreadable or
 * invalid files are reported in `errors` with exit code 2, and then nothing is assessed).
 */
export async function analyzeCommand(files: readonly string[], options: AnalyzeOptions, fs: AnalyzeFs = nodeAnalyzeFs): Promise<AnalyzeOutcome> {
  const errors: string[] = [];
  if (files.length === 0) errors.push('no file given: usage: kubeskippy analyze FILE… [--horizon 30m] [-o json]');
  let horizonMs = 30 * 60_000;
  if (options.horizon !== undefined) {
    try {
      horizonMs = parseDuration(options.horizon);
      if (horizonMs <= 0) errors.push(`--horizon ${options.horizon}: must be longer than 0s`);
    } catch (e: unknown) {
      if (!(e instanceof InvalidDurationError)) throw e;
      errors.push(`--horizon ${options.horizon}: ${e.message}`);
    }
  }
  const output = options.output ?? 'text';
  if (output !== 'text' && output !== 'json') errors.push(`-o ${output}: the output format is "text" or "json"`);

  const parsed: [string, SeriesFile][] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file);
    } catch (e: unknown) {
      errors.push(`${file}: cannot read: ${describeError(e)}`);
      continue;
    }
    const r = parseSeriesFile(text);
    if ('problems' in r) errors.push(`${file}: ${r.problems.join('; ')}`);
    else parsed.push([file, r.series]);
  }
  if (errors.length > 0) return { code: 2, lines: [], errors };

  const lines: string[] = [];
  let breaches = 0;
  for (const [file, series] of parsed) {
    const a = assessSeries(toSeriesInput(series), { horizonMs });
    if (a.willBreach) breaches++;
    if (output === 'json') lines.push(jsonLine(file, series, a));
    else lines.push(...textLines(file, series, a, horizonMs / 1000));
  }
  return { code: breaches > 0 ? 1 : 0, lines, errors: [] };
}

function describeError(e: unknown): string {
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}
