// The sidebar view: the gateway's health, today's cost and tokens with a small chart, today's
// and this month's spend against the budgets, the last routing decisions, and buttons that
// open the panels. Its figures are the usage store's for one scope it names (the workspace's
// project, or every project), today and this month being calendar periods in the gateway's
// zone as budgets count them. They come in sidebarData (answering a request, and pushed by
// the host whenever the store changed); routingDecision and usageEvent messages only add to
// the list of decisions.
import '../shared/boot.js';
// The @vscode-elements components this view uses (each import defines its custom element).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '../shared/base.css';
import './style.css';
import {
  CategoryScale, Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset,
} from 'chart.js';
import type { UsageRecord } from '../../../src/protocol/usage.js';
import { isRefused } from '../../../src/protocol/measures.js';
import { isSidebarSpend, type PeriodSpend, type SidebarSpendData } from '../../../src/protocol/webviewMessages.js';
import {
  isSidebarData, isSidebarHostMessage, type GatewayHealthView, type SidebarDataMessage, type SidebarDecision,
  type SidebarHostMessage, type SidebarInitialState, type SidebarRequests,
} from '../../../src/protocol/webviewMessages.js';
import { currentTheme, seriesColor, styleScales, trackChart, withAlpha, type AnyChart, type ThemeColors } from '../charts/chartTheme.js';
import { costTickLabel } from '../charts/costAxis.js';
import { h, setChildren, setText } from '../shared/dom.js';
import { formatAxisHour, formatBucket, relativeTime, sourceLabel } from '../shared/format.js';
import { formatInteger, formatSpendOfBudget, formatUsd, plural } from '../../../src/protocol/format.js';
import { connectHost, loadState, post, readInitialState, saveState } from '../shared/vscode.js';
import { ChannelSupersededError } from '../../../src/protocol/channel.js';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Filler, Tooltip);

const DECISIONS_KEEP = 20;
const DECISIONS_SHOW = 6;

interface PersistedState { v: 1; data: SidebarSpendData | null }

/** The host's data, with the scope and spend it carries besides SidebarData checked too. */
function isSidebarSpendData(v: unknown): v is SidebarSpendData {
  if (!isSidebarData(v)) return false;
  const extra = v as Partial<SidebarSpendData>;
  return extra.scopeLabel === undefined || isSidebarSpend(extra);
}

function isPersistedState(v: unknown): v is PersistedState {
  return typeof v === 'object' && v !== null && (v as PersistedState).v === 1
    && ((v as PersistedState).data === null || isSidebarSpendData((v as PersistedState).data));
}

let data: SidebarSpendData | null = null;
/** The host: the sidebar's data is the one request; health, decisions and usage come on their own. */
const host = connectHost<SidebarRequests, SidebarHostMessage>(isSidebarHostMessage, onHost);

function persist(): void {
  saveState<PersistedState>({ v: 1, data });
}

// ---------------------------------------------------------------------------------------
// Layout

const app = document.getElementById('app')!;

function button(label: string, testid: string, secondary: boolean, onClick: () => void): HTMLElementTagNameMap['vscode-button'] {
  const b = h('vscode-button', { attrs: { secondary, 'data-testid': testid } }, label);
  b.addEventListener('click', onClick);
  return b;
}

const ui = {
  dot: h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
  healthText: h('span', { class: 'health-text', attrs: { 'data-testid': 'health' } }),
  healthMessage: h('p', { class: 'muted health-message', attrs: { 'data-testid': 'healthMessage' } }),
  start: button('Start Gateway', 'start', false, () => post({ type: 'gatewayAction', action: 'start' })),
  restart: button('Restart', 'restart', true, () => post({ type: 'gatewayAction', action: 'restart' })),
  logs: button('Show Logs', 'logs', true, () => post({ type: 'gatewayAction', action: 'showLogs' })),
  healthWarning: h('p', { class: 'health-warning', attrs: { 'data-testid': 'healthWarning', role: 'status' } }),
  // The status bar's two fixes for missing credentials, under the same names.
  setApiKey: button('Set Provider API Key', 'setApiKey', false, () => post({ type: 'gatewayAction', action: 'setApiKey' })),
  claudeLogin: button('Use my Claude subscription', 'claudeLogin', true, () => post({ type: 'gatewayAction', action: 'claudeLogin' })),
  credentialFixes: h('div', { class: 'button-row', attrs: { 'data-testid': 'credentialFixes' } }),
  scope: h('p', { class: 'scope muted', attrs: { 'data-testid': 'scope' } }),
  cost: h('div', { class: 'stat-value', attrs: { 'data-testid': 'todayCost' } }),
  month: h('p', { class: 'month-line', attrs: { 'data-testid': 'monthCost' } }),
  costNote: h('div', { class: 'stat-note muted', attrs: { 'data-testid': 'todayCostNote' } }),
  tokens: h('div', { class: 'stat-value', attrs: { 'data-testid': 'todayTokens' } }),
  requests: h('div', { class: 'stat-note muted', attrs: { 'data-testid': 'todayRequests' } }),
  canvas: h('canvas', { attrs: { 'data-chart': 'todayCost', role: 'img' } }),
  decisions: h('ul', { class: 'decisions', attrs: { 'data-testid': 'decisions' } }),
  body: h('div', { class: 'body' }),
  loading: h('p', { class: 'state-message', attrs: { 'data-testid': 'loading' } }, 'Loading...'),
};

function buildLayout(): void {
  setChildren(ui.credentialFixes, ui.setApiKey, ui.claudeLogin);
  setChildren(ui.body,
    h('section', { class: 'health', attrs: { 'aria-label': 'Gateway' } },
      h('div', { class: 'health-line' }, ui.dot, ui.healthText),
      ui.healthMessage,
      ui.healthWarning,
      ui.credentialFixes,
      h('div', { class: 'button-row' }, ui.start, ui.restart, ui.logs)),
    h('section', { class: 'today', attrs: { 'aria-label': 'Today' } },
      h('h2', null, 'Today'),
      ui.scope,
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('div', { class: 'stat-label muted' }, 'Cost'), ui.cost, ui.costNote),
        h('div', { class: 'stat' }, h('div', { class: 'stat-label muted' }, 'Tokens'), ui.tokens, ui.requests)),
      ui.month,
      h('div', { class: 'chart-box small' }, ui.canvas)),
    h('section', { class: 'recent', attrs: { 'aria-label': 'Last routing decisions' } },
      h('h2', null, 'Last Routing Decisions'),
      ui.decisions),
    h('div', { class: 'panel-buttons' },
      button('Open Usage Analytics', 'openAnalytics', false, () => post({ type: 'openPanel', panel: 'analytics' })),
      button('Model Configuration', 'openModelConfig', true, () => post({ type: 'openPanel', panel: 'modelConfig' }))));
  setChildren(app, ui.loading, ui.body);
}

// ---------------------------------------------------------------------------------------
// Chart

let chart: AnyChart | null = null;

function styleChart(c: AnyChart, theme: ThemeColors): void {
  styleScales(c, theme);
  const line = c.data.datasets[0] as ChartDataset<'line'>;
  line.borderColor = seriesColor(theme, 0);
  line.backgroundColor = withAlpha(seriesColor(theme, 0), 0.25);
}

function renderChart(d: SidebarSpendData): void {
  currentTheme();
  const labels = d.costSeries.map((p) => formatAxisHour(p.bucketStart));
  const values = d.costSeries.map((p) => p.cost);
  if (!chart) {
    chart = new Chart(ui.canvas, {
      type: 'line',
      data: { labels, datasets: [{ label: 'Cost (USD)', data: values, fill: true, tension: 0.3, pointRadius: 0, borderWidth: 1.5 }] },
      options: {
        scales: {
          // A sidebar is narrow (narrower still with a scrollbar): short hour labels, a font size apart at least.
          x: { ticks: { maxTicksLimit: 4, maxRotation: 0, autoSkipPadding: 16 }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { maxTicksLimit: 3, callback: costTickLabel } },
        },
        plugins: { tooltip: { callbacks: { label: (ctx) => formatUsd(ctx.parsed.y) } } },
        interaction: { intersect: false, mode: 'index' },
      },
    });
    trackChart('todayCost', chart, styleChart);
  } else {
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.update('none');
  }
  ui.canvas.setAttribute('aria-label', `Cost per hour today: ${d.costSeries.filter((p) => p.cost > 0).map((p) => `${formatBucket(p.bucketStart, 'hour')} ${formatUsd(p.cost)}`).join('; ') || 'no cost yet'}`);
}

// ---------------------------------------------------------------------------------------
// Rendering

const HEALTH_TEXT: Record<GatewayHealthView['health'], string> = {
  running: 'Gateway running', starting: 'Gateway starting...', stopped: 'Gateway stopped', error: 'Gateway failing',
};

function renderHealth(health: GatewayHealthView): void {
  // Running with a warning (no credentials, a journal that cannot write, a refused config.json): as the status bar says it.
  const warning = health.health === 'running' ? health.warning ?? null : null;
  ui.dot.className = `dot ${warning ? 'warning' : health.health}`;
  setText(ui.healthWarning, warning ? `⚠ ${warning}` : '');
  ui.healthWarning.hidden = !warning;
  ui.credentialFixes.hidden = !(health.health === 'running' && health.needsCredentials);
  const details = health.health === 'running'
    ? [health.port !== null ? `port ${health.port}` : '', health.version ? `v${health.version}` : ''].filter(Boolean).join(' · ')
    : '';
  const text = warning ? (health.needsCredentials ? 'Gateway running without credentials' : 'Gateway running with a problem') : HEALTH_TEXT[health.health];
  setText(ui.healthText, details ? `${text} (${details})` : text);
  setText(ui.healthMessage, health.message ?? '');
  ui.healthMessage.hidden = !health.message;
  ui.start.hidden = health.health === 'running' || health.health === 'starting';
  ui.restart.hidden = health.health === 'stopped';
}

/** The whole percent of its budget a period spent (never rounded up to a limit not reached); null without a budget. */
function budgetPercent(p: Pick<PeriodSpend, 'cost' | 'budgetUsd'>): number | null {
  if (p.budgetUsd === null) return null;
  return p.budgetUsd === 0 ? 100 : Math.floor((100 * (p.cost ?? 0)) / p.budgetUsd); // a budget of 0 counts as reached (the gateway's rule)
}

function renderToday(d: SidebarSpendData): void {
  setText(ui.scope, d.scopeLabel
    ? `${d.scopeLabel[0].toUpperCase()}${d.scopeLabel.slice(1)}${d.spend ? ` · calendar day, ${d.spend.timeZone}` : ''}`
    : 'All projects');
  const today = d.spend?.today;
  // Against the daily budget when one is set; the store's cost alone otherwise.
  setText(ui.cost, today && today.budgetUsd !== null ? formatSpendOfBudget(d.today.cost, today.budgetUsd) : formatUsd(d.today.cost ?? (d.today.requests ? null : 0)));
  const refused = d.today.refusedRequests ?? 0;
  setText(ui.costNote, [
    today && today.budgetUsd !== null ? `${budgetPercent({ cost: d.today.cost, budgetUsd: today.budgetUsd })}% of the daily budget` : '',
    d.today.costUnknownRequests > 0 ? `+ ${d.today.costUnknownRequests} without a known price` : '',
    refused > 0 ? `${refused} refused by a budget` : '',
  ].filter(Boolean).join(' · '));
  setText(ui.tokens, formatInteger(d.today.tokens));
  setText(ui.requests, plural(d.today.requests, 'request'));
  const month = d.spend?.month;
  const monthPercent = month ? budgetPercent(month) : null;
  setText(ui.month, month
    ? `This month: ${formatSpendOfBudget(month.cost, month.budgetUsd)}${monthPercent === null ? '' : ` (${monthPercent}%)`}${month.unknownCostRequests > 0 ? ` + ${month.unknownCostRequests} without a known price` : ''}`
    : '');
  ui.month.hidden = !month;
}

function renderDecisions(d: SidebarSpendData): void {
  const now = Date.now();
  // The model first and whole (it wraps rather than being cut); the source badge follows it,
  // on the next line when both do not fit, and is the one shortened if it is still too wide.
  const items = d.decisions.slice(0, DECISIONS_SHOW).map((x) => h('li', { attrs: { title: x.rule } },
    h('div', { class: 'decision-line' },
      h('span', { class: 'decision-model', attrs: { 'data-field': 'model', title: x.model } }, x.refused ? `${x.model} (over budget, not sent)` : x.model),
      h('span', { class: 'badge decision-source', attrs: { 'data-field': 'source' } }, x.refused ? 'Refused' : sourceLabel(x.source))),
    h('div', { class: 'decision-meta muted' },
      h('span', { class: 'ellipsis', attrs: { 'data-field': 'agent' } }, x.agentName ?? 'no agent'),
      h('span', { attrs: { 'data-at': x.timestamp } }, relativeTime(x.timestamp, now)))));
  setChildren(ui.decisions, ...items);
  if (!items.length) setChildren(ui.decisions, h('li', { class: 'muted' }, 'No requests yet today.'));
}

function renderAll(): void {
  app.setAttribute('aria-busy', String(!data));
  ui.loading.hidden = data !== null;
  ui.body.hidden = data === null;
  if (!data) return;
  renderHealth(data.health);
  renderToday(data);
  renderDecisions(data);
  renderChart(data);
}

// ---------------------------------------------------------------------------------------
// Live updates

function addDecision(d: SidebarSpendData, decision: SidebarDecision): boolean {
  if (d.decisions.some((x) => x.requestId === decision.requestId)) return false;
  d.decisions.unshift(decision);
  d.decisions.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
  if (d.decisions.length > DECISIONS_KEEP) d.decisions.length = DECISIONS_KEEP;
  return true;
}

/**
 * A request's usage adds its decision to the list (marked when a budget refused it). Today's
 * figures are not touched: they come from the store (sidebarData), never added up here.
 */
function applyUsage(d: SidebarSpendData, record: UsageRecord, agentName: string | null | undefined): boolean {
  const decision = {
    requestId: record.id, model: record.decision.model, source: record.decision.source, rule: record.decision.rule,
    tokenCount: record.decision.tokenCount, timestamp: record.decision.timestamp, agentName: agentName ?? record.context.agentType ?? null,
    ...(isRefused(record.cost) ? { refused: true } : {}),
  };
  const known = d.decisions.find((x) => x.requestId === record.id);
  if (known) {
    // Its routing decision came first: the usage only tells whether it was refused.
    if (!decision.refused || known.refused) return false;
    known.refused = true;
    return true;
  }
  return addDecision(d, decision);
}

let frame = 0;
function scheduleRender(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderAll();
    persist();
  });
}

/** The sidebar's data, as asked for or as the host pushes it: a push answers a request under way too. */
function showData(message: SidebarDataMessage): void {
  if (!isSidebarSpendData(message.data)) return; // its scope or spend is malformed: nothing of it is shown
  host.abandon('requestSidebarData');
  data = message.data;
  renderAll();
  persist();
}

function onHost(message: SidebarHostMessage): void {
  switch (message.type) {
    case 'sidebarData':
      showData(message);
      return;
    case 'health':
      if (!data) return;
      data.health = message.health;
      scheduleRender();
      return;
    case 'routingDecision':
      if (!data) return;
      if (addDecision(data, {
        requestId: message.requestId, model: message.decision.model, source: message.decision.source, rule: message.decision.rule,
        tokenCount: message.decision.tokenCount, timestamp: message.decision.timestamp, agentName: message.agentName ?? null,
      })) scheduleRender();
      return;
    case 'usageEvent':
      if (!data) return;
      if (applyUsage(data, message.record, message.agentName)) scheduleRender();
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Start

{
  const saved = loadState(isPersistedState);
  const initial = readInitialState() as SidebarInitialState | null;
  data = initial && isSidebarSpendData(initial.data) ? initial.data : saved?.data ?? null;
  buildLayout();
  renderAll();
  post({ type: 'ready', view: 'sidebar' });
  host.request('requestSidebarData', {}).then(showData, (err: Error) => {
    if (!(err instanceof ChannelSupersededError)) console.warn('conduit sidebar: no data from the host', err.message);
  });
  window.setInterval(() => {
    const now = Date.now();
    ui.decisions.querySelectorAll<HTMLElement>('[data-at]').forEach((el) => setText(el, relativeTime(el.dataset.at!, now)));
  }, 30_000);
}
