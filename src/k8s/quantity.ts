/**
 * Kubernetes resource quantities ("250m", "1.5", "64Mi", "1e3", "100n") as plain numbers: CPU in cores, memory in
 * bytes. Follows the suffixes of k8s.io/apimachinery's resource.Quantity.
 */

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** Error thrown for a string that is not a Kubernetes quantity; names the offending input. */
export class InvalidQuantityError extends Error {
  readonly code = 'InvalidQuantity';
  constructor(readonly input: string) {
    super(`not a Kubernetes quantity: ${JSON.stringify(input.slice(0, 64))}`);
  }
}

/**
 * Parses a quantity into its numeric value in base units (cores for CPU, bytes for memory).
 * Throws InvalidQuantityError for anything else.
 */
export function parseQuantity(input: string): number {
  const m = QUANTITY.exec(input.trim());
  if (!m?.[1]) throw new InvalidQuantityError(input);
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  const scale = BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix];
  if (scale === undefined) throw new InvalidQuantityError(input);
  return base * scale;
}

/** Parses a CPU quantity into millicores. Throws InvalidQuantityError. */
export function parseMillicores(input: string): number {
  return parseQuantity(input) * 1000;
}

/** Parses a memory quantity into bytes. Throws InvalidQuantityError. */
export function parseBytes(input: string): number {
  return parseQuantity(input);
}
