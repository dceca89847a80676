// The model configuration panel's "Active Routing Rules" preview in a real VS Code
// (code-server + Chromium) shows the rules the gateway routes with: its defaults with
// config.json's `routing` merged over them (GET /v1/conduit/rules), not the built-in defaults.
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { useHostSuite } from '../support/hostSuite';

/** config.json's routing overrides: a long-context model and threshold, and no background model. */
const ROUTING = { longContextModel: 'claude-opus-4-8', longContextThreshold: 123_456, backgroundModel: null };

describe('model configuration preview: the routing rules the gateway merged (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 1)); // a real browser driving a real VS Code: one more try before a UI hiccup fails the run
  const suite = useHostSuite({ upstreamKey: 'sk-test-host-rules', screenshotPrefix: 'rules-', config: { routing: ROUTING } });

  const panel = (): FrameLocator => suite.product.page
    .frameLocator('iframe.webview.ready:not([src*="purpose=webviewView"]) >> visible=true')
    .frameLocator('#active-frame');

  before(async function () {
    this.timeout(120_000);
    await suite.product.activation();
    await suite.product.waitForStatusBarItem('Conduit gateway', { ariaLabel: /^Conduit gateway running(, |$)/ }, 60_000);
  });

  it('shows config.json\'s long-context model and threshold, and no background rule', async function () {
    this.timeout(180_000);
    await suite.product.runCommand('Conduit: Configure Project Model');
    const view = panel();
    const preview = view.locator('[data-testid="previewList"]');
    await preview.locator('li').first().waitFor({ timeout: 60_000 });
    const lines = (await preview.locator('li').allInnerTexts()).map((l) => l.replace(/\s+/g, ' ').trim());
    const longContext = lines.find((l) => l.startsWith('Long context'));
    assert.ok(longContext, `a long-context line: ${JSON.stringify(lines)}`);
    assert.match(longContext, /^Long context \(>123\.5k tokens\)/, `config.json's threshold: ${longContext}`);
    assert.match(longContext, /claude-opus-4-8|Opus 4\.8/, `config.json's long-context model: ${longContext}`);
    assert.ok(!lines.some((l) => l.startsWith('Background tasks')), `config.json turns the background rule off: ${JSON.stringify(lines)}`);
    // What config.json leaves alone is the gateway's default.
    assert.ok(lines.some((l) => l.startsWith('Complex reasoning')), JSON.stringify(lines));
    await suite.screenshot('preview');
  });
});
