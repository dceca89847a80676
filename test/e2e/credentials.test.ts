// The REAL claude CLI through conduit-claude and a gateway that has no provider key (the
// gateway's upstream is the Anthropic stand-in, offline):
// - claude not logged in (a fresh HOME): claude stops with its own "Not logged in · Please
//   run /login" without sending anything to the gateway, which therefore says "none";
// - claude logged in with a Claude subscription (its ~/.claude/.credentials.json, as
//   `claude /login` leaves it): claude sends `authorization: Bearer <oauth token>`, the
//   gateway forwards it, the session works and the gateway says "client-login".
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayCredentials } from '../../src/protocol/credentials';
import { request } from '../../src/conduit/client/request';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { ROOT, Sandbox, WRAPPER, ensureBuilt, run, type RunResult } from '../cli/support';

const CLAUDE = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'claude.cmd' : 'claude');
/** The stand-in accepts this as a key or a Bearer token: here, the subscription's OAuth token. */
const SUBSCRIPTION_TOKEN = 'test-oauth-e2e-subscription-login';
const STREAM_JSON = ['-p', 'say hi', '--output-format', 'stream-json', '--verbose'];

describe('the real claude through a gateway without a provider key', function () {
  this.timeout(90_000);
  let fake: FakeAnthropic;
  let sb: Sandbox;

  before(async () => {
    ensureBuilt();
    assert.ok(existsSync(CLAUDE), `${CLAUDE} (npm install puts it there)`);
    fake = await startFakeAnthropic({ requireApiKey: SUBSCRIPTION_TOKEN });
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(async () => {
    sb = new Sandbox();
    const r = await sb.conduit(['start', '--port', '0'], sb.env({ CONDUIT_ANTHROPIC_URL: fake.url }));
    assert.equal(r.code, 0, r.stderr);
  });
  afterEach(async () => {
    await sb.cleanup();
    fake.reset();
  });

  function wrapper(): Promise<RunResult> {
    const env = sb.env({ CONDUIT_CLAUDE_PATH: CLAUDE, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
    return run(process.execPath, [WRAPPER, ...STREAM_JSON], { env, cwd: sb.work, timeoutMs: 60_000 });
  }

  async function credentials(): Promise<GatewayCredentials> {
    const { json } = await sb.status();
    const r = await request(json.port!, 'GET', '/v1/conduit/status', { token: sb.token() });
    return (JSON.parse(r.body) as { credentials: GatewayCredentials }).credentials;
  }

  it('not logged in: claude says "Not logged in", nothing reaches the gateway, and it says "none"', async () => {
    assert.equal((await credentials()).state, 'none');
    const w = await wrapper();
    const result = w.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.type === 'result');
    assert.equal(result?.is_error, true, w.stdout.slice(-500));
    assert.equal(result?.result, 'Not logged in · Please run /login', 'what a person sees today, in claude\'s own words');
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0, 'claude sent nothing');
    assert.equal((await credentials()).state, 'none');
    const status = await sb.conduit(['status'], sb.env());
    assert.match(status.stdout, /No credentials: .*Conduit: Set Provider API Key.*claude \/login/);
  });

  it('logged in with a Claude subscription: its login is forwarded, the session works, and the gateway says "client-login"', async () => {
    // What `claude /login` with a subscription leaves in ~/.claude (the token is the stand-in's).
    const claudeDir = path.join(sb.userHome, '.claude');
    mkdirSync(claudeDir, { recursive: true });
    writeFileSync(path.join(claudeDir, '.credentials.json'), JSON.stringify({
      claudeAiOauth: { accessToken: SUBSCRIPTION_TOKEN, refreshToken: 'test-oauth-refresh-unused', expiresAt: Date.now() + 24 * 3600_000, scopes: ['user:inference'], subscriptionType: 'pro' },
    }), { mode: 0o600 });
    const w = await wrapper();
    assert.equal(w.code, 0, `${w.stderr}\n${w.stdout.slice(-500)}`);
    const posts = fake.requests.filter((r) => r.method === 'POST');
    assert.ok(posts.length > 0);
    assert.equal(posts[0].headers.authorization, `Bearer ${SUBSCRIPTION_TOKEN}`, 'the subscription\'s own login went to the provider');
    const c = await credentials();
    assert.equal(c.state, 'client-login');
    assert.ok(c.clientLoginSeenAt);
    const status = await sb.conduit(['status'], sb.env());
    assert.doesNotMatch(status.stdout, /credentials/i);
  });
});
