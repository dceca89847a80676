-- The summary tells apart the requests without a known cost: failed ones (by status) and
-- those to a model without a price (by model, with their tokens), and the refused ones.
-- All of them, and only them (a few in a hundred), are in this partial index, so a range's
-- counts read those rows alone. It replaces usage_tracking_failed_created_idx of
-- 20261203000003_session_info_failures.sql, which left out the unpriced requests.
--
-- Every statement is safe to run again.

create index if not exists usage_tracking_uncosted_created_idx
  on public.usage_tracking (created_at)
  where (cost is null or error is not null or coalesce(status, 200) >= 400 or cost_source = 'refused');

drop index if exists public.usage_tracking_failed_created_idx;
