// Custom router plugins over real HTTP, run in the gateway's plugin worker thread: the
// seed's example works as written, an object export works, and plugins that throw,
// return garbage, hang or block their thread are logged and skipped while the request
// still succeeds, routed by the rules, and the gateway keeps serving.
import assert from 'node:assert/strict';
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

  async function route(agentType: string | null): Promise<{ model: string; source: string; rule: string; ms: number }> {
    const started = performance.now();
    const headers: Record<string, string> = agentType ? { 'x-conduit-context': encodeSessionContext({ agentType, agentId: `agent-${agentType}` }) } : {};
    const res = await t.messages(smallRequest({ stream: true }), headers);
    assert.equal(res.status, 200, `agent ${agentType}: ${res.status}`);
    await res.arrayBuffer();
    const ms = performance.now() - started;
    const record = await events.usage(String(res.headers.get('x-conduit-request-id')));
    assert.equal(res.headers.get('x-conduit-model'), record.decision.model);
    return { model: record.decision.model, source: record.decision.source, rule: record.decision.rule, ms };
  }

  it('loads the plugins that export a class or an object with customRouter, and logs the others', async () => {
    const res = await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token } });
    const names = (JSON.parse(res.text).plugins as { name: string; version: string | null }[]).map((p) => `${p.name}@${p.version}`);
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
    const r = await route('hang');
    assert.equal(r.model, RULES_MODEL);
    assert.ok(r.ms < TIMEOUT_MS + 900, `took ${Math.round(r.ms)} ms`);
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

    // Later requests are fast (the blocker no longer runs) and the other plugins still work.
    const again = await route('block');
    assert.deepEqual([again.model, again.source], [RULES_MODEL, 'default']);
    assert.ok(again.ms < 1_000, `took ${Math.round(again.ms)} ms after the worker was replaced`);
    assert.equal((await route('code-reviewer')).model, 'claude-opus-4-8');
    assert.equal((await route('docs-writer')).model, 'claude-haiku-4-5');
    const thrown = await route('throw');
    assert.equal(thrown.model, RULES_MODEL);

    const status = JSON.parse((await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token } })).text);
    const names = (status.plugins as { name: string }[]).map((p) => p.name);
    assert.ok(!names.includes('blocker'), `blocker still loaded: ${names.join(', ')}`);
    assert.ok(names.includes('agent-type-router') && names.includes('object-router'));
  });

  it('serves many requests concurrently with plugins in the path', async () => {
    const types = ['code-reviewer', 'docs-writer', 'throw', 'garbage-number', 'someone-else', 'hang'];
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => route(types[i % types.length])));
    const expected: Record<string, string> = { 'code-reviewer': 'claude-opus-4-8', 'docs-writer': 'claude-haiku-4-5' };
    results.forEach((r, i) => assert.equal(r.model, expected[types[i % types.length]] ?? RULES_MODEL, `request ${i} (${types[i % types.length]})`));
  });
});
