// Checks that the Anthropic stand-in itself speaks the real wire format, over real HTTP.
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  estimateInputTokens,
  estimateOutputTokens,
  startFakeAnthropic,
  type FakeAnthropic,
} from '../support/fakeAnthropic';
import { parseSseSpec } from '../support/sseSpec';

interface SseEvent {
  event: string;
  data: any;
}

/** Parses an SSE body, insisting on the exact `event: X\ndata: JSON\n\n` framing. */
function parseSse(text: string): SseEvent[] {
  assert.ok(text.endsWith('\n\n'), 'stream ends with a blank line');
  const frames = text.slice(0, -2).split('\n\n');
  return frames.map((frame) => {
    const m = /^event: ([a-z_]+)\ndata: (.+)$/.exec(frame);
    assert.ok(m, `bad SSE frame: ${JSON.stringify(frame)}`);
    const data = JSON.parse(m[2]);
    assert.equal(data.type, m[1], 'data.type matches the event name');
    return { event: m[1], data };
  });
}

/** Raw request through node:http; tells whether the response completed or was cut. */
function rawPost(url: string, body: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('error', () => undefined); // an aborted response also emits 'error'; 'close' reports it
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, complete: res.complete }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const reqBody = (extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'say hi' }],
  ...extra,
});

describe('fakeAnthropic stand-in', () => {
  let fake: FakeAnthropic;
  const post = (body: unknown, headers: Record<string, string> = {}, path = '/v1/messages?beta=true') =>
    fetch(fake.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    fake = await startFakeAnthropic();
  });
  afterEach(() => fake.reset());
  after(() => fake.close());

  it('listens on 127.0.0.1 and answers the HEAD / and HEAD /api/hello probes', async () => {
    assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(fake.url, `http://127.0.0.1:${fake.port}`);
    const head = await fetch(fake.url + '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    const get = await fetch(fake.url + '/');
    assert.equal(get.status, 200);
    await get.text();
    // Claude Code 2.1.3xx probes HEAD /api/hello unless CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set.
    assert.equal((await fetch(fake.url + '/api/hello', { method: 'HEAD' })).status, 200);
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.url}`), ['HEAD /', 'GET /', 'HEAD /api/hello']);
  });

  it('streams the real event sequence with exact SSE framing and cumulative usage', async () => {
    const body = reqBody({ stream: true, model: 'claude-opus-4-1' });
    const res = await post(body);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('request-id') ?? '', /^req_\w+$/);
    assert.ok(res.headers.get('anthropic-organization-id'));
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    assert.equal(names[0], 'message_start');
    assert.equal(names[1], 'content_block_start');
    assert.equal(names[2], 'ping');
    assert.ok(names.filter((n) => n === 'content_block_delta').length >= 2, 'text split into several deltas');
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.deepEqual(
      [...new Set(names)],
      ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );

    const rawLen = Buffer.byteLength(JSON.stringify(body));
    const msg = events[0].data.message;
    assert.match(msg.id, /^msg_\w+$/);
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.model, 'claude-opus-4-1', 'model echoes the request');
    assert.deepEqual(msg.content, []);
    assert.equal(msg.stop_reason, null);
    assert.equal(msg.stop_sequence, null);
    assert.deepEqual(msg.usage, {
      input_tokens: Math.ceil(rawLen / 4),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 1,
      service_tier: 'standard',
    });
    assert.deepEqual(events[1].data, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const text = events.filter((e) => e.event === 'content_block_delta').map((e) => {
      assert.equal(e.data.index, 0);
      assert.equal(e.data.delta.type, 'text_delta');
      return e.data.delta.text;
    });
    assert.equal(text.join(''), 'hello');
    const delta = events.find((e) => e.event === 'message_delta')!.data;
    assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.deepEqual(delta.usage, {
      input_tokens: Math.ceil(rawLen / 4),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: estimateOutputTokens('hello'),
    });
    assert.equal(fake.requests[0].url, '/v1/messages?beta=true');
    assert.deepEqual(fake.requests[0].body, body);
    assert.equal(fake.requests[0].rawBody.length, rawLen);
    assert.equal(estimateInputTokens(fake.requests[0].rawBody), Math.ceil(rawLen / 4));
  });

  it('reports given usage and model, in message_start and cumulatively in message_delta', async () => {
    fake.enqueue({
      kind: 'message',
      text: 'a longer answer',
      model: 'claude-haiku-4-5',
      usage: { input_tokens: 12, output_tokens: 34, cache_creation_input_tokens: 56, cache_read_input_tokens: 78 },
    });
    const events = parseSse(await (await post(reqBody({ stream: true }))).text());
    const start = events[0].data.message;
    assert.equal(start.model, 'claude-haiku-4-5');
    assert.equal(start.usage.input_tokens, 12);
    assert.equal(start.usage.output_tokens, 1);
    assert.equal(start.usage.cache_creation_input_tokens, 56);
    assert.equal(start.usage.cache_read_input_tokens, 78);
    assert.deepEqual(start.usage.cache_creation, { ephemeral_5m_input_tokens: 56, ephemeral_1h_input_tokens: 0 });
    const delta = events.find((e) => e.event === 'message_delta')!.data;
    assert.deepEqual(delta.usage, { input_tokens: 12, cache_creation_input_tokens: 56, cache_read_input_tokens: 78, output_tokens: 34 });
    assert.equal(events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join(''), 'a longer answer');
  });

  it('streams a tool_use block as input_json_delta chunks with stop_reason tool_use', async () => {
    const input = { command: 'ls -la', description: 'List files in the current directory' };
    fake.enqueue({ kind: 'message', text: 'Let me look.', toolUse: { name: 'Bash', input } });
    const events = parseSse(await (await post(reqBody({ stream: true }))).text());
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data);
    assert.equal(starts.length, 2);
    assert.equal(starts[1].index, 1);
    assert.equal(starts[1].content_block.type, 'tool_use');
    assert.equal(starts[1].content_block.name, 'Bash');
    assert.match(starts[1].content_block.id, /^toolu_\w+$/);
    assert.deepEqual(starts[1].content_block.input, {});
    const jsonDeltas = events.filter((e) => e.event === 'content_block_delta' && e.data.index === 1).map((e) => e.data.delta);
    assert.ok(jsonDeltas.length >= 3);
    assert.ok(jsonDeltas.every((d) => d.type === 'input_json_delta'));
    assert.deepEqual(JSON.parse(jsonDeltas.map((d) => d.partial_json).join('')), input);
    assert.equal(events.filter((e) => e.event === 'content_block_stop').length, 2);
    assert.equal(events.find((e) => e.event === 'message_delta')!.data.delta.stop_reason, 'tool_use');

    fake.enqueue({ kind: 'message', toolUse: { name: 'Bash', input } });
    const msg: any = await (await post(reqBody())).json();
    assert.equal(msg.stop_reason, 'tool_use');
    assert.equal(msg.content.length, 1, 'no text block unless text is given');
    assert.equal(msg.content[0].type, 'tool_use');
    assert.deepEqual(msg.content[0].input, input);
  });

  it('answers a non-streamed request with the full Message JSON', async () => {
    const body = reqBody();
    const res = await post(body);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(res.headers.get('request-id') ?? '', /^req_/);
    const msg: any = await res.json();
    assert.match(msg.id, /^msg_\w+$/);
    assert.deepEqual(
      { ...msg, id: 'x' },
      {
        id: 'x',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: 'hello' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4),
          output_tokens: estimateOutputTokens('hello'),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          service_tier: 'standard',
        },
      },
    );
  });

  it('returns errors in the real shape with the documented status -> type mapping', async () => {
    const expected: Array<[number, string]> = [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [429, 'rate_limit_error'],
      [500, 'api_error'],
      [529, 'overloaded_error'],
    ];
    fake.enqueue(...expected.map(([status]) => ({ kind: 'error' as const, status })));
    for (const [status, type] of expected) {
      const res = await post(reqBody({ stream: true }));
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const requestId = res.headers.get('request-id');
      assert.match(requestId ?? '', /^req_\w+$/);
      const body: any = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ['error', 'request_id', 'type']);
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, type);
      assert.equal(typeof body.error.message, 'string');
      assert.equal(body.request_id, requestId);
      if (status === 429) assert.equal(res.headers.get('retry-after'), '1');
    }
    fake.enqueue({ kind: 'error', status: 429, retryAfter: 7, message: 'slow down' }, { kind: 'error', status: 529, type: 'custom_error' });
    const r1 = await post(reqBody());
    assert.equal(r1.headers.get('retry-after'), '7');
    assert.equal(((await r1.json()) as any).error.message, 'slow down');
    const r2: any = await (await post(reqBody())).json();
    assert.equal(r2.error.type, 'custom_error');
  });

  it('rejects malformed requests with 400 invalid_request_error without using the queue', async () => {
    fake.enqueue({ kind: 'message', text: 'queued' });
    for (const bad of ['{not json', JSON.stringify({ messages: [], max_tokens: 1 }), JSON.stringify({ model: 'm', max_tokens: 1 }), JSON.stringify({ model: 'm', messages: [] })]) {
      const res = await post(bad);
      assert.equal(res.status, 400);
      const body: any = await res.json();
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
    }
    const ok: any = await (await post(reqBody())).json();
    assert.equal(ok.content[0].text, 'queued');
  });

  it('cuts a stream after N events without a clean end', async () => {
    fake.enqueue({ kind: 'cut', afterEvents: 3 });
    const res = await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }));
    assert.equal(res.status, 200);
    assert.equal(res.complete, false, 'socket destroyed before the end of the response');
    assert.deepEqual(parseSse(res.text).map((e) => e.event), ['message_start', 'content_block_start', 'ping']);

    fake.enqueue({ kind: 'cut', afterEvents: 2 });
    await assert.rejects(post(reqBody({ stream: true })).then((r) => r.text()));
  });

  it('cuts a non-streamed answer halfway through the JSON', async () => {
    fake.enqueue({ kind: 'cut', afterEvents: 0, text: 'some text that will not arrive whole' });
    const res = await rawPost(fake.url + '/v1/messages', reqBody());
    assert.equal(res.status, 200);
    assert.equal(res.complete, false);
    assert.ok(res.text.length > 0 && res.text.length < Number(res.headers['content-length']));
    assert.throws(() => JSON.parse(res.text));
  });

  it('sends an SSE error event (overloaded_error) mid-stream and ends', async () => {
    fake.enqueue({ kind: 'stream-error', afterEvents: 4 });
    const res = await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }));
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    const events = parseSse(res.text);
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    assert.equal(events[4].data.error.type, 'overloaded_error');
    assert.equal(events[4].data.error.message, 'Overloaded');
  });

  it('writes SSE with CRLF or CR line ends when asked, the same events as with LF', async () => {
    const lf = await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }));
    for (const lineEnding of ['\r\n', '\r'] as const) {
      fake.enqueue({ kind: 'message', lineEnding });
      const res = await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }));
      assert.ok(!res.text.replace(/\r\n/g, '').includes('\n'), 'no bare LF');
      const strip = (e: { event: string; data: string }) => ({ event: e.event, data: JSON.parse(e.data).type });
      assert.deepEqual(parseSseSpec(res.text).map(strip), parseSseSpec(lf.text).map(strip));
    }
  });

  it('compresses the reply when asked (gzip, br, deflate), saying so in content-encoding', async () => {
    for (const contentEncoding of ['gzip', 'br', 'deflate'] as const) {
      for (const stream of [true, false]) {
        fake.enqueue({ kind: 'message', text: 'squeezed', contentEncoding });
        const res = await post(reqBody({ stream }));
        assert.equal(res.headers.get('content-encoding'), contentEncoding);
        const text = await res.text(); // fetch decodes it
        if (stream) assert.equal(parseSse(text).at(-1)?.event, 'message_stop');
        else assert.equal(JSON.parse(text).content[0].text, 'squeezed');
      }
    }
  });

  it('tears a stream inside an event, then cuts the socket or ends cleanly', async () => {
    fake.enqueue({ kind: 'cut', afterEvents: 3, midEvent: true });
    const cut = await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }));
    assert.equal(cut.complete, false);
    assert.match(cut.text, /\n\nevent: content_block_delta\ndata: \{[^\n]*$/);
    assert.deepEqual(parseSseSpec(cut.text).map((e) => e.event), ['message_start', 'content_block_start', 'ping']);
    fake.enqueue({ kind: 'cut', afterEvents: 3, midEvent: true, cleanEnd: true });
    assert.equal((await rawPost(fake.url + '/v1/messages', reqBody({ stream: true }))).complete, true);
  });

  it('answers an error with a body that is not JSON (an HTML page) when asked', async () => {
    fake.enqueue({ kind: 'raw-error', status: 503, contentType: 'text/html', body: '<h1>503 Service Unavailable</h1>' });
    const res = await rawPost(fake.url + '/v1/messages', reqBody());
    assert.equal(res.status, 503);
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(res.text, '<h1>503 Service Unavailable</h1>');
  });

  it('counts tokens deterministically on /v1/messages/count_tokens and records the request', async () => {
    fake.enqueue({ kind: 'error', status: 500 });
    const body = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x'.repeat(1000) }] };
    const res = await post(body, {}, '/v1/messages/count_tokens?beta=true');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { input_tokens: Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) });
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0].url, '/v1/messages/count_tokens?beta=true');
    assert.equal((await post(reqBody())).status, 500, 'count_tokens does not consume the queue');
  });

  it('answers unknown routes with 404 not_found_error', async () => {
    const res = await fetch(fake.url + '/v1/complete', { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    const body: any = await res.json();
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'not_found_error');
    assert.match(body.request_id, /^req_/);
  });

  it('serves queued replies in order, then the default; reset clears everything', async () => {
    fake.enqueue({ kind: 'message', text: 'one' }, { kind: 'message', text: 'two' });
    fake.setDefault({ kind: 'message', text: 'default' });
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) texts.push(((await (await post(reqBody())).json()) as any).content[0].text);
    assert.deepEqual(texts, ['one', 'two', 'default', 'default']);
    fake.enqueue({ kind: 'message', text: 'left over' });
    fake.reset();
    assert.equal(fake.requests.length, 0);
    assert.equal(((await (await post(reqBody())).json()) as any).content[0].text, 'hello');
  });

  it('waitForRequests resolves when the n-th POST /v1/messages arrives and times out otherwise', async () => {
    const waiting = fake.waitForRequests(2);
    await fetch(fake.url + '/', { method: 'HEAD' });
    await (await post(reqBody({ model: 'a' }))).text();
    await (await post(reqBody(), {}, '/v1/messages/count_tokens')).text();
    await (await post(reqBody({ model: 'b' }))).text();
    const got = await waiting;
    assert.deepEqual(got.map((r) => r.body.model), ['a', 'b']);
    assert.equal(fake.requests.length, 4);
    assert.equal((await fake.waitForRequests(1)).length, 1, 'already there: resolves at once');
    await assert.rejects(fake.waitForRequests(3, 30), /got 2/);
  });

  it('requires the API key (x-api-key or Bearer) when asked to', async () => {
    const locked = await startFakeAnthropic({ requireApiKey: 'sk-test' });
    try {
      const send = (headers: Record<string, string>) =>
        fetch(locked.url + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(reqBody()) });
      const denied = await send({ 'x-api-key': 'wrong' });
      assert.equal(denied.status, 401);
      assert.equal(((await denied.json()) as any).error.type, 'authentication_error');
      assert.equal((await send({})).status, 401);
      assert.equal((await send({ 'x-api-key': 'sk-test' })).status, 200);
      assert.equal((await send({ authorization: 'Bearer sk-test' })).status, 200);
      assert.equal((await fetch(locked.url + '/', { method: 'HEAD' })).status, 200, 'the probe needs no key');
    } finally {
      await locked.close();
    }
  });

  it('writes streamed events one by one, delayMs apart', async () => {
    fake.enqueue({ kind: 'message', text: 'abcdefghi', delayMs: 15 });
    const res = await post(reqBody({ stream: true }));
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push(Date.now());
      text += decoder.decode(value, { stream: true });
    }
    const events = parseSse(text);
    assert.equal(events.length, 9);
    assert.ok(arrivals.length >= 5, `events arrived in ${arrivals.length} reads`);
    assert.ok(arrivals[arrivals.length - 1] - arrivals[0] >= 80, 'spread over time, not buffered');
  });

  it('close() ends hanging requests and open keep-alive sockets', async () => {
    const other = await startFakeAnthropic();
    other.enqueue({ kind: 'hang' });
    const hanging = fetch(other.url + '/v1/messages', { method: 'POST', body: JSON.stringify(reqBody()) });
    await other.waitForRequests(1);
    const outcomes = Promise.all([assert.rejects(hanging), assert.rejects(other.waitForRequests(5), /closed/)]);
    await other.close();
    await outcomes;
  });
});
