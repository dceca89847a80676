-- One insert trigger for the four rollups of usage_tracking, with static SQL.
--
-- Until now every INSERT statement on usage_tracking fired four statement-level triggers
-- (usage_hourly_rollup, usage_project_hourly, usage_session_rollup,
-- usage_session_model_rollup), each building its statement as text and running it with
-- EXECUTE: parsed and planned again on every statement, four times, and each reading the
-- transition table again. Ingestion inserts a batch of journal records per statement
-- (hundreds under load, a few when quiet), so that fixed cost per statement was most of
-- what a small batch cost.
--
-- usage_tracking_apply_rollups_insert() folds the inserted rows into the four rollups in
-- one statement: the transition table is read once into a CTE, and each rollup gets one
-- upsert per key of the batch (hour, project, agent, model, routing source; session; session
-- and model pair). Its SQL is static, so PL/pgSQL keeps the plan for the session. Updates,
-- deletes and TRUNCATE keep their triggers and functions (20261127000004, 20261128000002,
-- 20261128000003, 20261203000001, 20261203000002): those are rare (cascades of deleted
-- projects and agents, repairs) and need the signed arithmetic and the recomputations
-- written there; their INSERT branches are no longer used.
--
-- Works on Postgres 15+ (NULLS NOT DISTINCT keys), on Supabase and on PGlite alike, so rows
-- that sync writes into Supabase are rolled up by the same code. Every statement is safe to
-- run again.

create or replace function public.usage_tracking_apply_rollups_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  with c as materialized (
    select
      n.project_id, public.usage_hour_bucket(n.created_at) as bucket, n.agent_id, n.model,
      n.routing_source, n.requested_model,
      coalesce(n.claude_session_id, n.session_id) as session_key, n.created_at,
      (n.error is not null or coalesce(n.status, 200) >= 400)::int as failed,
      n.input_tokens::bigint as input_tokens, n.output_tokens::bigint as output_tokens,
      n.total_tokens::bigint as total_tokens, n.cache_creation_tokens::bigint as cache_creation_tokens,
      n.cache_creation_5m_tokens::bigint as cache_creation_5m_tokens,
      n.cache_creation_1h_tokens::bigint as cache_creation_1h_tokens,
      n.cache_read_tokens::bigint as cache_read_tokens, n.cost, n.duration_ms::bigint as duration_ms
    from new_rows n
  ),
  hourly as (
    insert into public.usage_hourly_rollup as r (
      project_id, bucket, agent_id, model, routing_source,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
      cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, bucket, agent_id, model, routing_source,
      count(*), sum(failed), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
      coalesce(sum(total_tokens), 0), coalesce(sum(cache_creation_tokens), 0),
      coalesce(sum(cache_creation_5m_tokens), 0), coalesce(sum(cache_creation_1h_tokens), 0),
      coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost), 0), count(cost),
      coalesce(sum(duration_ms), 0)
    from c
    group by project_id, bucket, agent_id, model, routing_source
    -- A fixed order takes the row locks in the same order in concurrent writers.
    order by project_id, bucket, agent_id, model, routing_source
    on conflict (project_id, bucket, agent_id, model, routing_source) do update set
      request_count = r.request_count + excluded.request_count,
      error_count = r.error_count + excluded.error_count,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      total_tokens = r.total_tokens + excluded.total_tokens,
      cache_creation_tokens = r.cache_creation_tokens + excluded.cache_creation_tokens,
      cache_creation_5m_tokens = r.cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
      cache_creation_1h_tokens = r.cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
      cache_read_tokens = r.cache_read_tokens + excluded.cache_read_tokens,
      cost = r.cost + excluded.cost,
      costed_request_count = r.costed_request_count + excluded.costed_request_count,
      duration_ms = r.duration_ms + excluded.duration_ms
  ),
  project_hourly as (
    insert into public.usage_project_hourly as r (
      project_id, bucket, request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
      cost, costed_request_count, duration_ms)
    select project_id, bucket,
      count(*), sum(failed), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
      coalesce(sum(total_tokens), 0), coalesce(sum(cache_creation_tokens), 0),
      coalesce(sum(cache_creation_5m_tokens), 0), coalesce(sum(cache_creation_1h_tokens), 0),
      coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost), 0), count(cost),
      coalesce(sum(duration_ms), 0)
    from c
    group by project_id, bucket
    order by project_id, bucket
    on conflict (project_id, bucket) do update set
      request_count = r.request_count + excluded.request_count,
      error_count = r.error_count + excluded.error_count,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      total_tokens = r.total_tokens + excluded.total_tokens,
      cache_creation_tokens = r.cache_creation_tokens + excluded.cache_creation_tokens,
      cache_creation_5m_tokens = r.cache_creation_5m_tokens + excluded.cache_creation_5m_tokens,
      cache_creation_1h_tokens = r.cache_creation_1h_tokens + excluded.cache_creation_1h_tokens,
      cache_read_tokens = r.cache_read_tokens + excluded.cache_read_tokens,
      cost = r.cost + excluded.cost,
      costed_request_count = r.costed_request_count + excluded.costed_request_count,
      duration_ms = r.duration_ms + excluded.duration_ms
  ),
  sessions as (
    insert into public.usage_session_rollup as r (
      project_id, session_id, agent_id, first_at, last_at,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, session_key, agent_id, min(created_at), max(created_at),
      count(*), sum(failed), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
      coalesce(sum(total_tokens), 0), coalesce(sum(cache_creation_tokens), 0),
      coalesce(sum(cache_read_tokens), 0), coalesce(sum(cost), 0), count(cost),
      coalesce(sum(duration_ms), 0)
    from c
    where session_key is not null
    group by project_id, session_key, agent_id
    order by project_id, session_key, agent_id
    on conflict (project_id, session_id, agent_id) do update set
      first_at = least(r.first_at, excluded.first_at),
      last_at = greatest(r.last_at, excluded.last_at),
      request_count = r.request_count + excluded.request_count,
      error_count = r.error_count + excluded.error_count,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      total_tokens = r.total_tokens + excluded.total_tokens,
      cache_creation_tokens = r.cache_creation_tokens + excluded.cache_creation_tokens,
      cache_read_tokens = r.cache_read_tokens + excluded.cache_read_tokens,
      cost = r.cost + excluded.cost,
      costed_request_count = r.costed_request_count + excluded.costed_request_count,
      duration_ms = r.duration_ms + excluded.duration_ms
  )
  -- The session model pairs: the statement's own insert (a data-modifying statement ends a WITH).
  insert into public.usage_session_model_rollup as r (
    project_id, session_id, agent_id, requested_model, model, request_count)
  select project_id, session_key, agent_id, requested_model, model, count(*)
  from c
  where session_key is not null
  group by session_key, project_id, agent_id, requested_model, model
  order by session_key, project_id, agent_id, requested_model, model
  on conflict (session_id, project_id, agent_id, requested_model, model) do update set
    request_count = r.request_count + excluded.request_count;
  return null;
end
$fn$;

-- The four insert triggers give way to the one above.
drop trigger if exists usage_tracking_rollup_insert on public.usage_tracking;
drop trigger if exists usage_tracking_project_hourly_insert on public.usage_tracking;
drop trigger if exists usage_tracking_session_rollup_insert on public.usage_tracking;
drop trigger if exists usage_tracking_session_model_rollup_insert on public.usage_tracking;

create or replace trigger usage_tracking_rollups_insert
  after insert on public.usage_tracking
  referencing new table as new_rows
  for each statement execute function public.usage_tracking_apply_rollups_insert();
