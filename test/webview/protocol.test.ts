// The pure parts: the page webviewHtml() builds, the message guards, and the model
// configuration draft (what a save sends). No browser.
import assert from 'node:assert/strict';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import {
  isAnalyticsHostMessage, isAnalyticsWebviewMessage, isHostToWebviewMessage, isMessageOfType, isModelConfigHostMessage, isModelConfigWebviewMessage,
  isSidebarHostMessage, isSidebarWebviewMessage, isWebviewToHostMessage,
} from '../../src/protocol/webviewMessages';
import { contentSecurityPolicy, webviewHtml } from '../../src/extension/views/webviewHtml';
import { INITIAL_STATE_ELEMENT_ID } from '../../src/protocol/webviewPage';
import { HOSTILE, INHERITED, analyticsData, projectInit, sidebarData, usageRecord } from './fixtures';

const NONCE = 'abcdefghijklmnopqrstuv12';
const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('webview: page and protocol', function () {
  describe('webviewHtml', () => {
    const nasty = { name: '</script><script>alert(1)</script>', line: 'a\u2028b\u2029c', amp: '&lt;', comment: '<!--' };
    const html = webviewHtml({
      scriptUri: 'https://x.vscode-cdn.net/dist/webview/analytics.js?a=1&b="2"',
      styleUri: 'https://x.vscode-cdn.net/dist/webview/analytics.css',
      nonce: NONCE,
      cspSource: CSP_SOURCE,
      title: `Usage ${HOSTILE}`,
      initialState: nasty,
    });

    it('sets the exact Content-Security-Policy with the nonce', () => {
      assert.equal(contentSecurityPolicy(CSP_SOURCE, NONCE),
        `default-src 'none'; style-src ${CSP_SOURCE} 'nonce-${NONCE}'; script-src 'nonce-${NONCE}'; font-src ${CSP_SOURCE}; img-src ${CSP_SOURCE} data:`);
      const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
      assert.ok(meta);
      assert.equal(meta[1].replace(/&#39;/g, "'"), contentSecurityPolicy(CSP_SOURCE, NONCE));
      assert.equal(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), true, 'the policy comes before any script');
    });

    it('loads the bundle as a module script and the stylesheet, both with the nonce; escapes attributes and title', () => {
      assert.match(html, new RegExp(`<script type="module" src="https://x\\.vscode-cdn\\.net/dist/webview/analytics\\.js\\?a=1&amp;b=&quot;2&quot;" nonce="${NONCE}"></script>`));
      assert.match(html, new RegExp(`<link rel="stylesheet" href="https://x\\.vscode-cdn\\.net/dist/webview/analytics\\.css" nonce="${NONCE}">`));
      assert.match(html, /<title>Usage &lt;img src=x onerror=alert\(1\)&gt;<\/title>/);
      assert.equal((html.match(/<script/g) ?? []).length, 2, 'the JSON state and the bundle, nothing else');
      assert.doesNotMatch(html, /style="/, 'no inline style attributes');
    });

    it('embeds the initial state as JSON that cannot end its element', () => {
      const match = new RegExp(`<script type="application/json" id="${INITIAL_STATE_ELEMENT_ID}" nonce="${NONCE}">([\\s\\S]*?)</script>`).exec(html);
      assert.ok(match);
      assert.doesNotMatch(match[1], /[<>&\u2028\u2029]/);
      assert.deepEqual(JSON.parse(match[1]), nasty);
      assert.match(webviewHtml({ scriptUri: 's.js', nonce: NONCE, cspSource: CSP_SOURCE, title: 't', initialState: undefined }), /">null<\/script>/);
    });

    it('refuses a nonce or csp source that could break out of the policy', () => {
      const base = { scriptUri: 's.js', nonce: NONCE, cspSource: CSP_SOURCE, title: 't', initialState: null };
      assert.throws(() => webviewHtml({ ...base, nonce: 'short' }), /nonce/);
      assert.throws(() => webviewHtml({ ...base, nonce: `${NONCE}' 'unsafe-inline` }), /nonce/);
      assert.throws(() => webviewHtml({ ...base, cspSource: `${CSP_SOURCE}; script-src *` }), /cspSource/);
      assert.throws(() => webviewHtml({ ...base, cspSource: `'unsafe-eval'` }), /cspSource/);
    });
  });

  describe('message guards', () => {
    it('accepts what the views send and refuses malformed or foreign messages', () => {
      const save = { type: 'save', id: 'r1', kind: 'project', projectKey: 'ws', config: { enabled: true, defaultModel: null, rules: { fallbackModels: ['a'] } } };
      assert.ok(isModelConfigWebviewMessage(save));
      assert.ok(isMessageOfType(save, 'save'));
      assert.ok(!isModelConfigWebviewMessage({ ...save, config: { enabled: true, rules: { longContextThreshold: 0.5 } } }), 'the gateway would refuse this config');
      assert.ok(!isModelConfigWebviewMessage({ ...save, config: { enabled: true, bogus: 1 } }));
      const agentSave = { type: 'save', id: 'r2', kind: 'agent', projectKey: 'ws', agentId: 'a1', config: { useProjectModel: false, customModelId: MODEL_CATEGORIES.fast } };
      assert.ok(isModelConfigWebviewMessage(agentSave));
      assert.ok(!isModelConfigWebviewMessage({ ...agentSave, config: { useProjectModel: false, customModelId: null } }));
      assert.ok(!isModelConfigWebviewMessage({ ...agentSave, config: { useProjectModel: true, customModelId: 'x' } }));
      assert.ok(!isModelConfigWebviewMessage({ type: 'openPanel', panel: 'analytics' }), 'another view\'s message');
      assert.ok(isSidebarWebviewMessage({ type: 'openPanel', panel: 'analytics' }));
      assert.ok(!isSidebarWebviewMessage({ type: 'openPanel', panel: 'settings' }));
      assert.ok(isSidebarWebviewMessage({ type: 'gatewayAction', action: 'showLogs' }));
      assert.ok(isWebviewToHostMessage({ type: 'requestAnalytics', id: 'x', range: 'month' }));
      assert.ok(!isWebviewToHostMessage({ type: 'requestAnalytics', id: 'x', range: 'year' }));
      assert.ok(!isWebviewToHostMessage({ type: 'openSession', sessionId: '' }));
      assert.ok(!isWebviewToHostMessage({ type: 'toString' }));
      assert.ok(!isWebviewToHostMessage(null));
      assert.ok(!isWebviewToHostMessage('ready'));
    });

    it('guards the Team view\'s messages: requestTeamAnalytics and signIn from the analytics view only, its answers to it only', () => {
      const request = { type: 'requestTeamAnalytics', id: 't1', range: 'day' };
      assert.ok(isAnalyticsWebviewMessage(request));
      assert.ok(isMessageOfType(request, 'requestTeamAnalytics'));
      assert.ok(!isAnalyticsWebviewMessage({ ...request, range: 'year' }));
      assert.ok(!isAnalyticsWebviewMessage({ ...request, id: '' }));
      assert.ok(!isAnalyticsWebviewMessage({ type: 'requestTeamAnalytics', range: 'week' }));
      assert.ok(isAnalyticsWebviewMessage({ type: 'signIn' }));
      assert.ok(!isAnalyticsWebviewMessage({ type: 'signIn', command: 'workbench.action.reloadWindow' }), 'signIn carries nothing to run');
      assert.ok(!isSidebarWebviewMessage({ type: 'signIn' }));
      assert.ok(!isModelConfigWebviewMessage(request));

      const member = { userId: 'u1', name: HOSTILE, email: 'a@b.test', role: 'member', isYou: true, requests: 3, tokens: 30, cost: 0.1, costUnknownRequests: 0 };
      const data = { range: 'week', projectName: 'p', role: 'member', ownerEmail: null, members: [member], totals: { requests: 3, tokens: 30, cost: 0.1, costUnknownRequests: 0 } };
      assert.ok(isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data }));
      assert.ok(isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, members: [{ ...member, role: null, name: null, email: null }] } }), 'a former member');
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, members: [{ ...member, role: 'admin' }] } }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, members: [{ ...member, cost: '0.1' }] } }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, members: [{ ...member, userId: '' }] } }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, range: 'year' } }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalytics', id: 't1', data: { ...data, totals: { requests: 3 } } }));
      assert.ok(isAnalyticsHostMessage({ type: 'teamAnalyticsError', id: 't1', problem: 'signedOut', message: 'sign in' }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalyticsError', id: 't1', problem: 'offline', message: 'x' }));
      assert.ok(!isAnalyticsHostMessage({ type: 'teamAnalyticsError', id: 't1', problem: 'failed' }));
      assert.ok(!isSidebarHostMessage({ type: 'teamAnalytics', id: 't1', data }));
      assert.ok(isHostToWebviewMessage({ type: 'teamAnalyticsError', id: 't1', problem: 'noProject', message: 'open a folder' }));
    });

    it('accepts what the host sends', () => {
      assert.ok(isModelConfigHostMessage({ type: 'init', ...projectInit() }));
      assert.ok(!isModelConfigHostMessage({ type: 'init', ...projectInit(), inheritedRules: { ...INHERITED, longContextThreshold: 'x' } }));
      assert.ok(isModelConfigHostMessage({ type: 'saveFailed', id: 'r1', message: 'no', field: null }));
      assert.ok(isAnalyticsHostMessage({ type: 'analytics', id: 'r1', data: analyticsData('day') }));
      assert.ok(!isAnalyticsHostMessage({ type: 'analytics', id: 'r1', data: { ...analyticsData('day'), recent: [{ requestId: 1 }] } }));
      assert.ok(isAnalyticsHostMessage({ type: 'usageEvent', record: usageRecord(), agentName: null }));
      assert.ok(isSidebarHostMessage({ type: 'usageEvent', record: usageRecord() }));
      assert.ok(isSidebarHostMessage({ type: 'sidebarData', data: sidebarData() }));
      assert.ok(!isAnalyticsHostMessage({ type: 'sidebarData', data: sidebarData() }));
      assert.ok(isHostToWebviewMessage({ type: 'refresh' }));
      assert.ok(!isHostToWebviewMessage({ type: 'health', health: { health: 'sleeping', port: null, version: null, message: null } }));
    });
  });

  describe('model configuration draft', () => {
    it('keeps what the form does not edit, maps gateway default/off, and drops the rules it inherits', async () => {
      const draft = await import('../../webview-ui/src/modelConfig/draft.js');
      const stored = { enabled: true, defaultModel: 'm', rules: { reasoningKeywords: ['deep'], backgroundModel: 'b', pluginsEnabled: true } };
      const d = draft.projectDraftFrom(stored);
      assert.equal(d.backgroundModel, 'b');
      assert.equal(d.longContextModel, draft.INHERIT);
      d.backgroundModel = draft.INHERIT;
      d.webSearchModel = draft.OFF;
      d.pluginsEnabled = null;
      assert.deepEqual(draft.projectConfigFrom(d, stored), { enabled: true, defaultModel: 'm', rules: { reasoningKeywords: ['deep'], webSearchModel: null } });
      d.webSearchModel = draft.INHERIT;
      assert.deepEqual(draft.projectConfigFrom({ ...d, defaultModel: '' }, { enabled: false }), { enabled: true, defaultModel: null });
      assert.deepEqual(draft.validateFallbacks(['a', ' a', '', 'b c']), {
        'fallback.1': '"a" is already fallback 1.', 'fallback.2': 'Enter a model id, or remove this entry.', 'fallback.3': 'A model id has no spaces.',
      });
      assert.equal(draft.validateThreshold('999'), 'The threshold must be at least 1,000 tokens.');
      assert.equal(draft.validateThreshold(' 1000 '), null);
      assert.equal(draft.validateThreshold('1e5'), 'Enter a whole number of tokens (at least 1,000).');
    });
  });
});
