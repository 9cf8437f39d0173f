/**
 * Text for people, pure: the report as tables (the end of a demo run, docs/demo.md) and the live summary the demo
 * redraws while it runs (actions by phase, the latest decisions with their confidence and reasoning, progress).
 */
import { formatSeconds, type DemoReport, type Stat } from './report.js';
import type { ActionRecord, DecisionRecord } from './recording.js';

/** A table as aligned text lines: a header, a rule, the rows. Cells are padded to the widest. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** A table as Markdown lines. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
}

function statText(s: Stat | undefined): string {
  return s === undefined ? '—' : `${formatSeconds(s.median)}${s.n > 1 ? ` (n=${s.n})` : ''}`;
}

function rate(x: number | undefined): string {
  return x === undefined ? '—' : `${Math.round(100 * x)}%`;
}

/** The per-scenario table: one row per scenario. */
export function scenarioRows(report: DemoReport): { header: string[]; rows: string[][] } {
  const header = ['scenario', 'issues', 'prevented', 'happened', 'detect', 'heal', 'OOMKilled', 'crashes', 'unready', 'CPU>80%', 'acted (rule/AI)', 'by type', 'blocked', 'dry run', 'false', 'success'];
  const rows = report.scenarios.map((s) => [
    s.id,
    String(s.episodes),
    String(s.prevented),
    String(s.happened),
    statText(s.detect),
    statText(s.heal),
    String(s.failures.oomKilled),
    String(s.failures.crashes),
    String(s.failures.unready),
    s.kind === 'cpu' ? String(s.failures.cpuBreaches) : '—',
    `${s.actions.acted} (${s.actions.bySource.rule}/${s.actions.bySource.ai})`,
    Object.entries(s.actions.byType).map(([t, n]) => `${t} ${n}`).join(', ') || '—',
    Object.entries(s.actions.blocked).map(([r, n]) => `${r} ${n}`).join(', ') || '0',
    String(s.actions.dryRun),
    `${s.falseActions}${s.falseDryRun > 0 ? ` (+${s.falseDryRun} dry)` : ''}`,
    rate(s.successRate),
  ]);
  return { header, rows };
}

/** The twins table: rules against AI on the same fault. */
export function twinRows(report: DemoReport): { header: string[]; rows: string[][] } {
  const header = ['scenario', 'twin', 'prevented', 'happened', 'acted', 'detect', 'heal', 'measured'];
  const rows = report.scenarios.flatMap((s) =>
    s.twins.map((t) => [s.id, t.twin, String(t.prevented), String(t.happened), String(t.acted), statText(t.detect), statText(t.heal), t.note]),
  );
  return { header, rows };
}

/** The claims table. */
export function claimRowsText(report: DemoReport): { header: string[]; rows: string[][] } {
  return { header: ['claim', 'seed', 'measured', 'why'], rows: report.claims.map((c) => [c.claim, c.seed, c.measured, c.note]) };
}

/** The whole report as text lines (what the demo prints at the end). */
export function formatReport(report: DemoReport): string[] {
  const t = report.totals;
  const out: string[] = [];
  out.push(
    `KubeSkippy demo report — ${formatSeconds(report.durationSeconds)} from ${report.startedAt}; ${t.acted} actions acted (${t.succeeded} verified, ${t.failed} failed), ${t.blocked} blocked, ${t.dryRun} dry runs` +
      (report.firstHealingSeconds === undefined ? '' : `; first verified healing ${formatSeconds(report.firstHealingSeconds)} in`),
  );
  out.push('');
  const s = scenarioRows(report);
  out.push(...textTable(s.header, s.rows));
  out.push('');
  const tw = twinRows(report);
  if (tw.rows.length > 0) {
    out.push('Rules vs AI on the same fault:');
    out.push(...textTable(tw.header, tw.rows));
    out.push('');
  }
  out.push('The seed\'s claims beside this run:');
  const c = claimRowsText(report);
  out.push(...textTable(c.header, c.rows.map((r) => r.slice(0, 3))));
  out.push('');
  for (const sc of report.scenarios) {
    if (sc.notes.length === 0) continue;
    out.push(`${sc.id}:`);
    for (const n of sc.notes) out.push(`  - ${n}`);
  }
  return out;
}

/** What the live summary shows. */
export interface LiveState {
  readonly now: number;
  readonly startedAt: number;
  /** Planned length (ms), or undefined when the demo runs until Ctrl-C. */
  readonly durationMs?: number;
  readonly urls: readonly { readonly name: string; readonly url: string }[];
  readonly actions: readonly ActionRecord[];
  readonly decisions: readonly DecisionRecord[];
  readonly failures: { readonly oomKilled: number; readonly crashes: number; readonly faults: number };
  readonly scenarios: readonly { readonly id: string; readonly namespace: string }[];
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function progress(state: LiveState): string {
  const elapsed = Math.max(0, state.now - state.startedAt) / 1000;
  if (state.durationMs === undefined) return `T+${Math.round(elapsed)}s (Ctrl-C ends the demo and prints the report)`;
  const total = state.durationMs / 1000;
  const done = Math.min(1, elapsed / total);
  const width = 30;
  const filled = Math.round(done * width);
  return `T+${Math.round(elapsed)}s of ${Math.round(total)}s [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** The live summary as lines (at most ~30, so it fits a terminal). */
export function renderLive(state: LiveState, width = 120): string[] {
  const clip = (s: string): string => (s.length <= width ? s : `${s.slice(0, width - 1)}…`);
  const out: string[] = [`KubeSkippy demo — ${progress(state)}`];
  out.push(state.urls.map((u) => `${u.name} ${u.url}`).join('   '));
  const phases = new Map<string, number>();
  for (const a of state.actions) {
    const key = a.dryRun ? 'dry run' : a.phase === 'Blocked' ? `Blocked ${a.reason ?? ''}`.trim() : a.phase;
    phases.set(key, (phases.get(key) ?? 0) + 1);
  }
  const order = ['Pending', 'InProgress', 'Verifying', 'Succeeded', 'Failed', 'Cancelled'];
  const phaseText = [...phases.entries()].sort((a, b) => (order.indexOf(a[0]) + 100) % 100 - ((order.indexOf(b[0]) + 100) % 100) || a[0].localeCompare(b[0])).map(([p, n]) => `${p} ${n}`);
  out.push(`actions by phase: ${phaseText.join(' · ') || 'none yet'}`);
  const byScenario = state.scenarios.map((s) => `${s.id} ${state.actions.filter((a) => a.namespace === s.namespace && !a.dryRun && a.phase !== 'Blocked').length}`);
  out.push(clip(`acted per scenario: ${byScenario.join(' · ')}`));
  out.push(`failures so far: OOMKilled ${state.failures.oomKilled} · crashes ${state.failures.crashes} · faults injected ${state.failures.faults}`);
  out.push('latest decisions:');
  type Line = { at: number; text: string };
  const lines: Line[] = state.actions.map((a) => ({
    at: a.createdAt,
    text: `${clock(a.createdAt)} ${a.namespace} ${a.policy}: ${a.type}${a.scale ? ` ${a.scale.direction}` : ''} ${a.targetName} → ${a.dryRun ? 'dry run' : a.phase}${a.reason ? ` (${a.reason})` : ''} [${a.source}${a.confidence === undefined ? '' : ` ${a.confidence.toFixed(2)}`}] ${a.reasoning.find((r) => r !== a.reasoning[0]) ?? a.reasoning[0] ?? ''}`,
  }));
  for (const d of state.decisions.filter((x) => x.recommendation === 'none')) {
    lines.push({ at: d.at, text: `${clock(d.at)} ${d.namespace} ${d.policy}: analyzer declined ${d.target.split('/').slice(-1)[0] ?? ''} [${d.rule ?? 'no rule'}] ${d.reasoning[0] ?? ''}` });
  }
  // Declines repeat on every reconcile while a firing lasts: one per policy and rule is enough to show.
  const seen = new Set<string>();
  const latest = lines
    .sort((a, b) => b.at - a.at)
    .filter((l) => {
      const key = l.text.includes('analyzer declined') ? l.text.replace(/^\S+ /, '').replace(/ \[.*$/, '') : l.text;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, 12);
  for (const l of latest) out.push(clip(`  ${l.text}`));
  if (latest.length === 0) out.push('  (none yet: the first faults take a minute)');
  return out;
}
