-- One row per gateway request (usage_tracking) and per routing decision
-- (routing_decisions). request_id is the gateway's UsageRecord id: ingestion and sync
-- upsert by it, so a replay never counts twice.

create table if not exists public.usage_tracking (
  id uuid primary key default gen_random_uuid(),
  request_id text not null,
  -- NULL when the request carried no project (a claude run outside Synapse); such rows
  -- are visible to the local store's owner only, never through row-level security.
  project_id uuid references public.projects (id) on delete cascade,
  agent_id uuid references public.agents (id) on delete set null,
  -- Conduit's wrapper session, and Claude Code's own session id.
  session_id text,
  claude_session_id text,
  agent_type text,
  -- The routing decision: model sent upstream, what the client asked for, and why.
  model text not null,
  requested_model text,
  provider text,
  routing_source text,
  routing_rule text,
  -- Token counts as the provider reported them (0 when the request failed before usage
  -- arrived). input_tokens excludes cache writes and reads, as in Anthropic's usage.
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  total_tokens integer generated always as (input_tokens + output_tokens) stored,
  cache_creation_tokens integer not null default 0,
  cache_creation_5m_tokens integer not null default 0,
  cache_creation_1h_tokens integer not null default 0,
  cache_read_tokens integer not null default 0,
  -- USD. NULL when the model has no known price: unknown is never 0.
  cost numeric(10, 6),
  -- "table:<version>", "config" or "unknown", and the price table's version.
  cost_source text,
  price_version text,
  -- HTTP status the client received, and the error type when the request failed.
  status integer,
  error text,
  stream boolean,
  duration_ms integer,
  first_byte_ms integer,
  -- Host name of the machine that served the request (multi-device sync).
  device text,
  metadata jsonb not null default '{}'::jsonb,
  started_at timestamptz,
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  constraint usage_tracking_request_id_key unique (request_id),
  -- An agent of another project (or another user's) cannot be attached to this row.
  constraint usage_tracking_agent_in_project foreign key (agent_id, project_id)
    references public.agents (id, project_id) on delete set null (agent_id),
  constraint usage_tracking_tokens_nonnegative check (
    input_tokens >= 0 and output_tokens >= 0 and cache_creation_tokens >= 0
    and cache_creation_5m_tokens >= 0 and cache_creation_1h_tokens >= 0
    and cache_read_tokens >= 0
  ),
  constraint usage_tracking_cost_nonnegative check (cost is null or cost >= 0)
);

create index if not exists usage_tracking_project_created_idx
  on public.usage_tracking (project_id, created_at desc);
create index if not exists usage_tracking_agent_created_idx
  on public.usage_tracking (agent_id, created_at desc);
create index if not exists usage_tracking_model_idx
  on public.usage_tracking (model);
create index if not exists usage_tracking_created_idx
  on public.usage_tracking (created_at desc);
-- Per-session views (a session is one conduit-claude run).
create index if not exists usage_tracking_session_created_idx
  on public.usage_tracking (session_id, created_at desc) where session_id is not null;

create table if not exists public.routing_decisions (
  id uuid primary key default gen_random_uuid(),
  request_id text,
  project_id uuid references public.projects (id) on delete cascade,
  agent_id uuid references public.agents (id) on delete set null,
  session_id text,
  requested_model text,
  selected_model text not null,
  provider text,
  routing_source text not null,
  -- Human-readable rule that fired, e.g. "tokens 72,000 > 60,000" or a plugin's name.
  rule text,
  -- Estimated prompt tokens the decision was based on.
  token_count integer,
  decision_metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint routing_decisions_request_id_key unique (request_id),
  constraint routing_decisions_agent_in_project foreign key (agent_id, project_id)
    references public.agents (id, project_id) on delete set null (agent_id)
);

create index if not exists routing_decisions_project_created_idx
  on public.routing_decisions (project_id, created_at desc);
create index if not exists routing_decisions_routing_source_idx
  on public.routing_decisions (routing_source);
-- Deleting an agent sets agent_id to NULL here: without an index that is a full scan.
create index if not exists routing_decisions_agent_idx
  on public.routing_decisions (agent_id);
