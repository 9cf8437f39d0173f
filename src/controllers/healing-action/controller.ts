/**
 * The HealingAction reconciler (I/O shell): reads the action LIVE from the API server (never from a cache — a
 * stale read could execute twice), asks the state machine for the next step, performs it, and writes status with
 * a resourceVersion precondition, so two writers (or a stale decision) fail instead of both acting.
 *
 * The gate and the InProgress journal write happen under a lock per namespace: two actions in one namespace cannot
 * both pass a per-target or per-workload rule (cooldown, in flight, disruption budget, storm) that has room for
 * one, since the gate reads that namespace's ledger live. Actions of different namespaces are gated in parallel;
 * the budgets they share (operator-wide, AI, a cluster policy's) are counted again after the intent is written
 * (SafetyGate.confirm), which orders racing intents by their write.
 */
import type { HealingAction, HealingActionStatus } from '../../api/v1alpha1/healing-action.js';
import type { AnyPolicy } from '../../api/v1alpha1/healing-policy.js';
import type { EventSink } from '../../k8s/event-recorder.js';
import { isConflict, isNotFound } from '../../k8s/errors.js';
import type { SeriesStore } from '../../metrics/series-store.js';
import type { TargetRef } from '../../metrics/types.js';
import type { AuditLog } from '../../observability/audit-log.js';
import type { Logger } from '../../observability/logger.js';
import type { OperatorMetrics } from '../../observability/metrics.js';
import type { Clock } from '../../runtime/clock.js';
import { FencedError, type ReconcileResult } from '../../runtime/controller.js';
import { isExecutorError, type ExecutorErrorCode } from '../../remediation/errors.js';
import type { ExecutorRegistry } from '../../remediation/registry.js';
import type { Execution, ExecutionRequest, VerifySpec } from '../../remediation/types.js';
import type { SafetyGate } from '../../safety/gate.js';
import { safetyChecks } from '../../safety/verdicts.js';
import { actionPolicyId, actionPolicyKey, type PolicyId } from '../../safety/types.js';
import { parseDuration } from '../../triggers/duration.js';
import { formatValue } from '../../triggers/evaluate.js';
import { isoTime, setCondition } from '../conditions.js';
import { eventsForTransition, notificationOf, type Notification } from '../../notifications/events.js';
import { afterExecute, afterGate, afterPlan, afterVerify, nextStep, type ActionContext, type ExecutionOutcome, type StepEvent } from './state-machine.js';
import { checkTriggerCleared, clearanceSubject } from './verify-trigger.js';
import { failureObservedCondition, healingKind, healingOutcome, observedFailure } from './outcome.js';

/** Reads and writes of HealingActions. */
export interface ActionApi {
  /** Live read (not a cache). Undefined when gone. */
  readAction(namespace: string, name: string): Promise<HealingAction | undefined>;
  /** Writes status through the status subresource, failing with 409 if `resourceVersion` is stale. */
  writeStatus(namespace: string, name: string, resourceVersion: string, status: HealingActionStatus): Promise<HealingAction>;
}

/** Settings of the reconciler. */
export interface ActionReconcilerSettings {
  readonly approvalTtlMs: number;
  /** Per executor call. */
  readonly callTimeoutMs: number;
  /** How long a target must stay healthy before verification succeeds. */
  readonly stabilityMs?: number;
}

/** Dependencies of the reconciler. */
export interface HealingActionReconcilerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly events: EventSink;
  readonly audit: AuditLog;
  readonly api: ActionApi;
  readonly gate: Pick<SafetyGate, 'check' | 'confirm'>;
  readonly executors: ExecutorRegistry;
  readonly store: SeriesStore;
  /** The policy (either kind) from the cache. */
  readonly getPolicy: (id: PolicyId) => AnyPolicy | undefined;
  /**
   * Live read of a policy the cache does not have (yet): an action can reach us before its policy reaches the
   * cache, and must not be cancelled as "policy deleted" for that.
   */
  readonly readPolicy?: (id: PolicyId) => Promise<AnyPolicy | undefined>;
  readonly settings: ActionReconcilerSettings;
  /**
   * Fire-and-forget notifications of phase transitions (created, waiting-approval, succeeded, failed, blocked):
   * called after the status write succeeded; must return at once and never throw (the notifier only enqueues).
   */
  readonly notify?: (n: Notification) => void;
  /**
   * Fencing: true while this replica may act in the namespace (with leader election, `elector.isLeader()`, which
   * turns false by the clock once the last lease renewal is older than the renew deadline; sharded, the same for the
   * Lease of the namespace's shard; without it, always). Asked right before every
   * status write and again right before the executor mutates the target, so a leader that was frozen and wakes
   * after another replica took the Lease writes nothing and executes nothing — even an action whose InProgress
   * journal it wrote before freezing (the next leader finds that journal and verifies instead of executing). What
   * remains is the moment between the last check and the request leaving the process; the journal's
   * resourceVersion precondition and the executors' uid/resourceVersion preconditions cover it.
   */
  readonly mayAct?: (namespace?: string) => boolean;
}

/** Serialises async sections (the gate and its journal write). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release: () => void = () => undefined;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const OUTCOME_CODES: Readonly<Partial<Record<ExecutorErrorCode, Extract<ExecutionOutcome, { ok: false }>['code']>>> = {
  TargetGone: 'TargetGone',
  StaleDecision: 'StaleDecision',
  PdbBlocked: 'PdbBlocked',
  Rejected: 'Rejected',
  Forbidden: 'Forbidden',
  Unsupported: 'Unsupported',
  Invalid: 'Rejected',
  NotApplicable: 'Rejected',
  Transient: 'Transient',
  Aborted: 'Transient',
};

function toOutcome(e: unknown): Extract<ExecutionOutcome, { ok: false }> {
  if (isExecutorError(e)) return { ok: false, code: OUTCOME_CODES[e.code] ?? 'Transient', message: e.message };
  return { ok: false, code: 'Transient', message: e instanceof Error ? e.message : String(e) };
}

function subjectOf(a: HealingAction): TargetRef {
  return { apiVersion: 'kubeskippy.io/v1alpha1', kind: 'HealingAction', namespace: a.metadata.namespace ?? '', name: a.metadata.name ?? '', ...(a.metadata.uid ? { uid: a.metadata.uid } : {}) };
}

function targetOf(a: HealingAction): TargetRef {
  const t = a.spec.targetResource;
  return { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name, ...(t.uid ? { uid: t.uid } : {}) };
}

/** What verification needs when the execution record was lost (the operator died between execute and journal). */
export function fallbackVerifySpec(a: HealingAction): VerifySpec {
  const t = a.spec.targetResource;
  const w = a.spec.workloadRef;
  if (t.kind === 'Pod' && t.uid && (a.spec.action.type === 'restart' || a.spec.action.type === 'delete')) {
    return { kind: 'gone', object: { apiVersion: t.apiVersion, kind: t.kind, namespace: t.namespace, name: t.name, uid: t.uid } };
  }
  if (w?.uid && (w.kind === 'Deployment' || w.kind === 'StatefulSet' || w.kind === 'DaemonSet' || w.kind === 'ReplicaSet')) {
    return { kind: 'rollout', workload: { kind: w.kind, namespace: w.namespace, name: w.name, uid: w.uid }, generation: 0 };
  }
  return { kind: 'none' };
}

/** Reconciles HealingActions. */
export class HealingActionReconciler {
  private readonly deps: HealingActionReconcilerDeps;
  /** One gate lock per namespace (see the module comment); a lock is dropped when nobody holds or waits for it. */
  private readonly gateLocks = new Map<string, { mutex: Mutex; users: number }>();

  constructor(deps: HealingActionReconcilerDeps) {
    this.deps = deps;
  }

  /**
   * Throws FencedError when this replica may no longer act in `namespace` (see deps.mayAct): sharded, the Lease of
   * that namespace's shard must still be held by the clock, not only this replica's membership.
   */
  private fence(what: string, namespace: string): void {
    if (this.deps.mayAct !== undefined && !this.deps.mayAct(namespace)) throw new FencedError(`not ${what}: this replica no longer holds the lease for namespace ${namespace}`);
  }

  /** Reconciles `namespace/name`. Throws API errors (retried with back-off); a 409 on write means "re-read". */
  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const action = await this.deps.api.readAction(namespace, name);
    if (!action) return {};
    const policyId = actionPolicyId(action);
    const policy = this.deps.getPolicy(policyId) ?? (await this.deps.readPolicy?.(policyId));
    const ctx = this.context(policy);
    const step = nextStep(action, ctx);
    switch (step.kind) {
      case 'none':
        return {};
      case 'wait':
        return { requeueAfterMs: Math.max(100, step.until - ctx.now) };
      case 'write': {
        await this.write(action, step.status, step.event);
        return step.requeueAt === undefined ? { requeueAfterMs: 0 } : { requeueAfterMs: Math.max(100, step.requeueAt - ctx.now) };
      }
      case 'gate':
        return this.gateAndAct(namespace, name, policy, signal);
      case 'verify':
        return this.verify(action, policy, ctx, signal);
    }
  }

  private context(policy: AnyPolicy | undefined): ActionContext {
    const rules = policy?.spec.safetyRules;
    return {
      now: this.deps.clock.now(),
      policyExists: policy !== undefined,
      approvalTtlMs: this.deps.settings.approvalTtlMs,
      requireHealthCheck: rules?.requireHealthCheck ?? true,
      healthCheckTimeoutMs: parseDuration(rules?.healthCheckTimeout ?? '5m'),
      stabilityMs: this.deps.settings.stabilityMs ?? 0,
    };
  }

  private request(a: HealingAction, dryRun: boolean): ExecutionRequest {
    const w = a.spec.workloadRef;
    return {
      target: targetOf(a),
      action: a.spec.action,
      ...(w ? { workload: { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, ...(w.uid ? { uid: w.uid } : {}) } } : {}),
      dryRun,
    };
  }

  private execContext(signal: AbortSignal): { now: number; signal: AbortSignal } {
    return { now: this.deps.clock.now(), signal: AbortSignal.any([signal, AbortSignal.timeout(this.deps.settings.callTimeoutMs)]) };
  }

  private async write(a: HealingAction, status: HealingActionStatus, event?: StepEvent): Promise<HealingAction> {
    this.fence(`writing the status of ${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`, a.metadata.namespace ?? '');
    const updated = await this.deps.api.writeStatus(a.metadata.namespace ?? '', a.metadata.name ?? '', a.metadata.resourceVersion ?? '', status);
    if (event) {
      this.deps.events.record(subjectOf(a), event);
      if (event.type === 'Warning' || status.phase === 'Succeeded' || status.phase === 'Failed') {
        this.deps.events.record(targetOf(a), { ...event, message: `${a.metadata.name ?? ''}: ${event.message}` });
      }
    }
    const phase = status.phase;
    for (const event of eventsForTransition(a.status?.phase, phase)) this.deps.notify?.(notificationOf(event, a, status, isoTime(this.deps.clock.now())));
    if (phase && phase !== a.status?.phase) {
      this.deps.metrics.actionsTotal.inc({ policy: a.spec.policyRef.name, namespace: a.metadata.namespace ?? '', type: a.spec.action.type, phase, source: a.spec.source ?? 'rule' });
      this.countOutcome(a, status);
      this.deps.audit.write({
        policy: actionPolicyKey(a),
        decision: phase,
        target: `${a.spec.targetResource.kind}/${a.spec.targetResource.namespace}/${a.spec.targetResource.name}`,
        action: a.spec.action.type,
        ...(status.reason ? { reason: status.reason } : {}),
        ...(status.message ? { message: status.message } : {}),
        ...(a.spec.confidence !== undefined ? { confidence: a.spec.confidence } : {}),
        source: a.spec.source ?? 'rule',
        healingAction: a.metadata.name ?? '',
        dryRun: a.spec.dryRun ?? false,
      });
    }
    return updated;
  }

  /** Counts an action that just ended: healings by kind and result, time to heal, prevented failures. */
  private countOutcome(a: HealingAction, status: HealingActionStatus): void {
    const outcome = healingOutcome(a, status, this.deps.clock.now());
    if (outcome === undefined) return;
    const { metrics } = this.deps;
    metrics.healingsTotal.inc({ ...outcome.labels });
    if (outcome.timeToHealSeconds !== undefined) {
      metrics.timeToHealSeconds.observe({ policy: outcome.labels.policy, namespace: outcome.labels.namespace, source: outcome.labels.source }, outcome.timeToHealSeconds);
    }
    if (outcome.prevented) metrics.preventedFailuresTotal.inc({ policy: outcome.labels.policy, namespace: outcome.labels.namespace });
  }

  /** Latest value of every metric held for the action's target (for result.metricsBefore). */
  private snapshot(ref: TargetRef): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [metric, samples] of this.deps.store.observations(ref).series) {
      const last = samples.at(-1);
      if (last && metric.length <= 253) out[metric] = formatValue(metric, last.value);
      if (Object.keys(out).length >= 16) break;
    }
    return out;
  }

  private async underGateLock<T>(namespace: string, fn: () => Promise<T>): Promise<T> {
    let lock = this.gateLocks.get(namespace);
    if (lock === undefined) this.gateLocks.set(namespace, (lock = { mutex: new Mutex(), users: 0 }));
    lock.users++;
    try {
      return await lock.mutex.run(fn);
    } finally {
      if (--lock.users === 0) this.gateLocks.delete(namespace);
    }
  }

  private async gateAndAct(namespace: string, name: string, policy: AnyPolicy | undefined, signal: AbortSignal): Promise<ReconcileResult> {
    // Under the lock: re-read, gate, journal. The ledger the gate lists then includes every earlier journal write.
    const journal = await this.underGateLock(namespace, async () => {
      const a = await this.deps.api.readAction(namespace, name);
      if (!a) return undefined;
      const ctx = this.context(policy);
      const step = nextStep(a, ctx);
      if (step.kind !== 'gate') return { requeue: true as const };
      const { decision, input } = await this.deps.gate.check(a, policy, ctx.now);
      const gate = decision.allowed ? decision : { allowed: false as const, reason: decision.reason, message: decision.message };
      const out = afterGate(a, ctx, gate);
      if (!decision.allowed) {
        this.deps.metrics.safetyDenialsTotal.inc({ policy: a.spec.policyRef.name, namespace, reason: decision.reason });
        this.deps.logger.info({ action: `${namespace}/${name}`, reason: decision.reason, rule: decision.rule, message: decision.message }, 'safety gate denied');
      }
      const before = this.snapshot(a.spec.workloadRef ? { ...a.spec.workloadRef } : targetOf(a));
      // Every rule's verdict, not only the deciding one: `kubeskippy explain` shows them after the cluster moved on.
      const safety = input === undefined ? {} : { safety: safetyChecks(input) };
      // Whether a predictive action prevents a failure or repairs one is judged on what the target showed before the
      // mutation, recorded in the journal write: after it the pod may be gone, with its observations.
      const failure =
        out.then === 'execute' && healingKind(a) === 'predictive'
          ? { conditions: setCondition(out.status.conditions, failureObservedCondition(observedFailure(this.deps.store.observations(targetOf(a)), ctx.now)), ctx.now) }
          : {};
      const status: HealingActionStatus =
        out.then === 'stop'
          ? { ...out.status, ...safety }
          : { ...out.status, ...safety, ...failure, result: { ...(out.status.result ?? { success: false }), success: false, metricsBefore: { ...before, ...this.snapshot(targetOf(a)) } } };
      const written = await this.write(a, status, out.event);
      if (out.then === 'execute' && input !== undefined) {
        // Check-after-write: budgets shared with other writers are counted again over the intents written before
        // this one; if those used them up, give way before mutating anything (safety/confirm.ts).
        const confirmed = await this.deps.gate.confirm(input, written);
        if (!confirmed.allowed) {
          const back = afterGate(written, { ...ctx, now: this.deps.clock.now() }, { allowed: false, reason: confirmed.reason, message: confirmed.message });
          this.deps.metrics.safetyDenialsTotal.inc({ policy: a.spec.policyRef.name, namespace, reason: confirmed.reason });
          this.deps.logger.info({ action: `${namespace}/${name}`, reason: confirmed.reason, rule: confirmed.rule, message: confirmed.message }, 'intent reverted after the write');
          return { action: await this.write(written, back.status, back.event), then: 'stop' as const, ctx };
        }
      }
      return { action: written, then: out.then, ctx };
    });
    if (!journal) return {};
    if ('requeue' in journal) return { requeueAfterMs: 0 };
    const { action, then, ctx } = journal;
    if (then === 'stop') return {};
    const executor = this.deps.executors.get(action.spec.action.type);
    if (then === 'plan') {
      let planned: Parameters<typeof afterPlan>[2];
      try {
        const plan = await executor.plan(this.request(action, true), this.execContext(signal));
        planned = { ok: true, summary: plan.message, plan: { mechanism: plan.mechanism, object: plan.object, calls: plan.calls, serverDryRun: plan.serverDryRun, noop: plan.noop }, changes: plan.changes };
      } catch (e: unknown) {
        planned = { ok: false, message: toOutcome(e).message };
      }
      const status = afterPlan(action, { ...ctx, now: this.deps.clock.now() }, planned);
      await this.write(action, status, { type: planned.ok ? 'Normal' : 'Warning', reason: status.reason ?? 'DryRun', message: status.message ?? '' });
      return {};
    }
    // then === 'execute': the journal says InProgress; the mutation happens now, exactly once.
    const problems = executor.validate(this.request(action, false));
    let outcome: ExecutionOutcome;
    let execution: Execution | undefined;
    if (problems.length > 0) {
      outcome = { ok: false, code: 'Rejected', message: problems.join('; ') };
    } else {
      // The journal says InProgress with our executionId; if we lost the lease meanwhile, the next leader verifies it.
      this.fence(`executing ${namespace}/${name}`, namespace);
      try {
        execution = await executor.execute(this.request(action, false), this.execContext(signal));
        outcome = { ok: true, message: execution.message, changes: execution.changes };
      } catch (e: unknown) {
        // Refused at the wire (k8s/write-fence.ts): the Lease was lost on the way; the next leader verifies it.
        const fenced = fencedCause(e);
        if (fenced !== undefined) throw fenced;
        outcome = toOutcome(e);
      }
    }
    const next = afterExecute(action, { ...ctx, now: this.deps.clock.now() }, outcome);
    const status: HealingActionStatus = execution ? { ...next.status, execution: { ...execution } } : next.status;
    await this.writeAfterExecute(action, status, next.event);
    this.deps.logger.info({ action: `${namespace}/${name}`, outcome: outcome.ok ? 'executed' : outcome.code, message: outcome.message }, 'executed');
    return next.requeueAt === undefined ? {} : { requeueAfterMs: Math.max(0, next.requeueAt - this.deps.clock.now()) };
  }

  /**
   * The post-execution write must not be lost to a 409 from an unrelated status change: re-read and write again,
   * a few times. If it still fails, the action stays InProgress and the next reconcile verifies it (never
   * executes it again).
   */
  private async writeAfterExecute(a: HealingAction, status: HealingActionStatus, event: StepEvent): Promise<void> {
    let current = a;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.write(current, status, event);
        return;
      } catch (e: unknown) {
        if (!isConflict(e)) throw e;
        const fresh = await this.deps.api.readAction(a.metadata.namespace ?? '', a.metadata.name ?? '');
        if (!fresh || fresh.status?.executionId !== a.status?.executionId) return;
        current = fresh;
      }
    }
  }

  private async verify(a: HealingAction, policy: AnyPolicy | undefined, ctx: ActionContext, signal: AbortSignal): Promise<ReconcileResult> {
    const executor = this.deps.executors.get(a.spec.action.type);
    const recorded = a.status?.execution as Execution | undefined;
    const execution: Execution = recorded ?? {
      action: a.spec.action.type,
      mechanism: 'none',
      object: targetOf(a),
      changes: [],
      noop: false,
      message: 'execution record lost; verifying the target',
      executedAt: Date.parse(a.status?.startTime ?? '') || ctx.now,
      verify: fallbackVerifySpec(a),
    };
    const started = Date.parse(a.status?.startTime ?? '') || ctx.now;
    let v: Awaited<ReturnType<typeof executor.verify>>;
    try {
      v = await executor.verify(this.request(a, false), execution, this.execContext(signal));
    } catch (e: unknown) {
      const o = toOutcome(e);
      v = o.code === 'TargetGone' ? { status: 'progressing', message: o.message, checkAgainMs: 2000 } : { status: 'progressing', message: `verification check failed: ${o.message}`, checkAgainMs: 5000 };
    }
    let metricsAfter: Record<string, string> | undefined;
    if (v.status === 'healthy') {
      const w = a.spec.workloadRef;
      const r = v.replacement;
      const subject = clearanceSubject(
        targetOf(a),
        w ? { apiVersion: w.apiVersion, kind: w.kind, namespace: w.namespace, name: w.name, ...(w.uid ? { uid: w.uid } : {}) } : undefined,
        r ? { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name, ...(r.uid ? { uid: r.uid } : {}) } : undefined,
        (ref) => this.deps.store.has(ref),
      );
      const clearance =
        subject.kind === 'observe'
          ? checkTriggerCleared(a, policy, this.deps.store.observations(subject.ref), execution.executedAt, ctx.now)
          : subject.kind === 'gone'
            ? { status: 'cleared' as const, message: subject.message, metricsAfter: {} }
            : { status: 'pending' as const, message: subject.message };
      if (clearance.status === 'pending') v = { status: 'progressing', message: `${v.message}; ${clearance.message}`, checkAgainMs: 5000 };
      else if (clearance.status === 'still-firing') {
        metricsAfter = clearance.metricsAfter;
        v = { status: 'progressing', message: `${v.message}; ${clearance.message}`, checkAgainMs: 5000 };
      } else {
        metricsAfter = { ...(subject.kind === 'observe' ? this.snapshot(subject.ref) : {}), ...clearance.metricsAfter };
        v = { status: 'healthy', message: `${v.message}; ${clearance.message}` };
      }
    }
    const out = afterVerify(a, ctx, v, metricsAfter);
    if (out.status) {
      const result = out.status.phase === 'Succeeded' ? 'success' : 'failure';
      this.deps.metrics.verificationDurationSeconds.observe({ type: a.spec.action.type, result }, Math.max(0, ctx.now - started) / 1000);
      try {
        await this.write(a, out.status, out.event);
      } catch (e: unknown) {
        if (isNotFound(e)) return {};
        throw e;
      }
    }
    return out.requeueAt === undefined ? {} : { requeueAfterMs: Math.max(100, out.requeueAt - ctx.now) };
  }
}

/** The FencedError behind `e` (itself, or a cause an executor wrapped it in), if any. */
function fencedCause(e: unknown): FencedError | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) if (c instanceof FencedError) return c;
  return undefined;
}
