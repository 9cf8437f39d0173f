/**
 * The safety gate: gathers, from the live cluster, everything the pure rules need — the target and its workload as
 * they are now, the HealingActions (the ledger), the PodDisruptionBudgets and HorizontalPodAutoscalers around the
 * target — and asks evaluateSafety. Called right before every mutation, by rules and AI alike.
 *
 * Reads go to the API server: the target, its workload, PDBs, HPAs, the namespace, the pause switch, and the ledger
 * of the target's namespace (a consistent list), which holds everything a per-target or per-workload rule reads —
 * cooldowns, in-flight actions, the disruption budget, storms — and the whole ledger of a HealingPolicy. With an
 * informer cache (`deps.cache`), the rest of the ledger — other namespaces, for the operator-wide budgets, the AI
 * budget, a ClusterHealingPolicy's budget and the breakers — comes from the cache instead of a cluster-wide list on
 * every check (which the scale benchmark found growing with every HealingAction ever kept: docs/benchmarks.md), and
 * `confirm` closes the window a cache leaves: after the intent is written, the budgets are counted again over every
 * intent written before it (confirm.ts). Without a cache, the whole ledger is listed live, as before.
 */
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../api/v1alpha1/healing-policy.js';
import { describeNamespaces, mayActInNamespace, selectsObject } from '../controllers/healing-policy/select.js';
import { isExecutorError } from '../remediation/errors.js';
import type { ExecutorDeps } from '../remediation/types.js';
import { isObjectKind, readObject, resolveOwningWorkload } from '../remediation/workload.js';
import type { TargetRef } from '../metrics/types.js';
import { parseDuration } from '../triggers/duration.js';
import { matchesLabelSelector } from './label-selector.js';
import { detectGitOps, evaluateSafety } from './rules.js';
import {
  DEFAULT_POLICY_SAFETY,
  actionPolicyKey,
  toLedgerEntry,
  type CandidateAction,
  type HpaState,
  type LedgerEntry,
  type ObservedObject,
  type OperatorSafetySettings,
  type PdbState,
  type SafetyDecision,
  type SafetyInput,
  type WorkloadState,
} from './types.js';
import { timestampMs } from '../k8s/time.js';
import { isNotFound } from '../k8s/errors.js';
import { parseResourceVersion } from '../k8s/resource-version.js';
import { confirmIntent, type IntentOrder } from './confirm.js';
import {
  checkAiRate,
  checkCooldown,
  checkGlobalBreaker,
  checkGlobalRate,
  checkInFlight,
  checkPaused,
  checkPolicyBreaker,
  checkPolicyRate,
  checkStorm,
  isEffectiveDryRun,
} from './rules.js';

/** The rules ahead of the storm rule that read only the ledger, the settings and the action (see stormFromCache). */
const LEDGER_RULES_BEFORE_STORM = [checkPaused, checkPolicyBreaker, checkGlobalBreaker, checkInFlight, checkCooldown, checkPolicyRate, checkGlobalRate, checkAiRate];

/** The policy's safety rules as the pure rules read them, for `action` (its trigger's cooldown). */
function policyRules(action: HealingAction, policy: AnyPolicy | undefined): SafetyInput['policy'] {
  const trigger = policy?.spec.triggers.find((x) => x.name === action.spec.trigger?.name);
  const safety = policy?.spec.safetyRules;
  return {
    maxActionsPerHour: safety?.maxActionsPerHour ?? DEFAULT_POLICY_SAFETY.maxActionsPerHour,
    protectedResources: safety?.protectedResources,
    maxUnavailable: safety?.maxUnavailable ?? DEFAULT_POLICY_SAFETY.maxUnavailable,
    cooldownMs: trigger?.cooldownPeriod ? parseDuration(trigger.cooldownPeriod) : DEFAULT_POLICY_SAFETY.cooldownMs,
  };
}

/** How long `confirm` waits for the cache to reflect the intent write before it lists the ledger live instead. */
const CONFIRM_CACHE_WAIT_MS = 5_000;

/** The HealingAction informer, as the gate reads it. */
export interface LedgerCache {
  /** Every cached HealingAction. */
  readonly actions: () => readonly HealingAction[];
  /** Resolves true once the cache reflects every write up to `resourceVersion` (Informer.waitForResourceVersion). */
  readonly waitFor: (resourceVersion: string, timeoutMs: number) => Promise<boolean>;
  /** The intent order learnt from the same informer. */
  readonly intents: Pick<IntentOrder, 'isBefore'>;
}

/** The API clients the gate reads with (core and apps are the executors' own clients). */
export interface GateClients extends ExecutorDeps {
  /** The executors' core calls, and namespaces (a cluster policy's namespaceSelector is judged on live labels). */
  readonly core: ExecutorDeps['core'] & Pick<k8s.CoreV1Api, 'readNamespace'>;
  readonly policy: k8s.PolicyV1Api;
  readonly autoscaling: k8s.AutoscalingV2Api;
  readonly customObjects: k8s.CustomObjectsApi;
}

type AnyObject = { metadata?: k8s.V1ObjectMeta; spec?: unknown; status?: unknown };

/**
 * Reads the target live; undefined when it does not exist (or is of a kind the executors do not handle). Uses
 * the executors' own read, so the gate sees exactly what they will act on.
 */
async function readLive(c: GateClients, ref: TargetRef, signal: AbortSignal): Promise<AnyObject | undefined> {
  if (!isObjectKind(ref.kind)) return undefined;
  try {
    return await readObject(c, ref.kind, ref.namespace, ref.name, signal);
  } catch (e: unknown) {
    if (isExecutorError(e, 'TargetGone')) return undefined;
    throw e;
  }
}

/** The pod's owning workload, read live through the executors' resolution (undefined for a bare pod). */
async function liveWorkload(c: GateClients, pod: k8s.V1Pod, signal: AbortSignal): Promise<{ ref: TargetRef; object: AnyObject } | undefined> {
  try {
    const w = await resolveOwningWorkload(c, pod, signal);
    if (!w) return undefined;
    const m = w.object.metadata;
    return {
      ref: { apiVersion: 'apps/v1', kind: w.kind, namespace: m?.namespace ?? '', name: m?.name ?? '', ...(m?.uid ? { uid: m.uid } : {}) },
      object: w.object,
    };
  } catch (e: unknown) {
    if (isExecutorError(e, 'TargetGone')) return undefined;
    throw e;
  }
}

function workloadState(obj: AnyObject | undefined): WorkloadState | undefined {
  if (!obj) return undefined;
  const spec = obj.spec as { replicas?: number } | undefined;
  const status = obj.status as { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number } | undefined;
  if (status && 'desiredNumberScheduled' in status) return { replicas: status.desiredNumberScheduled ?? 0, readyReplicas: status.numberReady ?? 0 };
  return { replicas: spec?.replicas ?? 1, readyReplicas: status?.readyReplicas ?? 0 };
}

/** The gate, with its clients and the operator's safety settings. */
export class SafetyGate {
  constructor(
    private readonly deps: {
      readonly clients: GateClients;
      /**
       * The operator-wide settings as they are now. May read the cluster (the pause switch is read live, like
       * everything else the gate decides on); a rejection fails the check, so nothing acts on unknown settings.
       */
      readonly settings: () => OperatorSafetySettings | Promise<OperatorSafetySettings>;
      /**
       * Which HealingActions count for budgets, breakers and storms: those in namespaces this operator serves
       * (its namespaceSelector). Default: all.
       */
      readonly inScope?: (namespace: string) => boolean;
      /** The HealingAction informer: the ledger outside the target's namespace is read from it (see the module comment). */
      readonly cache?: LedgerCache;
    },
  ) {}

  /** Every HealingAction in the cluster, as ledger entries (a live, consistent list). */
  async ledger(): Promise<LedgerEntry[]> {
    const list = (await this.deps.clients.customObjects.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'healingactions' })) as {
      items: HealingAction[];
    };
    return this.entries(list.items);
  }

  /**
   * The ledger a check of an action in `namespace` reads: that namespace's HealingActions listed live, the others
   * from the cache; all of it live without a cache.
   */
  async ledgerFor(namespace: string): Promise<LedgerEntry[]> {
    const cache = this.deps.cache;
    if (cache === undefined) return this.ledger();
    const live = (await this.deps.clients.customObjects.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'healingactions' })) as {
      items: HealingAction[];
    };
    return this.entries([...live.items, ...cache.actions().filter((a) => a.metadata.namespace !== namespace)]);
  }

  private entries(actions: readonly HealingAction[]): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (const a of actions) {
      if (this.deps.inScope && !this.deps.inScope(a.metadata.namespace ?? '')) continue;
      const workload = a.spec.workloadRef;
      const e = toLedgerEntry(a, workload ? { apiVersion: workload.apiVersion, kind: workload.kind, namespace: workload.namespace, name: workload.name, ...(workload.uid ? { uid: workload.uid } : {}) } : undefined);
      if (e) entries.push(e);
    }
    return entries;
  }

  /**
   * Check-after-write (confirm.ts): `written` is the action as the InProgress intent write returned it, `input` the
   * pre-check's input. Counts the budgets again over the intents written before this one — from the cache once it
   * has caught up with the write, else from a live list in which every entry counts as earlier. A dry run is always
   * confirmed (it spends no budget). Throws only on API errors of the live list.
   */
  async confirm(input: SafetyInput, written: HealingAction): Promise<SafetyDecision> {
    if (isEffectiveDryRun(input)) return { allowed: true, dryRun: true, notes: [] };
    const cache = this.deps.cache;
    const rv = written.metadata.resourceVersion;
    const mine = parseResourceVersion(rv);
    if (cache !== undefined && rv !== undefined && mine !== undefined && (await cache.waitFor(rv, CONFIRM_CACHE_WAIT_MS))) {
      return confirmIntent({ ...input, ledger: this.entries(cache.actions()) }, (e) => cache.intents.isBefore(e, mine));
    }
    return confirmIntent({ ...input, ledger: await this.ledger() }, () => true);
  }

  /** The labels of a namespace, read live; undefined when it does not exist. */
  private async namespaceLabels(namespace: string): Promise<Readonly<Record<string, string>> | undefined> {
    try {
      return (await this.deps.clients.core.readNamespace({ name: namespace })).metadata?.labels ?? {};
    } catch (e: unknown) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Builds the input for `action` of `policy` (undefined: the policy is gone) at `now` and evaluates it. `policy`
   * must be the one the action's policyRef names (kind, namespace, name). Returns the decision and the input
   * (recorded for explanations). Throws only on API errors other than NotFound.
   */
  async check(action: HealingAction, policy: AnyPolicy | undefined, now: number): Promise<{ decision: SafetyDecision; input?: SafetyInput }> {
    const c = this.deps.clients;
    const t = action.spec.targetResource;
    const ref: TargetRef = { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name, ...(t.uid ? { uid: t.uid } : {}) };
    const fast = await this.stormFromCache(action, policy, now);
    if (fast !== undefined) return { decision: fast };
    const signal = AbortSignal.timeout(30_000);
    // What does not depend on the target is read while the target is: one round trip less on the way to acting.
    const ledgerRead = this.ledgerFor(t.namespace);
    const settingsRead = Promise.resolve(this.deps.settings());
    // Neither may reject unobserved while the target is read (they are awaited below).
    ledgerRead.catch(() => undefined);
    settingsRead.catch(() => undefined);
    const target = await readLive(c, ref, signal);
    const labels = target?.metadata?.labels;
    const annotations = target?.metadata?.annotations;
    const uidMatches = !t.uid || !target?.metadata?.uid || target.metadata.uid === t.uid;

    let workloadRef: TargetRef | undefined;
    let workloadObj: AnyObject | undefined;
    if (target && t.kind === 'Pod') {
      const w = await liveWorkload(c, target as k8s.V1Pod, signal);
      workloadRef = w?.ref;
      workloadObj = w?.object;
    } else if (target) {
      workloadRef = ref;
      workloadObj = target;
    }
    const workload: ObservedObject | undefined = workloadRef
      ? { ref: workloadRef, labels: workloadObj?.metadata?.labels, annotations: workloadObj?.metadata?.annotations }
      : undefined;

    const pod = t.kind === 'Pod' ? (target as k8s.V1Pod | undefined) : undefined;
    const ready = pod ? pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') : undefined;
    const candidate: CandidateAction = {
      name: action.metadata.name ?? '',
      namespace: action.metadata.namespace ?? '',
      createdAt: timestampMs(action.metadata.creationTimestamp),
      policy: actionPolicyKey(action),
      trigger: action.spec.trigger?.name,
      target: { ref, labels, annotations, createdAt: timestampMs(target?.metadata?.creationTimestamp), ready },
      workload,
      type: action.spec.action.type,
      scale: action.spec.action.scaleAction
        ? {
            direction: action.spec.action.scaleAction.direction,
            replicas: action.spec.action.scaleAction.replicas,
            minReplicas: action.spec.action.scaleAction.minReplicas,
            maxReplicas: action.spec.action.scaleAction.maxReplicas,
          }
        : undefined,
      mechanism: undefined,
      source: action.spec.source ?? 'rule',
      dryRun: action.spec.dryRun ?? false,
    };

    // A cluster policy may select namespaces by label: the namespace as it is now decides, like the target does.
    const needsNamespaceLabels = policy?.kind === 'ClusterHealingPolicy' && 'namespaceSelector' in policy.spec.selector && policy.spec.selector.namespaceSelector !== undefined;
    const [ledger, pdbs, hpa, nsLabels] = await Promise.all([
      ledgerRead,
      pod ? this.pdbsFor(pod) : Promise.resolve([] as PdbState[]),
      workloadRef && action.spec.action.type === 'scale' ? this.hpaFor(workloadRef) : Promise.resolve(undefined),
      needsNamespaceLabels ? this.namespaceLabels(t.namespace) : Promise.resolve(undefined),
    ]);
    const policyKind = action.spec.policyRef.kind ?? 'HealingPolicy';
    const operator = await settingsRead;
    const gitOps = detectGitOps(workload?.labels ?? labels, workload?.annotations ?? annotations);
    const input: SafetyInput = {
      now,
      candidate,
      policy: policyRules(action, policy),
      operator,
      ledger,
      tenancy: {
        policyKind,
        policyNamespace: policyKind === 'ClusterHealingPolicy' ? '' : (action.spec.policyRef.namespace ?? action.metadata.namespace ?? ''),
        namespaceAllowed: policy !== undefined && policy.kind === policyKind && mayActInNamespace(policy, t.namespace, nsLabels),
        allowedNamespaces: policy === undefined ? 'no namespace (the policy is gone)' : describeNamespaces(policy),
      },
      selection: {
        exists: target !== undefined && uidMatches,
        matchesSelector: policy !== undefined && target !== undefined && selectsObject(policy, ref, labels, nsLabels),
      },
      workloadState: workloadState(workloadObj),
      pdbs,
      hpa,
      gitOps,
    };
    return { decision: evaluateSafety(input), input };
  }

  /**
   * The storm's fast path: with an informer cache, the storm rule is first asked over the cached ledger of the
   * target's namespace, before any live read. A storm leaves hundreds of actions queued in one namespace, and the
   * full check lists that namespace's ledger live for each of them — the fault suite's storm (300 crash-looping pods)
   * refused 0.3 actions a second that way and left most of them Pending for minutes. A denial from the cache is safe:
   * a cache can only lag behind the API server, so it never shows more fresh actions than there are (the ones it
   * misses could only add to a storm), and a denial mutates nothing. When the cache shows no storm, the full check
   * runs as before. Undefined = no verdict here.
   */
  private async stormFromCache(action: HealingAction, policy: AnyPolicy | undefined, now: number): Promise<SafetyDecision | undefined> {
    const cache = this.deps.cache;
    if (cache === undefined) return undefined;
    const operator = await this.deps.settings();
    if (operator.storm.maxTargetsFailing === undefined) return undefined;
    const t = action.spec.targetResource;
    const w = action.spec.workloadRef;
    const candidate: CandidateAction = {
      name: action.metadata.name ?? '',
      namespace: action.metadata.namespace ?? '',
      createdAt: timestampMs(action.metadata.creationTimestamp),
      policy: actionPolicyKey(action),
      trigger: action.spec.trigger?.name,
      target: { ref: { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name } },
      workload: w === undefined ? undefined : { ref: { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name } },
      type: action.spec.action.type,
      scale: undefined,
      mechanism: undefined,
      source: action.spec.source ?? 'rule',
      dryRun: action.spec.dryRun ?? false,
    };
    const ledger = this.entries(cache.actions());
    const storm = checkStorm({ now, operator, candidate, ledger: ledger.filter((e) => e.target.namespace === t.namespace) });
    if (storm === null || storm.allowed) return undefined;
    // The rules before the storm that read only the ledger and the settings keep their precedence: if one of them
    // would refuse (paused, a breaker, in flight, cooldown, a rate), the full check runs and names it, as always.
    // Those that read the live target (tenancy, selection, protection, replicas, PDB, HPA, GitOps) are not asked
    // here: in a storm the refusal's reason may then be the storm where the full check would have named one of them.
    // tenancy and selection are live facts these rules do not read; they are filled only to make the input whole.
    const partial: SafetyInput = {
      now,
      candidate,
      policy: policyRules(action, policy),
      operator,
      ledger,
      tenancy: { policyKind: 'HealingPolicy', policyNamespace: '', namespaceAllowed: true, allowedNamespaces: '' },
      selection: { exists: true, matchesSelector: true },
    };
    if (LEDGER_RULES_BEFORE_STORM.some((rule) => rule(partial)?.allowed === false)) return undefined;
    return { ...storm, message: `${storm.message} (seen in the operator's cache of HealingActions, before reading the target)` };
  }

  private async pdbsFor(pod: k8s.V1Pod): Promise<PdbState[]> {
    const list = await this.deps.clients.policy.listNamespacedPodDisruptionBudget({ namespace: pod.metadata?.namespace ?? '' });
    return list.items
      .filter((p) => p.spec?.selector !== undefined && matchesLabelSelector(p.spec.selector as Parameters<typeof matchesLabelSelector>[0], pod.metadata?.labels))
      .map((p) => ({
        name: p.metadata?.name ?? '',
        disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
        currentHealthy: p.status?.currentHealthy,
        desiredHealthy: p.status?.desiredHealthy,
        unhealthyPodEvictionPolicy: p.spec?.unhealthyPodEvictionPolicy as PdbState['unhealthyPodEvictionPolicy'],
      }));
  }

  private async hpaFor(workload: TargetRef): Promise<HpaState | undefined> {
    const list = await this.deps.clients.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: workload.namespace });
    const hpa = list.items.find((h) => h.spec?.scaleTargetRef.kind === workload.kind && h.spec.scaleTargetRef.name === workload.name);
    if (!hpa) return undefined;
    return { name: hpa.metadata?.name ?? '', minReplicas: hpa.spec?.minReplicas ?? 1, maxReplicas: hpa.spec?.maxReplicas ?? 1 };
  }
}


