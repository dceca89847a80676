-- Row-level security on every table and every verb: a signed-in user (role
-- authenticated) reads and writes only rows of projects they own
-- (projects.user_id = auth.uid()). anon gets no policy, so it sees and writes nothing.
-- service_role (Supabase's server key) and the local store's owner bypass RLS.
--
-- (select auth.uid()) rather than auth.uid(): evaluated once per statement instead of
-- once per row (Supabase's RLS performance advice). The ownership subquery on projects
-- uses projects_user_workspace_key (user_id first) as its index.
-- Policies are dropped and created again, so this file is safe to run again.

alter table public.projects enable row level security;

drop policy if exists projects_select_own on public.projects;
create policy projects_select_own on public.projects
  for select to authenticated
  using (user_id = (select auth.uid()));

drop policy if exists projects_insert_own on public.projects;
create policy projects_insert_own on public.projects
  for insert to authenticated
  with check (user_id = (select auth.uid()));

drop policy if exists projects_update_own on public.projects;
create policy projects_update_own on public.projects
  for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));

drop policy if exists projects_delete_own on public.projects;
create policy projects_delete_own on public.projects
  for delete to authenticated
  using (user_id = (select auth.uid()));

alter table public.agents enable row level security;

drop policy if exists agents_select_own on public.agents;
create policy agents_select_own on public.agents
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists agents_insert_own on public.agents;
create policy agents_insert_own on public.agents
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists agents_update_own on public.agents;
create policy agents_update_own on public.agents
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists agents_delete_own on public.agents;
create policy agents_delete_own on public.agents
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

alter table public.usage_tracking enable row level security;

drop policy if exists usage_tracking_select_own on public.usage_tracking;
create policy usage_tracking_select_own on public.usage_tracking
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_tracking_insert_own on public.usage_tracking;
create policy usage_tracking_insert_own on public.usage_tracking
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_tracking_update_own on public.usage_tracking;
create policy usage_tracking_update_own on public.usage_tracking
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_tracking_delete_own on public.usage_tracking;
create policy usage_tracking_delete_own on public.usage_tracking
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

alter table public.routing_decisions enable row level security;

drop policy if exists routing_decisions_select_own on public.routing_decisions;
create policy routing_decisions_select_own on public.routing_decisions
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists routing_decisions_insert_own on public.routing_decisions;
create policy routing_decisions_insert_own on public.routing_decisions
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists routing_decisions_update_own on public.routing_decisions;
create policy routing_decisions_update_own on public.routing_decisions
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists routing_decisions_delete_own on public.routing_decisions;
create policy routing_decisions_delete_own on public.routing_decisions
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

alter table public.usage_hourly_rollup enable row level security;

drop policy if exists usage_hourly_rollup_select_own on public.usage_hourly_rollup;
create policy usage_hourly_rollup_select_own on public.usage_hourly_rollup
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_hourly_rollup_insert_own on public.usage_hourly_rollup;
create policy usage_hourly_rollup_insert_own on public.usage_hourly_rollup
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_hourly_rollup_update_own on public.usage_hourly_rollup;
create policy usage_hourly_rollup_update_own on public.usage_hourly_rollup
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists usage_hourly_rollup_delete_own on public.usage_hourly_rollup;
create policy usage_hourly_rollup_delete_own on public.usage_hourly_rollup
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));
