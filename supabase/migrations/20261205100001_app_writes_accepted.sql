-- The Synapse app's own writes, as its guide makes them through supabase-js, are accepted:
--   insert into projects (id, user_id, name)
--   insert into usage_tracking (project_id, agent_id, model, input_tokens, output_tokens,
--                               cost, routing_source, metadata)
--   update agents set use_project_model, custom_model_id, model_config (NULL when the
--                               agent uses its project's configuration)
-- and its analytics ranges mean what it says: get_usage_statistics(p, '1 day') is the last
-- 24 hours in any session time zone, '30 days' the last 30 × 24 hours.
--
-- The keys such a write leaves out are derived from the row's id
-- (default_workspace_key, default_request_id: 20261127000000), so they stay unique and a
-- row synced or replayed keeps its key. A column default cannot read the row's id, so a
-- BEFORE INSERT trigger fills them in; its WHEN clause skips the function for every row
-- that has its key (the gateway's, the outbox's): those pay one null test. Ingestion
-- (session_replication_role = replica) does not fire it and always has the key.
--
-- Every statement is safe to run again.

create or replace function public.fill_project_workspace_key()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.workspace_key := public.default_workspace_key(new.id);
  return new;
end
$$;

create or replace trigger projects_fill_workspace_key
  before insert on public.projects
  for each row when (new.workspace_key is null)
  execute function public.fill_project_workspace_key();

create or replace function public.fill_usage_request_id()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.request_id := public.default_request_id(new.id);
  return new;
end
$$;

create or replace trigger usage_tracking_fill_request_id
  before insert on public.usage_tracking
  for each row when (new.request_id is null)
  execute function public.fill_usage_request_id();

-- The app stores NULL for an agent that follows its project. Conduit's own code decides
-- from use_project_model and custom_model_id, and writes an object here.
alter table public.agents alter column model_config drop not null;

-- The start of "the last p_range before p_end" with fixed lengths: a day is 24 hours and a
-- month 30 days (PostgreSQL's own interval arithmetic would make '1 day' 23 or 25 hours
-- across a daylight-saving change in the session's time zone, and '1 month' 28 to 31 days).
create or replace function public.usage_range_start(p_end timestamptz, p_range interval)
returns timestamptz
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_end - extract(epoch from p_range)::float8 * interval '1 second'
$$;

-- As in 20261127000003, with the range measured by usage_range_start.
create or replace function public.get_usage_statistics(
  p_project_id uuid,
  p_time_range interval default interval '7 days'
)
returns table (
  model text,
  request_count bigint,
  total_tokens bigint,
  total_cost numeric,
  avg_tokens_per_request numeric
)
language sql
stable
security invoker
set search_path = ''
as $$
  select
    u.model,
    count(*)::bigint,
    coalesce(sum(u.total_tokens), 0)::bigint,
    sum(u.cost),
    round(avg(u.total_tokens), 2)
  from public.usage_tracking u
  where u.project_id = p_project_id
    and u.created_at >= public.usage_range_start(now(), p_time_range)
  group by u.model
  order by count(*) desc, u.model
$$;

-- projects.routing_stats and agents.model_stats stay the app's own: Conduit neither reads
-- nor writes them. The figures they were meant for (per model: requests, tokens, cost) are
-- computed when asked from the hourly rollup, which counts every row however it was written:
-- always current, at no cost per request, and no write to projects or agents per batch
-- (which would bump updated_at and queue the project and agent rows for the sync each
-- time). SECURITY INVOKER: through the API, row-level security limits them to the
-- caller's projects.
-- {"<model>": {"requests": n, "tokens": n, "cost": usd or null when no request had a price}}
create or replace function public.usage_model_stats(p_project_id uuid, p_agent_id uuid default null)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(s.model, jsonb_build_object(
           'requests', s.requests, 'tokens', s.tokens, 'cost', case when s.costed > 0 then s.cost end)), '{}'::jsonb)
  from (
    select r.model, sum(r.request_count) as requests, sum(r.total_tokens) as tokens,
           sum(r.cost) as cost, sum(r.costed_request_count) as costed
    from public.usage_hourly_rollup r
    where r.project_id = p_project_id
      and (p_agent_id is null or r.agent_id = p_agent_id)
    group by r.model
  ) s
$$;

-- What projects.routing_stats would hold for the project, and agents.model_stats for the agent.
create or replace function public.project_routing_stats(p_project_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select public.usage_model_stats(p_project_id)
$$;

create or replace function public.agent_model_stats(p_agent_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select public.usage_model_stats(a.project_id, a.id) from public.agents a where a.id = p_agent_id
$$;
