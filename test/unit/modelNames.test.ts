// Display names of Claude model ids (src/protocol/modelNames.ts): every catalogue model is
// shown "Claude Sonnet 5.5 · claude-sonnet-5-5", also the ones the price table does not name.
import assert from 'node:assert/strict';
import { claudeModelName, modelNameOf } from '../../src/protocol/modelNames';
import { MODEL_CATEGORIES } from '../../src/protocol/modelCategory';
import { PriceTable } from '../../src/conduit/pricing/priceTable';

describe('model display names', () => {
  it('names each category\'s model, the default one included', () => {
    assert.equal(claudeModelName(MODEL_CATEGORIES.balanced), 'Claude Sonnet 5.5');
    assert.equal(claudeModelName(MODEL_CATEGORIES.fast), 'Claude Haiku 4.5');
    assert.equal(claudeModelName(MODEL_CATEGORIES.powerful), 'Claude Opus 5.5');
  });

  it('writes a major version alone, drops a dated snapshot\'s date, and leaves minor 0 out as the price table does', () => {
    assert.equal(claudeModelName('claude-opus-5'), 'Claude Opus 5');
    assert.equal(claudeModelName('claude-sonnet-4-5-20250929'), 'Claude Sonnet 4.5');
    assert.equal(claudeModelName('claude-opus-4-0'), 'Claude Opus 4');
  });

  it('gives no name to what is not a current Claude id', () => {
    for (const id of ['claude-3-5-sonnet-20241022', 'openrouter/deepseek-v4', 'my-own-model', 'claude-sonnet', 'claude-fable-5', '']) {
      assert.equal(claudeModelName(id), null, id);
    }
  });

  it('keeps a name a model was given, and falls back to its Claude name, then its id', () => {
    assert.equal(modelNameOf('claude-sonnet-5-5', 'Sonnet (team default)'), 'Sonnet (team default)');
    assert.equal(modelNameOf('claude-sonnet-5-5', 'claude-sonnet-5-5'), 'Claude Sonnet 5.5');
    assert.equal(modelNameOf('claude-sonnet-5-5'), 'Claude Sonnet 5.5');
    assert.equal(modelNameOf('my-own-model', 'my-own-model'), 'my-own-model');
  });

  it('agrees with every name the bundled price table gives a current Claude model', () => {
    const named = new PriceTable().models().filter((m) => m.name !== m.id && claudeModelName(m.id) !== null);
    assert.ok(named.length >= 5, `the table names its models (${named.length})`);
    for (const m of named) assert.equal(claudeModelName(m.id), m.name, m.id);
  });
});
