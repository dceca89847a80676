// What only the embedded store has, beside the shared schema of supabase/migrations: the
// local user, the journal ingestion checkpoint, the outbox's change log and cursors, and
// the workspaces linked to a shared project.
// Kept in its own schema (conduit_local), out of the API's reach and out of Supabase's
// migrations. Every statement is safe to run again; it runs at every open, after the
// migrations.
import { randomUUID } from 'node:crypto';
import type { LedgerDb } from './ledgerDb';

export const LOCAL_SCHEMA_SQL = `
create schema if not exists conduit_local;

create table if not exists conduit_local.settings (
  key text primary key,
  value text not null
);

-- Ingestion checkpoint: for each journal file, the byte offset up to which its lines are
-- in usage_tracking. Updated in the transaction that inserts those lines' rows, so the
-- rows and the checkpoint are never apart. (A file can grow after a later one was
-- started: a batch of the journal straddling midnight UTC.)
create table if not exists conduit_local.journal_checkpoint (
  file text primary key,
  byte_offset bigint not null,
  records bigint not null default 0,
  updated_at timestamptz not null default now()
);

-- Journal lines that could not be ingested (not JSON, not a usage record, or refused by a
-- constraint): kept for inspection, never retried.
create table if not exists conduit_local.ingest_rejects (
  file text not null,
  byte_offset bigint not null,
  request_id text,
  error text not null,
  line text not null,
  at timestamptz not null default now(),
  primary key (file, byte_offset)
);

-- What a rejected line still told of its request (each null where it did not): a billed
-- request the store could not record is counted as unrecorded, with its cost, in the
-- status and the analytics summary (unrecorded.ts), never dropped silently.
alter table conduit_local.ingest_rejects add column if not exists cost numeric;
alter table conduit_local.ingest_rejects add column if not exists ended_at timestamptz;
alter table conduit_local.ingest_rejects add column if not exists project_ref text;
alter table conduit_local.ingest_rejects add column if not exists agent_ref text;
alter table conduit_local.ingest_rejects add column if not exists session_ref text;

-- The outbox's change log: one entry per statement that inserted or updated rows of a
-- synced table, with the ids of those rows (statement-level triggers, so a batch of 500
-- inserted rows costs one log row). In commit order: the store has a single writer.
create table if not exists conduit_local.sync_log (
  seq bigint generated always as identity primary key,
  table_name text not null,
  ids uuid[] not null,
  logged_at timestamptz not null default now()
);

-- One cursor per sync target (Supabase project URL and user): the next log entry and
-- position in its ids to push. Moved forward only after the target accepted the rows.
create table if not exists conduit_local.sync_cursor (
  target_key text primary key,
  next_seq bigint not null default 0,
  next_pos integer not null default 0,
  pushed bigint not null default 0,
  last_success_at timestamptz,
  last_error text,
  last_error_at timestamptz
);

-- The projects and agents whose model settings were saved through the gateway's projects
-- API (projectsRoute.ts): the gateway routes their requests by the stored settings rather
-- than by those the session's header carries. Rows that ingestion made hold only the
-- columns' defaults and are not listed here.
create table if not exists conduit_local.saved_project_config (
  project_id uuid primary key references public.projects (id) on delete cascade
);

create table if not exists conduit_local.saved_agent_model (
  agent_id uuid primary key references public.agents (id) on delete cascade
);

-- Workspaces whose usage goes to a project shared with this person on Supabase (team
-- sharing; src/protocol/team.ts WorkspaceLink): the outbox pushes their usage and routing
-- decisions into remote_project_id as remote_user_id's, and not their project and agent
-- rows. By workspace key, so a link can be made before the workspace's first request.
create table if not exists conduit_local.workspace_link (
  workspace_key text primary key,
  remote_project_id uuid not null,
  remote_user_id uuid not null,
  project_name text not null default '',
  owner_email text,
  linked_at timestamptz not null default now()
);

-- A link whose project stopped accepting the person's rows (Supabase's row-level security
-- refused them: removed from the project, or left it from another machine): when, and
-- Supabase's answer. It is kept, listed and shown in the sync status, but no longer
-- applies (the workspace's rows go to the person's own project) until it is set again.
alter table conduit_local.workspace_link add column if not exists broken_at timestamptz;
alter table conduit_local.workspace_link add column if not exists broken_reason text;

create or replace function conduit_local.log_changes()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into conduit_local.sync_log (table_name, ids)
  select tg_table_name, array_agg(id) from new_rows having count(*) > 0;
  return null;
end
$$;

do $$
declare
  t text;
begin
  foreach t in array array['projects', 'agents', 'usage_tracking', 'routing_decisions'] loop
    execute format(
      'create or replace trigger conduit_sync_log_insert after insert on public.%I
         referencing new table as new_rows
         for each statement execute function conduit_local.log_changes()', t);
    execute format(
      'create or replace trigger conduit_sync_log_update after update on public.%I
         referencing new table as new_rows
         for each statement execute function conduit_local.log_changes()', t);
  end loop;
end
$$;
`;

export async function applyLocalSchema(db: LedgerDb): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec(LOCAL_SCHEMA_SQL);
  });
}

/**
 * The store's one local user (projects.user_id of everything recorded on this machine):
 * created on first open with a random id, kept in conduit_local.settings.
 */
export async function ensureLocalUser(db: LedgerDb): Promise<string> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ value: string }>(`select value from conduit_local.settings where key = 'local_user_id'`);
    if (rows.length) return rows[0].value;
    const id = randomUUID();
    await tx.query(`insert into auth.users (id, email) values ($1, null) on conflict (id) do nothing`, [id]);
    await tx.query(`insert into conduit_local.settings (key, value) values ('local_user_id', $1)`, [id]);
    return id;
  });
}
