/**
 * One pass over a request body that validates it as JSON, finds where each top-level
 * field's value lies, and estimates its tokens, without building a JS object.
 * (bench: about 0.5 ms for a 400 KB Claude Code request; see README "Token estimate".)
 *
 * Why: the gateway sits on every request of every agent and Claude Code's bodies are
 * 115 KB bare and reach megabytes in long sessions. JSON.parse + JSON.stringify of such a
 * body costs milliseconds and garbage; this scan reads the bytes once, and the gateway
 * then parses only the few small fields it needs and splices a new model into the
 * original bytes (see requestFacts.ts withModel).
 */

import { RangeList } from './rangeList';

export class RequestBodyError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'RequestBodyError';
  }
}

/** Byte range [start, end) of a value inside the body. */
export type ByteRange = readonly [number, number];

export interface ScannedRequest {
  /** Top-level keys of the body object and where their values lie. */
  fields: Map<string, ByteRange>;
  /** The last element of the top-level "messages" array, if any. */
  lastMessage: ByteRange | null;
  /** Every element of the top-level "messages" array, in order. */
  messages: RangeList;
  /**
   * For each of the last messages, where the value of its "role" key lies (its last one, as
   * JSON.parse keeps it). (The latest prompt is looked for from the end: a message another
   * role sent is passed over without being outlined, and an assistant's message may hold
   * megabytes of tool inputs.)
   */
  roles: RecentRoles;
  /** Estimated prompt tokens over every string in the body (system, tools, messages...). */
  tokenEstimate: number;
}

const MAX_DEPTH = 256;
const QUOTE = 0x22, BACKSLASH = 0x5c;

/**
 * Bytes the last scan examined: searched, read, validated or classified, each time it
 * looked at them. The unit tests check with it that the scan's work grows linearly with
 * the body whatever its shape (steps, not time: this machine is shared). It costs an
 * addition per string, number or search, never one per byte.
 */
let work = 0;
export function lastScanWork(): number {
  return work;
}

// Character classes for the token estimate of string contents, by byte: a non-ASCII lead
// byte is a character of its own (a token, like punctuation), a continuation byte is
// part of the character before it.
const CLS_OTHER = 0, CLS_LETTER = 1, CLS_DIGIT = 2, CLS_SPACE = 3, CLS_NEWLINE = 4;
// (and what classifyUpTo handles apart: continuation bytes, the closing quote, escapes)
const CLS_CONTINUATION = 5, CLS_QUOTE = 6, CLS_BACKSLASH = 7;
const BYTE_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  BYTE_CLASS[c] = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ? CLS_LETTER
    : c >= 0x30 && c <= 0x39 ? CLS_DIGIT
    : c === 0x20 ? CLS_SPACE
    : c >= 0x80 && c < 0xc0 ? CLS_CONTINUATION
    : c === QUOTE ? CLS_QUOTE
    : c === BACKSLASH ? CLS_BACKSLASH
    : CLS_OTHER;
}
// A run of one class is a token, plus one per this many further characters: words of
// letters one per six, digits three to a token, indentation a token per four spaces; a
// run of newlines is one token.
const RUN_PER_TOKEN = new Int32Array([1, 6, 3, 4, 0x3fffffff]);

// Container kinds on the stack.
const IN_OBJECT = 1, IN_ARRAY = 2;
// The stack: the container kind at each depth, and where it began. One for every scan (a
// scan runs to its end before the next begins, and never within another): the gateway
// scans a request, then each message and block lastUserText reads, and two typed arrays
// per scan were a part of a small request's cost.
const KINDS = new Uint8Array(MAX_DEPTH + 1);
const STARTS = new Int32Array(MAX_DEPTH + 1);

/**
 * Scans `body`, which must be one JSON object. Throws RequestBodyError on anything that is
 * not valid JSON, with the byte offset of the problem.
 */
export function scanRequestBody(bytes: Uint8Array): ScannedRequest {
  const body = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const outline = scanObject(body, 0, body.length, 'messages', true);
  return { fields: outline.fields, lastMessage: outline.list.last(), messages: outline.list, roles: outline.roles, tokenEstimate: outline.tokens };
}

/**
 * The fields of a JSON object the request scan has already read (a message, a content
 * block) and the elements of its array field `listKey` (with `outlineElements`, each
 * object element's own fields too), without a token estimate: what
 * is then read of it (a role, a block's type and text) is parsed alone, not the whole
 * object with its tool results and images.
 *
 * The bytes were validated by that scan, so they are not validated again: a string is
 * passed over by searching for its closing quote, a nested value by counting brackets.
 * (Reading the latest prompt outlines the last messages and their blocks, megabytes of
 * tool results or nested tool inputs among them; a validating scan of them cost as much
 * again as the request's own scan.)
 */
export function scanObjectFields(body: Buffer, [start, end]: ByteRange, listKey: string, outlineElements = false): ObjectOutline {
  const top = new ObjectOutline(listKey, outlineElements);
  outlineInto(body, skipBlank(body, start), top);
  work = end - start;
  return top;
}

/** Outlines the validated object that opens at `i` into `top`; returns the index after it. */
function outlineInto(body: Buffer, i: number, top: ObjectOutline): number {
  i++; // past the '{'
  for (;;) {
    i = skipBlank(body, i);
    if (body[i] === 0x7d) break; // '}' of an empty object
    const keyStart = i + 1;
    i = endOfString(body, i);
    top.keyRead(decodeKey(body, keyStart, i - 1));
    i = skipBlank(body, skipBlank(body, i) + 1); // past the ':'
    const valueStart = i;
    i = top.isListKey() && body[i] === 0x5b ? endOfList(body, i, top) : endOfValue(body, i);
    top.fieldEnded(valueStart, i);
    i = skipBlank(body, i);
    if (body[i] !== 0x2c) break; // the object's '}'
    i++;
  }
  return i + 1;
}

/** Past whitespace in validated JSON (not counted as the scan's work). */
function skipBlank(body: Buffer, i: number): number {
  for (;;) {
    const b = body[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return i;
    i++;
  }
}

/**
 * The index after the closing quote of the validated string that opens at `at`: the next
 * quote not escaped, that is, after an even run of backslashes. (Each byte is looked at
 * once by the search, and a run of backslashes once more, backwards, at the quote after it.)
 */
function endOfString(body: Buffer, at: number): number {
  let from = at + 1;
  for (;;) {
    let q = from;
    const near = from + READ_BEFORE_SKIP_SEARCH;
    while (q < near && body[q] !== QUOTE) q++;
    if (body[q] !== QUOTE) q = body.indexOf(QUOTE, q);
    let run = 0;
    while (body[q - 1 - run] === BACKSLASH) run++;
    if (run % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Bytes read one by one before a search: keys, roles and types are short, escaped text has a quote every few dozen bytes. */
const READ_BEFORE_SKIP_SEARCH = 32;

/** The index after the validated value that starts at `i`. */
function endOfValue(body: Buffer, i: number): number {
  const b = body[i];
  if (b === QUOTE) return endOfString(body, i);
  if (b !== 0x7b && b !== 0x5b) {
    // A number or a literal: up to the next delimiter.
    for (;;) {
      const c = body[++i];
      if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return i;
    }
  }
  // One table lookup per byte: nested tool inputs are nothing but brackets and short keys.
  let depth = 0;
  for (;;) {
    const kind = SKIP_KIND[body[i++]];
    if (kind === SKIP_PLAIN) continue;
    if (kind === SKIP_OPEN) depth++;
    else if (kind === SKIP_CLOSE) {
      if (--depth === 0) return i;
    } else {
      // A string: its first bytes read here (keys such as "type" end within them), the
      // rest searched. (An escape's second byte is stepped over; the search finds an
      // escaped quote by the backslashes before it, wherever it starts.)
      const near = i + READ_BEFORE_SKIP_SEARCH;
      for (;;) {
        const c = body[i++];
        if (c === QUOTE) break;
        if (c === BACKSLASH) i++;
        if (i >= near) {
          i = endOfString(body, i - 1);
          break;
        }
      }
    }
  }
}

const SKIP_PLAIN = 0, SKIP_QUOTE = 1, SKIP_OPEN = 2, SKIP_CLOSE = 3;
const SKIP_KIND = new Uint8Array(256);
SKIP_KIND[QUOTE] = SKIP_QUOTE;
SKIP_KIND[0x7b] = SKIP_KIND[0x5b] = SKIP_OPEN;
SKIP_KIND[0x7d] = SKIP_KIND[0x5d] = SKIP_CLOSE;

/** The index after the validated array that opens at `i`, each of its elements listed. */
function endOfList(body: Buffer, i: number, top: ObjectOutline): number {
  const list = top.list;
  const elements = top.elements;
  i = skipBlank(body, i + 1);
  if (body[i] === 0x5d) return i + 1;
  for (;;) {
    const start = i;
    if (elements === null) i = endOfValue(body, i);
    else if (body[i] !== 0x7b) {
      i = endOfValue(body, i);
      elements.push(null);
    } else {
      // An object element (a content block) outlined in the same pass: its bytes are read once.
      const element = new ObjectOutline('', false);
      i = outlineInto(body, i, element);
      elements.push(element);
    }
    list.push(start, i);
    i = skipBlank(body, i);
    if (body[i] !== 0x2c) return i + 1; // the ']'
    i = skipBlank(body, i + 1);
  }
}

/**
 * Scans the JSON object that spans [start, end) of `body` (with whitespace around it),
 * keeping its fields and the elements of its array field `listKey`; `estimate`: estimate
 * the tokens of its strings.
 */
function scanObject(body: Buffer, start: number, len: number, listKey: string, estimate: boolean): ObjectOutline {
  nextQuote = -2;
  nextBackslash = -2;
  work = 0;
  const kinds = KINDS;
  const starts = STARTS;
  let depth = 0;
  let steps = 0; // structural bytes read here (added to work at the end: a local, not a module variable, per byte)
  let i = skipWhitespace(body, start);
  if (i >= len) throw new RequestBodyError('empty body, expected a JSON object', i);
  if (body[i] !== 0x7b) throw new RequestBodyError('expected a JSON object', i);

  const top = new ObjectOutline(listKey);
  let tokens = 0;
  let keyNext = false; // a key comes before the next value (in an object, after '{' or ',')
  let listing = false; // inside the array of the top-level key listKey: its elements are kept
  // The role of the element being read (an object in that array): where its value lies.
  let roleStart = -1;
  let roleEnd = -1;

  // One turn per value: its key first when in an object, then the value; a container's
  // opener goes round again for its first element, a scalar (or an empty container)
  // continues below with the ',' and closers that follow it. (Few branches per token:
  // bodies of 200k tiny messages or of deep nesting are nothing but tokens.)
  value: for (;;) {
    let b = body[i];
    if (b <= 0x20) b = body[i = skipWhitespace(body, i)];
    if (i >= len) throw new RequestBodyError('unexpected end of body', i);
    let isData = false; // the value follows a "data" key: base64 of an image or document
    let isRole = false; // the value follows the "role" key of an element of listKey's array
    if (keyNext) {
      keyNext = false;
      if (b !== 0x22) throw new RequestBodyError('expected a string key', i);
      const keyStart = i + 1;
      const word = estimate ? letterStringEnd(body, i) : -1;
      if (word >= 0) {
        tokens += letterTokens(word - keyStart);
        steps += word - i;
        i = word + 1;
      } else {
        i = scanString(body, i, estimate);
        tokens += stringTokens;
      }
      const keyEnd = i - 1;
      if (depth === 1) top.keyRead(decodeKey(body, keyStart, keyEnd));
      if (keyEnd - keyStart === 4) {
        const k0 = body[keyStart];
        isData = k0 === 0x64 && body[keyStart + 1] === 0x61 && body[keyStart + 2] === 0x74 && body[keyStart + 3] === 0x61;
        isRole = k0 === 0x72 && depth === 3 && listing && body[keyStart + 1] === 0x6f && body[keyStart + 2] === 0x6c && body[keyStart + 3] === 0x65;
      }
      if (body[i] !== 0x3a) i = skipWhitespace(body, i);
      if (body[i] !== 0x3a) throw new RequestBodyError("expected ':' after a key", i);
      steps++;
      b = body[++i];
      if (b <= 0x20) b = body[i = skipWhitespace(body, i)];
      if (i >= len) throw new RequestBodyError('unexpected end of body', i);
    }
    steps++;
    if (b === 0x7b || b === 0x5b) {
      if (depth >= MAX_DEPTH) throw new RequestBodyError('nesting too deep', i);
      if (isRole) roleStart = -1; // a role that is not a string: unknown
      depth++;
      kinds[depth] = b === 0x7b ? IN_OBJECT : IN_ARRAY;
      starts[depth] = i;
      if (depth === 2) listing = b === 0x5b && top.isListKey();
      let c = body[++i];
      if (c <= 0x20) c = body[i = skipWhitespace(body, i)];
      if (c !== (b === 0x7b ? 0x7d : 0x5d)) {
        keyNext = b === 0x7b;
        continue;
      }
      // An empty container: its closer is read below.
    } else {
      const valueStart = i;
      if (b === 0x22 && isData && depth > 1) {
        // Base64 of an image or a document: its tokens depend on pixels or pages, not on
        // its characters. Count a full-size image (about 1,600 tokens), more for a large
        // document (about one token per 100 bytes decoded).
        i = skipString(body, i);
        tokens += Math.max(1600, Math.ceil((i - valueStart) * 0.75 / 100));
      } else if (b === 0x22) {
        const word = estimate ? letterStringEnd(body, i) : -1;
        if (word >= 0) {
          tokens += letterTokens(word - i - 1);
          steps += word - i;
          i = word + 1;
        } else {
          i = scanString(body, i, estimate);
          tokens += stringTokens;
        }
      } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
        i = scanNumber(body, i);
        tokens += 1;
      } else if (b === 0x74) i = expectLiteral(body, i, 'true');
      else if (b === 0x66) i = expectLiteral(body, i, 'false');
      else if (b === 0x6e) i = expectLiteral(body, i, 'null');
      else throw new RequestBodyError('expected a value', i);
      if (depth === 2) {
        if (listing) {
          top.list.push(valueStart, i);
          top.roles.push(-1, -1);
        }
      } else if (depth === 1) top.fieldEnded(valueStart, i);
      else if (isRole) {
        roleStart = valueStart;
        roleEnd = i;
      }
    }

    // After a value: ',' (then the next key or value), or the closer of the current
    // container (then its parent's ',' or closer).
    for (;;) {
      let c = body[i];
      if (c <= 0x20) c = body[i = skipWhitespace(body, i)];
      if (i >= len) throw new RequestBodyError('unexpected end of body', i);
      steps++;
      const kind = kinds[depth];
      if (c === 0x2c) {
        i++;
        keyNext = kind === IN_OBJECT;
        continue value;
      }
      if (c !== (kind === IN_OBJECT ? 0x7d : 0x5d)) throw new RequestBodyError(`expected ',' or '${kind === IN_OBJECT ? '}' : ']'}'`, i);
      const open = starts[depth];
      i++;
      depth--;
      if (depth === 0) break value;
      // The closed container is a value of its parent.
      if (depth === 2) {
        if (listing) {
          top.list.push(open, i);
          top.roles.push(roleStart, roleEnd);
          roleStart = -1;
        }
      } else if (depth === 1) {
        top.fieldEnded(open, i);
        listing = false;
      }
    }
  }

  work += steps;
  if (i < len) i = skipWhitespace(body, i); // (an object inside a body ends where its range does)
  if (i !== len) throw new RequestBodyError('unexpected data after the JSON object', i);
  top.tokens = tokens;
  return top;
}

/**
 * What a scan keeps of an object's top level: where each field's value lies, and each
 * element of its array field `listKey` (the request's messages, a message's content
 * blocks). (A class, not a closure over the scan's locals: the hot loop keeps its depth
 * and position in registers.)
 */
export class ObjectOutline {
  readonly fields = new Map<string, ByteRange>();
  readonly list = new RangeList();
  /** The role of each of the list's last elements (filled by the request's scan only: see ScannedRequest.roles). */
  readonly roles = new RecentRoles();
  /** Estimated tokens of the object's strings, when asked for. */
  tokens = 0;
  /** The outline of each element of the list that is an object (null for the others), when asked for. */
  readonly elements: (ObjectOutline | null)[] | null;
  /** The top-level key whose value is being read. */
  private key: string | null = null;

  constructor(private readonly listKey: string, outlineElements = false) {
    this.elements = outlineElements ? [] : null;
  }

  keyRead(key: string): void {
    this.key = key;
    if (key === this.listKey) {
      // A repeated key: the last one counts, as in JSON.parse.
      this.list.clear();
      this.roles.clear();
      if (this.elements) this.elements.length = 0;
    }
  }

  /** Whether the value being read is that of listKey (whose elements, if an array, are listed). */
  isListKey(): boolean {
    return this.key === this.listKey;
  }

  /** The value [start, end) of the top-level key just read ended. */
  fieldEnded(start: number, end: number): void {
    if (this.key !== null) this.fields.set(this.key, [start, end]);
    this.key = null;
  }
}

/**
 * Where the role of each of the last RECENT_ROLES elements of a list lies: a ring of
 * ranges, grown up to that size. Kept for the last ones only, so that a body of 200,000
 * tiny messages costs two stores per message and no memory per message; the latest
 * prompt is seldom further back than that, and a message beyond it is outlined instead.
 */
const RECENT_ROLES = 1024;
export class RecentRoles {
  private slots = new Int32Array(32);
  /** How many elements were listed. */
  length = 0;

  push(start: number, end: number): void {
    let k = (this.length & (RECENT_ROLES - 1)) << 1;
    if (k >= this.slots.length) {
      const grown = new Int32Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    this.slots[k] = start;
    this.slots[++k] = end;
    this.length++;
  }

  clear(): void {
    this.length = 0;
  }

  /**
   * The range of the role of element `index`; start -1 when it has none, one that is not
   * a string or a literal, or was not kept (too far back).
   */
  at(index: number): ByteRange {
    if (index < this.length - RECENT_ROLES || index >= this.length) return [-1, -1];
    const k = (index & (RECENT_ROLES - 1)) << 1;
    return [this.slots[k], this.slots[k + 1]];
  }
}

function skipWhitespace(body: Uint8Array, i: number): number {
  const len = body.length;
  const start = i;
  while (i < len) {
    const b = body[i];
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
    i++;
  }
  work += i + 1 - start; // and the byte that ended the run
  return i;
}

/**
 * Short strings of letters alone ("role", "user", "content", "type", "text", the keys of
 * tool inputs) are most of the strings of a body of many tiny messages or of deep
 * nesting: read in the scan's own loop, with no call into scanString and its searches.
 * Returns the index of the closing quote of the string that opens at `at`, or -1 when it
 * is anything else, or longer than WORD_MAX (left to scanString, which reads those bytes
 * again: hence a bound well under SHORT_STRING).
 */
const WORD_MAX = 24;
function letterStringEnd(body: Buffer, at: number): number {
  const stop = at + 1 + WORD_MAX;
  let k = at + 1;
  while (k < stop && BYTE_CLASS[body[k]] === CLS_LETTER) k++;
  return body[k] === QUOTE ? k : -1;
}

/** The estimate of a run of `n` letters, as classifyUpTo counts it: a token, and one per six further letters. */
function letterTokens(n: number): number {
  return n === 0 ? 0 : 1 + (((n - 1) / RUN_PER_TOKEN[CLS_LETTER]) | 0);
}

/** Skips a string whose contents need no estimate (base64); returns the index after it. */
function skipString(body: Buffer, at: number): number {
  return scanString(body, at, false);
}

/** Validates the escape at `i` (a backslash); returns the index after it. */
function checkEscape(body: Uint8Array, i: number): number {
  const e = body[i + 1];
  if (e === 0x75) {
    work += 6;
    for (let k = 2; k < 6; k++) {
      const h = body[i + k];
      if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) {
        throw new RequestBodyError('invalid \\u escape in string', i);
      }
    }
    return i + 6;
  }
  work += 2;
  if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) return i + 2;
  throw new RequestBodyError('invalid escape in string', i);
}

function decodeKey(body: Buffer, start: number, end: number): string {
  // Keys are plain ASCII in practice, read as one latin1 slice (not a string grown a
  // character at a time: a key may be a megabyte long); an escaped ("mod\u0065l") or
  // non-ASCII key is decoded as JSON.parse would, so that the fields are the ones the
  // provider will see.
  work += end - start;
  for (let k = start; k < end; k++) {
    const b = body[k];
    if (b === BACKSLASH || b >= 0x80) {
      try {
        return JSON.parse(body.toString('utf8', start - 1, end + 1)) as string;
      } catch {
        throw new RequestBodyError('invalid key', start - 1);
      }
    }
  }
  return body.toString('latin1', start, end);
}

/**
 * Reads a string starting at the opening quote `at`; returns the index after the
 * closing quote and leaves the estimated tokens of its contents in `stringTokens` (no
 * object per string: a long session has tens of thousands).
 *
 * The closing quote and every escape are found with findByte (memchr past a few bytes),
 * and each escape is validated. Where the next quote and the next backslash lie is
 * remembered across escapes and strings, so that no byte is searched twice: searching
 * again for the quote after every escape made text with many newlines and few quotes
 * (logs, Read and Bash output) cost escapes × distance to the quote. Raw control
 * characters inside a string are not looked for: that would mean a JavaScript loop over
 * every byte of every request, and the provider's parser refuses such a body with its own
 * 400 invalid_request_error. Only a sample of a long string is classified for the
 * estimate (see estimateTokens).
 */
let stringTokens = 0;
const SHORT_STRING = 48;
/** Position of the next quote / backslash at or after where the scan is (-1: none; -2: not looked up yet). */
let nextQuote = -2;
let nextBackslash = -2;
function scanString(body: Buffer, at: number, estimate: boolean): number {
  let i = at + 1;
  // Most strings are short and plain (keys, roles, types, ids): read here to their end
  // in one loop, classified for the estimate as they are read, with no search set up.
  const len = body.length;
  const stop = i + SHORT_STRING < len ? i + SHORT_STRING : len;
  let k = i;
  if (estimate) k = classifyUpTo(body, i, stop, true);
  else while (k < stop && body[k] !== QUOTE && body[k] !== BACKSLASH) k++;
  work += k + 1 - i;
  if (k < stop && body[k] === QUOTE) {
    stringTokens = estimate ? classified : 0;
    return k + 1;
  }
  // Longer, or with escapes: searched (the bytes read above are read again, at most
  // SHORT_STRING per string, so the work stays linear).
  for (;;) {
    if (nextQuote < i) {
      nextQuote = findByte(body, QUOTE, i);
      if (nextQuote < 0) throw new RequestBodyError('unterminated string', at);
    }
    if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = findByte(body, BACKSLASH, i);
    if (nextBackslash < 0 || nextBackslash > nextQuote) break;
    // A run of escapes (escaped text, \uXXXX after \uXXXX) is read here, not searched for.
    i = nextBackslash;
    do i = checkEscape(body, i); while (body[i] === BACKSLASH);
  }
  stringTokens = estimate ? estimateTokens(body, at + 1, nextQuote) : 0;
  return nextQuote + 1;
}

/**
 * Where the next `byte` is at or after `from` (-1: nowhere). The first few bytes are read
 * here: most strings are short keys and values, and in escaped text the next backslash is
 * a byte or two away, where a call into Buffer.indexOf costs more than reading them.
 */
const READ_BEFORE_SEARCH = 8;
function findByte(body: Buffer, byte: number, from: number): number {
  const len = body.length;
  const near = from + READ_BEFORE_SEARCH < len ? from + READ_BEFORE_SEARCH : len;
  for (let k = from; k < near; k++) {
    if (body[k] === byte) {
      work += k + 1 - from;
      return k;
    }
  }
  const found = near < len ? body.indexOf(byte, near) : -1;
  work += (found < 0 ? len : found + 1) - from;
  return found;
}

// Long strings are estimated from windows of 64 bytes every 512 (an eighth of them):
// prompts, tool schemas and tool results are text whose token density is even enough
// that the sample's density, times the length, is within a few percent, at an eighth
// of the cost.
const SAMPLE_WINDOW = 64;
const SAMPLE_STRIDE = 512;
const CLASSIFY_WHOLE = 1024;

function estimateTokens(body: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n <= CLASSIFY_WHOLE) return classify(body, start, end);
  let tokens = 0;
  let sampled = 0;
  for (let at = start; at < end; at += SAMPLE_STRIDE) {
    const w = characterStart(body, start, at);
    const e = w + SAMPLE_WINDOW < end ? w + SAMPLE_WINDOW : end;
    if (w >= e) continue;
    tokens += classify(body, w, e);
    sampled += e - w;
  }
  return Math.round((tokens * n) / sampled);
}

/**
 * The first character boundary at or after `at` in the string that starts at `start`: a
 * sample window that began inside an escape would count its hex digits as a word (escaped
 * astral characters came out 10 % over). Only the five bytes before `at` are looked at,
 * and the run of backslashes before the nearest one, up to 64, for its parity.
 */
function characterStart(body: Uint8Array, start: number, at: number): number {
  for (let k = at - 1; k >= start && k >= at - 5; k--) {
    if (body[k] !== BACKSLASH) continue;
    let run = 1;
    while (run < 64 && k - run >= start && body[k - run] === BACKSLASH) run++;
    work += run;
    if (run % 2 === 0) return at; // the backslash at k is the escaped one of a "\\" before `at`
    const escapeEnd = k + (body[k + 1] === 0x75 ? 6 : 2);
    return escapeEnd > at ? escapeEnd : at;
  }
  return at;
}

/**
 * Tokens of the (already validated) string bytes [start, end), approximating a BPE
 * tokenizer: a word of letters is one token plus one per six further letters, digits go
 * three to a token, each punctuation mark and each non-ASCII character is a token, a run
 * of spaces past the first is a token per four spaces (indentation), and a run of
 * newlines is one token.
 */
function classify(body: Uint8Array, start: number, end: number): number {
  work += end - start;
  classifyUpTo(body, start, end, false);
  return classified;
}

/** The tokens classifyUpTo counted. */
let classified = 0;

/**
 * Classifies string bytes from `start` until `stop`, or until a quote (the string's
 * end), or, when `plainOnly`, until a backslash (escapes are validated elsewhere first);
 * returns where it stopped and leaves the tokens in `classified`.
 */
function classifyUpTo(body: Uint8Array, start: number, stop: number, plainOnly: boolean): number {
  let tokens = 0;
  let prev = CLS_OTHER;
  let left = 0; // characters of the current run until its next token
  let i = start;
  while (i < stop) {
    let cls = BYTE_CLASS[body[i]];
    if (cls >= CLS_CONTINUATION) {
      if (cls === CLS_CONTINUATION) {
        i++; // part of the character counted at its lead byte
        continue;
      }
      if (cls === CLS_QUOTE || plainOnly) break;
      const e = body[i + 1];
      if (e === 0x75) {
        // The second half of an escaped surrogate pair (\uDC00-\uDFFF) belongs to the
        // character counted at the first, as an astral character's four UTF-8 bytes count once.
        if (!isLowSurrogate(body[i + 2], body[i + 3])) tokens++;
        i += 6;
        prev = CLS_OTHER;
        continue;
      }
      cls = e === 0x6e || e === 0x72 ? CLS_NEWLINE : e === 0x74 ? CLS_SPACE : CLS_OTHER;
      i += 2;
    } else {
      i++;
    }
    if (cls === prev && cls !== CLS_OTHER) {
      if (--left === 0) {
        tokens++;
        left = RUN_PER_TOKEN[cls];
      }
    } else {
      if (cls !== CLS_SPACE) tokens++;
      prev = cls;
      left = RUN_PER_TOKEN[cls];
    }
  }
  classified = tokens;
  return i;
}

/** Whether \u escape hex digits starting `h1 h2` name a low surrogate (DC-DF, either case). */
function isLowSurrogate(h1: number, h2: number): boolean {
  return (h1 === 0x64 || h1 === 0x44) && ((h2 >= 0x63 && h2 <= 0x66) || (h2 >= 0x43 && h2 <= 0x46));
}

function scanNumber(body: Uint8Array, at: number): number {
  let i = at;
  if (body[i] === 0x2d) i++;
  const digitsStart = i;
  while (body[i] >= 0x30 && body[i] <= 0x39) i++;
  if (i === digitsStart) throw new RequestBodyError('invalid number', at);
  if (body[digitsStart] === 0x30 && i - digitsStart > 1) throw new RequestBodyError('invalid number (leading zero)', at);
  if (body[i] === 0x2e) {
    i++;
    const f = i;
    while (body[i] >= 0x30 && body[i] <= 0x39) i++;
    if (i === f) throw new RequestBodyError('invalid number', at);
  }
  if (body[i] === 0x65 || body[i] === 0x45) {
    i++;
    if (body[i] === 0x2b || body[i] === 0x2d) i++;
    const e = i;
    while (body[i] >= 0x30 && body[i] <= 0x39) i++;
    if (i === e) throw new RequestBodyError('invalid number', at);
  }
  work += i - at;
  return i;
}

function expectLiteral(body: Uint8Array, at: number, word: string): number {
  work += word.length;
  for (let k = 0; k < word.length; k++) {
    if (body[at + k] !== word.charCodeAt(k)) throw new RequestBodyError('invalid literal', at);
  }
  return at + word.length;
}
