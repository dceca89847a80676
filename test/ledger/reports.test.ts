// Usage reports on the embedded store: the report's totals are the analytics summary's
// for the same range (requests, tokens, cost), in time zones with whole- and half-hour
// offsets, with and without filters; its rows are exact per project, agent, model and
// local day (computed here from the records); then the NDJSON route through a gateway
// whose store runs in the ledger's worker thread: paging, the stream's shape, refusals,
// and a client that goes away.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import { AnalyticsParamError, type AnalyticsParams } from '../../src/conduit/ledger/store/analytics';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { MAX_REPORT_ROWS, parseReportParams, runUsageReport, type ReportParams, type ReportResult } from '../../src/conduit/ledger/store/reports';
import { WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import { REPORT_PAGE_ROWS } from '../../src/conduit/http/reportsRoute';
import { fetchUsageReport, readUsageReport, ReportError } from '../../src/conduit/client/reportClient';
import { reportQueryString, type ReportDimension, type ReportMeasures, type UsageReportRow } from '../../src/protocol/reports';
import type { UsageRecord } from '../../src/protocol/usage';
import { makeRecords, writeJournal } from './support/records';
import { openTestStore, type TestStore } from './support/store';
import { sessionIdOf } from '../../src/protocol/session';

const NOW = new Date('2026-11-27T05:17:23.456Z');
const DAY = 86_400_000;
const P = 'file:///work/alpha';

function localDay(d: Date, tz: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** What a report's measures should be, from the records. */
function expected(rs: UsageRecord[]): ReportMeasures & { costed: number; rawCost: number } {
  const t = { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, cost: null as number | null, unknownCostRequests: 0, costed: 0, rawCost: 0 };
  for (const r of rs) {
    t.requests++;
    if (r.error || r.status >= 400) t.errors++;
    t.inputTokens += r.usage?.inputTokens ?? 0;
    t.outputTokens += r.usage?.outputTokens ?? 0;
    t.cacheCreationTokens += r.usage?.cacheCreationTokens ?? 0;
    t.cacheReadTokens += r.usage?.cacheReadTokens ?? 0;
    if (r.cost.cost !== null) {
      t.costed++;
      t.rawCost += r.cost.cost;
    } else t.unknownCostRequests++;
  }
  t.totalTokens = t.inputTokens + t.outputTokens + t.cacheCreationTokens + t.cacheReadTokens;
  t.cost = t.costed ? t.rawCost : null;
  return t;
}

function assertMeasures(actual: ReportMeasures, want: ReturnType<typeof expected>, what: string): void {
  for (const k of ['requests', 'errors', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'unknownCostRequests'] as const) {
    assert.equal(actual[k], want[k], `${what}: ${k}`);
  }
  if (want.cost === null) assert.equal(actual.cost, null, `${what}: cost unknown, not 0`);
  else assert.ok(actual.cost !== null && Math.abs(actual.cost - want.cost) < 1e-5, `${what}: cost ${actual.cost} vs ${want.cost}`);
}

describe('ledger: usage reports', () => {
  let store: TestStore;
  let engine: LedgerEngine;
  let records: UsageRecord[];
  const report = (p: Partial<ReportParams>): Promise<ReportResult> => engine.report({ tz: 'UTC', groupBy: ['project', 'agent', 'model', 'day'], ...p }, NOW);
  const summary = async (p: Partial<AnalyticsParams>) => (await engine.analytics('summary', { range: 'custom', tz: 'UTC', limit: 50, ...p }, NOW)) as { result: Record<string, any> };
  const inRange = (meta: { from: string; to: string }, filter: (r: UsageRecord) => boolean = () => true) => {
    const from = Date.parse(meta.from);
    const to = Date.parse(meta.to);
    return records.filter((r) => Date.parse(r.endedAt) >= from && Date.parse(r.endedAt) < to && filter(r));
  };

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
    const opened = await store.engine();
    engine = opened.engine;
    records = makeRecords({ count: 6000, seed: 33, end: new Date(NOW.getTime() - 7 * 60_000), spanMs: 50 * DAY });
    writeJournal(opened.journalDir, records);
    await engine.ingester.ingestAvailable();
    await store.pglite.exec('analyze');
  });
  after(async () => {
    await store?.close();
  });

  it('totals equal the analytics summary for the same range: requests, tokens and cost', async () => {
    const cases: { p: Partial<ReportParams>; what: string }[] = [
      { p: { from: '2026-11-01', to: '2026-11-20', tz: 'Europe/Berlin' }, what: 'Berlin, dates' },
      { p: { from: '2026-10-15', to: '2026-11-26', tz: 'Asia/Kolkata' }, what: 'Kolkata (half-hour offset: cut hours)' },
      { p: { from: '2026-10-10', to: '2026-11-27', tz: 'America/New_York', groupBy: ['month', 'model'] }, what: 'New York by month' },
      { p: { from: '2026-11-03T10:20:31Z', to: '2026-11-21T15:45:30.5Z', tz: 'Asia/Kolkata' }, what: 'instants off the hour' },
      { p: { from: '2026-11-01', to: '2026-11-27', tz: 'UTC', project: P }, what: 'one project' },
      { p: { from: '2026-11-01', to: '2026-11-27', tz: 'Australia/Adelaide', project: P, agent: 'reviewer' }, what: 'one agent' },
      { p: { from: '2026-11-05', to: '2026-11-12', tz: 'UTC', groupBy: ['session', 'model'] }, what: 'by session' },
      { p: { tz: 'Europe/Berlin', groupBy: ['day'] }, what: 'all time (no from, no to)' },
      { p: { from: '2026-11-01', to: '2026-11-02', tz: 'UTC', project: 'no-such-project' }, what: 'unknown project' },
    ];
    for (const { p, what } of cases) {
      const r = await report(p);
      const s = (await summary({ from: r.meta.from, to: r.meta.to, tz: r.meta.tz, ...(p.project ? { project: p.project } : {}), ...(p.agent ? { agent: p.agent } : {}) })).result;
      assert.equal(r.totals.requests, s.requests, `${what}: requests`);
      assert.equal(r.totals.errors, s.errors, `${what}: errors`);
      assert.equal(r.totals.inputTokens, s.inputTokens, `${what}: input`);
      assert.equal(r.totals.outputTokens, s.outputTokens, `${what}: output`);
      assert.equal(r.totals.cacheCreationTokens, s.cacheCreationTokens, `${what}: cache creation`);
      assert.equal(r.totals.cacheReadTokens, s.cacheReadTokens, `${what}: cache read`);
      assert.equal(r.totals.totalTokens, s.totalTokens, `${what}: total tokens (one definition)`);
      assert.equal(r.totals.cost, s.cost, `${what}: cost`);
      assert.equal(r.totals.unknownCostRequests, s.unknownCostRequests, `${what}: unknown-cost requests`);
      // And the rows add up to the totals.
      const sum = (k: keyof ReportMeasures) => r.rows.reduce((n, row) => n + ((row[k] as number | null) ?? 0), 0);
      for (const k of ['requests', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'unknownCostRequests'] as const) {
        assert.equal(sum(k), r.totals[k], `${what}: rows' ${k}`);
      }
      assert.ok(Math.abs(sum('cost') - (r.totals.cost ?? 0)) < 1e-6 * (r.rows.length + 1), `${what}: rows' cost`);
      assert.equal(r.meta.totalRows, r.rows.length);
      if (what !== 'unknown project') assert.ok(r.totals.requests > 0, `${what}: the case has data`);
    }
  });

  it('rows are exact per project, agent, model and local day, sorted by groupBy', async () => {
    const tz = 'Asia/Kolkata';
    const r = await report({ from: '2026-10-20', to: '2026-11-25', tz });
    assert.deepEqual(r.meta.groupBy, ['project', 'agent', 'model', 'day']);
    assert.equal(r.meta.tz, tz);
    assert.equal(r.meta.from, '2026-10-19T18:30:00.000Z');
    assert.equal(r.meta.to, '2026-11-25T18:30:00.000Z');
    const groups = new Map<string, UsageRecord[]>();
    for (const rec of inRange(r.meta)) {
      const key = JSON.stringify([rec.context.projectId ?? null, rec.context.projectId ? (rec.context.agentId ?? null) : null, rec.decision.model, localDay(new Date(rec.endedAt), tz)]);
      const list = groups.get(key) ?? [];
      list.push(rec);
      groups.set(key, list);
    }
    assert.equal(r.rows.length, groups.size);
    for (const row of r.rows) {
      assert.deepEqual(Object.keys(row).slice(0, 6), ['projectKey', 'projectName', 'agentId', 'agentName', 'model', 'day']);
      const key = JSON.stringify([row.projectKey, row.agentId, row.model, row.day]);
      const list = groups.get(key);
      assert.ok(list, `no records for row ${key}`);
      assertMeasures(row, expected(list), key);
      if (row.projectKey) assert.equal(row.projectName, row.projectKey.split('/').pop());
      if (row.agentId) assert.equal(row.agentName, row.agentId);
    }
    // Sorted by project key (no project last), agent name (none last), model, day.
    const sortKey = (x: UsageReportRow) => [x.projectKey ?? '\uffff', x.agentName ?? '\uffff', x.model, x.day];
    for (let i = 1; i < r.rows.length; i++) {
      const a = sortKey(r.rows[i - 1]);
      const b = sortKey(r.rows[i]);
      const cmp = a.map((v, j) => (v! < b[j]! ? -1 : v! > b[j]! ? 1 : 0)).find((c) => c !== 0) ?? 0;
      assert.ok(cmp < 0, `rows ${i - 1} and ${i} out of order: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }
  });

  it('by month and by session: the fields of those dimensions only, sessions with their first and last request', async () => {
    const months = await report({ from: '2026-10-01', to: '2026-11-30', tz: 'America/New_York', groupBy: ['month'] });
    assert.deepEqual(months.rows.map((x) => x.month), ['2026-10', '2026-11']);
    assert.deepEqual(Object.keys(months.rows[0]).sort(), ['month', 'requests', 'errors', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheReadTokens', 'totalTokens', 'cost', 'unknownCostRequests'].sort());
    for (const m of months.rows) {
      assertMeasures(m, expected(inRange(months.meta, (rec) => localDay(new Date(rec.endedAt), 'America/New_York').startsWith(m.month!))), m.month!);
    }
    const sessions = await report({ from: '2026-11-10', to: '2026-11-12', tz: 'UTC', groupBy: ['session', 'model'] });
    const bySession = new Map<string, UsageRecord[]>();
    // A session is named by claude's session id, else Conduit's (src/protocol/session.ts).
    for (const rec of inRange(sessions.meta)) bySession.set(sessionIdOf(rec.context)!, [...(bySession.get(sessionIdOf(rec.context)!) ?? []), rec]);
    const seen = new Set<string>();
    for (const row of sessions.rows) {
      const list = bySession.get(row.sessionId!)!;
      assertMeasures(row, expected(list.filter((rec) => rec.decision.model === row.model)), `${row.sessionId} ${row.model}`);
      const times = list.filter((rec) => rec.decision.model === row.model).map((rec) => rec.endedAt).sort();
      assert.equal(row.firstAt, times[0]);
      assert.equal(row.lastAt, times[times.length - 1]);
      seen.add(row.sessionId!);
    }
    assert.deepEqual([...seen].sort(), [...bySession.keys()].sort());
    // A session's rows are together, sessions in the order of their first request.
    const order = sessions.rows.map((x) => x.sessionId);
    assert.deepEqual(order, [...new Set(order)].flatMap((s) => order.filter((o) => o === s)));
  });

  it('a project named by an earlier key (key_aliases): the project it became', async () => {
    const p = { from: '2026-11-01', to: '2026-11-27', tz: 'UTC' };
    const byKey = await report({ ...p, project: P });
    assert.ok(byKey.totals.requests > 0);
    assert.equal((await report({ ...p, project: 'old-random-key' })).totals.requests, 0, 'an unknown key: nothing');
    await store.pglite.query(`update public.projects set key_aliases = array['old-random-key'] where workspace_key = $1`, [P]);
    try {
      const byAlias = await report({ ...p, project: 'old-random-key' });
      assert.deepEqual(byAlias.meta.project, { key: P, name: byKey.meta.project!.name });
      assert.deepEqual(byAlias.totals, byKey.totals);
      assert.deepEqual(byAlias.rows, byKey.rows);
    } finally {
      await store.pglite.query(`update public.projects set key_aliases = '{}' where workspace_key = $1`, [P]);
    }
  });

  it('an empty range: no rows, zero totals with an unknown (not zero) cost', async () => {
    const r = await report({ from: '2025-01-01', to: '2025-01-31', tz: 'UTC' });
    assert.equal(r.meta.totalRows, 0);
    assert.deepEqual(r.totals, { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, totalTokens: 0, cost: null, unknownCostRequests: 0 });
  });

  it('refuses what it cannot answer, saying which parameter and why', async () => {
    const bad = (query: string, message: RegExp) => assert.throws(() => parseReportParams(new URLSearchParams(query)), (e: Error) => e instanceof AnalyticsParamError && message.test(e.message), query);
    bad('groupBy=project,week', /groupBy: "week" is not a dimension \(have: project, agent, model, day, month, session\)/);
    bad('groupBy=day,day', /named twice/);
    bad('from=last-monday', /from: expected a date/);
    bad('tz=Mars/Olympus', /tz: "Mars\/Olympus" is not an IANA time zone/);
    bad('range=week', /unknown parameter "range"/);
    bad('tz=UTC&tz=UTC', /more than once/);
    assert.deepEqual(parseReportParams(new URLSearchParams('')), { tz: 'UTC', groupBy: ['project', 'agent', 'model', 'day'] });
    assert.deepEqual(parseReportParams(new URLSearchParams('from=2026-11-01&to=2026-11-02&groupBy=session,model&tz=Europe/Berlin&project=p&agent=a')),
      { from: '2026-11-01', to: '2026-11-02', tz: 'Europe/Berlin', groupBy: ['session', 'model'], project: 'p', agent: 'a' });
    await assert.rejects(report({ from: '2026-11-05', to: '2026-11-01' }), /from must be before to/);
    await assert.rejects(report({ from: '2010-01-01', to: '2026-11-01' }), /at most 3700/);
    await assert.rejects(report({ groupBy: [] }), /name at least one dimension/);
    await assert.rejects(runUsageReport(engine.db, engine.localUserId, { tz: 'UTC', groupBy: ['session', 'model', 'day'], from: '2026-10-01', to: '2026-11-27' }, NOW, 50), /more than 50 rows/);
    assert.ok(MAX_REPORT_ROWS >= 100_000);
  });

  describe('HTTP (the store in the ledger\'s worker thread)', () => {
    let home: string;
    let ledger: WorkerLedger;
    let gateway: RunningGateway;

    before(async function () {
      this.timeout(120_000);
      home = mkdtempSync(path.join(os.tmpdir(), 'conduit-reports-http-'));
      // The same records, in the gateway's journal: its store ingests them once open.
      writeJournal(path.join(home, 'journal'), records);
      ledger = new WorkerLedger({ dataDir: null, journalDir: path.join(home, 'journal'), log: silentLogger });
      let inserted = 0;
      const allIngested = new Promise<void>((resolve) => {
        ledger.on('ingested', (b: { inserted: number }) => {
          inserted += b.inserted;
          if (inserted === records.length) resolve();
        });
      });
      gateway = await startGateway({ home, port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' }, ledger });
      await ledger.whenReady();
      await allIngested;
    });
    after(async () => {
      await gateway?.close();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    const endpoint = () => ({ port: gateway.port, token: gateway.token });

    it('streams meta, every row (in pages) and totals, as the ledger computes them', async () => {
      const groupBy: ReportDimension[] = ['project', 'agent', 'model', 'day'];
      const query = { from: '2026-10-08', to: '2026-11-27', tz: 'Asia/Kolkata', groupBy };
      const res = await fetch(`${gateway.url}${reportQueryString(query)}`, { headers: { 'x-conduit-token': gateway.token } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const lines = (await res.text()).split('\n');
      assert.equal(lines.pop(), '', 'the stream ends with a newline');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, any>);
      const local = await report(query);
      assert.ok(local.meta.totalRows > REPORT_PAGE_ROWS, `more rows (${local.meta.totalRows}) than one page`);
      assert.equal(res.headers.get('x-conduit-report-rows'), String(local.meta.totalRows));
      assert.deepEqual(parsed[0], { type: 'meta', ...local.meta, generatedAt: parsed[0].generatedAt });
      assert.ok(Date.parse(parsed[0].generatedAt) > NOW.getTime());
      assert.deepEqual(parsed.slice(1, -1), local.rows.map((row) => ({ type: 'row', ...row })));
      assert.deepEqual(parsed[parsed.length - 1], { type: 'totals', ...local.totals });

      // The client reads the same, with progress in order.
      const indexes: number[] = [];
      for await (const e of readUsageReport(endpoint(), query)) if (e.type === 'row') indexes.push(e.index);
      assert.deepEqual(indexes, local.rows.map((_, i) => i));
      const fetched = await fetchUsageReport(endpoint(), { ...query, groupBy: ['day'] });
      assert.deepEqual(fetched.totals, local.totals);
    });

    it('refuses without the token (401), bad parameters (400), other reports (404) and verbs (405)', async () => {
      const get = (p: string, token: string | null = gateway.token) => fetch(`${gateway.url}${p}`, { headers: token ? { 'x-conduit-token': token } : {} });
      assert.equal((await get('/v1/conduit/reports/usage', null)).status, 401);
      const bad = await get('/v1/conduit/reports/usage?groupBy=team');
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as any).error.message, /groupBy: "team" is not a dimension/);
      const late = await get('/v1/conduit/reports/usage?from=2026-11-05&to=2026-11-01');
      assert.equal(late.status, 400);
      assert.match(((await late.json()) as any).error.message, /from must be before to/);
      assert.equal((await get('/v1/conduit/reports/costs')).status, 404);
      const post = await fetch(`${gateway.url}/v1/conduit/reports/usage`, { method: 'POST', headers: { 'x-conduit-token': gateway.token }, body: '{}' });
      assert.equal(post.status, 405);
      await assert.rejects(fetchUsageReport({ port: gateway.port, token: 'wrong-token-wrong-token' }, {}), (e: Error) => e instanceof ReportError && e.status === 401 && /access token/.test(e.message));
      await assert.rejects(fetchUsageReport(endpoint(), { groupBy: ['day'], from: '2026-11-05', to: '2026-11-01' }), (e: Error) => e instanceof ReportError && e.status === 400);
    });

    it('a client that leaves mid-stream ends the stream; the gateway goes on serving', async () => {
      const query = { from: '2026-10-08', to: '2026-11-27', tz: 'UTC', groupBy: ['session', 'model', 'day'] as ReportDimension[] };
      // Read the first line, then go: the raw socket, so nothing buffers the rest for us.
      const first = await new Promise<string>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: gateway.port, path: reportQueryString(query), headers: { 'x-conduit-token': gateway.token } }, (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (c: string) => {
            text += c;
            if (text.includes('\n')) {
              req.destroy();
              resolve(text.slice(0, text.indexOf('\n')));
            }
          });
        });
        req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
      });
      assert.equal(JSON.parse(first).type, 'meta');
      // Reading with an AbortSignal stops the same way, with the signal's reason.
      const controller = new AbortController();
      await assert.rejects((async () => {
        for await (const e of readUsageReport(endpoint(), query, { signal: controller.signal })) {
          if (e.type === 'row' && e.index === 10) controller.abort(new Error('stop here'));
        }
      })(), /stop here/);
      const after = await fetchUsageReport(endpoint(), { groupBy: ['model'] });
      assert.ok(after.rows.length > 0);
    });
  });
});
