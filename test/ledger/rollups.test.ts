// The rollups the ledger's migrations add equal a GROUP BY of usage_tracking after
// inserts, replays, updates, deletes, cascades, TRUNCATE and a rebuild, on real PostgreSQL
// 15: usage_session_rollup (20261128000002, by project, session and agent; the session is
// claude's session id, else Conduit's, since 20261203000001), usage_session_model_rollup
// (20261203000002, by project, session, agent, model asked for and model routed to) and
// usage_project_hourly (20261128000003, by project and hour). And agents.external_id
// (20261128000001) is unique per project.
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { SqlClient } from '../../src/conduit/ledger/sqlClient';
import { buildDataset, insertDataset, migratedDatabase, usageInsert, type Dataset } from '../sql/ledgerFixtures';

const COLUMNS = `coalesce(project_id::text, '-') as project, session_id as session, coalesce(agent_id::text, '-') as agent,
  first_at::text, last_at::text, request_count::text as requests, error_count::text as errors,
  input_tokens::text as input, output_tokens::text as output, total_tokens::text as total,
  cache_creation_tokens::text as cache_write, cache_read_tokens::text as cache_read,
  cost::numeric(20, 6)::text as cost, costed_request_count::text as costed, duration_ms::text as duration`;

async function rollup(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`select ${COLUMNS} from public.usage_session_rollup order by 1, 2, 3`)).rows;
}

const PAIRS = `coalesce(project_id::text, '-') as project, session_id as session, coalesce(agent_id::text, '-') as agent,
  coalesce(requested_model, '-') as requested, model, request_count::text as requests`;

async function modelRollup(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`select ${PAIRS} from public.usage_session_model_rollup order by 1, 2, 3, 4, 5`)).rows;
}

async function groupedPairs(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`
    select ${PAIRS} from (
      select project_id, coalesce(claude_session_id, session_id) as session_id, agent_id, requested_model, model,
        count(*) as request_count
      from public.usage_tracking where coalesce(claude_session_id, session_id) is not null
      group by 1, 2, 3, 4, 5
    ) g order by 1, 2, 3, 4, 5`)).rows;
}

const HOURLY = `coalesce(project_id::text, '-') as project, bucket::text, request_count::text as requests,
  error_count::text as errors, input_tokens::text as input, output_tokens::text as output, total_tokens::text as total,
  cache_creation_tokens::text as cache_write, cache_creation_5m_tokens::text as w5, cache_creation_1h_tokens::text as w1,
  cache_read_tokens::text as cache_read, cost::numeric(20, 6)::text as cost, costed_request_count::text as costed,
  duration_ms::text as duration`;

async function projectHourly(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`select ${HOURLY} from public.usage_project_hourly order by 1, 2`)).rows;
}

async function groupedHourly(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`
    select ${HOURLY} from (
      select project_id, public.usage_hour_bucket(created_at) as bucket, count(*) as request_count,
        count(*) filter (where error is not null or coalesce(status, 200) >= 400) as error_count,
        sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens, sum(total_tokens) as total_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens, sum(cache_creation_5m_tokens) as cache_creation_5m_tokens,
        sum(cache_creation_1h_tokens) as cache_creation_1h_tokens, sum(cache_read_tokens) as cache_read_tokens,
        coalesce(sum(cost), 0) as cost, count(cost) as costed_request_count, coalesce(sum(duration_ms), 0) as duration_ms
      from public.usage_tracking group by 1, 2
    ) g order by 1, 2`)).rows;
}

async function grouped(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query(`
    select ${COLUMNS} from (
      select project_id, coalesce(claude_session_id, session_id) as session_id, agent_id, min(created_at) as first_at, max(created_at) as last_at,
        count(*) as request_count,
        count(*) filter (where error is not null or coalesce(status, 200) >= 400) as error_count,
        sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens, sum(total_tokens) as total_tokens,
        sum(cache_creation_tokens) as cache_creation_tokens, sum(cache_read_tokens) as cache_read_tokens,
        coalesce(sum(cost), 0) as cost, count(cost) as costed_request_count, coalesce(sum(duration_ms), 0) as duration_ms
      from public.usage_tracking where coalesce(claude_session_id, session_id) is not null
      group by 1, 2, 3
    ) g order by 1, 2, 3`)).rows;
}

describe('ledger: rollups and agent keys of the ledger migrations (PostgreSQL 15)', () => {
  let pgClient: pg.Client;
  let sql: SqlClient;
  let ds: Dataset;

  before(async () => {
    ({ pgClient, sql } = await migratedDatabase());
    ds = buildDataset();
    await insertDataset(sql, ds);
  });
  after(async () => {
    await pgClient?.end();
  });

  const assertExact = async (when: string) => {
    const g = await grouped(sql);
    assert.deepEqual(await rollup(sql), g, `session rollup differs from GROUP BY ${when}`);
    assert.deepEqual(await projectHourly(sql), await groupedHourly(sql), `project hourly totals differ from GROUP BY ${when}`);
    assert.deepEqual(await modelRollup(sql), await groupedPairs(sql), `session model pairs differ from GROUP BY ${when}`);
    return g;
  };

  it('match after inserts and an idempotent replay', async () => {
    const g = await assertExact('after inserts');
    assert.ok(g.length > 20, 'many keys');
    const pairs = await groupedPairs(sql);
    assert.ok(pairs.length >= g.length && pairs.some((r) => r.requested !== r.model), 'a pair per session at least, routed elsewhere too');
    const { sql: replay, params } = usageInsert(ds.usage.slice(0, 100), 'on conflict (request_id) do nothing');
    await sql.query(replay, params);
    await assertExact('after a replay');
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
    assert.ok(beforePairs.length > 0);
    await sql.query(`truncate public.usage_session_rollup, public.usage_project_hourly, public.usage_session_model_rollup`);
    await sql.query(`select public.rebuild_usage_session_rollup()`);
    await sql.query(`select public.rebuild_usage_project_hourly()`);
    await sql.query(`select public.rebuild_usage_session_model_rollup()`);
    assert.deepEqual(await rollup(sql), before);
    assert.deepEqual(await projectHourly(sql), beforeHourly);
    assert.deepEqual(await modelRollup(sql), beforePairs);
    await sql.query(`truncate public.usage_tracking`);
    assert.deepEqual(await rollup(sql), []);
    assert.deepEqual(await projectHourly(sql), []);
    assert.deepEqual(await modelRollup(sql), []);
  });

  it('keeps agents unique by (project, external id), several without one', async () => {
    const project = ds.projects[1].id;
    await sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'a', 'ext-1')`, [project]);
    await assert.rejects(sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'b', 'ext-1')`, [project]), /agents_project_external_key/);
    await sql.query(`insert into public.agents (project_id, name, external_id) values ($1, 'c', 'ext-1')`, [ds.projects[2].id]);
    await sql.query(`insert into public.agents (project_id, name) values ($1, 'd'), ($1, 'e')`, [project]);
  });
});
