// The user's Synapse app, for the SQL tests: where the migrations start from (an empty
// database, the app's own tables, the app's Conduit migration: ../shared/fixtures, read
// from there), the app's rows written with its own columns, and a request run as PostgREST
// runs it for a signed-in user.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import type { SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { USER_A, USER_B, type StatisticsRow } from './ledgerFixtures';

export const SUPABASE = path.resolve(__dirname, '../../supabase');
export const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');
export const SHIM = path.join(SUPABASE, 'local/00_supabase_shim.sql');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const APP_TABLES = 'synapse-app-schema.sql';
export const GUIDE_MIGRATION = 'seed-conduit-migration.sql';

/** Where the migrations start from, and which of the app's rows exist before they run. */
export interface Start {
  name: string;
  fixtures: string[];
  /** The app's projects and agents are there before the migrations. */
  appRowsBefore: boolean;
  /** So are its usage rows and routing decisions. */
  usageBefore: boolean;
}

export const STARTS: Start[] = [
  { name: 'an empty database', fixtures: [], appRowsBefore: false, usageBefore: false },
  { name: "the app's own projects and agents, with rows", fixtures: [APP_TABLES], appRowsBefore: true, usageBefore: false },
  { name: "the app's Conduit migration already run, with rows", fixtures: [APP_TABLES, GUIDE_MIGRATION], appRowsBefore: true, usageBefore: true },
];

// The app's rows: user A's project with an agent, user B's project.
export const SHOP = 'a1a1a1a1-0000-4000-8000-0000000000a1';
export const BLOG = 'b1b1b1b1-0000-4000-8000-0000000000b1';
export const CODER = 'c1c1c1c1-0000-4000-8000-0000000000c1';

/** A usage row as the app writes it: its columns only, created some time ago. */
export interface AppUsage { model: string; input: number; output: number; cost: string; source: string; agent: string | null; ageMs: number }

// Ages keep clear of the 1-, 7- and 30-day edges by far more than a test run takes.
export const APP_USAGE: AppUsage[] = [
  { model: 'claude-3-5-sonnet-20241022', input: 1200, output: 300, cost: '0.008100', source: 'agent', agent: CODER, ageMs: 2 * HOUR },
  { model: 'claude-3-5-sonnet-20241022', input: 800, output: 100, cost: '0.003900', source: 'default', agent: null, ageMs: 23 * HOUR },
  { model: 'claude-3-opus-20240229', input: 5000, output: 900, cost: '0.142500', source: 'agent', agent: CODER, ageMs: 25 * HOUR },
  { model: 'claude-3-5-haiku-20241022', input: 300, output: 50, cost: '0.000440', source: 'background', agent: null, ageMs: 6 * DAY },
  { model: 'claude-3-5-haiku-20241022', input: 700, output: 90, cost: '0.000920', source: 'background', agent: CODER, ageMs: 29 * DAY },
  { model: 'claude-3-opus-20240229', input: 100, output: 10, cost: '0.002250', source: 'default', agent: null, ageMs: 31 * DAY },
];

/** get_usage_statistics' rows for the app's usage of the last `rangeMs`, computed here. */
export function expectedStatistics(usage: AppUsage[], rangeMs: number): StatisticsRow[] {
  const byModel = new Map<string, { count: number; tokens: number; micros: number }>();
  for (const u of usage.filter((x) => x.ageMs < rangeMs)) {
    const m = byModel.get(u.model) ?? { count: 0, tokens: 0, micros: 0 };
    m.count++;
    m.tokens += u.input + u.output;
    m.micros += Math.round(Number(u.cost) * 1e6);
    byModel.set(u.model, m);
  }
  return [...byModel.entries()]
    .sort(([ma, a], [mb, b]) => b.count - a.count || (ma < mb ? -1 : 1))
    .map(([model, m]) => ({
      model,
      request_count: String(m.count),
      total_tokens: String(m.tokens),
      total_cost: `${Math.floor(m.micros / 1e6)}.${String(m.micros % 1e6).padStart(6, '0')}`,
      avg_tokens_per_request: (m.tokens / m.count).toFixed(2),
    }));
}

export async function seedUsers(sql: SqlClient): Promise<void> {
  for (const user of [USER_A, USER_B]) {
    await sql.query('insert into auth.users (id, email) values ($1, $2) on conflict (id) do nothing', [user, `${user.slice(0, 2)}@example.test`]);
  }
}

/** The app's own projects and agents, with the columns its own schema has. */
export async function seedAppProjects(sql: SqlClient): Promise<void> {
  await sql.query(`insert into public.projects (id, user_id, name) values ($1, $2, 'Shop'), ($3, $4, 'Blog')`, [SHOP, USER_A, BLOG, USER_B]);
  await sql.query(`insert into public.agents (id, project_id, name, persona_type) values ($1, $2, 'Coder', 'coding')`, [CODER, SHOP]);
}

/** The app's usage rows and a routing decision, written with the guide's columns. */
export async function seedAppUsage(sql: SqlClient): Promise<void> {
  for (const u of APP_USAGE) {
    await sql.query(
      `insert into public.usage_tracking (project_id, agent_id, model, input_tokens, output_tokens, cost, routing_source, metadata, created_at)
       values ($1, $2, $3, $4, $5, $6::numeric, $7, $8::jsonb, now() - $9 * interval '1 millisecond')`,
      [SHOP, u.agent, u.model, u.input, u.output, u.cost, u.source, JSON.stringify({ sessionId: 'app-session' }), u.ageMs]);
  }
  await sql.query(
    `insert into public.routing_decisions (project_id, agent_id, requested_model, selected_model, routing_source, token_count, decision_metadata)
     values ($1, $2, 'claude-3-5-sonnet-20241022', 'claude-3-opus-20240229', 'agent', 5000, '{"reason": "research"}')`,
    [SHOP, CODER]);
}

/** Builds a database from `start`: the fixtures and the app's rows, then every migration. */
export async function buildFrom(sql: SqlClient, start: Start): Promise<void> {
  // Supabase's roles and auth schema exist before the app's tables, as on Supabase.
  await sql.exec(readFileSync(SHIM, 'utf8'));
  await seedUsers(sql);
  for (const fixture of start.fixtures) await sql.exec(readFileSync(path.join(FIXTURES, fixture), 'utf8'));
  if (start.appRowsBefore) await seedAppProjects(sql);
  if (start.usageBefore) await seedAppUsage(sql);
  await applyMigrations(sql, { includeShim: true });
  if (!start.appRowsBefore) await seedAppProjects(sql);
  if (!start.usageBefore) await seedAppUsage(sql);
}

/** Runs `work` as PostgREST runs a request of a signed-in user (or anon), then commits or rolls back. */
export async function as<T>(sql: SqlClient, user: string | null, work: () => Promise<T>, keep = false): Promise<T> {
  const role = user ? 'authenticated' : 'anon';
  await sql.exec('begin');
  try {
    await sql.exec(`set local role ${role}`);
    await sql.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(user ? { sub: user, role } : { role })]);
    const value = await work();
    await sql.exec(keep ? 'commit' : 'rollback');
    return value;
  } catch (err) {
    await sql.exec('rollback');
    throw err;
  }
}

/** The SQLSTATE of the statement's failure. */
export async function failure(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** The same checks on any database built from a start. */
