/**
 * What a notification says, pure: which events a HealingAction's phase transition produces, and the payload each
 * sink kind gets (a JSON document for webhooks, a `{"text": …}` message for Slack-compatible incoming webhooks).
 */
import type { ActionPhase, HealingAction } from '../api/v1alpha1/healing-action.js';
import type { NotificationEvent } from '../config/operator-config.js';
import { actionPolicyId } from '../safety/types.js';

/**
 * The events of a phase transition written by the operator: `created` when it first writes the action's status
 * (the action had none), then the event of the phase it reaches — waiting-approval, succeeded, failed, blocked.
 * Nothing for other transitions (Approved, InProgress, Verifying, Cancelled) or a write that keeps the phase.
 */
export function eventsForTransition(previous: ActionPhase | undefined, next: ActionPhase | undefined): NotificationEvent[] {
  if (next === undefined || next === previous) return [];
  const out: NotificationEvent[] = [];
  if (previous === undefined || previous === 'Pending') out.push('created');
  switch (next) {
    case 'WaitingApproval':
      out.push('waiting-approval');
      break;
    case 'Succeeded':
      out.push('succeeded');
      break;
    case 'Failed':
      out.push('failed');
      break;
    case 'Blocked':
      out.push('blocked');
      break;
    default:
      break;
  }
  return out;
}

/** One notification: the event, when, and the action as it is after the write. */
export interface Notification {
  readonly event: NotificationEvent;
  /** RFC 3339. */
  readonly time: string;
  readonly action: {
    readonly namespace: string;
    readonly name: string;
    readonly policy: { readonly kind: string; readonly namespace?: string; readonly name: string };
    readonly type: string;
    readonly target: { readonly kind: string; readonly namespace: string; readonly name: string };
    readonly phase: string;
    readonly reason?: string;
    readonly message?: string;
    readonly source: 'rule' | 'ai';
    readonly confidence?: number;
    readonly dryRun: boolean;
    readonly trigger?: { readonly name: string; readonly reason?: string };
  };
}

/** The notification for `event` on `action` with its new `status`. */
export function notificationOf(event: NotificationEvent, action: HealingAction, status: HealingAction['status'], time: string): Notification {
  const id = actionPolicyId(action);
  const t = action.spec.targetResource;
  return {
    event,
    time,
    action: {
      namespace: action.metadata.namespace ?? '',
      name: action.metadata.name ?? '',
      policy: { kind: id.kind, ...(id.kind === 'HealingPolicy' ? { namespace: id.namespace } : {}), name: id.name },
      type: action.spec.action.type,
      target: { kind: t.kind, namespace: t.namespace, name: t.name },
      phase: status?.phase ?? 'Pending',
      ...(status?.reason ? { reason: status.reason } : {}),
      ...(status?.message ? { message: status.message } : {}),
      source: action.spec.source ?? 'rule',
      ...(action.spec.confidence === undefined ? {} : { confidence: action.spec.confidence }),
      dryRun: action.spec.dryRun === true,
      ...(action.spec.trigger ? { trigger: { name: action.spec.trigger.name, ...(action.spec.trigger.reason ? { reason: action.spec.trigger.reason } : {}) } } : {}),
    },
  };
}

/** The JSON a webhook sink receives. */
export function webhookPayload(n: Notification): Record<string, unknown> {
  return { kind: 'kubeskippy.io/notification', version: 'v1', ...n };
}

const HEADLINE: Readonly<Record<NotificationEvent, string>> = {
  created: 'new action',
  'waiting-approval': 'waiting for approval',
  succeeded: 'succeeded',
  failed: 'FAILED',
  blocked: 'blocked',
};

/** The `{"text": …}` a Slack-compatible incoming webhook receives: one line, the action and what happened. */
export function slackPayload(n: Notification): { text: string } {
  const a = n.action;
  const policy = `${a.policy.namespace === undefined ? 'chp/' : `${a.policy.namespace}/`}${a.policy.name}`;
  const what = `${a.dryRun ? 'dry-run ' : ''}${a.type} ${a.target.kind} ${a.target.namespace}/${a.target.name}`;
  const why = a.reason || a.message ? ` — ${[a.reason, a.message].filter((x) => x !== undefined && x !== '').join(': ')}` : '';
  const approve = n.event === 'waiting-approval' ? ` — kubeskippy approve ${a.name} -n ${a.namespace}` : '';
  return { text: `[kubeskippy] ${HEADLINE[n.event]}: ${what} (policy ${policy}, action ${a.namespace}/${a.name})${why}${approve}` };
}
