/**
 * Records a demo run (recording.ts): takes every pod listing of the simulator, and polls the Deployments' replicas
 * (5 s), the pods' usage from metrics.k8s.io (15 s, metrics-server's resolution) and the HealingActions (5 s) of the
 * demo's namespaces. The analyzer's decisions arrive from the operator's log through addDecision.
 */
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { parseBytes, parseMillicores } from '../k8s/quantity.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { IntervalLoop } from '../runtime/interval-loop.js';
import { actionRecord, podSample, type ActionRecord, type DecisionRecord, type PodSample, type Recording, type ReplicaSample, type UsageSample } from './recording.js';
import type { PodListing, ScenarioPlacement, Simulator } from './simulator.js';

/** What the recorder needs. */
export interface RecorderDeps {
  readonly kc: k8s.KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly placements: readonly ScenarioPlacement[];
  readonly simulator: Simulator;
  readonly startedAt: number;
}

function limitOf(pod: k8s.V1Pod, resource: 'cpu' | 'memory'): number | undefined {
  const raw = pod.spec?.containers[0]?.resources?.limits?.[resource];
  if (raw === undefined) return undefined;
  try {
    return resource === 'cpu' ? parseMillicores(String(raw)) : parseBytes(String(raw));
  } catch {
    return undefined;
  }
}

/** Records until stopped; snapshot() returns what was recorded so far. */
export class Recorder {
  private readonly pods: PodSample[] = [];
  private readonly usage: UsageSample[] = [];
  private readonly replicas: ReplicaSample[] = [];
  private readonly decisions: DecisionRecord[] = [];
  private actions: ActionRecord[] = [];
  private lastPods = new Map<string, k8s.V1Pod>();
  private readonly workloadOfPod = new Map<string, string>();
  private readonly namespaces: ReadonlySet<string>;
  private readonly loops: IntervalLoop[];
  private readonly co: k8s.CustomObjectsApi;
  private readonly apps: k8s.AppsV1Api;
  private readonly metrics: k8s.Metrics;

  constructor(private readonly deps: RecorderDeps) {
    this.namespaces = new Set(deps.placements.map((p) => p.namespace));
    this.co = deps.kc.makeApiClient(k8s.CustomObjectsApi);
    this.apps = deps.kc.makeApiClient(k8s.AppsV1Api);
    this.metrics = new k8s.Metrics(deps.kc);
    deps.simulator.onListing((l) => this.onListing(l));
    const onError = (what: string) => (e: unknown) => deps.logger.debug({ err: e instanceof Error ? e.message : String(e) }, `demo recorder: ${what} failed`);
    this.loops = [
      new IntervalLoop({ clock: deps.clock, intervalMs: 5000, tick: () => this.pollReplicas(), onError: onError('replicas') }),
      new IntervalLoop({ clock: deps.clock, intervalMs: 15_000, tick: () => this.pollUsage(), onError: onError('usage') }),
      new IntervalLoop({ clock: deps.clock, intervalMs: 5000, tick: () => this.pollActions(), onError: onError('actions') }),
    ];
  }

  start(): void {
    for (const l of this.loops) l.start();
  }

  /** Stops polling, after one last read of the actions. */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
    await this.pollActions().catch(() => undefined);
  }

  /** Adds an analyzer decision (from the operator's log) in one of the demo's namespaces. */
  addDecision(d: DecisionRecord): void {
    if (this.namespaces.has(d.namespace)) this.decisions.push(d);
  }

  /** The HealingActions as last read. */
  currentActions(): readonly ActionRecord[] {
    return this.actions;
  }

  /** The analyzer's decisions so far. */
  currentDecisions(): readonly DecisionRecord[] {
    return this.decisions;
  }

  /** Pod samples so far (the live view counts failures from them). */
  currentPods(): readonly PodSample[] {
    return this.pods;
  }

  /** Everything recorded so far. */
  snapshot(): Recording {
    return {
      startedAt: this.deps.startedAt,
      endedAt: this.deps.clock.now(),
      scenarios: this.deps.placements.map((p) => ({ id: p.scenario.id, namespace: p.namespace })),
      pods: [...this.pods],
      usage: [...this.usage],
      replicas: [...this.replicas],
      actions: [...this.actions],
      decisions: [...this.decisions],
      injections: [...this.deps.simulator.injections],
    };
  }

  private onListing(l: PodListing): void {
    const next = new Map<string, k8s.V1Pod>();
    for (const pod of l.pods) {
      const s = podSample(pod, l.at);
      this.pods.push(s);
      next.set(`${s.namespace}/${s.pod}`, pod);
      this.workloadOfPod.set(`${s.namespace}/${s.pod}`, s.workload);
    }
    this.lastPods = next;
  }

  private async pollReplicas(): Promise<void> {
    const at = this.deps.clock.now();
    await Promise.all(
      [...this.namespaces].map(async (namespace) => {
        const list = await this.apps.listNamespacedDeployment({ namespace });
        for (const d of list.items) {
          this.replicas.push({ at, namespace, workload: d.metadata?.name ?? '', desired: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 });
        }
      }),
    );
  }

  private async pollUsage(): Promise<void> {
    const at = this.deps.clock.now();
    const { items } = await this.metrics.getPodMetrics();
    for (const m of items) {
      const namespace = m.metadata.namespace;
      if (!this.namespaces.has(namespace)) continue;
      const pod = this.lastPods.get(`${namespace}/${m.metadata.name}`);
      if (pod === undefined) continue;
      const cpu = m.containers.reduce((s, c) => s + parseMillicores(c.usage.cpu), 0);
      const memory = m.containers.reduce((s, c) => s + parseBytes(c.usage.memory), 0);
      const cpuLimit = limitOf(pod, 'cpu');
      const memLimit = limitOf(pod, 'memory');
      this.usage.push({
        at,
        namespace,
        workload: pod.metadata?.labels?.['app'] ?? '',
        pod: m.metadata.name,
        ...(cpuLimit === undefined || cpuLimit === 0 ? {} : { cpuPercent: (100 * cpu) / cpuLimit }),
        ...(memLimit === undefined || memLimit === 0 ? {} : { memoryPercent: (100 * memory) / memLimit }),
      });
    }
  }

  private async pollActions(): Promise<void> {
    const all: ActionRecord[] = [];
    await Promise.all(
      [...this.namespaces].map(async (namespace) => {
        const list = (await this.co.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'healingactions' })) as { items: HealingAction[] };
        for (const a of list.items) all.push(actionRecord(a, (ns, pod) => this.workloadOfPod.get(`${ns}/${pod}`)));
      }),
    );
    this.actions = all.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }
}
