// The hourly rollup, and the session model pairs (usage_session_model_rollup,
// 20261203000002), equal a GROUP BY of usage_tracking after every kind of change: batch
// inserts, idempotent replays, updates, deletes, cascades from agents and projects, and
// TRUNCATE.
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import {
  buildDataset,
  groupedUsageRows,
  insertDataset,
  migratedDatabase,
  rollupRows,
  usageInsert,
  type Dataset,
} from './ledgerFixtures';

/** usage_session_model_rollup, and what it should hold: a GROUP BY of usage_tracking. */
const PAIRS = `coalesce(project_id::text, '-') as project, session_id as session, coalesce(agent_id::text, '-') as agent,
  coalesce(requested_model, '-') as requested, model, request_count::text as requests`;
async function modelPairRows(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`select ${PAIRS} from public.usage_session_model_rollup order by 1, 2, 3, 4, 5`)).rows;
}
async function groupedModelPairs(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`
    select ${PAIRS} from (
      select project_id, coalesce(claude_session_id, session_id) as session_id, agent_id, requested_model, model, count(*) as request_count
      from public.usage_tracking where coalesce(claude_session_id, session_id) is not null group by 1, 2, 3, 4, 5
    ) g order by 1, 2, 3, 4, 5`)).rows;
}

describe('sql: usage_hourly_rollup', () => {
  let pgClient: pg.Client;
  let sql: SqlClient;
  let ds: Dataset;
  before(async () => {
    ({ pgClient, sql } = await migratedDatabase());
    ds = buildDataset();
    await insertDataset(sql, ds);
  });
  after(async () => {
    await pgClient.end();
  });

  async function assertRollupExact(when: string) {
    const grouped = await groupedUsageRows(sql);
    assert.deepEqual(await rollupRows(sql), grouped, `rollup differs from GROUP BY ${when}`);
    assert.deepEqual(await modelPairRows(sql), await groupedModelPairs(sql), `session model pairs differ from GROUP BY ${when}`);
    return grouped;
  }

  it('matches after batch inserts', async () => {
    const grouped = await assertRollupExact('after inserts');
    assert.ok(grouped.length > 100, 'the data set spreads over many keys');
    assert.ok(grouped.some((r) => r.project === '-') && grouped.some((r) => r.agent === '-') && grouped.some((r) => r.source === '-'),
      'keys with no project, no agent, no routing source');
  });

  it('counts a replay of the same request ids once', async () => {
    const before = await rollupRows(sql);
    const pairsBefore = await modelPairRows(sql);
    const { sql: replay, params } = usageInsert(ds.usage.slice(0, 120), 'on conflict (request_id) do nothing');
    await sql.query(replay, params);
    assert.deepEqual(await rollupRows(sql), before);
    assert.deepEqual(await modelPairRows(sql), pairsBefore);
  });

  it('matches after upserts that change rows (insert ... on conflict do update)', async () => {
    const changed = ds.usage.slice(0, 80).map((u, i) => ({
      ...u,
      outputTokens: u.outputTokens + 7,
      costMicros: i % 3 === 0 ? null : (u.costMicros ?? 0) + 11,
    }));
    const fresh = buildDataset(ds.anchor, 30, 99).usage.map((u) => ({ ...u, projectId: ds.projects[1].id, agentId: null }));
    const { sql: upsert, params } = usageInsert([...changed, ...fresh],
      'on conflict (request_id) do update set output_tokens = excluded.output_tokens, cost = excluded.cost');
    await sql.query(upsert, params);
    await assertRollupExact('after upserts');
  });

  it('matches after updates of keys, measures and times', async () => {
    await sql.query(`update public.usage_tracking set model = 'claude-opus-4-5' where request_id like '%\\_1_' escape '\\'`);
    await sql.query(`update public.usage_tracking set created_at = created_at - interval '90 minutes', input_tokens = input_tokens + 1
                     where request_id like '%\\_2_' escape '\\'`);
    await sql.query(`update public.usage_tracking set routing_source = null, status = 529, error = 'overloaded_error'
                     where request_id like '%\\_3_' escape '\\'`);
    await sql.query(`update public.usage_tracking set agent_id = null where request_id like '%\\_4_' escape '\\'`);
    await sql.query(`update public.usage_tracking set requested_model = null where request_id like '%\\_6_' escape '\\'`);
    await sql.query(`update public.usage_tracking set claude_session_id = null where request_id like '%\\_7_' escape '\\'`);
    await sql.query(`update public.usage_tracking set metadata = '{"touched": true}'`); // changes nothing counted
    await assertRollupExact('after updates');
  });

  it('matches after deletes, down to removing keys whose count reaches 0', async () => {
    await sql.query(`delete from public.usage_tracking where request_id like '%\\_5_' escape '\\'`);
    await sql.query(`delete from public.usage_tracking where model = 'gpt-5' and project_id is null`);
    const grouped = await assertRollupExact('after deletes');
    assert.ok(!grouped.some((r) => r.model === 'gpt-5' && r.project === '-'));
  });

  it('matches after an agent is deleted (usage keeps its rows, without agent)', async () => {
    const agent = ds.agents[0];
    const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from public.usage_tracking where agent_id = $1`, [agent.id]);
    assert.ok(rows[0].n > 0);
    await sql.query(`delete from public.agents where id = $1`, [agent.id]);
    const grouped = await assertRollupExact('after deleting an agent');
    assert.ok(!grouped.some((r) => r.agent === agent.id));
  });

  it('matches after a project is deleted (its usage goes with it)', async () => {
    const project = ds.projects[2];
    await sql.query(`delete from public.projects where id = $1`, [project.id]);
    const grouped = await assertRollupExact('after deleting a project');
    assert.ok(!grouped.some((r) => r.project === project.id));
    assert.ok(grouped.length > 0);
  });

  it('matches after rebuild_usage_hourly_rollup() (and rebuild_usage_session_model_rollup()), and after TRUNCATE', async () => {
    const before = await rollupRows(sql);
    const pairsBefore = await modelPairRows(sql);
    assert.ok(pairsBefore.length > 0);
    await sql.query('select public.rebuild_usage_hourly_rollup()');
    await sql.query('select public.rebuild_usage_session_model_rollup()');
    assert.deepEqual(await rollupRows(sql), before);
    assert.deepEqual(await modelPairRows(sql), pairsBefore);
    await sql.exec('truncate public.usage_tracking');
    assert.deepEqual(await rollupRows(sql), []);
    assert.deepEqual(await modelPairRows(sql), []);
  });
});
