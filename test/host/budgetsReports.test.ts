// Budgets and reports in a real VS Code (code-server + Chromium), in order, in one
// code-server: "Conduit: Set Budget" sets a tiny daily budget with a hard limit from its menu;
// a real agent session (the real claude CLI through the gateway to the Anthropic stand-in)
// spends past it and the 100 % alert shows as one notification with its actions; "Conduit:
// Export Usage Report" writes today's report, whose totals are the analytics API's, and opens
// it; the next session is refused by the gateway and claude shows the Conduit message; "Raise
// Budget" on the alert raises the budget and the next session goes through; agents are
// created, renamed, given a budget and deleted from the palette.
// Screenshots: .test-output/host/budgets-*.png.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BudgetAlertsResponse, BudgetsResponse } from '../../src/protocol/budgets';
import type { ReportMeasures, ReportMeta, UsageReportRow } from '../../src/protocol/reports';
import { messagePosts, useHostSuite } from '../support/hostSuite';

const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** The alert's notification (its message names the daily budget of $0.0001). */
const ALERT = /Conduit: .*\$0\.0001 daily budget/;

describe('Budgets and usage reports in VS Code (code-server + Chromium)', function () {
  // A real browser driving a real VS Code: one more try before a UI hiccup fails the run.
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // 0 while debugging a failure
  const s = useHostSuite({ upstreamKey: 'sk-test-host-budgets', screenshotPrefix: 'budgets-' });

  before(async function () {
    this.timeout(120_000);
    await s.product.activation();
    await s.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
  });

  /** The project's daily budget status as the gateway reports it. */
  async function dailyStatus() {
    const r = await s.api<BudgetsResponse>('GET', '/v1/conduit/budgets');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.statuses.find((x) => x.scope === 'project' && x.period === 'daily');
  }

  it('"Conduit: Set Budget" sets a daily budget and a hard limit from its menu; the gateway enforces what it saved', async function () {
    this.timeout(120_000);
    const { product } = s;
    await product.clearNotifications();
    await product.runCommand('Conduit: Set Budget');
    // One folder and no agents: straight to the project's menu.
    await product.answerInput('Choose what to change', { pick: 'Daily budget' });
    await product.answerInput('Daily budget in US dollars', { value: '0.0001' });
    await product.notification(/daily budget set to \$0\.0001/);
    await product.answerInput('Choose what to change', { pick: 'Hard limit' });
    // A bad answer is refused in the box, with the reason (which takes the prompt's place).
    const box = product.page.locator('.quick-input-widget', { hasText: 'Hard limit: percent' });
    await box.waitFor();
    const input = product.page.locator('.quick-input-widget input.input'); // the box itself: its prompt gives way to the error
    await input.fill('0');
    await product.page.locator('.quick-input-widget .quick-input-message', { hasText: 'Above 0 and at most 1000' }).waitFor();
    await input.fill('100');
    await input.press('Enter');
    await product.notification(/hard limit at 100%/);
    await s.screenshot('1-set-budget-menu');
    await product.page.keyboard.press('Escape'); // the menu stays open until the person is done

    const daily = await dailyStatus();
    assert.ok(daily, 'the gateway reports a daily budget for the project');
    assert.equal(daily.limitUsd, 0.0001);
    assert.equal(daily.hardLimitPercent, 100);
    assert.equal(daily.spentUsd, 0);
  });

  it('a session that spends past the budget raises one notification, with "Open Usage Analytics" and "Raise Budget"', async function () {
    this.timeout(180_000);
    const { product } = s;
    await product.clearNotifications();
    const { text } = await s.runAgentSession('say hi');
    assert.match(text, /✓ done/, text);
    const toast = await product.notification(ALERT, 60_000);
    await toast.getByRole('button', { name: 'Open Usage Analytics' }).waitFor();
    await toast.getByRole('button', { name: 'Raise Budget' }).waitFor();
    assert.match(await toast.innerText(), /100%|\d{3,}%/, 'the alert says the budget is used up');
    // Shown, so acknowledged: the gateway has nothing left to show, and it was one notification.
    const daily = await dailyStatus();
    assert.ok(daily && daily.spentUsd > daily.limitUsd, JSON.stringify(daily));
    const pending = await s.api<BudgetAlertsResponse>('GET', '/v1/conduit/budgets/alerts');
    assert.deepEqual(pending.body.alerts.filter((a) => a.status.period === 'daily').map((a) => a.id), []);
    assert.equal(await product.page.locator('.notifications-toasts .notification-toast', { hasText: ALERT }).count(), 1);
    await s.screenshot('2-alert');
  });

  it('"Conduit: Export Usage Report" writes today\'s report as JSON, with the analytics API\'s totals, and opens it', async function () {
    this.timeout(120_000);
    const { product } = s;
    await product.runCommand('Conduit: Export Usage Report');
    await product.answerInput('Which days?', { pick: 'Today' });
    await product.answerInput('Format', { pick: 'JSON' });
    // code-server's save dialog is a quick input holding the proposed path: accept it.
    const dialog = product.page.locator('.quick-input-widget', { hasText: 'Export Usage Report' });
    await dialog.waitFor();
    // The dialog fills in the folder first, then the proposed name.
    const input = dialog.locator('input.input');
    await input.evaluate((el) => new Promise<void>((resolve) => {
      const box = el as HTMLInputElement;
      const check = () => (box.value.endsWith('.json') ? resolve() : requestAnimationFrame(check));
      check();
    }));
    const file = (await input.inputValue()).trim();
    assert.match(path.basename(file), /^conduit-usage-\d{4}-\d{2}-\d{2}\.json$/);
    await input.press('Enter');
    // The file opens in an editor when it is written.
    await product.page.locator('.tab', { hasText: path.basename(file) }).waitFor({ timeout: 60_000 });
    const local = path.join(product.workspace, path.basename(file));
    assert.ok(existsSync(local), `${local} is written`);
    const report = JSON.parse(readFileSync(local, 'utf8')) as { meta: ReportMeta; rows: UsageReportRow[]; totals: ReportMeasures };
    assert.equal(report.rows.length, report.meta.totalRows);
    const day = /(\d{4}-\d{2}-\d{2})\.json$/.exec(file)![1];
    assert.ok(report.rows.length >= 1, 'a row for the session');
    for (const r of report.rows) assert.deepEqual([r.projectName, r.day, typeof r.model], ['workspace', day, 'string'], JSON.stringify(r));
    // The analytics API answers {query, scope, ...figures}.
    const summary = await s.api<{ requests: number; cost: number | null }>('GET', `/v1/conduit/analytics/summary?range=day&tz=${encodeURIComponent(report.meta.tz)}`);
    assert.equal(summary.status, 200, JSON.stringify(summary.body));
    assert.equal(report.totals.requests, summary.body.requests, 'the report counts the requests the analytics count');
    assert.ok(Math.abs((report.totals.cost ?? 0) - (summary.body.cost ?? 0)) < 1e-9, `report $${report.totals.cost} vs analytics $${summary.body.cost}`);
    await s.screenshot('3-report-opened');
    await product.runCommand('View: Close All Editors');
  });

  it('the next session is refused by the gateway: claude shows the Conduit message; the provider gets nothing', async function () {
    this.timeout(180_000);
    const { product, fake } = s;
    const before = messagePosts(fake.requests).length;
    await product.runCommand('Conduit: Run Agent Session');
    await product.answerInput('What should the agent do?', { value: 'say hi again' });
    const text = await product.waitForTerminalText(/Conduit: project[^]*daily budget[^]*✗ failed/, 120_000);
    assert.match(text, /Set Budget/, 'the refusal says how to raise the budget');
    assert.equal(messagePosts(fake.requests).length, before, 'no request reached the provider');
    await s.screenshot('4-refused');
  });

  it('"Raise Budget" on the alert asks for the daily budget; after raising it the next session goes through', async function () {
    this.timeout(180_000);
    const { product } = s;
    // The toast may have timed out into the notification centre: the button is there too.
    await product.runCommand('Notifications: Show Notifications');
    const item = product.page.locator('.notifications-center .notification-list-item', { hasText: ALERT }).first();
    await item.getByRole('button', { name: 'Raise Budget' }).click();
    const box = product.page.locator('.quick-input-widget', { hasText: 'Daily budget in US dollars' });
    await box.waitFor();
    assert.equal(await box.locator('input.input').inputValue(), '0.0001', 'the box starts from the current budget');
    await product.answerInput('Daily budget in US dollars', { value: '100' });
    await product.notification(/daily budget set to \$100\.00/);
    const daily = await dailyStatus();
    assert.equal(daily?.limitUsd, 100);

    const { text } = await s.runAgentSession('say hi once more');
    assert.match(text, /✓ done/, text);
    await s.screenshot('5-raised');
  });

  it('agents from the palette: create, rename, give one a budget through "Set Budget", delete', async function () {
    this.timeout(120_000);
    const { product, api } = s;
    await product.clearNotifications();
    await product.runCommand('Conduit: Create Agent');
    await product.answerInput('Agent name', { value: 'reviewer' });
    await product.answerInput('Persona type', { value: 'code-reviewer' });
    await product.notification(/Agent "reviewer" created/);

    await product.runCommand('Conduit: Rename Agent');
    await product.answerInput('Rename which agent?', { value: 'reviewer' });
    await product.answerInput('New name of "reviewer"', { value: 'critic' });
    await product.notification(/Agent "reviewer" is now "critic"/);

    // With an agent in the project, the command first asks whose budget.
    await product.runCommand('Conduit: Set Budget');
    await product.answerInput('A budget for the whole project or for one agent?', { value: 'critic' });
    await product.answerInput('Choose what to change', { pick: 'Monthly budget' });
    await product.answerInput('Monthly budget in US dollars', { value: '20' });
    await product.notification(/monthly budget set to \$20\.00 for agent "critic"/);
    await product.page.keyboard.press('Escape');
    const budgets = await api<BudgetsResponse>('GET', '/v1/conduit/budgets');
    const agentBudget = budgets.body.statuses.find((x) => x.scope === 'agent');
    assert.deepEqual(agentBudget && [agentBudget.name, agentBudget.period, agentBudget.limitUsd], ['critic', 'monthly', 20]);

    await product.runCommand('Conduit: Delete Agent');
    await product.answerInput('Delete which agent?', { value: 'critic' });
    await product.page.locator('.monaco-dialog-box').getByRole('button', { name: 'Delete' }).click();
    await product.notification(/Agent "critic" deleted/);
    const agents = await api<unknown[]>('GET', `/v1/conduit/projects/${encodeURIComponent(agentBudget!.projectKey)}/agents`);
    assert.deepEqual(agents.body, []);
    await s.screenshot('6-agent-deleted');
  });
});
