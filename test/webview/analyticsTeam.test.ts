// The analytics webview's Mine / Team switch and its Team view (the project's usage per
// member, from GET /v1/conduit/analytics/members through the host) in headless Chromium.
import assert from 'node:assert/strict';
import {
  isAnalyticsWebviewMessage, type AnalyticsRange, type TeamAnalyticsData,
} from '../../src/protocol/webviewMessages';
import type { OpenOptions, WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, analyticsData } from './fixtures';
import { byTestId, chooseOption, injectedElements, textOf, useWebviewHarness, waitForText } from './helpers';
import { walkWithTab } from './keyboard';

type TeamRequest = { type: 'requestTeamAnalytics'; id: string; range: AnalyticsRange };

function teamData(range: AnalyticsRange = 'week', names: { project?: string; owner?: string; ownerEmail?: string } = {}): TeamAnalyticsData {
  return {
    range,
    projectName: names.project ?? 'Shared app',
    role: 'member',
    ownerEmail: 'lead@example.test',
    members: [
      { userId: 'u-owner', name: names.owner ?? 'Lea Lead', email: names.ownerEmail ?? 'lead@example.test', role: 'owner', isYou: false, requests: 30, tokens: 120_000, cost: 1.5, costUnknownRequests: 0 },
      { userId: 'u-me', name: 'dev', email: 'dev@example.test', role: 'member', isYou: true, requests: 12, tokens: 30_000, cost: 0.5, costUnknownRequests: 2 },
      { userId: 'u-gone', name: null, email: null, role: null, isYou: false, requests: 1, tokens: 500, cost: 0, costUnknownRequests: 0 },
    ],
    totals: { requests: 43, tokens: 150_500, cost: 2, costUnknownRequests: 2 },
  };
}

function emptyTeam(range: AnalyticsRange): TeamAnalyticsData {
  const d = teamData(range);
  d.members = d.members.slice(0, 2).map((m) => ({ ...m, requests: 0, tokens: 0, cost: 0, costUnknownRequests: 0 }));
  d.totals = { requests: 0, tokens: 0, cost: 0, costUnknownRequests: 0 };
  return d;
}

describe('webview: usage analytics, Mine / Team', function () {
  const pages = useWebviewHarness();

  /** Opens the panel; the stand-in host answers requestAnalytics with the week's data, and requestTeamAnalytics with `team` when given. */
  async function open(team?: (range: AnalyticsRange) => TeamAnalyticsData, options: OpenOptions = {}): Promise<WebviewPage> {
    return pages.open('analytics', {
      ...options,
      respond: async (message, page) => {
        if (message.type === 'requestAnalytics') await page.post({ type: 'analytics', id: message.id, data: analyticsData(message.range as AnalyticsRange) });
        if (message.type === 'requestTeamAnalytics' && team) await page.post({ type: 'teamAnalytics', id: message.id, data: team(message.range as AnalyticsRange) });
      },
    });
  }

  const pressed = (v: WebviewPage, which: 'mine' | 'team') => byTestId(v, `view-${which}`).getAttribute('aria-pressed');

  /** Each member row as [name, requests, tokens, cost, share], and the total row. */
  async function table(v: WebviewPage): Promise<{ rows: string[][]; total: string[]; badges: string[][] }> {
    const rows = await byTestId(v, 'team-members').locator('tr').evaluateAll((trs) => trs.map((tr) =>
      ['name', 'requests', 'tokens', 'cost', 'share'].map((f) => tr.querySelector(`[data-field="${f}"]`)?.textContent ?? '')));
    const badges = await byTestId(v, 'team-members').locator('tr').evaluateAll((trs) => trs.map((tr) =>
      [...tr.querySelectorAll('.badge')].map((b) => b.textContent ?? '')));
    const total = await byTestId(v, 'team-total').locator('tr > *').allTextContents();
    return { rows, total, badges };
  }

  it('starts on Mine; Team asks for the range\'s team usage and shows each member, their share and the team total; Mine asks again', async () => {
    const v = await open();
    await waitForText(v, 'totalCost-value', '$12.51');
    assert.equal(await pressed(v, 'mine'), 'true');
    assert.equal(await pressed(v, 'team'), 'false');
    assert.equal(await byTestId(v, 'view').getAttribute('role'), 'group');
    assert.equal(await byTestId(v, 'team').isVisible(), false);

    const from = v.posted.length;
    await byTestId(v, 'view-team').click();
    const request = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from });
    assert.ok(isAnalyticsWebviewMessage(request));
    assert.equal(request.range, 'this-month');
    assert.equal(await pressed(v, 'team'), 'true');
    assert.equal(await pressed(v, 'mine'), 'false');
    await waitForText(v, 'team-state', 'Loading team usage...');
    assert.equal(await byTestId(v, 'mine').isVisible(), false, 'the Mine figures and charts are not shown under Team');
    assert.equal(await byTestId(v, 'scope').isVisible(), false);

    await v.post({ type: 'teamAnalytics', id: request.id, data: teamData('week') });
    await waitForText(v, 'team-project', 'Shared app (shared by lead@example.test) · 3 members · in the last 7 days');
    const t = await table(v);
    assert.deepEqual(t.rows, [
      ['Lea Lead', '30', '120,000', '$1.50', '75.0%'],
      ['dev', '12', '30,000', '$0.50', '25.0%'],
      ['Former member', '1', '500', '$0.00', '0.0%'],
    ]);
    assert.deepEqual(t.badges, [['owner'], ['you'], []]);
    assert.deepEqual(t.total.map((x) => x.trim()), ['Team total', '43', '150,500', '$2.00', '100.0%']);
    assert.equal(await byTestId(v, 'team-members').locator('[data-member="u-me"] [data-field="cost"]').getAttribute('title'), '2 requests without a known price');
    assert.equal(await textOf(v, 'team-state'), '');
    assert.equal(await v.page.locator('table.team-table th[scope="col"]').count(), 5);

    const back = v.posted.length;
    await byTestId(v, 'view-mine').click();
    const mine = await v.waitForPosted<{ type: string; range: string }>('requestAnalytics', { from: back });
    assert.equal(mine.range, 'this-month');
    assert.equal(await byTestId(v, 'content').isVisible(), true, 'Mine paints its figures again at once');
    assert.equal(await byTestId(v, 'team').isVisible(), false);
  });

  it('asks the team usage of a new range, ignores an older answer, and shows the empty state; an error offers Retry', async () => {
    const v = await open();
    await byTestId(v, 'view-team').click();
    const week = await v.waitForPosted<TeamRequest>('requestTeamAnalytics');
    await chooseOption(v, 'range', 'Today');
    const day = await v.waitForPosted<TeamRequest>((m) => m.type === 'requestTeamAnalytics' && m.range === 'today');
    await v.post({ type: 'teamAnalytics', id: week.id, data: teamData('week') }); // late: ignored
    await v.post({ type: 'teamAnalytics', id: day.id, data: emptyTeam('today') });
    await waitForText(v, 'team-empty', 'No usage by the team of "Shared app" today');
    assert.equal(await byTestId(v, 'team-content').isVisible(), false);
    assert.equal(v.messagesOfType('requestAnalytics').length, 1, 'only the first Mine fetch: the range change under Team asks for the team');

    const from = v.posted.length;
    await byTestId(v, 'refresh').click();
    const again = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from });
    await v.post({ type: 'teamAnalyticsError', id: again.id, problem: 'failed', message: 'Supabase did not answer get_team_usage: timeout' });
    await waitForText(v, 'team-errorMessage', 'Supabase did not answer get_team_usage: timeout');
    assert.equal(await byTestId(v, 'team-error').getAttribute('role'), 'alert');
    const before = v.posted.length;
    await byTestId(v, 'team-retry').click();
    const retried = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from: before });
    assert.equal(retried.range, 'today');
    await v.post({ type: 'teamAnalytics', id: retried.id, data: teamData('today') });
    await waitForText(v, 'team-project', /today$/);
    assert.equal((await table(v)).rows.length, 3);

    // No project on Supabase (or no workspace folder): the gateway's words, no table.
    const last = v.posted.length;
    await v.post({ type: 'refresh' });
    const refreshed = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from: last });
    await v.post({ type: 'teamAnalyticsError', id: refreshed.id, problem: 'noProject', message: 'Open a single workspace folder to see its team\'s usage.' });
    await waitForText(v, 'team-noproject', 'Open a single workspace folder to see its team\'s usage.');
    assert.equal(await byTestId(v, 'team-content').isVisible(), false);
  });

  it('renders member names, addresses and the project name carrying HTML or script as text', async () => {
    const v = await open(() => teamData('week', { project: HOSTILE, owner: HOSTILE_SCRIPT, ownerEmail: HOSTILE }));
    await byTestId(v, 'view-team').click();
    await waitForText(v, 'team-project', `${HOSTILE} (shared by lead@example.test) · 3 members · in the last 7 days`);
    const t = await table(v);
    assert.equal(t.rows[0][0], HOSTILE_SCRIPT);
    assert.equal(await byTestId(v, 'team-members').locator('[data-field="email"]').first().textContent(), HOSTILE);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
  });

  it('without a Supabase session: a clear message and a button that asks the host to sign in; never a chart', async () => {
    const v = await open();
    await waitForText(v, 'totalCost-value', '$12.51');
    await byTestId(v, 'view-team').click();
    const request = await v.waitForPosted<TeamRequest>('requestTeamAnalytics');
    await v.post({ type: 'teamAnalyticsError', id: request.id, problem: 'signedOut', message: 'team sharing needs Supabase: ... sign in' });
    await waitForText(v, 'team-signin', /Sign in to Supabase to see each member's usage of this project\.\s*Sign In to Supabase$/);
    assert.equal(await byTestId(v, 'team-content').isVisible(), false);
    assert.equal(await v.page.locator('canvas').evaluateAll((cs) => cs.filter((c) => (c as HTMLElement).checkVisibility()).length), 0);
    assert.equal(await byTestId(v, 'team-error').count(), 0, 'not shown as an error');

    const from = v.posted.length;
    await byTestId(v, 'sign-in').click();
    const signIn = await v.waitForPosted('signIn', { from });
    assert.deepEqual(signIn, { type: 'signIn' });
    assert.ok(isAnalyticsWebviewMessage(signIn));
    // The host sends refresh once the command has run: the view asks again.
    await v.post({ type: 'refresh' });
    const again = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from });
    await v.post({ type: 'teamAnalytics', id: again.id, data: teamData('week') });
    await waitForText(v, 'team-project', /^Shared app/);
    assert.equal(await byTestId(v, 'team-signin').count(), 0);
  });

  it('keeps Team, the range and the last team data through a reload, painting before the new answer', async () => {
    const v = await open((range) => teamData(range));
    await byTestId(v, 'view-team').click();
    await chooseOption(v, 'range', 'Last 30 days');
    await waitForText(v, 'team-project', /in the last 30 days$/);
    const from = v.posted.length;
    v.responder = undefined; // the next answers come from the test
    await v.reload();
    await waitForText(v, 'team-project', /in the last 30 days$/); // from the saved state
    const again = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from });
    assert.equal(again.range, '30d');
    assert.equal(await pressed(v, 'team'), 'true');
    assert.equal(v.posted.slice(from).some((m) => m.type === 'requestAnalytics'), false, 'Mine is not fetched while Team is shown');
    const d = teamData('month');
    d.totals.requests = 99;
    await v.post({ type: 'teamAnalytics', id: again.id, data: d });
    await v.page.waitForFunction(() => document.querySelector('[data-testid="team-total"] [data-field="requests"]')?.textContent === '99');
  });

  it('reaches the switch, range, Refresh and Sign In with Tab, each with a visible focus indicator; Space and Enter switch', async () => {
    const v = await open();
    await waitForText(v, 'totalCost-value', '$12.51');
    await byTestId(v, 'view-team').focus();
    const from = v.posted.length;
    await v.page.keyboard.press('Enter');
    const request = await v.waitForPosted<TeamRequest>('requestTeamAnalytics', { from });
    await v.post({ type: 'teamAnalyticsError', id: request.id, problem: 'signedOut', message: 'sign in' });
    await waitForText(v, 'team-signin', /Sign In to Supabase$/);

    const report = await walkWithTab(v);
    assert.deepEqual(report.expected.map((e) => e.split(':').slice(1).join(':')),
      ['button:view-mine', 'button:view-team', 'vscode-single-select:range', 'vscode-button:refresh', 'vscode-button:sign-in']);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.noVisibleFocus, []);

    await byTestId(v, 'sign-in').focus();
    const before = v.posted.length;
    await v.page.keyboard.press('Enter');
    await v.waitForPosted('signIn', { from: before });

    await byTestId(v, 'view-mine').focus();
    const back = v.posted.length;
    await v.page.keyboard.press('Space');
    await v.waitForPosted('requestAnalytics', { from: back });
    assert.equal(await pressed(v, 'mine'), 'true');
  });

  it('screenshot: Team, dark theme', async () => {
    const v = await open(() => teamData('week'), { theme: 'dark', viewport: { width: 1100, height: 560 } });
    await byTestId(v, 'view-team').click();
    await waitForText(v, 'team-project', /^Shared app/);
    await v.screenshot('analytics-team-dark');
  });
});
