// The typed request/response channel (src/protocol/channel.ts) over a real MessageChannel:
// answers matched by id whatever their order, time limits, errors carried across, and the
// runtime checks on both sides.
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  ChannelAnswerError, ChannelClient, ChannelClosedError, ChannelSupersededError, ChannelTimeoutError, channelServer,
  type ChannelHandlers, type RequestType, type WireError,
} from '../../src/protocol/channel';

type Protocol = {
  add: RequestType<{ a: number; b: number }, number>;
  echo: RequestType<string, string>;
  fail: RequestType<null, never>;
};

class KindError extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
    this.name = 'KindError';
  }
}

describe('typed channel', () => {
  let ports: MessagePort[] = [];
  afterEach(() => {
    for (const p of ports) p.close();
    ports = [];
  });

  /** A client and a server on the two ends of a real MessageChannel. */
  function connect(handlers: ChannelHandlers<Protocol>, options: { timeoutMs?: number; validateAnswers?: boolean } = {}) {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    const serve = channelServer<Protocol>({
      send: (envelope) => port2.postMessage(envelope),
      handlers,
      validate: { add: (p): p is { a: number; b: number } => typeof p === 'object' && p !== null && typeof (p as { a?: unknown }).a === 'number' && typeof (p as { b?: unknown }).b === 'number' },
    });
    port2.on('message', (m: unknown) => { serve(m); });
    const client = new ChannelClient<Protocol>({
      send: (envelope) => port1.postMessage(envelope),
      timeoutMs: options.timeoutMs ?? 10_000,
      reviveError: (e: WireError) => (e.name === 'KindError' && e.kind ? new KindError(e.kind, e.message) : Object.assign(new Error(e.message), { name: e.name })),
      ...(options.validateAnswers ? { validate: { echo: (v: unknown): v is string => typeof v === 'string' && v.length < 5 } } : {}),
    });
    const others: unknown[] = [];
    port1.on('message', (m: unknown) => { if (!client.receive(m)) others.push(m); });
    return { client, port1, port2, others };
  }

  const handlers: ChannelHandlers<Protocol> = {
    add: ({ a, b }) => a + b,
    echo: async (s) => s,
    fail: () => { throw new KindError('duplicate', 'that name is taken'); },
  };

  it('matches each answer to its request, whatever order the answers come in', async () => {
    const release: Array<() => void> = [];
    const { client } = connect({
      ...handlers,
      echo: (s) => new Promise<string>((resolve) => { release.push(() => resolve(s)); }),
    });
    const first = client.request('echo', 'one');
    const second = client.request('echo', 'two');
    const sum = client.request('add', { a: 2, b: 3 });
    assert.equal(await sum, 5);
    while (release.length < 2) await new Promise((r) => setImmediate(r));
    release[1](); // the second request is answered first
    assert.equal(await second, 'two');
    release[0]();
    assert.equal(await first, 'one');
    assert.equal(client.waiting, 0);
  });

  it('carries an error across with its name and kind, for the caller to revive its class', async () => {
    const { client } = connect(handlers);
    await assert.rejects(client.request('fail', null), (err: Error) => err instanceof KindError && err.kind === 'duplicate' && err.message === 'that name is taken');
  });

  it('refuses an unknown request and malformed parameters without calling a handler', async () => {
    let called = 0;
    const { client } = connect({ ...handlers, add: ({ a, b }) => { called++; return a + b; } });
    await assert.rejects(client.request('add', { a: 1, b: 'x' } as unknown as { a: number; b: number }), /the parameters of add are malformed/);
    await assert.rejects((client as unknown as ChannelClient<{ nope: RequestType<null, null> }>).request('nope', null), /no such request: nope/);
    await assert.rejects((client as unknown as ChannelClient<{ toString: RequestType<null, null> }>).request('toString', null), /no such request: toString/);
    assert.equal(called, 0);
  });

  it('rejects an answer that fails its check', async () => {
    const { client } = connect(handlers, { validateAnswers: true });
    assert.equal(await client.request('echo', 'ok'), 'ok');
    await assert.rejects(client.request('echo', 'far too long'), (err: Error) => err instanceof ChannelAnswerError && /echo/.test(err.message));
  });

  it('times out a request with no answer, and ignores its answer when it comes late', async () => {
    let release = () => {};
    const { client, others } = connect({ ...handlers, echo: (s) => new Promise<string>((resolve) => { release = () => resolve(s); }) }, { timeoutMs: 20 });
    await assert.rejects(client.request('echo', 'slow'), ChannelTimeoutError);
    assert.equal(client.waiting, 0);
    release();
    assert.equal(await client.request('add', { a: 1, b: 1 }, 10_000), 2, 'the channel still works after a late answer');
    assert.deepEqual(others, [], 'the late answer is consumed, not handed on as another message');
  });

  it('fails every waiting request when the other side goes away', async () => {
    const { client } = connect({ ...handlers, echo: () => new Promise<string>(() => {}) });
    const waiting = [client.request('echo', 'a'), client.request('echo', 'b')];
    client.failAll(new ChannelClosedError('gone'));
    for (const w of waiting) await assert.rejects(w, ChannelClosedError);
    assert.equal(client.waiting, 0);
  });

  it('hands on messages that are not answers, and ignores forged answers', async () => {
    const { client, port2, others } = connect(handlers);
    port2.postMessage({ type: 'log', message: 'hello' });
    port2.postMessage({ channel: 'response', id: 'x', ok: true, value: 1 });
    assert.equal(await client.request('add', { a: 4, b: 4 }), 8);
    assert.deepEqual(others, [{ type: 'log', message: 'hello' }, { channel: 'response', id: 'x', ok: true, value: 1 }]);
  });
});

describe('typed channel: a newest request of a kind supersedes the one before (a webview\'s period, its save)', () => {
  type Views = { load: RequestType<{ period: string }, string>; save: RequestType<{ text: string }, boolean> };

  /** A client whose sent requests are kept, answered by hand; only `load` is superseded. */
  function client(timeoutMs?: number) {
    const sent: { id: number; method: string; params: unknown }[] = [];
    const c = new ChannelClient<Views>({ send: (e) => { sent.push({ id: e.id as number, method: e.method, params: e.params }); }, supersede: ['load'], timeoutMs });
    const answer = (i: number, value: unknown) => c.receive({ channel: 'response', id: sent[i].id, ok: true, value });
    return { c, sent, answer };
  }

  it('rejects the older request as superseded and ignores its late answer; another kind is not touched', async () => {
    const { c, answer } = client();
    const older = c.request('load', { period: 'week' });
    const save = c.request('save', { text: 'x' });
    const newer = c.request('load', { period: 'month' });
    await assert.rejects(older, ChannelSupersededError);
    assert.equal(c.waitingFor('load'), true);
    assert.equal(answer(0, 'week data'), true, 'the late answer is consumed');
    assert.equal(c.waitingFor('load'), true, 'and does not settle the newer one');
    answer(2, 'month data');
    assert.equal(await newer, 'month data');
    assert.equal(c.waitingFor('load'), false);
    answer(1, true);
    assert.equal(await save, true);
  });

  it('waits without a time limit unless one is given, per request', async () => {
    const { c, answer } = client();
    const unlimited = c.request('save', { text: 'a' });
    await assert.rejects(c.request('load', { period: 'day' }, 5), ChannelTimeoutError);
    answer(0, false);
    assert.equal(await unlimited, false);
  });
});

describe('typed channel on another wire (the webviews\' {type, id} messages)', () => {
  type Views = { requestThing: RequestType<{ range: string }, { type: 'thing'; id: string; value: number }> };

  it('carries requests and answers in the wire\'s shape, both ways, with the wire\'s ids', async () => {
    const toServer: unknown[] = [];
    const toClient: unknown[] = [];
    let answered = () => {};
    const served = new Promise<void>((resolve) => { answered = resolve; });
    const c = new ChannelClient<Views, Record<string, unknown>>({
      send: (m) => toServer.push(m),
      wire: {
        request: (e) => ({ type: e.method, id: `page-${e.id}`, ...(e.params as object) }),
        response: (m) => {
          const o = m as { id?: unknown };
          return typeof o.id === 'string' && o.id.startsWith('page-') ? { channel: 'response', id: Number(o.id.slice(5)), ok: true, value: m } : null;
        },
      },
    });
    const serve = channelServer<Views, unknown>({
      send: (m) => { toClient.push(m); answered(); },
      handlers: { requestThing: ({ range }) => ({ type: 'thing', id: '', value: range.length }) },
      wire: {
        request: (m) => {
          const { type, id, ...params } = m as Record<string, unknown>;
          return type === 'requestThing' && typeof id === 'string' ? { channel: 'request', id, method: type, params } : null;
        },
        response: (e) => (e.ok ? { ...(e.value as object), id: e.id } : { type: 'failed', id: e.id, message: e.error.message }),
      },
    });
    const answer = c.request('requestThing', { range: 'month' });
    assert.deepEqual(toServer, [{ type: 'requestThing', id: 'page-1', range: 'month' }]);
    assert.equal(serve(toServer[0]), true);
    assert.equal(serve({ type: 'ready' }), false, 'not a request: the caller handles it');
    await served;
    assert.deepEqual(toClient, [{ type: 'thing', id: 'page-1', value: 5 }]);
    assert.equal(c.receive({ type: 'refresh' }), false);
    assert.equal(c.receive(toClient[0]), true);
    assert.deepEqual(await answer, { type: 'thing', id: 'page-1', value: 5 });
  });
});
