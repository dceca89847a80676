-- Adopts the tables the Synapse app may already have, so that the migrations after this
-- one find them in the shape they create, with their rows kept:
-- - the app's own projects and agents (a user's projects, their agents with a persona
--   type), before the app's Conduit migration ran;
-- - the app's Conduit migration (its guide's 20250115_add_conduit_integration.sql): the
--   model columns on projects and agents, usage_tracking and routing_decisions with fewer
--   columns and stricter NOT NULLs, get_usage_statistics, and four policies.
-- On an empty database every statement here does nothing (the next migration creates the
-- tables), and so on a database these migrations built.
--
-- Why a migration before the first one rather than edits to it: applied migrations must
-- not change (the local store's runner refuses a file whose checksum changed since it was
-- applied), and 20261127000002 cannot run on the app's tables (its foreign key
-- (agent_id, project_id) needs agents_id_project_key; its indexes name columns the guide's
-- usage_tracking lacks). A store migrated before this file existed gets it applied last,
-- where it changes nothing. (The Supabase CLI asks for `db push --include-all` to apply a
-- file older than the last one applied.)
--
-- Every statement is safe to run again.

-- The keys of rows written without one (the app's): derived from the row's id, so they
-- are as unique as the id. A workspace key is a folder's key or the app's project id
-- (SYNAPSE_PROJECT_ID): the prefix keeps a project's own key apart from both.
create or replace function public.default_workspace_key(p_project_id uuid)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select 'project:' || p_project_id::text
$$;

-- The gateway's request ids are random UUIDs too: a row's own id is one more.
create or replace function public.default_request_id(p_usage_id uuid)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_usage_id::text
$$;

-- ---------------------------------------------------------------------------------------
-- projects

alter table if exists public.projects
  add column if not exists workspace_key text,
  add column if not exists model_config jsonb,
  add column if not exists routing_stats jsonb,
  add column if not exists daily_budget_usd numeric,
  add column if not exists monthly_budget_usd numeric,
  add column if not exists updated_at timestamptz;

do $$
begin
  if to_regclass('public.projects') is null then
    return;
  end if;
  -- A project the app made has no workspace key: one from its id, as a project inserted
  -- without one gets (20261205100001).
  update public.projects set workspace_key = public.default_workspace_key(id) where workspace_key is null;
  update public.projects
  set model_config = coalesce(model_config, '{"enabled": true, "defaultModel": "claude-sonnet-5-5"}'::jsonb),
      routing_stats = coalesce(routing_stats, '{}'::jsonb),
      created_at = coalesce(created_at, now()),
      updated_at = coalesce(updated_at, created_at, now())
  where model_config is null or routing_stats is null or created_at is null or updated_at is null;

  alter table public.projects
    alter column user_id set default auth.uid(),
    alter column workspace_key set not null,
    alter column model_config set default '{"enabled": true, "defaultModel": "claude-sonnet-5-5"}'::jsonb,
    alter column model_config set not null,
    alter column routing_stats set default '{}'::jsonb,
    alter column routing_stats set not null,
    alter column created_at set default now(),
    alter column created_at set not null,
    alter column updated_at set default now(),
    alter column updated_at set not null;

  if not exists (select 1 from pg_constraint where conrelid = 'public.projects'::regclass and conname = 'projects_user_id_fkey') then
    alter table public.projects
      add constraint projects_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade;
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.projects'::regclass and conname = 'projects_user_workspace_key') then
    alter table public.projects add constraint projects_user_workspace_key unique (user_id, workspace_key);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.projects'::regclass and conname = 'projects_budgets_nonnegative') then
    alter table public.projects add constraint projects_budgets_nonnegative check (
      (daily_budget_usd is null or daily_budget_usd >= 0)
      and (monthly_budget_usd is null or monthly_budget_usd >= 0)
    );
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------
-- agents

alter table if exists public.agents
  add column if not exists persona_type text,
  add column if not exists use_project_model boolean,
  add column if not exists custom_model_id text,
  add column if not exists model_config jsonb,
  add column if not exists model_stats jsonb,
  add column if not exists daily_budget_usd numeric,
  add column if not exists monthly_budget_usd numeric,
  add column if not exists updated_at timestamptz;

do $$
begin
  if to_regclass('public.agents') is null then
    return;
  end if;
  update public.agents
  set use_project_model = coalesce(use_project_model, true),
      model_stats = coalesce(model_stats, '{}'::jsonb),
      created_at = coalesce(created_at, now()),
      updated_at = coalesce(updated_at, created_at, now())
  where use_project_model is null or model_stats is null or created_at is null or updated_at is null;

  alter table public.agents
    alter column use_project_model set default true,
    alter column use_project_model set not null,
    -- NULL model_config: the agent uses its project's (the app writes it so; 20261205100001).
    alter column model_config set default '{}'::jsonb,
    alter column model_stats set default '{}'::jsonb,
    alter column model_stats set not null,
    alter column created_at set default now(),
    alter column created_at set not null,
    alter column updated_at set default now(),
    alter column updated_at set not null;

  -- An agent of no project cannot be given one here: the column stays nullable then (and
  -- such an agent records nothing: usage rows name its project too).
  if not exists (select 1 from public.agents where project_id is null) then
    alter table public.agents alter column project_id set not null;
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.agents'::regclass and conname = 'agents_id_project_key') then
    alter table public.agents add constraint agents_id_project_key unique (id, project_id);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.agents'::regclass and conname = 'agents_budgets_nonnegative') then
    alter table public.agents add constraint agents_budgets_nonnegative check (
      (daily_budget_usd is null or daily_budget_usd >= 0)
      and (monthly_budget_usd is null or monthly_budget_usd >= 0)
    );
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------
-- usage_tracking and routing_decisions as the guide creates them

alter table if exists public.usage_tracking
  add column if not exists request_id text,
  add column if not exists session_id text,
  add column if not exists claude_session_id text,
  add column if not exists agent_type text,
  add column if not exists requested_model text,
  add column if not exists provider text,
  add column if not exists routing_rule text,
  add column if not exists cache_creation_tokens integer not null default 0,
  add column if not exists cache_creation_5m_tokens integer not null default 0,
  add column if not exists cache_creation_1h_tokens integer not null default 0,
  add column if not exists cache_read_tokens integer not null default 0,
  add column if not exists cost_source text,
  add column if not exists price_version text,
  add column if not exists status integer,
  add column if not exists error text,
  add column if not exists stream boolean,
  add column if not exists duration_ms integer,
  add column if not exists first_byte_ms integer,
  add column if not exists device text,
  add column if not exists metadata jsonb,
  add column if not exists started_at timestamptz,
  add column if not exists ended_at timestamptz;

do $$
begin
  if to_regclass('public.usage_tracking') is null then
    return;
  end if;
  -- The guide's rows have no request id: one from their id, as a row inserted without one
  -- gets (20261205100001).
  update public.usage_tracking
  set request_id = coalesce(request_id, public.default_request_id(id)),
      metadata = coalesce(metadata, '{}'::jsonb),
      created_at = coalesce(created_at, now())
  where request_id is null or metadata is null or created_at is null;
  -- An agent of another project cannot be attached to a row (the foreign key below): the
  -- row is kept, without its agent, as deleting that agent would leave it.
  update public.usage_tracking u
  set agent_id = null
  where u.agent_id is not null
    and not exists (select 1 from public.agents a where a.id = u.agent_id and a.project_id = u.project_id);

  alter table public.usage_tracking
    alter column request_id set not null,
    -- NULL project: a claude run outside Synapse; NULL cost: a model without a known price;
    -- NULL routing source: a request that was passed through.
    alter column project_id drop not null,
    alter column cost drop not null,
    alter column routing_source drop not null,
    alter column input_tokens set default 0,
    alter column output_tokens set default 0,
    alter column metadata set default '{}'::jsonb,
    alter column metadata set not null,
    alter column created_at set default now(),
    alter column created_at set not null;

  if not exists (select 1 from pg_constraint where conrelid = 'public.usage_tracking'::regclass and conname = 'usage_tracking_request_id_key') then
    alter table public.usage_tracking add constraint usage_tracking_request_id_key unique (request_id);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.usage_tracking'::regclass and conname = 'usage_tracking_agent_in_project') then
    alter table public.usage_tracking add constraint usage_tracking_agent_in_project foreign key (agent_id, project_id)
      references public.agents (id, project_id) on delete set null (agent_id);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.usage_tracking'::regclass and conname = 'usage_tracking_tokens_nonnegative') then
    alter table public.usage_tracking add constraint usage_tracking_tokens_nonnegative check (
      input_tokens >= 0 and output_tokens >= 0 and cache_creation_tokens >= 0
      and cache_creation_5m_tokens >= 0 and cache_creation_1h_tokens >= 0
      and cache_read_tokens >= 0
    );
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.usage_tracking'::regclass and conname = 'usage_tracking_cost_nonnegative') then
    alter table public.usage_tracking add constraint usage_tracking_cost_nonnegative check (cost is null or cost >= 0);
  end if;
end
$$;

alter table if exists public.routing_decisions
  add column if not exists request_id text,
  add column if not exists session_id text,
  add column if not exists provider text,
  add column if not exists rule text,
  add column if not exists decision_metadata jsonb;

do $$
begin
  if to_regclass('public.routing_decisions') is null then
    return;
  end if;
  update public.routing_decisions
  set decision_metadata = coalesce(decision_metadata, '{}'::jsonb),
      created_at = coalesce(created_at, now())
  where decision_metadata is null or created_at is null;
  update public.routing_decisions d
  set agent_id = null
  where d.agent_id is not null
    and not exists (select 1 from public.agents a where a.id = d.agent_id and a.project_id = d.project_id);

  alter table public.routing_decisions
    alter column project_id drop not null,
    alter column token_count drop not null,
    alter column decision_metadata set default '{}'::jsonb,
    alter column decision_metadata set not null,
    alter column created_at set default now(),
    alter column created_at set not null;

  if not exists (select 1 from pg_constraint where conrelid = 'public.routing_decisions'::regclass and conname = 'routing_decisions_request_id_key') then
    alter table public.routing_decisions add constraint routing_decisions_request_id_key unique (request_id);
  end if;
  if not exists (select 1 from pg_constraint where conrelid = 'public.routing_decisions'::regclass and conname = 'routing_decisions_agent_in_project') then
    alter table public.routing_decisions add constraint routing_decisions_agent_in_project foreign key (agent_id, project_id)
      references public.agents (id, project_id) on delete set null (agent_id);
  end if;
end
$$;

-- The guide's indexes are the same as those 20261127000002 creates: renamed to those
-- names, so that the table is not indexed twice.
do $$
declare
  pair text[];
begin
  foreach pair slice 1 in array array[
    ['idx_usage_project_created', 'usage_tracking_project_created_idx'],
    ['idx_usage_agent_created', 'usage_tracking_agent_created_idx'],
    ['idx_usage_model', 'usage_tracking_model_idx'],
    ['idx_usage_created', 'usage_tracking_created_idx'],
    ['idx_routing_project_created', 'routing_decisions_project_created_idx'],
    ['idx_routing_source', 'routing_decisions_routing_source_idx']
  ] loop
    if to_regclass('public.' || pair[1]) is not null and to_regclass('public.' || pair[2]) is null then
      execute format('alter index public.%I rename to %I', pair[1], pair[2]);
    end if;
  end loop;
end
$$;

-- The guide's policies let an owner insert rows in another member's name and apply to
-- every role; the migrations' own policies (20261129000002) cover what the guide's allowed
-- (a user reads and inserts the rows of their projects), so the guide's go.
do $$
begin
  if to_regclass('public.usage_tracking') is not null then
    drop policy if exists "Users can view own project usage" on public.usage_tracking;
    drop policy if exists "Users can insert own project usage" on public.usage_tracking;
  end if;
  if to_regclass('public.routing_decisions') is not null then
    drop policy if exists "Users can view own routing decisions" on public.routing_decisions;
    drop policy if exists "Users can insert own routing decisions" on public.routing_decisions;
  end if;
end
$$;
