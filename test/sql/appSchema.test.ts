// The user's Synapse app against our schema, on PostgreSQL 15 with Supabase's roles and on
// the embedded store (PGlite): the migrations apply onto an empty database, onto one that
// has the app's own projects and agents with rows (../shared/fixtures/synapse-app-schema.sql),
// and onto one where the app's Conduit migration already ran, with rows
// (../shared/fixtures/seed-conduit-migration.sql); all three end with the same schema and
// keep the app's rows. Rows written the app's way (its columns only, through row-level
// security as supabase-js writes them) are accepted, counted by get_usage_statistics and
// the rollups, and hidden from other users.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { fromPgClient, fromPglite, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { assertRollupsExact } from '../ledger/support/rollupChecks';
import {
  APP_USAGE, as, buildFrom, CODER, DAY, expectedStatistics, failure, SHOP, BLOG, STARTS, SUPABASE, type Start,
} from './appFixtures';
import {
  buildDataset, connectFreshDatabase, groupedUsageRows, insertDataset, migratedDatabase, schemaDump, usageStatistics, USER_A, USER_B,
} from './ledgerFixtures';

// The files this change added: a store migrated before them gets them applied last.
const ADDED = ['20261127000000_adopt_app_tables.sql', '20261205100001_app_writes_accepted.sql', '20261205100002_request_id_default_always.sql'];

/** A fresh database of each engine the migrations build. */
interface Db { sql: SqlClient; close(): Promise<void> }
const ENGINES: [string, () => Promise<Db>][] = [
  ['PostgreSQL 15', async () => {
    const client = await connectFreshDatabase();
    return { sql: fromPgClient(client), close: () => client.end() };
  }],
  ['the embedded store (PGlite)', async () => {
    const lite = await PGlite.create();
    return { sql: fromPglite(lite), close: () => lite.close() };
  }],
];

/** The schema the first start (the empty database) ended with: what the others must end with. */
interface SchemaHolder { dump?: string[] }

function checksOn(open: () => Promise<Db>, start: Start, empty: SchemaHolder) {
  let sql: SqlClient;
  let close: () => Promise<void>;
  before(async function () {
    this.timeout(120_000);
    ({ sql, close } = await open());
    await buildFrom(sql, start);
  });
  after(async () => {
    await close?.();
  });

  it('ends with the schema the migrations build on an empty database', async () => {
    const dump = await schemaDump(sql);
    if (start === STARTS[0]) {
      empty.dump = dump;
      assert.ok(dump.length > 100);
    } else {
      assert.ok(empty.dump, 'the empty start ran first');
      assert.deepEqual(dump, empty.dump);
    }
  });

  it("keeps the app's rows, with keys derived from their ids", async () => {
    const { rows: projects } = await sql.query<{ id: string; name: string; user_id: string; workspace_key: string }>(
      `select id::text, name, user_id::text, workspace_key from public.projects order by name`);
    assert.deepEqual(projects, [
      { id: BLOG, name: 'Blog', user_id: USER_B, workspace_key: `project:${BLOG}` },
      { id: SHOP, name: 'Shop', user_id: USER_A, workspace_key: `project:${SHOP}` },
    ]);
    const { rows: agents } = await sql.query<Record<string, unknown>>(
      `select id::text, project_id::text, name, persona_type, use_project_model, custom_model_id from public.agents`);
    assert.deepEqual(agents, [{ id: CODER, project_id: SHOP, name: 'Coder', persona_type: 'coding', use_project_model: true, custom_model_id: null }]);
    const { rows: usage } = await sql.query<{ same: boolean; n: number }>(
      `select (request_id = id::text) as same, count(*)::int as n from public.usage_tracking group by 1`);
    assert.deepEqual(usage, [{ same: true, n: APP_USAGE.length }]);
    const { rows: decisions } = await sql.query<{ n: number }>(`select count(*)::int as n from public.routing_decisions where project_id = $1`, [SHOP]);
    assert.equal(decisions[0].n, 1);
  });

  it("counts the app's usage in get_usage_statistics for its ranges (1, 7 and 30 days) and in every rollup", async () => {
    for (const [range, ms] of [['1 day', DAY], ['7 days', 7 * DAY], ['30 days', 30 * DAY]] as const) {
      const expected = expectedStatistics(APP_USAGE, ms);
      assert.ok(expected.length > 0);
      assert.deepEqual(await usageStatistics(sql, SHOP, range), expected, range);
    }
    await assertRollupsExact(sql, `from ${start.name}`);
    const { rows } = await sql.query<{ n: string }>(`select coalesce(sum(request_count), 0)::text as n from public.usage_hourly_rollup where project_id = $1`, [SHOP]);
    assert.equal(rows[0].n, String(APP_USAGE.length), 'every row is in the hourly rollup');
  });

  it('gives per model requests, tokens and cost for the project and the agent from the rollup', async () => {
    const { rows: [stats] } = await sql.query<{ project: Record<string, { requests: number; tokens: number; cost: number }>; agent: Record<string, { requests: number }> }>(
      `select public.project_routing_stats($1) as project, public.agent_model_stats($2) as agent`, [SHOP, CODER]);
    const opus = APP_USAGE.filter((u) => u.model === 'claude-3-opus-20240229');
    const got = stats.project['claude-3-opus-20240229'];
    assert.deepEqual(
      { requests: got.requests, tokens: got.tokens, costMicros: Math.round(got.cost * 1e6) },
      {
        requests: opus.length,
        tokens: opus.reduce((s, u) => s + u.input + u.output, 0),
        costMicros: opus.reduce((s, u) => s + Math.round(Number(u.cost) * 1e6), 0),
      });
    assert.deepEqual(Object.keys(stats.project).sort(), [...new Set(APP_USAGE.map((u) => u.model))].sort());
    const coderModels = new Map<string, number>();
    for (const u of APP_USAGE.filter((x) => x.agent === CODER)) coderModels.set(u.model, (coderModels.get(u.model) ?? 0) + 1);
    assert.deepEqual(
      Object.fromEntries(Object.entries(stats.agent).map(([m, s]) => [m, s.requests])),
      Object.fromEntries(coderModels));
  });

  it("accepts the app's writes through row-level security as its owner makes them", async () => {
    const project = await as(sql, USER_A, async () => {
      const { rows: [p] } = await sql.query<{ id: string; workspace_key: string }>(
        `insert into public.projects (id, user_id, name) values (gen_random_uuid(), $1, 'Docs') returning id::text, workspace_key`, [USER_A]);
      const { rows: [agent] } = await sql.query<{ id: string }>(
        `insert into public.agents (project_id, name, persona_type) values ($1, 'Researcher', 'research') returning id::text`, [p.id]);
      // The app's save handler: an agent with its own model, then back to the project's (model_config NULL).
      await sql.query(`update public.agents set use_project_model = false, custom_model_id = 'claude-3-opus-20240229',
                         model_config = '{"enabled": true, "defaultModel": "claude-3-opus-20240229"}'::jsonb where id = $1`, [agent.id]);
      await sql.query(`update public.agents set use_project_model = true, custom_model_id = null, model_config = null where id = $1`, [agent.id]);
      const { rows: [u] } = await sql.query<{ id: string; request_id: string; user_id: string }>(
        `insert into public.usage_tracking (project_id, agent_id, model, input_tokens, output_tokens, cost, routing_source, metadata)
         values ($1, $2, 'claude-3-5-sonnet-20241022', 400, 60, 0.002100, 'agent', '{"taskId": "t-1"}')
         returning id::text, request_id, user_id::text`, [p.id, agent.id]);
      assert.equal(u.request_id, u.id);
      assert.equal(u.user_id, USER_A, 'recorded as its author');
      await sql.query(
        `insert into public.routing_decisions (project_id, agent_id, requested_model, selected_model, routing_source, token_count, decision_metadata)
         values ($1, $2, null, 'claude-3-5-sonnet-20241022', 'agent', 400, '{}')`, [p.id, agent.id]);
      const { rows: stats } = await sql.query<{ model: string; request_count: string }>(
        `select model, request_count::text from public.get_usage_statistics($1, '1 day')`, [p.id]);
      assert.deepEqual(stats, [{ model: 'claude-3-5-sonnet-20241022', request_count: '1' }], 'the owner reads its statistics');
      return p;
    }, true);
    assert.equal(project.workspace_key, `project:${project.id}`);
    const { rows: [agent] } = await sql.query<{ model_config: unknown }>(`select model_config from public.agents where project_id = $1`, [project.id]);
    assert.equal(agent.model_config, null, 'NULL as the app wrote it');
    await assertRollupsExact(sql, 'after the app wrote through the API');

    // Another signed-in user sees none of it and cannot write into the project; anon sees nothing.
    await as(sql, USER_B, async () => {
      for (const table of ['usage_tracking', 'routing_decisions', 'usage_hourly_rollup', 'agents']) {
        const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.${table} where project_id = any($1::uuid[])`, [[project.id, SHOP]]);
        assert.equal(rows[0].n, 0, `${table} of user A's projects, read by user B`);
      }
      const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.projects where id = any($1::uuid[])`, [[project.id, SHOP]]);
      assert.equal(rows[0].n, 0);
      assert.deepEqual(await usageStatistics(sql, project.id, '30 days'), []);
      assert.deepEqual((await sql.query(`select public.project_routing_stats($1) as s`, [SHOP])).rows[0], { s: {} });
    });
    const intruder = await as(sql, USER_B, () => failure(sql.query(
      `insert into public.usage_tracking (project_id, model, input_tokens, output_tokens, cost, routing_source, metadata)
       values ($1, 'claude-3-5-sonnet-20241022', 1, 1, 0.000010, 'default', '{}')`, [SHOP])));
    assert.equal(intruder, '42501', "user B cannot record usage in user A's project");
    await as(sql, null, async () => {
      const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.usage_tracking`);
      assert.equal(rows[0].n, 0, 'anon');
    });
  });

  it('keeps the rollups exact when rows without a session are changed and deleted', async () => {
    await sql.query(`update public.usage_tracking set output_tokens = output_tokens + 1 where project_id = $1 and session_id is null`, [SHOP]);
    await assertRollupsExact(sql, 'after updating rows without a session');
    await sql.query(`delete from public.usage_tracking where project_id = $1 and model = 'claude-3-opus-20240229'`, [SHOP]);
    await assertRollupsExact(sql, 'after deleting rows without a session');
    const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.usage_hourly_rollup where model = 'claude-3-opus-20240229'`);
    assert.equal(rows[0].n, 0, 'the emptied keys are gone');
  });
}

describe("sql: the Synapse app's schema and writes", () => {
  for (const [engine, open] of ENGINES) {
    describe(`on ${engine}`, () => {
      const empty: SchemaHolder = {};
      for (const start of STARTS) {
        describe(`from ${start.name}`, () => checksOn(open, start, empty));
      }

      it('upgrades a store migrated before these files existed: they are applied (the older one after the others), nothing else changes', async function () {
        this.timeout(120_000);
        const dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-migrations-'));
        const [old, fresh] = [await open(), await open()];
        try {
          cpSync(SUPABASE, dir, { recursive: true });
          for (const name of ADDED) rmSync(path.join(dir, 'migrations', name));
          await applyMigrations(old.sql, { dir, includeShim: true });
          await insertDataset(old.sql, buildDataset(new Date(), 120));
          const usageBefore = await groupedUsageRows(old.sql);

          const result = await applyMigrations(old.sql, { includeShim: true });
          assert.deepEqual(result.applied, ADDED);
          await applyMigrations(fresh.sql, { includeShim: true });
          assert.deepEqual(await schemaDump(old.sql), await schemaDump(fresh.sql), 'the schema of a store built with every file');
          assert.deepEqual(await groupedUsageRows(old.sql), usageBefore, 'the rows are kept');
          await assertRollupsExact(old.sql, 'after the upgrade');
        } finally {
          await old.close();
          await fresh.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }

  it('measures get_usage_statistics ranges in fixed lengths: a day is 24 hours, a month 30 days, in any time zone', async () => {
    const { pgClient, sql } = await migratedDatabase();
    try {
      // Across the start of daylight-saving time in Berlin (28 March 2027), and from the last
      // day of March, PostgreSQL's calendar arithmetic gives 23 hours and 31 days.
      await sql.exec(`set timezone = 'Europe/Berlin'`);
      const { rows } = await sql.query<{ range: string; fixed: number; calendar: number }>(
        `select t.range,
                extract(epoch from t.at - public.usage_range_start(t.at, t.range::interval)) / 3600 as fixed,
                extract(epoch from t.at - (t.at - t.range::interval)) / 3600 as calendar
           from (values ('1 day', timestamptz '2027-03-28 12:00:00+02'), ('7 days', timestamptz '2027-03-30 12:00:00+02'),
                        ('1 mon', timestamptz '2027-03-31 12:00:00+02'), ('30 days', timestamptz '2027-03-31 12:00:00+02')) t(range, at)
          order by 1`);
      assert.deepEqual(rows.map((r) => [r.range, Number(r.fixed), Number(r.calendar)]), [
        ['1 day', 24, 23],
        ['1 mon', 720, 743],
        ['30 days', 720, 719],
        ['7 days', 168, 167],
      ]);
    } finally {
      await pgClient.end();
    }
  });
});
