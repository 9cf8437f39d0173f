/**
 * Check-after-write for the budgets that span namespaces: the operator-wide budget, the AI budget and a
 * ClusterHealingPolicy's maxActionsPerHour.
 *
 * The gate decides before the InProgress intent is written. Two writers — replicas serving different shards
 * (docs/scaling.md), or one replica whose cache had not yet seen a write of the replica before it — can each see
 * one free slot and both write an intent. So after writing its intent, and before mutating anything, an action
 * checks again: it counts the executed actions of the rolling hour whose intent was written BEFORE its own, and
 * reverts to Blocked (RateLimited) if those alone use the budget. Two racing intents are ordered by the
 * resourceVersion of their intent writes, which is the API server's write order (comparable since KEP-5504): the
 * earlier one sees nothing of the later one and proceeds; the later one sees the earlier one and gives way. An entry
 * whose intent version is not known (seen for the first time already executed, after a relist) counts as earlier:
 * in doubt, an action gives way — the budget is never exceeded, at worst a slot stays unused.
 */
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import { parseResourceVersion } from '../k8s/resource-version.js';
import { checkAiRate, checkGlobalRate, checkPolicyRate, isEffectiveDryRun } from './rules.js';
import { hasExecuted, type LedgerEntry, type SafetyDecision, type SafetyInput } from './types.js';

/**
 * Where each executed HealingAction's intent falls in the API server's write order, learnt from the HealingAction
 * informer: the resourceVersion of the update that first carried its status.startTime. Feed it every add, update
 * and delete.
 */
export class IntentOrder {
  /** namespace/name → uid, the intent write's version, and whether it is exact (false: an upper bound). */
  private readonly marks = new Map<string, { readonly uid: string | undefined; readonly rv: bigint | undefined; readonly exact: boolean }>();

  /** An add (`old` undefined) or update from the informer. */
  observe(a: HealingAction, old?: HealingAction): void {
    const key = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
    if (a.status?.startTime === undefined) {
      this.marks.delete(key);
      return;
    }
    const known = this.marks.get(key);
    if (known !== undefined && known.uid === a.metadata.uid) return;
    // Exact only when we saw the update that set startTime; otherwise the object's version is an upper bound.
    const exact = old !== undefined && old.status?.startTime === undefined && old.metadata.uid === a.metadata.uid;
    this.marks.set(key, { uid: a.metadata.uid, rv: parseResourceVersion(a.metadata.resourceVersion), exact });
  }

  /** A delete from the informer. */
  forget(a: HealingAction): void {
    this.marks.delete(`${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`);
  }

  /** Whether entry `e`'s intent may have been written before the write at version `rv` (unknown: yes). */
  isBefore(e: Pick<LedgerEntry, 'namespace' | 'name'>, rv: bigint): boolean {
    const m = this.marks.get(`${e.namespace}/${e.name}`);
    if (m === undefined || m.rv === undefined) return true;
    return m.rv < rv || !m.exact;
  }

  /** Actions tracked (for tests and diagnostics). */
  get size(): number {
    return this.marks.size;
  }
}

/**
 * The budgets again, counting only what was written before the candidate's intent. `input` is the gate's input of
 * the pre-check with `ledger` replaced by the ledger read after the intent write; `before(e)` says whether an
 * executed entry's intent came first. Pure.
 */
export function confirmIntent(input: SafetyInput, before: (e: LedgerEntry) => boolean): SafetyDecision {
  // A dry run spends no budget.
  if (isEffectiveDryRun(input)) return { allowed: true, dryRun: true, notes: [] };
  const earlier: SafetyInput = { ...input, ledger: input.ledger.filter((e) => !hasExecuted(e) || before(e)) };
  for (const check of [checkPolicyRate, checkGlobalRate, checkAiRate]) {
    const r = check(earlier);
    if (r !== null && !r.allowed) {
      return { ...r, message: `${r.message} (checked again after writing the intent, before acting: earlier intents used the budget first)` };
    }
  }
  return { allowed: true, dryRun: false, notes: [] };
}
