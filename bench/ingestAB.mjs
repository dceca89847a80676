// A/B of journal ingestion in one process: the ingester and migrations of an earlier source
// tree (A, before) and of this one (B, after), each on its own on-disk PGlite store, fed the
// same records in alternating rounds (so a change of load on the machine weighs on both).
// Prints records/s and CPU per record of each, and the ratios.
//
//   git archive <commit> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//   node --import tsx bench/ingestAB.mjs /tmp/before [--rounds 6] [--ingest 5000] [--batch 1000]
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}
const treeA = path.resolve(process.argv[2] ?? '');
const treeB = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// The engine's place in either tree (src/conduit/ledger/store/ since the ledger's folders).
const engineOf = (tree) => ['src/conduit/ledger/store/engine.ts', 'src/conduit/ledger/engine.ts'].find((p) => existsSync(path.join(tree, p)));
const engA = engineOf(treeA), engB = engineOf(treeB);
if (!engA) throw new Error(`usage: node --import tsx bench/ingestAB.mjs <an earlier source tree> (no ledger engine in ${treeA})`);
const ROUNDS = Number(arg('rounds', 6)), N = Number(arg('ingest', 5000)), BATCH = arg('batch') ? Number(arg('batch')) : undefined;
const require = createRequire(import.meta.url);
const { makeRecords, writeJournal } = require(path.join(treeB, 'test/ledger/support/records.ts'));
async function open(tree, eng) {
  const { LedgerEngine } = require(path.join(tree, eng));
  const { silentLogger } = require(path.join(tree, 'src/conduit/core/log.ts'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'conduit-ab-'));
  const journalDir = path.join(home, 'journal');
  const engine = await LedgerEngine.open({ dataDir: path.join(home, 'pg'), journalDir, log: silentLogger, migrationsDir: path.join(tree, 'supabase'), snapshot: null, ingest: BATCH ? { batchSize: BATCH } : undefined });
  engine.ingester.stopScheduling();
  return { engine, journalDir, cpu: 0, ms: 0, n: 0 };
}
const A = await open(treeA, engA), B = await open(treeB, engB);
const now = Date.now();
for (let r = 0; r <= ROUNDS; r++) {
  const records = makeRecords({ count: N, end: new Date(now - (ROUNDS - r) * 3 * 3_600_000), spanMs: 3 * 3_600_000, seed: r + 1, idPrefix: `ab-${r}` });
  for (const s of r % 2 ? [A, B] : [B, A]) {
    writeJournal(s.journalDir, records);
    const t = performance.now(), c = process.cpuUsage();
    const res = await s.engine.ingester.ingestAvailable();
    if (res.inserted !== N) throw new Error(`inserted ${res.inserted}`);
    const cu = process.cpuUsage(c);
    if (r > 0) { s.ms += performance.now() - t; s.cpu += cu.user + cu.system; s.n += N; } // round 0 warms up
  }
}
for (const [name, s] of [['A (before)', A], ['B (after)', B]]) {
  const { rows } = await s.engine.db.query(`select (select count(*) from public.usage_tracking)::int u, (select sum(request_count) from public.usage_hourly_rollup)::int h`);
  console.log(`${name}: ${Math.round(s.n / (s.ms / 1000))} records/s, ${(s.cpu / s.n).toFixed(1)} µs CPU per record (${rows[0].u} rows, hourly rollup ${rows[0].h})`);
}
console.log(`B/A: ${((B.n / B.ms) / (A.n / A.ms)).toFixed(2)}x the records/s, ${(B.cpu / A.cpu).toFixed(2)}x the CPU per record (load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
await A.engine.close({ finalIngestMs: 0 }); await B.engine.close({ finalIngestMs: 0 });
