// The decoding in front of the usage tap: fed chunk by chunk as undici hands them, it
// gives the tap the reply's plain bytes, and tells when the last of them has arrived,
// also when the bytes do not decode or stop short.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { DecodingTap } from '../../src/conduit/usage/decodingTap';

const TEXT = Buffer.from('event: message_start\ndata: {"type":"message_start"}\n\n'.repeat(200));

function decodeAll(encoding: string, bytes: Buffer, chunkSize: number): Promise<{ decoded: Buffer; told: number }> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let told = 0;
    const tap = new DecodingTap(encoding, { push: (c) => got.push(Buffer.from(c)) });
    for (let at = 0; at < bytes.length; at += chunkSize) tap.push(bytes.subarray(at, at + chunkSize));
    tap.end({
      decoded() {
        told++;
        // Told once: a second call would come on a later tick.
        setImmediate(() => resolve({ decoded: Buffer.concat(got), told }));
      },
    });
  });
}

describe('DecodingTap', () => {
  const encoded: [string, Buffer][] = [
    ['gzip', zlib.gzipSync(TEXT)], ['x-gzip', zlib.gzipSync(TEXT)], ['br', zlib.brotliCompressSync(TEXT)],
    ['deflate', zlib.deflateSync(TEXT)], ['deflate', zlib.deflateRawSync(TEXT)], ['GZIP', zlib.gzipSync(TEXT)],
  ];
  for (const [encoding, bytes] of encoded) {
    it(`${encoding} (${bytes[0].toString(16)}…), fed in 7-byte chunks, reaches the tap whole`, async () => {
      const { decoded, told } = await decodeAll(encoding, bytes, 7);
      assert.ok(decoded.equals(TEXT));
      assert.equal(told, 1);
    });
  }

  it('bytes that do not decode, a stream cut short, and no bytes at all: the listener is still told, once', async () => {
    assert.equal((await decodeAll('gzip', Buffer.from('this is not gzip at all'), 5)).told, 1);
    const cut = zlib.gzipSync(TEXT);
    const { decoded, told } = await decodeAll('gzip', cut.subarray(0, cut.length / 2), 64);
    assert.equal(told, 1);
    assert.ok(TEXT.subarray(0, decoded.length).equals(decoded), 'what did decode is the start of the text');
    assert.equal((await decodeAll('br', Buffer.alloc(0), 1)).told, 1);
  });
});
