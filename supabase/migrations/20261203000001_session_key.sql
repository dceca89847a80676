-- A session is known by one id on every surface: Claude Code's own session id
-- (claude_session_id, which claude sends in x-claude-code-session-id and prints in its output),
-- or Conduit's (session_id, one conduit-claude run) where claude sent none. The session rollup
-- is keyed by that id from now on, so a person finds the session their terminal named; a
-- claude session resumed in several conduit-claude runs is one session.
--
-- usage_session_rollup.session_id holds coalesce(claude_session_id, session_id); the
-- analytics and reports read usage rows by the same expression, through the index below.

create index if not exists usage_tracking_session_key_created_idx
  on public.usage_tracking ((coalesce(claude_session_id, session_id)), created_at desc)
  where coalesce(claude_session_id, session_id) is not null;

comment on column public.usage_session_rollup.session_id is
  'The session''s id: coalesce(claude_session_id, session_id) of its usage rows.';

create or replace function public.usage_tracking_apply_session_rollup()
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
    insert into public.usage_session_rollup as r (
      project_id, session_id, agent_id, first_at, last_at,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_read_tokens, cost, costed_request_count, duration_ms)
    select project_id, session_id, agent_id, first_at, last_at,
      request_count, error_count, input_tokens, output_tokens, total_tokens,
      cache_creation_tokens, cache_read_tokens, cost, costed_request_count, duration_ms
    from (
      select
        c.project_id, coalesce(c.claude_session_id, c.session_id) as session_id, c.agent_id,
        -- Keys that only lose rows get placeholders here; they are recomputed below.
        coalesce(min(c.created_at) filter (where c.sign = 1), min(c.created_at)) as first_at,
        coalesce(max(c.created_at) filter (where c.sign = 1), max(c.created_at)) as last_at,
        sum(c.sign) as request_count,
        sum(c.sign * (c.error is not null or coalesce(c.status, 200) >= 400)::int) as error_count,
        sum(c.sign * c.input_tokens::bigint) as input_tokens,
        sum(c.sign * c.output_tokens::bigint) as output_tokens,
        sum(c.sign * c.total_tokens::bigint) as total_tokens,
        sum(c.sign * c.cache_creation_tokens::bigint) as cache_creation_tokens,
        sum(c.sign * c.cache_read_tokens::bigint) as cache_read_tokens,
        coalesce(sum(c.sign * c.cost), 0) as cost,
        sum(c.sign * (c.cost is not null)::int) as costed_request_count,
        coalesce(sum(c.sign * c.duration_ms::bigint), 0) as duration_ms
      from (%s) c
      where coalesce(c.claude_session_id, c.session_id) is not null
      group by 1, 2, 3
    ) d
    order by project_id, session_id, agent_id
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
  $sql$, changes);

  if tg_op <> 'INSERT' then
    -- Keys that lost rows: drop the empty ones, recompute first_at / last_at of the rest.
    execute $sql$
      delete from public.usage_session_rollup r
      using (
        select distinct project_id, coalesce(claude_session_id, session_id) as session_id, agent_id
          from old_rows where coalesce(claude_session_id, session_id) is not null
      ) k
      where r.request_count = 0
        and r.project_id is not distinct from k.project_id
        and r.session_id = k.session_id
        and r.agent_id is not distinct from k.agent_id
    $sql$;
    execute $sql$
      update public.usage_session_rollup r
      set first_at = m.first_at, last_at = m.last_at
      from (
        select k.project_id, k.session_id, k.agent_id, min(u.created_at) as first_at, max(u.created_at) as last_at
        from (
          select distinct project_id, coalesce(claude_session_id, session_id) as session_id, agent_id
          from old_rows where coalesce(claude_session_id, session_id) is not null
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
        and (r.first_at, r.last_at) is distinct from (m.first_at, m.last_at)
    $sql$;
  end if;
  return null;
end
$fn$;

create or replace function public.rebuild_usage_session_rollup()
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table public.usage_tracking in share mode;
  truncate public.usage_session_rollup;
  insert into public.usage_session_rollup (
    project_id, session_id, agent_id, first_at, last_at,
    request_count, error_count, input_tokens, output_tokens, total_tokens,
    cache_creation_tokens, cache_read_tokens, cost, costed_request_count, duration_ms)
  select
    u.project_id, coalesce(u.claude_session_id, u.session_id), u.agent_id, min(u.created_at), max(u.created_at),
    count(*),
    count(*) filter (where u.error is not null or coalesce(u.status, 200) >= 400),
    coalesce(sum(u.input_tokens), 0), coalesce(sum(u.output_tokens), 0),
    coalesce(sum(u.total_tokens), 0), coalesce(sum(u.cache_creation_tokens), 0),
    coalesce(sum(u.cache_read_tokens), 0), coalesce(sum(u.cost), 0), count(u.cost),
    coalesce(sum(u.duration_ms), 0)
  from public.usage_tracking u
  where coalesce(u.claude_session_id, u.session_id) is not null
  group by 1, 2, 3;
end
$$;

revoke execute on function public.rebuild_usage_session_rollup() from public, anon, authenticated;

-- The rows recorded so far, under their new keys.
select public.rebuild_usage_session_rollup();
