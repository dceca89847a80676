-- What conduit-claude tells of a session beside its requests, and an index of the requests
-- that failed.
--
-- usage_session_info: one row per conduit-claude run (Conduit's session id), with claude's
-- own session id once claude named it, and an excerpt of the first prompt the run passed to
-- claude (at most 160 characters, whitespace collapsed; the gateway cuts it). The sessions
-- view finds a session's first prompt by its key, coalesce(claude_session_id, session_id) of
-- its usage rows (20261203000001): by claude's id, else by Conduit's. The person's own rows
-- only (user_id); nothing here is shared with a team.
--
-- usage_tracking_failed_created_idx: the summary counts failed requests by the status they
-- ended with, and refused ones apart. The rollups count errors but keep neither status nor
-- cost source, so those counts read usage rows; this partial index holds only the failed
-- and refused ones (a few in a hundred), so a month's count reads those alone.
--
-- Every statement is safe to run again.

create table if not exists public.usage_session_info (
  session_id text primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  claude_session_id text,
  first_prompt text check (char_length(first_prompt) <= 160),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on column public.usage_session_info.session_id is
  'Conduit''s id of the conduit-claude run (usage_tracking.session_id).';
comment on column public.usage_session_info.first_prompt is
  'At most 160 characters of the first prompt the run passed to claude, whitespace collapsed.';

create index if not exists usage_session_info_claude_idx
  on public.usage_session_info (claude_session_id)
  where claude_session_id is not null;

create index if not exists usage_tracking_failed_created_idx
  on public.usage_tracking (created_at)
  where (error is not null or coalesce(status, 200) >= 400 or cost_source = 'refused');

-- Row-level security: a person reads and writes their own sessions' rows only.
alter table public.usage_session_info enable row level security;

drop policy if exists usage_session_info_select_own on public.usage_session_info;
create policy usage_session_info_select_own on public.usage_session_info
  for select to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists usage_session_info_insert_own on public.usage_session_info;
create policy usage_session_info_insert_own on public.usage_session_info
  for insert to authenticated
  with check (user_id = (select auth.uid()));

drop policy if exists usage_session_info_update_own on public.usage_session_info;
create policy usage_session_info_update_own on public.usage_session_info
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

drop policy if exists usage_session_info_delete_own on public.usage_session_info;
create policy usage_session_info_delete_own on public.usage_session_info
  for delete to authenticated
  using (user_id = (select auth.uid()));
