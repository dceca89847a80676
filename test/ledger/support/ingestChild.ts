// A separate process that ingests a journal into an on-disk store, for the kill -9 test:
//   node --import tsx ingestChild.ts ingest <dataDir> <journalDir>   prints "batch <inserted>" per committed batch, then "done <json>"
//   node --import tsx ingestChild.ts count  <dataDir> <journalDir>   prints "counts <json>"
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../src/conduit/core/log';
import { LedgerEngine } from '../../../src/conduit/ledger/store/engine';

async function main(): Promise<void> {
  const [mode, dataDir, journalDir] = process.argv.slice(2);
  const engine = await LedgerEngine.open({ dataDir, journalDir, log: silentLogger, ingest: { batchSize: 250 } });
  if (mode === 'ingest') {
    process.stdout.write('open\n');
    engine.ingester.on('batch', (b: { inserted: number }) => process.stdout.write(`batch ${b.inserted}\n`));
    const result = await engine.ingester.ingestAvailable();
    process.stdout.write(`done ${JSON.stringify(result)}\n`);
  } else {
    const { rows } = await engine.db.query<Record<string, number>>(`
      select
        (select count(*) from public.usage_tracking)::int as usage,
        (select count(distinct request_id) from public.usage_tracking)::int as distinct_usage,
        (select count(*) from public.routing_decisions)::int as decisions,
        (select coalesce(sum(request_count), 0) from public.usage_hourly_rollup)::int as hourly_rollup,
        (select coalesce(sum(request_count), 0) from public.usage_session_rollup)::int as session_rollup,
        (select count(*) from public.usage_tracking where coalesce(claude_session_id, session_id) is not null)::int as with_session`);
    const { rows: checkpoints } = await engine.db.query<{ file: string; byte_offset: number }>(
      `select file, byte_offset::float8 as byte_offset from conduit_local.journal_checkpoint order by file`);
    const sizes = Object.fromEntries(readdirSync(journalDir).map((f) => [f, statSync(path.join(journalDir, f)).size]));
    process.stdout.write(`counts ${JSON.stringify({ ...rows[0], checkpoints: Object.fromEntries(checkpoints.map((c) => [c.file, c.byte_offset])), sizes })}\n`);
  }
  await engine.close({ finalIngestMs: 0 });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
