/**
 * The providers requests are forwarded to: Anthropic by default, and any other endpoint
 * that speaks Anthropic's Messages API, by name. A model reference is "model" (the
 * Anthropic provider) or "provider/model" where provider is a configured name.
 */
import type { Pool as PoolType } from 'undici';
import type { ProviderConfig } from '../core/config';
import { personEndpointRefusal, type PersonEndpointSetting, type PersonEndpointStatus } from '../../protocol/endpointUrl';

// undici's connection pool alone (its HTTP/1.1 client and parser), not the whole of undici
// (fetch, WebSocket, caches...): less to bundle and less to load at start.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a file inside undici, which its exports map does not name for import
const Pool: typeof PoolType = require('undici/lib/dispatcher/pool.js');

export interface Provider {
  name: string;
  origin: URL;
  /** Path prefix of the base URL, without a trailing slash ("" or "/api/anthropic"). */
  basePath: string;
  apiKey: string | null;
  /** Keep-alive connections to the provider's origin (http or https). */
  pool: PoolType;
  /**
   * Set on the Anthropic provider of a session whose Claude Code environment names the
   * person's own endpoint: that base URL (stated in the routing decision). Such a provider
   * never holds the gateway's key: only the client's own credentials go there.
   */
  personEndpoint?: string;
}

export interface ResolvedModel {
  provider: Provider;
  model: string;
}

export const DEFAULT_PROVIDER = 'anthropic';

/**
 * One pool per provider: keep-alive, one request at a time on a connection (no
 * pipelining: a reply can stream for minutes), and no cap on connections, so that no
 * request ever waits behind another. Idle connections are closed after 30 s (sooner if
 * the provider says so in keep-alive: timeout=N).
 */
const POOL_OPTIONS: PoolType.Options = {
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 10 * 60_000,
  // Timeouts are per request (sendUpstream sets them from upstreamTimeoutMs).
  headersTimeout: 0,
  bodyTimeout: 0,
  connectTimeout: 10_000,
};

/** The person's endpoints kept at once (each with its pool); the one routed to longest ago makes room. */
const MAX_PERSON_ENDPOINTS = 32;

function providerAt(name: string, baseUrl: string, apiKey: string | null): Provider {
  const url = new URL(baseUrl);
  const origin = new URL(url.origin);
  return { name, origin, basePath: url.pathname.replace(/\/+$/, ''), apiKey, pool: new Pool(origin, POOL_OPTIONS) };
}

export class ProviderRegistry {
  private readonly providers = new Map<string, Provider>();
  /** The Anthropic provider at each person's endpoint, by base URL, in the order last routed to (oldest first). */
  private readonly personProviders = new Map<string, { provider: Provider; lastRoutedAt: number }>();

  constructor(
    configs: Record<string, ProviderConfig>, env: NodeJS.ProcessEnv = process.env,
    private readonly personEndpoint: PersonEndpointSetting = 'use',
  ) {
    for (const [name, c] of Object.entries(configs)) {
      this.providers.set(name, providerAt(name, c.baseUrl, c.apiKey ?? (c.apiKeyEnv ? env[c.apiKeyEnv] || null : null)));
    }
  }

  /**
   * The provider and model of a model reference. `sessionBaseUrl`: the person's own
   * endpoint from the session context (already validated), which replaces the Anthropic
   * provider's base URL for that session; throws when config.json refuses it.
   */
  resolve(modelRef: string, sessionBaseUrl?: string): ResolvedModel {
    const slash = modelRef.indexOf('/');
    if (slash > 0) {
      const named = this.providers.get(modelRef.slice(0, slash));
      if (named) return { provider: named.name === DEFAULT_PROVIDER && sessionBaseUrl ? this.personProvider(sessionBaseUrl) : named, model: modelRef.slice(slash + 1) };
    }
    if (sessionBaseUrl) return { provider: this.personProvider(sessionBaseUrl), model: modelRef };
    const provider = this.providers.get(DEFAULT_PROVIDER);
    if (!provider) throw new Error(`no provider "${DEFAULT_PROVIDER}" is configured for model ${modelRef}`);
    return { provider, model: modelRef };
  }

  private personProvider(baseUrl: string): Provider {
    if (this.personEndpoint === 'refuse') throw new Error(personEndpointRefusal(baseUrl, "the session's ANTHROPIC_BASE_URL"));
    const known = this.personProviders.get(baseUrl);
    // Re-inserted: the map stays in the order last routed to.
    if (known) this.personProviders.delete(baseUrl);
    else if (this.personProviders.size >= MAX_PERSON_ENDPOINTS) {
      const [oldest, { provider }] = this.personProviders.entries().next().value!;
      this.personProviders.delete(oldest);
      provider.pool.close().catch(() => { /* already closed */ });
    }
    const entry = { provider: known?.provider ?? { ...providerAt(DEFAULT_PROVIDER, baseUrl, null), personEndpoint: baseUrl }, lastRoutedAt: Date.now() };
    this.personProviders.set(baseUrl, entry);
    return entry.provider;
  }

  /** The setting and the person's endpoints routed to, most recent first (GET /v1/conduit/status). */
  personEndpoints(): PersonEndpointStatus {
    const inUse = [...this.personProviders].reverse().map(([baseUrl, e]) => ({ baseUrl, lastRoutedAt: new Date(e.lastRoutedAt).toISOString() }));
    return { setting: this.personEndpoint, inUse };
  }

  names(): string[] { return [...this.providers.keys()]; }

  /** Whether the provider of this name is configured and has a key of its own (not a client's). */
  hasKey(name: string): boolean { return (this.providers.get(name)?.apiKey ?? null) !== null; }

  /**
   * Closes the idle connections now and the others as their replies end (a reply still
   * streaming is not cut; the upstream timeouts bound how long that can take). On gateway
   * stop the clients' connections are gone by then, and their upstream requests aborted.
   */
  close(): void {
    for (const p of this.providers.values()) p.pool.close().catch(() => { /* already closed */ });
    for (const { provider } of this.personProviders.values()) provider.pool.close().catch(() => { /* already closed */ });
  }
}
