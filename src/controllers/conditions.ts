/** Standard Kubernetes conditions (metav1.Condition) on our resources' status. Pure helpers. */
import type { Condition } from '../api/v1alpha1/common.js';

/** Formats a time as the API's RFC 3339 date-time with second precision (metav1.Time serialises that way). */
export function isoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Returns `conditions` with `next` set: replaces the condition of the same type, keeping its lastTransitionTime
 * when the status did not change (so "since when" stays true), and appends it otherwise. Does not modify the input.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    ...next,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : isoTime(now),
  };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

/** The condition of a type, if present. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
