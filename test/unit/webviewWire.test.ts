// The webview wire (src/protocol/webviewMessages.ts HOST_WIRE and webviewWire()): a view's
// requests and the host's answers travel as the views' own {type, id} messages on the typed
// channel, and the host checks what a view sends against the protocol's schemas before any
// handler runs (a webview is not trusted).
import assert from 'node:assert/strict';
import { ChannelClient, ChannelSupersededError, channelServer, type ChannelHandlers } from '../../src/protocol/channel';
import {
  HOST_WIRE, WEBVIEW_REQUEST_CHECKS, webviewWire,
  type AnalyticsRequests, type HostToWebviewMessage, type WebviewToHostMessage,
} from '../../src/protocol/webviewMessages';
import { analyticsData } from '../webview/fixtures';

/** A view's channel and the host's server, wired to each other; what each side sent is kept. */
function connect(handlers: ChannelHandlers<AnalyticsRequests>, pageId = 'pg1') {
  const toHost: WebviewToHostMessage[] = [];
  const toView: HostToWebviewMessage[] = [];
  const serve = channelServer<AnalyticsRequests, HostToWebviewMessage>({
    send: (m) => { toView.push(m); view.receive(m); },
    wire: HOST_WIRE,
    handlers,
    validate: WEBVIEW_REQUEST_CHECKS,
  });
  const view = new ChannelClient<AnalyticsRequests, WebviewToHostMessage>({
    send: (m) => { toHost.push(m); serve(m); },
    wire: webviewWire(pageId),
    supersede: ['requestAnalytics'],
  });
  return { view, serve, toHost, toView };
}

const answering: ChannelHandlers<AnalyticsRequests> = {
  requestAnalytics: async ({ range }) => ({ type: 'analytics', data: analyticsData(range) }),
  requestSessions: async ({ sort, offset }) => ({ type: 'sessionsPage', page: { sort, offset, total: 0, sessions: [] } }),
  requestTeamAnalytics: async () => ({ type: 'teamAnalyticsError', problem: 'signedOut', message: 'sign in' }),
};

describe('webview wire: the typed channel in the views\' own messages', () => {
  it('a request is {type, id, ...params} with an id of the page; its answer comes back with the same id', async () => {
    const { view, toHost, toView } = connect(answering);
    const answer = await view.request('requestSessions', { range: 'this-week', sort: 'cost', offset: 25 });
    assert.deepEqual(toHost, [{ type: 'requestSessions', id: 'pg1-1', range: 'this-week', sort: 'cost', offset: 25 }]);
    assert.deepEqual(toView, [{ type: 'sessionsPage', id: 'pg1-1', page: { sort: 'cost', offset: 25, total: 0, sessions: [] } }]);
    assert.equal(answer.type, 'sessionsPage');
  });

  it('the host answers a malformed request with requestFailed and never calls its handler', async () => {
    let called = 0;
    const { view, toView } = connect({ ...answering, requestAnalytics: async () => { called++; return { type: 'analytics', data: analyticsData('today') }; } });
    const bad: unknown[] = [
      { range: 'year' },
      { range: 'custom', from: '2026-12-03', to: '2026-12-01' }, // ends before it starts
      { range: 'today', from: '2026-12-01', to: '2026-12-03' }, // days only for a custom range
    ];
    for (const params of bad) {
      await assert.rejects(view.request('requestAnalytics', params as AnalyticsRequests['requestAnalytics']['params']), /the parameters of requestAnalytics are malformed/);
    }
    assert.equal(called, 0);
    assert.deepEqual(toView.map((m) => m.type), ['requestFailed', 'requestFailed', 'requestFailed']);
  });

  it('a request of another view, or of no view, is refused by name; messages that are not requests are left to the caller', () => {
    const { serve, toView } = connect(answering);
    assert.equal(serve({ type: 'save', id: 'pg1-9', kind: 'project', projectKey: 'p', config: { enabled: true } }), true);
    assert.equal(serve({ type: 'requestSidebarData', id: 'pg1-10' }), true);
    assert.equal(serve({ type: 'ready', view: 'analytics' }), false);
    assert.equal(serve({ type: 'requestAnalytics', range: 'today' }), false, 'without an id it is no request');
    assert.equal(serve({ type: 'toString', id: 'x' }), false);
    assert.deepEqual(toView.map((m) => [m.type, (m as { message?: string }).message]), [
      ['requestFailed', 'no such request: save'],
      ['requestFailed', 'no such request: requestSidebarData'],
    ]);
  });

  it('an answer meant for another page (before a reload) or for a superseded request settles nothing', async () => {
    const { view } = connect({ ...answering, requestAnalytics: () => new Promise(() => {}) }, 'pg2');
    const older = view.request('requestAnalytics', { range: 'this-week' });
    const newer = view.request('requestAnalytics', { range: 'this-month' });
    await assert.rejects(older, ChannelSupersededError);
    assert.equal(view.receive({ type: 'analytics', id: 'pg2-1', data: analyticsData('this-week') }), true, 'the superseded answer is consumed');
    assert.equal(view.receive({ type: 'analytics', id: 'pg1-2', data: analyticsData('this-week') }), true, 'another page\'s answer too');
    assert.equal(view.waitingFor('requestAnalytics'), true, 'and the newest request still waits');
    assert.equal(view.receive({ type: 'refresh' }), false, 'a message without an id is the caller\'s');
    view.receive({ type: 'analytics', id: 'pg2-2', data: analyticsData('this-month') });
    const answer = await newer;
    assert.equal(answer.type === 'analytics' && answer.data.range, 'this-month');
  });
});
