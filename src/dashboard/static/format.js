// Formatting for the dashboard page: pure functions from numbers and view-model fields to the words on screen.
// No DOM and no clock here (the caller passes `now`), so src/dashboard/format.test.ts tests them in Node.

/** Phases by what they mean for someone watching: colour class and a symbol, so colour is never the only cue. */
const PHASE_STYLE = {
  Pending: { tone: 'neutral', symbol: '○' },
  WaitingApproval: { tone: 'attention', symbol: '⏸' },
  Approved: { tone: 'neutral', symbol: '○' },
  InProgress: { tone: 'active', symbol: '▶' },
  Verifying: { tone: 'active', symbol: '⟳' },
  Succeeded: { tone: 'good', symbol: '✓' },
  Failed: { tone: 'bad', symbol: '✗' },
  Cancelled: { tone: 'muted', symbol: '–' },
  Blocked: { tone: 'warn', symbol: '⊘' },
};

/** The tone (CSS class suffix) and symbol of an action phase; unknown phases are neutral. */
export function phaseStyle(phase) {
  return PHASE_STYLE[phase] ?? { tone: 'neutral', symbol: '○' };
}

/** A duration in ms as "45s", "4m 30s", "1h 5m", "2d 3h": the largest unit and the next one ("0s" for ≤ 0). */
export function formatDuration(ms) {
  let s = Math.max(0, Math.round(ms / 1000));
  const units = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts = [];
  let slots = 0;
  for (const [name, size] of units) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n === 0 && slots === 0) continue;
    if (n > 0) parts.push(`${n}${name}`);
    if (++slots === 2) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** How long ago `at` was, seen from `now` ("12s ago", "in 3m" for the future). */
export function formatAgo(at, now) {
  const d = now - at;
  if (Math.abs(d) < 1000) return 'just now';
  return d >= 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}

/** Wall-clock time of `at` as HH:MM:SS in the viewer's time zone (a given instant, not a clock read). */
export function formatClock(at) {
  const d = new Date(at);
  const two = (n) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A number for humans: integers as is, others with up to 3 significant decimals, huge and tiny ones compact. */
export function formatNumber(v) {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return Math.abs(v) >= 1e6 ? v.toExponential(2) : String(v);
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(a >= 100 ? 5 : 3)));
}

/** A metric value with its unit, by the built-in metric's name (bytes as Mi/Gi, percent with %). */
export function formatMetric(metric, v) {
  if (!Number.isFinite(v)) return String(v);
  if (metric.endsWith('_bytes')) {
    const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
    let x = v;
    let i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    return `${formatNumber(Number(x.toFixed(1)))}${units[i]}`;
  }
  if (metric.endsWith('_percent')) return `${formatNumber(Number(v.toFixed(1)))}%`;
  if (metric.endsWith('_millicores')) return `${formatNumber(Math.round(v))}m`;
  return formatNumber(v);
}

/** A confidence 0..1 as a whole percentage ("87%"). */
export function formatConfidence(c) {
  return `${Math.round(c * 100)}%`;
}

/** "Pod shop/web-1" — a target as one phrase. */
export function formatTarget(t) {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

/** A budget in words: "4 of 5 left" and, when none is left, when the next slot opens. */
export function formatBudget(b, now) {
  if (b.limit === 0) return 'none allowed (limit 0)';
  const base = `${b.remaining} of ${b.limit} left`;
  return b.remaining === 0 && b.nextSlotAt !== undefined ? `${base} · next ${formatAgo(b.nextSlotAt, now)}` : base;
}

/** The words of a fired trigger: what fired and the numbers it fired on. */
export function formatTrigger(t) {
  const numbers = [];
  if (t.observedValue !== undefined) numbers.push(`observed ${formatNumber(t.observedValue)}`);
  if (t.threshold !== undefined) numbers.push(`threshold ${formatNumber(t.threshold)}`);
  const head = `${t.name} (${t.type})`;
  const reason = t.reason ? `: ${t.reason}` : '';
  return `${head}${reason}${numbers.length > 0 ? ` — ${numbers.join(', ')}` : ''}`;
}

/**
 * The metrics recorded before and after an action: "restart_count 7 → 0" for keys with both; when nothing was
 * recorded after (a dry run, a target that is gone), the before values alone ("before: restart_count 7").
 */
export function formatBeforeAfter(before, after) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  if (Object.keys(after).length === 0) return keys.length === 0 ? [] : [`before: ${keys.map((k) => `${k} ${before[k]}`).join(', ')}`];
  return keys.map((k) => `${k} ${before[k] ?? '?'} → ${after[k] ?? '?'}`);
}

/** Counts by phase as "3 Succeeded · 1 Failed", in lifecycle order, leaving out zeros. */
export function formatCounts(counts) {
  const order = ['InProgress', 'Verifying', 'Pending', 'WaitingApproval', 'Approved', 'Succeeded', 'Failed', 'Blocked', 'Cancelled'];
  return order.filter((p) => (counts.byPhase[p] ?? 0) > 0).map((p) => `${counts.byPhase[p]} ${p}`).join(' · ');
}
