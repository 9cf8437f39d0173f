/**
 * What the operator knows about each target, as plain data. Collectors fill it; trigger evaluation, the analyzer
 * and the dashboard read it. Times are ms since the epoch.
 */

/** A Kubernetes object a policy watches or acts on. */
export interface TargetRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** The key of a target in maps and queues: "Kind/namespace/name". */
export function targetKey(t: Pick<TargetRef, 'kind' | 'namespace' | 'name'>): string {
  return `${t.kind}/${t.namespace}/${t.name}`;
}

/**
 * What changed in a target's observations, as a collector reports it: the policy controller re-evaluates only the
 * policies that read what changed (metrics, conditions, events) and whose selector can select the target, instead of
 * every policy of the namespace on every pod update.
 */
export interface ObservationChange {
  readonly target: TargetRef;
  /** The target's labels, when the collector knows them: a policy whose label selector rules them out is skipped. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Built-in metric names whose latest value changed. */
  readonly metrics?: readonly string[];
  /** Some metric changed, the collector does not say which (PromQL results): every policy with a metric trigger. */
  readonly anyMetric?: boolean;
  /** A condition (or container-state pseudo-condition) changed status or reason. */
  readonly conditions?: boolean;
  /** An Event was recorded for the target. */
  readonly events?: boolean;
  /**
   * What selection looks at changed: the target appeared or went away, its labels changed, or it finished or
   * started terminating. Every policy of the namespace that selects the kind is re-evaluated, label selector or not
   * (the old labels may have matched).
   */
  readonly selection?: boolean;
}

/** One observation of a numeric metric. */
export interface Sample {
  readonly at: number;
  readonly value: number;
}

/** The current state of a condition (object condition or container-state pseudo-condition) and since when. */
export interface ConditionState {
  readonly status: 'True' | 'False' | 'Unknown';
  /** When the condition entered this status (lastTransitionTime, or when first observed). */
  readonly since: number;
  readonly reason?: string;
  readonly message?: string;
}

/** Occurrences of one Kubernetes Event observed at one time (count = how many new occurrences). */
export interface EventOccurrence {
  readonly at: number;
  readonly reason: string;
  /** 'Normal' or 'Warning' for core Events; kept as a string because other reporters use their own. */
  readonly type: string;
  readonly count: number;
  readonly message?: string;
}

/** Everything observed about one target, as the trigger evaluator and analyzer consume it. */
export interface TargetObservations {
  readonly target: TargetRef;
  /** metric name (built-in name or PromQL query string) → samples in ascending time order. */
  readonly series: ReadonlyMap<string, readonly Sample[]>;
  /** condition type → current state. Includes pod conditions (Ready, …) and container states (CrashLoopBackOff, OOMKilled, …). */
  readonly conditions: ReadonlyMap<string, ConditionState>;
  /** Events involving the target, ascending by time. */
  readonly events: readonly EventOccurrence[];
  /** Metric name → why it could not be collected (metrics-server down, PromQL error, no limit set …). */
  readonly unavailable: ReadonlyMap<string, string>;
}
