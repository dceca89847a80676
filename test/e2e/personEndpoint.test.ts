// End to end with the REAL claude CLI: the person's own endpoint (ANTHROPIC_BASE_URL in
// conduit-claude's environment, or in the env block of claude's settings files) is where
// the session's requests go, through the gateway, with the person's token and custom
// headers; the gateway's configured provider sees none of them. The decision and
// `conduit status` name that endpoint; config.json's "personEndpoint": "refuse" stops the
// session before any request. Two stand-ins: the gateway's provider and the person's.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeAnthropic, type FakeAnthropic, type RecordedRequest } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
const UPSTREAM_KEY = 'sk-test-e2e-gateway-provider';
const PERSON_TOKEN = 'person-proxy-token-e2e';
const STREAM_JSON = ['-p', 'say hi', '--output-format', 'stream-json', '--verbose'];

interface MetadataLine {
  type: 'conduit_metadata';
  data: { routingDecision: { model: string; upstream?: string } };
}

function posts(fake: FakeAnthropic): RecordedRequest[] {
  return fake.requests.filter((r) => r.method === 'POST' && new URL(r.url, 'http://x').pathname === '/v1/messages');
}

function metadataOf(r: RunResult): MetadataLine[] {
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string }).filter((l) => l.type === 'conduit_metadata') as MetadataLine[];
}

describe("conduit-claude with the person's own endpoint (real claude CLI)", function () {
  this.timeout(90_000);
  let provider: FakeAnthropic;
  let person: FakeAnthropic;
  let sb: Sandbox;

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    // Each stand-in refuses any credential but its own: a request that arrives carried the right one.
    provider = await startFakeAnthropic({ requireApiKey: UPSTREAM_KEY });
    person = await startFakeAnthropic({ requireApiKey: PERSON_TOKEN });
  });
  after(async () => {
    await provider?.close();
    await person?.close();
  });
  afterEach(async () => {
    await sb?.cleanup();
    provider.reset();
    person.reset();
  });

  async function startGateway(): Promise<void> {
    const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: provider.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    assert.equal(r.code, 0, r.stderr);
  }

  function wrapper(extra: NodeJS.ProcessEnv): Promise<RunResult> {
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ...extra });
    return run(process.execPath, [WRAPPER, ...STREAM_JSON], { env, cwd: sb.work, timeoutMs: 60_000 });
  }

  function writeSettings(file: string, env: Record<string, string>): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ env }));
  }

  /** The person's endpoint got every request of the session, with their token and headers; the gateway's provider none. */
  function checkReachedPerson(w: RunResult, header: [string, string]): void {
    assert.equal(w.code, 0, w.stderr);
    assert.equal(posts(provider).length, 0, "the gateway's provider saw no request");
    const got = posts(person);
    assert.ok(got.length >= 1, "the person's endpoint got the session's requests");
    for (const p of got) {
      assert.equal(p.headers.authorization, `Bearer ${PERSON_TOKEN}`, "the person's token reached their endpoint");
      assert.equal(p.headers[header[0]], header[1], "the person's custom header reached their endpoint");
      assert.equal(p.headers['x-api-key'], undefined, "the gateway's key did not");
      assert.equal(p.headers['x-conduit-token'], undefined, 'the access token did not');
    }
    const metadata = metadataOf(w);
    assert.equal(metadata.length, got.length, 'one conduit_metadata line per request: Conduit routed and measured them');
    for (const m of metadata) assert.equal(m.data.routingDecision.upstream, person.url, 'the decision names the upstream');
    assert.match(w.stderr, new RegExp(`requests go through Conduit to ${person.url.replace(/[.]/g, '\\.')}`));
  }

  it('ANTHROPIC_BASE_URL in its environment: the requests go there with the token and custom headers; status names it', async () => {
    sb = new Sandbox();
    await startGateway();
    const w = await wrapper({ ANTHROPIC_BASE_URL: person.url, ANTHROPIC_AUTH_TOKEN: PERSON_TOKEN, ANTHROPIC_CUSTOM_HEADERS: 'x-company-team: platform' });
    checkReachedPerson(w, ['x-company-team', 'platform']);
    assert.match(w.stderr, /ANTHROPIC_BASE_URL in the environment/);

    const { json } = await sb.status();
    const endpoint = json.personEndpoint as { setting: string; inUse: { baseUrl: string }[] };
    assert.equal(endpoint.setting, 'use');
    assert.deepEqual(endpoint.inUse.map((e) => e.baseUrl), [person.url]);
    const text = await sb.conduit(['status'], sb.env());
    assert.ok(text.stdout.includes(`names ${person.url} send their requests there`), text.stdout);
  });

  it("only in the project's .claude/settings.json (with custom headers there too): the gateway's address still wins for claude, the URL becomes the upstream", async () => {
    sb = new Sandbox();
    await startGateway();
    writeSettings(path.join(sb.work, '.claude', 'settings.json'), { ANTHROPIC_BASE_URL: person.url, ANTHROPIC_CUSTOM_HEADERS: 'x-proxy-route: eu' });
    const w = await wrapper({ ANTHROPIC_AUTH_TOKEN: PERSON_TOKEN });
    checkReachedPerson(w, ['x-proxy-route', 'eu']);
    assert.match(w.stderr, /env\.ANTHROPIC_BASE_URL in .*\.claude\/settings\.json/);
  });

  it("claude's precedence: .claude/settings.local.json over the project's over the user's over the environment", async () => {
    sb = new Sandbox();
    await startGateway();
    // Every other place names the gateway's provider: only the local file's URL may receive requests.
    writeSettings(path.join(sb.userHome, '.claude', 'settings.json'), { ANTHROPIC_BASE_URL: `${provider.url}/user` });
    writeSettings(path.join(sb.work, '.claude', 'settings.json'), { ANTHROPIC_BASE_URL: `${provider.url}/project` });
    writeSettings(path.join(sb.work, '.claude', 'settings.local.json'), { ANTHROPIC_BASE_URL: person.url });
    const w = await wrapper({ ANTHROPIC_BASE_URL: `${provider.url}/environment`, ANTHROPIC_AUTH_TOKEN: PERSON_TOKEN, ANTHROPIC_CUSTOM_HEADERS: 'x-company-team: platform' });
    checkReachedPerson(w, ['x-company-team', 'platform']);
    assert.equal(provider.requests.length, 0, 'not even a probe reached the other URLs');
  });

  it("a settings file that empties ANTHROPIC_BASE_URL still leaves claude pointed at the gateway (no endpoint of the person's: the configured provider)", async () => {
    sb = new Sandbox();
    await startGateway();
    writeSettings(path.join(sb.work, '.claude', 'settings.local.json'), { ANTHROPIC_BASE_URL: '' });
    const w = await wrapper({});
    assert.equal(w.code, 0, w.stderr);
    const got = posts(provider);
    assert.ok(got.length >= 1, "the gateway's provider got the requests");
    for (const p of got) assert.equal(p.headers['x-api-key'], UPSTREAM_KEY);
    assert.equal(person.requests.length, 0);
    const metadata = metadataOf(w);
    assert.equal(metadata.length, got.length);
    for (const m of metadata) assert.equal(m.data.routingDecision.upstream, undefined);
    assert.doesNotMatch(w.stderr, /requests go through Conduit to/);
  });

  it('config.json "personEndpoint": "refuse": a clear message, exit 2, and no request anywhere', async () => {
    sb = new Sandbox({ config: { port: 0, personEndpoint: 'refuse' } });
    await startGateway();
    const w = await wrapper({ ANTHROPIC_BASE_URL: person.url, ANTHROPIC_AUTH_TOKEN: PERSON_TOKEN });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /^conduit-claude: Claude Code is set to send its requests to /);
    assert.ok(w.stderr.includes(person.url), 'the message names the endpoint');
    assert.match(w.stderr, /ANTHROPIC_BASE_URL in the environment/);
    assert.match(w.stderr, /"personEndpoint": "refuse"/);
    assert.equal(w.stdout, '', 'claude did not run');
    assert.equal(person.requests.length, 0);
    assert.equal(provider.requests.length, 0);
    const text = await sb.conduit(['status'], sb.env());
    assert.match(text.stdout, /Person's endpoint: refused/);
  });

  it('a URL with credentials in it: refused before claude runs, naming where it was set', async () => {
    sb = new Sandbox();
    await startGateway();
    writeSettings(path.join(sb.userHome, '.claude', 'settings.json'), { ANTHROPIC_BASE_URL: 'https://someone:secret@proxy.example' });
    const w = await wrapper({ ANTHROPIC_AUTH_TOKEN: PERSON_TOKEN });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /env\.ANTHROPIC_BASE_URL in .*home\/\.claude\/settings\.json: holds credentials/);
    assert.ok(!w.stderr.includes('secret'), 'the message does not repeat the password');
    assert.equal(provider.requests.length, 0);
  });
});
