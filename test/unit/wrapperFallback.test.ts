// The pieces of conduit-claude's fallback, cloud-provider notice and telemetry that the
// end-to-end tests (test/e2e/wrapperFallback.test.ts, wrapperTelemetry.test.ts) reach only in
// part: one metadata line per reply, claude's own reading of its provider switches,
// CONDUIT_FALLBACK, the status bar's words, and the telemetry queue's bounds against a real
// local HTTP server that answers late.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { FALLBACK_RULE, FallbackRecorder, fallbackMode, fallbackNotice, type FallbackMetadataLine } from '../../src/conduit/wrapper/fallback';
import { cloudProviderOf } from '../../src/conduit/wrapper/cloudProviders';
import { TelemetrySender } from '../../src/conduit/wrapper/telemetry';
import { fallbackExplanation, fallbackOf, fallbackText } from '../../src/extension/ui/fallbackStatus';

const assistant = (id: string, model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'assistant', message: { id, model, content: [] }, session_id: 'claude-s1', ...extra });

describe('conduit-claude fallback: FallbackRecorder', () => {
  it('one metadata line per reply (claude writes a line per content block), with the answering model and no usage', () => {
    const out: FallbackMetadataLine[] = [];
    const rec = new FallbackRecorder({ projectId: 'p1', agentId: 'a1' }, (l) => out.push(l), () => new Date('2026-12-04T06:00:00Z'));
    rec.assistantLine(assistant('msg_1', 'claude-sonnet-4-5'));
    rec.assistantLine(assistant('msg_1', 'claude-sonnet-4-5'));
    rec.assistantLine(`${assistant('msg_2', 'claude-haiku-4-5')}\r`);
    assert.deepEqual(out, [
      { type: 'conduit_metadata', data: { requestId: 'msg_1', sessionId: 'claude-s1', routingDecision: { model: 'claude-sonnet-4-5', source: 'fallback', tokenCount: 0, timestamp: '2026-12-04T06:00:00.000Z', rule: FALLBACK_RULE, requestedModel: 'claude-sonnet-4-5' }, projectContext: { projectId: 'p1', agentId: 'a1' } } },
      { type: 'conduit_metadata', data: { requestId: 'msg_2', sessionId: 'claude-s1', routingDecision: { model: 'claude-haiku-4-5', source: 'fallback', tokenCount: 0, timestamp: '2026-12-04T06:00:00.000Z', rule: FALLBACK_RULE, requestedModel: 'claude-haiku-4-5' }, projectContext: { projectId: 'p1', agentId: 'a1' } } },
    ]);
  });

  it('no line for claude\'s own messages (no request was made), malformed lines or other types', () => {
    const out: FallbackMetadataLine[] = [];
    const rec = new FallbackRecorder({}, (l) => out.push(l));
    rec.assistantLine(assistant('msg_x', '<synthetic>'));
    rec.assistantLine('{"type":"assistant", not json');
    rec.assistantLine(JSON.stringify({ type: 'user', message: { id: 'msg_u', model: 'claude-sonnet-4-5' } }));
    rec.assistantLine(JSON.stringify({ type: 'assistant', message: { id: 7, model: 'claude-sonnet-4-5' } }));
    rec.assistantLine(JSON.stringify({ type: 'assistant', message: null }));
    assert.equal(out.length, 0);
    rec.assistantLine(assistant('msg_ok', 'claude-opus-4-1', { session_id: 5 }));
    assert.equal(out.length, 1);
    assert.equal(out[0].data.sessionId, undefined, 'a session id that is not text is left out');
    assert.equal(out[0].data.projectContext, undefined, 'no project: no project context');
  });
});

describe('conduit-claude fallback: settings and words', () => {
  it('CONDUIT_FALLBACK: direct by default, fail, anything else refused', () => {
    assert.equal(fallbackMode({}), 'direct');
    assert.equal(fallbackMode({ CONDUIT_FALLBACK: '' }), 'direct');
    assert.equal(fallbackMode({ CONDUIT_FALLBACK: ' Direct ' }), 'direct');
    assert.equal(fallbackMode({ CONDUIT_FALLBACK: 'FAIL' }), 'fail');
    assert.throws(() => fallbackMode({ CONDUIT_FALLBACK: 'retry' }), /CONDUIT_FALLBACK must be "direct" or "fail", not "retry"/);
  });

  it('the notice is one line even when the reason carries lines of the gateway\'s log, and bounded', () => {
    const n = fallbackNotice('could not start the gateway: exited with code 1.\nlog line one\n  log line two');
    assert.equal(n.split('\n').length, 1);
    assert.ok(n.includes('exited with code 1. log line one log line two'), n);
    assert.ok(fallbackNotice('x'.repeat(2000)).length < 500);
  });

  it('Bedrock and Vertex as claude reads its switches (1, true, yes, on; not 0 or false)', () => {
    assert.equal(cloudProviderOf({})?.variable, undefined);
    assert.equal(cloudProviderOf({ CLAUDE_CODE_USE_BEDROCK: '1' })?.name, 'Amazon Bedrock');
    assert.equal(cloudProviderOf({ CLAUDE_CODE_USE_VERTEX: 'TRUE' })?.name, 'Google Vertex AI');
    assert.equal(cloudProviderOf({ CLAUDE_CODE_USE_BEDROCK: ' yes ' })?.variable, 'CLAUDE_CODE_USE_BEDROCK');
    for (const off of ['0', 'false', '', 'off', 'nope']) assert.equal(cloudProviderOf({ CLAUDE_CODE_USE_BEDROCK: off, CLAUDE_CODE_USE_VERTEX: off }), null, off);
  });

  it('the status bar: a fallback line is told apart from a routed one, and said with the model that answered', () => {
    assert.equal(fallbackOf({ routingDecision: { source: 'default', model: 'claude-sonnet-4-5' } }), null);
    assert.equal(fallbackOf({}), null);
    const f = fallbackOf({ sessionId: 's-9', routingDecision: { source: 'fallback', model: 'claude-sonnet-4-5-20250929' } });
    assert.deepEqual(f, { model: 'claude-sonnet-4-5-20250929', sessionId: 's-9' });
    assert.equal(fallbackText(f!), '$(debug-disconnect) Conduit unavailable · sonnet-4-5 direct');
    assert.match(fallbackExplanation(f!), /session \(s-9\) ran claude directly against the provider/);
    assert.equal(fallbackText(fallbackOf({ routingDecision: { source: 'fallback', model: 42 } })!), '$(debug-disconnect) Conduit unavailable');
  });
});

describe('conduit-claude telemetry: TelemetrySender', () => {
  let server: http.Server;
  let url: string;
  /** Requests held unanswered until the test releases them. */
  let held: http.ServerResponse[];
  let bodies: string[];
  /** 'held' once a request's body is in and it waits for its answer. */
  const arrivals = new EventEmitter();
  const nextHeld = () => once(arrivals, 'held');
  const sockets = new Set<net.Socket>();

  beforeEach(async () => {
    held = [];
    bodies = [];
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { bodies.push(Buffer.concat(chunks).toString('utf8')); held.push(res); arrivals.emit('held'); });
    });
    server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/t`;
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('unset: no sender; not http(s) or not a URL: none, said once', () => {
    const warnings: string[] = [];
    assert.equal(TelemetrySender.fromEnv({}, (w) => warnings.push(w)), null);
    assert.equal(TelemetrySender.fromEnv({ SYNAPSE_TELEMETRY_ENDPOINT: 'ftp://host/x' }, (w) => warnings.push(w)), null);
    assert.equal(TelemetrySender.fromEnv({ SYNAPSE_TELEMETRY_ENDPOINT: 'not a url' }, (w) => warnings.push(w)), null);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /http or https URL \(not ftp:\)/);
  });

  it('posts one at a time in order; a slow endpoint loses the oldest of more than 256 waiting, and says how many', async () => {
    const warnings: string[] = [];
    const sender = TelemetrySender.fromEnv({ SYNAPSE_TELEMETRY_ENDPOINT: url }, (w) => warnings.push(w))!;
    for (let i = 0; i < 300; i++) sender.send({ n: i });
    // The first is in flight; 299 wait, 256 are kept: 43 dropped, the oldest after the first.
    while (held.length === 0) await nextHeld();
    assert.deepEqual(bodies, ['{"n":0}']);
    let answered = 0;
    const answerAll = async () => {
      while (answered < 257) {
        if (held.length > answered) held[answered++].writeHead(204).end();
        else await nextHeld();
      }
    };
    await answerAll();
    await sender.flush();
    assert.equal(bodies.length, 257);
    assert.deepEqual(bodies.slice(0, 3), ['{"n":0}', '{"n":44}', '{"n":45}']);
    assert.equal(bodies[256], '{"n":299}');
    assert.deepEqual(warnings, [`telemetry endpoint ${new URL(url).origin} was too slow: 43 record(s) were dropped`]);
  });

  it('an answer other than 2xx: said once, nothing more is sent', async () => {
    const warnings: string[] = [];
    const sender = TelemetrySender.fromEnv({ SYNAPSE_TELEMETRY_ENDPOINT: url }, (w) => warnings.push(w))!;
    sender.send({ n: 1 });
    sender.send({ n: 2 });
    while (held.length === 0) await nextHeld();
    held[0].writeHead(500).end();
    await sender.flush();
    sender.send({ n: 3 });
    await sender.flush();
    assert.deepEqual(bodies, ['{"n":1}']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /failed \(HTTP 500\); no more records are sent/);
  });
});
