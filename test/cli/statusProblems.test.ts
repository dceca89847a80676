// `conduit status` and `conduit start` say what a person must fix, with the built
// dist/conduit.js as real processes: no credentials (and the two ways to get them), a
// config.json refused at start (one recognizable line, exit 1) or on a change while it runs.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { useCliSandbox } from './support';

const UPSTREAM_KEY = 'sk-test-cli-status-problems';

describe('conduit status and start: credentials and config.json problems in words', function () {
  this.timeout(60_000);
  const cli = useCliSandbox(UPSTREAM_KEY);

  async function start(env: NodeJS.ProcessEnv): Promise<number> {
    const r = await cli.sb.conduit(['start', '--port', '0'], env);
    assert.equal(r.code, 0, `start failed: ${r.stderr}`);
    return Number(/127\.0\.0\.1:(\d+)/.exec(r.stdout)![1]);
  }

  it('with no provider key: "No credentials" with both ways to fix it; --json has the state', async () => {
    await start(cli.sb.env({ CONDUIT_ANTHROPIC_URL: cli.fake.url, ANTHROPIC_API_KEY: '' }));
    const plain = await cli.sb.conduit(['status'], cli.sb.env());
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /^No credentials: .*Conduit: Set Provider API Key.*ANTHROPIC_API_KEY.*claude \/login/m);
    const { json } = await cli.sb.status();
    assert.equal((json as unknown as { credentials: { state: string } }).credentials.state, 'none');
  });

  it('with a provider key: no credentials line, and the state is "api-key"', async () => {
    await start(cli.sb.env({ CONDUIT_ANTHROPIC_URL: cli.fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY }));
    const plain = await cli.sb.conduit(['status'], cli.sb.env());
    assert.doesNotMatch(plain.stdout, /credentials/i);
    assert.equal((((await cli.sb.status()).json) as unknown as { credentials: { state: string } }).credentials.state, 'api-key');
  });

  it('a config.json naming an unknown provider stops start with one configuration error line', async () => {
    writeFileSync(path.join(cli.sb.home, 'config.json'), JSON.stringify({ port: 0, routing: { defaultModel: 'nosuchprovider/claude-x' } }));
    const env = cli.sb.env({ CONDUIT_ANTHROPIC_URL: cli.fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY });
    const foreground = await cli.sb.conduit(['start', '--foreground'], env);
    assert.equal(foreground.code, 1);
    assert.match(foreground.stderr, /^conduit: configuration error: .*config\.json: config\.routing\.defaultModel: unknown provider "nosuchprovider"/m);
    const background = await cli.sb.conduit(['start'], env);
    assert.equal(background.code, 1);
    assert.match(background.stderr, /unknown provider "nosuchprovider"/);
    assert.equal((await cli.sb.status()).code, 3);
  });
});
