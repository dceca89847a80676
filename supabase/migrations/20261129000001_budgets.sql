-- Budget policies beside the budget amounts (projects/agents.daily_budget_usd and
-- monthly_budget_usd), and the budget alerts raised, so each is raised once per budget,
-- threshold and period, across gateway restarts (src/protocol/budgets.ts).
-- Every statement is safe to run again.

-- Percent of a budget past which requests go to a cheaper model, that model (NULL: the
-- cheapest model the project's configuration names), and the percent past which requests
-- are refused. NULL means off.
alter table public.projects add column if not exists budget_soft_limit_percent numeric;
alter table public.projects add column if not exists budget_soft_limit_model text;
alter table public.projects add column if not exists budget_hard_limit_percent numeric;
alter table public.agents add column if not exists budget_soft_limit_percent numeric;
alter table public.agents add column if not exists budget_soft_limit_model text;
alter table public.agents add column if not exists budget_hard_limit_percent numeric;

do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_constraint
    where conrelid = 'public.projects'::regclass and conname = 'projects_budget_limits_valid'
  ) then
    alter table public.projects add constraint projects_budget_limits_valid check (
      (budget_soft_limit_percent is null or (budget_soft_limit_percent > 0 and budget_soft_limit_percent <= 1000))
      and (budget_hard_limit_percent is null or (budget_hard_limit_percent > 0 and budget_hard_limit_percent <= 1000))
    );
  end if;
  if not exists (
    select 1 from pg_catalog.pg_constraint
    where conrelid = 'public.agents'::regclass and conname = 'agents_budget_limits_valid'
  ) then
    alter table public.agents add constraint agents_budget_limits_valid check (
      (budget_soft_limit_percent is null or (budget_soft_limit_percent > 0 and budget_soft_limit_percent <= 1000))
      and (budget_hard_limit_percent is null or (budget_hard_limit_percent > 0 and budget_hard_limit_percent <= 1000))
    );
  end if;
end
$$;

-- One row per alert raised. alert_id is the stable id (budgetAlertId: scope, project key,
-- agent, period, period start, threshold or "forecast"), unique per project. A threshold
-- passed over (a lower one reached in the same step as a higher one) is recorded as
-- acknowledged at once, so it is never shown.
create table if not exists public.budget_alerts (
  id uuid primary key default gen_random_uuid(),
  alert_id text not null,
  project_id uuid not null references public.projects (id) on delete cascade,
  -- NULL for a project's budget.
  agent_id uuid references public.agents (id) on delete cascade,
  scope text not null,
  period text not null,
  period_start timestamptz not null,
  period_end timestamptz not null,
  kind text not null,
  threshold integer,
  -- The BudgetStatus when the alert was raised, and the sentence shown.
  status jsonb not null,
  message text not null,
  created_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  constraint budget_alerts_project_alert_key unique (project_id, alert_id),
  constraint budget_alerts_scope_valid check (scope in ('project', 'agent')),
  constraint budget_alerts_period_valid check (period in ('daily', 'monthly')),
  constraint budget_alerts_kind_valid check (
    (kind = 'threshold' and threshold in (50, 80, 100)) or (kind = 'forecast' and threshold is null)
  )
);

-- The alerts of the current periods (loaded at start) and those not yet acknowledged.
create index if not exists budget_alerts_period_end_idx on public.budget_alerts (period_end);
create index if not exists budget_alerts_unacknowledged_idx
  on public.budget_alerts (created_at) where acknowledged_at is null;
create index if not exists budget_alerts_agent_idx on public.budget_alerts (agent_id) where agent_id is not null;

-- Row-level security as on every table: a signed-in user reads and writes only the alerts
-- of projects they own.
alter table public.budget_alerts enable row level security;

drop policy if exists budget_alerts_select_own on public.budget_alerts;
create policy budget_alerts_select_own on public.budget_alerts
  for select to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists budget_alerts_insert_own on public.budget_alerts;
create policy budget_alerts_insert_own on public.budget_alerts
  for insert to authenticated
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists budget_alerts_update_own on public.budget_alerts;
create policy budget_alerts_update_own on public.budget_alerts
  for update to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())))
  with check (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));

drop policy if exists budget_alerts_delete_own on public.budget_alerts;
create policy budget_alerts_delete_own on public.budget_alerts
  for delete to authenticated
  using (project_id in (select p.id from public.projects p where p.user_id = (select auth.uid())));
