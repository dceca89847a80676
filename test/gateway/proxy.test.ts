// The gateway as a proxy, over real HTTP: replies reach the client byte for byte as the
// stand-in sent them (streamed as they arrive), the stand-in receives the routed model
// and otherwise the client's bytes, usage and cost are recorded as the stand-in reported
// them, and credentials go where they belong.
import assert from 'node:assert/strict';
import { claudeCodeRequest } from '../support/claudeRequest';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import {
  EventSubscriber, SseReader, assertAnthropicError, journalRecord, parseSse, smallRequest, startRelay, type Relay,
} from './helpers';

const ROUTED = 'claude-opus-4-5';
/** Anthropic's published prices for Claude Opus 4.5, USD per million tokens. */
const OPUS_45 = { input: 5, output: 25, cacheWrite5m: 6.25, cacheWrite1h: 10, cacheRead: 0.5 };

/** The captured Claude Code request's headers, minus what fetch sets itself or the gateway must not see. */
function claudeHeaders(token: string): Record<string, string> {
  const { headers } = claudeCodeRequest();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!['authorization', 'connection', 'host', 'content-length', 'accept-encoding'].includes(k.toLowerCase())) out[k] = v;
  }
  out['x-conduit-token'] = token;
  return out;
}

/** Random ids differ between two answers of the stand-in; everything else must not. */
function withoutIds(text: string): string {
  return text.replace(/\b(msg|req|toolu)_01[A-Za-z0-9]{22}\b/g, '$1_<id>');
}

describe('gateway proxy: pass-through, routing, usage and credentials', () => {
  let t: TestGateway;
  let relay: Relay;
  let events: EventSubscriber;

  before(async () => {
    // Gateway → relay (records the stand-in's exact bytes) → stand-in.
    relay = await startRelay();
    t = await startTestGateway({ config: { routing: { defaultModel: ROUTED } }, env: { CONDUIT_ANTHROPIC_URL: relay.url } });
    relay.setTarget(t.fake.url);
    events = await EventSubscriber.open(t.url, t.token);
  });

  after(async () => {
    events?.close();
    await t?.close();
    await relay?.close();
  });

  beforeEach(() => {
    t.fake.reset();
    relay.responses.length = 0;
  });

  async function send(body: unknown, headers: Record<string, string> = {}): Promise<{ res: Response; bytes: Buffer }> {
    const res = await fetch(`${t.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...claudeHeaders(t.token), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { res, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'non-streamed'} reply reaches the client byte-identical to what the stand-in sent`, async () => {
      const body = { ...claudeCodeRequest().body, stream };
      const { res, bytes } = await send(body);
      assert.equal(res.status, 200);
      assert.equal(relay.responses.length, 1);
      const sent = relay.responses[0];
      assert.ok(sent.ended, 'the stand-in finished its reply');
      assert.ok(bytes.equals(sent.body()), 'client bytes equal the stand-in bytes');
      assert.equal(res.headers.get('content-type'), sent.headers['content-type']);
      assert.equal(res.headers.get('request-id'), sent.headers['request-id']);
      assert.equal(res.headers.get('x-conduit-model'), ROUTED);
      assert.equal(res.headers.get('x-conduit-route'), 'default');
      assert.match(String(res.headers.get('x-conduit-request-id')), /^[0-9a-f-]{36}$/);
      if (stream) {
        assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
        const names = parseSse(bytes.toString('utf8')).map((f) => f.event);
        assert.equal(names[0], 'message_start');
        assert.equal(names.at(-1), 'message_stop');
      } else {
        assert.equal(JSON.parse(bytes.toString('utf8')).model, ROUTED);
      }

      // The same (routed) request sent straight to the stand-in answers the same bytes,
      // but for the random message and request ids.
      const [received] = await t.fake.waitForRequests(1);
      const direct = await fetch(`${t.fake.url}/v1/messages?beta=true`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'direct' }, body: new Uint8Array(received.rawBody),
      });
      assert.equal(direct.status, 200);
      assert.equal(withoutIds(bytes.toString('utf8')), withoutIds(await direct.text()));
    });
  }

  it('the stand-in receives the routed model and otherwise the client\'s exact bytes and headers', async () => {
    const { body, headers } = claudeCodeRequest();
    const text = JSON.stringify(body);
    const requested = `"model":${JSON.stringify(body.model)}`;
    assert.equal(text.split(requested).length, 2, 'the requested model appears once');
    const { res } = await send(text);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-conduit-model'), ROUTED);
    assert.equal(res.headers.get('x-conduit-route'), 'default');

    const [up] = await t.fake.waitForRequests(1);
    assert.equal(up.url, '/v1/messages?beta=true');
    assert.equal(up.body.model, ROUTED);
    assert.ok(up.rawBody.equals(Buffer.from(text.replace(requested, `"model":${JSON.stringify(ROUTED)}`))), 'body is byte-identical but for the model');
    for (const name of ['anthropic-beta', 'anthropic-version', 'x-claude-code-session-id', 'user-agent', 'x-app', 'x-stainless-retry-count']) {
      assert.equal(up.headers[name], headers[name], `header ${name} forwarded`);
    }
    assert.equal(up.headers['x-conduit-token'], undefined);
    assert.equal(up.headers['x-conduit-context'], undefined);
    assert.equal(up.headers['content-length'], String(up.rawBody.length));
  });

  it('streams pass through as they arrive: the client reads message_start while the stand-in is still sending', async () => {
    t.fake.enqueue({ kind: 'message', text: 'one two three four five six seven eight nine ten', delayMs: 120 });
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token },
      body: JSON.stringify(smallRequest({ stream: true })),
    });
    assert.equal(res.status, 200);
    const reader = new SseReader(res);
    const first = await reader.nextFrame();
    assert.equal(first?.event, 'message_start');
    // At this moment the stand-in has not sent its last events yet.
    assert.equal(relay.responses.length, 1);
    const upstream = relay.responses[0];
    assert.equal(upstream.ended, false, 'the stand-in is still streaming');
    assert.ok(!upstream.body().toString('utf8').includes('event: message_stop'), 'message_stop not yet sent by the stand-in');

    const all = await reader.rest();
    assert.ok(upstream.ended);
    assert.ok(all.equals(upstream.body()), 'the whole stream is byte-identical');
    assert.equal(parseSse(all.toString('utf8')).at(-1)?.event, 'message_stop');
  });

  for (const stream of [true, false]) {
    it(`records usage (cache writes 5m/1h, cache reads) and cost of a ${stream ? 'streamed' : 'non-streamed'} reply as the stand-in sent them`, async () => {
      const usage = {
        input_tokens: 1234, output_tokens: 567, cache_creation_input_tokens: 3000, cache_read_input_tokens: 40_000,
        cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
      };
      t.fake.enqueue({ kind: 'message', text: 'recorded', usage });
      const sessionId = `claude-session-${stream ? 's' : 'j'}`;
      const { res, bytes } = await send(smallRequest({ stream }), { 'x-claude-code-session-id': sessionId });
      assert.equal(res.status, 200);
      const requestId = String(res.headers.get('x-conduit-request-id'));
      const record = await events.usage(requestId);

      // What the stand-in sent, read back from the client's bytes.
      if (stream) {
        const frames = parseSse(bytes.toString('utf8'));
        const start = JSON.parse(frames.find((f) => f.event === 'message_start')!.data);
        assert.deepEqual(start.message.usage.cache_creation, usage.cache_creation);
      } else {
        assert.deepEqual(JSON.parse(bytes.toString('utf8')).usage.cache_creation, usage.cache_creation);
      }

      assert.deepEqual(record.usage, {
        inputTokens: 1234, outputTokens: 567, cacheCreationTokens: 3000, cacheCreation5mTokens: 1000,
        cacheCreation1hTokens: 2000, cacheReadTokens: 40_000,
      });
      const expected = (1234 * OPUS_45.input + 567 * OPUS_45.output + 1000 * OPUS_45.cacheWrite5m
        + 2000 * OPUS_45.cacheWrite1h + 40_000 * OPUS_45.cacheRead) / 1e6;
      assert.ok(record.cost.cost !== null && Math.abs(record.cost.cost - expected) < 1e-9, `cost ${record.cost.cost} ≈ ${expected}`);
      assert.match(record.cost.costSource, /^table:/);
      assert.equal(record.status, 200);
      assert.equal(record.stream, stream);
      assert.equal(record.error, undefined);
      assert.equal(record.decision.model, ROUTED);
      assert.equal(record.decision.provider, 'anthropic');
      assert.equal(record.decision.source, 'default');
      assert.equal(record.decision.requestedModel, 'claude-sonnet-4-5');
      assert.ok(record.decision.tokenCount > 0);
      assert.equal(record.context.claudeSessionId, sessionId);
      assert.equal(typeof record.firstByteMs, 'number');
      assert.ok(record.durationMs >= (record.firstByteMs ?? 0));

      // The journal holds the same record, durably.
      const line = await journalRecord(t.home, requestId);
      assert.deepEqual(line, record);
    });
  }

  it('sends the provider key upstream as x-api-key and never the conduit token', async () => {
    const auths: Record<string, string>[] = [{ 'x-conduit-token': t.token }, { authorization: `Bearer ${t.token}` }, { 'x-api-key': t.token }];
    for (const auth of auths) {
      t.fake.reset();
      const res = await fetch(`${t.url}/v1/messages`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(smallRequest()),
      });
      assert.equal(res.status, 200, JSON.stringify(Object.keys(auth)));
      await res.arrayBuffer();
      const [up] = await t.fake.waitForRequests(1);
      assert.equal(up.headers['x-api-key'], 'sk-test-upstream-key');
      assert.equal(up.headers.authorization, undefined);
      for (const [name, value] of Object.entries(up.headers)) {
        assert.ok(!String(value).includes(t.token), `the conduit token leaked upstream in ${name}`);
      }
    }
  });

  it('forwards the client\'s own credentials (Bearer or x-api-key that is not the conduit token) instead of the key', async () => {
    const oauth = 'oauth-token-of-the-client';
    const { res } = await send(smallRequest(), { authorization: `Bearer ${oauth}` });
    assert.equal(res.status, 200);
    let [up] = await t.fake.waitForRequests(1);
    assert.equal(up.headers.authorization, `Bearer ${oauth}`);
    assert.equal(up.headers['x-api-key'], undefined, 'the provider key is not added');
    assert.equal(up.headers['x-conduit-token'], undefined);

    t.fake.reset();
    const own = await send(smallRequest(), { 'x-api-key': 'api-key-of-the-person' });
    assert.equal(own.res.status, 200);
    [up] = await t.fake.waitForRequests(1);
    assert.equal(up.headers['x-api-key'], 'api-key-of-the-person');
    assert.equal(up.headers.authorization, undefined);
  });
});

describe('gateway proxy without a provider key', () => {
  let t: TestGateway;
  before(async () => { t = await startTestGateway({ apiKey: null }); });
  after(async () => { await t?.close(); });

  it('answers 401 in Anthropic\'s shape and forwards nothing', async () => {
    for (const stream of [false, true]) {
      const res = await t.messages(smallRequest({ stream }));
      assertAnthropicError({ status: res.status, text: await res.text() }, 401, 'authentication_error');
    }
    assert.equal(t.fake.requests.length, 0);
  });

  it('still serves clients that bring their own credentials', async () => {
    const res = await t.messages(smallRequest(), { authorization: 'Bearer test-oauth-someone' });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [up] = await t.fake.waitForRequests(1);
    assert.equal(up.headers.authorization, 'Bearer test-oauth-someone');
  });
});
