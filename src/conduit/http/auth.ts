/**
 * Who may talk to the gateway: clients holding the local access token (in
 * x-conduit-token, or as their Bearer token / x-api-key), from a loopback Host.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TOKEN_HEADER } from '../../protocol/sessionContext';

export interface ClientAuth {
  ok: boolean;
  /**
   * The client's own Anthropic credentials (a Claude subscription's OAuth token, or the
   * person's key), forwarded in place of the provider's key; null when the client
   * used the access token as its credential.
   */
  clientCredentials: { authorization?: string; 'x-api-key'?: string } | null;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function authenticate(headers: IncomingHttpHeaders, token: string): ClientAuth {
  const header = single(headers[TOKEN_HEADER]);
  const authorization = single(headers.authorization);
  const apiKey = single(headers['x-api-key']);
  const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;

  const bearerIsToken = bearer !== undefined && same(bearer, token);
  const keyIsToken = apiKey !== undefined && same(apiKey, token);
  const ok = (header !== undefined && same(header, token)) || bearerIsToken || keyIsToken;
  if (!ok) return { ok, clientCredentials: null };

  const creds: { authorization?: string; 'x-api-key'?: string } = {};
  if (authorization && !bearerIsToken) creds.authorization = authorization;
  if (apiKey && !keyIsToken) creds['x-api-key'] = apiKey;
  return { ok, clientCredentials: Object.keys(creds).length ? creds : null };
}

/**
 * The whole Host header: a loopback name, then an optional port of digits. Nothing may
 * follow ("[::1]evil.example" and "[::1]:80@evil.example" name other hosts to some parsers).
 */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/**
 * A browser page on another site can reach 127.0.0.1 through a DNS name it controls
 * (DNS rebinding); the Host header then names that site. Only loopback names pass.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}
