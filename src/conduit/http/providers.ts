/**
 * The providers requests are forwarded to: Anthropic by default, and any other endpoint
 * that speaks Anthropic's Messages API, by name. A model reference is "model" (the
 * Anthropic provider) or "provider/model" where provider is a configured name.
 */
import http from 'node:http';
import https from 'node:https';
import type { ProviderConfig } from '../core/config';

export interface Provider {
  name: string;
  origin: URL;
  /** Path prefix of the base URL, without a trailing slash ("" or "/api/anthropic"). */
  basePath: string;
  apiKey: string | null;
  agent: http.Agent;
  request: typeof http.request;
}

export interface ResolvedModel {
  provider: Provider;
  model: string;
}

export const DEFAULT_PROVIDER = 'anthropic';

export class ProviderRegistry {
  private readonly providers = new Map<string, Provider>();

  constructor(configs: Record<string, ProviderConfig>, env: NodeJS.ProcessEnv = process.env) {
    for (const [name, c] of Object.entries(configs)) {
      const url = new URL(c.baseUrl);
      const secure = url.protocol === 'https:';
      // Keep-alive with no socket cap: a gateway must not queue requests behind each other.
      const agentOptions = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity, maxFreeSockets: 64, scheduling: 'lifo' as const };
      this.providers.set(name, {
        name,
        origin: new URL(url.origin),
        basePath: url.pathname.replace(/\/+$/, ''),
        apiKey: c.apiKey ?? (c.apiKeyEnv ? env[c.apiKeyEnv] || null : null),
        agent: secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
        request: secure ? https.request : http.request,
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

  close(): void {
    for (const p of this.providers.values()) p.agent.destroy();
  }
}
