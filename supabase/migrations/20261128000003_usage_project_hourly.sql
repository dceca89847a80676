-- Hourly totals per project, kept exact by statement-level triggers like the hourly rollup:
-- one row per (project, UTC hour) however many agents, models and routing sources it had.
-- A month of a busy project is 720 rows here against thousands in usage_hourly_rollup,
-- which is what cost over time and the totals of a project (or of everything) read; the
-- per-model, per-source and per-agent views keep reading usage_hourly_rollup.

create table if not exists public.usage_project_hourly (
  project_id uuid,
  -- Start of the UTC hour (usage_hour_bucket(created_at)).
  bucket timestamptz not null,
  request_count bigint not null default 0,
  error_count bigint not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  total_tokens bigint not null default 0,
  cache_creation_tokens bigint not null default 0,
  cache_creation_5m_tokens bigint not null default 0,
  cache_creation_1h_tokens bigint not null default 0,
  cache_read_tokens bigint not null default 0,
  -- Sum of the known costs (USD) and how many requests had one (see the hourly rollup).
  cost numeric not null default 0,
  costed_request_count bigint not null default 0,
  duration_ms bigint not null default 0
);

create unique index if not exists usage_project_hourly_key
  on public.usage_project_hourly (project_id, bucket)
  nulls not distinct;
create index if not exists usage_project_hourly_bucket_idx
  on public.usage_project_hourly (bucket);

create or replace function public.usage_tracking_apply_project_hourly()
returns trigger
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  changes text;
begin
  if tg_op = 'INSERT' then
    changes := 'select 1 as sign, * from new_rows';
  elsif tg_op = 'DELETE' then
    changes := 'select -1 as sign, * from old_rows';
  else
    changes := 'select 1 as sign, * from new_rows union all select -1 as sign, * from old_rows';
  end if;

  execute format($sql$
    insert into public.usage_project_hourly as r (
      project_id, bucket, request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
      cost, costed_request_count, duration_ms)
    select project_id, bucket, request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
      cost, costed_request_count, duration_ms
    from (
      select
        c.project_id, public.usage_hour_bucket(c.created_at) as bucket,
        sum(c.sign) as request_count,
        sum(c.sign * (c.error is not null or coalesce(c.status, 200) >= 400)::int) as error_count,
        sum(c.sign * c.input_tokens::bigint) as input_tokens,
        sum(c.sign * c.output_tokens::bigint) as output_tokens,
        sum(c.sign * c.total_tokens::bigint) as total_tokens,
        sum(c.sign * c.cache_creation_tokens::bigint) as cache_creation_tokens,
        sum(c.sign * c.cache_creation_5m_tokens::bigint) as cache_creation_5m_tokens,
        sum(c.sign * c.cache_creation_1h_tokens::bigint) as cache_creation_1h_tokens,
        sum(c.sign * c.cache_read_tokens::bigint) as cache_read_tokens,
        coalesce(sum(c.sign * c.cost), 0) as cost,
        sum(c.sign * (c.cost is not null)::int) as costed_request_count,
        coalesce(sum(c.sign * c.duration_ms::bigint), 0) as duration_ms
      from (%s) c
      group by 1, 2
    ) d
    -- An update that changed nothing counted here leaves the table alone.
    where (request_count, error_count, input_tokens, output_tokens, total_tokens,
           cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
           cache_read_tokens, cost, costed_request_count, duration_ms)
      <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
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
  $sql$, changes);

  if tg_op <> 'INSERT' then
    execute $sql$
      delete from public.usage_project_hourly r
      using (
        select distinct project_id, public.usage_hour_bucket(created_at) as bucket from old_rows
      ) k
      where r.request_count = 0
        and r.project_id is not distinct from k.project_id
        and r.bucket = k.bucket
    $sql$;
  end if;
  return null;
end
$fn$;

create or replace function public.usage_tracking_truncate_project_hourly()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  truncate public.usage_project_hourly;
  return null;
end
$$;

create or replace trigger usage_tracking_project_hourly_insert
  after insert on public.usage_tracking
  referencing new table as new_rows
  for each statement execute function public.usage_tracking_apply_project_hourly();

create or replace trigger usage_tracking_project_hourly_update
  after update on public.usage_tracking
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.usage_tracking_apply_project_hourly();

create or replace trigger usage_tracking_project_hourly_delete
  after delete on public.usage_tracking
  referencing old table as old_rows
  for each statement execute function public.usage_tracking_apply_project_hourly();

create or replace trigger usage_tracking_project_hourly_truncate
  after truncate on public.usage_tracking
  for each statement execute function public.usage_tracking_truncate_project_hourly();

-- Recomputes the table from usage_tracking (repairs, and rows older than this migration).
create or replace function public.rebuild_usage_project_hourly()
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table public.usage_tracking in share mode;
  truncate public.usage_project_hourly;
  insert into public.usage_project_hourly (
    project_id, bucket, request_count, error_count, input_tokens, output_tokens, total_tokens,
    cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_tokens,
    cost, costed_request_count, duration_ms)
  select
    u.project_id, public.usage_hour_bucket(u.created_at),
    count(*),
    count(*) filter (where u.error is not null or coalesce(u.status, 200) >= 400),
    coalesce(sum(u.input_tokens), 0), coalesce(sum(u.output_tokens), 0),
    coalesce(sum(u.total_tokens), 0), coalesce(sum(u.cache_creation_tokens), 0),
    coalesce(sum(u.cache_creation_5m_tokens), 0), coalesce(sum(u.cache_creation_1h_tokens), 0),
    coalesce(sum(u.cache_read_tokens), 0), coalesce(sum(u.cost), 0), count(u.cost),
    coalesce(sum(u.duration_ms), 0)
  from public.usage_tracking u
  group by 1, 2;
end
$$;

revoke execute on function public.rebuild_usage_project_hourly() from public, anon, authenticated;

select public.rebuild_usage_project_hourly();

alter table public.usage_project_hourly enable row level security;

drop policy if exists usage_project_hourly_select_own on public.usage_project_hourly;
create policy usage_project_hourly_select_own on public.usage_project_hourly
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_project_hourly_insert_own on public.usage_project_hourly;
create policy usage_project_hourly_insert_own on public.usage_project_hourly
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_project_hourly_update_own on public.usage_project_hourly;
create policy usage_project_hourly_update_own on public.usage_project_hourly
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_project_hourly_delete_own on public.usage_project_hourly;
create policy usage_project_hourly_delete_own on public.usage_project_hourly
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));
