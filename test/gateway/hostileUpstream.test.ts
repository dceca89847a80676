// A provider that answers in ways that are legal or common but not Anthropic's usual
// shape, over real HTTP: SSE with CRLF or CR line ends, a compressed body although
// identity was asked for, a stream torn inside an event, an error page that is not JSON;
// a client that goes away mid-stream; every fallback failing. Streams are read with a
// parser that follows the SSE specification, as a conforming client reads them.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { estimateOutputTokens, type ContentEncoding } from '../support/fakeAnthropic';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { parseSseSpec, type SpecEvent } from '../support/sseSpec';
import {
  EventSubscriber, SseReader, assertAnthropicError, closedPort, journalRecord, rawRequest, smallRequest, startRelay, type RawResponse, type Relay,
} from './helpers';

const DECODE: Record<ContentEncoding, (b: Buffer) => Buffer> = {
  gzip: (b) => zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  br: (b) => zlib.brotliDecompressSync(b, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
  deflate: (b) => zlib.inflateSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
};

/** The event names of a stream. */
function names(events: SpecEvent[]): string[] {
  return events.map((e) => e.event);
}

describe('gateway with a hostile provider', () => {
  let t: TestGateway;
  let relay: Relay;
  let events: EventSubscriber;

  before(async () => {
    // Gateway → relay (records the stand-in's exact bytes) → stand-in.
    relay = await startRelay();
    t = await startTestGateway({ env: { CONDUIT_ANTHROPIC_URL: relay.url } });
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

  /** POST /v1/messages on a fresh connection; the body as the gateway sent it (never decompressed). */
  function post(body: unknown): Promise<RawResponse> {
    return rawRequest(t.url, {
      method: 'POST', path: '/v1/messages',
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
    });
  }

  const recordOf = (res: RawResponse) => events.usage(String(res.headers['x-conduit-request-id']));

  describe('SSE line ends', () => {
    for (const [name, lineEnding] of [['CRLF', '\r\n'], ['CR', '\r']] as const) {
      it(`a stream with ${name} line ends passes as sent, its usage is recorded, no error is added`, async () => {
        t.fake.enqueue({ kind: 'message', text: 'hello over CRLF', lineEnding });
        const res = await post(smallRequest({ stream: true }));
        assert.equal(res.status, 200);
        assert.ok(res.complete);
        assert.ok(res.body.equals(relay.responses[0].body()), 'the client gets the stand-in\'s bytes, nothing added');
        const stream = parseSseSpec(res.body);
        assert.equal(stream.at(-1)?.event, 'message_stop');
        assert.ok(!names(stream).includes('error'), names(stream).join(','));
        const record = await recordOf(res);
        assert.equal(record.error, undefined);
        assert.equal(record.usage?.outputTokens, estimateOutputTokens('hello over CRLF'));
        assert.ok(record.usage!.inputTokens > 0);
        assert.equal(record.outputEstimated, undefined);
      });
    }
  });

  describe('a stream torn inside an event', () => {
    it('the provider cuts the connection: the gateway\'s error arrives as its own event', async () => {
      // message_start, content_block_start, ping, one delta, then half of the next delta.
      t.fake.enqueue({ kind: 'cut', afterEvents: 4, midEvent: true, text: 'a reply long enough to be cut in three deltas' });
      const res = await post(smallRequest({ stream: true }));
      assert.equal(res.status, 200);
      const sent = relay.responses[0].body();
      assert.ok(res.body.subarray(0, sent.length).equals(sent), 'the stand-in\'s bytes come first, unchanged');
      const stream = parseSseSpec(res.body);
      const last = stream.at(-1)!;
      assert.equal(last.event, 'error', names(stream).join(','));
      const error = JSON.parse(last.data);
      assert.equal(error.type, 'error');
      assert.equal(error.error.type, 'api_error');
      assert.match(error.error.message, /connection broke/);
      // The torn delta is its own (unparsable) event before it, not mixed with the error.
      assert.equal(stream.at(-2)?.event, 'content_block_delta');
      assert.ok(!stream.at(-2)!.data.includes('connection broke'));
      assert.equal((await recordOf(res)).error, 'stream_cut');
    });

    it('the provider ends the reply cleanly inside an event: the error event is still its own', async () => {
      t.fake.enqueue({ kind: 'cut', afterEvents: 4, midEvent: true, cleanEnd: true, lineEnding: '\r\n', text: 'cut and closed cleanly, mid event' });
      const res = await post(smallRequest({ stream: true }));
      assert.ok(res.complete);
      const stream = parseSseSpec(res.body);
      assert.equal(stream.at(-1)?.event, 'error', names(stream).join(','));
      assert.match(JSON.parse(stream.at(-1)!.data).error.message, /before message_stop/);
      assert.equal((await recordOf(res)).error, 'stream_incomplete');
    });

    it('a stream cut between events gets the error event straight after (no extra blank line needed)', async () => {
      t.fake.enqueue({ kind: 'cut', afterEvents: 4 });
      const res = await post(smallRequest({ stream: true }));
      const sent = relay.responses[0].body().toString('latin1');
      assert.ok(res.body.toString('latin1').startsWith(`${sent}event: error\n`));
    });
  });

  describe('a client that goes away mid-stream', () => {
    it('the record estimates the output tokens of the deltas it passed on, flagged as estimated', async () => {
      const text = 'The provider bills every token it generated before the client went away, so the record counts them. '.repeat(6);
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      // message_start, content_block_start, ping and two of the three deltas; the rest waits.
      t.fake.enqueue({ kind: 'message', text, pause: { afterEvents: 5, until: held } });
      const abort = new AbortController();
      try {
        const res = await fetch(`${t.url}/v1/messages`, {
          method: 'POST', signal: abort.signal, body: JSON.stringify(smallRequest({ stream: true })),
          headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'anthropic-version': '2023-06-01' },
        });
        const reader = new SseReader(res);
        const seen: string[] = [];
        while (seen.length < 2) {
          const frame = await reader.nextFrame();
          assert.ok(frame, 'the stream went on to its second delta');
          if (frame.event === 'content_block_delta') seen.push(JSON.parse(frame.data).delta.text);
        }
        const id = String(res.headers.get('x-conduit-request-id'));
        abort.abort();
        const record = await events.usage(id);
        assert.equal(record.error, 'client_closed');
        assert.equal(record.outputEstimated, true);
        const delivered = estimateOutputTokens(seen.join(''));
        assert.ok(record.usage!.outputTokens >= delivered * 0.75 && record.usage!.outputTokens <= delivered * 1.5,
          `${record.usage!.outputTokens} tokens recorded for ${seen.join('').length} characters passed on (about ${delivered})`);
        assert.ok(record.cost.cost! > 0);
        assert.equal((await journalRecord(t.home, id)).outputEstimated, true);
      } finally {
        release();
      }
    });
  });

  describe('a compressed reply although identity was asked for', () => {
    for (const contentEncoding of ['gzip', 'br', 'deflate'] as const) {
      for (const stream of [true, false]) {
        it(`${contentEncoding}, ${stream ? 'streamed' : 'non-streamed'}: passed on as sent, with its headers; usage read from the decoded bytes`, async () => {
          t.fake.enqueue({ kind: 'message', text: `compressed with ${contentEncoding}`, contentEncoding });
          const res = await post(smallRequest({ stream }));
          assert.equal(res.status, 200);
          assert.ok(res.complete);
          assert.equal(res.headers['content-encoding'], contentEncoding);
          assert.ok(res.body.equals(relay.responses[0].body()), 'the client gets the stand-in\'s bytes, nothing added');
          const decoded = DECODE[contentEncoding](res.body);
          if (stream) assert.equal(parseSseSpec(decoded).at(-1)?.event, 'message_stop');
          else assert.equal(JSON.parse(decoded.toString('utf8')).type, 'message');
          const record = await recordOf(res);
          assert.equal(record.error, undefined);
          assert.equal(record.usage?.outputTokens, estimateOutputTokens(`compressed with ${contentEncoding}`));
          assert.ok(record.usage!.inputTokens > 0);
        });
      }
    }

    it('a compressed stream cut mid-way: no text is added to the compressed bytes; usage so far is recorded', async () => {
      t.fake.enqueue({ kind: 'cut', afterEvents: 4, contentEncoding: 'gzip', text: 'compressed then cut off' });
      const res = await post(smallRequest({ stream: true }));
      assert.equal(res.complete, false, 'the client sees a broken reply');
      assert.ok(res.body.equals(relay.responses[0].body()), 'exactly the stand-in\'s bytes');
      assert.deepEqual(names(parseSseSpec(DECODE.gzip(res.body))), ['message_start', 'content_block_start', 'ping', 'content_block_delta']);
      const record = await recordOf(res);
      assert.equal(record.error, 'stream_cut');
      assert.ok(record.usage!.inputTokens > 0);
      assert.equal(record.outputEstimated, true);
    });

    it('a compressed stream ended before message_stop: passed on as sent, recorded as incomplete', async () => {
      t.fake.enqueue({ kind: 'cut', afterEvents: 4, contentEncoding: 'br', cleanEnd: true });
      const res = await post(smallRequest({ stream: true }));
      assert.ok(res.complete);
      assert.ok(res.body.equals(relay.responses[0].body()), 'exactly the stand-in\'s bytes');
      assert.equal((await recordOf(res)).error, 'stream_incomplete');
    });
  });

  describe('an error reply that is not Anthropic\'s JSON', () => {
    const PAGE = '<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title><style>body{color:red}</style></head>'
      + '<body><center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>';

    it('an HTML 503 page is wrapped in Anthropic\'s error shape, keeping the page\'s text and the provider\'s headers', async () => {
      t.fake.enqueue({ kind: 'raw-error', status: 503, contentType: 'text/html', body: PAGE });
      const res = await post(smallRequest({ stream: true }));
      const error = assertAnthropicError(res, 503, 'overloaded_error');
      assert.match(error.message, /503 Service Temporarily Unavailable/);
      assert.doesNotMatch(error.message, /<h1>|color:red/);
      assert.equal(Number(res.headers['content-length']), res.body.length);
      assert.equal(res.headers['request-id'], relay.responses[0].headers['request-id']);
      const record = await recordOf(res);
      assert.equal(record.status, 503);
      assert.equal(record.error, 'overloaded_error');
    });

    const TYPES: [number, string][] = [
      [400, 'invalid_request_error'], [401, 'authentication_error'], [403, 'permission_error'], [404, 'not_found_error'],
      [413, 'request_too_large'], [429, 'rate_limit_error'], [500, 'api_error'], [502, 'api_error'], [503, 'overloaded_error'],
      [504, 'timeout_error'], [529, 'overloaded_error'],
    ];
    for (const [status, type] of TYPES) {
      it(`${status} with a text body → ${type}, the text kept (truncated)`, async () => {
        const text = `upstream says ${status} ${'x'.repeat(2000)}`;
        t.fake.enqueue({ kind: 'raw-error', status, contentType: 'text/plain; charset=utf-8', body: text });
        const res = await post(smallRequest());
        const error = assertAnthropicError(res, status, type);
        assert.ok(error.message.includes(`upstream says ${status}`), error.message);
        assert.ok(error.message.length < 1000, `${error.message.length} characters`);
        assert.equal(Number(res.headers['content-length']), res.body.length);
      });
    }

    it('an empty error body and a gzip HTML page are wrapped too; Anthropic\'s own JSON passes as sent', async () => {
      t.fake.enqueue({ kind: 'raw-error', status: 502, contentType: '', body: '' });
      assert.match(assertAnthropicError(await post(smallRequest()), 502, 'api_error').message, /answered 502 with no body/);

      t.fake.enqueue({ kind: 'raw-error', status: 503, contentType: 'text/html', body: PAGE, contentEncoding: 'gzip' });
      const gz = await post(smallRequest());
      assert.equal(gz.headers['content-encoding'], undefined);
      assert.match(assertAnthropicError(gz, 503, 'overloaded_error').message, /Service Temporarily Unavailable/);

      t.fake.enqueue({ kind: 'error', status: 529 });
      const own = await post(smallRequest());
      assertAnthropicError(own, 529, 'overloaded_error');
      assert.ok(own.body.equals(relay.responses.at(-1)!.body()), 'byte-identical to the stand-in\'s');
    });
  });
});

describe('every fallback fails', () => {
  const FIRST = 'claude-sonnet-4-5';
  let t: TestGateway;
  let events: EventSubscriber;

  before(async () => {
    const [deadA, deadB] = [await closedPort(), await closedPort()];
    t = await startTestGateway({
      config: {
        providers: {
          'dead-a': { baseUrl: `http://127.0.0.1:${deadA}`, apiKey: 'sk-dead-a', models: ['claude-x'] },
          'dead-b': { baseUrl: `http://127.0.0.1:${deadB}`, apiKey: 'sk-dead-b', models: ['claude-y'] },
        },
        routing: { defaultModel: FIRST, fallbackModels: ['dead-a/claude-x', 'dead-b/claude-y'], backgroundModel: null },
      },
    });
    events = await EventSubscriber.open(t.url, t.token);
  });
  after(async () => {
    events?.close();
    await t?.close();
  });

  it('529, then two refused connections: the record names the last model tried and every one before it, as the 502 does', async () => {
    t.fake.enqueue({ kind: 'error', status: 529 });
    const res = await t.messages(smallRequest());
    const text = await res.text();
    const error = assertAnthropicError({ status: res.status, text }, 502, 'api_error');
    assert.match(error.message, /dead-b.*claude-y/);
    const record = await events.usageWhere((r) => r.status === 502);
    assert.equal(record.error, 'upstream_unreachable');
    assert.equal(record.decision.provider, 'dead-b');
    assert.equal(record.decision.model, 'claude-y');
    assert.deepEqual(record.decision.fallbacks, [`anthropic/${FIRST}`, 'dead-a/claude-x']);
    const journaled = await journalRecord(t.home, record.id);
    assert.equal(journaled.decision.model, 'claude-y');
    assert.deepEqual(journaled.decision.fallbacks, [`anthropic/${FIRST}`, 'dead-a/claude-x']);
  });
});
