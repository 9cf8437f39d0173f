/**
 * Sends notifications to the configured sinks without ever holding up the controllers: `notify` only enqueues
 * (synchronously, never throws); one sender per sink drains its own bounded queue, so a slow or hanging sink delays
 * only itself. A full queue drops the new notification (counted). Each send is retried with exponential backoff on
 * network errors, timeouts, 429 and 5xx; any other answer is final. Every outcome is counted in
 * kubeskippy_notifications_total{sink,result} — sent, failed, dropped.
 *
 * Secrets stay out of logs: a sink is named by its `name` only (a Slack URL carries its token), header values
 * come from environment variables at send time and are never logged, nor are response bodies.
 */
import type { NotificationEvent } from '../config/operator-config.js';
import type { Logger } from '../observability/logger.js';
import type { Clock } from '../runtime/clock.js';
import { slackPayload, webhookPayload, type Notification } from './events.js';

/** One sink, as configured (OperatorConfig.notifications.sinks[]). */
export interface SinkConfig {
  readonly name: string;
  readonly kind: 'webhook' | 'slack';
  /** Where to POST; or, with urlFromEnv, the environment variable that holds it (read at send time). */
  readonly url?: string;
  readonly urlFromEnv?: string;
  readonly events: readonly NotificationEvent[];
  readonly headersFromEnv?: Readonly<Record<string, string>>;
}

/** The notifications settings (OperatorConfig.notifications). */
export interface NotificationSettings {
  readonly sinks: readonly SinkConfig[];
  readonly queueSize: number;
  readonly timeoutSeconds: number;
  readonly maxAttempts: number;
  readonly initialBackoffSeconds: number;
  readonly maxBackoffSeconds: number;
}

/** The HTTP call, injectable for tests (global fetch by default). */
export type NotifyFetch = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

/** What the notifier needs. */
export interface NotifierDeps {
  readonly settings: NotificationSettings;
  /** The process environment, for headersFromEnv (read at send time). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** kubeskippy_notifications_total. */
  readonly count: (sink: string, result: 'sent' | 'failed' | 'dropped') => void;
  readonly fetch?: NotifyFetch;
}

/** The notifier the action controller calls. */
export interface Notifier {
  /** Enqueues `n` for every sink that wants its event. Synchronous; never throws; never waits. */
  notify(n: Notification): void;
  /** Stops taking notifications and waits up to `deadlineMs` for the queues to drain; what is left is dropped. */
  close(deadlineMs: number): Promise<void>;
}

/** A notifier that does nothing (no sinks configured). */
export const noopNotifier: Notifier = { notify: () => undefined, close: () => Promise.resolve() };

/** The wait before retry `attempt` (1 = the first retry): initial × 2^(attempt−1), at most max. Pure. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}

/** Whether an HTTP status is worth retrying: throttling and server errors. Pure. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** One attempt's outcome. */
type Attempt = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly why: string };

class Sink {
  private readonly queue: Notification[] = [];
  private draining: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(
    private readonly config: SinkConfig,
    private readonly deps: NotifierDeps,
  ) {}

  get idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  wants(event: NotificationEvent): boolean {
    return this.config.events.includes(event);
  }

  enqueue(n: Notification): void {
    if (this.stop.signal.aborted || this.queue.length >= this.deps.settings.queueSize) {
      this.deps.count(this.config.name, 'dropped');
      this.deps.logger.warn({ sink: this.config.name, event: n.event, action: `${n.action.namespace}/${n.action.name}` }, 'notification dropped: the sink\'s queue is full');
      return;
    }
    this.queue.push(n);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Ends retries now; what is still queued is dropped (counted). */
  abort(): void {
    this.stop.abort();
    for (const n of this.queue.splice(0)) {
      this.deps.count(this.config.name, 'dropped');
      this.deps.logger.warn({ sink: this.config.name, event: n.event, action: `${n.action.namespace}/${n.action.name}` }, 'notification dropped: shutting down');
    }
  }

  private async drain(): Promise<void> {
    for (let n = this.queue.shift(); n !== undefined; n = this.queue.shift()) {
      await this.deliver(n);
      if (this.stop.signal.aborted) return;
    }
  }

  private async deliver(n: Notification): Promise<void> {
    const { maxAttempts, initialBackoffSeconds, maxBackoffSeconds } = this.deps.settings;
    const log = { sink: this.config.name, event: n.event, action: `${n.action.namespace}/${n.action.name}` };
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(n);
      if (result.ok) {
        this.deps.count(this.config.name, 'sent');
        return;
      }
      if (this.stop.signal.aborted) {
        this.deps.count(this.config.name, 'dropped');
        return;
      }
      if (!result.retry || attempt >= maxAttempts) {
        this.deps.count(this.config.name, 'failed');
        this.deps.logger.warn({ ...log, attempts: attempt, err: result.why }, 'notification failed');
        return;
      }
      const wait = backoffMs(attempt, initialBackoffSeconds * 1000, maxBackoffSeconds * 1000);
      this.deps.logger.debug({ ...log, attempt, err: result.why, retryInMs: wait }, 'notification attempt failed; retrying');
      try {
        await this.deps.clock.sleep(wait, this.stop.signal);
      } catch {
        this.deps.count(this.config.name, 'dropped');
        return;
      }
    }
  }

  private async attempt(n: Notification): Promise<Attempt> {
    const fetchFn: NotifyFetch = this.deps.fetch ?? ((url, init) => fetch(url, init));
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'kubeskippy' };
    for (const [header, variable] of Object.entries(this.config.headersFromEnv ?? {})) {
      const value = this.deps.env[variable];
      if (value !== undefined) headers[header] = value;
    }
    const body = JSON.stringify(this.config.kind === 'slack' ? slackPayload(n) : webhookPayload(n));
    const url = this.config.url ?? (this.config.urlFromEnv === undefined ? undefined : this.deps.env[this.config.urlFromEnv]);
    if (url === undefined || url === '') return { ok: false, retry: false, why: `no URL (${this.config.urlFromEnv ?? 'url'} is not set)` };
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.deps.settings.timeoutSeconds * 1000)]),
      });
      // Read (and discard) the body so the connection can be reused; its content is never logged.
      await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, retry: isRetryableStatus(res.status), why: `HTTP ${res.status}` };
    } catch (e: unknown) {
      return { ok: false, retry: true, why: describeFetchError(e, this.deps.settings.timeoutSeconds) };
    }
  }
}

/** A network error in words, without the URL (which may carry a token). */
function describeFetchError(e: unknown, timeoutSeconds: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutSeconds}s`;
  const cause = (e as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code === undefined ? 'network error' : `network error (${code})`;
}

/** Creates the notifier for the configured sinks ({@link noopNotifier} when there are none). */
export function createNotifier(deps: NotifierDeps): Notifier {
  if (deps.settings.sinks.length === 0) return noopNotifier;
  const sinks = deps.settings.sinks.map((s) => new Sink(s, deps));
  let closed = false;
  return {
    notify: (n) => {
      try {
        if (closed) return;
        for (const s of sinks) if (s.wants(n.event)) s.enqueue(n);
      } catch (e: unknown) {
        // A notification must never break the controller that reports the transition.
        deps.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'notification not queued');
      }
    },
    close: async (deadlineMs) => {
      closed = true;
      const stopWaiting = new AbortController();
      const drained = Promise.all(sinks.map((s) => s.idle)).then(() => {
        stopWaiting.abort();
        return true;
      });
      const timedOut = deps.clock.sleep(deadlineMs, stopWaiting.signal).then(
        () => false,
        () => true,
      );
      if (!(await Promise.race([drained, timedOut]))) for (const s of sinks) s.abort();
      await Promise.all(sinks.map((s) => s.idle));
    },
  };
}
