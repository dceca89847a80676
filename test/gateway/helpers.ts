/**
 * Helpers shared by the gateway suites: raw HTTP requests (exact bytes, any Host header,
 * no connection reuse), an event-stream subscriber, a recording relay between the
 * gateway and the Anthropic stand-in, the journal reader and Anthropic-shape checks.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import type { GatewayEvent, UsageRecord } from '../../src/protocol/usage';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The response arrived whole (not cut). */
  complete: boolean;
}

export interface RawRequestOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs?: number;
}

/**
 * One request on a fresh connection (no keep-alive pool: the gateway closes connections
 * after some refusals, and a reused socket would turn that into a client-side error).
 */
export function rawRequest(baseUrl: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = { ...options.headers };
  // Always frame a body by its length (node:http sends GET/DELETE/OPTIONS bodies unframed).
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = Buffer.byteLength(options.body);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      hostname: url.hostname,
      port: url.port,
      path: options.path ?? '/', // as given: "//x" or "%q" must reach the server unchanged
      method: options.method ?? 'GET',
      headers,
      agent: false,
      setHost: !(options.headers && Object.keys(options.headers).some((h) => h.toLowerCase() === 'host')),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => undefined); // an aborted response also emits 'error'; 'close' reports it
      res.on('close', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), complete: res.complete });
      });
    });
    req.on('error', reject);
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.end(options.body);
  });
}

/** Asserts an Anthropic-shaped error body {type:'error', error:{type, message}}. */
export function assertAnthropicError(res: { status: number; text: string; headers?: http.IncomingHttpHeaders }, status: number, type?: string): { type: string; message: string } {
  assert.equal(res.status, status, `status ${res.status} (expected ${status}): ${res.text.slice(0, 300)}`);
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`error body is not JSON: ${JSON.stringify(res.text.slice(0, 200))}`);
  }
  assert.equal(body.type, 'error', `body.type: ${res.text.slice(0, 200)}`);
  assert.equal(typeof body.error, 'object');
  assert.equal(typeof body.error.type, 'string');
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0, 'error message is not empty');
  if (type) assert.equal(body.error.type, type, `error type: ${res.text.slice(0, 300)}`);
  if (res.headers) assert.match(String(res.headers['content-type']), /^application\/json/);
  return body.error;
}

/** A minimal valid Messages request. */
export function smallRequest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'say hi' }], ...extra };
}

export interface SseFrame {
  event: string;
  data: string;
}

/** Splits a complete SSE text into frames (event name and data). */
export function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    frames.push({ event, data: data.join('\n') });
  }
  return frames;
}

/**
 * A subscriber of GET /v1/conduit/events. Resolves once the gateway has sent "ready"
 * (from then on nothing published is missed).
 */
export class EventSubscriber {
  readonly events: GatewayEvent[] = [];
  private buffer = '';
  private waiters: { match: (e: GatewayEvent) => boolean; resolve: (e: GatewayEvent) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }[] = [];
  private req: http.ClientRequest | null = null;
  private closed = false;

  static async open(baseUrl: string, token: string, query = ''): Promise<EventSubscriber> {
    const s = new EventSubscriber();
    await s.connect(baseUrl, token, query);
    return s;
  }

  private connect(baseUrl: string, token: string, query: string): Promise<void> {
    const url = new URL(`/v1/conduit/events${query}`, baseUrl);
    return new Promise((resolve, reject) => {
      let ready = false;
      this.req = http.get({ hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: { 'x-conduit-token': token }, agent: false }, (res) => {
        if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
          reject(new Error(`events: status ${res.statusCode}, content-type ${res.headers['content-type']}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          this.buffer += chunk;
          let end: number;
          while ((end = this.buffer.indexOf('\n\n')) >= 0) {
            const block = this.buffer.slice(0, end);
            this.buffer = this.buffer.slice(end + 2);
            const [frame] = parseSse(`${block}\n\n`);
            if (!frame) continue; // a comment (heartbeat)
            if (frame.event === 'ready') {
              ready = true;
              resolve();
              continue;
            }
            if (frame.event === 'decision' || frame.event === 'usage' || frame.event === 'budget' || frame.event === 'ingested') this.receive(JSON.parse(frame.data) as GatewayEvent);
          }
        });
        res.on('error', () => undefined);
        res.on('close', () => {
          if (!ready) reject(new Error('events: closed before ready'));
          this.failWaiters(new Error('events: stream closed'));
        });
      });
      this.req.on('error', (err) => {
        if (!ready) reject(err);
        this.failWaiters(err);
      });
    });
  }

  private receive(event: GatewayEvent): void {
    this.events.push(event);
    for (const w of [...this.waiters]) {
      if (w.match(event)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(event);
      }
    }
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** The first event (already received or still to come) that matches. */
  next(match: (e: GatewayEvent) => boolean, timeoutMs = 10_000): Promise<GatewayEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.closed) return Promise.reject(new Error('events: closed'));
    return new Promise((resolve, reject) => {
      const w = {
        match, resolve, reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new Error(`events: no matching event within ${timeoutMs} ms (got ${this.events.map((e) => e.type).join(', ') || 'none'})`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** The usage record of a request, by the id the gateway gave it (x-conduit-request-id). */
  async usage(requestId: string, timeoutMs?: number): Promise<UsageRecord> {
    const e = await this.next((x) => x.type === 'usage' && x.record.id === requestId, timeoutMs);
    return (e as Extract<GatewayEvent, { type: 'usage' }>).record;
  }

  /** The next usage record (already received or to come) that matches. */
  async usageWhere(match: (r: UsageRecord) => boolean, timeoutMs?: number): Promise<UsageRecord> {
    const e = await this.next((x) => x.type === 'usage' && match(x.record), timeoutMs);
    return (e as Extract<GatewayEvent, { type: 'usage' }>).record;
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
    this.failWaiters(new Error('events: closed'));
  }
}

/** Every record in the journal (CONDUIT_HOME/journal/*.ndjson). */
export function readJournal(home: string): UsageRecord[] {
  const dir = path.join(home, 'journal');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort();
  } catch {
    return [];
  }
  const out: UsageRecord[] = [];
  for (const f of files) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (line) out.push(JSON.parse(line) as UsageRecord);
    }
  }
  return out;
}

/**
 * The journal record of a request. The journal has no event of its own (the line is
 * written and fsync'd after the usage event), so this polls the file briefly.
 */
export async function journalRecord(home: string, requestId: string, timeoutMs = 5_000): Promise<UsageRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = readJournal(home).find((r) => r.id === requestId);
    if (hit) return hit;
    if (Date.now() > deadline) assert.fail(`journal: no record ${requestId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RelayedResponse {
  method: string;
  url: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The bytes the stand-in sent, as received so far (the array grows while it streams). */
  chunks: Buffer[];
  ended: boolean;
  body(): Buffer;
}

/**
 * A plain HTTP relay in front of the stand-in that records exactly what the stand-in
 * sent for each request, chunk by chunk as it arrives (and passes it on as it arrives).
 * Point the gateway's CONDUIT_ANTHROPIC_URL at it to compare the client's bytes with
 * the stand-in's.
 */
export interface Relay {
  url: string;
  responses: RelayedResponse[];
  /** Where requests go (set it once the stand-in runs). */
  setTarget(url: string): void;
  close(): Promise<void>;
}

export function startRelay(targetUrl?: string): Promise<Relay> {
  let target = new URL(targetUrl ?? 'http://127.0.0.1:1');
  const responses: RelayedResponse[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const up = http.request({
      hostname: target.hostname, port: target.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: target.host }, agent: false,
    }, (upRes) => {
      const entry: RelayedResponse = {
        method: req.method ?? '', url: req.url ?? '', status: upRes.statusCode ?? 0, headers: upRes.headers, chunks: [], ended: false,
        body() { return Buffer.concat(this.chunks); },
      };
      responses.push(entry);
      const headers = { ...upRes.headers };
      delete headers['transfer-encoding'];
      delete headers.connection;
      res.writeHead(upRes.statusCode ?? 502, headers);
      res.flushHeaders();
      upRes.on('data', (c: Buffer) => {
        entry.chunks.push(Buffer.from(c));
        res.write(c);
      });
      upRes.on('end', () => {
        entry.ended = true;
        res.end();
      });
      upRes.on('error', () => undefined);
      upRes.on('close', () => {
        if (!entry.ended) res.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        responses,
        setTarget(url: string) { target = new URL(url); },
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          for (const s of sockets) s.destroy();
        }),
      });
    });
  });
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Reads a fetch Response's body as it arrives, frame by frame. */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  /** Every byte received so far. */
  readonly raw: Uint8Array[] = [];

  constructor(res: Response) {
    assert.ok(res.body, 'response has a body');
    this.reader = res.body.getReader();
  }

  /** The next complete SSE frame, or null at the end of the stream. */
  async nextFrame(): Promise<SseFrame | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end + 2);
        this.buffer = this.buffer.slice(end + 2);
        const [frame] = parseSse(block);
        if (frame) return frame;
        continue;
      }
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.raw.push(value);
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Reads to the end; returns every byte received. */
  async rest(): Promise<Buffer> {
    for (;;) {
      const { value, done } = await this.reader.read();
      if (done) break;
      this.raw.push(value);
    }
    return Buffer.concat(this.raw);
  }
}

/** Runs `tasks` with at most `limit` in flight. */
export async function runBounded<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Mulberry32: a small seeded PRNG, so generated inputs are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** No header of the response is a CORS header. */
export function assertNoCors(headers: http.IncomingHttpHeaders | Headers, where: string): void {
  const names = headers instanceof Headers ? [...headers.keys()] : Object.keys(headers);
  const cors = names.filter((n) => n.toLowerCase().startsWith('access-control-'));
  assert.deepEqual(cors, [], `${where}: CORS headers ${cors.join(', ')}`);
}

export interface SocketExchange {
  /** Status of the response, null when none came. */
  status: number | null;
  headers: Record<string, string>;
  body: Buffer;
  /** A socket error seen (ECONNRESET...), when any. */
  error: string | null;
}

/**
 * Speaks raw bytes to a server: writes each part (a number is a pause of that many ms,
 * to make a slow client), then either destroys the socket (an abandoned request; resolves
 * at once with no status) or waits for one response and closes.
 */
export function socketExchange(port: number, parts: (string | Buffer | number)[], options: { abandon?: boolean; timeoutMs?: number } = {}): Promise<SocketExchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = Buffer.alloc(0);
    let done = false;
    let error: string | null = null;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(data), error });
    };
    const timer = setTimeout(() => { error = `no complete response within ${options.timeoutMs ?? 10_000} ms`; finish(); }, options.timeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const r = parseResponse(data);
      if (r.status !== null && r.complete) finish();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
    socket.on('close', finish);
    socket.once('connect', async () => {
      for (const part of parts) {
        if (done) return;
        if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
        else socket.write(part);
      }
      if (options.abandon) {
        // Let the writes reach the server, then vanish without a word.
        socket.write('', () => { error = 'abandoned'; finish(); });
      }
    });
  });
}

function parseResponse(data: Buffer): { status: number | null; headers: Record<string, string>; body: Buffer; complete: boolean } {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { status: null, headers: {}, body: Buffer.alloc(0), complete: false };
  const [statusLine, ...lines] = data.toString('latin1', 0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + 4);
  const status = m ? Number(m[1]) : null;
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at);
      if (lineEnd < 0) return { status, headers, body: Buffer.concat(chunks), complete: false };
      const size = parseInt(rest.toString('latin1', at, lineEnd), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(chunks), complete: true };
      if (rest.length < lineEnd + 2 + size + 2) return { status, headers, body: Buffer.concat(chunks), complete: false };
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
  return { status, headers, body: length === null ? rest : rest.subarray(0, length), complete: length !== null && rest.length >= length };
}
