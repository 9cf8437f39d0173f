import { describe, expect, it } from 'vitest';
import { ConfigError, defaultOperatorConfig, loadOperatorConfig, type LoadConfigInput } from './load.js';
import { CONFIG_SETTINGS } from './operator-config.js';

const files: Record<string, string> = {
  '/etc/kubeskippy/config.yaml': `# operator config
dryRun: true
logLevel: debug
maxActionsPerHour: 12
leaderElection:
  leaseDurationSeconds: 30
  renewDeadlineSeconds: 20
prometheus:
  url: http://127.0.0.1:9090
protectedNamespaces: [kube-system, monitoring]
`,
};
const readFile = (p: string): string => {
  const text = files[p];
  if (text === undefined) throw new Error(`ENOENT: no such file '${p}'`);
  return text;
};

async function load(input: LoadConfigInput): Promise<Awaited<ReturnType<typeof loadOperatorConfig>>> {
  return loadOperatorConfig({ readFile, ...input });
}

async function problemsOf(input: LoadConfigInput): Promise<ConfigError['problems']> {
  try {
    await load(input);
  } catch (e: unknown) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadOperatorConfig defaults', () => {
  it('fills every default, including nested sections', async () => {
    const c = await defaultOperatorConfig();
    expect(c).toEqual({
      namespace: 'kubeskippy-system',
      leaderElection: { enabled: true, leaseName: 'kubeskippy-leader', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
      sharding: { shards: 1 },
      metricsBindAddress: '127.0.0.1:8080',
      healthBindAddress: '127.0.0.1:8082',
      dashboardBindAddress: '127.0.0.1:8081',
      logLevel: 'info',
      logFormat: 'json',
      dryRun: false,
      paused: false,
      policyEvaluationBudgetSeconds: 1,
      protectedNamespaces: ['kube-system'],
      maxActionsPerHour: 30,
      aiMaxActionsPerHour: 10,
      circuitBreaker: { failureThreshold: 3, openSeconds: 600 },
      globalCircuitBreaker: { failureRate: 0.5, minActions: 5, windowSeconds: 900 },
      stormSuppression: { maxFailingWorkloads: 10, windowSeconds: 300 },
      metricsServer: { enabled: true, pollIntervalSeconds: 15 },
      prometheus: { timeoutSeconds: 5 },
      ai: { provider: 'none', timeoutSeconds: 30 },
      notifications: { sinks: [], queueSize: 500, timeoutSeconds: 5, maxAttempts: 5, initialBackoffSeconds: 1, maxBackoffSeconds: 60 },
      concurrency: { policyWorkers: 8, actionWorkers: 8 },
      approvalTimeoutSeconds: 3600,
      verificationStabilitySeconds: 10,
      escalationWindowSeconds: 3600,
      resyncSeconds: 300,
      seriesRetentionSeconds: 3600,
      cacheSyncTimeoutSeconds: 120,
      shutdownTimeoutSeconds: 30,
    });
  });
});

describe('loadOperatorConfig precedence: flags > env > file > defaults', () => {
  const file = { config: '/etc/kubeskippy/config.yaml' };
  it.each([
    ['default only', {}, {}, 'maxActionsPerHour', 30],
    ['file over default', file, {}, 'maxActionsPerHour', 12],
    ['env over file', file, { KUBESKIPPY_MAX_ACTIONS_PER_HOUR: '20' }, 'maxActionsPerHour', 20],
    ['flag over env', { ...file, maxActionsPerHour: '25' }, { KUBESKIPPY_MAX_ACTIONS_PER_HOUR: '20' }, 'maxActionsPerHour', 25],
    ['typed flag value', { maxActionsPerHour: 7 }, {}, 'maxActionsPerHour', 7],
    ['flag by dotted path', { 'leaderElection.enabled': false }, {}, 'leaderElection.enabled', false],
    ['env boolean over file', file, { KUBESKIPPY_DRY_RUN: 'false' }, 'dryRun', false],
    ['env boolean spelled yes', {}, { KUBESKIPPY_PAUSED: 'YES' }, 'paused', true],
    ['nested env over nested file', file, { KUBESKIPPY_LEADER_ELECTION_LEASE_DURATION_SECONDS: '40' }, 'leaderElection.leaseDurationSeconds', 40],
    ['nested file keeps sibling defaults', file, {}, 'leaderElection.retryPeriodSeconds', 2],
    ['nested file values kept when env sets a sibling', file, { KUBESKIPPY_LEADER_ELECTION_RETRY_PERIOD_SECONDS: '3' }, 'leaderElection.renewDeadlineSeconds', 20],
    ['env URL', {}, { KUBESKIPPY_PROMETHEUS_URL: 'http://127.0.0.1:9091' }, 'prometheus.url', 'http://127.0.0.1:9091'],
    ['file URL', file, {}, 'prometheus.url', 'http://127.0.0.1:9090'],
    ['env list replaces file list', file, { KUBESKIPPY_PROTECTED_NAMESPACES: 'a, b,,c' }, 'protectedNamespaces', ['a', 'b', 'c']],
    ['file list replaces default', file, {}, 'protectedNamespaces', ['kube-system', 'monitoring']],
    ['config file named by env', {}, { KUBESKIPPY_CONFIG: '/etc/kubeskippy/config.yaml' }, 'logLevel', 'debug'],
    ['undefined flag means not given', { ...file, logLevel: undefined }, {}, 'logLevel', 'debug'],
    ['unrelated env and flags are ignored', { out: 'x' }, { KUBESKIPPY_TEST_KUBECONFIG: '/x', PATH: '/bin' }, 'logLevel', 'info'],
  ] as const)('%s', async (_name, flags, env, path, expected) => {
    const config = await load({ flags, env });
    const value = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config);
    expect(value).toEqual(expected);
  });
});

describe('loadOperatorConfig errors', () => {
  it('names every bad field with its source, all at once', async () => {
    files['/bad.yaml'] = `logLevel: loud
leaderElection:
  leaseDurationSecond: 15
unknownTopLevel: 1
`;
    const problems = await problemsOf({
      flags: { config: '/bad.yaml', maxActionsPerHour: 'many' },
      env: { KUBESKIPPY_DRY_RUN: 'maybe', KUBESKIPPY_CONCURRENCY_POLICY_WORKERS: '0' },
    });
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['maxActionsPerHour']).toMatchObject({ source: 'flag', origin: '--max-actions-per-hour', message: expect.stringMatching(/number/) as unknown });
    expect(byPath['dryRun']).toMatchObject({ source: 'env', origin: 'KUBESKIPPY_DRY_RUN', message: expect.stringMatching(/boolean/) as unknown });
    expect(byPath['concurrency.policyWorkers']).toMatchObject({ source: 'env', origin: 'KUBESKIPPY_CONCURRENCY_POLICY_WORKERS' });
    expect(byPath['logLevel']).toMatchObject({ source: 'file', origin: '/bad.yaml:1', message: expect.stringMatching(/must be one of "trace"/) as unknown });
    expect(byPath['leaderElection.leaseDurationSecond']).toMatchObject({ source: 'file', origin: '/bad.yaml:3', message: 'unknown setting' });
    expect(byPath['unknownTopLevel']).toMatchObject({ source: 'file', origin: '/bad.yaml:4', message: 'unknown setting' });
    expect(problems).toHaveLength(6);
  });

  it('renders one line per problem in the message', async () => {
    await expect(load({ env: { KUBESKIPPY_LOG_FORMAT: 'xml' } })).rejects.toThrow(
      /invalid operator configuration:\n {2}- logFormat \(KUBESKIPPY_LOG_FORMAT\): must be one of "json", "pretty"/,
    );
  });

  it('checks cross-field rules and blames the setting that was given', async () => {
    const problems = await problemsOf({ flags: { leaderElectionRenewDeadlineSeconds: '20' } });
    expect(problems).toEqual([
      {
        path: 'leaderElection.renewDeadlineSeconds',
        source: 'flag',
        origin: '--leader-election-renew-deadline-seconds',
        message: 'must be less than leaderElection.leaseDurationSeconds (15), got 20',
      },
    ]);
    const retry = await problemsOf({ env: { KUBESKIPPY_LEADER_ELECTION_RETRY_PERIOD_SECONDS: '9' } });
    expect(retry[0]).toMatchObject({ path: 'leaderElection.retryPeriodSeconds', source: 'env' });
  });

  it('splits list flags on commas as well as on spaces (commander gives a variadic flag as a list)', async () => {
    const c = await load({ flags: { protectedNamespaces: ['kube-system,shop', ' web '] } });
    expect(c.protectedNamespaces).toEqual(['kube-system', 'shop', 'web']);
  });

  it('skips lease timing rules when leader election is off', async () => {
    const c = await load({ flags: { leaderElectionEnabled: false, leaderElectionRenewDeadlineSeconds: 20 } });
    expect(c.leaderElection.enabled).toBe(false);
  });

  it.each([
    ['a bind address that is not host:port', { metricsBindAddress: 'localhost' }, 'metricsBindAddress'],
    ['a port above 65535', { healthBindAddress: '127.0.0.1:70000' }, 'healthBindAddress'],
    ['the dashboard on the metrics address', { dashboardBindAddress: '127.0.0.1:8080' }, 'dashboardBindAddress'],
    ['an AI provider without a model', { aiProvider: 'ollama' }, 'ai.provider'],
    ['an AI provider without a URL', { aiProvider: 'openai', aiModel: 'gpt-4o-mini' }, 'ai.provider'],
    ['an API key env name that is not a variable name', { aiApiKeyEnv: 'my key' }, 'ai.apiKeyEnv'],
    ['a non-http Prometheus URL', { prometheusUrl: 'ftp://x' }, 'prometheus.url'],
    ['an invalid namespace name', { namespace: 'Kube_System' }, 'namespace'],
    ['a failure rate above 1', { globalCircuitBreakerFailureRate: '1.5' }, 'globalCircuitBreaker.failureRate'],
    ['a fractional integer', { maxActionsPerHour: '1.5' }, 'maxActionsPerHour'],
    ['a protected selector kubectl would not parse (it would protect nothing)', { protectedLabelSelector: 'tier in (db' }, 'protectedLabelSelector'],
    ['a namespace selector with an invalid label key', { namespaceSelector: 'team payments' }, 'namespaceSelector'],
  ] as const)('rejects %s', async (_name, flags, path) => {
    const problems = await problemsOf({ flags });
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.every((p) => p.source === 'flag')).toBe(true);
  });

  it('says which AI setting is missing, and accepts a provider with its URL and model', async () => {
    const problems = await problemsOf({ flags: { aiProvider: 'ollama', aiModel: 'qwen2.5:7b-instruct' } });
    expect(problems.map((p) => p.message)).toEqual(['ollama needs ai.url to be set (the provider\'s base URL)']);
    const c = await load({ flags: { aiProvider: 'ollama', aiModel: 'qwen2.5:7b-instruct', aiUrl: 'http://ollama:11434' } });
    expect(c.ai).toMatchObject({ provider: 'ollama', url: 'http://ollama:11434', model: 'qwen2.5:7b-instruct' });
  });

  it('accepts the dashboard and the health server both on an ephemeral port of one host (each gets its own)', async () => {
    const c = await load({ flags: { dashboardBindAddress: '127.0.0.1:0', healthBindAddress: '127.0.0.1:0' } });
    expect(c.dashboardBindAddress).toBe('127.0.0.1:0');
  });

  it('accepts disabled and all-interface bind addresses', async () => {
    const c = await load({ flags: { dashboardBindAddress: '0', metricsBindAddress: ':9090', healthBindAddress: '[::1]:9091' } });
    expect(c.dashboardBindAddress).toBe('0');
  });

  it('reports an unreadable, unparsable or non-mapping config file', async () => {
    expect(await problemsOf({ flags: { config: '/missing.yaml' } })).toEqual([
      { path: '', source: 'flag', origin: '--config', message: "cannot read config file /missing.yaml: ENOENT: no such file '/missing.yaml'" },
    ]);
    files['/broken.yaml'] = 'a: [1, 2\nb: 3\n';
    const broken = await problemsOf({ env: { KUBESKIPPY_CONFIG: '/broken.yaml' } });
    expect(broken[0]).toMatchObject({ source: 'file', message: expect.stringMatching(/^YAML: /) as unknown });
    expect(broken[0]?.origin).toMatch(/^\/broken\.yaml:\d+$/);
    files['/list.yaml'] = '- a\n- b\n';
    expect((await problemsOf({ flags: { config: '/list.yaml' } }))[0]?.message).toBe('must be a YAML mapping of settings');
  });

  it('accepts an empty config file', async () => {
    files['/empty.yaml'] = '# nothing\n';
    expect((await load({ flags: { config: '/empty.yaml' } })).logLevel).toBe('info');
  });

  it('reports a file named without a reader', async () => {
    await expect(loadOperatorConfig({ flags: { config: '/x.yaml' } })).rejects.toThrow(/no file reader/);
  });
});

describe('CONFIG_SETTINGS', () => {
  it('gives every leaf setting a unique KUBESKIPPY_ env name and flag', () => {
    const envs = CONFIG_SETTINGS.map((s) => s.env);
    const flags = CONFIG_SETTINGS.map((s) => s.flag);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(flags).size).toBe(flags.length);
    expect(envs.every((e) => /^KUBESKIPPY_[A-Z0-9_]+$/.test(e))).toBe(true);
  });

  it('documents the names the team uses', () => {
    const byPath = Object.fromEntries(CONFIG_SETTINGS.map((s) => [s.path, s]));
    expect(byPath['dryRun']).toMatchObject({ env: 'KUBESKIPPY_DRY_RUN', flag: '--dry-run', flagKey: 'dryRun', type: 'boolean', default: false });
    expect(byPath['paused']?.env).toBe('KUBESKIPPY_PAUSED');
    expect(byPath['prometheus.url']).toMatchObject({ env: 'KUBESKIPPY_PROMETHEUS_URL', flag: '--prometheus-url', flagKey: 'prometheusUrl' });
    expect(byPath['leaderElection.leaseDurationSeconds']?.env).toBe('KUBESKIPPY_LEADER_ELECTION_LEASE_DURATION_SECONDS');
    expect(byPath['protectedNamespaces']?.type).toBe('string[]');
    expect(byPath['aiMaxActionsPerHour']?.env).toBe('KUBESKIPPY_AI_MAX_ACTIONS_PER_HOUR');
    expect(CONFIG_SETTINGS.every((s) => s.description !== '')).toBe(true);
  });
});

describe('notifications settings', () => {
  const file = (text: string): LoadConfigInput => ({ flags: { config: '/n.yaml' }, readFile: () => text });

  it('reads sinks from the file, with defaults for kind and events, and header variables that are set', async () => {
    const c = await loadOperatorConfig({
      ...file('notifications:\n  sinks:\n  - name: ops\n    url: https://hooks.example/x\n    headersFromEnv: {Authorization: OPS_TOKEN}\n  - {name: chat, kind: slack, url: "https://hooks.slack.example/T/B/secret", events: [failed, blocked]}\n'),
      env: { OPS_TOKEN: 'Bearer t' },
    });
    expect(c.notifications.sinks).toEqual([
      { name: 'ops', kind: 'webhook', url: 'https://hooks.example/x', events: ['created', 'waiting-approval', 'succeeded', 'failed', 'blocked'], headersFromEnv: { Authorization: 'OPS_TOKEN' } },
      { name: 'chat', kind: 'slack', url: 'https://hooks.slack.example/T/B/secret', events: ['failed', 'blocked'] },
    ]);
    expect(c.notifications).toMatchObject({ queueSize: 500, timeoutSeconds: 5, maxAttempts: 5, initialBackoffSeconds: 1, maxBackoffSeconds: 60 });
  });

  it('reads sinks as JSON from the environment', async () => {
    const c = await loadOperatorConfig({ env: { KUBESKIPPY_NOTIFICATIONS_SINKS: '[{"name":"ops","url":"http://127.0.0.1:9/x","events":["failed"]}]' } });
    expect(c.notifications.sinks).toEqual([{ name: 'ops', kind: 'webhook', url: 'http://127.0.0.1:9/x', events: ['failed'] }]);
    const byPath = Object.fromEntries(CONFIG_SETTINGS.map((s) => [s.path, s]));
    expect(byPath['notifications.sinks']).toMatchObject({ type: 'json', env: 'KUBESKIPPY_NOTIFICATIONS_SINKS', flag: '--notifications-sinks' });
  });

  it.each([
    ['a header variable that is not set', 'notifications:\n  sinks:\n  - {name: ops, url: "http://x/y", headersFromEnv: {Authorization: OPS_TOKEN}}\n', /names the environment variable OPS_TOKEN, which is not set/],
    ['two sinks with one name', 'notifications:\n  sinks:\n  - {name: ops, url: "http://x/y"}\n  - {name: ops, url: "http://x/z"}\n', /sink name "ops" is used twice/],
    ['an unknown event', 'notifications:\n  sinks:\n  - {name: ops, url: "http://x/y", events: [exploded]}\n', /must be one of/],
    ['an unknown sink key (a typo of url)', 'notifications:\n  sinks:\n  - {name: ops, uri: "http://x/y"}\n', /uri|url/],
    ['a sink with neither url nor urlFromEnv', 'notifications:\n  sinks:\n  - {name: ops}\n', /needs exactly one of url and urlFromEnv/],
    ['a URL variable that is not set', 'notifications:\n  sinks:\n  - {name: ops, kind: slack, urlFromEnv: SLACK_URL}\n', /takes its URL from SLACK_URL, which is not set/],
    ['a URL that is not http(s)', 'notifications:\n  sinks:\n  - {name: ops, url: "ftp://x/y"}\n', /expected format/],
  ])('refuses %s', async (_what, text, message) => {
    const problems = await problemsOf({ ...file(text), env: {} });
    expect(problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(message);
  });

  it('refuses sinks in the environment that are not JSON', async () => {
    const problems = await problemsOf({ env: { KUBESKIPPY_NOTIFICATIONS_SINKS: 'ops=http://x' } });
    expect(problems[0]).toMatchObject({ path: 'notifications.sinks', origin: 'KUBESKIPPY_NOTIFICATIONS_SINKS', message: expect.stringMatching(/must be JSON/) as unknown });
  });
});
