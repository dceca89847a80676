// One truth for totals, in a real VS Code (code-server + Chromium) with the real claude CLI:
// the usage store is the one source of today's and a session's figures. After a window
// reload the status bar shows today's cost as the store has it (a running sum since
// activation showed $0.0000), and for the same traffic the status bar, the sidebar, the
// analytics API, `conduit usage --json` and the terminal's summary line give the same
// session cost, today's cost and total tokens (src/protocol/measures.ts). With budgets set,
// the status bar shows today and this month against them, and its tooltip names an agent by
// its name and keeps model ids on one line.
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { calendarDates } from '../../src/protocol/webviewMessages';
import type { AgentInfo } from '../../src/protocol/projects';
import type { BudgetsResponse } from '../../src/protocol/budgets';
import { formatUsd } from '../../src/protocol/format';
import { runConduit } from '../support/codeServer';
import { messagePosts, useHostSuite } from '../support/hostSuite';
import { CALENDAR_SPEND, statusTextAfter, todayFigureOf } from './statusText';

const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
const DATA_TIMEOUT = 60_000;

/** A cost as the CLI and the terminal print it: four decimals. */
const usd4 = (x: number | null) => (x ?? 0).toFixed(4);

interface Summary { requests: number; cost: number | null; totalTokens: number; unknownCostRequests: number }

describe('Totals in VS Code: the usage store is the one source (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1));
  const suite = useHostSuite({ upstreamKey: 'sk-test-host-totals', screenshotPrefix: 'totals-' });
  /** The one session of this suite, as the first test ran it. */
  let session: { id: string; text: string } | null = null;

  const sidebar = (): FrameLocator => suite.product.page
    .frameLocator('iframe.webview.ready[src*="purpose=webviewView"]')
    .frameLocator('#active-frame');

  /** The gateway's zone of "today" (its status names it; the machine's is its default). */
  async function dayZone(): Promise<string | undefined> {
    return (await suite.api<{ timeZone?: string }>('GET', '/v1/conduit/status')).body.timeZone;
  }

  /** The analytics summary as the views read it: in the gateway's zone of "today". */
  async function summary(params: Record<string, string>): Promise<Summary> {
    const tz = (await dayZone()) ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    const r = await suite.api<Summary>('GET', `/v1/conduit/analytics/summary?${new URLSearchParams({ tz, ...params })}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }

  /** Today and this month as calendar periods in the gateway's zone (as budgets count them). */
  async function calendar(period: 'today' | 'month', extra: Record<string, string> = {}): Promise<Summary> {
    const { today, monthStart } = calendarDates((await dayZone()) ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
    return summary({ range: 'custom', from: period === 'today' ? today : monthStart, to: today, ...extra });
  }

  it('after a window reload the status bar shows today\'s cost, equal to the analytics\' today', async function () {
    this.timeout(300_000);
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 90_000);
    // A retry of this test (after a slow reload) keeps the session its first try ran.
    if (!session) {
      const { posts, text } = await suite.runAgentSession('say hi');
      assert.ok(posts.length >= 1, 'the session reached the stand-in');
      assert.match(text, /✓ done/, text);
      session = { id: String(posts[0].headers['x-claude-code-session-id']), text };
    }
    // The store has the session once the status bar, which reads it, shows a cost above zero.
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: statusTextAfter('$0.00') }, DATA_TIMEOUT);
    const today = await calendar('today');
    assert.ok(today.requests >= 1 && (today.cost ?? 0) > 0, JSON.stringify(today));

    await suite.product.runCommand('Developer: Reload Window');
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: CALENDAR_SPEND }, 90_000);
    assert.equal(todayFigureOf(item.text), formatUsd(today.cost), `after the reload the status bar shows ${item.text}; the analytics' today is ${today.cost}`);
    await suite.screenshot('1-status-bar-after-reload');
  });

  it('for the same traffic, the status bar, the sidebar, the analytics API, `conduit usage --json` and the terminal give the same session cost, today\'s cost and total tokens', async function () {
    this.timeout(180_000);
    assert.ok(session, 'needs the session of the first test');
    assert.equal(await dayZone(), Intl.DateTimeFormat().resolvedOptions().timeZone, 'the gateway names its zone of "today": the system\'s, with no budgetTimeZone');
    // This suite's CONDUIT_HOME has seen only the sessions the stand-in saw (one, unless a
    // first try of the test above ran one before it failed): today's figures, read from the
    // hourly rollups, are the sum of those sessions' figures, read from their usage rows.
    const today = await calendar('today');
    const ofSession = await summary({ range: 'month', session: session.id });
    const seen = [...new Set(messagePosts(suite.fake.requests).map((p) => String(p.headers['x-claude-code-session-id'])))];
    assert.ok(seen.includes(session.id), `the stand-in saw the session: ${seen.join(', ')}`);
    const ofSeen = await Promise.all(seen.map((id) => summary({ range: 'month', session: id })));
    const sum = (f: (s: Summary) => number) => ofSeen.reduce((a, s) => a + f(s), 0);
    assert.equal(sum((s) => s.requests), today.requests, `the sessions ${seen.join(', ')} are all of today`);

    // The analytics API: the sessions' and today's cost and total tokens agree.
    assert.equal(usd4(sum((s) => s.cost ?? 0)), usd4(today.cost));
    assert.equal(sum((s) => s.totalTokens), today.totalTokens);
    assert.ok(today.totalTokens > 0);

    // The terminal's summary line states Conduit's cost of the session ("✓ done in 3.2 s · 1 turn · $0.0097[...]").
    const done = /✓ done in [\d.]+ s(?: · \d+ turns?)? · \$(\d+\.\d{4})/.exec(session.text);
    assert.ok(done, `the terminal's summary line: ${session.text}`);
    assert.equal(done[1], usd4(ofSession.cost), 'the terminal states the session\'s cost as the store has it');

    // The status bar (today's cost, and this month's: the same one session).
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: CALENDAR_SPEND });
    assert.equal(todayFigureOf(item.text), formatUsd(today.cost));
    assert.match(item.text, new RegExp(`· ${formatUsd(today.cost).replace(/[$.]/g, '\\$&')} this month$`));

    // `conduit usage --json`: today's row and the session's row.
    const daily = await runConduit(suite.product.extensionDir, ['usage', 'daily', '--json'], suite.cliEnv);
    assert.equal(daily.status, 0, daily.stderr);
    const days = JSON.parse(daily.stdout) as { daily: { totalCost: number | null; totalTokens: number }[]; totals: { totalCost: number | null; totalTokens: number } };
    assert.equal(days.daily.length, 1, daily.stdout);
    assert.equal(usd4(days.daily[0].totalCost), usd4(today.cost));
    assert.equal(days.daily[0].totalTokens, today.totalTokens);
    const bySession = await runConduit(suite.product.extensionDir, ['usage', 'session', '--json'], suite.cliEnv);
    assert.equal(bySession.status, 0, bySession.stderr);
    const sessions = (JSON.parse(bySession.stdout) as { sessions: { sessionId: string; totalCost: number | null; totalTokens: number }[] }).sessions;
    const row = sessions.find((s) => s.sessionId === session!.id);
    assert.ok(row, `the session ${session.id} in ${bySession.stdout}`);
    assert.equal(usd4(row.totalCost), usd4(ofSession.cost));
    assert.equal(row.totalTokens, ofSession.totalTokens);

    // The sidebar: today's cost and total tokens.
    const { page } = suite.product;
    await page.locator('.part.activitybar .action-label[aria-label^="Conduit"]').click();
    await page.locator('.part.sidebar .title-label', { hasText: /conduit/i }).waitFor();
    const view = sidebar();
    await view.locator('[data-testid="todayCost"]', { hasText: formatUsd(today.cost) }).waitFor({ timeout: DATA_TIMEOUT });
    const tokens = Number((await view.locator('[data-testid="todayTokens"]').innerText()).replace(/\D/g, ''));
    assert.equal(tokens, today.totalTokens, 'the sidebar\'s tokens are total tokens, cache included');
    await suite.screenshot('2-sidebar');
  });

  it('with budgets set, the status bar shows today and this month against them; its tooltip names the agent by its name and keeps model ids on one line', async function () {
    this.timeout(300_000);
    assert.ok(session, 'needs the session of the first test');
    // The workspace's project: the key its sessions carry in their context (the gateway's record of the first session).
    const recorded = await suite.api<{ records: { context: { projectId?: string } }[] }>('GET', `/v1/conduit/sessions/${encodeURIComponent(session.id)}`);
    const key = recorded.body.records?.[0]?.context.projectId;
    assert.ok(key, `the session carried its project: ${JSON.stringify(recorded.body).slice(0, 300)}`);
    // An agent with its own model, its name full of markdown and HTML; budgets on the project.
    const name = 'Nightly *Reviewer* <b>x</b> | `y`';
    // (A retry of this test finds the agent its first try made.)
    const existing = (await suite.api<AgentInfo[]>('GET', `/v1/conduit/projects/${encodeURIComponent(key)}/agents`)).body.find((a) => a.name === name);
    const created = existing ? { status: 200, body: existing }
      : await suite.api<AgentInfo>('POST', `/v1/conduit/projects/${encodeURIComponent(key)}/agents`, { name, personaType: 'reviewer', useProjectModel: false, customModelId: 'claude-haiku-4-5' });
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    const budget = await suite.api('PUT', `/v1/conduit/projects/${encodeURIComponent(key)}`, { budget: { dailyUsd: 40, monthlyUsd: 400 } });
    assert.equal(budget.status, 200, JSON.stringify(budget.body));

    const shown = await suite.product.statusBarItem(STATUS_ITEM);
    await suite.product.runCommand('Conduit: Run Agent Session');
    await suite.product.answerInput('Which agent?', { pick: name });
    const before = messagePosts(suite.fake.requests).length;
    await suite.product.answerInput('What should the agent do?', { value: 'say hi' });
    const agentPosts = (await suite.fake.waitForRequests(before + 1, 90_000)).slice(before);
    const agentSession = String(agentPosts[0].headers['x-claude-code-session-id']);
    await suite.product.waitForTerminalText(new RegExp(`● session ${agentSession}[^]*✓ done`), 90_000);
    // The session ended: the budgets have counted all of it (each request as it ended); the
    // status bar shows the store's figures once the store has it too, and they are the same.
    const { statuses } = (await suite.api<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${encodeURIComponent(key)}`)).body;
    const spent = (period: string) => statuses.find((s) => s.scope === 'project' && s.period === period)!.spentUsd;
    const expected = `· ${formatUsd(spent('daily'))} / $40 today · ${formatUsd(spent('monthly'))} / $400 this month`;
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, {
      ariaLabel: RUNNING, text: new RegExp(`^\\$\\(arrow-swap\\) Conduit: haiku-4-5 · agent ${expected.replace(/[$.|/]/g, '\\$&')}$`),
    }, DATA_TIMEOUT).catch((err: Error) => { throw new Error(`the status bar never ended with "${expected}": ${err.message}`); });
    assert.ok(shown?.text !== item.text, 'the figures changed with the agent\'s session');
    const today = await calendar('today', { project: key });
    const month = await calendar('month', { project: key });
    assert.equal(today.cost!.toFixed(6), spent('daily').toFixed(6), 'today as the daily budget counts it');
    assert.equal(month.cost!.toFixed(6), spent('monthly').toFixed(6), 'this month as the monthly budget counts it');

    // The tooltip: the agent by its name (as text), not by its id; the model id on one line.
    const { page } = suite.product;
    await page.locator(`.statusbar-item[aria-label^="${STATUS_ITEM}"]`).hover();
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'uses its own model' }).last();
    await hover.waitFor({ timeout: 30_000 });
    const tip = await hover.innerText();
    assert.ok(tip.includes(`"${name}" uses its own model`), tip);
    assert.ok(!tip.includes(created.body.id), `the agent's id is not shown: ${tip}`);
    assert.ok(tip.includes('Spent by project'), tip);
    assert.equal(await hover.locator('b').count(), 0, 'the name\'s HTML is text');
    const lines = await hover.locator('td', { hasText: /^haiku.4.5$/ }).first().evaluate((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    assert.equal(lines, 1, 'the model id stays on one line');
    await suite.screenshot('3-status-bar-tooltip');
    await page.keyboard.press('Escape');
  });
});
