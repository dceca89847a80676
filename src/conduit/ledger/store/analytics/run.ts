// runAnalytics: one query in the ledger's thread, its figures from the store.
import type { SqlClient } from '../sqlClient';
import { agents, byModelOrSource } from './breakdowns';
import { daily } from './daily';
import { MAX_LIMIT, type AnalyticsParams, type AnalyticsQuery } from './params';
import type { RawAnalytics } from './raw';
import { recent } from './recent';
import { Params, resolveScope, scopeInfo } from './scope';
import { sessions } from './sessions';
import { SUMS, totalsOf, usageSource, type SumRow } from './source';
import { summary } from './summary';
import { timeseries } from './timeseries';

export async function runAnalytics(db: SqlClient, localUserId: string, query: AnalyticsQuery, params: AnalyticsParams, now = new Date()): Promise<RawAnalytics> {
  const scope = await resolveScope(db, localUserId, params, now);
  const info = scopeInfo(scope, params);
  const limit = params.limit ?? MAX_LIMIT;
  const offset = params.offset ?? 0;
  switch (query) {
    case 'summary':
      return { query, scope: info, result: await summary(db, scope, params) };
    case 'models':
    case 'sources':
      return { query, scope: info, result: await byModelOrSource(db, scope, query, now) };
    case 'agents':
      return { query, scope: info, result: await agents(db, scope) };
    case 'timeseries':
      return { query, scope: info, result: await timeseries(db, scope) };
    case 'daily':
      return { query, scope: info, result: await daily(db, scope, params.groupBy ?? 'model') };
    case 'recent':
      return { query, scope: info, result: await recent(db, scope, limit, offset) };
    case 'sessions':
      return { query, scope: info, result: await sessions(db, scope, { sort: params.sort ?? 'recent', limit, offset }) };
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
