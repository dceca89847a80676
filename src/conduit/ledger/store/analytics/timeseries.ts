// Cost over time: one point per hour or local day of the caller's time zone.
import type { SqlClient } from '../sqlClient';
import { Params, type ResolvedScope } from './scope';
import { cutHours, totalsOf, usageSource, type SumRow } from './source';

export async function timeseries(db: SqlClient, scope: ResolvedScope): Promise<Record<string, unknown>> {
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
