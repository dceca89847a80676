/**
 * A provider may compress its reply although the gateway asked for identity. The client
 * gets the bytes as the provider sent them; the usage tap gets them decoded, through a
 * node:zlib streaming decompressor fed chunk by chunk. Decoding runs off the main thread,
 * so the end of the reply waits for the last decoded bytes (`end`).
 */
import zlib from 'node:zlib';

export interface ByteTap {
  push(chunk: Buffer): void;
}

/** Told once every decoded byte has reached the tap, or decoding failed. */
export interface DecodedListener {
  decoded(): void;
}

type Decompressor = zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;

/** The content-encodings the tap can read (a list like "gzip, br" is not among them). */
export function isDecodable(encoding: string): boolean {
  return DECODABLE.has(encoding.trim().toLowerCase());
}

const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

function decompressorFor(encoding: string, first: Buffer): Decompressor {
  switch (encoding.trim().toLowerCase()) {
    case 'br': return zlib.createBrotliDecompress();
    // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate: a zlib
    // stream's first byte says compression method 8 in its low four bits.
    case 'deflate': return (first[0] & 0x0f) === 8 ? zlib.createInflate() : zlib.createInflateRaw();
    default: return zlib.createGunzip();
  }
}

export class DecodingTap {
  private z: Decompressor | null = null;
  private listener: DecodedListener | null = null;
  private finished = false;

  constructor(private readonly encoding: string, private readonly tap: ByteTap) {}

  push(chunk: Buffer): void {
    if (this.finished || chunk.length === 0) return;
    if (!this.z) {
      const z = decompressorFor(this.encoding, chunk);
      z.on('data', (decoded: Buffer) => this.tap.push(decoded));
      z.on('end', () => this.finish());
      // Bytes that do not decode (or a stream cut short) end what the tap gets; the
      // client still receives them as sent.
      z.on('error', () => this.finish());
      this.z = z;
    }
    this.z.write(chunk);
  }

  /** No more input: `listener` is told once the tap has had every decoded byte. */
  end(listener: DecodedListener): void {
    this.listener = listener;
    if (this.finished || !this.z) return this.finish(true);
    this.z.end();
  }

  private finish(force = false): void {
    if (this.finished && !force) return;
    this.finished = true;
    const listener = this.listener;
    this.listener = null;
    listener?.decoded();
  }
}
