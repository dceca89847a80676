// Views that never go stale and the small things a person notices, in a real VS Code
// (code-server + Chromium), in order, on one code-server: after a real agent session (the real
// claude CLI through the gateway to the Anthropic stand-in) the status bar item still names
// Conduit; the command palette offers Stop Gateway only while the gateway runs and Start
// Gateway only while it does not, and no team command without a Supabase sign-in; the usage
// analytics panel opened while the gateway is stopped shows its data once the gateway runs
// again, with no Retry; the model configuration panel shows a budget "Conduit: Set Budget"
// sets while it is open; `conduit logs` prints the log of the gateway VS Code started.
// Screenshots: .test-output/host/views-*.png.
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { runConduit } from '../support/codeServer';
import { useHostSuite } from '../support/hostSuite';
import { CALENDAR_SPEND, statusTextAfter } from './statusText';

const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** Generous: the embedded store's first open takes several seconds. */
const DATA_TIMEOUT = 60_000;

describe('Synapse Conduit views stay current (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // 0 while debugging a failure
  const suite = useHostSuite({ upstreamKey: 'sk-test-host-views', screenshotPrefix: 'views-' });
  /** The cost of the session of the first test, as the analytics shows it ("$0.0123"). */
  let sessionCost = '';

  const panel = (): FrameLocator => suite.product.page
    .frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"]) >> visible=true')
    .frameLocator('#active-frame');

  /**
   * The command palette's rows for `title` once it has filtered them (a few rows: matches,
   * "similar commands" or "No matching commands"; the unfiltered list fills the box with every
   * command); closes the palette again.
   */
  async function paletteRows(title: string): Promise<string[]> {
    const { page } = suite.product;
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const handle = await page.waitForFunction(() => {
      const labels = [...document.querySelectorAll('.quick-input-list .monaco-list-row .label-name')].map((e) => (e.textContent ?? '').trim());
      return labels.length > 0 && labels.length < 10 ? labels : false;
    });
    const rows = await handle.jsonValue() as string[];
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    return rows;
  }
  const offered = async (title: string) => (await paletteRows(title)).includes(title);

  before(async function () {
    this.timeout(120_000);
    await suite.product.activation();
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
  });

  it('after a real agent session the status bar item still says whose it is: "Conduit: <model> · <rule> · <cost>"', async function () {
    this.timeout(240_000);
    await suite.runAgentSession('say hi');
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /last routed to/, text: CALENDAR_SPEND });
    assert.match(item.text, statusTextAfter(null));
    await suite.screenshot('1-status-bar-after-session');
  });

  it('the palette offers Stop Gateway while it runs and Start Gateway while it is stopped, never both; no team commands without Supabase', async function () {
    this.timeout(120_000);
    assert.equal(await offered('Conduit: Stop Gateway'), true);
    assert.equal(await offered('Conduit: Restart Gateway'), true);
    assert.equal(await offered('Conduit: Start Gateway'), false, 'no Start Gateway while it runs');
    for (const team of ['Conduit: Invite Project Member', 'Conduit: Show Project Members', 'Conduit: Link Workspace to Shared Project', 'Conduit: Sign Out of Supabase']) {
      assert.equal(await offered(team), false, `${team} without a Supabase sign-in`);
    }
    assert.equal(await offered('Conduit: Sign In to Supabase'), true);

    await suite.product.runCommand('Conduit: Stop Gateway');
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /^Conduit gateway stopped/ });
    assert.equal(await offered('Conduit: Stop Gateway'), false, 'no Stop Gateway while it is stopped');
    assert.equal(await offered('Conduit: Restart Gateway'), false);
    assert.equal(await offered('Conduit: Start Gateway'), true);
    await suite.screenshot('2-palette-while-stopped');
  });

  it('the analytics panel opened while the gateway is stopped shows the usage by itself once it runs again', async function () {
    this.timeout(180_000);
    const { product } = suite;
    if ((await product.statusBarItem(STATUS_ITEM))?.ariaLabel.startsWith('Conduit gateway running')) {
      await product.runCommand('Conduit: Stop Gateway'); // a retry of this test after a failure
      await product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /^Conduit gateway stopped/ });
    }
    await product.runCommand('Conduit: Open Usage Analytics');
    await product.page.locator('.tab', { hasText: 'Usage Analytics' }).waitFor();
    const view = panel();
    await view.locator('[data-testid="errorMessage"]', { hasText: 'not running' }).waitFor({ timeout: 30_000 });
    await suite.screenshot('3-analytics-while-stopped');

    await product.runCommand('Conduit: Start Gateway');
    await product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
    // No Retry: the panel asks again when the gateway runs.
    const cost = view.locator('[data-testid="totalCost-value"]', { hasText: /^\$[\d,]+\.\d+$/ });
    await cost.waitFor({ timeout: DATA_TIMEOUT });
    sessionCost = (await cost.innerText()).trim();
    assert.doesNotMatch(sessionCost, /^\$0\.0+$/);
    assert.equal(await view.locator('[data-testid="error"]').count(), 0);
    await suite.screenshot('4-analytics-after-start');
  });

  it('the model configuration panel shows a budget "Conduit: Set Budget" sets while it is open, with its spend', async function () {
    this.timeout(120_000);
    const { product } = suite;
    await product.runCommand('View: Close All Editors');
    await product.runCommand('Conduit: Configure Project Model');
    await product.page.locator('.tab', { hasText: 'Project Model Configuration' }).waitFor();
    const view = panel();
    const daily = view.locator('[data-testid="dailyUsd"]');
    await daily.waitFor({ timeout: 30_000 });
    const dailyValue = () => daily.evaluate((el) => (el as HTMLElement & { value: string }).value);
    const amount = (await dailyValue()) === '7' ? '9' : '7'; // a retry sets a new amount

    await product.runCommand('Conduit: Set Budget');
    await product.answerInput('Choose what to change', { pick: 'Daily budget' });
    await product.answerInput('Daily budget in US dollars', { value: amount });
    await product.notification(new RegExp(`daily budget set to \\$${amount}\\.00`));
    await product.page.keyboard.press('Escape'); // the menu stays open for more changes: done

    // The session's spend, against the new amount.
    await view.locator('[data-testid="dailySpend"]', { hasText: /^spent \$\d+\.\d+ today \(\d+%\)/ }).waitFor({ timeout: 30_000 });
    assert.equal(await dailyValue(), amount);
    assert.equal((await view.locator('[data-testid="status"]').innerText()).trim(), '', 'the panel shows what is stored: nothing unsaved');
    await daily.scrollIntoViewIfNeeded(); // the budget section is below the model settings
    await suite.screenshot('5-model-config-after-set-budget');
  });

  it('`conduit logs` prints the log of the gateway VS Code started', async function () {
    this.timeout(60_000);
    const r = await runConduit(suite.product.extensionDir, ['logs', '-n', '200'], suite.cliEnv);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /no log yet/);
    assert.ok(r.stdout.trim().split('\n').length >= 2, r.stdout);
    assert.match(r.stdout, /listening|started|127\.0\.0\.1/i, r.stdout);
  });
});
