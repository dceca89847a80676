// The usage tap on streams a provider may legally send but that the common case does not
// exercise: CRLF and CR line ends (the SSE specification allows all three), a stream that
// stops before its final usage, a stream torn inside an event, and one very large event.
import assert from 'node:assert/strict';
import { SseUsageTap, type ReplyOutcome } from '../../src/conduit/usage/usageTap';
import { parseSseSpec } from '../support/sseSpec';

const frame = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const delta = (text: string): string => frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

const USAGE = { input_tokens: 120, cache_creation_input_tokens: 30, cache_read_input_tokens: 400, output_tokens: 1 };
const START = frame('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-opus-4-5', content: [], usage: USAGE } });
const OPEN = frame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) + frame('ping', { type: 'ping' });
const CLOSE = frame('content_block_stop', { type: 'content_block_stop', index: 0 });
const FINAL = frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { ...USAGE, output_tokens: 57 } });
const STOP = frame('message_stop', { type: 'message_stop' });
const STREAM = START + OPEN + delta('Hello') + delta(', wor') + delta('ld!') + CLOSE + FINAL + STOP;

const EXPECTED: ReplyOutcome = {
  usage: { inputTokens: 120, outputTokens: 57, cacheCreationTokens: 30, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 400 },
  model: 'claude-opus-4-5', complete: true, error: null,
};

function tap(chunks: (Buffer | string)[]): SseUsageTap {
  const t = new SseUsageTap();
  for (const c of chunks) t.push(typeof c === 'string' ? Buffer.from(c) : c);
  return t;
}

/** Every way to cut `bytes` into two chunks, and into three at every pair of nearby points. */
function* splits(bytes: Buffer): Generator<Buffer[]> {
  for (let a = 0; a <= bytes.length; a++) {
    yield [bytes.subarray(0, a), bytes.subarray(a)];
    for (let b = a + 1; b <= Math.min(bytes.length, a + 3); b++) yield [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
  }
}

describe('SseUsageTap: line ends, cut streams, large events', () => {
  for (const [name, eol] of [['CRLF', '\r\n'], ['CR', '\r']] as const) {
    it(`reads a stream with ${name} line ends as one with LF, however it is chunked`, () => {
      const text = STREAM.replace(/\n/g, eol);
      // The specification's reading of the same bytes: the events are all there.
      assert.deepEqual(parseSseSpec(text).map((e) => e.event), parseSseSpec(STREAM).map((e) => e.event));
      for (const chunks of splits(Buffer.from(text))) {
        const at = chunks.map((c) => c.length).join('+');
        const t = tap(chunks);
        assert.deepEqual(t.outcome(), EXPECTED, `${name}, chunks ${at}`);
        assert.equal(t.partialEventPending(), false, `${name}, chunks ${at}`);
      }
    });
  }

  it('reads mixed line ends, and LF CR as two line ends (a blank line)', () => {
    const mixed = START.replace(/\n/g, '\r\n') + OPEN.replace(/\n/g, '\r') + delta('hi') + CLOSE.replace('\n\n', '\n\r') + FINAL.replace(/\n/g, '\r\n') + STOP.replace(/\n/g, '\r');
    assert.deepEqual(parseSseSpec(mixed).map((e) => e.event), parseSseSpec(STREAM.replace(delta('Hello') + delta(', wor') + delta('ld!'), delta('hi'))).map((e) => e.event));
    for (const chunks of splits(Buffer.from(mixed))) assert.deepEqual(tap(chunks).outcome(), EXPECTED, chunks.map((c) => c.length).join('+'));
  });

  it('a stream that ends before message_delta: output estimated from the deltas seen, and flagged', () => {
    const text = 'The provider generated these tokens before the client went away. '.repeat(8);
    let body = START + OPEN;
    for (let k = 0; k < text.length; k += 16) body += delta(text.slice(k, k + 16));
    const deltas = Math.ceil(text.length / 16);
    for (const chunks of [...splits(Buffer.from(body))].filter((_, k) => k % 7 === 0)) {
      const outcome = tap(chunks).outcome();
      const usage = outcome.usage!;
      assert.equal(outcome.outputEstimated, true);
      // At least one token a delta; about four characters a token for English text.
      assert.ok(usage.outputTokens >= deltas, `${usage.outputTokens} >= ${deltas}`);
      assert.ok(usage.outputTokens >= Math.ceil(text.length / 4) * 0.75 && usage.outputTokens <= Math.ceil(text.length / 4) * 1.5,
        `${usage.outputTokens} tokens for ${text.length} characters`);
      assert.equal(usage.inputTokens, USAGE.input_tokens);
    }
    // With its final usage, the provider's figure stands and nothing is flagged.
    const whole = tap([STREAM]).outcome();
    assert.equal(whole.usage?.outputTokens, 57);
    assert.equal(whole.outputEstimated, undefined);
  });

  it('knows whether the bytes seen end inside an event', () => {
    const bytes = Buffer.from(STREAM);
    // The event ends a spec parser sees in each prefix are where nothing is pending.
    const ends = new Set<number>();
    for (let k = 1; k < bytes.length; k++) if (bytes[k] === 0x0a && bytes[k - 1] === 0x0a) ends.add(k + 1);
    for (let at = 1; at <= bytes.length; at++) {
      const t = tap([bytes.subarray(0, at)]);
      assert.equal(t.partialEventPending(), !ends.has(at), `prefix of ${at} bytes`);
      const chunked = tap([bytes.subarray(0, Math.floor(at / 2)), bytes.subarray(Math.floor(at / 2), at)]);
      assert.equal(chunked.partialEventPending(), !ends.has(at), `prefix of ${at} bytes in two chunks`);
    }
    assert.equal(tap(['event: ping\r\ndata: {}\r']).partialEventPending(), true);
    assert.equal(tap(['event: ping\r\ndata: {}\r\r']).partialEventPending(), false);
    assert.equal(tap(['event: ping\r\ndata: {}\r\n', '\r\n']).partialEventPending(), false);
  });

  it('a very large event: the work (bytes copied and scanned) grows linearly with its size', () => {
    // 16 KB chunks, as a socket delivers them; sizes under the 4 MB the tap will parse.
    const work = (name: string, size: number): number => {
      const head = `event: ${name}\ndata: {"type":"${name}","usage":{"output_tokens":9},"pad":"`;
      const bytes = Buffer.concat([Buffer.from(head), Buffer.alloc(size, 'x'), Buffer.from('"}\n\n'), Buffer.from(STOP)]);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += 16 * 1024) chunks.push(bytes.subarray(at, at + 16 * 1024));
      const t = new SseUsageTap();
      const touched = countBytesTouched(() => { for (const c of chunks) t.push(c); });
      if (name === 'message_delta') assert.equal(t.outcome().usage?.outputTokens, 9, 'the large event was read');
      assert.ok(touched <= 6 * bytes.length, `${name}, ${size} bytes: ${touched} bytes copied or scanned`);
      return touched;
    };
    for (const name of ['message_delta', 'content_block_delta']) {
      const small = work(name, 512 * 1024);
      const large = work(name, 2048 * 1024);
      assert.ok(large <= 4.5 * small, `${name}: 4× the size costs ${(large / small).toFixed(1)}× the work`);
    }
  });
});

/**
 * Bytes that Buffer copies and searches touch while `run` runs: Buffer.concat, Buffer.from
 * of bytes, copy, toString of a range, and indexOf (from its offset to the match or the end).
 */
function countBytesTouched(run: () => void): number {
  let touched = 0;
  const proto = Buffer.prototype as any;
  const { concat, from } = Buffer;
  const { indexOf, copy, toString } = proto;
  (Buffer as any).concat = function (list: Uint8Array[], total?: number) {
    const out = concat.call(Buffer, list, total);
    touched += out.length;
    return out;
  };
  (Buffer as any).from = function (value: unknown, ...rest: unknown[]) {
    if (value instanceof Uint8Array) touched += value.length;
    return (from as any).call(Buffer, value, ...rest);
  };
  proto.indexOf = function (this: Buffer, value: string | number | Uint8Array, offset = 0, ...rest: unknown[]) {
    const found = indexOf.call(this, value, offset, ...rest);
    const needle = typeof value === 'number' ? 1 : value.length;
    touched += (found >= 0 ? found + needle : this.length) - (offset as number);
    return found;
  };
  proto.copy = function (this: Buffer, ...args: unknown[]) {
    const n = copy.apply(this, args);
    touched += n;
    return n;
  };
  proto.toString = function (this: Buffer, encoding?: string, start = 0, end = this.length) {
    touched += Math.max(0, Math.min(end, this.length) - start);
    return toString.call(this, encoding, start, end);
  };
  try {
    run();
  } finally {
    Object.assign(Buffer, { concat, from });
    Object.assign(proto, { indexOf, copy, toString });
  }
  return touched;
}
