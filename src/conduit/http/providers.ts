/**
 * The providers requests are forwarded to: Anthropic by default, and any other endpoint
 * that speaks Anthropic's Messages API, by name. A model reference is "model" (the
 * Anthropic provider) or "provider/model" where provider is a configured name.
 */
import type { Pool as PoolType } from 'undici';
import type { ProviderConfig } from '../core/config';

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

export class ProviderRegistry {
  private readonly providers = new Map<string, Provider>();

  constructor(configs: Record<string, ProviderConfig>, env: NodeJS.ProcessEnv = process.env) {
    for (const [name, c] of Object.entries(configs)) {
      const url = new URL(c.baseUrl);
      const origin = new URL(url.origin);
      this.providers.set(name, {
        name,
        origin,
        basePath: url.pathname.replace(/\/+$/, ''),
        apiKey: c.apiKey ?? (c.apiKeyEnv ? env[c.apiKeyEnv] || null : null),
        pool: new Pool(origin, POOL_OPTIONS),
      });
    }
  }

  resolve(modelRef: string): ResolvedModel {
    const slash = modelRef.indexOf('/');
    if (slash > 0) {
      const named = this.providers.get(modelRef.slice(0, slash));
      if (named) return { provider: named, model: modelRef.slice(slash + 1) };
    }
    const provider = this.providers.get(DEFAULT_PROVIDER);
    if (!provider) throw new Error(`no provider "${DEFAULT_PROVIDER}" is configured for model ${modelRef}`);
    return { provider, model: modelRef };
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
  }
}
