-- The failed, refused and unpriced requests per hour: what the summary counts apart (its
-- failed requests by status and error, refused ones, requests to a model without a price
-- with their tokens), kept exact by the rollup triggers like the other hourly rollups.
--
-- Until now the summary read those usage rows through the partial index
-- usage_tracking_uncosted_created_idx (20261203000003_unpriced_index.sql): a few in a
-- hundred, but scattered over the whole heap, so a 90-day range at 1M rows read ~7,600 heap
-- pages (PGlite never vacuums, so no index-only scan) and took 75-100 ms. Now the whole UTC
-- hours of a range come from usage_uncosted_hourly, and only the partial hours at its ends
-- from usage rows (through that index), as the summary's totals do.
--
-- A row counts here when it has no cost, failed (an error, or a status of 400 or more) or
-- was refused by a budget (cost_source 'refused'): the rows of the partial index. Its key is
-- (project, hour, agent, model, status, error, refused); tokens are input + output + cache
-- writes + cache reads, as the summary shows them for unpriced models.
--
-- Inserts: usage_tracking_apply_rollups_insert() (20261203000005) gains this rollup, so one
-- statement-level trigger still folds an insert into every rollup. Updates and deletes have
-- their own statement-level triggers here, with signed arithmetic; TRUNCATE empties it.
-- Works on Postgres 15+ and on PGlite alike. Every statement is safe to run again.

create table if not exists public.usage_uncosted_hourly (
  project_id uuid,
  -- Start of the UTC hour (usage_hour_bucket(created_at)).
  bucket timestamptz not null,
  agent_id uuid,
  model text not null,
  status integer,
  error text,
  -- Refused by a budget (cost_source 'refused'): counted apart from failures.
  refused boolean not null,
  request_count bigint not null default 0,
  tokens bigint not null default 0
);

create unique index if not exists usage_uncosted_hourly_key
  on public.usage_uncosted_hourly (project_id, bucket, agent_id, model, status, error, refused)
  nulls not distinct;
create index if not exists usage_uncosted_hourly_bucket_idx
  on public.usage_uncosted_hourly (bucket);

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
      n.cache_read_tokens::bigint as cache_read_tokens, n.cost, n.duration_ms::bigint as duration_ms,
      n.status, n.error, coalesce(n.cost_source = 'refused', false) as refused
    from new_rows n
  ),
  uncosted as (
    insert into public.usage_uncosted_hourly as r (
      project_id, bucket, agent_id, model, status, error, refused, request_count, tokens)
    select project_id, bucket, agent_id, model, status, error, refused, count(*),
      sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens)
    from c
    where cost is null or failed = 1 or refused
    group by project_id, bucket, agent_id, model, status, error, refused
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

-- Updates and deletes (rare: cascades of deleted projects and agents, repairs): the old rows
-- subtracted, the new ones added, rows that fall to zero removed.
create or replace function public.usage_tracking_apply_uncosted_hourly()
returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  changes text;
begin
  if tg_op = 'DELETE' then
    changes := 'select -1 as sign, * from old_rows';
  else
    changes := 'select 1 as sign, * from new_rows union all select -1 as sign, * from old_rows';
  end if;

  execute format($sql$
    insert into public.usage_uncosted_hourly as r (
      project_id, bucket, agent_id, model, status, error, refused, request_count, tokens)
    select project_id, bucket, agent_id, model, status, error, refused, request_count, tokens
    from (
      select c.project_id, public.usage_hour_bucket(c.created_at) as bucket, c.agent_id, c.model,
        c.status, c.error, coalesce(c.cost_source = 'refused', false) as refused,
        sum(c.sign) as request_count,
        sum(c.sign * (c.input_tokens::bigint + c.output_tokens + c.cache_creation_tokens + c.cache_read_tokens)) as tokens
      from (%s) c
      where c.cost is null or c.error is not null or coalesce(c.status, 200) >= 400 or c.cost_source = 'refused'
      group by 1, 2, 3, 4, 5, 6, 7
    ) d
    -- An update that changed nothing counted here leaves the table alone.
    where (request_count, tokens) <> (0, 0)
    order by project_id, bucket, agent_id, model, status, error, refused
    on conflict (project_id, bucket, agent_id, model, status, error, refused) do update set
      request_count = r.request_count + excluded.request_count,
      tokens = r.tokens + excluded.tokens
  $sql$, changes);

  delete from public.usage_uncosted_hourly r
  where r.request_count = 0
    and r.bucket in (select distinct public.usage_hour_bucket(o.created_at) from old_rows o);
  return null;
end
$fn$;

create or replace function public.usage_tracking_truncate_uncosted_hourly()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  truncate public.usage_uncosted_hourly;
  return null;
end
$$;

create or replace trigger usage_tracking_uncosted_hourly_update
  after update on public.usage_tracking
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.usage_tracking_apply_uncosted_hourly();

create or replace trigger usage_tracking_uncosted_hourly_delete
  after delete on public.usage_tracking
  referencing old table as old_rows
  for each statement execute function public.usage_tracking_apply_uncosted_hourly();

create or replace trigger usage_tracking_uncosted_hourly_truncate
  after truncate on public.usage_tracking
  for each statement execute function public.usage_tracking_truncate_uncosted_hourly();

-- Recomputes the table from usage_tracking (repairs, and the rows recorded before this migration).
create or replace function public.rebuild_usage_uncosted_hourly()
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table public.usage_tracking in share mode;
  truncate public.usage_uncosted_hourly;
  insert into public.usage_uncosted_hourly (
    project_id, bucket, agent_id, model, status, error, refused, request_count, tokens)
  select u.project_id, public.usage_hour_bucket(u.created_at), u.agent_id, u.model, u.status, u.error,
    coalesce(u.cost_source = 'refused', false), count(*),
    sum(u.input_tokens::bigint + u.output_tokens + u.cache_creation_tokens + u.cache_read_tokens)
  from public.usage_tracking u
  where u.cost is null or u.error is not null or coalesce(u.status, 200) >= 400 or u.cost_source = 'refused'
  group by 1, 2, 3, 4, 5, 6, 7;
end
$$;

revoke execute on function public.rebuild_usage_uncosted_hourly() from public, anon, authenticated;

select public.rebuild_usage_uncosted_hourly();

-- Row-level security as on the other rollups (20261203000002): members of a project read its
-- rows; direct writes are the project owner's (the triggers write as definer).
alter table public.usage_uncosted_hourly enable row level security;

drop policy if exists usage_uncosted_hourly_select_member on public.usage_uncosted_hourly;
create policy usage_uncosted_hourly_select_member on public.usage_uncosted_hourly
  for select to authenticated
  using (project_id in (select public.member_project_ids()));

drop policy if exists usage_uncosted_hourly_insert_own on public.usage_uncosted_hourly;
create policy usage_uncosted_hourly_insert_own on public.usage_uncosted_hourly
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_uncosted_hourly_update_own on public.usage_uncosted_hourly;
create policy usage_uncosted_hourly_update_own on public.usage_uncosted_hourly
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_uncosted_hourly_delete_own on public.usage_uncosted_hourly;
create policy usage_uncosted_hourly_delete_own on public.usage_uncosted_hourly
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));
