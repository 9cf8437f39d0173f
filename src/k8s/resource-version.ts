/**
 * Ordering of resourceVersions. Kubernetes made them comparable as integers (KEP-5504, "comparable resource
 * versions"; every kube-apiserver backed by etcd has always written the etcd revision): a larger one was written
 * later, across every object of every type. Anything that is not a decimal integer is "not comparable", and callers
 * must then take the conservative reading.
 */

/** The resourceVersion as an integer, or undefined when it is not a decimal integer. */
export function parseResourceVersion(rv: string | undefined): bigint | undefined {
  if (rv === undefined || !/^[0-9]{1,30}$/.test(rv)) return undefined;
  return BigInt(rv);
}

/** -1, 0 or 1 as `a` was written before, with, or after `b`; undefined when either is not comparable. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): -1 | 0 | 1 | undefined {
  const x = parseResourceVersion(a);
  const y = parseResourceVersion(b);
  if (x === undefined || y === undefined) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}
