-- The rollups' work as a function of rows, so a batch insert can do it itself.
--
-- usage_rollups_apply(rows, direction) holds what usage_tracking_apply_rollups() did over
-- a statement's transition table (20261204000001): each of the five rollups' upsert, and for
-- removals the cleanup of emptied keys and of the sessions' first and last request. The
-- triggers call it with their transition table (as one array), so nothing changes for
-- whoever writes usage_tracking: Supabase's API callers, the Synapse app, the sql tests.
--
-- The rollup insert trigger fires as an ordinary trigger again (ENABLE, not ENABLE ALWAYS
-- as 20261204000020 made it): the local store's ingester inserts in replica mode, where no
-- ordinary trigger fires, and does every skipped trigger's work itself in the same
-- statement, this function included (src/conduit/ledger/store/ingest.ts, INSERT_SQL and
-- WORK_OF_SKIPPED_TRIGGERS: the one list of what it does instead of the triggers).
--
-- Works on Postgres 15+ / Supabase and on PGlite alike. Every statement is safe to run again.

create or replace function public.usage_rollups_apply(p_rows public.usage_tracking[], direction integer)
returns void
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
      n.cache_read_tokens::bigint as cache_read_tokens, n.cost, n.duration_ms::bigint as duration_ms,
      n.status, n.error, coalesce(n.cost_source = 'refused', false) as refused
    from unnest(p_rows) n
  ),
  uncosted as (
    insert into public.usage_uncosted_hourly as r (
      project_id, bucket, agent_id, model, status, error, refused, request_count, tokens)
    select project_id, bucket, agent_id, model, status, error, refused, direction * count(*),
      direction * sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens)
    from c
    where cost is null or failed = 1 or refused
    group by project_id, bucket, agent_id, model, status, error, refused
    -- A fixed order takes the row locks in the same order in concurrent writers.
    order by project_id, bucket, agent_id, model, status, error, refused
    on conflict (project_id, bucket, agent_id, model, status, error, refused) do update set
      request_count = r.request_count + excluded.request_count,
      tokens = r.tokens + excluded.tokens
  ),
  hourly as (
    insert into public.usage_hourly_rollup as r (
      project_id, bucket, agent_id, model, routing_source,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
      cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, bucket, agent_id, model, routing_source,
      direction * count(*), direction * sum(failed), direction * coalesce(sum(input_tokens), 0),
      direction * coalesce(sum(output_tokens), 0), direction * coalesce(sum(total_tokens), 0),
      direction * coalesce(sum(cache_creation_tokens), 0), direction * coalesce(sum(cache_creation_5m_tokens), 0),
      direction * coalesce(sum(cache_creation_1h_tokens), 0), direction * coalesce(sum(cache_read_tokens), 0),
      direction * coalesce(sum(cost), 0), direction * count(cost), direction * coalesce(sum(duration_ms), 0)
    from c
    group by project_id, bucket, agent_id, model, routing_source
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
  -- The hourly rollup above by project and hour alone (what the totals and cost over time read).
  project_hourly as (
    insert into public.usage_project_hourly as r (
      project_id, bucket, request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
      cost, costed_request_count, duration_ms)
    select project_id, bucket,
      direction * count(*), direction * sum(failed), direction * coalesce(sum(input_tokens), 0),
      direction * coalesce(sum(output_tokens), 0), direction * coalesce(sum(total_tokens), 0),
      direction * coalesce(sum(cache_creation_tokens), 0), direction * coalesce(sum(cache_creation_5m_tokens), 0),
      direction * coalesce(sum(cache_creation_1h_tokens), 0), direction * coalesce(sum(cache_read_tokens), 0),
      direction * coalesce(sum(cost), 0), direction * count(cost), direction * coalesce(sum(duration_ms), 0)
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
  -- first_at / last_at only widen here; removals recompute them below.
  sessions as (
    insert into public.usage_session_rollup as r (
      project_id, session_id, agent_id, first_at, last_at,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, session_key, agent_id, min(created_at), max(created_at),
      direction * count(*), direction * sum(failed), direction * coalesce(sum(input_tokens), 0),
      direction * coalesce(sum(output_tokens), 0), direction * coalesce(sum(total_tokens), 0),
      direction * coalesce(sum(cache_creation_tokens), 0), direction * coalesce(sum(cache_read_tokens), 0),
      direction * coalesce(sum(cost), 0), direction * count(cost), direction * coalesce(sum(duration_ms), 0)
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
  select project_id, session_key, agent_id, requested_model, model, direction * count(*)
  from c
  where session_key is not null
  group by session_key, project_id, agent_id, requested_model, model
  order by session_key, project_id, agent_id, requested_model, model
  on conflict (session_id, project_id, agent_id, requested_model, model) do update set
    request_count = r.request_count + excluded.request_count;

  if direction < 0 then
    -- Keys whose last row went: by the hours and sessions of the removed rows (indexed).
    delete from public.usage_hourly_rollup r
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from unnest(p_rows) o);
    delete from public.usage_project_hourly r
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from unnest(p_rows) o);
    delete from public.usage_uncosted_hourly r
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from unnest(p_rows) o);
    delete from public.usage_session_model_rollup r
    where r.request_count = 0 and r.session_id in (select coalesce(o.claude_session_id, o.session_id) from unnest(p_rows) o);
    delete from public.usage_session_rollup r
    where r.request_count = 0 and r.session_id in (select coalesce(o.claude_session_id, o.session_id) from unnest(p_rows) o);

    -- The sessions that lost rows: their first and last request again, from the rows left
    -- (through usage_tracking_session_key_created_idx).
    update public.usage_session_rollup r
    set first_at = m.first_at, last_at = m.last_at
    from (
      select k.project_id, k.session_id, k.agent_id, min(u.created_at) as first_at, max(u.created_at) as last_at
      from (
        select distinct o.project_id, coalesce(o.claude_session_id, o.session_id) as session_id, o.agent_id
        from unnest(p_rows) o where coalesce(o.claude_session_id, o.session_id) is not null
      ) k
      join public.usage_tracking u
        on coalesce(u.claude_session_id, u.session_id) = k.session_id
        and u.project_id is not distinct from k.project_id
        and u.agent_id is not distinct from k.agent_id
      group by 1, 2, 3
    ) m
    where r.project_id is not distinct from m.project_id
      and r.session_id = m.session_id
      and r.agent_id is not distinct from m.agent_id
      and (r.first_at, r.last_at) is distinct from (m.first_at, m.last_at);
  end if;
  return;
end
$fn$;
-- A definer's function that writes the rollups: for triggers and the store's owner only.
revoke execute on function public.usage_rollups_apply(public.usage_tracking[], integer) from public, anon, authenticated;

create or replace function public.usage_tracking_apply_rollups()
returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  if tg_op = 'TRUNCATE' then
    truncate public.usage_hourly_rollup, public.usage_project_hourly, public.usage_session_rollup,
      public.usage_session_model_rollup, public.usage_uncosted_hourly;
    return null;
  end if;
  -- +1 for the rows a statement added (inserted, or an update's new versions), -1 for those it removed.
  perform public.usage_rollups_apply(array(select n::public.usage_tracking from changed_rows n),
    case when tg_argv[0] = 'removed' then -1 else 1 end);
  return null;
end
$fn$;

alter table public.usage_tracking enable trigger usage_tracking_rollups_insert;
