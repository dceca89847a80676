// Hostile values in well-formed requests, over real HTTP: each is the client's error (400
// naming the field), never the gateway's (500), and nothing is stored or written on the way.
// Prices: a huge price whose derived cache price would be Infinity, model ids that name an
// object's own machinery (`__proto__`, `constructor`). Projects and agents: control
// characters (a NUL, which Postgres refuses in text) in keys, names and ids.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';
import { assertAnthropicError, rawRequest } from './helpers';

describe('hostile values in well-formed requests: 400 naming the field, nothing written', () => {
  let t: TestGateway;
  let configFile: string;
  const CONFIG = { upstreamTimeoutMs: 90_000, prices: { 'acme-ft-1': { input: 2, output: 8 } } };

  before(async () => {
    // No usage store: a request that passes validation reaches it and gets 503, which tells
    // it apart from a refusal (400) without a database.
    t = await startTestGateway({ env: { CONDUIT_LEDGER: 'off' }, config: CONFIG });
    configFile = path.join(t.home, 'config.json');
  });
  after(async () => { await t?.close(); });

  const send = (method: string, p: string, body?: unknown) => rawRequest(t.url, {
    method, path: p, headers: { 'content-type': 'application/json', 'x-conduit-token': t.token },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    timeoutMs: 20_000,
  });
  const configText = () => readFileSync(configFile, 'utf8');

  describe('PUT /v1/conduit/prices/:model', () => {
    for (const [what, body, field] of [
      ['input 1e308 (its 2x cache-write price would be Infinity)', { input: 1e308, output: 1 }, 'input'],
      ['output above the bound', { input: 1, output: 100_001 }, 'output'],
      ['a cache price above the bound', { input: 1, output: 1, cacheWrite1h: 1e300 }, 'cacheWrite1h'],
      ['a negative price', { input: -1, output: 1 }, 'input'],
    ] as const) {
      it(`${what}: 400 naming ${field}, config.json untouched`, async () => {
        const before = configText();
        const error = assertAnthropicError(await send('PUT', '/v1/conduit/prices/my-model', body), 400, 'invalid_request_error');
        assert.match(error.message, new RegExp(`^\\[conduit\\] ${field}: expected a price in USD per million tokens \\(a number from 0 to 100000\\)`));
        assert.equal(configText(), before);
      });
    }

    it('the highest price accepted: its derived cache prices stay finite and are served', async () => {
      const res = await send('PUT', '/v1/conduit/prices/pricey-model', { input: 100_000, output: 100_000 });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(JSON.parse(res.text).price, { input: 100_000, output: 100_000, cacheWrite5m: 125_000, cacheWrite1h: 200_000, cacheRead: 10_000 });
      assert.deepEqual(JSON.parse(configText()).prices['pricey-model'], { input: 100_000, output: 100_000 });
    });

    for (const model of ['__proto__', 'constructor', 'prototype']) {
      it(`model "${model}": 400 as a reserved name, config.json untouched, the gateway's prices intact`, async () => {
        const before = configText();
        const error = assertAnthropicError(await send('PUT', `/v1/conduit/prices/${model}`, { input: 1, output: 1 }), 400, 'invalid_request_error');
        assert.equal(error.message, `[conduit] model: "${model}" is a reserved name, not a model id`);
        assert.equal(configText(), before);
        const known = JSON.parse((await send('GET', '/v1/conduit/prices/acme-ft-1')).text);
        assert.deepEqual({ source: known.source, input: known.price.input }, { source: 'config', input: 2 });
      });
    }

    it('a config.json whose prices already hold "__proto__" is left alone (409), not half-updated', async () => {
      const planted = `${JSON.stringify({ prices: { 'acme-ft-1': { input: 2, output: 8 } } }).slice(0, -2)}, "__proto__": { "input": 1, "output": 1 } } }\n`;
      const before = configText();
      writeFileSync(configFile, planted);
      try {
        const error = assertAnthropicError(await send('PUT', '/v1/conduit/prices/acme-ft-2', { input: 1, output: 1 }), 409, 'invalid_request_error');
        assert.match(error.message, /prices: "__proto__": "__proto__" is a reserved name, not a model id; fix it before adding a price$/);
        assert.equal(configText(), planted);
      } finally {
        writeFileSync(configFile, before);
      }
    });

    it('a model id outside the model-id rule: 400', async () => {
      const error = assertAnthropicError(await send('PUT', `/v1/conduit/prices/${encodeURIComponent('a b')}`, { input: 1, output: 1 }), 400, 'invalid_request_error');
      assert.match(error.message, /^\[conduit\] model: expected a model id/);
    });
  });

  describe('projects and agents: control characters', () => {
    const AGENT = { name: 'reviewer', personaType: 'code-reviewer', useProjectModel: true };
    for (const [what, method, p, body, field] of [
      ['a NUL in the project key', 'PUT', '/v1/conduit/projects/a%00b', { name: 'x' }, 'project key'],
      ['an ESC in the project key', 'GET', '/v1/conduit/projects/a%1Bb', undefined, 'project key'],
      ['a NUL in the project key of an agent list', 'POST', '/v1/conduit/projects/a%00/agents', AGENT, 'project key'],
      ['a NUL in a project name', 'PUT', '/v1/conduit/projects/p1', { name: 'a\u0000b' }, 'name'],
      ['a line break in a project name', 'PUT', '/v1/conduit/projects/p1', { name: 'a\nb' }, 'name'],
      ['a NUL in a previous key', 'PUT', '/v1/conduit/projects/p1', { previousKeys: ['ok-key', 'a\u0000'] }, 'previousKeys\\[1\\]'],
      ['a NUL in an agent name', 'POST', '/v1/conduit/projects/p1/agents', { ...AGENT, name: 'a\u0000b' }, 'name'],
      ['a NUL in a persona type', 'POST', '/v1/conduit/projects/p1/agents', { ...AGENT, personaType: 'x\u0000' }, 'personaType'],
      ['a NUL in a renamed agent', 'PUT', '/v1/conduit/projects/p1/agents/agent-1', { name: '\u0000' }, 'name'],
      ['a NUL agent id (update)', 'PUT', '/v1/conduit/projects/p1/agents/%00', { name: 'y' }, 'agent id'],
      ['a NUL agent id (delete)', 'DELETE', '/v1/conduit/projects/p1/agents/%00', undefined, 'agent id'],
      ['a DEL in an agent id', 'DELETE', '/v1/conduit/projects/p1/agents/a%7F', undefined, 'agent id'],
    ] as const) {
      it(`${what}: 400 naming ${field.replace(/\\/g, '')}`, async () => {
        const error = assertAnthropicError(await send(method, p, body), 400, 'invalid_request_error');
        assert.match(error.message, new RegExp(`^\\[conduit\\] ${field}: must not contain control characters \\(found U\\+00[0-9A-F]{2} at position \\d+\\)$`));
      });
    }

    it('the same requests without the control characters pass validation (and reach the store, off here: 503)', async () => {
      for (const [method, p, body] of [
        ['PUT', '/v1/conduit/projects/ab', { name: 'a b', previousKeys: ['ok-key'] }],
        ['POST', '/v1/conduit/projects/p1/agents', { ...AGENT, name: 'ab' }],
        ['DELETE', '/v1/conduit/projects/p1/agents/a', undefined],
      ] as const) {
        assert.equal((await send(method, p, body)).status, 503, `${method} ${p}`);
      }
    });
  });

  describe('afterwards', () => {
    it('still answers its status', async () => {
      const res = await send('GET', '/v1/conduit/status');
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).running, true);
    });
  });
});
