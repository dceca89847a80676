// Two routes of the analytics work (issue 11), over real HTTP on a gateway with a real store
// (PGlite): conduit-claude's report of its run (claude's session id, the first prompt as a
// short excerpt) shown by the sessions query, and "Add a price", which writes config.json's
// prices (0600, the rest of the file kept) and reloads them at once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { startGateway, type RunningGateway } from '../../src/conduit/gateway';
import type { LedgerEngine } from '../../src/conduit/ledger/store/engine';
import { EngineLedger } from '../../src/conduit/ledger/process/engineLedger';
import { CONTEXT_HEADER, encodeSessionContext } from '../../src/protocol/sessionContext';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fakeAnthropic';
import { openTestStore, type TestStore } from '../ledger/support/store';

describe('gateway: session info and prices routes', () => {
  let fake: FakeAnthropic;
  let store: TestStore;
  let live: LedgerEngine;
  let gateway: RunningGateway;
  let home: string;
  const call = (method: string, p: string, body?: unknown, token: string | null = gateway.token) => fetch(`${gateway.url}${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-conduit-token': token } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const message = async (model: string, sessionId: string, claudeSessionId?: string) => {
    const ingested = once(live.ingester, 'batch');
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', 'x-conduit-token': gateway.token, 'anthropic-version': '2023-06-01',
        [CONTEXT_HEADER]: encodeSessionContext({ sessionId, projectId: 'info-project' }),
        ...(claudeSessionId ? { 'x-claude-code-session-id': claudeSessionId } : {}),
      },
      body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    await ingested;
  };
  const analytics = async (q: string) => (await (await call('GET', `/v1/conduit/analytics/${q}`)).json()) as Record<string, any>;

  before(async function () {
    this.timeout(60_000);
    fake = await startFakeAnthropic();
    store = await openTestStore();
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-info-prices-'));
    ({ engine: live } = await store.engine({ journalDir: path.join(home, 'journal'), ingest: { debounceMs: 10 } }));
    live.start();
    writeFileSync(path.join(home, 'config.json'), `${JSON.stringify({ upstreamTimeoutMs: 90000, port: 0 }, null, 2)}\n`);
    gateway = await startGateway({
      home, port: 0, log: silentLogger,
      env: { CONDUIT_ANTHROPIC_URL: fake.url, ANTHROPIC_API_KEY: 'sk-test-upstream-key', CONDUIT_PLUGINS_DISABLED: '1' },
      ledger: new EngineLedger(live),
    });
  });
  after(async () => {
    await gateway?.close();
    await fake?.close();
    await store?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("stores the first prompt as a short excerpt, takes claude's id from the run's requests, and the sessions query shows both", async () => {
    await message('claude-haiku-4-5', 'run-info-1', 'claude-info-1');
    const prompt = `  Refactor\n\n\tthe billing   module\u0000 ${'so that it handles every currency '.repeat(20)}\ud800 end`;
    const res = await call('PUT', '/v1/conduit/sessions/run-info-1/info', { firstPrompt: prompt });
    assert.equal(res.status, 200, await res.clone().text());
    const stored = await res.json() as Record<string, any>;
    assert.equal(stored.claudeSessionId, 'claude-info-1', "claude's id from the run's requests");
    assert.equal(Array.from(stored.firstPrompt as string).length, 160);
    assert.ok((stored.firstPrompt as string).startsWith('Refactor the billing module\uFFFD so that'), stored.firstPrompt);
    assert.ok((stored.firstPrompt as string).endsWith('…'));
    const sessions = await analytics('sessions?range=today&project=info-project');
    assert.equal(sessions.sessions.length, 1);
    assert.deepEqual([sessions.sessions[0].sessionId, sessions.sessions[0].claudeSessionId, sessions.sessions[0].firstPrompt], ['claude-info-1', 'claude-info-1', stored.firstPrompt]);
    // A second report fills claude's id but never replaces the first prompt.
    const again = await call('PUT', '/v1/conduit/sessions/run-info-1/info', { claudeSessionId: 'claude-info-1', firstPrompt: 'something else' });
    assert.equal(again.status, 200);
    assert.equal((await analytics('sessions?range=today&project=info-project')).sessions[0].firstPrompt, stored.firstPrompt);
  });

  it('refuses what it cannot store, saying why', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['PUT', '/v1/conduit/sessions/run-x/info', { firstPrompt: 'x'.repeat(20_000) }, 413, /over the gateway's limit of 16384 bytes/],
      ['PUT', '/v1/conduit/sessions/run-x/info', { prompt: 'x' }, 400, /unknown field "prompt"/],
      ['PUT', '/v1/conduit/sessions/run-x/info', { claudeSessionId: 'a b' }, 400, /claudeSessionId: expected 1 to 200 letters/],
      ['PUT', '/v1/conduit/sessions/run-x/info', { firstPrompt: 42 }, 400, /firstPrompt: expected a string/],
      ['PUT', '/v1/conduit/sessions/run-x/info', '[1]', 400, /expected an object/],
      ['GET', '/v1/conduit/sessions/run-x/info', undefined, 405, /use PUT/],
    ];
    for (const [method, p, body, status, message] of cases) {
      const res = await call(method, p, body);
      assert.equal(res.status, status, `${method} ${p} ${JSON.stringify(body)?.slice(0, 40)}`);
      assert.match(((await res.json()) as any).error.message, message);
    }
    assert.equal((await call('PUT', '/v1/conduit/sessions/run-x/info', { firstPrompt: 'x' }, null)).status, 401);
    assert.equal((await call('PUT', '/v1/conduit/prices/acme-ft', { input: 1, output: 2 }, null)).status, 401);
  });

  it('adds a price to config.json (0600, the rest kept) and the next answers price that model', async () => {
    await message('acme-ft-7', 'run-price-1');
    const before = (await analytics('models?range=today&project=info-project')).models.find((m: any) => m.model === 'acme-ft-7');
    assert.deepEqual([before.priceKnown, before.cost], [false, null]);
    const unpriced = (await analytics('recent?range=today&project=info-project&limit=1')).requests[0];
    assert.deepEqual([unpriced.model, unpriced.cost, unpriced.costSource], ['acme-ft-7', null, 'unknown']);
    assert.equal((await analytics('summary?range=today&project=info-project')).unpricedRequests, 1);
    const res = await call('PUT', '/v1/conduit/prices/acme-ft-7', { input: 2, output: 8 });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { model: 'acme-ft-7', price: { input: 2, output: 8, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 }, source: 'config', repricedRequests: 1 });
    const file = path.join(home, 'config.json');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(written, { upstreamTimeoutMs: 90000, port: 0, prices: { 'acme-ft-7': { input: 2, output: 8 } } });
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    const after = (await analytics('models?range=today&project=info-project')).models.find((m: any) => m.model === 'acme-ft-7');
    assert.equal(after.priceKnown, true, 'the analytics know the price at once');
    // The request stored without a price is priced now, as the gateway would have.
    const expected = Math.round((unpriced.inputTokens * 2 + unpriced.outputTokens * 8 + unpriced.cacheCreationTokens * 2.5 + unpriced.cacheReadTokens * 0.2)) / 1e6;
    assert.equal(after.cost, expected);
    assert.equal(after.unknownCostRequests, 0);
    const summary = await analytics('summary?range=today&project=info-project');
    assert.deepEqual([summary.unpricedRequests, summary.unpricedModels], [0, []]);
    // The next request is priced.
    await message('acme-ft-7', 'run-price-2');
    const recent = (await analytics('recent?range=today&project=info-project&limit=1')).requests[0];
    assert.equal(recent.model, 'acme-ft-7');
    assert.equal(recent.costSource, 'config');
    assert.ok(recent.cost > 0);
    // A second model keeps the first.
    const second = await call('PUT', `/v1/conduit/prices/${encodeURIComponent('org/acme-ft-8:beta')}`, { input: 1, output: 1, cacheRead: 0 });
    assert.equal(second.status, 200);
    assert.equal(((await second.json()) as any).repricedRequests, 0);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')).prices), ['acme-ft-7', 'org/acme-ft-8:beta']);
    assert.deepEqual((await (await call('GET', `/v1/conduit/prices/${encodeURIComponent('org/acme-ft-8:beta')}`)).json() as any).price.cacheRead, 0);
  });

  it('refuses bad prices and model ids, and leaves a config.json it cannot read alone', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['acme-ft-9', { input: -1, output: 2 }, /input: expected a price in USD per million tokens \(a number from 0 to 100000\), got -1/],
      ['acme-ft-9', { input: 1 }, /output: required/],
      ['acme-ft-9', { input: 1, output: '2' }, /output: expected a price/],
      ['acme-ft-9', '{"input": 1, "output": 1e999}', /output: expected a price/],
      ['acme-ft-9', { input: 1, output: 2, discount: 3 }, /unknown field "discount"/],
      ['acme%20ft', { input: 1, output: 2 }, /model: expected a model id/],
      ['%E0%A4%A', { input: 1, output: 2 }, /not valid percent-encoding/],
    ];
    for (const [model, body, message] of cases) {
      const res = await call('PUT', `/v1/conduit/prices/${model}`, body);
      assert.equal(res.status, 400, `${model} ${JSON.stringify(body)}`);
      assert.match(((await res.json()) as any).error.message, message);
    }
    const file = path.join(home, 'config.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{ "routing": ');
    try {
      const res = await call('PUT', '/v1/conduit/prices/acme-ft-9', { input: 1, output: 2 });
      assert.equal(res.status, 409);
      assert.match(((await res.json()) as any).error.message, /is not valid JSON .*fix it before adding a price/);
      assert.equal(readFileSync(file, 'utf8'), '{ "routing": ', 'left as it was');
    } finally {
      writeFileSync(file, good);
      gateway.reloadConfig();
    }
    assert.equal((await call('DELETE', '/v1/conduit/prices/acme-ft-7')).status, 405);
  });
});
