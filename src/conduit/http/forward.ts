/**
 * Sends requests to a provider through its undici pool (see providers.ts), with a
 * dispatch handler: the reply's headers and body chunks arrive as callbacks, with no
 * stream objects in between. The caller's handler writes them to the client as they come.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { bodyLength, type BodyChunks } from '../routing/bodyChunks';
import type { ClientAuth } from './auth';
import type { Provider } from './providers';

/** Headers that belong to one connection, or that the gateway (or undici) sets itself. */
const NOT_FORWARDED = new Set([
  'connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding',
  'upgrade', 'host', 'content-length', 'accept-encoding', 'authorization', 'x-api-key', 'expect',
  'x-conduit-token', 'x-conduit-context',
]);

/**
 * The request headers for the provider, as a flat [name, value, ...] list (undici's
 * cheapest form): the client's, minus hop-by-hop ones and its credentials for the
 * gateway, with the credentials for the provider. undici sets host (the provider's) and
 * content-length (the body's). null: there are no credentials to send.
 */
export function upstreamHeaders(incoming: IncomingHttpHeaders, provider: Provider, auth: ClientAuth): string[] | null {
  const creds = auth.clientCredentials;
  if (!creds && !provider.apiKey) return null;
  const out: string[] = [];
  for (const name in incoming) {
    if (NOT_FORWARDED.has(name)) continue;
    const value = incoming[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  // The usage tap reads the bytes as they pass: ask for them uncompressed.
  out.push('accept-encoding', 'identity');
  if (creds) {
    if (creds.authorization !== undefined) out.push('authorization', creds.authorization);
    if (creds['x-api-key'] !== undefined) out.push('x-api-key', creds['x-api-key']);
  } else {
    out.push('x-api-key', provider.apiKey!);
  }
  return out;
}

const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer']);

/**
 * The reply headers for the client, as a flat [name, value, ...] list for writeHead: the
 * provider's raw headers (as undici hands them, names and values in Buffers) but those
 * of its connection. Values are read as latin1, as Node reads and writes header bytes.
 */
export function downstreamHeaders(raw: Buffer[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1');
    // Only names of these lengths can be hop-by-hop ones: the others skip the lookup.
    const n = name.length;
    if ((n === 10 || n === 7 || n === 17 || n === 16) && HOP_BY_HOP_RESPONSE.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1].toString('latin1'));
  }
  return out;
}

const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding']);

/** A flat header list for a body the gateway wrote instead of the provider's: its type and length replace the provider's. */
export function withBodyHeaders(flat: string[], contentType: string, length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (!BODY_HEADERS.has(flat[i].toLowerCase())) out.push(flat[i], flat[i + 1]);
  out.push('content-type', contentType, 'content-length', String(length));
  return out;
}

/** The value of a header in a flat [name, value, ...] list (lower-case name), or ''. */
export function headerValue(flat: string[], lowerName: string): string {
  const n = lowerName.length;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    if (name.length === n && (name === lowerName || name.toLowerCase() === lowerName)) return flat[i + 1];
  }
  return '';
}

/**
 * POSTs `body` to the provider; the reply comes to `handler` (onConnect, onHeaders, onData,
 * onComplete, onError). The provider has `timeoutMs` to send its headers, and then may
 * stay silent for at most `timeoutMs` between two pieces of the body. A body in several
 * chunks goes as they are, one write each, with its length declared (not joined first:
 * see routing/bodyChunks.ts).
 */
export function sendUpstream(
  provider: Provider, path: string, headers: string[], body: Buffer | BodyChunks, timeoutMs: number, handler: Dispatcher.DispatchHandler,
): void {
  let payload: Buffer | BodyChunks = body;
  if (!Buffer.isBuffer(body)) {
    if (body.length === 1) payload = body[0];
    else headers.push('content-length', String(bodyLength(body)));
  }
  provider.pool.dispatch({
    // (undici takes any iterable of chunks as a body; its DispatchOptions type lists only Readable.)
    method: 'POST', path: provider.basePath + path, headers, body: payload as Buffer, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
  }, handler);
}

/** The message of an upstream error, in words for the person reading the log or the 502. */
export function upstreamErrorMessage(error: Error, provider: Provider, timeoutMs: number): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return `no answer from ${provider.name} within ${timeoutMs} ms`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `could not connect to ${provider.name} in time`;
  // Otherwise the error's message, with its code where the message does not name it
  // ("other side closed (UND_ERR_SOCKET)"; "connect ECONNREFUSED ..." names its own).
  return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/**
 * Forwards a request and relays its reply to the client unchanged (but for hop-by-hop
 * headers, plus `extraHeaders`); calls `unavailable` instead, before anything reached
 * the client, when the provider cannot be reached or has no such route (404).
 */
export function relayUpstream(
  res: ServerResponse, provider: Provider, path: string, headers: string[], body: Buffer | BodyChunks, timeoutMs: number,
  extraHeaders: string[], unavailable: () => void,
): void {
  sendUpstream(provider, path, headers, body, timeoutMs, new Relay(res, extraHeaders, unavailable));
}

/**
 * A handler attached to each client response, found again from the response in its
 * listeners (module functions: no closure per request). A symbol property, not a WeakMap:
 * a WeakMap entry per request cost about 50 µs of CPU per request at 16 clients (its
 * ephemerons are processed by every young-generation collection).
 */
export interface ResponseSlot<T> {
  attach(res: ServerResponse, value: T): void;
  of(res: ServerResponse): T | undefined;
}

export function responseSlot<T>(name: string): ResponseSlot<T> {
  const key = Symbol(name);
  type Holder = { [key]?: T };
  return {
    attach: (res, value) => { (res as Holder)[key] = value; },
    of: (res) => (res as Holder)[key],
  };
}

const relays = responseSlot<Relay>('conduit.relay');

class Relay implements Dispatcher.DispatchHandler {
  /** 0: waiting for headers, 1: relaying, 2: discarding (404), 3: done. */
  private phase = 0;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private clientGone = false;
  private draining = false;

  constructor(private readonly res: ServerResponse, private readonly extraHeaders: string[], private readonly unavailable: () => void) {
    relays.attach(res, this);
    res.on('close', relayClientClosed);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.clientGone) abort();
    else this.abortUpstream = abort;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200) return true;
    if (status === 404) {
      this.phase = 2;
      this.unavailable();
      return true;
    }
    this.resumeUpstream = resume;
    const headers = downstreamHeaders(raw);
    for (const h of this.extraHeaders) headers.push(h);
    this.res.writeHead(status, headers); // a throw here (a header Node refuses) ends in onError, phase 0
    this.phase = 1;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.phase !== 1 || this.res.write(chunk)) return true;
    if (!this.draining) {
      this.draining = true;
      this.res.on('drain', relayClientDrained);
    }
    return false;
  }

  onComplete(): void {
    if (this.phase === 1) this.res.end();
    this.phase = 3;
  }

  onError(): void {
    const phase = this.phase;
    this.phase = 3;
    if (this.clientGone) return;
    if (phase === 0) this.unavailable();
    else if (phase === 1) this.res.destroy(); // cut mid-reply: the client sees a broken response
  }

  clientClosed(): void {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.abortUpstream?.();
  }

  clientDrained(): void {
    this.resumeUpstream?.();
  }
}

function relayClientClosed(this: ServerResponse): void {
  relays.of(this)?.clientClosed();
}

function relayClientDrained(this: ServerResponse): void {
  relays.of(this)?.clientDrained();
}

/** Statuses after which the next fallback model is tried (before any byte reached the client). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 529 || (status >= 500 && status <= 599);
}
