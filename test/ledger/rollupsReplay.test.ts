// A replayed batch counts once in every rollup. After a restart the ingester may read journal
// records the store already holds (a checkpoint behind its rows); it inserts them with
// `on conflict (request_id) do nothing`, and the rollup trigger folds in its transition
// table. These tests watch that transition table (a second statement-level trigger records
// what it holds) and compare every rollup with sums over the usage rows: through SQL on
// PostgreSQL 15 and PGlite, and through the real ingestion path on PGlite across a restart.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { buildDataset, insertDataset, usageInsert } from '../sql/ledgerFixtures';
import { journalLine, makeRecords, writeJournal } from './support/records';
import { assertRollupsExact, BACKENDS, type Backend } from './support/rollupChecks';
import { openTestStore, type TestStore } from './support/store';

/**
 * Records the request ids each INSERT statement's transition table holds, one row per
 * statement, in test_probe.inserted (created here, dropped by the returned function).
 */
async function watchInsertedRows(sql: SqlClient): Promise<{ seen(): Promise<string[][]>; drop(): Promise<void> }> {
  await sql.exec(`
    create schema test_probe;
    create table test_probe.inserted (statement serial primary key, request_ids text[] not null);
    create function test_probe.record() returns trigger language plpgsql as $$
    begin
      insert into test_probe.inserted (request_ids) select coalesce(array_agg(request_id order by request_id collate "C"), '{}') from probe_rows;
      return null;
    end $$;
    create trigger test_probe_inserted after insert on public.usage_tracking
      referencing new table as probe_rows for each statement execute function test_probe.record();
    -- Fired also when the ingester inserts as a replica (ingest.ts).
    alter table public.usage_tracking enable always trigger test_probe_inserted;`);
  return {
    async seen() {
      const { rows } = await sql.query<{ request_ids: string[] }>(`select request_ids from test_probe.inserted order by statement`);
      return rows.map((r) => r.request_ids);
    },
    async drop() {
      await sql.exec(`drop trigger test_probe_inserted on public.usage_tracking; drop schema test_probe cascade;`);
    },
  };
}

const count = async (sql: SqlClient, query: string) => Number((await sql.query<{ n: string }>(query)).rows[0].n);

for (const [name, open] of BACKENDS) {
  describe(`ledger: a replayed batch counts once in every rollup (${name})`, () => {
    let backend: Backend | undefined;

    before(async function () {
      this.timeout(120_000); // a new PGlite instance takes several seconds here
      backend = await open();
    });
    after(async () => {
      await backend?.close();
    });

    it('folds in only the rows an insert ... on conflict do nothing really inserted', async () => {
      const { sql } = backend!;
      const ds = buildDataset(new Date('2026-12-01T18:00:00Z'), 300, 1204);
      await insertDataset(sql, ds);
      const probe = await watchInsertedRows(sql);
      try {
        // Stored rows again, with other figures (the stored ones stay), and new rows in the same statement.
        const replayed = ds.usage.slice(100, 220).map((u) => ({ ...u, inputTokens: u.inputTokens + 777, costMicros: 424_242, status: 500 }));
        const fresh = buildDataset(ds.anchor, 80, 1205).usage.map((u, i) => ({
          ...u,
          projectId: ds.projects[i % ds.projects.length].id,
          agentId: null,
          sessionId: ds.usage[100 + i].sessionId,
          claudeSessionId: ds.usage[100 + i].claudeSessionId,
          createdAt: ds.usage[100 + i].createdAt,
        }));
        const { sql: insert, params } = usageInsert([...replayed.slice(0, 60), ...fresh, ...replayed.slice(60)], 'on conflict (request_id) do nothing');
        await sql.query(insert, params);

        assert.deepEqual(await probe.seen(), [fresh.map((u) => u.requestId).sort()], 'the transition table holds the new rows alone');
        assert.equal(await count(sql, `select count(*) as n from public.usage_tracking`), 300 + fresh.length);
        assert.equal(await count(sql, `select count(*) as n from public.usage_tracking where cost = 0.424242`), 0, 'the stored rows kept');
        await assertRollupsExact(sql, 'after a batch that replays stored rows among new ones');
        assert.equal(await count(sql, `select sum(request_count) as n from public.usage_project_hourly`), 300 + fresh.length);
      } finally {
        await probe.drop();
      }
    });
  });
}

describe('ledger: journal records replayed after a restart count once in every rollup (PGlite, real ingestion)', () => {
  let store: TestStore;

  before(async function () {
    this.timeout(120_000);
    store = await openTestStore();
  });
  after(async () => {
    await store?.close();
  });

  it('re-reads the journal from a checkpoint behind the stored rows, in batches that mix stored and new records', async () => {
    const sql = fromPglite(store.pglite);
    // Six hours of one UTC day: one journal file, many hours and sessions.
    const records = makeRecords({ count: 600, seed: 1204, spanMs: 6 * 3_600_000, end: new Date('2026-12-01T20:00:00Z') });
    const { engine, journalDir } = await store.engine({ ingest: { batchSize: 200 } });
    const [file] = writeJournal(journalDir, records.slice(0, 400));
    assert.deepEqual(await engine.ingester.ingestAvailable(), { records: 400, inserted: 400, rejected: 0 });
    assert.equal(statSync(file).size, records.slice(0, 400).reduce((n, r) => n + Buffer.byteLength(journalLine(r)), 0));
    await engine.close({ finalIngestMs: 0 });

    // The store comes back with a checkpoint 150 records behind its rows (say, a copy of the
    // store older than its journal), and the journal has grown meanwhile.
    const behind = records.slice(0, 150).reduce((n, r) => n + Buffer.byteLength(journalLine(r)), 0);
    await sql.query(`update conduit_local.journal_checkpoint set byte_offset = $1 where file = $2`, [behind, path.basename(file)]);
    writeJournal(journalDir, records.slice(400));

    const probe = await watchInsertedRows(sql);
    try {
      const { engine: restarted } = await store.engine({ journalDir, ingest: { batchSize: 200 } });
      // Batches of 200 from record 150: 150-349 stored, 350-549 both, 550-599 new.
      assert.deepEqual(await restarted.ingester.ingestAvailable(), { records: 450, inserted: 200, rejected: 0 });
      // No stored record in any statement's transition table, every new one once.
      assert.deepEqual((await probe.seen()).flat().sort(), records.slice(400).map((r) => r.id).sort());
    } finally {
      await probe.drop();
    }

    assert.equal(await count(sql, `select count(*) as n from public.usage_tracking`), 600);
    assert.ok(await count(sql, `select count(distinct public.usage_hour_bucket(created_at)) as n from public.usage_tracking`) >= 6);
    await assertRollupsExact(sql, 'after a restart replayed part of the journal');
    for (const rollupTable of ['usage_hourly_rollup', 'usage_project_hourly']) {
      assert.equal(await count(sql, `select sum(request_count) as n from public.${rollupTable}`), 600, rollupTable);
    }
  });
});
