// The usage analytics panel. Cards, then the first chart of every spend page (cost per day
// stacked by model, agent or project), then tabs: models, routing sources, failed and
// unpriced requests, recent activity, agents, sessions. It asks the host for a period
// (requestAnalytics → analytics) and asks again when the host says the store ingested
// requests or the gateway started ('refresh'): every figure is the store's, and every
// figure says which period it covers (the answer's scope.label). A finished request
// (usageEvent) only joins the recent activity list at once. A Mine / Team switch shows
// instead the project's usage per member (team.ts). A panel opened on one session hides
// the period and Mine / Team controls, which do not apply to it.
import '../shared/boot.js';
// The @vscode-elements components this view uses (each import defines its custom element).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '../shared/base.css';
import './style.css';
import {
  ANALYTICS_RANGES, ANALYTICS_VIEWS, DAILY_GROUP_BYS, isAnalyticsData, isAnalyticsHostMessage, isTeamAnalyticsData,
  type AnalyticsData, type AnalyticsHostMessage, type AnalyticsInitialState, type AnalyticsPeriod, type AnalyticsRequests, type AnalyticsView, type AnswerTo, type DailyGroupBy,
  type ExportViewName, type SessionSort, type SessionsPage, type TeamAnalyticsData, type UsageEventMessage,
} from '../../../src/protocol/webviewMessages.js';
import { currentTheme } from '../charts/chartTheme.js';
import { SeriesColors, type ColorSlots } from '../charts/seriesColors.js';
import { h, setChildren, setText } from '../shared/dom.js';
import { formatChange, formatPercent, formatTokenSplit, relativeTime, sourceLabel } from '../shared/format.js';
import { formatCount, formatInteger, formatUsd, plural } from '../../../src/protocol/format.js';
import { connectHost, loadState, post, readInitialState, saveState } from '../shared/vscode.js';
import { ChannelSupersededError, ChannelTimeoutError } from '../../../src/protocol/channel.js';
import { AnalyticsCharts, type ChartName } from './charts.js';
import { RECENT_PAGE, addRecentRequest, isEmpty, periodLabel, samePeriod } from './model.js';
import { RangePicker } from './rangePicker.js';
import {
  Pager, RECENT_COLUMNS, SESSION_COLUMNS, agentRows, head, modelRows, recentRows, sessionRows,
} from './tables.js';
import { TeamView, type TeamPhase } from './team.js';

type VscodeTabs = HTMLElementTagNameMap['vscode-tabs'];

const VIEW_LABELS: Record<AnalyticsView, string> = { mine: 'Mine', team: 'Team' };
const GROUP_LABELS: Record<DailyGroupBy, string> = { model: 'Model', agent: 'Agent', project: 'Project' };
const TABS = ['Models', 'Routing Sources', 'Failed & Unpriced', 'Recent Activity', 'Agents', 'Sessions'] as const;
/** The host should answer well within this; after it the panel offers Retry. */
const ANSWER_TIMEOUT_MS = 30_000;

interface PersistedState {
  v: 2;
  period: AnalyticsPeriod;
  tab: number;
  /** The last data shown, so a reopened panel paints at once while it fetches again. */
  data: AnalyticsData | null;
  view: AnalyticsView;
  team: TeamAnalyticsData | null;
  groupBy: DailyGroupBy;
  /** Each model's (agent's, project's) colour, kept for good. */
  colors: ColorSlots;
}

function isPeriod(p: unknown): p is AnalyticsPeriod {
  const o = p as Partial<AnalyticsPeriod> | null;
  return typeof o === 'object' && o !== null && ANALYTICS_RANGES.includes(o.range as AnalyticsPeriod['range']);
}

function isPersistedState(v: unknown): v is PersistedState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<PersistedState>;
  return s.v === 2 && isPeriod(s.period) && typeof s.tab === 'number'
    && (s.data === null || isAnalyticsData(s.data))
    && ANALYTICS_VIEWS.includes(s.view as AnalyticsView)
    && (s.team === null || isTeamAnalyticsData(s.team))
    && DAILY_GROUP_BYS.includes(s.groupBy as DailyGroupBy)
    && typeof s.colors === 'object' && s.colors !== null;
}

// ---------------------------------------------------------------------------------------
// State

const initial = (readInitialState() ?? {}) as AnalyticsInitialState; // each field checked before use
/** The panel shows one session: no period or Mine / Team to choose. */
const sessionMode = typeof initial.sessionId === 'string' && initial.sessionId.length > 0;

// A session's panel shows the session's whole life: the host asks for its span (range=session)
// whatever period this holds, and every figure is labelled by the answer ("Whole session · Nov 2 – Nov 3").
let period: AnalyticsPeriod = sessionMode ? { range: '30d' } : { range: 'this-month' };
let tab = 0;
let data: AnalyticsData | null = null;
let phase: 'loading' | 'ready' | 'error' | 'notRunning' = 'loading';
let errorMessage = '';
/**
 * The host: a range's figures, a page of sessions and the Team view are requests, each of
 * which only the newest is waited for (an older period's answer is ignored); usage events,
 * refreshes and action results come on their own.
 */
const host = connectHost<AnalyticsRequests, AnalyticsHostMessage>(isAnalyticsHostMessage, onHost, ['requestAnalytics', 'requestSessions', 'requestTeamAnalytics']);
const NO_ANSWER = 'the extension did not answer in time.';
/** Events that arrive while a fetch is under way: applied to its answer unless it already counts them. */
let buffered: UsageEventMessage[] = [];
let view: AnalyticsView = 'mine';
let team: TeamAnalyticsData | null = null;
let teamPhase: TeamPhase = 'loading';
let teamMessage = '';
let groupBy: DailyGroupBy = 'model';
let colors = new SeriesColors();
/** The sessions page on screen, and the one asked for. */
let sessions: SessionsPage | null = null;
let sessionsWanted: { sort: SessionSort; offset: number } = { sort: 'cost', offset: 0 };
let recentOffset = 0;

function persist(): void {
  saveState<PersistedState>({ v: 2, period, tab, data, view, team, groupBy, colors: colors.table });
}

// ---------------------------------------------------------------------------------------
// Layout (built once)

const app = document.getElementById('app')!;

/** Toggle buttons joined into one control (aria-pressed), each reached by Tab. */
function segmented<T extends string>(testid: string, labelId: string, values: readonly T[], label: (v: T) => string, choose: (v: T) => void) {
  const buttons = Object.fromEntries(values.map((v) => [v, h('button', {
    class: 'segment',
    attrs: { type: 'button', 'data-testid': `${testid}-${v}`, 'aria-pressed': 'false' },
    on: { click: () => choose(v) },
  }, label(v))])) as Record<T, HTMLButtonElement>;
  const group = h('div', { class: 'segmented', attrs: { role: 'group', 'aria-labelledby': labelId, 'data-testid': testid } }, ...values.map((v) => buttons[v]));
  const press = (current: T) => { for (const v of values) buttons[v].setAttribute('aria-pressed', String(v === current)); };
  return { group, buttons, press };
}

function card(testid: string, label: string) {
  const value = h('div', { class: 'card-value', attrs: { 'data-testid': `${testid}-value` } });
  const sub = h('div', { class: 'card-sub muted', attrs: { 'data-testid': `${testid}-sub` } });
  const extra = h('div', { class: 'card-extra muted', attrs: { 'data-testid': `${testid}-extra` } });
  const el = h('section', { class: 'card', attrs: { 'data-testid': testid, 'aria-label': label } }, h('div', { class: 'card-label' }, label), value, sub, extra);
  return { el, value, sub, extra };
}

function canvas(name: ChartName): HTMLCanvasElement {
  return h('canvas', { attrs: { 'data-chart': name } });
}

/** A figure's title with the period it covers ("This month"), kept in step with the answer. */
function titled(title: string, testid: string): HTMLElement {
  return h('h3', { class: 'figure-title' }, title, ' ', h('span', { class: 'period-label muted', attrs: { 'data-testid': `period-${testid}` } }));
}

function exportButtons(exportView: ExportViewName): HTMLElement {
  const button = (format: 'csv' | 'json') => h('button', {
    class: 'link', attrs: { type: 'button', 'data-testid': `export-${exportView}-${format}`, title: `Export this table (${format.toUpperCase()})` },
    on: { click: () => post({ type: 'exportView', format, view: exportView, params: { ...period, ...(exportView === 'sessions' ? { sort: sessionsWanted.sort } : {}), ...(exportView === 'daily' ? { groupBy } : {}) } }) },
  }, format.toUpperCase());
  return h('div', { class: 'export', attrs: { 'data-testid': `export-${exportView}` } }, h('span', { class: 'muted' }, 'Export'), button('csv'), button('json'));
}

const canvases: Record<ChartName, HTMLCanvasElement> = {
  daily: canvas('daily'), modelUsage: canvas('modelUsage'), costByModel: canvas('costByModel'), sources: canvas('sources'),
};

const viewSwitch = segmented('view', 'view-label', ANALYTICS_VIEWS, (v) => VIEW_LABELS[v], (v) => showView(v));
const groupSwitch = segmented('groupBy', 'groupBy-label', DAILY_GROUP_BYS, (g) => GROUP_LABELS[g], (g) => chooseGroup(g));

const ui = {
  subtitle: h('p', { class: 'subtitle muted', attrs: { 'data-testid': 'scope' } }),
  mine: h('div', { class: 'mine', attrs: { 'data-testid': 'mine' } }),
  team: new TeamView({ retry: () => fetchTeam(false), signIn: () => post({ type: 'signIn' }) }),
  range: new RangePicker(period, (p) => choosePeriod(p)),
  refresh: h('vscode-button', { attrs: { secondary: true, 'data-testid': 'refresh' } }, 'Refresh'),
  state: h('div', { class: 'state', attrs: { 'data-testid': 'state', 'aria-live': 'polite' } }),
  action: h('p', { class: 'action-status muted', attrs: { 'data-testid': 'action-status', role: 'status' } }),
  content: h('div', { class: 'content', attrs: { 'data-testid': 'content' } }),
  cost: card('totalCost', 'Total Cost'),
  tokens: card('totalTokens', 'Total Tokens'),
  avg: card('avgCost', 'Avg Cost/Request'),
  savings: card('savings', 'Savings vs Default Model'),
  cache: card('cache', 'Prompt Cache'),
  health: card('health', 'Failed / Unpriced'),
  dailyNote: h('p', { class: 'muted small', attrs: { 'data-testid': 'daily-note' } }),
  models: h('tbody', { attrs: { 'data-testid': 'models' } }),
  sources: h('tbody', { attrs: { 'data-testid': 'sources' } }),
  failed: h('tbody', { attrs: { 'data-testid': 'failed' } }),
  unpriced: h('tbody', { attrs: { 'data-testid': 'unpriced' } }),
  failedSummary: h('p', { attrs: { 'data-testid': 'failed-summary' } }),
  unpricedSummary: h('p', { attrs: { 'data-testid': 'unpriced-summary' } }),
  recent: h('tbody', { attrs: { 'data-testid': 'recent' } }),
  recentPager: new Pager('recent-pager', (d) => { recentOffset = Math.max(0, recentOffset + d * RECENT_PAGE); if (data) renderRecent(data); }),
  agents: h('tbody', { attrs: { 'data-testid': 'agents' } }),
  sessions: h('tbody', { attrs: { 'data-testid': 'sessions' } }),
  sessionsHead: h('thead'),
  sessionsPager: new Pager('sessions-pager', (d) => requestSessions(sessionsWanted.sort, Math.max(0, sessionsWanted.offset + d * (sessions?.sessions.length || 25)))),
  tabs: h('vscode-tabs', { attrs: { 'data-testid': 'tabs' } }) as VscodeTabs,
};

function panel(...children: (Node | string)[]): HTMLElement {
  return h('vscode-tab-panel', null, ...children);
}

function table(columns: { label: string; num?: boolean; title?: string }[] | null, body: HTMLTableSectionElement, thead?: HTMLTableSectionElement): HTMLElement {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' }, thead ?? (columns ? head(columns) : null), body));
}

function buildLayout(): void {
  ui.refresh.addEventListener('click', () => fetchView(true));
  ui.tabs.append(
    ...TABS.map((title, i) => h('vscode-tab-header', { attrs: { slot: 'header', 'data-testid': `tab-${i}` } }, title)),
    panel(
      h('div', { class: 'chart-grid' },
        h('figure', { class: 'chart' }, titled('Requests and Tokens by Model', 'modelUsage'),
          h('p', { class: 'muted small legend-note' }, 'Solid: requests (left axis) · light: tokens (right axis)'),
          h('div', { class: 'chart-box' }, canvases.modelUsage)),
        h('figure', { class: 'chart' }, titled('Cost by Model', 'costByModel'), h('div', { class: 'chart-box' }, canvases.costByModel))),
      h('div', { class: 'table-head' }, titled('Per Model', 'models'), exportButtons('models')),
      h('p', { class: 'muted small', attrs: { 'data-testid': 'models-note' } }, 'Per day: cost solid, cache savings dashed.'),
      table([{ label: 'Model' }, { label: 'Requests', num: true }, { label: 'Input', num: true }, { label: 'Output', num: true },
        { label: 'Cache Write', num: true }, { label: 'Cache Read', num: true }, { label: 'Cost', num: true },
        { label: 'Cache Savings', num: true, title: 'Cache reads priced at the input price, minus what they cost' },
        { label: 'Cost per Day', title: 'Over the period: cost (solid) and, where cache reads saved, cache savings (dashed)' }], ui.models)),
    panel(
      h('figure', { class: 'chart' }, titled('Routing Decision Sources', 'sources'), h('div', { class: 'chart-box sources-box' }, canvases.sources)),
      table([{ label: 'Source' }, { label: 'Requests', num: true }, { label: 'Cost', num: true }, { label: 'Share of Requests', num: true }], ui.sources)),
    panel(
      h('div', { class: 'problems' },
        h('section', null, titled('Failed Requests', 'failed'), ui.failedSummary,
          table([{ label: 'Status' }, { label: 'Error' }, { label: 'Requests', num: true }], ui.failed)),
        h('section', null, titled('Requests Without a Price', 'unpriced'), ui.unpricedSummary,
          table([{ label: 'Model' }, { label: 'Requests', num: true }, { label: 'Tokens', num: true }, { label: '' }], ui.unpriced)))),
    panel(
      h('div', { class: 'table-head' }, titled('Recent Activity', 'recent'), exportButtons('recent')),
      h('p', { class: 'muted small' }, 'Newest first. Choose a time to open its session.'),
      table(RECENT_COLUMNS, ui.recent), ui.recentPager.el),
    panel(
      h('div', { class: 'table-head' }, titled('Usage by Agent', 'agents'), exportButtons('agents')),
      table([{ label: 'Agent' }, { label: 'Requests', num: true }, { label: 'Tokens', num: true }, { label: 'Cost', num: true },
        { label: 'Share of Cost', num: true }, { label: 'Trend' }], ui.agents)),
    panel(
      h('div', { class: 'table-head' }, titled('Usage by Session', 'sessions'), exportButtons('sessions')),
      h('p', { class: 'muted small' }, 'Ranked over the whole period. Choose a column to rank by it.'),
      table(null, ui.sessions, ui.sessionsHead), ui.sessionsPager.el),
  );
  ui.tabs.selectedIndex = tab;
  ui.tabs.addEventListener('vsc-tabs-select', (event) => {
    tab = event.detail.selectedIndex;
    persist();
  });
  setChildren(ui.content,
    h('div', { class: 'cards' }, ui.cost.el, ui.tokens.el, ui.avg.el, ui.savings.el, ui.cache.el, ui.health.el),
    h('figure', { class: 'chart daily' },
      h('div', { class: 'figure-head' }, titled('Cost per Day', 'daily'),
        h('div', { class: 'figure-controls' }, h('span', { class: 'field-label', id: 'groupBy-label' }, 'By'), groupSwitch.group, exportButtons('daily'))),
      h('div', { class: 'chart-box daily-box' }, canvases.daily), ui.dailyNote),
    ui.tabs);
  setChildren(ui.mine, ui.state, ui.content);
  const controls = sessionMode
    ? h('div', { class: 'controls' }, ui.refresh)
    : h('div', { class: 'controls' },
      h('div', { class: 'field-label', id: 'view-label' }, 'Show'), viewSwitch.group,
      h('div', { class: 'field-label' }, 'Period'), ui.range.el, ui.refresh);
  setChildren(app,
    h('header', { class: 'top' }, h('div', { class: 'title' }, h('h1', null, sessionMode ? 'Session Usage' : 'Usage Analytics'), ui.subtitle), controls),
    ui.action,
    ui.mine,
    ui.team.el);
  renderSessionsHead();
}

// ---------------------------------------------------------------------------------------
// Rendering

let charts: AnalyticsCharts | null = null;

/** Which of Mine and Team is shown, and the switch's pressed button. */
function renderView(): void {
  viewSwitch.press(view);
  ui.mine.hidden = view !== 'mine';
  ui.team.el.hidden = view !== 'team';
  ui.subtitle.hidden = view !== 'mine' || !data?.scopeLabel;
  app.setAttribute('aria-busy', String(view === 'mine' ? phase === 'loading' || host.waitingFor('requestAnalytics') : teamPhase === 'loading'));
}

function renderTeam(): void {
  ui.team.render(teamPhase, team, teamMessage);
  renderView();
}

function retryButton(): HTMLElement {
  const retry = h('vscode-button', { attrs: { 'data-testid': 'retry' } }, 'Retry');
  retry.addEventListener('click', () => fetchRange(false));
  return retry;
}

function renderState(): void {
  renderView();
  const showContent = data !== null && !isEmpty(data) && (phase === 'ready' || phase === 'loading');
  ui.content.hidden = !showContent;
  // A new period is on its way: the figures shown stay, dimmed, until it replaces them.
  ui.content.classList.toggle('stale', host.waitingFor('requestAnalytics') && showContent);
  if (phase === 'loading' && !data) {
    setChildren(ui.state, h('div', { class: 'state-message' }, h('vscode-progress-ring', { attrs: { 'aria-hidden': 'true' } }), h('p', null, 'Loading usage data...')));
  } else if (phase === 'notRunning') {
    setChildren(ui.state, h('div', { class: 'banner info', attrs: { 'data-testid': 'not-running' } },
      h('p', null, 'The Conduit gateway is not running yet. This panel fills in by itself once it starts.'), retryButton()));
  } else if (phase === 'error') {
    setChildren(ui.state, h('div', { class: 'banner', attrs: { role: 'alert', 'data-testid': 'error' } },
      h('p', null, 'Could not load usage data: ', h('span', { attrs: { 'data-testid': 'errorMessage' } }, errorMessage)), retryButton()));
  } else if (data && isEmpty(data)) {
    setChildren(ui.state, h('p', { class: 'state-message', attrs: { 'data-testid': 'empty' } }, `No usage data for ${periodLabel(data, period).toLowerCase() === 'today' ? 'today' : periodLabel(data, period)}`));
  } else {
    setChildren(ui.state);
  }
}

/** Counts of requests in full ("1,931 requests"); token counts are the abbreviated ones. */

function renderSummary(d: AnalyticsData): void {
  const s = d.summary;
  const label = periodLabel(d, period);
  setText(ui.subtitle, d.scopeLabel ?? '');
  ui.subtitle.hidden = view !== 'mine' || !d.scopeLabel;
  for (const el of app.querySelectorAll('.period-label')) setText(el, `· ${label}`);
  setText(ui.cost.value, formatUsd(s.cost));
  setText(ui.cost.sub, label);
  const change = s.previous ? formatChange(s.cost, s.previous.cost) : null;
  setText(ui.cost.extra, change ? `${change} vs previous period (${formatUsd(s.previous!.cost)})` : s.previous ? `previous period: ${formatUsd(s.previous.cost)}` : '');
  setText(ui.tokens.value, formatCount(s.tokens));
  setText(ui.tokens.sub, `${plural(s.requests, 'request')} · ${label}`);
  setText(ui.tokens.extra, s.split ? formatTokenSplit(s.split) : '');
  ui.tokens.extra.title = s.split ? `Input ${s.split.inputTokens.toLocaleString()} · output ${s.split.outputTokens.toLocaleString()} · cache write ${s.split.cacheCreationTokens.toLocaleString()} · cache read ${s.split.cacheReadTokens.toLocaleString()}` : '';
  setText(ui.avg.value, formatUsd(s.averageCostPerRequest));
  setText(ui.avg.sub, `per priced request · ${label}`);
  setText(ui.avg.extra, '');
  const sv = d.savings;
  if (sv) {
    setText(ui.savings.value, formatUsd(sv.saved));
    setText(ui.savings.sub, `vs everything on ${sv.defaultModel ?? 'the default model'}: ${formatUsd(sv.onDefaultModel)}`);
    setText(ui.savings.extra, sv.saved >= 0 ? `${formatUsd(sv.saved)} saved · routing paid ${formatUsd(sv.actual)}` : `Routing cost ${formatUsd(-sv.saved)} more`);
  } else {
    setText(ui.savings.value, '—');
    setText(ui.savings.sub, 'No default model with a known price to compare with');
    setText(ui.savings.extra, '');
  }
  const c = d.cache;
  setText(ui.cache.value, c ? formatPercent(c.hitRate) : '—');
  setText(ui.cache.sub, 'of prompt tokens read from cache');
  setText(ui.cache.extra, c && c.netSavings !== null ? `${formatUsd(c.netSavings)} saved by caching` : 'Savings unknown (no price)');
  // Failed requests apart from unpriced ones: a different problem each, a different fix.
  const failed = s.failedRequests;
  const unpriced = s.unpricedRequests ?? unpricedModels(d).reduce((n, m) => n + m.requests, 0);
  setText(ui.health.value, failed !== undefined ? `${formatInteger(failed)} / ${formatInteger(unpriced)}` : formatInteger(s.costUnknownRequests));
  setText(ui.health.sub, failed !== undefined
    ? `${plural(failed, 'failed request')} (${formatPercent(s.errorRate ?? null)} error rate)`
    : `${plural(s.costUnknownRequests, 'request')} without a known cost`);
  setText(ui.health.extra, [
    failed !== undefined ? `${plural(unpriced, 'request')} to a model without a price` : '',
    s.refusedRequests > 0 ? `${formatCount(s.refusedRequests)} refused by a budget` : '',
  ].filter(Boolean).join(' · '));
}

function unpricedModels(d: AnalyticsData): { model: string; requests: number; tokens: number }[] {
  if (d.summary.unpricedModels) return d.summary.unpricedModels;
  return d.models.filter((m) => m.priceKnown === false || (m.cost === null && m.tokens > 0)).map((m) => ({ model: m.model, requests: m.requests, tokens: m.tokens }));
}

const addPrice = (model: string) => post({ type: 'addPrice', model });
const modelColor = (model: string) => colors.color(currentTheme(), 'model', model);

function renderTables(d: AnalyticsData): void {
  const byModel = d.daily?.model;
  const trendOf = (model: string) => (byModel && byModel.days.length > 1 ? byModel.days.map((day) => day.byKey[model]?.cost ?? 0) : null);
  // Cache savings per day: from a gateway that prices them (groupBy=model's cacheSavings), for a model with a price.
  const savingsOf = (model: string) => (byModel && byModel.days.length > 1 && byModel.days.some((day) => typeof day.byKey[model]?.cacheSavings === 'number')
    ? byModel.days.map((day) => day.byKey[model]?.cacheSavings ?? 0) : null);
  setChildren(ui.models, ...modelRows(d.models, modelColor, addPrice, trendOf, savingsOf));
  if (!d.models.length) setChildren(ui.models, h('tr', null, h('td', { class: 'muted', attrs: { colspan: 9 } }, 'No requests in this period.')));
  setChildren(ui.sources, ...d.sources.map((s) => h('tr', { attrs: { 'data-source': s.source } },
    h('td', { attrs: { 'data-field': 'source' } }, sourceLabel(s.source)),
    h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(s.requests)),
    h('td', { class: 'num', attrs: { 'data-field': 'cost' } }, formatUsd(s.cost ?? null)),
    h('td', { class: 'num', attrs: { 'data-field': 'share' } }, formatPercent(s.share ?? (d.summary.requests ? s.requests / d.summary.requests : null))))));
  const s = d.summary;
  const byStatus = s.failedByStatus ?? [];
  setText(ui.failedSummary, s.failedRequests === undefined
    ? 'This gateway does not count failed requests apart yet.'
    : `${plural(s.failedRequests, 'request')} failed (${formatPercent(s.errorRate ?? null)} of ${formatInteger(s.requests)}): each ended with one of the statuses below.`);
  setChildren(ui.failed, ...byStatus.map((f) => h('tr', { attrs: { 'data-status': f.status } },
    h('td', { attrs: { 'data-field': 'status' } }, String(f.status)),
    h('td', { class: f.error ? undefined : 'muted', attrs: { 'data-field': 'error' } }, f.error ?? '—'),
    h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(f.requests)))));
  const unpriced = unpricedModels(d);
  setText(ui.unpricedSummary, unpriced.length
    ? `${plural(unpriced.reduce((n, m) => n + m.requests, 0), 'request')} to ${plural(unpriced.length, 'model')} without a price: their cost is unknown, not $0.`
    : 'Every model used in this period has a price.');
  setChildren(ui.unpriced, ...unpriced.map((m) => h('tr', { attrs: { 'data-model': m.model } },
    h('td', { attrs: { 'data-field': 'model' } }, m.model),
    h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(m.requests)),
    h('td', { class: 'num', attrs: { 'data-field': 'tokens' } }, formatCount(m.tokens)),
    h('td', null, h('vscode-button', { attrs: { secondary: true, 'data-action': 'addPrice' }, on: { click: () => addPrice(m.model) } }, 'Add a price')))));
  setChildren(ui.agents, ...agentRows(d.agents, (key) => colors.color(currentTheme(), 'agent', key)));
  if (!d.agents.length) setChildren(ui.agents, h('tr', null, h('td', { class: 'muted', attrs: { colspan: 6 } }, 'No agents in this period.')));
  renderRecent(d);
}

function renderRecent(d: AnalyticsData): void {
  if (recentOffset >= d.recent.length) recentOffset = Math.max(0, Math.floor((d.recent.length - 1) / RECENT_PAGE) * RECENT_PAGE);
  const rows = d.recent.slice(recentOffset, recentOffset + RECENT_PAGE);
  setChildren(ui.recent, ...recentRows(rows, Date.now(), (id) => post({ type: 'openSession', sessionId: id })));
  if (!rows.length) setChildren(ui.recent, h('tr', null, h('td', { class: 'muted', attrs: { colspan: 6 } }, 'No requests in this period.')));
  ui.recentPager.render(recentOffset, rows.length, d.recent.length);
}

function renderSessionsHead(): void {
  const next = head(SESSION_COLUMNS, { current: sessionsWanted.sort, choose: (sort) => requestSessions(sort, 0) });
  ui.sessionsHead.replaceChildren(...next.childNodes);
}

function renderSessions(): void {
  renderSessionsHead();
  const page = sessions;
  if (!page) return;
  setChildren(ui.sessions, ...sessionRows(page, (id) => post({ type: 'openSession', sessionId: id })));
  if (!page.sessions.length) setChildren(ui.sessions, h('tr', null, h('td', { class: 'muted', attrs: { colspan: SESSION_COLUMNS.length } }, 'No sessions in this period.')));
  ui.sessionsPager.render(page.offset, page.sessions.length, page.total);
}

function renderDaily(d: AnalyticsData): void {
  const available = DAILY_GROUP_BYS.filter((g) => d.daily?.[g]);
  for (const g of DAILY_GROUP_BYS) groupSwitch.buttons[g].hidden = !available.includes(g) || available.length < 2;
  if (!available.includes(groupBy) && available.length) groupBy = available[0];
  groupSwitch.press(groupBy);
  const daily = d.daily?.[groupBy];
  setText(ui.dailyNote, !daily
    ? 'Cost per day needs a newer gateway.'
    : daily.unknownCostRequests > 0 ? `${plural(daily.unknownCostRequests, 'request')} without a known cost are not in the bars.` : '');
}

function renderAll(): void {
  renderState();
  if (!data) return;
  renderSummary(data);
  renderDaily(data);
  renderTables(data);
  renderSessions();
  charts ??= new AnalyticsCharts(canvases, colors);
  charts.update(data, groupBy);
}

function chooseGroup(next: DailyGroupBy): void {
  if (next === groupBy || !data) return;
  groupBy = next;
  renderDaily(data);
  charts?.update(data, groupBy);
  persist();
}

// Live events are folded in at most once per frame, whatever their rate.
let recentQueued = false;
/** Redraws the recent activity list once per frame, however many requests arrived in it. */
function scheduleRecentRender(): void {
  if (recentQueued) return;
  recentQueued = true;
  requestAnimationFrame(() => {
    recentQueued = false;
    if (!data) return;
    renderState();
    renderRecent(data);
    persist();
  });
}

/** Only the relative times: called every 30 s. */
function refreshTimes(): void {
  const now = Date.now();
  app.querySelectorAll<HTMLElement>('[data-at]').forEach((el) => setText(el, relativeTime(el.dataset.at!, now)));
}

// ---------------------------------------------------------------------------------------
// Host

/** Asks for what the current view shows; keepContent: leave the figures on screen meanwhile. */
function fetchView(keepContent: boolean): void {
  if (view === 'team') fetchTeam(keepContent && team !== null);
  else fetchRange(keepContent && data !== null);
}

function choosePeriod(next: AnalyticsPeriod): void {
  period = next;
  team = null;
  recentOffset = 0;
  sessionsWanted = { sort: sessionsWanted.sort, offset: 0 };
  persist();
  // The old period's figures stay on screen, dimmed, until the new ones arrive.
  fetchView(true);
}

function showView(next: AnalyticsView): void {
  if (next === view) return;
  view = next;
  persist();
  if (view === 'team') renderTeam();
  else renderState();
  // As after a reload: what was shown stays until the answer replaces it.
  fetchView(true);
}

/** A request's failure other than being superseded: the host failed it, or did not answer in time. */
function failureOf(err: Error): string | null {
  if (err instanceof ChannelSupersededError) return null; // a newer request is waited for
  return err instanceof ChannelTimeoutError ? NO_ANSWER : err.message;
}

function fetchTeam(keepContent: boolean): void {
  const answer = host.request('requestTeamAnalytics', { ...period }, ANSWER_TIMEOUT_MS);
  if (!keepContent) team = null;
  teamPhase = 'loading';
  renderTeam();
  answer.then(onTeam, (err: Error) => {
    const failure = failureOf(err);
    if (failure !== null) onTeam({ type: 'teamAnalyticsError', problem: 'failed', message: failure });
  });
}

function fetchRange(keepContent: boolean): void {
  const answer = host.request('requestAnalytics', { ...period }, ANSWER_TIMEOUT_MS);
  buffered = [];
  if (!keepContent) data = null;
  if (!data) phase = 'loading';
  else if (phase !== 'ready') phase = 'loading';
  renderState();
  answer.then(onRange, (err: Error) => {
    const failure = failureOf(err);
    if (failure !== null) onRange({ type: 'analyticsError', problem: 'failed', message: failure });
  });
}

function requestSessions(sort: SessionSort, offset: number): void {
  sessionsWanted = { sort, offset };
  const answer = host.request('requestSessions', { ...period, sort, offset });
  renderSessionsHead();
  answer.then((message) => {
    if (message.type !== 'sessionsPage') return; // the page asked for failed: the one shown stays
    sessions = message.page;
    renderSessions();
  }, () => {}); // superseded, or failed: the page shown stays
}

function onRange(message: AnswerTo<'requestAnalytics'>): void {
  switch (message.type) {
    case 'analytics': {
      data = message.data;
      for (const event of buffered) addRecentRequest(data, event.record, event.agentName);
      buffered = [];
      phase = 'ready';
      const first = data.sessionsPage ?? { sort: 'recent' as SessionSort, offset: 0, total: data.sessions.length };
      sessions = { ...first, sessions: data.sessions };
      // The sessions shown in another order or page than the answer's first page: ask for it again.
      if (first.sort !== sessionsWanted.sort || sessionsWanted.offset !== 0) {
        if (data.sessionsPage) requestSessions(sessionsWanted.sort, sessionsWanted.offset);
        else sessionsWanted = { sort: first.sort, offset: 0 };
      }
      renderAll();
      persist();
      return;
    }
    case 'analyticsError':
      // Not running yet: wait for the host's refresh when it starts (the figures shown before stay hidden meanwhile).
      phase = message.problem === 'notRunning' ? 'notRunning' : 'error';
      errorMessage = message.message;
      renderAll();
      return;
  }
}

function onTeam(message: AnswerTo<'requestTeamAnalytics'>): void {
  switch (message.type) {
    case 'teamAnalytics':
      team = message.data;
      teamPhase = 'ready';
      renderTeam();
      persist();
      return;
    case 'teamAnalyticsError':
      teamPhase = message.problem;
      teamMessage = message.message;
      // Without a session or a project, the numbers shown before are not the team's any more.
      if (message.problem !== 'failed') team = null;
      renderTeam();
      persist();
      return;
  }
}

/** What the host sends on its own (answers come through the channel). */
function onHost(message: AnalyticsHostMessage): void {
  switch (message.type) {
    case 'actionResult':
      setText(ui.action, message.message);
      ui.action.classList.toggle('error', !message.ok);
      return;
    case 'usageEvent': {
      if (host.waitingFor('requestAnalytics')) {
        buffered.push(message);
        return;
      }
      if (phase !== 'ready' || !data) return;
      if (addRecentRequest(data, message.record, message.agentName)) scheduleRecentRender();
      return;
    }
    case 'refresh':
      fetchView(true);
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Start

{
  const saved = loadState(isPersistedState);
  if (saved) {
    if (!sessionMode) period = saved.period;
    tab = Math.min(Math.max(0, Math.trunc(saved.tab)), TABS.length - 1);
    data = saved.data;
    view = sessionMode ? 'mine' : saved.view;
    team = saved.team;
    groupBy = saved.groupBy;
    colors = new SeriesColors(saved.colors);
  } else {
    if (!sessionMode && initial.period && isPeriod(initial.period)) period = initial.period;
    if (!sessionMode && initial.view && ANALYTICS_VIEWS.includes(initial.view)) view = initial.view;
  }
  if (data && !samePeriod(data, period)) data = null;
  if (team && team.range !== period.range) team = null;
  ui.range.set(period);
  buildLayout();
  if (data) {
    phase = 'ready';
    sessions = { ...(data.sessionsPage ?? { sort: 'recent', offset: 0, total: data.sessions.length }), sessions: data.sessions };
    sessionsWanted = { sort: sessions.sort, offset: 0 };
    renderAll();
  }
  if (team) teamPhase = 'ready';
  renderTeam();
  post({ type: 'ready', view: 'analytics' });
  // Always fetch: a restored panel shows its last data until the answer replaces it.
  fetchView(true);
  window.setInterval(refreshTimes, 30_000);
}
