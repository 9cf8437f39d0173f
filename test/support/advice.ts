/**
 * One realistic AdviceRequest (a leaking pod of the `web` Deployment in namespace `shop`, a predictive memory
 * trigger, the built-in analyzer recommending a restart) shared by the src/ai unit tests and the provider replay
 * test, plus a log recorder. The recorded answers in test/fixtures/llm/ are written against this request: its
 * action names and targets.
 */
import type { Recommendation } from '../../src/analysis/recommend.js';
import type { AdviceRequest } from '../../src/ai/request.js';
import type { TargetRef } from '../../src/metrics/types.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** The pod that breached. */
export const POD: TargetRef = { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-7c9f8d6b5-x2x4z', uid: 'b3c1f1d2-5a4e-4c1e-9f7a-2d1e0c9b8a71' };
/** Its Deployment. */
export const DEPLOYMENT: TargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };

/** The built-in analyzer's recommendation in the request. */
export const BUILTIN: Recommendation = {
  kind: 'action',
  rule: 'memory-forecast',
  action: { name: 'restart-pod', type: 'restart', priority: 10 },
  target: POD,
  priority: 10,
  confidence: 0.87,
  reasoning: [
    'memory: rising steadily at 0.42%/min (linear-leak); the limit in 18m (probability 87%)',
    'restart-pod (restart): restart before the OOM kill, at a time of our choosing',
  ],
  alternatives: [{ action: { name: 'raise-memory', type: 'patch', priority: 15 }, confidence: 0.35, whyNot: 'a higher limit only delays a leak' }],
};

/** The request, with `overrides` applied on top. */
export function adviceRequest(overrides: Partial<AdviceRequest> = {}): AdviceRequest {
  return {
    policy: { kind: 'HealingPolicy', namespace: 'shop', name: 'web-memory' },
    target: POD,
    trigger: {
      name: 'memory-leak',
      type: 'predictive',
      reason: 'memory_usage_percent forecast to reach 90% in 18m (linear-leak, probability 0.87)',
      values: { metric: 'memory_usage_percent', method: 'analyzer', pattern: 'linear-leak', eta: '18m', breachProbability: '0.87', confidence: '0.87' },
    },
    builtin: BUILTIN,
    assessments: {
      memory: { pattern: 'linear-leak', willBreach: true, secondsToLimit: 1080, breachProbability: 0.87, confidence: 0.87, levelNow: 82.4, slopePerMinute: 0.42, unit: '%' },
    },
    events: [{ reason: 'OOMKilling', type: 'Warning', count: 1, lastSeenSecondsAgo: 2400, message: 'Memory cgroup out of memory: Killed process 4242 (web)' }],
    conditions: [
      { type: 'Ready', status: 'True', forSeconds: 3000 },
      { type: 'OOMKilled', status: 'False', forSeconds: 3000 },
    ],
    allowedActions: [
      { name: 'restart-pod', type: 'restart', priority: 10 },
      { name: 'raise-memory', type: 'patch', priority: 15 },
      { name: 'scale-out', type: 'scale', priority: 20 },
    ],
    allowedTargets: [POD, DEPLOYMENT],
    ...overrides,
  };
}

/** A JSON answer as a model would write it, for the request above. */
export function answerJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    action: 'restart-pod',
    target: { kind: 'Pod', namespace: 'shop', name: POD.name },
    confidence: 0.8,
    reasoning: ['memory rises linearly and reaches the limit in about 18 minutes', 'a restart resets the leak before the OOM kill'],
    alternatives: [{ action: 'raise-memory', confidence: 0.3, whyNot: 'only delays the leak' }],
    ...overrides,
  });
}

/** A real JSON logger writing into `lines` (every level), so tests can assert on what would be logged. */
export function recordingLogger(): { logger: Logger; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (chunk: string) => lines.push(chunk) } });
  return { logger, lines, records: () => lines.flatMap((l) => l.split('\n')).filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}
