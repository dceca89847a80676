-- One trigger function for the five rollups of usage_tracking, and one helper for the
-- row-level security policies that share a shape.
--
-- Until now each rollup had its own functions: an insert, update and delete function with
-- its upsert built as text for EXECUTE (20261127000004, 20261128000002/3, 20261203000001,
-- 20261203000002, 20261203000006) and a TRUNCATE function, while every upsert was written
-- again in the one insert function (20261203000005, extended by 20261203000006).
-- usage_tracking_apply_rollups() replaces all eleven: each rollup's upsert is written once,
-- over a CTE of the statement's changed rows with their sign.
--
-- The changed rows are one transition table, always named changed_rows, so the SQL is
-- static (PL/pgSQL keeps its plan for the session, per trigger) and serves every trigger:
--   insert              new table, +1
--   update (two)        new table, +1 ("update_add", fired first: triggers fire in name
--                       order, so keys whose rows only change their figures are never
--                       emptied in between); then the old table, -1 ("update_remove")
--   delete              old table, -1
--   truncate            empties the five rollups.
-- Triggers pass 'added' or 'removed' (TG_ARGV[0]); removals then drop the keys that fell
-- to zero and recompute the first and last request of the sessions they touched.
--
-- Works on Postgres 15+ (NULLS NOT DISTINCT keys), on Supabase and on PGlite alike. Every
-- statement is safe to run again.

create or replace function public.usage_tracking_apply_rollups()
returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  -- +1 for the rows a statement added (inserted, or an update's new versions), -1 for those it removed.
  direction constant integer := case when tg_argv[0] = 'removed' then -1 else 1 end;
begin
  if tg_op = 'TRUNCATE' then
    truncate public.usage_hourly_rollup, public.usage_project_hourly, public.usage_session_rollup,
      public.usage_session_model_rollup, public.usage_uncosted_hourly;
    return null;
  end if;

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
    from changed_rows n
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
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from changed_rows o);
    delete from public.usage_project_hourly r
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from changed_rows o);
    delete from public.usage_uncosted_hourly r
    where r.request_count = 0 and r.bucket in (select public.usage_hour_bucket(o.created_at) from changed_rows o);
    delete from public.usage_session_model_rollup r
    where r.request_count = 0 and r.session_id in (select coalesce(o.claude_session_id, o.session_id) from changed_rows o);
    delete from public.usage_session_rollup r
    where r.request_count = 0 and r.session_id in (select coalesce(o.claude_session_id, o.session_id) from changed_rows o);

    -- The sessions that lost rows: their first and last request again, from the rows left
    -- (through usage_tracking_session_key_created_idx).
    update public.usage_session_rollup r
    set first_at = m.first_at, last_at = m.last_at
    from (
      select k.project_id, k.session_id, k.agent_id, min(u.created_at) as first_at, max(u.created_at) as last_at
      from (
        select distinct o.project_id, coalesce(o.claude_session_id, o.session_id) as session_id, o.agent_id
        from changed_rows o where coalesce(o.claude_session_id, o.session_id) is not null
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
  return null;
end
$fn$;

create or replace trigger usage_tracking_rollups_insert
  after insert on public.usage_tracking
  referencing new table as changed_rows
  for each statement execute function public.usage_tracking_apply_rollups('added');

create or replace trigger usage_tracking_rollups_update_add
  after update on public.usage_tracking
  referencing new table as changed_rows
  for each statement execute function public.usage_tracking_apply_rollups('added');

create or replace trigger usage_tracking_rollups_update_remove
  after update on public.usage_tracking
  referencing old table as changed_rows
  for each statement execute function public.usage_tracking_apply_rollups('removed');

create or replace trigger usage_tracking_rollups_delete
  after delete on public.usage_tracking
  referencing old table as changed_rows
  for each statement execute function public.usage_tracking_apply_rollups('removed');

create or replace trigger usage_tracking_rollups_truncate
  after truncate on public.usage_tracking
  for each statement execute function public.usage_tracking_apply_rollups();

-- The functions and triggers the one above replaces. Each rollup's were named alike:
-- usage_tracking_<rollup>_<event> calling usage_tracking_apply_<rollup>() or
-- usage_tracking_truncate_<rollup>().
do $$
declare
  rollup text;
  event text;
begin
  foreach rollup in array array['rollup', 'project_hourly', 'session_rollup', 'session_model_rollup', 'uncosted_hourly'] loop
    foreach event in array array['insert', 'update', 'delete', 'truncate'] loop
      execute format('drop trigger if exists %I on public.usage_tracking', 'usage_tracking_' || rollup || '_' || event);
    end loop;
    execute format('drop function if exists public.%I()', 'usage_tracking_apply_' || rollup);
    execute format('drop function if exists public.%I()', 'usage_tracking_truncate_' || rollup);
  end loop;
end
$$;
drop function if exists public.usage_tracking_apply_rollups_insert();

-- ---------------------------------------------------------------------------------------
-- Row-level security of a table, in the shape most tables share: one policy per verb for
-- signed-in users, <table>_select_<readers> where `read` holds, and <table>_insert_own,
-- _update_own, _delete_own where `write` holds (the new row too). Enables row-level
-- security, and drops and creates the four policies (safe to run again). A tool for
-- migrations, run by the schema's owner: not for API callers.
create or replace function public.set_row_policies(p_table text, p_readers text, p_read text, p_write text)
returns void
language plpgsql
set search_path = ''
as $fn$
declare
  policy record;
begin
  execute format('alter table public.%I enable row level security', p_table);
  for policy in
    select p_table || '_' || v.verb || '_' || v.who as name, v.verb, v.rule
    from (values
      ('select', p_readers, format('using (%s)', p_read)),
      ('insert', 'own', format('with check (%s)', p_write)),
      ('update', 'own', format('using (%s) with check (%s)', p_write, p_write)),
      ('delete', 'own', format('using (%s)', p_write))
    ) v(verb, who, rule)
  loop
    execute format('drop policy if exists %I on public.%I', policy.name, p_table);
    execute format('create policy %I on public.%I for %s to authenticated %s', policy.name, p_table, policy.verb, policy.rule);
  end loop;
end
$fn$;

revoke execute on function public.set_row_policies(text, text, text, text) from public, anon, authenticated;

-- The tables of that shape, defined once here as they were (20261127000005, 20261128000002,
-- 20261128000003, 20261129000002, 20261203000002, 20261203000003, 20261203000006).
-- Projects: the owner, and members read.
select public.set_row_policies('projects', 'member',
  'user_id = (select auth.uid()) or id in (select public.member_project_ids())',
  'user_id = (select auth.uid())');
-- Agents: members read, the owner writes.
select public.set_row_policies('agents', 'member',
  'project_id in (select public.member_project_ids())',
  'project_id in (select public.owned_project_ids())');
-- Rollups: members read; the triggers write as definer, direct writes are the owner's.
select public.set_row_policies(t, 'member',
  'project_id in (select public.member_project_ids())',
  'project_id in (select p.id from public.projects p where p.user_id = (select auth.uid()))')
from unnest(array['usage_hourly_rollup', 'usage_project_hourly', 'usage_session_rollup',
  'usage_session_model_rollup', 'usage_uncosted_hourly']) t;
-- A person's own sessions' first prompts.
select public.set_row_policies('usage_session_info', 'own',
  'user_id = (select auth.uid())',
  'user_id = (select auth.uid())');
