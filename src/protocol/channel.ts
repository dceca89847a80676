/**
 * One typed request/response channel: send a request with an id, match its answer, give up
 * after a time limit. A protocol map names, for each request, its parameters and its answer
 * (as GitLens's IpcRequest<Params, Response>), so a caller gets the answer's type from the
 * request's name.
 *
 * Used between the gateway and its ledger process (workerLedger.ts, ledgerWorker.ts), the
 * gateway and its plugin thread (plugins/pluginThread.ts, plugins/worker.ts); the webviews
 * keep their own message shapes and match answers with LatestRequest (below).
 *
 * Imports nothing that needs Node or a browser: the webviews bundle it too.
 */
import { isPlainObject } from './validate';

/** A request's parameters and its answer. */
export interface RequestType<Params, Response> {
  params: Params;
  response: Response;
}

/** Request name → RequestType. */
export type ProtocolMap = { [method: string]: RequestType<unknown, unknown> };

export type ParamsOf<P extends ProtocolMap, M extends keyof P> = P[M]['params'];
export type ResponseOf<P extends ProtocolMap, M extends keyof P> = P[M]['response'];

/** An error as it crosses the channel (an Error does not survive a structured clone with its class). */
export interface WireError {
  name: string;
  message: string;
  /** A machine-readable reason some errors carry (e.g. ProjectStoreError's). */
  kind?: string;
}

export interface RequestEnvelope {
  channel: 'request';
  id: number;
  method: string;
  params: unknown;
}

export type ResponseEnvelope =
  | { channel: 'response'; id: number; ok: true; value: unknown }
  | { channel: 'response'; id: number; ok: false; error: WireError };

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export function isRequestEnvelope(v: unknown): v is RequestEnvelope {
  return isPlainObject(v) && v.channel === 'request' && isId(v.id) && typeof v.method === 'string';
}

export function isResponseEnvelope(v: unknown): v is ResponseEnvelope {
  if (!isPlainObject(v) || v.channel !== 'response' || !isId(v.id)) return false;
  if (v.ok === true) return 'value' in v;
  return v.ok === false && isWireError(v.error);
}

function isWireError(v: unknown): v is WireError {
  return isPlainObject(v) && typeof v.name === 'string' && typeof v.message === 'string' && (v.kind === undefined || typeof v.kind === 'string');
}

export function toWireError(err: unknown): WireError {
  const e = err as { name?: unknown; message?: unknown; kind?: unknown } | null | undefined;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.kind === 'string' ? { kind: e.kind } : {}),
  };
}

/** No answer came within the request's time limit. */
export class ChannelTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelTimeoutError';
  }
}

/** The other side went away (or the channel was closed) before answering. */
export class ChannelClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelClosedError';
  }
}

/** An answer that is not the shape its request names: the other side is not to be trusted with it. */
export class ChannelAnswerError extends Error {
  constructor(method: string) {
    super(`the answer to ${method} is malformed`);
    this.name = 'ChannelAnswerError';
  }
}

type Timer = ReturnType<typeof setTimeout>;

export interface ChannelClientOptions<P extends ProtocolMap> {
  /** Sends an envelope to the other side; a side gone meanwhile is noticed by close(). */
  send(envelope: RequestEnvelope): void;
  timeoutMs: number;
  /** The error a request rejects with when no answer came in time. */
  timeoutMessage?: (method: string) => string;
  /** Checks each answer's value where the other side is not trusted; an answer that fails rejects with ChannelAnswerError. */
  validate?: { [M in keyof P]?: (value: unknown) => value is ResponseOf<P, M> };
  /** Turns an error the other side reported back into the error the caller expects (its class). */
  reviveError?: (error: WireError) => Error;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: Timer;
}

/** The asking side: request() sends, receive() is given every message that arrives. */
export class ChannelClient<P extends ProtocolMap> {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: ChannelClientOptions<P>) {}

  /** Requests sent and not answered yet. */
  get waiting(): number {
    return this.pending.size;
  }

  request<M extends keyof P & string>(method: M, params: ParamsOf<P, M>, timeoutMs = this.options.timeoutMs): Promise<ResponseOf<P, M>> {
    const id = this.nextId++;
    return new Promise<ResponseOf<P, M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChannelTimeoutError(this.options.timeoutMessage?.(method) ?? `no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      // An unanswered request must not keep a Node process alive (the browser has no unref).
      (timer as { unref?: () => void }).unref?.();
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer });
      this.options.send({ channel: 'request', id, method, params });
    });
  }

  /** Takes a message that arrived; false when it is not an answer (the caller handles it). */
  receive(message: unknown): boolean {
    if (!isResponseEnvelope(message)) return false;
    const p = this.pending.get(message.id);
    if (!p) return true; // answered too late: its request already timed out or was failed
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    if (!message.ok) {
      p.reject(this.options.reviveError?.(message.error) ?? Object.assign(new Error(message.error.message), { name: message.error.name }));
      return true;
    }
    const check = this.options.validate?.[p.method];
    if (check && !check(message.value)) p.reject(new ChannelAnswerError(p.method));
    else p.resolve(message.value);
    return true;
  }

  /** The other side is gone: every request waiting rejects with this error. */
  failAll(error: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }
}

/** The answering side: one handler per request of the protocol map. */
export type ChannelHandlers<P extends ProtocolMap> = {
  [M in keyof P]: (params: ParamsOf<P, M>) => ResponseOf<P, M> | Promise<ResponseOf<P, M>>;
};

export interface ChannelServerOptions<P extends ProtocolMap> {
  send(envelope: ResponseEnvelope): void;
  handlers: ChannelHandlers<P>;
  /**
   * Checks each request's parameters where the asking side is not trusted; a request that
   * fails is answered with an error and its handler is not called.
   */
  validate?: { [M in keyof P]?: (params: unknown) => params is ParamsOf<P, M> };
}

/**
 * Answers requests: serve(message) is given every message that arrives, and returns false
 * for one that is not a request (the caller handles it).
 */
export function channelServer<P extends ProtocolMap>(options: ChannelServerOptions<P>): (message: unknown) => boolean {
  const { handlers, validate, send } = options;
  return (message) => {
    if (!isRequestEnvelope(message)) return false;
    const { id, method } = message;
    const fail = (err: unknown) => send({ channel: 'response', id, ok: false, error: toWireError(err) });
    if (!Object.prototype.hasOwnProperty.call(handlers, method)) {
      fail(new Error(`no such request: ${method.slice(0, 100)}`));
      return true;
    }
    const check = validate?.[method];
    if (check && !check(message.params)) {
      fail(new Error(`the parameters of ${method} are malformed`));
      return true;
    }
    const handler = handlers[method] as (params: unknown) => unknown;
    Promise.resolve()
      .then(() => handler(message.params))
      .then((value) => send({ channel: 'response', id, ok: true, value }), fail);
    return true;
  };
}

/**
 * The one request of a kind a webview waits for: a new one supersedes the one before (an
 * answer to an older period or a superseded save is ignored), and one that gets no answer
 * within `timeoutMs` ends with onTimeout.
 */
export class LatestRequest {
  private current: { id: string; timer: Timer | null } | null = null;

  constructor(
    private readonly newId: () => string,
    private readonly options: { timeoutMs?: number; onTimeout?: () => void } = {},
  ) {}

  get pending(): boolean {
    return this.current !== null;
  }

  /** The request now waited for: its id, to send with it. */
  start(): string {
    this.cancel();
    const id = this.newId();
    const { timeoutMs, onTimeout } = this.options;
    const timer = timeoutMs === undefined ? null : setTimeout(() => {
      if (this.current?.id !== id) return;
      this.current = null;
      onTimeout?.();
    }, timeoutMs);
    this.current = { id, timer };
    return id;
  }

  /** True when `id` is the request waited for (it goes on waiting). */
  waitsFor(id: string): boolean {
    return this.current?.id === id;
  }

  /** An answer arrived: true when it answers the request waited for (which then ends). */
  settle(id: string | undefined): boolean {
    if (id === undefined || this.current?.id !== id) return false;
    this.cancel();
    return true;
  }

  /** Waits for no answer any more. */
  cancel(): void {
    if (this.current?.timer) clearTimeout(this.current.timer);
    this.current = null;
  }
}
