// Billed requests the store could not record: journal lines set aside in
// conduit_local.ingest_rejects (not a usable record, or refused by the store) whose
// request was not stored since. Counted with their known cost, so reports and budgets
// that miss them say so instead of dropping them silently.
import type { UnrecordedUsage } from '../../../protocol/usage';
import type { SqlClient } from './sqlClient';

export interface UnrecordedFilter {
  /** When the request ended (the line's endedAt; when it told none, when it was set aside). */
  from?: Date;
  to?: Date;
  /** The project, agent or session the line named (as the request carried it: id or key). */
  projectRefs?: string[];
  agentRef?: string;
  sessionRef?: string;
}

export const NO_UNRECORDED: UnrecordedUsage = { count: 0, costUsd: 0 };

export async function unrecordedUsage(db: SqlClient, filter: UnrecordedFilter = {}): Promise<UnrecordedUsage> {
  const values: unknown[] = [];
  const param = (v: unknown) => { values.push(v); return `$${values.length}`; };
  const where = [`(r.request_id is null or not exists (select 1 from public.usage_tracking u where u.request_id = r.request_id))`];
  if (filter.from) where.push(`coalesce(r.ended_at, r.at) >= ${param(filter.from.toISOString())}::timestamptz`);
  if (filter.to) where.push(`coalesce(r.ended_at, r.at) < ${param(filter.to.toISOString())}::timestamptz`);
  if (filter.projectRefs) where.push(`r.project_ref = any(${param(filter.projectRefs)}::text[])`);
  if (filter.agentRef !== undefined) where.push(`r.agent_ref = ${param(filter.agentRef)}`);
  if (filter.sessionRef !== undefined) where.push(`r.session_ref = ${param(filter.sessionRef)}`);
  // A request set aside twice (its line read again from a copy of the file) counts once.
  const { rows } = await db.query<{ n: number; cost: number }>(
    `select count(*)::int as n, coalesce(sum(cost), 0)::float8 as cost
     from (
       select distinct on (k) r.cost
       from conduit_local.ingest_rejects r
       cross join lateral (select coalesce(r.request_id, r.file || ':' || r.byte_offset) as k) key
       where ${where.join(' and ')}
       order by k, r.cost desc nulls last
     ) x`,
    values,
  );
  return { count: rows[0].n, costUsd: Math.round(rows[0].cost * 1e6) / 1e6 };
}
