/**
 * The composition root: the only place that constructs concrete classes. `startOperator` builds the informers,
 * collectors, reconcilers, controllers, leader election and servers from one OperatorConfig, starts them through
 * the Manager, and returns a handle to stop or await it.
 */
import * as k8s from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { GROUP, VERSION, BUILTIN_METRICS } from './api/v1alpha1/common.js';
import { validateHealingPolicy } from './api/v1alpha1/validate.js';
import type { HealingAction, HealingActionStatus } from './api/v1alpha1/healing-action.js';
import type { HealingPolicy, HealingPolicyStatus } from './api/v1alpha1/healing-policy.js';
import type { OperatorConfig } from './config/operator-config.js';
import { parseBindAddress } from './config/operator-config.js';
import { HealingActionReconciler } from './controllers/healing-action/controller.js';
import { HealingPolicyReconciler } from './controllers/healing-policy/controller.js';
import { createKubeClients, requestOptions, type KubeClients } from './k8s/client.js';
import { isNotFound } from './k8s/errors.js';
import { countingKubeConfig } from './k8s/request-counter.js';
import { EventRecorder } from './k8s/event-recorder.js';
import { createKubeListWatch, Informer, resourcePath } from './k8s/informer.js';
import { EventCollector } from './metrics/collectors/events.js';
import { KubeStatusCollector } from './metrics/collectors/kube-status.js';
import { MetricsServerCollector, RESOURCE_METRICS } from './metrics/collectors/metrics-server.js';
import { PrometheusCollector } from './metrics/collectors/prometheus.js';
import { SeriesStore } from './metrics/series-store.js';
import type { TargetRef } from './metrics/types.js';
import { createAuditLog, disabledAuditLog, type AuditLog } from './observability/audit-log.js';
import { startHealthServer, type HealthServer } from './observability/health-server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type OperatorMetrics } from './observability/metrics.js';
import { startEventLoopMonitor } from './observability/event-loop-monitor.js';
import type { Clock } from './runtime/clock.js';
import { Controller } from './runtime/controller.js';
import { IntervalLoop } from './runtime/interval-loop.js';
import { createLeaseStore, LeaderElector } from './runtime/leader-election.js';
import { Manager, type ManagerExit, type SignalSource } from './runtime/manager.js';
import { createDefaultRegistry } from './remediation/registry.js';
import { SafetyGate } from './safety/gate.js';
import { matchesLabelSelector } from './safety/label-selector.js';
import { evaluateGlobalBreaker, evaluatePolicyBreaker } from './safety/circuit-breaker.js';
import { DEFAULT_OPERATOR_SAFETY, toLedgerEntry, type OperatorSafetySettings } from './safety/types.js';

/** A running operator. */
export interface RunningOperator {
  readonly manager: Manager;
  readonly metrics: OperatorMetrics;
  readonly store: SeriesStore;
  /** The health/metrics server, when enabled. */
  readonly health?: HealthServer;
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
}

const PLURAL_POLICIES = 'healingpolicies';
const PLURAL_ACTIONS = 'healingactions';

function informer<T extends k8s.KubernetesObject>(
  name: string,
  kc: k8s.KubeConfig,
  path: string,
  list: (signal: AbortSignal) => Promise<k8s.KubernetesListObject<T>>,
  clock: Clock,
  logger: Logger,
  metrics: OperatorMetrics,
): Informer<T> {
  return new Informer<T>({
    name,
    source: createKubeListWatch<T>(kc, { path, list }),
    clock,
    logger,
    onRestart: () => metrics.informerRestartsTotal.inc({ resource: name }),
  });
}

/** The safety settings the gate reads, from the operator config. */
export function safetySettings(config: OperatorConfig): OperatorSafetySettings {
  const selector = config.protectedLabelSelector ? parseLabelSelector(config.protectedLabelSelector) : undefined;
  return {
    ...DEFAULT_OPERATOR_SAFETY,
    paused: config.paused,
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

/** Parses "a=b,c=d" (equality terms only) into a label selector. */
export function parseLabelSelector(s: string): { matchLabels: Record<string, string> } {
  const matchLabels: Record<string, string> = {};
  for (const term of s.split(',').map((t) => t.trim()).filter(Boolean)) {
    const [k, v = ''] = term.split('=');
    if (k) matchLabels[k.trim()] = v.trim();
  }
  return { matchLabels };
}

function policiesCovering(policies: readonly HealingPolicy[], namespace: string): HealingPolicy[] {
  return policies.filter((p) => {
    const ns = p.spec.selector.namespaces && p.spec.selector.namespaces.length > 0 ? p.spec.selector.namespaces : [p.metadata.namespace ?? ''];
    return ns.includes('*') || ns.includes(namespace);
  });
}

function keyOf(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Builds and starts the operator. Rejects if informers cannot sync or a server cannot bind. */
export async function startOperator(rt: OperatorRuntime): Promise<RunningOperator> {
  const { config, clock, logger } = rt;
  const metrics = createMetrics();
  const stopEventLoopMonitor = startEventLoopMonitor(metrics.eventLoopDelaySeconds);
  // Every request the operator makes goes through this view of the caller's KubeConfig, and is counted.
  const kc = countingKubeConfig(rt.kubeConfig, (r) => metrics.apiRequestsTotal.inc({ verb: r.verb, group: r.group, resource: r.resource, subresource: r.subresource }));
  const clients: KubeClients = createKubeClients(kc);
  const store = new SeriesStore({ retentionMs: config.seriesRetentionSeconds * 1000 });
  const audit: AuditLog = config.auditLogPath ? createAuditLog({ clock, path: config.auditLogPath, logger }) : disabledAuditLog;
  const events = new EventRecorder({ core: clients.core, clock, logger, component: 'kubeskippy' });

  const co = clients.customObjects;
  const policies = informer<HealingPolicy & k8s.KubernetesObject>(
    PLURAL_POLICIES,
    kc,
    resourcePath({ group: GROUP, version: VERSION, plural: PLURAL_POLICIES }),
    async (signal) => (await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL_POLICIES }, requestOptions(signal))) as k8s.KubernetesListObject<HealingPolicy & k8s.KubernetesObject>,
    clock,
    logger,
    metrics,
  );
  const actions = informer<HealingAction & k8s.KubernetesObject>(
    PLURAL_ACTIONS,
    kc,
    resourcePath({ group: GROUP, version: VERSION, plural: PLURAL_ACTIONS }),
    async (signal) => (await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL_ACTIONS }, requestOptions(signal))) as k8s.KubernetesListObject<HealingAction & k8s.KubernetesObject>,
    clock,
    logger,
    metrics,
  );
  const pods = informer<k8s.V1Pod>('pods', kc, '/api/v1/pods', (s) => clients.core.listPodForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);
  const replicaSets = informer<k8s.V1ReplicaSet>('replicasets', kc, '/apis/apps/v1/replicasets', (s) => clients.apps.listReplicaSetForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);
  const deployments = informer<k8s.V1Deployment>('deployments', kc, '/apis/apps/v1/deployments', (s) => clients.apps.listDeploymentForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);
  const statefulSets = informer<k8s.V1StatefulSet>('statefulsets', kc, '/apis/apps/v1/statefulsets', (s) => clients.apps.listStatefulSetForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);
  const daemonSets = informer<k8s.V1DaemonSet>('daemonsets', kc, '/apis/apps/v1/daemonsets', (s) => clients.apps.listDaemonSetForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);
  const namespaces = informer<k8s.V1Namespace>('namespaces', kc, '/api/v1/namespaces', (s) => clients.core.listNamespace({}, requestOptions(s)), clock, logger, metrics);
  const scopeSelector = config.namespaceSelector ? parseLabelSelector(config.namespaceSelector) : undefined;
  /** Whether this operator serves policies and actions in `namespace` (config.namespaceSelector). */
  const inScope = (namespace: string | undefined): boolean =>
    scopeSelector === undefined || matchesLabelSelector(scopeSelector, namespaces.get('', namespace ?? '')?.metadata?.labels);
  const kubeEvents = informer<k8s.CoreV1Event>('events', kc, '/api/v1/events', (s) => clients.core.listEventForAllNamespaces({}, requestOptions(s)), clock, logger, metrics);

  const allPolicies = (): HealingPolicy[] => policies.list().filter((p) => inScope(p.metadata.namespace));
  const usesResourceMetrics = (): boolean =>
    allPolicies().some((p) => HealingPolicyReconciler.queriesOf(p).some((q) => (RESOURCE_METRICS as readonly string[]).includes(q)));
  const promQueries = (): Set<string> =>
    new Set(allPolicies().flatMap((p) => HealingPolicyReconciler.queriesOf(p)).filter((q) => !(BUILTIN_METRICS as readonly string[]).includes(q)));

  // The policy controller exists before the collectors so they can enqueue into it; its reconcile function refers
  // to the reconciler built below, which is only called once the manager starts the controller.
  const policyController: Controller = new Controller({
    name: 'healing-policy',
    reconcile: (key) => policyReconciler.reconcile(key),
    clock,
    logger,
    metrics,
    workers: config.concurrency.policyWorkers,
    listKeys: () => allPolicies().map(keyOf),
    resyncMs: config.resyncSeconds * 1000,
  });
  const enqueuePoliciesFor = (target: TargetRef): void => {
    for (const p of policiesCovering(allPolicies(), target.namespace)) policyController.enqueue(keyOf(p));
  };

  const kubeStatus = new KubeStatusCollector({ store, clock, logger, informers: { pods, replicaSets, deployments, statefulSets, daemonSets }, onChange: enqueuePoliciesFor });
  const eventCollector = new EventCollector({ store, clock, events: kubeEvents, pods, replicaSets, onChange: enqueuePoliciesFor });
  const metricsServer = new MetricsServerCollector({
    store,
    clock,
    logger,
    source: clients.metrics,
    pods,
    replicaSets,
    intervalMs: config.metricsServer.pollIntervalSeconds * 1000,
    wanted: () => config.metricsServer.enabled && usesResourceMetrics(),
    onPoll: (targets) => {
      const namespaces = new Set(targets.map((t) => t.namespace));
      for (const ns of namespaces) enqueuePoliciesFor({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: '' });
    },
    onError: () => metrics.collectionErrorsTotal.inc({ source: 'metrics-server' }),
  });
  const prometheus = config.prometheus.url
    ? new PrometheusCollector({
        store,
        clock,
        logger,
        url: config.prometheus.url,
        timeoutMs: config.prometheus.timeoutSeconds * 1000,
        intervalMs: config.metricsServer.pollIntervalSeconds * 1000,
        queries: promQueries,
        targetsFor: () => [],
        onPoll: (targets) => {
          for (const ns of new Set(targets.map((t) => t.namespace))) enqueuePoliciesFor({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: '' });
        },
        onError: () => metrics.collectionErrorsTotal.inc({ source: 'prometheus' }),
      })
    : undefined;

  const policyReconciler = new HealingPolicyReconciler({
    clock,
    logger: logger.child({ component: 'healing-policy' }),
    metrics,
    events,
    store,
    api: {
      createAction: async (namespace, action) => {
        await co.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL_ACTIONS, body: action });
      },
      patchPolicyStatus: async (namespace, name, status: HealingPolicyStatus | Record<string, unknown>) => {
        await co.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace, plural: PLURAL_POLICIES, name, body: { status } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
      },
    },
    settings: {
      forceDryRun: config.dryRun,
      paused: config.paused,
      prometheusConfigured: config.prometheus.url !== undefined,
      escalationWindowMs: config.escalationWindowSeconds * 1000,
      maxRequeueMs: 30_000,
      statusRefreshMs: 60_000,
      evaluationBudgetMs: config.policyEvaluationBudgetSeconds * 1000,
    },
    getPolicy: (ns, name) => policies.get(ns, name),
    listActions: (ns) => actions.list(ns),
    inventory: () => ({ pods: pods.list(), deployments: deployments.list(), statefulSets: statefulSets.list(), daemonSets: daemonSets.list(), replicaSets: replicaSets.list() }),
    eventsSynced: () => kubeEvents.hasSynced(),
    prometheusErrors: () => prometheus?.queryErrors() ?? new Map(),
    metricsServerError: () => metricsServer.error,
  });

  const gate = new SafetyGate({ clients, settings: () => safetySettings(config), inScope });
  const actionReconciler = new HealingActionReconciler({
    clock,
    logger: logger.child({ component: 'healing-action' }),
    metrics,
    events,
    audit,
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
    store,
    getPolicy: (ns, name) => policies.get(ns, name),
    readPolicy: async (namespace, name) => {
      try {
        const raw = (await co.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL_POLICIES, name })) as HealingPolicy;
        // Defaulted like the cached ones (the API server applies defaults on read, but validation normalises).
        return validateHealingPolicy(raw).value ?? raw;
      } catch (e: unknown) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    settings: { approvalTtlMs: config.approvalTimeoutSeconds * 1000, callTimeoutMs: 30_000, stabilityMs: config.verificationStabilitySeconds * 1000 },
  });

  const actionController = new Controller({
    name: 'healing-action',
    reconcile: (key, signal) => actionReconciler.reconcile(key, signal),
    clock,
    logger,
    metrics,
    workers: config.concurrency.actionWorkers,
    listKeys: () => actions.list().filter((a) => inScope(a.metadata.namespace)).map(keyOf),
    resyncMs: config.resyncSeconds * 1000,
  });
  const pc = policyController;
  const onPolicy = (p: HealingPolicy): void => {
    if (inScope(p.metadata.namespace)) pc.enqueue(keyOf(p));
  };
  policies.addHandler({ onAdd: onPolicy, onUpdate: onPolicy, onDelete: onPolicy });
  const onAction = (a: HealingAction): void => {
    if (!inScope(a.metadata.namespace)) return;
    actionController.enqueue(keyOf(a));
    pc.enqueue(`${a.spec.policyRef.namespace ?? a.metadata.namespace ?? ''}/${a.spec.policyRef.name}`);
  };
  actions.addHandler({ onAdd: onAction, onUpdate: onAction });
  kubeStatus.start();
  eventCollector.start();

  const elector = config.leaderElection.enabled
    ? new LeaderElector({
        store: createLeaseStore(clients.coordination, config.namespace, config.leaderElection.leaseName),
        identity: config.leaderElection.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`,
        clock,
        logger,
        leaseDurationMs: config.leaderElection.leaseDurationSeconds * 1000,
        renewDeadlineMs: config.leaderElection.renewDeadlineSeconds * 1000,
        retryPeriodMs: config.leaderElection.retryPeriodSeconds * 1000,
        leaderGauge: metrics.leader,
      })
    : undefined;

  const manager: Manager = new Manager({
    clock,
    logger,
    informers: [namespaces, policies, actions, pods, replicaSets, deployments, statefulSets, daemonSets, kubeEvents],
    controllers: [policyController, actionController],
    ...(elector ? { elector } : {}),
    closeables: [
      { name: 'collectors', close: async () => Promise.all([metricsServer.stop(), prometheus?.stop()]).then(() => undefined) },
      { name: 'events', close: () => events.flush() },
      { name: 'audit', close: () => audit.close() },
    ],
    cacheSyncTimeoutMs: config.cacheSyncTimeoutSeconds * 1000,
    shutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000,
    ...(rt.signals ? { signals: rt.signals } : {}),
  });

  const healthAddr = parseBindAddress(config.healthBindAddress);
  const metricsAddr = parseBindAddress(config.metricsBindAddress);
  let health: HealthServer | undefined;
  if (healthAddr) health = await startHealthServer({ host: healthAddr.host, port: healthAddr.port, logger, readiness: () => manager.readiness(), registry: metrics.registry });
  let metricsServerHttp: HealthServer | undefined;
  if (metricsAddr && (!healthAddr || metricsAddr.port !== healthAddr.port || metricsAddr.host !== healthAddr.host)) {
    metricsServerHttp = await startHealthServer({ host: metricsAddr.host, port: metricsAddr.port, logger, readiness: () => manager.readiness(), registry: metrics.registry });
  }

  const refreshGauges = (now: number): void => {
    metrics.policies.reset();
    for (const p of allPolicies()) metrics.policies.inc({ mode: p.spec.mode ?? 'automatic' });
    const settings = safetySettings(config);
    const ledger = actions
      .list()
      .filter((a) => inScope(a.metadata.namespace))
      .map((a) => toLedgerEntry(a))
      .filter((e) => e !== undefined);
    metrics.circuitBreakerOpen.reset();
    metrics.circuitBreakerOpen.set({ scope: 'global' }, evaluateGlobalBreaker(ledger, settings.globalBreaker, now).state === 'open' ? 1 : 0);
    for (const p of allPolicies()) {
      const key = keyOf(p);
      const state = evaluatePolicyBreaker(ledger, key, settings.policyBreaker, now).state;
      metrics.circuitBreakerOpen.set({ scope: `policy ${key}` }, state === 'open' ? 1 : 0);
    }
  };
  policies.addHandler({ onAdd: () => refreshGauges(clock.now()), onDelete: () => refreshGauges(clock.now()) });

  await manager.start();
  refreshGauges(clock.now());
  // The caches are complete now: record every workload, whose pod-derived observations were held back until then.
  kubeStatus.recordAll();
  metricsServer.start();
  prometheus?.start();
  // Housekeeping every 30 s: fresh samples for quiet pods, pruning, and the gauges that describe the whole
  // operator (policies by mode, circuit breakers) — computed from the caches, so they are true after a restart.
  const housekeeping = new IntervalLoop({
    clock,
    intervalMs: 30_000,
    tickOnStart: false,
    tick: () => {
      const now = clock.now();
      kubeStatus.resample();
      store.prune(now);
      refreshGauges(now);
    },
    onError: (e) => logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'housekeeping failed'),
  });
  housekeeping.start();
  const done = manager.done.then(async (exit) => {
    await housekeeping.stop();
    await Promise.all([metricsServer.stop(), prometheus?.stop(), health?.close(), metricsServerHttp?.close()]);
    kubeStatus.stop();
    eventCollector.stop();
    stopEventLoopMonitor();
    return exit;
  });
  logger.info({ health: health?.url, metrics: metricsServerHttp?.url ?? health?.url, leaderElection: config.leaderElection.enabled }, 'operator started');
  return {
    manager,
    metrics,
    store,
    ...(health ? { health } : {}),
    done,
    stop: async () => {
      await manager.stop();
      await done;
    },
  };
}
