-- The models a session asked for and was routed to, kept as a rollup like the session
-- rollup: the sessions view lists each session's (requested_model → model) pairs with their
-- request counts from a few rows per session instead of reading every usage row of every
-- session on the page.
--
-- One row per (project, session, agent, requested_model, model), the session being
-- coalesce(claude_session_id, session_id) as in usage_session_rollup (20261203000001);
-- rows with neither id are not counted here. Kept exact by statement-level triggers on
-- usage_tracking (inserts add, deletes subtract, updates do both, keys reaching 0 go,
-- TRUNCATE empties it). No foreign keys, for the same reason as the other rollups: the
-- cascades of usage_tracking reach this table through its triggers.
--
-- Every statement is safe to run again.

create table if not exists public.usage_session_model_rollup (
  project_id uuid,
  session_id text not null,
  agent_id uuid,
  requested_model text,
  model text not null,
  request_count bigint not null default 0
);

comment on column public.usage_session_model_rollup.session_id is
  'The session''s id: coalesce(claude_session_id, session_id) of its usage rows, as in usage_session_rollup.';

create unique index if not exists usage_session_model_rollup_key
  on public.usage_session_model_rollup (session_id, project_id, agent_id, requested_model, model)
  nulls not distinct;

create or replace function public.usage_tracking_apply_session_model_rollup()
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
    insert into public.usage_session_model_rollup as r (
      project_id, session_id, agent_id, requested_model, model, request_count)
    select project_id, session_id, agent_id, requested_model, model, request_count
    from (
      select c.project_id, coalesce(c.claude_session_id, c.session_id) as session_id, c.agent_id,
        c.requested_model, c.model, sum(c.sign) as request_count
      from (%s) c
      where coalesce(c.claude_session_id, c.session_id) is not null
      group by 1, 2, 3, 4, 5
    ) d
    where d.request_count <> 0
    order by session_id, project_id, agent_id, requested_model, model
    on conflict (session_id, project_id, agent_id, requested_model, model) do update set
      request_count = r.request_count + excluded.request_count
  $sql$, changes);

  if tg_op <> 'INSERT' then
    -- Keys that lost rows: drop the empty ones.
    execute $sql$
      delete from public.usage_session_model_rollup r
      using (
        select distinct project_id, coalesce(claude_session_id, session_id) as session_id, agent_id, requested_model, model
          from old_rows where coalesce(claude_session_id, session_id) is not null
      ) k
      where r.request_count = 0
        and r.session_id = k.session_id
        and r.project_id is not distinct from k.project_id
        and r.agent_id is not distinct from k.agent_id
        and r.requested_model is not distinct from k.requested_model
        and r.model = k.model
    $sql$;
  end if;
  return null;
end
$fn$;

create or replace function public.usage_tracking_truncate_session_model_rollup()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  truncate public.usage_session_model_rollup;
  return null;
end
$$;

create or replace trigger usage_tracking_session_model_rollup_insert
  after insert on public.usage_tracking
  referencing new table as new_rows
  for each statement execute function public.usage_tracking_apply_session_model_rollup();

create or replace trigger usage_tracking_session_model_rollup_update
  after update on public.usage_tracking
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.usage_tracking_apply_session_model_rollup();

create or replace trigger usage_tracking_session_model_rollup_delete
  after delete on public.usage_tracking
  referencing old table as old_rows
  for each statement execute function public.usage_tracking_apply_session_model_rollup();

create or replace trigger usage_tracking_session_model_rollup_truncate
  after truncate on public.usage_tracking
  for each statement execute function public.usage_tracking_truncate_session_model_rollup();

-- Recomputes the whole rollup from usage_tracking (repairs, and the rows that existed
-- before this migration). Blocks writers of usage_tracking meanwhile.
create or replace function public.rebuild_usage_session_model_rollup()
returns void
language plpgsql
set search_path = ''
as $$
begin
  lock table public.usage_tracking in share mode;
  truncate public.usage_session_model_rollup;
  insert into public.usage_session_model_rollup (
    project_id, session_id, agent_id, requested_model, model, request_count)
  select u.project_id, coalesce(u.claude_session_id, u.session_id), u.agent_id, u.requested_model, u.model, count(*)
  from public.usage_tracking u
  where coalesce(u.claude_session_id, u.session_id) is not null
  group by 1, 2, 3, 4, 5;
end
$$;

revoke execute on function public.rebuild_usage_session_model_rollup() from public, anon, authenticated;

-- The rows recorded so far.
select public.rebuild_usage_session_model_rollup();

-- Row-level security as on usage_session_rollup (20261128000002, 20261129000002): members
-- of a project read its rows; direct writes are the project owner's (the triggers write
-- as definer).
alter table public.usage_session_model_rollup enable row level security;

drop policy if exists usage_session_model_rollup_select_member on public.usage_session_model_rollup;
create policy usage_session_model_rollup_select_member on public.usage_session_model_rollup
  for select to authenticated
  using (project_id in (select public.member_project_ids()));

drop policy if exists usage_session_model_rollup_insert_own on public.usage_session_model_rollup;
create policy usage_session_model_rollup_insert_own on public.usage_session_model_rollup
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_session_model_rollup_update_own on public.usage_session_model_rollup;
create policy usage_session_model_rollup_update_own on public.usage_session_model_rollup
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_session_model_rollup_delete_own on public.usage_session_model_rollup;
create policy usage_session_model_rollup_delete_own on public.usage_session_model_rollup
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));
