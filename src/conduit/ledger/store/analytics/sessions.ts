// Sessions active in the range, ranked over the whole range (most recent, costliest, most
// requests or tokens, longest) a page at a time, from the session rollup; each with its
// models (usage_session_model_rollup), claude's session id and its first prompt as
// conduit-claude reported it (usage_session_info, migration 20261203000003).
import type { SessionSort } from '../../../../protocol/analytics';
import { totalTokens } from '../../../../protocol/measures';
import type { SqlClient } from '../sqlClient';
import { NO_ROWS, Params, type ResolvedScope } from './scope';
import { sessionKey, usd } from './source';

/** Each ranking as SQL over the grouped session rollup rows (ties: latest first, then by id). */
const RANKING: Record<SessionSort, string> = {
  recent: 'max(sr.last_at) desc',
  cost: 'sum(sr.costed_request_count) > 0 desc, sum(sr.cost) desc',
  requests: 'sum(sr.request_count) desc',
  tokens: 'sum(sr.input_tokens + sr.output_tokens + sr.cache_creation_tokens + sr.cache_read_tokens) desc',
  duration: 'max(sr.last_at) - min(sr.first_at) desc',
};

export interface SessionPage {
  sort: SessionSort;
  limit: number;
  offset: number;
}

export async function sessions(db: SqlClient, scope: ResolvedScope, page: SessionPage): Promise<Record<string, unknown>> {
  const p = new Params();
  const where = sessionWhere(p, scope);
  // The session's models asked for and routed to (usage_session_model_rollup, migration
  // 20261203000002) over the same projects and agents as its totals.
  const modelScope = `${scope.project && !scope.noMatch ? ` and mr.project_id = ${p.add(scope.project.id)}::uuid` : ''}${
    scope.agentIds ? ` and mr.agent_id = any(${p.add(scope.agentIds)}::uuid[])` : ''}`;
  const { rows } = await db.query<Record<string, unknown> & { requests: number; costed_requests: number; cost: number; total: number }>(
    `with s as (
       select sr.session_id, min(sr.first_at) as first_at, max(sr.last_at) as last_at,
         sum(sr.request_count)::float8 as requests, sum(sr.error_count)::float8 as errors,
         sum(sr.input_tokens)::float8 as input_tokens, sum(sr.output_tokens)::float8 as output_tokens,
         sum(sr.cache_creation_tokens)::float8 as cache_creation_tokens, sum(sr.cache_read_tokens)::float8 as cache_read_tokens,
         sum(sr.cost)::float8 as cost, sum(sr.costed_request_count)::float8 as costed_requests,
         sum(sr.duration_ms)::float8 as duration_ms,
         array_agg(distinct sr.agent_id) filter (where sr.agent_id is not null) as agent_ids,
         array_agg(distinct sr.project_id) filter (where sr.project_id is not null) as project_ids,
         row_number() over (order by ${RANKING[page.sort]}, max(sr.last_at) desc, sr.session_id) as rank,
         count(*) over () as total
       from public.usage_session_rollup sr
       where ${where.join(' and ')}
       group by sr.session_id
       order by rank
       limit ${p.add(page.limit)}::int offset ${p.add(page.offset)}::int
     )
     select s.session_id, s.first_at, s.last_at, s.requests, s.errors, s.input_tokens, s.output_tokens,
       s.cache_creation_tokens, s.cache_read_tokens, s.cost, s.costed_requests, s.duration_ms, s.total::float8 as total,
       (select array_agg(x::text) from unnest(s.project_ids) x) as project_ids,
       (select coalesce(json_agg(json_build_object('id', a.id, 'name', a.name, 'externalId', a.external_id) order by a.name), '[]'::json)
          from public.agents a where a.id = any(s.agent_ids)) as agents,
       (select coalesce(json_agg(json_build_object('requestedModel', m.requested_model, 'model', m.model, 'requests', m.n)
            order by m.n desc, m.model, m.requested_model), '[]'::json)
          from (select mr.requested_model, mr.model, sum(mr.request_count)::int as n from public.usage_session_model_rollup mr
                where mr.session_id = s.session_id${modelScope} group by 1, 2) m) as models,
       -- claude's id: the key is claude's where its latest request carried one.
       (select u.claude_session_id from public.usage_tracking u where ${sessionKey('u')} = s.session_id
          order by ${sessionKey('u')} desc, u.created_at desc limit 1) as claude_session_id,
       -- The first prompt of the session's first run that reported one: by claude's id, by
       -- Conduit's, or by Conduit's id of its first request's run (a run that could not tell
       -- claude's id). Three index lookups rather than one OR the planner would scan for.
       (select x.first_prompt from (
          select i.first_prompt, i.created_at from public.usage_session_info i where i.claude_session_id = s.session_id
          union all
          select i.first_prompt, i.created_at from public.usage_session_info i where i.session_id = s.session_id
          union all
          select i.first_prompt, i.created_at from public.usage_session_info i where i.session_id = (
            select u.session_id from public.usage_tracking u where ${sessionKey('u')} = s.session_id
            order by ${sessionKey('u')}, u.created_at limit 1)
        ) x where x.first_prompt is not null order by x.created_at limit 1) as first_prompt
     from s
     order by s.rank`, p.values);
  // The count of sessions in range: from any row of the page, else (a page past the end) counted alone.
  const total = rows.length ? rows[0].total : page.offset > 0 ? await countSessions(db, scope) : 0;
  return {
    total,
    offset: page.offset,
    sort: page.sort,
    // Totals cover each session's whole life, also the part outside the range.
    sessions: rows.map((r) => ({
      sessionId: r.session_id,
      claudeSessionId: r.claude_session_id ?? null,
      // Asked for → routed to, most requests first (src/protocol/session.ts SessionModelUse).
      models: r.models,
      firstAt: new Date(r.first_at as string).toISOString(),
      lastAt: new Date(r.last_at as string).toISOString(),
      durationMs: new Date(r.last_at as string).getTime() - new Date(r.first_at as string).getTime(),
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
      // Cut to FIRST_PROMPT_CHARS when stored (sessionInfoRoute.ts; the column checks it).
      firstPrompt: (r.first_prompt as string | null) ?? null,
    })),
  };
}

/** The session rollup rows of the scope: sessions active in the range, of its project, agents and session. */
function sessionWhere(p: Params, scope: ResolvedScope): string[] {
  const where = [`sr.last_at >= ${p.add(scope.from.toISOString())}::timestamptz`, `sr.first_at < ${p.add(scope.to.toISOString())}::timestamptz`];
  if (scope.noMatch) where.push(`sr.project_id = ${p.add(NO_ROWS)}::uuid`);
  else if (scope.project) where.push(`sr.project_id = ${p.add(scope.project.id)}::uuid`);
  if (scope.agentIds) where.push(`sr.agent_id = any(${p.add(scope.agentIds)}::uuid[])`);
  if (scope.session !== null) {
    // The rollup's key is the session's id; Conduit's id of one of its runs finds it too.
    const id = p.add(scope.session);
    where.push(`(sr.session_id = ${id} or sr.session_id in (select ${sessionKey('u')} from public.usage_tracking u where u.session_id = ${id}))`);
  }
  return where;
}

/** Sessions in the scope, for a page past the last (which has no row to carry the count). */
async function countSessions(db: SqlClient, scope: ResolvedScope): Promise<number> {
  const p = new Params();
  const where = sessionWhere(p, scope);
  const { rows } = await db.query<{ n: number }>(
    `select count(distinct sr.session_id)::float8 as n from public.usage_session_rollup sr where ${where.join(' and ')}`, p.values);
  return rows[0].n;
}
