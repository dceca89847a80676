// Ingestion inserts in replica mode, where no ordinary trigger fires, and does every skipped
// trigger's work itself (ingest.ts WORK_OF_SKIPPED_TRIGGERS). Here: that list names every
// insert trigger of the ingested tables, and the rollup trigger still counts the rows that
// others insert (Supabase's API callers, the Synapse app), on PostgreSQL and on PGlite.
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import type pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { WORK_OF_SKIPPED_TRIGGERS } from '../../src/conduit/ledger/store/ingest';
import { silentLogger } from '../../src/conduit/core/log';
import { fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { migratedDatabase } from '../sql/ledgerFixtures';

/** Inserts one usage row as an ordinary writer does, and returns what the hourly rollup counts. */
async function insertAsOthersDo(sql: SqlClient): Promise<number> {
  await sql.query(
    `insert into public.usage_tracking (request_id, model, input_tokens, output_tokens, cost, created_at)
     values ('others-1', 'claude-sonnet-4-5', 10, 20, 0.5, '2026-12-01T10:15:00Z')`);
  const { rows } = await sql.query<{ n: number }>(`select coalesce(sum(request_count), 0)::int as n from public.usage_hourly_rollup`);
  return rows[0].n;
}

describe('ledger: the work of the triggers that ingestion skips', () => {
  describe('on PostgreSQL', () => {
    let pgClient: pg.Client;
    let sql: SqlClient;
    before(async () => {
      ({ pgClient, sql } = await migratedDatabase());
    });
    after(async () => {
      await pgClient?.end();
    });

    it('rolls up a row that another writer inserts', async () => {
      assert.equal(await insertAsOthersDo(sql), 1);
    });
  });

  describe('on PGlite (the local store, with its own schema)', () => {
    let lite: PGlite;
    let sql: SqlClient;
    before(async function () {
      this.timeout(120_000);
      lite = await PGlite.create();
      await (await LedgerEngine.open({ dataDir: null, journalDir: path.join(os.tmpdir(), 'conduit-no-journal'), log: silentLogger, pglite: lite, snapshot: null })).close({ finalIngestMs: 0 });
      sql = fromPglite(lite);
    });
    after(async () => {
      await lite?.close();
    });

    it('rolls up a row that another writer inserts', async () => {
      assert.equal(await insertAsOthersDo(sql), 1);
    });

    it('names every insert trigger of the ingested tables with the work ingestion does in its place', async () => {
      // A migration that adds an insert trigger fails here until ingest.ts does its work (or says why none is needed).
      const { rows } = await sql.query<{ name: string }>(
        `select c.relname || '.' || t.tgname as name
         from pg_trigger t join pg_class c on c.oid = t.tgrelid
         where c.relname in ('usage_tracking', 'routing_decisions') and c.relnamespace = 'public'::regnamespace
           and not t.tgisinternal and (t.tgtype & 4) <> 0
         order by 1`);
      assert.deepEqual(rows.map((r) => r.name), Object.keys(WORK_OF_SKIPPED_TRIGGERS).sort());
    });

    it('skips the rollup trigger in replica mode: a writer in that mode does its work itself', async () => {
      const { rows } = await sql.query<{ enabled: string }>(
        `select tgenabled::text as enabled from pg_trigger where tgname = 'usage_tracking_rollups_insert'`);
      assert.deepEqual(rows, [{ enabled: 'O' }]);
    });
  });
});
