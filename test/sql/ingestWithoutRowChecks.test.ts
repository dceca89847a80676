// Migration 20261204000020: the rollups count rows inserted in replica mode (as the local
// ingester inserts them, without per-row foreign-key checks), on PostgreSQL and on PGlite.
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import type pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { silentLogger } from '../../src/conduit/core/log';
import { fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { migratedDatabase } from './ledgerFixtures';

/** Inserts one usage row with the replication role of a replica, and returns what the hourly rollup counts. */
async function insertAsReplica(sql: SqlClient): Promise<number> {
  await sql.exec(`begin; set local session_replication_role = replica`);
  await sql.query(
    `insert into public.usage_tracking (request_id, model, input_tokens, output_tokens, cost, created_at)
     values ('replica-1', 'claude-sonnet-4-5', 10, 20, 0.5, '2026-12-01T10:15:00Z')`);
  await sql.exec(`commit`);
  const { rows } = await sql.query<{ n: number }>(`select coalesce(sum(request_count), 0)::int as n from public.usage_hourly_rollup`);
  return rows[0].n;
}

describe('sql: ingestion without per-row checks (migration 20261204000020)', () => {
  describe('on PostgreSQL', () => {
    let pgClient: pg.Client;
    let sql: SqlClient;
    before(async () => {
      ({ pgClient, sql } = await migratedDatabase());
    });
    after(async () => {
      await pgClient?.end();
    });

    it('rolls up a row inserted in replica mode', async () => {
      assert.equal(await insertAsReplica(sql), 1);
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

    it('rolls up a row inserted in replica mode', async () => {
      assert.equal(await insertAsReplica(sql), 1);
    });

    it('fires every insert trigger of the ingested tables in replica mode, but the change log the ingester writes itself', async () => {
      // A new insert trigger that is not ENABLE ALWAYS would be skipped by ingestion (ingest.ts).
      const { rows } = await sql.query<{ table: string; name: string; enabled: string }>(
        `select c.relname as table, t.tgname as name, t.tgenabled::text as enabled
         from pg_trigger t join pg_class c on c.oid = t.tgrelid
         where c.relname in ('usage_tracking', 'routing_decisions') and c.relnamespace = 'public'::regnamespace
           and not t.tgisinternal and (t.tgtype & 4) <> 0`);
      const skipped = rows.filter((r) => r.enabled !== 'A' && r.name !== 'conduit_sync_log_insert');
      assert.deepEqual(skipped, []);
      assert.ok(rows.some((r) => r.name === 'usage_tracking_rollups_insert' && r.enabled === 'A'));
    });
  });
});
