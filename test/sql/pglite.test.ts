// The same migrations on the embedded store (PGlite, one in-memory instance for the file),
// and the same answers as real PostgreSQL for the same data set.
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import {
  buildDataset,
  groupedUsageRows,
  insertDataset,
  migratedDatabase,
  rollupRows,
  schemaDump,
  usageStatistics,
  USER_A,
  USER_B,
  type Dataset,
} from './ledgerFixtures';

const APP_TABLES = ['projects', 'agents', 'usage_tracking', 'routing_decisions', 'usage_hourly_rollup'];

describe('sql: embedded store (PGlite)', () => {
  let lite: PGlite;
  let sqlLite: SqlClient;
  let pgClient: pg.Client;
  let sqlPg: SqlClient;
  let ds: Dataset;
  let migrationNames: string[];

  before(async function () {
    this.timeout(120_000); // a new PGlite instance takes several seconds here
    lite = await PGlite.create();
    sqlLite = fromPglite(lite);
    const server = await migratedDatabase();
    pgClient = server.pgClient;
    sqlPg = server.sql;
    migrationNames = (await applyMigrations(sqlPg, { includeShim: true })).skipped;
    ds = buildDataset();
  });
  after(async () => {
    await lite?.close();
    await pgClient?.end();
  });

  it('applies the shim and every migration, roles included', async () => {
    const result = await applyMigrations(sqlLite, { includeShim: true });
    assert.deepEqual(result.applied, migrationNames);
    const { rows } = await sqlLite.query<{ rolname: string }>(
      `select rolname from pg_roles where rolname in ('anon', 'authenticated', 'service_role') order by 1`,
    );
    assert.deepEqual(rows.map((r) => r.rolname), ['anon', 'authenticated', 'service_role']);
  });

  it('applies nothing and changes nothing the second time', async () => {
    const before = await schemaDump(sqlLite);
    const result = await applyMigrations(sqlLite, { includeShim: true });
    assert.deepEqual(result.applied, []);
    assert.deepEqual(await schemaDump(sqlLite), before);
  });

  it('builds the same schema as PostgreSQL 15 (PGlite 0.5 is PostgreSQL 18)', async () => {
    // PostgreSQL 17 added the MAINTAIN privilege ("m" in an ACL), which 15 does not have.
    const portable = (dump: string[]) => dump.map((line) => line.replace(/=([a-zA-Z]*)m\//g, '=$1/'));
    assert.deepEqual(portable(await schemaDump(sqlLite)), portable(await schemaDump(sqlPg)));
  });

  it('returns the same get_usage_statistics as PostgreSQL for the same data set', async () => {
    await insertDataset(sqlLite, ds);
    await insertDataset(sqlPg, ds);
    for (const p of ds.projects) {
      for (const range of [undefined, '30 days', '100 days']) {
        const onLite = await usageStatistics(sqlLite, p.id, range);
        assert.ok(onLite.length > 0);
        assert.deepEqual(onLite, await usageStatistics(sqlPg, p.id, range), `${p.name} ${range ?? 'default range'}`);
      }
    }
  });

  it('keeps the same exact rollup as PostgreSQL through inserts, updates and deletes', async () => {
    const compare = async (when: string) => {
      const lite = await rollupRows(sqlLite);
      assert.deepEqual(lite, await groupedUsageRows(sqlLite), `PGlite rollup vs GROUP BY ${when}`);
      assert.deepEqual(lite, await rollupRows(sqlPg), `PGlite vs PostgreSQL ${when}`);
    };
    await compare('after inserts');
    for (const statement of [
      `update public.usage_tracking set model = 'claude-opus-4-5', cost = null where request_id like '%\\_1_' escape '\\'`,
      `update public.usage_tracking set created_at = created_at - interval '3 hours' where request_id like '%\\_2_' escape '\\'`,
      `delete from public.usage_tracking where request_id like '%\\_3_' escape '\\'`,
      `delete from public.agents where name = 'tester'`,
    ]) {
      await sqlLite.query(statement);
      await sqlPg.query(statement);
      await compare(`after: ${statement}`);
    }
  });

  it('enforces row-level security with the emulated roles', async () => {
    const projectA = ds.projects.find((p) => p.userId === USER_A)!.id;
    const as = async (role: string, claims: object, work: () => Promise<void>) => {
      await lite.exec('begin');
      try {
        await lite.exec(`set local role ${role}`);
        await lite.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
        await work();
      } finally {
        await lite.exec('rollback');
      }
    };
    const count = async (sql: string, params: unknown[] = []) => Number((await lite.query<{ n: number }>(sql, params)).rows[0].n);
    const ofA = (table: string) => `select count(*) as n from public.${table} where ${table === 'projects' ? 'id' : 'project_id'} = $1`;
    for (const table of APP_TABLES) assert.ok((await count(ofA(table), [projectA])) > 0, table);

    await as('authenticated', { sub: USER_B, role: 'authenticated' }, async () => {
      for (const table of APP_TABLES) assert.equal(await count(ofA(table), [projectA]), 0, table);
      await assert.rejects(
        lite.query(`insert into public.usage_tracking (request_id, project_id, model) values ('intruder', $1, 'm')`, [projectA]),
        /row-level security/,
      );
    });
    await as('anon', { role: 'anon' }, async () => {
      for (const table of APP_TABLES) assert.equal(await count(`select count(*) as n from public.${table}`), 0, table);
    });
    await as('authenticated', { sub: USER_A, role: 'authenticated' }, async () => {
      for (const table of APP_TABLES) assert.ok((await count(ofA(table), [projectA])) > 0, table);
    });
  });
});
