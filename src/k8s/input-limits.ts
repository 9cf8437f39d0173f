/**
 * Caps on what the operator reads from the cluster before it reaches pure code. Anyone who may create an Event,
 * annotate an object or shape a PromQL result in one namespace controls these strings; a cap keeps the work (and
 * the memory) one of them can cause bounded, whatever engine later reads them. The caps sit far above what real
 * objects carry (an Event reason is a CamelCase word; kubelet messages are a line or two).
 */

/** Longest Event reason kept (real ones are under 64 characters; the events.k8s.io API refuses over 128). */
export const MAX_EVENT_REASON = 1024;
/** Longest Event message (and condition message, collection error) kept. */
export const MAX_EVENT_MESSAGE = 1024;
/** Longest annotation value read into a decision (approver names, rejection reasons). */
export const MAX_ANNOTATION_VALUE = 1024;
/** Longest user name read from an annotation (approved-by, rejected-by, cancel); status.approval.approvedBy holds 256. */
export const MAX_USER_NAME = 256;
/** Longest Prometheus label value used to name a target (Kubernetes names are at most 253). */
export const MAX_LABEL_VALUE = 253;
/** Most series one PromQL query may return per poll; the rest are dropped and the query reported. */
export const MAX_PROMQL_SERIES = 20_000;
/** Largest PromQL response body read, in characters. */
export const MAX_PROMQL_RESPONSE = 32 * 1024 * 1024;
/** Longest error text from a dependency kept for conditions, Events and logs. */
export const MAX_ERROR_TEXT = 1024;

/**
 * `s` cut to at most `max` characters (UTF-16 units, never splitting a surrogate pair), with "…" marking the cut.
 * Returns `s` itself when it fits.
 */
export function capText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}
