// The summary: totals of the range, the requests without a known cost told apart (failed
// ones by the status they ended with, and those to a model without a price), and the same
// totals over the previous period.
import { REFUSED_COST_SOURCE } from '../../../../protocol/measures';
import type { FailedStatus, UnpricedModel } from '../../../../protocol/analytics';
import type { SqlClient } from '../sqlClient';
import { NO_UNRECORDED, unrecordedUsage } from '../unrecorded';
import type { AnalyticsParams } from './params';
import { Params, withPeriod, type ResolvedScope } from './scope';
import { rowFilters, scopeFilters, splitHours, SUMS, totalsOf, usageSource, usd, type SumRow } from './source';

/**
 * A usage row without a known cost, failed, or refused by a budget: the rows of the partial
 * index usage_tracking_uncosted_created_idx (migration 20261203000003_unpriced_index.sql).
 */
export const UNCOSTED_FAILED_OR_REFUSED = `(u.cost is null or u.error is not null or coalesce(u.status, 200) >= 400 or u.cost_source = '${REFUSED_COST_SOURCE}')`;

export interface Accounting {
  refused: number;
  failed: number;
  byStatus: FailedStatus[];
  unpriced: UnpricedModel[];
}

interface AccountingRow { model: string; status: number | null; error: string | null; refused: boolean; failed: boolean; n: number; tokens: number }

/**
 * Failed, refused and unpriced requests of the scope, grouped by model, status, error and
 * refusal: the whole UTC hours from usage_uncosted_hourly (migration
 * 20261203000006_uncosted_hourly_rollup.sql), the partial hours at the range's ends from
 * usage rows through the partial index (few rows, but scattered over the table: reading a
 * long range's rows was most of the summary's time). A session's come from its usage rows.
 */
async function accountingRows(db: SqlClient, scope: ResolvedScope): Promise<AccountingRow[]> {
  const p = new Params();
  const rowColumns = `u.model, u.status, u.error, coalesce(u.cost_source = '${REFUSED_COST_SOURCE}', false) as refused, 1 as n,
       u.input_tokens::bigint + u.output_tokens + u.cache_creation_tokens + u.cache_read_tokens as tokens`;
  const parts: string[] = [];
  if (scope.session !== null) {
    parts.push(`select ${rowColumns} from public.usage_tracking u
      where ${[...rowFilters(p, scope, 'u'), UNCOSTED_FAILED_OR_REFUSED].join(' and ')}`);
  } else {
    const { a, b, edges } = splitHours(scope);
    if (a < b) {
      parts.push(`select r.model, r.status, r.error, r.refused, r.request_count as n, r.tokens
        from public.usage_uncosted_hourly r
        where ${[`r.bucket >= ${p.add(new Date(a).toISOString())}::timestamptz`, `r.bucket < ${p.add(new Date(b).toISOString())}::timestamptz`,
          ...scopeFilters(p, scope, 'r')].join(' and ')}`);
    }
    for (const [x, y] of edges) {
      parts.push(`select ${rowColumns} from public.usage_tracking u
        where ${[`u.created_at >= ${p.add(new Date(x).toISOString())}::timestamptz`, `u.created_at < ${p.add(new Date(y).toISOString())}::timestamptz`,
          ...scopeFilters(p, scope, 'u'), UNCOSTED_FAILED_OR_REFUSED].join(' and ')}`);
    }
  }
  if (!parts.length) return [];
  const { rows } = await db.query<AccountingRow>(
    `select s.model, s.status, s.error, s.refused, (s.error is not null or coalesce(s.status, 200) >= 400) as failed,
       sum(s.n)::int as n, sum(s.tokens)::float8 as tokens
     from (${parts.join('\n     union all\n     ')}) s
     group by 1, 2, 3, 4, 5`, p.values);
  return rows;
}

/** Failed (by status and error), refused and unpriced (by model, with tokens) requests of the scope. */
export async function accounting(db: SqlClient, scope: ResolvedScope): Promise<Accounting> {
  const out: Accounting = { refused: 0, failed: 0, byStatus: [], unpriced: [] };
  if (scope.noMatch) return out;
  const rows = await accountingRows(db, scope);
  const byStatus = new Map<string, FailedStatus>();
  const unpriced = new Map<string, UnpricedModel>();
  for (const r of rows) {
    if (r.refused) {
      out.refused += r.n;
    } else if (r.failed) {
      out.failed += r.n;
      const status = r.status ?? 0;
      const key = `${status} ${r.error ?? ''}`;
      const s = byStatus.get(key) ?? { status, error: r.error, requests: 0 };
      s.requests += r.n;
      byStatus.set(key, s);
    } else {
      // Neither failed nor refused, and no cost: the model had no price.
      const m = unpriced.get(r.model) ?? { model: r.model, requests: 0, totalTokens: 0 };
      m.requests += r.n;
      m.totalTokens += r.tokens;
      unpriced.set(r.model, m);
    }
  }
  out.byStatus = [...byStatus.values()].sort((a, b) => b.requests - a.requests || a.status - b.status || (a.error ?? '').localeCompare(b.error ?? ''));
  out.unpriced = [...unpriced.values()].sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
  return out;
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
  const f = await accounting(db, scope);
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
    unpricedRequests: f.unpriced.reduce((n, m) => n + m.requests, 0),
    unpricedModels: f.unpriced,
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
