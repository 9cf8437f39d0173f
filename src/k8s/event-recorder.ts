/**
 * Records Kubernetes Events on objects (policies, actions, targets), as `kubectl describe` shows them. Repeats of
 * the same reason and message on the same object within a short window update one Event's count instead of
 * creating a new object each time — the same correlation client-go's recorder does — so a flapping trigger cannot
 * flood the API server. Never throws: a failed Event is logged and dropped (Events are best effort).
 */
import { createHash } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../observability/logger.js';
import { describeKubeError, isNotFound } from './errors.js';

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** An Event to record. */
export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, stable (exported constants per controller). */
  readonly reason: string;
  readonly message: string;
  /** What the operator did or would do (events.k8s.io "action"), e.g. "Restart", "Evaluate". */
  readonly action?: string;
}

/** Anything that can record Events (a fake in unit tests). */
export interface EventSink {
  record(subject: EventSubject, event: EventSpec): void;
  /** Resolves when every record() issued so far has been written (tests and shutdown). */
  flush(): Promise<void>;
}

interface Correlated {
  readonly name: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

/** Repeats within this window update the same Event. */
const CORRELATION_WINDOW_MS = 10 * 60_000;
const MAX_MESSAGE = 1024;

/** Writes Events through the core/v1 API. */
export class EventRecorder implements EventSink {
  private readonly correlated = new Map<string, Correlated>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { readonly core: CoreV1Api; readonly clock: Clock; readonly logger: Logger; readonly component: string },
  ) {}

  record(subject: EventSubject, event: EventSpec): void {
    this.pending = this.pending.then(() => this.write(subject, event)).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.pending;
  }

  private async write(subject: EventSubject, event: EventSpec): Promise<void> {
    const now = this.deps.clock.now();
    // Events about cluster-scoped objects (a ClusterHealingPolicy) live in "default", as kubectl describe expects.
    const eventNamespace = subject.namespace === '' ? 'default' : subject.namespace;
    const message = event.message.length > MAX_MESSAGE ? `${event.message.slice(0, MAX_MESSAGE - 1)}…` : event.message;
    const key = `${subject.kind}/${subject.namespace}/${subject.name}/${subject.uid ?? ''}/${event.type}/${event.reason}/${message}`;
    const iso = new Date(now).toISOString();
    const prior = this.correlated.get(key);
    try {
      if (prior && now - prior.lastSeen < CORRELATION_WINDOW_MS) {
        prior.count++;
        prior.lastSeen = now;
        try {
          await this.deps.core.patchNamespacedEvent(
            { name: prior.name, namespace: eventNamespace, body: { count: prior.count, lastTimestamp: iso } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
          return;
        } catch (e: unknown) {
          if (!isNotFound(e)) throw e;
        }
      }
      const hash = createHash('sha256').update(`${key}/${now}`).digest('hex').slice(0, 12);
      const name = `${subject.name.slice(0, 200)}.${hash}`;
      const body: CoreV1Event = {
        metadata: { name, namespace: eventNamespace },
        involvedObject: {
          apiVersion: subject.apiVersion,
          kind: subject.kind,
          name: subject.name,
          ...(subject.namespace === '' ? {} : { namespace: subject.namespace }),
          ...(subject.uid ? { uid: subject.uid } : {}),
        },
        reason: event.reason,
        message,
        type: event.type,
        count: 1,
        firstTimestamp: new Date(now),
        lastTimestamp: new Date(now),
        source: { component: this.deps.component },
        reportingComponent: this.deps.component,
        ...(event.action ? { action: event.action } : {}),
      };
      await this.deps.core.createNamespacedEvent({ namespace: eventNamespace, body });
      this.correlated.set(key, { name, count: 1, firstTimestamp: iso, lastSeen: now });
      if (this.correlated.size > 10_000) {
        const oldest = this.correlated.keys().next().value;
        if (oldest !== undefined) this.correlated.delete(oldest);
      }
    } catch (e: unknown) {
      this.deps.logger.warn({ err: describeKubeError(e), reason: event.reason, object: `${subject.kind}/${subject.namespace}/${subject.name}` }, 'could not record event');
    }
  }
}
