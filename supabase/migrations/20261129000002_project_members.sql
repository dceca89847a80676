-- Team sharing: a project's owner invites people by email; members read the project's
-- configuration, agents, usage, routing decisions and rollups, and record their own usage
-- in it; only the owner changes the project's configuration, budgets and agents.
--
-- Who is who:
-- - The owner is projects.user_id, as before. project_members mirrors it with one 'owner'
--   row per project (backfilled below, kept by a trigger), so "members" always includes
--   the owner and every membership check reads one small indexed table.
-- - usage_tracking and routing_decisions gain user_id: who made the request. It defaults
--   to auth.uid(), so a client inserting through the API (the outbox) needs not say it.
--   NULL means "the project's owner": rows from before this migration, and rows of the
--   embedded store (where auth.uid() is NULL and everything is the one person's). No
--   backfill rewrites the existing rows for this, and no foreign key: a member's rows stay
--   theirs after they leave (or their account goes).
--
-- Row-level security goes through two SECURITY DEFINER helpers that return the caller's
-- project ids (member_project_ids, owned_project_ids). Written `project_id in (select
-- public.member_project_ids())` a policy runs the helper once per statement (an
-- uncorrelated subquery), not once per row; and since the helpers read project_members
-- and projects as their owner, the policies of project_members and projects can use them
-- without recursing into themselves.
--
-- Every statement is safe to run again.

-- ---------------------------------------------------------------------------------------
-- Tables

create table if not exists public.project_members (
  project_id uuid not null references public.projects (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member',
  -- The owner who sent the accepted invitation (NULL for the owner's own row).
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (project_id, user_id),
  constraint project_members_role check (role in ('owner', 'member'))
);

-- "My projects": every policy's membership lookup starts here.
create index if not exists project_members_user_idx on public.project_members (user_id, project_id);
-- One owner row per project.
create unique index if not exists project_members_one_owner on public.project_members (project_id) where role = 'owner';

-- One invitation per (project, email address): inviting the same address again returns it
-- (renewed when it had expired or was withdrawn). Its id is not a secret: accepting needs
-- the signed-in user's own email address to be the invited one.
create table if not exists public.project_invitations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  -- Lower-cased and trimmed.
  email text not null,
  invited_by uuid references auth.users (id) on delete set null,
  -- pending → accepted, or → revoked (withdrawn by the owner, or the member was removed or left).
  -- A pending invitation past expires_at is expired: it can no longer be accepted.
  status text not null default 'pending',
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '14 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  constraint project_invitations_project_email_key unique (project_id, email),
  constraint project_invitations_status check (status in ('pending', 'accepted', 'revoked')),
  constraint project_invitations_email_normalised check (
    email = lower(btrim(email)) and length(email) between 3 and 320 and position('@' in email) > 1
  )
);

-- Acceptance on sign-in looks up the caller's address among the pending invitations.
create index if not exists project_invitations_pending_email_idx
  on public.project_invitations (email) where status = 'pending';

-- Who made each request (see the top of this file). A non-volatile default: adding the
-- column rewrites nothing, existing rows read NULL.
alter table public.usage_tracking add column if not exists user_id uuid default auth.uid();
alter table public.routing_decisions add column if not exists user_id uuid default auth.uid();

-- ---------------------------------------------------------------------------------------
-- Membership helpers (SECURITY DEFINER: they read project_members and projects without
-- row-level security, so policies on those very tables can call them)

create or replace function public.member_project_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.project_id from public.project_members m where m.user_id = (select auth.uid())
  union
  -- The owner is a member even if the mirror row were missing.
  select p.id from public.projects p where p.user_id = (select auth.uid())
$$;

create or replace function public.owned_project_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select p.id from public.projects p where p.user_id = (select auth.uid())
$$;

create or replace function public.is_project_member(p_project_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.member_project_ids() id where id = p_project_id)
$$;

create or replace function public.is_project_owner(p_project_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.projects p where p.id = p_project_id and p.user_id = (select auth.uid()))
$$;

-- The caller's email address, lower-cased, from auth.users (not from the token, which may
-- be older than an address change). On Supabase an address that is not confirmed yet
-- does not count: otherwise signing up with someone else's address would let one accept
-- their invitations. (The local shim's auth.users has no email_confirmed_at column; the
-- check reads it through to_jsonb so this function is valid on both.)
create or replace function public.caller_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select lower(btrim(u.email))
  from auth.users u
  where u.id = (select auth.uid())
    and (not (to_jsonb(u) ? 'email_confirmed_at') or to_jsonb(u) ->> 'email_confirmed_at' is not null)
$$;

-- ---------------------------------------------------------------------------------------
-- The owner's membership row: backfill, and a trigger for new projects (and for an owner
-- changed by the service role; the API cannot change projects.user_id).

create or replace function public.projects_owner_member()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    if new.user_id is not distinct from old.user_id then
      return null;
    end if;
    delete from public.project_members m
    where m.project_id = new.id and m.role = 'owner' and m.user_id <> new.user_id;
  end if;
  insert into public.project_members (project_id, user_id, role)
  values (new.id, new.user_id, 'owner')
  on conflict (project_id, user_id) do update set role = 'owner', invited_by = null;
  return null;
end
$$;

revoke execute on function public.projects_owner_member() from public, anon, authenticated;

create or replace trigger projects_owner_member
  after insert or update of user_id on public.projects
  for each row execute function public.projects_owner_member();

insert into public.project_members (project_id, user_id, role, created_at)
select p.id, p.user_id, 'owner', p.created_at from public.projects p
on conflict (project_id, user_id) do update set role = 'owner';

-- ---------------------------------------------------------------------------------------
-- Row-level security. Reads: every member of the project. Configuration (projects,
-- agents): the owner only, as before. Usage and decisions: each member writes and changes
-- only their own rows (user_id = auth.uid(); the owner also the NULL rows, which are
-- theirs); the owner may delete any of the project's rows. Rollups: written by the
-- usage triggers (as definer), readable by members; direct writes stay the owner's.

-- projects: the owner's insert, update and delete policies (20261127000005) stay.
drop policy if exists projects_select_own on public.projects;
drop policy if exists projects_select_member on public.projects;
create policy projects_select_member on public.projects
  for select to authenticated
  -- user_id first: a project just inserted is visible to its owner in RETURNING whatever
  -- the order of the membership trigger.
  using (user_id = (select auth.uid()) or id in (select public.member_project_ids()));

-- agents: members read; the owner writes.
drop policy if exists agents_select_own on public.agents;
drop policy if exists agents_select_member on public.agents;
create policy agents_select_member on public.agents
  for select to authenticated
  using (project_id in (select public.member_project_ids()));

drop policy if exists agents_insert_own on public.agents;
create policy agents_insert_own on public.agents
  for insert to authenticated
  with check (project_id in (select public.owned_project_ids()));

drop policy if exists agents_update_own on public.agents;
create policy agents_update_own on public.agents
  for update to authenticated
  using (project_id in (select public.owned_project_ids()))
  with check (project_id in (select public.owned_project_ids()));

drop policy if exists agents_delete_own on public.agents;
create policy agents_delete_own on public.agents
  for delete to authenticated
  using (project_id in (select public.owned_project_ids()));

-- usage_tracking and routing_decisions: the same rules for both.
do $$
declare
  t text;
  member text := 'project_id in (select public.member_project_ids())';
  owner text := 'project_id in (select public.owned_project_ids())';
  author text := '(user_id = (select auth.uid()) or (user_id is null and project_id in (select public.owned_project_ids())))';
begin
  foreach t in array array['usage_tracking', 'routing_decisions'] loop
    execute format('drop policy if exists %I on public.%I', t || '_select_own', t);
    execute format('drop policy if exists %I on public.%I', t || '_insert_own', t);
    execute format('drop policy if exists %I on public.%I', t || '_update_own', t);
    execute format('drop policy if exists %I on public.%I', t || '_delete_own', t);

    execute format('drop policy if exists %I on public.%I', t || '_select_member', t);
    execute format('create policy %I on public.%I for select to authenticated using (%s)',
      t || '_select_member', t, member);

    execute format('drop policy if exists %I on public.%I', t || '_insert_author', t);
    execute format('create policy %I on public.%I for insert to authenticated with check (%s and %s)',
      t || '_insert_author', t, member, author);

    execute format('drop policy if exists %I on public.%I', t || '_update_author', t);
    execute format('create policy %I on public.%I for update to authenticated using (%s and %s) with check (%s and %s)',
      t || '_update_author', t, member, author, member, author);

    execute format('drop policy if exists %I on public.%I', t || '_delete_author_or_owner', t);
    execute format('create policy %I on public.%I for delete to authenticated using (%s or (%s and user_id = (select auth.uid())))',
      t || '_delete_author_or_owner', t, owner, member);
  end loop;
end
$$;

-- Rollups: members read (their write policies, the owner's, stay).
do $$
declare
  t text;
begin
  foreach t in array array['usage_hourly_rollup', 'usage_session_rollup', 'usage_project_hourly'] loop
    execute format('drop policy if exists %I on public.%I', t || '_select_own', t);
    execute format('drop policy if exists %I on public.%I', t || '_select_member', t);
    execute format('create policy %I on public.%I for select to authenticated using (project_id in (select public.member_project_ids()))',
      t || '_select_member', t);
  end loop;
end
$$;

-- budget_alerts (20261129000001_budgets.sql): members read the project's alerts; raising
-- and acknowledging them stays the owner's. Guarded, so this file stands on its own.
do $$
begin
  if pg_catalog.to_regclass('public.budget_alerts') is not null then
    drop policy if exists budget_alerts_select_own on public.budget_alerts;
    drop policy if exists budget_alerts_select_member on public.budget_alerts;
    create policy budget_alerts_select_member on public.budget_alerts
      for select to authenticated
      using (project_id in (select public.member_project_ids()));
  end if;
end
$$;

-- project_members: members see who else is in their projects. Nobody writes it directly:
-- the functions below do (as definer), after their own checks.
alter table public.project_members enable row level security;

drop policy if exists project_members_select_member on public.project_members;
create policy project_members_select_member on public.project_members
  for select to authenticated
  using (project_id in (select public.member_project_ids()));

-- project_invitations: the owner sees the project's invitations; a signed-in person sees
-- those sent to their own (confirmed) address. Written only through the functions below.
alter table public.project_invitations enable row level security;

drop policy if exists project_invitations_select_owner_or_invitee on public.project_invitations;
create policy project_invitations_select_owner_or_invitee on public.project_invitations
  for select to authenticated
  using (project_id in (select public.owned_project_ids()) or email = (select public.caller_email()));

-- ---------------------------------------------------------------------------------------
-- Invitations and membership (RPCs). SECURITY DEFINER with an empty search_path; each
-- checks auth.uid() itself. Errors carry an SQLSTATE a client can map: 42501 not allowed
-- (or not signed in), 22023 a bad argument, P0002 nothing found, P0001 a state that forbids
-- it (expired, withdrawn).

create or replace function public.invite_project_member(p_project_id uuid, p_email text)
returns public.project_invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_email text := lower(btrim(coalesce(p_email, '')));
  v_invitation public.project_invitations;
begin
  if v_uid is null then
    raise exception 'sign in to invite members' using errcode = '42501';
  end if;
  if not exists (select 1 from public.projects p where p.id = p_project_id and p.user_id = v_uid) then
    raise exception 'only the owner of the project can invite members' using errcode = '42501';
  end if;
  if length(v_email) > 320 or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception 'not an email address: "%"', left(coalesce(p_email, ''), 80) using errcode = '22023';
  end if;
  if v_email = public.caller_email() then
    raise exception 'you own this project already' using errcode = '22023';
  end if;

  insert into public.project_invitations (project_id, email, invited_by)
  values (p_project_id, v_email, v_uid)
  on conflict (project_id, email) do nothing
  returning * into v_invitation;
  if v_invitation.id is not null then
    return v_invitation;
  end if;

  select * into v_invitation
  from public.project_invitations i
  where i.project_id = p_project_id and i.email = v_email
  for update;
  -- Still open, or accepted by someone who is still a member: the same invitation.
  if (v_invitation.status = 'pending' and v_invitation.expires_at > now())
     or (v_invitation.status = 'accepted' and exists (
       select 1 from public.project_members m
       where m.project_id = p_project_id and m.user_id = v_invitation.accepted_by)) then
    return v_invitation;
  end if;
  -- Expired, withdrawn, or its member has left: invite again.
  update public.project_invitations i
  set status = 'pending', invited_by = v_uid, created_at = now(), expires_at = now() + interval '14 days',
      accepted_at = null, accepted_by = null
  where i.id = v_invitation.id
  returning * into v_invitation;
  return v_invitation;
end
$$;

create or replace function public.accept_project_invitation(p_invitation_id uuid)
returns public.project_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_email text := public.caller_email();
  v_invitation public.project_invitations;
  v_member public.project_members;
begin
  if v_uid is null then
    raise exception 'sign in to accept an invitation' using errcode = '42501';
  end if;
  select * into v_invitation from public.project_invitations i where i.id = p_invitation_id for update;
  if v_invitation.id is null then
    raise exception 'no such invitation' using errcode = 'P0002';
  end if;
  if v_email is null or v_invitation.email <> v_email then
    raise exception 'this invitation was sent to another email address (sign in with that address, confirmed, to accept it)'
      using errcode = '42501';
  end if;
  if v_invitation.status = 'revoked' then
    raise exception 'this invitation was withdrawn; ask the project''s owner to invite you again' using errcode = 'P0001';
  end if;
  if v_invitation.status = 'accepted' then
    select * into v_member from public.project_members m
    where m.project_id = v_invitation.project_id and m.user_id = v_uid;
    if v_member.user_id is not null then
      return v_member;
    end if;
    raise exception 'this invitation was already used; ask the project''s owner to invite you again' using errcode = 'P0001';
  end if;
  if v_invitation.expires_at <= now() then
    raise exception 'this invitation expired at %; ask the project''s owner to invite you again', v_invitation.expires_at
      using errcode = 'P0001';
  end if;

  insert into public.project_members (project_id, user_id, role, invited_by)
  values (v_invitation.project_id, v_uid, 'member', v_invitation.invited_by)
  on conflict (project_id, user_id) do nothing;
  update public.project_invitations i
  set status = 'accepted', accepted_at = now(), accepted_by = v_uid
  where i.id = v_invitation.id;
  select * into v_member from public.project_members m
  where m.project_id = v_invitation.project_id and m.user_id = v_uid;
  return v_member;
end
$$;

-- Acceptance on sign-in: every open invitation sent to the caller's confirmed address.
create or replace function public.accept_pending_invitations()
returns setof public.project_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text := public.caller_email();
  v_id uuid;
begin
  if auth.uid() is null then
    raise exception 'sign in to accept invitations' using errcode = '42501';
  end if;
  if v_email is null then
    return;
  end if;
  for v_id in
    select i.id from public.project_invitations i
    where i.email = v_email and i.status = 'pending' and i.expires_at > now()
    order by i.created_at
  loop
    return next public.accept_project_invitation(v_id);
  end loop;
end
$$;

-- The owner withdraws an invitation that has not been accepted.
create or replace function public.revoke_project_invitation(p_invitation_id uuid)
returns public.project_invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.project_invitations;
begin
  select * into v_invitation from public.project_invitations i where i.id = p_invitation_id for update;
  if v_invitation.id is null or not public.is_project_owner(v_invitation.project_id) then
    -- The same answer whether it does not exist or is not the caller's to see.
    raise exception 'no such invitation of a project you own' using errcode = 'P0002';
  end if;
  if v_invitation.status = 'accepted' then
    raise exception 'this invitation was accepted; remove the member instead' using errcode = 'P0001';
  end if;
  update public.project_invitations i set status = 'revoked' where i.id = v_invitation.id
  returning * into v_invitation;
  return v_invitation;
end
$$;

-- The owner removes a member. Their usage rows stay in the project (they happened there);
-- their reads end with the membership. True when a member was removed, false when the
-- user was not a member (removing twice is fine).
create or replace function public.remove_project_member(p_project_id uuid, p_user_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_removed boolean;
begin
  if auth.uid() is null then
    raise exception 'sign in to remove members' using errcode = '42501';
  end if;
  if not public.is_project_owner(p_project_id) then
    raise exception 'only the owner of the project can remove members' using errcode = '42501';
  end if;
  if exists (select 1 from public.projects p where p.id = p_project_id and p.user_id = p_user_id) then
    raise exception 'the owner cannot be removed from their own project' using errcode = '22023';
  end if;
  delete from public.project_members m
  where m.project_id = p_project_id and m.user_id = p_user_id and m.role = 'member';
  v_removed := found;
  -- So that signing in again does not bring them back.
  update public.project_invitations i set status = 'revoked'
  where i.project_id = p_project_id and i.status <> 'revoked'
    and (i.accepted_by = p_user_id
         or i.email = (select lower(btrim(u.email)) from auth.users u where u.id = p_user_id));
  return v_removed;
end
$$;

-- A member leaves a project. The owner cannot (they delete the project instead).
create or replace function public.leave_project(p_project_id uuid)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_left boolean;
begin
  if v_uid is null then
    raise exception 'sign in to leave a project' using errcode = '42501';
  end if;
  if exists (select 1 from public.projects p where p.id = p_project_id and p.user_id = v_uid) then
    raise exception 'the owner cannot leave their own project' using errcode = '22023';
  end if;
  delete from public.project_members m
  where m.project_id = p_project_id and m.user_id = v_uid and m.role = 'member';
  v_left := found;
  update public.project_invitations i set status = 'revoked'
  where i.project_id = p_project_id and i.accepted_by = v_uid and i.status = 'accepted';
  return v_left;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Who is in a project, and the projects one can see: with each member's email address and
-- a display name, to the project's members only. auth.users itself stays out of the API's
-- reach; these return only the address and a name, never the rest of the row.

create or replace function public.list_project_members(p_project_id uuid)
returns table (
  user_id uuid,
  email text,
  display_name text,
  role text,
  invited_by uuid,
  joined_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select m.user_id, u.email,
    coalesce(
      nullif(btrim(to_jsonb(u) -> 'raw_user_meta_data' ->> 'full_name'), ''),
      nullif(btrim(to_jsonb(u) -> 'raw_user_meta_data' ->> 'name'), ''),
      split_part(u.email, '@', 1)
    ),
    m.role, m.invited_by, m.created_at
  from public.project_members m
  left join auth.users u on u.id = m.user_id
  where m.project_id = p_project_id
    and p_project_id in (select public.member_project_ids())
  order by (m.role = 'owner') desc, m.created_at, m.user_id
$$;

create or replace function public.list_team_projects()
returns table (
  project_id uuid,
  name text,
  workspace_key text,
  role text,
  owner_id uuid,
  owner_email text,
  member_count bigint,
  created_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select p.id, p.name, p.workspace_key,
    case when p.user_id = (select auth.uid()) then 'owner' else 'member' end,
    p.user_id, o.email,
    (select count(*) from public.project_members m where m.project_id = p.id),
    p.created_at
  from public.projects p
  left join auth.users o on o.id = p.user_id
  where p.id in (select public.member_project_ids())
  order by (p.user_id = (select auth.uid())) desc, p.name, p.id
$$;

-- ---------------------------------------------------------------------------------------
-- Team analytics: a project's usage in [p_from, p_to) per member (p_scope 'team'), or the
-- caller's own row only ('own'). SECURITY INVOKER: row-level security limits it to the
-- projects the caller is a member of (anyone else gets no rows). Current members without
-- usage appear with zeros; people who made requests and are no longer members appear
-- without email and name. cost sums the known costs; costed_request_count says how many
-- requests had one (see the hourly rollup). The rows of 'team' add up to the project.

create or replace function public.get_team_usage(
  p_project_id uuid,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_scope text default 'team'
)
returns table (
  user_id uuid,
  email text,
  display_name text,
  role text,
  is_caller boolean,
  request_count bigint,
  error_count bigint,
  input_tokens bigint,
  output_tokens bigint,
  total_tokens bigint,
  cache_creation_tokens bigint,
  cache_read_tokens bigint,
  cost numeric,
  costed_request_count bigint,
  first_at timestamptz,
  last_at timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if p_scope is null or p_scope not in ('own', 'team') then
    raise exception 'scope: expected own or team, got "%"', left(coalesce(p_scope, 'null'), 40) using errcode = '22023';
  end if;
  return query
  with proj as (
    select p.id, p.user_id as owner_id from public.projects p where p.id = p_project_id
  ),
  used as (
    select coalesce(u.user_id, proj.owner_id) as who,
      count(*)::bigint as request_count,
      count(*) filter (where u.error is not null or coalesce(u.status, 200) >= 400)::bigint as error_count,
      coalesce(sum(u.input_tokens), 0)::bigint as input_tokens,
      coalesce(sum(u.output_tokens), 0)::bigint as output_tokens,
      coalesce(sum(u.total_tokens), 0)::bigint as total_tokens,
      coalesce(sum(u.cache_creation_tokens), 0)::bigint as cache_creation_tokens,
      coalesce(sum(u.cache_read_tokens), 0)::bigint as cache_read_tokens,
      coalesce(sum(u.cost), 0)::numeric as cost,
      count(u.cost)::bigint as costed_request_count,
      min(u.created_at) as first_at,
      max(u.created_at) as last_at
    from public.usage_tracking u
    join proj on u.project_id = proj.id
    where u.created_at >= coalesce(p_from, '-infinity'::timestamptz)
      and u.created_at < coalesce(p_to, 'infinity'::timestamptz)
    group by 1
  ),
  members as (
    select * from public.list_project_members(p_project_id)
  )
  select coalesce(m.user_id, x.who), m.email, m.display_name, m.role,
    coalesce(m.user_id, x.who) = v_uid,
    coalesce(x.request_count, 0), coalesce(x.error_count, 0),
    coalesce(x.input_tokens, 0), coalesce(x.output_tokens, 0), coalesce(x.total_tokens, 0),
    coalesce(x.cache_creation_tokens, 0), coalesce(x.cache_read_tokens, 0),
    coalesce(x.cost, 0), coalesce(x.costed_request_count, 0),
    x.first_at, x.last_at
  from used x
  full join members m on m.user_id = x.who
  where p_scope = 'team' or coalesce(m.user_id, x.who) = v_uid
  order by coalesce(x.cost, 0) desc, coalesce(x.request_count, 0) desc, m.email nulls last, 1;
end
$$;
