// A newcomer's first agent session in a real VS Code (code-server 4.100.3 + Chromium): a
// fresh profile, no provider key anywhere, and claude neither on the extension host's PATH
// nor in CONDUIT_CLAUDE_PATH but only in the workspace's node_modules/.bin, where `npm ci`
// leaves it. The walkthrough is there and checks each step off from real state: claude
// found; no credentials until a key is set through "Conduit: Set Provider API Key"; a
// session by the REAL claude through the gateway to the Anthropic stand-in, recorded for
// the workspace's project; the usage analytics opened.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { credentialsStateOf } from '../../src/extension/walkthrough/credentialsState';
import { CLAUDE, useHostSuite } from '../support/hostSuite';
import { editorWebview } from '../support/workbenchParts';

/** The key the stand-in accepts; the person types it into "Conduit: Set Provider API Key". */
const UPSTREAM_KEY = 'sk-test-host-newcomer';
const WALKTHROUGH_TITLE = 'Your first agent session with Conduit';

describe('A newcomer\'s first agent session (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1));
  const suite = useHostSuite({
    upstreamKey: UPSTREAM_KEY,
    screenshotPrefix: 'first-session-',
    newcomer: true,
    product: { settings: { 'terminal.integrated.gpuAcceleration': 'off' } },
  });

  /** A step of the walkthrough on the Get Started page (its id ends with "#<step id>"). */
  const step = (id: string): Locator => suite.product.page.locator(`button.getting-started-step[data-step-id$="#${id}"]`);

  /** Waits until the step's check mark is `checked` (the page re-renders on context key changes). */
  async function stepIs(id: string, checked: boolean, timeoutMs = 30_000): Promise<void> {
    try {
      await suite.product.page.locator(`button.getting-started-step[data-step-id$="#${id}"][aria-checked="${checked}"]`).waitFor({ timeout: timeoutMs });
    } catch (err) {
      const now = await step(id).getAttribute('aria-checked').catch(() => 'absent');
      throw new Error(`the walkthrough step "${id}" did not become ${checked ? 'checked' : 'unchecked'} within ${timeoutMs} ms (aria-checked: ${now}): ${(err as Error).message.split('\n')[0]}`);
    }
  }

  async function openWalkthrough(): Promise<void> {
    await suite.product.runCommand('Conduit: Get Started: First Agent Session');
    await suite.product.page.locator('.gettingStartedContainer', { hasText: WALKTHROUGH_TITLE }).first().waitFor({ timeout: 30_000 });
  }

  it('the walkthrough is there, and its first step is checked: claude was found in the workspace\'s node_modules/.bin', async function () {
    this.timeout(120_000);
    await suite.product.activation();
    await suite.product.waitForStatusBarItem('Conduit gateway', { ariaLabel: /^Conduit gateway (running|.*credentials)/ }, 60_000);
    await openWalkthrough();
    for (const id of ['findClaude', 'credentials', 'defaultModel', 'firstSession', 'analytics']) await step(id).waitFor();
    await stepIs('findClaude', true);
    assert.equal(await suite.product.page.locator('.notifications-toasts .notification-toast', { hasText: 'claude was not found' }).count(), 0, 'a notification says claude was not found');
    assert.match(suite.product.extensionLog(), /claude: \S+\/workspace\/node_modules\/\.bin\/claude \(project\)/);
    await suite.screenshot('1-walkthrough');
  });

  it('without a key: the gateway reports no credentials and the credentials step stays unchecked', async function () {
    this.timeout(60_000);
    const status = await suite.api<unknown>('GET', '/v1/conduit/status');
    assert.equal(status.status, 200);
    assert.equal(credentialsStateOf(status.body), 'none');
    await openWalkthrough();
    await stepIs('credentials', false);
    await stepIs('firstSession', false);
  });

  it('a key set through "Conduit: Set Provider API Key" (and the gateway restarted) checks the credentials step off', async function () {
    this.timeout(120_000);
    await suite.product.clearNotifications().catch(() => { /* none to clear */ });
    await suite.product.runCommand('Conduit: Set Provider API Key');
    await suite.product.answerInput('API key', { value: UPSTREAM_KEY });
    // The command offers a restart so the gateway starts with the key.
    const restart = await suite.product.notification(/Restart/, 30_000);
    await restart.getByRole('button', { name: 'Restart' }).click();
    await openWalkthrough();
    await stepIs('credentials', true, 90_000);
    const status = await suite.api<unknown>('GET', '/v1/conduit/status');
    assert.equal(credentialsStateOf(status.body), 'api-key');
  });

  it('a first session runs through the real claude and the gateway, and checks the session step off (not the model\'s: nobody chose one)', async function () {
    this.timeout(240_000);
    const { posts, text } = await suite.runAgentSession('say hi');
    assert.ok(posts.length > 0, 'the stand-in got no request');
    for (const p of posts) assert.equal(p.headers['x-api-key'], UPSTREAM_KEY, 'the gateway forwarded another key than the one set through the command');
    assert.match(text, /✓ done/, text);
    await openWalkthrough();
    await stepIs('firstSession', true, 60_000);
    // The project is stored now, with the gateway's default model: that is no choice of the person's.
    await stepIs('defaultModel', false);
    await suite.screenshot('2-after-session');
  });

  it('saving the project\'s model configuration (even with the default model kept) checks the model step off', async function () {
    this.timeout(120_000);
    await suite.product.runCommand('Conduit: Configure Project Model');
    await suite.product.page.locator('.tab', { hasText: 'Project Model Configuration' }).waitFor({ timeout: 30_000 });
    const view = editorWebview(suite.product.page);
    await view.locator('h1', { hasText: 'Project Model Configuration' }).waitFor({ timeout: 30_000 });
    await view.locator('[data-testid="save"]').click();
    await view.locator('[data-testid="status"]', { hasText: 'Configuration saved.' }).waitFor({ timeout: 30_000 });
    await openWalkthrough();
    await stepIs('defaultModel', true, 60_000);
  });

  it('opening the usage analytics checks the last step off', async function () {
    this.timeout(120_000);
    await openWalkthrough();
    await stepIs('analytics', false);
    await suite.product.runCommand('Conduit: Open Usage Analytics');
    await suite.product.page.locator('.tab', { hasText: 'Usage Analytics' }).first().waitFor({ timeout: 30_000 });
    // Back to the walkthrough's tab (the analytics webview has the keyboard: F1 would go to it).
    await suite.product.page.locator('.tab', { hasText: 'Walkthrough' }).first().click();
    await stepIs('analytics', true, 30_000);
    for (const id of ['findClaude', 'credentials', 'defaultModel', 'firstSession']) await stepIs(id, true);
    await suite.screenshot('3-walkthrough-done');
  });
});

// The same newcomer without any claude (nothing in the workspace either): one notification
// says so, a session says why in its terminal instead of failing with exit 127, and
// "Set Path..." writes the setting that makes the walkthrough's first step check itself off.
describe('A newcomer without claude (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1));
  const suite = useHostSuite({
    upstreamKey: UPSTREAM_KEY,
    screenshotPrefix: 'no-claude-',
    newcomer: true,
    claudeInWorkspace: false,
    product: { settings: { 'terminal.integrated.gpuAcceleration': 'off' } },
  });
  const NOT_FOUND = /claude was not found on PATH nor in/;

  /** The notifications (toasts and the ones in the center) that say claude was not found. */
  async function notFoundNotifications(): Promise<Locator> {
    await suite.product.runCommand('Notifications: Show Notifications');
    const items = suite.product.page.locator('.notifications-center .notification-list-item', { hasText: NOT_FOUND });
    await items.first().waitFor({ timeout: 30_000 });
    return items;
  }

  it('at startup one notification says claude was not found, names conduit.claude.path, and offers "Set Path..." and "How to Install"', async function () {
    this.timeout(120_000);
    await suite.product.activation();
    const toast = await suite.product.notification(NOT_FOUND, 60_000);
    assert.match(await toast.innerText(), /set the conduit\.claude\.path setting to it/);
    await toast.getByRole('button', { name: 'Set Path...' }).waitFor();
    await toast.getByRole('button', { name: 'How to Install' }).waitFor();
    await suite.screenshot('1-notification');
  });

  it('a session tried twice says why in its terminal without asking for a prompt, and adds no second notification', async function () {
    this.timeout(120_000);
    for (let attempt = 0; attempt < 2; attempt++) {
      await suite.product.runCommand('Conduit: Run Agent Session');
      await suite.product.waitForTerminalText(NOT_FOUND, 30_000);
    }
    assert.equal(await suite.product.page.locator('.quick-input-widget', { hasText: 'What should the agent do?' }).filter({ visible: true }).count(), 0, 'a prompt was asked for a session that cannot run');
    assert.equal(await (await notFoundNotifications()).count(), 1);
    // Nor a notification about credentials: without a claude the session never reaches a login.
    assert.equal(await suite.product.page.locator('.notifications-center .notification-list-item', { hasText: 'has no credentials for this session' }).count(), 0,
      'a credentials notification for a session that could not start claude');
    await suite.screenshot('2-terminal');
  });

  it('"Set Path..." writes the chosen claude to the user settings, and the walkthrough\'s first step checks itself off', async function () {
    this.timeout(120_000);
    const item = (await notFoundNotifications()).first();
    await item.getByRole('button', { name: 'Set Path...' }).click();
    // code-server's own file dialog, a quick input: go to claude's folder, pick the file.
    await suite.product.answerInput('The claude program', { value: `${path.dirname(CLAUDE)}/`, pick: path.basename(CLAUDE) });
    // In the notification center, which is open (or a toast, once it is closed).
    await suite.product.page.locator('.notification-list-item', { hasText: `Conduit runs claude from ${CLAUDE}` }).first().waitFor({ timeout: 30_000 });
    assert.ok(suite.product.extensionLog().includes(`claude: ${CLAUDE} (setting)`), suite.product.extensionLog());
    await suite.product.runCommand('Conduit: Get Started: First Agent Session');
    await suite.product.page.locator('button.getting-started-step[data-step-id$="#findClaude"][aria-checked="true"]').waitFor({ timeout: 30_000 });
    await suite.screenshot('3-found');
  });
});
