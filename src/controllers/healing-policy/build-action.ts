/** Turns a proposal of the policy decision into the HealingAction object to create. Pure. */
import { API_VERSION } from '../../api/v1alpha1/common.js';
import type { HealingAction } from '../../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../../api/v1alpha1/healing-policy.js';
import { targetKey } from '../../metrics/types.js';
import { isoTime } from '../conditions.js';
import type { ActionProposal } from './decide.js';

/** Labels every HealingAction carries, so the ledger can be read per policy, trigger and target. */
export const LABELS = {
  policy: 'kubeskippy.io/policy',
  /** Present (value "true") on actions of a ClusterHealingPolicy, so the two kinds' ledgers never mix. */
  clusterPolicy: 'kubeskippy.io/cluster-policy',
  trigger: 'kubeskippy.io/trigger',
  targetKind: 'kubeskippy.io/target-kind',
  targetName: 'kubeskippy.io/target-name',
  targetUid: 'kubeskippy.io/target-uid',
  action: 'kubeskippy.io/action',
} as const;

/** The annotation carrying an AI-originated action's confidence (0.00–1.00). */
export const AI_CONFIDENCE_ANNOTATION = 'kubeskippy.io/ai-confidence';

/** Makes a string a valid label value (≤ 63 chars of [A-Za-z0-9._-], alphanumeric at both ends). */
export function labelValue(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * The HealingAction for a proposal: owned by the policy, labelled for the ledger, with the observations that fired.
 * It lives in the target's namespace — for a HealingPolicy that is the policy's own (selection never leaves it);
 * for a ClusterHealingPolicy it is where the team that owns the target can read and approve it.
 */
export function buildHealingAction(policy: AnyPolicy, p: ActionProposal, now: number): HealingAction {
  const ref = p.target.ref;
  const cluster = policy.kind === 'ClusterHealingPolicy';
  const namespace = ref.namespace;
  const w = p.target.workload ?? (ref.kind === 'Pod' ? undefined : ref);
  const workload = w ? { apiVersion: w.apiVersion, kind: w.kind, name: w.name, namespace: w.namespace, ...(w.uid ? { uid: w.uid } : {}) } : undefined;
  const values = Object.fromEntries(Object.entries(p.firing.values).map(([k, v]) => [k.slice(0, 253), v.slice(0, 1024)]));
  return {
    apiVersion: API_VERSION,
    kind: 'HealingAction',
    metadata: {
      name: p.name,
      namespace,
      labels: {
        [LABELS.policy]: labelValue(policy.metadata.name ?? ''),
        ...(cluster ? { [LABELS.clusterPolicy]: 'true' } : {}),
        [LABELS.trigger]: labelValue(p.firing.trigger),
        [LABELS.targetKind]: labelValue(ref.kind),
        [LABELS.targetName]: labelValue(ref.name),
        [LABELS.action]: labelValue(p.action.name),
        ...(ref.uid ? { [LABELS.targetUid]: labelValue(ref.uid) } : {}),
      },
      annotations: {
        'kubeskippy.io/target': targetKey(ref),
        // Where kubectl and the seed's jq one-liners look for it.
        ...(p.ai ? { [AI_CONFIDENCE_ANNOTATION]: p.ai.confidence.toFixed(2) } : {}),
      },
      ownerReferences: [
        {
          // A namespaced object may be owned by a cluster-scoped one: deleting the cluster policy collects its actions.
          apiVersion: API_VERSION,
          kind: policy.kind,
          name: policy.metadata.name ?? '',
          uid: policy.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    spec: {
      policyRef: {
        kind: policy.kind,
        name: policy.metadata.name ?? '',
        ...(cluster ? {} : { namespace: policy.metadata.namespace ?? namespace }),
        ...(policy.metadata.uid ? { uid: policy.metadata.uid } : {}),
      },
      targetResource: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: ref.namespace, ...(ref.uid ? { uid: ref.uid } : {}) },
      ...(workload ? { workloadRef: workload } : {}),
      action: p.action,
      trigger: {
        name: p.firing.trigger,
        type: p.firing.type,
        firedAt: isoTime(p.firing.since || now),
        reason: p.firing.reason.slice(0, 1024),
        ...(p.firing.observedValue !== undefined && Number.isFinite(p.firing.observedValue) ? { observedValue: p.firing.observedValue } : {}),
        ...(p.firing.threshold !== undefined && Number.isFinite(p.firing.threshold) ? { threshold: p.firing.threshold } : {}),
        values,
      },
      approvalRequired: p.approvalRequired,
      dryRun: p.dryRun,
      source: p.ai ? 'ai' : 'rule',
      ...(p.ai
        ? {
            confidence: Math.round(p.ai.confidence * 1000) / 1000,
            alternatives: p.ai.alternatives.slice(0, 16).map((a) => ({ action: a.action.slice(0, 63), confidence: Math.round(a.confidence * 1000) / 1000, reason: a.reason.slice(0, 1024) })),
          }
        : {}),
      reasoning: [p.firing.reason, ...(p.ai?.reasoning ?? []), p.rationale].slice(0, 32).map((s) => s.slice(0, 1024)),
      escalationLevel: Math.min(p.escalationLevel, 16),
    },
  };
}
