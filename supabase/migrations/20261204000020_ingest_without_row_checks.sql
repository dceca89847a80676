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
-- Two indexes no reader uses are dropped, each an insert per record:
--   usage_tracking_model_idx: repricing a model (reprice.ts: model = $1 and cost is null)
--     reads the unpriced rows through usage_tracking_uncosted_created_idx
--     (20261203000003_unpriced_index.sql), a few in a hundred rows; the analytics read models
--     from the rollups.
--   routing_decisions_routing_source_idx: nothing reads decisions by routing source (the
--     analytics read it from usage_hourly_rollup).
--
-- Works on Postgres 15+ / Supabase and on PGlite alike. Every statement is safe to run again.

alter table public.usage_tracking enable always trigger usage_tracking_rollups_insert;

drop index if exists public.usage_tracking_model_idx;
drop index if exists public.routing_decisions_routing_source_idx;
