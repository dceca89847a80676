-- Usage of one project over the last p_time_range, per model, most requests first.
-- SECURITY INVOKER: through the API, row-level security limits it to the caller's projects.
-- total_cost sums the known costs; it is NULL when no request of that model had a price.

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
    and u.created_at >= now() - p_time_range
  group by u.model
  order by count(*) desc, u.model
$$;
