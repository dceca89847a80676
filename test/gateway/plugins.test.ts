// Custom router plugins over real HTTP, run in the gateway's plugin worker thread: the
// seed's example works as written, an object export works, and plugins that throw,
// return garbage, hang or block their thread are logged and skipped while the request
// still succeeds, routed by the rules, and the gateway keeps serving.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../src/conduit/core/log';
import { encodeSessionContext } from '../../src/protocol/sessionContext';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { EventSubscriber, rawRequest, smallRequest } from './helpers';

const TIMEOUT_MS = 100;
const RULES_MODEL = 'claude-sonnet-4-5';

/** The seed's example plugin, exactly as written there. */
const SEED_PLUGIN = `class AgentTypeRouter { constructor() { this.name = 'agent-type-router'; this.version = '1.0.0'; } async customRouter(context) { if (context.synapseContext.agentType === 'code-reviewer') return 'claude-opus-4-8'; return null; } } module.exports = AgentTypeRouter;`;

/** A plugin that misbehaves only for one agent type, so one gateway holds them all. */
const misbehaving = (name: string, agentType: string, body: string) =>
  `module.exports = { name: '${name}', customRouter(context) { if (context.synapseContext.agentType !== '${agentType}') return null; ${body} } };`;

// Files load in name order; the misbehaving ones come before the good ones, so a good
// plugin runs after a bad one was skipped.
const PLUGINS: Record<string, string> = {
  '10-thrower.js': misbehaving('thrower', 'throw', `throw new Error('plugin exploded on purpose');`),
  '11-async-thrower.js': misbehaving('async-thrower', 'reject', `return Promise.reject(new Error('async rejection on purpose'));`),
  '20-number.js': misbehaving('number', 'garbage-number', 'return 42;'),
  '21-object.js': misbehaving('object', 'garbage-object', `return { model: 'claude-opus-4-8' };`),
  '22-spaces.js': misbehaving('spaces', 'garbage-spaces', `return 'claude opus please';`),
  '23-empty.js': misbehaving('empty', 'garbage-empty', `return '';`),
  '30-hang.js': misbehaving('hang', 'hang', 'return new Promise(() => {});'),
  '40-blocker.js': misbehaving('blocker', 'block', 'while (true) {}'),
  '50-seed.js': SEED_PLUGIN,
  '60-object-export.js': `module.exports = { name: 'object-router', version: '2.0.0', customRouter(context) { return context.synapseContext.agentType === 'docs-writer' ? 'claude-haiku-4-5' : null; } };`,
  '70-not-a-plugin.js': `module.exports = { hello: 'world' };`,
  '71-syntax-error.js': `module.exports = {{;`,
};

describe('gateway plugins', () => {
  let t: TestGateway;
  let events: EventSubscriber;
  const log: string[] = [];
  const logText = () => log.join('');

  before(async () => {
    t = await startTestGateway({
      config: { plugins: { timeoutMs: TIMEOUT_MS }, routing: { defaultModel: RULES_MODEL } },
      plugins: PLUGINS,
      log: createLogger((l) => log.push(l), true),
    });
    events = await EventSubscriber.open(t.url, t.token);
  });
  after(async () => {
    events?.close();
    await t?.close();
  });

  async function route(agentType: string | null): Promise<{ model: string; source: string; rule: string }> {
    const headers: Record<string, string> = agentType ? { 'x-conduit-context': encodeSessionContext({ agentType, agentId: `agent-${agentType}` }) } : {};
    const res = await t.messages(smallRequest({ stream: true }), headers);
    assert.equal(res.status, 200, `agent ${agentType}: ${res.status}`);
    await res.arrayBuffer();
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(res.headers.get('x-conduit-model'), record.decision.model);
    return { model: record.decision.model, source: record.decision.source, rule: record.decision.rule };
  }

  it('loads the plugins that export a class or an object with customRouter, and logs the others', async () => {
    const res = await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token } });
    const plugins = JSON.parse(res.text).plugins as PluginStatus[];
    assert.ok(plugins.every((p) => p.state === 'loaded'));
    const names = plugins.map((p) => `${p.name}@${p.version}`);
    assert.deepEqual(names, [
      'thrower@null', 'async-thrower@null', 'number@null', 'object@null', 'spaces@null', 'empty@null', 'hang@null',
      'blocker@null', 'agent-type-router@1.0.0', 'object-router@2.0.0',
    ]);
    assert.match(logText(), /WARN .*plugin 70-not-a-plugin\.js: exports no customRouter/);
    assert.match(logText(), /WARN .*plugin 71-syntax-error\.js: failed to load/);
  });

  it('the seed\'s example plugin (a class, as written) routes code-reviewer agents', async () => {
    const r = await route('code-reviewer');
    assert.equal(r.model, 'claude-opus-4-8');
    assert.equal(r.source, 'plugin');
    assert.equal(r.rule, 'plugin agent-type-router');
    assert.equal(t.fake.requests.at(-1)?.body.model, 'claude-opus-4-8', 'the stand-in received the plugin\'s model');
  });

  it('a plugin exported as an object routes', async () => {
    const r = await route('docs-writer');
    assert.deepEqual([r.model, r.source, r.rule], ['claude-haiku-4-5', 'plugin', 'plugin object-router']);
  });

  it('with no plugin answering, the rules route', async () => {
    for (const agentType of ['someone-else', null]) {
      const r = await route(agentType);
      assert.deepEqual([r.model, r.source], [RULES_MODEL, 'default']);
    }
  });

  const bad: [string, string, RegExp][] = [
    ['throw', 'throws', /WARN .*plugin thrower: plugin exploded on purpose/],
    ['reject', 'rejects its promise', /WARN .*plugin async-thrower: async rejection on purpose/],
    ['garbage-number', 'returns a number', /WARN .*plugin number: returned number, expected a model id or null/],
    ['garbage-object', 'returns an object', /WARN .*plugin object: returned object, expected a model id or null/],
    ['garbage-spaces', 'returns a string with spaces', /WARN .*plugin spaces: returned the string "claude opus please"/],
    ['garbage-empty', 'returns an empty string', /WARN .*plugin empty: returned the string ""/],
    ['hang', 'never resolves', new RegExp(`WARN .*plugin hang: no answer within ${TIMEOUT_MS} ms`)],
  ];
  for (const [agentType, what, logged] of bad) {
    it(`a plugin that ${what} is skipped and logged; the request succeeds, routed by the rules`, async () => {
      const r = await route(agentType);
      assert.deepEqual([r.model, r.source], [RULES_MODEL, 'default']);
      assert.match(logText(), logged);
      // And the gateway and the other plugins go on working.
      assert.equal((await route('code-reviewer')).model, 'claude-opus-4-8');
    });
  }

  it('a hanging plugin costs one time limit, not more', async () => {
    // One call, one time limit: the plugin is asked once (not retried) and the request then routes.
    const hangs = () => logText().split(`plugin hang: no answer within ${TIMEOUT_MS} ms`).length - 1;
    const before = hangs();
    const r = await route('hang');
    assert.equal(r.model, RULES_MODEL);
    assert.equal(hangs() - before, 1, 'the hanging plugin was waited for exactly once');
  });

  it('a plugin that blocks its thread (while(true){}) is skipped, the worker replaced and the plugin disabled', async () => {
    // While the plugin thread is stuck, the gateway itself keeps answering.
    let blockedDone = false;
    const blocked = route('block').then((r) => { blockedDone = true; return r; });
    const health = await rawRequest(t.url, { path: '/health', timeoutMs: 5_000 });
    assert.equal(health.status, 200);
    assert.equal(blockedDone, false, 'the health check answered while the plugin thread was blocked');

    const r = await blocked;
    assert.deepEqual([r.model, r.source], [RULES_MODEL, 'default']);
    assert.match(logText(), /ERROR .*plugin blocker \(.*40-blocker\.js\) blocked the plugin thread; it is disabled/);

    // Later requests do not run the blocker again (no new block, no new time limit) and the other plugins still work.
    const troubles = () => (logText().match(/plugin blocker|blocked the plugin thread|no answer within/g) ?? []).length;
    const troublesBefore = troubles();
    const again = await route('block');
    assert.deepEqual([again.model, again.source], [RULES_MODEL, 'default']);
    assert.equal(troubles(), troublesBefore, `the disabled blocker ran again:\n${logText()}`);
    assert.equal((await route('code-reviewer')).model, 'claude-opus-4-8');
    assert.equal((await route('docs-writer')).model, 'claude-haiku-4-5');
    const thrown = await route('throw');
    assert.equal(thrown.model, RULES_MODEL);

    const plugins = await pluginStatus(t);
    const names = plugins.filter((p) => p.state === 'loaded').map((p) => p.name);
    assert.ok(!names.includes('blocker'), `blocker still loaded: ${names.join(', ')}`);
    assert.ok(names.includes('agent-type-router') && names.includes('object-router'));
    const blocker = plugins.find((p) => p.name === 'blocker');
    assert.deepEqual([blocker?.state, blocker?.reason], ['disabled', 'blocked the plugin thread']);
  });

  it('serves many requests concurrently with plugins in the path', async () => {
    const types = ['code-reviewer', 'docs-writer', 'throw', 'garbage-number', 'someone-else', 'hang'];
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => route(types[i % types.length])));
    const expected: Record<string, string> = { 'code-reviewer': 'claude-opus-4-8', 'docs-writer': 'claude-haiku-4-5' };
    results.forEach((r, i) => assert.equal(r.model, expected[types[i % types.length]] ?? RULES_MODEL, `request ${i} (${types[i % types.length]})`));
  });
});

interface PluginStatus { name: string; version: string | null; file: string; state: 'loaded' | 'disabled'; reason?: string }

async function pluginStatus(t: TestGateway): Promise<PluginStatus[]> {
  const res = await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token } });
  assert.equal(res.status, 200);
  return JSON.parse(res.text).plugins as PluginStatus[];
}

async function routedModel(t: TestGateway, agentType: string): Promise<string> {
  const res = await t.messages(smallRequest(), { 'x-conduit-context': encodeSessionContext({ agentType, agentId: `agent-${agentType}` }) });
  assert.equal(res.status, 200, `agent ${agentType}: ${res.status}`);
  await res.arrayBuffer();
  return String(res.headers.get('x-conduit-model'));
}

describe('gateway plugins that attack the gateway itself', () => {
  let t: TestGateway;
  const log: string[] = [];
  const logText = () => log.join('');
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  const onLogLine = (line: string) => {
    log.push(line);
    for (const w of waiting.filter((w) => w.pattern.test(line))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  /** Resolves when a log line matches (at once if one did already). */
  const logged = (pattern: RegExp) => new Promise<void>((resolve) => {
    if (pattern.test(logText())) resolve();
    else waiting.push({ pattern, resolve });
  });
  const GOOD = `module.exports = { name: 'good', customRouter(context) { return context.synapseContext.agentType === 'code-reviewer' ? 'claude-opus-4-8' : null; } };`;

  before(async () => {
    t = await startTestGateway({
      config: { plugins: { timeoutMs: TIMEOUT_MS }, routing: { defaultModel: RULES_MODEL } },
      plugins: {
        '10-loops-at-top-level.js': 'while (true) {}',
        '11-loops-in-constructor.js': `module.exports = class { constructor() { while (true) {} } customRouter() { return null; } };`,
        '12-exits-at-load.js': 'process.exit(3);',
        '20-exits-when-routing.js': misbehaving('exits-when-routing', 'exit', 'process.exit(4);'),
        '30-never-answers.js': misbehaving('never-answers', 'never', 'return new Promise(() => {});'),
        '35-exits-later.js': misbehaving('exits-later', 'exit-later', 'setTimeout(() => process.exit(6)); return null;'),
        '40-throws-later.js': misbehaving('throws-later', 'late', `setTimeout(() => { throw new Error('late explosion'); }); Promise.reject(new Error('nobody catches this')); return null;`),
        '90-good.js': GOOD,
      },
      // Loading is limited like calls are; a short limit keeps this suite quick.
      env: { CONDUIT_PLUGIN_LOAD_TIMEOUT_MS: '500', CONDUIT_LEDGER: 'off' },
      log: createLogger(onLogLine, true),
    });
  });
  after(async () => {
    await t?.close();
  });

  it('a plugin that loops forever at load (top level or constructor) is disabled; the gateway starts and the others load', async () => {
    const plugins = await pluginStatus(t);
    const byFile = new Map(plugins.map((p) => [p.file.split(/[\\/]/).pop(), p]));
    for (const file of ['10-loops-at-top-level.js', '11-loops-in-constructor.js']) {
      assert.equal(byFile.get(file)?.state, 'disabled', `${file}: ${JSON.stringify(byFile.get(file))}`);
      assert.match(byFile.get(file)?.reason ?? '', /did not finish loading within 500 ms/);
      assert.match(logText(), new RegExp(`ERROR .*plugin ${file.replace('.js', '')} .*did not finish loading within 500 ms; it is disabled`));
    }
    assert.deepEqual(plugins.filter((p) => p.state === 'loaded').map((p) => p.name), ['exits-when-routing', 'never-answers', 'exits-later', 'throws-later', 'good']);
    assert.equal(await routedModel(t, 'code-reviewer'), 'claude-opus-4-8');
  });

  it('a plugin that calls process.exit() at load is disabled with a log line; the others load', async () => {
    const exited = (await pluginStatus(t)).find((p) => p.file.endsWith('12-exits-at-load.js'));
    assert.equal(exited?.state, 'disabled');
    assert.match(exited?.reason ?? '', /ended the plugin thread \(exit code 3\) while loading/);
    assert.match(logText(), /ERROR .*plugin 12-exits-at-load .*ended the plugin thread \(exit code 3\) while loading; it is disabled/);
  });

  it('a plugin that calls process.exit() in customRouter is disabled, the thread restarted and the other plugins kept', async () => {
    assert.equal(await routedModel(t, 'exit'), RULES_MODEL);
    assert.match(logText(), /ERROR .*plugin exits-when-routing .*ended the plugin thread \(exit code 4\); it is disabled/);
    assert.equal(await routedModel(t, 'code-reviewer'), 'claude-opus-4-8');
    const plugins = await pluginStatus(t);
    assert.equal(plugins.find((p) => p.name === 'exits-when-routing')?.state, 'disabled');
    assert.deepEqual(plugins.filter((p) => p.state === 'loaded').map((p) => p.name), ['never-answers', 'exits-later', 'throws-later', 'good']);
  });

  it('a plugin that calls process.exit() later, from a timer its customRouter set, is the one disabled', async () => {
    assert.equal(await routedModel(t, 'exit-later'), RULES_MODEL);
    await logged(/ERROR .*plugin exits-later .*ended the plugin thread \(exit code 6\); it is disabled/);
    assert.equal(await routedModel(t, 'code-reviewer'), 'claude-opus-4-8');
    const plugins = await pluginStatus(t);
    assert.equal(plugins.find((p) => p.name === 'exits-later')?.state, 'disabled');
    assert.deepEqual(plugins.filter((p) => p.state === 'loaded').map((p) => p.name), ['never-answers', 'throws-later', 'good']);
  });

  it('plugin code that throws from a timer or leaves a rejection unhandled is logged; the thread and every plugin stay', async () => {
    assert.equal(await routedModel(t, 'late'), RULES_MODEL);
    await logged(/WARN .*plugin code threw outside customRouter: late explosion/);
    await logged(/WARN .*plugin code left a promise rejection unhandled: nobody catches this/);
    assert.doesNotMatch(logText(), /throws-later .*disabled|plugin thread ended/);
    assert.equal(await routedModel(t, 'code-reviewer'), 'claude-opus-4-8');
    assert.equal((await pluginStatus(t)).find((p) => p.name === 'throws-later')?.state, 'loaded');
  });

  it('a customRouter that never answers is disabled after 3 consecutive time-outs', async () => {
    const timeouts = () => logText().match(/plugin never-answers: no answer within/g)?.length ?? 0;
    for (let i = 0; i < 3; i++) assert.equal(await routedModel(t, 'never'), RULES_MODEL);
    assert.equal(timeouts(), 3);
    assert.match(logText(), /ERROR .*plugin never-answers .*gave no answer within 100 ms 3 times in a row; it is disabled/);
    assert.equal((await pluginStatus(t)).find((p) => p.name === 'never-answers')?.state, 'disabled');
    // No longer called: no fourth time-out.
    assert.equal(await routedModel(t, 'never'), RULES_MODEL);
    assert.equal(timeouts(), 3);
    assert.equal(await routedModel(t, 'code-reviewer'), 'claude-opus-4-8');
  });

  it('answers in between reset the count: time-outs that are not consecutive do not disable', async () => {
    // Covered with a plugin of its own so the previous test's state does not matter.
    const t2 = await startTestGateway({
      config: { plugins: { timeoutMs: TIMEOUT_MS }, routing: { defaultModel: RULES_MODEL } },
      plugins: { 'sometimes.js': misbehaving('sometimes', 'never', 'return new Promise(() => {});') },
      env: { CONDUIT_LEDGER: 'off' },
    });
    try {
      for (let i = 0; i < 4; i++) {
        assert.equal(await routedModel(t2, 'never'), RULES_MODEL);
        assert.equal(await routedModel(t2, 'someone-else'), RULES_MODEL);
      }
      assert.equal((await pluginStatus(t2)).find((p) => p.name === 'sometimes')?.state, 'loaded');
    } finally {
      await t2.close();
    }
  });
});

describe('a plugin thread that keeps ending with no plugin to blame', () => {
  it('is restarted, then after 3 ends in a row plugins are off and logged; the gateway serves by the rules', async () => {
    const log: string[] = [];
    let offLogged: () => void = () => undefined;
    const off = new Promise<void>((resolve) => { offLogged = resolve; });
    const t = await startTestGateway({
      config: { plugins: { timeoutMs: TIMEOUT_MS }, routing: { defaultModel: RULES_MODEL } },
      plugins: {
        // The timer calls process.exit itself: no plugin code is on the stack when it runs.
        'exits-on-its-own.js': `setTimeout(process.exit, 0, 7); module.exports = { customRouter() { return 'claude-opus-4-8'; } };`,
      },
      env: { CONDUIT_LEDGER: 'off' },
      log: createLogger((line) => { log.push(line); if (/plugins are off until the gateway restarts/.test(line)) offLogged(); }, true),
    });
    try {
      await off;
      assert.match(log.join(''), /ERROR .*plugin thread ended \(exit code 7\) with no plugin running/);
      assert.equal(await routedModel(t, 'anyone'), RULES_MODEL);
      assert.deepEqual((await pluginStatus(t)).filter((p) => p.state === 'loaded'), []);
    } finally {
      await t.close();
    }
  });
});

describe('what plugins can see', () => {
  it('the plugin thread gets the environment without secrets: no API keys, tokens, provider keys, Supabase keys or passwords in URLs', async () => {
    const t = await startTestGateway({
      config: { providers: { openrouter: { baseUrl: 'https://openrouter.example', apiKeyEnv: 'OPENROUTER_CREDENTIAL_FOR_TEST' } } },
      plugins: {
        'env-dump.js': `require('node:fs').writeFileSync(require('node:path').join(__dirname, 'env.json'), JSON.stringify(process.env)); module.exports = { customRouter() { return null; } };`,
      },
      apiKey: 'test-upstream-secret-key',
      env: {
        PATH: process.env.PATH,
        LANG: 'C.UTF-8',
        NODE_ENV: 'test',
        CONDUIT_LEDGER: 'off',
        OPENROUTER_CREDENTIAL_FOR_TEST: 'provider-key',
        ANTHROPIC_AUTH_TOKEN: 'auth-token',
        OPENAI_API_KEY: 'openai-key',
        GITHUB_TOKEN: 'ghp_x',
        AWS_SECRET_ACCESS_KEY: 'aws-secret',
        SUPABASE_SERVICE_ROLE_KEY: 'service-role',
        SUPABASE_ANON_KEY: 'anon',
        SYNAPSE_SUPABASE_URL: 'https://project.supabase.co',
        DB_PASSWORD: 'pw',
        DATABASE_URL: 'postgres://user:hunter2@db.example/prod',
      },
    });
    try {
      const seen = JSON.parse(readFileSync(path.join(t.home, 'plugins', 'env.json'), 'utf8')) as Record<string, string>;
      for (const secret of ['ANTHROPIC_API_KEY', 'OPENROUTER_CREDENTIAL_FOR_TEST', 'ANTHROPIC_AUTH_TOKEN', 'OPENAI_API_KEY', 'GITHUB_TOKEN',
        'AWS_SECRET_ACCESS_KEY', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_ANON_KEY', 'DB_PASSWORD', 'DATABASE_URL']) {
        assert.equal(seen[secret], undefined, `${secret} reached the plugin`);
      }
      assert.ok(!JSON.stringify(seen).includes('test-upstream-secret-key'));
      assert.equal(seen.PATH, process.env.PATH);
      assert.equal(seen.LANG, 'C.UTF-8');
      assert.equal(seen.NODE_ENV, 'test');
      assert.equal(seen.CONDUIT_ANTHROPIC_URL, t.fake.url, 'not a secret: stays');
    } finally {
      await t.close();
    }
  });
});
