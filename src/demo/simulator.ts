/**
 * The demo's simulator: every 2 s it lists the demo's pods and applies the faults that kwok does not simulate by
 * itself (sim-rules.ts decides, this file only reads and patches): the OOM killer, the CPU load shared by a
 * Deployment's pods, the chaos monkey, the flaky web pods, the bad releases, the network's latency and readiness.
 * Every fault it injects is recorded (an Injection), so the report knows when each problem began. It also serves
 * the network's latency as Prometheus text (the demo's /metrics exporter reads latencyExposition()).
 */
import * as k8s from '@kubernetes/client-node';
import { parseBytes } from '../k8s/quantity.js';
import { timestampMs } from '../k8s/time.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { IntervalLoop } from '../runtime/interval-loop.js';
import { DEMO_LABELS, LATENCY_METRIC, type DemoTimings, type ScenarioDefinition, type ScenarioId } from './scenarios.js';
import {
  MARKERS,
  SIM,
  badReleaseAnnotations,
  chooseChaosStrike,
  chooseFlakyPod,
  cpuShare,
  createRng,
  decideCrashOnceEnd,
  decideOomKill,
  decideUnreadyEnd,
  diffAnnotations,
  networkState,
  nextChaosDelay,
  type AnnotationPatch,
  type NetworkState,
  type SimPod,
} from './sim-rules.js';

/** A scenario placed in a namespace. */
export interface ScenarioPlacement {
  readonly scenario: ScenarioDefinition;
  readonly namespace: string;
}

/** What kind of fault was injected. */
export type InjectionKind = 'oom-kill' | 'chaos-unready' | 'chaos-crash' | 'flaky-stuck' | 'bad-release' | 'network-degradation' | 'network-recovery' | 'cpu-quiet';

/** One fault the simulator injected (or, for cpu-quiet and network-recovery, lifted). */
export interface Injection {
  readonly at: number;
  readonly scenario: ScenarioId;
  readonly namespace: string;
  readonly workload: string;
  readonly pod?: string;
  readonly kind: InjectionKind;
  readonly detail: string;
}

/** One listing of the demo's pods, as the recorder consumes it. */
export interface PodListing {
  readonly at: number;
  readonly pods: readonly k8s.V1Pod[];
}

/** What the simulator needs. */
export interface SimulatorDeps {
  readonly kc: k8s.KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timings: DemoTimings;
  readonly placements: readonly ScenarioPlacement[];
  /** The start of the run: fault times (bad releases, network cycles) are counted from it. */
  readonly startedAt: number;
  readonly tickMs?: number;
}

/** The workload (label app) of a pod. */
export function podWorkloadName(pod: k8s.V1Pod): string {
  return pod.metadata?.labels?.['app'] ?? '';
}

/** A listed pod as the rules see it. */
export function toSimPod(pod: k8s.V1Pod): SimPod {
  const status = pod.status?.containerStatuses?.[0];
  const limit = pod.spec?.containers[0]?.resources?.limits?.['memory'];
  let memoryLimit: number | undefined;
  try {
    memoryLimit = limit === undefined ? undefined : parseBytes(String(limit));
  } catch {
    memoryLimit = undefined;
  }
  const startTime = timestampMs(pod.status?.startTime);
  const runningSince = status?.state?.running ? timestampMs(status.state.running.startedAt) : undefined;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    workload: podWorkloadName(pod),
    annotations: pod.metadata?.annotations ?? {},
    ...(startTime === undefined ? {} : { startTime }),
    ...(status?.state?.running ? { runningSince: runningSince ?? startTime ?? 0 } : {}),
    restartCount: status?.restartCount ?? 0,
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    ...(memoryLimit === undefined ? {} : { memoryLimit }),
  };
}

/** Runs the demo's faults. start() begins ticking; stop() resolves once the last tick is done. */
export class Simulator {
  /** Every fault injected so far, oldest first. */
  readonly injections: Injection[] = [];
  private readonly core: k8s.CoreV1Api;
  private readonly apps: k8s.AppsV1Api;
  private readonly loop: IntervalLoop;
  private readonly listeners: ((l: PodListing) => void)[] = [];
  private readonly rng: () => number;
  private nextChaosAt: number;
  private nextFlakyAt: number;
  private releasesDone = 0;
  private readonly quietOverride = new Map<string, boolean>();
  private quietRecorded = new Set<string>();
  private network: NetworkState = { latencySeconds: 0, failing: false, phase: 'healthy' };
  private lastPods: SimPod[] = [];
  private readonly namespaces: ReadonlySet<string>;

  constructor(private readonly deps: SimulatorDeps) {
    this.core = deps.kc.makeApiClient(k8s.CoreV1Api);
    this.apps = deps.kc.makeApiClient(k8s.AppsV1Api);
    this.rng = createRng(deps.timings.seed);
    this.nextChaosAt = deps.startedAt + nextChaosDelay(this.rng, deps.timings.chaosIntervalSeconds);
    this.nextFlakyAt = deps.startedAt + deps.timings.flakyIntervalSeconds * 1000;
    this.namespaces = new Set(deps.placements.map((p) => p.namespace));
    this.network = networkState(deps.timings.network, 0);
    this.loop = new IntervalLoop({
      clock: deps.clock,
      intervalMs: deps.tickMs ?? 2000,
      tick: () => this.tick(),
      onError: (e) => deps.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'demo simulator tick failed'),
    });
  }

  /** Calls `listener` with every pod listing (the recorder's input). */
  onListing(listener: (l: PodListing) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Ends (or resumes) the CPU oscillation of the CPU scenario in `namespace`, whatever the timings say. */
  setCpuQuiet(namespace: string, quiet: boolean): void {
    this.quietOverride.set(namespace, quiet);
  }

  /** The network's state now. */
  networkNow(): NetworkState {
    return this.network;
  }

  /** The latency each dependant pod observes, as Prometheus text exposition. */
  latencyExposition(): string {
    const lines = [
      `# HELP ${LATENCY_METRIC} Latency the pod observes calling its dependency, simulated by the KubeSkippy demo.`,
      `# TYPE ${LATENCY_METRIC} gauge`,
    ];
    const dependants = new Set(this.deps.placements.flatMap((p) => p.scenario.workloads.filter((w) => w.role === 'dependant').map((w) => `${p.namespace}/${w.name}`)));
    for (const pod of this.lastPods) {
      if (pod.deleting || !dependants.has(`${pod.namespace}/${pod.workload}`)) continue;
      lines.push(`${LATENCY_METRIC}{namespace="${pod.namespace}",pod="${pod.name}",app="${pod.workload}"} ${this.network.latencySeconds.toFixed(3)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private record(i: Injection): void {
    this.injections.push(i);
    this.deps.logger.info({ ...i }, 'demo fault');
  }

  private async tick(): Promise<void> {
    const now = this.deps.clock.now();
    const list = await this.core.listPodForAllNamespaces({ labelSelector: DEMO_LABELS.scenario });
    const raw = list.items.filter((p) => this.namespaces.has(p.metadata?.namespace ?? ''));
    for (const l of this.listeners) l({ at: now, pods: raw });
    const pods = raw.map(toSimPod);
    this.lastPods = pods;
    const patches = new Map<SimPod, AnnotationPatch>();
    const add = (pod: SimPod, patch: AnnotationPatch | undefined): void => {
      if (patch === undefined) return;
      patches.set(pod, { ...(patches.get(pod) ?? {}), ...patch });
    };
    const elapsed = (now - this.deps.startedAt) / 1000;
    const previousNetwork = this.network;
    this.network = networkState(this.deps.timings.network, elapsed);

    for (const pod of pods) {
      const oom = decideOomKill(pod, now);
      if (oom?.[SIM.crash] === 'true') {
        this.record({ at: now, scenario: this.scenarioOf(pod.namespace), namespace: pod.namespace, workload: pod.workload, pod: pod.name, kind: 'oom-kill', detail: `${pod.name} reached its memory limit` });
      }
      add(pod, oom);
      add(pod, decideCrashOnceEnd(pod));
      add(pod, decideUnreadyEnd(pod, now));
    }
    for (const placement of this.deps.placements) {
      const mine = pods.filter((p) => p.namespace === placement.namespace);
      switch (placement.scenario.kind) {
        case 'cpu':
          this.shareCpu(placement, mine, elapsed, now, add);
          break;
        case 'chaos':
          this.chaos(placement, mine, now, add);
          break;
        case 'flaky':
          this.flaky(placement, mine, now, add);
          break;
        case 'network':
          this.networkFaults(placement, mine, previousNetwork, now, add);
          break;
        case 'release':
        case 'leak':
        case 'crash':
        case 'protected':
          break;
      }
    }
    await this.releases(elapsed, now);
    await Promise.all(
      [...patches].map(async ([pod, patch]) => {
        const changes = diffAnnotations(pod.annotations, patch);
        if (changes === undefined) return;
        try {
          await this.core.patchNamespacedPod({ name: pod.name, namespace: pod.namespace, body: { metadata: { annotations: changes } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
        } catch (e: unknown) {
          // The pod may be gone by now (evicted, rolled): the next listing will not show it.
          this.deps.logger.debug({ pod: `${pod.namespace}/${pod.name}`, err: e instanceof Error ? e.message : String(e) }, 'demo simulator could not patch a pod');
        }
      }),
    );
  }

  private scenarioOf(namespace: string): ScenarioId {
    return this.deps.placements.find((p) => p.namespace === namespace)?.scenario.id ?? 'memory-leak';
  }

  private shareCpu(placement: ScenarioPlacement, pods: readonly SimPod[], elapsed: number, now: number, add: (p: SimPod, a: AnnotationPatch) => void): void {
    const t = this.deps.timings.cpu;
    const quiet = this.quietOverride.get(placement.namespace) ?? (t.quietAfterSeconds !== undefined && elapsed >= t.quietAfterSeconds);
    if (quiet && !this.quietRecorded.has(placement.namespace)) {
      this.quietRecorded.add(placement.namespace);
      this.record({ at: now, scenario: placement.scenario.id, namespace: placement.namespace, workload: '*', kind: 'cpu-quiet', detail: `the load subsides to ${t.quietMillicores}m` });
    }
    for (const w of placement.scenario.workloads) {
      const live = pods.filter((p) => p.workload === w.name && !p.deleting);
      for (const pod of live) add(pod, cpuShare(t, live.length, quiet));
    }
  }

  private chaos(placement: ScenarioPlacement, pods: readonly SimPod[], now: number, add: (p: SimPod, a: AnnotationPatch) => void): void {
    if (now < this.nextChaosAt) return;
    this.nextChaosAt = now + nextChaosDelay(this.rng, this.deps.timings.chaosIntervalSeconds);
    const strike = chooseChaosStrike(this.rng, pods, this.deps.timings, now);
    if (strike === undefined) return;
    add(strike.pod, strike.patch);
    this.record({
      at: now,
      scenario: placement.scenario.id,
      namespace: placement.namespace,
      workload: strike.pod.workload,
      pod: strike.pod.name,
      kind: strike.mode === 'unready' ? 'chaos-unready' : 'chaos-crash',
      detail: strike.mode === 'unready' ? `${strike.pod.name} fails its readiness for ${Math.round(strike.durationMs / 1000)}s` : `${strike.pod.name} crashes once`,
    });
  }

  private flaky(placement: ScenarioPlacement, pods: readonly SimPod[], now: number, add: (p: SimPod, a: AnnotationPatch) => void): void {
    for (const pod of pods) if (pod.annotations[MARKERS.stuck] !== undefined) add(pod, { [SIM.ready]: 'false' });
    if (now < this.nextFlakyAt) return;
    this.nextFlakyAt = now + this.deps.timings.flakyIntervalSeconds * 1000;
    const pod = chooseFlakyPod(this.rng, pods);
    if (pod === undefined) return;
    add(pod, { [SIM.ready]: 'false', [MARKERS.stuck]: 'true' });
    this.record({ at: now, scenario: placement.scenario.id, namespace: placement.namespace, workload: pod.workload, pod: pod.name, kind: 'flaky-stuck', detail: `${pod.name} stops answering its readiness probe` });
  }

  private networkFaults(placement: ScenarioPlacement, pods: readonly SimPod[], previous: NetworkState, now: number, add: (p: SimPod, a: AnnotationPatch) => void): void {
    const n = this.network;
    const dependency = placement.scenario.workloads.find((w) => w.role === 'dependency')?.name ?? '';
    if (n.phase !== 'healthy' && previous.phase === 'healthy') {
      this.record({ at: now, scenario: placement.scenario.id, namespace: placement.namespace, workload: dependency, kind: 'network-degradation', detail: `${dependency}'s latency starts climbing` });
    }
    if (n.phase === 'healthy' && previous.phase !== 'healthy') {
      this.record({ at: now, scenario: placement.scenario.id, namespace: placement.namespace, workload: dependency, kind: 'network-recovery', detail: `${dependency}'s network recovers` });
    }
    const affected = new Set(placement.scenario.workloads.filter((w) => w.role === 'dependency' || w.role === 'dependant').map((w) => w.name));
    for (const pod of pods) if (affected.has(pod.workload)) add(pod, { [SIM.ready]: n.failing ? 'false' : null });
  }

  private async releases(elapsed: number, now: number): Promise<void> {
    const due = this.deps.timings.badReleaseAtSeconds.filter((s) => s <= elapsed).length;
    while (this.releasesDone < due) {
      this.releasesDone++;
      const release = this.releasesDone + 1;
      for (const placement of this.deps.placements.filter((p) => p.scenario.kind === 'release')) {
        for (const w of placement.scenario.workloads) {
          try {
            await this.apps.patchNamespacedDeployment(
              { name: w.name, namespace: placement.namespace, body: { spec: { template: { metadata: { annotations: badReleaseAnnotations(release) } } } } },
              k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
            );
            this.record({ at: now, scenario: placement.scenario.id, namespace: placement.namespace, workload: w.name, kind: 'bad-release', detail: `release ${release} of ${w.name} crash-loops` });
          } catch (e: unknown) {
            this.deps.logger.warn({ deployment: `${placement.namespace}/${w.name}`, err: e instanceof Error ? e.message : String(e) }, 'demo simulator could not roll out the bad release');
          }
        }
      }
    }
  }
}
