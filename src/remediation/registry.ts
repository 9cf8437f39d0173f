/**
 * The executor registry: one Executor per action type, looked up by the HealingAction controller. The composition
 * root (`src/wiring.ts`) calls createDefaultRegistry with API clients built from its KubeConfig; nothing here loads
 * a kubeconfig or reads the environment.
 */
import { ACTION_TYPES, type ActionType } from '../api/v1alpha1/common.js';
import { ExecutorError } from './errors.js';
import { DeleteExecutor } from './executors/delete.js';
import { PatchExecutor } from './executors/patch.js';
import { RestartExecutor } from './executors/restart.js';
import { RollbackExecutor } from './executors/rollback.js';
import { ScaleExecutor } from './executors/scale.js';
import type { Executor, ExecutorDeps } from './types.js';

/** Executors keyed by action type. Immutable once built. */
export class ExecutorRegistry {
  private readonly byType: ReadonlyMap<ActionType, Executor>;

  /** Throws Error if two executors claim the same action type (a wiring mistake, not a runtime condition). */
  constructor(executors: Iterable<Executor>) {
    const map = new Map<ActionType, Executor>();
    for (const e of executors) {
      if (map.has(e.type)) throw new Error(`two executors registered for action type ${e.type}`);
      map.set(e.type, e);
    }
    this.byType = map;
  }

  /** The executor for `type`. Throws ExecutorError Unsupported when none is registered. */
  get(type: ActionType): Executor {
    const e = this.byType.get(type);
    if (!e) throw new ExecutorError('Unsupported', `no executor is registered for action type ${type}`);
    return e;
  }

  /** Whether an executor for `type` is registered. */
  has(type: ActionType): boolean {
    return this.byType.has(type);
  }

  /** Registered action types, in ACTION_TYPES order. */
  types(): ActionType[] {
    return ACTION_TYPES.filter((t) => this.byType.has(t));
  }
}

/** The five built-in executors (restart, scale, patch, delete, rollback) over the given API clients. */
export function createDefaultRegistry(deps: ExecutorDeps): ExecutorRegistry {
  return new ExecutorRegistry([
    new RestartExecutor(deps),
    new ScaleExecutor(deps),
    new PatchExecutor(deps),
    new DeleteExecutor(deps),
    new RollbackExecutor(deps),
  ]);
}
