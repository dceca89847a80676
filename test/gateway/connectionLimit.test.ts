// The gateway keeps at most maxConnections (config.json) connections open at once: a local
// process opening sockets without end cannot use up its file descriptors. Over real TCP
// with a small cap: the connection past it is closed unanswered, and once the others
// close, the gateway answers again.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { parseConfig } from '../../src/conduit/core/config';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { rawRequest } from './helpers';

const CAP = 4;

/** A connection that has sent one keep-alive request and has its answer's first bytes (so the server holds it). */
async function heldConnection(port: number, token: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(`GET /v1/conduit/status HTTP/1.1\r\nhost: 127.0.0.1\r\nx-conduit-token: ${token}\r\nconnection: keep-alive\r\n\r\n`);
  const [chunk] = await once(socket, 'data') as [Buffer];
  assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 200 /);
  return socket;
}

/** What a connection receives before it closes: its bytes, and the error it closed with, if any. */
async function exchange(port: number, token: string): Promise<{ received: number; error: string | null }> {
  const socket = net.connect(port, '127.0.0.1');
  let received = 0;
  let error: string | null = null;
  socket.on('data', (chunk: Buffer) => { received += chunk.length; });
  socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message; });
  socket.on('connect', () => socket.write(`GET /v1/conduit/status HTTP/1.1\r\nhost: 127.0.0.1\r\nx-conduit-token: ${token}\r\nconnection: close\r\n\r\n`));
  await once(socket, 'close');
  return { received, error };
}

describe('gateway: at most maxConnections open connections', () => {
  let t: TestGateway;
  before(async () => { t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off' }, config: { maxConnections: CAP } }); });
  after(async () => { await t?.close(); });

  it('closes a connection past the cap unanswered, and answers again once the held ones close', async () => {
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < CAP; i++) held.push(await heldConnection(t.gateway.port, t.token));
      const refused = await exchange(t.gateway.port, t.token);
      assert.equal(refused.received, 0, `no answer past the cap (closed with ${refused.error ?? 'no error'})`);
    } finally {
      // The server counts a connection off when it ends its side, before this side sees the close.
      await Promise.all(held.map(async (s) => { s.end(); if (!s.closed) await once(s, 'close'); }));
    }
    const res = await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token }, timeoutMs: 10_000 });
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).running, true);
    // Below the cap, a connection is answered as before.
    assert.ok((await exchange(t.gateway.port, t.token)).received > 0);
  });

  it('config.json: maxConnections defaults to 1024 and must be a whole number from 1 to 65536', () => {
    assert.equal(parseConfig({}).maxConnections, 1024);
    assert.equal(parseConfig({ maxConnections: 16 }).maxConnections, 16);
    for (const bad of [0, -1, 1.5, 65_537, '16']) assert.throws(() => parseConfig({ maxConnections: bad }), /config\.maxConnections/, String(bad));
  });
});
