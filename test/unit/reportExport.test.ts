// The report writer behind "Conduit: Export Usage Report": CSV (RFC 4180, safe against
// formula injection) and JSON, written atomically, with progress and cancellation; and the
// stream reader it uses, against a stand-in gateway that can stall or cut the stream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readUsageReport, type ReportEvent } from '../../src/conduit/client/reportClient';
import { parseCsv } from '../support/csv';
import {
  checkDate, checkDateRange, csvField, exportUsageReport, presetRange, reportFileName, type ReportProgress,
} from '../../src/conduit/client/reportExport';
import type { ReportMeasures, ReportMeta, UsageReportRow } from '../../src/protocol/reports';

const measures = (i: number): ReportMeasures => ({
  requests: i + 1, errors: 0, inputTokens: 100 * i, outputTokens: 50 * i, cacheCreationTokens: 10 * i, cacheReadTokens: 1000 * i,
  totalTokens: 1160 * i, cost: i % 7 === 3 ? null : i * 0.001234, unknownCostRequests: i % 7 === 3 ? i + 1 : 0,
});
const meta = (totalRows: number): ReportMeta => ({
  version: 1, from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', tz: 'UTC',
  groupBy: ['project', 'agent', 'model', 'day'], project: null, agent: null, totalRows, generatedAt: '2026-11-27T08:00:00.000Z',
});
function rowsOf(n: number): UsageReportRow[] {
  return Array.from({ length: n }, (_, i) => ({
    projectKey: `file:///work/p${i % 3}`, projectName: `p${i % 3}`, agentId: i % 2 ? 'reviewer' : null, agentName: i % 2 ? 'Reviewer' : null,
    model: 'claude-sonnet-4-5', day: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`, ...measures(i),
  }));
}
const totalsOf = (rows: UsageReportRow[]): ReportMeasures => ({
  requests: rows.reduce((n, r) => n + r.requests, 0), errors: 0, inputTokens: 1, outputTokens: 2, cacheCreationTokens: 3, cacheReadTokens: 4, totalTokens: 10, cost: 1.5, unknownCostRequests: 0,
});

/** A report source in memory; `stopAfter` rows it waits for the abort signal (a stalled gateway); `failAfter` rows it throws. */
function source(rows: UsageReportRow[], options: { stopAfter?: number; failAfter?: number; metaOverride?: ReportMeta } = {}) {
  return async function* (_gw: unknown, _q: unknown, o: { signal?: AbortSignal }): AsyncGenerator<ReportEvent> {
    yield { type: 'meta', meta: options.metaOverride ?? meta(rows.length) };
    for (let i = 0; i < rows.length; i++) {
      if (i === options.failAfter) throw new Error('the gateway went away');
      if (i === options.stopAfter) {
        if (!o.signal) throw new Error('no signal to wait for');
        if (!o.signal.aborted) await once(o.signal, 'abort');
        throw o.signal.reason;
      }
      yield { type: 'row', row: rows[i], index: i };
    }
    yield { type: 'totals', totals: totalsOf(rows) };
  };
}

describe('usage report export (CSV and JSON writer)', () => {
  let dir: string;
  const gateway = { port: 1, token: null };
  const files = () => readdirSync(dir).sort();

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-export-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('CSV: a header, RFC 4180 quoting, formula-like text neutralized, unknown cost empty, a totals row', async () => {
    const hostile: UsageReportRow[] = [
      { projectKey: 'file:///work/a,b', projectName: 'say "hi"', agentId: '=HYPERLINK("http://x.test","click")', agentName: '+1 agent', model: '-2model', day: '2026-11-01', ...measures(1) },
      { projectKey: '@SUM(A1:A9)', projectName: 'two\r\nlines', agentId: '\tcmd', agentName: 'plain', model: 'claude-opus-4-5', day: '2026-11-02', ...measures(3) },
    ];
    const file = path.join(dir, 'report.csv');
    const result = await exportUsageReport({ gateway, query: {}, format: 'csv', file, read: source(hostile) });
    assert.equal(result.rows, 2);
    const raw = readFileSync(file, 'utf8');
    assert.ok(raw.startsWith('\uFEFF'), 'a UTF-8 byte order mark, for spreadsheets');
    const text = raw.slice(1);
    const table = parseCsv(text);
    assert.deepEqual(table[0], ['project_key', 'project_name', 'agent_id', 'agent_name', 'model', 'day', 'requests', 'errors', 'input_tokens', 'output_tokens',
      'cache_creation_tokens', 'cache_read_tokens', 'total_tokens', 'cost_usd', 'unknown_cost_requests']);
    assert.deepEqual(table[1].slice(0, 6), ['file:///work/a,b', 'say "hi"', '\'=HYPERLINK("http://x.test","click")', '\'+1 agent', '\'-2model', '2026-11-01']);
    assert.deepEqual(table[1].slice(6), ['2', '0', '100', '50', '10', '1000', '1160', '0.001234', '0']);
    assert.deepEqual(table[2].slice(0, 4), ['\'@SUM(A1:A9)', 'two\r\nlines', '\'\tcmd', 'plain']);
    assert.equal(table[2][13], '', 'an unknown cost is an empty cell, not 0');
    assert.equal(table[2][14], '4');
    assert.deepEqual(table[3], ['Total', '', '', '', '', '', '6', '0', '1', '2', '3', '4', '10', '1.5', '0']);
    assert.equal(table.length, 4);
    // The raw text: quotes doubled, fields with , " CR LF quoted, nothing else quoted.
    assert.ok(text.includes('"file:///work/a,b","say ""hi"""'));
    assert.ok(text.startsWith('project_key,project_name,'));
    assert.deepEqual(files(), ['report.csv'], 'no temporary file left');
  });

  it('CSV fields: numbers as they are, negative numbers not touched, text that starts like a formula prefixed', () => {
    assert.equal(csvField(-3), '-3');
    assert.equal(csvField(0.000001), '0.000001');
    assert.equal(csvField(null), '');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField('-3'), '\'-3');
    assert.equal(csvField('=1+2'), '\'=1+2');
    assert.equal(csvField('a=b'), 'a=b');
    assert.equal(csvField('=a,b'), '"\'=a,b"');
    assert.equal(csvField('\rx'), '"\'\rx"');
  });

  it('JSON: {meta, rows, totals}, rows exactly as received', async () => {
    const rows = rowsOf(1234);
    const file = path.join(dir, 'report.json');
    await exportUsageReport({ gateway, query: {}, format: 'json', file, read: source(rows) });
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { meta: ReportMeta; rows: UsageReportRow[]; totals: ReportMeasures };
    assert.deepEqual(parsed, { meta: meta(1234), rows, totals: totalsOf(rows) });
    const empty = path.join(dir, 'empty.json');
    await exportUsageReport({ gateway, query: {}, format: 'json', file: empty, read: source([]) });
    assert.deepEqual(JSON.parse(readFileSync(empty, 'utf8')).rows, []);
  });

  it('progress: from 0 rows, never backwards, ending at the total', async () => {
    for (const [n, expected] of [[1234, [0, 500, 1000, 1234]], [1000, [0, 500, 1000]], [0, [0]]] as const) {
      const seen: ReportProgress[] = [];
      await exportUsageReport({ gateway, query: {}, format: 'csv', file: path.join(dir, `p${n}.csv`), read: source(rowsOf(n)), onProgress: (p) => seen.push({ ...p }) });
      assert.deepEqual(seen.map((p) => p.done), expected, `${n} rows`);
      assert.ok(seen.every((p) => p.total === n));
    }
  });

  it('atomic: a failure mid-way or a cancellation leaves the existing file as it was and no temporary file', async () => {
    const file = path.join(dir, 'usage.csv');
    writeFileSync(file, 'the previous report\r\n');
    await assert.rejects(exportUsageReport({ gateway, query: {}, format: 'csv', file, read: source(rowsOf(2000), { failAfter: 1500 }) }), /the gateway went away/);
    assert.equal(readFileSync(file, 'utf8'), 'the previous report\r\n');
    assert.deepEqual(files(), ['usage.csv']);

    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(exportUsageReport({
      gateway, query: {}, format: 'json', file, signal: controller.signal, read: source(rowsOf(5000), { stopAfter: 1200 }),
      onProgress: (p) => { seen.push(p.done); if (p.done >= 1000) controller.abort(new Error('cancelled by the person')); },
    }), /cancelled by the person/);
    assert.deepEqual(seen, [0, 500, 1000]);
    assert.equal(readFileSync(file, 'utf8'), 'the previous report\r\n');
    assert.deepEqual(files(), ['usage.csv']);

    // A new file that is cancelled does not appear at all; nor does one cancelled before it starts.
    const fresh = new AbortController();
    const fresh2 = path.join(dir, 'new.csv');
    const run = exportUsageReport({ gateway, query: {}, format: 'csv', file: fresh2, signal: fresh.signal, read: source(rowsOf(10), { stopAfter: 5 }) });
    fresh.abort(new Error('stop'));
    await assert.rejects(run, /stop/);
    await assert.rejects(exportUsageReport({ gateway, query: {}, format: 'csv', file: fresh2, signal: AbortSignal.abort(new Error('already')), read: source(rowsOf(10)) }), /already/);
    assert.deepEqual(files(), ['usage.csv']);

    // And a complete export replaces it.
    await exportUsageReport({ gateway, query: {}, format: 'csv', file, read: source(rowsOf(3)) });
    assert.equal(parseCsv(readFileSync(file, 'utf8')).length, 5);
    assert.deepEqual(files(), ['usage.csv']);
  });

  describe('over HTTP (a stand-in gateway)', () => {
    let server: http.Server;
    let port: number;
    let behaviour: 'stall' | 'cut' | 'whole' = 'whole';
    let closedByClient: Promise<void>;
    const rows = rowsOf(1500);

    before(async () => {
      server = http.createServer((req, res) => {
        closedByClient = new Promise((resolve) => res.once('close', () => resolve()));
        assert.equal(req.headers['x-conduit-token'], 'test-token-0123456789');
        assert.match(req.url!, /^\/v1\/conduit\/reports\/usage\?from=2026-11-01&to=2026-11-30&tz=Europe%2FBerlin&groupBy=project%2Cagent%2Cmodel%2Cday$/);
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ type: 'meta', ...meta(rows.length) })}\n`);
        const upTo = behaviour === 'whole' ? rows.length : 1100;
        res.write(rows.slice(0, upTo).map((r) => `${JSON.stringify({ type: 'row', ...r })}\n`).join(''));
        if (behaviour === 'whole') res.end(`${JSON.stringify({ type: 'totals', ...totalsOf(rows) })}\n`);
        else if (behaviour === 'cut') res.end();
        // 'stall': nothing more until the client goes
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const query = { from: '2026-11-01', to: '2026-11-30', tz: 'Europe/Berlin', groupBy: ['project', 'agent', 'model', 'day'] as const };
    const endpoint = () => ({ port, token: 'test-token-0123456789' });

    it('writes the whole stream', async () => {
      behaviour = 'whole';
      const file = path.join(dir, 'whole.csv');
      const done: number[] = [];
      const r = await exportUsageReport({ gateway: endpoint(), query: { ...query, groupBy: [...query.groupBy] }, format: 'csv', file, onProgress: (p) => done.push(p.done) });
      assert.equal(r.rows, 1500);
      assert.deepEqual(done, [0, 500, 1000, 1500]);
      assert.equal(parseCsv(readFileSync(file, 'utf8')).length, 1502);
    });

    it('a cut stream is an error, and nothing is written', async () => {
      behaviour = 'cut';
      const file = path.join(dir, 'cut.csv');
      await assert.rejects(exportUsageReport({ gateway: endpoint(), query: { ...query, groupBy: [...query.groupBy] }, format: 'csv', file }), /the report was cut after 1100 of 1500 rows/);
      assert.deepEqual(files(), []);
    });

    it('cancelling while the gateway stalls closes the connection and writes nothing', async () => {
      behaviour = 'stall';
      const controller = new AbortController();
      const file = path.join(dir, 'stalled.json');
      await assert.rejects(exportUsageReport({
        gateway: endpoint(), query: { ...query, groupBy: [...query.groupBy] }, format: 'json', file, signal: controller.signal,
        onProgress: (p) => { if (p.done >= 1000) controller.abort(new Error('cancelled')); },
      }), /cancelled/);
      await closedByClient;
      assert.deepEqual(files(), []);
      // The reader alone stops the same way.
      const reader = new AbortController();
      let n = 0;
      await assert.rejects((async () => {
        for await (const e of readUsageReport(endpoint(), { ...query, groupBy: [...query.groupBy] }, { signal: reader.signal })) {
          if (e.type === 'row' && ++n === 1100) reader.abort(new Error('enough'));
        }
      })(), /enough/);
      await closedByClient;
    });
  });

  it('ranges of the export command: today, this week (from Monday), this month, last month, in the time zone given', () => {
    const now = new Date('2026-11-27T05:17:00Z'); // Friday in UTC; still Thursday 26th in Los Angeles
    assert.deepEqual(presetRange('today', now, 'UTC'), { from: '2026-11-27', to: '2026-11-27' });
    assert.deepEqual(presetRange('today', now, 'America/Los_Angeles'), { from: '2026-11-26', to: '2026-11-26' });
    assert.deepEqual(presetRange('thisWeek', now, 'UTC'), { from: '2026-11-23', to: '2026-11-27' });
    assert.deepEqual(presetRange('thisWeek', now, 'America/Los_Angeles'), { from: '2026-11-23', to: '2026-11-26' });
    assert.deepEqual(presetRange('thisWeek', new Date('2026-11-23T10:00:00Z'), 'UTC'), { from: '2026-11-23', to: '2026-11-23' }, 'a Monday');
    assert.deepEqual(presetRange('thisWeek', new Date('2026-11-29T10:00:00Z'), 'UTC'), { from: '2026-11-23', to: '2026-11-29' }, 'a Sunday');
    assert.deepEqual(presetRange('thisMonth', now, 'UTC'), { from: '2026-11-01', to: '2026-11-27' });
    assert.deepEqual(presetRange('lastMonth', now, 'UTC'), { from: '2026-10-01', to: '2026-10-31' });
    assert.deepEqual(presetRange('lastMonth', new Date('2026-01-15T12:00:00Z'), 'UTC'), { from: '2025-12-01', to: '2025-12-31' });
    assert.deepEqual(presetRange('lastMonth', new Date('2028-03-01T01:00:00Z'), 'Asia/Tokyo'), { from: '2028-02-01', to: '2028-02-29' });
    assert.deepEqual(presetRange('lastMonth', new Date('2028-03-01T01:00:00Z'), 'America/New_York'), { from: '2028-01-01', to: '2028-01-31' });
    assert.equal(checkDate('2026-11-01'), null);
    assert.match(checkDate('2026-02-30')!, /not a date of the calendar/);
    assert.match(checkDate('1/11/2026')!, /YYYY-MM-DD/);
    assert.equal(checkDateRange('2026-11-01', '2026-11-01'), null);
    assert.match(checkDateRange('2026-11-02', '2026-11-01')!, /before the start/);
    assert.equal(reportFileName({ from: '2026-11-01', to: '2026-11-30' }, 'csv'), 'conduit-usage-2026-11-01-to-2026-11-30.csv');
    assert.equal(reportFileName({ from: '2026-11-27', to: '2026-11-27' }, 'json'), 'conduit-usage-2026-11-27.json');
  });
});
