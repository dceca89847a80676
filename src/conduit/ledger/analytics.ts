// The analytics API's queries over the embedded store.
//
// Every figure comes from an hourly rollup for the whole UTC hours of the range (totals
// and cost over time from the per-project usage_project_hourly; per model, source and
// agent from usage_hourly_rollup) and from usage rows (by index) for what no rollup can
// answer: the partial hours at the range's ends, and, in cost over time, the hours that a
// bucket boundary cuts (local midnights or hours of a time zone whose offset is not whole
// hours). So results are exact for any range and zone while a month of a busy project
// reads hundreds (totals) to a few thousand (per model) rollup rows. A
// session filter reads the session's usage rows by its id, claude's else Conduit's
// (usage_tracking_session_key_created_idx), or by Conduit's id of one of its runs
// (usage_tracking_session_created_idx);
// recent requests and sessions read an index with a LIMIT.
//
// Three parts: parseAnalyticsParams (HTTP query → checked parameters, no database),
// runAnalytics (SQL, in the ledger's thread) and finishAnalytics (prices: savings and
// cache economics, in the gateway's thread where the price table lives).
import { costOf, type ModelPrice } from '../pricing/priceTable';
import { sessionIdOf } from '../../protocol/session';
import type { SqlClient } from './sqlClient';
import { AnalyticsParamError, strictQuery, timeZoneParam } from './queryParams';
import { NO_UNRECORDED, unrecordedUsage } from './unrecorded';
import { REFUSED_COST_SOURCE, totalTokens } from '../../protocol/measures';

export const ANALYTICS_QUERIES = ['summary', 'models', 'timeseries', 'sources', 'recent', 'agents', 'sessions', 'savings', 'cache'] as const;
export type AnalyticsQuery = (typeof ANALYTICS_QUERIES)[number];

export type RangeKind = 'day' | 'week' | 'month' | 'custom';
export type Bucket = 'hour' | 'day';

export interface AnalyticsParams {
  project?: string;
  agent?: string;
  session?: string;
  range: RangeKind;
  /** custom only: as given (YYYY-MM-DD, local date-time, or date-time with offset). */
  from?: string;
  to?: string;
  tz: string;
  bucket?: Bucket;
  limit: number;
  /** savings: compare against this model instead of the project's default model. */
  baseline?: string;
}

// A parameter the caller got wrong (answered with 400): defined with the query string reader.
export { AnalyticsParamError } from './queryParams';

const PARAMS = ['project', 'agent', 'session', 'range', 'from', 'to', 'tz', 'bucket', 'limit', 'baseline'] as const;
const RANGES: RangeKind[] = ['day', 'week', 'month', 'custom'];
const RANGE_DAYS: Record<Exclude<RangeKind, 'custom'>, number> = { day: 1, week: 7, month: 30 };
export const MAX_LIMIT = 50;
const MAX_CUSTOM_DAYS = 366;
const MAX_HOUR_BUCKET_DAYS = 31;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function isAnalyticsQuery(name: string): name is AnalyticsQuery {
  return (ANALYTICS_QUERIES as readonly string[]).includes(name);
}

export function idParam(name: string, value: string): string {
  if (value.length < 1 || value.length > 200) throw new AnalyticsParamError(`${name}: expected 1 to 200 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new AnalyticsParamError(`${name}: control characters are not allowed`);
  return value;
}

export function timeParam(name: string, value: string): string {
  if (!DATE.test(value) && !LOCAL_TIME.test(value) && !ZONED_TIME.test(value)) {
    throw new AnalyticsParamError(`${name}: expected a date (2026-11-27), a local date-time (2026-11-27T14:00) or one with an offset (2026-11-27T14:00:00Z), got "${value.slice(0, 40)}"`);
  }
  if (Number.isNaN(Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : ZONED_TIME.test(value) ? value : `${value}Z`))) {
    throw new AnalyticsParamError(`${name}: "${value}" is not a valid date`);
  }
  return value;
}

/** Checks the query string of GET /v1/conduit/analytics/<query>. */
export function parseAnalyticsParams(search: URLSearchParams): AnalyticsParams {
  const get = strictQuery(search, PARAMS);
  const from = get('from');
  const to = get('to');
  const rangeText = get('range') ?? (from || to ? 'custom' : 'week');
  if (!(RANGES as string[]).includes(rangeText)) throw new AnalyticsParamError(`range: expected one of ${RANGES.join(', ')}, got "${rangeText.slice(0, 40)}"`);
  const range = rangeText as RangeKind;
  const params: AnalyticsParams = { range, tz: 'UTC', limit: MAX_LIMIT };
  if (range === 'custom') {
    if (!from || !to) throw new AnalyticsParamError('range=custom needs both from and to');
    params.from = timeParam('from', from);
    params.to = timeParam('to', to);
  } else if (from || to) {
    throw new AnalyticsParamError(`from and to apply to range=custom only (range is ${range})`);
  }
  const tz = get('tz');
  if (tz !== undefined) params.tz = timeZoneParam(tz);
  const bucket = get('bucket');
  if (bucket !== undefined) {
    if (bucket !== 'hour' && bucket !== 'day') throw new AnalyticsParamError(`bucket: expected hour or day, got "${bucket.slice(0, 40)}"`);
    params.bucket = bucket;
    if (bucket === 'hour' && (range === 'month')) {
      throw new AnalyticsParamError(`bucket=hour covers at most ${MAX_HOUR_BUCKET_DAYS} days; use bucket=day for range=month`);
    }
  }
  const limit = get('limit');
  if (limit !== undefined) {
    if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) throw new AnalyticsParamError(`limit: expected a whole number from 1 to ${MAX_LIMIT}`);
    params.limit = Number(limit);
  }
  for (const k of ['project', 'agent', 'session', 'baseline'] as const) {
    const v = get(k);
    if (v !== undefined) params[k] = idParam(k, v);
  }
  return params;
}

// ---------------------------------------------------------------------------------------
// SQL

/** Builds $n placeholders while collecting their values. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

export interface ResolvedScope {
  from: Date;
  to: Date;
  tz: string;
  bucket: Bucket;
  project: { id: string; name: string; workspaceKey: string; defaultModel: string | null } | null;
  /** null: no agent filter; []: the agent named does not exist (nothing matches). */
  agentIds: string[] | null;
  session: string | null;
  /** The project named does not exist: every figure is empty. */
  noMatch: boolean;
}

const NO_ROWS = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function timeExpr(p: Params, value: string, tz: string, endOfDay: boolean): string {
  if (DATE.test(value)) return `((${p.add(value)}::date + ${endOfDay ? 1 : 0})::timestamp at time zone ${p.add(tz)})`;
  if (ZONED_TIME.test(value)) return `${p.add(value)}::timestamptz`;
  return `(${p.add(value)}::timestamp at time zone ${p.add(tz)})`;
}

/** `maxDays`: the longest range allowed (usage reports allow more than the analytics). */
export async function resolveScope(db: SqlClient, localUserId: string, params: AnalyticsParams, now: Date, maxDays = MAX_CUSTOM_DAYS): Promise<ResolvedScope> {
  const p = new Params();
  let fromSql: string;
  let toSql: string;
  if (params.range === 'custom') {
    fromSql = timeExpr(p, params.from!, params.tz, false);
    toSql = timeExpr(p, params.to!, params.tz, true);
  } else {
    const nowP = p.add(now.toISOString(), '::timestamptz');
    const tzP = p.add(params.tz);
    // Whole local days ending with today: day = today, week = the last 7 days, month = 30.
    fromSql = `((date_trunc('day', ${nowP} at time zone ${tzP}) - make_interval(days => ${p.add(RANGE_DAYS[params.range] - 1)}::int)) at time zone ${tzP})`;
    toSql = nowP;
  }
  let rows: { from_at: Date; to_at: Date }[];
  try {
    ({ rows } = await db.query<{ from_at: Date; to_at: Date }>(`select ${fromSql} as from_at, ${toSql} as to_at`, p.values));
  } catch (err) {
    throw new AnalyticsParamError(`from/to/tz: ${(err as Error).message}`);
  }
  const from = new Date(rows[0].from_at);
  const to = new Date(rows[0].to_at);
  if (!(from < to)) throw new AnalyticsParamError(`from must be before to (from ${from.toISOString()}, to ${to.toISOString()})`);
  const spanDays = (to.getTime() - from.getTime()) / DAY;
  if (spanDays > maxDays + 1) throw new AnalyticsParamError(`the range covers ${Math.ceil(spanDays)} days; at most ${maxDays}`);
  const bucket: Bucket = params.bucket ?? (spanDays <= 2 ? 'hour' : 'day');
  if (bucket === 'hour' && spanDays > MAX_HOUR_BUCKET_DAYS + 1) {
    throw new AnalyticsParamError(`bucket=hour covers at most ${MAX_HOUR_BUCKET_DAYS} days; this range covers ${Math.ceil(spanDays)}: use bucket=day`);
  }

  const scope: ResolvedScope = { from, to, tz: params.tz, bucket, project: null, agentIds: null, session: params.session ?? null, noMatch: false };
  if (params.project) {
    const id = UUID.test(params.project) ? params.project : null;
    const { rows: found } = await db.query<{ id: string; name: string; workspace_key: string; default_model: string | null }>(
      `select id::text, name, workspace_key, model_config->>'defaultModel' as default_model
       from public.projects
       where id = $1::uuid or (user_id = $2::uuid and workspace_key = $3)
       order by (id = $1::uuid) desc nulls last
       limit 1`,
      [id, localUserId, params.project],
    );
    if (found.length) {
      const f = found[0];
      scope.project = { id: f.id, name: f.name, workspaceKey: f.workspace_key, defaultModel: f.default_model };
    } else {
      scope.noMatch = true;
    }
  }
  if (params.agent) {
    const id = UUID.test(params.agent) ? params.agent : null;
    const { rows: agents } = await db.query<{ id: string }>(
      `select id::text from public.agents
       where (id = $1::uuid or external_id = $2) and ($3::uuid is null or project_id = $3::uuid)`,
      [id, params.agent, scope.project?.id ?? null],
    );
    scope.agentIds = agents.map((a) => a.id);
    if (!agents.length) scope.noMatch = true;
  }
  return scope;
}

export interface Source {
  /** A FROM item aliased s: project_id, agent_id, model, routing_source, at, n, errors, input, output, cache_write(_5m, _1h), cache_read, cost, costed, duration_ms. */
  sql: string;
}

const SUMS = `
  coalesce(sum(s.n), 0)::float8 as requests,
  coalesce(sum(s.errors), 0)::float8 as errors,
  coalesce(sum(s.input), 0)::float8 as input_tokens,
  coalesce(sum(s.output), 0)::float8 as output_tokens,
  coalesce(sum(s.cache_write), 0)::float8 as cache_creation_tokens,
  coalesce(sum(s.cache_write_5m), 0)::float8 as cache_creation_5m_tokens,
  coalesce(sum(s.cache_write_1h), 0)::float8 as cache_creation_1h_tokens,
  coalesce(sum(s.cache_read), 0)::float8 as cache_read_tokens,
  coalesce(sum(s.cost), 0)::float8 as cost,
  coalesce(sum(s.costed), 0)::float8 as costed_requests,
  coalesce(sum(s.duration_ms), 0)::float8 as duration_ms`;

/**
 * A usage row's session: Claude Code's session id, else Conduit's (sessionIdOf in
 * src/protocol/session.ts). The session rollup's key and an index have the same expression
 * (migration 20261203000001_session_key.sql).
 */
export const sessionKey = (alias: string) => `coalesce(${alias}.claude_session_id, ${alias}.session_id)`;

/** The usage rows of a session named by its id, or by Conduit's id of one of its runs. */
function sessionRows(p: Params, alias: string, session: string): string {
  const id = p.add(session);
  return `(${sessionKey(alias)} = ${id} or ${alias}.session_id = ${id})`;
}

/**
 * The usage in scope as one row set: rollup rows for whole hours, usage rows for the rest
 * (and only usage rows when a session is named). `cutHours` are whole hours to read from
 * usage rows too (a bucket boundary cuts them). `totalsOnly`: the caller groups by nothing
 * but time, so without an agent filter the per-project hourly totals serve (one row per
 * hour instead of one per agent, model and source); model, source and agent are then null.
 */
export function usageSource(p: Params, scope: ResolvedScope, cutHours: Date[] = [], totalsOnly = false): Source {
  const fromMs = scope.from.getTime();
  const toMs = scope.to.getTime();
  const filters = (alias: string) => {
    const f: string[] = [];
    if (scope.noMatch) f.push(`${alias}.project_id = ${p.add(NO_ROWS)}::uuid`);
    else if (scope.project) f.push(`${alias}.project_id = ${p.add(scope.project.id)}::uuid`);
    if (scope.agentIds) f.push(`${alias}.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
    return f.map((x) => ` and ${x}`).join('');
  };
  const rawColumns = `u.project_id, u.agent_id, u.model, u.routing_source, u.created_at as at,
      1::bigint as n, (u.error is not null or coalesce(u.status, 200) >= 400)::int::bigint as errors,
      u.input_tokens::bigint as input, u.output_tokens::bigint as output,
      u.cache_creation_tokens::bigint as cache_write, u.cache_creation_5m_tokens::bigint as cache_write_5m,
      u.cache_creation_1h_tokens::bigint as cache_write_1h, u.cache_read_tokens::bigint as cache_read,
      u.cost, (u.cost is not null)::int::bigint as costed, coalesce(u.duration_ms, 0)::bigint as duration_ms`;
  if (scope.session !== null) {
    return {
      sql: `(select ${rawColumns} from public.usage_tracking u
        where ${sessionRows(p, 'u', scope.session)} and u.created_at >= ${p.add(scope.from.toISOString())}::timestamptz
          and u.created_at < ${p.add(scope.to.toISOString())}::timestamptz${filters('u')}) s`,
    };
  }
  // Whole UTC hours [a, b) come from the rollup; [from, a) and [b, to) from usage rows.
  let a = Math.ceil(fromMs / HOUR) * HOUR;
  let b = Math.floor(toMs / HOUR) * HOUR;
  if (a >= b) a = b = toMs; // no whole hour: all from usage rows
  const lo: string[] = [];
  const hi: string[] = [];
  const edge = (x: number, y: number) => {
    if (x < y) {
      lo.push(new Date(x).toISOString());
      hi.push(new Date(y).toISOString());
    }
  };
  if (a === b) edge(fromMs, toMs);
  else {
    edge(fromMs, a);
    edge(b, toMs);
  }
  const cut = cutHours.map((h) => h.getTime()).filter((h) => h >= a && h < b);
  for (const h of cut) edge(h, h + HOUR);
  const parts: string[] = [];
  if (a < b && totalsOnly && !scope.agentIds) {
    parts.push(`select r.project_id, null::uuid as agent_id, null::text as model, null::text as routing_source, r.bucket as at,
        r.request_count as n, r.error_count as errors, r.input_tokens as input, r.output_tokens as output,
        r.cache_creation_tokens as cache_write, r.cache_creation_5m_tokens as cache_write_5m,
        r.cache_creation_1h_tokens as cache_write_1h, r.cache_read_tokens as cache_read,
        r.cost, r.costed_request_count as costed, r.duration_ms
      from public.usage_project_hourly r
      where r.bucket >= ${p.add(new Date(a).toISOString())}::timestamptz and r.bucket < ${p.add(new Date(b).toISOString())}::timestamptz${filters('r')}${
        cut.length ? ` and r.bucket <> all(${p.add(cut.map((h) => new Date(h).toISOString()))}::timestamptz[])` : ''}`);
  } else if (a < b) {
    parts.push(`select r.project_id, r.agent_id, r.model, r.routing_source, r.bucket as at,
        r.request_count as n, r.error_count as errors, r.input_tokens as input, r.output_tokens as output,
        r.cache_creation_tokens as cache_write, r.cache_creation_5m_tokens as cache_write_5m,
        r.cache_creation_1h_tokens as cache_write_1h, r.cache_read_tokens as cache_read,
        r.cost, r.costed_request_count as costed, r.duration_ms
      from public.usage_hourly_rollup r
      where r.bucket >= ${p.add(new Date(a).toISOString())}::timestamptz and r.bucket < ${p.add(new Date(b).toISOString())}::timestamptz${filters('r')}${
        cut.length ? ` and r.bucket <> all(${p.add(cut.map((h) => new Date(h).toISOString()))}::timestamptz[])` : ''}`);
  }
  if (lo.length) {
    // One index range scan per interval: LATERAL with OFFSET 0 keeps the planner from
    // flattening it into a join, which it would run as a scan of the whole table.
    parts.push(`select x.*
      from unnest(${p.add(lo)}::timestamptz[], ${p.add(hi)}::timestamptz[]) as iv(lo, hi)
      cross join lateral (
        select ${rawColumns} from public.usage_tracking u
        where u.created_at >= iv.lo and u.created_at < iv.hi${filters('u')}
        offset 0
      ) x`);
  }
  if (!parts.length) parts.push(`select ${rawColumns} from public.usage_tracking u where false`);
  return { sql: `(${parts.join('\nunion all\n')}) s` };
}

export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
  cacheReadTokens: number;
  /** input + output + cache write + cache read (src/protocol/measures.ts); not usage_tracking.total_tokens. */
  totalTokens: number;
  /** USD: the sum of the known costs; null when no request in the set had a known price. */
  cost: number | null;
  costedRequests: number;
  /** Requests whose cost is unknown (no price for their model, or no usage reported). */
  unknownCostRequests: number;
}

interface SumRow {
  requests: number; errors: number; input_tokens: number; output_tokens: number; cache_creation_tokens: number;
  cache_creation_5m_tokens: number; cache_creation_1h_tokens: number; cache_read_tokens: number; cost: number;
  costed_requests: number; duration_ms: number;
}

const usd = (x: number) => Math.round(x * 1e6) / 1e6;

function totalsOf(r: SumRow): UsageTotals {
  return {
    requests: r.requests,
    errors: r.errors,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cacheCreationTokens: r.cache_creation_tokens,
    cacheCreation5mTokens: r.cache_creation_5m_tokens,
    cacheCreation1hTokens: r.cache_creation_1h_tokens,
    cacheReadTokens: r.cache_read_tokens,
    totalTokens: totalTokens({ inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheCreationTokens: r.cache_creation_tokens, cacheReadTokens: r.cache_read_tokens }),
    cost: r.costed_requests > 0 ? usd(r.cost) : null,
    costedRequests: r.costed_requests,
    unknownCostRequests: r.requests - r.costed_requests,
  };
}

export interface ScopeInfo {
  from: string;
  to: string;
  tz: string;
  project: { id: string; name: string; workspaceKey: string } | null;
  agent: string | null;
  session: string | null;
}

function scopeInfo(scope: ResolvedScope, params: AnalyticsParams): ScopeInfo {
  return {
    from: scope.from.toISOString(),
    to: scope.to.toISOString(),
    tz: scope.tz,
    project: scope.project ? { id: scope.project.id, name: scope.project.name, workspaceKey: scope.project.workspaceKey } : null,
    agent: params.agent ?? null,
    session: scope.session,
  };
}

/** Token sums of one model (and project): what savings and cache economics are priced from. */
export interface ModelTokens extends UsageTotals {
  model: string;
  projectId: string | null;
  /** The project's configured default model (projects.model_config.defaultModel). */
  defaultModel: string | null;
}

/** What runAnalytics returns: final for most queries; savings and cache get prices in finishAnalytics. */
export type RawAnalytics =
  | { query: 'savings' | 'cache'; scope: ScopeInfo; byModel: ModelTokens[] }
  | { query: Exclude<AnalyticsQuery, 'savings' | 'cache'>; scope: ScopeInfo; result: Record<string, unknown> };

export async function runAnalytics(db: SqlClient, localUserId: string, query: AnalyticsQuery, params: AnalyticsParams, now = new Date()): Promise<RawAnalytics> {
  const scope = await resolveScope(db, localUserId, params, now);
  const info = scopeInfo(scope, params);
  switch (query) {
    case 'summary': {
      const p = new Params();
      const src = usageSource(p, scope, [], true);
      const { rows } = await db.query<SumRow>(`select ${SUMS} from ${src.sql}`, p.values);
      const t = totalsOf(rows[0]);
      return {
        query, scope: info,
        result: {
          ...t,
          averageCostPerRequest: t.cost !== null && t.costedRequests > 0 ? usd(t.cost / t.costedRequests) : null,
          averageDurationMs: t.requests > 0 ? Math.round(rows[0].duration_ms / t.requests) : null,
          // Requests a budget refused (cost 0, the provider never called): among the requests above.
          refusedRequests: await refusedRequests(db, scope),
          // Billed requests in the range that the store could not record: not in the figures above.
          unrecorded: scope.noMatch ? NO_UNRECORDED : await unrecordedUsage(db, {
            from: scope.from,
            to: scope.to,
            ...(scope.project ? { projectRefs: [scope.project.id, scope.project.workspaceKey] } : {}),
            ...(params.agent !== undefined ? { agentRef: params.agent } : {}),
            ...(scope.session !== null ? { sessionRef: scope.session } : {}),
          }),
        },
      };
    }
    case 'models':
    case 'sources': {
      const p = new Params();
      const src = usageSource(p, scope);
      const key = query === 'models' ? 's.model' : 's.routing_source';
      const { rows } = await db.query<SumRow & { k: string | null }>(
        `select ${key} as k, ${SUMS} from ${src.sql} group by 1 order by requests desc, 1`, p.values);
      const total = rows.reduce((n, r) => n + r.requests, 0);
      const list = rows.map((r) => ({ [query === 'models' ? 'model' : 'source']: r.k, ...totalsOf(r), share: total ? r.requests / total : 0 }));
      return { query, scope: info, result: { [query]: list } };
    }
    case 'agents': {
      const p = new Params();
      const src = usageSource(p, scope);
      const { rows } = await db.query<SumRow & { agent_id: string | null; name: string | null; external_id: string | null; persona_type: string | null }>(
        `with agg as (select s.agent_id::text as agent_id, ${SUMS} from ${src.sql} group by 1)
         select agg.*, a.name, a.external_id, a.persona_type
         from agg left join public.agents a on a.id = agg.agent_id::uuid
         order by agg.requests desc, a.name nulls last`, p.values);
      return {
        query, scope: info,
        result: { agents: rows.map((r) => ({ agentId: r.agent_id, name: r.name, externalId: r.external_id, personaType: r.persona_type, ...totalsOf(r) })) },
      };
    }
    case 'timeseries':
      return { query, scope: info, result: await timeseries(db, scope) };
    case 'recent':
      return { query, scope: info, result: await recent(db, scope, params.limit) };
    case 'sessions':
      return { query, scope: info, result: await sessions(db, scope, params.limit) };
    case 'savings':
    case 'cache': {
      const p = new Params();
      const src = usageSource(p, scope);
      const { rows } = await db.query<SumRow & { project_id: string | null; model: string; default_model: string | null }>(
        `with agg as (select s.project_id::text as project_id, s.model, ${SUMS} from ${src.sql} group by 1, 2)
         select agg.*, pr.model_config->>'defaultModel' as default_model
         from agg left join public.projects pr on pr.id = agg.project_id::uuid
         order by agg.requests desc, agg.model`, p.values);
      return {
        query, scope: info,
        byModel: rows.map((r) => ({ model: r.model, projectId: r.project_id, defaultModel: r.default_model, ...totalsOf(r) })),
      };
    }
  }
}

/** Whole UTC hours that a bucket boundary (an hour or a local midnight of scope.tz) cuts: to read from usage rows, not the rollup. */
export async function cutHours(db: SqlClient, scope: Pick<ResolvedScope, 'from' | 'to' | 'tz'>, unit: Bucket): Promise<Date[]> {
  const a = new Date(Math.ceil(scope.from.getTime() / HOUR) * HOUR).toISOString();
  const b = new Date(Math.floor(scope.to.getTime() / HOUR) * HOUR).toISOString();
  const { rows } = unit === 'hour'
    ? await db.query<{ h: Date }>(
      `select h from generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour') h
       where date_trunc('hour', h, $3) <> date_trunc('hour', h + interval '1 hour' - interval '1 microsecond', $3)`,
      [a, b, scope.tz])
    : await db.query<{ h: Date }>(
      `select public.usage_hour_bucket(m) as h
       from generate_series((($1::timestamptz at time zone $3)::date)::timestamp,
                            (($2::timestamptz at time zone $3)::date)::timestamp, interval '1 day') d,
         lateral (select d at time zone $3 as m) x
       where m > $1::timestamptz and m < $2::timestamptz and m <> public.usage_hour_bucket(m)`,
      [scope.from.toISOString(), scope.to.toISOString(), scope.tz]);
  return rows.map((r) => new Date(r.h));
}

async function timeseries(db: SqlClient, scope: ResolvedScope): Promise<Record<string, unknown>> {
  const unit = scope.bucket;
  const cut = scope.session === null ? await cutHours(db, scope, unit) : [];
  const p = new Params();
  const src = usageSource(p, scope, cut, true);
  const unitP = p.add(unit);
  const tzP = p.add(scope.tz);
  const fromP = p.add(scope.from.toISOString());
  const toP = p.add(scope.to.toISOString());
  const step = unit === 'hour' ? `interval '1 hour'` : `interval '1 day'`;
  // Sums per hour first (the rollup's own key: no time zone arithmetic per rollup row, and
  // only the measures a point shows), then per bucket of the caller's time zone.
  const { rows } = await db.query<SumRow & { start: Date; label: string }>(
    `with hourly as (
       select s.at, sum(s.n) as n, sum(s.errors) as errors, sum(s.input) as input, sum(s.output) as output,
         sum(s.cache_write) as cache_write, sum(s.cache_read) as cache_read, sum(s.cost) as cost, sum(s.costed) as costed
       from ${src.sql} group by 1
     ),
     agg as (
       select date_trunc(${unitP}, h.at, ${tzP}) as start,
         sum(h.n)::float8 as requests, sum(h.errors)::float8 as errors,
         sum(h.input)::float8 as input_tokens, sum(h.output)::float8 as output_tokens,
         sum(h.cache_write)::float8 as cache_creation_tokens, 0::float8 as cache_creation_5m_tokens,
         0::float8 as cache_creation_1h_tokens, sum(h.cache_read)::float8 as cache_read_tokens,
         coalesce(sum(h.cost), 0)::float8 as cost, sum(h.costed)::float8 as costed_requests, 0::float8 as duration_ms
       from hourly h group by 1
     ),
     series as (
       select lt at time zone ${tzP} as start
       from generate_series(date_trunc(${unitP}, ${fromP}::timestamptz at time zone ${tzP}),
                            (${toP}::timestamptz - interval '1 microsecond') at time zone ${tzP}, ${step}) lt
     )
     select coalesce(agg.start, series.start) as start,
       to_char(coalesce(agg.start, series.start) at time zone ${tzP}, ${unit === 'hour' ? `'YYYY-MM-DD"T"HH24:MI'` : `'YYYY-MM-DD'`}) as label,
       coalesce(agg.requests, 0) as requests, coalesce(agg.errors, 0) as errors,
       coalesce(agg.input_tokens, 0) as input_tokens, coalesce(agg.output_tokens, 0) as output_tokens,
       coalesce(agg.cache_creation_tokens, 0) as cache_creation_tokens,
       coalesce(agg.cache_creation_5m_tokens, 0) as cache_creation_5m_tokens,
       coalesce(agg.cache_creation_1h_tokens, 0) as cache_creation_1h_tokens,
       coalesce(agg.cache_read_tokens, 0) as cache_read_tokens, coalesce(agg.cost, 0) as cost,
       coalesce(agg.costed_requests, 0) as costed_requests, coalesce(agg.duration_ms, 0) as duration_ms
     from agg full join series on series.start = agg.start
     order by 1`, p.values);
  return {
    bucket: unit,
    points: rows.map((r) => {
      const t = totalsOf(r);
      return { start: new Date(r.start).toISOString(), label: r.label, requests: t.requests, errors: t.errors, totalTokens: t.totalTokens, inputTokens: t.inputTokens, outputTokens: t.outputTokens, cacheReadTokens: t.cacheReadTokens, cacheCreationTokens: t.cacheCreationTokens, cost: t.cost, unknownCostRequests: t.unknownCostRequests };
    }),
  };
}

async function recent(db: SqlClient, scope: ResolvedScope, limit: number): Promise<Record<string, unknown>> {
  const p = new Params();
  const where = [`u.created_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `u.created_at < ${p.add(scope.to.toISOString())}::timestamptz`];
  if (scope.noMatch) where.push(`u.project_id = ${p.add(NO_ROWS)}::uuid`);
  else if (scope.project) where.push(`u.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) where.push(`u.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  if (scope.session !== null) where.push(sessionRows(p, 'u', scope.session));
  const { rows } = await db.query<Record<string, unknown>>(
    `select u.request_id, u.created_at, u.model, u.requested_model, u.provider, u.routing_source, u.routing_rule,
       u.project_id::text as project_id, u.agent_id::text as agent_id, a.name as agent_name, a.external_id as agent_external_id,
       u.session_id, u.claude_session_id, u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens,
       u.cost::float8 as cost, u.cost_source, u.status, u.error, u.stream, u.duration_ms, u.first_byte_ms
     from public.usage_tracking u
     left join public.agents a on a.id = u.agent_id
     where ${where.join(' and ')}
     order by u.created_at desc
     limit ${p.add(limit)}::int`, p.values);
  return {
    requests: rows.map((r) => ({
      requestId: r.request_id,
      at: new Date(r.created_at as string).toISOString(),
      model: r.model,
      requestedModel: r.requested_model,
      provider: r.provider,
      source: r.routing_source,
      rule: r.routing_rule,
      projectId: r.project_id,
      agent: r.agent_id ? { id: r.agent_id, name: r.agent_name, externalId: r.agent_external_id } : null,
      sessionId: sessionIdOf({ claudeSessionId: (r.claude_session_id as string | null) ?? undefined, sessionId: (r.session_id as string | null) ?? undefined }),
      conduitSessionId: r.session_id,
      claudeSessionId: r.claude_session_id,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      cacheCreationTokens: r.cache_creation_tokens,
      cacheReadTokens: r.cache_read_tokens,
      cost: r.cost,
      costSource: r.cost_source,
      status: r.status,
      error: r.error,
      stream: r.stream,
      durationMs: r.duration_ms,
      firstByteMs: r.first_byte_ms,
    })),
  };
}

/**
 * Requests in scope that a budget refused. Read from usage rows (the rollups do not keep
 * the cost source); refusals are few, and the range is an index scan on created_at.
 */
async function refusedRequests(db: SqlClient, scope: ResolvedScope): Promise<number> {
  if (scope.noMatch) return 0;
  const p = new Params();
  const where = [`u.created_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `u.created_at < ${p.add(scope.to.toISOString())}::timestamptz`, `u.cost_source = ${p.add(REFUSED_COST_SOURCE)}`];
  if (scope.project) where.push(`u.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) where.push(`u.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  if (scope.session !== null) where.push(sessionRows(p, 'u', scope.session));
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from public.usage_tracking u where ${where.join(' and ')}`, p.values);
  return rows[0].n;
}

async function sessions(db: SqlClient, scope: ResolvedScope, limit: number): Promise<Record<string, unknown>> {
  const p = new Params();
  const where = [`sr.last_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `sr.first_at < ${p.add(scope.to.toISOString())}::timestamptz`];
  if (scope.noMatch) where.push(`sr.project_id = ${p.add(NO_ROWS)}::uuid`);
  else if (scope.project) where.push(`sr.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) where.push(`sr.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  // The session's models asked for and routed to (usage_session_model_rollup, migration
  // 20261203000002) over the same projects and agents as its totals.
  const modelScope = `${scope.project && !scope.noMatch ? ` and mr.project_id = ${p.add(scope.project.id)}::uuid` : ''}${
    scope.agentIds ? ` and mr.agent_id = any(${p.add(scope.agentIds)}::uuid[])` : ''}`;
  if (scope.session !== null) {
    // The rollup's key is the session's id; Conduit's id of one of its runs finds it too.
    const id = p.add(scope.session);
    where.push(`(sr.session_id = ${id} or sr.session_id in (select ${sessionKey('u')} from public.usage_tracking u where u.session_id = ${id}))`);
  }
  const { rows } = await db.query<Record<string, unknown> & { requests: number; costed_requests: number; cost: number }>(
    `with s as (
       select sr.session_id, min(sr.first_at) as first_at, max(sr.last_at) as last_at,
         sum(sr.request_count)::float8 as requests, sum(sr.error_count)::float8 as errors,
         sum(sr.input_tokens)::float8 as input_tokens, sum(sr.output_tokens)::float8 as output_tokens,
         sum(sr.cache_creation_tokens)::float8 as cache_creation_tokens, sum(sr.cache_read_tokens)::float8 as cache_read_tokens,
         sum(sr.cost)::float8 as cost, sum(sr.costed_request_count)::float8 as costed_requests,
         sum(sr.duration_ms)::float8 as duration_ms,
         array_agg(distinct sr.agent_id) filter (where sr.agent_id is not null) as agent_ids,
         array_agg(distinct sr.project_id) filter (where sr.project_id is not null) as project_ids
       from public.usage_session_rollup sr
       where ${where.join(' and ')}
       group by sr.session_id
       order by max(sr.last_at) desc, sr.session_id
       limit ${p.add(limit)}::int
     )
     select s.session_id, s.first_at, s.last_at, s.requests, s.errors, s.input_tokens, s.output_tokens,
       s.cache_creation_tokens, s.cache_read_tokens, s.cost, s.costed_requests, s.duration_ms,
       (select array_agg(x::text) from unnest(s.project_ids) x) as project_ids,
       (select coalesce(json_agg(json_build_object('id', a.id, 'name', a.name, 'externalId', a.external_id) order by a.name), '[]'::json)
          from public.agents a where a.id = any(s.agent_ids)) as agents,
       (select coalesce(json_agg(json_build_object('requestedModel', m.requested_model, 'model', m.model, 'requests', m.n)
            order by m.n desc, m.model, m.requested_model), '[]'::json)
          from (select mr.requested_model, mr.model, sum(mr.request_count)::int as n from public.usage_session_model_rollup mr
                where mr.session_id = s.session_id${modelScope} group by 1, 2) m) as models
     from s
     order by s.last_at desc, s.session_id`, p.values);
  return {
    // Totals cover each session's whole life, also the part outside the range.
    sessions: rows.map((r) => ({
      sessionId: r.session_id,
      // Asked for → routed to, most requests first (src/protocol/session.ts SessionModelUse).
      models: r.models,
      firstAt: new Date(r.first_at as string).toISOString(),
      lastAt: new Date(r.last_at as string).toISOString(),
      projectIds: r.project_ids ?? [],
      agents: r.agents,
      requests: r.requests,
      errors: r.errors,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      totalTokens: totalTokens({ inputTokens: r.input_tokens as number, outputTokens: r.output_tokens as number, cacheCreationTokens: r.cache_creation_tokens as number, cacheReadTokens: r.cache_read_tokens as number }),
      cacheCreationTokens: r.cache_creation_tokens,
      cacheReadTokens: r.cache_read_tokens,
      cost: r.costed_requests > 0 ? usd(r.cost) : null,
      unknownCostRequests: r.requests - r.costed_requests,
      averageDurationMs: r.requests > 0 ? Math.round((r.duration_ms as number) / r.requests) : null,
    })),
  };
}

// ---------------------------------------------------------------------------------------
// Prices

export interface PriceLookup {
  lookup(model: string): { price: ModelPrice } | null;
}

/** A price without the long-context tier: aggregated tokens say nothing of single prompts. */
function basePrice(price: ModelPrice): ModelPrice {
  return { input: price.input, output: price.output, cacheWrite5m: price.cacheWrite5m, cacheWrite1h: price.cacheWrite1h, cacheRead: price.cacheRead };
}

function priceOfTokens(price: ModelPrice, t: UsageTotals): number {
  return costOf(basePrice(price), {
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    cacheCreationTokens: t.cacheCreationTokens,
    cacheCreation5mTokens: t.cacheCreation5mTokens,
    cacheCreation1hTokens: t.cacheCreation1hTokens,
    cacheReadTokens: t.cacheReadTokens,
  });
}

/** The final answer of a query: savings and cache economics priced with the gateway's price table. */
export function finishAnalytics(raw: RawAnalytics, prices: PriceLookup, params: Pick<AnalyticsParams, 'baseline'>): Record<string, unknown> {
  if ('byModel' in raw) {
    return { scope: raw.scope, ...(raw.query === 'savings' ? savings(raw.byModel, prices, params.baseline) : cache(raw.byModel, prices)) };
  }
  return { scope: raw.scope, ...raw.result };
}

function savings(rows: ModelTokens[], prices: PriceLookup, baselineOverride: string | undefined): Record<string, unknown> {
  let actual = 0;
  let baseline = 0;
  let compared = 0;
  const byModel: Record<string, unknown>[] = [];
  const excluded: { model: string; baselineModel: string | null; requests: number; reason: string }[] = [];
  const baselines = new Set<string>();
  for (const r of rows) {
    const baselineModel = baselineOverride ?? r.defaultModel;
    const skip = (reason: string) => excluded.push({ model: r.model, baselineModel, requests: r.requests, reason });
    if (!baselineModel) { skip(r.projectId ? 'the project has no default model' : 'no project (no default model to compare with)'); continue; }
    // A model with no costed request has no price. In a model with a price, requests without
    // a cost are failures that reported no usage (no tokens), so the rest compares fairly.
    if (r.costedRequests === 0) { skip(r.requests === r.errors ? 'only failed requests, no usage' : `no known price for ${r.model}`); continue; }
    const price = prices.lookup(baselineModel);
    if (!price) { skip(`no known price for the baseline model ${baselineModel}`); continue; }
    const b = priceOfTokens(price.price, r);
    const a = r.cost ?? 0;
    actual += a;
    baseline += b;
    compared += r.requests;
    baselines.add(baselineModel);
    byModel.push({ model: r.model, projectId: r.projectId, baselineModel, requests: r.requests, actualCost: usd(a), baselineCost: usd(b), savings: usd(b - a) });
  }
  return {
    baselineModels: [...baselines].sort(),
    comparedRequests: compared,
    actualCost: usd(actual),
    baselineCost: usd(baseline),
    savings: usd(baseline - actual),
    savingsPercent: baseline > 0 ? Math.round(((baseline - actual) / baseline) * 10_000) / 100 : null,
    byModel,
    excluded,
    note: 'baseline: the same tokens at the baseline model\'s base prices (no long-context tier); models without a known price are left out (see excluded)',
  };
}

function cache(rows: ModelTokens[], prices: PriceLookup): Record<string, unknown> {
  const perModel = new Map<string, ModelTokens>();
  for (const r of rows) {
    const m = perModel.get(r.model);
    if (!m) { perModel.set(r.model, { ...r }); continue; }
    for (const k of ['requests', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheCreation5mTokens', 'cacheCreation1hTokens', 'cacheReadTokens', 'totalTokens'] as const) m[k] += r[k];
  }
  let input = 0, writes = 0, reads = 0, saved = 0, premium = 0;
  const byModel: Record<string, unknown>[] = [];
  const unpriced: string[] = [];
  for (const m of perModel.values()) {
    input += m.inputTokens;
    writes += m.cacheCreationTokens;
    reads += m.cacheReadTokens;
    const prompt = m.inputTokens + m.cacheCreationTokens + m.cacheReadTokens;
    const hit = prompt > 0 ? m.cacheReadTokens / prompt : null;
    const price = prices.lookup(m.model)?.price;
    if (!price) {
      if (m.cacheReadTokens || m.cacheCreationTokens) unpriced.push(m.model);
      byModel.push({ model: m.model, inputTokens: m.inputTokens, cacheCreationTokens: m.cacheCreationTokens, cacheReadTokens: m.cacheReadTokens, hitRate: hit, savedByReads: null, writePremium: null });
      continue;
    }
    const s = (m.cacheReadTokens * (price.input - price.cacheRead)) / 1e6;
    const unsplit = Math.max(0, m.cacheCreationTokens - m.cacheCreation5mTokens - m.cacheCreation1hTokens);
    const w = ((m.cacheCreation5mTokens + unsplit) * (price.cacheWrite5m - price.input) + m.cacheCreation1hTokens * (price.cacheWrite1h - price.input)) / 1e6;
    saved += s;
    premium += w;
    byModel.push({ model: m.model, inputTokens: m.inputTokens, cacheCreationTokens: m.cacheCreationTokens, cacheReadTokens: m.cacheReadTokens, hitRate: hit, savedByReads: usd(s), writePremium: usd(w) });
  }
  const prompt = input + writes + reads;
  return {
    hitRate: prompt > 0 ? reads / prompt : null,
    inputTokens: input,
    cacheCreationTokens: writes,
    cacheReadTokens: reads,
    savedByReads: usd(saved),
    writePremium: usd(premium),
    netSavings: usd(saved - premium),
    byModel,
    unpricedModels: unpriced,
    note: 'hit rate = cache reads / (input + cache writes + cache reads); saved = cache reads at (input price - cache read price); write premium = cache writes at (write price - input price)',
  };
}

