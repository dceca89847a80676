// The sidebar webview (dist/webview/sidebar.js) in headless Chromium.
import assert from 'node:assert/strict';
import { MODEL_CATEGORIES } from '../../src/conduit/routing/rules';
import type { SidebarData } from '../../src/protocol/webviewMessages';
import { isSidebarWebviewMessage } from '../../src/protocol/webviewMessages';
import { type OpenOptions, type ThemeName, type WebviewPage } from '../support/webviewPage';
import { HOSTILE, HOSTILE_SCRIPT, sidebarData, usageRecord } from './fixtures';
import { byTestId, injectedElements, textOf, waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';
import { walkWithTab } from './keyboard';
import { startRealGateway } from './realGateway';
import { loadSidebarData } from '../../src/extension/views/sidebarData';
import type { BudgetsResponse } from '../../src/protocol/budgets';
import type { AgentInfo } from '../../src/protocol/projects';

describe('webview: sidebar', function () {
  const pages = useWebviewHarness();
  let view: WebviewPage | undefined;

  async function open(data: (() => SidebarData) | null = sidebarData, options: OpenOptions = {}): Promise<WebviewPage> {
    view = await pages.open('sidebar', {
      ...options,
      respond: data ? async (message, page) => {
        if (message.type === 'requestSidebarData') await page.post({ type: 'sidebarData', id: message.id, data: data() });
      } : undefined,
    });
    return view;
  }

  const decisionFields = (v: WebviewPage, field: string) => byTestId(v, 'decisions').locator(`[data-field="${field}"]`).allTextContents();

  it('asks for its data and shows health, today\'s cost and tokens, a cost chart and the last decisions', async () => {
    const v = await open(null);
    await waitForText(v, 'loading', 'Loading...');
    const request = await v.waitForPosted<{ id: string }>('requestSidebarData');
    assert.ok(isSidebarWebviewMessage(request));
    assert.deepEqual(v.posted[0], { type: 'ready', view: 'sidebar' });
    const data = sidebarData();
    await v.post({ type: 'sidebarData', id: request.id, data });
    await waitForText(v, 'health', 'Gateway running (port 3460 · v0.1.0)');
    assert.equal(await textOf(v, 'todayCost'), '$0.46');
    assert.equal(await textOf(v, 'todayCostNote'), '+ 1 without a known price');
    assert.equal(await textOf(v, 'todayTokens'), '45,678');
    assert.equal(await textOf(v, 'todayRequests'), '17 requests');
    assert.equal(await byTestId(v, 'loading').isVisible(), false);
    assert.deepEqual(await decisionFields(v, 'model'), data.decisions.slice(0, 6).map((d) => d.model));
    assert.deepEqual((await decisionFields(v, 'source')).slice(0, 3), ['Long context', 'Background task', 'Complex reasoning']);
    assert.equal((await byTestId(v, 'decisions').locator('[data-at]').first().textContent()), '2 minutes ago');
    await waitForPaintedCanvas(v, 'canvas[data-chart="todayCost"]', 50);
    const charts = await v.charts();
    assert.equal(charts.todayCost.type, 'line');
    assert.deepEqual(charts.todayCost.datasets[0].data, data.costSeries.map((p) => p.cost));
    assert.equal(charts.todayCost.labels.length, data.costSeries.length);
  });

  it('posts openPanel and gatewayAction from its buttons', async () => {
    const v = await open();
    await waitForText(v, 'health', /^Gateway running/);
    assert.equal(await byTestId(v, 'start').isVisible(), false, 'no Start while running');
    await byTestId(v, 'openAnalytics').click();
    await byTestId(v, 'openModelConfig').click();
    await byTestId(v, 'restart').click();
    await byTestId(v, 'logs').click();
    await v.post({ type: 'health', health: { health: 'stopped', port: null, version: null, message: 'stopped by the person' } });
    await waitForText(v, 'health', 'Gateway stopped');
    assert.equal(await textOf(v, 'healthMessage'), 'stopped by the person');
    assert.equal(await byTestId(v, 'restart').isVisible(), false);
    await byTestId(v, 'start').click();
    await v.waitForPosted((m) => m.type === 'gatewayAction' && m.action === 'start');
    const sent = v.posted.filter((m) => m.type === 'openPanel' || m.type === 'gatewayAction');
    assert.deepEqual(sent, [
      { type: 'openPanel', panel: 'analytics' },
      { type: 'openPanel', panel: 'modelConfig' },
      { type: 'gatewayAction', action: 'restart' },
      { type: 'gatewayAction', action: 'showLogs' },
      { type: 'gatewayAction', action: 'start' },
    ]);
    assert.ok(sent.every(isSidebarWebviewMessage));
  });

  it('updates from live decisions, usage and health without asking again; today\'s figures only from the store', async () => {
    const v = await open();
    await waitForText(v, 'todayCost', '$0.46');
    await v.post({
      type: 'routingDecision', requestId: 'live-decision', agentName: 'Architect',
      decision: { model: MODEL_CATEGORIES.powerful, provider: 'anthropic', source: 'reasoning', rule: 'asked to "ultrathink"', tokenCount: 900, requestedModel: 'claude-sonnet-5-5', timestamp: new Date().toISOString() },
    });
    await v.page.waitForFunction(() => document.querySelector('[data-testid="decisions"] [data-field="agent"]')?.textContent === 'Architect');
    assert.equal((await decisionFields(v, 'source'))[0], 'Complex reasoning');
    const before = (await v.charts()).todayCost.datasets[0].data as number[];
    // A request's usage adds its decision; today's figures stay the store's (no sum of its own).
    const live = usageRecord({ cost: 0.1, input: 1000, output: 322 });
    await v.post({ type: 'usageEvent', record: live, agentName: 'Reviewer' });
    await v.page.waitForFunction(() => document.querySelector('[data-testid="decisions"] [data-field="agent"]')?.textContent === 'Reviewer');
    assert.equal(await textOf(v, 'todayCost'), '$0.46');
    assert.equal(await textOf(v, 'todayTokens'), '45,678');
    // The store ingested it: the host pushes the store's figures.
    const stored = sidebarData();
    stored.today = { cost: 0.5567, tokens: 47_000, requests: 18, costUnknownRequests: 1, refusedRequests: 1 };
    stored.costSeries.at(-1)!.cost += 0.1;
    await v.post({ type: 'sidebarData', data: stored });
    await waitForText(v, 'todayCost', '$0.56');
    assert.equal(await textOf(v, 'todayTokens'), '47,000');
    assert.equal(await textOf(v, 'todayRequests'), '18 requests');
    assert.equal(await textOf(v, 'todayCostNote'), '+ 1 without a known price · 1 refused by a budget');
    const after = (await v.charts()).todayCost.datasets[0].data as number[];
    assert.equal(after.length, before.length);
    assert.equal(after.at(-1)!.toFixed(4), (before.at(-1)! + 0.1).toFixed(4));
    // A request a budget refused shows as refused, not as a routing to its model.
    const refused = usageRecord({ cost: 0, source: 'budget' });
    refused.cost = { cost: 0, costSource: 'refused', priceVersion: null };
    refused.status = 402;
    refused.usage = null;
    await v.post({ type: 'usageEvent', record: refused, agentName: 'Reviewer' });
    await v.page.waitForFunction(() => document.querySelector('[data-testid="decisions"] [data-field="source"]')?.textContent === 'Refused');
    assert.match((await decisionFields(v, 'model'))[0], /over budget, not sent/);
    await v.post({ type: 'health', health: { health: 'error', port: 3460, version: '0.1.0', message: 'health check failed 3 times' } });
    await waitForText(v, 'health', 'Gateway failing');
    assert.equal(await byTestId(v, 'start').isVisible(), true);
    assert.equal(await byTestId(v, 'restart').isVisible(), true);
    assert.equal(v.messagesOfType('requestSidebarData').length, 1);
  });

  it('renders names carrying HTML or script as text', async () => {
    const v = await open(() => {
      const d = sidebarData({ agent: HOSTILE, model: HOSTILE_SCRIPT });
      d.health = { health: 'error', port: null, version: null, message: HOSTILE };
      return d;
    });
    await waitForText(v, 'healthMessage', HOSTILE);
    assert.equal((await decisionFields(v, 'agent'))[0], HOSTILE);
    assert.equal((await decisionFields(v, 'model'))[0], HOSTILE_SCRIPT);
    await v.post({ type: 'usageEvent', record: usageRecord({ model: `${HOSTILE}!` }), agentName: HOSTILE_SCRIPT });
    await v.page.waitForFunction((m) => document.querySelector('[data-testid="decisions"] [data-field="model"]')?.textContent === m, `${HOSTILE}!`);
    assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
  });

  it('shows its last data at once after a reload, then asks again', async () => {
    const v = await open();
    await waitForText(v, 'todayCost', '$0.46');
    const stored = sidebarData();
    stored.today = { ...stored.today, cost: 0.6567 };
    await v.post({ type: 'sidebarData', data: stored });
    await waitForText(v, 'todayCost', '$0.66');
    const from = v.posted.length;
    v.responder = undefined; // the host does not answer: what shows comes from the saved state
    await v.reload();
    await waitForText(v, 'todayCost', '$0.66');
    await v.waitForPosted('requestSidebarData', { from });
    assert.equal(await byTestId(v, 'loading').isVisible(), false);
  });

  it('reaches every button with Tab, each with a visible focus indicator', async () => {
    const v = await open(() => ({ ...sidebarData(), health: { health: 'error', port: 3460, version: '0.1.0', message: 'failing' } }));
    await waitForText(v, 'health', 'Gateway failing');
    const report = await walkWithTab(v);
    assert.deepEqual(report.expected.map((e) => e.split(':').at(-1)), ['start', 'restart', 'logs', 'openAnalytics', 'openModelConfig']);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.noVisibleFocus, []);
    await byTestId(v, 'openAnalytics').focus();
    await v.page.keyboard.press('Enter');
    await v.waitForPosted((m) => m.type === 'openPanel' && m.panel === 'analytics');
  });

  it('at 250 px wide, every model id shows whole (its full id in the title) and the source badge follows it', async () => {
    const longIds = ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'openrouter/deepseek-v4-0324-instruct', 'claude-opus-4-1-20250805', 'claude-3-5-sonnet-20241022', 'claude-sonnet-5-5'];
    const v = await open(() => {
      const d = sidebarData();
      d.decisions = d.decisions.slice(0, 6).map((x, i) => ({ ...x, model: longIds[i], source: i % 2 ? 'long-context' : 'passthrough' }));
      return d;
    }, { viewport: { width: 250, height: 900 } });
    await waitForText(v, 'todayCost', '$0.46');
    const cells = await byTestId(v, 'decisions').locator('li').evaluateAll((items) => items.map((li) => {
      const model = li.querySelector<HTMLElement>('[data-field="model"]')!;
      const badge = li.querySelector<HTMLElement>('[data-field="source"]')!;
      const m = model.getBoundingClientRect();
      const b = badge.getBoundingClientRect();
      return {
        text: model.textContent, title: model.title, scrollWidth: model.scrollWidth, clientWidth: model.clientWidth,
        right: m.right, viewport: document.documentElement.clientWidth, badgeWidth: b.width, badgeText: badge.textContent,
        badgeWhole: badge.scrollWidth <= badge.clientWidth,
      };
    }));
    assert.equal(cells.length, 6);
    for (const [i, c] of cells.entries()) {
      assert.equal(c.text, longIds[i]);
      assert.equal(c.title, longIds[i], 'the full id in the title');
      assert.ok(c.scrollWidth <= c.clientWidth, `${c.text} is cut: scrollWidth ${c.scrollWidth} > clientWidth ${c.clientWidth}`);
      assert.ok(c.right <= c.viewport, `${c.text} runs out of the view (${c.right} > ${c.viewport})`);
      assert.ok(c.badgeWidth > 20 && c.badgeWhole, `the badge "${c.badgeText}" keeps its width (${c.badgeWidth})`);
    }
    assert.deepEqual(cells.map((c) => c.badgeText).slice(0, 2), ['Requested model', 'Long context']);
    await v.screenshot('sidebar-250px');
  });

  describe('with a real gateway', function () {
    this.timeout(120_000);
    let gw: Awaited<ReturnType<typeof startRealGateway>>;
    const key = 'ws-sidebar-real';
    let agentId = '';
    before(async () => {
      gw = await startRealGateway();
      await gw.api.call('PUT', `/v1/conduit/projects/${key}`, { name: 'synapse-app' });
      agentId = (await gw.api.call<AgentInfo>('POST', `/v1/conduit/projects/${key}/agents`, { name: HOSTILE, personaType: 'reviewer', useProjectModel: true, customModelId: null })).id;
      await gw.send({ projectId: key }, 2);
      await gw.send({ projectId: key, agentId }, 1);
      // Another project's request: not in this project's figures.
      await gw.send({ projectId: 'ws-someone-else' }, 1);
    });
    after(async () => { await gw?.close(); });

    const health = { health: 'running' as const, port: 3460, version: '0.1.0', message: null };
    const openWith = async (data: SidebarData) => open(() => data);
    const tz = async () => (await gw.api.call<{ timeZone: string }>('GET', '/v1/conduit/status')).timeZone;
    const usd = (x: number) => `$${x.toFixed(2)}`;

    it('shows the project\'s today and this month, plain without budgets, against them once set (the amounts the budgets count), and says whose they are', async () => {
      const plain = await loadSidebarData(gw.api, health, { key, name: 'synapse-app' });
      assert.equal(plain.today.requests, 3, 'the project\'s three requests, not the other project\'s');
      assert.ok((plain.today.cost ?? 0) > 0);
      const v = await openWith(plain);
      await waitForText(v, 'todayCost', usd(plain.today.cost!));
      assert.equal(await textOf(v, 'scope'), `Project synapse-app · calendar day, ${await tz()}`);
      assert.equal(await textOf(v, 'monthCost'), `This month: ${usd(plain.spend!.month.cost!)}`);
      assert.equal(await textOf(v, 'todayRequests'), '3 requests');

      // Budgets set: the spend the budgets count is the store's figure, against their amounts.
      await gw.api.call('PUT', `/v1/conduit/projects/${key}`, { budget: { dailyUsd: 40, monthlyUsd: 400 } });
      const { statuses } = await gw.api.call<BudgetsResponse>('GET', `/v1/conduit/budgets?project=${key}`);
      const daily = statuses.find((s) => s.scope === 'project' && s.period === 'daily')!;
      const monthly = statuses.find((s) => s.scope === 'project' && s.period === 'monthly')!;
      const budgeted = await loadSidebarData(gw.api, health, { key, name: 'synapse-app' });
      assert.equal(budgeted.spend!.today.cost!.toFixed(6), daily.spentUsd.toFixed(6), 'today as the daily budget counts it');
      assert.equal(budgeted.spend!.month.cost!.toFixed(6), monthly.spentUsd.toFixed(6), 'this month as the monthly budget counts it');
      await v.post({ type: 'sidebarData', data: budgeted });
      await waitForText(v, 'todayCost', `${usd(daily.spentUsd)} / $40`);
      assert.equal(await textOf(v, 'todayCostNote'), `${Math.floor(daily.percent)}% of the daily budget`);
      assert.equal(await textOf(v, 'monthCost'), `This month: ${usd(monthly.spentUsd)} / $400 (${Math.floor(monthly.percent)}%)`);
    });

    it('for every project, says so, and names a hostile agent as text', async () => {
      const all = await loadSidebarData(gw.api, health, null);
      assert.equal(all.today.requests, 4);
      const v = await openWith(all);
      await waitForText(v, 'scope', `All projects · calendar day, ${await tz()}`);
      assert.equal(await textOf(v, 'todayCost'), usd(all.today.cost!), 'no budget for every project');
      assert.ok((await decisionFields(v, 'agent')).includes(HOSTILE));
      assert.deepEqual(await injectedElements(v), { img: 0, script: 2, iframe: 0 });
    });
  });

  for (const theme of ['light', 'dark'] as ThemeName[]) {
    it(`screenshot: ${theme} theme`, async () => {
      const v = await open(sidebarData, { theme, viewport: { width: 300, height: 720 } });
      await waitForText(v, 'todayCost', '$0.46');
      await waitForPaintedCanvas(v, 'canvas[data-chart="todayCost"]', 50);
      await v.screenshot(`sidebar-${theme}`, { readme: theme === 'dark' });
    });
  }
});
