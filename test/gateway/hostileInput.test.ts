// Hostile input that once got a wrong answer, over real HTTP: a refused body whose answer
// Node's clients never saw (ECONNRESET, which they retry), and model ids a reply header
// cannot carry (a 502 after the provider had answered and billed, and with fallbacks the
// request sent again).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { startGatewayProcess, type GatewayProcess } from '../support/gatewayProcess';
import { encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest, smallRequest } from './helpers';

const MAX_BODY = 1024 * 1024;
const FORTY_MB = 40 * 1000 * 1000;

interface ClientOutcome {
  status: number | null;
  text: string;
  /** Every error the request, its response or its socket reported, until the socket closed. */
  errors: string[];
}

/**
 * POSTs a body with node:http, sent with its length (a Buffer) or chunked (a list of
 * Buffers). Resolves once the socket has closed, so a reset that comes after the answer
 * is seen too. With keepAlive the socket is closed from this side once the answer is
 * read and the body written, as an idle keep-alive socket would be.
 */
function postWithNodeHttp(url: string, token: string, body: Buffer | Buffer[], keepAlive: boolean): Promise<ClientOutcome> {
  const u = new URL(url);
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
  const outcome: ClientOutcome = { status: null, text: '', errors: [] };
  const recordError = (where: string) => (err: NodeJS.ErrnoException) => outcome.errors.push(`${where}: ${err.code ?? err.message}`);
  return new Promise((resolve) => {
    let answered = false;
    let sent = false;
    const closeWhenIdle = () => { if (keepAlive && answered && sent) (agent as http.Agent).destroy(); };
    const req = http.request({
      hostname: u.hostname, port: u.port, path: '/v1/messages', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'x-conduit-token': token, ...(Buffer.isBuffer(body) ? { 'content-length': body.length } : {}) },
    }, (res) => {
      outcome.status = res.statusCode ?? null;
      res.setEncoding('utf8');
      res.on('data', (c: string) => { outcome.text += c; });
      res.on('error', recordError('response'));
      res.on('end', () => { answered = true; closeWhenIdle(); });
    });
    req.on('error', recordError('request'));
    req.on('finish', () => { sent = true; closeWhenIdle(); });
    req.on('socket', (socket) => {
      socket.on('error', recordError('socket'));
      socket.once('close', () => resolve(outcome));
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      for (const chunk of body) req.write(chunk);
      req.end();
    }
  });
}

/** POSTs with fetch (undici, as the official SDK does); a network error is returned as text. */
async function postWithFetch(url: string, token: string, body: Buffer | Buffer[]): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-conduit-token': token },
      body: Buffer.isBuffer(body) ? body : (Readable.toWeb(Readable.from(body)) as ReadableStream),
      duplex: 'half',
    } as RequestInit);
    return { status: res.status, text: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    return { error: `${(err as Error).message}: ${cause?.code ?? cause?.message ?? ''}` };
  }
}

/** A body of `size` bytes in 64 KB chunks (sent chunked, without a content-length). */
function chunksOf(size: number): Buffer[] {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  return Array.from({ length: Math.ceil(size / chunk.length) }, () => chunk);
}

describe('a refused body: the answer reaches Node\'s clients', () => {
  // The gateway runs in a process of its own: in this one, the client would read the
  // answer before the gateway's reset could reach it.
  let g: GatewayProcess;
  const big = Buffer.alloc(FORTY_MB, 0x20);

  before(async () => { g = await startGatewayProcess({ maxBodyBytes: MAX_BODY }); });
  after(async () => { await g?.close(); });

  for (const keepAlive of [false, true]) {
    it(`node:http (${keepAlive ? 'keep-alive agent' : 'no agent'}): a 40 MB body sent with its length gets 413 request_too_large, with no connection reset`, async () => {
      const out = await postWithNodeHttp(g.url, g.token, big, keepAlive);
      assert.deepEqual(out.errors, []);
      assertAnthropicError({ status: out.status ?? 0, text: out.text }, 413, 'request_too_large');
    });

    it(`node:http (${keepAlive ? 'keep-alive agent' : 'no agent'}): a chunked body past the limit gets 413, with no connection reset`, async () => {
      const out = await postWithNodeHttp(g.url, g.token, chunksOf(8 * MAX_BODY), keepAlive);
      assert.deepEqual(out.errors, []);
      assertAnthropicError({ status: out.status ?? 0, text: out.text }, 413, 'request_too_large');
    });

    it(`node:http (${keepAlive ? 'keep-alive agent' : 'no agent'}): a wrong token with a 4 MB body gets 401, with no connection reset`, async () => {
      const out = await postWithNodeHttp(g.url, 'not-the-token', Buffer.alloc(4 * MAX_BODY, 0x20), keepAlive);
      assert.deepEqual(out.errors, []);
      assertAnthropicError({ status: out.status ?? 0, text: out.text }, 401, 'authentication_error');
    });
  }

  it('fetch: a 40 MB body gets 413 request_too_large, not a network error', async () => {
    const res = await postWithFetch(g.url, g.token, big);
    assert.ok('status' in res, JSON.stringify(res));
    assertAnthropicError(res, 413, 'request_too_large');
  });

  it('fetch: a streamed body past the limit gets 413, not a network error', async () => {
    const res = await postWithFetch(g.url, g.token, chunksOf(8 * MAX_BODY));
    assert.ok('status' in res, JSON.stringify(res));
    assertAnthropicError(res, 413, 'request_too_large');
  });

  it('fetch: a wrong token with a 4 MB body gets 401, not a network error', async () => {
    const res = await postWithFetch(g.url, 'not-the-token', Buffer.alloc(4 * MAX_BODY, 0x20));
    assert.ok('status' in res, JSON.stringify(res));
    assertAnthropicError(res, 401, 'authentication_error');
  });

  it('a body declared larger than the gateway reads after a refusal: 413 at once, then the connection is closed', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: g.port });
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    // The headers alone: the gateway answers without waiting for 10 GB, and closes.
    socket.write(`POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:${g.port}\r\nx-conduit-token: ${g.token}\r\ncontent-type: application/json\r\ncontent-length: ${10 * 1024 ** 3}\r\n\r\n`);
    await closed;
    const text = Buffer.concat(received).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 413 /);
    assertAnthropicError({ status: 413, text: text.slice(text.indexOf('\r\n\r\n') + 4) }, 413, 'request_too_large');
  });
});

/** Model ids that cannot go into a reply header as they are, or are far too long to. */
const BAD_MODEL_IDS: [string, string][] = [
  ['outside Latin-1', 'claude-\u0100'],
  ['with CR/LF', 'claude-sonnet-4-5\r\nx-injected: 1'],
  ['with a lone surrogate', 'claude-haiku-\ud800'],
  ['with a space', 'claude sonnet'],
  ['of 100 KB', `claude-${'x'.repeat(100_000)}`],
];

describe('model ids a reply header cannot carry', () => {
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off' }, config: { routing: { fallbackModels: ['claude-haiku-4-5'] } } });
  });
  after(async () => { await t?.close(); });

  const call = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => rawRequest(t.url, {
    method, path, body: JSON.stringify(body), timeoutMs: 10_000,
    headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, ...headers },
  });

  /** A 400 invalid_request_error from the gateway whose message starts with the field's path. */
  const refusedNaming = (res: Awaited<ReturnType<typeof call>>, field: string) => {
    const error = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.ok(error.message.startsWith(`[conduit] ${field}: `), `expected the error to name ${field}: ${error.message.slice(0, 200)}`);
    assert.ok(res.text.length < 2000, 'the error does not echo the whole id');
  };

  for (const [what, model] of BAD_MODEL_IDS) {
    it(`a requested model ${what}: 400 naming model, and nothing reaches the provider`, async () => {
      const before = t.fake.requests.length;
      for (const stream of [false, true]) refusedNaming(await call('POST', '/v1/messages', smallRequest({ model, stream })), 'model');
      refusedNaming(await call('POST', '/v1/messages/count_tokens', smallRequest({ model })), 'model');
      assert.equal(t.fake.requests.length, before);
    });
  }

  it('a model id of 256 visible characters is forwarded and named in x-conduit-model', async () => {
    const model = `claude-${'x'.repeat(249)}`;
    const res = await call('POST', '/v1/messages', smallRequest({ model }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-conduit-model'], model);
    assert.equal(t.fake.requests.at(-1)?.body.model, model);
  });

  for (const [what, model] of BAD_MODEL_IDS) {
    it(`model settings with an id ${what} are refused when saved through the projects route, naming the field`, async () => {
      const project = '/v1/conduit/projects/p1';
      refusedNaming(await call('PUT', project, { modelConfig: { enabled: true, defaultModel: model } }), 'modelConfig.defaultModel');
      refusedNaming(await call('PUT', project, { modelConfig: { enabled: true, rules: { reasoningModel: model } } }), 'modelConfig.rules.reasoningModel');
      refusedNaming(await call('PUT', project, { modelConfig: { enabled: true, rules: { fallbackModels: ['claude-haiku-4-5', model] } } }), 'modelConfig.rules.fallbackModels[1]');
      refusedNaming(await call('PUT', project, { budget: { softLimitPercent: 80, softLimitModel: model } }), 'budget.softLimitModel');
      refusedNaming(await call('POST', `${project}/agents`, { name: 'a', personaType: 'coder', useProjectModel: false, customModelId: model }), 'customModelId');
      refusedNaming(await call('PUT', `${project}/agents/some-agent`, { customModelId: model }), 'customModelId');
    });

    // A 100 KB id does not fit in a request header at all (the HTTP layer answers 431).
    if (model.length < 1000) it(`a session context whose model settings hold an id ${what}: 400 naming the field`, async () => {
      const before = t.fake.requests.length;
      const contexts: [string, string][] = [
        [encodeSessionContext({ projectModelConfig: { enabled: true, defaultModel: model } }), 'x-conduit-context.projectModelConfig.defaultModel'],
        [encodeSessionContext({ agentModelConfig: { useProjectDefaults: false, overrideModel: model } }), 'x-conduit-context.agentModelConfig.overrideModel'],
      ];
      for (const [context, field] of contexts) refusedNaming(await call('POST', '/v1/messages', smallRequest(), { 'x-conduit-context': context }), field);
      assert.equal(t.fake.requests.length, before);
    });
  }
});
