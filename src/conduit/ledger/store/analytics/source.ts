// The usage in scope as one row set (usageSource): an hourly rollup for the whole UTC hours
// of the range (the per-project usage_project_hourly when only totals over time are asked,
// usage_hourly_rollup for model, source and agent) and usage rows (by index) for what no
// rollup can answer: the partial hours at the range's ends, and the hours that a bucket
// boundary cuts (local midnights or hours of a time zone whose offset is not whole hours).
// So results are exact for any range and zone while a month of a busy project reads
// hundreds (totals) to a few thousand (per model) rollup rows. A session filter reads the
// session's usage rows by its id, claude's else Conduit's
// (usage_tracking_session_key_created_idx), or by Conduit's id of one of its runs
// (usage_tracking_session_created_idx).
import { measuresOf } from '../reports';
import type { UsageTotals } from '../../../../protocol/analytics';
import type { SqlClient } from '../sqlClient';
import type { Bucket } from './params';
import { HOUR, NO_ROWS, type Params, type ResolvedScope } from './scope';

export type { UsageTotals } from '../../../../protocol/analytics';

export interface Source {
  /** A FROM item aliased s: project_id, agent_id, model, routing_source, at, n, errors, input, output, cache_write(_5m, _1h), cache_read, cost, costed, duration_ms. */
  sql: string;
}

export const SUMS = `
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
export function sessionRows(p: Params, alias: string, session: string): string {
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
/**
 * The scope's range split for the hourly rollups: whole UTC hours [a, b) (none when a === b)
 * and the partial hours at its ends, as [start, end) in ms, to read from usage rows.
 */
export function splitHours(scope: Pick<ResolvedScope, 'from' | 'to'>): { a: number; b: number; edges: [number, number][] } {
  const fromMs = scope.from.getTime();
  const toMs = scope.to.getTime();
  let a = Math.ceil(fromMs / HOUR) * HOUR;
  let b = Math.floor(toMs / HOUR) * HOUR;
  if (a >= b) a = b = toMs; // no whole hour: all from usage rows
  const edges: [number, number][] = a === b ? [[fromMs, toMs]] : [[fromMs, a], [b, toMs]];
  return { a, b, edges: edges.filter(([x, y]) => x < y) };
}

export function usageSource(p: Params, scope: ResolvedScope, cutHours: Date[] = [], totalsOnly = false): Source {
  const filters = (alias: string) => scopeFilters(p, scope, alias).map((x) => ` and ${x}`).join('');
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
  const { a, b, edges } = splitHours(scope);
  const lo = edges.map(([x]) => new Date(x).toISOString());
  const hi = edges.map(([, y]) => new Date(y).toISOString());
  const edge = (x: number, y: number) => {
    lo.push(new Date(x).toISOString());
    hi.push(new Date(y).toISOString());
  };
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

export interface SumRow {
  requests: number; errors: number; input_tokens: number; output_tokens: number; cache_creation_tokens: number;
  cache_creation_5m_tokens: number; cache_creation_1h_tokens: number; cache_read_tokens: number; cost: number;
  costed_requests: number; duration_ms: number;
}

export const usd = (x: number) => Math.round(x * 1e6) / 1e6;

/** A report's measures of the sums, with the cache write durations and the costed requests the analytics show too. */
export function totalsOf(r: SumRow): UsageTotals {
  return {
    ...measuresOf(r),
    cacheCreation5mTokens: r.cache_creation_5m_tokens,
    cacheCreation1hTokens: r.cache_creation_1h_tokens,
    costedRequests: r.costed_requests,
  };
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

/** The scope's filters (project, agents; no rows for a project that does not exist) on a table aliased `alias`. */
export function scopeFilters(p: Params, scope: ResolvedScope, alias: string): string[] {
  const f: string[] = [];
  if (scope.noMatch) f.push(`${alias}.project_id = ${p.add(NO_ROWS)}::uuid`);
  else if (scope.project) f.push(`${alias}.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) f.push(`${alias}.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  return f;
}

/** The usage rows of the scope's period and filters (session included), for queries that read rows. */
export function rowFilters(p: Params, scope: ResolvedScope, alias: string): string[] {
  const where = [`${alias}.created_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `${alias}.created_at < ${p.add(scope.to.toISOString())}::timestamptz`];
  where.push(...scopeFilters(p, scope, alias));
  if (scope.session !== null) where.push(sessionRows(p, alias, scope.session));
  return where;
}
