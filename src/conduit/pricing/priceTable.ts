/**
 * Cost of a reply from its token usage. Prices come from anthropic-prices.json (generated
 * from a maintained price library; it names its source and date) with config.json's
 * prices on top. A model without a known price costs null, flagged "unknown", never 0.
 */
import type { CostBreakdown, TokenUsage } from '../../protocol/usage';
import { modelIdProblem } from '../../protocol/modelId';
import bundled from './anthropic-prices.json';

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  /** Prices when the prompt (input + cache writes + cache reads) exceeds 200k tokens. */
  above200k?: Partial<Omit<ModelPrice, 'above200k'>>;
}

type MatchRule =
  | { equals: string } | { starts_with: string } | { contains: string } | { regex: string } | { or: MatchRule[] };

interface PriceData {
  source: string;
  version: string;
  models: { id: string; match: MatchRule; price: ModelPrice }[];
}

const LONG_CONTEXT_TOKENS = 200_000;

interface Resolved { price: ModelPrice; costSource: string; priceVersion: string | null }

export class PriceTable {
  private readonly cache = new Map<string, Resolved | null>();

  constructor(
    private readonly overrides: Record<string, ModelPrice> = Object.create(null) as Record<string, ModelPrice>,
    private readonly data: PriceData = bundled as PriceData,
  ) {}

  get source(): string { return this.data.source; }

  /** Model ids with a price: the table's current Claude families, then config's own. */
  models(): { id: string; name: string }[] {
    const current = this.data.models
      .filter((m) => /^claude-(opus|sonnet|haiku)-[4-9]/.test(m.id))
      .map((m) => ({ id: m.id, name: (m as { name?: string }).name ?? m.id }));
    const own = Object.keys(this.overrides).filter((id) => !current.some((m) => m.id === id)).map((id) => ({ id, name: id }));
    return [...current.reverse(), ...own];
  }
  get version(): string { return this.data.version; }

  /** The price of a model id, or null when unknown. */
  lookup(model: string): Resolved | null {
    let hit = this.cache.get(model);
    if (hit === undefined) {
      hit = this.resolve(model);
      if (this.cache.size > 1000) this.cache.clear(); // model ids come from clients: bound the cache
      this.cache.set(model, hit);
    }
    return hit;
  }

  cost(model: string, usage: TokenUsage): CostBreakdown {
    const hit = this.lookup(model);
    if (!hit) return { cost: null, costSource: 'unknown', priceVersion: null };
    return { cost: costOf(hit.price, usage), costSource: hit.costSource, priceVersion: hit.priceVersion };
  }

  private resolve(model: string): Resolved | null {
    // Own keys only: a model id like "constructor" must not find Object.prototype's.
    const override = Object.hasOwn(this.overrides, model) ? this.overrides[model] : undefined;
    if (override) return { price: override, costSource: 'config', priceVersion: null };
    // Dated ids ("claude-haiku-4-5-20251001") match their family's rules too.
    const entry = this.data.models.find((m) => matches(m.match, model));
    return entry ? { price: entry.price, costSource: `table:${entry.id}`, priceVersion: this.data.version } : null;
  }
}

export function costOf(price: ModelPrice, u: TokenUsage): number {
  const prompt = u.inputTokens + u.cacheCreationTokens + u.cacheReadTokens;
  const p = prompt > LONG_CONTEXT_TOKENS && price.above200k ? { ...price, ...price.above200k } : price;
  // Providers that do not split cache writes by duration report only the total: count the
  // rest as 5-minute writes, the default duration.
  const unsplit = Math.max(0, u.cacheCreationTokens - u.cacheCreation5mTokens - u.cacheCreation1hTokens);
  const usd = (
    u.inputTokens * p.input
    + u.outputTokens * p.output
    + (u.cacheCreation5mTokens + unsplit) * p.cacheWrite5m
    + u.cacheCreation1hTokens * p.cacheWrite1h
    + u.cacheReadTokens * p.cacheRead
  ) / 1e6;
  return Math.round(usd * 1e10) / 1e10;
}

function matches(rule: MatchRule, model: string): boolean {
  if ('or' in rule) return rule.or.some((r) => matches(r, model));
  if ('equals' in rule) return model === rule.equals;
  if ('starts_with' in rule) return model.startsWith(rule.starts_with);
  if ('contains' in rule) return model.includes(rule.contains);
  if ('regex' in rule) return new RegExp(rule.regex).test(model);
  return false;
}

/**
 * The highest price accepted, in USD per million tokens: far above any model's (Opus output
 * is tens of dollars), low enough that every derived cache price and every cost stays a
 * finite number (1e308 would make the 2x cache-write price Infinity, which JSON cannot hold).
 */
export const MAX_PRICE_PER_MILLION = 100_000;

/**
 * Model ids that name a property every plain object has: a price map keyed by one would
 * change the map's prototype (`__proto__`) or shadow its methods, and no provider's model is
 * called that.
 */
const RESERVED_MODEL_IDS = new Set(['__proto__', 'constructor', 'prototype']);

/** What is wrong with `model` as the key of a price, or null when it may have one. */
export function priceModelProblem(model: string): string | null {
  if (RESERVED_MODEL_IDS.has(model)) return `"${model}" is a reserved name, not a model id`;
  return modelIdProblem(model);
}

/** What is wrong with `v` as a price, or null when it is one. */
export function priceProblem(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_PRICE_PER_MILLION) return null;
  return `expected a price in USD per million tokens (a number from 0 to ${MAX_PRICE_PER_MILLION}), got ${JSON.stringify(v)?.slice(0, 40) ?? String(v)}`;
}

/**
 * Validates prices given in config.json. The map has no prototype, so a model id read from
 * the file can only ever be an entry of it.
 */
export function parsePriceOverrides(value: unknown, path = 'prices'): Record<string, ModelPrice> {
  if (value === undefined) return {}; // no entry will ever be added to it
  const out: Record<string, ModelPrice> = Object.create(null) as Record<string, ModelPrice>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: expected an object of model id → prices`);
  for (const [model, p] of Object.entries(value as Record<string, unknown>)) {
    const modelProblem = priceModelProblem(model);
    if (modelProblem) throw new Error(`${path}: ${JSON.stringify(model.slice(0, 60))}: ${modelProblem}`);
    // Not an object: its input is missing, which the first check below names.
    const o = (typeof p === 'object' && p !== null && !Array.isArray(p) ? p : {}) as Record<string, unknown>;
    // A cache price left out follows input's: at most twice the bound, so finite too.
    const num = (k: string, derived?: number): number => {
      const v = Object.hasOwn(o, k) ? o[k] : undefined;
      if ((v === undefined || v === null) && derived !== undefined) return derived;
      const problem = priceProblem(v);
      if (problem) throw new Error(`${path}.${model}.${k}: ${problem}`);
      return v as number;
    };
    const input = num('input');
    out[model] = {
      input,
      output: num('output'),
      cacheWrite5m: num('cacheWrite5m', input * 1.25),
      cacheWrite1h: num('cacheWrite1h', input * 2),
      cacheRead: num('cacheRead', input * 0.1),
    };
  }
  return out;
}
