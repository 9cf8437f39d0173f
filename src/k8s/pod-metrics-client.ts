/**
 * Lists PodMetrics from metrics.k8s.io through getJson (json-get.ts) rather than client-node's `Metrics`, which uses
 * `fetch`: the operator polls this list every 15 s, ~1.9 MB of JSON at 5 000 pods, and that costs it 32–37 ms of CPU
 * a poll this way against 59–74 ms through `fetch` (hack/bench/metrics-poll-cost.mjs on the local cluster).
 */
import { ApiException, type KubeConfig, type PodMetric } from '@kubernetes/client-node';
import { getJson } from './json-get.js';

/** The list the API returns (only `items` is read). */
export interface PodMetricsList {
  readonly items: PodMetric[];
}

/** Options of PodMetricsClient. */
export interface PodMetricsClientOptions {
  /**
   * Longest wait for the response's headers, and between two chunks of its body (ms): a metrics-server that stops
   * answering fails a poll instead of holding the poll loop. Default 30 000.
   */
  readonly timeoutMs?: number;
}

/** Reads metrics.k8s.io's pod metrics; satisfies MetricsServerCollector's PodMetricsSource. */
export class PodMetricsClient {
  private readonly kubeConfig: KubeConfig;
  private readonly timeoutMs: number;

  constructor(kubeConfig: KubeConfig, options: PodMetricsClientOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * Every pod's metrics in `namespace` (all namespaces when undefined or empty). Rejects as getJson does, and with
   * an ApiException when the answer is not a list.
   */
  async getPodMetrics(namespace?: string): Promise<PodMetricsList> {
    const path = namespace ? `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods` : '/apis/metrics.k8s.io/v1beta1/pods';
    const list = (await getJson(this.kubeConfig, path, { timeoutMs: this.timeoutMs })) as Partial<PodMetricsList> | null;
    if (list === null || typeof list !== 'object' || !Array.isArray(list.items)) throw new ApiException(500, `GET ${path}: the response is not a PodMetricsList`, undefined, {});
    return list as PodMetricsList;
  }
}
