// Fallbacks over real HTTP: a failure before the first byte (429, 529, 5xx, a refused
// connection) moves on to the next fallback model; after the first byte the error
// passes through to the client and nothing is retried.
import assert from 'node:assert/strict';
import { encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import {
  EventSubscriber, assertAnthropicError, closedPort, journalRecord, parseSse, rawRequest, smallRequest, startRelay, type Relay,
} from './helpers';

const FIRST = 'claude-sonnet-4-5';
const SECOND = 'claude-opus-4-5';
const THIRD = 'claude-haiku-4-5';

describe('fallbacks on HTTP errors before the first byte', () => {
  let t: TestGateway;
  let relay: Relay;
  let events: EventSubscriber;

  before(async () => {
    relay = await startRelay();
    t = await startTestGateway({
      // No background rule: the haiku fallback must be sent as haiku, and requests are passed through.
      config: { routing: { fallbackModels: [SECOND, THIRD], backgroundModel: null } },
      env: { CONDUIT_ANTHROPIC_URL: relay.url },
    });
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

  for (const status of [429, 529, 500, 503]) {
    for (const stream of [false, true]) {
      it(`${status} (${stream ? 'streamed' : 'non-streamed'}) → the next model answers`, async () => {
        t.fake.enqueue({ kind: 'error', status });
        const res = await t.messages(smallRequest({ stream }));
        const text = await res.text();
        assert.equal(res.status, 200, text);
        assert.equal(res.headers.get('x-conduit-model'), SECOND);
        const models = (await t.fake.waitForRequests(2)).map((r) => r.body.model);
        assert.deepEqual(models, [FIRST, SECOND]);
        assert.equal(t.fake.requests.length, 2, 'no third attempt');
        if (stream) assert.equal(parseSse(text).at(-1)?.event, 'message_stop');
        else assert.equal(JSON.parse(text).model, SECOND);

        const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
        assert.equal(record.status, 200);
        assert.equal(record.error, undefined);
        assert.equal(record.decision.model, SECOND);
        assert.deepEqual(record.decision.fallbacks, [`anthropic/${FIRST}`]);
        assert.ok(record.usage && record.usage.outputTokens > 0);
        assert.deepEqual((await journalRecord(t.home, record.id)).decision.fallbacks, [`anthropic/${FIRST}`]);
      });
    }
  }

  it('the decision published before the first attempt stays as published; the record names the model that answered', async () => {
    t.fake.enqueue({ kind: 'error', status: 529 });
    const res = await t.messages(smallRequest({ stream: true }));
    await res.text();
    const id = String(res.headers.get('x-conduit-request-id'));
    const record = await events.usage(id);
    const published = events.events.find((e) => e.type === 'decision' && e.requestId === id);
    assert.ok(published && published.type === 'decision', 'the decision event came before the usage');
    assert.equal(published.decision.model, FIRST);
    assert.equal(published.decision.fallbacks, undefined);
    assert.equal(record.decision.model, SECOND);
    assert.deepEqual(record.decision.fallbacks, [`anthropic/${FIRST}`]);
    assert.equal(record.decision.timestamp, published.decision.timestamp, 'the same decision, its model replaced');
  });

  it('two failures → the third model; decision.fallbacks lists both', async () => {
    t.fake.enqueue({ kind: 'error', status: 529 }, { kind: 'error', status: 429 });
    const res = await t.messages(smallRequest({ stream: true }));
    assert.equal(res.status, 200);
    await res.text();
    assert.deepEqual((await t.fake.waitForRequests(3)).map((r) => r.body.model), [FIRST, SECOND, THIRD]);
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(record.decision.model, THIRD);
    assert.deepEqual(record.decision.fallbacks, [`anthropic/${FIRST}`, `anthropic/${SECOND}`]);
  });

  it('when every model fails, the last error passes through unchanged', async () => {
    t.fake.enqueue({ kind: 'error', status: 429 }, { kind: 'error', status: 529 }, { kind: 'error', status: 500, message: 'the last one' });
    const res = await t.messages(smallRequest());
    const text = await res.text();
    const err = assertAnthropicError({ status: res.status, text }, 500, 'api_error');
    assert.equal(err.message, 'the last one');
    assert.equal(relay.responses.length, 3);
    assert.equal(text, relay.responses[2].body().toString('utf8'), 'byte-identical to the stand-in\'s last answer');
    assert.equal(res.headers.get('request-id'), relay.responses[2].headers['request-id']);
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(record.status, 500);
    assert.equal(record.error, 'api_error');
    assert.equal(record.usage, null);
    assert.equal(record.cost.cost, null);
    assert.deepEqual(record.decision.fallbacks, [`anthropic/${FIRST}`, `anthropic/${SECOND}`]);
  });

  it('a 4xx that is not 429 is not retried', async () => {
    t.fake.enqueue({ kind: 'error', status: 400, message: 'bad request' });
    const res = await t.messages(smallRequest());
    assertAnthropicError({ status: res.status, text: await res.text() }, 400, 'invalid_request_error');
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(t.fake.requests.length, 1);
    assert.equal(record.decision.fallbacks, undefined);
  });

  it('a stream cut after the first byte: the client gets an SSE error event at the end, no retry, record stream_cut', async () => {
    t.fake.enqueue({ kind: 'cut', afterEvents: 4 });
    const res = await t.messages(smallRequest({ stream: true }));
    assert.equal(res.status, 200);
    const text = await res.text();
    const frames = parseSse(text);
    assert.deepEqual(frames.map((f) => f.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    // What came before the error is the stand-in's bytes, unchanged.
    assert.ok(text.startsWith(relay.responses[0].body().toString('utf8')));
    const error = JSON.parse(frames[4].data);
    assert.equal(error.type, 'error');
    assert.equal(error.error.type, 'api_error');
    assert.equal(typeof error.error.message, 'string');

    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(t.fake.requests.length, 1, 'no retry after the first byte');
    assert.equal(record.error, 'stream_cut');
    assert.equal(record.decision.model, FIRST);
    assert.equal(record.decision.fallbacks, undefined);
    // message_start reached the client, so its usage was recorded.
    assert.equal(record.usage?.inputTokens, Math.ceil(t.fake.requests[0].rawBody.length / 4));
    assert.equal((await journalRecord(t.home, record.id)).error, 'stream_cut');
  });

  it('an error event in the stream passes through as the stand-in sent it, no retry, record names the error', async () => {
    t.fake.enqueue({ kind: 'stream-error', afterEvents: 3, type: 'overloaded_error' });
    const res = await t.messages(smallRequest({ stream: true }));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(text, relay.responses[0].body().toString('utf8'), 'byte-identical, error event included');
    const frames = parseSse(text);
    assert.equal(frames.at(-1)?.event, 'error');
    assert.equal(JSON.parse(frames.at(-1)!.data).error.type, 'overloaded_error');
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(t.fake.requests.length, 1, 'no retry after the first byte');
    assert.equal(record.error, 'overloaded_error');
  });

  it('a non-streamed reply cut half way: the client sees a broken response, no retry, record stream_cut', async () => {
    t.fake.enqueue({ kind: 'cut', afterEvents: 0 });
    const res = await rawRequest(t.url, {
      method: 'POST', path: '/v1/messages',
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token },
      body: JSON.stringify(smallRequest()),
    });
    assert.equal(res.status, 200);
    assert.equal(res.complete, false, 'the response is not complete');
    assert.ok(res.body.length > 0 && res.body.length < Number(res.headers['content-length']));
    const record = await events.usage(String(res.headers['x-conduit-request-id']));
    assert.equal(t.fake.requests.length, 1);
    assert.equal(record.error, 'stream_cut');
  });
});

describe('fallbacks on a refused connection', () => {
  let t: TestGateway;
  let events: EventSubscriber;

  before(async () => {
    const port = await closedPort();
    t = await startTestGateway({
      config: {
        providers: { dead: { baseUrl: `http://127.0.0.1:${port}`, apiKey: 'sk-dead-provider-key', models: ['claude-x'] } },
        routing: { defaultModel: 'dead/claude-x', fallbackModels: [FIRST, SECOND] },
      },
    });
    events = await EventSubscriber.open(t.url, t.token);
  });
  after(async () => {
    events?.close();
    await t?.close();
  });
  beforeEach(() => t.fake.reset());

  for (const stream of [false, true]) {
    it(`a provider that refuses the connection → the next model answers (${stream ? 'streamed' : 'non-streamed'})`, async () => {
      const res = await t.messages(smallRequest({ stream }));
      assert.equal(res.status, 200);
      await res.text();
      assert.equal(res.headers.get('x-conduit-model'), FIRST);
      const [up] = await t.fake.waitForRequests(1);
      assert.equal(up.body.model, FIRST);
      assert.equal(up.headers['x-api-key'], 'sk-test-upstream-key', 'the anthropic provider\'s key, not the dead one\'s');
      const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
      assert.equal(record.decision.model, FIRST);
      assert.equal(record.decision.provider, 'anthropic');
      assert.equal(record.decision.source, 'default');
      assert.deepEqual(record.decision.fallbacks, ['dead/claude-x']);
    });
  }

  it('refused, then 529, then the third answers', async () => {
    t.fake.enqueue({ kind: 'error', status: 529 });
    const res = await t.messages(smallRequest());
    assert.equal(res.status, 200);
    await res.text();
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(record.decision.model, SECOND);
    assert.deepEqual(record.decision.fallbacks, ['dead/claude-x', `anthropic/${FIRST}`]);
  });

  it('a refused connection with no fallback left → 502 in Anthropic\'s shape', async () => {
    // The project's rules (from the session context) leave no fallback.
    const context = encodeSessionContext({ projectId: 'p1', projectModelConfig: { enabled: true, defaultModel: 'dead/claude-x', rules: { fallbackModels: [] } } });
    const res = await t.messages(smallRequest(), { 'x-conduit-context': context });
    assertAnthropicError({ status: res.status, text: await res.text() }, 502, 'api_error');
    const record = await events.usageWhere((r) => r.context.projectId === 'p1' && r.status === 502);
    assert.equal(record.error, 'upstream_unreachable');
    assert.equal(t.fake.requests.length, 0);
  });
});
