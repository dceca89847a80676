// A local stand-in for Anthropic's Messages API (POST /v1/messages, count_tokens),
// used by tests and benchmarks instead of the real provider. Plain node:http, no
// dependencies. It follows the documented wire format closely because the real
// `claude` CLI talks to it (through the gateway) in end-to-end tests:
//   - SSE framing `event: <name>\ndata: <json>\n\n`, events in the real order:
//     message_start, content_block_start, ping, content_block_delta..., content_block_stop,
//     message_delta (cumulative usage), message_stop;
//   - error bodies `{"type":"error","error":{"type","message"},"request_id"}` with the
//     documented status -> type mapping, and a `request-id` header on every answer;
//   - `HEAD /` / `GET /` and `HEAD /api/hello` (Claude Code's connectivity probes) answer 200.
// Replies can also be made hostile in ways a real server or a proxy in front of it may be:
// CRLF or CR line ends (legal SSE), a compressed body although identity was asked for, a
// stream torn inside an event, an error page that is not JSON.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import zlib from 'node:zlib';

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** Line ends of the SSE stream: LF as Anthropic sends them, or CRLF / CR as the SSE specification also allows. */
export type LineEnding = '\n' | '\r\n' | '\r';
/** A content-encoding the stand-in applies whatever the request's accept-encoding said. */
export type ContentEncoding = 'gzip' | 'br' | 'deflate';

/** How a reply's bytes are written. */
export interface WireOptions {
  lineEnding?: LineEnding;
  contentEncoding?: ContentEncoding;
}

export type FakeReply =
  | (WireOptions & {
      kind: 'message';
      /** Text of the reply. Defaults to "hello" (or to no text block when toolUse is set). */
      text?: string;
      usage?: Partial<FakeUsage>;
      /** Model reported in the answer. Defaults to the request's `model` (echoed). */
      model?: string;
      /** Delay between SSE events (streamed requests only). */
      delayMs?: number;
      /** Adds a tool_use block (streamed as input_json_delta chunks); stop_reason becomes tool_use. */
      toolUse?: { name: string; input: unknown };
      /** Streamed: sends the first `afterEvents` events, then the rest once `until` settles (a stream held open mid-way). */
      pause?: { afterEvents: number; until: Promise<unknown> };
    })
  | { kind: 'error'; status: number; type?: string; message?: string; retryAfter?: number }
  /** An error answer whose body is not Anthropic's JSON (an HTML page from a proxy or load balancer). */
  | { kind: 'raw-error'; status: number; contentType: string; body: string; contentEncoding?: ContentEncoding }
  /**
   * Streamed: N SSE events then the socket is destroyed (or, with cleanEnd, the reply ended
   * cleanly); with midEvent, half of the next event is sent first. Non-streamed: half the JSON, then destroyed.
   */
  | (WireOptions & { kind: 'cut'; afterEvents: number; text?: string; midEvent?: boolean; cleanEnd?: boolean })
  /** Streamed: N SSE events, then `event: error` (overloaded_error by default) and the end. Non-streamed: a 529. */
  | { kind: 'stream-error'; afterEvents: number; type?: string }
  /** Accepts the request and never answers (until close()). */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined when empty or not JSON. */
  body: any;
  rawBody: Buffer;
  receivedAt: number;
}

export interface FakeAnthropic {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every request received, in order (HEAD probes and count_tokens included). */
  requests: RecordedRequest[];
  /** The next POST /v1/messages requests get these, in order; afterwards the default reply. */
  enqueue(...replies: FakeReply[]): void;
  setDefault(reply: FakeReply): void;
  /** Resolves with the first n POST /v1/messages requests once they have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Clears the queue, the recorded requests and the default reply. */
  reset(): void;
  /** Closes the server and every socket (hanging and streaming ones too). */
  close(): Promise<void>;
}

export interface FakeAnthropicOptions {
  port?: number;
  /** When set, /v1/messages* requests need `x-api-key: <key>` or `authorization: Bearer <key>`. */
  requireApiKey?: string;
}

const DEFAULT_TEXT = 'hello';
const ORGANIZATION_ID = randomUUID();

/** Deterministic input-token estimate used by the stand-in: ceil(bytes / 4). */
export function estimateInputTokens(rawBody: Buffer | string): number {
  const bytes = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.length;
  return Math.ceil(bytes / 4);
}

/** Deterministic output-token estimate: ceil(chars / 4), at least 1. */
export function estimateOutputTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request',
  authentication_error: 'invalid x-api-key',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'Not found',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Ids shaped like the real ones: msg_01..., req_01..., toolu_01... (24 chars after the prefix). */
function newId(prefix: string): string {
  const bytes = randomBytes(22);
  let s = '01';
  for (const b of bytes) s += ID_ALPHABET[b % ID_ALPHABET.length];
  return `${prefix}_${s}`;
}

/** Splits s into up to `parts` non-empty chunks (fewer when s is short). */
function chunk(s: string, parts: number): string[] {
  if (s.length === 0) return [];
  const size = Math.max(1, Math.ceil(s.length / parts));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

type SseEvent = [name: string, data: unknown];

interface BuiltMessage {
  message: Record<string, unknown>;
  events: SseEvent[];
}

interface FullUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

function buildMessage(
  reply: { text?: string; usage?: Partial<FakeUsage>; model?: string; toolUse?: { name: string; input: unknown } },
  req: RecordedRequest,
): BuiltMessage {
  const model: string = reply.model ?? (typeof req.body?.model === 'string' ? req.body.model : 'claude-sonnet-4-5');
  const text = reply.text ?? (reply.toolUse ? undefined : DEFAULT_TEXT);
  const toolJson = reply.toolUse ? JSON.stringify(reply.toolUse.input ?? {}) : '';
  const toolId = reply.toolUse ? newId('toolu') : '';

  const u = reply.usage ?? {};
  const cacheCreationTokens = u.cache_creation_input_tokens ?? 0;
  const usage: FullUsage = {
    input_tokens: u.input_tokens ?? estimateInputTokens(req.rawBody),
    output_tokens: u.output_tokens ?? estimateOutputTokens((text ?? '') + toolJson),
    cache_creation_input_tokens: cacheCreationTokens,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    cache_creation: u.cache_creation ?? { ephemeral_5m_input_tokens: cacheCreationTokens, ephemeral_1h_input_tokens: 0 },
  };

  const content: Record<string, unknown>[] = [];
  if (text !== undefined) content.push({ type: 'text', text });
  if (reply.toolUse) content.push({ type: 'tool_use', id: toolId, name: reply.toolUse.name, input: reply.toolUse.input ?? {} });
  const stopReason = reply.toolUse ? 'tool_use' : 'end_turn';
  const id = newId('msg');

  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { ...usage, cache_creation: { ...usage.cache_creation }, service_tier: 'standard' },
  };

  const events: SseEvent[] = [];
  events.push([
    'message_start',
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input_tokens,
          cache_creation_input_tokens: usage.cache_creation_input_tokens,
          cache_read_input_tokens: usage.cache_read_input_tokens,
          cache_creation: { ...usage.cache_creation },
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    },
  ]);
  let index = 0;
  let pinged = false;
  const ping = () => {
    if (!pinged) {
      events.push(['ping', { type: 'ping' }]);
      pinged = true;
    }
  };
  if (text !== undefined) {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
    ping();
    for (const piece of chunk(text, 3)) {
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  if (reply.toolUse) {
    events.push([
      'content_block_start',
      { type: 'content_block_start', index, content_block: { type: 'tool_use', id: toolId, name: reply.toolUse.name, input: {} } },
    ]);
    ping();
    // The real API opens a tool_use block with an empty partial_json, then the JSON in pieces.
    for (const piece of ['', ...chunk(toolJson, 3)]) {
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index++;
  }
  ping();
  events.push([
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      // Cumulative totals, as the current API sends them.
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        output_tokens: usage.output_tokens,
      },
    },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return { message, events };
}

function sseFrame([name, data]: SseEvent, eol: LineEnding = '\n'): string {
  return `event: ${name}${eol}data: ${JSON.stringify(data)}${eol}${eol}`;
}

/** Where a reply's body goes: the response itself, or a compressor in front of it. */
interface BodySink {
  write(text: string, flushed: () => void): void;
  end(): void;
}

const COMPRESSORS: Record<ContentEncoding, () => zlib.Gzip | zlib.BrotliCompress | zlib.Deflate> = {
  gzip: () => zlib.createGzip(),
  br: () => zlib.createBrotliCompress(),
  deflate: () => zlib.createDeflate(),
};
const COMPRESS_SYNC: Record<ContentEncoding, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gzipSync(b),
  br: (b) => zlib.brotliCompressSync(b),
  deflate: (b) => zlib.deflateSync(b),
};

function bodySink(res: http.ServerResponse, encoding: ContentEncoding | undefined): BodySink {
  if (!encoding) return { write: (text, flushed) => res.write(text, () => flushed()), end: () => res.end() };
  // Each event is flushed out of the compressor as it is written, as a streaming server does.
  const z = COMPRESSORS[encoding]();
  z.pipe(res);
  // Flushed: compressed, and the compressed bytes handed to the socket (so that a destroy
  // right after does not drop them).
  return { write: (text, flushed) => { z.write(text); z.flush(() => res.write('', () => flushed())); }, end: () => z.end() };
}

export function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  let messageRequests: RecordedRequest[] = [];
  let queue: FakeReply[] = [];
  let defaultReply: FakeReply = { kind: 'message' };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<{ n: number; resolve: (r: RecordedRequest[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let closed = false;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const notifyWaiters = () => {
    for (const w of [...waiters]) {
      if (messageRequests.length >= w.n) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(messageRequests.slice(0, w.n));
      }
    }
  };

  const baseHeaders = (requestId: string): Record<string, string> => ({
    'request-id': requestId,
    'anthropic-organization-id': ORGANIZATION_ID,
  });

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, requestId: string, extra: Record<string, string> = {}, encoding?: ContentEncoding) => {
    sendBytes(res, status, 'application/json', Buffer.from(JSON.stringify(body)), requestId, extra, encoding);
  };

  const sendBytes = (
    res: http.ServerResponse, status: number, contentType: string, bytes: Buffer, requestId: string, extra: Record<string, string> = {}, encoding?: ContentEncoding,
  ) => {
    const body = encoding ? COMPRESS_SYNC[encoding](bytes) : bytes;
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': String(body.length),
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...baseHeaders(requestId),
      ...extra,
    });
    res.end(body);
  };

  const sendError = (
    res: http.ServerResponse,
    status: number,
    requestId: string,
    type?: string,
    message?: string,
    retryAfter?: number,
  ) => {
    const errType = type ?? errorTypeFor(status);
    const extra: Record<string, string> = {};
    const ra = retryAfter ?? (status === 429 ? 1 : undefined);
    if (ra !== undefined) extra['retry-after'] = String(ra);
    if (status === 429 || status === 529 || status >= 500) extra['x-should-retry'] = 'true';
    sendJson(
      res,
      status,
      { type: 'error', error: { type: errType, message: message ?? ERROR_MESSAGES[errType] ?? 'Error' }, request_id: requestId },
      requestId,
      extra,
    );
  };

  /** Writes frames one by one (delayMs apart), then runs `after` once the last one is flushed. */
  const writeEvents = (res: http.ServerResponse, sink: BodySink, frames: string[], delayMs: number, after: () => void) => {
    let i = 0;
    const next = () => {
      if (closed || res.destroyed || res.writableEnded) return;
      if (i >= frames.length) {
        // Nothing (left) to send: still wait until the headers are flushed before `after`.
        sink.write('', () => after());
        return;
      }
      const frame = frames[i++];
      if (i === frames.length) {
        sink.write(frame, () => after());
        return;
      }
      sink.write(frame, () => undefined);
      if (delayMs > 0) later(delayMs, next);
      else next();
    };
    next();
  };

  const startStream = (res: http.ServerResponse, requestId: string, encoding?: ContentEncoding): BodySink => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...baseHeaders(requestId),
    });
    res.flushHeaders();
    return bodySink(res, encoding);
  };

  const handleMessages = (req: RecordedRequest, res: http.ServerResponse, requestId: string) => {
    const reply: FakeReply = queue.length ? queue.shift()! : defaultReply;
    const stream = req.body.stream === true;
    switch (reply.kind) {
      case 'hang':
        return; // the socket stays open until the client gives up or close() runs
      case 'error':
        return sendError(res, reply.status, requestId, reply.type, reply.message, reply.retryAfter);
      case 'raw-error':
        return sendBytes(res, reply.status, reply.contentType, Buffer.from(reply.body), requestId, {}, reply.contentEncoding);
      case 'message': {
        const built = buildMessage(reply, req);
        if (!stream) return sendJson(res, 200, built.message, requestId, {}, reply.contentEncoding);
        const sink = startStream(res, requestId, reply.contentEncoding);
        const frames = built.events.map((e) => sseFrame(e, reply.lineEnding));
        const pauseAt = reply.pause ? Math.min(reply.pause.afterEvents, frames.length) : frames.length;
        const rest = () => writeEvents(res, sink, frames.slice(pauseAt), reply.delayMs ?? 0, () => sink.end());
        writeEvents(res, sink, frames.slice(0, pauseAt), reply.delayMs ?? 0, () => (reply.pause ? void reply.pause.until.then(rest, rest) : rest()));
        return;
      }
      case 'cut': {
        const built = buildMessage({ text: reply.text }, req);
        if (!stream) {
          const text = JSON.stringify(built.message);
          const half = text.slice(0, Math.floor(text.length / 2));
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(text)),
            ...baseHeaders(requestId),
          });
          res.write(half, () => res.destroy());
          return;
        }
        const sink = startStream(res, requestId, reply.contentEncoding);
        const n = Math.max(0, Math.min(reply.afterEvents, built.events.length - 1));
        const frames = built.events.slice(0, n).map((e) => sseFrame(e, reply.lineEnding));
        if (reply.midEvent) {
          const torn = sseFrame(built.events[n], reply.lineEnding);
          frames.push(torn.slice(0, Math.floor(torn.length / 2)));
        }
        writeEvents(res, sink, frames, 0, () => (reply.cleanEnd ? sink.end() : res.destroy()));
        return;
      }
      case 'stream-error': {
        const errType = reply.type ?? 'overloaded_error';
        if (!stream) return sendError(res, errType === 'overloaded_error' ? 529 : 500, requestId, errType);
        const built = buildMessage({}, req);
        const n = Math.max(0, Math.min(reply.afterEvents, built.events.length - 1));
        const events: SseEvent[] = [
          ...built.events.slice(0, n),
          ['error', { type: 'error', error: { type: errType, message: ERROR_MESSAGES[errType] ?? 'Error' }, request_id: requestId }],
        ];
        const sink = startStream(res, requestId);
        writeEvents(res, sink, events.map((e) => sseFrame(e)), 0, () => sink.end());
        return;
      }
    }
  };

  /** Auth and body checks shared by /v1/messages and /v1/messages/count_tokens. Returns false if it answered. */
  const validate = (req: RecordedRequest, res: http.ServerResponse, requestId: string, needMaxTokens: boolean): boolean => {
    if (options.requireApiKey !== undefined) {
      const apiKey = req.headers['x-api-key'];
      const auth = req.headers['authorization'];
      const bearer = typeof auth === 'string' && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : undefined;
      if (apiKey !== options.requireApiKey && bearer !== options.requireApiKey) {
        sendError(res, 401, requestId, 'authentication_error', 'invalid x-api-key');
        return false;
      }
    }
    const b = req.body;
    let problem: string | undefined;
    if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) {
      problem = req.rawBody.length ? 'There was an issue with the format of your request: body is not valid JSON' : 'Request body is required';
    } else if (typeof b.model !== 'string') problem = 'model: Field required';
    else if (!Array.isArray(b.messages)) problem = 'messages: Field required';
    else if (needMaxTokens && typeof b.max_tokens !== 'number') problem = 'max_tokens: Field required';
    if (problem) {
      sendError(res, 400, requestId, 'invalid_request_error', problem);
      return false;
    }
    return true;
  };

  const server = http.createServer((req, res) => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (closed) return;
      const rawBody = Buffer.concat(chunks);
      let body: any;
      if (rawBody.length) {
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          body = undefined;
        }
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: { ...req.headers },
        body,
        rawBody,
        receivedAt,
      };
      requests.push(recorded);
      const requestId = newId('req');
      const pathname = new URL(recorded.url, 'http://127.0.0.1').pathname.replace(/\/+$/, '') || '/';
      const method = recorded.method.toUpperCase();

      try {
        // Connectivity probes: `HEAD /` (older Claude Code), `HEAD /api/hello` (2.1.3xx unless
        // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set).
        if ((pathname === '/' || pathname === '/api/hello') && (method === 'HEAD' || method === 'GET')) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...baseHeaders(requestId) });
          res.end(method === 'GET' ? 'ok' : undefined);
          return;
        }
        if (pathname === '/v1/messages' && method === 'POST') {
          messageRequests.push(recorded);
          notifyWaiters();
          if (validate(recorded, res, requestId, true)) handleMessages(recorded, res, requestId);
          return;
        }
        if (pathname === '/v1/messages/count_tokens' && method === 'POST') {
          if (validate(recorded, res, requestId, false)) sendJson(res, 200, { input_tokens: estimateInputTokens(rawBody) }, requestId);
          return;
        }
        sendError(res, 404, requestId, 'not_found_error', 'Not found');
      } catch (err) {
        if (!res.headersSent) sendError(res, 500, requestId, 'api_error', `fake-anthropic: ${(err as Error).message}`);
        else res.destroy();
      }
    });
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const fake: FakeAnthropic = {
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        enqueue(...replies: FakeReply[]) {
          queue.push(...replies);
        },
        setDefault(reply: FakeReply) {
          defaultReply = reply;
        },
        waitForRequests(n: number, timeoutMs = 5000) {
          if (messageRequests.length >= n) return Promise.resolve(messageRequests.slice(0, n));
          return new Promise<RecordedRequest[]>((res, rej) => {
            const w = {
              n,
              resolve: res,
              reject: rej,
              timer: setTimeout(() => {
                waiters.delete(w);
                rej(new Error(`fakeAnthropic: waited ${timeoutMs} ms for ${n} POST /v1/messages requests, got ${messageRequests.length}`));
              }, timeoutMs),
            };
            waiters.add(w);
          });
        },
        reset() {
          queue = [];
          requests.length = 0;
          messageRequests = [];
          defaultReply = { kind: 'message' };
        },
        close() {
          closed = true;
          for (const t of timers) clearTimeout(t);
          timers.clear();
          for (const w of waiters) {
            clearTimeout(w.timer);
            w.reject(new Error('fakeAnthropic: closed'));
          }
          waiters.clear();
          return new Promise<void>((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
            sockets.clear();
          });
        },
      };
      resolve(fake);
    });
  });
}
