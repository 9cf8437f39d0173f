/**
 * The storm's evidence the policy controller keeps: when each workload of each namespace was last seen failing — a
 * trigger firing on it, or a HealingAction about it. Shared by every policy of the operator, so that a storm seen
 * through several policies is one storm. In memory only: after a restart the first evaluations refill it (every
 * workload that is still failing fires again), and the ledger's recent actions are fed back in by the controller.
 */
export class FailingWorkloads {
  private readonly byNamespace = new Map<string, Map<string, number>>();

  /** `windowMs`: how long a sighting counts (stormSuppression.windowSeconds); older ones are forgotten. */
  constructor(private readonly windowMs: number) {}

  /** Records that workload `key` (a targetKey) of `namespace` was seen failing at `at`; keeps the latest sighting. */
  record(namespace: string, key: string, at: number): void {
    let m = this.byNamespace.get(namespace);
    if (m === undefined) {
      m = new Map();
      this.byNamespace.set(namespace, m);
    }
    const previous = m.get(key);
    if (previous === undefined || previous < at) m.set(key, at);
  }

  /**
   * The sightings of `namespace` still within the window at `now`. Drops the older ones first, so memory holds only
   * the workloads that failed within one window.
   */
  of(namespace: string, now: number): ReadonlyMap<string, number> {
    const m = this.byNamespace.get(namespace);
    if (m === undefined) return new Map();
    for (const [k, at] of m) if (at <= now - this.windowMs) m.delete(k);
    if (m.size === 0) this.byNamespace.delete(namespace);
    return m;
  }
}
