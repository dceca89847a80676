// The analytics panel on a real store: a month of requests journaled, ingested by the
// gateway's own store (PGlite in its worker), read through the analytics API by the
// extension's loader (src/extension/views/analyticsData.ts) and drawn in headless Chromium.
// What the panel shows must be the API's figures: the stacked daily bars add up to `daily`
// and `summary`, sessions are ranked over the whole period, failed requests are counted
// apart from unpriced ones, and a model keeps its colour from one period to the next.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import type { AnalyticsPeriod } from '../../src/protocol/webviewMessages';
import type { UsageRecord } from '../../src/protocol/usage';
import { loadAnalytics, loadSessionsPage, type AnalyticsApi } from '../../src/extension/views/analyticsData';
import { call } from '../../src/conduit/client/call';
import { ROUTES } from '../../src/protocol/routes';
import { makeRecords, writeJournal } from '../ledger/support/records';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import type { WebviewPage } from '../support/webviewPage';
import { byTestId, chooseOption, textOf, waitForPaintedCanvas, waitForText, useWebviewHarness } from './helpers';

const DAY = 86_400_000;
const COUNT = 3000;

/** The gateway the analytics are read from, over plain HTTP with its token (as call() reaches it). */
function httpApi(gateway: RunningGateway): AnalyticsApi {
  return { port: gateway.port, token: gateway.token };
}

describe('webview: usage analytics on a real store (a seeded month)', function () {
  this.timeout(180_000);
  const pages = useWebviewHarness();
  let fake: FakeAnthropic;
  let home: string;
  let gateway: RunningGateway;
  let api: AnalyticsApi;
  let records: UsageRecord[];

  before(async function () {
    fake = await startFakeAnthropic();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-analytics-month-'));
    // 3,000 requests over the last 31 days: four priced models and one without a price, about 3% failed (529).
    records = makeRecords({ count: COUNT, end: new Date(Date.now() - 60_000), spanMs: 31 * DAY, seed: 11 });
    writeJournal(path.join(home, 'journal'), records);
    // Days in UTC, as the browser's (the harness's timezoneId).
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({ budgetTimeZone: 'UTC' }));
    const ledger = new WorkerLedger({ dataDir: path.join(home, 'data', 'pglite'), journalDir: path.join(home, 'journal'), log: silentLogger });
    let inserted = 0;
    const ingested = new Promise<void>((resolve) => {
      ledger.on('ingested', (b: { inserted: number }) => { inserted += b.inserted; if (inserted >= COUNT) resolve(); });
    });
    gateway = await startGateway({
      home, port: 0, log: silentLogger, ledger,
      env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' },
    });
    await ingested;
    api = httpApi(gateway);
  });

  after(async () => {
    await gateway?.close();
    await fake?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The panel, its host answering as the extension does (loadAnalytics, loadSessionsPage). */
  async function open(): Promise<WebviewPage> {
    return pages.open('analytics', {
      viewport: { width: 1440, height: 900 },
      respond: async (m, page) => {
        const period = { range: m.range, ...(m.from ? { from: m.from, to: m.to } : {}) } as AnalyticsPeriod;
        if (m.type === 'requestAnalytics') await page.post({ type: 'analytics', id: m.id, data: await loadAnalytics(api, null, period) });
        if (m.type === 'requestSessions') await page.post({ type: 'sessionsPage', id: m.id, page: await loadSessionsPage(api, null, period, m.sort as never, m.offset as number) });
      },
    });
  }


  it('the stacked daily bars add up to the API\'s daily and summary, day by day and in total', async () => {
    const v = await open();
    await chooseOption(v, 'range', 'Last 30 days');
    await waitForText(v, 'totalCost-sub', 'Last 30 days');
    await waitForPaintedCanvas(v, 'canvas[data-chart="daily"]');
    const [daily, summary] = await Promise.all([
      call(api, ROUTES.analyticsDaily, { query: { tz: 'UTC', range: '30d', groupBy: 'model' } }),
      call(api, ROUTES.analyticsSummary, { query: { tz: 'UTC', range: '30d' } }),
    ]);
    const charts = await v.charts();
    const sums = charts.daily.labels.map((_, i) => charts.daily.datasets.reduce((n, d) => n + Number(d.data[i]), 0));
    assert.equal(sums.length, daily.days.length);
    daily.days.forEach((d, i) => assert.ok(Math.abs(sums[i] - (d.cost ?? 0)) < 1e-6, `${d.date}: bars ${sums[i]}, API ${d.cost}`));
    const total = sums.reduce((a, b) => a + b, 0);
    assert.ok(summary.cost !== null, 'the month\'s requests have prices');
    assert.ok(Math.abs(total - summary.cost) < 1e-5, `bars ${total}, summary ${summary.cost}`);
    assert.ok(summary.requests > 2500, `the month is in range: ${summary.requests}`);
    assert.equal(await textOf(v, 'totalCost-value'), `$${summary.cost.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
  });

  it('failed requests apart from unpriced ones, as counted from the journaled records', async () => {
    const v = await open();
    await chooseOption(v, 'range', 'Last 30 days');
    await waitForText(v, 'totalCost-sub', 'Last 30 days');
    const summary = await call(api, ROUTES.analyticsSummary, { query: { tz: 'UTC', range: '30d' } });
    const from = Date.parse(summary.scope.from);
    const inRange = records.filter((r) => Date.parse(r.endedAt) >= from);
    const failed = inRange.filter((r) => r.status >= 400).length;
    const unpriced = inRange.filter((r) => r.usage && r.cost.cost === null).length;
    assert.ok(failed > 20 && unpriced > 100, `the seed has both: ${failed} failed, ${unpriced} unpriced`);
    assert.equal(summary.failedRequests, failed);
    assert.equal(summary.unpricedRequests, unpriced);
    await waitForText(v, 'health-value', `${failed.toLocaleString('en-US')} / ${unpriced.toLocaleString('en-US')}`);
    await byTestId(v, 'tab-2').click();
    const rows = await byTestId(v, 'unpriced').locator('tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('[data-field="model"]')?.textContent));
    assert.deepEqual(rows, ['mystery-model-1']);
    assert.equal(await byTestId(v, 'failed').locator('[data-status="529"] [data-field="requests"]').textContent(), failed.toLocaleString('en-US'));
  });

  it('sessions are ranked over the whole period: the most expensive first, whatever their age', async () => {
    const v = await open();
    await chooseOption(v, 'range', 'Last 30 days');
    await waitForText(v, 'totalCost-sub', 'Last 30 days');
    await byTestId(v, 'tab-5').click();
    // From the records themselves: each session's cost over its whole life.
    const bySession = new Map<string, number>();
    for (const r of records) if (r.cost.cost !== null) bySession.set(r.context.claudeSessionId!, (bySession.get(r.context.claudeSessionId!) ?? 0) + r.cost.cost);
    const top = [...bySession.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    const shown = await byTestId(v, 'sessions').locator('tr').evaluateAll((trs) => trs.slice(0, 3).map((tr) => tr.querySelector('[data-session]')!.getAttribute('data-session')));
    assert.deepEqual(shown, top.map(([id]) => id));
    // Ranked by requests instead: the host's next page, in that order.
    await v.page.locator('button.sort[data-sort="requests"]').click();
    await v.page.waitForFunction(() => document.querySelector('button.sort[data-sort="requests"]')?.getAttribute('aria-pressed') === 'true');
    await v.page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('[data-testid="sessions"] [data-field="requests"]')].map((c) => Number(c.textContent!.replace(/,/g, '')));
      return cells.length > 1 && cells.every((n, i) => i === 0 || cells[i - 1] >= n);
    });
  });

  it('a model keeps its colour from one period to the next', async () => {
    const v = await open();
    await chooseOption(v, 'range', 'Last 30 days');
    await waitForText(v, 'totalCost-sub', 'Last 30 days');
    const colours = async () => Object.fromEntries((await v.charts()).daily.datasets.map((d) => [d.label, d.backgroundColor]));
    const month = await colours();
    assert.equal(new Set(Object.values(month)).size, Object.keys(month).length, 'a colour per model');
    await chooseOption(v, 'range', 'Today');
    await waitForText(v, 'totalCost-sub', 'Today');
    const today = await colours();
    assert.ok(Object.keys(today).length >= 2, JSON.stringify(today));
    for (const [model, colour] of Object.entries(today)) assert.equal(colour, month[model], model);
  });
});
