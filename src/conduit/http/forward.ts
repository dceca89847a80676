/**
 * Sends a request to a provider and hands its response back as soon as the headers
 * arrive. Nothing here reads the response body: the caller pipes it.
 */
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ClientAuth } from './auth';
import type { Provider } from './providers';

/** Headers that belong to one connection, or that the gateway sets itself. */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding',
  'upgrade', 'host', 'content-length', 'accept-encoding', 'authorization', 'x-api-key',
  'x-conduit-token', 'x-conduit-context',
]);

export function upstreamHeaders(
  incoming: IncomingHttpHeaders, provider: Provider, auth: ClientAuth, bodyLength: number,
): OutgoingHttpHeaders | { missingKey: true } {
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (!NOT_FORWARDED.has(name)) out[name] = incoming[name];
  }
  out.host = provider.origin.host;
  out['content-length'] = bodyLength;
  // The usage tap reads the bytes as they pass: ask for them uncompressed.
  out['accept-encoding'] = 'identity';
  if (auth.clientCredentials) {
    Object.assign(out, auth.clientCredentials);
  } else if (provider.apiKey) {
    out['x-api-key'] = provider.apiKey;
  } else {
    return { missingKey: true };
  }
  return out;
}

const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer']);

export function downstreamHeaders(incoming: IncomingHttpHeaders, extra: Record<string, string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (!HOP_BY_HOP_RESPONSE.has(name)) out[name] = incoming[name];
  }
  return Object.assign(out, extra);
}

export type UpstreamResult =
  | { kind: 'response'; response: IncomingMessage; request: ClientRequest }
  | { kind: 'failed'; error: Error };

export function sendUpstream(
  provider: Provider, path: string, headers: OutgoingHttpHeaders, body: Buffer, timeoutMs: number,
  onRequest?: (request: ClientRequest) => void,
): Promise<UpstreamResult> {
  return new Promise((resolve) => {
    const request = provider.request({
      protocol: provider.origin.protocol,
      hostname: provider.origin.hostname.replace(/^\[|\]$/g, ''),
      port: provider.origin.port || undefined,
      method: 'POST',
      path: provider.basePath + path,
      headers,
      agent: provider.agent,
    });
    onRequest?.(request);
    let settled = false;
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer from ${provider.name} within ${timeoutMs} ms`)));
    request.once('response', (response) => {
      settled = true;
      resolve({ kind: 'response', response, request });
    });
    request.on('error', (error) => {
      if (!settled) {
        settled = true;
        resolve({ kind: 'failed', error });
      }
    });
    request.end(body);
  });
}

/** Statuses after which the next fallback model is tried (before any byte reached the client). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 529 || (status >= 500 && status <= 599);
}
