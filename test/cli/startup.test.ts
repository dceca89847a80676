// `conduit start` against hostile plugins and a gateway that never listens, with the
// built dist/conduit.js as real processes: a start never hangs and never ends silently.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive, useCliSandbox } from './support';

const UPSTREAM_KEY = 'test-upstream-key-cli-startup';

interface PluginStatus { name: string; file: string; state: 'loaded' | 'disabled'; reason?: string }

describe('conduit start against hostile plugins (built dist/conduit.js)', function () {
  this.timeout(60_000);
  const cli = useCliSandbox(UPSTREAM_KEY);

  function installPlugins(plugins: Record<string, string>): void {
    mkdirSync(path.join(cli.sb.home, 'plugins'), { recursive: true });
    for (const [name, source] of Object.entries(plugins)) writeFileSync(path.join(cli.sb.home, 'plugins', name), source);
  }

  function gatewayEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return cli.sb.env({ CONDUIT_ANTHROPIC_URL: cli.fake.url, ANTHROPIC_API_KEY: UPSTREAM_KEY, CONDUIT_LEDGER: 'off', ...extra });
  }

  /** `conduit start` in the background; asserts it started and returns the port. */
  async function start(env: NodeJS.ProcessEnv): Promise<number> {
    const r = await cli.sb.conduit(['start', '--port', '0'], env);
    assert.equal(r.code, 0, `start failed (${r.code}): ${r.stderr}\nlog:\n${readFileSync(cli.sb.logFile, 'utf8')}`);
    const m = /Conduit started on http:\/\/127\.0\.0\.1:(\d+)/.exec(r.stdout);
    assert.ok(m, `unexpected start output: ${r.stdout}`);
    return Number(m[1]);
  }

  async function pluginStatus(port: number): Promise<PluginStatus[]> {
    const res = await fetch(`http://127.0.0.1:${port}/v1/conduit/status`, { headers: { 'x-conduit-token': cli.sb.token() } });
    assert.equal(res.status, 200);
    return ((await res.json()) as { plugins: PluginStatus[] }).plugins;
  }

  const GOOD = `module.exports = { name: 'good', customRouter() { return null; } };`;

  it('a plugin that loops forever at load does not hang the start: the gateway listens without it and says so in its log and status', async () => {
    installPlugins({ '10-loops.js': 'while (true) {}', '20-good.js': GOOD });
    const port = await start(gatewayEnv({ CONDUIT_PLUGIN_LOAD_TIMEOUT_MS: '1000' }));
    assert.match(readFileSync(cli.sb.logFile, 'utf8'), /ERROR .*plugin 10-loops .*did not finish loading within 1000 ms; it is disabled/);
    const plugins = await pluginStatus(port);
    assert.deepEqual(plugins.map((p) => [p.name, p.state]), [['good', 'loaded'], ['10-loops', 'disabled']]);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    // `conduit status` names it, with the reason; --json lists every plugin's state.
    const plain = await cli.sb.conduit(['status'], cli.sb.env());
    assert.match(plain.stdout, /^Plugin 10-loops \(.*10-loops\.js\) is disabled: .*did not finish loading within 1000 ms/m);
    assert.doesNotMatch(plain.stdout, /Plugin good/);
    const json = JSON.parse((await cli.sb.conduit(['status', '--json'], cli.sb.env())).stdout) as { plugins: PluginStatus[] };
    assert.deepEqual(json.plugins.map((p) => [p.name, p.state]), [['good', 'loaded'], ['10-loops', 'disabled']]);
  });

  it('a plugin that calls process.exit() at load cannot end the gateway: it is disabled with a log line', async () => {
    installPlugins({ '10-exits.js': 'process.exit(0);', '20-good.js': GOOD });
    const port = await start(gatewayEnv());
    assert.match(readFileSync(cli.sb.logFile, 'utf8'), /ERROR .*plugin 10-exits .*ended the plugin thread \(exit code 0\) while loading; it is disabled/);
    const plugins = await pluginStatus(port);
    assert.deepEqual(plugins.map((p) => [p.name, p.state]), [['good', 'loaded'], ['10-exits', 'disabled']]);
  });

  it('plugins do not see the provider key or other secrets of the environment the gateway was started with', async () => {
    installPlugins({ 'env-dump.js': `require('node:fs').writeFileSync(require('node:path').join(__dirname, 'env.json'), JSON.stringify(process.env)); module.exports = { customRouter() { return null; } };` });
    await start(gatewayEnv({ GITHUB_TOKEN: 'ghp_test', SUPABASE_SERVICE_ROLE_KEY: 'service-role' }));
    const seen = JSON.parse(readFileSync(path.join(cli.sb.home, 'plugins', 'env.json'), 'utf8')) as Record<string, string>;
    assert.ok(!JSON.stringify(seen).includes(UPSTREAM_KEY), 'the provider key reached the plugin');
    for (const name of ['ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'SUPABASE_SERVICE_ROLE_KEY']) assert.equal(seen[name], undefined, name);
    assert.equal(seen.CONDUIT_HOME, cli.sb.home, 'where the gateway keeps its state is no secret');
    assert.equal(seen.PATH, process.env.PATH ?? '');
  });

  it('a gateway not listening within the start limit is stopped; start says why (its last log lines) and exits 1', async () => {
    // A load limit longer than the start limit: the start limit is what ends this start.
    installPlugins({ '10-loops.js': 'while (true) {}' });
    const r = await cli.sb.conduit(['start', '--port', '0'], gatewayEnv({ CONDUIT_PLUGIN_LOAD_TIMEOUT_MS: '600000', CONDUIT_START_TIMEOUT_MS: '1500' }));
    assert.equal(r.code, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const m = /^conduit: the gateway was not listening within 1\.5 s, so it was stopped \(pid (\d+)\)\. The last lines of its log \(.*gateway\.log\):\n {2}.*plugins: loading 10-loops\.js/.exec(r.stderr);
    assert.ok(m, `unexpected message: ${r.stderr}`);
    assert.equal(processAlive(Number(m[1])), false, 'the stuck gateway was stopped');
    assert.equal(cli.sb.pid(), null, 'no pid file');
    const status = await cli.sb.status();
    assert.equal(status.code, 3);
  });
});
