// The sidebar view: the gateway's health, today's cost and tokens with a small chart, the
// last routing decisions, and buttons that open the panels. Today's figures are the usage
// store's, in sidebarData (answering a request, and pushed by the host whenever the store
// changed); routingDecision and usageEvent messages only add to the list of decisions.
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
import {
  isSidebarData, isSidebarHostMessage, type GatewayHealthView, type SidebarData, type SidebarDecision,
  type SidebarHostMessage, type SidebarInitialState,
} from '../../../src/protocol/webviewMessages.js';
import { currentTheme, seriesColor, styleScales, trackChart, withAlpha, type AnyChart, type ThemeColors } from '../charts/chartTheme.js';
import { costTickLabel } from '../charts/costAxis.js';
import { h, setChildren, setText } from '../shared/dom.js';
import { formatAxisHour, formatBucket, formatCost, formatTokens, relativeTime, sourceLabel } from '../shared/format.js';
import { loadState, onHostMessage, post, readInitialState, requestId, saveState } from '../shared/vscode.js';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Filler, Tooltip);

const DECISIONS_KEEP = 20;
const DECISIONS_SHOW = 6;

interface PersistedState { v: 1; data: SidebarData | null }

function isPersistedState(v: unknown): v is PersistedState {
  return typeof v === 'object' && v !== null && (v as PersistedState).v === 1
    && ((v as PersistedState).data === null || isSidebarData((v as PersistedState).data));
}

let data: SidebarData | null = null;
let pendingId: string | null = null;

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
  cost: h('div', { class: 'stat-value', attrs: { 'data-testid': 'todayCost' } }),
  costNote: h('div', { class: 'stat-note muted', attrs: { 'data-testid': 'todayCostNote' } }),
  tokens: h('div', { class: 'stat-value', attrs: { 'data-testid': 'todayTokens' } }),
  requests: h('div', { class: 'stat-note muted', attrs: { 'data-testid': 'todayRequests' } }),
  canvas: h('canvas', { attrs: { 'data-chart': 'todayCost', role: 'img' } }),
  decisions: h('ul', { class: 'decisions', attrs: { 'data-testid': 'decisions' } }),
  body: h('div', { class: 'body' }),
  loading: h('p', { class: 'state-message', attrs: { 'data-testid': 'loading' } }, 'Loading...'),
};

function buildLayout(): void {
  setChildren(ui.body,
    h('section', { class: 'health', attrs: { 'aria-label': 'Gateway' } },
      h('div', { class: 'health-line' }, ui.dot, ui.healthText),
      ui.healthMessage,
      h('div', { class: 'button-row' }, ui.start, ui.restart, ui.logs)),
    h('section', { class: 'today', attrs: { 'aria-label': 'Today' } },
      h('h2', null, 'Today'),
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('div', { class: 'stat-label muted' }, 'Cost'), ui.cost, ui.costNote),
        h('div', { class: 'stat' }, h('div', { class: 'stat-label muted' }, 'Tokens'), ui.tokens, ui.requests)),
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

function renderChart(d: SidebarData): void {
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
        plugins: { tooltip: { callbacks: { label: (ctx) => formatCost(ctx.parsed.y) } } },
        interaction: { intersect: false, mode: 'index' },
      },
    });
    trackChart('todayCost', chart, styleChart);
  } else {
    chart.data.labels = labels;
    chart.data.datasets[0].data = values;
    chart.update('none');
  }
  ui.canvas.setAttribute('aria-label', `Cost per hour today: ${d.costSeries.filter((p) => p.cost > 0).map((p) => `${formatBucket(p.bucketStart, 'hour')} ${formatCost(p.cost)}`).join('; ') || 'no cost yet'}`);
}

// ---------------------------------------------------------------------------------------
// Rendering

const HEALTH_TEXT: Record<GatewayHealthView['health'], string> = {
  running: 'Gateway running', starting: 'Gateway starting...', stopped: 'Gateway stopped', error: 'Gateway failing',
};

function renderHealth(health: GatewayHealthView): void {
  ui.dot.className = `dot ${health.health}`;
  const details = health.health === 'running'
    ? [health.port !== null ? `port ${health.port}` : '', health.version ? `v${health.version}` : ''].filter(Boolean).join(' · ')
    : '';
  setText(ui.healthText, details ? `${HEALTH_TEXT[health.health]} (${details})` : HEALTH_TEXT[health.health]);
  setText(ui.healthMessage, health.message ?? '');
  ui.healthMessage.hidden = !health.message;
  ui.start.hidden = health.health === 'running' || health.health === 'starting';
  ui.restart.hidden = health.health === 'stopped';
}

function renderToday(d: SidebarData): void {
  setText(ui.cost, formatCost(d.today.cost));
  const refused = d.today.refusedRequests ?? 0;
  setText(ui.costNote, [
    d.today.costUnknownRequests > 0 ? `+ ${d.today.costUnknownRequests} without a known price` : '',
    refused > 0 ? `${refused} refused by a budget` : '',
  ].filter(Boolean).join(' · '));
  setText(ui.tokens, formatTokens(d.today.tokens));
  setText(ui.requests, `${formatTokens(d.today.requests)} request${d.today.requests === 1 ? '' : 's'}`);
}

function renderDecisions(d: SidebarData): void {
  const now = Date.now();
  const items = d.decisions.slice(0, DECISIONS_SHOW).map((x) => h('li', { attrs: { title: x.rule } },
    h('div', { class: 'decision-line' },
      h('span', { class: 'badge', attrs: { 'data-field': 'source' } }, x.refused ? 'Refused' : sourceLabel(x.source)),
      h('span', { class: 'decision-model ellipsis', attrs: { 'data-field': 'model' } }, x.refused ? `${x.model} (over budget, not sent)` : x.model)),
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

function addDecision(d: SidebarData, decision: SidebarDecision): boolean {
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
function applyUsage(d: SidebarData, record: UsageRecord, agentName: string | null | undefined): boolean {
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

function onHost(message: SidebarHostMessage): void {
  switch (message.type) {
    case 'sidebarData':
      if (message.id !== undefined && message.id !== pendingId) return;
      pendingId = null;
      data = message.data;
      renderAll();
      persist();
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
  data = initial && isSidebarData(initial.data) ? initial.data : saved?.data ?? null;
  buildLayout();
  renderAll();
  onHostMessage(isSidebarHostMessage, onHost);
  post({ type: 'ready', view: 'sidebar' });
  pendingId = requestId();
  post({ type: 'requestSidebarData', id: pendingId });
  window.setInterval(() => {
    const now = Date.now();
    ui.decisions.querySelectorAll<HTMLElement>('[data-at]').forEach((el) => setText(el, relativeTime(el.dataset.at!, now)));
  }, 30_000);
}
