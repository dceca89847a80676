// A price added for a model the price table did not know (PUT /v1/conduit/prices/<model>,
// pricesRoute.ts) also prices the requests already stored for it: those recorded with an
// unknown cost (cost_source 'unknown': usage reported, no price) get the cost at the new
// price, as the gateway would have computed it (costOf, priceTable.ts: a cache write not
// split by duration counts as a 5-minute one), marked cost_source 'config'. Failed requests
// without usage stay unknown. The rollups follow through their update triggers, and the
// outbox pushes the updated rows.
import type { ModelPrice } from '../../pricing/priceTable';
import type { SqlClient } from './sqlClient';

/** Prices the stored requests of `model` that had no known price; returns how many. */
export async function repriceModel(db: SqlClient, model: string, price: ModelPrice): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `with changed as (
       update public.usage_tracking u set
         cost = (u.input_tokens::numeric * $2 + u.output_tokens::numeric * $3
           + (u.cache_creation_5m_tokens + greatest(0, u.cache_creation_tokens - u.cache_creation_5m_tokens - u.cache_creation_1h_tokens))::numeric * $4
           + u.cache_creation_1h_tokens::numeric * $5 + u.cache_read_tokens::numeric * $6) / 1000000,
         cost_source = 'config',
         price_version = null
       where u.model = $1 and u.cost is null and u.cost_source = 'unknown'
       returning 1
     )
     select count(*)::int as n from changed`,
    [model, price.input, price.output, price.cacheWrite5m, price.cacheWrite1h, price.cacheRead]);
  return rows[0].n;
}
