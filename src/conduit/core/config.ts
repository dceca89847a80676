/**
 * The gateway's configuration: CONDUIT_HOME/config.json, validated, with defaults.
 * Every field is optional; a file that does not parse or validate is a clear error that
 * names the field, never a silent default.
 *
 * {
 *   "port": 3460,                       // where the gateway listens (127.0.0.1 only)
 *   "maxBodyBytes": 33554432,           // requests above are refused with 413
 *   "maxConnections": 1024,             // open connections at once; more are closed as they arrive
 *   "routing": { ...RoutingRulesConfig, "defaultModel": null },
 *   "providers": { "anthropic": { "baseUrl": "https://api.anthropic.com", "apiKeyEnv": "ANTHROPIC_API_KEY" },
 *                  "<name>": { "baseUrl": "...", "apiKey": "...", "apiKeyEnv": "...", "models": ["<model id>", ...] } },
 *   "prices": { "<model id>": { "input": 3, "output": 15, ... } },   // USD per million tokens
 *   "plugins": { "timeoutMs": 250 },
 *   "budgetTimeZone": "Europe/Berlin",  // IANA zone of budget days and months (default: the gateway's local zone)
 *   "personEndpoint": "use"             // a session whose Claude Code environment names its own ANTHROPIC_BASE_URL:
 *                                       // "use" it as the Anthropic provider's base URL, or "refuse" the session
 * }
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { routingRulesEntries } from '../../protocol/modelConfig';
import { modelIdListSchema, modelIdSchema } from '../../protocol/modelId';
import {
  ValidationError, numberSchema, parseWith, plainObjectSchema, strictObjectOf, stringSchema,
} from '../../protocol/validate';
import { PERSON_ENDPOINT_SETTINGS, type PersonEndpointSetting } from '../../protocol/endpointUrl';
import { PriceTable, parsePriceOverrides, type ModelPrice } from '../pricing/priceTable';
import { unknownModelProblem } from './knownModels';
import { isValidTimeZone } from './timeZone';
import { DEFAULT_RULES, mergeRules, type RoutingRules } from '../routing/rules';

export const DEFAULT_PORT = 3460;
export const DEFAULT_ANTHROPIC_URL = 'https://api.anthropic.com';

export interface ProviderConfig {
  baseUrl: string;
  /** A key written in config.json (the file is mode 0600); prefer apiKeyEnv. */
  apiKey?: string;
  /** Name of an environment variable holding the key. */
  apiKeyEnv?: string;
  /** Model ids this provider serves that the price table does not know (see knownModels.ts). */
  models?: string[];
}

export interface GatewayConfig {
  port: number;
  maxBodyBytes: number;
  /** Open connections the server keeps at once (server.maxConnections): a local process cannot use up its file descriptors. */
  maxConnections: number;
  rules: RoutingRules;
  providers: Record<string, ProviderConfig>;
  prices: Record<string, ModelPrice>;
  pluginTimeoutMs: number;
  /** How long to wait for the provider's response headers. */
  upstreamTimeoutMs: number;
  /** IANA time zone of budget periods; null: the gateway's local zone. */
  budgetTimeZone: string | null;
  /** What a session naming the person's own endpoint gets (protocol/endpointUrl.ts). */
  personEndpoint: PersonEndpointSetting;
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    port: DEFAULT_PORT,
    maxBodyBytes: 32 * 1024 * 1024,
    maxConnections: 1024,
    rules: { ...DEFAULT_RULES },
    providers: { anthropic: { baseUrl: env.CONDUIT_ANTHROPIC_URL || DEFAULT_ANTHROPIC_URL, apiKeyEnv: 'ANTHROPIC_API_KEY' } },
    prices: {},
    pluginTimeoutMs: 250,
    upstreamTimeoutMs: 10 * 60 * 1000,
    budgetTimeZone: null,
    personEndpoint: 'use',
  };
}

export class ConfigError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig(env);
    throw new ConfigError(file, (err as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `not valid JSON (${(err as Error).message})`);
  }
  try {
    const config = parseConfig(value, env);
    checkModelsKnown(config);
    return config;
  } catch (err) {
    if (err instanceof ValidationError || err instanceof Error) throw new ConfigError(file, err.message);
    throw err;
  }
}

const MODEL_RULES = ['defaultModel', 'longContextModel', 'backgroundModel', 'webSearchModel', 'reasoningModel'] as const;

/**
 * Refuses, by field and name, a routing model that no configured provider can serve (an
 * unknown provider prefix, or a model neither the price table nor the provider lists).
 * Apart from parseConfig, which checks the shape alone.
 */
export function checkModelsKnown(config: GatewayConfig): void {
  const catalog = { providers: config.providers, prices: new PriceTable(config.prices) };
  const check = (ref: string | null, path: string) => {
    const problem = ref === null ? null : unknownModelProblem(ref, catalog);
    if (problem) throw new ValidationError(path, problem);
  };
  for (const key of MODEL_RULES) check(config.rules[key], `config.routing.${key}`);
  config.rules.fallbackModels.forEach((ref, i) => check(ref, `config.routing.fallbackModels[${i}]`));
}

const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** One entry of config.json's providers; baseUrl is required except for anthropic (checked with the environment in parseConfig). */
const providerSchema = strictObjectOf({
  baseUrl: v.optional(stringSchema),
  apiKey: v.optional(stringSchema),
  apiKeyEnv: v.optional(stringSchema),
  models: v.optional(modelIdListSchema),
});

/** config.json as written: every field optional (defaultConfig fills in the rest). */
export const configFileSchema = strictObjectOf({
  $schema: v.optional(v.unknown()),
  port: v.optional(numberSchema({ min: 0, max: 65535, integer: true })),
  maxBodyBytes: v.optional(numberSchema({ min: 1024, integer: true })),
  maxConnections: v.optional(numberSchema({ min: 1, max: 65_536, integer: true })),
  routing: v.optional(strictObjectOf({ ...routingRulesEntries, defaultModel: v.optional(v.nullable(modelIdSchema)) })),
  providers: v.optional(v.pipe(
    plainObjectSchema,
    v.record(v.pipe(v.string(), v.regex(PROVIDER_NAME, 'a provider name is lower-case letters, digits, - or _')), providerSchema),
  )),
  /** USD per million tokens per model: checked by parsePriceOverrides (the price table's own rules). */
  prices: v.optional(v.unknown()),
  plugins: v.optional(strictObjectOf({ timeoutMs: v.optional(numberSchema({ min: 10, max: 10_000, integer: true })) })),
  upstreamTimeoutMs: v.optional(numberSchema({ min: 1000, integer: true })),
  budgetTimeZone: v.optional(v.nullable(v.pipe(
    stringSchema,
    v.check((zone) => zone === '' || isValidTimeZone(zone),
      (issue) => `not a time zone this system knows: ${JSON.stringify(issue.input)} (an IANA name such as "Europe/Berlin")`),
  ))),
  personEndpoint: v.optional(v.pipe(
    stringSchema,
    v.picklist(PERSON_ENDPOINT_SETTINGS, (issue) => `expected "use" or "refuse", got ${JSON.stringify(issue.input)}`),
  )),
});
export type ConfigFile = v.InferOutput<typeof configFileSchema>;

export function parseConfig(value: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = defaultConfig(env);
  const file = parseWith(configFileSchema, value, 'config');
  config.port = file.port ?? config.port;
  config.maxBodyBytes = file.maxBodyBytes ?? config.maxBodyBytes;
  config.maxConnections = file.maxConnections ?? config.maxConnections;
  config.upstreamTimeoutMs = file.upstreamTimeoutMs ?? config.upstreamTimeoutMs;

  if (file.routing) {
    const { defaultModel, ...rules } = file.routing;
    config.rules = mergeRules(config.rules, rules);
    if (defaultModel !== undefined) config.rules.defaultModel = defaultModel;
  }

  for (const [name, p] of Object.entries(file.providers ?? {})) {
    const path = `config.providers.${name}`;
    const baseUrl = p.baseUrl ?? (name === 'anthropic' ? config.providers.anthropic.baseUrl : undefined);
    if (!baseUrl) throw new ValidationError(`${path}.baseUrl`, 'required');
    // The test and development override wins over the file for the default provider.
    const effectiveUrl = name === 'anthropic' && env.CONDUIT_ANTHROPIC_URL ? env.CONDUIT_ANTHROPIC_URL : baseUrl;
    try {
      const u = new URL(effectiveUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new ValidationError(`${path}.baseUrl`, `not an http(s) URL: ${JSON.stringify(effectiveUrl)}`);
    }
    const provider: ProviderConfig = { baseUrl: effectiveUrl };
    const apiKeyEnv = p.apiKeyEnv ?? (name === 'anthropic' ? 'ANTHROPIC_API_KEY' : undefined);
    if (p.apiKey) provider.apiKey = p.apiKey;
    if (apiKeyEnv) provider.apiKeyEnv = apiKeyEnv;
    if (p.models) provider.models = p.models;
    config.providers[name] = provider;
  }

  if (file.budgetTimeZone) config.budgetTimeZone = file.budgetTimeZone;
  if (file.personEndpoint !== undefined) config.personEndpoint = file.personEndpoint;
  config.prices = parsePriceOverrides(file.prices, 'config.prices');
  config.pluginTimeoutMs = file.plugins?.timeoutMs ?? config.pluginTimeoutMs;
  return config;
}
