/**
 * Numbers for the analyzer's reasoning sentences: durations in minutes, amounts with their unit, rates per minute
 * or per hour. Pure.
 */

/** A number with at most 3 significant digits (whole numbers from 100 up): "412", "1.85", "0.0312". */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** An amount with its unit: "412 MiB", "87.5%", "12.3" (no unit). */
export function formatAmount(v: number, unit: string | undefined): string {
  if (unit === undefined || unit === '') return formatNumber(v);
  return unit === '%' ? `${formatNumber(v)}%` : `${formatNumber(v)} ${unit}`;
}

/** A rate given per second, shown per minute, or per hour when that reads better: "1.8 MiB/min", "0.9%/h". */
export function formatRate(perSecond: number, unit: string | undefined): string {
  const perMinute = perSecond * 60;
  const u = unit === undefined || unit === '' ? '' : unit === '%' ? '%' : ` ${unit}`;
  if (perMinute !== 0 && Math.abs(perMinute) < 0.1) return `${formatNumber(perSecond * 3600)}${u}/h`;
  return `${formatNumber(perMinute)}${u}/min`;
}

/** A duration given in seconds: "45 s", "22 min", "1 h 5 min", "3 h". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** A crossing time with its interval: "22 min (17–29 min)", "22 min (17 min to beyond 2 h)". */
export function formatEta(median: number, low: number, high: number | null, lookahead: number): string {
  const hi = high === null ? `beyond ${formatSeconds(lookahead)}` : formatSeconds(high);
  const lo = formatSeconds(low);
  const sameUnit = high !== null && lo.endsWith(' min') && hi.endsWith(' min') && !lo.includes('h') && !hi.includes('h');
  return `${formatSeconds(median)} (${sameUnit ? lo.replace(' min', '') : lo}–${hi})`;
}

/** A share of the limit: "80% of the 512 MiB limit". */
export function formatShare(v: number, limit: number, unit: string | undefined): string {
  return unit === '%' && limit === 100 ? `${formatNumber(v)}% of the limit` : `${formatNumber((100 * v) / limit)}% of the ${formatAmount(limit, unit)} limit`;
}
