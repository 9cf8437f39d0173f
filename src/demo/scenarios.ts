/**
 * The demo's scenarios: every failing app of the seed document, simulated by kwok (the sim.kubeskippy.io/*
 * annotations of hack/cluster/manifests/kwok.yaml) and driven by the demo's simulator (simulator.ts: the kubelet's
 * OOM killer, the shared CPU load, the chaos monkey, the network, the flaky pods, the bad releases), each with the
 * HealingPolicies that heal it. Where the seed compares rules with AI, the app comes as twins — `<app>-rules`
 * watched by the seed's rule, `<app>-ai` watched by the analyzer — identical but for their policy, so the report
 * compares them on the same fault. Pure data: the runner (demo) and the scenario suite (test/e2e) build the same
 * objects, in `demo-<id>` namespaces or in test namespaces.
 */
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '../api/v1alpha1/common.js';
import type { HealingPolicy } from '../api/v1alpha1/healing-policy.js';

/** Every scenario, in the order the report lists them. */
export const SCENARIO_IDS = [
  'memory-leak',
  'memory-degradation',
  'cpu-oscillation',
  'chaos-monkey',
  'network-degradation',
  'crash-loop',
  'flaky-web',
  'bad-release',
  'protected-app',
] as const;
/** A scenario's id (also the suffix of its demo namespace). */
export type ScenarioId = (typeof SCENARIO_IDS)[number];

/** How the report measures a scenario (what an episode and a failure are). */
export type ScenarioKind = 'leak' | 'cpu' | 'chaos' | 'network' | 'crash' | 'flaky' | 'release' | 'protected';

/**
 * What a workload is in its scenario, which decides what an action on it means in the report:
 * heal — failing, an action is the cure; healthy — a control that looks alarming (GC sawtooth, warm-up) and any
 * executed action on it is a false action; protected — must never be touched; dependency — the failing backend of
 * the network scenario; dependant — its victim, whose restart would be a false action; chaos — random transient
 * failures, where the measure is that no storm of actions follows.
 */
export type WorkloadRole = 'heal' | 'healthy' | 'protected' | 'dependency' | 'dependant' | 'chaos';

/** Which side of a twin a workload is on. */
export type Twin = 'rules' | 'ai';

/** Labels and annotations the demo sets (and the recorder and report read). */
export const DEMO_LABELS = {
  /** On demo namespaces: the demo operator serves namespaces with this label. */
  demo: 'kubeskippy.io/demo',
  scenario: 'demo.kubeskippy.io/scenario',
  role: 'demo.kubeskippy.io/role',
  twin: 'demo.kubeskippy.io/twin',
  /** The bad release's number on a release's pod template. */
  release: 'demo.kubeskippy.io/release',
} as const;

/** One Deployment of a scenario. */
export interface DemoWorkload {
  readonly name: string;
  readonly replicas: number;
  readonly role: WorkloadRole;
  readonly twin?: Twin;
  /** Extra pod labels (the seed's `issue: crashloop`, `critical: "true"`, a tier the policy selects). */
  readonly labels?: Readonly<Record<string, string>>;
  /** sim.kubeskippy.io/* pod annotations: the simulated behaviour. */
  readonly sim: Readonly<Record<string, string>>;
  /** Deployment annotations (kubeskippy.io/depends-on). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly strategy?: 'Recreate' | 'RollingUpdate';
}

/** A HealingPolicy of a scenario, before it is placed in a namespace. */
export interface PolicyDraft {
  readonly name: string;
  /** The twin it watches, if it watches one side of a twin. */
  readonly twin?: Twin;
  readonly spec: HealingPolicy['spec'];
}

/** One scenario: what the seed says, the apps, the policies. */
export interface ScenarioDefinition {
  readonly id: ScenarioId;
  readonly kind: ScenarioKind;
  readonly title: string;
  /** The seed document's words for it. */
  readonly seed: string;
  /** What happens and what the policies do, in a sentence or two. */
  readonly story: string;
  readonly workloads: readonly DemoWorkload[];
  /** The policies; the namespace is needed only where a PromQL query names it. */
  readonly policies: (namespace: string) => readonly PolicyDraft[];
}

/** The fault timings the simulator follows (demo defaults in {@link DEMO_TIMINGS}; the suite shortens some). */
export interface DemoTimings {
  /** Seed of the chaos monkey's and the flaky web app's random choices: the same seed, the same faults. */
  readonly seed: number;
  /** Mean time between chaos-monkey failures (seed: "random failures every 30s"); ±1/3 jitter. */
  readonly chaosIntervalSeconds: number;
  /** How long a chaos-monkey readiness failure lasts, [min, max]. */
  readonly chaosUnreadySeconds: readonly [number, number];
  /** Time between two flaky-web pods getting stuck unready. */
  readonly flakyIntervalSeconds: number;
  /** Seconds after the start at which each bad release of the shop is rolled out. */
  readonly badReleaseAtSeconds: readonly number[];
  readonly cpu: {
    /** The total load shared by a CPU app's pods, as a load balancer would: mean and sine amplitude (millicores). */
    readonly baseMillicores: number;
    readonly amplitudeMillicores: number;
    readonly periodSeconds: number;
    /** The total load once the oscillation subsides. */
    readonly quietMillicores: number;
    /** Seconds after the start at which the oscillation subsides; undefined: never (the suite ends it itself). */
    readonly quietAfterSeconds?: number;
  };
  readonly network: {
    /** Seconds after the start of the first degradation. */
    readonly firstDegradationAtSeconds: number;
    /** Healthy time between two degradations. */
    readonly healthySeconds: number;
    /** The latency climbs from baseLatencySeconds to peakLatencySeconds over rampSeconds, then holds. */
    readonly rampSeconds: number;
    /** How long the peak holds before the network recovers; undefined: it never recovers. */
    readonly holdSeconds?: number;
    readonly baseLatencySeconds: number;
    readonly peakLatencySeconds: number;
    /** Above this latency the dependency's readiness fails, and so does its dependants' (their probe calls it). */
    readonly failAboveSeconds: number;
  };
}

/** The demo's timings: a 10-minute run shows every scenario at least once. */
export const DEMO_TIMINGS: DemoTimings = {
  seed: 20251204,
  chaosIntervalSeconds: 30,
  chaosUnreadySeconds: [20, 60],
  flakyIntervalSeconds: 90,
  badReleaseAtSeconds: [60, 330],
  cpu: { baseMillicores: 1400, amplitudeMillicores: 600, periodSeconds: 120, quietMillicores: 700, quietAfterSeconds: 500 },
  network: {
    firstDegradationAtSeconds: 45,
    healthySeconds: 90,
    rampSeconds: 120,
    holdSeconds: 90,
    baseLatencySeconds: 0.05,
    peakLatencySeconds: 3,
    failAboveSeconds: 1.5,
  },
};

/** The CPU threshold of the CPU scenario's policies, also the report's breach line (percent of the limit). */
export const CPU_BREACH_PERCENT = 80;
/** The name of the Prometheus series the demo's network exporter serves. */
export const LATENCY_METRIC = 'demo_dependency_latency_seconds';

const mi = (n: number): string => `${n}Mi`;

function twins(base: Omit<DemoWorkload, 'name' | 'twin'>, name: string): DemoWorkload[] {
  return [
    { ...base, name: `${name}-rules`, twin: 'rules' },
    { ...base, name: `${name}-ai`, twin: 'ai' },
  ];
}

const byApp = (app: string): HealingPolicy['spec']['selector'] => ({ labelSelector: { matchLabels: { app } } });

const latencyQuery = (namespace: string, app: string): string =>
  `max by (namespace, pod) (${LATENCY_METRIC}{namespace="${namespace}", app="${app}"})`;

/** The scenarios, in report order. */
export const SCENARIOS: readonly ScenarioDefinition[] = [
  {
    id: 'memory-leak',
    kind: 'leak',
    title: 'Memory leak',
    seed: 'Slide 6: memory-leak-app 120MB/512MB (23%) → 87% at T+8min → "memory_usage_percent > 85%" → restart',
    story:
      'Two pods each leak 0.78 MiB/s from 120 Mi of a 512 Mi limit: 85% after 6.6 min, the OOM kill at 8.4 min. The rules twin restarts at "> 85% for 30s"; the AI twin on the analyzer\'s forecast, at 4–5 min.',
    workloads: twins({ replicas: 2, role: 'heal', sim: { 'sim.kubeskippy.io/memory': mi(120), 'sim.kubeskippy.io/memory-leak': '800Ki' }, limits: { cpu: '500m', memory: mi(512) } }, 'leak'),
    policies: () => [
      {
        name: 'leak-rules',
        twin: 'rules',
        spec: {
          selector: byApp('leak-rules'),
          triggers: [{ name: 'high-memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', operator: '>', threshold: 85, duration: '30s' }, cooldownPeriod: '1m' }],
          actions: [{ name: 'restart-leaking-pod', type: 'restart', priority: 10, restartAction: { strategy: 'rolling' } }],
          safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '100s' },
        },
      },
      {
        name: 'leak-predictive',
        twin: 'ai',
        spec: {
          selector: byApp('leak-ai'),
          strategy: 'ai',
          // minConfidence 0.55: the analyzer's calibrated probability from under 8 minutes of data tops out at 0.59
          // (docs/analyze.md), and this leak fills the limit in 8.4 minutes; at 0.7 it would act only at the limit.
          // minValue 50: the restart is verified once the trigger clears on the new container, which for a forecast
          // needs 4 minutes of its data — until then only "below minValue" clears it, and at 30% this leak's new
          // container passes 30% 48 s after its start, before its first samples are seen (VerificationTimeout).
          triggers: [
            {
              name: 'leak-forecast',
              type: 'predictive',
              predictiveTrigger: { metric: 'memory_usage_percent', threshold: 100, horizon: '30m', minHistory: '4m', minConfidence: 0.55, minValue: 50 },
              cooldownPeriod: '2m',
            },
          ],
          actions: [{ name: 'restart-before-oom', type: 'restart', priority: 8, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '100s' },
        },
      },
    ],
  },
  {
    id: 'memory-degradation',
    kind: 'leak',
    title: 'Continuous memory degradation',
    seed: 'continuous-memory-degradation: gradual leak simulation; "Memory degradation: AI intervenes at 30%"',
    story:
      'A slow leak, 0.29 MiB/s from 48 Mi of 512 Mi (85% after 25 min). The analyzer restarts it after 8 min of data at about a third of the limit, and leaves alone a healthy GC sawtooth and a warm-up that levels off, which its policy watches too.',
    workloads: [
      ...twins({ replicas: 1, role: 'heal', labels: {}, sim: { 'sim.kubeskippy.io/memory': mi(48), 'sim.kubeskippy.io/memory-leak': '300Ki' }, limits: { cpu: '500m', memory: mi(512) } }, 'degradation').map(
        (w) => (w.twin === 'ai' ? { ...w, labels: { tier: 'memory' } } : w),
      ),
      {
        name: 'gc-sawtooth',
        replicas: 1,
        role: 'healthy',
        labels: { tier: 'memory' },
        sim: { 'sim.kubeskippy.io/memory': mi(150), 'sim.kubeskippy.io/memory-sawtooth': mi(250), 'sim.kubeskippy.io/memory-sawtooth-period': '90' },
        limits: { cpu: '500m', memory: mi(512) },
      },
      {
        name: 'warmup',
        replicas: 1,
        role: 'healthy',
        labels: { tier: 'memory' },
        sim: { 'sim.kubeskippy.io/memory': mi(100), 'sim.kubeskippy.io/memory-warmup': mi(200), 'sim.kubeskippy.io/memory-warmup-seconds': '60' },
        limits: { cpu: '500m', memory: mi(512) },
      },
    ],
    policies: () => [
      {
        name: 'degradation-rules',
        twin: 'rules',
        spec: {
          selector: byApp('degradation-rules'),
          triggers: [{ name: 'high-memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', operator: '>', threshold: 85, duration: '30s' }, cooldownPeriod: '1m' }],
          actions: [{ name: 'restart-leaking-pod', type: 'restart', priority: 10, restartAction: { strategy: 'rolling' } }],
          safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '100s' },
        },
      },
      {
        name: 'degradation-predictive',
        twin: 'ai',
        spec: {
          // The degrading app and the two healthy controls: the analyzer must tell them apart.
          selector: { labelSelector: { matchLabels: { tier: 'memory' } } },
          strategy: 'ai',
          triggers: [
            {
              name: 'leak-forecast',
              type: 'predictive',
              // The defaults (analyzer, minConfidence 0.7) but for minHistory: 4m instead of 8m.
              predictiveTrigger: { metric: 'memory_usage_percent', threshold: 100, horizon: '30m', minHistory: '4m', minValue: 20 },
              cooldownPeriod: '5m',
            },
          ],
          actions: [{ name: 'restart-before-oom', type: 'restart', priority: 8, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '100s' },
        },
      },
    ],
  },
  {
    id: 'cpu-oscillation',
    kind: 'cpu',
    title: 'CPU oscillation (sine)',
    seed: 'continuous-cpu-oscillation: sine wave CPU patterns; "CPU oscillation: predictive scaling before peaks"',
    story:
      'A sine-wave load of 1400 ± 600 millicores shared by the pods (2 pods: 40–100% each, 3 pods: 27–67%), period 2 min. The rules twin has the seed\'s "CPU > 80% for 2 minutes" (a peak stays above 80% for 47 s); the AI twin scales up on the forecast of the next peak. When the load subsides to 700 millicores (23% a pod on 3 pods, 35% on 2), "CPU < 30% for 1 min" (the busiest pod\'s, so a fresh replica reading low does not count) scales back to 2, where the trigger clears.',
    workloads: twins(
      {
        replicas: 2,
        role: 'heal',
        sim: { 'sim.kubeskippy.io/cpu': '700m', 'sim.kubeskippy.io/cpu-amplitude': '300m', 'sim.kubeskippy.io/cpu-period': '120', 'sim.kubeskippy.io/memory': mi(64) },
        limits: { cpu: '1', memory: mi(128) },
      },
      'cpu',
    ),
    policies: () => {
      const scaleUp = { type: 'scale' as const, priority: 8, scaleAction: { direction: 'up' as const, replicas: 1, minReplicas: 2, maxReplicas: 3 } };
      return [
        {
          name: 'cpu-rules',
          twin: 'rules',
          spec: {
            selector: byApp('cpu-rules'),
            triggers: [{ name: 'high-cpu', type: 'metric', metricTrigger: { query: 'cpu_usage_percent', threshold: CPU_BREACH_PERCENT, duration: '2m' }, cooldownPeriod: '2m' }],
            actions: [{ name: 'add-replica', ...scaleUp }],
            safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '3m' },
          },
        },
        {
          name: 'cpu-predictive',
          twin: 'ai',
          spec: {
            selector: byApp('cpu-ai'),
            strategy: 'ai',
            triggers: [
              {
                name: 'peak-forecast',
                type: 'predictive',
                // minValue 40 (the seed's "40% CPU predictive threshold"): the verification clears once the scaled
                // pods run below it. minConfidence 0.55: see leak-predictive.
                predictiveTrigger: { metric: 'cpu_usage_percent', threshold: CPU_BREACH_PERCENT, horizon: '5m', minHistory: '4m', minConfidence: 0.55, minValue: 40 },
                cooldownPeriod: '3m',
              },
            ],
            actions: [{ name: 'add-replica', ...scaleUp }],
            safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '3m' },
          },
        },
        {
          name: 'cpu-scale-back',
          spec: {
            // Over the Deployments, whose cpu_usage_percent is their busiest pod's: "< 30%" then means every pod is
            // under 30%. Over the pods, a replica fresh from a scale-up (no share of the load yet, or not yet in
            // metrics-server's second scrape) read low for a minute and scaled back before the next peak.
            selector: {
              labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['cpu-rules', 'cpu-ai'] }] },
              resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }],
            },
            triggers: [{ name: 'low-cpu', type: 'metric', metricTrigger: { query: 'cpu_usage_percent', operator: '<', threshold: 30, duration: '1m' }, cooldownPeriod: '2m' }],
            actions: [{ name: 'remove-replica', type: 'scale', priority: 15, scaleAction: { direction: 'down', replicas: 1, minReplicas: 2, maxReplicas: 3 } }],
            safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '2m' },
          },
        },
      ];
    },
  },
  {
    id: 'chaos-monkey',
    kind: 'chaos',
    title: 'Chaos monkey',
    seed: 'chaos-monkey-component: random failures every 30s; "Chaos monkey: AI identifies patterns in randomness"',
    story:
      'Six components of two pods; every ~30 s (seeded) one random pod fails its readiness for 20–60 s or crashes once. "Not Ready for 15s → restart" would chase every one; its budget (6/hour) and the operator\'s storm suppression (more than 3 workloads failing in a namespace within 5 min is one incident) hold it.',
    workloads: ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => ({
      name: `chaos-${x}`,
      replicas: 2,
      role: 'chaos' as const,
      labels: { tier: 'chaos' },
      sim: { 'sim.kubeskippy.io/memory': mi(32), 'sim.kubeskippy.io/cpu': '50m' },
      limits: { cpu: '250m', memory: mi(128) },
    })),
    policies: () => [
      {
        name: 'chaos-guard',
        spec: {
          selector: { labelSelector: { matchLabels: { tier: 'chaos' } } },
          triggers: [{ name: 'not-ready', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False', duration: '15s' }, cooldownPeriod: '2m' }],
          actions: [{ name: 'restart-pod', type: 'restart', priority: 10, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 6, healthCheckTimeout: '1m' },
        },
      },
    ],
  },
  {
    id: 'network-degradation',
    kind: 'network',
    title: 'Network degradation of a dependency',
    seed: 'continuous-network-degradation: progressive latency; "Network issues: distinguishes from app problems"',
    story:
      'payments-db\'s latency climbs from 50 ms to 3 s (exported as demo_dependency_latency_seconds, scraped by Prometheus); above 1.5 s its readiness fails, and so does that of its dependants checkout-ai and checkout-rules (kubeskippy.io/depends-on: payments-db). Both have "latency > 1.5 s for 15 s → restart": the analyzer declines (a restart does not fix a dependency); the rules twin, in dry-run mode, records what it would have restarted.',
    workloads: [
      { name: 'payments-db', replicas: 2, role: 'dependency', sim: { 'sim.kubeskippy.io/memory': mi(256) }, limits: { cpu: '1', memory: mi(512) } },
      ...twins(
        { replicas: 2, role: 'dependant', annotations: { 'kubeskippy.io/depends-on': 'payments-db' }, sim: { 'sim.kubeskippy.io/memory': mi(64) }, limits: { cpu: '500m', memory: mi(128) } },
        'checkout',
      ),
    ],
    policies: (namespace) => [
      {
        name: 'checkout-ai',
        twin: 'ai',
        spec: {
          selector: byApp('checkout-ai'),
          strategy: 'ai',
          triggers: [{ name: 'slow-dependency', type: 'metric', metricTrigger: { query: latencyQuery(namespace, 'checkout-ai'), threshold: 1.5, duration: '15s' }, cooldownPeriod: '1m' }],
          actions: [{ name: 'restart-pod', type: 'restart', priority: 10, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 10 },
        },
      },
      {
        name: 'checkout-rules',
        twin: 'rules',
        spec: {
          mode: 'dryrun',
          selector: byApp('checkout-rules'),
          triggers: [{ name: 'slow-dependency', type: 'metric', metricTrigger: { query: latencyQuery(namespace, 'checkout-rules'), threshold: 1.5, duration: '15s' }, cooldownPeriod: '1m' }],
          actions: [{ name: 'restart-pod', type: 'restart', priority: 10, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 10 },
        },
      },
    ],
  },
  {
    id: 'crash-loop',
    kind: 'crash',
    title: 'Crash loop',
    seed: 'Slide 5 crashloop-pod-healing: issue: crashloop, "restart_count" > 3 → restart; "restart count > 3 in 5 minutes → apply debug configuration patch"',
    story:
      'crashloop-app needs 200 Mi and has a 128 Mi limit: OOMKilled at every start. The seed\'s policy restarts it (no better), then escalates to its patch, which raises the limit to 256 Mi: healed.',
    workloads: [
      { name: 'crashloop-app', replicas: 1, role: 'heal', labels: { issue: 'crashloop' }, sim: { 'sim.kubeskippy.io/memory': mi(200) }, limits: { cpu: '250m', memory: mi(128) } },
    ],
    policies: () => [
      {
        name: 'crashloop-pod-healing',
        spec: {
          selector: { labelSelector: { matchLabels: { issue: 'crashloop' } }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] },
          triggers: [{ name: 'high-restart-count', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 3 }, cooldownPeriod: '20s' }],
          actions: [
            { name: 'restart-crashed-pods', type: 'restart', priority: 10 },
            {
              name: 'raise-memory-limit',
              type: 'patch',
              priority: 15,
              patchAction: { type: 'strategic', patch: 'spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        resources:\n          limits: {memory: 256Mi}\n          requests: {memory: 256Mi}\n' },
            },
          ],
          safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '45s' },
        },
      },
    ],
  },
  {
    id: 'flaky-web',
    kind: 'flaky',
    title: 'Flaky web app',
    seed: 'the seed\'s flaky web app: pods that stop answering their readiness probe',
    story: 'Every 90 s (seeded) one of three web pods gets stuck failing its readiness probe until it is replaced. "Not Ready for 30s → restart" evicts it; its replacement is healthy.',
    workloads: [{ name: 'flaky-web', replicas: 3, role: 'heal', sim: { 'sim.kubeskippy.io/memory': mi(96), 'sim.kubeskippy.io/cpu': '120m' }, limits: { cpu: '500m', memory: mi(256) } }],
    policies: () => [
      {
        name: 'flaky-web',
        spec: {
          selector: byApp('flaky-web'),
          triggers: [{ name: 'not-ready', type: 'condition', conditionTrigger: { type: 'Ready', status: 'False', duration: '30s' }, cooldownPeriod: '1m' }],
          actions: [{ name: 'restart-pod', type: 'restart', priority: 10, restartAction: { strategy: 'graceful' } }],
          safetyRules: { maxActionsPerHour: 12, healthCheckTimeout: '1m' },
        },
      },
    ],
  },
  {
    id: 'bad-release',
    kind: 'release',
    title: 'Bad release',
    seed: 'seed Slide 8: "crash loop starting right after a rollout ⇒ rollback" (AI strategic healing)',
    story:
      'At T+60s and T+330s a release of the shop crash-loops. The rules twin ("restart_count > 2" on the Deployment) climbs its ladder: a rollout restart, which cannot help, then a rollback; the AI twin ("CrashLoopBackOff" on its pods, strategy ai) sees the crash loop began right after the rollout and rolls back at once.',
    workloads: twins({ replicas: 2, role: 'heal', strategy: 'Recreate', sim: { 'sim.kubeskippy.io/memory': mi(80) }, limits: { cpu: '500m', memory: mi(128) } }, 'shop'),
    policies: () => {
      const actions = [
        { name: 'restart-app', type: 'restart' as const, priority: 10 },
        { name: 'rollback-release', type: 'rollback' as const, priority: 20 },
      ];
      return [
        {
          // The traditional ladder, on the Deployment (a ladder climbs per target: on pods, every restart would
          // start a new pod's ladder at its first rung again).
          name: 'shop-rules',
          twin: 'rules' as const,
          spec: {
            selector: { labelSelector: { matchLabels: { app: 'shop-rules' } }, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] },
            triggers: [{ name: 'crashing', type: 'metric' as const, metricTrigger: { query: 'restart_count', threshold: 2 }, cooldownPeriod: '10s' }],
            actions,
            safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '30s' },
          },
        },
        {
          name: 'shop-ai',
          twin: 'ai' as const,
          spec: {
            selector: byApp('shop-ai'),
            strategy: 'ai' as const,
            triggers: [{ name: 'crashloop', type: 'condition' as const, conditionTrigger: { type: 'CrashLoopBackOff' }, cooldownPeriod: '30s' }],
            actions,
            safetyRules: { maxActionsPerHour: 10, healthCheckTimeout: '30s' },
          },
        },
      ];
    },
  },
  {
    id: 'protected-app',
    kind: 'protected',
    title: 'Protected critical app',
    seed: 'Slide 7: protectedResources: kind: Pod, labelSelector: critical: "true" — "never touch critical pods"',
    story: 'The ledger runs at 95% CPU, which its policy ("CPU > 90% for 30s → restart") would restart, but its pods are critical: "true": every decision is Blocked (Protected), nothing is touched.',
    workloads: [{ name: 'ledger', replicas: 2, role: 'protected', labels: { critical: 'true' }, sim: { 'sim.kubeskippy.io/cpu': '950m', 'sim.kubeskippy.io/memory': mi(200) }, limits: { cpu: '1', memory: mi(512) } }],
    policies: () => [
      {
        name: 'ledger-safety',
        spec: {
          selector: byApp('ledger'),
          triggers: [{ name: 'high-cpu', type: 'metric', metricTrigger: { query: 'cpu_usage_percent', threshold: 90, duration: '30s' }, cooldownPeriod: '5m' }],
          actions: [{ name: 'restart', type: 'restart', priority: 10 }],
          safetyRules: { maxActionsPerHour: 5, protectedResources: [{ kind: 'Pod', labelSelector: { matchLabels: { critical: 'true' } } }] },
        },
      },
    ],
  },
];

/** The scenario with this id. Throws on an unknown id (a programming error). */
export function scenarioById(id: ScenarioId): ScenarioDefinition {
  const s = SCENARIOS.find((x) => x.id === id);
  if (s === undefined) throw new Error(`unknown scenario ${id}`);
  return s;
}

/** The demo namespace of a scenario. */
export function demoNamespace(id: ScenarioId): string {
  return `demo-${id}`;
}

/** The Deployment of a demo workload in `namespace`. */
export function buildDeployment(scenario: ScenarioDefinition, w: DemoWorkload, namespace: string): k8s.V1Deployment {
  const labels = {
    app: w.name,
    [DEMO_LABELS.scenario]: scenario.id,
    [DEMO_LABELS.role]: w.role,
    ...(w.twin === undefined ? {} : { [DEMO_LABELS.twin]: w.twin }),
    ...(w.labels ?? {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: w.name, namespace, labels, ...(w.annotations === undefined ? {} : { annotations: { ...w.annotations } }) },
    spec: {
      replicas: w.replicas,
      ...(w.strategy === undefined ? {} : { strategy: { type: w.strategy } }),
      selector: { matchLabels: { app: w.name } },
      template: {
        metadata: { labels, annotations: { ...w.sim } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `example.invalid/${w.name}:1`,
              resources: { requests: { cpu: w.limits.cpu, memory: w.limits.memory }, limits: { cpu: w.limits.cpu, memory: w.limits.memory } },
            },
          ],
        },
      },
    },
  };
}

/** A scenario's HealingPolicy in `namespace`. */
export function buildPolicy(draft: PolicyDraft, namespace: string): HealingPolicy {
  return { apiVersion: API_VERSION, kind: 'HealingPolicy', metadata: { name: draft.name, namespace }, spec: draft.spec };
}

/** The Namespace of a scenario (the demo operator serves those labelled kubeskippy.io/demo=true). */
export function buildNamespace(scenario: ScenarioDefinition, namespace: string, labels: Readonly<Record<string, string>> = {}): k8s.V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [DEMO_LABELS.demo]: 'true', [DEMO_LABELS.scenario]: scenario.id, ...labels } } };
}

/** Every object of a scenario in `namespace`: its Deployments, then its HealingPolicies (the namespace apart). */
export function scenarioObjects(scenario: ScenarioDefinition, namespace: string): { deployments: k8s.V1Deployment[]; policies: HealingPolicy[] } {
  return {
    deployments: scenario.workloads.map((w) => buildDeployment(scenario, w, namespace)),
    policies: scenario.policies(namespace).map((p) => buildPolicy(p, namespace)),
  };
}
