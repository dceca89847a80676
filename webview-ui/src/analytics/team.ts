// The analytics view's Team view: the project's usage per member for the range (requests,
// tokens, cost and share of the project's cost) with the team's total, and its states:
// loading, empty, not signed in to Supabase (with a button that signs in), no project,
// failed (with Retry). Every name and address is set as text (h() makes Text nodes).
import type { TeamAnalyticsData, TeamAnalyticsProblem, TeamMemberUsage } from '../../../src/protocol/webviewMessages.js';
import { h, setChildren, setText } from '../shared/dom.js';
import { formatPercent } from '../shared/format.js';
import { formatInteger, formatUsd, plural } from '../../../src/protocol/format.js';

export type TeamPhase = 'loading' | 'ready' | TeamAnalyticsProblem;

const RANGE_TEXT: Record<TeamAnalyticsData['range'], string> = {
  today: 'today', 'this-week': 'this week', 'this-month': 'this month', '24h': 'in the last 24 hours', '7d': 'in the last 7 days',
  '30d': 'in the last 30 days', custom: 'in the chosen days', day: 'today', week: 'in the last 7 days', month: 'in the last 30 days',
};

/** How a member is named in the table: display name, else address, else a former member. */
export function memberName(m: Pick<TeamMemberUsage, 'name' | 'email'>): string {
  return m.name?.trim() || m.email || 'Former member';
}

/** A member's part of the project's cost (0..1); null when the project cost nothing. */
export function costShare(cost: number, total: number): number | null {
  return total > 0 ? cost / total : null;
}


export class TeamView {
  readonly el: HTMLElement;
  private readonly state = h('div', { class: 'state', attrs: { 'data-testid': 'team-state', 'aria-live': 'polite' } });
  private readonly project = h('p', { class: 'muted team-project', attrs: { 'data-testid': 'team-project' } });
  private readonly caption = h('caption', { class: 'visually-hidden' });
  private readonly body = h('tbody', { attrs: { 'data-testid': 'team-members' } });
  private readonly foot = h('tfoot', { attrs: { 'data-testid': 'team-total' } });
  private readonly content: HTMLElement;

  constructor(private readonly actions: { retry(): void; signIn(): void }) {
    this.content = h('div', { class: 'team-content', attrs: { 'data-testid': 'team-content' } },
      this.project,
      h('table', { class: 'data team-table' },
        this.caption,
        h('thead', null, h('tr', null,
          h('th', { attrs: { scope: 'col' } }, 'Member'),
          h('th', { class: 'num', attrs: { scope: 'col' } }, 'Requests'),
          h('th', { class: 'num', attrs: { scope: 'col' } }, 'Tokens'),
          h('th', { class: 'num', attrs: { scope: 'col' } }, 'Cost'),
          h('th', { class: 'num', attrs: { scope: 'col' } }, 'Share of Cost'))),
        this.body,
        this.foot));
    this.el = h('section', { class: 'team', attrs: { 'data-testid': 'team', 'aria-label': 'Team usage per member' } }, this.state, this.content);
  }

  render(phase: TeamPhase, data: TeamAnalyticsData | null, message: string): void {
    const empty = data !== null && data.totals.requests === 0;
    this.content.hidden = !(data && !empty && (phase === 'ready' || phase === 'loading'));
    if (phase === 'loading' && !data) {
      setChildren(this.state, h('div', { class: 'state-message' },
        h('vscode-progress-ring', { attrs: { 'aria-hidden': 'true' } }), h('p', null, 'Loading team usage...')));
    } else if (phase === 'signedOut') {
      const signIn = h('vscode-button', { attrs: { 'data-testid': 'sign-in' } }, 'Sign In to Supabase');
      signIn.addEventListener('click', () => this.actions.signIn());
      setChildren(this.state, h('div', { class: 'banner info team-signin', attrs: { 'data-testid': 'team-signin' } },
        h('p', null, 'Team usage comes from Supabase, where the members of a shared project record their requests. ' +
          'Sign in to Supabase to see each member\'s usage of this project.'),
        signIn));
    } else if (phase === 'noProject') {
      setChildren(this.state, h('p', { class: 'state-message', attrs: { 'data-testid': 'team-noproject' } }, message));
    } else if (phase === 'failed') {
      const retry = h('vscode-button', { attrs: { 'data-testid': 'team-retry' } }, 'Retry');
      retry.addEventListener('click', () => this.actions.retry());
      setChildren(this.state, h('div', { class: 'banner', attrs: { role: 'alert', 'data-testid': 'team-error' } },
        h('p', null, 'Could not load team usage: ', h('span', { attrs: { 'data-testid': 'team-errorMessage' } }, message)), retry));
    } else if (empty) {
      setChildren(this.state, h('p', { class: 'state-message', attrs: { 'data-testid': 'team-empty' } },
        `No usage by the team of "${data.projectName}" ${RANGE_TEXT[data.range]}`));
    } else {
      setChildren(this.state);
    }
    if (data && !empty) this.renderTable(data);
  }

  private renderTable(d: TeamAnalyticsData): void {
    const owner = d.role === 'owner' ? 'yours' : `shared by ${d.ownerEmail ?? 'its owner'}`;
    setText(this.project, `${d.projectName} (${owner}) · ${plural(d.members.length, 'member')} · ${RANGE_TEXT[d.range]}`);
    setText(this.caption, `Usage per member of ${d.projectName} ${RANGE_TEXT[d.range]}`);
    setChildren(this.body, ...d.members.map((m) => {
      const name = memberName(m);
      const share = costShare(m.cost, d.totals.cost);
      return h('tr', { attrs: { 'data-member': m.userId } },
        h('td', null,
          h('div', { class: 'member-name' },
            h('span', { attrs: { 'data-field': 'name' } }, name),
            m.isYou ? h('span', { class: 'badge' }, 'you') : null,
            m.role === 'owner' ? h('span', { class: 'badge' }, 'owner') : null),
          m.email && m.email !== name ? h('div', { class: 'muted member-email', attrs: { 'data-field': 'email' } }, m.email) : null),
        ...figureCells(m, formatPercent(share)));
    }));
    const t = d.totals;
    setChildren(this.foot, h('tr', null,
      h('th', { attrs: { scope: 'row' } }, 'Team total'),
      ...figureCells(t, t.cost > 0 ? formatPercent(1) : '—')));
  }
}

/** A member's or the team's requests, tokens, cost (its title: requests of unknown price) and share. */
function figureCells(u: TeamAnalyticsData['totals'], share: string): HTMLElement[] {
  return [
    h('td', { class: 'num', attrs: { 'data-field': 'requests' } }, formatInteger(u.requests)),
    h('td', { class: 'num', attrs: { 'data-field': 'tokens' } }, formatInteger(u.tokens)),
    h('td', {
      class: 'num',
      attrs: { 'data-field': 'cost', title: u.costUnknownRequests > 0 ? `${plural(u.costUnknownRequests, 'request')} without a known price` : undefined },
    }, formatUsd(u.cost)),
    h('td', { class: 'num', attrs: { 'data-field': 'share' } }, share),
  ];
}
