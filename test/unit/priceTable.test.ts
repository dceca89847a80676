import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PriceTable, costOf, parsePriceOverrides, type ModelPrice } from '../../src/conduit/pricing/priceTable';
import type { TokenUsage } from '../../src/protocol/usage';

interface Entry { id: string; match: unknown; price: ModelPrice }
const data = JSON.parse(readFileSync(path.resolve(__dirname, '../../src/conduit/pricing/anthropic-prices.json'), 'utf8')) as { source: string; version: string; models: Entry[] };
const entry = (id: string): Entry => {
  const e = data.models.find((m) => m.id === id);
  assert.ok(e, `${id} is in anthropic-prices.json`);
  return e;
};

const usage = (u: Partial<TokenUsage>): TokenUsage => ({
  inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0, ...u,
});

/** The cost by hand: USD per million tokens of each kind. */
function byHand(p: Omit<ModelPrice, 'above200k'>, u: TokenUsage): number {
  const unsplit = u.cacheCreationTokens - u.cacheCreation5mTokens - u.cacheCreation1hTokens;
  return (u.inputTokens * p.input + u.outputTokens * p.output + (u.cacheCreation5mTokens + unsplit) * p.cacheWrite5m
    + u.cacheCreation1hTokens * p.cacheWrite1h + u.cacheReadTokens * p.cacheRead) / 1e6;
}

const close = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what}: a cost`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);
};

describe('PriceTable', () => {
  const table = new PriceTable();

  it('names its source and version from the bundled table', () => {
    assert.equal(table.source, data.source);
    assert.equal(table.version, data.version);
  });

  it('prices each kind of token separately', () => {
    const p = entry('claude-sonnet-4-5').price;
    const n = 150_000; // under the 200k tier
    const cases: [string, Partial<TokenUsage>, number][] = [
      ['input', { inputTokens: n }, p.input],
      ['output', { outputTokens: 1_000_000 }, p.output],
      ['5-minute cache writes', { cacheCreationTokens: n, cacheCreation5mTokens: n }, p.cacheWrite5m],
      ['1-hour cache writes', { cacheCreationTokens: n, cacheCreation1hTokens: n }, p.cacheWrite1h],
      ['cache reads', { cacheReadTokens: n }, p.cacheRead],
    ];
    for (const [what, u, perMillion] of cases) {
      const c = table.cost('claude-sonnet-4-5', usage(u));
      const tokens = Object.values(u).reduce((a, b) => Math.max(a, b), 0);
      close(c.cost, (tokens * perMillion) / 1e6, what);
      assert.equal(c.costSource, 'table:claude-sonnet-4-5');
      assert.equal(c.priceVersion, data.version);
    }
  });

  it('adds up a realistic Claude Code turn', () => {
    for (const id of ['claude-opus-5-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'claude-sonnet-4-5']) {
      const u = usage({ inputTokens: 7, outputTokens: 1234, cacheCreationTokens: 4567, cacheCreation5mTokens: 4000, cacheCreation1hTokens: 567, cacheReadTokens: 28_901 });
      close(table.cost(id, u).cost, byHand(entry(id).price, u), id);
    }
  });

  it('counts cache writes that are not split by duration as 5-minute writes', () => {
    const p = entry('claude-opus-5-5').price;
    const unsplit = usage({ cacheCreationTokens: 10_000 });
    close(table.cost('claude-opus-5-5', unsplit).cost, (10_000 * p.cacheWrite5m) / 1e6, 'all unsplit');
    const partly = usage({ cacheCreationTokens: 10_000, cacheCreation1hTokens: 4_000 });
    close(table.cost('claude-opus-5-5', partly).cost, (6_000 * p.cacheWrite5m + 4_000 * p.cacheWrite1h) / 1e6, 'partly split');
    // A split larger than the total never makes a negative remainder.
    const over = usage({ cacheCreationTokens: 100, cacheCreation5mTokens: 300 });
    close(table.cost('claude-opus-5-5', over).cost, (300 * p.cacheWrite5m) / 1e6, 'split over the total');
  });

  it('uses the above-200k tier when the prompt (input, cache writes and reads) exceeds 200k tokens', () => {
    const tiered = data.models.find((m) => m.price.above200k);
    assert.ok(tiered, 'the table has a model with an above-200k tier');
    const model = tiered.id;
    const base = tiered.price;
    const tier = { ...base, ...base.above200k };
    const at = usage({ inputTokens: 100_000, cacheReadTokens: 60_000, cacheCreationTokens: 40_000, cacheCreation5mTokens: 40_000, outputTokens: 5_000 });
    close(table.cost(model, at).cost, byHand(base, at), 'exactly 200k: base prices');
    const above = { ...at, cacheReadTokens: at.cacheReadTokens + 1 };
    close(table.cost(model, above).cost, byHand(tier, above), 'one token more: the tier, output included');
    assert.ok(byHand(tier, above) > byHand(base, above));
  });

  it('takes the tier from the data given to the constructor, prices it does not set staying at base', () => {
    const base: ModelPrice = { input: 2, output: 8, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2, above200k: { input: 4, cacheRead: 0.4 } };
    const custom = new PriceTable({}, { source: 'test', version: 'v-test', models: [{ id: 'fam', match: { starts_with: 'fam-' }, price: base }] });
    const u = usage({ inputTokens: 150_000, cacheReadTokens: 60_000, outputTokens: 1_000, cacheCreationTokens: 10, cacheCreation1hTokens: 10 });
    const expected = (150_000 * 4 + 1_000 * base.output + 10 * base.cacheWrite1h + 60_000 * 0.4) / 1e6;
    close(custom.cost('fam-1', u).cost, expected, 'partial tier');
    assert.equal(custom.cost('fam-1', u).costSource, 'table:fam');
    assert.equal(custom.cost('fam-1', u).priceVersion, 'v-test');
    assert.equal(custom.cost('claude-sonnet-4-5', u).costSource, 'unknown', 'only the given data is used');
  });

  it('matches dated ids to their family', () => {
    const u = usage({ inputTokens: 1000, outputTokens: 100 });
    for (const [dated, family] of [['claude-haiku-4-5-20251001', 'claude-haiku-4-5'], ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'], ['claude-opus-5-5-20260101', 'claude-opus-5-5']]) {
      const c = table.cost(dated, u);
      assert.equal(c.costSource, `table:${family}`, dated);
      close(c.cost, byHand(entry(family).price, u), dated);
    }
  });

  it('gives an unknown model a null cost flagged "unknown", never 0', () => {
    for (const model of ['gpt-5', 'my-local-model', '', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.deepEqual(table.cost(model, usage({ inputTokens: 1000, outputTokens: 10 })), { cost: null, costSource: 'unknown', priceVersion: null }, model);
      assert.deepEqual(table.cost(model, usage({})), { cost: null, costSource: 'unknown', priceVersion: null }, `${model}, no tokens`);
      assert.equal(table.lookup(model), null);
    }
  });

  it('lets config prices win over the table, for the exact id only', () => {
    const mine: ModelPrice = { input: 1.5, output: 7, cacheWrite5m: 2, cacheWrite1h: 3, cacheRead: 0.15 };
    const t = new PriceTable({ 'claude-sonnet-4-5': mine, 'my-local-model': mine });
    const u = usage({ inputTokens: 12_345, outputTokens: 678, cacheCreationTokens: 900, cacheCreation1hTokens: 400, cacheReadTokens: 50_000 });
    const c = t.cost('claude-sonnet-4-5', u);
    assert.equal(c.costSource, 'config');
    assert.equal(c.priceVersion, null);
    close(c.cost, byHand(mine, u), 'override');
    close(t.cost('my-local-model', u).cost, byHand(mine, u), 'a model the table does not know');
    assert.equal(t.cost('claude-sonnet-4-5-20250929', u).costSource, 'table:claude-sonnet-4-5');
  });

  it('costOf rounds to 1e-10 USD and costs nothing for no tokens', () => {
    const p: ModelPrice = { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 };
    assert.equal(costOf(p, usage({})), 0);
    const c = costOf(p, usage({ inputTokens: 1 }));
    assert.equal(c, Math.round((3 / 1e6) * 1e10) / 1e10);
  });
});

describe('parsePriceOverrides', () => {
  it('defaults cache prices from the input price', () => {
    // Spread: the map itself has no prototype (a model id can only ever be an entry of it).
    const out = { ...parsePriceOverrides({ m: { input: 4, output: 20 } }) };
    assert.deepEqual(out, { m: { input: 4, output: 20, cacheWrite5m: 4 * 1.25, cacheWrite1h: 4 * 2, cacheRead: 4 * 0.1 } });
    const given = parsePriceOverrides({ m: { input: 4, output: 20, cacheWrite5m: 1, cacheWrite1h: 2, cacheRead: 0 } });
    assert.deepEqual(given.m, { input: 4, output: 20, cacheWrite5m: 1, cacheWrite1h: 2, cacheRead: 0 });
    assert.deepEqual({ ...parsePriceOverrides(undefined) }, {});
  });

  it('names the field of a bad price', () => {
    const cases: [unknown, string][] = [
      [{ m: { output: 1 } }, 'prices.m.input'],
      [{ m: { input: 1 } }, 'prices.m.output'],
      [{ m: { input: '3', output: 1 } }, 'prices.m.input'],
      [{ m: { input: 1, output: -1 } }, 'prices.m.output'],
      [{ m: { input: 1, output: 1, cacheRead: 'cheap' } }, 'prices.m.cacheRead'],
      [{ m: { input: 1, output: 1, cacheWrite1h: -0.5 } }, 'prices.m.cacheWrite1h'],
      [{ m: { input: Infinity, output: 1 } }, 'prices.m.input'],
      [{ ok: { input: 1, output: 1 }, 'claude-x': 5 }, 'prices.claude-x.input'],
      [{ m: null }, 'prices.m.input'],
    ];
    for (const [value, field] of cases) {
      assert.throws(() => parsePriceOverrides(value), (err: Error) => err.message.startsWith(`${field}: `), JSON.stringify(value));
    }
    assert.throws(() => parsePriceOverrides({ m: { output: 1 } }, 'config.prices'), (err: Error) => err.message.startsWith('config.prices.m.input: '));
  });

  it('bounds prices and refuses model ids that are not ones, or that name an object\'s own machinery', () => {
    assert.throws(() => parsePriceOverrides({ m: { input: 1e308, output: 1 } }), (err: Error) => err.message.startsWith('prices.m.input: expected a price in USD per million tokens (a number from 0 to 100000)'));
    assert.deepEqual(parsePriceOverrides({ m: { input: 100_000, output: 1 } }).m.cacheWrite1h, 200_000);
    for (const model of ['__proto__', 'constructor', 'prototype', 'a b', '']) {
      const value = JSON.parse(`{ ${JSON.stringify(model)}: { "input": 1, "output": 1 } }`);
      assert.throws(() => parsePriceOverrides(value), (err: Error) => err.message.startsWith(`prices: ${JSON.stringify(model)}: `), model);
    }
    assert.equal(Object.getPrototypeOf(parsePriceOverrides({ m: { input: 1, output: 1 } })), null);
  });

  it('refuses a non-object', () => {
    for (const v of [null, [], 'x', 3]) assert.throws(() => parsePriceOverrides(v, 'config.prices'), (err: Error) => err.message.startsWith('config.prices: expected an object'));
  });
});
