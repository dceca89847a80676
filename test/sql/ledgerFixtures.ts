// What the SQL suites share: a known data set (deterministic, times relative to one
// anchor), its insertion, a schema dump, and text-normalised queries whose results can be
// compared across node-postgres and PGlite (which return bigint and numeric differently).
import pg from 'pg';
import { applyMigrations } from '../../src/conduit/ledger/store/migrations';
import { fromPgClient, type SqlClient } from '../../src/conduit/ledger/store/sqlClient';
import { getTestPostgres } from '../support/postgres';

export const USER_A = '0a0a0a0a-0000-4000-8000-00000000000a';
export const USER_B = '0b0b0b0b-0000-4000-8000-00000000000b';
/** A signed-in user with no projects at all. */
export const USER_C = '0c0c0c0c-0000-4000-8000-00000000000c';

export interface ProjectRow { id: string; userId: string; name: string; workspaceKey: string }
export interface AgentRow { id: string; projectId: string; name: string; personaType: string }
export interface UsageRow {
  requestId: string;
  projectId: string | null;
  agentId: string | null;
  sessionId: string;
  claudeSessionId: string;
  model: string;
  requestedModel: string;
  routingSource: string | null;
  routingRule: string;
  inputTokens: number;
  outputTokens: number;
  cacheCreation5m: number;
  cacheCreation1h: number;
  cacheRead: number;
  /** Micro-dollars (exact in JS), or null for an unknown price. */
  costMicros: number | null;
  status: number;
  error: string | null;
  durationMs: number;
  createdAt: Date;
}
export interface Dataset {
  anchor: Date;
  projects: ProjectRow[];
  agents: AgentRow[];
  usage: UsageRow[];
}

export const MODELS = ['claude-haiku-4-5', 'claude-opus-4-5', 'claude-sonnet-4-5', 'gpt-5'];
const SOURCES = ['default', 'background', 'long-context', 'agent', 'reasoning', null];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Small deterministic PRNG (mulberry32), so every run and both engines get the same rows. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Users A and B with projects, agents and usage rows spread over the last 40 days: some
 * rows without agent, without project, without routing source, with unknown cost, failed.
 * No row is within two hours of the 7- and 30-day boundaries, so results do not depend on
 * the seconds between building the set and querying it.
 */
export function buildDataset(anchor = new Date(), rows = 400, seed = 20261127): Dataset {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  const int = (max: number) => Math.floor(rand() * max);

  const projects: ProjectRow[] = [
    { id: uuidFrom(rand), userId: USER_A, name: 'A one', workspaceKey: 'file:///a/one' },
    { id: uuidFrom(rand), userId: USER_A, name: 'A two', workspaceKey: 'file:///a/two' },
    { id: uuidFrom(rand), userId: USER_B, name: 'B one', workspaceKey: 'file:///b/one' },
  ];
  const agents: AgentRow[] = [
    { id: uuidFrom(rand), projectId: projects[0].id, name: 'reviewer', personaType: 'code-reviewer' },
    { id: uuidFrom(rand), projectId: projects[0].id, name: 'tester', personaType: 'test-writer' },
    { id: uuidFrom(rand), projectId: projects[1].id, name: 'planner', personaType: 'architect' },
    { id: uuidFrom(rand), projectId: projects[2].id, name: 'helper', personaType: 'general' },
  ];

  const usage: UsageRow[] = [];
  for (let i = 0; i < rows; i++) {
    const project = rand() < 0.05 ? null : pick(projects);
    const projectAgents = project ? agents.filter((a) => a.projectId === project.id) : [];
    const agent = projectAgents.length > 0 && rand() < 0.6 ? pick(projectAgents) : null;
    let ageMs = int(40 * DAY);
    for (const boundary of [7 * DAY, 30 * DAY]) {
      if (Math.abs(ageMs - boundary) < 2 * HOUR) ageMs = boundary + 3 * HOUR;
    }
    const failed = rand() < 0.08;
    const cacheCreation5m = rand() < 0.4 ? int(20_000) : 0;
    const cacheCreation1h = rand() < 0.2 ? int(10_000) : 0;
    usage.push({
      requestId: `req_${seed}_${i}`,
      projectId: project?.id ?? null,
      agentId: agent?.id ?? null,
      sessionId: `session-${int(12)}`,
      claudeSessionId: uuidFrom(rand),
      model: pick(MODELS),
      requestedModel: pick(MODELS),
      routingSource: pick(SOURCES),
      routingRule: `rule ${int(5)}`,
      inputTokens: failed ? 0 : int(60_000),
      outputTokens: failed ? 0 : int(8_000),
      cacheCreation5m,
      cacheCreation1h,
      cacheRead: rand() < 0.5 ? int(100_000) : 0,
      costMicros: rand() < 0.15 ? null : int(2_500_000),
      status: failed ? pick([500, 529, 429]) : 200,
      error: failed ? pick(['overloaded_error', 'stream_cut', 'rate_limit_error']) : null,
      durationMs: 200 + int(60_000),
      createdAt: new Date(anchor.getTime() - ageMs),
    });
  }
  return { anchor, projects, agents, usage };
}

export function microsToText(micros: number): string {
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

const USAGE_COLUMNS = [
  'request_id', 'project_id', 'agent_id', 'session_id', 'claude_session_id', 'model', 'requested_model',
  'provider', 'routing_source', 'routing_rule', 'input_tokens', 'output_tokens', 'cache_creation_tokens',
  'cache_creation_5m_tokens', 'cache_creation_1h_tokens', 'cache_read_tokens', 'cost', 'cost_source',
  'price_version', 'status', 'error', 'stream', 'duration_ms', 'first_byte_ms', 'device', 'metadata',
  'started_at', 'ended_at', 'created_at',
] as const;

export function usageValues(u: UsageRow): unknown[] {
  const started = new Date(u.createdAt.getTime() - u.durationMs).toISOString();
  return [
    u.requestId, u.projectId, u.agentId, u.sessionId, u.claudeSessionId, u.model, u.requestedModel,
    'anthropic', u.routingSource, u.routingRule, u.inputTokens, u.outputTokens, u.cacheCreation5m + u.cacheCreation1h,
    u.cacheCreation5m, u.cacheCreation1h, u.cacheRead, u.costMicros === null ? null : microsToText(u.costMicros),
    u.costMicros === null ? 'unknown' : 'table:2026-11-01', u.costMicros === null ? null : '2026-11-01',
    u.status, u.error, true, u.durationMs, u.error ? null : Math.min(150, u.durationMs), 'test-host',
    JSON.stringify({ fallbacks: [] }), started, u.createdAt.toISOString(), u.createdAt.toISOString(),
  ];
}

/** INSERT of several usage rows in one statement ($1.. placeholders), with an optional tail. */
export function usageInsert(rows: UsageRow[], tail = ''): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples = rows.map((u) => {
    const values = usageValues(u);
    const start = params.length;
    params.push(...values);
    return `(${values.map((_, i) => `$${start + i + 1}`).join(', ')})`;
  });
  return { sql: `insert into public.usage_tracking (${USAGE_COLUMNS.join(', ')}) values ${tuples.join(', ')} ${tail}`, params };
}

export async function insertDataset(client: SqlClient, ds: Dataset): Promise<void> {
  for (const user of [USER_A, USER_B, USER_C]) {
    await client.query('insert into auth.users (id, email) values ($1, $2) on conflict (id) do nothing', [user, `${user.slice(0, 2)}@example.test`]);
  }
  for (const p of ds.projects) {
    await client.query('insert into public.projects (id, user_id, name, workspace_key) values ($1, $2, $3, $4)', [p.id, p.userId, p.name, p.workspaceKey]);
  }
  for (const a of ds.agents) {
    await client.query('insert into public.agents (id, project_id, name, persona_type) values ($1, $2, $3, $4)', [a.id, a.projectId, a.name, a.personaType]);
  }
  // In batches, as ingestion would: the rollup triggers see many rows per statement.
  for (let i = 0; i < ds.usage.length; i += 50) {
    const { sql, params } = usageInsert(ds.usage.slice(i, i + 50));
    await client.query(sql, params);
  }
  for (const u of ds.usage) {
    await client.query(
      `insert into public.routing_decisions (request_id, project_id, agent_id, session_id, requested_model,
         selected_model, provider, routing_source, rule, token_count, created_at)
       values ($1, $2, $3, $4, $5, $6, 'anthropic', $7, $8, $9, $10)`,
      [u.requestId, u.projectId, u.agentId, u.sessionId, u.requestedModel, u.model, u.routingSource ?? 'passthrough',
        u.routingRule, u.inputTokens + u.cacheRead, u.createdAt.toISOString()],
    );
  }
}

export interface StatisticsRow {
  model: string;
  request_count: string;
  total_tokens: string;
  total_cost: string | null;
  avg_tokens_per_request: string;
}

/** get_usage_statistics with every figure as text. */
export async function usageStatistics(client: SqlClient, projectId: string, range?: string): Promise<StatisticsRow[]> {
  const call = range === undefined
    ? { sql: 'public.get_usage_statistics($1)', params: [projectId] }
    : { sql: 'public.get_usage_statistics($1, $2::interval)', params: [projectId, range] };
  const { rows } = await client.query<StatisticsRow>(
    `select model, request_count::text as request_count, total_tokens::text as total_tokens,
            total_cost::text as total_cost, avg_tokens_per_request::text as avg_tokens_per_request
       from ${call.sql}`,
    call.params,
  );
  return rows;
}

/** What get_usage_statistics must return, computed here from the inserted rows. */
export function expectedStatistics(ds: Dataset, projectId: string, rangeMs: number): StatisticsRow[] {
  const from = ds.anchor.getTime() - rangeMs;
  const byModel = new Map<string, { count: number; tokens: number; micros: number; costed: number }>();
  for (const u of ds.usage) {
    if (u.projectId !== projectId || u.createdAt.getTime() < from) continue;
    const m = byModel.get(u.model) ?? { count: 0, tokens: 0, micros: 0, costed: 0 };
    m.count++;
    m.tokens += u.inputTokens + u.outputTokens;
    if (u.costMicros !== null) {
      m.micros += u.costMicros;
      m.costed++;
    }
    byModel.set(u.model, m);
  }
  return [...byModel.entries()]
    .sort(([ma, a], [mb, b]) => b.count - a.count || (ma < mb ? -1 : ma > mb ? 1 : 0))
    .map(([model, m]) => {
      // round(avg, 2), half away from zero, in integer hundredths.
      const hundredths = (BigInt(m.tokens) * 200n + BigInt(m.count)) / (2n * BigInt(m.count));
      return {
        model,
        request_count: String(m.count),
        total_tokens: String(m.tokens),
        total_cost: m.costed === 0 ? null : microsToText(m.micros),
        avg_tokens_per_request: `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`,
      };
    });
}

const ROLLUP_MEASURES = [
  'request_count', 'error_count', 'input_tokens', 'output_tokens', 'total_tokens', 'cache_creation_tokens',
  'cache_creation_5m_tokens', 'cache_creation_1h_tokens', 'cache_read_tokens', 'cost', 'costed_request_count', 'duration_ms',
] as const;

/** The rollup table, as text rows in key order. */
export async function rollupRows(client: SqlClient): Promise<Record<string, string>[]> {
  const { rows } = await client.query<Record<string, string>>(
    `select coalesce(project_id::text, '-') as project, extract(epoch from bucket)::bigint::text as hour,
            coalesce(agent_id::text, '-') as agent, model, coalesce(routing_source, '-') as source,
            ${ROLLUP_MEASURES.map((m) => (m === 'cost' ? `cost::numeric(20, 6)::text as cost` : `${m}::text as ${m}`)).join(', ')}
       from public.usage_hourly_rollup
      order by 1, 2, 3, 4, 5`,
  );
  return rows;
}

/**
 * The same figures by a GROUP BY over usage_tracking, with the UTC hour computed
 * independently of the schema's bucket function.
 */
export async function groupedUsageRows(client: SqlClient): Promise<Record<string, string>[]> {
  const { rows } = await client.query<Record<string, string>>(
    `select coalesce(project_id::text, '-') as project,
            extract(epoch from date_trunc('hour', created_at at time zone 'UTC'))::bigint::text as hour,
            coalesce(agent_id::text, '-') as agent, model, coalesce(routing_source, '-') as source,
            count(*)::text as request_count,
            count(*) filter (where error is not null or status >= 400)::text as error_count,
            sum(input_tokens)::text as input_tokens, sum(output_tokens)::text as output_tokens,
            sum(input_tokens + output_tokens)::text as total_tokens,
            sum(cache_creation_tokens)::text as cache_creation_tokens,
            sum(cache_creation_5m_tokens)::text as cache_creation_5m_tokens,
            sum(cache_creation_1h_tokens)::text as cache_creation_1h_tokens,
            sum(cache_read_tokens)::text as cache_read_tokens,
            coalesce(sum(cost), 0)::numeric(20, 6)::text as cost,
            count(cost)::text as costed_request_count,
            coalesce(sum(duration_ms), 0)::text as duration_ms
       from public.usage_tracking
      group by 1, 2, 3, 4, 5
      order by 1, 2, 3, 4, 5`,
  );
  return rows;
}

/**
 * Everything the migrations define, as sorted text: tables and columns, constraints,
 * indexes, policies, functions, triggers, RLS flags, grants, default privileges and the
 * emulated roles. Equal dumps mean an identical schema.
 */
export async function schemaDump(client: SqlClient): Promise<string[]> {
  const { rows } = await client.query<{ item: string }>(`
    with ns as (select oid from pg_namespace where nspname in ('public', 'auth'))
    select item from (
      select 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' ||
             concat_ws(' | ', data_type, numeric_precision, numeric_scale, is_nullable, column_default,
                       is_generated, generation_expression) as item
        from information_schema.columns where table_schema in ('public', 'auth')
      union all
      select 'constraint ' || conrelid::regclass::text || '.' || conname || ' ' || pg_get_constraintdef(c.oid)
        from pg_constraint c where connamespace in (select oid from ns) and contype <> 'n' -- PG 18 lists NOT NULL here too
      union all
      select 'index ' || schemaname || '.' || indexname || ' ' || indexdef
        from pg_indexes where schemaname in ('public', 'auth')
      union all
      select 'policy ' || schemaname || '.' || tablename || '.' || policyname || ' ' ||
             concat_ws(' | ', permissive, roles::text, cmd, qual, with_check)
        from pg_policies where schemaname in ('public', 'auth')
      union all
      select 'function ' || p.oid::regprocedure::text || ' ' || pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '-')
        from pg_proc p where pronamespace in (select oid from ns) and prokind in ('f', 'p')
      union all
      select 'trigger ' || tgrelid::regclass::text || '.' || tgname || ' ' || pg_get_triggerdef(t.oid)
        from pg_trigger t join pg_class c on c.oid = t.tgrelid
       where not tgisinternal and c.relnamespace in (select oid from ns)
      union all
      select 'table ' || c.oid::regclass::text || ' rls=' || relrowsecurity || ' force=' || relforcerowsecurity ||
             ' acl=' || coalesce(relacl::text, '-')
        from pg_class c where relnamespace in (select oid from ns) and relkind in ('r', 'p', 'v', 'm')
      union all
      select 'default-acl ' || defaclnamespace::regnamespace::text || ' ' || defaclobjtype::text || ' ' || defaclacl::text
        from pg_default_acl
      union all
      select 'role ' || rolname || ' login=' || rolcanlogin || ' inherit=' || rolinherit || ' bypassrls=' || rolbypassrls
        from pg_roles where rolname in ('anon', 'authenticated', 'service_role')
      union all
      select 'schema ' || nspname || ' acl=' || coalesce(nspacl::text, '-') from pg_namespace where oid in (select oid from ns)
    ) dump
    order by item collate "C"`);
  return rows.map((r) => r.item);
}

/** A connected pg client on a fresh database of the run's cluster. */
export async function connectFreshDatabase(): Promise<pg.Client> {
  const server = await getTestPostgres();
  const client = new pg.Client({ connectionString: await server.newDatabase() });
  await client.connect();
  return client;
}

/** A fresh database with the shim and every migration applied. */
export async function migratedDatabase(): Promise<{ pgClient: pg.Client; sql: SqlClient }> {
  const pgClient = await connectFreshDatabase();
  const sql = fromPgClient(pgClient);
  await applyMigrations(sql, { includeShim: true });
  return { pgClient, sql };
}
