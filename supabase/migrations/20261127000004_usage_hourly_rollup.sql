-- Hourly rollup of usage_tracking, kept exact by statement-level triggers: dashboards
-- read a few hundred rollup rows instead of scanning a million usage rows.
--
-- One row per (project, UTC hour, agent, model, routing source). Hour buckets serve day,
-- week and month views, and day buckets in any time zone whose offset is whole hours.
-- Statement-level triggers with transition tables fold a whole batch into one upsert per
-- key (ingestion inserts many rows per statement). The rollup has no foreign keys on
-- purpose: deleting a project or an agent changes usage_tracking through its own
-- cascades, and the triggers carry those changes over; a foreign key here would race them.

create or replace function public.usage_hour_bucket(t timestamptz)
returns timestamptz
language sql
immutable
parallel safe
set search_path = ''
as $$
  select date_bin(interval '1 hour', t, timestamptz '2000-01-01 00:00:00+00')
$$;

create table if not exists public.usage_hourly_rollup (
  project_id uuid,
  -- Start of the UTC hour (usage_hour_bucket(created_at)).
  bucket timestamptz not null,
  agent_id uuid,
  model text not null,
  routing_source text,
  request_count bigint not null default 0,
  -- Requests whose status was >= 400 or that carry an error type.
  error_count bigint not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  total_tokens bigint not null default 0,
  cache_creation_tokens bigint not null default 0,
  cache_creation_5m_tokens bigint not null default 0,
  cache_creation_1h_tokens bigint not null default 0,
  cache_read_tokens bigint not null default 0,
  -- Sum of the known costs (USD), and how many requests had one: when
  -- costed_request_count < request_count some prices were unknown, and when it is 0 the
  -- cost is unknown (NULL), not 0.
  cost numeric not null default 0,
  costed_request_count bigint not null default 0,
  duration_ms bigint not null default 0
);

-- The key. NULLS NOT DISTINCT (PostgreSQL 15+): "no agent" is one key, not many.
create unique index if not exists usage_hourly_rollup_key
  on public.usage_hourly_rollup (project_id, bucket, agent_id, model, routing_source)
  nulls not distinct;

-- Folds the statement's changed rows (new_rows counted +1, old_rows -1) into the rollup.
-- SECURITY DEFINER: the rollup stays exact whoever writes usage_tracking (row-level
-- security has already checked that writer's rows). Rows whose count reaches 0 go.
create or replace function public.usage_tracking_apply_rollup()
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
    insert into public.usage_hourly_rollup as r (
      project_id, bucket, agent_id, model, routing_source,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
      cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, bucket, agent_id, model, routing_source,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
      cache_read_tokens, cost, costed_request_count, duration_ms
    from (
      select
        c.project_id, public.usage_hour_bucket(c.created_at) as bucket, c.agent_id,
        c.model, c.routing_source,
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
      group by 1, 2, 3, 4, 5
    ) d
    -- An update that changed nothing the rollup counts leaves it alone.
    where (request_count, error_count, input_tokens, output_tokens, total_tokens,
           cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
           cache_read_tokens, cost, costed_request_count, duration_ms)
      <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
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
  $sql$, changes);

  if tg_op <> 'INSERT' then
    execute $sql$
      delete from public.usage_hourly_rollup r
      using (
        select distinct project_id, public.usage_hour_bucket(created_at) as bucket,
          agent_id, model, routing_source
        from old_rows
      ) k
      where r.request_count = 0
        and r.project_id is not distinct from k.project_id
        and r.bucket = k.bucket
        and r.agent_id is not distinct from k.agent_id
        and r.model = k.model
        and r.routing_source is not distinct from k.routing_source
    $sql$;
  end if;
  return null;
end
$fn$;

create or replace function public.usage_tracking_truncate_rollup()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  truncate public.usage_hourly_rollup;
  return null;
end
$$;

create or replace trigger usage_tracking_rollup_insert
  after insert on public.usage_tracking
  referencing new table as new_rows
  for each statement execute function public.usage_tracking_apply_rollup();

create or replace trigger usage_tracking_rollup_update
  after update on public.usage_tracking
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.usage_tracking_apply_rollup();

create or replace trigger usage_tracking_rollup_delete
  after delete on public.usage_tracking
  referencing old table as old_rows
  for each statement execute function public.usage_tracking_apply_rollup();

create or replace trigger usage_tracking_rollup_truncate
  after truncate on public.usage_tracking
  for each statement execute function public.usage_tracking_truncate_rollup();

-- Recomputes the whole rollup from usage_tracking (repairs; and below, so rows that
-- existed before the triggers are counted). Blocks writers of usage_tracking meanwhile.
create or replace function public.rebuild_usage_hourly_rollup()
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table public.usage_tracking in share mode;
  truncate public.usage_hourly_rollup;
  insert into public.usage_hourly_rollup (
    project_id, bucket, agent_id, model, routing_source,
    request_count, error_count, input_tokens, output_tokens, total_tokens,
    cache_creation_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens,
    cache_read_tokens, cost, costed_request_count, duration_ms)
  select
    u.project_id, public.usage_hour_bucket(u.created_at), u.agent_id, u.model, u.routing_source,
    count(*),
    count(*) filter (where u.error is not null or coalesce(u.status, 200) >= 400),
    coalesce(sum(u.input_tokens), 0), coalesce(sum(u.output_tokens), 0),
    coalesce(sum(u.total_tokens), 0), coalesce(sum(u.cache_creation_tokens), 0),
    coalesce(sum(u.cache_creation_5m_tokens), 0), coalesce(sum(u.cache_creation_1h_tokens), 0),
    coalesce(sum(u.cache_read_tokens), 0), coalesce(sum(u.cost), 0), count(u.cost),
    coalesce(sum(u.duration_ms), 0)
  from public.usage_tracking u
  group by 1, 2, 3, 4, 5;
end
$$;

-- A maintenance task for the store's owner, not for API callers.
revoke execute on function public.rebuild_usage_hourly_rollup() from public, anon, authenticated;

select public.rebuild_usage_hourly_rollup();
