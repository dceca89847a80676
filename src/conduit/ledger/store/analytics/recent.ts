// The latest requests of the range, newest first, a page at a time (usage rows by index).
import { sessionIdOf } from '../../../../protocol/session';
import type { SqlClient } from '../sqlClient';
import { Params, type ResolvedScope } from './scope';
import { rowFilters } from './source';

export async function recent(db: SqlClient, scope: ResolvedScope, limit: number, offset: number): Promise<Record<string, unknown>> {
  const p = new Params();
  const where = rowFilters(p, scope, 'u');
  const { rows } = await db.query<Record<string, unknown>>(
    `select u.request_id, u.created_at, u.model, u.requested_model, u.provider, u.routing_source, u.routing_rule,
       u.project_id::text as project_id, u.agent_id::text as agent_id, a.name as agent_name, a.external_id as agent_external_id,
       u.session_id, u.claude_session_id, u.input_tokens, u.output_tokens, u.cache_creation_tokens, u.cache_read_tokens,
       u.cost::float8 as cost, u.cost_source, u.status, u.error, u.stream, u.duration_ms, u.first_byte_ms
     from public.usage_tracking u
     left join public.agents a on a.id = u.agent_id
     where ${where.join(' and ')}
     order by u.created_at desc
     limit ${p.add(limit)}::int offset ${p.add(offset)}::int`, p.values);
  return {
    offset,
    requests: rows.map((r) => ({
      requestId: r.request_id,
      at: new Date(r.created_at as string).toISOString(),
      model: r.model,
      requestedModel: r.requested_model,
      provider: r.provider,
      source: r.routing_source,
      rule: r.routing_rule,
      projectId: r.project_id,
      agent: r.agent_id ? { id: r.agent_id, name: r.agent_name, externalId: r.agent_external_id } : null,
      sessionId: sessionIdOf({ claudeSessionId: (r.claude_session_id as string | null) ?? undefined, sessionId: (r.session_id as string | null) ?? undefined }),
      conduitSessionId: r.session_id,
      claudeSessionId: r.claude_session_id,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      cacheCreationTokens: r.cache_creation_tokens,
      cacheReadTokens: r.cache_read_tokens,
      cost: r.cost,
      costSource: r.cost_source,
      status: r.status,
      error: r.error,
      stream: r.stream,
      durationMs: r.duration_ms,
      firstByteMs: r.first_byte_ms,
    })),
  };
}
