/**
 * base64url of UTF-8 text without Node's Buffer or the DOM's TextEncoder, so that
 * src/protocol runs (and type-checks) in every runtime: the gateway, the extension host and
 * the webviews. Decoding follows Node and the WHATWG decoder: a malformed UTF-8 sequence
 * becomes U+FFFD, and a final lone character (fewer than 8 bits) is dropped.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SEXTET = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
// Decoding also reads the standard alphabet, as Node's 'base64url' does.
SEXTET.set('+', 62);
SEXTET.set('/', 63);
const REPLACEMENT = 0xfffd;

export function encodeBase64url(text: string): string {
  return bytesToBase64url(utf8Bytes(text));
}

/** Throws on a character outside both base64 alphabets; padding ends the input. */
export function decodeBase64url(encoded: string): string {
  return utf8Text(base64urlToBytes(encoded));
}

function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const ch of text) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = REPLACEMENT; // a lone surrogate
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return bytes;
}

function bytesToBase64url(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

function base64urlToBytes(encoded: string): number[] {
  const bytes: number[] = [];
  let bits = 0;
  let count = 0;
  for (const c of encoded) {
    if (c === '=') break;
    const v = SEXTET.get(c);
    if (v === undefined) throw new Error(`not base64url: ${JSON.stringify(c)}`);
    bits = ((bits << 6) | v) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes.push((bits >> count) & 0xff);
    }
  }
  return bytes;
}

/** [lowest, highest] allowed first continuation byte after a lead byte (WHATWG UTF-8). */
function continuationRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function utf8Text(bytes: number[]): string {
  const points: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    const needed = lead < 0x80 ? 0 : lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1;
    if (needed <= 0) {
      points.push(needed === 0 ? lead : REPLACEMENT);
      i += 1;
      continue;
    }
    let cp = lead & (0x3f >> needed);
    let k = 1;
    for (; k <= needed; k++) {
      const [low, high] = k === 1 ? continuationRange(lead) : [0x80, 0xbf];
      const b = bytes[i + k];
      if (b === undefined || b < low || b > high) break;
      cp = (cp << 6) | (b & 63);
    }
    // A broken sequence is one U+FFFD for its valid prefix; the byte that broke it starts anew.
    points.push(k > needed ? cp : REPLACEMENT);
    i += k;
  }
  let out = '';
  for (let j = 0; j < points.length; j += 4096) out += String.fromCodePoint(...points.slice(j, j + 4096));
  return out;
}
