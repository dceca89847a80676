// The rollups the ledger's migrations add equal a GROUP BY of usage_tracking after
// inserts, replays, updates, deletes, cascades, TRUNCATE and a rebuild, on real PostgreSQL
// 15 and on the embedded store (PGlite): usage_session_rollup (20261128000002, by project,
// session and agent; the session is claude's session id, else Conduit's, since
// 20261203000001), usage_session_model_rollup (20261203000002, by project, session, agent,
// model asked for and model routed to) and usage_project_hourly (20261128000003, by project
// and hour) and usage_uncosted_hourly (20261203000006, failed, refused and unpriced
// requests by hour and key), all kept by one trigger function since 20261204000001. And
// agents.external_id (20261128000001) is unique per project.
import assert from 'node:assert/strict';
import type { SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { buildDataset, insertDataset, usageInsert, type Dataset } from '../sql/ledgerFixtures';
import { assertRollupsExact, BACKENDS, groupedPairs, modelRollup, projectHourly, rollup, uncostedHourly, type Backend } from './support/rollupChecks';

for (const [name, open] of BACKENDS) {
  describe(`ledger: rollups and agent keys of the ledger migrations (${name})`, () => {
    let backend: Backend | undefined;
    let sql: SqlClient;
    let ds: Dataset;

    before(async function () {
      this.timeout(120_000); // a new PGlite instance takes several seconds here
      backend = await open();
      sql = backend.sql;
      ds = buildDataset();
      await insertDataset(sql, ds);
    });
    after(async () => {
      await backend?.close();
    });

    const assertExact = (when: string) => assertRollupsExact(sql, when);

    it('match after inserts and an idempotent replay', async () => {
      const g = await assertExact('after inserts');
      assert.ok(g.length > 20, 'many keys');
      const pairs = await groupedPairs(sql);
      assert.ok(pairs.length >= g.length && pairs.some((r) => r.requested !== r.model), 'a pair per session at least, routed elsewhere too');
      const { sql: replay, params } = usageInsert(ds.usage.slice(0, 100), 'on conflict (request_id) do nothing');
      await sql.query(replay, params);
      await assertExact('after a replay');
    });

    it('match after one batch that repeats request ids (stored ones, and twice within itself) across hours and sessions', async () => {
      const before = Number((await sql.query<{ n: string }>(`select count(*) as n from public.usage_tracking`)).rows[0].n);
      // Stored already, with other figures: on conflict do nothing keeps the stored row, and the rollups with it.
      const stored = ds.usage.slice(0, 25).map((u) => ({ ...u, outputTokens: u.outputTokens + 1000, costMicros: 999_999 }));
      // New requests spread over hours, sessions, projects and agents; each sent twice, the second copy different.
      const fresh = buildDataset(ds.anchor, 60, 4242).usage.map((u, i) => ({
        ...u,
        projectId: i % 7 === 0 ? null : ds.projects[i % 2].id,
        agentId: i % 3 === 0 && i % 7 !== 0 ? ds.agents[i % 2 === 0 ? 0 : 2].id : null,
        sessionId: `batch-session-${i % 4}`,
        // Several rows of one claude session in the batch, and rows keyed by Conduit's session id.
        claudeSessionId: i % 5 === 0 ? (null as unknown as string) : `batch-claude-${i % 3}`,
        createdAt: new Date(ds.anchor.getTime() - (i % 9) * 3_600_000 - i * 1000),
      }));
      const copies = fresh.map((u) => ({ ...u, inputTokens: u.inputTokens + 5, model: 'claude-opus-4-5', createdAt: new Date(u.createdAt.getTime() - 86_400_000) }));
      const { sql: insert, params } = usageInsert([...stored, ...fresh, ...copies], 'on conflict (request_id) do nothing');
      await sql.query(insert, params);
      const after = Number((await sql.query<{ n: string }>(`select count(*) as n from public.usage_tracking`)).rows[0].n);
      assert.equal(after - before, fresh.length, 'each new request id once');
      const { rows: spread } = await sql.query<{ hours: string; sessions: string }>(
        `select count(distinct public.usage_hour_bucket(created_at)) as hours, count(distinct coalesce(claude_session_id, session_id)) as sessions
         from public.usage_tracking where request_id = any($1::text[])`, [fresh.map((u) => u.requestId)]);
      assert.ok(Number(spread[0].hours) >= 9 && Number(spread[0].sessions) >= 4, 'the batch spans hours and sessions');
      await assertExact('after a batch with repeated request ids');
    });

    it('match after updates of sessions, times and measures, and deletes', async () => {
      for (const statement of [
        `update public.usage_tracking set output_tokens = output_tokens + 3, cost = null where request_id like '%\\_1_' escape '\\'`,
        `update public.usage_tracking set created_at = created_at - interval '5 days' where request_id like '%\\_2_' escape '\\'`,
        `update public.usage_tracking set session_id = 'moved-session' where request_id like '%\\_4_' escape '\\'`,
        `update public.usage_tracking set session_id = null where request_id like '%\\_5_' escape '\\'`,
        // The key is claude's session id, else Conduit's (20261203000001_session_key.sql):
        // runs resumed into one claude session, runs without one, rows with neither.
        `update public.usage_tracking set claude_session_id = 'resumed-claude-session' where request_id like '%\\_6_' escape '\\'`,
        `update public.usage_tracking set claude_session_id = null where request_id like '%\\_7_' escape '\\'`,
        `update public.usage_tracking set claude_session_id = null, session_id = null where request_id like '%\\_8_' escape '\\'`,
        // The pairs' keys: the model routed to and the model asked for (also none).
        `update public.usage_tracking set model = 'claude-opus-4-5' where request_id like '%\\_9_' escape '\\'`,
        `update public.usage_tracking set requested_model = null where request_id like '%0_'`,
        `update public.usage_tracking set requested_model = model where request_id like '%7'`,
        // Failed, refused and unpriced requests per hour: refused by a budget, healed, priced, failed later.
        `update public.usage_tracking set cost = 0, cost_source = 'refused', status = 402, error = 'budget_exceeded' where request_id like '%\\_1_' escape '\\'`,
        `update public.usage_tracking set status = 200, error = null where request_id like '%\\_2_' escape '\\'`,
        `update public.usage_tracking set cost = 0.5, cost_source = 'table:2026-11-01' where cost is null and request_id like '%\\_6_' escape '\\'`,
        `update public.usage_tracking set status = 529, error = 'overloaded_error' where request_id like '%\\_9_' escape '\\'`,
        `delete from public.usage_tracking where request_id like '%\\_3_' escape '\\'`,
        `delete from public.usage_tracking where created_at = (select max(created_at) from public.usage_tracking)`,
        `delete from public.agents where name = 'tester'`,
        `delete from public.projects where id = (select id from public.projects order by name limit 1)`,
      ]) {
        await sql.query(statement);
        await assertExact(`after: ${statement}`);
      }
    });

    it('match after a rebuild and after TRUNCATE', async () => {
      const before = await rollup(sql);
      const beforeHourly = await projectHourly(sql);
      const beforePairs = await modelRollup(sql);
      const beforeUncosted = await uncostedHourly(sql);
      assert.ok(beforePairs.length > 0);
      assert.ok(beforeUncosted.some((r) => r.refused === 'true') && beforeUncosted.some((r) => r.status === '200'), 'refused and unpriced requests');
      await sql.query(`truncate public.usage_session_rollup, public.usage_project_hourly, public.usage_session_model_rollup, public.usage_uncosted_hourly`);
      await sql.query(`select public.rebuild_usage_session_rollup()`);
      await sql.query(`select public.rebuild_usage_project_hourly()`);
      await sql.query(`select public.rebuild_usage_session_model_rollup()`);
      await sql.query(`select public.rebuild_usage_uncosted_hourly()`);
      assert.deepEqual(await rollup(sql), before);
      assert.deepEqual(await projectHourly(sql), beforeHourly);
      assert.deepEqual(await modelRollup(sql), beforePairs);
      assert.deepEqual(await uncostedHourly(sql), beforeUncosted);
      await sql.query(`truncate public.usage_tracking`);
      assert.deepEqual(await rollup(sql), []);
      assert.deepEqual(await projectHourly(sql), []);
      assert.deepEqual(await modelRollup(sql), []);
      assert.deepEqual(await uncostedHourly(sql), []);
    });

    it('keeps agents unique by (project, external id), several without one', async () => {
      const project = ds.projects[1].id;
      await sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'a', 'ext-1')`, [project]);
      await assert.rejects(sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'b', 'ext-1')`, [project]), /agents_project_external_key/);
      await sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'c', 'ext-1')`, [ds.projects[2].id]);
      await sql.query(`insert into public.agents (project_id, name) values ($1, 'd'), ($1, 'e')`, [project]);
    });
  });
}
