// The summary: totals of the range, the requests without a known cost told apart (failed
// ones by the status they ended with, and those to a model without a price), and the same
// totals over the previous period.
import { REFUSED_COST_SOURCE } from '../../../protocol/measures';
import type { FailedStatus, UnpricedModel } from '../../../protocol/analytics';
import type { SqlClient } from '../sqlClient';
import { NO_UNRECORDED, unrecordedUsage } from '../unrecorded';
import type { AnalyticsParams } from './params';
import { Params, withPeriod, type ResolvedScope } from './scope';
import { rowFilters, SUMS, totalsOf, usageSource, usd, type SumRow } from './source';

/** A usage row that failed or that a budget refused (the partial index of migration 20261203000003). */
export const FAILED_OR_REFUSED = `(u.error is not null or coalesce(u.status, 200) >= 400 or u.cost_source = '${REFUSED_COST_SOURCE}')`;

export interface Failures {
  refused: number;
  failed: number;
  byStatus: FailedStatus[];
  /** Per model: failed requests without a cost (they reported no usage). */
  uncostedByModel: Map<string, number>;
}

/**
 * Failed and refused requests of the scope, read from usage rows: the rollups count errors
 * but keep neither the status nor the cost source. Failures are few, and a partial index
 * holds only them.
 */
export async function failures(db: SqlClient, scope: ResolvedScope): Promise<Failures> {
  const out: Failures = { refused: 0, failed: 0, byStatus: [], uncostedByModel: new Map() };
  if (scope.noMatch) return out;
  const p = new Params();
  const where = [...rowFilters(p, scope, 'u'), FAILED_OR_REFUSED];
  const { rows } = await db.query<{ model: string; status: number | null; error: string | null; refused: boolean; n: number; uncosted: number }>(
    `select u.model, u.status, u.error, coalesce(u.cost_source = ${p.add(REFUSED_COST_SOURCE)}, false) as refused,
       count(*)::int as n, (count(*) filter (where u.cost is null))::int as uncosted
     from public.usage_tracking u
     where ${where.join(' and ')}
     group by 1, 2, 3, 4`, p.values);
  const byStatus = new Map<string, FailedStatus>();
  for (const r of rows) {
    if (r.refused) {
      out.refused += r.n;
      continue;
    }
    out.failed += r.n;
    out.uncostedByModel.set(r.model, (out.uncostedByModel.get(r.model) ?? 0) + r.uncosted);
    const status = r.status ?? 0;
    const key = `${status} ${r.error ?? ''}`;
    const s = byStatus.get(key) ?? { status, error: r.error, requests: 0 };
    s.requests += r.n;
    byStatus.set(key, s);
  }
  out.byStatus = [...byStatus.values()].sort((a, b) => b.requests - a.requests || a.status - b.status || (a.error ?? '').localeCompare(b.error ?? ''));
  return out;
}

/** Models with requests that reported usage but got no cost: their model had no price. */
async function unpricedModels(db: SqlClient, scope: ResolvedScope, failedUncosted: Map<string, number>): Promise<UnpricedModel[]> {
  const p = new Params();
  // Rollup hours and rows that hold requests without a cost only: a month of a busy project
  // has few of them. A model's tokens are then those of its hours with such requests (all of
  // them for a model without a price).
  const src = usageSource(p, scope, [], false, true);
  const { rows } = await db.query<SumRow & { model: string }>(
    `select s.model, ${SUMS} from ${src.sql} group by 1 having sum(s.n) > sum(s.costed)`, p.values);
  const list: UnpricedModel[] = [];
  for (const r of rows) {
    const t = totalsOf(r);
    const requests = t.unknownCostRequests - (failedUncosted.get(r.model) ?? 0);
    if (requests > 0) list.push({ model: r.model, requests, totalTokens: t.totalTokens });
  }
  return list.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
}

async function totals(db: SqlClient, scope: ResolvedScope): Promise<SumRow> {
  const p = new Params();
  const src = usageSource(p, scope, [], true);
  const { rows } = await db.query<SumRow>(`select ${SUMS} from ${src.sql}`, p.values);
  return rows[0];
}

export async function summary(db: SqlClient, scope: ResolvedScope, params: AnalyticsParams): Promise<Record<string, unknown>> {
  const row = await totals(db, scope);
  const t = totalsOf(row);
  const f = await failures(db, scope);
  // Unknown costs that failures without usage do not explain are requests to unpriced models.
  const failedUncosted = [...f.uncostedByModel.values()].reduce((n, x) => n + x, 0);
  const unpriced = t.unknownCostRequests > failedUncosted ? await unpricedModels(db, scope, f.uncostedByModel) : [];
  const prev = totalsOf(await totals(db, withPeriod(scope, scope.previous)));
  return {
    ...t,
    averageCostPerRequest: t.cost !== null && t.costedRequests > 0 ? usd(t.cost / t.costedRequests) : null,
    averageDurationMs: t.requests > 0 ? Math.round(row.duration_ms / t.requests) : null,
    // Requests a budget refused (cost 0, the provider never called): among the requests above.
    refusedRequests: f.refused,
    failedRequests: f.failed,
    errorRate: t.requests > 0 ? f.failed / t.requests : null,
    failedByStatus: f.byStatus,
    unpricedRequests: unpriced.reduce((n, m) => n + m.requests, 0),
    unpricedModels: unpriced,
    previous: { cost: prev.cost, requests: prev.requests, totalTokens: prev.totalTokens },
    // Billed requests in the range that the store could not record: not in the figures above.
    unrecorded: scope.noMatch ? NO_UNRECORDED : await unrecordedUsage(db, {
      from: scope.from,
      to: scope.to,
      ...(scope.project ? { projectRefs: [scope.project.id, scope.project.workspaceKey] } : {}),
      ...(params.agent !== undefined ? { agentRef: params.agent } : {}),
      ...(scope.session !== null ? { sessionRef: scope.session } : {}),
    }),
  };
}
