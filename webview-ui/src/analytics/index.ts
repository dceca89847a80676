// The usage analytics panel: summary cards, charts, recent activity and breakdowns for a
// day, week or month. It asks the host for a range (requestAnalytics → analytics) and asks
// again when the host says the store ingested requests ('refresh'): every figure is the
// store's. A finished request (usageEvent) only joins the recent activity list at once.
// A Mine / Team switch shows instead the project's usage per member (requestTeamAnalytics
// → teamAnalytics, from Supabase; team.ts).
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
  ANALYTICS_RANGES, ANALYTICS_VIEWS, isAnalyticsData, isAnalyticsHostMessage, isTeamAnalyticsData, type AnalyticsData,
  type AnalyticsHostMessage, type AnalyticsInitialState, type AnalyticsRange, type AnalyticsView, type TeamAnalyticsData,
  type SessionUsage, type UsageEventMessage,
} from '../../../src/protocol/webviewMessages.js';
import { modelRoute } from '../../../src/protocol/session.js';
import { h, setChildren, setText } from '../shared/dom.js';
import {
  formatCost, formatDateTime, formatPercent, formatTokens, relativeTime, shortId, sourceLabel,
} from '../shared/format.js';
import { loadState, onHostMessage, post, readInitialState, requestId, saveState } from '../shared/vscode.js';
import { AnalyticsCharts, type ChartName } from './charts.js';
import { RECENT_SHOW, addRecentRequest, isEmpty } from './model.js';
import { TeamView, type TeamPhase } from './team.js';

type VscodeSelect = HTMLElementTagNameMap['vscode-single-select'];
type VscodeTabs = HTMLElementTagNameMap['vscode-tabs'];

const RANGE_LABELS: Partial<Record<AnalyticsRange, string>> = { day: 'Today', week: 'Last 7 days', month: 'Last 30 days' };
const VIEW_LABELS: Record<AnalyticsView, string> = { mine: 'Mine', team: 'Team' };
const TABS = ['Model Usage', 'Cost Trends', 'Routing Sources', 'Recent Activity', 'Agents', 'Sessions'] as const;
/** The host should answer well within this; after it the panel offers Retry. */
const ANSWER_TIMEOUT_MS = 30_000;

interface PersistedState {
  v: 1;
  range: AnalyticsRange;
  tab: number;
  /** The last data shown, so a reopened panel paints at once while it fetches again. */
  data: AnalyticsData | null;
  /** Mine or Team (absent in a state saved before the switch existed: Mine). */
  view?: AnalyticsView;
  /** The last Team view shown. */
  team?: TeamAnalyticsData | null;
}

function isPersistedState(v: unknown): v is PersistedState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<PersistedState>;
  return s.v === 1 && ANALYTICS_RANGES.includes(s.range as AnalyticsRange) && typeof s.tab === 'number'
    && (s.data === null || isAnalyticsData(s.data))
    && (s.view === undefined || ANALYTICS_VIEWS.includes(s.view))
    && (s.team === undefined || s.team === null || isTeamAnalyticsData(s.team));
}

// ---------------------------------------------------------------------------------------
// State

let range: AnalyticsRange = 'week';
let tab = 0;
let data: AnalyticsData | null = null;
let phase: 'loading' | 'ready' | 'error' = 'loading';
let errorMessage = '';
let pending: { id: string; range: AnalyticsRange; timer: number } | null = null;
/** Events that arrive while a fetch is under way: applied to its answer unless it already counts them. */
let buffered: UsageEventMessage[] = [];
let view: AnalyticsView = 'mine';
let team: TeamAnalyticsData | null = null;
let teamPhase: TeamPhase = 'loading';
let teamMessage = '';
let teamPending: { id: string; timer: number } | null = null;

function persist(): void {
  saveState<PersistedState>({ v: 1, range, tab, data, view, team });
}

// ---------------------------------------------------------------------------------------
// Layout (built once)

const app = document.getElementById('app')!;

function rangeSelect(): VscodeSelect {
  const select = h('vscode-single-select', { attrs: { 'data-testid': 'range' } });
  select.label = 'Range';
  select.append(...(['day', 'week', 'month'] as const).map((r) => h('vscode-option', { attrs: { value: r, selected: r === range } }, RANGE_LABELS[r])));
  select.addEventListener('change', () => {
    const next = select.value as AnalyticsRange;
    if (!ANALYTICS_RANGES.includes(next) || next === range) return;
    range = next;
    data = null;
    team = null;
    persist();
    fetchView(false);
  });
  return select;
}

/** Mine / Team: a pair of toggle buttons (aria-pressed), each reached by Tab. */
function viewSwitch(): { group: HTMLElement; buttons: Record<AnalyticsView, HTMLButtonElement> } {
  const buttons = Object.fromEntries(ANALYTICS_VIEWS.map((v) => [v, h('button', {
    class: 'segment',
    attrs: { type: 'button', 'data-testid': `view-${v}`, 'aria-pressed': 'false' },
    on: { click: () => showView(v) },
  }, VIEW_LABELS[v])])) as Record<AnalyticsView, HTMLButtonElement>;
  const group = h('div', { class: 'segmented', attrs: { role: 'group', 'aria-labelledby': 'view-label', 'data-testid': 'view' } },
    buttons.mine, buttons.team);
  return { group, buttons };
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

const canvases: Record<ChartName, HTMLCanvasElement> = {
  modelUsage: canvas('modelUsage'), costByModel: canvas('costByModel'), costOverTime: canvas('costOverTime'), sources: canvas('sources'),
};

const ui = {
  subtitle: h('p', { class: 'subtitle', attrs: { 'data-testid': 'scope' } }),
  view: viewSwitch(),
  mine: h('div', { class: 'mine', attrs: { 'data-testid': 'mine' } }),
  team: new TeamView({ retry: () => fetchTeam(false), signIn: () => post({ type: 'signIn' }) }),
  range: rangeSelect(),
  refresh: h('vscode-button', { attrs: { secondary: true, 'data-testid': 'refresh' } }, 'Refresh'),
  state: h('div', { class: 'state', attrs: { 'data-testid': 'state', 'aria-live': 'polite' } }),
  content: h('div', { class: 'content', attrs: { 'data-testid': 'content' } }),
  cost: card('totalCost', 'Total Cost'),
  tokens: card('totalTokens', 'Total Tokens'),
  avg: card('avgCost', 'Avg Cost/Request'),
  savings: card('savings', 'Savings vs Default Model'),
  cache: card('cache', 'Prompt Cache'),
  recent: h('ul', { class: 'recent-list', attrs: { 'data-testid': 'recent' } }),
  agents: h('tbody', { attrs: { 'data-testid': 'agents' } }),
  sessions: h('tbody', { attrs: { 'data-testid': 'sessions' } }),
  tabs: h('vscode-tabs', { attrs: { 'data-testid': 'tabs' } }) as VscodeTabs,
};

function panel(...children: (Node | string)[]): HTMLElement {
  return h('vscode-tab-panel', null, ...children);
}

function buildLayout(): void {
  // The range may come from the saved state, read after the select was made.
  for (const option of ui.range.querySelectorAll('vscode-option')) option.selected = option.value === range;
  ui.range.value = range;
  ui.refresh.addEventListener('click', () => fetchView(true));
  ui.tabs.append(
    ...TABS.map((title, i) => h('vscode-tab-header', { attrs: { slot: 'header', 'data-testid': `tab-${i}` } }, title)),
    panel(h('div', { class: 'chart-grid' },
      h('figure', { class: 'chart' }, h('h3', null, 'Requests and Tokens by Model'), h('div', { class: 'chart-box' }, canvases.modelUsage)),
      h('figure', { class: 'chart' }, h('h3', null, 'Cost by Model'), h('div', { class: 'chart-box' }, canvases.costByModel)))),
    panel(h('figure', { class: 'chart' }, h('h3', null, 'Cost Over Time'), h('div', { class: 'chart-box wide' }, canvases.costOverTime))),
    panel(h('figure', { class: 'chart' }, h('h3', null, 'Routing Decision Sources'), h('div', { class: 'chart-box' }, canvases.sources))),
    panel(h('h3', null, 'Recent Activity'), h('p', { class: 'muted' }, `The ${RECENT_SHOW} latest requests. Choose one to open its session.`), ui.recent),
    panel(h('h3', null, 'Usage by Agent'), h('table', { class: 'data' },
      h('thead', null, h('tr', null, h('th', null, 'Agent'), h('th', { class: 'num' }, 'Requests'), h('th', { class: 'num' }, 'Tokens'), h('th', { class: 'num' }, 'Cost'))),
      ui.agents)),
    panel(h('h3', null, 'Usage by Session'), h('table', { class: 'data' },
      h('thead', null, h('tr', null, h('th', null, 'Session'), h('th', null, 'Agents'), h('th', null, 'Model'), h('th', { class: 'num' }, 'Requests'),
        h('th', { class: 'num' }, 'Tokens'), h('th', { class: 'num' }, 'Cost'), h('th', null, 'Last Active'))),
      ui.sessions)),
  );
  ui.tabs.selectedIndex = tab;
  ui.tabs.addEventListener('vsc-tabs-select', (event) => {
    tab = event.detail.selectedIndex;
    persist();
  });
  setChildren(ui.content,
    h('div', { class: 'cards' }, ui.cost.el, ui.tokens.el, ui.avg.el, ui.savings.el, ui.cache.el),
    ui.tabs);
  setChildren(ui.mine, ui.state, ui.content);
  setChildren(app,
    h('header', { class: 'top' },
      h('div', { class: 'title' }, h('h1', null, 'Usage Analytics'), ui.subtitle),
      h('div', { class: 'controls' },
        h('div', { class: 'field-label', id: 'view-label' }, 'Show'), ui.view.group,
        h('div', { class: 'field-label' }, 'Range'), ui.range, ui.refresh)),
    ui.mine,
    ui.team.el);
}

// ---------------------------------------------------------------------------------------
// Rendering

let charts: AnalyticsCharts | null = null;

/** Which of Mine and Team is shown, and the switch's pressed button. */
function renderView(): void {
  for (const v of ANALYTICS_VIEWS) ui.view.buttons[v].setAttribute('aria-pressed', String(v === view));
  ui.mine.hidden = view !== 'mine';
  ui.team.el.hidden = view !== 'team';
  ui.subtitle.hidden = view !== 'mine' || !data?.scopeLabel;
  app.setAttribute('aria-busy', String(view === 'mine' ? phase === 'loading' : teamPhase === 'loading'));
}

function renderTeam(): void {
  ui.team.render(teamPhase, team, teamMessage);
  renderView();
}

function renderState(): void {
  renderView();
  const showContent = phase === 'ready' && data !== null && !isEmpty(data);
  ui.content.hidden = !showContent;
  if (phase === 'loading' && !data) {
    setChildren(ui.state, h('div', { class: 'state-message' }, h('vscode-progress-ring', { attrs: { 'aria-hidden': 'true' } }), h('p', null, 'Loading usage data...')));
  } else if (phase === 'error') {
    const retry = h('vscode-button', { attrs: { 'data-testid': 'retry' } }, 'Retry');
    retry.addEventListener('click', () => fetchRange(false));
    setChildren(ui.state, h('div', { class: 'banner', attrs: { role: 'alert', 'data-testid': 'error' } },
      h('p', null, 'Could not load usage data: ', h('span', { attrs: { 'data-testid': 'errorMessage' } }, errorMessage)), retry));
  } else if (data && isEmpty(data)) {
    setChildren(ui.state, h('p', { class: 'state-message', attrs: { 'data-testid': 'empty' } }, 'No usage data available'));
  } else {
    setChildren(ui.state);
  }
}

function renderSummary(d: AnalyticsData): void {
  const s = d.summary;
  setText(ui.subtitle, d.scopeLabel ?? '');
  ui.subtitle.hidden = view !== 'mine' || !d.scopeLabel;
  setText(ui.cost.value, formatCost(s.cost));
  setText(ui.cost.sub, `This ${d.range}`);
  setText(ui.cost.extra, [
    s.costUnknownRequests > 0 ? `${formatTokens(s.costUnknownRequests)} request${s.costUnknownRequests === 1 ? '' : 's'} without a known price` : '',
    s.refusedRequests > 0 ? `${formatTokens(s.refusedRequests)} refused by a budget` : '',
  ].filter(Boolean).join(' · '));
  setText(ui.tokens.value, formatTokens(s.tokens));
  setText(ui.tokens.sub, `${formatTokens(s.requests)} request${s.requests === 1 ? '' : 's'}`);
  setText(ui.tokens.extra, '');
  setText(ui.avg.value, formatCost(s.avgCostPerRequest));
  setText(ui.avg.sub, 'per request with a known price');
  setText(ui.avg.extra, '');
  const sv = d.savings;
  if (sv) {
    setText(ui.savings.value, sv.saved >= 0 ? formatCost(sv.saved) : `-${formatCost(-sv.saved)}`);
    setText(ui.savings.sub, `vs everything on ${sv.defaultModel ?? 'the default model'}: ${formatCost(sv.onDefaultModel)}`);
    setText(ui.savings.extra, sv.saved >= 0 ? `Routing paid ${formatCost(sv.actual)}` : `Routing cost ${formatCost(-sv.saved)} more`);
  } else {
    setText(ui.savings.value, '—');
    setText(ui.savings.sub, 'No default model with a known price to compare with');
    setText(ui.savings.extra, '');
  }
  const c = d.cache;
  setText(ui.cache.value, c ? formatPercent(c.hitRate) : '—');
  setText(ui.cache.sub, 'of prompt tokens read from cache');
  setText(ui.cache.extra, c && c.savedUsd !== null ? `${formatCost(c.savedUsd)} saved by caching` : 'Savings unknown (no price)');
}

function renderRecent(d: AnalyticsData): void {
  const now = Date.now();
  setChildren(ui.recent, ...d.recent.slice(0, RECENT_SHOW).map((r) => {
    const cells = [
      h('span', { class: 'agent ellipsis', attrs: { 'data-field': 'agent' } }, r.agentName ?? 'No agent'),
      // As the sidebar says it: a refused request never reached the provider.
      h('span', { class: 'model ellipsis', attrs: { 'data-field': 'model' } }, r.refused ? `${r.model} (over budget, not sent)` : r.model),
      h('span', { class: 'num', attrs: { 'data-field': 'tokens' } }, `${formatTokens(r.tokens)} tokens`),
      h('span', { class: 'num', attrs: { 'data-field': 'cost' } }, formatCost(r.cost)),
      h('span', { class: 'time muted', attrs: { 'data-field': 'time', 'data-at': r.createdAt, title: formatDateTime(r.createdAt) } }, relativeTime(r.createdAt, now)),
    ];
    const item = r.sessionId
      ? h('button', {
        class: 'row-button recent-row',
        attrs: { type: 'button', title: `Open session ${r.sessionId}${r.source ? ` · ${sourceLabel(r.source)}` : ''}`, 'data-request': r.requestId },
        on: { click: () => post({ type: 'openSession', sessionId: r.sessionId! }) },
      }, ...cells)
      : h('div', { class: 'recent-row', attrs: { 'data-request': r.requestId } }, ...cells);
    return h('li', null, item);
  }));
  if (!d.recent.length) setChildren(ui.recent, h('li', { class: 'muted' }, 'No requests in this range.'));
}

/** Only the relative times: called every 30 s. */
function refreshTimes(): void {
  const now = Date.now();
  ui.recent.querySelectorAll<HTMLElement>('[data-at]').forEach((el) => setText(el, relativeTime(el.dataset.at!, now)));
}

function renderAgents(d: AnalyticsData): void {
  setChildren(ui.agents, ...d.agents.map((a) => h('tr', null,
    h('td', null, a.name ?? (a.agentId ? shortId(a.agentId) : 'No agent')),
    h('td', { class: 'num' }, formatTokens(a.requests)),
    h('td', { class: 'num' }, formatTokens(a.tokens)),
    h('td', { class: 'num' }, formatCost(a.cost)))));
  if (!d.agents.length) setChildren(ui.agents, h('tr', null, h('td', { class: 'muted', attrs: { colspan: 4 } }, 'No agents in this range.')));
}

function renderSessions(d: AnalyticsData): void {
  setChildren(ui.sessions, ...d.sessions.map((s) => h('tr', null,
    h('td', null, h('button', {
      class: 'link', attrs: { type: 'button', title: `Open session ${s.sessionId}`, 'data-session': s.sessionId },
      on: { click: () => post({ type: 'openSession', sessionId: s.sessionId }) },
    }, shortId(s.sessionId, 12))),
    h('td', null, s.agentNames.join(', ') || '—'),
    sessionModelCell(s),
    h('td', { class: 'num' }, formatTokens(s.requests)),
    h('td', { class: 'num' }, formatTokens(s.tokens)),
    h('td', { class: 'num' }, formatCost(s.cost)),
    h('td', { class: 'nowrap', attrs: { title: formatDateTime(s.lastAt) } }, relativeTime(s.lastAt)))));
  if (!d.sessions.length) setChildren(ui.sessions, h('tr', null, h('td', { class: 'muted', attrs: { colspan: 7 } }, 'No sessions in this range.')));
}

/**
 * The model claude asked for and the one it was routed to ("claude-opus-5-5 → claude-sonnet-5-5"),
 * of most of the session's requests; "+N" when there were other pairs, all of them in the title.
 */
function sessionModelCell(s: SessionUsage): HTMLElement {
  const models = s.models ?? [];
  if (!models.length) return h('td', { class: 'muted', attrs: { 'data-field': 'model' } }, '—');
  const [main, ...others] = models;
  const title = models.map((m) => `${modelRoute(m.requestedModel, m.model)}: ${formatTokens(m.requests)} request${m.requests === 1 ? '' : 's'}`).join('\n');
  return h('td', { class: 'model', attrs: { 'data-field': 'model', title } },
    `${modelRoute(main.requestedModel, main.model)}${others.length ? ` +${others.length}` : ''}`);
}

function renderAll(): void {
  renderState();
  if (!data) return;
  renderSummary(data);
  renderRecent(data);
  renderAgents(data);
  renderSessions(data);
  charts ??= new AnalyticsCharts(canvases);
  charts.update(data);
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

// ---------------------------------------------------------------------------------------
// Host

/** Asks for what the current view shows; keepContent: leave the figures on screen meanwhile. */
function fetchView(keepContent: boolean): void {
  if (view === 'team') fetchTeam(keepContent && team !== null);
  else fetchRange(keepContent && data !== null);
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

function fetchTeam(keepContent: boolean): void {
  if (teamPending) clearTimeout(teamPending.timer);
  const id = requestId();
  const timer = window.setTimeout(() => {
    if (teamPending?.id !== id) return;
    teamPending = null;
    teamPhase = 'failed';
    teamMessage = 'the extension did not answer in time.';
    renderTeam();
  }, ANSWER_TIMEOUT_MS);
  teamPending = { id, timer };
  if (!keepContent || (team && team.range !== range)) team = null;
  teamPhase = 'loading';
  renderTeam();
  post({ type: 'requestTeamAnalytics', id, range });
}

function fetchRange(keepContent: boolean): void {
  if (pending) clearTimeout(pending.timer);
  const id = requestId();
  const timer = window.setTimeout(() => {
    if (pending?.id !== id) return;
    pending = null;
    phase = 'error';
    errorMessage = 'the extension did not answer in time.';
    renderAll();
  }, ANSWER_TIMEOUT_MS);
  pending = { id, range, timer };
  buffered = [];
  if (!keepContent) {
    phase = 'loading';
    data = null;
  }
  renderState();
  post({ type: 'requestAnalytics', id, range });
}

function onHost(message: AnalyticsHostMessage): void {
  switch (message.type) {
    case 'analytics': {
      if (!pending || pending.id !== message.id) return; // an older range's answer
      clearTimeout(pending.timer);
      pending = null;
      data = message.data;
      for (const event of buffered) addRecentRequest(data, event.record, event.agentName);
      buffered = [];
      phase = 'ready';
      renderAll();
      persist();
      return;
    }
    case 'analyticsError':
      if (!pending || pending.id !== message.id) return;
      clearTimeout(pending.timer);
      pending = null;
      phase = 'error';
      errorMessage = message.message;
      renderAll();
      return;
    case 'usageEvent': {
      if (pending) {
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
    case 'teamAnalytics':
      if (!teamPending || teamPending.id !== message.id) return; // an older range's answer
      clearTimeout(teamPending.timer);
      teamPending = null;
      team = message.data;
      teamPhase = 'ready';
      renderTeam();
      persist();
      return;
    case 'teamAnalyticsError':
      if (!teamPending || teamPending.id !== message.id) return;
      clearTimeout(teamPending.timer);
      teamPending = null;
      teamPhase = message.problem;
      teamMessage = message.message;
      // Without a session or a project, the numbers shown before are not the team's any more.
      if (message.problem !== 'failed') team = null;
      renderTeam();
      persist();
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Start

{
  const saved = loadState(isPersistedState);
  const initial = readInitialState() as AnalyticsInitialState | null;
  if (saved) {
    range = saved.range;
    tab = Math.min(Math.max(0, Math.trunc(saved.tab)), TABS.length - 1);
    data = saved.data;
    view = saved.view ?? 'mine';
    team = saved.team ?? null;
  } else if (initial && typeof initial === 'object') {
    if (initial.range && ANALYTICS_RANGES.includes(initial.range)) range = initial.range;
    if (initial.view && ANALYTICS_VIEWS.includes(initial.view)) view = initial.view;
    if (initial.data && isAnalyticsData(initial.data) && initial.data.range === range) data = initial.data;
  }
  if (data && data.range !== range) data = null;
  if (team && team.range !== range) team = null;
  buildLayout();
  onHostMessage(isAnalyticsHostMessage, onHost);
  if (data) {
    phase = 'ready';
    renderAll();
  }
  if (team) teamPhase = 'ready';
  renderTeam();
  post({ type: 'ready', view: 'analytics' });
  // Always fetch: a restored panel shows its last data until the answer replaces it.
  fetchView(true);
  window.setInterval(refreshTimes, 30_000);
}
