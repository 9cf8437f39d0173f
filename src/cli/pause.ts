/**
 * `kubeskippy pause --reason TEXT` and `kubeskippy resume`: the operator-wide switch (src/control/switch.ts), the
 * ConfigMap kubeskippy-control in the operator's namespace. The name recorded is the user the API server
 * authenticates (as for approvals), never a typed name. Every replica obeys within the watch latency; actions that
 * reach the gate while paused end Blocked (Paused) and every policy shows Paused=True.
 */
import { CONTROL_CONFIGMAP, describePause, pauseData, readControl, resumeData } from '../control/switch.js';
import { isAlreadyExists, isConflict, isNotFound } from '../k8s/errors.js';
import type { CommandOutcome } from './approve.js';
import { ExitCode } from './errors.js';

/** The control ConfigMap as the commands see it. */
export interface ControlObject {
  readonly resourceVersion: string;
  readonly data: Readonly<Record<string, string>>;
}

/** The calls pause and resume make. */
export interface ControlApi {
  /** The control ConfigMap, or undefined when it does not exist. */
  getControl(namespace: string): Promise<ControlObject | undefined>;
  /** Creates it with `data`; rejects with AlreadyExists when someone was faster. */
  createControl(namespace: string, data: Readonly<Record<string, string>>): Promise<void>;
  /** Merge-patches its data with `resourceVersion` as a precondition (409 when it changed). */
  patchControl(namespace: string, resourceVersion: string, data: Readonly<Record<string, string>>): Promise<void>;
  /** The user the API server authenticates. */
  whoAmI(): Promise<string>;
}

const MAX_ATTEMPTS = 5;

async function setSwitch(
  api: ControlApi,
  namespace: string,
  decide: (current: ControlObject | undefined) => { write?: Record<string, string>; done: string },
): Promise<CommandOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await api.getControl(namespace);
    const { write, done } = decide(current);
    if (write === undefined) return { code: ExitCode.Ok, out: [done], err: [] };
    try {
      if (current === undefined) await api.createControl(namespace, write);
      else await api.patchControl(namespace, current.resourceVersion, write);
    } catch (e: unknown) {
      // Someone else changed it in between: read again and decide on what is there now.
      if (isConflict(e) || isAlreadyExists(e) || isNotFound(e)) continue;
      throw e;
    }
    return { code: ExitCode.Ok, out: [done], err: [] };
  }
  return { code: ExitCode.Failure, out: [], err: [`configmap ${namespace}/${CONTROL_CONFIGMAP} kept changing; try again`] };
}

/**
 * Pauses the operator: data.paused "true" with the reason and the authenticated user. Already paused: changes
 * nothing and says by whom (exit 0). An empty reason is a usage error (exit 2) found before any request.
 */
export async function pauseCommand(api: ControlApi, input: { namespace: string; reason: string }, nowIso: string): Promise<CommandOutcome> {
  const reason = input.reason.trim();
  if (reason === '') return { code: ExitCode.Usage, out: [], err: ['pausing needs a reason: --reason TEXT'] };
  const user = await api.whoAmI();
  return setSwitch(api, input.namespace, (current) => {
    const state = readControl(current);
    if (state.paused) return { done: `kubeskippy is already ${describePause(state)}; nothing changed` };
    return {
      write: pauseData(user, reason, nowIso),
      done: `kubeskippy paused by ${user}: ${reason} (configmap ${input.namespace}/${CONTROL_CONFIGMAP}); every replica stops acting, actions reaching the gate end Blocked (Paused). kubeskippy resume lifts it`,
    };
  });
}

/** Resumes the operator: data.paused "false" with the authenticated user. Not paused: changes nothing (exit 0). */
export async function resumeCommand(api: ControlApi, input: { namespace: string }, nowIso: string): Promise<CommandOutcome> {
  const user = await api.whoAmI();
  return setSwitch(api, input.namespace, (current) => {
    const state = readControl(current);
    if (!state.paused) return { done: `kubeskippy is not paused by the switch in ${input.namespace}/${CONTROL_CONFIGMAP}; nothing changed` };
    return { write: resumeData(user, nowIso), done: `kubeskippy resumed by ${user} (it was ${describePause(state)})` };
  });
}
