/**
 * Builders of policy and HealingAction objects, as the operator's informer caches hold them, for the dashboard's
 * unit tests (and a preview of the page with made-up data). Times are ISO strings derived from a fixed `T0`.
 */
import type { HealingAction } from '../../src/api/v1alpha1/healing-action.js';
import type { ClusterHealingPolicy, HealingPolicy } from '../../src/api/v1alpha1/healing-policy.js';
import { DEFAULT_OPERATOR_SAFETY, type OperatorSafetySettings } from '../../src/safety/types.js';

/** The fixed "now" of dashboard tests. */
export const T0 = Date.parse('2026-03-01T12:00:00Z');

/** An ISO time `ms` after T0 (negative: before). */
export const at = (ms: number): string => new Date(T0 + ms).toISOString();

/** Operator safety settings with the defaults, overridable. */
export function settingsWith(overrides: Partial<OperatorSafetySettings> = {}): OperatorSafetySettings {
  return { ...DEFAULT_OPERATOR_SAFETY, ...overrides };
}

/** A HealingPolicy watching restart_count > 2 on app=web pods, with a Ready status. */
export function hp(name: string, overrides: { namespace?: string; spec?: Partial<HealingPolicy['spec']>; status?: HealingPolicy['status'] } = {}): HealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingPolicy',
    metadata: { name, namespace: overrides.namespace ?? 'shop', uid: `uid-${name}`, generation: 1, creationTimestamp: at(-3_600_000) },
    spec: {
      selector: { labelSelector: { matchLabels: { app: 'web' } } },
      triggers: [{ name: 'restarts', type: 'metric', metricTrigger: { query: 'restart_count', threshold: 2, operator: '>' } }],
      actions: [{ name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } }],
      safetyRules: { maxActionsPerHour: 5 },
      mode: 'automatic',
      ...overrides.spec,
    },
    ...(overrides.status === undefined
      ? {
          status: {
            matchedResources: 3,
            actionsTaken: 0,
            lastEvaluated: at(-5000),
            conditions: [{ type: 'Ready', status: 'True', reason: 'Evaluating', message: 'watching 3 resources', lastTransitionTime: at(-60_000) }],
          },
        }
      : { status: overrides.status }),
  };
}

/** A ClusterHealingPolicy over namespaces labelled team=payments. */
export function chp(name: string, spec: Partial<ClusterHealingPolicy['spec']> = {}): ClusterHealingPolicy {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'ClusterHealingPolicy',
    metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: at(-3_600_000) },
    spec: {
      selector: { namespaceSelector: { matchLabels: { team: 'payments' } } },
      triggers: [{ name: 'memory', type: 'metric', metricTrigger: { query: 'memory_usage_percent', threshold: 85, operator: '>', duration: '3m' } }],
      actions: [{ name: 'restart', type: 'restart' }],
      mode: 'dryrun',
      ...spec,
    },
  };
}

/** What an action() call may set. */
export interface ActionFixture {
  namespace?: string;
  policy?: string;
  policyKind?: 'HealingPolicy' | 'ClusterHealingPolicy';
  target?: string;
  targetKind?: string;
  workload?: string;
  /** ms relative to T0. */
  created?: number;
  started?: number;
  completed?: number;
  phase?: NonNullable<HealingAction['status']>['phase'];
  reason?: string;
  message?: string;
  dryRun?: boolean;
  source?: 'rule' | 'ai';
  confidence?: number;
  reasoning?: string[];
  success?: boolean;
  resourceVersion?: string;
}

/** A HealingAction restarting a pod after restart_count fired. */
export function action(name: string, f: ActionFixture = {}): HealingAction {
  const ns = f.namespace ?? 'shop';
  const created = f.created ?? -60_000;
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: f.resourceVersion ?? '1', creationTimestamp: at(created) },
    spec: {
      policyRef: f.policyKind === 'ClusterHealingPolicy' ? { kind: 'ClusterHealingPolicy', name: f.policy ?? 'crashloop' } : { name: f.policy ?? 'crashloop' },
      targetResource: { apiVersion: f.targetKind && f.targetKind !== 'Pod' ? 'apps/v1' : 'v1', kind: f.targetKind ?? 'Pod', name: f.target ?? 'web-1', namespace: ns },
      ...(f.workload ? { workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: f.workload, namespace: ns } } : {}),
      action: { name: 'restart', type: 'restart' },
      trigger: { name: 'restarts', type: 'metric', firedAt: at(created), reason: 'restart_count 4 > 2', observedValue: 4, threshold: 2, values: { restart_count: '4' } },
      dryRun: f.dryRun ?? false,
      source: f.source ?? 'rule',
      ...(f.confidence === undefined ? {} : { confidence: f.confidence }),
      ...(f.reasoning === undefined ? {} : { reasoning: f.reasoning }),
    },
    status: {
      phase: f.phase ?? 'Succeeded',
      ...(f.reason === undefined ? {} : { reason: f.reason }),
      ...(f.message === undefined ? {} : { message: f.message }),
      ...(f.started === undefined ? {} : { startTime: at(f.started) }),
      ...(f.completed === undefined ? {} : { completionTime: at(f.completed) }),
      ...(f.success === undefined ? {} : { result: { success: f.success, metricsBefore: { restart_count: '4' }, metricsAfter: { restart_count: '0' } } }),
    },
  };
}
