// conduit-claude when the gateway cannot be started (its port taken by another program, its
// home unwritable), with the REAL claude CLI: with CONDUIT_FALLBACK=direct (the default)
// claude still answers, straight from the Anthropic stand-in as the person's own endpoint,
// stderr has one line saying so, and the metadata lines say "fallback" with no usage or
// cost; CONDUIT_FALLBACK=fail keeps the exit 1. A gateway killed during the session (by
// claude's own Bash tool, between two requests): the next request goes to the provider
// directly with the person's key, or, when the session used the gateway's key, is refused
// without the access token going anywhere. With CLAUDE_CODE_USE_BEDROCK or
// CLAUDE_CODE_USE_VERTEX, claude (a script standing in for it, since it would call the cloud)
// runs with its environment untouched, a notice, and no metadata.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage, type RecordedRequest } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, processAlive, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
/** The person's own key: the only one the stand-in takes. */
const PERSON_KEY = 'sk-test-e2e-person-fallback';
const STREAM_JSON = ['-p', 'say hi', '--output-format', 'stream-json', '--verbose'];

interface Line { type: string; [k: string]: unknown }
interface FallbackLine {
  type: 'conduit_metadata';
  data: {
    requestId: string;
    sessionId?: string;
    routingDecision: { model: string; source: string; tokenCount: number; timestamp: string; rule: string; requestedModel: string };
    projectContext?: { projectId: string; agentId?: string };
    usage?: unknown;
  };
}

function lines(r: RunResult): Line[] {
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

function messagePosts(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

/** Another program holding a port on the gateway's address. */
async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

describe('conduit-claude without a gateway: graceful fallback, Bedrock and Vertex', function () {
  this.timeout(120_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;
  let held: { port: number; close: () => Promise<void> };

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    fake = await startFakeAnthropic({ requireApiKey: PERSON_KEY });
    held = await holdPort();
  });
  after(async () => {
    await fake?.close();
    await held?.close();
  });
  afterEach(async () => {
    await sb.cleanup();
    fake.reset();
  });

  /** conduit-claude with the person's own endpoint (the stand-in) and key, as claude alone would use them. */
  function wrapper(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    const env = sb.env({
      CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: PERSON_KEY, SYNAPSE_PROJECT_ID: 'proj-fallback', SYNAPSE_AGENT_ID: 'agent-fallback', ...extra,
    });
    return run(process.execPath, [WRAPPER, ...args], { env, cwd: sb.work, timeoutMs: 90_000 });
  }

  /** What every fallback run shows: claude's answer from the stand-in, one stderr line, fallback metadata. */
  function checkFallback(w: RunResult, answer: string, expectedRequests: number): FallbackLine[] {
    assert.equal(w.code, 0, w.stderr);
    const notices = w.stderr.split('\n').filter((l) => l.startsWith('conduit-claude:'));
    assert.equal(notices.length, 1, `one line on stderr: ${w.stderr}`);
    assert.match(notices[0], /gateway is unavailable .*claude runs directly against the provider/);
    const out = lines(w);
    const result = out.find((l) => l.type === 'result');
    assert.equal(result?.is_error, false);
    assert.equal(result?.result, answer, 'claude answered, from the stand-in');
    const requests = messagePosts(fake.requests);
    assert.equal(requests.length, expectedRequests);
    for (const r of requests) {
      assert.equal(r.headers['x-api-key'], PERSON_KEY, "the person's own key");
      assert.equal(r.headers['x-conduit-token'], undefined, 'nothing of Conduit goes to the provider');
      assert.equal(r.headers['x-conduit-context'], undefined);
    }
    const metadata = out.filter((l) => l.type === 'conduit_metadata') as unknown as FallbackLine[];
    assert.equal(metadata.length, requests.length, 'one metadata line per API request');
    assert.equal(new Set(metadata.map((m) => m.data.requestId)).size, metadata.length, 'distinct request ids');
    const claudeSession = (out.find((l) => l.type === 'system') as { session_id?: string } | undefined)?.session_id;
    for (const [i, m] of metadata.entries()) {
      const d = m.data.routingDecision;
      assert.equal(d.source, 'fallback');
      assert.equal(d.model, requests[i].body.model, 'the model that answered');
      assert.equal(d.requestedModel, d.model, 'nothing was routed');
      assert.equal(d.tokenCount, 0, 'no estimate was made');
      assert.ok(!Number.isNaN(Date.parse(d.timestamp)));
      assert.equal(m.data.usage, undefined, 'no usage or cost Conduit did not measure');
      assert.equal(m.data.sessionId, claudeSession, "claude's session");
      assert.deepEqual(m.data.projectContext, { projectId: 'proj-fallback', agentId: 'agent-fallback' });
    }
    assert.equal(out.filter((l) => l.type === 'conduit_session').length, 0, 'no session totals without measurements');
    return metadata;
  }

  it("the gateway's port taken by another program: claude answers directly (a two-request turn), one stderr line, fallback metadata; no gateway left running", async () => {
    sb = new Sandbox({ config: { port: held.port } });
    const first: FakeUsage = { input_tokens: 900, output_tokens: 30 };
    writeFileSync(path.join(sb.work, 'notes.txt'), 'fallback e2e\n');
    fake.enqueue(
      { kind: 'message', usage: first, toolUse: { name: 'Read', input: { file_path: path.join(sb.work, 'notes.txt') } } },
      { kind: 'message', text: 'read it directly', usage: { input_tokens: 120, output_tokens: 8 } },
    );
    const w = await wrapper(STREAM_JSON);
    checkFallback(w, 'read it directly', 2);
    const { json } = await sb.status();
    assert.equal(json.running, false, 'no gateway runs');
  });

  it('the gateway\'s home unwritable (a file where its folder should be, which stops root too): claude answers directly', async () => {
    sb = new Sandbox();
    const home = path.join(sb.root, 'not-a-folder');
    writeFileSync(home, 'a file\n');
    chmodSync(home, 0o444);
    fake.enqueue({ kind: 'message', text: 'answered without conduit', usage: { input_tokens: 40, output_tokens: 4 } });
    const w = await wrapper(STREAM_JSON, { CONDUIT_HOME: home });
    checkFallback(w, 'answered without conduit', 1);
  });

  it('without stream-json: stdout is claude\'s text alone, the one stderr line says so', async () => {
    sb = new Sandbox({ config: { port: held.port } });
    fake.enqueue({ kind: 'message', text: 'plain direct answer', usage: { input_tokens: 40, output_tokens: 4 } });
    const w = await wrapper(['-p', 'say hi']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout.trim(), 'plain direct answer');
    assert.equal(w.stderr.split('\n').filter((l) => l.startsWith('conduit-claude:')).length, 1, w.stderr);
    assert.equal(messagePosts(fake.requests).length, 1);
  });

  it('CONDUIT_FALLBACK=fail: exit 1 saying why, claude never runs; another value: exit 2 naming the variable', async () => {
    sb = new Sandbox({ config: { port: held.port } });
    const failed = await wrapper(STREAM_JSON, { CONDUIT_FALLBACK: 'fail' });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /could not start the gateway/);
    assert.equal(failed.stdout, '');
    assert.equal(messagePosts(fake.requests).length, 0);
    const wrong = await wrapper(STREAM_JSON, { CONDUIT_FALLBACK: 'maybe' });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /CONDUIT_FALLBACK must be "direct" or "fail"/);
    assert.equal(messagePosts(fake.requests).length, 0);
  });

  for (const [variable, value, provider] of [['CLAUDE_CODE_USE_BEDROCK', '1', 'Amazon Bedrock'], ['CLAUDE_CODE_USE_VERTEX', 'true', 'Google Vertex AI']]) {
    it(`${variable}=${value}: claude runs as is (its environment untouched, no gateway started), a notice on stderr, no metadata`, async () => {
      sb = new Sandbox();
      // Stands in for claude: prints what it was given as stream-json-like lines, then exits 3.
      const claude = path.join(sb.root, 'claude-env');
      writeFileSync(claude, [
        '#!/usr/bin/env node',
        'const pick = (k) => process.env[k] ?? null;',
        "console.log(JSON.stringify({ type: 'system', subtype: 'init', session_id: 'cloud-session' }));",
        "console.log(JSON.stringify({ type: 'assistant', message: { id: 'msg_cloud', model: 'claude-sonnet-4-5' }, session_id: 'cloud-session' }));",
        "console.log(JSON.stringify({ type: 'env', args: process.argv.slice(2), baseUrl: pick('ANTHROPIC_BASE_URL'), headers: pick('ANTHROPIC_CUSTOM_HEADERS'), authToken: pick('ANTHROPIC_AUTH_TOKEN'), key: pick('ANTHROPIC_API_KEY') }));",
        'process.exit(3);',
      ].join('\n'));
      chmodSync(claude, 0o755);
      const w = await wrapper(STREAM_JSON, { CONDUIT_CLAUDE_PATH: claude, [variable]: value, ANTHROPIC_CUSTOM_HEADERS: 'x-team: blue' });
      assert.equal(w.code, 3, `claude's exit code: ${w.stderr}`);
      assert.equal(w.stderr.trim().split('\n').length, 1, w.stderr);
      assert.ok(w.stderr.includes(`${variable} is set`) && w.stderr.includes(provider) && w.stderr.includes('cannot route or measure'), w.stderr);
      const out = lines(w);
      assert.deepEqual(out.map((l) => l.type), ['system', 'assistant', 'env'], 'claude\'s lines only: no conduit_metadata or conduit_session');
      assert.deepEqual(out[2], {
        type: 'env', args: STREAM_JSON, baseUrl: fake.url, headers: 'x-team: blue', authToken: null, key: PERSON_KEY,
      }, 'the environment as conduit-claude got it');
      assert.equal(sb.pid(), null, 'no gateway was started');
      assert.equal(messagePosts(fake.requests).length, 0);
    });
  }

  describe('the gateway dies during the session', () => {
    /** A gateway whose provider is the stand-in, holding the stand-in's key. */
    async function startGateway(): Promise<number> {
      const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: PERSON_KEY }));
      assert.equal(r.code, 0, r.stderr);
      const pid = sb.pid();
      assert.ok(pid);
      return pid;
    }

    /** The first reply has claude kill the gateway (its Bash tool, allowed); the second is claude's answer. */
    function killingTurn(pid: number, answer: string): void {
      fake.enqueue(
        { kind: 'message', usage: { input_tokens: 700, output_tokens: 20 }, toolUse: { name: 'Bash', input: { command: `kill -9 ${pid}`, description: 'stop the gateway' } } },
        { kind: 'message', text: answer, usage: { input_tokens: 90, output_tokens: 6 } },
      );
    }

    const ARGS = [...STREAM_JSON, '--allowedTools', 'Bash'];

    it("with the person's own key: the next request goes to the provider directly, said once on stderr, its metadata says fallback", async () => {
      sb = new Sandbox();
      const pid = await startGateway();
      killingTurn(pid, 'answered after the gateway died');
      const w = await wrapper(ARGS);
      assert.equal(w.code, 0, w.stderr);
      assert.equal(processAlive(pid), false, 'the gateway was killed');
      const notices = w.stderr.split('\n').filter((l) => l.startsWith('conduit-claude:') && l.includes('stopped during the session'));
      assert.equal(notices.length, 1, w.stderr);
      assert.ok(notices[0].includes(`go directly to ${new URL(fake.url).origin}`), notices[0]);
      const out = lines(w);
      assert.equal(out.find((l) => l.type === 'result')?.result, 'answered after the gateway died');
      const requests = messagePosts(fake.requests);
      assert.equal(requests.length, 2);
      for (const r of requests) {
        assert.equal(r.headers['x-api-key'], PERSON_KEY);
        assert.equal(r.headers['x-conduit-token'], undefined);
        assert.equal(r.headers['x-conduit-context'], undefined);
      }
      const metadata = out.filter((l) => l.type === 'conduit_metadata') as unknown as FallbackLine[];
      assert.deepEqual(metadata.map((m) => m.data.routingDecision.source === 'fallback'), [false, true], 'the first request routed by the gateway, the second one not');
      assert.equal(metadata[1].data.usage, undefined);
    });

    it("on the gateway's key: the next request is refused by conduit-claude itself, and the access token reaches no provider", async () => {
      sb = new Sandbox();
      const pid = await startGateway();
      killingTurn(pid, 'never sent');
      const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
      const w = await run(process.execPath, [WRAPPER, ...ARGS], { env, cwd: sb.work, timeoutMs: 90_000 });
      assert.equal(processAlive(pid), false, 'the gateway was killed');
      assert.match(w.stderr, /used its provider key: claude's next requests are refused/);
      const result = lines(w).find((l) => l.type === 'result');
      assert.equal(result?.is_error, true, 'claude reports the refusal');
      assert.ok(String(result?.result).includes("Conduit's gateway stopped during this session"), String(result?.result));
      assert.equal(messagePosts(fake.requests).length, 1, 'only the request made through the gateway reached the provider');
      const token = sb.token();
      for (const r of fake.requests) assert.ok(!JSON.stringify(r.headers).includes(token), 'no access token upstream');
    });
  });
});
