/**
 * The last fence before the wire. The reconcilers check `mayAct` before each write they decide on, but between that
 * check and the request leaving the process there are several awaits (building the request, authentication) — and
 * a replica frozen in that gap (SIGSTOP, a stalled VM) wakes after another took its Lease with the request still to
 * send. The fault suite saw exactly that: one status PATCH checked before the freeze went out after the wake (the
 * API server refused it on its resourceVersion, but a write without a precondition would have landed).
 *
 * `fencedKubeConfig` returns a view of a KubeConfig whose writes are refused, with FencedError, at the last step
 * before sending — client-node's applySecurityAuthentication, which every request passes (see request-counter.ts)
 * — while `mayWrite()` is false. The election's own Lease writes and Events pass: a candidate must be able to
 * campaign, and an Event changes nothing. Reads always pass.
 */
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { FencedError } from '../runtime/controller.js';
import { classifyContext, type ApiRequestInfo } from './request-counter.js';

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Whether a request is a write the fence applies to: not a Lease, not an Event, not a read. */
export function isFencedWrite(r: ApiRequestInfo): boolean {
  if (!WRITE_VERBS.has(r.verb)) return false;
  if (r.group === 'coordination.k8s.io' && r.resource === 'leases') return false;
  if (r.resource === 'events' && (r.group === '' || r.group === 'events.k8s.io')) return false;
  return true;
}

/**
 * A prototype-linked view of `kc` (its state is read through) that refuses fenced writes while `mayWrite()` is
 * false: the request's promise rejects with FencedError and nothing is sent.
 */
export function fencedKubeConfig(kc: KubeConfig, mayWrite: () => boolean): KubeConfig {
  const view = Object.create(kc) as KubeConfig;
  const authenticate = (context: RequestContext): Promise<void> => {
    const request = classifyContext(view, context);
    if (isFencedWrite(request) && !mayWrite()) {
      const what = `${request.verb} ${request.resource}${request.subresource === '' ? '' : `/${request.subresource}`}`;
      return Promise.reject(new FencedError(`not sending ${what}: this replica no longer holds its Lease`));
    }
    return kc.applySecurityAuthentication.call(view, context);
  };
  Object.defineProperty(view, 'applySecurityAuthentication', { value: authenticate, writable: true, configurable: true });
  return view;
}
