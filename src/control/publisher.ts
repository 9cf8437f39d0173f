/**
 * Reports the operator's effective settings on the control ConfigMap (annotation kubeskippy.io/operator-state), so
 * that `kubeskippy status` can show the global dry run, the budgets and the breaker thresholds of the operator that
 * is actually running. Runs as a manager controller: only the leader reports.
 */
import type * as k8s from '@kubernetes/client-node';
import { describeKubeError, isNotFound } from '../k8s/errors.js';
import type { Logger } from '../observability/logger.js';
import { formatOperatorState, OPERATOR_STATE_ANNOTATION, shouldPublish, type OperatorState } from './switch.js';

/** What the publisher needs. */
export interface ControlPublisherDeps {
  readonly state: OperatorState;
  /** The control ConfigMap as the informer cache holds it (undefined: it does not exist). */
  readonly current: () => k8s.V1ConfigMap | undefined;
  /** Sets the annotation on the ConfigMap (a merge patch). Rejects with NotFound when it does not exist. */
  readonly patchAnnotation: (value: string) => Promise<void>;
  readonly logger: Logger;
}

/** A manager controller that keeps the operator-state annotation current while this replica leads. */
export interface ControlPublisher {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  /** Writes the annotation if it is missing or this replica's own report is out of date. Never rejects. */
  sync(): Promise<void>;
}

/** Creates the publisher; it does nothing until the manager starts it (on becoming leader). */
export function createControlPublisher(deps: ControlPublisherDeps): ControlPublisher {
  let running = false;
  let inFlight: Promise<void> = Promise.resolve();
  let warnedMissing = false;
  const value = formatOperatorState(deps.state);

  const once = async (): Promise<void> => {
    if (!running) return;
    const cm = deps.current();
    if (cm === undefined) {
      if (!warnedMissing) {
        warnedMissing = true;
        deps.logger.warn({ configMap: 'kubeskippy-control' }, 'the control ConfigMap does not exist: the operator state is not reported (kubeskippy pause creates it; the install manifests ship it)');
      }
      return;
    }
    warnedMissing = false;
    if (!shouldPublish(cm.metadata?.annotations?.[OPERATOR_STATE_ANNOTATION], deps.state)) return;
    try {
      await deps.patchAnnotation(value);
      deps.logger.info({ identity: deps.state.identity }, 'reported the operator state on the control ConfigMap');
    } catch (e: unknown) {
      // The next informer event or housekeeping tick tries again.
      if (!isNotFound(e)) deps.logger.warn({ err: describeKubeError(e) }, 'could not report the operator state');
    }
  };

  const publisher: ControlPublisher = {
    name: 'operator-state',
    start: () => {
      running = true;
      void publisher.sync();
    },
    stop: async () => {
      running = false;
      await inFlight;
    },
    sync: () => {
      // One write at a time, in order: a sync requested while one runs follows it.
      inFlight = inFlight.then(once, once);
      return inFlight;
    },
  };
  return publisher;
}
