-- Projects (one per VS Code workspace folder and user) and their agents.
-- Every statement is safe to run again. Needs Supabase's auth schema and roles (on plain
-- PostgreSQL and PGlite: supabase/local/00_supabase_shim.sql first).

create or replace function public.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create table if not exists public.projects (
  id uuid primary key default gen_random_uuid(),
  -- Defaults to the signed-in user, so a client inserting through the API needs not say it.
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null,
  -- Stable key of a VS Code workspace folder; one project per folder and user.
  workspace_key text not null,
  model_config jsonb not null default '{"enabled": true, "defaultModel": "claude-sonnet-5-5"}'::jsonb,
  routing_stats jsonb not null default '{}'::jsonb,
  -- USD; NULL means no budget.
  daily_budget_usd numeric,
  monthly_budget_usd numeric,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_user_workspace_key unique (user_id, workspace_key),
  constraint projects_budgets_nonnegative check (
    (daily_budget_usd is null or daily_budget_usd >= 0)
    and (monthly_budget_usd is null or monthly_budget_usd >= 0)
  )
);

create or replace trigger projects_set_updated_at
  before update on public.projects
  for each row execute function public.set_updated_at();

create table if not exists public.agents (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  name text not null,
  persona_type text,
  -- When true the agent follows the project's model configuration; otherwise its own.
  use_project_model boolean not null default true,
  custom_model_id text,
  model_config jsonb not null default '{}'::jsonb,
  model_stats jsonb not null default '{}'::jsonb,
  daily_budget_usd numeric,
  monthly_budget_usd numeric,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Target of the (agent_id, project_id) foreign keys that keep a usage row's agent in
  -- the usage row's project.
  constraint agents_id_project_key unique (id, project_id),
  constraint agents_budgets_nonnegative check (
    (daily_budget_usd is null or daily_budget_usd >= 0)
    and (monthly_budget_usd is null or monthly_budget_usd >= 0)
  )
);

create index if not exists agents_project_id_idx on public.agents (project_id);

create or replace trigger agents_set_updated_at
  before update on public.agents
  for each row execute function public.set_updated_at();
