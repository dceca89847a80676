// The migrations on a real PostgreSQL 15: they build an empty database, running them again
// changes nothing, and the runner records, skips, refuses edited files and rolls back.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  MigrationChecksumError,
  applyMigrations,
  appliedChecksums,
  defaultMigrationsDir,
} from '../../src/conduit/ledger/store/migrations';
import { fromPgClient, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { getTestPostgres } from '../support/postgres';
import { buildDataset, connectFreshDatabase, groupedUsageRows, insertDataset, rollupRows, schemaDump } from './ledgerFixtures';

const supabaseDir = path.resolve(__dirname, '../../supabase');
const migrationNames = readdirSync(path.join(supabaseDir, 'migrations')).filter((n) => n.endsWith('.sql')).sort();
const APP_TABLES = ['agents', 'projects', 'routing_decisions', 'usage_hourly_rollup', 'usage_tracking'];

describe('sql: migrations on PostgreSQL', () => {
  const clients: pg.Client[] = [];
  const tempDirs: string[] = [];
  async function freshDatabase(): Promise<SqlClient> {
    const client = await connectFreshDatabase();
    clients.push(client);
    return fromPgClient(client);
  }
  function copyOfSupabaseDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-migrations-'));
    tempDirs.push(dir);
    cpSync(supabaseDir, dir, { recursive: true });
    return dir;
  }
  after(async () => {
    for (const c of clients) await c.end();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs against PostgreSQL 15 or newer', async () => {
    const sql = await freshDatabase();
    const { rows } = await sql.query<{ v: number }>(`select current_setting('server_version_num')::int as v`);
    assert.ok(rows[0].v >= 150000, `server_version_num ${rows[0].v}`);
  });

  it('finds the repository supabase folder when running from source', () => {
    assert.equal(defaultMigrationsDir(), supabaseDir);
  });

  describe('on an empty database', () => {
    let sql: SqlClient;
    before(async () => {
      sql = await freshDatabase();
    });

    it('applies the shim and every migration, in name order, and records them', async () => {
      const result = await applyMigrations(sql, { includeShim: true });
      assert.deepEqual(result.applied, migrationNames);
      assert.deepEqual(result.skipped, []);
      assert.deepEqual(result.shim, ['00_supabase_shim.sql']);
      assert.deepEqual([...(await appliedChecksums(sql)).keys()], migrationNames);
    });

    it('creates the tables with the ledger columns', async () => {
      const { rows } = await sql.query<{ table_name: string; column_name: string; is_nullable: string; data_type: string; is_generated: string }>(
        `select table_name, column_name, is_nullable, data_type, is_generated from information_schema.columns where table_schema = 'public'`,
      );
      const columns = (table: string) => new Map(rows.filter((r) => r.table_name === table).map((r) => [r.column_name, r]));
      const tables = new Set(rows.map((r) => r.table_name));
      for (const t of [...APP_TABLES, 'conduit_schema_migrations']) assert.ok(tables.has(t), `table ${t}`);

      const usage = columns('usage_tracking');
      for (const c of ['request_id', 'session_id', 'claude_session_id', 'project_id', 'agent_id', 'model', 'requested_model',
        'provider', 'routing_source', 'routing_rule', 'input_tokens', 'output_tokens', 'total_tokens', 'cache_creation_tokens',
        'cache_creation_5m_tokens', 'cache_creation_1h_tokens', 'cache_read_tokens', 'cost', 'cost_source', 'price_version',
        'status', 'error', 'duration_ms', 'first_byte_ms', 'device', 'metadata', 'started_at', 'ended_at', 'created_at']) {
        assert.ok(usage.has(c), `usage_tracking.${c}`);
      }
      assert.equal(usage.get('cost')!.is_nullable, 'YES', 'an unknown price is stored as NULL');
      assert.equal(usage.get('total_tokens')!.is_generated, 'ALWAYS');
      for (const c of ['request_id', 'rule', 'requested_model', 'selected_model', 'routing_source', 'token_count', 'decision_metadata']) {
        assert.ok(columns('routing_decisions').has(c), `routing_decisions.${c}`);
      }
      for (const c of ['workspace_key', 'model_config', 'routing_stats', 'daily_budget_usd', 'monthly_budget_usd', 'updated_at']) {
        assert.ok(columns('projects').has(c), `projects.${c}`);
      }
      for (const c of ['persona_type', 'use_project_model', 'custom_model_id', 'model_config', 'model_stats', 'daily_budget_usd']) {
        assert.ok(columns('agents').has(c), `agents.${c}`);
      }
    });

    it("has the seed's indexes as separate CREATE INDEX statements", async () => {
      const { rows } = await sql.query<{ indexdef: string }>(`select indexdef from pg_indexes where schemaname = 'public'`);
      const defs = rows.map((r) => r.indexdef.replace(/^CREATE (UNIQUE )?INDEX \S+ ON /, ''));
      for (const expected of [
        'public.usage_tracking USING btree (project_id, created_at DESC)',
        'public.usage_tracking USING btree (agent_id, created_at DESC)',
        'public.usage_tracking USING btree (model)',
        'public.usage_tracking USING btree (created_at DESC)',
        'public.usage_tracking USING btree (request_id)',
        'public.routing_decisions USING btree (project_id, created_at DESC)',
        'public.routing_decisions USING btree (routing_source)',
        'public.routing_decisions USING btree (request_id)',
        'public.projects USING btree (user_id, workspace_key)',
      ]) {
        assert.ok(defs.includes(expected), `index on ${expected}; have:\n${defs.join('\n')}`);
      }
    });

    it('rolls usage rows up with one function: a statement-level trigger per event, two for updates (new rows added, then old ones removed)', async () => {
      const { rows } = await sql.query<{ name: string; fn: string; events: string; args: string; transition: string }>(
        `select t.tgname as name, t.tgfoid::regproc::text as fn, encode(t.tgargs, 'escape') as args,
                concat_ws(',', case when t.tgtype & 4 <> 0 then 'insert' end, case when t.tgtype & 8 <> 0 then 'delete' end,
                               case when t.tgtype & 16 <> 0 then 'update' end, case when t.tgtype & 32 <> 0 then 'truncate' end) as events,
                concat_ws(',', case when t.tgoldtable is not null then 'old ' || t.tgoldtable end,
                               case when t.tgnewtable is not null then 'new ' || t.tgnewtable end) as transition
         from pg_trigger t
         where t.tgrelid = 'public.usage_tracking'::regclass and not t.tgisinternal
           and t.tgtype & 1 = 0 -- statement-level
         order by 1`);
      // Triggers fire in name order: an update's new rows are added before its old rows are removed.
      assert.deepEqual(rows.map((r) => [r.name, r.events, r.transition, r.args]), [
        ['usage_tracking_rollups_delete', 'delete', 'old changed_rows', 'removed\\000'],
        ['usage_tracking_rollups_insert', 'insert', 'new changed_rows', 'added\\000'],
        ['usage_tracking_rollups_truncate', 'truncate', '', ''],
        ['usage_tracking_rollups_update_add', 'update', 'new changed_rows', 'added\\000'],
        ['usage_tracking_rollups_update_remove', 'update', 'old changed_rows', 'removed\\000'],
      ]);
      assert.ok(rows.every((r) => r.fn === 'usage_tracking_apply_rollups'), 'one function');
      const { rows: others } = await sql.query<{ name: string }>(
        `select p.proname as name from pg_proc p
         where p.pronamespace = 'public'::regnamespace and p.prorettype = 'trigger'::regtype and p.proname like 'usage\\_tracking\\_%'`);
      assert.deepEqual(others.map((r) => r.name), ['usage_tracking_apply_rollups'], 'the rollups\' former trigger functions are gone');
    });

    it('enables row-level security on every table, with a policy for every verb', async () => {
      const { rows: noRls } = await sql.query<{ relname: string }>(
        `select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity`,
      );
      assert.deepEqual(noRls, []);
      const { rows } = await sql.query<{ tablename: string; cmd: string; roles: string }>(
        `select tablename, cmd, roles::text as roles from pg_policies where schemaname = 'public' order by 1, 2`,
      );
      for (const table of APP_TABLES) {
        const cmds = rows.filter((r) => r.tablename === table).map((r) => r.cmd).sort();
        assert.deepEqual(cmds, ['DELETE', 'INSERT', 'SELECT', 'UPDATE'], table);
      }
      assert.ok(rows.every((r) => r.roles === '{authenticated}'), 'policies apply to signed-in users only');
    });

    it("returns the seed's default model configuration for a new project", async () => {
      await sql.query(`insert into auth.users (id) values ('11111111-1111-4111-8111-111111111111')`);
      const { rows } = await sql.query<{ model_config: unknown }>(
        `insert into public.projects (user_id, name, workspace_key)
         values ('11111111-1111-4111-8111-111111111111', 'p', 'k') returning model_config`,
      );
      assert.deepEqual(rows[0].model_config, { enabled: true, defaultModel: 'claude-sonnet-5-5' });
    });
  });

  describe('applied again', () => {
    let sql: SqlClient;
    let before1: string[];
    before(async () => {
      sql = await freshDatabase();
      await applyMigrations(sql, { includeShim: true });
      await insertDataset(sql, buildDataset(new Date(), 120));
      before1 = await schemaDump(sql);
    });

    it('through the runner: applies nothing and changes nothing', async () => {
      const result = await applyMigrations(sql, { includeShim: true });
      assert.deepEqual(result.applied, []);
      assert.deepEqual(result.skipped, migrationNames);
      assert.deepEqual(await schemaDump(sql), before1);
    });

    it('file by file, bypassing the records: every statement is safe to run again', async () => {
      const usageBefore = await groupedUsageRows(sql);
      const files = [
        path.join(supabaseDir, 'local/00_supabase_shim.sql'),
        ...migrationNames.map((n) => path.join(supabaseDir, 'migrations', n)),
      ];
      for (const file of files) {
        await sql.exec('begin');
        await sql.exec(readFileSync(file, 'utf8'));
        await sql.exec('commit');
      }
      assert.deepEqual(await schemaDump(sql), before1);
      assert.deepEqual(await groupedUsageRows(sql), usageBefore, 'data is kept');
      assert.deepEqual(await rollupRows(sql), usageBefore, 'the rollup is still exact');
    });
  });

  it('refuses an applied migration whose file changed, before applying anything new', async () => {
    const sql = await freshDatabase();
    const dir = copyOfSupabaseDir();
    await applyMigrations(sql, { dir, includeShim: true });
    const edited = path.join(dir, 'migrations', migrationNames[1]);
    appendFileSync(edited, '\n-- an edit after the fact\n');
    writeFileSync(path.join(dir, 'migrations', '29991231000000_later.sql'), 'create table public.later (id int);');

    await assert.rejects(applyMigrations(sql, { dir, includeShim: true }), (err: unknown) => {
      assert.ok(err instanceof MigrationChecksumError);
      assert.equal(err.migration, migrationNames[1]);
      assert.match(err.message, /already applied with checksum [0-9a-f]{64}, but the file now has checksum [0-9a-f]{64}/);
      return true;
    });
    const { rows } = await sql.query(`select to_regclass('public.later') as t`);
    assert.equal(rows[0].t, null, 'the new migration was not applied');

    // Restored, with CRLF line endings (a Windows checkout): the same checksum.
    const original = readFileSync(path.join(supabaseDir, 'migrations', migrationNames[1]), 'utf8');
    writeFileSync(edited, original.replace(/\n/g, '\r\n'));
    const result = await applyMigrations(sql, { dir, includeShim: true });
    assert.deepEqual(result.applied, ['29991231000000_later.sql']);
  });

  it('rolls a failing migration back completely and names it', async () => {
    const sql = await freshDatabase();
    const dir = copyOfSupabaseDir();
    writeFileSync(
      path.join(dir, 'migrations', '29991231000000_broken.sql'),
      'create table public.half_done (id int);\nselect 1 / 0;\n',
    );
    await assert.rejects(applyMigrations(sql, { dir, includeShim: true }), /Migration 29991231000000_broken\.sql failed.*division by zero/);
    const { rows } = await sql.query(`select to_regclass('public.half_done') as t`);
    assert.equal(rows[0].t, null);
    const applied = await appliedChecksums(sql);
    assert.deepEqual([...applied.keys()], migrationNames, 'the good ones are kept, the broken one is not recorded');
  });

  it('lets concurrent runners apply each migration once', async () => {
    const server = await getTestPostgres();
    const url = await server.newDatabase();
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await a.connect();
    await b.connect();
    clients.push(a, b);
    const [ra, rb] = await Promise.all([
      applyMigrations(fromPgClient(a), { includeShim: true }),
      applyMigrations(fromPgClient(b), { includeShim: true }),
    ]);
    assert.deepEqual([...ra.applied, ...rb.applied].sort(), migrationNames);
  });

  it('refuses a pg.Pool, whose statements may run on different connections', () => {
    const pool = new pg.Pool({ max: 1 });
    assert.throws(() => fromPgClient(pool as unknown as pg.Client), /not a pg\.Pool/);
    void pool.end();
  });
});
