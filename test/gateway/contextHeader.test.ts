// The session context header (x-conduit-context) has a size limit the wrapper checks
// before claude runs; a client that sends a larger one gets an error naming the header,
// whether the gateway reads it (over the limit) or Node's HTTP layer refuses the request
// headers as a whole (over 16 KB).
import assert from 'node:assert/strict';
import net from 'node:net';
import { MAX_CONTEXT_HEADER_BYTES, encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest, smallRequest } from './helpers';

/** A valid session context whose encoded form is `size` characters or a few more. */
function contextOfSize(size: number): string {
  const ctx: SessionContext = { sessionId: 'sess-big', projectModelConfig: { enabled: true, rules: { reasoningKeywords: [] } } };
  const keywords = ctx.projectModelConfig!.rules!.reasoningKeywords!;
  while (encodeSessionContext(ctx).length < size) keywords.push(`think hard about item ${keywords.length}`);
  return encodeSessionContext(ctx);
}

/** Sends raw bytes and reads the whole answer (until the gateway closes the connection). */
function exchange(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.end(request);
  });
}

describe('gateway: the session context header\'s size', () => {
  let t: TestGateway;
  let port: number;
  before(async () => {
    t = await startTestGateway();
    port = Number(new URL(t.url).port);
  });
  after(async () => {
    await t?.close();
  });

  const post = (context: string) => rawRequest(t.url, {
    method: 'POST', path: '/v1/messages', body: JSON.stringify(smallRequest()),
    headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'x-conduit-context': context },
  });

  it('a context at the limit is read', async () => {
    const context = contextOfSize(MAX_CONTEXT_HEADER_BYTES - 40);
    assert.ok(context.length <= MAX_CONTEXT_HEADER_BYTES);
    const res = await post(context);
    assert.equal(res.status, 200, res.text);
  });

  it('a context over the limit (the request headers still under 16 KB): 400 naming the header and the limit, nothing forwarded', async () => {
    const before = t.fake.requests.length;
    const res = await post(contextOfSize(MAX_CONTEXT_HEADER_BYTES + 1000));
    const error = assertAnthropicError(res, 400, 'invalid_request_error');
    assert.match(error.message, /x-conduit-context/);
    assert.match(error.message, new RegExp(`limit of ${MAX_CONTEXT_HEADER_BYTES}`));
    assert.match(error.message, /SYNAPSE_PROJECT_MODEL_CONFIG/);
    assert.equal(t.fake.requests.length, before);
  });

  it('request headers over 16 KB because of the context: 431 in Anthropic\'s shape naming the header', async () => {
    const request = `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-conduit-token: ${t.token}\r\ncontent-type: application/json\r\n`
      + `x-conduit-context: ${contextOfSize(20_000)}\r\ncontent-length: 2\r\n\r\n{}`;
    const res = await exchange(port, request);
    const error = assertAnthropicError({ status: res.status, text: res.body }, 431, 'request_too_large');
    assert.match(error.message, /x-conduit-context/);
    assert.match(error.message, /SYNAPSE_PROJECT_MODEL_CONFIG/);
    assert.match(res.head, /\r\ncontent-type: application\/json/i);
  });

  it('request headers over 16 KB for another reason: 431 in Anthropic\'s shape that does not blame the context', async () => {
    const request = `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-conduit-token: ${t.token}\r\n`
      + `x-something-else: ${'y'.repeat(20_000)}\r\ncontent-length: 2\r\n\r\n{}`;
    const res = await exchange(port, request);
    const error = assertAnthropicError({ status: res.status, text: res.body }, 431, 'request_too_large');
    assert.doesNotMatch(error.message, /x-conduit-context/);
    assert.match(error.message, /16 KB/);
  });
});
