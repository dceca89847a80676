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
import { parseRoutingRules } from '../../protocol/modelConfig';
import { optionalModelIdList, optionalNullableModelId } from '../../protocol/modelId';
import {
  ValidationError, expectObject, optionalNullableString, optionalNumber, optionalString, rejectUnknownKeys,
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

export function parseConfig(value: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const config = defaultConfig(env);
  const o = expectObject(value, 'config');
  rejectUnknownKeys(o, ['$schema', 'port', 'maxBodyBytes', 'maxConnections', 'routing', 'providers', 'prices', 'plugins', 'upstreamTimeoutMs', 'budgetTimeZone', 'personEndpoint'], 'config');
  config.port = optionalNumber(o, 'port', 'config', { min: 0, max: 65535, integer: true }) ?? config.port;
  config.maxBodyBytes = optionalNumber(o, 'maxBodyBytes', 'config', { min: 1024, integer: true }) ?? config.maxBodyBytes;
  config.maxConnections = optionalNumber(o, 'maxConnections', 'config', { min: 1, max: 65_536, integer: true }) ?? config.maxConnections;
  config.upstreamTimeoutMs = optionalNumber(o, 'upstreamTimeoutMs', 'config', { min: 1000, integer: true }) ?? config.upstreamTimeoutMs;

  if (o.routing !== undefined) {
    const r = expectObject(o.routing, 'config.routing');
    const { defaultModel, ...rest } = r;
    const defaultRef = optionalNullableModelId({ defaultModel }, 'defaultModel', 'config.routing');
    config.rules = mergeRules(config.rules, parseRoutingRules(rest, 'config.routing'));
    if (defaultRef !== undefined) config.rules.defaultModel = defaultRef;
  }

  if (o.providers !== undefined) {
    const providers = expectObject(o.providers, 'config.providers');
    for (const [name, p] of Object.entries(providers)) {
      const path = `config.providers.${name}`;
      if (!/^[a-z][a-z0-9_-]{0,39}$/.test(name)) throw new ValidationError(path, 'a provider name is lower-case letters, digits, - or _');
      const po = expectObject(p, path);
      rejectUnknownKeys(po, ['baseUrl', 'apiKey', 'apiKeyEnv', 'models'], path);
      const baseUrl = optionalString(po, 'baseUrl', path) ?? (name === 'anthropic' ? config.providers.anthropic.baseUrl : undefined);
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
      const apiKey = optionalString(po, 'apiKey', path);
      const apiKeyEnv = optionalString(po, 'apiKeyEnv', path) ?? (name === 'anthropic' ? 'ANTHROPIC_API_KEY' : undefined);
      if (apiKey) provider.apiKey = apiKey;
      if (apiKeyEnv) provider.apiKeyEnv = apiKeyEnv;
      const models = optionalModelIdList(po, 'models', path);
      if (models) provider.models = models;
      config.providers[name] = provider;
    }
  }

  const zone = optionalNullableString(o, 'budgetTimeZone', 'config');
  if (zone) {
    if (!isValidTimeZone(zone)) throw new ValidationError('config.budgetTimeZone', `not a time zone this system knows: ${JSON.stringify(zone)} (an IANA name such as "Europe/Berlin")`);
    config.budgetTimeZone = zone;
  }

  const personEndpoint = optionalString(o, 'personEndpoint', 'config');
  if (personEndpoint !== undefined) {
    if (!(PERSON_ENDPOINT_SETTINGS as readonly string[]).includes(personEndpoint)) {
      throw new ValidationError('config.personEndpoint', `expected "use" or "refuse", got ${JSON.stringify(personEndpoint)}`);
    }
    config.personEndpoint = personEndpoint as PersonEndpointSetting;
  }

  config.prices = parsePriceOverrides(o.prices, 'config.prices');
  if (o.plugins !== undefined) {
    const p = expectObject(o.plugins, 'config.plugins');
    rejectUnknownKeys(p, ['timeoutMs'], 'config.plugins');
    config.pluginTimeoutMs = optionalNumber(p, 'timeoutMs', 'config.plugins', { min: 10, max: 10_000, integer: true }) ?? config.pluginTimeoutMs;
  }
  return config;
}
