/**
 * What the model configuration view gets besides ModelConfigInit (src/protocol/webviewMessages.ts):
 * each model's list price (GET /v1/conduit/models), the gateway's plugins folder (its
 * CONDUIT_HOME's, from GET /v1/conduit/status), and what the project or agent shown spent
 * today and this month against its budgets (CalendarSpend).
 */
import { isCalendarSpend, isModelListPrice, type CalendarSpend, type ModelListPrice } from './spend';
import type { ModelConfigInit, ModelOption } from './webviewMessages';

export interface PricedModelOption extends ModelOption {
  /** USD per million tokens; null when the gateway knows no price; absent from an older gateway. */
  price?: ModelListPrice | null;
}

export interface ModelConfigExtras {
  /** The folder the gateway loads custom router plugins from; null when the gateway does not say. */
  pluginsDir?: string | null;
  spend?: CalendarSpend;
}

export type ModelConfigViewInit = ModelConfigInit & ModelConfigExtras & { models: PricedModelOption[] };

/** The extras of an init as the view reads them: each checked, a malformed one dropped. */
export function modelConfigExtrasOf(v: unknown): ModelConfigExtras {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return {
    pluginsDir: typeof o.pluginsDir === 'string' && o.pluginsDir.length <= 4096 ? o.pluginsDir : null,
    ...(isCalendarSpend(o.spend) ? { spend: o.spend } : {}),
  };
}

/** A model's price as the view reads it: null when absent or malformed. */
export function listPriceOf(model: ModelOption): ModelListPrice | null {
  const price = (model as PricedModelOption).price;
  return isModelListPrice(price) ? price : null;
}
