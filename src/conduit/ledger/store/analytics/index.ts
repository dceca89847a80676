// The analytics API's queries over the embedded store, in three parts:
// parseAnalyticsParams (HTTP query → checked parameters, no database: params.ts),
// runAnalytics (SQL, in the ledger's thread: run.ts and a module per query) and
// finishAnalytics (prices, in the gateway's thread where the price table lives: prices.ts).
// Every figure comes from the hourly rollups for whole UTC hours and from usage rows for
// the rest (source.ts); recent requests and sessions read an index with a LIMIT.
export {
  ANALYTICS_QUERIES, MAX_LIMIT, idParam, isAnalyticsQuery, parseAnalyticsParams, rangeKind, timeParam,
  type AnalyticsParams, type AnalyticsQuery, type Bucket, type RangeKind,
} from './params';
// A parameter the caller got wrong (answered with 400): defined with the query string reader.
export { AnalyticsParamError } from '../queryParams';
export { Params, resolveScope, timeExpr, type ResolvedScope, type ScopeInfo } from './scope';
export { cutHours, sessionKey, usageSource, type Source, type UsageTotals } from './source';
export type { ModelTokens, RawAnalytics } from './raw';
export { runAnalytics } from './run';
export { finishAnalytics, type PriceLookup } from './prices';
