// The period and filters of a query: the range resolved to instants in the caller's time
// zone (calendar ranges counted like budgets, from local midnight, Monday or the 1st; rolling
// ones back from now), the period just before it, and the project and agents named.
import { CALENDAR_RANGES, RANGE_LABELS, SESSION_RANGE, SESSION_RANGE_LABEL, type AnalyticsScope, type CalendarRange } from '../../../../protocol/analytics';
import type { SqlClient } from '../sqlClient';
import { AnalyticsParamError } from '../queryParams';
import { sessionRows } from './source';
import { DATE, MAX_CUSTOM_DAYS, MAX_HOUR_BUCKET_DAYS, ZONED_TIME, rangeKind, type AnalyticsParams, type Bucket, type RangeKind } from './params';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

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
  /** The range kind, an older name resolved ('day' → '24h'). */
  range: RangeKind;
  /** The period of equal length just before (a calendar range's: cut at the same elapsed time). */
  previous: { from: Date; to: Date };
  project: { id: string; name: string; workspaceKey: string; defaultModel: string | null } | null;
  /** null: no agent filter; []: the agent named does not exist (nothing matches). */
  agentIds: string[] | null;
  session: string | null;
  /** The project named does not exist: every figure is empty. */
  noMatch: boolean;
}

export const NO_ROWS = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function timeExpr(p: Params, value: string, tz: string, endOfDay: boolean): string {
  if (DATE.test(value)) return `((${p.add(value)}::date + ${endOfDay ? 1 : 0})::timestamp at time zone ${p.add(tz)})`;
  if (ZONED_TIME.test(value)) return `${p.add(value)}::timestamptz`;
  return `(${p.add(value)}::timestamp at time zone ${p.add(tz)})`;
}

const CALENDAR_UNIT: Record<CalendarRange, { trunc: string; back: string }> = {
  today: { trunc: 'day', back: '1 day' },
  'this-week': { trunc: 'week', back: '7 days' },
  'this-month': { trunc: 'month', back: '1 month' },
};
const ROLLING_HOURS = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 } as const;

export const isCalendar = (range: RangeKind): range is CalendarRange => (CALENDAR_RANGES as readonly string[]).includes(range);

/**
 * The range's instants as SQL (from, to, and the previous period's from and to; null where
 * the previous period is the one of equal length just before).
 */
function rangeSql(p: Params, params: AnalyticsParams, range: Exclude<RangeKind, typeof SESSION_RANGE>, now: Date): { from: string; to: string; prevFrom: string | null; prevTo: string | null } {
  if (range === 'custom') return { from: timeExpr(p, params.from!, params.tz, false), to: timeExpr(p, params.to!, params.tz, true), prevFrom: null, prevTo: null };
  const nowP = p.add(now.toISOString(), '::timestamptz');
  if (!isCalendar(range)) {
    return { from: `(${nowP} - make_interval(hours => ${p.add(ROLLING_HOURS[range])}::int))`, to: nowP, prevFrom: null, prevTo: null };
  }
  // Local wall-clock arithmetic, then back to instants: a day with a DST change is 23 or 25
  // hours, and last month's period ends on the same local date and time (clamped to its end).
  const tzP = p.add(params.tz);
  const { trunc, back } = CALENDAR_UNIT[range];
  const local = `(${nowP} at time zone ${tzP})`;
  const start = `date_trunc('${trunc}', ${local})`;
  return {
    from: `(${start} at time zone ${tzP})`,
    to: nowP,
    prevFrom: `((${start} - interval '${back}') at time zone ${tzP})`,
    prevTo: `((${local} - interval '${back}') at time zone ${tzP})`,
  };
}

type Instants = { from_at: Date; to_at: Date; prev_from: Date | null; prev_to: Date | null };

/** A range kind's instants (and its previous period's, where not the equal length before), as the store's clock and zones read them. */
async function rangeInstants(db: SqlClient, params: AnalyticsParams, range: Exclude<RangeKind, typeof SESSION_RANGE>, now: Date): Promise<Instants> {
  const p = new Params();
  const sql = rangeSql(p, params, range, now);
  try {
    const { rows } = await db.query<Instants>(
      `select ${sql.from} as from_at, ${sql.to} as to_at, ${sql.prevFrom ?? 'null::timestamptz'} as prev_from, ${sql.prevTo ?? 'null::timestamptz'} as prev_to`, p.values);
    return rows[0];
  } catch (err) {
    throw new AnalyticsParamError(`from/to/tz: ${(err as Error).message}`);
  }
}

/** `maxDays`: the longest range allowed (usage reports allow more than the analytics). */
export async function resolveScope(db: SqlClient, localUserId: string, params: AnalyticsParams, now: Date, maxDays = MAX_CUSTOM_DAYS): Promise<ResolvedScope> {
  const range = rangeKind(params.range);
  const rows = [range === SESSION_RANGE ? await sessionSpan(db, params.session!, now) : await rangeInstants(db, params, range, now)];
  const from = new Date(rows[0].from_at);
  const to = new Date(rows[0].to_at);
  if (!(from < to)) throw new AnalyticsParamError(`from must be before to (from ${from.toISOString()}, to ${to.toISOString()})`);
  const spanDays = (to.getTime() - from.getTime()) / DAY;
  // A session's span is read by the session's own rows, however long it ran.
  if (range !== SESSION_RANGE && spanDays > maxDays + 1) throw new AnalyticsParamError(`the range covers ${Math.ceil(spanDays)} days; at most ${maxDays}`);
  const bucket: Bucket = params.bucket ?? (spanDays <= 2 ? 'hour' : 'day');
  if (bucket === 'hour' && spanDays > MAX_HOUR_BUCKET_DAYS + 1) {
    throw new AnalyticsParamError(`bucket=hour covers at most ${MAX_HOUR_BUCKET_DAYS} days; this range covers ${Math.ceil(spanDays)}: use bucket=day`);
  }
  const previous = rows[0].prev_from && rows[0].prev_to
    ? { from: new Date(rows[0].prev_from), to: new Date(rows[0].prev_to) }
    : { from: new Date(2 * from.getTime() - to.getTime()), to: from };

  const scope: ResolvedScope = { from, to, tz: params.tz, bucket, range, previous, project: null, agentIds: null, session: params.session ?? null, noMatch: false };
  if (params.project) {
    // By id, workspace key, or an earlier key of the project (key_aliases: a random key an
    // older extension kept), as the projects API and ingestion resolve it (projectStore.ts).
    const id = UUID.test(params.project) ? params.project : null;
    const { rows: found } = await db.query<{ id: string; name: string; workspace_key: string; default_model: string | null }>(
      `select id::text, name, workspace_key, model_config->>'defaultModel' as default_model
       from public.projects
       where id = $1::uuid or (user_id = $2::uuid and (workspace_key = $3 or key_aliases @> array[$3]::text[]))
       order by (id = $1::uuid) desc nulls last, (workspace_key = $3) desc
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

/**
 * A session's whole life: from its first request to just after its last (the end is
 * exclusive), by its id or Conduit's id of one of its runs (sessionRows' two indexes). A
 * session without rows gets the millisecond before now: nothing in it.
 */
async function sessionSpan(db: SqlClient, session: string, now: Date): Promise<Instants> {
  const p = new Params();
  const { rows: [r] } = await db.query<{ first_at: Date | null; last_at: Date | null }>(
    `select min(u.created_at) as first_at, max(u.created_at) as last_at from public.usage_tracking u where ${sessionRows(p, 'u', session)}`, p.values);
  if (!r?.first_at || !r.last_at) return { from_at: new Date(now.getTime() - 1), to_at: now, prev_from: null, prev_to: null };
  return { from_at: new Date(r.first_at), to_at: new Date(new Date(r.last_at).getTime() + 1), prev_from: null, prev_to: null };
}

/** The same filters over another period (the previous one, for comparisons). */
export function withPeriod(scope: ResolvedScope, period: { from: Date; to: Date }): ResolvedScope {
  return { ...scope, from: period.from, to: period.to };
}

export type ScopeInfo = AnalyticsScope;

/** "Dec 1 – Dec 3, 2026": the local dates a custom range covers (its end is exclusive). */
export function customLabel(from: Date, to: Date, tz: string): string {
  const last = new Date(to.getTime() - 1);
  const day = (d: Date, year: boolean) => new Intl.DateTimeFormat('en-US', { timeZone: tz, month: 'short', day: 'numeric', ...(year ? { year: 'numeric' } : {}) }).format(d);
  const yearOf = (d: Date) => new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric' }).format(d);
  if (day(from, true) === day(last, true)) return day(from, true);
  const sameYear = yearOf(from) === yearOf(last);
  return `${day(from, !sameYear)} – ${day(last, true)}`;
}

/** "Whole session · Nov 2 – Nov 3": the local dates of its first and last request (just "Whole session" when it has none). */
function sessionLabel(scope: ResolvedScope): string {
  const span = scope.to.getTime() - scope.from.getTime();
  return span <= 1 ? SESSION_RANGE_LABEL : `${SESSION_RANGE_LABEL} · ${customLabel(scope.from, scope.to, scope.tz)}`;
}

export function scopeInfo(scope: ResolvedScope, params: AnalyticsParams): ScopeInfo {
  return {
    from: scope.from.toISOString(),
    to: scope.to.toISOString(),
    tz: scope.tz,
    project: scope.project ? { id: scope.project.id, name: scope.project.name, workspaceKey: scope.project.workspaceKey } : null,
    agent: params.agent ?? null,
    session: scope.session,
    range: scope.range,
    calendar: isCalendar(scope.range),
    label: scope.range === 'custom' ? customLabel(scope.from, scope.to, scope.tz)
      : scope.range === SESSION_RANGE ? sessionLabel(scope)
      : RANGE_LABELS[scope.range],
    previous: { from: scope.previous.from.toISOString(), to: scope.previous.to.toISOString() },
  };
}
