// Bodies over a limit, over real HTTP: the refusal names the limit that applies, so the
// person reading it knows what would lift it. Only the messages routes read up to
// maxBodyBytes; the settings, prices, session-info and leases routes have fixed limits of
// their own, which raising maxBodyBytes would not change.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest } from './helpers';

const MAX_BODY = 1024 * 1024;

describe('a body over a limit: the refusal names that limit', () => {
  let t: TestGateway;

  before(async () => { t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off' }, config: { maxBodyBytes: MAX_BODY } }); });
  after(async () => { await t?.close(); });

  /** With its length (rawRequest), or chunked: a stream of 16 KB pieces, sent by fetch without a length. */
  const send = async (method: string, path: string, body: Buffer, chunked: boolean): Promise<{ status: number; text: string }> => {
    const headers = { 'content-type': 'application/json', 'x-conduit-token': t.token };
    if (!chunked) return rawRequest(t.url, { method, path, body, headers, timeoutMs: 20_000 });
    const pieces = Array.from({ length: Math.ceil(body.length / 16_384) }, (_, i) => body.subarray(i * 16_384, (i + 1) * 16_384));
    const res = await fetch(`${t.url}${path}`, {
      method, headers, body: Readable.toWeb(Readable.from(pieces)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    return { status: res.status, text: await res.text() };
  };

  for (const chunked of [false, true]) {
    const how = chunked ? 'sent chunked' : 'with its length';
    it(`messages, ${how}: 413 naming maxBodyBytes in config.json`, async () => {
      const error = assertAnthropicError(await send('POST', '/v1/messages', Buffer.alloc(2 * MAX_BODY, 0x20), chunked), 413, 'request_too_large');
      assert.match(error.message, new RegExp(`limit of ${MAX_BODY} bytes \\(maxBodyBytes in config\\.json\\)`));
    });

    for (const [method, path] of [['PUT', '/v1/conduit/prices/my-model'], ['PUT', '/v1/conduit/sessions/run-1/info'], ['PUT', '/v1/conduit/leases/lease-1']]) {
      it(`${method} ${path}, ${how}: 413 naming the route's own limit, not maxBodyBytes`, async () => {
        const error = assertAnthropicError(await send(method, path, Buffer.alloc(64 * 1024, 0x20), chunked), 413, 'request_too_large');
        assert.match(error.message, /over the gateway's limit of \d+ bytes for this route$/);
        assert.doesNotMatch(error.message, /maxBodyBytes/);
      });
    }
  }

  it('still answers its status afterwards', async () => {
    const res = await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token }, timeoutMs: 10_000 });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).running, true);
  });
});
