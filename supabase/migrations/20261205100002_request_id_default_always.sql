-- The request id a usage row written without one gets (20261205100001) is given whoever
-- inserts it, in any replication role: like the rollup trigger (20261204000020), the trigger
-- fires ALWAYS, so the journal ingester (which inserts in replica mode and always has the
-- key) and a logical replica give every row its key alike. Its WHEN clause keeps it at one
-- null test per row that has one.
--
-- Safe to run again.

alter table public.usage_tracking enable always trigger usage_tracking_fill_request_id;
