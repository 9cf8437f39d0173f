/**
 * The rollback executor: a Deployment back to an earlier ReplicaSet revision, exactly as `kubectl rollout undo`
 * does it (kubectl `pkg/polymorphichelpers/rollback.go`, DeploymentRollbacker):
 * 1. list the ReplicaSets the Deployment controls, each carrying `deployment.kubernetes.io/revision`;
 * 2. pick the previous revision (the second highest) or the requested one — with one deliberate difference: a
 *    revision whose template differs from the current one only by a rollout restart (`restartedAt`) is passed over,
 *    because returning to it restores the very pods that are failing. A healing ladder restarts before it rolls
 *    back, and every rollout restart is a revision of its own; plain `kubectl rollout undo` after
 *    `kubectl rollout restart` has the same trap;
 * 3. skip if the Deployment's template already equals that ReplicaSet's (ignoring `pod-template-hash`);
 * 4. JSON-patch `/spec/template` with the ReplicaSet's template minus `pod-template-hash`, and `/metadata/annotations`
 *    with the ReplicaSet's annotations except the rollout bookkeeping ones, which keep the Deployment's values.
 * We add a resourceVersion precondition, so a rollback decided on a Deployment that changed since fails with
 * StaleDecision. A Pod target rolls back the Deployment that owns it.
 */
import type { V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import { PatchStrategy } from '@kubernetes/client-node';
import { callApi, ExecutorError } from '../errors.js';
import type { Execution, ExecutionContext, ExecutionRequest, Executor, ExecutorDeps, Plan, Verification, VerifySpec } from '../types.js';
import {
  assertNotDryRun,
  assertResourceVersion,
  assertUid,
  controllerOf,
  describeRef,
  labelSelectorFor,
  objectPath,
  patchObject,
  POD_TEMPLATE_HASH_LABEL,
  preconditionVersion,
  RESTARTED_AT_ANNOTATION,
  readObject,
  readWorkload,
  refOf,
  requestOptions,
  REVISION_ANNOTATION,
  targetProblems,
  throwIfProblems,
  toPlain,
  verifyOutcome,
  workloadForPod,
  type ObjectKind,
  type Problem,
} from '../workload.js';
import { diffObjects, stableStringify, type JsonPatchOperation } from './patch.js';

const ROLLBACK_KINDS: readonly ObjectKind[] = ['Pod', 'Deployment'];

/**
 * Annotations kubectl does not copy from the ReplicaSet back to the Deployment: they describe the rollout itself
 * (kubectl's `annotationsToSkip`).
 */
export const ROLLBACK_SKIPPED_ANNOTATIONS: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** A ReplicaSet as a rollback candidate. */
export interface RevisionCandidate {
  readonly name: string;
  readonly uid: string;
  readonly revision: number;
  /** Its template equals the Deployment's current one apart from a rollout restart: not worth returning to. */
  readonly restartOfCurrent?: boolean;
}

/** The revision number of a ReplicaSet or Deployment (its revision annotation), or undefined. Pure. */
export function revisionOf(annotations: Readonly<Record<string, string>> | undefined): number | undefined {
  const raw = annotations?.[REVISION_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number.parseInt(raw, 10);
}

/** Result of revision selection: the ReplicaSet to return to, or why there is none. */
export type RevisionSelection = { readonly ok: true; readonly candidate: RevisionCandidate } | { readonly ok: false; readonly reason: string };

/**
 * Picks the ReplicaSet to roll back to, as kubectl does: with no requested revision (or 0), the highest revision
 * below the current (highest) one, passing over those marked `restartOfCurrent`; otherwise the one with exactly the
 * requested revision (an explicit request is honoured as given). Pure.
 */
export function selectRollbackRevision(candidates: readonly RevisionCandidate[], requested?: number): RevisionSelection {
  if (candidates.length === 0) return { ok: false, reason: 'no rollout history found (the Deployment controls no ReplicaSet with a revision)' };
  if (requested !== undefined && requested > 0) {
    const match = candidates.find((c) => c.revision === requested);
    const known = [...new Set(candidates.map((c) => c.revision))].sort((a, b) => a - b).join(', ');
    return match ? { ok: true, candidate: match } : { ok: false, reason: `revision ${requested} is not in the rollout history (revisions: ${known})` };
  }
  const sorted = [...candidates].sort((a, b) => b.revision - a.revision || a.name.localeCompare(b.name));
  const latest = sorted[0];
  const older = sorted.filter((c) => latest !== undefined && c.revision < latest.revision);
  const previous = older.find((c) => c.restartOfCurrent !== true);
  if (!latest || older.length === 0) return { ok: false, reason: `no previous revision to roll back to (only revision ${latest?.revision ?? '?'} exists)` };
  if (!previous) {
    const revisions = older.map((c) => c.revision).sort((a, b) => a - b).join(', ');
    return { ok: false, reason: `no previous revision to roll back to: revisions ${revisions} differ from the current template only by a rollout restart` };
  }
  return { ok: true, candidate: previous };
}

/** The pod template to restore: the ReplicaSet's, as plain JSON, without the pod-template-hash label. Pure. */
export function rollbackTemplate(template: V1PodTemplateSpec | undefined): Record<string, unknown> {
  const plain = (toPlain(template) ?? {}) as Record<string, unknown>;
  const meta = (plain['metadata'] ?? {}) as Record<string, unknown>;
  const labels = { ...((meta['labels'] ?? {}) as Record<string, string>) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  const { labels: _drop, ...restMeta } = meta;
  return { ...plain, metadata: { ...restMeta, ...(Object.keys(labels).length > 0 ? { labels } : {}) } };
}

/** Whether two pod templates are equal once pod-template-hash is ignored (kubectl's EqualIgnoreHash). Pure. */
export function templatesEqualIgnoringHash(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return stableStringify(rollbackTemplate(a)) === stableStringify(rollbackTemplate(b));
}

function withoutRestartedAt(template: V1PodTemplateSpec | undefined): Record<string, unknown> {
  const plain = rollbackTemplate(template);
  const meta = (plain['metadata'] ?? {}) as Record<string, unknown>;
  const annotations = { ...((meta['annotations'] ?? {}) as Record<string, string>) };
  delete annotations[RESTARTED_AT_ANNOTATION];
  const { annotations: _drop, ...restMeta } = meta;
  return { ...plain, metadata: { ...restMeta, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) } };
}

/** Whether two pod templates differ at most by pod-template-hash and a rollout restart's restartedAt. Pure. */
export function templatesEqualIgnoringRestart(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  return stableStringify(withoutRestartedAt(a)) === stableStringify(withoutRestartedAt(b));
}

/**
 * The Deployment annotations after a rollback (kubectl's rule): the Deployment keeps its own values of the skipped
 * bookkeeping annotations, and takes every other annotation from the ReplicaSet. Pure.
 */
export function rollbackAnnotations(
  deployment: Readonly<Record<string, string>> | undefined,
  replicaSet: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ROLLBACK_SKIPPED_ANNOTATIONS) {
    const v = deployment?.[k];
    if (v !== undefined) out[k] = v;
  }
  for (const [k, v] of Object.entries(replicaSet ?? {})) if (!ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) out[k] = v;
  return out;
}

/** The JSON patch of a rollback, with the resourceVersion precondition first. Pure. */
export function rollbackPatch(deployment: V1Deployment, rs: V1ReplicaSet, resourceVersion: string): JsonPatchOperation[] {
  return [
    { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
    { op: 'replace', path: '/spec/template', value: rollbackTemplate(rs.spec?.template) },
    // "add" replaces an existing member and also works when the Deployment has no annotations at all.
    { op: 'add', path: '/metadata/annotations', value: rollbackAnnotations(deployment.metadata?.annotations, rs.metadata?.annotations) },
  ];
}

interface RollbackDecision {
  readonly deployment: V1Deployment;
  readonly resourceVersion: string;
  readonly target?: V1ReplicaSet;
  readonly targetRevision?: number;
  readonly skipReason?: string;
  readonly viaPod?: string;
}

/**
 * Rolls a Deployment (or a Pod's Deployment) back to its previous or a given revision. Throws NotApplicable when
 * there is no such revision or the Deployment is paused, StaleDecision on a failed precondition. verify: the rollout
 * is complete and the Deployment runs the restored ReplicaSet.
 */
export class RollbackExecutor implements Executor {
  readonly type = 'rollback' as const;

  constructor(private readonly deps: ExecutorDeps) {}

  private problems(request: ExecutionRequest): Problem[] {
    const out = targetProblems(request, this.type, ROLLBACK_KINDS);
    const r = request.action.rollbackAction?.revision;
    if (r !== undefined && (!Number.isInteger(r) || r < 0)) out.push({ code: 'Invalid', message: 'rollbackAction.revision must be a non-negative integer' });
    return out;
  }

  /** See Executor.validate. */
  validate(request: ExecutionRequest): string[] {
    return this.problems(request).map((p) => p.message);
  }

  private async decide(request: ExecutionRequest, ctx: ExecutionContext): Promise<RollbackDecision> {
    throwIfProblems(this.problems(request));
    const t = request.target;
    let deployment: V1Deployment;
    let resourceVersion: string;
    let viaPod: string | undefined;
    if (t.kind === 'Pod') {
      const pod = (await readObject(this.deps, 'Pod', t.namespace, t.name, ctx.signal)) as V1Pod;
      assertUid(t.uid, pod, describeRef(t));
      assertResourceVersion(t.resourceVersion, pod, describeRef(t));
      const w = await workloadForPod(this.deps, pod, request.workload, ctx.signal);
      if (!w) throw new ExecutorError('NotApplicable', `${describeRef(t)} is not managed by a Deployment: nothing to roll back`);
      if (w.kind !== 'Deployment') throw new ExecutorError('Unsupported', `${describeRef(t)} belongs to a ${w.kind}; rollback supports Deployments only`);
      deployment = w.object;
      resourceVersion = preconditionVersion(request.workload?.resourceVersion, deployment, `Deployment ${t.namespace}/${deployment.metadata?.name ?? '?'}`);
      viaPod = t.name;
    } else {
      const w = await readWorkload(this.deps, 'Deployment', t.namespace, t.name, ctx.signal);
      deployment = w.object as V1Deployment;
      assertUid(t.uid, deployment, describeRef(t));
      resourceVersion = preconditionVersion(t.resourceVersion, deployment, describeRef(t));
    }
    const name = deployment.metadata?.name ?? '';
    if (deployment.spec?.paused === true) {
      throw new ExecutorError('NotApplicable', `Deployment ${t.namespace}/${name} is paused: a paused Deployment cannot be rolled back (resume it first)`);
    }
    const uid = deployment.metadata?.uid ?? '';
    const labelSelector = labelSelectorFor(deployment.spec?.selector?.matchLabels);
    const list = await callApi({ what: `list ReplicaSets of Deployment ${t.namespace}/${name}`, signal: ctx.signal }, () =>
      this.deps.apps.listNamespacedReplicaSet({ namespace: t.namespace, ...(labelSelector ? { labelSelector } : {}) }, requestOptions(ctx.signal)),
    );
    const owned = list.items.filter((rs) => controllerOf(rs.metadata)?.uid === uid);
    const candidates = owned.flatMap((rs): RevisionCandidate[] => {
      const revision = revisionOf(rs.metadata?.annotations);
      if (revision === undefined) return [];
      const restartOfCurrent = templatesEqualIgnoringRestart(rs.spec?.template, deployment.spec?.template);
      return [{ name: rs.metadata?.name ?? '', uid: rs.metadata?.uid ?? '', revision, ...(restartOfCurrent ? { restartOfCurrent } : {}) }];
    });
    const selection = selectRollbackRevision(candidates, request.action.rollbackAction?.revision);
    if (!selection.ok) throw new ExecutorError('NotApplicable', `cannot roll back Deployment ${t.namespace}/${name}: ${selection.reason}`);
    const target = owned.find((rs) => rs.metadata?.uid === selection.candidate.uid);
    const base = { deployment, resourceVersion, ...(viaPod ? { viaPod } : {}) };
    if (!target) throw new ExecutorError('Transient', `ReplicaSet ${selection.candidate.name} vanished while planning the rollback`);
    if (templatesEqualIgnoringHash(target.spec?.template, deployment.spec?.template)) {
      return { ...base, targetRevision: selection.candidate.revision, skipReason: `the current template already matches revision ${selection.candidate.revision}` };
    }
    return { ...base, target, targetRevision: selection.candidate.revision };
  }

  private describe(d: RollbackDecision): string {
    const dep = `Deployment ${d.deployment.metadata?.namespace ?? ''}/${d.deployment.metadata?.name ?? ''}`;
    return d.viaPod ? `${dep} (owner of pod ${d.viaPod})` : dep;
  }

  /** See Executor.plan: a server-side dry run of the rollback patch, diffed against the current Deployment. */
  async plan(request: ExecutionRequest, ctx: ExecutionContext): Promise<Plan> {
    const d = await this.decide(request, ctx);
    const ns = d.deployment.metadata?.namespace ?? '';
    const name = d.deployment.metadata?.name ?? '';
    if (!d.target) {
      return { action: this.type, mechanism: 'none', object: refOf('Deployment', d.deployment), changes: [], calls: [], noop: true, serverDryRun: false, message: `skipped rollback of ${this.describe(d)}: ${d.skipReason ?? ''}` };
    }
    const body = rollbackPatch(d.deployment, d.target, d.resourceVersion);
    const result = await patchObject(this.deps, 'Deployment', ns, name, body, PatchStrategy.JsonPatch, {
      dryRun: true,
      signal: ctx.signal,
      what: `roll back Deployment ${ns}/${name} (dry run)`,
    });
    const changes = diffObjects(d.deployment, result);
    return {
      action: this.type,
      mechanism: 'rollback',
      object: refOf('Deployment', d.deployment),
      changes,
      calls: [{ method: 'PATCH', path: objectPath('Deployment', ns, name), contentType: PatchStrategy.JsonPatch, body }],
      noop: changes.length === 0,
      serverDryRun: true,
      message: `would roll back ${this.describe(d)} from revision ${revisionOf(d.deployment.metadata?.annotations) ?? '?'} to revision ${d.targetRevision ?? '?'} (ReplicaSet ${d.target.metadata?.name ?? '?'})`,
    };
  }

  /** See Executor.execute. */
  async execute(request: ExecutionRequest, ctx: ExecutionContext): Promise<Execution> {
    assertNotDryRun(request, this.type);
    const d = await this.decide(request, ctx);
    const ns = d.deployment.metadata?.namespace ?? '';
    const name = d.deployment.metadata?.name ?? '';
    if (!d.target) {
      return {
        action: this.type,
        mechanism: 'none',
        object: refOf('Deployment', d.deployment),
        changes: [],
        noop: true,
        message: `skipped rollback of ${this.describe(d)}: ${d.skipReason ?? ''}`,
        executedAt: ctx.now,
        verify: { kind: 'none' },
      };
    }
    const after = (await patchObject(this.deps, 'Deployment', ns, name, rollbackPatch(d.deployment, d.target, d.resourceVersion), PatchStrategy.JsonPatch, {
      dryRun: false,
      signal: ctx.signal,
      what: `roll back Deployment ${ns}/${name}`,
    })) as V1Deployment;
    const from = revisionOf(d.deployment.metadata?.annotations);
    ctx.log?.('info', 'rolled back', { deployment: `${ns}/${name}`, from, to: d.targetRevision });
    const verify: VerifySpec = {
      kind: 'rollout',
      workload: { kind: 'Deployment', namespace: ns, name, uid: after.metadata?.uid ?? '' },
      generation: after.metadata?.generation ?? 0,
      replicaSetUid: d.target.metadata?.uid ?? '',
    };
    return {
      action: this.type,
      mechanism: 'rollback',
      object: refOf('Deployment', after),
      changes: diffObjects(d.deployment, after),
      noop: false,
      message: `rolled back ${this.describe(d)} from revision ${from ?? '?'} to revision ${d.targetRevision ?? '?'} (ReplicaSet ${d.target.metadata?.name ?? '?'})`,
      executedAt: ctx.now,
      verify,
    };
  }

  /** See Executor.verify: rollout complete, running the restored ReplicaSet. */
  verify(_request: ExecutionRequest, execution: Execution, ctx: ExecutionContext): Promise<Verification> {
    return verifyOutcome(this.deps, execution.verify, ctx);
  }
}
