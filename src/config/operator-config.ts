/**
 * The operator's configuration: one TypeBox schema that gives the TypeScript type, the defaults and the validation
 * (ajv), plus the table of every setting's environment variable and command-line flag, derived from the schema so
 * the three can never disagree. Loading and precedence live in load.ts.
 *
 * Naming (derived, documented in CONFIG_SETTINGS):
 *   path `leaderElection.leaseDurationSeconds`
 *   env  `KUBESKIPPY_LEADER_ELECTION_LEASE_DURATION_SECONDS`  (KUBESKIPPY_ + each path segment in SCREAMING_SNAKE, joined by _)
 *   flag `--leader-election-lease-duration-seconds`           (each segment in kebab-case, joined by -)
 * e.g. KUBESKIPPY_DRY_RUN, KUBESKIPPY_PAUSED, KUBESKIPPY_PROMETHEUS_URL, KUBESKIPPY_AI_PROVIDER, KUBESKIPPY_LOG_LEVEL.
 * Lists (protectedNamespaces) are comma-separated in env and flags.
 */
import { Type, type Static, type TObject, type TProperties, type TString } from '@sinclair/typebox';
import { DnsLabel, ObjectName, StringEnum } from '../api/v1alpha1/schema-kit.js';
import { LOG_LEVELS } from '../observability/logger.js';
import { parseLabelSelectorString } from '../safety/label-selector.js';

/** host:port to listen on (`:8080` = every interface, `[::1]:8080` for IPv6), or `0` to disable. */
export const BIND_ADDRESS_PATTERN = '^(0|(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5})$';

function BindAddressField(defaultValue: string, description: string): TString {
  return Type.String({ pattern: BIND_ADDRESS_PATTERN, default: defaultValue, description });
}

/** A nested settings object: unknown keys are errors, and a missing object is filled with its defaults. */
function Section<P extends TProperties>(properties: P, description: string): TObject<P> {
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}

const HttpUrl = (description: string): TString => Type.String({ pattern: '^https?://[^\\s]+$', description });

/** The action life-cycle events a notification sink can ask for. */
export const NOTIFICATION_EVENTS = ['created', 'waiting-approval', 'succeeded', 'failed', 'blocked'] as const;
/** One of {@link NOTIFICATION_EVENTS}. */
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Environment variable names, as the config names them (never their values). */
const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const NotificationSinkSchema = Type.Object(
  {
    name: DnsLabel({ description: 'names the sink in logs and in kubeskippy_notifications_total{sink}' }),
    kind: StringEnum(['webhook', 'slack'] as const, {
      default: 'webhook',
      description: 'webhook: POST the event as JSON; slack: POST {"text": …} to a Slack-compatible incoming webhook',
    }),
    url: Type.Optional(HttpUrl('where to POST; treated as a secret (never logged): Slack webhook URLs carry their token')),
    urlFromEnv: Type.Optional(
      Type.String({ pattern: ENV_NAME_PATTERN, description: 'NAME of the environment variable holding the URL instead (keeps a Slack token out of the config)' }),
    ),
    events: Type.Array(StringEnum(NOTIFICATION_EVENTS), {
      minItems: 1,
      uniqueItems: true,
      default: [...NOTIFICATION_EVENTS],
      description: `which action events to send: ${NOTIFICATION_EVENTS.join(', ')}`,
    }),
    headersFromEnv: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), Type.String({ pattern: ENV_NAME_PATTERN }), {
        description: 'HTTP headers whose values come from environment variables, header name → variable NAME (e.g. Authorization: SLACK_TOKEN); values are never logged',
      }),
    ),
  },
  { additionalProperties: false },
);


/** The OperatorConfig schema (with defaults). */
export const OperatorConfigSchema = Type.Object(
  {
    kubeconfig: Type.Optional(Type.String({ minLength: 1, description: 'kubeconfig file; default: $KUBECONFIG, in-cluster, ~/.kube/config' })),
    namespace: DnsLabel({ default: 'kubeskippy-system', description: 'namespace of the operator (where its Lease lives)' }),
    leaderElection: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'campaign for a Lease so only one replica acts' }),
        leaseName: ObjectName({ default: 'kubeskippy-leader', description: 'name of the Lease' }),
        identity: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'this replica\'s identity; default: hostname + random suffix' })),
        leaseDurationSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 15, description: 'how long a lease is valid after renewal' }),
        renewDeadlineSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 10, description: 'leader steps down if it cannot renew for this long' }),
        retryPeriodSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 2, description: 'interval between acquire/renew attempts' }),
      },
      'leader election',
    ),
    sharding: Section(
      {
        shards: Type.Integer({
          minimum: 1,
          maximum: 256,
          default: 1,
          description:
            'split namespaces into this many shards, each held by one replica through a Lease of its own (kubeskippy-shard-<n>), so that several replicas share the work; 1: one leader Lease for everything (leaderElection.leaseName). Needs leader election',
        }),
      },
      'sharding of namespaces across replicas (docs/scaling.md)',
    ),
    metricsBindAddress: BindAddressField('127.0.0.1:8080', 'address of /metrics (and /healthz, /readyz if healthBindAddress is the same); 0 disables'),
    healthBindAddress: BindAddressField('127.0.0.1:8082', 'address of /healthz and /readyz; 0 disables'),
    dashboardBindAddress: BindAddressField('127.0.0.1:8081', 'address of the web dashboard; 0 disables'),
    logLevel: StringEnum(LOG_LEVELS, { default: 'info', description: 'minimum log level' }),
    logFormat: StringEnum(['json', 'pretty'] as const, { default: 'json', description: 'JSON lines, or human-readable lines' }),
    auditLogPath: Type.Optional(Type.String({ minLength: 1, description: 'append the JSON-lines audit log to this file' })),
    dryRun: Type.Boolean({ default: false, description: 'force dry-run for every policy (nothing is mutated)' }),
    paused: Type.Boolean({ default: false, description: 'pause all actions (evaluation and status continue)' }),
    protectedNamespaces: Type.Array(DnsLabel(), { default: ['kube-system'], maxItems: 256, description: 'namespaces never acted on' }),
    protectedLabelSelector: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'label selector in kubectl syntax (critical=true, tier in (db,cache), !legacy) of objects never acted on' }),
    ),
    maxActionsPerHour: Type.Integer({ minimum: 0, default: 30, description: 'global budget of actions per hour' }),
    aiMaxActionsPerHour: Type.Integer({ minimum: 0, default: 10, description: 'separate budget of AI-originated actions per hour' }),
    circuitBreaker: Section(
      {
        failureThreshold: Type.Integer({ minimum: 1, default: 3, description: 'failed verifications in a row that open a breaker' }),
        openSeconds: Type.Integer({ minimum: 1, default: 600, description: 'how long an open breaker refuses actions' }),
      },
      'per-scope circuit breaker',
    ),
    globalCircuitBreaker: Section(
      {
        failureRate: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'failure rate that trips the global breaker' }),
        minActions: Type.Integer({ minimum: 1, default: 5, description: 'actions in the window before the rate counts' }),
        windowSeconds: Type.Integer({ minimum: 1, default: 900, description: 'sliding window of the failure rate' }),
      },
      'global circuit breaker',
    ),
    stormSuppression: Section(
      {
        maxFailingWorkloads: Type.Integer({
          minimum: 0,
          default: 10,
          description: 'more workloads than this failing in one namespace within the window (a trigger firing on them, or a HealingAction about them) is a storm: act on none, raise one incident; 0 disables',
        }),
        windowSeconds: Type.Integer({ minimum: 1, default: 300, description: 'storm detection window' }),
      },
      'storm suppression',
    ),
    metricsServer: Section(
      {
        enabled: Type.Boolean({ default: true, description: 'poll metrics.k8s.io for CPU and memory' }),
        pollIntervalSeconds: Type.Integer({ minimum: 1, default: 15, description: 'metrics.k8s.io poll interval' }),
      },
      'metrics.k8s.io collection',
    ),
    prometheus: Section(
      {
        url: Type.Optional(HttpUrl('Prometheus base URL; PromQL triggers need it')),
        timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 5, description: 'query timeout' }),
      },
      'Prometheus queries',
    ),
    ai: Section(
      {
        provider: StringEnum(['none', 'openai', 'ollama'] as const, { default: 'none', description: 'LLM provider; the built-in analyzer always runs' }),
        url: Type.Optional(HttpUrl('provider base URL (OpenAI-compatible or Ollama)')),
        model: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'model name' })),
        timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 30, description: 'per-request timeout; on expiry the built-in analyzer decides' }),
        apiKeyEnv: Type.Optional(
          Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'NAME of the environment variable holding the API key (never the key itself)' }),
        ),
      },
      'LLM analysis',
    ),
    notifications: Section(
      {
        sinks: Type.Array(NotificationSinkSchema, {
          default: [],
          maxItems: 16,
          description: 'webhook and Slack sinks for HealingAction events (in a file, or as JSON in the env/flag)',
        }),
        queueSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'notifications waiting per sink; past it new ones are dropped (counted)' }),
        timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 5, description: 'per request; a sink that does not answer in time counts as a failed attempt' }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 5, description: 'tries per notification (network errors, timeouts, 429 and 5xx are retried)' }),
        initialBackoffSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 1, description: 'wait before the first retry; doubles each time' }),
        maxBackoffSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 60, description: 'longest wait between retries' }),
      },
      'notifications of HealingAction events',
    ),
    concurrency: Section(
      {
        policyWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'concurrent HealingPolicy reconciles (each waits on the API server when it creates actions or writes status)' }),
        actionWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'concurrent HealingAction reconciles (the gate serialises those of one namespace)' }),
      },
      'reconcile concurrency',
    ),
    namespaceSelector: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'label selector in kubectl syntax (team=payments, env notin (dev)) of the namespaces whose HealingPolicies this operator serves; default all',
      }),
    ),
    approvalTimeoutSeconds: Type.Integer({
      minimum: 60,
      maximum: 7 * 24 * 3600,
      default: 3600,
      description: 'how long an action waits for approval before it is cancelled (ApprovalExpired)',
    }),
    verificationStabilitySeconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 10,
      description: 'how long a target must stay healthy (and its trigger clear) before an action counts as verified',
    }),
    escalationWindowSeconds: Type.Integer({
      minimum: 60,
      maximum: 7 * 24 * 3600,
      default: 3600,
      description: 'a problem recurring on a target within this time of the last action escalates to the next action',
    }),
    policyEvaluationBudgetSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 60,
      default: 1,
      description: 'longest one policy\'s trigger evaluation may take in one pass; past it the policy is reported and skipped for ten times this',
    }),
    resyncSeconds: Type.Integer({ minimum: 0, default: 300, description: 'periodic full resync of every controller; 0 disables' }),
    seriesRetentionSeconds: Type.Integer({ minimum: 60, default: 3600, description: 'the longest per-target metric series are kept: each metric as long as the policies reading it need (trigger durations, predictive lookbacks), at least 15 min' }),
    cacheSyncTimeoutSeconds: Type.Integer({ minimum: 1, default: 120, description: 'how long to wait for informers to sync at start' }),
    shutdownTimeoutSeconds: Type.Integer({ minimum: 0, default: 30, description: 'how long in-flight work may finish on shutdown' }),
  },
  { additionalProperties: false },
);

/** The validated, defaulted operator configuration. */
export type OperatorConfig = Static<typeof OperatorConfigSchema>;

/**
 * The JSON type of a setting, which decides how env/flag strings are parsed. 'json': a list of objects
 * (notifications.sinks), given as JSON text in the env or a flag.
 */
export type SettingType = 'string' | 'boolean' | 'integer' | 'number' | 'string[]' | 'json';

/** One leaf setting: where it sits in the config, and its env and flag names. */
export interface ConfigSetting {
  /** Dotted path in the config, e.g. `leaderElection.enabled`. */
  readonly path: string;
  readonly segments: readonly string[];
  /** Environment variable, e.g. `KUBESKIPPY_LEADER_ELECTION_ENABLED`. */
  readonly env: string;
  /** Command-line flag, e.g. `--leader-election-enabled`. */
  readonly flag: string;
  /** Commander's property name for the flag, e.g. `leaderElectionEnabled`. */
  readonly flagKey: string;
  readonly type: SettingType;
  readonly description: string;
  readonly default?: unknown;
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const camelFromKebab = (s: string): string => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function settingType(schema: Record<string, unknown>): SettingType {
  const t = schema['type'];
  if (t === 'array') return (schema['items'] as Record<string, unknown> | undefined)?.['type'] === 'object' ? 'json' : 'string[]';
  if (t === 'boolean' || t === 'integer' || t === 'number') return t;
  return 'string';
}

function collectSettings(schema: Record<string, unknown>, prefix: readonly string[], out: ConfigSetting[]): void {
  const props = schema['properties'] as Record<string, Record<string, unknown>> | undefined;
  for (const [key, sub] of Object.entries(props ?? {})) {
    const segments = [...prefix, key];
    if (sub['type'] === 'object' && sub['properties'] !== undefined) {
      collectSettings(sub, segments, out);
      continue;
    }
    const flag = `--${segments.map(kebab).join('-')}`;
    out.push({
      path: segments.join('.'),
      segments,
      env: `KUBESKIPPY_${segments.map(snake).join('_')}`,
      flag,
      flagKey: camelFromKebab(flag.slice(2)),
      type: settingType(sub),
      description: typeof sub['description'] === 'string' ? sub['description'] : '',
      ...(sub['default'] === undefined ? {} : { default: sub['default'] }),
    });
  }
}

/** Every leaf setting with its env variable and flag, in schema order. */
export const CONFIG_SETTINGS: readonly ConfigSetting[] = (() => {
  const out: ConfigSetting[] = [];
  collectSettings(OperatorConfigSchema, [], out);
  return out;
})();

/** Environment variable naming the YAML config file (the --config flag wins). */
export const CONFIG_FILE_ENV = 'KUBESKIPPY_CONFIG';

/** A parsed bind address. */
export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port` (`:port` = all interfaces, `[v6]:port`); `0` returns undefined (disabled). Throws RangeError
 * for anything else, including ports above 65535.
 */
export function parseBindAddress(value: string): BindAddress | undefined {
  if (value === '0') return undefined;
  const m = /^(\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):([0-9]{1,5})$/.exec(value);
  const port = m?.[4] === undefined ? NaN : Number(m[4]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new RangeError(`invalid bind address "${value}": expected host:port, :port or 0`);
  const host = m[2] ?? m[3] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** A cross-field problem in an otherwise schema-valid config. */
export interface ConfigRuleProblem {
  /** The setting to blame (its source is reported). */
  readonly path: string;
  readonly message: string;
}

/** Rules the schema cannot express; returns one problem per broken rule. */
export function checkConfigRules(config: OperatorConfig): ConfigRuleProblem[] {
  const problems: ConfigRuleProblem[] = [];
  const le = config.leaderElection;
  if (le.enabled) {
    if (!(le.leaseDurationSeconds > le.renewDeadlineSeconds)) {
      problems.push({
        path: 'leaderElection.renewDeadlineSeconds',
        message: `must be less than leaderElection.leaseDurationSeconds (${le.leaseDurationSeconds}), got ${le.renewDeadlineSeconds}`,
      });
    }
    if (!(le.renewDeadlineSeconds > 1.2 * le.retryPeriodSeconds)) {
      problems.push({
        path: 'leaderElection.retryPeriodSeconds',
        message: `must be less than leaderElection.renewDeadlineSeconds / 1.2 (${(le.renewDeadlineSeconds / 1.2).toFixed(2)}), got ${le.retryPeriodSeconds}`,
      });
    }
  }
  if (config.sharding.shards > 1 && !le.enabled) {
    problems.push({ path: 'sharding.shards', message: `${config.sharding.shards} shards need leader election (leaderElection.enabled): each shard is a Lease` });
  }
  for (const key of ['metricsBindAddress', 'healthBindAddress', 'dashboardBindAddress'] as const) {
    try {
      parseBindAddress(config[key]);
    } catch (e: unknown) {
      problems.push({ path: key, message: e instanceof Error ? e.message : String(e) });
    }
  }
  for (const key of ['namespaceSelector', 'protectedLabelSelector'] as const) {
    const selector = config[key];
    if (selector === undefined) continue;
    try {
      parseLabelSelectorString(selector);
    } catch (e: unknown) {
      problems.push({ path: key, message: e instanceof Error ? e.message : String(e) });
    }
  }
  const dashboard = config.dashboardBindAddress;
  // Port 0 asks the kernel for a free port, so two servers given the same host:0 never collide.
  if (dashboard !== '0' && !dashboard.endsWith(':0')) {
    for (const other of ['metricsBindAddress', 'healthBindAddress'] as const) {
      if (config[other] === dashboard) problems.push({ path: 'dashboardBindAddress', message: `must differ from ${other} (${dashboard})` });
    }
  }
  config.notifications.sinks.forEach((sink, i) => {
    if ((sink.url === undefined) === (sink.urlFromEnv === undefined)) {
      problems.push({ path: `notifications.sinks.${i}`, message: `sink ${sink.name} needs exactly one of url and urlFromEnv` });
    }
  });
  const sinkNames = config.notifications.sinks.map((x) => x.name);
  const duplicate = sinkNames.find((n, i) => sinkNames.indexOf(n) !== i);
  if (duplicate !== undefined) problems.push({ path: 'notifications.sinks', message: `sink name "${duplicate}" is used twice (names label the metrics)` });
  if (config.notifications.maxBackoffSeconds < config.notifications.initialBackoffSeconds) {
    problems.push({ path: 'notifications.maxBackoffSeconds', message: `must not be below notifications.initialBackoffSeconds (${config.notifications.initialBackoffSeconds})` });
  }
  if (config.ai.provider !== 'none' && config.ai.model === undefined) {
    // Blame the provider: that is the setting someone gave, and the one whose origin is worth reporting.
    problems.push({ path: 'ai.provider', message: `${config.ai.provider} needs ai.model to be set` });
  }
  if (config.ai.provider !== 'none' && config.ai.url === undefined) {
    // No default URL: a silent default (api.openai.com, localhost:11434) would send cluster data somewhere unchosen.
    problems.push({ path: 'ai.provider', message: `${config.ai.provider} needs ai.url to be set (the provider's base URL)` });
  }
  return problems;
}
