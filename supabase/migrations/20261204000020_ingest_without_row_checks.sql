-- Journal ingestion without per-row checks the batch has already made.
--
-- The local store's ingester (src/conduit/ledger/ingest.ts) inserts each batch of journal
-- records with session_replication_role = replica: that skips the six foreign-key checks of
-- every record (a usage row and its routing decision each check their project, their agent
-- and the agent's project), which the ingester makes once per batch instead, in the same
-- transaction, on a store with one connection. Replica mode also skips ordinary triggers, so
-- the rollup trigger fires ALWAYS: whoever inserts usage rows, in whatever replication role
-- (a logical replica applying rows included), the rollups count them.
--
-- Works on Postgres 15+ / Supabase and on PGlite alike. Every statement is safe to run again.

alter table public.usage_tracking enable always trigger usage_tracking_rollups_insert;
