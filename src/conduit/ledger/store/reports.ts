// Usage reports over the embedded store (the contract is in src/protocol/reports.ts).
//
// Three parts: parseReportParams (HTTP query → checked parameters, no database),
// runUsageReport (SQL, in the ledger's thread) and ReportCursors (the finished report,
// kept in the ledger's thread and handed out in pages, so the gateway's thread never
// holds or deserializes more than a page at a time).
//
// The figures come from the same sources as the analytics API (analytics.ts usageSource):
// the hourly rollup for whole UTC hours, usage rows for the partial hours at the range's
// ends and for the hours a local midnight cuts (zones with half-hour offsets). So the
// report's totals are the analytics summary's, exactly. Per-session reports read usage
// rows, since no rollup has both the session and the model. The totals come from the
// same GROUP BY (grouping sets), summed in numeric as the summary sums them.
import {
  AnalyticsParamError, cutHours, idParam, Params, resolveScope, sessionKey, timeParam, timeExpr, usageSource, type ResolvedScope,
} from './analytics';
import type { SqlClient } from './sqlClient';
import { strictQuery, timeZoneParam } from './queryParams';
import { totalTokens } from '../../../protocol/measures';
import {
  DEFAULT_GROUP_BY, REPORT_DIMENSIONS, REPORT_PARAMS, type ReportDimension, type ReportMeasures, type ReportMeta, type UsageReportRow,
} from '../../../protocol/reports';

export interface ReportParams {
  from?: string;
  to?: string;
  tz: string;
  groupBy: ReportDimension[];
  project?: string;
  agent?: string;
}

/** The longest range a report covers (the analytics API's is a year). */
export const MAX_REPORT_DAYS = 3700;
/** The most rows one report has; past that, narrower ranges or fewer dimensions. */
export const MAX_REPORT_ROWS = 250_000;

/** Checks the query string of GET /v1/conduit/reports/usage (throws AnalyticsParamError). */
export function parseReportParams(search: URLSearchParams): ReportParams {
  const get = strictQuery(search, REPORT_PARAMS);
  const params: ReportParams = { tz: 'UTC', groupBy: [...DEFAULT_GROUP_BY] };
  const from = get('from');
  const to = get('to');
  if (from !== undefined) params.from = timeParam('from', from);
  if (to !== undefined) params.to = timeParam('to', to);
  const tz = get('tz');
  if (tz !== undefined) params.tz = timeZoneParam(tz);
  const groupBy = get('groupBy');
  if (groupBy !== undefined) {
    const dims = groupBy.split(',').map((d) => d.trim());
    for (const d of dims) {
      if (!(REPORT_DIMENSIONS as readonly string[]).includes(d)) {
        throw new AnalyticsParamError(`groupBy: "${d.slice(0, 40)}" is not a dimension (have: ${REPORT_DIMENSIONS.join(', ')})`);
      }
    }
    if (new Set(dims).size !== dims.length) throw new AnalyticsParamError('groupBy: a dimension is named twice');
    params.groupBy = dims as ReportDimension[];
  }
  for (const k of ['project', 'agent'] as const) {
    const v = get(k);
    if (v !== undefined) params[k] = idParam(k, v);
  }
  return params;
}

export interface ReportResult {
  meta: ReportMeta;
  totals: ReportMeasures;
  rows: UsageReportRow[];
}

const usd = (x: number) => Math.round(x * 1e6) / 1e6;

interface MeasureRow {
  requests: number; errors: number; input_tokens: number; output_tokens: number;
  cache_creation_tokens: number; cache_read_tokens: number; cost: number; costed_requests: number;
}

/** The measures of summed usage rows (also the analytics' totals: src/conduit/ledger/store/analytics/source.ts). */
export function measuresOf(r: MeasureRow): ReportMeasures {
  return {
    requests: r.requests,
    errors: r.errors,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cacheCreationTokens: r.cache_creation_tokens,
    cacheReadTokens: r.cache_read_tokens,
    totalTokens: totalTokens({ inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheCreationTokens: r.cache_creation_tokens, cacheReadTokens: r.cache_read_tokens }),
    cost: r.costed_requests > 0 ? usd(r.cost) : null,
    unknownCostRequests: r.requests - r.costed_requests,
  };
}

/** Usage rows of the scope with their session: what a per-session report groups. */
function rowsWithSession(p: Params, scope: ResolvedScope): string {
  const where = [`u.created_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `u.created_at < ${p.add(scope.to.toISOString())}::timestamptz`];
  if (scope.noMatch) where.push('false');
  else if (scope.project) where.push(`u.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) where.push(`u.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  return `(select u.project_id, u.agent_id, u.model, ${sessionKey('u')} as session_id, u.created_at as at,
      1::bigint as n, (u.error is not null or coalesce(u.status, 200) >= 400)::int::bigint as errors,
      u.input_tokens::bigint as input, u.output_tokens::bigint as output,
      u.cache_creation_tokens::bigint as cache_write, u.cache_read_tokens::bigint as cache_read,
      u.cost, (u.cost is not null)::int::bigint as costed
    from public.usage_tracking u
    where ${where.join(' and ')}) s`;
}

/**
 * Where the range starts when no `from` is given: the first recorded request (or a day
 * before `to` when there is none before it), as an instant.
 */
async function defaultFrom(db: SqlClient, params: ReportParams, now: Date): Promise<string> {
  const p = new Params();
  const toSql = params.to ? timeExpr(p, params.to, params.tz, true) : p.add(now.toISOString(), '::timestamptz');
  let rows: { to_at: Date; first_at: Date | null }[];
  try {
    ({ rows } = await db.query<{ to_at: Date; first_at: Date | null }>(
      `select t.to_at, (select min(u.created_at) from public.usage_tracking u where u.created_at < t.to_at) as first_at
       from (select ${toSql} as to_at) t`, p.values));
  } catch (err) {
    throw new AnalyticsParamError(`to/tz: ${(err as Error).message}`);
  }
  const to = new Date(rows[0].to_at);
  return (rows[0].first_at ? new Date(rows[0].first_at) : new Date(to.getTime() - 86_400_000)).toISOString();
}

/** Runs a report to its end (in the ledger's thread). */
export async function runUsageReport(db: SqlClient, localUserId: string, params: ReportParams, now = new Date(), maxRows = MAX_REPORT_ROWS): Promise<ReportResult> {
  if (!params.groupBy.length) throw new AnalyticsParamError('groupBy: name at least one dimension');
  const from = params.from ?? await defaultFrom(db, params, now);
  const scope = await resolveScope(db, localUserId, {
    range: 'custom', from, to: params.to ?? now.toISOString(), tz: params.tz, limit: 1,
    ...(params.project ? { project: params.project } : {}),
    ...(params.agent ? { agent: params.agent } : {}),
  }, now, MAX_REPORT_DAYS);
  const dims = params.groupBy;
  const bySession = dims.includes('session');
  const cut = !bySession && (dims.includes('day') || dims.includes('month')) ? await cutHours(db, scope, 'day') : [];

  const p = new Params();
  const src = bySession ? rowsWithSession(p, scope) : usageSource(p, scope, cut).sql;
  // A parameter only where used: Postgres cannot type one that no expression names.
  const tzP = dims.includes('day') || dims.includes('month') ? p.add(scope.tz, '::text') : '';
  const keyExpr: Record<ReportDimension, string> = {
    project: 's.project_id',
    agent: 's.agent_id',
    model: 's.model',
    day: `to_char(s.at at time zone ${tzP}, 'YYYY-MM-DD')`,
    month: `to_char(s.at at time zone ${tzP}, 'YYYY-MM')`,
    session: 's.session_id',
  };
  const k = (d: ReportDimension) => `k${dims.indexOf(d)}`;
  const keys = dims.map((_, i) => `k${i}`).join(', ');
  const order = dims.map((d) => {
    switch (d) {
      case 'project': return `pr.workspace_key nulls last, ${k(d)}`;
      case 'agent': return `coalesce(a.name, a.external_id) nulls last, ${k(d)}`;
      case 'session': return `min(agg.first_at) over (partition by agg.${k(d)}), ${k(d)} nulls last`;
      default: return k(d);
    }
  });
  // The totals row (grouping <> 0) first; one row past the limit tells that it was reached.
  const { rows } = await db.query<MeasureRow & Record<string, unknown>>(
    `with keyed as (
       select ${dims.map((d, i) => `${keyExpr[d]} as k${i}`).join(', ')},
         s.n, s.errors, s.input, s.output, s.cache_write, s.cache_read, s.cost, s.costed${bySession ? ', s.at' : ''}
       from ${src}
     ),
     agg as (
       select ${keys}, grouping(${keys}) as g,
         coalesce(sum(n), 0)::float8 as requests, coalesce(sum(errors), 0)::float8 as errors,
         coalesce(sum(input), 0)::float8 as input_tokens, coalesce(sum(output), 0)::float8 as output_tokens,
         coalesce(sum(cache_write), 0)::float8 as cache_creation_tokens, coalesce(sum(cache_read), 0)::float8 as cache_read_tokens,
         coalesce(sum(cost), 0)::float8 as cost, coalesce(sum(costed), 0)::float8 as costed_requests
         ${bySession ? ', min(at) as first_at, max(at) as last_at' : ''}
       from keyed
       group by grouping sets ((${keys}), ())
     )
     select agg.*
       ${dims.includes('project') ? ', pr.workspace_key as project_key, pr.name as project_name' : ''}
       ${dims.includes('agent') ? ', a.external_id as agent_external_id, a.name as agent_name' : ''}
     from agg
     ${dims.includes('project') ? `left join public.projects pr on pr.id = agg.${k('project')}` : ''}
     ${dims.includes('agent') ? `left join public.agents a on a.id = agg.${k('agent')}` : ''}
     order by (agg.g = 0), ${order.join(', ')}
     limit ${p.add(maxRows + 2)}::int`, p.values);
  const totalsRow = rows[0];
  if (!totalsRow || totalsRow.g === 0) throw new Error('the report query returned no totals row');
  if (rows.length > maxRows + 1) {
    throw new AnalyticsParamError(`the report has more than ${maxRows.toLocaleString('en-US')} rows: choose a shorter range or fewer groupBy dimensions`);
  }
  const iso = (v: unknown) => new Date(v as string).toISOString();
  const out: UsageReportRow[] = [];
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i];
    const row: UsageReportRow = {} as UsageReportRow;
    for (const d of dims) {
      const v = r[k(d)] as string | null;
      switch (d) {
        case 'project':
          row.projectKey = (r.project_key as string | null) ?? null;
          row.projectName = (r.project_name as string | null) ?? null;
          break;
        case 'agent':
          row.agentId = (r.agent_external_id as string | null) ?? v ?? null;
          row.agentName = (r.agent_name as string | null) ?? null;
          break;
        case 'model': row.model = v ?? ''; break;
        case 'day': row.day = v ?? ''; break;
        case 'month': row.month = v ?? ''; break;
        case 'session':
          row.sessionId = v;
          row.firstAt = iso(r.first_at);
          row.lastAt = iso(r.last_at);
          break;
      }
    }
    out.push(Object.assign(row, measuresOf(r)));
  }
  return {
    meta: {
      version: 1,
      from: scope.from.toISOString(),
      to: scope.to.toISOString(),
      tz: scope.tz,
      groupBy: [...dims],
      project: scope.project ? { key: scope.project.workspaceKey, name: scope.project.name } : null,
      agent: params.agent ?? null,
      totalRows: out.length,
      generatedAt: now.toISOString(),
    },
    totals: measuresOf(totalsRow),
    rows: out,
  };
}

export interface ReportOpened {
  cursor: number;
  meta: ReportMeta;
  totals: ReportMeasures;
}

/**
 * Finished reports, kept where they were computed and read in pages. A report nobody reads
 * for `idleMs` is dropped, and at most `maxOpen` are kept (the oldest goes first).
 */
export class ReportCursors {
  private readonly open = new Map<number, { rows: UsageReportRow[]; timer: NodeJS.Timeout }>();
  private next = 1;

  constructor(private readonly idleMs = 120_000, private readonly maxOpen = 8) {}

  add(result: ReportResult): ReportOpened {
    while (this.open.size >= this.maxOpen) this.close(this.open.keys().next().value as number);
    const cursor = this.next++;
    this.open.set(cursor, { rows: result.rows, timer: this.idleTimer(cursor) });
    return { cursor, meta: result.meta, totals: result.totals };
  }

  page(cursor: number, offset: number, limit: number): UsageReportRow[] {
    const entry = this.open.get(cursor);
    if (!entry) throw new Error('the report is no longer available (it was not read for a while, or too many were open): ask again');
    clearTimeout(entry.timer);
    entry.timer = this.idleTimer(cursor);
    return entry.rows.slice(offset, offset + limit);
  }

  close(cursor: number): void {
    const entry = this.open.get(cursor);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.open.delete(cursor);
  }

  closeAll(): void {
    for (const cursor of [...this.open.keys()]) this.close(cursor);
  }

  get size(): number {
    return this.open.size;
  }

  private idleTimer(cursor: number): NodeJS.Timeout {
    const t = setTimeout(() => this.close(cursor), this.idleMs);
    t.unref();
    return t;
  }
}
