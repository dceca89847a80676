import assert from 'node:assert/strict';
import http from 'node:http';
import { MAX_ADDED_HEADER_LENGTH, safeHeaderValue } from '../../src/conduit/http/safeHeader';

describe('safeHeaderValue', () => {
  it('leaves a plain model id as it is', () => {
    assert.equal(safeHeaderValue('us.anthropic.claude-3-5-sonnet-20241022-v2:0'), 'us.anthropic.claude-3-5-sonnet-20241022-v2:0');
  });

  it('never carries CR/LF, a control character or anything outside ASCII: Node accepts every result as a header value', () => {
    for (const value of ['claude\r\nx-injected: 1', 'claude-\u0100', 'claude-haiku-\ud800', 'a\u0000b\u007fc\td', 'é😀']) {
      const safe = safeHeaderValue(value);
      assert.match(safe, /^[\x20-\x7e]*$/, JSON.stringify(value));
      assert.doesNotThrow(() => http.validateHeaderValue('x-conduit-model', safe), JSON.stringify(value));
    }
    assert.equal(safeHeaderValue('claude\r\nx: 1'), 'claude??x: 1');
  });

  it('bounds the length', () => {
    assert.equal(safeHeaderValue('x'.repeat(100_000)).length, MAX_ADDED_HEADER_LENGTH);
    assert.equal(safeHeaderValue('x'.repeat(MAX_ADDED_HEADER_LENGTH)).length, MAX_ADDED_HEADER_LENGTH);
  });
});
