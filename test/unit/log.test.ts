import assert from 'node:assert/strict';
import { createLogger, debugEnabled, redact } from '../../src/conduit/core/log';

// Key-shaped fakes, assembled so that no key-like literal stands in the source.
const API_KEY = ['sk', 'ant', 'api03', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'AbCdEfGhIjAA'].join('-');
const OAUTH = ['sk', 'ant', 'oat01', 'ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210'].join('-');
const JWT = [
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
  Buffer.from('{"sub":"1234567890","name":"John Doe","iat":1516239022}').toString('base64url'),
  'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
].join('.');

describe('redact', () => {
  it('redacts Anthropic API keys and OAuth tokens wherever they appear', () => {
    for (const secret of [API_KEY, OAUTH]) {
      for (const text of [secret, `x-api-key: ${secret}`, `{"key":"${secret}"}`, `key=${secret}&next=1`]) {
        const out = redact(text);
        assert.ok(!out.includes(secret.slice(7, 20)), `${text} → ${out}`);
        assert.ok(out.includes('[redacted]'));
        assert.equal(out, text.replace(secret, '[redacted]'));
      }
    }
  });

  it('redacts Bearer tokens, keeping the scheme, in any case', () => {
    const token = 'conduit_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
    assert.equal(redact(`authorization: Bearer ${token}`), 'authorization: Bearer [redacted]');
    assert.equal(redact(`Authorization: bearer ${token}, next`), 'Authorization: bearer [redacted], next');
    assert.equal(redact(`BEARER\t${token}`), 'BEARER\t[redacted]');
    assert.equal(redact(`Bearer ${API_KEY}`), 'Bearer [redacted]');
  });

  it('redacts JWTs', () => {
    assert.equal(redact(`token ${JWT} expired`), 'token [redacted] expired');
    assert.equal(redact(`Bearer ${JWT}`), 'Bearer [redacted]');
  });

  it('redacts every secret in a text, and leaves ordinary text alone', () => {
    const text = `a ${API_KEY} b ${JWT} c Bearer abcdefgh123 d`;
    assert.equal(redact(text), 'a [redacted] b [redacted] c Bearer [redacted] d');
    for (const plain of ['POST /v1/messages 200 in 1234 ms', 'model claude-sonnet-4-5 → claude-opus-5-5 (reasoning: effort max)', 'sk-ant is a prefix', 'the bearer of bad news', '']) {
      assert.equal(redact(plain), plain);
    }
  });

  it('is applied to every log line', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), true);
    log.error(`upstream said: invalid x-api-key ${API_KEY}`);
    log.debug(`Bearer ${JWT}`);
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.endsWith('\n') && !l.includes(API_KEY) && !l.includes(JWT)), lines.join(''));
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\S+Z ERROR upstream said: invalid x-api-key \[redacted\]\n$/);
    assert.match(lines[1], / DEBUG Bearer \[redacted\]\n$/);
  });

  it('debug lines only when asked for', () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l), false).debug('hidden');
    assert.deepEqual(lines, []);
    assert.equal(debugEnabled({ LOG: 'true' }), true);
    assert.equal(debugEnabled({ CONDUIT_LOG: 'debug' }), true);
    assert.equal(debugEnabled({ LOG: 'false' }), false);
    assert.equal(debugEnabled({}), false);
  });
});
