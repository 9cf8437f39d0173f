// The dashboard page: connects to /api/events (Server-Sent Events), keeps the view the operator sends, and renders
// it. Every figure comes from the operator's JSON; this file only arranges and words it. Text is always set with
// textContent, never parsed as markup: names, reasons and messages come from the cluster and must not become markup.
import { renderCharts } from './charts.js';
import {
  formatAgo,
  formatBeforeAfter,
  formatBudget,
  formatClock,
  formatConfidence,
  formatCounts,
  formatTarget,
  formatTrigger,
  phaseStyle,
} from './format.js';

/** The latest view, updated in place by events. */
let view = undefined;
/** Server time minus browser time, so "ago" is measured against the operator's clock. */
let skew = 0;
const serverNow = () => Date.now() + skew;

/** Creates an element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** A <time> that shows clock time and age; refreshed by tick(). */
function timeEl(at, prefix = '') {
  return h('time', { datetime: new Date(at).toISOString(), 'data-at': at, 'data-prefix': prefix, text: `${prefix}${formatClock(at)} (${formatAgo(at, serverNow())})` });
}

function tick() {
  const now = serverNow();
  for (const t of document.querySelectorAll('time[data-at]')) {
    const at = Number(t.dataset.at);
    t.textContent = `${t.dataset.prefix ?? ''}${formatClock(at)} (${formatAgo(at, now)})`;
  }
}

function setBadge(id, text, tone, title) {
  const el = document.getElementById(id);
  el.hidden = false;
  el.textContent = text;
  el.className = `badge tone-${tone}`;
  if (title) el.title = title;
}

// ---------------------------------------------------------------------------------------------------------------
// Header and safety
// ---------------------------------------------------------------------------------------------------------------

function renderOperator() {
  const o = view.operator;
  setBadge('badge-run', o.paused ? 'PAUSED: nothing executes' : 'running', o.paused ? 'bad' : 'good');
  setBadge('badge-dryrun', o.dryRun ? 'DRY-RUN: nothing is mutated' : 'dry-run off', o.dryRun ? 'warn' : 'muted');
  if (!o.leaderElection) setBadge('badge-leader', 'single replica (no leader election)', 'muted');
  else if (o.leading) setBadge('badge-leader', 'leader', 'good', o.leaderIdentity ? `Lease held by ${o.leaderIdentity}` : undefined);
  else setBadge('badge-leader', `standby${o.leaderIdentity ? ` (leader: ${o.leaderIdentity})` : ''}`, 'attention');
  document.getElementById('badge-sync').hidden = o.synced;
  document.getElementById('version').textContent = `operator ${o.version}`;
}

function card(title, big, lines, tone = 'neutral', meter) {
  return h(
    'article',
    { class: `card tone-border-${tone}` },
    h('h3', { text: title }),
    h('p', { class: `big tone-text-${tone}`, text: big }),
    meter ? h('meter', { min: 0, max: meter.max, value: meter.value, low: meter.max * 0.2 + 0.001, optimum: meter.max, 'aria-label': `${title}: ${big}` }) : undefined,
    ...lines.map((l) => h('p', { class: 'small', text: l })),
  );
}

function budgetCard(title, b) {
  const tone = b.limit === 0 ? 'muted' : b.remaining === 0 ? 'bad' : b.remaining <= Math.ceil(b.limit * 0.2) ? 'warn' : 'good';
  return card(title, b.limit === 0 ? 'none allowed' : `${b.remaining} left`, [`${b.used} of ${b.limit} used in the rolling hour`, ...(b.remaining === 0 && b.nextSlotAt ? [`next slot ${formatAgo(b.nextSlotAt, serverNow())}`] : [])], tone, b.limit > 0 ? { max: b.limit, value: b.remaining } : undefined);
}

function breakerTone(state) {
  return state === 'closed' ? 'good' : state === 'open' ? 'bad' : 'warn';
}

function renderSafety() {
  const s = view.safety;
  const cards = [
    budgetCard('Rule budget (all policies)', s.ruleBudget),
    budgetCard('AI budget', s.aiBudget),
    card('Global circuit breaker', s.globalBreaker.state, [s.globalBreaker.message], breakerTone(s.globalBreaker.state)),
    card(
      'Policy circuit breakers',
      s.openBreakers.length === 0 ? 'all closed' : `${s.openBreakers.length} not closed`,
      s.openBreakers.length === 0 ? [`${view.policies.length} polic${view.policies.length === 1 ? 'y' : 'ies'} checked`] : s.openBreakers.map((b) => `${b.state}: ${b.message}`),
      s.openBreakers.length === 0 ? 'good' : 'bad',
    ),
    card('Actions now', `${s.inFlight} in flight`, [`${s.queued} queued for the safety gate`, `${s.waitingApproval} awaiting approval`], s.inFlight > 0 ? 'active' : 'neutral'),
    stormCard(s.storm),
  ];
  document.getElementById('safety-cards').replaceChildren(...cards);
  renderOperator();
  document.getElementById('updated').textContent = `· data from ${formatClock(view.generatedAt)}`;
}

function stormCard(storm) {
  if (!storm.enabled) return card('Storm suppression', 'off', ['maxFailingWorkloads is 0'], 'muted');
  const busiest = storm.namespaces[0];
  const stormy = storm.namespaces.filter((n) => n.state === 'storm');
  const window = `${Math.round(storm.windowMs / 60000)}m`;
  return card(
    'Storm suppression',
    stormy.length > 0 ? `storm in ${stormy.length} namespace${stormy.length === 1 ? '' : 's'}` : 'no storm',
    [
      `more than ${storm.maxWorkloads} workloads with actions in ${window} in one namespace is a storm`,
      busiest ? `busiest: ${busiest.namespace} — ${busiest.workloads} workload${busiest.workloads === 1 ? '' : 's'} (${busiest.state})` : 'no actions in the window',
    ],
    stormy.length > 0 ? 'bad' : storm.namespaces.some((n) => n.state === 'at-limit') ? 'warn' : 'good',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------------------------

function policyRow(p) {
  const firing = new Set(p.activeTriggers);
  const ready = p.ready;
  return h(
    'tr',
    { 'data-key': p.key },
    h('th', { scope: 'row' }, h('span', { class: 'kind', text: p.kind === 'ClusterHealingPolicy' ? 'ClusterHealingPolicy' : `HealingPolicy · ${p.namespace}` }), h('span', { class: 'name', text: p.name })),
    h('td', {}, h('span', { class: `mode mode-${p.mode}`, text: p.mode })),
    h('td', { class: 'num', text: p.matched === undefined ? '—' : String(p.matched) }),
    h(
      'td',
      {},
      h(
        'ul',
        { class: 'triggers' },
        p.triggers.map((t) =>
          h('li', { class: firing.has(t.name) ? 'firing' : '' }, firing.has(t.name) ? h('span', { class: 'badge tone-bad small-badge', text: 'FIRING' }) : undefined, h('strong', { text: t.name }), ` ${t.summary}`),
        ),
      ),
    ),
    h(
      'td',
      {},
      p.budget.limit > 0 ? h('meter', { min: 0, max: p.budget.limit, value: p.budget.remaining, low: p.budget.limit * 0.2 + 0.001, optimum: p.budget.limit, 'aria-hidden': 'true' }) : undefined,
      h('span', { text: ` ${formatBudget(p.budget, serverNow())}` }),
    ),
    h('td', {}, h('span', { class: `badge tone-${breakerTone(p.breaker.state)}`, title: p.breaker.message, text: p.breaker.state })),
    h(
      'td',
      {},
      ready
        ? h('span', { class: `badge tone-${ready.status === 'True' ? 'good' : 'bad'}`, title: ready.message, text: `${ready.status === 'True' ? '✓' : '✗'} ${ready.reason}` })
        : h('span', { class: 'muted', text: 'not reconciled yet' }),
      ...p.warnings.map((w) => h('div', { class: 'warning small', title: w.message, text: `⚠ ${w.type}=${w.status}: ${w.reason}` })),
      p.lastEvaluatedAt ? h('div', { class: 'small muted' }, timeEl(p.lastEvaluatedAt, 'evaluated ')) : undefined,
    ),
  );
}

function renderPolicies() {
  const rows = view.policies.map(policyRow);
  document.querySelector('#policies tbody').replaceChildren(...rows);
  document.getElementById('policies').hidden = rows.length === 0;
  document.getElementById('policies-empty').hidden = rows.length > 0;
  document.getElementById('policy-count').textContent = `(${rows.length})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline
// ---------------------------------------------------------------------------------------------------------------

function actionItem(a) {
  const style = phaseStyle(a.phase);
  const result = a.result;
  const beforeAfter = result ? formatBeforeAfter(result.metricsBefore, result.metricsAfter) : [];
  return h(
    'li',
    { class: `action tone-border-${style.tone}`, 'data-key': a.key, 'data-phase': a.phase, 'data-target': a.targetKey },
    h(
      'div',
      { class: 'action-head' },
      h('span', { class: `badge tone-${style.tone}`, text: `${style.symbol} ${a.phase}` }),
      a.dryRun ? h('span', { class: 'badge tone-warn', text: 'dry run' }) : undefined,
      h('strong', { class: 'verb', text: a.actionType }),
      h('span', { class: 'target', text: formatTarget(a.target) }),
      h('span', { class: 'spacer' }),
      timeEl(a.createdAt),
    ),
    a.trigger ? h('p', { class: 'trigger' }, h('span', { class: 'label', text: 'trigger ' }), formatTrigger(a.trigger)) : undefined,
    Object.keys(a.trigger?.values ?? {}).length > 0
      ? h('p', { class: 'values small muted', text: Object.entries(a.trigger.values).map(([k, v]) => `${k}=${v}`).join(' · ') })
      : undefined,
    h(
      'p',
      { class: 'source small' },
      a.source === 'ai'
        ? h('span', { class: 'badge tone-attention', text: `AI${a.confidence !== undefined ? ` · ${formatConfidence(a.confidence)} confidence` : ''}` })
        : h('span', { class: 'badge tone-neutral', text: `rule${a.confidence !== undefined ? ` · ${formatConfidence(a.confidence)} confidence` : ''}` }),
      ` policy ${a.policy} · action ${a.actionName}${a.escalationLevel ? ` (escalation ${a.escalationLevel})` : ''} · ${a.name}`,
    ),
    a.reasoning.length > 0 ? h('ul', { class: 'reasoning' }, a.reasoning.map((r) => h('li', { text: r }))) : undefined,
    a.alternatives.length > 0
      ? h('p', { class: 'small muted', text: `alternatives: ${a.alternatives.map((x) => `${x.action} ${formatConfidence(x.confidence)}${x.reason ? ` (${x.reason})` : ''}`).join(', ')}` })
      : undefined,
    a.reason || a.message ? h('p', { class: 'status small' }, h('span', { class: 'label', text: a.reason ? `${a.reason}: ` : '' }), a.message ?? '') : undefined,
    result
      ? h(
          'p',
          { class: `result small tone-text-${result.success ? 'good' : 'bad'}` },
          `${result.success ? '✓ result' : '✗ result'}: ${result.error ?? result.message ?? (result.success ? 'success' : 'failed')}`,
          beforeAfter.length > 0 ? h('span', { class: 'muted', text: ` · ${beforeAfter.join(' · ')}` }) : undefined,
        )
      : undefined,
    a.approval?.required ? h('p', { class: 'small', text: a.approval.approved === undefined ? 'approval required: waiting' : `${a.approval.approved ? 'approved' : 'rejected'}${a.approval.by ? ` by ${a.approval.by}` : ''}` }) : undefined,
  );
}

function compareActions(a, b) {
  return b.createdAt - a.createdAt || a.key.localeCompare(b.key);
}

function renderTimeline() {
  document.getElementById('timeline').replaceChildren(...view.actions.map(actionItem));
  document.getElementById('timeline-empty').hidden = view.actions.length > 0;
  renderCounts();
}

function renderCounts() {
  const c = view.counts;
  document.getElementById('counts').textContent = c.total === 0 ? '' : `(${c.total}: ${formatCounts(c)}${view.actions.length < c.total ? `; newest ${view.actions.length} shown` : ''})`;
}

/** Inserts or replaces one action in place, keeping newest-first order, without touching the others. */
function upsertAction(row) {
  const list = document.getElementById('timeline');
  const existing = view.actions.findIndex((a) => a.key === row.key);
  if (existing >= 0) view.actions.splice(existing, 1);
  const at = view.actions.findIndex((a) => compareActions(row, a) < 0);
  view.actions.splice(at < 0 ? view.actions.length : at, 0, row);
  const item = actionItem(row);
  const old = list.querySelector(`li[data-key="${CSS.escape(row.key)}"]`);
  if (old) old.remove();
  const next = view.actions[view.actions.indexOf(row) + 1];
  const nextEl = next ? list.querySelector(`li[data-key="${CSS.escape(next.key)}"]`) : null;
  list.insertBefore(item, nextEl);
  document.getElementById('timeline-empty').hidden = true;
  if (existing < 0) {
    item.classList.add('fresh');
    document.getElementById('announcer').textContent = `New HealingAction: ${row.actionType} ${formatTarget(row.target)} (${row.phase})`;
  }
}

function removeAction(key) {
  view.actions = view.actions.filter((a) => a.key !== key);
  document.querySelector(`#timeline li[data-key="${CSS.escape(key)}"]`)?.remove();
  document.getElementById('timeline-empty').hidden = view.actions.length > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

function renderAll() {
  renderSafety();
  renderPolicies();
  renderTimeline();
  renderCharts(document.getElementById('charts'), view.charts, { empty: document.getElementById('charts-empty') });
}

const handlers = {
  snapshot(data) {
    view = data;
    skew = data.generatedAt - Date.now();
    renderAll();
  },
  operator(data) {
    view.operator = data;
    renderOperator();
  },
  safety(data) {
    view.safety = data;
    renderSafety();
    tick();
  },
  policy(row) {
    const i = view.policies.findIndex((p) => p.key === row.key);
    if (i >= 0) view.policies[i] = row;
    else view.policies.push(row);
    renderPolicies();
  },
  'policy-removed'({ key }) {
    view.policies = view.policies.filter((p) => p.key !== key);
    renderPolicies();
  },
  action: upsertAction,
  'action-removed'({ key }) {
    removeAction(key);
  },
  counts(data) {
    view.counts = data;
    renderCounts();
  },
  charts({ charts }) {
    view.charts = charts;
    renderCharts(document.getElementById('charts'), charts, { empty: document.getElementById('charts-empty') });
  },
  heartbeat({ at }) {
    skew = at - Date.now();
  },
};

/** Silence longer than this (heartbeats come every 15 s) means the stream is dead even if the socket is not. */
const STALE_MS = 45_000;
let source;
let lastMessage = Date.now();

function setLive(live) {
  setBadge('badge-live', live ? '● live' : '○ reconnecting…', live ? 'good' : 'warn', live ? 'receiving updates from the operator' : 'the event stream is down; retrying');
}

function connect() {
  source?.close();
  source = new EventSource('/api/events');
  source.addEventListener('open', () => setLive(true));
  source.addEventListener('error', () => {
    setLive(false);
    // EventSource retries by itself unless the server answered with an error status; then start over.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
  });
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => {
      lastMessage = Date.now();
      if (view === undefined && name !== 'snapshot') return;
      handle(JSON.parse(e.data));
    });
  }
}

setInterval(() => {
  tick();
  if (Date.now() - lastMessage > STALE_MS) {
    lastMessage = Date.now();
    setLive(false);
    connect();
  }
}, 5000);

connect();

/** Exposed for the end-to-end test and for debugging in the console: the view as last received. */
window.kubeskippy = {
  get view() {
    return view;
  },
};
