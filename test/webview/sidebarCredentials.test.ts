// The sidebar (dist/webview/sidebar.js, headless Chromium) says what the status bar says of a
// gateway that runs without credentials: a warning naming the fix, with the two fixes as buttons.
import assert from 'node:assert/strict';
import { isSidebarWebviewMessage, type GatewayHealthView } from '../../src/protocol/webviewMessages';
import type { GatewayState } from '../../src/extension/gateway/supervisor';
import { gatewayWarning } from '../../src/extension/ui/gatewayWarning';
import { healthViewOf } from '../../src/extension/views/sidebarData';
import type { WebviewPage } from '../support/webviewPage';
import { sidebarData } from './fixtures';
import { byTestId, textOf, waitForText, useWebviewHarness } from './helpers';

/** A running gateway as the supervisor's health check leaves it, with the credentials given. */
function running(credentials: GatewayState['credentials']): GatewayState {
  return { health: 'running', port: 3460, pid: 4242, version: '0.1.0', owned: true, message: null, journal: null, credentials, configProblem: null };
}

describe('webview: sidebar, a gateway without credentials', function () {
  const pages = useWebviewHarness();

  async function open(health: GatewayHealthView): Promise<WebviewPage> {
    return pages.open('sidebar', {
      respond: async (message, page) => {
        if (message.type === 'requestSidebarData') await page.post({ type: 'sidebarData', id: message.id, data: { ...sidebarData(), health } });
      },
    });
  }

  it('the host passes the status bar\'s own warning, and whether credentials are what is missing', () => {
    const none = running({ state: 'none' });
    const view = healthViewOf(none);
    assert.equal(view.warning, gatewayWarning(none), 'the same words as the status bar');
    assert.match(view.warning ?? '', /^no credentials: .*Set Provider API Key.*Claude subscription/);
    assert.equal(view.needsCredentials, true);
    assert.deepEqual(healthViewOf(running({ state: 'api-key' })), { health: 'running', port: 3460, version: '0.1.0', message: null, warning: null, needsCredentials: false });
    const stopped = healthViewOf({ ...none, health: 'stopped', message: 'stopped' });
    assert.equal(stopped.warning, null, 'a stopped gateway warns of nothing more than being stopped');
    assert.equal(stopped.needsCredentials, false);
  });

  it('shows a warning instead of a green "running", names the fix, and posts the two fixes from its buttons', async () => {
    const v = await open(healthViewOf(running({ state: 'none' })));
    await waitForText(v, 'health', 'Gateway running without credentials (port 3460 · v0.1.0)');
    assert.match(await textOf(v, 'healthWarning'), /^⚠ no credentials: the gateway has no provider API key .*"Conduit: Set Provider API Key".*Claude subscription/);
    assert.equal(await v.page.locator('.dot').getAttribute('class'), 'dot warning');
    assert.equal(await byTestId(v, 'credentialFixes').isVisible(), true);
    await byTestId(v, 'setApiKey').click();
    await byTestId(v, 'claudeLogin').click();
    await v.waitForPosted((m) => m.type === 'gatewayAction' && m.action === 'claudeLogin');
    const sent = v.posted.filter((m) => m.type === 'gatewayAction');
    assert.deepEqual(sent, [{ type: 'gatewayAction', action: 'setApiKey' }, { type: 'gatewayAction', action: 'claudeLogin' }]);
    assert.ok(sent.every(isSidebarWebviewMessage), 'the host accepts them');
  });

  it('goes back to a plain "running" once a key is set, and shows another warning without the credential buttons', async () => {
    const v = await open(healthViewOf(running({ state: 'none' })));
    await waitForText(v, 'health', /^Gateway running without credentials/);
    await v.post({ type: 'health', health: healthViewOf(running({ state: 'api-key' })) });
    await waitForText(v, 'health', 'Gateway running (port 3460 · v0.1.0)');
    assert.equal(await byTestId(v, 'healthWarning').isVisible(), false);
    assert.equal(await byTestId(v, 'credentialFixes').isVisible(), false);
    assert.equal(await v.page.locator('.dot').getAttribute('class'), 'dot running');
    const reload = { ...running({ state: 'api-key' }), configProblem: { kind: 'reload' as const, reason: 'routing.threshold: expected a number' } };
    await v.post({ type: 'health', health: healthViewOf(reload) });
    await waitForText(v, 'health', /^Gateway running with a problem/);
    assert.match(await textOf(v, 'healthWarning'), /config\.json not applied .*routing\.threshold: expected a number/);
    assert.equal(await byTestId(v, 'credentialFixes').isVisible(), false);
  });
});
