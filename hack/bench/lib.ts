/**
 * What the benchmarks share (not a test; see detection-latency.ts and scale.ts): compiling the operator from the
 * current sources, running it as a child process of its own (so its CPU and memory are its own), scraping its
 * /metrics, reading /proc, and the statistics and tables they print.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseBytes } from '../../src/k8s/quantity.js';
import { waitFor } from '../../test/support/cluster.js';

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where benchmarks keep their scratch files (git-ignored). */
export const outDir = path.join(root, '.cache/bench');

/** An integer from the environment, or `fallback` when unset or not a non-negative integer. */
export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

/** A comma-separated list of integers from the environment. */
export function envInts(name: string, fallback: readonly number[]): number[] {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return [...fallback];
  return v.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with the operator's log timestamps). */
export const wallNow = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const log = (msg: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---------------------------------------------------------------------------------------------------------------
// The operator process

/** An operator running as a child process. */
export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  /** When it was spawned (wallNow). */
  readonly spawnedAt: number;
  /** The operator's log lines so far (JSON). */
  lines(): string[];
  /** SIGTERM, then SIGKILL after 15 s; resolves once it has exited and its log is flushed. */
  stop(): Promise<void>;
  /** SIGKILL at once (a crash); resolves once it has exited. */
  kill(): Promise<void>;
}

/** Compiles src/ into .cache/bench/operator with the project's build config and bundles it; returns the `kubeskippy` entry point. */
export function buildOperator(): string {
  const dir = path.join(outDir, 'operator');
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const started = performance.now();
  const tsc = spawnSync(
    path.join(root, 'node_modules/.bin/tsc'),
    ['-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist'), '--incremental', '--tsBuildInfoFile', path.join(dir, 'tsbuildinfo')],
    { cwd: root, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${String(tsc.status)}):\n${tsc.stdout}${tsc.stderr}`);
  // Bundled with client-node as `npm run build` does: the benchmark measures what the image runs.
  const bundle = spawnSync(process.execPath, [path.join(root, 'hack/build/bundle.mjs'), path.join(dir, 'dist')], { cwd: root, encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`bundling failed (exit ${String(bundle.status)}):\n${bundle.stdout}${bundle.stderr}`);
  // The same layout as the package: bin/kubeskippy.js imports ../dist/kubeskippy.mjs; version.ts reads ../package.json.
  copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  copyFileSync(path.join(root, 'bin/kubeskippy.js'), path.join(dir, 'bin/kubeskippy.js'));
  log(`compiled the operator in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return path.join(dir, 'bin/kubeskippy.js');
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Options of startOperatorProcess. */
export interface OperatorProcessOptions {
  /** `kubeskippy run` flags besides the metrics/health addresses (which it picks). */
  readonly args: readonly string[];
  /** Log file name under .cache/bench. */
  readonly logName: string;
  /** Write a V8 CPU profile (--cpu-prof) into this directory. */
  readonly cpuProfileDir?: string;
  /** Extra node flags (e.g. --heapsnapshot-signal=SIGUSR2). */
  readonly nodeFlags?: readonly string[];
  /** Run it inside this memory cgroup (makeMemoryCgroup), as in a container with a memory limit. */
  readonly memoryCgroup?: MemoryCgroup;
  /** Wait for /readyz (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
}

/**
 * The runtime settings of the operator image — the Dockerfile's `ENV MALLOC_…=…` (glibc's allocator) and
 * `ENV NODE_OPTIONS=…` (V8's heap) — so the benchmarks run the operator process as the image does.
 */
export function imageRuntimeEnv(dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8')): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of dockerfile.split('\n')) {
    if (!/^ENV\s/.test(line)) continue;
    for (const m of line.matchAll(/\b(MALLOC_[A-Z_]+|NODE_OPTIONS)=("[^"]*"|\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/**
 * The node flags of the operator image's `ENTRYPOINT ["node", <flags…>, "/app/bin/kubeskippy.js"]` — V8 options
 * NODE_OPTIONS refuses (`--max-opt`) — so the benchmarks run the operator process with them too. None: [].
 */
export function imageNodeFlags(dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8')): string[] {
  const line = dockerfile.split('\n').filter((l) => /^ENTRYPOINT\s/.test(l)).at(-1);
  if (line === undefined) return [];
  const argv = JSON.parse(line.replace(/^ENTRYPOINT\s+/, '')) as unknown;
  if (!Array.isArray(argv) || argv[0] !== 'node') return [];
  return argv.slice(1).filter((a): a is string => typeof a === 'string' && a.startsWith('--'));
}

/**
 * The memory limit of the operator's container in the Helm chart's defaults (charts/kubeskippy/values.yaml,
 * `resources.limits.memory`) in bytes; undefined when the chart sets none.
 */
export function chartMemoryLimit(values = readFileSync(path.join(root, 'charts/kubeskippy/values.yaml'), 'utf8')): number | undefined {
  const doc = parseYaml(values) as { resources?: { limits?: { memory?: unknown } } } | null;
  const limit = doc?.resources?.limits?.memory;
  return typeof limit === 'string' || typeof limit === 'number' ? parseBytes(String(limit)) : undefined;
}

/** A memory cgroup made for an operator process (makeMemoryCgroup). */
export interface MemoryCgroup {
  /** The cgroup's directory. */
  readonly dir: string;
  /** The file a process writes its pid into to join it. */
  readonly procs: string;
  readonly limitBytes: number;
  /** Processes the kernel killed in it for running out of memory so far (undefined: the kernel does not say). */
  oomKills(): number | undefined;
  /** Removes the cgroup once no process is left in it (best effort). */
  remove(): void;
}

/**
 * Where this process's memory cgroup is: the cgroup v1 memory controller's directory, or the cgroup v2 one when its
 * memory controller is available there. Reads the given /proc/self/cgroup text, asks `exists` about paths, and for
 * cgroup v2 reads /sys/fs/cgroup/cgroup.controllers (so only the v1 answers are decided by the arguments alone).
 */
export function memoryCgroupBase(procSelfCgroup: string, exists: (p: string) => boolean = existsSync): { dir: string; version: 1 | 2 } | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, rel] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (rel === undefined) continue;
    if (controllers?.split(',').includes('memory') && exists('/sys/fs/cgroup/memory')) return { dir: path.join('/sys/fs/cgroup/memory', rel), version: 1 };
  }
  const unified = /^0::(.*)$/m.exec(procSelfCgroup)?.[1];
  if (unified !== undefined && exists('/sys/fs/cgroup/cgroup.controllers')) {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8');
    if (/\bmemory\b/.test(controllers)) return { dir: path.join('/sys/fs/cgroup', unified), version: 2 };
  }
  return undefined;
}

/**
 * A memory cgroup limited to `limitBytes` below this process's own, for an operator process to run in as it does in
 * its container: Node sizes V8's heap from the limit it finds there (the chart's 512 MiB gives a heap limit of
 * 259 MiB, against 4 288 MiB on a 24-GiB machine without one; V8's heap-growing factor depends on that limit), and
 * the kernel kills the process past it. Returns the reason instead when the machine does not let this process make
 * one (no memory controller, not writable).
 */
export function makeMemoryCgroup(limitBytes: number, name: string): MemoryCgroup | { reason: string } {
  const base = memoryCgroupBase(readFileSync('/proc/self/cgroup', 'utf8'));
  if (base === undefined) return { reason: 'no cgroup memory controller' };
  const dir = path.join(base.dir, name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, base.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  } catch (e: unknown) {
    return { reason: `cannot make a memory cgroup in ${base.dir}: ${e instanceof Error ? e.message : String(e)}` };
  }
  return {
    dir,
    procs: path.join(dir, 'cgroup.procs'),
    limitBytes,
    oomKills: () => {
      try {
        const text = readFileSync(path.join(dir, base.version === 1 ? 'memory.oom_control' : 'memory.events'), 'utf8');
        const m = /^oom_kill (\d+)$/m.exec(text);
        return m === null ? undefined : Number(m[1]);
      } catch {
        return undefined;
      }
    },
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // A process still in it, or gone already: an empty cgroup left behind costs nothing (rmdir it by hand).
      }
    },
  };
}

/** Starts `kubeskippy run` as a child process and (by default) waits until /readyz answers 200. */
export async function startOperatorProcess(entry: string, options: OperatorProcessOptions): Promise<OperatorProcess> {
  const port = await freePort();
  mkdirSync(outDir, { recursive: true });
  const logFile = createWriteStream(path.join(outDir, options.logName));
  const lines: string[] = [];
  let partial = '';
  const profile = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  const spawnedAt = wallNow();
  const node = path.join(root, 'node_modules/.bin/node');
  // In a memory cgroup: a shell joins it and then becomes node (exec), so the child's pid is the operator's.
  const [command, prefix] = options.memoryCgroup === undefined ? [node, []] : ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', options.memoryCgroup.procs, node]];
  const child = spawn(
    command,
    [
      ...prefix,
      ...profile,
      ...imageNodeFlags(),
      ...(options.nodeFlags ?? []),
      entry,
      'run',
      '--metrics-bind-address',
      `127.0.0.1:${port}`,
      '--health-bind-address',
      `127.0.0.1:${port}`,
      '--dashboard-bind-address',
      '0',
      ...options.args,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...imageRuntimeEnv(), ...process.env } },
  );
  const onData = (d: Buffer): void => {
    logFile.write(d);
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // If this process dies, do not leave the operator running.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const finish = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await new Promise<void>((resolve) => logFile.end(() => resolve()));
  };
  const op: OperatorProcess = {
    child,
    pid: child.pid ?? 0,
    url,
    spawnedAt,
    lines: () => lines,
    stop: async () => {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await finish();
    },
    kill: async () => {
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
      await finish();
    },
  };
  if (options.waitReady === false) return op;
  try {
    await waitFor(
      'the operator to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`the operator exited with ${String(child.exitCode)}:\n${lines.slice(-20).join('\n')}`);
        const res = await fetch(`${url}/readyz`);
        return res.status === 200;
      },
      options.readyTimeoutMs ?? 180_000,
      100,
    );
  } catch (e: unknown) {
    await op.stop();
    throw e;
  }
  return op;
}

// ---------------------------------------------------------------------------------------------------------------
// /metrics and /proc

/** One sample of Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses Prometheus text exposition (enough of it for prom-client's output). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/** Scrapes an operator's /metrics. */
export async function scrape(op: Pick<OperatorProcess, 'url'>): Promise<Sample[]> {
  const res = await fetch(`${op.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** "verb resource.group/subresource" of a kubeskippy_api_requests_total sample. */
export function requestKey(s: Sample): string {
  const { verb = '', group = '', resource = '', subresource = '' } = s.labels;
  const gr = resource === '' ? '(non-resource)' : group === '' ? resource : `${resource}.${group}`;
  return `${verb} ${gr}${subresource === '' ? '' : `/${subresource}`}`;
}

/** kubeskippy_api_requests_total by requestKey. */
export function apiRequests(samples: readonly Sample[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) if (s.name === 'kubeskippy_api_requests_total') m.set(requestKey(s), (m.get(requestKey(s)) ?? 0) + s.value);
  return m;
}

/** Requests between two scrapes: request key → count (only those that grew). */
export function requestDelta(before: readonly Sample[], after: readonly Sample[]): Record<string, number> {
  const b = apiRequests(before);
  const out: Record<string, number> = {};
  for (const [k, v] of apiRequests(after)) if (v - (b.get(k) ?? 0) > 0) out[k] = v - (b.get(k) ?? 0);
  return out;
}

/** Sums a request delta by verb (the first word of the key). */
export function byVerb(delta: Readonly<Record<string, number>>, minutes = 1): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(delta)) {
    const verb = k.split(' ')[0] ?? '';
    out[verb] = (out[verb] ?? 0) + v / minutes;
  }
  for (const k of Object.keys(out)) out[k] = Math.round((out[k] ?? 0) * 10) / 10;
  return out;
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function sumOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

const clockTicks = ((): number => Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100)();

/** RSS, peak RSS (bytes) and CPU seconds (user + system) of a process, from /proc. */
export function processStats(pid: number): { rss: number; rssAnon: number; rssFile: number; peakRss: number; cpuSeconds: number; threads: Record<string, number> } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  // CPU seconds per thread name (the main thread is "node"; V8's GC and compiler helpers "V8 DefaultWorke", libuv's
  // pool "libuv-worker"), to tell the event loop's work from the collector's.
  const threads: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = statTicks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      threads[t.name] = (threads[t.name] ?? 0) + t.ticks / clockTicks;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return { rss: kb('VmRSS'), rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), peakRss: kb('VmHWM'), cpuSeconds: statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks / clockTicks, threads };
}

/** The command name and utime + stime (clock ticks) of a /proc stat line: fields 14 and 15, after the name. */
function statTicks(stat: string): { name: string; ticks: number } {
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name, ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The 1-, 5- and 15-minute load averages of the machine, rounded. */
export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map((x) => Math.round(Number(x) * 100) / 100);
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics and output

/** Percentiles of a set of values (ms). */
export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles, rounded to 0.1. */
export function distribution(values: readonly number[]): Distribution {
  const v = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))] ?? NaN;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    count: v.length,
    min: r(v[0] ?? NaN),
    p50: r(rank(50)),
    p90: r(rank(90)),
    p99: r(rank(99)),
    max: r(v.at(-1) ?? NaN),
    mean: r(v.reduce((a, x) => a + x, 0) / Math.max(1, v.length)),
  };
}

/** A plain-text table with aligned columns (numbers right-aligned). */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i] ?? 0) : String(c).padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function inPool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

/**
 * When the operator logged "created HealingAction" (after its create call returned), per target "namespace/name"
 * (the first time only), from its JSON log lines.
 */
export function createdTimes(lines: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines) {
    if (!line.includes('created HealingAction')) continue;
    try {
      const e = JSON.parse(line) as { msg?: string; time?: string | number; target?: string };
      const parts = e.target?.split('/') ?? [];
      const key = parts.length >= 3 ? `${parts.at(-2) ?? ''}/${parts.at(-1) ?? ''}` : undefined;
      const t = typeof e.time === 'number' ? e.time : Date.parse(e.time ?? '');
      if (e.msg === 'created HealingAction' && key !== undefined && Number.isFinite(t) && !out.has(key)) out.set(key, t);
    } catch {
      // not a JSON log line
    }
  }
  return out;
}
