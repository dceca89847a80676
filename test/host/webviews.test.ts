// The extension's webviews in a real VS Code (code-server + Chromium), in one code-server for
// the whole file, in order: after a real agent session (the real claude CLI through the
// gateway to the Anthropic stand-in) the usage analytics panel shows its cost and model; the
// activity bar's Conduit icon opens the sidebar view with the gateway's health, today's cost
// and the last routing decision; the project model configuration panel saves a new default
// model and the next session is routed to it; a panel comes back after a window reload
// through its serializer. Screenshots go to .test-output/host/webview-*.png and the three
// README screenshots to media/screenshots/vscode-*.png.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { escapeRegExp, useHostSuite } from '../support/hostSuite';
import { formatUsd } from '../../src/protocol/format';
import { CALENDAR_SPEND, SHOWN_ROUNDING, todayCostOf, todayFigureOf } from './statusText';

const ROOT = path.resolve(__dirname, '../..');
const README_SCREENSHOTS = path.join(ROOT, 'media/screenshots');
/** The model the project's default configuration routes to. */
const ROUTED_MODEL = 'claude-sonnet-5-5';
/** The fast model the model configuration panel switches the project to. */
const FAST_MODEL = 'claude-haiku-4-5';
const STATUS_ITEM = 'Conduit gateway';
const RUNNING = /^Conduit gateway running(, |$)/;
/** Generous: the embedded store's first open takes several seconds. */
const DATA_TIMEOUT = 60_000;

describe('Synapse Conduit webviews in VS Code (code-server + Chromium)', function () {
  // A real browser driving a real VS Code: one more try before a UI hiccup fails the run.
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // 0 while debugging a failure
  const suite = useHostSuite({ upstreamKey: 'sk-test-host-webviews', screenshotPrefix: 'webview-' });
  /** Today's cost as the status bar showed it after the first session ("$0.0123"). */
  let firstSessionCost = '';

  /**
   * The webview of the visible editor panel (webviews are nested iframes: VS Code's host
   * frame, then #active-frame with the extension's HTML). The sidebar's has purpose=webviewView.
   */
  const panel = (): FrameLocator => suite.product.page
    .frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"]) >> visible=true')
    .frameLocator('#active-frame');
  const sidebar = (): FrameLocator => suite.product.page
    .frameLocator('iframe.webview.ready[src*="purpose=webviewView"]')
    .frameLocator('#active-frame');

  /** Saves .test-output/host/webview-<name>.png; with `readme`, copies it to media/screenshots/vscode-<readme>.png. */
  async function screenshot(name: string, readme?: string): Promise<void> {
    const file = await suite.screenshot(name);
    if (readme) {
      mkdirSync(README_SCREENSHOTS, { recursive: true });
      copyFileSync(file, path.join(README_SCREENSHOTS, `vscode-${readme}.png`));
    }
  }

  async function closeAllEditors(): Promise<void> {
    await suite.product.runCommand('View: Close All Editors');
    await suite.product.page.locator('.editor-group-container .tabs-container .tab').first().waitFor({ state: 'detached' });
  }

  before(async function () {
    this.timeout(120_000);
    await suite.product.activation();
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: RUNNING }, 60_000);
  });

  it('the usage analytics panel shows the cost and the model of a real agent session', async function () {
    this.timeout(240_000);
    // Today's cost before the session: a retry of this test runs on top of the first try's session.
    const shownBefore = (await suite.product.statusBarItem(STATUS_ITEM))?.text ?? '';
    const costBefore = CALENDAR_SPEND.test(shownBefore) ? todayCostOf(shownBefore) : 0;
    const { posts, text } = await suite.runAgentSession('say hi');
    for (const p of posts) assert.equal(p.body?.model, ROUTED_MODEL);
    const routing = [...text.matchAll(/⇄ (\S+) \((\S+?)(?::[^)]*)?\) · \d+ in \/ \d+ out · \$(\d+\.\d+)/g)];
    assert.equal(routing.length, posts.length, `one routing line for each of the session's ${posts.length} requests: ${text}`);
    const sessionCost = routing.reduce((sum, m) => sum + Number(m[3]), 0);
    assert.ok(sessionCost > 0, text);
    // The status bar adds the session to today's cost (its text is "… · $0.02 today · $0.02 this month").
    const expected = costBefore + sessionCost;
    const slack = routing.length + 1;
    // Each shown figure is rounded to cents, the session's lines to 4 places: the sum give or take that.
    const candidates = [...new Set([-2, -1, 0, 1, 2].map((k) => formatUsd(Math.max(0, expected + k * SHOWN_ROUNDING + Math.sign(k) * 0.0001 * slack))))];
    const item = await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: /last routed to/, text: new RegExp(`· (?:${candidates.map(escapeRegExp).join('|')}) today · `) })
      .catch(async (err: Error) => { throw new Error(`today's cost: $${costBefore} before + the session's ${sessionCost}: ${err.message}`); });
    firstSessionCost = todayFigureOf(item.text)!;

    await suite.product.runCommand('Conduit: Open Usage Analytics');
    await suite.product.page.locator('.tab', { hasText: 'Usage Analytics' }).waitFor();
    const view = panel();
    await view.locator('h1', { hasText: 'Usage Analytics' }).waitFor({ timeout: 30_000 });
    await view.locator('[data-testid="totalCost-value"]', { hasText: new RegExp(`^${escapeRegExp(firstSessionCost)}$`) })
      .waitFor({ timeout: DATA_TIMEOUT });
    // Model Usage (the first tab): its charts are drawn.
    await view.locator('canvas[data-chart="modelUsage"]').waitFor({ state: 'visible' });
    await screenshot('1-analytics', 'analytics');

    // Recent Activity names the routed model.
    await view.locator('[data-testid="tab-3"]').click();
    const model = view.locator('[data-testid="recent"] [data-field="model"]', { hasText: ROUTED_MODEL }).first();
    await model.waitFor({ state: 'visible', timeout: DATA_TIMEOUT });
    assert.equal((await model.innerText()).trim(), ROUTED_MODEL);
    assert.equal((await view.locator('[data-testid="recent"] [data-field="cost"]').first().innerText()).trim().length > 0, true);
    await screenshot('2-analytics-recent-activity');

    // One id and one cost: the terminal names the session by claude's own session id, with the
    // model claude asked for and the routed one, and its summary states Conduit's cost (claude's
    // estimate, where shown, labelled as claude's); the Sessions tab lists it by the same id.
    const claudeSession = String(posts[0].headers['x-claude-code-session-id']);
    // The terminal's rows joined: a long line wraps over rows, losing the space a row ended with.
    const lines = text.replace(/\n/g, '');
    const header = new RegExp(`● session ${escapeRegExp(claudeSession)}\\s?·\\s?(?:\\S+\\s?→\\s?)?${escapeRegExp(ROUTED_MODEL)}\\s?·`);
    assert.match(lines, header, text);
    const summary = /✓ done in \d+\.\d s\s?·\s?\d+ turns?\s?·\s?\$(\d+\.\d{4})(?:\s?\(claude's\s?estimate[^)]*:\s?\$\d+\.\d{4}\))?/.exec(lines);
    assert.ok(summary, `a summary line with Conduit's cost: ${text}`);
    assert.ok(Math.abs(Number(summary[1]) - sessionCost) <= 0.0001 * slack, `the summary's $${summary[1]} is the sum of the session's requests, ${sessionCost}`);
    await view.locator('[data-testid="tab-5"]').click();
    const sessionRow = view.locator(`[data-testid="sessions"] tr:has(button[data-session="${claudeSession}"])`);
    await sessionRow.waitFor({ state: 'visible', timeout: DATA_TIMEOUT });
    assert.match((await sessionRow.locator('[data-field="model"]').innerText()).trim(), new RegExp(`^(?:\\S+ → )?${escapeRegExp(ROUTED_MODEL)}$`));
    await view.locator('[data-testid="tab-3"]').click();

    // Click-through: the request's session opens in a panel of its own, with that session's cost.
    await view.locator('[data-testid="recent"] button').first().click();
    await suite.product.page.locator('.tab', { hasText: new RegExp(`^Session ${claudeSession.slice(0, 8)}`) }).waitFor({ timeout: 30_000 });
    const sessionTotal = panel().locator('[data-testid="totalCost-value"]', { hasText: /^\$\d/ });
    await sessionTotal.waitFor({ timeout: DATA_TIMEOUT });
    const shown = Number((await sessionTotal.innerText()).trim().slice(1).replace(/,/g, ''));
    // Shown in cents (formatMoney); the session's lines to 4 places.
    assert.ok(Math.abs(shown - sessionCost) <= SHOWN_ROUNDING + 0.0001 * (routing.length + 1), `the session panel's $${shown} vs the session's ${sessionCost}`);
    await screenshot('2b-session-panel');
  });

  it('the activity bar\'s Conduit icon opens the sidebar: health, today\'s cost, the last routing decision; its button opens the analytics panel', async function () {
    this.timeout(120_000);
    assert.ok(firstSessionCost, 'needs the session of the first test');
    await closeAllEditors();
    const { page } = suite.product;
    await page.locator('.part.activitybar .action-label[aria-label^="Conduit"]').click();
    await page.locator('.part.sidebar .title-label', { hasText: /conduit/i }).waitFor();
    const view = sidebar();
    await view.locator('[data-testid="health"]', { hasText: /running/ }).waitFor({ timeout: 30_000 });
    await view.locator('[data-testid="todayCost"]', { hasText: new RegExp(`^${escapeRegExp(firstSessionCost)}$`) }).waitFor({ timeout: DATA_TIMEOUT });
    const decision = view.locator('[data-testid="decisions"] li').first().locator('[data-field="model"]');
    await decision.waitFor({ timeout: DATA_TIMEOUT });
    assert.equal((await decision.innerText()).trim(), ROUTED_MODEL);
    await screenshot('3-sidebar', 'sidebar');

    await view.locator('[data-testid="openAnalytics"]').click();
    await page.locator('.tab', { hasText: 'Usage Analytics' }).waitFor();
    await panel().locator('[data-testid="totalCost-value"]', { hasText: new RegExp(`^${escapeRegExp(firstSessionCost)}$`) }).waitFor({ timeout: DATA_TIMEOUT });
    await screenshot('4-sidebar-opened-analytics');
  });

  it('"Configure Project Model" saves the fast model as the default; the next session is routed to it', async function () {
    this.timeout(240_000);
    await closeAllEditors();
    await suite.product.runCommand('Conduit: Configure Project Model');
    await suite.product.page.locator('.tab', { hasText: 'Project Model Configuration' }).waitFor();
    const view = panel();
    await view.locator('h1', { hasText: 'Project Model Configuration' }).waitFor({ timeout: 30_000 });

    const select = view.locator('[data-testid="defaultModel"]');
    await select.click();
    await view.getByRole('option', { name: /Claude Haiku 4\.5/ }).first().click();
    assert.equal(await select.evaluate((el) => (el as HTMLElement & { value: string }).value), FAST_MODEL);

    // Every text the save button shows, recorded in the webview (the save may take a moment only).
    const save = view.locator('[data-testid="save"]');
    await save.evaluate((el) => {
      const seen: string[] = [];
      (window as unknown as { __saveTexts: string[] }).__saveTexts = seen;
      new MutationObserver(() => seen.push((el.textContent ?? '').trim())).observe(el, { childList: true, characterData: true, subtree: true });
    });
    await save.click();
    // The outcome: "Configuration saved." or the error of the save.
    const status = view.locator('[data-testid="status"]', { hasText: /^(?!Unsaved changes$)\S/ });
    await status.waitFor({ timeout: 30_000 });
    const statusText = (await status.innerText()).trim();
    if (statusText !== 'Configuration saved.') {
      await screenshot('5-model-config-save-failed');
      assert.fail(`Saving the project's model configuration failed: the panel says "${statusText}" (PUT /v1/conduit/projects/:key, the gateway's projects API, must answer)`);
    }
    const texts = await save.evaluate(() => (window as unknown as { __saveTexts: string[] }).__saveTexts);
    assert.ok(texts.includes('Saving...'), `the button said "Saving..." while saving: ${JSON.stringify(texts)}`);
    assert.equal((await save.innerText()).trim(), 'Save Configuration');
    await screenshot('5-model-config-saved', 'modelConfig');

    const { posts } = await suite.runAgentSession('say hi again');
    assert.equal(posts[0].body?.model, FAST_MODEL, `the stand-in got ${posts.map((p) => p.body?.model).join(', ')}`);
    await suite.product.waitForStatusBarItem(STATUS_ITEM, { ariaLabel: new RegExp(`last routed to ${FAST_MODEL}$`) });
    await screenshot('6-session-on-fast-model');
  });

  it('the analytics panel survives "Developer: Reload Window" through its serializer', async function () {
    this.timeout(180_000);
    await suite.product.runCommand('View: Close All Editors');
    await suite.product.runCommand('Conduit: Open Usage Analytics');
    const cost = panel().locator('[data-testid="totalCost-value"]', { hasText: /^\$[\d,]+\.\d+$/ });
    await cost.waitFor({ timeout: DATA_TIMEOUT });
    const before = (await cost.innerText()).trim();

    // VS Code's own reload saves the workbench state (open editors) before reloading.
    await suite.product.runCommand('Developer: Reload Window');
    const { page } = suite.product;
    await page.locator('.tab', { hasText: 'Usage Analytics' }).waitFor({ timeout: 90_000 });
    const view = panel();
    await view.locator('h1', { hasText: 'Usage Analytics' }).waitFor({ timeout: 60_000 });
    await view.locator('[data-testid="totalCost-value"]', { hasText: new RegExp(`^${escapeRegExp(before)}$`) }).waitFor({ timeout: DATA_TIMEOUT });
    await screenshot('7-analytics-after-reload');
  });
});
