import { describe, expect, it } from 'vitest';
import { ACTION_TYPES } from '../api/v1alpha1/common.js';
import { isExecutorError } from './errors.js';
import { createDefaultRegistry, ExecutorRegistry } from './registry.js';
import type { Executor, ExecutorDeps } from './types.js';

const deps = { core: {}, apps: {} } as unknown as ExecutorDeps;

describe('ExecutorRegistry', () => {
  it('registers one executor for each of the five action types', () => {
    const registry = createDefaultRegistry(deps);
    expect(registry.types()).toEqual([...ACTION_TYPES]);
    for (const t of ACTION_TYPES) expect(registry.get(t).type).toBe(t);
  });

  it('refuses an unknown type with Unsupported', () => {
    const registry = new ExecutorRegistry([]);
    expect(registry.has('scale')).toBe(false);
    let error: unknown;
    try {
      registry.get('scale');
    } catch (e: unknown) {
      error = e;
    }
    expect(isExecutorError(error, 'Unsupported')).toBe(true);
  });

  it('refuses two executors for one type', () => {
    const fake = createDefaultRegistry(deps).get('patch');
    const twin: Executor = {
      type: 'patch',
      validate: () => [],
      plan: (r, c) => fake.plan(r, c),
      execute: (r, c) => fake.execute(r, c),
      verify: (r, e, c) => fake.verify(r, e, c),
    };
    expect(() => new ExecutorRegistry([fake, twin])).toThrow(/two executors registered for action type patch/);
  });
});
