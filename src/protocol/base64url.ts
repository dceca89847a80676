/**
 * base64url of UTF-8 text without Node's Buffer or the DOM's TextEncoder, so that
 * src/protocol runs (and type-checks) in every runtime: the gateway, the extension host and
 * the webviews. Decoding follows Node and the WHATWG decoder: a malformed UTF-8 sequence
 * becomes U+FFFD, and a final lone character (fewer than 8 bits) is dropped.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
/** The value of each ASCII character in base64url, -1 for none. */
const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) SEXTET[ALPHABET_CODES[i]] = i;
// Decoding also reads the standard alphabet, as Node's 'base64url' does.
SEXTET['+'.charCodeAt(0)] = 62;
SEXTET['/'.charCodeAt(0)] = 63;
const PADDING = '='.charCodeAt(0);
const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: well under any engine's argument limit. */
const CHUNK = 8192;

export function encodeBase64url(text: string): string {
  return bytesToBase64url(utf8Bytes(text));
}

/** Throws on a character outside both base64 alphabets; padding ends the input. */
export function decodeBase64url(encoded: string): string {
  return utf8Text(base64urlToBytes(encoded));
}

function utf8Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const low = text.charCodeAt(i + 1);
      if (cp <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        cp = REPLACEMENT; // a lone surrogate
      }
    }
    if (cp < 0x80) bytes[n++] = cp;
    else if (cp < 0x800) {
      bytes[n++] = 0xc0 | (cp >> 6);
      bytes[n++] = 0x80 | (cp & 63);
    } else if (cp < 0x10000) {
      bytes[n++] = 0xe0 | (cp >> 12);
      bytes[n++] = 0x80 | ((cp >> 6) & 63);
      bytes[n++] = 0x80 | (cp & 63);
    } else {
      bytes[n++] = 0xf0 | (cp >> 18);
      bytes[n++] = 0x80 | ((cp >> 12) & 63);
      bytes[n++] = 0x80 | ((cp >> 6) & 63);
      bytes[n++] = 0x80 | (cp & 63);
    }
  }
  return bytes.subarray(0, n);
}

function bytesToBase64url(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let n = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[n++] = ALPHABET_CODES[v >> 18];
    out[n++] = ALPHABET_CODES[(v >> 12) & 63];
    out[n++] = ALPHABET_CODES[(v >> 6) & 63];
    out[n++] = ALPHABET_CODES[v & 63];
  }
  if (i < bytes.length) {
    const v = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out[n++] = ALPHABET_CODES[v >> 18];
    out[n++] = ALPHABET_CODES[(v >> 12) & 63];
    if (i + 1 < bytes.length) out[n++] = ALPHABET_CODES[(v >> 6) & 63];
  }
  return fromCodeUnits(out.subarray(0, n));
}

function base64urlToBytes(encoded: string): Uint8Array {
  const bytes = new Uint8Array(Math.floor((encoded.length * 3) / 4) + 1);
  let n = 0;
  let bits = 0;
  let count = 0;
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === PADDING) break;
    const v = c < 128 ? SEXTET[c] : -1;
    if (v < 0) throw new Error(`not base64url: ${JSON.stringify(encoded[i])}`);
    bits = ((bits << 6) | v) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[n++] = (bits >> count) & 0xff;
    }
  }
  return bytes.subarray(0, n);
}

/** [lowest, highest] allowed first continuation byte after a lead byte (WHATWG UTF-8). */
function continuationRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function utf8Text(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  let n = 0;
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      units[n++] = lead;
      i++;
      continue;
    }
    const needed = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (needed === 0) {
      units[n++] = REPLACEMENT;
      i++;
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
    if (k <= needed) units[n++] = REPLACEMENT;
    else if (cp < 0x10000) units[n++] = cp;
    else {
      units[n++] = 0xd800 + ((cp - 0x10000) >> 10);
      units[n++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    }
    i += k;
  }
  return fromCodeUnits(units.subarray(0, n));
}

function fromCodeUnits(units: Uint8Array | Uint16Array): string {
  let out = '';
  for (let i = 0; i < units.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, units.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return out;
}
