// One truth for totals, in a real VS Code (code-server + Chromium) with the real claude CLI:
// the usage store is the one source of today's and a session's figures. After a window
// reload the status bar shows today's cost as the store has it (a running sum since
// activation showed $0.0000), and for the same traffic the status bar, the sidebar, the
// analytics API, `conduit usage --json` and the terminal's summary line give the same
// session cost, today's cost and total tokens (src/protocol/measures.ts).
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { runConduit, type StatusBarItemState } from '../support/codeServer';
import { useHostSuite } from '../support/hostSuite';

const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** The status bar's text once it shows a cost: "... · $0.0123" ("+?" after it when a price is unknown). */
const WITH_COST = /· \$(\d+\.\d{4})(\+\?)?$/;
const DATA_TIMEOUT = 60_000;

/** A cost as every surface prints it: four decimals. */
const usd4 = (x: number | null) => (x ?? 0).toFixed(4);

function statusBarCost(item: StatusBarItemState): string {
  const m = WITH_COST.exec(item.text);
  assert.ok(m, `no cost in the status bar text ${JSON.stringify(item.text)}`);
  return m[1];
}

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

  it('after a window reload the status bar shows today\'s cost, equal to the analytics\' today', async function () {
    this.timeout(300_000);
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 90_000);
    const { posts, text } = await suite.runAgentSession('say hi');
    assert.ok(posts.length >= 1, 'the session reached the stand-in');
    assert.match(text, /✓ done/, text);
    session = { id: String(posts[0].headers['x-claude-code-session-id']), text };
    // The store has the session once the status bar, which reads it, shows a cost above zero.
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: /· \$(?!0\.0000)\d+\.\d{4}(\+\?)?$/ }, DATA_TIMEOUT);
    const today = await summary({ range: 'day' });
    assert.ok(today.requests >= posts.length && (today.cost ?? 0) > 0, JSON.stringify(today));

    await suite.product.runCommand('Developer: Reload Window');
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: WITH_COST }, 90_000);
    assert.equal(statusBarCost(item), usd4(today.cost), `after the reload the status bar shows ${item.text}; the analytics' today is ${today.cost}`);
    await suite.screenshot('1-status-bar-after-reload');
  });

  it('for the same traffic, the status bar, the sidebar, the analytics API, `conduit usage --json` and the terminal give the same session cost, today\'s cost and total tokens', async function () {
    this.timeout(180_000);
    assert.ok(session, 'needs the session of the first test');
    assert.equal(await dayZone(), Intl.DateTimeFormat().resolvedOptions().timeZone, 'the gateway names its zone of "today": the system\'s, with no budgetTimeZone');
    // This suite's CONDUIT_HOME has seen this one session only: today's figures are the session's.
    const today = await summary({ range: 'day' });
    const ofSession = await summary({ range: 'month', session: session.id });
    assert.equal(ofSession.requests, today.requests, 'the one session is all of today');

    // The analytics API: the session's and today's cost and total tokens agree.
    assert.equal(usd4(ofSession.cost), usd4(today.cost));
    assert.equal(ofSession.totalTokens, today.totalTokens);
    assert.ok(today.totalTokens > 0);

    // The terminal's summary line states Conduit's cost of the session ("✓ done in 3.2 s · 1 turn · $0.0097[...]").
    const done = /✓ done in [\d.]+ s(?: · \d+ turns?)? · \$(\d+\.\d{4})/.exec(session.text);
    assert.ok(done, `the terminal's summary line: ${session.text}`);
    assert.equal(done[1], usd4(ofSession.cost), 'the terminal states the session\'s cost as the store has it');

    // The status bar (today's cost).
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING, text: WITH_COST });
    assert.equal(statusBarCost(item), usd4(today.cost));

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
    await view.locator('[data-testid="todayCost"]', { hasText: `$${usd4(today.cost)}` }).waitFor({ timeout: DATA_TIMEOUT });
    const tokens = Number((await view.locator('[data-testid="todayTokens"]').innerText()).replace(/\D/g, ''));
    assert.equal(tokens, today.totalTokens, 'the sidebar\'s tokens are total tokens, cache included');
    await suite.screenshot('2-sidebar');
  });
});
