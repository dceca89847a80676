// The usage measures (src/protocol/measures.ts): the one definition every view and report uses.
import assert from 'node:assert/strict';
import { MEASURE_LABELS, REFUSED_COST_SOURCE, ROUTING_ESTIMATE_LABEL, isRefused, totalTokens } from '../../src/protocol/measures';

describe('usage measures', () => {
  it('total tokens are input + output + cache write + cache read (as ccusage counts)', () => {
    assert.equal(totalTokens({ inputTokens: 3, outputTokens: 900, cacheCreationTokens: 4_000, cacheReadTokens: 20_000 }), 24_903);
    assert.equal(totalTokens({ inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0 }), 0);
  });

  it('the router\'s estimate has its own label, apart from every measure', () => {
    assert.match(ROUTING_ESTIMATE_LABEL, /^Estimated .*\(routing\)$/);
    assert.ok(!Object.values(MEASURE_LABELS).includes(ROUTING_ESTIMATE_LABEL as never));
  });

  it('a refusal is told by its cost source, not by an unknown cost', () => {
    assert.equal(isRefused({ costSource: REFUSED_COST_SOURCE }), true);
    assert.equal(isRefused({ costSource: 'unknown' }), false);
    assert.equal(isRefused({ costSource: 'no-usage' }), false);
  });
});
