import assert from 'node:assert/strict';
import { RequestBodyError, scanObjectFields, scanRequestBody, type ScannedRequest } from '../../src/conduit/routing/requestScan';
import { claudeCodeRequest, grownRequest } from '../support/claudeRequest';
import { rng, type Rng } from './prng';

const scan = (text: string | Buffer): ScannedRequest => scanRequestBody(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const slice = (buf: Buffer, [s, e]: readonly [number, number]): string => buf.toString('utf8', s, e);

/** Every top-level field and the last message agree with what JSON.parse makes of the same bytes. */
function assertAgreesWithParse(buf: Buffer, scanned: ScannedRequest, label: string): void {
  const parsed = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  const keys = Object.keys(parsed);
  assert.deepEqual([...scanned.fields.keys()].sort(), keys.slice().sort(), `${label}: keys`);
  for (const k of keys) {
    const range = scanned.fields.get(k)!;
    assert.deepEqual(JSON.parse(slice(buf, range)), parsed[k], `${label}: field ${JSON.stringify(k)}`);
  }
  const messages = parsed.messages;
  if (Array.isArray(messages) && messages.length > 0) {
    assert.ok(scanned.lastMessage, `${label}: lastMessage found`);
    assert.deepEqual(JSON.parse(slice(buf, scanned.lastMessage)), messages[messages.length - 1], `${label}: lastMessage`);
  } else {
    assert.equal(scanned.lastMessage, null, `${label}: no lastMessage`);
  }
}

// ---------------------------------------------------------------------------------------
// A generator of JSON texts (not values): random whitespace, escapes, raw UTF-8, numbers in
// every legal form, so the scanner sees what JSON.stringify never writes.

const WS = [' ', '\n', '\t', '\r', '  '];
const ws = (r: Rng): string => (r.chance(0.25) ? r.pick(WS) : '');
const KEYS = ['a', 'b', 'model', 'messages', 'data', 'type', 'text', 'content', 'k_1', 'é', 'key with space', 'q"uote', 'back\\slash', '中文', 'tab\tkey'];
const STRING_PIECES = ['hello', ' ', 'world', '\n', '"', '\\', 'é', '中', '😀', '/', '\u0001', '\u001f', '\u007f', 'ultrathink', '0123', '\t', '\r', '\b', '\f', '\u2028'];

function encodeString(s: string, r: Rng): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += r.chance(0.8) ? '\\n' : '\\u000a';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (ch === '/' && r.chance(0.5)) out += '\\/';
    else if (c > 0x7f && r.chance(0.4)) {
      // \uXXXX, upper or lower case hex, as a surrogate pair past the BMP
      for (let k = 0; k < ch.length; k++) {
        const hex = ch.charCodeAt(k).toString(16).padStart(4, '0');
        out += `\\u${r.chance(0.5) ? hex : hex.toUpperCase()}`;
      }
    } else if (c >= 0x61 && c <= 0x7a && r.chance(0.03)) out += `\\u00${c.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}

function genString(r: Rng): string {
  let s = '';
  const n = r.int(6);
  for (let k = 0; k < n; k++) s += r.pick(STRING_PIECES);
  return s;
}

function genNumber(r: Rng): string {
  let s = r.chance(0.3) ? '-' : '';
  s += r.chance(0.2) ? '0' : String(r.range(1, 9)) + (r.chance(0.5) ? String(r.int(100000)) : '');
  if (r.chance(0.3)) s += `.${r.int(1000)}`;
  if (r.chance(0.25)) s += `${r.pick(['e', 'E'])}${r.pick(['', '+', '-'])}${r.int(40)}`;
  return s;
}

function genBase64(r: Rng): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+';
  let s = '';
  const n = r.range(0, 60);
  for (let k = 0; k < n; k++) s += r.chance(0.03) ? '\\/' : alphabet[r.int(alphabet.length)];
  return `"${s}=="`;
}

function genValue(r: Rng, depth: number): string {
  const roll = r.next();
  if (depth < 5 && roll < 0.2) return genObject(r, depth + 1);
  if (depth < 5 && roll < 0.38) return genArray(r, depth + 1);
  if (roll < 0.65) return encodeString(genString(r), r);
  if (roll < 0.85) return genNumber(r);
  return r.pick(['true', 'false', 'null']);
}

function genArray(r: Rng, depth: number): string {
  const n = r.int(5);
  if (n === 0) return `[${ws(r)}]`;
  const items: string[] = [];
  for (let k = 0; k < n; k++) items.push(ws(r) + genValue(r, depth) + ws(r));
  return `[${items.join(',')}]`;
}

function genObject(r: Rng, depth: number, top = false): string {
  const n = top ? r.range(1, 6) : r.int(5);
  if (n === 0) return `{${ws(r)}}`;
  const members: string[] = [];
  for (let k = 0; k < n; k++) {
    const key = r.pick(KEYS);
    let value: string;
    if (key === 'data' && depth > 1 && r.chance(0.7)) value = genBase64(r);
    else if (key === 'messages' && r.chance(0.7)) {
      const m = r.int(4);
      const msgs: string[] = [];
      for (let j = 0; j < m; j++) msgs.push(ws(r) + genObject(r, depth + 1) + ws(r));
      value = m ? `[${msgs.join(',')}]` : '[]';
    } else value = genValue(r, depth);
    members.push(`${ws(r)}${encodeString(key, r)}${ws(r)}:${ws(r)}${value}${ws(r)}`);
  }
  return `{${members.join(',')}}`;
}

const genDocument = (r: Rng): string => ws(r) + genObject(r, 1, true) + ws(r);

const INTERESTING = [
  ...'{}[],:"\\019-+.eEtfnua /b'.split('').map((c) => c.charCodeAt(0)),
  0x0a, 0x09, 0x0d, 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xe4, 0xff,
];

function mutate(r: Rng, doc: Buffer): { bytes: Buffer; how: string } {
  const kind = r.int(4);
  if (kind === 0) {
    const at = r.int(doc.length);
    return { bytes: doc.subarray(0, at), how: `truncated at ${at}` };
  }
  const at = r.int(doc.length);
  const byte = r.pick(INTERESTING);
  if (kind === 1) {
    const b = Buffer.from(doc);
    b[at] = byte;
    return { bytes: b, how: `byte ${at} set to 0x${byte.toString(16)}` };
  }
  if (kind === 2) {
    return { bytes: Buffer.concat([doc.subarray(0, at), Buffer.from([byte]), doc.subarray(at)]), how: `0x${byte.toString(16)} inserted at ${at}` };
  }
  return { bytes: Buffer.concat([doc.subarray(0, at), doc.subarray(at + 1)]), how: `byte ${at} deleted` };
}

/** The bytes with every raw control character (0x00-0x1f) other than JSON whitespace turned into a space, and those inside strings too. */
function withoutRawControls(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  let inString = false;
  for (let k = 0; k < out.length; k++) {
    const b = out[k];
    if (inString && b === 0x5c) { k++; continue; }
    if (b === 0x22) inString = !inString;
    else if (b < 0x20 && (inString || (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09))) out[k] = 0x20;
  }
  return out;
}

/** What JSON.parse says of the bytes (decoded as the gateway decodes them): a top-level object or not. */
function parsesToObject(bytes: Buffer): boolean {
  try {
    const v = JSON.parse(bytes.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

function scanOutcome(bytes: Buffer): ScannedRequest | null {
  try {
    return scanRequestBody(bytes);
  } catch (err) {
    assert.ok(err instanceof RequestBodyError, `only RequestBodyError is thrown, got ${(err as Error)?.stack}`);
    assert.ok(err.offset >= 0 && err.offset <= bytes.length, 'the error offset lies in the body');
    assert.match(err.message, / at byte \d+$/);
    return null;
  }
}

describe('scanRequestBody', () => {
  describe('field locator', () => {
    it('finds every top-level field of canonical JSON exactly where JSON.stringify writes its value', () => {
      const body = {
        model: 'claude-sonnet-4-5',
        max_tokens: 32000,
        temperature: -0.25,
        big: 1e21,
        tiny: 5e-7,
        stream: true,
        off: false,
        nothing: null,
        empty_object: {},
        empty_array: [],
        nested: { a: [1, [2, [3, { b: 'c' }]]], 'k"q': 'v\\w' },
        escaped: 'line\nbreak "quoted" back\\slash tab\t ctrl\u0001 del\u007f',
        unicode: 'café 中文 😀 \u2028',
        messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: [{ type: 'text', text: 'hello' }] }],
      };
      const text = JSON.stringify(body);
      const buf = Buffer.from(text);
      const scanned = scan(buf);
      assert.deepEqual([...scanned.fields.keys()], Object.keys(body));
      for (const [k, v] of Object.entries(body)) {
        assert.equal(slice(buf, scanned.fields.get(k)!), JSON.stringify(v), `field ${k}`);
      }
      assert.equal(slice(buf, scanned.lastMessage!), JSON.stringify(body.messages[1]));
    });

    it('gives byte offsets, not string indices, when multi-byte characters come first', () => {
      const body = { pre: 'é😀中'.repeat(10), model: 'm', after: 'x' };
      const buf = Buffer.from(JSON.stringify(body));
      const scanned = scan(buf);
      const at = buf.indexOf('"m"');
      assert.deepEqual(scanned.fields.get('model'), [at, at + 3]);
      assert.equal(slice(buf, scanned.fields.get('after')!), '"x"');
    });

    it('keeps numbers and literals exactly as written, with whitespace around them left out', () => {
      const values = ['0', '-0', '12', '-7', '3.25', '-0.5e-3', '1E+5', '2e10', '6.02E23', 'true', 'false', 'null', '""', '{}', '[]', '[ ]', '{ }'];
      const text = `{ ${values.map((v, k) => `"f${k}" :\n\t${v} `).join(',\r\n')} }`;
      const buf = Buffer.from(text);
      const scanned = scan(buf);
      values.forEach((v, k) => assert.equal(slice(buf, scanned.fields.get(`f${k}`)!), v, `f${k}`));
    });

    it('finds the fields of a pretty-printed body', () => {
      const { body } = claudeCodeRequest();
      const buf = Buffer.from(JSON.stringify(body, null, 2));
      const scanned = scan(buf);
      assertAgreesWithParse(buf, scanned, 'pretty');
      for (const [start, end] of scanned.fields.values()) {
        assert.doesNotMatch(buf.toString('latin1', start, start + 1), /\s/);
        assert.doesNotMatch(buf.toString('latin1', end - 1, end), /\s/);
      }
    });

    it('finds the fields and the last message of the real Claude Code request', () => {
      const { body } = claudeCodeRequest();
      const buf = Buffer.from(JSON.stringify(body));
      const scanned = scan(buf);
      for (const [k, v] of Object.entries(body)) assert.equal(slice(buf, scanned.fields.get(k)!), JSON.stringify(v), k);
      assert.equal(slice(buf, scanned.lastMessage!), JSON.stringify(body.messages[body.messages.length - 1]));
    });

    it('decodes escaped and non-ASCII keys as JSON.parse does', () => {
      const text = '{"mod\\u0065l":"a","caf\u00e9":1,"q\\"k":2,"\\u4e2d":3}';
      const buf = Buffer.from(text);
      const scanned = scan(buf);
      assert.deepEqual([...scanned.fields.keys()].sort(), Object.keys(JSON.parse(text)).sort());
      assert.equal(slice(buf, scanned.fields.get('model')!), '"a"');
    });

    it('takes the last of repeated keys, as JSON.parse does', () => {
      const text = '{"model":"a","messages":[{"n":1}],"model":"b","messages":[]}';
      const buf = Buffer.from(text);
      const scanned = scan(buf);
      assert.equal(slice(buf, scanned.fields.get('model')!), '"b"');
      assert.equal(slice(buf, scanned.fields.get('messages')!), '[]');
      assert.equal(scanned.lastMessage, null, 'the messages JSON.parse keeps are empty');
    });

    it('has no last message when messages is empty, not an array, absent, or only nested deeper', () => {
      for (const text of ['{"messages":[]}', '{"messages":{"a":[1]}}', '{"model":"m"}', '{"x":{"messages":[1,2]}}', '{"messages":"[1]"}']) {
        assert.equal(scan(text).lastMessage, null, text);
      }
      const text = '{"messages":[ 1 , "two" , [3] , {"four":4} ]}';
      const buf = Buffer.from(text);
      assert.equal(slice(buf, scan(buf).lastMessage!), '{"four":4}');
    });

    it('accepts an empty object and nested empty containers', () => {
      assert.equal(scan('{}').fields.size, 0);
      assert.equal(scan(' \n{ \t}\r\n').fields.size, 0);
      const buf = Buffer.from('{"a":{},"b":[],"c":[{},[],[[]],{"d":{}}]}');
      const scanned = scan(buf);
      assert.equal(slice(buf, scanned.fields.get('a')!), '{}');
      assert.equal(slice(buf, scanned.fields.get('b')!), '[]');
      assert.equal(slice(buf, scanned.fields.get('c')!), '[{},[],[[]],{"d":{}}]');
    });
  });

  describe('outline of a message the scan has read (scanObjectFields)', () => {
    it('finds every field and content element as JSON.parse reads them, over 2,000 random documents', () => {
      // It skips strings and nested values without validating them again: escaped quotes
      // and backslash runs, whitespace, numbers and literals at any place must not mislead it.
      const r = rng(0x0b71);
      let outlined = 0;
      for (let n = 0; n < 2000; n++) {
        const buf = Buffer.from(genDocument(r), 'utf8');
        const scanned = scan(buf);
        const parsed = JSON.parse(buf.toString('utf8')) as { messages?: unknown };
        if (!Array.isArray(parsed.messages)) continue;
        for (let k = 0; k < scanned.messages.length; k++) {
          const range = scanned.messages.at(k);
          const message = parsed.messages[k] as Record<string, unknown>;
          if (buf[range[0]] !== 0x7b) continue;
          const outline = scanObjectFields(buf, range, 'content');
          outlined++;
          const label = `document ${n}, message ${k}: ${slice(buf, range)}`;
          assert.deepEqual([...outline.fields.keys()].sort(), Object.keys(message).sort(), label);
          for (const [key, value] of outline.fields) assert.deepEqual(JSON.parse(slice(buf, value)), message[key], `${label}: ${key}`);
          const content = Array.isArray(message.content) ? message.content : [];
          assert.equal(outline.list.length, content.length, label);
          for (let b = 0; b < content.length; b++) assert.deepEqual(JSON.parse(slice(buf, outline.list.at(b))), content[b], `${label}: element ${b}`);
        }
      }
      assert.ok(outlined > 300, `${outlined} messages outlined`);
    });

    it('reads strings ending in runs of backslashes, and keys with escaped quotes', () => {
      const message = { 'q"k': '\\', content: ['\\"', '\\\\', { a: ['"]}'] }, 'x\\'], role: 'user\\' };
      const buf = Buffer.from(`{"messages":[ ${JSON.stringify(message, null, 1)} ]}`);
      const outline = scanObjectFields(buf, scan(buf).messages.at(0), 'content');
      assert.deepEqual(Object.fromEntries([...outline.fields].map(([k, v]) => [k, JSON.parse(slice(buf, v))])), message);
      assert.deepEqual(Array.from({ length: outline.list.length }, (_, b) => JSON.parse(slice(buf, outline.list.at(b)))), message.content);
    });
  });

  describe('validation', () => {
    const invalid: [string, string][] = [
      ['', 'empty'], ['   ', 'blank'], ['[]', 'array at the top'], ['"s"', 'string at the top'], ['1', 'number at the top'],
      ['null', 'null at the top'], ['{', 'unclosed'], ['{"a":1', 'unclosed after a value'], ['{"a":1}}', 'extra closer'],
      ['{"a":1} x', 'trailing data'], ['{"a":1}{}', 'two objects'], ['{"a":1,}', 'trailing comma'], ['{"a":[1,]}', 'trailing comma in array'],
      ['{,}', 'lone comma'], ['{"a" 1}', 'missing colon'], ['{"a":}', 'missing value'], ['{a:1}', 'unquoted key'], ["{'a':1}", 'single quotes'],
      ['{"a":01}', 'leading zero'], ['{"a":-01}', 'negative leading zero'], ['{"a":00}', 'double zero'], ['{"a":1.}', 'bare point'], ['{"a":.5}', 'no integer part'],
      ['{"a":+1}', 'plus sign'], ['{"a":1e}', 'empty exponent'], ['{"a":1e+}', 'signed empty exponent'], ['{"a":-}', 'bare minus'],
      ['{"a":0x10}', 'hex'], ['{"a":NaN}', 'NaN'], ['{"a":Infinity}', 'Infinity'], ['{"a":tru}', 'short literal'], ['{"a":nul}', 'short null'],
      ['{"a":True}', 'capitalised literal'], ['{"a":"x\\q"}', 'bad escape'], ['{"a":"\\u12"}', 'short \\u'], ['{"a":"\\u12G4"}', 'non-hex \\u'],
      ['{"a":"open}', 'unterminated string'],
      ['{"a":"x\\"}', 'escaped closing quote'], ['{"a":[}', 'mismatched closer'], ['{"a":{]}', 'mismatched closer in object'], ['\ufeff{}', 'byte order mark'],
      ['{"a"\u00a0:1}', 'non-JSON whitespace'], ['{"a":1 /* c */}', 'comment'],
      // the base64 "data" of an image is validated too, though its contents are not estimated
      ['{"m":[{"data":"ab\\qc"}]}', 'bad escape in data'],
      ['{"m":[{"data":"ab\\u00zzc"}]}', 'bad \\u in data'], ['{"m":[{"data":"abc', 'unterminated data'], ['{"m":[{"data":"abc\\"}]}', 'escaped quote ends no data'],
    ];
    for (const [text, why] of invalid) {
      it(`rejects ${why}: ${JSON.stringify(text)}`, () => {
        assert.equal(parsesToObject(Buffer.from(text)), false, 'the case is invalid JSON or not an object');
        assert.throws(() => scan(text), RequestBodyError);
      });
    }

    it('leaves raw control characters inside strings to the provider, whose parser refuses them with a 400', () => {
      // Looking for them would mean a JavaScript loop over every byte of every request;
      // clients (JSON.stringify) never send them, and the provider rejects a body that has.
      for (const text of ['{"a":"tab\there"}', '{"a":"nl\nhere"}', '{"a":"nul\u0000"}', '{"m":[{"data":"ab\u0001c"}]}']) {
        assert.equal(parsesToObject(Buffer.from(text)), false, 'JSON.parse refuses it');
        const scanned = scan(text);
        assert.ok(scanned.fields.size > 0, `${JSON.stringify(text)}: fields still found`);
      }
    });

    it('says where the problem is', () => {
      const text = '{"model":"m","max_tokens":01}';
      assert.throws(() => scan(text), (err: unknown) => err instanceof RequestBodyError && err.offset === text.indexOf('01'));
      const bad = '{"a":"ok","b":"bad\\x"}';
      assert.throws(() => scan(bad), (err: unknown) => err instanceof RequestBodyError && err.offset === bad.indexOf('\\x'));
    });

    it('accepts nesting of 256 levels and refuses 257', () => {
      // the top-level object is level 1
      const nested = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
      JSON.parse(nested(257));
      assert.doesNotThrow(() => scan(nested(256)));
      assert.throws(() => scan(nested(257)), /nesting too deep/);
      assert.throws(() => scan(`{"a":${'{"b":'.repeat(300)}1${'}'.repeat(300)}}`), RequestBodyError);
    });

    it('throws RequestBodyError exactly when JSON.parse throws, over 2,000 random documents and 2,000 mutations of them', function () {
      const seed = 0xc0ffee;
      const r = rng(seed);
      const docs: Buffer[] = [];
      for (let n = 0; n < 2000; n++) {
        const text = genDocument(r);
        const buf = Buffer.from(text);
        assert.ok(parsesToObject(buf), `generator (seed ${seed}, doc ${n}) made invalid JSON: ${text}`);
        const scanned = scanOutcome(buf);
        assert.ok(scanned, `seed ${seed}, doc ${n}: valid JSON refused: ${text}`);
        assertAgreesWithParse(buf, scanned, `seed ${seed}, doc ${n}: ${text}`);
        docs.push(buf);
      }
      let valid = 0;
      let invalid = 0;
      for (let n = 0; n < 2000; n++) {
        const { bytes, how } = mutate(r, r.pick(docs));
        const expected = parsesToObject(bytes);
        const scanned = scanOutcome(bytes);
        const label = `seed ${seed}, mutation ${n} (${how}): ${JSON.stringify(bytes.toString('latin1'))}`;
        if (scanned && !expected) {
          // The one difference allowed: raw control characters inside strings (see above).
          assert.ok(parsesToObject(withoutRawControls(bytes)), `${label}: accepted, and JSON.parse refuses more than raw control characters`);
          continue;
        }
        assert.equal(scanned !== null, expected, `${label}: JSON.parse ${expected ? 'accepts' : 'refuses'} it`);
        if (scanned) {
          assertAgreesWithParse(bytes, scanned, label);
          valid++;
        } else {
          invalid++;
        }
      }
      // Both outcomes are well represented, or the comparison would prove little.
      assert.ok(valid > 200 && invalid > 800, `valid ${valid}, invalid ${invalid}`);
    });

    it('throws for every JSON document whose top level is not an object', () => {
      const r = rng(7);
      for (let n = 0; n < 300; n++) {
        const text = ws(r) + (r.chance(0.4) ? genArray(r, 1) : genValue(r, 5)) + ws(r);
        JSON.parse(text);
        assert.throws(() => scan(text), RequestBodyError, text);
      }
    });
  });

  describe('token estimate', () => {
    const estimate = (v: unknown, indent?: number | string) => scan(JSON.stringify(v, null, indent)).tokenEstimate;

    it('does not depend on whitespace between tokens or on how a character is escaped', () => {
      const { body } = claudeCodeRequest();
      assert.equal(estimate(body, 2), estimate(body));
      assert.equal(estimate(body, '\t'), estimate(body));
      assert.equal(scan('{"a":"caf\\u00e9 \\u4e2d"}').tokenEstimate, scan('{"a":"café 中"}').tokenEstimate);
    });

    it('counts a word of letters alike as a key or a value, short or long: a token, and one per six further letters', () => {
      // Short words are read in the scan's own loop, longer ones by scanString: the counts agree.
      const letters = (n: number) => 'abcdefghijklmnopqrstuvwxyz'.repeat(3).slice(0, n);
      for (let n = 0; n <= 60; n++) {
        const expected = n === 0 ? 0 : 1 + Math.floor((n - 1) / 6);
        assert.equal(scan(`{"a":"${letters(n)}"}`).tokenEstimate - scan('{"a":""}').tokenEstimate, expected, `value of ${n} letters`);
        assert.equal(scan(`{"a":{"${letters(n)}":1}}`).tokenEstimate - scan('{"a":{"":1}}').tokenEstimate, expected, `key of ${n} letters`);
      }
    });

    it('grows with the text: more words, more tokens', () => {
      const words = (n: number) => ({ messages: [{ role: 'user', content: 'word '.repeat(n) }] });
      const e100 = estimate(words(100));
      const e1000 = estimate(words(1000));
      assert.ok(e100 >= 100 && e1000 >= 1000, `${e100}, ${e1000}`);
      const perWord = (e1000 - e100) / 900;
      assert.ok(perWord >= 0.9 && perWord <= 1.5, `about a token per word, got ${perWord}`);
    });

    it('counts each number as one token', () => {
      const nums = (n: number) => ({ a: Array.from({ length: n }, (_, k) => k * 1000.5 - 3e7) });
      assert.equal(estimate(nums(50)) - estimate(nums(10)), 40);
    });

    it('counts the base64 data of an image as about 1,600 tokens, whatever its length', () => {
      const withImage = (data: string | null) => ({
        model: 'm',
        messages: [{
          role: 'user',
          content: [
            data === null
              ? { type: 'image', source: { type: 'base64', media_type: 'image/png' } }
              : { type: 'image', source: { type: 'base64', media_type: 'image/png', data } },
            { type: 'text', text: 'what is in this picture?' },
          ],
        }],
      });
      const base = estimate(withImage(null));
      const b64 = (bytes: number) => Buffer.alloc(bytes, 0xa7).toString('base64');
      for (const bytes of [3_000, 30_000, 150_000]) {
        const data = b64(bytes);
        const added = estimate(withImage(data)) - base;
        // "data" (1) + ':' ... its key and the image itself: about 1,600, not length/4
        assert.ok(added >= 1600 && added <= 1610, `${bytes} bytes: ${added}`);
        if (data.length / 4 > 2000) assert.ok(added < data.length / 4 / 2, 'far below length/4');
      }
    });

    it('counts a large document as about one token per 100 bytes decoded', () => {
      const data = Buffer.alloc(3_000_000, 1).toString('base64');
      const doc = (d: string) => ({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: d } }] }] });
      const added = estimate(doc(data)) - estimate(doc(''));
      const expected = (data.length * 0.75) / 100 - 1600; // the empty "data" already counts 1,600
      assert.ok(Math.abs(added - expected) <= 2, `${added} vs ${expected}`);
    });

    it('treats only the value right after a "data" key as base64, and a top-level "data" as text', () => {
      const text = 'some words of text here '.repeat(20);
      const after = (extra: unknown[]) => scan(JSON.stringify({ messages: [{ content: [{ data: 'QUJD' }, ...extra] }] })).tokenEstimate;
      const plain = after([text]) - after([]);
      assert.ok(plain < 400 && plain > 50, `a string after the image object is estimated as text: ${plain}`);
      const nested = scan(JSON.stringify({ messages: [{ data: [text] }] })).tokenEstimate - scan(JSON.stringify({ messages: [{ data: [] }] })).tokenEstimate;
      assert.equal(nested, plain, 'strings inside an array under "data" are text');
      const top = scan(JSON.stringify({ data: text })).tokenEstimate;
      assert.ok(top < 400, `top-level data is text: ${top}`);
    });

    it('gives 2.5 to 6 bytes per token on the real Claude Code request', () => {
      const bytes = Buffer.from(JSON.stringify(claudeCodeRequest().body));
      const ratio = bytes.length / scan(bytes).tokenEstimate;
      assert.ok(ratio >= 2.5 && ratio <= 6, `bytes/token ${ratio.toFixed(2)}`);
    });

    it('grows about linearly with the conversation of a long session', () => {
      // Grown once to the largest size; the smaller ones are its first turns.
      const big = grownRequest(1_200_000);
      const turns = (big.messages.length - 1) / 2;
      const points = [1 / 8, 1 / 4, 1 / 2, 1].map((f) => {
        const body = { ...big, messages: big.messages.slice(0, 1 + 2 * Math.round(turns * f)) };
        const buf = Buffer.from(JSON.stringify(body));
        return { bytes: buf.length, tokens: scan(buf).tokenEstimate };
      });
      assert.ok(points[3].bytes >= 1_200_000 && points[0].bytes > 100_000);
      for (const p of points) {
        const ratio = p.bytes / p.tokens;
        assert.ok(ratio >= 2.5 && ratio <= 6, `${p.bytes} bytes: bytes/token ${ratio.toFixed(2)}`);
      }
      // The slope between consecutive sizes is the same within 10%.
      const slopes = points.slice(1).map((p, k) => (p.tokens - points[k].tokens) / (p.bytes - points[k].bytes));
      for (const s of slopes) assert.ok(Math.abs(s - slopes[0]) / slopes[0] < 0.1, `slopes ${slopes.map((x) => x.toFixed(4)).join(', ')}`);
      for (let k = 1; k < points.length; k++) assert.ok(points[k].tokens > points[k - 1].tokens);
    });
  });
});
