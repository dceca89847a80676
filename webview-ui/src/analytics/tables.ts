/**
 * The analytics panel's tables: per model (tokens by kind, cost, cache savings, price
 * unknown and retired marks), agents (by cost, with share and a trend line), sessions (ranked
 * over the whole range by the host, sortable, paged) and recent activity (paged). Every value
 * from data is set as text (h() makes Text nodes); the sparklines are SVG built with the DOM.
 */
import { modelRoute } from '../../../src/protocol/session.js';
import type { AgentUsage, ModelUsage, RecentRequest, SessionSort, SessionUsage, SessionsPage } from '../../../src/protocol/webviewMessages.js';
import { h, setChildren } from '../shared/dom.js';
import { formatDateTime, formatDuration, formatPercent, relativeTime, shortId, sourceLabel } from '../shared/format.js';
import { formatCount, formatInteger, formatUsd, plural } from '../../../src/protocol/format.js';

export interface Column { label: string; num?: boolean; sort?: SessionSort; title?: string }

export function head(columns: Column[], sort?: { current: SessionSort; choose(sort: SessionSort): void }): HTMLTableSectionElement {
  return h('thead', null, h('tr', null, ...columns.map((c) => {
    const sortable = c.sort && sort;
    const pressed = sortable && sort.current === c.sort;
    return h('th', { class: c.num ? 'num' : undefined, attrs: { scope: 'col', title: c.title, 'aria-sort': pressed ? 'descending' : undefined } },
      sortable
        ? h('button', {
          class: 'sort', attrs: { type: 'button', 'data-sort': c.sort, 'aria-pressed': String(!!pressed) },
          on: { click: () => sort.choose(c.sort!) },
        }, c.label, pressed ? ' ▾' : '')
        : c.label);
  })));
}

function swatch(color: string): HTMLElement {
  const el = h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
  el.style.backgroundColor = color;
  return el;
}


/** "Retired 2025-10-22 (use claude-sonnet-4-5) · asked for by Reviewer, Planner and 3 sessions". */
export function retiredText(m: ModelUsage): string | null {
  const r = m.retired;
  if (!r) return null;
  const who = [...r.askedBy.agents.map((a) => a.name), ...(r.askedBy.sessions ? [plural(r.askedBy.sessions, 'session')] : [])];
  return `Retired ${r.since}${r.replacement ? ` (replaced by ${r.replacement})` : ''}${who.length ? ` · still asked for by ${who.join(', ')}` : ''}`;
}

/**
 * One row per model, most expensive first. trendOf: the model's cost per day over the
 * period (from the daily breakdown), drawn as a small line; null when there is none.
 * savingsOf: what its cache reads saved per day, beside it (null: none, or no price).
 */
export function modelRows(
  models: ModelUsage[], colorOf: (model: string) => string, addPrice: (model: string) => void,
  trendOf: (model: string) => number[] | null = () => null, savingsOf: (model: string) => number[] | null = () => null,
): HTMLTableRowElement[] {
  const sorted = [...models].sort((a, b) => (b.cost ?? -1) - (a.cost ?? -1) || b.requests - a.requests);
  return sorted.map((m) => {
    const unknown = m.cost === null || m.priceKnown === false;
    const retired = retiredText(m);
    const s = m.split;
    return h('tr', { attrs: { 'data-model': m.model } },
      h('td', null,
        h('div', { class: 'model-name' }, swatch(colorOf(m.model)), h('span', { class: 'ellipsis', attrs: { 'data-field': 'model', title: m.model } }, m.model),
          retired ? h('span', { class: 'badge warn', attrs: { 'data-field': 'retired', title: retired } }, 'retired') : null),
        retired ? h('div', { class: 'muted small', attrs: { 'data-field': 'retiredBy' } }, retired) : null),
      h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(m.requests)),
      h('td', { class: 'num', attrs: { 'data-field': 'input' } }, s ? formatCount(s.inputTokens) : '—'),
      h('td', { class: 'num', attrs: { 'data-field': 'output' } }, s ? formatCount(s.outputTokens) : '—'),
      h('td', { class: 'num', attrs: { 'data-field': 'cacheWrite' } }, s ? formatCount(s.cacheCreationTokens) : '—'),
      h('td', { class: 'num', attrs: { 'data-field': 'cacheRead' } }, s ? formatCount(s.cacheReadTokens) : '—'),
      h('td', { class: 'num', attrs: { 'data-field': 'cost' } }, unknown
        ? h('span', { class: 'price-unknown' }, 'price unknown ', h('button', {
          class: 'link', attrs: { type: 'button', 'data-action': 'addPrice', title: `Add a price for ${m.model}` }, on: { click: () => addPrice(m.model) },
        }, 'Add a price'))
        : formatUsd(m.cost)),
      h('td', { class: 'num', attrs: { 'data-field': 'cacheSavings' } }, formatUsd(m.cacheSavings ?? null)),
      h('td', { attrs: { 'data-field': 'trend' } }, trendCell(m, unknown, colorOf(m.model), trendOf(m.model), savingsOf(m.model))));
  });
}

/**
 * A model's lines over the period in one cell (the table keeps its width at 1024 px): its
 * cost per day, and below it, dashed, what its cache reads saved per day; '—' without either.
 */
function trendCell(m: ModelUsage, unknown: boolean, color: string, cost: number[] | null, saved: number[] | null): Node | string {
  if (unknown || (!cost && !saved)) return '—';
  return h('div', { class: 'trends' },
    cost ? sparkline(cost, color) : h('span', { class: 'muted' }, '—'),
    saved ? h('span', { attrs: { 'data-field': 'savingsTrend', title: `Cache savings per day of ${m.model}` } }, sparkline(saved, color, 'Cache savings per day', true)) : null);
}

/** A small trend line (cost per day, or `what` per day) as inline SVG; its numbers in its label. dashed: a second line beside a solid one. */
export function sparkline(values: number[], color: string, what = 'Cost per day', dashed = false): Element {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 80;
  const height = 20;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'sparkline');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${what}: ${values.map((v) => formatUsd(v)).join(', ')}`);
  if (values.length) {
    const max = Math.max(...values, 0) || 1;
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ');
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', values.length > 1 ? points : `0,${height - 1} ${width},${height - 1}`);
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', color);
    line.setAttribute('stroke-width', '1.5');
    if (dashed) line.setAttribute('stroke-dasharray', '3 2');
    svg.append(line);
  }
  return svg;
}

/** Agents by cost (unknown last), then requests: what a person controlling spend asks first. */
export function sortAgents(agents: AgentUsage[]): AgentUsage[] {
  return [...agents].sort((a, b) => (b.cost ?? -1) - (a.cost ?? -1) || b.requests - a.requests);
}

export function agentRows(agents: AgentUsage[], colorOf: (key: string) => string): HTMLTableRowElement[] {
  const known = agents.reduce((n, a) => n + (a.cost ?? 0), 0);
  return sortAgents(agents).map((a) => {
    const share = a.share ?? (known > 0 && a.cost !== null ? a.cost / known : null);
    return h('tr', { attrs: { 'data-agent': a.agentId ?? '' } },
      h('td', { class: a.name || a.agentId ? undefined : 'muted', attrs: { 'data-field': 'agent' } }, a.name ?? (a.agentId ? shortId(a.agentId) : 'No agent')),
      h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(a.requests)),
      h('td', { class: 'num', attrs: { 'data-field': 'tokens' } }, formatCount(a.tokens)),
      h('td', { class: 'num', attrs: { 'data-field': 'cost' } }, formatUsd(a.cost)),
      h('td', { class: 'num', attrs: { 'data-field': 'share' } }, formatPercent(share)),
      h('td', { attrs: { 'data-field': 'trend' } }, a.trend ? sparkline(a.trend, colorOf(a.agentId ?? '')) : '—'));
  });
}

/**
 * The model claude asked for and the one it was routed to ("claude-opus-5-5 → claude-sonnet-5-5"),
 * of most of the session's requests; "+N" when there were other pairs, all of them in the title.
 */
function sessionModelCell(s: SessionUsage): HTMLElement {
  const models = s.models ?? [];
  if (!models.length) return h('td', { class: 'muted', attrs: { 'data-field': 'model' } }, '—');
  const [main, ...others] = models;
  const title = models.map((m) => `${modelRoute(m.requestedModel, m.model)}: ${plural(m.requests, 'request')}`).join('\n');
  return h('td', { class: 'model', attrs: { 'data-field': 'model', title } },
    `${modelRoute(main.requestedModel, main.model)}${others.length ? ` +${others.length}` : ''}`);
}

export const SESSION_COLUMNS: Column[] = [
  { label: 'Session' }, { label: 'Agent' }, { label: 'Models' }, { label: 'First Prompt' },
  { label: 'Requests', num: true, sort: 'requests' }, { label: 'Tokens', num: true, sort: 'tokens', title: 'Input, output, cache write and cache read' },
  { label: 'Cost', num: true, sort: 'cost' }, { label: 'Duration', num: true, sort: 'duration' }, { label: 'Last Active', sort: 'recent' },
];

export function sessionRows(page: SessionsPage, open: (sessionId: string) => void): HTMLTableRowElement[] {
  return page.sessions.map((s, i) => h('tr', { attrs: { 'data-rank': page.offset + i + 1 } },
    h('td', { attrs: { 'data-field': 'session' } }, h('button', {
      class: 'link mono', attrs: { type: 'button', title: `Open session ${s.sessionId}`, 'data-session': s.sessionId },
      on: { click: () => open(s.sessionId) },
    }, shortId(s.sessionId, 12))),
    h('td', { class: s.agentNames.length ? undefined : 'muted', attrs: { 'data-field': 'agent' } }, s.agentNames.join(', ') || '—'),
    sessionModelCell(s),
    h('td', { class: 'prompt', attrs: { 'data-field': 'prompt', title: s.firstPrompt ?? undefined } }, s.firstPrompt ?? '—'),
    h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(s.requests)),
    h('td', { class: 'num', attrs: { 'data-field': 'tokens' } }, formatCount(s.tokens)),
    h('td', { class: 'num', attrs: { 'data-field': 'cost' } }, formatUsd(s.cost)),
    h('td', { class: 'num', attrs: { 'data-field': 'duration' } }, formatDuration(s.durationMs ?? Date.parse(s.lastAt) - Date.parse(s.firstAt))),
    h('td', { class: 'nowrap', attrs: { 'data-field': 'lastActive', title: formatDateTime(s.lastAt) } }, relativeTime(s.lastAt))));
}

export const RECENT_COLUMNS: Column[] = [
  { label: 'Time' }, { label: 'Agent' }, { label: 'Model' }, { label: 'Routing Source' },
  { label: 'Tokens', num: true, title: 'Input, output, cache write and cache read' }, { label: 'Cost', num: true },
];

export function recentRows(recent: RecentRequest[], now: number, open: (sessionId: string) => void): HTMLTableRowElement[] {
  return recent.map((r) => h('tr', { attrs: { 'data-request': r.requestId } },
    h('td', { class: 'nowrap' }, r.sessionId
      ? h('button', {
        class: 'link', attrs: { type: 'button', title: `Open session ${r.sessionId}`, 'data-field': 'time', 'data-at': r.createdAt },
        on: { click: () => open(r.sessionId!) },
      }, relativeTime(r.createdAt, now))
      : h('span', { attrs: { 'data-field': 'time', 'data-at': r.createdAt, title: formatDateTime(r.createdAt) } }, relativeTime(r.createdAt, now))),
    h('td', { class: r.agentName ? 'ellipsis' : 'ellipsis muted', attrs: { 'data-field': 'agent' } }, r.agentName ?? 'No agent'),
    // As the sidebar says it: a refused request never reached the provider.
    h('td', { class: 'ellipsis', attrs: { 'data-field': 'model' } }, r.refused ? `${r.model} (over budget, not sent)` : r.model),
    h('td', { class: 'ellipsis', attrs: { 'data-field': 'source' } }, r.source ? sourceLabel(r.source) : '—'),
    h('td', { class: 'num', attrs: { 'data-field': 'tokens' } }, formatCount(r.tokens)),
    h('td', { class: 'num', attrs: { 'data-field': 'cost' } }, formatUsd(r.cost))));
}

/** "1–25 of 212" with Previous / Next; hidden when everything fits on one page. */
export class Pager {
  readonly el: HTMLElement;
  private readonly text = h('span', { class: 'muted', attrs: { 'data-field': 'range' } });
  private readonly prev: HTMLButtonElement;
  private readonly next: HTMLButtonElement;

  constructor(testid: string, go: (delta: -1 | 1) => void) {
    this.prev = h('button', { class: 'link', attrs: { type: 'button', 'data-testid': `${testid}-prev` }, on: { click: () => go(-1) } }, '‹ Previous');
    this.next = h('button', { class: 'link', attrs: { type: 'button', 'data-testid': `${testid}-next` }, on: { click: () => go(1) } }, 'Next ›');
    this.el = h('div', { class: 'pager', attrs: { 'data-testid': testid } }, this.prev, this.text, this.next);
  }

  render(offset: number, shown: number, total: number): void {
    this.el.hidden = total <= shown && offset === 0;
    setChildren(this.text, shown ? `${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}` : `0 of ${formatCount(total)}`);
    this.prev.disabled = offset === 0;
    this.next.disabled = offset + shown >= total;
  }
}
