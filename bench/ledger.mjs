// Ledger benchmark: an on-disk PGlite store with 1,000,000 usage rows, then
//   1. ingestion through the real path (journal files → JournalIngester → usage_tracking +
//      routing_decisions) of 20,000 records: records/s and rows/s;
//   2. every analytics query, for day / week / month and with agent, session and time zone
//      variants: p50 / p95 / max in ms over --runs runs (after warm-up).
//
//   node --import tsx bench/ledger.mjs [--rows 1000000] [--span-days 365] [--ingest 20000] [--batch <records per transaction>] [--runs 40] [--memory] [--keep] [--only <name part or query>]
//
// The million rows are generated inside PGlite (INSERT ... SELECT generate_series, in
// chunks, through the real rollup triggers), not row by row from JavaScript.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { LedgerEngine } = require('../src/conduit/ledger/store/engine.ts');
const { finishAnalytics } = require('../src/conduit/ledger/store/analytics/index.ts');
const { PriceTable } = require('../src/conduit/pricing/priceTable.ts');
const { silentLogger } = require('../src/conduit/core/log.ts');
const { makeRecords, writeJournal } = require('../test/ledger/support/records.ts');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const ROWS = Number(arg('rows', 1_000_000));
const INGEST = Number(arg('ingest', 20_000));
const RUNS = Number(arg('runs', 40));
// The ingester's own batch size unless given.
const BATCH = arg('batch', undefined) === undefined ? undefined : Number(arg('batch'));
const MEMORY = arg('memory', false) === true;
const KEEP = arg('keep', false) === true;
const CHUNK = 100_000;
const SPAN_DAYS = Number(arg('span-days', 365));

const fmt = (n) => n.toLocaleString('en-US');
const ms = (t0) => performance.now() - t0;

const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-bench-ledger-'));
const journalDir = path.join(home, 'journal');
const dataDir = MEMORY ? null : path.join(home, 'data', 'pglite');
console.log(`ledger benchmark: ${fmt(ROWS)} usage rows, ingestion of ${fmt(INGEST)} journal records, ${RUNS} runs per query`);
console.log(`store: ${dataDir ?? 'in memory'} (node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);

let t0 = performance.now();
const engine = await LedgerEngine.open({ dataDir, journalDir, log: silentLogger, migrationsDir: path.join(root, 'supabase'), ingest: BATCH ? { batchSize: BATCH } : undefined });
console.log(`open (create + migrate): ${fmt(Math.round(ms(t0)))} ms`);
const db = engine.db;
const now = new Date();

// Four projects (half the traffic in the first), three agents each, plus requests without agent.
await db.exec(`
  create temp table bench_projects (idx int primary key, id uuid);
  create temp table bench_agents (project_idx int, idx int, id uuid);
  create temp table bench_models (lo int, hi int, model text, provider text, source text, rule text,
    pin numeric, pout numeric, pcw numeric, pcr numeric);
  insert into bench_models values
    (0, 45, 'claude-sonnet-4-5', 'anthropic', 'default', 'default model', 3, 15, 3.75, 0.3),
    (45, 70, 'claude-haiku-4-5', 'anthropic', 'background', 'haiku-class request', 1, 5, 1.25, 0.1),
    (70, 75, 'claude-sonnet-4-5', 'anthropic', 'long-context', 'tokens 72,000 > 60,000', 3, 15, 3.75, 0.3),
    (75, 85, 'claude-opus-4-5', 'anthropic', 'reasoning', 'keyword "think hard"', 5, 25, 6.25, 0.5),
    (85, 93, 'claude-opus-4-1', 'anthropic', 'agent', 'agent model', 15, 75, 18.75, 1.5),
    (93, 98, 'claude-sonnet-4-5', 'anthropic', 'passthrough', 'requested model', 3, 15, 3.75, 0.3),
    (98, 99, 'claude-sonnet-4-5', 'anthropic', 'web-search', 'web search tool', 3, 15, 3.75, 0.3),
    (99, 100, 'gpt-5', 'openai', 'plugin', 'plugin cheap-router', null, null, null, null);
`);
for (let p = 0; p < 4; p++) {
  const { rows } = await db.query(
    `insert into public.projects (user_id, name, workspace_key, model_config)
     values ($1, $2, $3, '{"enabled": true, "defaultModel": "claude-sonnet-4-5"}') returning id`,
    [engine.localUserId, `bench ${p}`, `bench-project-${p}`]);
  await db.query(`insert into bench_projects values ($1, $2)`, [p, rows[0].id]);
  for (let a = 1; a <= 3; a++) {
    const { rows: ag } = await db.query(
      `insert into public.agents (project_id, name, external_id, persona_type) values ($1, $2, $3, 'subagent') returning id`,
      [rows[0].id, `agent ${p}.${a}`, `bench-agent-${a}`]);
    await db.query(`insert into bench_agents values ($1, $2, $3)`, [p, a, ag[0].id]);
  }
}

const GENERATE = `
  insert into public.usage_tracking (
    request_id, project_id, agent_id, session_id, claude_session_id, model, requested_model, provider,
    routing_source, routing_rule, input_tokens, output_tokens, cache_creation_tokens, cache_creation_5m_tokens,
    cache_read_tokens, cost, cost_source, price_version, status, error, stream, duration_ms, first_byte_ms,
    device, metadata, started_at, ended_at, created_at)
  select
    'bench-' || g, pr.id, ag.id, 'bench-s-' || pi || '-' || (g / 800), 'claude-s-' || pi || '-' || (g / 800),
    m.model, 'claude-sonnet-4-5', m.provider, m.source, m.rule,
    t.input, t.output, t.cw, t.cw, t.cr,
    case when m.pin is null or t.failed then null
         else round((t.input * m.pin + t.output * m.pout + t.cw * m.pcw + t.cr * m.pcr) / 1000000, 6) end,
    case when t.failed then 'no-usage' when m.pin is null then 'unknown' else 'table:' || m.model end,
    case when m.pin is null or t.failed then null else '2026-11-27' end,
    case when t.failed then 529 else 200 end,
    case when t.failed then 'overloaded_error' end,
    true, t.duration, 100 + h3 % 900, 'bench-host', '{}'::jsonb,
    ts - t.duration * interval '1 millisecond', ts, ts
  from generate_series($1::int, $2::int) g
  cross join lateral (select hashint4(g) & 2147483647 as h1, hashint4(g + 7777777) & 2147483647 as h2,
                             hashint4(g + 3333333) & 2147483647 as h3) h
  cross join lateral (select case when h1 % 20 < 10 then 0 when h1 % 20 < 15 then 1 when h1 % 20 < 18 then 2 else 3 end as pi) p
  join bench_projects pr on pr.idx = p.pi
  left join bench_agents ag on ag.project_idx = p.pi and ag.idx = ((g / 800) + p.pi) % 4
  join bench_models m on h2 % 100 >= m.lo and h2 % 100 < m.hi
  cross join lateral (select (h3 % 50 = 0) as failed) f
  cross join lateral (select
      case when f.failed then 0 else 20 + h1 % 6000 end as input,
      case when f.failed then 0 else 10 + h2 % 2500 end as output,
      case when f.failed or h3 % 5 <> 0 then 0 else h3 % 4000 end as cw,
      case when f.failed then 0 else h3 % 60000 end as cr,
      f.failed, 500 + h3 % 30000 as duration) t
  cross join lateral (select $3::timestamptz - ($4::bigint - g) * ($5::float8 / $4::bigint) * interval '1 second'
                             - (h1 % 30) * interval '1 second' as ts) tt`;

t0 = performance.now();
for (let start = 1; start <= ROWS; start += CHUNK) {
  const end = Math.min(ROWS, start + CHUNK - 1);
  await db.query(GENERATE, [start, end, now.toISOString(), ROWS, SPAN_DAYS * 86_400]);
  process.stdout.write(`\rgenerating: ${fmt(end)} rows`);
}
const genMs = ms(t0);
process.stdout.write('\n');
const { rows: check } = await db.query(
  `select (select count(*) from public.usage_tracking)::int as usage,
          (select sum(request_count) from public.usage_hourly_rollup)::int as rolled,
          (select count(*) from public.usage_hourly_rollup)::int as rollup_rows,
          (select sum(request_count) from public.usage_session_rollup)::int as session_rolled,
          (select count(*) from public.usage_session_rollup)::int as session_rows`);
console.log(`generated ${fmt(check[0].usage)} rows in ${(genMs / 1000).toFixed(1)} s (${fmt(Math.round(ROWS / (genMs / 1000)))} rows/s through the rollup triggers)`);
console.log(`hourly rollup: ${fmt(check[0].rollup_rows)} rows holding ${fmt(check[0].rolled)} requests; session rollup: ${fmt(check[0].session_rows)} rows holding ${fmt(check[0].session_rolled)}`);
if (check[0].rolled !== check[0].usage) throw new Error('the hourly rollup does not count every usage row');
t0 = performance.now();
await engine.maintain(); // what the engine runs after a large catch-up: vacuum the rollups, analyze
console.log(`maintenance (vacuum + analyze): ${fmt(Math.round(ms(t0)))} ms`);

// 1. Ingestion through the real path.
const records = makeRecords({ count: INGEST, end: now, spanMs: 2 * 86_400_000, seed: 42, idPrefix: 'bench-ingest' });
writeJournal(journalDir, records);
t0 = performance.now();
const cpu0 = process.cpuUsage();
const result = await engine.ingester.ingestAvailable();
const ingestMs = ms(t0);
const ingestCpu = process.cpuUsage(cpu0);
const { rows: ingested } = await db.query(
  `select (select count(*) from public.usage_tracking where request_id like 'bench-ingest-%')::int as usage,
          (select count(*) from public.routing_decisions where request_id like 'bench-ingest-%')::int as decisions`);
if (ingested[0].usage !== INGEST || result.inserted !== INGEST) throw new Error(`ingested ${ingested[0].usage} of ${INGEST}`);
const perSec = (n) => fmt(Math.round(n / (ingestMs / 1000)));
console.log(`ingestion: ${fmt(INGEST)} journal records in ${fmt(Math.round(ingestMs))} ms = ${perSec(INGEST)} records/s ` +
  `(${perSec(ingested[0].usage + ingested[0].decisions)} rows/s: usage_tracking + routing_decisions, batches of ${BATCH ? fmt(BATCH) : 'the ingester\'s default size'} per transaction); ` +
  `CPU ${Math.round((ingestCpu.user + ingestCpu.system) / INGEST)} µs per record (this process: reading the journal and the store), ` +
  `that is ${fmt(Math.round(INGEST / ((ingestCpu.user + ingestCpu.system) / 1e6)))} records per CPU second (the rate on an idle core)`);
t0 = performance.now();
const again = await engine.ingester.ingestAvailable();
console.log(`replay check: a second pass read ${again.records} new records (checkpoint) in ${Math.round(ms(t0))} ms`);

// 2. Queries.
const prices = new PriceTable();
const { rows: sessions } = await db.query(
  `select session_id from public.usage_session_rollup where project_id = (select id from bench_projects where idx = 0) order by last_at desc limit 1`);
const project = 'bench-project-0';
const scenarios = [];
for (const range of ['day', 'week', 'month']) {
  for (const q of ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache']) {
    scenarios.push({ name: `${q} ${range}`, q, params: { project, range, tz: 'Europe/Berlin', limit: 50 } });
  }
}
scenarios.push(
  { name: 'summary month, agent', q: 'summary', params: { project, agent: 'bench-agent-2', range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'timeseries month, agent', q: 'timeseries', params: { project, agent: 'bench-agent-2', range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'timeseries week hourly', q: 'timeseries', params: { project, range: 'week', tz: 'America/New_York', bucket: 'hour', limit: 50 } },
  { name: 'timeseries month, Asia/Kolkata', q: 'timeseries', params: { project, range: 'month', tz: 'Asia/Kolkata', limit: 50 } },
  { name: 'summary custom 90 days', q: 'summary', params: { project, range: 'custom', from: new Date(now.getTime() - 90 * 86_400_000).toISOString(), to: now.toISOString(), tz: 'UTC', limit: 50 } },
  { name: 'summary month, session', q: 'summary', params: { project, session: sessions[0].session_id, range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'recent month, session', q: 'recent', params: { project, session: sessions[0].session_id, range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'summary month, all projects', q: 'summary', params: { range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'models month, all projects', q: 'models', params: { range: 'month', tz: 'UTC', limit: 50 } },
  { name: 'recent month, all projects', q: 'recent', params: { range: 'month', tz: 'UTC', limit: 50 } },
  // Issue 11: calendar ranges, the daily split, sessions ranked over the whole range, pages.
  { name: 'summary this-month (+previous)', q: 'summary', params: { project, range: 'this-month', tz: 'Europe/Paris', limit: 50 } },
  { name: 'summary today, all projects', q: 'summary', params: { range: 'today', tz: 'Europe/Paris', limit: 50 } },
  { name: 'models this-month', q: 'models', params: { project, range: 'this-month', tz: 'Europe/Paris', limit: 50 } },
  { name: 'daily 30d by model', q: 'daily', params: { project, range: '30d', tz: 'Europe/Paris', groupBy: 'model', limit: 50 } },
  { name: 'daily 30d by agent', q: 'daily', params: { project, range: '30d', tz: 'Europe/Paris', groupBy: 'agent', limit: 50 } },
  { name: 'daily 30d by project, all projects', q: 'daily', params: { range: '30d', tz: 'Europe/Paris', groupBy: 'project', limit: 50 } },
  { name: 'daily this-week by model, Asia/Kolkata', q: 'daily', params: { project, range: 'this-week', tz: 'Asia/Kolkata', groupBy: 'model', limit: 50 } },
  { name: 'sessions 30d by cost', q: 'sessions', params: { project, range: '30d', tz: 'UTC', sort: 'cost', limit: 50 } },
  { name: 'sessions 30d by duration, page 3', q: 'sessions', params: { project, range: '30d', tz: 'UTC', sort: 'duration', limit: 50, offset: 100 } },
  { name: 'sessions 30d by cost, all projects', q: 'sessions', params: { range: '30d', tz: 'UTC', sort: 'cost', limit: 200 } },
  { name: 'agents this-month (share, trend)', q: 'agents', params: { project, range: 'this-month', tz: 'Europe/Paris', limit: 50 } },
  { name: 'recent 30d, 200 from offset 200', q: 'recent', params: { project, range: '30d', tz: 'UTC', limit: 200, offset: 200 } },
);
const ONLY = arg('only', '');
if (ONLY) scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => s.name.includes(ONLY) || s.q === ONLY));

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
console.log('\nquery (project bench-project-0 unless said)      p50 ms   p95 ms   max ms');
let worst = { name: '', p95: 0 };
for (const s of scenarios) {
  const run = async () => finishAnalytics(await engine.analytics(s.q, s.params, now), prices, s.params);
  for (let i = 0; i < 3; i++) await run();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p95 = pct(times, 95);
  if (p95 > worst.p95) worst = { name: s.name, p95 };
  console.log(`${s.name.padEnd(46)} ${pct(times, 50).toFixed(1).padStart(7)}  ${p95.toFixed(1).padStart(7)}  ${times[times.length - 1].toFixed(1).padStart(7)}`);
}
console.log(`\nslowest p95: ${worst.p95.toFixed(1)} ms (${worst.name}); target ≤ 50 ms (load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
// The store runs in this process here (in the gateway: in its worker thread), so this is its memory.
console.log(`process RSS after the queries: ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`);

await engine.close({ finalIngestMs: 0 });
if (KEEP) console.log(`kept ${home}`);
else rmSync(home, { recursive: true, force: true });
