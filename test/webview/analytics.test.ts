// The usage analytics webview (dist/webview/analytics.js) in headless Chromium.
import assert from 'node:assert/strict';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { AnalyticsData, AnalyticsRange } from '../../src/protocol/webviewMessages';
import { isAnalyticsWebviewMessage } from '../../src/protocol/webviewMessages';
import { THEMES, type OpenOptions, type ThemeName, type WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, analyticsData, emptyAnalytics, usageRecord } from './fixtures';
import { byTestId, chooseOption, injectedElements, textOf, waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';
import { walkWithTab } from './keyboard';

type Request = { type: 'requestAnalytics'; id: string; range: AnalyticsRange };

describe('webview: usage analytics', function () {
  const pages = useWebviewHarness();
  let view: WebviewPage | undefined;

  /** Opens the panel; when `answer` is given the stand-in host answers every requestAnalytics with it. */
  async function open(answer?: (range: AnalyticsRange) => AnalyticsData, options: OpenOptions = {}): Promise<WebviewPage> {
    view = await pages.open('analytics', {
      ...options,
      respond: answer && (async (message, page) => {
        if (message.type === 'requestAnalytics') await page.post({ type: 'analytics', id: message.id, data: answer(message.range as AnalyticsRange) });
      }),
    });
    return view;
  }

  async function showTab(v: WebviewPage, index: number): Promise<void> {
    await byTestId(v, `tab-${index}`).click();
    await v.page.waitForFunction((i) => (document.querySelector('[data-testid="tabs"]') as HTMLElement & { selectedIndex: number }).selectedIndex === i, index);
  }

  it('shows "Loading usage data..." until the host answers, then the summary cards', async () => {
    const v = await open();
    const request = await v.waitForPosted<Request>('requestAnalytics');
    assert.ok(isAnalyticsWebviewMessage(request));
    assert.equal(request.range, 'week');
    assert.deepEqual(v.posted[0], { type: 'ready', view: 'analytics' });
    await waitForText(v, 'state', 'Loading usage data...');
    assert.equal(await byTestId(v, 'content').isVisible(), false);

    await v.post({ type: 'analytics', id: request.id, data: analyticsData('week') });
    await waitForText(v, 'totalCost-value', '$1.2346');
    assert.equal(await textOf(v, 'totalCost-sub'), 'This week');
    assert.equal(await textOf(v, 'totalCost-extra'), '2 requests without a known price');
    assert.equal(await textOf(v, 'totalTokens-value'), '123,456');
    assert.equal(await textOf(v, 'totalTokens-sub'), '42 requests');
    assert.equal(await textOf(v, 'avgCost-value'), '$0.0308');
    assert.equal(await textOf(v, 'savings-value'), '$1.2654');
    assert.equal(await textOf(v, 'savings-sub'), `vs everything on ${MODEL_CATEGORIES.balanced}: $2.5000`);
    assert.equal(await textOf(v, 'cache-value'), '62.0%');
    assert.equal(await textOf(v, 'cache-extra'), '$0.4321 saved by caching');
    assert.equal(await textOf(v, 'scope'), 'synapse-app');
    assert.equal(await textOf(v, 'state'), '');
    const tabs = await v.page.locator('vscode-tab-header').allTextContents();
    assert.deepEqual(tabs.map((t) => t.trim()), ['Model Usage', 'Cost Trends', 'Routing Sources', 'Recent Activity', 'Agents', 'Sessions']);
  });

  it('draws every chart from the data: requests and tokens per model, cost by model, cost over time, routing sources', async () => {
    const data = analyticsData('week');
    const v = await open(() => data);
    await waitForText(v, 'totalCost-value', '$1.2346');
    await waitForPaintedCanvas(v, 'canvas[data-chart="modelUsage"]');
    await waitForPaintedCanvas(v, 'canvas[data-chart="costByModel"]');
    const charts = await v.charts();
    assert.equal(charts.modelUsage.type, 'bar');
    assert.deepEqual(charts.modelUsage.labels, data.models.map((m) => m.model));
    assert.deepEqual(charts.modelUsage.datasets.map((d) => [d.label, d.data]), [
      ['Requests', data.models.map((m) => m.requests)],
      ['Tokens', data.models.map((m) => m.tokens)],
    ]);
    assert.equal(charts.costByModel.type, 'doughnut');
    assert.deepEqual(charts.costByModel.labels, [MODEL_CATEGORIES.balanced, MODEL_CATEGORIES.powerful, MODEL_CATEGORIES.fast]);
    assert.deepEqual(charts.costByModel.datasets[0].data, [0.9, 0.3, 0.03456]);
    assert.equal(charts.costOverTime.type, 'line');
    assert.deepEqual(charts.costOverTime.datasets[0].data, data.timeseries.map((p) => p.cost));
    assert.equal(charts.costOverTime.labels.length, 7);
    assert.equal(charts.sources.type, 'pie');
    assert.deepEqual(charts.sources.labels, ['Default model', 'Background task', 'Long context', 'Complex reasoning']);
    assert.deepEqual(charts.sources.datasets[0].data, [20, 12, 6, 4]);
    // Colours come from the theme's --vscode-charts-* variables.
    assert.equal(charts.modelUsage.datasets[0].backgroundColor, THEMES.dark.vars['--vscode-charts-blue']);

    await showTab(v, 1);
    assert.equal(await v.page.getByText('Cost Over Time').isVisible(), true);
    await waitForPaintedCanvas(v, 'canvas[data-chart="costOverTime"]');
    await showTab(v, 2);
    assert.equal(await v.page.getByText('Routing Decision Sources').isVisible(), true);
    await waitForPaintedCanvas(v, 'canvas[data-chart="sources"]');
    const ink = await v.canvasInk('canvas[data-chart="sources"]');
    assert.ok(ink.width > 100 && ink.height > 100 && ink.painted > 500, JSON.stringify(ink));
    assert.match((await byTestId(v, 'content').locator('canvas[data-chart="sources"]').getAttribute('aria-label'))!, /^Routing decision sources: Default model 20 requests/);

    // VS Code switches theme: the charts take the new colours without a reload.
    await v.setTheme('light');
    await v.page.waitForFunction((blue) => {
      const charts = (window as unknown as { __conduitCharts: () => Record<string, { datasets: { backgroundColor: unknown }[] }> }).__conduitCharts();
      return charts.modelUsage.datasets[0].backgroundColor === blue;
    }, THEMES.light.vars['--vscode-charts-blue']);
  });

  it('lists the 10 latest requests with agent, model, tokens, cost and relative time; a click opens the session', async () => {
    const v = await open(() => analyticsData('week'));
    await waitForText(v, 'totalCost-value', '$1.2346');
    await showTab(v, 3);
    const rows = byTestId(v, 'recent').locator('li');
    assert.equal(await rows.count(), 10);
    const first = rows.first();
    const field = (row: typeof first, name: string) => row.locator(`[data-field="${name}"]`).textContent();
    assert.equal(await field(first, 'agent'), 'Reviewer');
    assert.equal(await field(first, 'model'), MODEL_CATEGORIES.balanced);
    assert.equal(await field(first, 'tokens'), '1,200 tokens');
    assert.equal(await field(first, 'cost'), '$0.0123');
    assert.equal(await field(first, 'time'), '3 minutes ago');
    assert.equal(await field(rows.nth(5), 'cost'), '—', 'an unknown cost is not $0');
    assert.equal(await field(rows.nth(2), 'time'), '17 minutes ago');
    assert.equal(await rows.nth(3).locator('button').count(), 0, 'a request without a session is not a link');

    await rows.nth(1).locator('button').click();
    assert.deepEqual(await v.waitForPosted('openSession'), { type: 'openSession', sessionId: 'sess-1' });
    await showTab(v, 5);
    const from = v.posted.length;
    await byTestId(v, 'sessions').locator('button[data-session="sess-2"]').click();
    assert.deepEqual(await v.waitForPosted('openSession', { from }), { type: 'openSession', sessionId: 'sess-2' });
    const sessionRow = await byTestId(v, 'sessions').locator('tr').first().locator('td').allTextContents();
    assert.deepEqual(sessionRow, ['sess-0', 'Reviewer', 'claude-opus-5-5 → claude-sonnet-5-5 +1', '20', '60,000', '$0.6000', '3 minutes ago']);
    await showTab(v, 4);
    const agentRows = await byTestId(v, 'agents').locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.deepEqual(agentRows, [['Reviewer', '30', '100,000', '$1.0000'], ['Planner', '10', '20,000', '$0.2000'], ['No agent', '2', '3,456', '$0.0346']]);
  });

  it('asks again for a new range, ignores the answer for the old one, and shows the empty state', async () => {
    const v = await open();
    const week = await v.waitForPosted<Request>('requestAnalytics');
    await v.post({ type: 'analytics', id: week.id, data: analyticsData('week') });
    await waitForText(v, 'totalCost-sub', 'This week');
    // Refresh (the button, or the host's refresh message) asks again for the same range and keeps the figures on screen.
    await byTestId(v, 'refresh').click();
    const refreshed = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.id !== week.id);
    assert.equal(refreshed.range, 'week');
    assert.equal(await byTestId(v, 'content').isVisible(), true);
    await v.post({ type: 'refresh' });
    const pushed = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.id !== week.id && m.id !== refreshed.id);
    assert.equal(pushed.range, 'week');
    await v.post({ type: 'analytics', id: refreshed.id, data: { ...analyticsData('week'), summary: { ...analyticsData('week').summary, cost: 5 } } });
    await v.post({ type: 'analytics', id: pushed.id, data: { ...analyticsData('week'), summary: { ...analyticsData('week').summary, cost: 6 } } });
    await waitForText(v, 'totalCost-value', '$6.0000');

    await chooseOption(v, 'range', 'Last 30 days');
    const month = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'month');
    await waitForText(v, 'state', 'Loading usage data...');
    await v.post({ type: 'analytics', id: week.id, data: analyticsData('week') }); // late answer to the old request
    await chooseOption(v, 'range', 'Today');
    const day = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'day');
    await v.post({ type: 'analytics', id: month.id, data: analyticsData('month') });
    await v.post({ type: 'analytics', id: day.id, data: emptyAnalytics('day') });
    await waitForText(v, 'state', 'No usage data available');
    assert.equal(await byTestId(v, 'content').isVisible(), false);

    // A request arrives: the panel leaves the empty state at once, listing it, without
    // fetching; its figures come with the store's next answer, asked for on 'refresh'.
    const before = v.messagesOfType('requestAnalytics').length;
    await v.post({ type: 'usageEvent', record: usageRecord({ cost: 0.25, input: 2000, output: 1000 }), agentName: 'Planner' });
    await byTestId(v, 'recent').locator('[data-field="agent"]', { hasText: 'Planner' }).waitFor({ state: 'attached' });
    await byTestId(v, 'content').waitFor({ state: 'visible' });
    assert.equal(v.messagesOfType('requestAnalytics').length, before);
    const from = v.posted.length;
    await v.post({ type: 'refresh' });
    const again = await v.waitForPosted<Request>('requestAnalytics', { from });
    assert.equal(again.range, 'day');
  });

  it('shows an error with a Retry button that asks again', async () => {
    const v = await open();
    const first = await v.waitForPosted<Request>('requestAnalytics');
    await v.post({ type: 'analyticsError', id: first.id, message: 'the usage store is opening' });
    await waitForText(v, 'errorMessage', 'the usage store is opening');
    assert.match(await textOf(v, 'error'), /^Could not load usage data: the usage store is opening/);
    const from = v.posted.length;
    await byTestId(v, 'retry').click();
    const again = await v.waitForPosted<Request>('requestAnalytics', { from });
    assert.notEqual(again.id, first.id);
    await waitForText(v, 'state', 'Loading usage data...');
    await v.post({ type: 'analytics', id: again.id, data: analyticsData('week') });
    await waitForText(v, 'totalCost-value', '$1.2346');
  });

  it('a live usage event joins the recent activity at once; the figures stay the store\'s until it answers again after a refresh', async () => {
    let data = analyticsData('week');
    const v = await open(() => structuredClone(data));
    await waitForText(v, 'totalCost-value', '$1.2346');
    await showTab(v, 3);
    const requests = v.messagesOfType('requestAnalytics').length;
    const chartsBefore = await v.charts();
    const record = usageRecord({ cost: 0.5, input: 3000, output: 1000, model: MODEL_CATEGORIES.powerful, sessionId: 'sess-new', source: 'reasoning' });
    await v.post({ type: 'usageEvent', record, agentName: 'Architect' });
    const first = byTestId(v, 'recent').locator('li').first();
    await first.locator('[data-field="agent"]', { hasText: 'Architect' }).waitFor();
    assert.equal(await first.locator('[data-field="time"]').textContent(), 'less than a minute ago');
    assert.equal(await byTestId(v, 'recent').locator('li').count(), 10);
    // No second counter: the cards and charts are still the store's answer.
    assert.equal(await textOf(v, 'totalCost-value'), '$1.2346');
    assert.equal(await textOf(v, 'totalTokens-sub'), '42 requests');
    assert.deepEqual((await v.charts()).modelUsage.datasets[0].data, chartsBefore.modelUsage.datasets[0].data);
    assert.deepEqual((await v.charts()).costOverTime.datasets[0].data, chartsBefore.costOverTime.datasets[0].data);
    assert.equal(v.messagesOfType('requestAnalytics').length, requests, 'a usage event fetches nothing');

    // The same request again (the event stream replays after a reconnect) is listed once.
    await v.post({ type: 'usageEvent', record, agentName: 'Architect' });
    await v.post({ type: 'usageEvent', record: usageRecord({ cost: null }), agentName: HOSTILE });
    await byTestId(v, 'recent').locator('li').first().locator('[data-field="agent"]', { hasText: HOSTILE }).waitFor();
    assert.equal(await byTestId(v, 'recent').locator('li', { hasText: 'Architect' }).count(), 1);

    // The store ingested them: the host says refresh, the panel asks again and shows its answer.
    data = structuredClone(data);
    data.summary.cost = 1.73456;
    data.summary.requests = 44;
    await v.post({ type: 'refresh' });
    await waitForText(v, 'totalCost-value', '$1.7346');
    assert.equal(await textOf(v, 'totalTokens-sub'), '44 requests');
    assert.equal(v.messagesOfType('requestAnalytics').length, requests + 1);
  });

  it("Sessions: a session is listed by claude's session id, the one its terminal showed, with the model asked for → the one routed to", async () => {
    const claudeSession = 'c120386e-56b1-4b31-b81e-93ceaad00c01';
    const v = await open(() => {
      const d = analyticsData('week');
      d.sessions[1] = { ...d.sessions[1], sessionId: claudeSession, models: [{ requestedModel: 'claude-opus-5-5', model: 'claude-sonnet-5-5', requests: 12 }] };
      d.sessions[2].models = [{ requestedModel: 'claude-sonnet-5-5', model: 'claude-sonnet-5-5', requests: 10 }];
      return d;
    });
    await waitForText(v, 'totalCost-value', '$1.2346');
    await showTab(v, 5);
    const sessions = byTestId(v, 'sessions');
    const link = sessions.locator(`button[data-session="${claudeSession}"]`);
    assert.equal(await link.getAttribute('title'), `Open session ${claudeSession}`, 'the whole id, to compare with the terminal\'s');
    assert.ok(claudeSession.startsWith((await link.textContent())!.replace('…', '')), 'the id shown is the start of claude\'s');
    const model = (row: number) => sessions.locator('tr').nth(row).locator('[data-field="model"]');
    assert.equal(await model(1).textContent(), 'claude-opus-5-5 → claude-sonnet-5-5');
    assert.equal(await model(2).textContent(), 'claude-sonnet-5-5', 'the model once when routing kept it');
    assert.equal(await model(0).getAttribute('title'), 'claude-opus-5-5 → claude-sonnet-5-5: 14 requests\nclaude-haiku-4-5: 6 requests');
    await link.click();
    assert.deepEqual(await v.waitForPosted('openSession'), { type: 'openSession', sessionId: claudeSession });
  });

  it('Sessions: a model name carrying HTML or script is shown as text; a session without models shows a dash', async () => {
    const v = await open(() => {
      const d = analyticsData('week');
      d.sessions[0].models = [{ requestedModel: HOSTILE_SCRIPT, model: HOSTILE, requests: 1 }];
      delete d.sessions[1].models;
      return d;
    });
    await waitForText(v, 'totalCost-value', '$1.2346');
    await showTab(v, 5);
    const model = (row: number) => byTestId(v, 'sessions').locator('tr').nth(row).locator('[data-field="model"]');
    assert.equal(await model(0).textContent(), `${HOSTILE_SCRIPT} → ${HOSTILE}`);
    assert.equal(await model(1).textContent(), '—');
  });

  it('stays responsive through a month of data and a burst of 500 live events (recent list capped, figures unchanged)', async () => {
    const v = await open(() => analyticsData('month'));
    await waitForText(v, 'totalCost-sub', 'This month');
    await showTab(v, 3);
    const started = Date.now();
    await v.page.evaluate((records) => {
      for (const record of records) window.dispatchEvent(new MessageEvent('message', { data: { type: 'usageEvent', record, agentName: 'Burst' } }));
    }, Array.from({ length: 500 }, (_, i) => usageRecord({ cost: 0.001, input: 100, output: 0, sessionId: `burst-${i % 60}` })));
    await byTestId(v, 'recent').locator('li').first().locator('[data-field="agent"]', { hasText: 'Burst' }).waitFor();
    assert.equal(await textOf(v, 'totalTokens-sub'), '42 requests', 'the figures are the store\'s');
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `500 events took ${elapsed} ms`);
    assert.equal(await byTestId(v, 'recent').locator('li').count(), 10);
    const saved = await v.page.evaluate(() => JSON.parse(sessionStorage.getItem('__conduitWebviewState') ?? 'null') as { data: AnalyticsData });
    assert.equal(saved.data.recent.length, 50, 'the kept list is capped too');
    assert.ok(saved.data.sessions.length <= 50);
    assert.equal(saved.data.timeseries.length, 30);
  });

  it('renders names carrying HTML or script as text', async () => {
    const v = await open(() => {
      const d = analyticsData('week', { agent: HOSTILE, model: HOSTILE_SCRIPT });
      d.scopeLabel = HOSTILE;
      d.sessions[0].agentNames = [HOSTILE_SCRIPT];
      if (d.savings) d.savings.defaultModel = HOSTILE;
      return d;
    });
    await waitForText(v, 'scope', HOSTILE);
    assert.equal(await textOf(v, 'savings-sub'), `vs everything on ${HOSTILE}: $2.5000`);
    await showTab(v, 3);
    assert.equal(await byTestId(v, 'recent').locator('[data-field="agent"]').first().textContent(), HOSTILE);
    assert.equal(await byTestId(v, 'recent').locator('[data-field="model"]').first().textContent(), HOSTILE_SCRIPT);
    await showTab(v, 4);
    assert.equal(await byTestId(v, 'agents').locator('td').first().textContent(), HOSTILE);
    await showTab(v, 5);
    assert.equal(await byTestId(v, 'sessions').locator('td').nth(1).textContent(), HOSTILE_SCRIPT);
    await showTab(v, 3);
    await v.post({ type: 'usageEvent', record: usageRecord({ model: `${HOSTILE}-live` }), agentName: HOSTILE_SCRIPT });
    await byTestId(v, 'recent').locator('[data-field="model"]', { hasText: `${HOSTILE}-live` }).waitFor();
    assert.equal(await byTestId(v, 'recent').locator('[data-field="agent"]').first().textContent(), HOSTILE_SCRIPT);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
  });

  it('keeps range, tab and last data through a reload, painting before the new answer', async () => {
    const v = await open();
    const first = await v.waitForPosted<Request>('requestAnalytics');
    await v.post({ type: 'analytics', id: first.id, data: analyticsData('week') });
    await waitForText(v, 'totalCost-sub', 'This week');
    await chooseOption(v, 'range', 'Last 30 days');
    const month = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'month');
    await v.post({ type: 'analytics', id: month.id, data: analyticsData('month') });
    await waitForText(v, 'totalCost-sub', 'This month');
    await showTab(v, 1);

    const from = v.posted.length;
    await v.reload();
    await waitForText(v, 'totalCost-sub', 'This month'); // from the saved state, before any answer
    const again = await v.waitForPosted<Request>('requestAnalytics', { from });
    assert.equal(again.range, 'month');
    assert.equal(await byTestId(v, 'range').evaluate((el) => (el as HTMLElement & { value: string }).value), 'month');
    assert.equal(await byTestId(v, 'tabs').evaluate((el) => (el as HTMLElement & { selectedIndex: number }).selectedIndex), 1);
    assert.equal(await v.page.getByText('Cost Over Time').isVisible(), true);
    await v.post({ type: 'analytics', id: again.id, data: { ...analyticsData('month'), summary: { ...analyticsData('month').summary, cost: 9 } } });
    await waitForText(v, 'totalCost-value', '$9.0000');
  });

  it('reaches every control with Tab (tabs by arrow keys), each with a visible focus indicator; Enter opens a session', async () => {
    const v = await open(() => analyticsData('week'));
    await waitForText(v, 'totalCost-value', '$1.2346');
    const top = await walkWithTab(v);
    assert.deepEqual(top.expected.map((e) => e.split(':').slice(1).join(':')), ['button:view-mine', 'button:view-team', 'vscode-single-select:range', 'vscode-button:refresh', 'vscode-tab-header:tab-0']);
    assert.deepEqual(top.missing, []);
    assert.deepEqual(top.noVisibleFocus, []);

    // Arrow keys move along the tabs, Enter selects: Recent Activity.
    await byTestId(v, 'tab-0').focus();
    for (let i = 0; i < 3; i++) await v.page.keyboard.press('ArrowRight');
    await v.page.keyboard.press('Enter');
    await v.page.waitForFunction(() => (document.querySelector('[data-testid="tabs"]') as HTMLElement & { selectedIndex: number }).selectedIndex === 3);
    const recent = await walkWithTab(v);
    assert.equal(recent.expected.filter((e) => e.includes(':button:') && !e.includes(':button:view-')).length, 8, 'the 8 of 10 requests that have a session');
    assert.deepEqual(recent.missing, []);
    assert.deepEqual(recent.noVisibleFocus, []);
    await byTestId(v, 'recent').locator('button').first().focus();
    await v.page.keyboard.press('Enter');
    assert.deepEqual(await v.waitForPosted('openSession'), { type: 'openSession', sessionId: 'sess-0' });

    await byTestId(v, 'tab-3').focus();
    await v.page.keyboard.press('ArrowRight');
    await v.page.keyboard.press('ArrowRight');
    await v.page.keyboard.press('Enter');
    await v.page.waitForFunction(() => (document.querySelector('[data-testid="tabs"]') as HTMLElement & { selectedIndex: number }).selectedIndex === 5);
    const sessions = await walkWithTab(v, { checkFocusRing: true });
    assert.equal(sessions.expected.filter((e) => e.includes(':button:') && !e.includes(':button:view-')).length, 3);
    assert.deepEqual(sessions.missing, []);
    assert.deepEqual(sessions.noVisibleFocus, []);
  });

  for (const theme of ['light', 'dark'] as ThemeName[]) {
    it(`screenshot: ${theme} theme`, async () => {
      const v = await open(() => analyticsData('week'), { theme, viewport: { width: 1100, height: 760 } });
      await waitForText(v, 'totalCost-value', '$1.2346');
      await waitForPaintedCanvas(v, 'canvas[data-chart="modelUsage"]');
      await waitForPaintedCanvas(v, 'canvas[data-chart="costByModel"]');
      await v.screenshot(`analytics-${theme}`, { readme: theme === 'dark' });
      await showTab(v, 1);
      await waitForPaintedCanvas(v, 'canvas[data-chart="costOverTime"]');
      await v.screenshot(`analytics-cost-trends-${theme}`);
      await showTab(v, 3);
      await v.screenshot(`analytics-recent-${theme}`);
    });
  }
});
