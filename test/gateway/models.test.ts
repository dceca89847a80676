import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../support/gatewayHarness';

describe('GET /v1/conduit/models (the model configuration view\'s list)', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      config: {
        routing: { fallbackModels: ['proxy/claude-sonnet-4-6'] },
        providers: { proxy: { baseUrl: 'http://127.0.0.1:9' } },
        prices: { 'my-own-model': { input: 1, output: 2 } },
      },
      env: { CONDUIT_LEDGER: 'off' },
    });
  });
  after(() => t.close());

  const get = (token: string | null) => fetch(`${t.url}/v1/conduit/models`, { headers: token ? { 'x-conduit-token': token } : {} });

  it('lists the priced Claude models with the seed\'s categories, config\'s own models and the rules\' choices', async () => {
    const res = await get(t.token);
    assert.equal(res.status, 200);
    const { models } = (await res.json()) as { models: { id: string; name: string; category: string | null; price: { input: number; output: number } | null }[] };
    const byId = new Map(models.map((m) => [m.id, m]));
    for (const [id, category] of [['claude-haiku-4-5', 'fast'], ['claude-sonnet-4-6', 'balanced'], ['claude-opus-5-5', 'powerful']] as const) {
      assert.equal(byId.get(id)?.category, category, `${id} is listed as ${category}`);
    }
    assert.ok(!models.some((m) => /^claude-(2|3|v1)/.test(m.id)), 'retired families are not offered');
    assert.equal(byId.get('my-own-model')?.category, null, 'a model priced in config.json is offered');
    assert.equal(byId.get('proxy/claude-sonnet-4-6')?.category, 'balanced', 'a rule\'s model of another provider is offered');
    assert.equal(byId.size, models.length, 'each model once');
  });

  it('gives each model its price per million tokens, input and output, as requests are costed; null when unknown', async () => {
    const { models } = (await (await get(t.token)).json()) as { models: { id: string; price: { input: number; output: number } | null }[] };
    const byId = new Map(models.map((m) => [m.id, m.price]));
    assert.deepEqual(byId.get('claude-sonnet-4-5'), { input: 3, output: 15 }, 'the price table\'s');
    assert.deepEqual(byId.get('claude-haiku-4-5'), { input: 1, output: 5 });
    assert.deepEqual(byId.get('my-own-model'), { input: 1, output: 2 }, 'config.json\'s own price');
    assert.equal(byId.get('proxy/claude-sonnet-4-6'), null, 'a model of another provider has no known price');
  });

  it('gives every Claude model its display name, the default model too (not in the price table)', async () => {
    const { models } = (await (await get(t.token)).json()) as { models: { id: string; name: string }[] };
    const byId = new Map(models.map((m) => [m.id, m.name]));
    assert.equal(byId.get('claude-sonnet-5-5'), 'Claude Sonnet 5.5', 'the rules\' default model');
    assert.equal(byId.get('claude-haiku-4-5'), 'Claude Haiku 4.5');
    assert.equal(byId.get('claude-opus-5-5'), 'Claude Opus 5.5');
    for (const m of models.filter((x) => /^claude-(opus|sonnet|haiku)-/.test(x.id))) assert.notEqual(m.name, m.id, `${m.id} has a name`);
    assert.equal(byId.get('my-own-model'), 'my-own-model', 'a model of config.json\'s own is named by its id');
  });

  it('needs the access token', async () => {
    assert.equal((await get(null)).status, 401);
  });
});
