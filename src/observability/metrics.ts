/**
 * Every Prometheus metric the operator exports, defined in one place with its help text and labels, on a registry
 * of its own (never prom-client's global default registry, so tests and several operators in one process never
 * collide). Components receive the typed handles they need; dashboards and alerts may only use names listed here.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prefix of every operator metric. */
export const METRIC_PREFIX = 'kubeskippy_';

/** The operator's metric handles, plus the registry that serves them. */
export interface OperatorMetrics {
  readonly registry: Registry;
  /** HealingActions by the phase they reached; `source` is rule|ai. */
  readonly actionsTotal: Counter<'policy' | 'namespace' | 'type' | 'phase' | 'source'>;
  /**
   * HealingActions that ended, counted once at their terminal phase: `kind` predictive (a predictive trigger fired)
   * or reactive, `result` succeeded|failed|blocked|cancelled. Dry runs are not counted (they heal nothing).
   */
  readonly healingsTotal: Counter<'policy' | 'namespace' | 'source' | 'kind' | 'result'>;
  /**
   * Predictive actions verified healthy with no failure (OOM kill, crash loop, restart) observed on the target
   * before they executed: failures prevented rather than repaired.
   */
  readonly preventedFailuresTotal: Counter<'policy' | 'namespace'>;
  /** Time from the trigger firing (spec.trigger.firedAt) to the action's verified success. */
  readonly timeToHealSeconds: Histogram<'policy' | 'namespace' | 'source'>;
  /** Actions the safety gate refused, by reason (RateLimited, Cooldown, Protected, …). */
  readonly safetyDenialsTotal: Counter<'policy' | 'namespace' | 'reason'>;
  /** Triggers that fired on a target. */
  /** Targets whose firings were held because their namespace was in a storm (once per target and storm). */
  readonly stormHeldFiringsTotal: Counter<'policy' | 'namespace'>;
  readonly triggerFiringsTotal: Counter<'policy' | 'namespace' | 'trigger' | 'type'>;
  /** Time from the first observation of a breach to the trigger firing. */
  readonly detectionLatencySeconds: Histogram;
  /** Time from executing an action to its verification verdict. */
  readonly verificationDurationSeconds: Histogram<'type' | 'result'>;
  /** Wall time of one reconcile call. */
  readonly reconcileDurationSeconds: Histogram<'controller'>;
  /** Reconcile calls that threw. */
  readonly reconcileErrorsTotal: Counter<'controller'>;
  /** Keys waiting in a controller's work queue. */
  readonly workqueueDepth: Gauge<'controller'>;
  /**
   * 1 while this replica is the one that acts (holds the leader Lease — sharded: shard 0's Lease — or runs without
   * leader election), else 0.
   */
  readonly leader: Gauge;
  /** Shards this replica holds (sharding.shards > 1; 0 otherwise). */
  readonly shardsHeld: Gauge;
  /** Live members (replicas) this replica sees (sharding.shards > 1; 0 otherwise). */
  readonly shardMembers: Gauge;
  /** 1 while the operator is paused (its config's paused flag, or the control switch of `kubeskippy pause`), else 0. */
  readonly paused: Gauge;
  /** Notifications by sink and result: sent, failed (gave up after retries, or refused), dropped (queue full). */
  readonly notificationsTotal: Counter<'sink' | 'result'>;
  /** Informer restarts (after errors, staleness or by request). */
  readonly informerRestartsTotal: Counter<'resource'>;
  /** Reads of a quiet collection's current resourceVersion (a list of one object), by resource. */
  readonly informerProgressProbesTotal: Counter<'resource'>;
  /** HealingPolicies by mode. */
  readonly policies: Gauge<'mode'>;
  /** 1 while a circuit breaker is open, by scope (`global`, or a policy/workload). */
  readonly circuitBreakerOpen: Gauge<'scope'>;
  /** Failed metric collections by source (metrics-server, prometheus, kube). */
  readonly collectionErrorsTotal: Counter<'source'>;
  /**
   * Wall time of one poll of a periodic collector (metrics.k8s.io), by source and phase: `request` (the API calls,
   * response parsing included) and `record` (converting and recording the samples).
   */
  readonly collectorPollDurationSeconds: Histogram<'source' | 'phase'>;
  /** Objects (pod metrics) the last poll of a periodic collector returned, and the requests it took. */
  readonly collectorPollObjects: Gauge<'source' | 'kind'>;
  /**
   * Requests the operator sent to the Kubernetes API, named as the API server's audit log names them: `verb`
   * get|list|watch|create|update|patch|delete|deletecollection, `group` ('' = core), `resource` (the plural),
   * `subresource` ('' or status, eviction, scale…). Counted when sent, whatever the response; a watch counts once
   * per connection. Non-resource requests (discovery) have resource ''.
   */
  readonly apiRequestsTotal: Counter<'verb' | 'group' | 'resource' | 'subresource'>;
  /** Policy evaluations abandoned for running over the evaluation budget (the policy is then skipped a while). */
  readonly policyEvaluationOverrunsTotal: Counter<'policy' | 'namespace'>;
  /** The analyzer's recommendations for firings it decided, by the action type chosen (or `none`). */
  readonly aiRecommendationsTotal: Counter<'policy' | 'namespace' | 'outcome'>;
  /** Confidence of the AI-originated HealingActions created. */
  readonly aiConfidence: Histogram;
  /**
   * Recommendations asked of the optional LLM (src/ai), by provider and result: `ok`, or `fallback-<code>` when
   * the built-in analyzer decided instead (codes in src/ai/errors.ts; Busy and CircuitOpen count requests not sent).
   */
  readonly llmRequestsTotal: Counter<'provider' | 'result'>;
  /** Wall time of the LLM requests actually sent, retries and answer checks included. */
  readonly llmRequestDurationSeconds: Histogram<'provider'>;
  /** How late the event loop ran a timer: every stall of the operator's single thread shows here. */
  readonly eventLoopDelaySeconds: Histogram;
}

/** Options of createMetrics. */
export interface MetricsOptions {
  /** Also register Node process metrics (CPU, memory, event loop lag) on the same registry; default false. */
  readonly processMetrics?: boolean;
}

/**
 * Creates and registers every operator metric on `registry` (default: a new Registry, never prom-client's global
 * one). Throws if the registry already holds a metric of the same name (so call it once per registry).
 */
export function createMetrics(registry: Registry = new Registry(), options: MetricsOptions = {}): OperatorMetrics {
  const registers = [registry];
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry });
  const seconds = (name: string, help: string, buckets: number[]): { name: string; help: string; buckets: number[]; registers: Registry[] } => ({
    name: `${METRIC_PREFIX}${name}`,
    help,
    buckets,
    registers,
  });
  return {
    registry,
    actionsTotal: new Counter({
      name: `${METRIC_PREFIX}actions_total`,
      help: 'HealingActions by policy, namespace, action type, phase reached and source (rule or ai).',
      labelNames: ['policy', 'namespace', 'type', 'phase', 'source'] as const,
      registers,
    }),
    healingsTotal: new Counter({
      name: `${METRIC_PREFIX}healings_total`,
      help: 'HealingActions that ended, by policy, namespace, source (rule or ai), kind (predictive or reactive) and result (succeeded, failed, blocked, cancelled); dry runs are not counted.',
      labelNames: ['policy', 'namespace', 'source', 'kind', 'result'] as const,
      registers,
    }),
    preventedFailuresTotal: new Counter({
      name: `${METRIC_PREFIX}prevented_failures_total`,
      help: 'Predictive actions verified healthy with no OOM kill, crash loop or restart observed on the target before they executed, by policy and namespace.',
      labelNames: ['policy', 'namespace'] as const,
      registers,
    }),
    timeToHealSeconds: new Histogram({
      ...seconds('time_to_heal_seconds', 'Seconds from the trigger firing to the verified success of the action it caused, by policy, namespace and source.', [
        5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600,
      ]),
      labelNames: ['policy', 'namespace', 'source'] as const,
    }),
    safetyDenialsTotal: new Counter({
      name: `${METRIC_PREFIX}safety_denials_total`,
      help: 'Actions refused by the safety gate, by reason (RateLimited, Cooldown, Protected, BudgetExhausted, PDB, CircuitOpen, Paused).',
      labelNames: ['policy', 'namespace', 'reason'] as const,
      registers,
    }),
    stormHeldFiringsTotal: new Counter({
      name: `${METRIC_PREFIX}storm_held_firings_total`,
      help: 'Targets whose firings were held, not turned into HealingActions, because their namespace was in a storm (stormSuppression); each target counted once per storm.',
      labelNames: ['policy', 'namespace'] as const,
      registers,
    }),
    triggerFiringsTotal: new Counter({
      name: `${METRIC_PREFIX}trigger_firings_total`,
      help: 'Trigger firings on a target, by policy, namespace, trigger name and trigger type.',
      labelNames: ['policy', 'namespace', 'trigger', 'type'] as const,
      registers,
    }),
    detectionLatencySeconds: new Histogram(
      seconds('detection_latency_seconds', 'Seconds from the first observation of a breach to the trigger firing.', [1, 5, 15, 30, 60, 120, 300, 600, 1800]),
    ),
    verificationDurationSeconds: new Histogram({
      ...seconds('verification_duration_seconds', 'Seconds from executing an action to its verification verdict, by action type and result.', [
        1, 5, 15, 30, 60, 120, 300, 600,
      ]),
      labelNames: ['type', 'result'] as const,
    }),
    reconcileDurationSeconds: new Histogram({
      ...seconds('reconcile_duration_seconds', 'Seconds spent in one reconcile call, by controller.', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
      labelNames: ['controller'] as const,
    }),
    reconcileErrorsTotal: new Counter({
      name: `${METRIC_PREFIX}reconcile_errors_total`,
      help: 'Reconcile calls that failed (and were retried with back-off), by controller.',
      labelNames: ['controller'] as const,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: `${METRIC_PREFIX}workqueue_depth`,
      help: 'Keys waiting in the work queue, by controller.',
      labelNames: ['controller'] as const,
      registers,
    }),
    leader: new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: '1 while this replica is the one that acts (holds the leader Lease, or runs without leader election), else 0.',
      registers,
    }),
    shardsHeld: new Gauge({
      name: `${METRIC_PREFIX}shards_held`,
      help: 'Shards (groups of namespaces, sharding.shards) this replica holds the Lease of; 0 without sharding.',
      registers,
    }),
    shardMembers: new Gauge({
      name: `${METRIC_PREFIX}shard_members`,
      help: 'Replicas this replica sees as live members (member Leases renewed within their duration); 0 without sharding.',
      registers,
    }),
    paused: new Gauge({
      name: `${METRIC_PREFIX}paused`,
      help: '1 while the operator is paused (config flag or the kubeskippy-control switch), else 0.',
      registers,
    }),
    notificationsTotal: new Counter({
      name: `${METRIC_PREFIX}notifications_total`,
      help: 'Notifications to the configured sinks, by sink name and result (sent, failed, dropped).',
      labelNames: ['sink', 'result'],
      registers,
    }),
    informerRestartsTotal: new Counter({
      name: `${METRIC_PREFIX}informer_restarts_total`,
      help: 'Informer restarts after errors, staleness or by request, by resource.',
      labelNames: ['resource'] as const,
      registers,
    }),
    informerProgressProbesTotal: new Counter({
      name: `${METRIC_PREFIX}informer_progress_probes_total`,
      help: 'Reads of a quiet collection\'s current resourceVersion (a list of one object) that keep a quiet watch from meeting a compacted version, by resource.',
      labelNames: ['resource'] as const,
      registers,
    }),
    policies: new Gauge({
      name: `${METRIC_PREFIX}policies`,
      help: 'HealingPolicies by mode (monitor, dryrun, automatic, manual).',
      labelNames: ['mode'] as const,
      registers,
    }),
    circuitBreakerOpen: new Gauge({
      name: `${METRIC_PREFIX}circuit_breaker_open`,
      help: '1 while the circuit breaker of this scope is open (actions refused), else 0.',
      labelNames: ['scope'] as const,
      registers,
    }),
    collectionErrorsTotal: new Counter({
      name: `${METRIC_PREFIX}collection_errors_total`,
      help: 'Failed metric collections by source (kube, metrics-server, prometheus).',
      labelNames: ['source'] as const,
      registers,
    }),
    collectorPollDurationSeconds: new Histogram({
      ...seconds('collector_poll_duration_seconds', 'Seconds one poll of a periodic collector took, by source (metrics-server) and phase (request: API calls and parsing; record: converting and recording samples).', [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
      ]),
      labelNames: ['source', 'phase'] as const,
    }),
    collectorPollObjects: new Gauge({
      name: `${METRIC_PREFIX}collector_poll_objects`,
      help: 'What the last poll of a periodic collector fetched, by source and kind: items (pod metrics returned), requests (API calls it took).',
      labelNames: ['source', 'kind'] as const,
      registers,
    }),
    apiRequestsTotal: new Counter({
      name: `${METRIC_PREFIX}api_requests_total`,
      help: 'Requests sent to the Kubernetes API, by audit verb (get, list, watch, create, update, patch, delete), API group, resource plural and subresource; a watch counts once per connection.',
      labelNames: ['verb', 'group', 'resource', 'subresource'] as const,
      registers,
    }),
    policyEvaluationOverrunsTotal: new Counter({
      name: `${METRIC_PREFIX}policy_evaluation_overruns_total`,
      help: 'Policy evaluations abandoned for running over the evaluation budget, by policy and namespace.',
      labelNames: ['policy', 'namespace'] as const,
      registers,
    }),
    aiRecommendationsTotal: new Counter({
      name: `${METRIC_PREFIX}ai_recommendations_total`,
      help: 'Recommendations of the built-in analyzer for the firings it decided, by policy, namespace and outcome (the action type chosen, or none).',
      labelNames: ['policy', 'namespace', 'outcome'] as const,
      registers,
    }),
    aiConfidence: new Histogram({
      name: `${METRIC_PREFIX}ai_confidence`,
      help: 'Confidence (0-1) of the AI-originated HealingActions created.',
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1],
      registers,
    }),
    llmRequestsTotal: new Counter({
      name: `${METRIC_PREFIX}llm_requests_total`,
      help: 'Recommendations asked of the optional LLM, by provider and result: ok, or fallback-<code> (MalformedAnswer, SchemaViolation, ActionNotAllowed, TargetNotAllowed, Timeout, NetworkError, HttpError, Unauthorized, BadResponse, CircuitOpen, Busy, Internal) when the built-in analyzer decided instead.',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
    llmRequestDurationSeconds: new Histogram({
      ...seconds('llm_request_duration_seconds', 'Seconds one LLM recommendation took (requests actually sent; retries included), by provider.', [
        0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60,
      ]),
      labelNames: ['provider'] as const,
    }),
    eventLoopDelaySeconds: new Histogram(
      seconds('event_loop_delay_seconds', 'How late the event loop ran a 20 ms timer, in seconds: stalls of the operator thread.', [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
      ]),
    ),
  };
}
