// A/B of the rollup triggers in one run: two on-disk PGlite stores side by side, one migrated
// up to --before (the schema as it was) and one with every migration, fed the same journal
// records through the real ingestion path, round after round in alternating order (so a
// change of load on the machine weighs on both). Then the same UPDATE and DELETE on both.
// Prints records/s per store and the ratio after/before (> 1: faster now).
//
//   node --import tsx bench/rollupTriggers.mjs [--before 20261203000006] [--rounds 4] [--ingest 5000] [--small-batch 10]
//
// After a warm-up round, each round ingests --ingest records in batches of 1,000 (catching up) and --ingest / 10
// records in batches of --small-batch (a quiet gateway: a few records per statement).
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { LedgerEngine } = require('../src/conduit/ledger/store/engine.ts');
const { silentLogger } = require('../src/conduit/core/log.ts');
const { makeRecords, writeJournal } = require('../test/ledger/support/records.ts');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 || process.argv[i + 1] === undefined ? fallback : process.argv[i + 1];
}
const BEFORE = String(arg('before', '20261203000006'));
const ROUNDS = Number(arg('rounds', 4));
const INGEST = Number(arg('ingest', 5_000));
const SMALL_BATCH = Number(arg('small-batch', 10));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-bench-rollups-'));
// The schema as it was: the repository's supabase folder without the migrations after --before.
const beforeDir = path.join(home, 'supabase-before');
cpSync(path.join(root, 'supabase'), beforeDir, { recursive: true });
const dropped = readdirSync(path.join(beforeDir, 'migrations')).filter((f) => f.slice(0, BEFORE.length) > BEFORE);
for (const f of dropped) rmSync(path.join(beforeDir, 'migrations', f));
console.log(`rollup triggers A/B: "before" without ${dropped.join(', ') || '(nothing: --before is the newest)'}; ` +
  `${ROUNDS} rounds of ${fmt(INGEST)} records (batches of 1,000) and ${fmt(INGEST / 10)} (batches of ${SMALL_BATCH})`);
console.log(`node ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

async function openStore(name, migrationsDir) {
  const dir = path.join(home, name);
  const journalDir = path.join(dir, 'journal');
  const engine = await LedgerEngine.open({
    dataDir: path.join(dir, 'pglite'), journalDir, log: silentLogger, migrationsDir, snapshot: null, ingest: { batchSize: 1000 },
  });
  return { name, engine, journalDir, time: { large: 0, small: 0, update: 0, delete: 0 }, records: { large: 0, small: 0 } };
}

const stores = [await openStore('before', beforeDir), await openStore('after', path.join(root, 'supabase'))];

// Catching up: the records at once, in statements of 1,000. Quiet: each few records
// journaled and ingested on their own (one statement each), as announcements do.
async function ingest(store, records, batch) {
  const slice = batch === 'large' ? records.length : SMALL_BATCH;
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += slice) {
    const part = records.slice(i, i + slice);
    writeJournal(store.journalDir, part);
    const r = await store.engine.ingester.ingestAvailable();
    if (r.inserted !== part.length) throw new Error(`${store.name}: inserted ${r.inserted} of ${part.length}`);
  }
  if (measuring) {
    store.time[batch] += performance.now() - t0;
    store.records[batch] += records.length;
  }
}

async function timed(store, what, sql) {
  const t0 = performance.now();
  await store.engine.db.exec(sql);
  if (measuring) store.time[what] += performance.now() - t0;
}

// Round 0 warms both stores up (plans, caches) and is not counted.
let measuring = false;
const end = Date.now();
for (let round = 0; round <= ROUNDS; round++) {
  measuring = round > 0;
  const large = makeRecords({ count: INGEST, end: new Date(end - round * 3_600_000), spanMs: 2 * 86_400_000, seed: 100 + round, idPrefix: `large-${round}` });
  const small = makeRecords({ count: INGEST / 10, end: new Date(end - round * 3_600_000), spanMs: 3_600_000, seed: 200 + round, idPrefix: `small-${round}` });
  const order = round % 2 === 0 ? stores : [...stores].reverse();
  for (const s of order) await ingest(s, large, 'large');
  for (const s of order) await ingest(s, small, 'small');
  // A repricing of one model's rows of the round, and the removal of one session's rows.
  for (const s of order) await timed(s, 'update', `update public.usage_tracking set cost = cost * 1.01 where model = 'claude-haiku-4-5' and request_id like 'large-${round}-%'`);
  for (const s of order) await timed(s, 'delete', `delete from public.usage_tracking where session_id = 's-${round}' and request_id like 'large-${round}-%'`);
  process.stdout.write(measuring ? `round ${round}/${ROUNDS} done\n` : 'warm-up round done\n');
}

// Both stores must hold the same rollups (the same data went in).
const rollups = async (s) => (await s.engine.db.query(
  `select (select sum(request_count) from public.usage_hourly_rollup)::text as h,
          (select sum(cost) from public.usage_project_hourly)::text as p,
          (select sum(request_count) from public.usage_session_rollup)::text as s,
          (select sum(request_count) from public.usage_session_model_rollup)::text as m,
          (select sum(request_count) from public.usage_uncosted_hourly)::text as u,
          (select count(*) from public.usage_tracking)::text as rows`)).rows[0];
const [a, b] = [await rollups(stores[0]), await rollups(stores[1])];
if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the stores' rollups differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);

const [before, after] = stores;
const rate = (s, batch) => s.records[batch] / (s.time[batch] / 1000);
const row = (label, x, y, unit, higherIsBetter) =>
  console.log(`${label.padEnd(44)} ${fmt(x).padStart(12)} ${fmt(y).padStart(12)} ${unit.padEnd(10)} ratio ${(higherIsBetter ? y / x : x / y).toFixed(3)}`);
console.log(`${''.padEnd(44)} ${'before'.padStart(12)} ${'after'.padStart(12)}`);
row('ingestion, batches of 1,000', rate(before, 'large'), rate(after, 'large'), 'records/s', true);
row(`ingestion, batches of ${SMALL_BATCH}`, rate(before, 'small'), rate(after, 'small'), 'records/s', true);
row('update (one model of a round, reprice)', before.time.update, after.time.update, 'ms total', false);
row('delete (one session of a round)', before.time.delete, after.time.delete, 'ms total', false);
console.log(`(ratio > 1: "after" is faster; ${fmt(Number(a.rows))} usage rows in each store at the end)`);

for (const s of stores) await s.engine.close({ finalIngestMs: 0 });
rmSync(home, { recursive: true, force: true });
