/**
 * PUT /v1/conduit/prices/<model>   { input, output, cacheWrite5m?, cacheWrite1h?, cacheRead? }
 *
 * "Add a price" for a model the price table does not know (a fine-tune, a new id): USD per
 * million tokens, each a number from 0 to MAX_PRICE_PER_MILLION; cache prices left out follow Anthropic's
 * ratios to input (1.25x, 2x, 0.1x: parsePriceOverrides). Written into config.json's
 * `prices` (the rest of the file kept; mode 0600, a temporary file renamed over it), then
 * the configuration is reloaded so the next request and the next analytics answer price
 * that model; the requests already stored for it without a known price are priced too
 * (reprice.ts; `repricedRequests`, null when the store could not be asked). A config.json
 * that is not a JSON object, or whose prices would not all be valid with the new one, is
 * left alone (409): nothing is written unless the whole update validates. The model id is
 * one (src/protocol/modelId.ts) and not a reserved name such as `__proto__`
 * (priceModelProblem). The token check happens before (server.ts).
 */
import { readFileSync } from 'node:fs';
import type { PriceBody } from '../../protocol/analytics';
import { ROUTES } from '../../protocol/routes';
import { writeSecretFile } from '../core/secretFile';
import { parsePriceOverrides, priceModelProblem, priceProblem, type PriceTable } from '../pricing/priceTable';
import type { Logger } from '../core/log';
import type { LedgerService } from '../ledger/service';
import { GatewayError } from './errors';
import { serve, type ServedRoute } from './routeTable';

const BODY_LIMIT = 4 * 1024;
const FIELDS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const;

export interface PricesDeps {
  ledger?: LedgerService | null;
  log: Logger;
  /** config.json's path. */
  configFile: string;
  /** Reads config.json again (the gateway's reload: prices, providers, rules). */
  reloadConfig: () => void;
  readonly prices: PriceTable;
}

/** The body's prices, checked: input and output required, every one from 0 to MAX_PRICE_PER_MILLION, nothing else. */
export function parsePriceBody(value: unknown): PriceBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GatewayError('invalid_request_error', `body: expected an object { ${FIELDS.join(', ')} } in USD per million tokens`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw new GatewayError('invalid_request_error', `body: unknown field "${key.slice(0, 40)}" (allowed: ${FIELDS.join(', ')})`);
  }
  const out: Record<string, number> = {};
  for (const key of FIELDS) {
    const v = o[key];
    if (v === undefined && (key === 'input' || key === 'output')) throw new GatewayError('invalid_request_error', `${key}: required (USD per million tokens)`);
    if (v === undefined) continue;
    const problem = priceProblem(v);
    if (problem) throw new GatewayError('invalid_request_error', `${key}: ${problem}`);
    out[key] = v as number;
  }
  return out as unknown as PriceBody;
}

/** config.json as an object, or {} when there is none; GatewayError (409) when it is not an object. */
function readConfigObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GatewayError('invalid_request_error', `${file} is not valid JSON (${(err as Error).message}); fix it before adding a price`, 409);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GatewayError('invalid_request_error', `${file} does not hold a JSON object; fix it before adding a price`, 409);
  const prices = (value as Record<string, unknown>).prices;
  if (prices !== undefined && (typeof prices !== 'object' || prices === null || Array.isArray(prices))) {
    throw new GatewayError('invalid_request_error', `${file}: "prices" is not an object; fix it before adding a price`, 409);
  }
  return value as Record<string, unknown>;
}

export function pricesRoutes(deps: ServerPricesDeps): ServedRoute[] {
  if (!deps.configFile || !deps.reloadConfig) return [];
  const { configFile, reloadConfig } = deps;
  // The gateway's prices and store change (a reload, the store opening): read when asked.
  const prices: PricesDeps = { configFile, reloadConfig, log: deps.log, get prices() { return deps.prices; }, get ledger() { return deps.ledger; } };
  return [
    serve(ROUTES.modelPrice, ({ params }) => {
      const model = modelOf(params.model);
      const hit = prices.prices.lookup(model);
      return { model, price: hit?.price ?? null, source: hit?.costSource ?? null };
    }),
    serve(ROUTES.price, ({ params, body }) => putPrice(modelOf(params.model), body, prices), { maxBodyBytes: BODY_LIMIT }),
  ];
}

/** What the server has for this route: config.json and its reload may be absent (the route is then not served). */
export type ServerPricesDeps = Omit<PricesDeps, 'configFile' | 'reloadConfig'> & { configFile?: string; reloadConfig?: () => void };

function modelOf(model: string): string {
  const problem = priceModelProblem(model);
  if (problem) throw new GatewayError('invalid_request_error', `model: ${problem}`);
  return model;
}

async function putPrice(model: string, body: unknown, deps: PricesDeps): Promise<Record<string, unknown>> {
  const price = parsePriceBody(body);
  const config = readConfigObject(deps.configFile);
  const prices = { ...(config.prices as Record<string, unknown> | undefined), [model]: price };
  // The rules config.json's prices are read by, over all of them, before anything is written.
  try {
    parsePriceOverrides({ [model]: price }, 'body');
  } catch (err) {
    throw new GatewayError('invalid_request_error', (err as Error).message);
  }
  try {
    parsePriceOverrides(prices, `${deps.configFile}: prices`);
  } catch (err) {
    throw new GatewayError('invalid_request_error', `${(err as Error).message}; fix it before adding a price`, 409);
  }
  writeSecretFile(deps.configFile, `${JSON.stringify({ ...config, prices }, null, 2)}\n`);
  deps.reloadConfig();
  const applied = deps.prices.lookup(model);
  if (applied?.costSource !== 'config') {
    throw new GatewayError('api_error', `the price was written to ${deps.configFile}, but the configuration was not reloaded (see the gateway's status for why); the last good one stays in force`, 500);
  }
  let repricedRequests: number | null = null;
  try {
    repricedRequests = (await deps.ledger?.repriceModel(model, applied.price)) ?? null;
  } catch (err) {
    // The price is in force for new requests; stored ones wait for the next price change.
    deps.log.warn(`prices: the stored requests of ${model} were not priced: ${(err as Error)?.message ?? String(err)}`);
  }
  return { model, price: applied.price, source: 'config', repricedRequests };
}
