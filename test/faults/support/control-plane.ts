/**
 * Stops, kills and restarts components of THIS worktree's local cluster (kube-apiserver, etcd, metrics-server…)
 * the way kwokctl's binary runtime runs them: each is a plain process whose pid kwokctl keeps in
 * `.cluster/kwok/clusters/<name>/pids/<component>.pid`, started in the cluster directory with its output appended
 * to `logs/<component>.log`. A restart reads the running process's exact command line from /proc, stops it, and
 * starts the same command line again (detached, in its own session, as kwokctl does), then records the new pid so
 * that `npm run cluster:down` still stops it.
 *
 * Guard: a process is touched only when its command line names this worktree's cluster directory; anything else
 * (another agent's cluster) makes these helpers throw.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, sleep } from './common.js';

/** The kwokctl cluster directory of this worktree. */
export const CLUSTER_STATE = path.join(ROOT, '.cluster/kwok/clusters/kubeskippy');

/** The components kwokctl runs. */
export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok-controller' | 'metrics-server';

interface ProcessInfo {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly cwd: string;
}

function pidFile(c: Component): string {
  return path.join(CLUSTER_STATE, 'pids', `${c}.pid`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running process of component `c`, checked to belong to this worktree's cluster. */
export function componentProcess(c: Component): ProcessInfo {
  const pid = Number(readFileSync(pidFile(c), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) throw new Error(`${c} is not running (pid file ${pidFile(c)})`);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  if (!argv.some((a) => a.includes(`${CLUSTER_STATE}/`))) throw new Error(`pid ${pid} (${argv[0] ?? '?'}) does not belong to ${CLUSTER_STATE}: refusing to touch it`);
  return { pid, argv, cwd: CLUSTER_STATE };
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

/** Stops component `c` (SIGTERM, then SIGKILL after 10 s, or SIGKILL at once) and returns how to start it again. */
export async function stopComponent(c: Component, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<ProcessInfo> {
  const info = componentProcess(c);
  process.kill(info.pid, signal);
  if (!(await waitGone(info.pid, 10_000))) {
    process.kill(info.pid, 'SIGKILL');
    await waitGone(info.pid, 5_000);
  }
  return info;
}

/** Starts a stopped component again with the command line it had; records the new pid. */
export function startComponent(c: Component, info: ProcessInfo): number {
  const log = openSync(path.join(CLUSTER_STATE, 'logs', `${c}.log`), 'a');
  const [cmd, ...args] = info.argv;
  if (cmd === undefined) throw new Error(`no command line recorded for ${c}`);
  const child = spawn(cmd, args, { cwd: info.cwd, detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${c}`);
  child.unref();
  writeFileSync(pidFile(c), `${child.pid}\n`);
  return child.pid;
}

/** Stops `c`, keeps it down for `downMs`, starts it again; resolves when it is started (not necessarily ready). */
export async function restartComponent(c: Component, opts: { signal?: 'SIGTERM' | 'SIGKILL'; downMs?: number } = {}): Promise<{ stoppedAt: number; startedAt: number }> {
  const info = await stopComponent(c, opts.signal ?? 'SIGKILL');
  const stoppedAt = Date.now();
  if ((opts.downMs ?? 0) > 0) await sleep(opts.downMs ?? 0);
  startComponent(c, info);
  return { stoppedAt, startedAt: Date.now() };
}

/** etcd's client URL (from its command line). */
export function etcdClientUrl(): string {
  const arg = componentProcess('etcd').argv.find((a) => a.startsWith('--listen-client-urls='));
  const url = arg?.slice('--listen-client-urls='.length).split(',')[0];
  if (url === undefined || !url.startsWith('http://127.0.0.1:')) throw new Error(`unexpected etcd client URL ${String(url)}`);
  return url;
}

/**
 * Compacts etcd's history up to `upTo` (default: its current revision), through etcd's JSON gateway, so every watch
 * resumed from an older resourceVersion gets 410 Gone. Returns the revision compacted to.
 */
export async function compactEtcd(upTo?: number): Promise<number> {
  const base = etcdClientUrl();
  let revision = upTo ?? NaN;
  if (upTo === undefined) {
    const range = (await (await fetch(`${base}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/registry').toString('base64') }) })).json()) as {
      header?: { revision?: string };
    };
    revision = Number(range.header?.revision ?? 'NaN');
  }
  if (!Number.isFinite(revision)) throw new Error('could not read the etcd revision');
  const res = await fetch(`${base}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
  return revision;
}

/** True when no process of this worktree's cluster directory is stopped by a test (every pid file alive). */
export function allComponentsRunning(): boolean {
  const dir = path.join(CLUSTER_STATE, 'pids');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).every((f) => alive(Number(readFileSync(path.join(dir, f), 'utf8').trim())));
}
