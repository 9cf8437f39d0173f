// Types of format.js for the tests that import it from TypeScript (the page itself is plain JavaScript).
export interface PhaseStyle {
  readonly tone: 'neutral' | 'attention' | 'active' | 'good' | 'bad' | 'muted' | 'warn';
  readonly symbol: string;
}
export function phaseStyle(phase: string): PhaseStyle;
export function formatDuration(ms: number): string;
export function formatAgo(at: number, now: number): string;
export function formatClock(at: number): string;
export function formatNumber(v: number): string;
export function formatMetric(metric: string, v: number): string;
export function formatConfidence(c: number): string;
export function formatTarget(t: { readonly kind: string; readonly namespace: string; readonly name: string }): string;
export function formatBudget(b: { readonly used: number; readonly limit: number; readonly remaining: number; readonly nextSlotAt?: number }, now: number): string;
export function formatTrigger(t: { readonly name: string; readonly type: string; readonly reason?: string; readonly observedValue?: number; readonly threshold?: number }): string;
export function formatBeforeAfter(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[];
export function formatCounts(counts: { readonly byPhase: Readonly<Record<string, number | undefined>> }): string;
