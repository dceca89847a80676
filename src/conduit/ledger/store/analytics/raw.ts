// What the ledger's thread answers (runAnalytics) before the gateway's thread applies prices (finishAnalytics).
import type { AnalyticsQuery } from './params';
import type { ScopeInfo } from './scope';
import type { UsageTotals } from './source';

/** Token sums of one model (and project): what savings and cache economics are priced from. */
export interface ModelTokens extends UsageTotals {
  model: string;
  projectId: string | null;
  /** The project's configured default model (projects.model_config.defaultModel). */
  defaultModel: string | null;
}

/** Final for most queries; savings and cache get prices in finishAnalytics, models its price flags. */
export type RawAnalytics =
  | { query: 'savings' | 'cache'; scope: ScopeInfo; byModel: ModelTokens[] }
  | { query: Exclude<AnalyticsQuery, 'savings' | 'cache'>; scope: ScopeInfo; result: Record<string, unknown> };
