// SYNAPSE_TELEMETRY_ENDPOINT with the REAL claude CLI through a real gateway process whose
// upstream is the Anthropic stand-in: a local receiver gets each conduit_metadata line as a
// JSON POST, one per API request (with stream-json and without it); an endpoint that refuses
// connections or never answers changes nothing of claude's output or exit code, and is said
// once on stderr.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage, type RecordedRequest } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, freePort, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const UPSTREAM_KEY = 'sk-test-e2e-telemetry';
const STREAM_JSON = ['-p', 'say hi', '--output-format', 'stream-json', '--verbose'];

interface Line { type: string; [k: string]: unknown }

function lines(r: RunResult): Line[] {
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

function messagePosts(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

/** What stays the same from run to run: the kinds of claude's lines in order, and its answer. */
function claudeShape(r: RunResult): { types: string[]; result: unknown; isError: unknown } {
  const claude = lines(r).filter((l) => !l.type.startsWith('conduit_'));
  const result = claude.find((l) => l.type === 'result');
  return { types: claude.map((l) => l.type), result: result?.result, isError: result?.is_error };
}

/** The stderr lines about telemetry. */
function telemetryWarnings(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l.includes('telemetry'));
}

/** A local receiver of telemetry POSTs, answering 204. */
async function startReceiver(): Promise<{ url: string; posts: { contentType: string | undefined; body: unknown }[]; close: () => Promise<void> }> {
  const posts: { contentType: string | undefined; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/telemetry`, posts, close: () => new Promise((r) => server.close(() => r())) };
}

/** An endpoint that accepts connections and reads requests but never answers one. */
async function startSilentEndpoint(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer(() => { requests++; });
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/telemetry`,
    requests: () => requests,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

describe('conduit-claude: SYNAPSE_TELEMETRY_ENDPOINT (real claude CLI)', function () {
  this.timeout(120_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    fake = await startFakeAnthropic({ requireApiKey: UPSTREAM_KEY });
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    sb = new Sandbox();
    const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    assert.equal(r.code, 0, r.stderr);
  });
  afterEach(async () => {
    await sb.cleanup();
    fake.reset();
  });

  function wrapper(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', SYNAPSE_PROJECT_ID: 'proj-telemetry', SYNAPSE_AGENT_ID: 'agent-telemetry', ...extra });
    return run(process.execPath, [WRAPPER, ...args], { env, cwd: sb.work, timeoutMs: 90_000 });
  }

  it('a local receiver gets one JSON POST per API request, each the conduit_metadata line of stdout (a two-request turn)', async () => {
    const receiver = await startReceiver();
    try {
      const first: FakeUsage = { input_tokens: 2100, output_tokens: 40 };
      const second: FakeUsage = { input_tokens: 150, output_tokens: 12 };
      writeFileSync(path.join(sb.work, 'notes.txt'), 'telemetry e2e\n');
      fake.enqueue(
        { kind: 'message', usage: first, toolUse: { name: 'Read', input: { file_path: path.join(sb.work, 'notes.txt') } } },
        { kind: 'message', text: 'read it', usage: second },
      );
      const w = await wrapper(STREAM_JSON, { SYNAPSE_TELEMETRY_ENDPOINT: receiver.url });
      assert.equal(w.code, 0, w.stderr);
      assert.deepEqual(telemetryWarnings(w), [], 'nothing said about telemetry');
      const requests = messagePosts(fake.requests);
      assert.equal(requests.length, 2, 'claude sent the tool result back');
      const metadata = lines(w).filter((l) => l.type === 'conduit_metadata');
      assert.equal(metadata.length, 2);
      assert.equal(receiver.posts.length, requests.length, 'one POST per API request, all in before conduit-claude exited');
      for (const p of receiver.posts) assert.equal(p.contentType, 'application/json');
      const byId = (xs: unknown[]) => [...xs].sort((a, b) => String((a as Line & { data: { requestId: string } }).data.requestId).localeCompare((b as Line & { data: { requestId: string } }).data.requestId));
      assert.deepEqual(byId(receiver.posts.map((p) => p.body)), byId(metadata), 'each POST is a metadata line exactly as printed');
      const inputs = receiver.posts.map((p) => (p.body as { data: { usage?: { inputTokens: number } } }).data.usage?.inputTokens).sort((a, b) => a! - b!);
      assert.deepEqual(inputs, [second.input_tokens, first.input_tokens], 'the usage of each request');
      for (const p of receiver.posts) assert.deepEqual((p.body as { data: { projectContext: unknown } }).data.projectContext, { projectId: 'proj-telemetry', agentId: 'agent-telemetry' });
    } finally {
      await receiver.close();
    }
  });

  it('without stream-json, stdout is claude\'s text alone and the receiver still gets the request\'s record', async () => {
    const receiver = await startReceiver();
    try {
      fake.enqueue({ kind: 'message', text: 'plain answer', usage: { input_tokens: 321, output_tokens: 7 } });
      const w = await wrapper(['-p', 'say hi'], { SYNAPSE_TELEMETRY_ENDPOINT: receiver.url });
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stdout.trim(), 'plain answer', 'no metadata on stdout');
      assert.equal(messagePosts(fake.requests).length, 1);
      assert.equal(receiver.posts.length, 1);
      const body = receiver.posts[0].body as { type: string; data: { usage?: { inputTokens: number }; routingDecision: { model: string } } };
      assert.equal(body.type, 'conduit_metadata');
      assert.equal(body.data.usage?.inputTokens, 321);
      assert.equal(body.data.routingDecision.model, messagePosts(fake.requests)[0].body.model);
    } finally {
      await receiver.close();
    }
  });

  it('a dead endpoint (port closed; one that never answers) changes nothing of claude\'s output or exit code, and is said once on stderr', async () => {
    const answer = { kind: 'message' as const, text: 'still here', usage: { input_tokens: 500, output_tokens: 9 } };
    fake.enqueue(answer);
    const plain = await wrapper(STREAM_JSON);
    assert.equal(plain.code, 0, plain.stderr);

    const closedPort = await freePort();
    const silent = await startSilentEndpoint();
    try {
      for (const [what, url] of [['port closed', `http://127.0.0.1:${closedPort}/t`], ['never answers', silent.url]]) {
        fake.enqueue(answer);
        const w = await wrapper(STREAM_JSON, { SYNAPSE_TELEMETRY_ENDPOINT: url });
        assert.equal(w.code, plain.code, `${what}: the same exit code; ${w.stderr}`);
        assert.deepEqual(claudeShape(w), claudeShape(plain), `${what}: claude's lines and answer as without telemetry`);
        assert.equal(lines(w).filter((l) => l.type === 'conduit_metadata').length, 1, `${what}: the metadata line is printed`);
        const warnings = telemetryWarnings(w);
        assert.equal(warnings.length, 1, `${what}: said once: ${w.stderr}`);
        assert.ok(warnings[0].includes(new URL(url).origin), `${what}: names the endpoint: ${warnings[0]}`);
      }
      assert.equal(silent.requests(), 1, 'the silent endpoint was sent the record');
    } finally {
      await silent.close();
    }
  });

  it('an endpoint that is not http(s): said on stderr, the session runs as without it', async () => {
    fake.enqueue({ kind: 'message', text: 'fine', usage: { input_tokens: 50, output_tokens: 2 } });
    const w = await wrapper(STREAM_JSON, { SYNAPSE_TELEMETRY_ENDPOINT: 'file:///tmp/telemetry.ndjson' });
    assert.equal(w.code, 0, w.stderr);
    const warnings = telemetryWarnings(w);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /http or https/);
    assert.equal(claudeShape(w).result, 'fine');
    assert.equal(lines(w).filter((l) => l.type === 'conduit_metadata').length, 1);
  });
});
