// A session's analytics panel on a real store: a session of two days, 60 days ago (older
// than any range the project panel offers), among recent ones. Its panel (the drill-down,
// initial state { sessionId }) is answered as the extension answers it (loadAnalytics with
// the session), and shows the session's own figures, labelled by its span, with no
// "previous period" to compare with.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import type { AnalyticsPeriod } from '../../src/protocol/webviewMessages';
import type { UsageRecord } from '../../src/protocol/usage';
import { totalTokens } from '../../src/protocol/measures';
import { loadAnalytics, type AnalyticsApi } from '../../src/extension/views/analyticsData';
import { makeRecords, writeJournal } from '../ledger/support/records';
import type { WebviewPage } from '../support/webviewPage';
import { byTestId, textOf, waitForText, useWebviewHarness } from './helpers';

const DAY = 86_400_000;
const OLD = 'claude-old-session';

/** The gateway the analytics are read from, over plain HTTP with its token (as call() reaches it). */
function httpApi(gateway: RunningGateway): AnalyticsApi {
  return { port: gateway.port, token: gateway.token };
}

describe('webview: a session\'s analytics panel covers the session\'s whole life', function () {
  this.timeout(180_000);
  const pages = useWebviewHarness();
  let home: string;
  let gateway: RunningGateway;
  let api: AnalyticsApi;
  let old: UsageRecord[];

  before(async function () {
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-analytics-session-'));
    // 40 requests over two days ending 58 days ago: one session (claude's id OLD).
    old = makeRecords({ count: 40, end: new Date(Date.now() - 58 * DAY), spanMs: 2 * DAY, seed: 5, idPrefix: 'old' })
      .map((r) => ({ ...r, context: { ...r.context, sessionId: 'run-old', claudeSessionId: OLD } }));
    const recent = makeRecords({ count: 200, end: new Date(Date.now() - 60_000), spanMs: 10 * DAY, seed: 6, idPrefix: 'new' });
    writeJournal(path.join(home, 'journal'), [...old, ...recent]);
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({ budgetTimeZone: 'UTC' }));
    const ledger = new WorkerLedger({ dataDir: path.join(home, 'data', 'pglite'), journalDir: path.join(home, 'journal'), log: silentLogger });
    let inserted = 0;
    const ingested = new Promise<void>((resolve) => {
      ledger.on('ingested', (b: { inserted: number }) => { inserted += b.inserted; if (inserted >= old.length + recent.length) resolve(); });
    });
    gateway = await startGateway({ home, port: 0, log: silentLogger, ledger, env: { CONDUIT_PLUGINS_DISABLED: '1' } });
    await ingested;
    api = httpApi(gateway);
  });

  after(async () => {
    await gateway?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The session's panel, its host answering as the extension does for a session (analyticsPanel.ts). */
  async function openSession(sessionId: string): Promise<WebviewPage> {
    return pages.open('analytics', {
      viewport: { width: 1440, height: 900 },
      initialState: { sessionId },
      respond: async (m, page) => {
        const period = { range: m.range, ...(m.from ? { from: m.from, to: m.to } : {}) } as AnalyticsPeriod;
        if (m.type === 'requestAnalytics') {
          const data = await loadAnalytics(api, null, period, 60_000, sessionId);
          await page.post({ type: 'analytics', id: m.id, data: { ...data, scopeLabel: `session ${sessionId}` } });
        }
      },
    });
  }

  it('a session 60 days old shows its own cost, tokens and requests, labelled "Whole session" with its dates', async () => {
    const cost = old.reduce((n, r) => n + (r.cost.cost ?? 0), 0);
    const tokens = old.reduce((n, r) => n + (r.usage ? totalTokens(r.usage) : 0), 0);
    const day = (iso: string) => new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' }).format(new Date(iso));
    const year = new Date(old.at(-1)!.endedAt).getUTCFullYear();
    const sameYear = new Date(old[0].endedAt).getUTCFullYear() === year;
    const label = `Whole session · ${day(old[0].endedAt)}${sameYear ? '' : `, ${new Date(old[0].endedAt).getUTCFullYear()}`} – ${day(old.at(-1)!.endedAt)}, ${year}`;

    const v = await openSession(OLD);
    await waitForText(v, 'totalCost-sub', label);
    assert.equal(await textOf(v, 'totalCost-value'), `$${cost.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
    assert.equal(await textOf(v, 'totalTokens-sub'), `40 requests · ${label}`);
    assert.equal(await textOf(v, 'totalCost-extra'), '', 'no previous period for a session');
    assert.equal(await textOf(v, 'scope'), `session ${OLD}`);
    assert.ok(tokens > 0);
    // Its models table: every request of the session, whatever its age.
    const requests = await byTestId(v, 'models').locator('[data-field="requests"]').allTextContents();
    assert.equal(requests.reduce((n, x) => n + Number(x.replace(/,/g, '')), 0), 40);
    // The session's days in the daily chart: the two or three UTC days it ran on.
    const charts = await v.charts();
    assert.deepEqual(charts.daily.labels.length, new Set(old.map((r) => r.endedAt.slice(0, 10))).size);
  });

  it('named by Conduit\'s id of its run, the same figures', async () => {
    const v = await openSession('run-old');
    await waitForText(v, 'totalTokens-sub', /^40 requests · Whole session · /);
  });
});
