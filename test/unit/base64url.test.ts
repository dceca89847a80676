import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from '../../src/protocol/base64url';

// The portable codec must give exactly what Node's Buffer gives, which the protocol used before.
describe('protocol: base64url without Buffer', () => {
  const texts = ['', 'a', 'ab', 'abc', '{"project":"ü/é","agent":"日本語"}', '🎉 emoji and \u0000 nul', 'lone \ud800 surrogate', 'x'.repeat(5000)];

  it('encodes UTF-8 text as Buffer does', () => {
    for (const t of texts) assert.equal(encodeBase64url(t), Buffer.from(t, 'utf8').toString('base64url'), JSON.stringify(t.slice(0, 40)));
  });

  it('decodes what it encodes', () => {
    for (const t of texts.filter((x) => !x.includes('\ud800'))) assert.equal(decodeBase64url(encodeBase64url(t)), t);
  });

  it('decodes arbitrary bytes, malformed UTF-8 included, as Buffer does', () => {
    // Hand-picked malformed sequences, then random bytes (which are mostly malformed UTF-8).
    const cases = [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x8e], [0xe2, 0x82], [0xff, 0x41], [0xc3]].map((b) => Buffer.from(b));
    for (let i = 0; i < 300; i++) cases.push(randomBytes(i % 40));
    for (const bytes of cases) {
      const encoded = bytes.toString('base64url');
      assert.equal(decodeBase64url(encoded), bytes.toString('utf8'), `bytes ${bytes.toString('hex')}`);
      assert.equal(decodeBase64url(bytes.toString('base64')), bytes.toString('utf8'), 'the standard alphabet with padding reads the same');
    }
  });

  it('drops a final lone character as Buffer does, and refuses characters outside the alphabets', () => {
    assert.equal(decodeBase64url('YWJjZ'), Buffer.from('YWJjZ', 'base64url').toString('utf8'));
    assert.throws(() => decodeBase64url('ab.c'), /not base64url/);
  });
});
