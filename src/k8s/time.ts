/**
 * Kubernetes timestamps as epoch milliseconds.
 *
 * The same field arrives in two shapes: typed client-node responses (list, read) turn it into a `Date`, while watch
 * events deliver the raw JSON, an RFC 3339 string. Code that reads objects from informers sees both.
 */

/** Epoch ms of a Kubernetes timestamp (`Date` or RFC 3339 string); undefined when absent or unparseable. */
export function timestampMs(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}
