// What a person must fix, shown where they look, in a real VS Code (code-server 4.100.3 +
// Chromium) with a newcomer's profile: no provider key anywhere, claude only in the
// workspace's node_modules/.bin and not logged in (a fresh HOME).
// - No credentials: the status bar item is a warning whose label says why; the first agent
//   session gets one notification with "Set Provider API Key" and "Use my Claude
//   subscription (claude /login)", and setting the key through it clears the warning.
// - A bad config.json: the gateway's reason in a notification with "Open config.json", which
//   opens it; refused at start, the gateway is not retried but starts again once the file
//   is fixed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { useHostSuite } from '../support/hostSuite';

const UPSTREAM_KEY = 'sk-test-host-credentials';
const GATEWAY = 'Conduit gateway';

describe('Credentials and config.json problems in VS Code (code-server + Chromium)', function () {
  this.retries(Number(process.env.CONDUIT_HOST_RETRIES ?? 0));
  const suite = useHostSuite({ upstreamKey: UPSTREAM_KEY, screenshotPrefix: 'problems-', newcomer: true });

  const writeConfig = (config: unknown) => writeFileSync(path.join(suite.conduitHome, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));

  it('with no key the status bar is a warning that says there are no credentials', async function () {
    this.timeout(120_000);
    await suite.product.activation();
    const item = await suite.product.waitForStatusBarItem(GATEWAY, { ariaLabel: /^Conduit gateway running, no credentials: .*Set Provider API Key.*claude \/login/ }, 60_000);
    assert.match(item.text ?? '', /\$\(warning\)|warning/);
    await suite.screenshot('1-no-credentials');
  });

  it('the first session without credentials gets one notification with both ways; the key set through it clears the warning', async function () {
    this.timeout(180_000);
    const { product } = suite;
    await product.runCommand('Conduit: Run Agent Session');
    await product.answerInput('What should the agent do?', { value: 'say hi' });
    const toast = await product.notification(/has no credentials for this session/, 60_000);
    await toast.getByRole('button', { name: 'Set Provider API Key' }).waitFor();
    await toast.getByRole('button', { name: 'Use my Claude subscription (claude /login)' }).waitFor();
    // claude's own words in the session's terminal: it never reached the gateway.
    await product.waitForTerminalText(/Not logged in/, 60_000);
    await suite.screenshot('2-first-session-notification');

    await toast.getByRole('button', { name: 'Set Provider API Key' }).click();
    await product.answerInput('Anthropic API key for the gateway', { value: UPSTREAM_KEY });
    const restart = await product.notification(/API key saved/);
    await restart.getByRole('button', { name: 'Restart' }).click();
    const item = await product.waitForStatusBarItem(GATEWAY, { ariaLabel: /^Conduit gateway running(?!.*credentials)/ }, 60_000);
    assert.doesNotMatch(item.ariaLabel ?? '', /credentials/);
    const status = await suite.api<{ credentials: { state: string } }>('GET', '/v1/conduit/status');
    assert.equal(status.body.credentials.state, 'api-key');
  });

  it('a change of config.json the gateway refuses: its reason in a notification that opens the file; the last good one stays', async function () {
    this.timeout(120_000);
    const { product } = suite;
    await product.clearNotifications().catch(() => {});
    writeConfig({ port: 0, routing: { defaultModel: 'nosuchprovider/claude-x' } });
    const toast = await product.notification(/did not apply config\.json .*unknown provider "nosuchprovider"/, 60_000);
    await product.waitForStatusBarItem(GATEWAY, { ariaLabel: /config\.json not applied/ });
    await suite.screenshot('3-config-refused');
    await toast.getByRole('button', { name: 'Open config.json' }).click();
    await product.page.locator('.tabs-container .tab.active', { hasText: 'config.json' }).waitFor({ timeout: 30_000 });
    const status = await suite.api<{ config: { state: string; error: string } }>('GET', '/v1/conduit/status');
    assert.equal(status.body.config.state, 'refused');
  });

  it('config.json refused at start: the reason in a notification, no retries, and a start of its own once the file is fixed', async function () {
    this.timeout(180_000);
    const { product } = suite;
    await product.clearNotifications().catch(() => {});
    writeConfig('{ "port": 0, "routing": { "longContextThreshold": -10 } }');
    await product.runCommand('Conduit: Restart Gateway');
    const toast = await product.notification(/gateway did not start: .*config\.routing\.longContextThreshold.*It starts again when config\.json changes/, 60_000);
    await toast.getByRole('button', { name: 'Open config.json' }).waitFor();
    await product.waitForStatusBarItem(GATEWAY, { ariaLabel: /^Conduit gateway error/ });
    await suite.screenshot('4-config-refused-at-start');

    writeConfig({ port: 0 });
    await product.waitForStatusBarItem(GATEWAY, { ariaLabel: /^Conduit gateway running/ }, 60_000);
    assert.doesNotMatch(product.extensionLog(), /restarting the gateway in/, 'a configuration error is not retried on a timer');
    assert.match(product.extensionLog(), /config\.json changed: starting the gateway again/);
  });
});
