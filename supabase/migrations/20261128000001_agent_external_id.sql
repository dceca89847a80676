-- An agent's id as the wrapper knows it (SYNAPSE_AGENT_ID, a free string), so that usage
-- recorded by the gateway finds the same agent row every time: ingestion upserts agents
-- by (project_id, external_id). NULL for agents created elsewhere (the extension, by id).
-- Unique per project; several agents of a project may have none (NULLs are distinct).

alter table public.agents add column if not exists external_id text;

do $$
begin
  if not exists (
    select 1 from pg_catalog.pg_constraint
    where conrelid = 'public.agents'::regclass and conname = 'agents_project_external_key'
  ) then
    alter table public.agents
      add constraint agents_project_external_key unique (project_id, external_id);
  end if;
end
$$;

-- Dashboards over all projects read the hourly rollup by time alone.
create index if not exists usage_hourly_rollup_bucket_idx
  on public.usage_hourly_rollup (bucket);
