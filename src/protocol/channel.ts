/**
 * One typed request/response channel: send a request with an id, match its answer, give up
 * after a time limit. A protocol map names, for each request, its parameters and its answer
 * (as GitLens's IpcRequest<Params, Response>), so a caller gets the answer's type from the
 * request's name.
 *
 * Used between the gateway and its ledger process (workerLedger.ts, ledgerWorker.ts), the
 * gateway and its plugin thread (plugins/pluginThread.ts, plugins/worker.ts), and the
 * extension host and its webviews (webviewMessages.ts HOST_WIRE and webviewWire(), webview-ui/src/shared/
 * vscode.ts): there the envelopes take the webview messages' own shape ({type, id, ...}),
 * through the `wire` options, and a view waits only for its newest request of a kind
 * (`supersede`).
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
  /** A number on the standard wire; a `wire` may carry another id (a webview's page-unique string). */
  id: number | string;
  method: string;
  params: unknown;
}

export type ResponseEnvelope =
  | { channel: 'response'; id: number | string; ok: true; value: unknown }
  | { channel: 'response'; id: number | string; ok: false; error: WireError };

/** The standard wire's ids are the client's counter. */
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

/** A newer request of the same kind was sent (`supersede`): this one's answer no longer matters. */
export class ChannelSupersededError extends Error {
  constructor(method: string) {
    super(`a newer ${method} superseded this one`);
    this.name = 'ChannelSupersededError';
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

/** How envelopes look on a wire other than the standard one (a webview's messages). */
export interface ClientWire<Out> {
  /** The message that carries a request (its id is the channel's own number). */
  request(envelope: RequestEnvelope & { id: number }): Out;
  /** The answer a message carries, with the channel's id; null when it is not an answer. */
  response(message: unknown): ResponseEnvelope | null;
}

export interface ChannelClientOptions<P extends ProtocolMap, Out = RequestEnvelope> {
  /** Sends a message to the other side; a side gone meanwhile is noticed by close(). */
  send(message: Out): void;
  /** Time limit of a request that names none; absent: requests wait as long as it takes. */
  timeoutMs?: number;
  /** Requests of which only the newest is waited for: sending one rejects the one before with ChannelSupersededError. */
  supersede?: readonly (keyof P & string)[];
  /** Envelopes in another shape than the standard {channel, id, ...}. */
  wire?: ClientWire<Out>;
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
  timer: Timer | null;
}

/** The asking side: request() sends, receive() is given every message that arrives. */
export class ChannelClient<P extends ProtocolMap, Out = RequestEnvelope> {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: ChannelClientOptions<P, Out>) {}

  /** Requests sent and not answered yet. */
  get waiting(): number {
    return this.pending.size;
  }

  /** True while a request of this kind waits for its answer. */
  waitingFor(method: keyof P & string): boolean {
    for (const p of this.pending.values()) if (p.method === method) return true;
    return false;
  }

  request<M extends keyof P & string>(method: M, params: ParamsOf<P, M>, timeoutMs = this.options.timeoutMs): Promise<ResponseOf<P, M>> {
    if (this.options.supersede?.includes(method)) this.abandon(method);
    const id = this.nextId++;
    return new Promise<ResponseOf<P, M>>((resolve, reject) => {
      const timer = timeoutMs === undefined ? null : setTimeout(() => {
        this.pending.delete(id);
        reject(new ChannelTimeoutError(this.options.timeoutMessage?.(method) ?? `no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      // An unanswered request must not keep a Node process alive (the browser has no unref).
      (timer as { unref?: () => void } | null)?.unref?.();
      this.pending.set(id, { method, resolve: resolve as (value: unknown) => void, reject, timer });
      const envelope = { channel: 'request', id, method, params } as const;
      // Without a wire, Out is the standard RequestEnvelope.
      this.options.send(this.options.wire ? this.options.wire.request(envelope) : envelope as Out);
    });
  }

  /** Takes a message that arrived; false when it is not an answer (the caller handles it). */
  receive(message: unknown): boolean {
    const answer = this.options.wire ? this.options.wire.response(message) : isResponseEnvelope(message) ? message : null;
    if (!answer) return false;
    const p = this.pending.get(answer.id as number);
    if (!p) return true; // answered too late: its request already timed out, was superseded or failed
    this.pending.delete(answer.id as number);
    if (p.timer) clearTimeout(p.timer);
    return this.settle(p, answer);
  }

  private settle(p: Pending, message: ResponseEnvelope): true {
    if (!message.ok) {
      p.reject(this.options.reviveError?.(message.error) ?? Object.assign(new Error(message.error.message), { name: message.error.name }));
      return true;
    }
    const check = this.options.validate?.[p.method];
    if (check && !check(message.value)) p.reject(new ChannelAnswerError(p.method));
    else p.resolve(message.value);
    return true;
  }

  /** Stops waiting for the requests of this kind: each rejects with ChannelSupersededError, and its answer is dropped. */
  abandon(method: keyof P & string): void {
    for (const [id, p] of this.pending) {
      if (p.method !== method) continue;
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ChannelSupersededError(method));
    }
  }

  /** The other side is gone: every request waiting rejects with this error. */
  failAll(error: Error): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }
}

/** The answering side: one handler per request of the protocol map. */
export type ChannelHandlers<P extends ProtocolMap> = {
  [M in keyof P]: (params: ParamsOf<P, M>) => ResponseOf<P, M> | Promise<ResponseOf<P, M>>;
};

/** How envelopes look on a wire other than the standard one (a webview's messages). */
export interface ServerWire<Out> {
  /** The request a message carries; null when it is not one. */
  request(message: unknown): RequestEnvelope | null;
  /** The message that carries an answer. */
  response(envelope: ResponseEnvelope): Out;
}

export interface ChannelServerOptions<P extends ProtocolMap, Out = ResponseEnvelope> {
  send(message: Out): void;
  /** Envelopes in another shape than the standard {channel, id, ...}. */
  wire?: ServerWire<Out>;
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
export function channelServer<P extends ProtocolMap, Out = ResponseEnvelope>(options: ChannelServerOptions<P, Out>): (message: unknown) => boolean {
  const { handlers, validate, wire } = options;
  // Without a wire, Out is the standard ResponseEnvelope.
  const send = (envelope: ResponseEnvelope) => options.send(wire ? wire.response(envelope) : envelope as Out);
  return (arrived) => {
    const message = wire ? wire.request(arrived) : isRequestEnvelope(arrived) ? arrived : null;
    if (!message) return false;
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
