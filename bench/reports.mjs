// Usage report benchmark: an in-memory store with --rows usage rows over --span-days days
// (ingested through the real journal path), then
//   1. the report in the ledger's thread (runUsageReport) for several groupings and zones:
//      median and max ms over --runs runs;
//   2. the whole way a person sees it: GET /v1/conduit/reports/usage through a gateway,
//      written to a CSV file by the export writer (streamed NDJSON, pages of 2,000 rows).
//
//   node --import tsx bench/reports.mjs [--rows 100000] [--span-days 90] [--runs 5]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { LedgerEngine } = require('../src/conduit/ledger/store/engine.ts');
const { EngineLedger } = require('../src/conduit/ledger/process/engineLedger.ts');
const { startGateway } = require('../src/conduit/gateway.ts');
const { exportUsageReport } = require('../src/conduit/client/reportExport.ts');
const { silentLogger } = require('../src/conduit/core/log.ts');
const { makeRecords, writeJournal } = require('../test/ledger/support/records.ts');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const ROWS = Number(arg('rows', 100_000));
const SPAN_DAYS = Number(arg('span-days', 90));
const RUNS = Number(arg('runs', 5));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-bench-reports-'));
const journalDir = path.join(home, 'journal');
console.log(`usage report benchmark: ${fmt(ROWS)} usage rows over ${SPAN_DAYS} days, ${RUNS} runs per report`);
console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const now = new Date();
let t0 = performance.now();
const engine = await LedgerEngine.open({ dataDir: null, journalDir, log: silentLogger });
console.log(`open (in memory): ${fmt(performance.now() - t0)} ms`);
t0 = performance.now();
writeJournal(journalDir, makeRecords({ count: ROWS, seed: 99, end: new Date(now.getTime() - 60_000), spanMs: SPAN_DAYS * 86_400_000 }));
await engine.ingester.ingestAvailable();
await engine.maintain();
console.log(`ingest ${fmt(ROWS)} records (journal → store): ${fmt(performance.now() - t0)} ms`);

const from = new Date(now.getTime() - SPAN_DAYS * 86_400_000).toISOString().slice(0, 10);
const to = now.toISOString().slice(0, 10);
const cases = [
  { label: 'project,agent,model,day (UTC)', params: { from, to, tz: 'UTC', groupBy: ['project', 'agent', 'model', 'day'] } },
  { label: 'project,agent,model,day (Asia/Kolkata, half-hour offset)', params: { from, to, tz: 'Asia/Kolkata', groupBy: ['project', 'agent', 'model', 'day'] } },
  { label: 'month,model (CLI monthly)', params: { from, to, tz: 'Europe/Berlin', groupBy: ['month', 'model'] } },
  { label: 'session,model (CLI session; usage rows)', params: { from, to, tz: 'UTC', groupBy: ['session', 'model'] } },
];
for (const c of cases) {
  const times = [];
  let rows = 0;
  let requests = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await engine.report(c.params, now);
    times.push(performance.now() - t);
    rows = r.meta.totalRows;
    requests = r.totals.requests;
  }
  console.log(`report ${c.label}: ${fmt(rows)} rows (${fmt(requests)} requests), median ${fmt(median(times))} ms, max ${fmt(Math.max(...times))} ms`);
}

const gateway = await startGateway({ home, port: 0, log: silentLogger, env: { CONDUIT_PLUGINS_DISABLED: '1' }, ledger: new EngineLedger(engine) });
try {
  const file = path.join(home, 'report.csv');
  const times = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await exportUsageReport({ gateway: { port: gateway.port, token: gateway.token }, query: cases[0].params, format: 'csv', file });
    times.push(performance.now() - t);
    rows = r.rows;
  }
  console.log(`export over HTTP to CSV (${cases[0].label}): ${fmt(rows)} rows, ${fmt(statSync(file).size / 1024)} KB, median ${fmt(median(times))} ms, max ${fmt(Math.max(...times))} ms`);
} finally {
  await gateway.close();
  await engine.close({ finalIngestMs: 0 });
  rmSync(home, { recursive: true, force: true });
}
