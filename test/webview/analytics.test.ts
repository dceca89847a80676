// The usage analytics webview (dist/webview/analytics.js) in headless Chromium, with the
// host stood in by the test (its answers are test/webview/fixtures.ts's data).
import assert from 'node:assert/strict';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { AnalyticsData, AnalyticsPeriod, AnalyticsRange, SessionsPage } from '../../src/protocol/webviewMessages';
import { isAnalyticsWebviewMessage } from '../../src/protocol/webviewMessages';
import { type OpenOptions, type WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, RETIRED_MODEL, UNPRICED_MODEL, analyticsData, emptyAnalytics, usageRecord } from './fixtures';
import { byTestId, chooseOption, injectedElements, optionLabels, textOf, waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';
import { walkWithTab } from './keyboard';

type Request = { type: 'requestAnalytics'; id: string } & AnalyticsPeriod;
type Charts = Awaited<ReturnType<WebviewPage['charts']>>;

describe('webview: usage analytics', function () {
  const pages = useWebviewHarness();

  /** Opens the panel; when `answer` is given the stand-in host answers every requestAnalytics with it. */
  async function open(answer?: (range: AnalyticsRange) => AnalyticsData, options: OpenOptions = {}): Promise<WebviewPage> {
    return pages.open('analytics', {
      ...options,
      respond: answer && (async (message, page) => {
        if (message.type === 'requestAnalytics') await page.post({ type: 'analytics', id: message.id, data: answer(message.range as AnalyticsRange) });
      }),
    });
  }

  async function showTab(v: WebviewPage, index: number): Promise<void> {
    await byTestId(v, `tab-${index}`).click();
    await v.page.waitForFunction((i) => (document.querySelector('[data-testid="tabs"]') as HTMLElement & { selectedIndex: number }).selectedIndex === i, index);
  }

  const rowsOf = (v: WebviewPage, testid: string) => byTestId(v, testid).locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => (td.textContent ?? '').trim())));

  it('shows "Loading usage data..." until the host answers, then cards written as people read money and tokens', async () => {
    const v = await open();
    const request = await v.waitForPosted<Request>('requestAnalytics');
    assert.ok(isAnalyticsWebviewMessage(request));
    assert.equal(request.range, 'this-month', 'the calendar month, as budgets count it, is the first period');
    assert.deepEqual(v.posted[0], { type: 'ready', view: 'analytics' });
    await waitForText(v, 'state', 'Loading usage data...');
    assert.equal(await byTestId(v, 'content').isVisible(), false);

    const data = analyticsData('this-month');
    await v.post({ type: 'analytics', id: request.id, data });
    await waitForText(v, 'totalCost-value', '$12.51');
    assert.equal(await textOf(v, 'totalCost-sub'), 'This month');
    assert.equal(await textOf(v, 'totalCost-extra'), '+12% vs previous period ($11.17)');
    assert.equal(await textOf(v, 'totalTokens-value'), '32.5M');
    assert.equal(await textOf(v, 'totalTokens-sub'), '1,931 requests · This month');
    assert.equal(await textOf(v, 'totalTokens-extra'), 'in 1.2M · out 300k · cache write 912k · cache read 30.1M', 'the cache split is labelled');
    assert.equal(await textOf(v, 'avgCost-value'), '$0.0065');
    assert.equal(await textOf(v, 'savings-value'), '$1.19');
    assert.match(await textOf(v, 'savings-extra'), /^\$1\.19 saved · routing paid \$12\.51$/);
    assert.equal(await textOf(v, 'cache-extra'), '$52.74 saved by caching');
    assert.equal(await textOf(v, 'scope'), 'synapse-app');
    // Every figure names its period.
    const captions = await v.page.locator('.period-label').allTextContents();
    assert.ok(captions.length >= 8 && captions.every((c) => c === '· This month'), JSON.stringify(captions));
    const tabs = await v.page.locator('vscode-tab-header').allTextContents();
    assert.deepEqual(tabs.map((t) => t.trim()), ['Models', 'Routing Sources', 'Failed & Unpriced', 'Recent Activity', 'Agents', 'Sessions']);
  });

  it('the first chart: cost per day stacked by model, switchable to agent; each day\'s stack sums to the day\'s cost, the days to the total', async () => {
    const data = analyticsData('this-month');
    const v = await open(() => data);
    await waitForText(v, 'totalCost-value', '$12.51');
    await waitForPaintedCanvas(v, 'canvas[data-chart="daily"]');
    const stackSums = (charts: Charts) => charts.daily.labels.map((_, i) => charts.daily.datasets.reduce((n, d) => n + Number(d.data[i]), 0));
    let charts = await v.charts();
    assert.equal(charts.daily.type, 'bar');
    assert.deepEqual(charts.daily.datasets.map((d) => d.label), data.daily!.model!.keys.map((k) => k.label));
    stackSums(charts).forEach((sum, i) => assert.ok(Math.abs(sum - data.daily!.model!.days[i].cost!) < 1e-6, `day ${i}: ${sum}`));
    assert.ok(Math.abs(stackSums(charts).reduce((a, b) => a + b, 0) - data.summary.cost!) < 1e-6);

    await byTestId(v, 'groupBy-agent').click();
    await v.page.waitForFunction(() => (window as unknown as { __conduitCharts: () => { daily: { datasets: { label: string }[] } } }).__conduitCharts().daily.datasets.some((d) => d.label === 'No agent'));
    charts = await v.charts();
    assert.deepEqual(charts.daily.datasets.map((d) => d.label), ['Reviewer', 'Planner', 'No agent']);
    assert.equal(await byTestId(v, 'groupBy-agent').getAttribute('aria-pressed'), 'true');
    assert.equal(await byTestId(v, 'groupBy-project').isVisible(), false, 'no project grouping in a project\'s panel');
    stackSums(charts).forEach((sum, i) => assert.ok(Math.abs(sum - data.daily!.agent!.days[i].cost!) < 1e-4, `day ${i}: ${sum}`));
    assert.ok((await v.page.locator('canvas[data-chart="daily"]').getAttribute('aria-label'))!.startsWith('Cost per day by agent: '));

    // The tooltip follows the pointer over the whole day, not only over a bar: high above the
    // last day's stack it lists that day's breakdown, most first, and its total.
    const box = (await v.page.locator('canvas[data-chart="daily"]').boundingBox())!;
    await v.page.mouse.move(box.x + box.width * 0.83, box.y + box.height * 0.2);
    await v.page.waitForFunction(() => (window as unknown as { __conduitCharts: () => { daily: { tooltip: unknown } } }).__conduitCharts().daily.tooltip !== null);
    const tooltip = (await v.page.evaluate(() => (window as unknown as { __conduitCharts: () => { daily: { tooltip: { title: string[]; lines: string[]; footer: string[] } } } }).__conduitCharts().daily.tooltip));
    const last = data.daily!.agent!.days.at(-1)!;
    assert.deepEqual(tooltip.lines, [
      `Reviewer: $${last.byKey[data.agents[2].agentId!].cost!.toFixed(2)}`,
      `Planner: $${last.byKey.a2.cost!.toFixed(2)}`,
      `No agent: $${last.byKey[''].cost!.toFixed(2)}`,
    ]);
    assert.equal(tooltip.footer[0], `Total: $${(last.byKey[data.agents[2].agentId!].cost! + last.byKey.a2.cost! + last.byKey[''].cost!).toFixed(2)}`);
  });

  it('each model keeps one colour: across periods, and in the requests/tokens bars and cost by model', async () => {
    const month = analyticsData('this-month');
    // The last 7 days: the order by cost is the other way round.
    const week = analyticsData('7d');
    week.daily!.model!.keys.reverse();
    week.models.reverse();
    const v = await open((range) => (range === '7d' ? week : month));
    await waitForText(v, 'totalCost-sub', 'This month');
    const colourOf = (charts: Charts, label: string) => charts.daily.datasets.find((d) => d.label === label)!.backgroundColor;
    const before = await v.charts();
    const models = [MODEL_CATEGORIES.balanced, MODEL_CATEGORIES.powerful, MODEL_CATEGORIES.fast];
    const colours = models.map((m) => colourOf(before, m));
    assert.equal(new Set(colours).size, 3, 'three models, three colours');
    const bars = before.modelUsage;
    for (const [i, m] of models.entries()) {
      assert.equal((bars.datasets[0].backgroundColor as string[])[bars.labels.indexOf(m)], colours[i], `${m}: requests bar in its colour`);
      assert.equal((before.costByModel.datasets[0].backgroundColor as string[])[before.costByModel.labels.indexOf(m)], colours[i], `${m}: its cost slice`);
    }
    await chooseOption(v, 'range', 'Last 7 days');
    await waitForText(v, 'totalCost-sub', 'Last 7 days');
    const after = await v.charts();
    assert.deepEqual(after.daily.datasets.map((d) => d.label), [...models].reverse());
    assert.deepEqual(models.map((m) => colourOf(after, m)), colours);
    // And after a reload (the colours are kept with the view's state).
    await v.reload();
    await waitForText(v, 'totalCost-sub', 'Last 7 days');
    await v.page.waitForFunction(() => (window as unknown as { __conduitCharts: () => { daily?: { datasets: unknown[] } } }).__conduitCharts().daily?.datasets.length === 3);
    const reloaded = await v.charts();
    assert.deepEqual(models.map((m) => colourOf(reloaded, m)), colours);
  });

  it('period picker: calendar, rolling and custom ranges; the old figures stay on screen, dimmed, while the new ones load', async () => {
    const v = await open();
    const first = await v.waitForPosted<Request>('requestAnalytics');
    assert.deepEqual(await optionLabels(v, 'range'), ['Today', 'This week', 'This month', 'Last 24 hours', 'Last 7 days', 'Last 30 days', 'Custom range…']);
    await v.post({ type: 'analytics', id: first.id, data: analyticsData('this-month') });
    await waitForText(v, 'totalCost-sub', 'This month');

    await chooseOption(v, 'range', 'This week');
    const week = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'this-week');
    assert.equal(await byTestId(v, 'content').isVisible(), true, 'no "Loading" flash');
    assert.equal(await byTestId(v, 'content').evaluate((el) => el.classList.contains('stale')), true);
    assert.equal(await textOf(v, 'state'), '');
    await v.post({ type: 'analytics', id: first.id, data: analyticsData('this-month') }); // a late answer to the old request
    await v.post({ type: 'analytics', id: week.id, data: analyticsData('this-week') });
    await waitForText(v, 'totalCost-sub', 'This week');
    assert.equal(await byTestId(v, 'content').evaluate((el) => el.classList.contains('stale')), false);
    assert.equal(await textOf(v, 'period-daily'), '· This week');

    await chooseOption(v, 'range', 'Custom range…');
    await byTestId(v, 'range-from').fill('2026-12-01');
    await byTestId(v, 'range-to').fill('2026-11-01');
    assert.equal(await byTestId(v, 'range-apply').isDisabled(), true, 'the last day before the first');
    await byTestId(v, 'range-to').fill('2026-12-03');
    await byTestId(v, 'range-apply').click();
    const custom = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'custom');
    assert.deepEqual({ from: custom.from, to: custom.to }, { from: '2026-12-01', to: '2026-12-03' });
    assert.ok(isAnalyticsWebviewMessage(custom));
    await v.post({ type: 'analytics', id: custom.id, data: analyticsData('custom') });
    await waitForText(v, 'totalCost-sub', 'Dec 1 – Dec 3, 2026');

    await chooseOption(v, 'range', 'Today');
    const today = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === 'today');
    await v.post({ type: 'analytics', id: today.id, data: emptyAnalytics('today') });
    await waitForText(v, 'state', 'No usage data for today');
    assert.equal(await byTestId(v, 'content').isVisible(), false);
  });

  it('failed requests apart from unpriced ones; "Add a price" asks the host; price unknown and retired in Cost by Model', async () => {
    const v = await open(() => analyticsData('this-month'));
    await waitForText(v, 'health-value', '12 / 3');
    assert.equal(await textOf(v, 'health-sub'), '12 failed requests (0.6% error rate)');
    assert.equal(await textOf(v, 'health-extra'), `3 requests to a model without a price`);
    const charts = await v.charts();
    assert.ok(charts.costByModel.labels.includes(`${UNPRICED_MODEL} (price unknown)`), 'the unpriced model is its own entry');

    const models = byTestId(v, 'models');
    assert.equal(await models.locator(`tr[data-model="${UNPRICED_MODEL}"] [data-field="cost"]`).innerText(), 'price unknown Add a price');
    const retired = models.locator(`tr[data-model="${RETIRED_MODEL}"]`);
    assert.equal(await retired.locator('[data-field="retired"]').textContent(), 'retired');
    assert.equal(await retired.locator('[data-field="retiredBy"]').textContent(), 'Retired 2025-10-22 (replaced by claude-sonnet-5-5) · still asked for by Planner, 2 sessions');
    const sonnet = await models.locator(`tr[data-model="${MODEL_CATEGORIES.balanced}"] td`).allTextContents();
    assert.deepEqual(sonnet.slice(1), ['1,200', '800k', '200k', '600k', '18.4M', sonnet[6], '$33.12', '']);
    // Its cost over the period: a line of the daily breakdown's figures for that model.
    const trend = await models.locator(`tr[data-model="${MODEL_CATEGORIES.balanced}"] svg.sparkline`).getAttribute('aria-label');
    const data = analyticsData('this-month');
    assert.equal(trend, `Cost per day: ${data.daily!.model!.days.map((d) => `$${d.byKey[MODEL_CATEGORIES.balanced].cost!.toFixed(2)}`).join(', ')}`);
    assert.equal(await models.locator(`tr[data-model="${UNPRICED_MODEL}"] [data-field="trend"]`).textContent(), '—');

    await showTab(v, 2);
    assert.match(await textOf(v, 'failed-summary'), /^12 requests failed \(0\.6% of 1,931\)/);
    assert.deepEqual(await rowsOf(v, 'failed'), [['404', 'not_found_error', '8'], ['529', 'overloaded_error', '3'], ['500', 'api_error', '1']]);
    assert.deepEqual((await rowsOf(v, 'unpriced')).map((r) => r.slice(0, 3)), [[UNPRICED_MODEL, '3', '9k']]);
    await byTestId(v, 'unpriced').locator('[data-action="addPrice"]').click();
    assert.deepEqual(await v.waitForPosted('addPrice'), { type: 'addPrice', model: UNPRICED_MODEL });
    await v.post({ type: 'actionResult', action: 'addPrice', ok: true, message: `Price of ${UNPRICED_MODEL} saved.` });
    await waitForText(v, 'action-status', `Price of ${UNPRICED_MODEL} saved.`);
  });

  it('routing sources: every source a labelled bar with requests, cost and share, none hidden in "Other"', async () => {
    const data = analyticsData('this-month');
    const v = await open(() => data);
    await waitForText(v, 'totalCost-value', '$12.51');
    await showTab(v, 1);
    await waitForPaintedCanvas(v, 'canvas[data-chart="sources"]');
    const charts = await v.charts();
    assert.equal(charts.sources.type, 'bar');
    assert.deepEqual(charts.sources.labels, ['Default model', 'Background task', 'Long context', 'Complex reasoning', 'Agent model', 'Web search', 'Custom plugin', 'Requested model']);
    assert.equal(new Set(charts.sources.datasets[0].backgroundColor as string[]).size, 8, 'eight sources, eight colours');
    assert.deepEqual((await rowsOf(v, 'sources'))[0], ['Default model', '900', '$6.59', '46.6%']);
  });

  it('sessions: ranked by the host over the whole period, sortable by cost, requests, tokens and duration, paged', async () => {
    const v = await open(() => analyticsData('this-month'));
    await waitForText(v, 'totalCost-value', '$12.51');
    await showTab(v, 5);
    const rows = await rowsOf(v, 'sessions');
    assert.deepEqual(rows.map((r) => r[6]), ['$0.59', '$0.32', '$0.22'], 'the most expensive first');
    assert.deepEqual(rows[0], ['sess-0', 'Reviewer', 'claude-opus-5-5 → claude-sonnet-5-5 +1', 'Refactor the billing module so that invoices are computed from the ledger', '20', '1.2M', '$0.59', '4h 57m', '3 minutes ago']);
    assert.equal(await v.page.locator('button.sort[aria-pressed="true"]').textContent(), 'Cost ▾');

    await v.page.locator('button.sort[data-sort="duration"]').click();
    const byDuration = await v.waitForPosted<{ id: string; sort: string; offset: number; range: string }>('requestSessions');
    assert.deepEqual({ sort: byDuration.sort, offset: byDuration.offset, range: byDuration.range }, { sort: 'duration', offset: 0, range: 'this-month' });
    const many: SessionsPage = {
      sort: 'duration', offset: 0, total: 60,
      sessions: Array.from({ length: 25 }, (_, i) => ({ ...analyticsData().sessions[0], sessionId: `long-${i}`, durationMs: (100 - i) * 3_600_000 })),
    };
    await v.post({ type: 'sessionsPage', id: byDuration.id, page: many });
    await waitForText(v, 'sessions-pager', /1–25 of 60/);
    assert.equal(await byTestId(v, 'sessions').locator('tr').count(), 25);
    await byTestId(v, 'sessions-pager-next').click();
    const next = await v.waitForPosted<{ sort: string; offset: number }>((m) => m.type === 'requestSessions' && m.offset === 25);
    assert.equal(next.sort, 'duration');

    await byTestId(v, 'export-sessions-csv').click();
    assert.deepEqual(await v.waitForPosted('exportView'), { type: 'exportView', format: 'csv', view: 'sessions', params: { range: 'this-month', sort: 'duration' } });
  });

  it('agents by cost with share and a trend line; per model table; recent activity with headers, sources and pages', async () => {
    const v = await open(() => analyticsData('this-month'));
    await waitForText(v, 'totalCost-value', '$12.51');
    await showTab(v, 4);
    const agents = await rowsOf(v, 'agents');
    assert.deepEqual(agents.map((r) => r[0]), ['Reviewer', 'Planner', 'No agent'], 'by cost, not by the order answered');
    assert.deepEqual(agents.map((r) => r[4]), ['75.0%', '20.0%', '5.0%']);
    assert.equal(await byTestId(v, 'agents').locator('svg.sparkline').count(), 3);

    await showTab(v, 3);
    const headers = await byTestId(v, 'recent').locator('xpath=..').locator('thead th').allTextContents();
    assert.deepEqual(headers, ['Time', 'Agent', 'Model', 'Routing Source', 'Tokens', 'Cost']);
    assert.equal(await byTestId(v, 'recent').locator('tr').count(), 25, 'more than 10 rows');
    const first = await rowsOf(v, 'recent');
    assert.deepEqual(first[0], ['3 minutes ago', 'Reviewer', MODEL_CATEGORIES.balanced, 'Default model', '1.2k', '$0.0048']);
    assert.equal(first[5][5], '—', 'an unknown cost is not $0');
    const noAgent = byTestId(v, 'recent').locator('tr').nth(4).locator('[data-field="agent"]');
    assert.equal(await noAgent.textContent(), 'No agent');
    assert.equal(await noAgent.evaluate((el) => getComputedStyle(el).fontWeight), '400', '"No agent" is not bold');
    await waitForText(v, 'recent-pager', /1–25 of 40/);
    await byTestId(v, 'recent-pager-next').click();
    await waitForText(v, 'recent-pager', /26–40 of 40/);
    assert.equal(await byTestId(v, 'recent').locator('tr').count(), 15);
    await byTestId(v, 'recent').locator('button[title="Open session sess-1"]').first().click();
    assert.deepEqual(await v.waitForPosted('openSession'), { type: 'openSession', sessionId: 'sess-1' });
    await byTestId(v, 'export-recent-json').click();
    assert.deepEqual(await v.waitForPosted('exportView'), { type: 'exportView', format: 'json', view: 'recent', params: { range: 'this-month' } });
  });

  it('a live usage event joins the recent activity at once; the figures stay the store\'s until it answers again after a refresh', async () => {
    let data = analyticsData('this-month');
    const v = await open(() => structuredClone(data));
    await waitForText(v, 'totalCost-value', '$12.51');
    await showTab(v, 3);
    const requests = v.messagesOfType('requestAnalytics').length;
    const record = usageRecord({ cost: 0.5, input: 3000, output: 1000, model: MODEL_CATEGORIES.powerful, sessionId: 'sess-new', source: 'reasoning' });
    await v.post({ type: 'usageEvent', record, agentName: 'Architect' });
    const first = byTestId(v, 'recent').locator('tr').first();
    await first.locator('[data-field="agent"]', { hasText: 'Architect' }).waitFor();
    assert.equal(await first.locator('[data-field="source"]').textContent(), 'Complex reasoning');
    assert.equal(await textOf(v, 'totalCost-value'), '$12.51', 'no second counter');
    assert.equal(v.messagesOfType('requestAnalytics').length, requests, 'a usage event fetches nothing');
    await v.post({ type: 'usageEvent', record, agentName: 'Architect' });
    assert.equal(await byTestId(v, 'recent').locator('tr', { hasText: 'Architect' }).count(), 1, 'a replayed event is listed once');

    data = structuredClone(data);
    data.summary.cost = 2.5;
    await v.post({ type: 'refresh' });
    await waitForText(v, 'totalCost-value', '$2.50');
    assert.equal(v.messagesOfType('requestAnalytics').length, requests + 1);
  });

  it('a gateway not running yet is said plainly (no socket error) and the panel fills in by itself on the host\'s refresh; so does a store that had no data yet', async () => {
    let state: 'down' | 'empty' | 'loaded' = 'down';
    const v = await pages.open('analytics', {
      respond: async (m, page) => {
        if (m.type !== 'requestAnalytics') return;
        if (state === 'down') await page.post({ type: 'analyticsError', id: m.id, problem: 'notRunning', message: 'The Conduit gateway is not running yet.' });
        else await page.post({ type: 'analytics', id: m.id, data: state === 'empty' ? emptyAnalytics('this-month') : analyticsData('this-month') });
      },
    });
    await waitForText(v, 'not-running', /^The Conduit gateway is not running yet\. This panel fills in by itself once it starts\./);
    assert.equal(await byTestId(v, 'error').count(), 0);
    assert.doesNotMatch(await textOf(v, 'state'), /ECONNREFUSED/);
    // The gateway started, its store still loading a backlog: nothing yet.
    state = 'empty';
    await v.post({ type: 'refresh' });
    await waitForText(v, 'empty', 'No usage data for This month');
    // The store ingested the backlog: the host says refresh, the figures come.
    state = 'loaded';
    await v.post({ type: 'refresh' });
    await waitForText(v, 'totalCost-value', '$12.51');
    assert.equal(await byTestId(v, 'empty').count(), 0);
    assert.equal(v.messagesOfType('requestAnalytics').length, 3);
  });

  it('shows an error with a Retry button that asks again', async () => {
    const v = await open();
    const first = await v.waitForPosted<Request>('requestAnalytics');
    await v.post({ type: 'analyticsError', id: first.id, problem: 'failed', message: 'the usage store is opening' });
    await waitForText(v, 'errorMessage', 'the usage store is opening');
    const from = v.posted.length;
    await byTestId(v, 'retry').click();
    const again = await v.waitForPosted<Request>('requestAnalytics', { from });
    await v.post({ type: 'analytics', id: again.id, data: analyticsData('this-month') });
    await waitForText(v, 'totalCost-value', '$12.51');
  });

  it('per model: cache savings per day beside cost per day, from the daily breakdown by model', async () => {
    const data = analyticsData('this-month');
    const byModel = data.daily!.model!;
    const balanced = MODEL_CATEGORIES.balanced;
    // What a gateway that prices cache reads per day sends: each priced model's savings that day.
    for (const [i, day] of byModel.days.entries()) {
      for (const [model, cell] of Object.entries(day.byKey)) cell.cacheSavings = model === UNPRICED_MODEL ? null : 0.5 + i;
    }
    const v = await open(() => data);
    await waitForText(v, 'totalCost-value', '$12.51');
    const row = byTestId(v, 'models').locator(`tr[data-model="${balanced}"]`);
    assert.equal(await row.locator('[data-field="savingsTrend"] svg.sparkline').getAttribute('aria-label'),
      `Cache savings per day: ${byModel.days.map((_, i) => `$${(0.5 + i).toFixed(2)}`).join(', ')}`);
    // In the same cell as the cost per day (solid), dashed, as the note above the table says.
    assert.equal(await textOf(v, 'models-note'), 'Per day: cost solid, cache savings dashed.');
    const lines = row.locator('[data-field="trend"] svg.sparkline');
    assert.deepEqual(await lines.evaluateAll((svgs) => svgs.map((x) => [x.getAttribute('aria-label')!.split(':')[0], x.querySelector('polyline')!.getAttribute('stroke-dasharray')])),
      [['Cost per day', null], ['Cache savings per day', '3 2']]);
    assert.equal(await byTestId(v, 'models').locator(`tr[data-model="${UNPRICED_MODEL}"] [data-field="trend"]`).textContent(), '—');
    // The table keeps its width at 1024 px.
    await v.page.setViewportSize({ width: 1024, height: 700 });
    const wrap = await byTestId(v, 'models').evaluate((tbody) => { const t = tbody.closest('table')!; return [t.scrollWidth, t.parentElement!.clientWidth]; });
    assert.ok(wrap[0] <= wrap[1], `the per-model table is ${wrap[0]} px wide in ${wrap[1]} px`);
  });

  it('a session\'s panel has no period or Mine / Team controls', async () => {
    const v = await open(() => analyticsData('30d'), { initialState: { sessionId: 'c120386e-56b1-4b31-b81e-93ceaad00c01' } });
    await waitForText(v, 'totalCost-value', '$12.51');
    assert.equal(await byTestId(v, 'range').count(), 0);
    assert.equal(await byTestId(v, 'view').count(), 0);
    assert.equal(await byTestId(v, 'refresh').isVisible(), true);
    assert.equal(await v.page.locator('h1').textContent(), 'Session Usage');
  });

  it('renders names, model ids and prompts carrying HTML or script as text', async () => {
    const v = await open(() => {
      const d = analyticsData('this-month', { agent: HOSTILE, model: HOSTILE_SCRIPT });
      d.scopeLabel = HOSTILE;
      d.sessions[0].agentNames = [HOSTILE_SCRIPT];
      d.sessions[0].firstPrompt = '<img src=x onerror=alert(3)>';
      d.summary.unpricedModels = [{ model: HOSTILE, requests: 1, tokens: 1 }];
      d.summary.failedByStatus = [{ status: 500, error: HOSTILE_SCRIPT, requests: 1 }];
      if (d.savings) d.savings.defaultModel = HOSTILE;
      return d;
    });
    await waitForText(v, 'scope', HOSTILE);
    assert.equal(await textOf(v, 'savings-sub'), `vs everything on ${HOSTILE}: ${'$13.70'}`);
    await showTab(v, 5);
    assert.equal(await byTestId(v, 'sessions').locator('[data-field="prompt"]').first().textContent(), '<img src=x onerror=alert(3)>');
    assert.equal(await byTestId(v, 'sessions').locator('[data-field="agent"]').first().textContent(), HOSTILE_SCRIPT);
    await showTab(v, 4);
    assert.equal(await byTestId(v, 'agents').locator('[data-field="agent"]').first().textContent(), HOSTILE);
    await showTab(v, 2);
    assert.equal(await byTestId(v, 'unpriced').locator('[data-field="model"]').textContent(), HOSTILE);
    assert.equal(await byTestId(v, 'failed').locator('[data-field="error"]').textContent(), HOSTILE_SCRIPT);
    assert.equal(await byTestId(v, 'models').locator('[data-field="model"]').first().textContent(), HOSTILE_SCRIPT);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
  });

  it('reaches every control with Tab, each with a visible focus indicator', async () => {
    const v = await open(() => analyticsData('this-month'));
    await waitForText(v, 'totalCost-value', '$12.51');
    const top = await walkWithTab(v);
    const names = top.expected.map((e) => e.split(':').slice(1).join(':'));
    for (const name of ['button:view-mine', 'button:view-team', 'vscode-single-select:range', 'vscode-button:refresh', 'button:groupBy-model', 'button:groupBy-agent', 'button:export-daily-csv', 'vscode-tab-header:tab-0']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.deepEqual(top.missing, []);
    assert.deepEqual(top.noVisibleFocus, []);
    await showTab(v, 5);
    const sessions = await walkWithTab(v);
    assert.ok(sessions.expected.some((e) => e.endsWith(':button:Cost ▾')), 'the sort buttons are reached');
    assert.deepEqual(sessions.missing, []);
    assert.deepEqual(sessions.noVisibleFocus, []);
  });

  it('keeps period, tab and last data through a reload, painting before the new answer', async () => {
    const v = await open();
    const first = await v.waitForPosted<Request>('requestAnalytics');
    await v.post({ type: 'analytics', id: first.id, data: analyticsData('this-month') });
    await waitForText(v, 'totalCost-sub', 'This month');
    await chooseOption(v, 'range', 'Last 30 days');
    const month = await v.waitForPosted<Request>((m) => m.type === 'requestAnalytics' && m.range === '30d');
    await v.post({ type: 'analytics', id: month.id, data: analyticsData('30d') });
    await waitForText(v, 'totalCost-sub', 'Last 30 days');
    await showTab(v, 1);

    const from = v.posted.length;
    await v.reload();
    await waitForText(v, 'totalCost-sub', 'Last 30 days'); // from the saved state, before any answer
    const again = await v.waitForPosted<Request>('requestAnalytics', { from });
    assert.equal(again.range, '30d');
    assert.equal(await byTestId(v, 'range').evaluate((el) => (el as HTMLElement & { value: string }).value), '30d');
    assert.equal(await byTestId(v, 'tabs').evaluate((el) => (el as HTMLElement & { selectedIndex: number }).selectedIndex), 1);
    await v.post({ type: 'analytics', id: again.id, data: { ...analyticsData('30d'), summary: { ...analyticsData('30d').summary, cost: 9 } } });
    await waitForText(v, 'totalCost-value', '$9.00');
  });
});
