// The event stream and the session API over real HTTP: decisions and usage as SSE,
// filtered by session, claude session or project; a session's records and totals; and
// count_tokens, forwarded with the routed model or estimated locally.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { encodeSessionContext, type SessionContext } from '../../src/protocol/sessionContext';
import type { GatewayEvent } from '../../src/protocol/usage';
import { MAX_EVENT_STREAMS } from '../../src/conduit/usage/eventHub';
import type { SessionSummary } from '../../src/protocol/usage';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, assertAnthropicError, closedPort, rawRequest, smallRequest } from './helpers';

const ROUTED = 'claude-opus-4-5';

/** An event-stream subscriber on a raw socket (the bytes as sent, chunked encoding and all), once "ready" has arrived. */
async function rawSubscriber(baseUrl: string, token: string, query: string): Promise<{ socket: net.Socket; received: Buffer[] }> {
  const url = new URL(baseUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  const received: Buffer[] = [];
  socket.write(`GET /v1/conduit/events${query} HTTP/1.1\r\nHost: 127.0.0.1:${url.port}\r\nx-conduit-token: ${token}\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      received.push(c);
      if (Buffer.concat(received).includes('event: ready')) resolve();
    });
  });
  return { socket, received };
}

/** A decision event whose frame is `size` bytes or more. */
function bigDecision(requestId: string, sessionId: string, size: number): GatewayEvent {
  return {
    type: 'decision', requestId, context: { sessionId },
    decision: { model: ROUTED, provider: 'anthropic', source: 'default', rule: 'x'.repeat(size), tokenCount: 1, requestedModel: ROUTED, timestamp: '2026-12-03T12:00:00.000Z' },
  } as GatewayEvent;
}

describe('gateway events and sessions', () => {
  let t: TestGateway;
  const subscribers: EventSubscriber[] = [];
  const subscribe = async (query = '') => {
    const s = await EventSubscriber.open(t.url, t.token, query);
    subscribers.push(s);
    return s;
  };

  before(async () => {
    t = await startTestGateway({ config: { routing: { defaultModel: ROUTED } } });
  });
  after(async () => {
    for (const s of subscribers) s.close();
    await t?.close();
  });
  beforeEach(() => t.fake.reset());

  async function send(ctx: SessionContext | null, claudeSession?: string, body = smallRequest({ stream: true })): Promise<string> {
    const headers: Record<string, string> = {};
    if (ctx) headers['x-conduit-context'] = encodeSessionContext(ctx);
    if (claudeSession) headers['x-claude-code-session-id'] = claudeSession;
    const res = await t.messages(body, headers);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    return String(res.headers.get('x-conduit-request-id'));
  }

  it('streams each request\'s decision, then its usage', async () => {
    const events = await subscribe();
    const ctx = { sessionId: 'sess-events-1', projectId: 'proj-1', agentId: 'agent-7', agentType: 'code-reviewer' };
    t.fake.enqueue({ kind: 'message', usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 500 } });
    const id = await send(ctx, 'cc-1');
    const usage = await events.usage(id);
    const decision = events.events.find((e) => e.type === 'decision' && e.requestId === id) as Extract<GatewayEvent, { type: 'decision' }>;
    assert.ok(decision, 'a decision event');
    assert.ok(events.events.indexOf(decision) < events.events.findIndex((e) => e.type === 'usage' && e.record.id === id), 'decision before usage');
    assert.deepEqual(decision.context, { ...ctx, claudeSessionId: 'cc-1' });
    assert.equal(decision.decision.model, ROUTED);
    assert.equal(decision.decision.source, 'default');
    assert.equal(decision.decision.requestedModel, 'claude-sonnet-4-5');
    assert.ok(decision.decision.tokenCount > 0);
    assert.ok(!Number.isNaN(Date.parse(decision.decision.timestamp)));
    assert.deepEqual(usage.context, decision.context);
    assert.deepEqual(usage.decision, decision.decision);
    assert.equal(usage.usage?.inputTokens, 100);
    assert.equal(usage.usage?.outputTokens, 20);
    assert.equal(usage.usage?.cacheReadTokens, 500);
    assert.ok(usage.cost.cost !== null && usage.cost.cost > 0);
  });

  it('filters by session, by claude session and by project', async () => {
    const all = await subscribe();
    const bySession = await subscribe('?session=sess-A');
    const byClaude = await subscribe('?claudeSession=cc-B');
    const byProject = await subscribe('?project=proj-B');
    const b = await send({ sessionId: 'sess-B', projectId: 'proj-B' }, 'cc-B');
    const a = await send({ sessionId: 'sess-A', projectId: 'proj-A' }, 'cc-A');
    const none = await send(null);
    // Events reach every subscriber in the order they are published: once a subscriber
    // has the last request's usage (or the unfiltered one has it), the earlier ones have arrived too.
    await all.usage(none);
    await bySession.usage(a);
    await byClaude.usage(b);
    await byProject.usage(b);

    const ids = (s: EventSubscriber) => s.events.map((e) => `${e.type}:${e.type === 'decision' ? e.requestId : e.type === 'usage' ? e.record.id : e.type === 'budget' ? e.alert.id : 'store'}`);
    // The store's 'ingested' events name no request: only the unfiltered stream gets them, whenever the store commits.
    const requestEvents = (s: EventSubscriber) => ids(s).filter((x) => x !== 'ingested:store');
    assert.deepEqual(ids(bySession), [`decision:${a}`, `usage:${a}`]);
    assert.deepEqual(ids(byClaude), [`decision:${b}`, `usage:${b}`]);
    assert.deepEqual(ids(byProject), [`decision:${b}`, `usage:${b}`]);
    assert.deepEqual(requestEvents(all), [b, a, none].flatMap((id) => [`decision:${id}`, `usage:${id}`]));
    // Nothing for session A reaches the other filters, even after more requests.
    const a2 = await send({ sessionId: 'sess-A' });
    await bySession.usage(a2);
    await all.usage(a2);
    assert.deepEqual(ids(byClaude), [`decision:${b}`, `usage:${b}`]);
  });

  it('GET /v1/conduit/sessions/:id gives a session\'s records and totals, by Conduit\'s or Claude Code\'s session id', async () => {
    const events = await subscribe('?session=sess-S');
    t.fake.enqueue(
      { kind: 'message', usage: { input_tokens: 1000, output_tokens: 100 } },
      { kind: 'message', usage: { input_tokens: 2000, output_tokens: 200 } },
    );
    const first = await send({ sessionId: 'sess-S', projectId: 'proj-S' }, 'cc-S');
    const second = await send({ sessionId: 'sess-S', projectId: 'proj-S' }, 'cc-S', smallRequest({ stream: false }));
    const r1 = await events.usage(first);
    const r2 = await events.usage(second);

    for (const id of ['sess-S', 'cc-S']) {
      const res = await rawRequest(t.url, { path: `/v1/conduit/sessions/${id}`, headers: { 'x-conduit-token': t.token } });
      assert.equal(res.status, 200, res.text);
      const s = JSON.parse(res.text) as SessionSummary & { sessionId: string };
      assert.equal(s.sessionId, 'cc-S', "named by claude's session id, whichever id was asked");
      assert.equal(s.requests, 2);
      assert.deepEqual(s.records.map((r) => r.id), [first, second]);
      assert.deepEqual(s.records, [r1, r2]);
      assert.ok(Math.abs(s.cost - (r1.cost.cost! + r2.cost.cost!)) < 1e-9);
      assert.equal(s.costIncomplete, false);
      assert.equal(s.lastModel, ROUTED);
      assert.equal(s.lastSource, 'default');
    }
  });

  it('an unknown session is a 404 in Anthropic\'s shape; the token is required', async () => {
    const unknown = await rawRequest(t.url, { path: '/v1/conduit/sessions/no-such-session', headers: { 'x-conduit-token': t.token } });
    assertAnthropicError(unknown, 404, 'not_found_error');
    const bad = await rawRequest(t.url, { path: '/v1/conduit/sessions/a%20b', headers: { 'x-conduit-token': t.token } });
    assertAnthropicError(bad, 404, 'not_found_error');
    const noToken = await rawRequest(t.url, { path: '/v1/conduit/sessions/sess-S' });
    assertAnthropicError(noToken, 401, 'authentication_error');
  });

  it('count_tokens is forwarded with the routed model', async () => {
    const body = JSON.stringify(smallRequest());
    const res = await rawRequest(t.url, {
      method: 'POST', path: '/v1/messages/count_tokens?beta=true', body,
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'anthropic-version': '2023-06-01' },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-conduit-model'], ROUTED);
    const up = t.fake.requests.find((r) => r.url.startsWith('/v1/messages/count_tokens'));
    assert.ok(up, 'the stand-in received count_tokens');
    assert.equal(up.url, '/v1/messages/count_tokens?beta=true');
    assert.equal(up.body.model, ROUTED);
    assert.ok(up.rawBody.equals(Buffer.from(body.replace('"claude-sonnet-4-5"', JSON.stringify(ROUTED)))));
    assert.equal(up.headers['x-api-key'], 'sk-test-upstream-key');
    assert.equal(up.headers['x-conduit-token'], undefined);
    assert.deepEqual(JSON.parse(res.text), { input_tokens: Math.ceil(up.rawBody.length / 4) });
    assert.equal(t.fake.requests.filter((r) => r.url.startsWith('/v1/messages?') || r.url === '/v1/messages').length, 0, 'no messages request');
  });

  it('count_tokens is estimated locally when the provider answers 404 or cannot be reached', async () => {
    const port = await closedPort();
    writeFileSync(path.join(t.home, 'config.json'), JSON.stringify({
      routing: { defaultModel: ROUTED },
      providers: {
        nocount: { baseUrl: `${t.fake.url}/no-count-tokens-here`, apiKey: 'sk-nocount' },
        dead: { baseUrl: `http://127.0.0.1:${port}`, apiKey: 'sk-dead' },
      },
    }));
    t.gateway.reloadConfig();
    const body = JSON.stringify(smallRequest({ system: 'You are terse.', messages: [{ role: 'user', content: 'count these words please' }] }));

    for (const model of ['nocount/claude-sonnet-4-5', 'dead/claude-sonnet-4-5']) {
      t.fake.reset();
      const ctx = encodeSessionContext({ projectModelConfig: { enabled: false, defaultModel: model } });
      const res = await rawRequest(t.url, {
        method: 'POST', path: '/v1/messages/count_tokens', body,
        headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'x-conduit-context': ctx },
      });
      assert.equal(res.status, 200, res.text);
      const answer = JSON.parse(res.text);
      assert.equal(answer.conduit_estimate, true, model);
      assert.ok(Number.isInteger(answer.input_tokens) && answer.input_tokens > 0);
      if (model.startsWith('nocount/')) {
        const up = t.fake.requests.find((r) => r.url === '/no-count-tokens-here/v1/messages/count_tokens');
        assert.ok(up, 'the provider was asked first');
        assert.equal(up.body.model, 'claude-sonnet-4-5');
      }
    }
    // The estimate is the same token count the router used for the equivalent message.
    const events = await subscribe();
    const res = await t.messages(body);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    const ctx = encodeSessionContext({ projectModelConfig: { enabled: false, defaultModel: 'dead/x' } });
    const estimate = await rawRequest(t.url, {
      method: 'POST', path: '/v1/messages/count_tokens', body,
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token, 'x-conduit-context': ctx },
    });
    assert.equal(JSON.parse(estimate.text).input_tokens, record.decision.tokenCount);
  });

  it('serializes each event once, however many subscribe to it', async () => {
    const many = await Promise.all(Array.from({ length: 20 }, () => subscribe('?session=sess-many')));
    const serialized: unknown[] = [];
    const stringify = JSON.stringify;
    JSON.stringify = function (this: unknown, ...args: Parameters<typeof stringify>) {
      const v = args[0] as { type?: string } | null;
      if (v && typeof v === 'object' && (v.type === 'decision' || v.type === 'usage')) serialized.push(v);
      return stringify.apply(this, args);
    } as typeof stringify;
    let id: string;
    try {
      id = await send({ sessionId: 'sess-many' });
      await Promise.all(many.map((s) => s.usage(id)));
    } finally {
      JSON.stringify = stringify;
    }
    const of = (type: string) => serialized.filter((e) => {
      const x = e as GatewayEvent;
      return x.type === type && (x.type === 'decision' ? x.requestId : x.type === 'usage' ? x.record.id : '') === id;
    }).length;
    assert.equal(of('decision'), 1, 'the decision event serialized once for 20 subscribers');
    assert.equal(of('usage'), 1, 'the usage event serialized once for 20 subscribers');
    for (const s of many) s.close();
  });

  it('sends a subscriber the events of one turn of the event loop in one write', async () => {
    const raw = await rawSubscriber(t.url, t.token, '?session=sess-turn');
    const already = Buffer.concat(raw.received).length;
    for (let i = 0; i < 3; i++) t.gateway.hub.publish(bigDecision(`turn-${i}`, 'sess-turn', 100));
    const expected = [0, 1, 2].map((i) => `event: decision\ndata: ${JSON.stringify(bigDecision(`turn-${i}`, 'sess-turn', 100))}\n\n`).join('');
    // The chunks of chunked encoding (size in hex, CRLF, the bytes, CRLF) that have arrived
    // whole; one holds all three events (a heartbeat may come before it, in a chunk of its own).
    const chunks = () => {
      const bytes = Buffer.concat(raw.received).subarray(already);
      const out: string[] = [];
      for (let at = 0; ;) {
        const line = bytes.indexOf('\r\n', at);
        if (line < 0) return out;
        const start = line + 2;
        const end = start + parseInt(bytes.subarray(at, line).toString('latin1'), 16);
        if (bytes.length < end + 2) return out;
        out.push(bytes.subarray(start, end).toString('utf8'));
        at = end + 2;
      }
    };
    const withEvents = await new Promise<string>((resolve) => {
      const check = () => {
        const hit = chunks().find((c) => c.includes('turn-'));
        if (hit) resolve(hit);
        else raw.socket.once('data', check);
      };
      check();
    });
    assert.equal(withEvents, expected, 'the three events in one chunk');
    raw.socket.destroy();
  });

  it('drops a subscriber that stops reading, saying why, while a fast one keeps receiving', async () => {
    const hub = t.gateway.hub;
    const fast = await subscribe('?session=sess-slow');
    const slow = await rawSubscriber(t.url, t.token, '?session=sess-slow');
    // It stops reading: the kernel's buffers fill, then the gateway's writes queue up.
    slow.socket.pause();
    const before = hub.subscriberCount;
    // 256 KB events until the gateway gives up on the stalled one (at 4 MB queued, after
    // whatever the kernel's socket buffers hold).
    let sent = 0;
    while (hub.subscriberCount === before) {
      assert.ok(sent < 400, 'the stalled subscriber was never dropped (100 MB sent)');
      hub.publish(bigDecision(`big-${sent}`, 'sess-slow', 256 * 1024));
      await fast.next((e) => e.type === 'decision' && e.requestId === `big-${sent}`);
      sent++;
    }
    assert.equal(hub.subscriberCount, before - 1, 'only the stalled subscriber was dropped');

    // Once it reads again, it finds what it missed, then the reason, then the end of the stream.
    slow.socket.resume();
    await once(slow.socket, 'end');
    const text = Buffer.concat(slow.received).toString('utf8');
    const last = /event: error\ndata: (.*)\n\n\r\n0\r\n\r\n$/.exec(text);
    assert.ok(last, `the stream ends with an error event: ${JSON.stringify(text.slice(-300))}`);
    const error = JSON.parse(last[1]);
    assert.equal(error.type, 'error');
    assert.equal(error.error.type, 'overloaded_error');
    assert.match(error.error.message, /fell behind.*MB unread/);

    // The fast subscriber still receives, and so does a request's usage.
    const id = await send({ sessionId: 'sess-slow' });
    await fast.usage(id);
  });

  it(`refuses the event-stream subscriber over ${MAX_EVENT_STREAMS} with a 429 in Anthropic's shape`, async () => {
    const hub = t.gateway.hub;
    const opened: EventSubscriber[] = [];
    try {
      assert.equal(hub.maxStreams, MAX_EVENT_STREAMS);
      while (hub.subscriberCount < MAX_EVENT_STREAMS) opened.push(await EventSubscriber.open(t.url, t.token, '?session=sess-bound'));
      const refused = await rawRequest(t.url, { path: '/v1/conduit/events?session=sess-bound', headers: { 'x-conduit-token': t.token }, timeoutMs: 10_000 });
      const error = assertAnthropicError(refused, 429, 'rate_limit_error');
      assert.match(error.message, new RegExp(`${MAX_EVENT_STREAMS} event streams`));
      assert.equal(hub.subscriberCount, MAX_EVENT_STREAMS);
      // Those already subscribed keep receiving.
      const id = await send({ sessionId: 'sess-bound' });
      await Promise.all(opened.map((s) => s.usage(id)));
    } finally {
      for (const s of opened) s.close();
    }
  });
});
