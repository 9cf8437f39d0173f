/**
 * The composition root: the only place that constructs concrete classes. `startOperator` builds the informers,
 * collectors, reconcilers, controllers, leader election and servers from one OperatorConfig, starts them through
 * the Manager, and returns a handle to stop or await it.
 */
import * as k8s from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { GROUP, VERSION, BUILTIN_METRICS } from './api/v1alpha1/common.js';
import { validatePolicy } from './api/v1alpha1/validate.js';
import type { HealingAction, HealingActionStatus } from './api/v1alpha1/healing-action.js';
import type { AnyPolicy, ClusterHealingPolicy, HealingPolicy, HealingPolicyStatus } from './api/v1alpha1/healing-policy.js';
import type { OperatorConfig } from './config/operator-config.js';
import { parseBindAddress } from './config/operator-config.js';
import { isoTime } from './controllers/conditions.js';
import { HealingActionReconciler } from './controllers/healing-action/controller.js';
import { HealingPolicyReconciler, policyKeyOf } from './controllers/healing-policy/controller.js';
import { PolicyDirectory } from './controllers/healing-policy/directory.js';
import { candidateNamespaces, type Inventory } from './controllers/healing-policy/select.js';
import { retentionPlan } from './controllers/healing-policy/history-needs.js';
import { createKubeClients, requestOptions, type KubeClients } from './k8s/client.js';
import { isNotFound } from './k8s/errors.js';
import { countingKubeConfig } from './k8s/request-counter.js';
import { pooledKubeConfig } from './k8s/connection-pool.js';
import { fencedKubeConfig } from './k8s/write-fence.js';
import { EventRecorder } from './k8s/event-recorder.js';
import { createKubeListWatch, Informer, resourcePath, stripManagedFields } from './k8s/informer.js';
import { eventIdentity, slimEvent, slimPod, slimWorkload } from './k8s/cache-transforms.js';
import { EventCollector } from './metrics/collectors/events.js';
import { KubeStatusCollector } from './metrics/collectors/kube-status.js';
import { MetricsServerCollector, RESOURCE_METRICS } from './metrics/collectors/metrics-server.js';
import { PrometheusCollector } from './metrics/collectors/prometheus.js';
import { SeriesStore } from './metrics/series-store.js';
import type { ObservationChange, TargetRef } from './metrics/types.js';
import { concerns, createInterestCache } from './controllers/healing-policy/interest.js';
import { createAuditLog, disabledAuditLog, type AuditLog } from './observability/audit-log.js';
import { startHealthServer, type HealthServer } from './observability/health-server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type OperatorMetrics } from './observability/metrics.js';
import { startEventLoopMonitor } from './observability/event-loop-monitor.js';
import type { Clock } from './runtime/clock.js';
import { Controller, FencedError } from './runtime/controller.js';
import { IntervalLoop } from './runtime/interval-loop.js';
import { createLeaseStore, LeaderElector } from './runtime/leader-election.js';
import { ShardCoordinator, type LeaseView, type WatchedLease } from './runtime/sharding.js';
import { Manager, type ManagedInformer, type ManagerExit, type SignalSource } from './runtime/manager.js';
import { createDefaultRegistry } from './remediation/registry.js';
import { DashboardSource } from './dashboard/source.js';
import { startDashboardServer, type DashboardServer } from './dashboard/server.js';
import type { ForecastFor } from './dashboard/view-model.js';
import { assessSeries } from './analysis/assess.js';
import { createAdvisor, type Advisor } from './ai/advisor.js';
import { createAssessmentCache } from './triggers/assessment-cache.js';
import { VERSION as OPERATOR_VERSION } from './version.js';
import { SafetyGate } from './safety/gate.js';
import { IntentOrder } from './safety/confirm.js';
import { matchesLabelSelector, parseLabelSelectorString } from './safety/label-selector.js';
import { evaluateGlobalBreaker, evaluatePolicyBreaker } from './safety/circuit-breaker.js';
import { actionPolicyKey, DEFAULT_OPERATOR_SAFETY, parsePolicyKey, toLedgerEntry, type OperatorSafetySettings, type PolicyId } from './safety/types.js';
import { createControlPublisher, type ControlPublisher } from './control/publisher.js';
import { createNotifier, type Notifier } from './notifications/notifier.js';
import { CONTROL_CONFIGMAP, describePause, OPERATOR_STATE_ANNOTATION, readControl, type ControlState } from './control/switch.js';
import { VERSION as PACKAGE_VERSION } from './version.js';

/** A running operator. */
export interface RunningOperator {
  readonly manager: Manager;
  readonly metrics: OperatorMetrics;
  readonly store: SeriesStore;
  /** The health/metrics server, when enabled. */
  readonly health?: HealthServer;
  /** The web dashboard, when enabled (dashboardBindAddress not 0). */
  readonly dashboard?: { readonly url: string };
  /** Resolves when the operator has stopped, with the reason. */
  readonly done: Promise<ManagerExit>;
  stop(): Promise<void>;
}

/** What startOperator needs besides the config. */
export interface OperatorRuntime {
  readonly config: OperatorConfig;
  /** The cluster to serve. Not modified: the operator uses a counting view of it (kubeskippy_api_requests_total). */
  readonly kubeConfig: k8s.KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signals?: SignalSource;
  /** The LLM provider's API key (read from the variable ai.apiKeyEnv names, by config loading); never logged. */
  readonly aiApiKey?: string;
  /** The process environment, read only for notification headers (headersFromEnv) at send time. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const PLURAL_POLICIES = 'healingpolicies';
const PLURAL_CLUSTER_POLICIES = 'clusterhealingpolicies';
const PLURAL_ACTIONS = 'healingactions';

function informer<T extends k8s.KubernetesObject>(
  name: string,
  kc: k8s.KubeConfig,
  path: string,
  clock: Clock,
  logger: Logger,
  metrics: OperatorMetrics,
  transform: (obj: T) => T = stripManagedFields,
  keep?: (obj: T) => T,
): Informer<T> {
  return new Informer<T>({
    name,
    // Listed as the API server's JSON (json-get.ts): no typed copy, no gzip — what the start at 5 000 pods paid for.
    source: createKubeListWatch<T>(kc, { path }),
    clock,
    logger,
    // managedFields are often half an object's size and nothing here reads them; pods and workloads keep even less
    // (k8s/cache-transforms.ts).
    transform,
    ...(keep === undefined ? {} : { keep }),
    onRestart: () => metrics.informerRestartsTotal.inc({ resource: name }),
    onProgressProbe: () => metrics.informerProgressProbesTotal.inc({ resource: name }),
  });
}

/**
 * The safety settings the gate reads, from the operator config and the control switch (`kubeskippy pause`): either
 * one pauses.
 */
export function safetySettings(config: OperatorConfig, control?: ControlState): OperatorSafetySettings {
  const selector = config.protectedLabelSelector ? parseLabelSelectorString(config.protectedLabelSelector) : undefined;
  const switched = control?.paused === true;
  return {
    ...DEFAULT_OPERATOR_SAFETY,
    paused: config.paused || switched,
    ...(switched ? { pausedBecause: `${describePause(control)}; kubeskippy resume to lift it` } : config.paused ? { pausedBecause: 'paused by the operator configuration (paused: true)' } : {}),
    forceDryRun: config.dryRun,
    protectedNamespaces: config.protectedNamespaces,
    ...(selector ? { protectedLabelSelector: selector } : {}),
    maxActionsPerHour: config.maxActionsPerHour,
    aiMaxActionsPerHour: config.aiMaxActionsPerHour,
    policyBreaker: { failureThreshold: config.circuitBreaker.failureThreshold, openMs: config.circuitBreaker.openSeconds * 1000 },
    globalBreaker: {
      failureRate: config.globalCircuitBreaker.failureRate,
      minActions: config.globalCircuitBreaker.minActions,
      windowMs: config.globalCircuitBreaker.windowSeconds * 1000,
      openMs: config.circuitBreaker.openSeconds * 1000,
    },
    storm:
      config.stormSuppression.maxFailingWorkloads > 0
        ? { maxTargetsFailing: config.stormSuppression.maxFailingWorkloads, windowMs: config.stormSuppression.windowSeconds * 1000 }
        : {},
  };
}

function keyOf(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** What every part of the operator shares: config, clock, logger, metrics, API clients, the series store. */
interface Base {
  readonly config: OperatorConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly kc: k8s.KubeConfig;
  readonly clients: KubeClients;
  readonly store: SeriesStore;
  readonly audit: AuditLog;
  readonly events: EventRecorder;
  /** This replica's identity: its leader-election holder name, and the name it reports its state under. */
  readonly identity: string;
  /** Notifications of HealingAction events to the configured sinks. */
  readonly notifier: Notifier;
  /** Closes the pooled API connections (last, at shutdown). */
  readonly closeConnections: () => Promise<void>;
  /** Makes every write but Leases and Events wait on `check` right before it is sent (the election's fence). */
  readonly fenceWrites: (check: () => boolean) => void;
}

function createBase(rt: OperatorRuntime): Base {
  const { config, clock, logger } = rt;
  // Process metrics too (CPU, resident memory, heap, GC): what a capacity plan and the scale benchmark read.
  const metrics = createMetrics(undefined, { processMetrics: true });
  // Every request the operator makes goes through this view of the caller's KubeConfig: over pooled keep-alive
  // connections (client-node alone opens a new TLS connection per request), and counted.
  const pool = pooledKubeConfig(rt.kubeConfig);
  const counted = countingKubeConfig(pool.kubeConfig, (r) => metrics.apiRequestsTotal.inc({ verb: r.verb, group: r.group, resource: r.resource, subresource: r.subresource }));
  // The last fence before the wire (k8s/write-fence.ts): bound to the election once there is one.
  let mayWrite = (): boolean => true;
  const kc = fencedKubeConfig(counted, () => mayWrite());
  const clients: KubeClients = createKubeClients(kc);
  // Every sink's counters exist from the start, so a dashboard shows 0 rather than nothing.
  for (const sink of config.notifications.sinks) for (const result of ['sent', 'failed', 'dropped'] as const) metrics.notificationsTotal.inc({ sink: sink.name, result }, 0);
  return {
    config,
    clock,
    logger,
    metrics,
    kc,
    clients,
    store: new SeriesStore({ retentionMs: config.seriesRetentionSeconds * 1000 }),
    audit: config.auditLogPath ? createAuditLog({ clock, path: config.auditLogPath, logger }) : disabledAuditLog,
    events: new EventRecorder({ core: clients.core, clock, logger, component: 'kubeskippy' }),
    identity: config.leaderElection.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
    notifier: createNotifier({
      settings: config.notifications,
      env: rt.env ?? {},
      clock,
      logger: logger.child({ component: 'notifications' }),
      count: (sink, result) => metrics.notificationsTotal.inc({ sink, result }),
    }),
    closeConnections: () => pool.close(),
    fenceWrites: (check) => {
      mayWrite = check;
    },
  };
}

/** The informer caches, and the views over them that decide what this operator serves. */
interface Caches {
  readonly policies: Informer<HealingPolicy & k8s.KubernetesObject>;
  readonly clusterPolicies: Informer<ClusterHealingPolicy & k8s.KubernetesObject>;
  readonly actions: Informer<HealingAction & k8s.KubernetesObject>;
  readonly pods: Informer<k8s.V1Pod>;
  readonly replicaSets: Informer<k8s.V1ReplicaSet>;
  readonly deployments: Informer<k8s.V1Deployment>;
  readonly statefulSets: Informer<k8s.V1StatefulSet>;
  readonly daemonSets: Informer<k8s.V1DaemonSet>;
  readonly namespaces: Informer<k8s.V1Namespace>;
  readonly kubeEvents: Informer<k8s.CoreV1Event>;
  /** The control ConfigMap (kubeskippy-control in the operator's namespace): the pause switch. */
  readonly control: Informer<k8s.V1ConfigMap>;
  /** The switch as the cache holds it now. */
  readonly controlState: () => ControlState;
  /** Whether this operator serves `namespace` (config.namespaceSelector). */
  readonly inScope: (namespace: string | undefined) => boolean;
  readonly directory: PolicyDirectory;
  /** The cached objects selection reads, limited to served namespaces. */
  readonly inventory: () => Inventory;
  /** The write order of executed actions' intents, from the HealingAction informer (the gate's confirm). */
  readonly intents: IntentOrder;
  /**
   * Whether this replica acts in a namespace now (sharding: it holds the namespace's shard; otherwise always). The
   * inventory holds only such namespaces. Set once the election is built.
   */
  readonly ownership: { owns: (namespace: string) => boolean; operatorWide: () => boolean };
  /** Sharding: the Leases of the operator's namespace as a watch sees them (member and shard Leases). */
  readonly leases?: { readonly informer: Informer<k8s.V1Lease>; readonly view: LeaseView };
  readonly all: () => ManagedInformer[];
}

function createCaches(b: Base): Caches {
  const { kc, clients, clock, logger, metrics, config } = b;
  const make = <T extends k8s.KubernetesObject>(name: string, path: string, transform?: (obj: T) => T, keep?: (obj: T) => T): Informer<T> =>
    informer<T>(name, kc, path, clock, logger, metrics, transform, keep);
  const custom = <T extends k8s.KubernetesObject>(plural: string): Informer<T> => make<T>(plural, resourcePath({ group: GROUP, version: VERSION, plural }));
  const policies = custom<HealingPolicy & k8s.KubernetesObject>(PLURAL_POLICIES);
  const clusterPolicies = custom<ClusterHealingPolicy & k8s.KubernetesObject>(PLURAL_CLUSTER_POLICIES);
  const actions = custom<HealingAction & k8s.KubernetesObject>(PLURAL_ACTIONS);
  const pods = make<k8s.V1Pod>('pods', '/api/v1/pods', slimPod);
  const replicaSets = make<k8s.V1ReplicaSet>('replicasets', '/apis/apps/v1/replicasets', slimWorkload);
  const deployments = make<k8s.V1Deployment>('deployments', '/apis/apps/v1/deployments', slimWorkload);
  const statefulSets = make<k8s.V1StatefulSet>('statefulsets', '/apis/apps/v1/statefulsets', slimWorkload);
  const daemonSets = make<k8s.V1DaemonSet>('daemonsets', '/apis/apps/v1/daemonsets', slimWorkload);
  const namespaces = make<k8s.V1Namespace>('namespaces', '/api/v1/namespaces');
  // Events are read only through the collector's handlers: the cache keeps each one's identity, not the Event.
  const kubeEvents = make<k8s.CoreV1Event>('events', '/api/v1/events', slimEvent, eventIdentity);
  // One named object: the field selector keeps the watch (and the RBAC rule, by resourceNames) to it.
  const controlSelector = `metadata.name=${CONTROL_CONFIGMAP}`;
  const control = new Informer<k8s.V1ConfigMap>({
    name: 'control',
    source: createKubeListWatch<k8s.V1ConfigMap>(kc, {
      path: resourcePath({ version: 'v1', plural: 'configmaps', namespace: config.namespace }),
      fieldSelector: controlSelector,
      list: (s) => clients.core.listNamespacedConfigMap({ namespace: config.namespace, fieldSelector: controlSelector }, requestOptions(s)),
    }),
    clock,
    logger,
    onRestart: () => metrics.informerRestartsTotal.inc({ resource: 'control' }),
  });
  const scopeSelector = config.namespaceSelector ? parseLabelSelectorString(config.namespaceSelector) : undefined;
  const inScope = (namespace: string | undefined): boolean =>
    scopeSelector === undefined || matchesLabelSelector(scopeSelector, namespaces.get('', namespace ?? '')?.metadata?.labels);
  const namespaceLabels = (ns: string): Readonly<Record<string, string>> | undefined => {
    const n = namespaces.get('', ns);
    return n === undefined ? undefined : (n.metadata?.labels ?? {});
  };
  // A cluster policy's reach ends where this operator's does: objects of namespaces it does not serve — or, sharded,
  // whose shard this replica does not hold — are not seen.
  const ownership = { owns: (_namespace: string): boolean => true, operatorWide: (): boolean => true };
  const mine = (ns: string): boolean => inScope(ns) && ownership.owns(ns);
  const served = <T extends k8s.KubernetesObject>(inf: Informer<T>) => (ns: string): T[] => (mine(ns) ? inf.list(ns) : []);
  const inventory: Inventory = {
    namespaceLabels,
    namespaces: () => [...new Set([...pods.namespaces(), ...deployments.namespaces(), ...statefulSets.namespaces(), ...daemonSets.namespaces(), ...replicaSets.namespaces()])].filter(mine),
    pods: served(pods),
    deployments: served(deployments),
    statefulSets: served(statefulSets),
    daemonSets: served(daemonSets),
    replicaSets: served(replicaSets),
    version: (ns) =>
      `${mine(ns) ? 1 : 0}.${pods.namespaceVersion(ns)}.${replicaSets.namespaceVersion(ns)}.${deployments.namespaceVersion(ns)}.${statefulSets.namespaceVersion(ns)}.${daemonSets.namespaceVersion(ns)}.${namespaces.get('', ns)?.metadata?.resourceVersion ?? ''}`,
  };
  const intents = new IntentOrder();
  actions.addHandler({ onAdd: (a) => intents.observe(a), onUpdate: (a, old) => intents.observe(a, old), onDelete: (a) => intents.forget(a) });
  const leases = config.sharding.shards > 1 ? createLeaseWatch(b) : undefined;
  return {
    intents,
    ownership,
    ...(leases === undefined ? {} : { leases }),
    policies,
    clusterPolicies,
    actions,
    pods,
    replicaSets,
    deployments,
    statefulSets,
    daemonSets,
    namespaces,
    kubeEvents,
    control,
    controlState: () => readControl(control.get(config.namespace, CONTROL_CONFIGMAP)),
    inScope,
    directory: new PolicyDirectory({ policies, clusterPolicies, actions, namespaceLabels, inScope }),
    inventory: () => inventory,
    // The control informer must sync like the others: an operator that cannot tell whether it is paused must not act.
    all: () => [namespaces, policies, clusterPolicies, actions, pods, replicaSets, deployments, statefulSets, daemonSets, kubeEvents, control, ...(leases ? [leases.informer] : [])],
  };
}

/**
 * Sharding: a watch of the Leases in the operator's namespace (member and shard Leases), and when each version was
 * first seen on our clock — what the coordinator judges liveness and expiry by.
 */
function createLeaseWatch(b: Base): { informer: Informer<k8s.V1Lease>; view: LeaseView } {
  const { kc, clients, clock, logger, metrics, config } = b;
  const seen = new Map<string, { resourceVersion: string; at: number }>();
  const informer = new Informer<k8s.V1Lease>({
    name: 'leases',
    source: createKubeListWatch<k8s.V1Lease>(kc, {
      path: resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: config.namespace }),
      list: (s) => clients.coordination.listNamespacedLease({ namespace: config.namespace }, requestOptions(s)),
    }),
    clock,
    logger,
    transform: stripManagedFields,
    onRestart: () => metrics.informerRestartsTotal.inc({ resource: 'leases' }),
  });
  const note = (l: k8s.V1Lease): void => {
    const name = l.metadata?.name ?? '';
    const rv = l.metadata?.resourceVersion ?? '';
    if (seen.get(name)?.resourceVersion !== rv) seen.set(name, { resourceVersion: rv, at: clock.now() });
  };
  informer.addHandler({ onAdd: note, onUpdate: note, onDelete: (l) => seen.delete(l.metadata?.name ?? '') });
  const view: LeaseView = {
    list: () =>
      informer.list(config.namespace).map(
        (l): WatchedLease => ({
          name: l.metadata?.name ?? '',
          holderIdentity: l.spec?.holderIdentity,
          leaseDurationSeconds: l.spec?.leaseDurationSeconds,
          resourceVersion: l.metadata?.resourceVersion ?? '',
        }),
      ),
    observedAt: (name, rv) => {
      const s = seen.get(name);
      return s !== undefined && s.resourceVersion === rv ? s.at : undefined;
    },
  };
  return { informer, view };
}

/** The metric collectors, fed by the caches and polling metrics.k8s.io and Prometheus. */
interface Collectors {
  readonly kubeStatus: KubeStatusCollector;
  readonly eventCollector: EventCollector;
  readonly metricsServer: MetricsServerCollector;
  readonly prometheus: PrometheusCollector | undefined;
}

function createCollectors(b: Base, c: Caches, enqueuePoliciesFor: (change: ObservationChange) => void): Collectors {
  const { store, clock, logger, clients, config, metrics } = b;
  const queries = (): string[] => c.directory.all().flatMap((p) => HealingPolicyReconciler.queriesOf(p));
  // A poll changes many targets at once: one change per namespace and kind (no name, so no excludeNames applies).
  const enqueuePolled = (what: Pick<ObservationChange, 'metrics' | 'anyMetric'>) => (targets: readonly TargetRef[]): void => {
    const seen = new Map<string, TargetRef>();
    for (const t of targets) seen.set(`${t.kind}/${t.namespace}`, { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: '' });
    for (const target of seen.values()) enqueuePoliciesFor({ target, ...what });
  };
  const { pods, replicaSets, deployments, statefulSets, daemonSets } = c;
  return {
    kubeStatus: new KubeStatusCollector({ store, clock, logger, informers: { pods, replicaSets, deployments, statefulSets, daemonSets }, onChange: enqueuePoliciesFor }),
    eventCollector: new EventCollector({ store, clock, events: c.kubeEvents, pods, replicaSets, onChange: enqueuePoliciesFor }),
    metricsServer: new MetricsServerCollector({
      store,
      clock,
      logger,
      source: clients.metrics,
      pods,
      replicaSets,
      intervalMs: config.metricsServer.pollIntervalSeconds * 1000,
      wanted: () => config.metricsServer.enabled && queries().some((q) => (RESOURCE_METRICS as readonly string[]).includes(q)),
      // Only the namespaces of policies that read CPU or memory (a cluster policy's: those it reaches).
      namespaces: () => {
        const out = new Set<string>();
        const inv = c.inventory();
        for (const p of c.directory.all()) {
          if (!HealingPolicyReconciler.queriesOf(p).some((q) => (RESOURCE_METRICS as readonly string[]).includes(q))) continue;
          for (const ns of candidateNamespaces(p, inv)) out.add(ns);
        }
        return out;
      },
      // Only the resource metrics some policy reads are recorded (see MetricsServerCollectorDeps.metrics).
      metrics: () => new Set(queries().filter((q) => (RESOURCE_METRICS as readonly string[]).includes(q))),
      onPoll: enqueuePolled({ metrics: RESOURCE_METRICS }),
      onError: () => metrics.collectionErrorsTotal.inc({ source: 'metrics-server' }),
      onPolled: (cost) => {
        metrics.collectorPollDurationSeconds.observe({ source: 'metrics-server', phase: 'request' }, cost.requestMs / 1000);
        metrics.collectorPollDurationSeconds.observe({ source: 'metrics-server', phase: 'record' }, cost.recordMs / 1000);
        metrics.collectorPollObjects.set({ source: 'metrics-server', kind: 'items' }, cost.items);
        metrics.collectorPollObjects.set({ source: 'metrics-server', kind: 'requests' }, cost.requests);
      },
    }),
    prometheus: config.prometheus.url
      ? new PrometheusCollector({
          store,
          clock,
          logger,
          url: config.prometheus.url,
          timeoutMs: config.prometheus.timeoutSeconds * 1000,
          intervalMs: config.metricsServer.pollIntervalSeconds * 1000,
          queries: () => new Set(queries().filter((q) => !(BUILTIN_METRICS as readonly string[]).includes(q))),
          targetsFor: () => [],
          onPoll: enqueuePolled({ anyMetric: true }),
          onError: () => metrics.collectionErrorsTotal.inc({ source: 'prometheus' }),
        })
      : undefined,
  };
}

/** Reads a policy of either kind live from the API server (undefined when it does not exist). */
async function readPolicyLive(co: k8s.CustomObjectsApi, id: PolicyId): Promise<AnyPolicy | undefined> {
  try {
    const raw = (
      id.kind === 'ClusterHealingPolicy'
        ? await co.getClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL_CLUSTER_POLICIES, name: id.name })
        : await co.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: id.namespace, plural: PLURAL_POLICIES, name: id.name })
    ) as AnyPolicy;
    // Defaulted like the cached ones (the API server applies defaults on read, but validation normalises).
    return validatePolicy(raw).value ?? raw;
  } catch (e: unknown) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The LLM advisor when ai.provider is set (a second opinion on AI-decided firings), else undefined. */
function createAiAdvisor(b: Base, apiKey: string | undefined): Advisor | undefined {
  const { ai } = b.config;
  if (ai.provider === 'none' || ai.url === undefined || ai.model === undefined) return undefined;
  return createAdvisor({
    provider: ai.provider,
    url: ai.url,
    model: ai.model,
    timeoutMs: ai.timeoutSeconds * 1000,
    ...(apiKey === undefined ? {} : { apiKey }),
    clock: b.clock,
    logger: b.logger.child({ component: 'llm' }),
    metrics: b.metrics,
  });
}

function createPolicyReconciler(b: Base, c: Caches, collectors: Collectors, advisor: Advisor | undefined, mayAct: (namespace?: string) => boolean): HealingPolicyReconciler {
  const { config, clients } = b;
  const co = clients.customObjects;
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  return new HealingPolicyReconciler({
    clock: b.clock,
    logger: b.logger.child({ component: 'healing-policy' }),
    metrics: b.metrics,
    events: b.events,
    store: b.store,
    api: {
      createAction: async (namespace, action) => {
        await co.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL_ACTIONS, body: action });
      },
      patchPolicyStatus: async (id, status: HealingPolicyStatus | Record<string, unknown>) => {
        if (id.kind === 'ClusterHealingPolicy') {
          await co.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURAL_CLUSTER_POLICIES, name: id.name, body: { status } }, mergePatch);
        } else {
          await co.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: id.namespace, plural: PLURAL_POLICIES, name: id.name, body: { status } }, mergePatch);
        }
      },
    },
    settings: {
      forceDryRun: config.dryRun,
      // Read on every reconcile: the control switch changes while the operator runs (the Paused condition follows).
      get paused(): boolean {
        return safetySettings(config, c.controlState()).paused;
      },
      prometheusConfigured: config.prometheus.url !== undefined,
      escalationWindowMs: config.escalationWindowSeconds * 1000,
      maxRequeueMs: 30_000,
      // A quiet policy is re-evaluated when a result says it may change by time alone (a sample going stale, a
      // forecast entering its horizon) or its observations change; this is the safety net beyond that. At 5 000
      // pods the 30 s floor for every policy was most of a quiet minute's CPU (docs/scaling.md).
      quietRequeueMs: 300_000,
      // lastEvaluated is a heartbeat, not a decision: refreshed every 10 minutes when nothing else changed, so a quiet
      // operator with 100 policies writes 10 statuses a minute, not 100 (docs/benchmarks.md). Whether the operator
      // is alive is its Lease and /healthz.
      statusRefreshMs: 600_000,
      evaluationBudgetMs: config.policyEvaluationBudgetSeconds * 1000,
      ...(config.stormSuppression.maxFailingWorkloads > 0
        ? { storm: { maxWorkloads: config.stormSuppression.maxFailingWorkloads, windowMs: config.stormSuppression.windowSeconds * 1000 } }
        : {}),
    },
    getPolicy: (id) => c.directory.get(id),
    // Sharded, every replica evaluates a cluster policy over its own namespaces; the holder of shard 0 writes its status.
    writesStatus: (id) => id.kind !== 'ClusterHealingPolicy' || c.ownership.operatorWide(),
    listActions: (id) => c.directory.actionsOf(id),
    inventory: c.inventory,
    eventsSynced: () => c.kubeEvents.hasSynced(),
    prometheusErrors: () => collectors.prometheus?.queryErrors() ?? new Map(),
    metricsServerError: () => collectors.metricsServer.error,
    ...(advisor === undefined ? {} : { advisor }),
    mayAct,
  });
}

function createActionReconciler(b: Base, c: Caches, mayAct: (namespace?: string) => boolean): HealingActionReconciler {
  const { config, clients } = b;
  const co = clients.customObjects;
  // The pause switch is read live for every gate check, as the gate reads everything it decides on: a pause given a
  // moment ago stops the next action even if the informer has not delivered it yet. A failed read fails the check.
  const gate = new SafetyGate({
    clients,
    settings: async () => {
      let cm: k8s.V1ConfigMap | undefined;
      try {
        cm = await clients.core.readNamespacedConfigMap({ name: CONTROL_CONFIGMAP, namespace: config.namespace });
      } catch (e: unknown) {
        if (!isNotFound(e)) throw e;
      }
      return safetySettings(config, readControl(cm));
    },
    inScope: c.inScope,
    cache: { actions: () => c.actions.list(), waitFor: (rv, ms) => c.actions.waitForResourceVersion(rv, ms), intents: c.intents },
  });
  return new HealingActionReconciler({
    clock: b.clock,
    logger: b.logger.child({ component: 'healing-action' }),
    metrics: b.metrics,
    events: b.events,
    audit: b.audit,
    api: {
      readAction: async (namespace, name) => {
        try {
          return (await co.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL_ACTIONS, name })) as HealingAction;
        } catch (e: unknown) {
          if (isNotFound(e)) return undefined;
          throw e;
        }
      },
      writeStatus: async (namespace, name, resourceVersion, status: HealingActionStatus) =>
        (await co.patchNamespacedCustomObjectStatus(
          // The resourceVersion in a merge patch is a precondition: a stale writer gets 409 Conflict.
          { group: GROUP, version: VERSION, namespace, plural: PLURAL_ACTIONS, name, body: { metadata: { resourceVersion }, status } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        )) as HealingAction,
    },
    gate,
    executors: createDefaultRegistry({ core: clients.core, apps: clients.apps }),
    store: b.store,
    getPolicy: (id) => c.directory.get(id),
    readPolicy: (id) => readPolicyLive(co, id),
    settings: { approvalTtlMs: config.approvalTimeoutSeconds * 1000, callTimeoutMs: 30_000, stabilityMs: config.verificationStabilitySeconds * 1000 },
    notify: (n) => b.notifier.notify(n),
    mayAct,
  });
}

/**
 * The election: none, one leader Lease (sharding.shards 1), or the shard coordinator (docs/scaling.md), which tells
 * through `c.ownership` which namespaces this replica acts in and calls `onShardsChanged` as shards come and go.
 */
function createElection(
  b: Base,
  c: Caches,
  onShardsChanged: (change: { readonly acquired: readonly number[]; readonly lost: readonly number[] }) => void,
): { elector?: LeaderElector | ShardCoordinator; shards?: ShardCoordinator } {
  const { config, clients } = b;
  if (!config.leaderElection.enabled) return {};
  const le = config.leaderElection;
  if (config.sharding.shards > 1 && c.leases !== undefined) {
    const shards: ShardCoordinator = new ShardCoordinator({
      identity: b.identity,
      shards: config.sharding.shards,
      clock: b.clock,
      logger: b.logger,
      store: (name) => createLeaseStore(clients.coordination, config.namespace, name),
      leases: c.leases.view,
      leaseDurationMs: le.leaseDurationSeconds * 1000,
      renewDeadlineMs: le.renewDeadlineSeconds * 1000,
      retryPeriodMs: le.retryPeriodSeconds * 1000,
      onShardsChanged,
      gauges: { held: b.metrics.shardsHeld, members: b.metrics.shardMembers, leader: b.metrics.leader },
    });
    c.ownership.owns = (ns) => shards.holdsNamespace(ns);
    c.ownership.operatorWide = () => shards.holdsShard(0);
    // A member coming or going is seen at once, not at the next loop.
    c.leases.informer.addHandler({ onAdd: () => shards.poke(), onUpdate: (l, old) => (l.spec?.holderIdentity !== old.spec?.holderIdentity ? shards.poke() : undefined), onDelete: () => shards.poke() });
    return { elector: shards, shards };
  }
  return { elector: createElector(b) };
}

function createElector(b: Base): LeaderElector {
  const { config, clients } = b;
  return new LeaderElector({
    store: createLeaseStore(clients.coordination, config.namespace, config.leaderElection.leaseName),
    identity: b.identity,
    clock: b.clock,
    logger: b.logger,
    leaseDurationMs: config.leaderElection.leaseDurationSeconds * 1000,
    renewDeadlineMs: config.leaderElection.renewDeadlineSeconds * 1000,
    retryPeriodMs: config.leaderElection.retryPeriodSeconds * 1000,
    leaderGauge: b.metrics.leader,
  });
}

/** The leader's report of its effective settings on the control ConfigMap (see control/switch.ts). */
function createPublisher(b: Base, c: Caches, mayAct: () => boolean): ControlPublisher {
  const { config, clients } = b;
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  return createControlPublisher({
    logger: b.logger.child({ component: 'control' }),
    state: {
      identity: b.identity,
      version: PACKAGE_VERSION,
      since: isoTime(b.clock.now()),
      dryRun: config.dryRun,
      configPaused: config.paused,
      maxActionsPerHour: config.maxActionsPerHour,
      aiMaxActionsPerHour: config.aiMaxActionsPerHour,
      policyBreaker: { failureThreshold: config.circuitBreaker.failureThreshold, openSeconds: config.circuitBreaker.openSeconds },
      globalBreaker: {
        failureRate: config.globalCircuitBreaker.failureRate,
        minActions: config.globalCircuitBreaker.minActions,
        windowSeconds: config.globalCircuitBreaker.windowSeconds,
        openSeconds: config.circuitBreaker.openSeconds,
      },
      ...(config.namespaceSelector === undefined ? {} : { namespaceSelector: config.namespaceSelector }),
    },
    current: () => c.control.get(config.namespace, CONTROL_CONFIGMAP),
    patchAnnotation: async (value) => {
      if (!mayAct()) throw new FencedError('not reporting the operator state: this replica no longer holds the leader lease');
      await clients.core.patchNamespacedConfigMap(
        { name: CONTROL_CONFIGMAP, namespace: config.namespace, body: { metadata: { annotations: { [OPERATOR_STATE_ANNOTATION]: value } } } },
        mergePatch,
      );
    },
  });
}

/** Starts /healthz, /readyz and /metrics (one server, or two when their addresses differ). */
async function startServers(b: Base, manager: Manager): Promise<{ health?: HealthServer; metricsHttp?: HealthServer }> {
  const healthAddr = parseBindAddress(b.config.healthBindAddress);
  const metricsAddr = parseBindAddress(b.config.metricsBindAddress);
  const serve = (addr: { host: string; port: number }): Promise<HealthServer> =>
    startHealthServer({ host: addr.host, port: addr.port, logger: b.logger, readiness: () => manager.readiness(), registry: b.metrics.registry });
  const health = healthAddr ? await serve(healthAddr) : undefined;
  const separate = metricsAddr && (!healthAddr || metricsAddr.port !== healthAddr.port || metricsAddr.host !== healthAddr.host);
  const metricsHttp = separate ? await serve(metricsAddr) : undefined;
  return { ...(health ? { health } : {}), ...(metricsHttp ? { metricsHttp } : {}) };
}

/**
 * The analyzer's forecast line for a target's percent-of-limit metric (memory, CPU), drawn on the dashboard's
 * charts: the assessment of the last hour as of the latest sample, memoised, so an unchanged series costs nothing.
 * Other metrics have no limit to forecast against, and get no line.
 */
function analyzerForecast(store: SeriesStore): ForecastFor {
  const cache = createAssessmentCache(assessSeries, 2_000);
  return (target, metric) => {
    if (metric !== 'memory_usage_percent' && metric !== 'cpu_usage_percent') return undefined;
    const samples = store.observations(target, { metrics: [metric] }).series.get(metric) ?? [];
    const last = samples.at(-1);
    if (last === undefined || samples.length < 5) return undefined;
    const a = cache.assess(
      { samples: samples.filter((p) => p.at >= last.at - 3_600_000), kind: metric.startsWith('memory') ? 'memory' : 'cpu', limit: 100, now: last.at, unit: '%' },
      { horizonMs: 30 * 60_000, maxLookbackMs: 3_600_000 },
    );
    if (a.forecast.points.length === 0) return undefined;
    const eta = a.secondsToLimit === null ? 'no breach forecast' : `limit in ${Math.round(a.secondsToLimit / 60)} min`;
    return { label: `${a.pattern}, ${eta} (confidence ${a.confidence.toFixed(2)})`, points: a.forecast.points.map((p) => [p.at, p.value] as const) };
  };
}

/**
 * Starts the read-only web dashboard on dashboardBindAddress (undefined when it is 0), over the caches and store.
 * `forecastFor` draws the analyzer's forecast line on the charts.
 */
async function startDashboard(b: Base, c: Caches, elector: Pick<LeaderElector, 'isLeader' | 'leader'> | undefined, forecastFor: ForecastFor): Promise<DashboardServer | undefined> {
  const addr = parseBindAddress(b.config.dashboardBindAddress);
  if (!addr) return undefined;
  const source = new DashboardSource({
    clock: b.clock,
    version: OPERATOR_VERSION,
    settings: () => safetySettings(b.config),
    policies: () => c.directory.all(),
    actions: () => c.actions.list().filter((a) => c.inScope(a.metadata.namespace)),
    inventory: c.inventory,
    observe: (target, metrics) => b.store.observations(target, { metrics }),
    leader: () => ({ election: elector !== undefined, leading: elector?.isLeader() ?? true, identity: elector?.leader() }),
    synced: () => c.all().every((i) => i.hasSynced()),
    forecastFor,
    watch: (onChange) => {
      const offs = [c.policies, c.clusterPolicies, c.actions].map((i) => i.addHandler({ onAdd: onChange, onUpdate: onChange, onDelete: onChange }));
      return () => offs.forEach((off) => off());
    },
  });
  return startDashboardServer({ host: addr.host, port: addr.port, clock: b.clock, logger: b.logger, source });
}

/**
 * The gauges that describe the whole operator — policies by mode, circuit breakers — computed from the caches, so
 * they are true after a restart.
 */
function refreshGauges(b: Base, c: Caches, now: number): void {
  const { metrics } = b;
  metrics.policies.reset();
  const policies = c.directory.all();
  for (const p of policies) metrics.policies.inc({ mode: p.spec.mode ?? 'automatic' });
  const settings = safetySettings(b.config);
  const ledger = c.actions
    .list()
    .filter((a) => c.inScope(a.metadata.namespace))
    .map((a) => toLedgerEntry(a))
    .filter((e) => e !== undefined);
  metrics.circuitBreakerOpen.reset();
  metrics.circuitBreakerOpen.set({ scope: 'global' }, evaluateGlobalBreaker(ledger, settings.globalBreaker, now).state === 'open' ? 1 : 0);
  for (const p of policies) {
    const key = policyKeyOf(p);
    const state = evaluatePolicyBreaker(ledger, key, settings.policyBreaker, now).state;
    metrics.circuitBreakerOpen.set({ scope: `policy ${key}` }, state === 'open' ? 1 : 0);
  }
}

/** Builds and starts the operator. Rejects if informers cannot sync or a server cannot bind. */
export async function startOperator(rt: OperatorRuntime): Promise<RunningOperator> {
  const b = createBase(rt);
  const { config, clock, logger, metrics } = b;
  const stopEventLoopMonitor = startEventLoopMonitor(metrics.eventLoopDelaySeconds);
  const c = createCaches(b);
  // Sharded, what the single leader did for the whole operator — reporting its settings, a cluster policy's status —
  // is done by the holder of shard 0. The callback runs once the manager has started the controllers below.
  const { elector, shards } = createElection(b, c, ({ acquired }) => {
    if (acquired.length === 0) return;
    const taken = new Set(acquired);
    const ours = (ns: string | undefined): boolean => taken.has(shards?.shardOf(ns ?? '') ?? 0);
    // The namespaces of these shards were skipped until now: their policies and actions get reconciled here.
    for (const p of c.directory.all()) if (p.kind === 'ClusterHealingPolicy' || ours(p.metadata.namespace)) policyController.enqueue(policyKeyOf(p));
    for (const a of c.actions.list()) if (c.inScope(a.metadata.namespace) && ours(a.metadata.namespace)) actionController.enqueue(keyOf(a));
    if (taken.has(0)) publish();
  });
  // Fencing: with leader election, nothing starts, writes or executes unless this replica holds the Lease by the
  // clock (isLeader() turns false once the last renewal is older than the renew deadline, even if the election loop
  // has not run since — a process that was frozen wakes up fenced). Sharded, isLeader() is the member Lease, and a
  // write in a namespace also needs the Lease of that namespace's shard, by the same clock (c.ownership.owns).
  const mayAct = (namespace?: string): boolean => (elector?.isLeader() ?? true) && (namespace === undefined || c.ownership.owns(namespace));
  // At the wire, the Lease alone: which namespaces a shard serves is checked where the write is decided.
  if (elector !== undefined) b.fenceWrites(() => elector.isLeader());

  // The policy controller exists before the collectors so they can enqueue into it; its reconcile function refers
  // to the reconciler built below, which is only called once the manager starts the controller.
  const policyController: Controller = new Controller({
    name: 'healing-policy',
    // Sharded, a HealingPolicy is reconciled by the holder of its namespace's shard only; a cluster policy by every
    // replica, over the namespaces it holds (the inventory).
    reconcile: (key) => {
      const id = parsePolicyKey(key);
      return id.kind === 'HealingPolicy' && !c.ownership.owns(id.namespace) ? Promise.resolve({}) : policyReconciler.reconcile(key);
    },
    clock,
    logger,
    metrics,
    workers: config.concurrency.policyWorkers,
    listKeys: () => c.directory.all().map(policyKeyOf),
    resyncMs: config.resyncSeconds * 1000,
    guard: () => mayAct(),
  });
  // Only the policies that read what changed, and can select the target (interest.ts); not every policy of the
  // namespace on every pod update. A costly policy's change-driven passes are paced (pacing.ts).
  const interestOf = createInterestCache();
  const enqueuePoliciesFor = (change: ObservationChange): void => {
    for (const p of c.directory.covering(change.target.namespace)) {
      if (!concerns(interestOf(p), change)) continue;
      const key = policyKeyOf(p);
      const delayMs = policyReconciler.changeDelayMs(key);
      if (delayMs > 0) policyController.enqueueAfter(key, delayMs);
      else policyController.enqueue(key);
    }
  };
  const collectors = createCollectors(b, c, enqueuePoliciesFor);
  const policyReconciler = createPolicyReconciler(b, c, collectors, createAiAdvisor(b, rt.aiApiKey), mayAct);
  const actionReconciler = createActionReconciler(b, c, mayAct);
  const actionController = new Controller({
    name: 'healing-action',
    reconcile: (key, signal) => (c.ownership.owns(key.split('/')[0] ?? '') ? actionReconciler.reconcile(key, signal) : Promise.resolve({})),
    clock,
    logger,
    metrics,
    workers: config.concurrency.actionWorkers,
    listKeys: () => c.actions.list().filter((a) => c.inScope(a.metadata.namespace)).map(keyOf),
    resyncMs: config.resyncSeconds * 1000,
    guard: () => mayAct(),
  });

  const onPolicy = (p: AnyPolicy): void => {
    if (p.kind === 'ClusterHealingPolicy' || c.inScope(p.metadata.namespace)) policyController.enqueue(policyKeyOf(p));
  };
  c.policies.addHandler({ onAdd: onPolicy, onUpdate: onPolicy, onDelete: onPolicy });
  c.clusterPolicies.addHandler({ onAdd: onPolicy, onUpdate: onPolicy, onDelete: onPolicy });
  // A namespace's labels decide which cluster policies reach it: re-evaluate those when they change.
  c.namespaces.addHandler({ onUpdate: () => c.directory.clusterPolicies().forEach(onPolicy) });
  const onAction = (a: HealingAction, old?: HealingAction): void => {
    if (!c.inScope(a.metadata.namespace)) return;
    actionController.enqueue(keyOf(a));
    // The policy reads its ledger for in-flight actions, cooldowns, budgets and its status: a new action, a phase
    // change or an execution start matter to it; the other status writes of an action (safety verdicts, results,
    // conditions) do not.
    if (old === undefined || old.status?.phase !== a.status?.phase || old.status?.startTime !== a.status?.startTime) policyController.enqueue(actionPolicyKey(a));
  };
  c.actions.addHandler({ onAdd: (a) => onAction(a), onUpdate: onAction });
  collectors.kubeStatus.start();
  collectors.eventCollector.start();

  // The pause switch: every change re-evaluates the policies (their Paused condition) and is logged once.
  const publisher = createPublisher(b, c, () => mayAct());
  let wasPaused: boolean | undefined;
  const onControl = (): void => {
    const control = c.controlState();
    const paused = safetySettings(config, control).paused;
    metrics.paused.set(paused ? 1 : 0);
    if (paused !== wasPaused) {
      if (wasPaused !== undefined || paused) {
        logger.info({ paused, ...(control.paused ? { because: describePause(control) } : {}), configPaused: config.paused }, paused ? 'operator paused: no action runs' : 'operator resumed');
      }
      wasPaused = paused;
      for (const p of c.directory.all()) policyController.enqueue(policyKeyOf(p));
    }
    publish();
  };
  c.control.addHandler({ onAdd: onControl, onUpdate: onControl, onDelete: onControl });

  function publish(): void {
    if (shards === undefined || shards.holdsShard(0)) void publisher.sync();
  }
  const manager: Manager = new Manager({
    clock,
    logger,
    informers: c.all(),
    // The publisher is a controller so that only the leader reports its settings.
    controllers: [policyController, actionController, publisher],
    ...(elector ? { elector } : {}),
    closeables: [
      { name: 'collectors', close: async () => Promise.all([collectors.metricsServer.stop(), collectors.prometheus?.stop()]).then(() => undefined) },
      { name: 'events', close: () => b.events.flush() },
      { name: 'audit', close: () => b.audit.close() },
      // What is still queued gets a few seconds; notifications must not hold up a shutdown for long.
      { name: 'notifications', close: () => b.notifier.close(Math.min(5_000, config.shutdownTimeoutSeconds * 1000)) },
    ],
    cacheSyncTimeoutMs: config.cacheSyncTimeoutSeconds * 1000,
    shutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    ...(rt.signals ? { signals: rt.signals } : {}),
  });
  const { health, metricsHttp } = await startServers(b, manager);
  const dashboard = await startDashboard(b, c, elector, analyzerForecast(b.store));

  const gauges = (): void => refreshGauges(b, c, clock.now());
  c.policies.addHandler({ onAdd: gauges, onDelete: gauges });
  c.clusterPolicies.addHandler({ onAdd: gauges, onDelete: gauges });

  await manager.start();
  // Without leader election this replica is the one that acts: an alert on "no leader" must not fire for it.
  if (!elector) metrics.leader.set(1);
  gauges();
  onControl();
  // Each metric is kept as long as the policies reading it need (at least 15 min, seriesRetentionSeconds at most),
  // re-planned on every housekeeping tick, so a new policy's longer need holds from the next tick on.
  const planRetention = (): void => b.store.setRetention(retentionPlan(c.directory.all(), config.seriesRetentionSeconds * 1000));
  planRetention();
  // The caches are complete now: record every workload, whose pod-derived observations were held back until then.
  collectors.kubeStatus.recordAll();
  collectors.metricsServer.start();
  collectors.prometheus?.start();
  // Housekeeping every 30 s: pruning and the operator-wide gauges; every other tick, fresh samples for quiet pods —
  // 60 s keeps them well inside the evaluator's 120 s maxSampleAge, and re-recording 5 000 pods was a tenth of a
  // quiet minute's CPU (docs/scaling.md).
  let housekeepingTicks = 0;
  const housekeeping = new IntervalLoop({
    clock,
    intervalMs: 30_000,
    tickOnStart: false,
    tick: () => {
      if (housekeepingTicks++ % 2 === 1) collectors.kubeStatus.resample();
      planRetention();
      b.store.prune(clock.now());
      gauges();
      publish();
    },
    onError: (e) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'housekeeping failed'),
  });
  housekeeping.start();
  // After the manager: each step is timed, and one that takes a second or more is named in the log (a stopped
  // operator that does not exit is otherwise a mystery).
  const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    const started = performance.now();
    await fn().catch((e: unknown) => logger.warn({ step: name, err: e instanceof Error ? e.message : String(e) }, 'shutdown step failed'));
    const ms = Math.round(performance.now() - started);
    if (ms >= 1000) logger.info({ step: name, ms }, 'slow shutdown step');
  };
  const done = manager.done.then(async (exit) => {
    await step('housekeeping', () => housekeeping.stop());
    await Promise.all([
      step('metrics-server collector', () => collectors.metricsServer.stop()),
      step('prometheus collector', async () => collectors.prometheus?.stop()),
      step('health server', async () => health?.close()),
      step('metrics server', async () => metricsHttp?.close()),
      step('dashboard', async () => dashboard?.close()),
    ]);
    collectors.kubeStatus.stop();
    collectors.eventCollector.stop();
    stopEventLoopMonitor();
    await step('API connections', () => b.closeConnections());
    return exit;
  });
  logger.info({ health: health?.url, metrics: metricsHttp?.url ?? health?.url, dashboard: dashboard?.url, leaderElection: config.leaderElection.enabled }, 'operator started');
  return {
    manager,
    metrics,
    store: b.store,
    ...(health ? { health } : {}),
    ...(dashboard ? { dashboard: { url: dashboard.url } } : {}),
    done,
    stop: async () => {
      await manager.stop();
      await done;
    },
  };
}
