// Who may talk to the gateway, over real HTTP: the access token on every route but / and
// /health, loopback Host names only (DNS rebinding), no CORS, 127.0.0.1 only, a private
// token file, and the provider key never in the log or the status.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/conduit/core/log';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, assertNoCors, rawRequest, smallRequest, type RawResponse } from './helpers';

const PROVIDER_KEY = 'conduit-test-provider-key-4f1c9a7e2b'; // matches none of the log's redaction patterns on purpose

interface Route { method: string; path: string; body?: string }

const GUARDED: Route[] = [
  { method: 'POST', path: '/v1/messages', body: JSON.stringify(smallRequest()) },
  { method: 'POST', path: '/v1/messages?beta=true', body: JSON.stringify(smallRequest({ stream: true })) },
  { method: 'POST', path: '/v1/messages/count_tokens', body: JSON.stringify(smallRequest()) },
  { method: 'GET', path: '/v1/conduit/status' },
  { method: 'GET', path: '/v1/conduit/events' },
  { method: 'GET', path: '/v1/conduit/sessions/some-session' },
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: '/no/such/route' },
  { method: 'DELETE', path: '/v1/messages' },
  { method: 'OPTIONS', path: '/v1/messages' },
];

/** Host headers that start like a loopback name and go on to name something else. */
const NOT_QUITE_LOOPBACK = [
  '[::1]evil.example', '[::1]:80@evil.example', '[::1].evil.example', '[::1]:80evil', '[::1]:', '[::1]:80:80', '[::1]]',
  'localhost:80@evil.example', 'localhost:', 'localhost:80:80', 'localhost:+80', 'localhost:-1', 'localhost: 80', 'localhost:123456',
  '127.0.0.1:80x', '127.0.0.1:0x50', '[127.0.0.1]', '[localhost]', '::1', '[::1%lo]', '[0:0:0:0:0:0:0:1]',
];

describe('gateway security', () => {
  let t: TestGateway;
  const logLines: string[] = [];
  const responses: { where: string; res: RawResponse }[] = [];

  async function request(route: Route, headers: Record<string, string> = {}): Promise<RawResponse> {
    const res = await rawRequest(t.url, {
      method: route.method, path: route.path, body: route.body,
      headers: { ...(route.body ? { 'content-type': 'application/json' } : {}), ...headers },
      timeoutMs: 10_000,
    });
    responses.push({ where: `${route.method} ${route.path}`, res });
    return res;
  }

  before(async () => {
    t = await startTestGateway({ apiKey: PROVIDER_KEY, log: createLogger((l) => logLines.push(l), true) });
  });
  after(async () => { await t?.close(); });

  it('/ and /health answer without the token', async () => {
    for (const route of [{ method: 'GET', path: '/' }, { method: 'HEAD', path: '/' }, { method: 'GET', path: '/health' }, { method: 'HEAD', path: '/health' }]) {
      const res = await request(route);
      assert.equal(res.status, 200, `${route.method} ${route.path}`);
    }
    const health = await request({ method: 'GET', path: '/health' });
    assert.equal(JSON.parse(health.text).status, 'ok');
  });

  it('every other route refuses without the token: 401 in Anthropic\'s shape', async () => {
    for (const route of GUARDED) {
      const res = await request(route);
      assertAnthropicError(res, 401, 'authentication_error');
    }
    assert.equal(t.fake.requests.length, 0, 'nothing reached the provider');
  });

  it('refuses a wrong token, wherever it is given', async () => {
    const wrong = `${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`;
    const wrongs: Record<string, string>[] = [
      { 'x-conduit-token': wrong }, { authorization: `Bearer ${wrong}` }, { 'x-api-key': wrong },
      { 'x-conduit-token': '' }, { authorization: 'Bearer ' }, { 'x-conduit-token': t.token.slice(0, 10) },
      { 'x-conduit-token': `${t.token}x` }, { authorization: t.token }, { authorization: `Basic ${t.token}` },
    ];
    for (const headers of wrongs) {
      for (const route of GUARDED) {
        const res = await request(route, headers);
        assertAnthropicError(res, 401, 'authentication_error');
      }
    }
    assert.equal(t.fake.requests.length, 0);
  });

  it('accepts the token in x-conduit-token, as a Bearer token and as x-api-key', async () => {
    const ways: Record<string, string>[] = [{ 'x-conduit-token': t.token }, { authorization: `Bearer ${t.token}` }, { 'x-api-key': t.token }];
    for (const headers of ways) {
      const status = await request({ method: 'GET', path: '/v1/conduit/status' }, headers);
      assert.equal(status.status, 200, JSON.stringify(Object.keys(headers)));
      assert.equal(JSON.parse(status.text).running, true);
      const message = await request(GUARDED[0], headers);
      assert.equal(message.status, 200, message.text);
      const count = await request(GUARDED[2], headers);
      assert.equal(count.status, 200, count.text);
    }
  });

  it('refuses a Host header that is not a loopback name with 403, even with the token', async () => {
    for (const host of [`evil.example:${t.gateway.port}`, 'evil.example', `127.0.0.1.evil.example:${t.gateway.port}`, `localhost.evil.example`, '10.0.0.1', '[::2]:80', `0.0.0.0:${t.gateway.port}`, ...NOT_QUITE_LOOPBACK]) {
      for (const route of [{ method: 'GET', path: '/' }, { method: 'GET', path: '/health' }, ...GUARDED]) {
        const res = await request(route, { host, 'x-conduit-token': t.token });
        assertAnthropicError(res, 403, 'permission_error');
      }
    }
    // Loopback names pass.
    for (const host of [`127.0.0.1:${t.gateway.port}`, `localhost:${t.gateway.port}`, 'LOCALHOST', `[::1]:${t.gateway.port}`, '127.0.0.1', 'localhost', '[::1]', 'LocalHost:80']) {
      const res = await request({ method: 'GET', path: '/v1/conduit/status' }, { host, 'x-conduit-token': t.token });
      assert.equal(res.status, 200, host);
    }
  });

  it('never sends Access-Control-* headers, even to a CORS preflight from a web page', async () => {
    const origin = { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-conduit-token,content-type' };
    await request({ method: 'OPTIONS', path: '/v1/messages' }, origin);
    await request({ method: 'OPTIONS', path: '/v1/messages' }, { ...origin, 'x-conduit-token': t.token });
    await request({ method: 'OPTIONS', path: '/health' }, origin);
    await request({ method: 'GET', path: '/health' }, origin);
    await request(GUARDED[0], { ...origin, 'x-conduit-token': t.token });
    await request(GUARDED[1], { ...origin, 'x-conduit-token': t.token });
    // Every response of this suite so far.
    assert.ok(responses.length > 100);
    for (const { where, res } of responses) assertNoCors(res.headers, where);
  });

  it('listens on 127.0.0.1 only', async () => {
    assert.match(t.gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const connect = (host: string) => new Promise<string>((resolve) => {
      const s = net.connect({ host, port: t.gateway.port });
      s.setTimeout(3000, () => { s.destroy(); resolve('timeout'); });
      s.once('connect', () => { s.destroy(); resolve('connected'); });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(await connect('127.0.0.1'), 'connected');
    assert.notEqual(await connect('::1'), 'connected', 'not on IPv6 loopback either');
    const external = Object.values(os.networkInterfaces()).flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.'));
    // Only when the machine has a non-loopback IPv4 address can this be checked.
    if (external) assert.notEqual(await connect(external.address), 'connected', `reachable on ${external.address}`);
  });

  it('keeps the token in a file only its owner can read (0600)', function () {
    const file = path.join(t.home, 'token');
    const st = statSync(file);
    if (process.platform !== 'win32') assert.equal(st.mode & 0o777, 0o600);
    assert.ok(st.size >= 16);
  });

  it('never writes the provider key or the token to the log (debug on) or the status', async () => {
    // Requests of every kind, including failing ones, so that every code path logs.
    t.fake.enqueue({ kind: 'error', status: 529 }, { kind: 'cut', afterEvents: 2 }, { kind: 'stream-error', afterEvents: 2 });
    for (const body of [smallRequest(), smallRequest({ stream: true }), smallRequest({ stream: true }), smallRequest(), '{"model":', '[]']) {
      await request({ method: 'POST', path: '/v1/messages', body: typeof body === 'string' ? body : JSON.stringify(body) }, { 'x-conduit-token': t.token });
    }
    const status = await request({ method: 'GET', path: '/v1/conduit/status' }, { 'x-conduit-token': t.token });
    assert.equal(status.status, 200);
    assert.ok(!status.text.includes(PROVIDER_KEY), 'the key is in the status');
    assert.ok(!status.text.includes(t.token), 'the token is in the status');
    const s = JSON.parse(status.text);
    assert.equal(s.providers.find((p: { name: string }) => p.name === 'anthropic').hasKey, true);

    const log = logLines.join('');
    assert.ok(log.includes('DEBUG'), 'debug lines were written');
    assert.ok(!log.includes(PROVIDER_KEY), 'the provider key is in the log');
    assert.ok(!log.includes(t.token), 'the access token is in the log');
  });
});
