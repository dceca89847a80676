// Totals split by model, routing source or agent. Models keep the ones without a price
// (cost null) and mark retired ones with who still asks for them; agents come by cost with
// their share of it and a small trend.
import type { RetiredModel } from '../../../../protocol/analytics';
import { retirementOf } from '../../../pricing/retired';
import type { SqlClient } from '../sqlClient';
import { Params, type ResolvedScope } from './scope';
import { cutHours, scopeFilters, SUMS, totalsOf, usageSource, usd, type SumRow } from './source';

/** Most trend points an agent has: one per day up to this, one per week beyond. */
const MAX_TREND_POINTS = 31;

export async function byModelOrSource(db: SqlClient, scope: ResolvedScope, query: 'models' | 'sources', now: Date): Promise<Record<string, unknown>> {
  const p = new Params();
  const src = usageSource(p, scope);
  const key = query === 'models' ? 's.model' : 's.routing_source';
  const { rows } = await db.query<SumRow & { k: string | null }>(
    `select ${key} as k, ${SUMS} from ${src.sql} group by 1 order by requests desc, 1`, p.values);
  const total = rows.reduce((n, r) => n + r.requests, 0);
  if (query === 'sources') return { sources: rows.map((r) => ({ source: r.k, ...totalsOf(r), share: total ? r.requests / total : 0 })) };
  const retired = await retiredModels(db, scope, rows.map((r) => r.k as string), now);
  return { models: rows.map((r) => ({ model: r.k, ...totalsOf(r), share: total ? r.requests / total : 0, retired: retired.get(r.k as string) ?? null })) };
}

/** The retired models among `models`, with the agents and the number of sessions that asked for them in the scope. */
async function retiredModels(db: SqlClient, scope: ResolvedScope, models: string[], now: Date): Promise<Map<string, RetiredModel>> {
  const today = now.toISOString().slice(0, 10);
  const out = new Map<string, RetiredModel>();
  for (const m of models) {
    const r = retirementOf(m, today);
    if (r) out.set(m, { since: r.since, replacement: r.replacement, askedBy: { agents: [], sessions: 0 } });
  }
  if (!out.size) return out;
  const ids = [...out.keys()];
  const p = new Params();
  const src = usageSource(p, scope);
  const idsP = p.add(ids);
  const { rows: agents } = await db.query<{ model: string; id: string; name: string }>(
    `select distinct s.model, a.id::text as id, a.name from ${src.sql} join public.agents a on a.id = s.agent_id
     where s.model = any(${idsP}::text[]) order by a.name`, p.values);
  for (const a of agents) out.get(a.model)!.askedBy.agents.push({ id: a.id, name: a.name });
  // Sessions of the range (the session rollup's first and last request) that sent it.
  const q = new Params();
  const where = [`mr.model = any(${q.add(ids)}::text[])`, ...scopeFilters(q, scope, 'mr')];
  if (scope.session !== null) where.push(`mr.session_id = ${q.add(scope.session)}`);
  const { rows: sessions } = await db.query<{ model: string; n: number }>(
    `select mr.model, count(distinct mr.session_id)::int as n from public.usage_session_model_rollup mr
     where ${where.join(' and ')} and exists (
       select 1 from public.usage_session_rollup sr where sr.session_id = mr.session_id
         and sr.last_at >= ${q.add(scope.from.toISOString())}::timestamptz and sr.first_at < ${q.add(scope.to.toISOString())}::timestamptz)
     group by 1`, q.values);
  for (const s of sessions) out.get(s.model)!.askedBy.sessions = s.n;
  return out;
}

export async function agents(db: SqlClient, scope: ResolvedScope): Promise<Record<string, unknown>> {
  const days = (scope.to.getTime() - scope.from.getTime()) / 86_400_000;
  const unit = days > MAX_TREND_POINTS ? 'week' : 'day';
  const cut = scope.session === null ? await cutHours(db, scope, 'day') : [];
  const p = new Params();
  const src = usageSource(p, scope, cut);
  const tzP = p.add(scope.tz);
  const unitP = p.add(unit);
  const fromP = p.add(scope.from.toISOString());
  const toP = p.add(scope.to.toISOString());
  // Sums per agent and hour first (few rows), then per agent, and per agent and local day (or week).
  const { rows } = await db.query<SumRow & { agent_id: string | null; name: string | null; external_id: string | null; persona_type: string | null; trend: { t: string; c: number }[] | null }>(
    `with hourly as (
       select s.agent_id, s.at, ${SUMS} from ${src.sql} group by 1, 2
     ),
     agg as (
       select h.agent_id,
         sum(h.requests)::float8 as requests, sum(h.errors)::float8 as errors, sum(h.input_tokens)::float8 as input_tokens,
         sum(h.output_tokens)::float8 as output_tokens, sum(h.cache_creation_tokens)::float8 as cache_creation_tokens,
         sum(h.cache_creation_5m_tokens)::float8 as cache_creation_5m_tokens, sum(h.cache_creation_1h_tokens)::float8 as cache_creation_1h_tokens,
         sum(h.cache_read_tokens)::float8 as cache_read_tokens, sum(h.cost)::float8 as cost,
         sum(h.costed_requests)::float8 as costed_requests, sum(h.duration_ms)::float8 as duration_ms
       from hourly h group by 1
     ),
     trend as (
       select t.agent_id, json_agg(json_build_object('t', to_char(t.start, 'YYYY-MM-DD'), 'c', t.cost)) as trend
       from (select h.agent_id, date_trunc(${unitP}, h.at, ${tzP}) at time zone ${tzP} as start, sum(h.cost)::float8 as cost
             from hourly h group by 1, 2) t
       group by 1
     )
     select agg.agent_id::text as agent_id, agg.requests, agg.errors, agg.input_tokens, agg.output_tokens, agg.cache_creation_tokens,
       agg.cache_creation_5m_tokens, agg.cache_creation_1h_tokens, agg.cache_read_tokens, agg.cost, agg.costed_requests, agg.duration_ms,
       a.name, a.external_id, a.persona_type, trend.trend,
       (select json_agg(to_char(d, 'YYYY-MM-DD') order by d) from generate_series(
          date_trunc(${unitP}, ${fromP}::timestamptz at time zone ${tzP}),
          (${toP}::timestamptz - interval '1 microsecond') at time zone ${tzP}, ('1 ' || ${unitP})::interval) d) as points
     from agg
     left join public.agents a on a.id = agg.agent_id
     left join trend on trend.agent_id is not distinct from agg.agent_id`, p.values);
  const list = rows.map((r) => {
    const t = totalsOf(r);
    const points = (r as unknown as { points: string[] }).points ?? [];
    const byPoint = new Map((r.trend ?? []).map((x) => [x.t, x.c]));
    return { agentId: r.agent_id, name: r.name, externalId: r.external_id, personaType: r.persona_type, ...t, trend: points.map((d) => usd(byPoint.get(d) ?? 0)) };
  });
  const known = list.reduce((n, a) => n + (a.cost ?? 0), 0);
  list.sort((a, b) => (a.cost === null ? 1 : 0) - (b.cost === null ? 1 : 0) || (b.cost ?? 0) - (a.cost ?? 0) || b.requests - a.requests
    || (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff'));
  return { agents: list.map((a) => ({ ...a, share: known > 0 ? (a.cost ?? 0) / known : 0 })), trendUnit: unit };
}
