// A config.json the gateway refuses while it runs, over real HTTP: the last good
// configuration stays in force, /health says "refused" (no reason: it is open) and the
// status names the reason; a fixed file is taken again. Models saved through the projects
// route are checked the same way ("gpt-9-ultra-nonexistent" as a fallback is refused by name).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigStatus } from '../../src/protocol/configState';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest, smallRequest } from './helpers';

describe('gateway config.json: a refused change keeps the last good configuration and says why', () => {
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway({ config: { routing: { defaultModel: 'claude-haiku-4-5' } }, env: { CONDUIT_LEDGER: 'off' } });
  });

  after(async () => {
    await t?.close();
  });

  function writeConfig(text: string): void {
    writeFileSync(path.join(t.home, 'config.json'), text);
    t.gateway.reloadConfig(); // what the file watcher (or SIGHUP) calls
  }

  async function routedModel(): Promise<string> {
    t.fake.reset();
    const res = await t.messages(smallRequest());
    assert.equal(res.status, 200, await res.text());
    return (await t.fake.waitForRequests(1))[0].body.model;
  }

  async function configState(): Promise<{ health: unknown; status: ConfigStatus }> {
    const health = JSON.parse((await rawRequest(t.url, { path: '/health' })).text);
    const status = JSON.parse((await rawRequest(t.url, { path: '/v1/conduit/status', headers: { 'x-conduit-token': t.token } })).text);
    return { health: health.config, status: status.config };
  }

  for (const [what, text, reason] of [
    ['an unknown provider', JSON.stringify({ routing: { defaultModel: 'nosuchprovider/claude-x' } }), /config\.routing\.defaultModel: unknown provider "nosuchprovider"/],
    ['an unknown fallback model', JSON.stringify({ routing: { fallbackModels: ['gpt-9-ultra-nonexistent'] } }), /config\.routing\.fallbackModels\[0\]: unknown model "gpt-9-ultra-nonexistent"/],
    ['a threshold of -10', JSON.stringify({ routing: { longContextThreshold: -10 } }), /config\.routing\.longContextThreshold: .*-10/],
    ['invalid JSON', '{ "routing": { "defaultModel": "claude-sonnet-4-5", } }', /not valid JSON/],
  ] as const) {
    it(`${what}: refused with its reason; requests keep the last good routing`, async () => {
      writeConfig(text);
      const { health, status } = await configState();
      assert.deepEqual(health, { state: 'refused' });
      assert.equal(status.state, 'refused');
      assert.match(status.error ?? '', reason);
      assert.ok(status.error?.startsWith(path.join(t.home, 'config.json')), 'the reason names the file');
      assert.ok(status.refusedAt);
      assert.equal(await routedModel(), 'claude-haiku-4-5');
    });
  }

  it('a fixed file is taken again and the refusal is cleared', async () => {
    writeConfig(JSON.stringify({ routing: { defaultModel: 'claude-sonnet-4-5' } }));
    const { health, status } = await configState();
    assert.deepEqual(health, { state: 'ok' });
    assert.deepEqual({ state: status.state, error: status.error }, { state: 'ok', error: null });
    assert.equal(await routedModel(), 'claude-sonnet-4-5');
  });

  it('a model saved through the projects route is checked the same way, naming the field', async () => {
    const put = (body: unknown) => rawRequest(t.url, {
      method: 'PUT', path: `/v1/conduit/projects/${encodeURIComponent('file:///work/app')}`,
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token }, body: JSON.stringify(body),
    });
    const fallback = assertAnthropicError(await put({ modelConfig: { enabled: true, rules: { fallbackModels: ['claude-haiku-4-5', 'gpt-9-ultra-nonexistent'] } } }), 400, 'invalid_request_error');
    assert.match(fallback.message, /modelConfig\.rules\.fallbackModels\[1\]: unknown model "gpt-9-ultra-nonexistent"/);
    const provider = assertAnthropicError(await put({ modelConfig: { enabled: true, defaultModel: 'nosuchprovider/claude-x' } }), 400, 'invalid_request_error');
    assert.match(provider.message, /modelConfig\.defaultModel: unknown provider "nosuchprovider"/);
    const agent = await rawRequest(t.url, {
      method: 'POST', path: `/v1/conduit/projects/${encodeURIComponent('file:///work/app')}/agents`,
      headers: { 'content-type': 'application/json', 'x-conduit-token': t.token },
      body: JSON.stringify({ name: 'reviewer', personaType: 'code-reviewer', useProjectModel: false, customModelId: 'claude-opus-99' }),
    });
    assert.match(assertAnthropicError(agent, 400, 'invalid_request_error').message, /customModelId: unknown model "claude-opus-99"/);
    // A known model passes the check and reaches the store (off in this gateway: 503).
    assert.equal((await put({ modelConfig: { enabled: true, rules: { fallbackModels: ['claude-haiku-4-5'] } } })).status, 503);
  });
});
