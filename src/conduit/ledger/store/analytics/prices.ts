// The parts of answers that need prices (the gateway's thread, where the price table
// lives): whether each model has a price and what its cache reads saved, savings against a
// baseline model, and cache economics.
import type { DailyAnswer } from '../../../../protocol/analytics';
import { costOf, type ModelPrice } from '../../../pricing/priceTable';
import type { AnalyticsParams } from './params';
import type { ModelTokens, RawAnalytics } from './raw';
import { usd, type UsageTotals } from './source';

export interface PriceLookup {
  lookup(model: string): { price: ModelPrice } | null;
}

/** A price without the long-context tier: aggregated tokens say nothing of single prompts. */
function basePrice(price: ModelPrice): ModelPrice {
  return { input: price.input, output: price.output, cacheWrite5m: price.cacheWrite5m, cacheWrite1h: price.cacheWrite1h, cacheRead: price.cacheRead };
}

function priceOfTokens(price: ModelPrice, t: UsageTotals): number {
  return costOf(basePrice(price), {
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    cacheCreationTokens: t.cacheCreationTokens,
    cacheCreation5mTokens: t.cacheCreation5mTokens,
    cacheCreation1hTokens: t.cacheCreation1hTokens,
    cacheReadTokens: t.cacheReadTokens,
  });
}

/** The final answer of a query: savings and cache economics priced with the gateway's price table. */
/** The final answer of a query: prices applied where the answer needs them. */
export function finishAnalytics(raw: RawAnalytics, prices: PriceLookup, params: Pick<AnalyticsParams, 'baseline'>): Record<string, unknown> {
  if ('byModel' in raw) {
    return { scope: raw.scope, ...(raw.query === 'savings' ? savings(raw.byModel, prices, params.baseline) : cache(raw.byModel, prices)) };
  }
  if (raw.query === 'models') return { scope: raw.scope, ...raw.result, models: (raw.result.models as (UsageTotals & { model: string })[]).map((m) => priced(m, prices)) };
  if (raw.query === 'daily' && raw.result.groupBy === 'model') return { scope: raw.scope, ...dailyCacheSavings(raw.result as unknown as DailyByModel, prices) };
  return { scope: raw.scope, ...raw.result };
}

/** What a model's cache reads saved: read at (input - cache read price) instead of the input price; null without a price. */
function cacheSavingsOf(model: string, cacheReadTokens: number, prices: PriceLookup): number | null {
  const price = prices.lookup(model)?.price;
  return price ? usd((cacheReadTokens * (price.input - price.cacheRead)) / 1e6) : null;
}

/** A model's row with whether it has a price and what its cache reads saved (null without a price). */
function priced<T extends UsageTotals & { model: string }>(m: T, prices: PriceLookup): T & { priceKnown: boolean; cacheSavings: number | null } {
  return { ...m, priceKnown: !!prices.lookup(m.model), cacheSavings: cacheSavingsOf(m.model, m.cacheReadTokens, prices) };
}

type DailyByModel = Omit<DailyAnswer, 'query' | 'scope'>;

/**
 * The daily breakdown by model with what cache reads saved: per model and day, per day (the
 * models with a price; null when none has one) and per model over the range, priced like
 * the models query's cacheSavings, so a model's days add up to its row there.
 */
function dailyCacheSavings(d: DailyByModel, prices: PriceLookup): DailyByModel {
  const reads = new Map<string, number>();
  const days = d.days.map((day) => {
    let saved: number | null = null;
    const byKey = Object.fromEntries(Object.entries(day.byKey).map(([model, m]) => {
      const cacheSavings = cacheSavingsOf(model, m.cacheReadTokens, prices);
      if (cacheSavings !== null) saved = (saved ?? 0) + cacheSavings;
      reads.set(model, (reads.get(model) ?? 0) + m.cacheReadTokens);
      return [model, { ...m, cacheSavings }];
    }));
    return { ...day, byKey, cacheSavings: saved === null ? null : usd(saved) };
  });
  return { ...d, days, keys: d.keys.map((k) => ({ ...k, cacheSavings: cacheSavingsOf(k.key, reads.get(k.key) ?? 0, prices) })) };
}

function savings(rows: ModelTokens[], prices: PriceLookup, baselineOverride: string | undefined): Record<string, unknown> {
  let actual = 0;
  let baseline = 0;
  let compared = 0;
  const byModel: Record<string, unknown>[] = [];
  const excluded: { model: string; baselineModel: string | null; requests: number; reason: string }[] = [];
  const baselines = new Set<string>();
  for (const r of rows) {
    const baselineModel = baselineOverride ?? r.defaultModel;
    const skip = (reason: string) => excluded.push({ model: r.model, baselineModel, requests: r.requests, reason });
    if (!baselineModel) { skip(r.projectId ? 'the project has no default model' : 'no project (no default model to compare with)'); continue; }
    // A model with no costed request has no price. In a model with a price, requests without
    // a cost are failures that reported no usage (no tokens), so the rest compares fairly.
    if (r.costedRequests === 0) { skip(r.requests === r.errors ? 'only failed requests, no usage' : `no known price for ${r.model}`); continue; }
    const price = prices.lookup(baselineModel);
    if (!price) { skip(`no known price for the baseline model ${baselineModel}`); continue; }
    const b = priceOfTokens(price.price, r);
    const a = r.cost ?? 0;
    actual += a;
    baseline += b;
    compared += r.requests;
    baselines.add(baselineModel);
    byModel.push({ model: r.model, projectId: r.projectId, baselineModel, requests: r.requests, actualCost: usd(a), baselineCost: usd(b), savings: usd(b - a) });
  }
  return {
    baselineModels: [...baselines].sort(),
    comparedRequests: compared,
    actualCost: usd(actual),
    baselineCost: usd(baseline),
    savings: usd(baseline - actual),
    savingsPercent: baseline > 0 ? Math.round(((baseline - actual) / baseline) * 10_000) / 100 : null,
    byModel,
    excluded,
    note: 'baseline: the same tokens at the baseline model\'s base prices (no long-context tier); models without a known price are left out (see excluded)',
  };
}

function cache(rows: ModelTokens[], prices: PriceLookup): Record<string, unknown> {
  const perModel = new Map<string, ModelTokens>();
  for (const r of rows) {
    const m = perModel.get(r.model);
    if (!m) { perModel.set(r.model, { ...r }); continue; }
    for (const k of ['requests', 'inputTokens', 'outputTokens', 'cacheCreationTokens', 'cacheCreation5mTokens', 'cacheCreation1hTokens', 'cacheReadTokens', 'totalTokens'] as const) m[k] += r[k];
  }
  let input = 0, writes = 0, reads = 0, saved = 0, premium = 0;
  const byModel: Record<string, unknown>[] = [];
  const unpriced: string[] = [];
  for (const m of perModel.values()) {
    input += m.inputTokens;
    writes += m.cacheCreationTokens;
    reads += m.cacheReadTokens;
    const prompt = m.inputTokens + m.cacheCreationTokens + m.cacheReadTokens;
    const hit = prompt > 0 ? m.cacheReadTokens / prompt : null;
    const price = prices.lookup(m.model)?.price;
    if (!price) {
      if (m.cacheReadTokens || m.cacheCreationTokens) unpriced.push(m.model);
      byModel.push({ model: m.model, inputTokens: m.inputTokens, cacheCreationTokens: m.cacheCreationTokens, cacheReadTokens: m.cacheReadTokens, hitRate: hit, savedByReads: null, writePremium: null });
      continue;
    }
    const s = (m.cacheReadTokens * (price.input - price.cacheRead)) / 1e6;
    const unsplit = Math.max(0, m.cacheCreationTokens - m.cacheCreation5mTokens - m.cacheCreation1hTokens);
    const w = ((m.cacheCreation5mTokens + unsplit) * (price.cacheWrite5m - price.input) + m.cacheCreation1hTokens * (price.cacheWrite1h - price.input)) / 1e6;
    saved += s;
    premium += w;
    byModel.push({ model: m.model, inputTokens: m.inputTokens, cacheCreationTokens: m.cacheCreationTokens, cacheReadTokens: m.cacheReadTokens, hitRate: hit, savedByReads: usd(s), writePremium: usd(w) });
  }
  const prompt = input + writes + reads;
  return {
    hitRate: prompt > 0 ? reads / prompt : null,
    inputTokens: input,
    cacheCreationTokens: writes,
    cacheReadTokens: reads,
    savedByReads: usd(saved),
    writePremium: usd(premium),
    netSavings: usd(saved - premium),
    byModel,
    unpricedModels: unpriced,
    note: 'hit rate = cache reads / (input + cache writes + cache reads); saved = cache reads at (input price - cache read price); write premium = cache writes at (write price - input price)',
  };
}

