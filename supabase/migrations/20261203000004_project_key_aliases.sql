-- A project's earlier workspace keys. A project used to be known by a random key that VS
-- Code kept in its workspace state (lost with a new browser profile, a reinstall or on
-- another machine); it is now known by a key derived from its folder (the repository's
-- remote and the folder's path in it: src/conduit/core/projectIdentity.ts). When the
-- extension finds a folder's old random key, the gateway renames that project to the
-- derived key, or merges it into the project the derived key already names, and keeps the
-- old key here: a request that still carries it (a session started before, usage recorded
-- but not yet stored) is counted under the project it became (src/conduit/ledger/projectStore.ts,
-- ingest.ts).
--
-- Row-level security: the column is the projects row's, under that table's policies
-- (20261127000005: owners read and write their own rows; members read the shared ones,
-- 20261129000002); nothing else is granted.
--
-- Every statement is safe to run again.

alter table public.projects add column if not exists key_aliases text[] not null default '{}';

comment on column public.projects.key_aliases is
  'Earlier workspace keys of the project (random keys of older extension versions), which still name it.';

-- "Which project had this key": key_aliases @> array[key] and key_aliases && keys[].
create index if not exists projects_key_aliases_idx on public.projects using gin (key_aliases);
