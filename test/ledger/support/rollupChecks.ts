// The rollups of usage_tracking read as rows, beside what they should hold: a GROUP BY of
// usage_tracking. Shared by the rollup tests on PostgreSQL (rollups.test.ts) and the
// ingestion tests on PGlite (ingest.test.ts), so both check the same figures.
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from '../../../src/conduit/ledger/store/migrations';
import { fromPglite, type SqlClient } from '../../../src/conduit/ledger/store/sqlClient';
import { groupedUsageRows, migratedDatabase, rollupRows } from '../../sql/ledgerFixtures';

/** A migrated database and how to let it go. */
export interface Backend {
  sql: SqlClient;
  close(): Promise<void>;
}

/** The rollup tests run on both: a fresh database of the run's PostgreSQL 15, and PGlite. */
export const BACKENDS: readonly (readonly [string, () => Promise<Backend>])[] = [
  ['PostgreSQL 15', async () => {
    const { pgClient, sql } = await migratedDatabase();
    return { sql, close: () => pgClient.end() };
  }],
  ['PGlite', async () => {
    const lite = await PGlite.create();
    const sql = fromPglite(lite);
    await applyMigrations(sql, { includeShim: true });
    return { sql, close: () => lite.close() };
  }],
];

const COLUMNS = `coalesce(project_id::text, '-') as project, session_id as session, coalesce(agent_id::text, '-') as agent,
  first_at::text, last_at::text, request_count::text as requests, error_count::text as errors,
  input_tokens::text as input, output_tokens::text as output, total_tokens::text as total,
  cache_creation_tokens::text as cache_write, cache_read_tokens::text as cache_read,
  cost::numeric(20, 6)::text as cost, costed_request_count::text as costed, duration_ms::text as duration`;

export async function rollup(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`select ${COLUMNS} from public.usage_session_rollup order by 1, 2, 3`)).rows;
}

const PAIRS = `coalesce(project_id::text, '-') as project, session_id as session, coalesce(agent_id::text, '-') as agent,
  coalesce(requested_model, '-') as requested, model, request_count::text as requests`;

export async function modelRollup(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`select ${PAIRS} from public.usage_session_model_rollup order by 1, 2, 3, 4, 5`)).rows;
}

export async function groupedPairs(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`
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

export async function projectHourly(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`select ${HOURLY} from public.usage_project_hourly order by 1, 2`)).rows;
}

export async function groupedHourly(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`
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

export async function grouped(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`
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

const UNCOSTED = `coalesce(project_id::text, '-') as project, bucket::text, coalesce(agent_id::text, '-') as agent, model,
  coalesce(status::text, '-') as status, coalesce(error, '-') as error, refused::text, request_count::text as requests,
  tokens::text`;

/** usage_uncosted_hourly (20261203000006): failed, refused and unpriced requests per hour and key. */
export async function uncostedHourly(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`select ${UNCOSTED} from public.usage_uncosted_hourly order by 1, 2, 3, 4, 5, 6, 7`)).rows;
}

export async function groupedUncosted(sql: SqlClient): Promise<Record<string, string>[]> {
  return (await sql.query<Record<string, string>>(`
    select ${UNCOSTED} from (
      select project_id, public.usage_hour_bucket(created_at) as bucket, agent_id, model, status, error,
        coalesce(cost_source = 'refused', false) as refused, count(*) as request_count,
        sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) as tokens
      from public.usage_tracking
      where cost is null or error is not null or coalesce(status, 200) >= 400 or cost_source = 'refused'
      group by 1, 2, 3, 4, 5, 6, 7
    ) g order by 1, 2, 3, 4, 5, 6, 7`)).rows;
}

/**
 * Every rollup equals the GROUP BY of usage_tracking it stands for: the hourly rollup, the
 * project hourly totals, the session rollup, the session model pairs and the failed, refused
 * and unpriced requests per hour. Returns the
 * sessions' GROUP BY.
 */
export async function assertRollupsExact(sql: SqlClient, when: string): Promise<Record<string, string>[]> {
  assert.deepEqual(await rollupRows(sql), await groupedUsageRows(sql), `hourly rollup differs from GROUP BY ${when}`);
  const g = await grouped(sql);
  assert.deepEqual(await rollup(sql), g, `session rollup differs from GROUP BY ${when}`);
  assert.deepEqual(await projectHourly(sql), await groupedHourly(sql), `project hourly totals differ from GROUP BY ${when}`);
  assert.deepEqual(await modelRollup(sql), await groupedPairs(sql), `session model pairs differ from GROUP BY ${when}`);
  assert.deepEqual(await uncostedHourly(sql), await groupedUncosted(sql), `failed, refused and unpriced per hour differ from GROUP BY ${when}`);
  return g;
}
