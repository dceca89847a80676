// The typed request/response channel (src/protocol/channel.ts) over a real MessageChannel:
// answers matched by id whatever their order, time limits, errors carried across, and the
// runtime checks on both sides.
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  ChannelAnswerError, ChannelClient, ChannelClosedError, ChannelTimeoutError, LatestRequest, channelServer,
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

describe('LatestRequest (a webview waits for its newest request only)', () => {
  let n = 0;
  const newId = () => `r${++n}`;

  it('settles only the newest request; an older answer is ignored', () => {
    const latest = new LatestRequest(newId);
    const older = latest.start();
    const newer = latest.start();
    assert.equal(latest.settle(older), false);
    assert.equal(latest.pending, true);
    assert.equal(latest.settle(newer), true);
    assert.equal(latest.pending, false);
    assert.equal(latest.settle(newer), false, 'answered once');
    assert.equal(latest.settle(undefined), false);
  });

  it('ends a request with no answer by its time limit, and not one that was answered or superseded', async () => {
    let timeouts = 0;
    let timedOut = () => {};
    const latest = new LatestRequest(newId, { timeoutMs: 5, onTimeout: () => { timeouts++; timedOut(); } });
    const answered = latest.start();
    assert.ok(latest.settle(answered));
    latest.start(); // superseded by the next
    const waited = new Promise<void>((resolve) => { timedOut = resolve; });
    latest.start();
    await waited;
    assert.equal(timeouts, 1);
    assert.equal(latest.pending, false);
  });
});
