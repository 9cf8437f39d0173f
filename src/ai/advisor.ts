/**
 * The LLM advisor: asks the configured provider to confirm or correct the built-in analyzer's recommendation for
 * one AI-decided firing, and falls back to the built-in recommendation on any failure. `advise` never throws and
 * never takes longer than the timeout (plus the time to notice it).
 *
 * Around the pure prompt (prompt.ts) and answer check (answer.ts) it adds what talking to a remote model needs:
 * - one overall deadline (ai.timeoutSeconds) covering every attempt and the back-off between them, on the
 *   injected clock;
 * - one retry, after a back-off (or the provider's Retry-After when longer), for transient failures only — a
 *   network error, HTTP 5xx or 429. A 401/403 or a bad answer is never retried: it would fail the same way;
 * - a concurrency limit: beyond `maxInFlight` requests the built-in analyzer decides at once (code Busy) rather
 *   than queueing — a reconcile never waits on a saturated model;
 * - a circuit: after `failureThreshold` consecutive failures the provider is not called for `circuitOpenMs`; then
 *   one trial request is let through, and its outcome closes or re-opens the circuit. Opening and closing are
 *   logged once each, not per call.
 *
 * The API key is a constructor argument (read once from the environment by config loading); it goes only into the
 * provider's Authorization header and is redacted from every message this module logs or returns. Logs carry the
 * decision, its confidence and reasoning and the prompt's size — never the prompt or the key.
 */
import type { Recommendation } from '../analysis/recommend.js';
import { targetKey } from '../metrics/types.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { Clock } from '../runtime/clock.js';
import { parseAnswer, type AdvisedRecommendation } from './answer.js';
import { AdviceError, type AdviceErrorCode } from './errors.js';
import { buildPrompt, type ChatMessage } from './prompt.js';
import type { ChatProvider, FetchFn } from './providers/http.js';
import { createOllamaProvider } from './providers/ollama.js';
import { createOpenAiProvider } from './providers/openai.js';
import type { AdviceRequest } from './request.js';
import { redactKnown } from './sanitize.js';

/** The LLM providers the operator speaks to. */
export type LlmProvider = 'openai' | 'ollama';

/** Options of {@link createAdvisor}. */
export interface AdvisorOptions {
  readonly provider: LlmProvider;
  /** The provider's base URL (ai.url). */
  readonly url: string;
  /** The model name (ai.model). */
  readonly model: string;
  /** Overall deadline of one `advise`, retries included (ai.timeoutSeconds × 1000). Must be > 0. */
  readonly timeoutMs: number;
  /** The API key (the value of the variable ai.apiKeyEnv names), if any. Never logged. */
  readonly apiKey?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Pick<OperatorMetrics, 'llmRequestsTotal' | 'llmRequestDurationSeconds'>;
  /** The HTTP call; global fetch by default. */
  readonly fetch?: FetchFn;
  /** Requests in flight at most; more fall back at once (code Busy). Default 2. */
  readonly maxInFlight?: number;
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failureThreshold?: number;
  /** How long an open circuit keeps the provider uncalled (ms). Default 5 min. */
  readonly circuitOpenMs?: number;
  /** Wait before the one retry of a transient failure (ms). Default 500. */
  readonly retryBackoffMs?: number;
}

/** The outcome of one `advise`. */
export type AdviceResult =
  | {
      /** The model answered and the answer passed every check. */
      readonly source: 'llm';
      readonly recommendation: AdvisedRecommendation;
    }
  | {
      /** The built-in analyzer decides: `recommendation` is the request's `builtin`, unchanged. */
      readonly source: 'builtin';
      readonly recommendation: Recommendation;
      readonly code: AdviceErrorCode;
      /** `<code>: <message>`, redacted; for logs, Events and the HealingAction's reasoning. */
      readonly fallbackReason: string;
    };

/** The circuit's state, for status and tests. */
export interface CircuitState {
  readonly state: 'closed' | 'open' | 'half-open';
  readonly consecutiveFailures: number;
  /** When an open circuit lets a trial request through (ms). */
  readonly openUntil?: number;
}

/** Asks an LLM; see the module comment. */
export interface Advisor {
  readonly provider: LlmProvider;
  readonly model: string;
  /** The LLM's recommendation for `request`, or the built-in one with the reason. Never rejects. */
  advise(request: AdviceRequest): Promise<AdviceResult>;
  circuit(): CircuitState;
}

const DEFAULTS = { maxInFlight: 2, failureThreshold: 5, circuitOpenMs: 5 * 60_000, retryBackoffMs: 500 } as const;

/** Codes that mean no request was sent: they say nothing about the provider's health. */
const NOT_SENT: ReadonlySet<AdviceErrorCode> = new Set(['Busy', 'CircuitOpen']);

/**
 * Builds an advisor for `options.provider`. Constructs the provider client only (no request is sent until
 * `advise`). Throws RangeError when timeoutMs or maxInFlight is not positive.
 */
export function createAdvisor(options: AdvisorOptions): Advisor {
  if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0, got ${options.timeoutMs}`);
  const maxInFlight = options.maxInFlight ?? DEFAULTS.maxInFlight;
  if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be ≥ 1, got ${maxInFlight}`);
  const failureThreshold = options.failureThreshold ?? DEFAULTS.failureThreshold;
  const circuitOpenMs = options.circuitOpenMs ?? DEFAULTS.circuitOpenMs;
  const retryBackoffMs = options.retryBackoffMs ?? DEFAULTS.retryBackoffMs;
  const { clock, metrics, apiKey } = options;
  const logger = options.logger.child({ component: 'llm-advisor' });
  const providerOptions = { url: options.url, model: options.model, ...(apiKey === undefined ? {} : { apiKey }), ...(options.fetch === undefined ? {} : { fetch: options.fetch }) };
  const provider: ChatProvider = options.provider === 'openai' ? createOpenAiProvider(providerOptions) : createOllamaProvider(providerOptions);
  const origin = `${options.provider} ${options.model}`;
  const redact = (s: string): string => redactKnown(s, [apiKey]);

  let inFlight = 0;
  let consecutiveFailures = 0;
  let openUntil: number | undefined;
  let trialInFlight = false;

  /** Whether a request may be sent now; marks the half-open trial when it is one. */
  function admit(now: number): AdviceError | { trial: boolean } {
    if (inFlight >= maxInFlight) return new AdviceError('Busy', `${inFlight} requests already in flight (limit ${maxInFlight})`);
    if (openUntil === undefined) return { trial: false };
    if (now < openUntil || trialInFlight) {
      return new AdviceError('CircuitOpen', `${consecutiveFailures} consecutive failures; the provider is not called until ${new Date(openUntil).toISOString()}`);
    }
    trialInFlight = true;
    return { trial: true };
  }

  function recordSuccess(): void {
    if (openUntil !== undefined) logger.info({ provider: options.provider, model: options.model }, 'LLM circuit closed: the provider answered again');
    openUntil = undefined;
    consecutiveFailures = 0;
  }

  function recordFailure(now: number, trial: boolean, error: AdviceError): void {
    consecutiveFailures++;
    if (trial || (openUntil === undefined && consecutiveFailures >= failureThreshold)) {
      openUntil = now + circuitOpenMs;
      logger.warn(
        { provider: options.provider, model: options.model, consecutiveFailures, lastCode: error.code, openForSeconds: Math.round(circuitOpenMs / 1000) },
        trial
          ? 'LLM circuit re-opened: the trial request failed; the built-in analyzer decides alone meanwhile'
          : 'LLM circuit open: too many consecutive failures; the built-in analyzer decides alone meanwhile',
      );
    }
  }

  /** Sends the prompt with the retry policy under `signal`; resolves to the raw answer text. Rejects with AdviceError. */
  async function ask(messages: readonly ChatMessage[], signal: AbortSignal, deadline: number, count: () => void): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      count();
      try {
        return await provider.complete(messages, signal);
      } catch (e: unknown) {
        const err = e instanceof AdviceError ? e : new AdviceError('Internal', `provider threw: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        if (attempt >= 2 || !err.transient) throw err;
        const wait = Math.max(retryBackoffMs, err.retryAfterMs ?? 0);
        // No time left for a retry to finish: report the failure itself rather than a timeout.
        if (clock.now() + wait >= deadline) throw err;
        try {
          await clock.sleep(wait, signal);
        } catch (abort: unknown) {
          throw abort instanceof AdviceError ? abort : new AdviceError('Timeout', 'no answer before the deadline', { cause: abort });
        }
      }
    }
  }

  async function advise(request: AdviceRequest): Promise<AdviceResult> {
    const startedAt = clock.now();
    const fields = {
      provider: options.provider,
      model: options.model,
      policy: `${request.policy.namespace === undefined || request.policy.namespace === '' ? '' : `${request.policy.namespace}/`}${request.policy.name}`,
      target: targetKey(request.target),
      builtin: request.builtin.kind === 'action' ? request.builtin.action.name : 'none',
    };
    const fallback = (error: AdviceError, extra: Record<string, unknown>): AdviceResult => {
      const reason = redact(`${error.code}: ${error.message}`);
      metrics?.llmRequestsTotal.inc({ provider: options.provider, result: `fallback-${error.code}` });
      const record = { ...fields, ...extra, code: error.code, ...(error.field === undefined ? {} : { field: error.field }), reason };
      if (NOT_SENT.has(error.code)) logger.debug(record, 'LLM not asked; the built-in analyzer decides');
      else if (error.code === 'Internal') logger.error(record, 'LLM advice failed on a defect; the built-in analyzer decides');
      else logger.warn(record, 'LLM advice failed; the built-in analyzer decides');
      return { source: 'builtin', recommendation: request.builtin, code: error.code, fallbackReason: reason };
    };

    const admitted = admit(startedAt);
    if (admitted instanceof AdviceError) return fallback(admitted, {});
    inFlight++;
    const deadline = startedAt + options.timeoutMs;
    const controller = new AbortController();
    const stopTimer = new AbortController();
    // The deadline runs on the injected clock, so tests step it instead of waiting.
    void clock.sleep(options.timeoutMs, stopTimer.signal).then(
      () => controller.abort(new AdviceError('Timeout', `no answer within ${options.timeoutMs} ms`)),
      () => undefined,
    );
    let attempts = 0;
    let promptChars = 0;
    try {
      const prompt = buildPrompt(request);
      promptChars = prompt.chars;
      const raw = await ask(prompt.messages, controller.signal, deadline, () => attempts++);
      const parsed = parseAnswer(raw, {
        allowedActions: request.allowedActions,
        allowedTargets: [request.target, ...request.allowedTargets],
        builtin: request.builtin,
        origin,
      });
      const durationMs = clock.now() - startedAt;
      metrics?.llmRequestDurationSeconds.observe({ provider: options.provider }, durationMs / 1000);
      if (!parsed.ok) {
        recordFailure(clock.now(), admitted.trial, parsed.error);
        return fallback(parsed.error, { promptChars, attempts, durationMs });
      }
      recordSuccess();
      const rec = parsed.recommendation;
      metrics?.llmRequestsTotal.inc({ provider: options.provider, result: 'ok' });
      logger.info(
        {
          ...fields,
          decision: rec.kind === 'action' ? rec.action.name : 'none',
          ...(rec.kind === 'action' ? { confidence: rec.confidence } : {}),
          agrees: (rec.kind === 'action' ? rec.action.name : 'none') === fields.builtin,
          reasoning: rec.reasoning,
          promptChars,
          attempts,
          durationMs,
        },
        'LLM recommendation',
      );
      return { source: 'llm', recommendation: rec };
    } catch (e: unknown) {
      const error = e instanceof AdviceError ? e : new AdviceError('Internal', e instanceof Error ? e.message : String(e), { cause: e });
      const durationMs = clock.now() - startedAt;
      if (attempts > 0) metrics?.llmRequestDurationSeconds.observe({ provider: options.provider }, durationMs / 1000);
      recordFailure(clock.now(), admitted.trial, error);
      return fallback(error, { promptChars, attempts, durationMs });
    } finally {
      stopTimer.abort();
      inFlight--;
      if (admitted.trial) trialInFlight = false;
    }
  }

  return {
    provider: options.provider,
    model: options.model,
    async advise(request) {
      try {
        return await advise(request);
      } catch (e: unknown) {
        // Only a defect in logging or metrics gets here; the promise still resolves to the built-in decision.
        return { source: 'builtin', recommendation: request.builtin, code: 'Internal', fallbackReason: redact(`Internal: ${e instanceof Error ? e.message : String(e)}`) };
      }
    },
    circuit() {
      const state = openUntil === undefined ? 'closed' : clock.now() >= openUntil ? 'half-open' : 'open';
      return { state, consecutiveFailures, ...(openUntil === undefined ? {} : { openUntil }) };
    },
  };
}
