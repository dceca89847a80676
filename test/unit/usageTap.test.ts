import assert from 'node:assert/strict';
import { JsonUsageTap, SseUsageTap, applyUsage, emptyUsage, type ReplyOutcome } from '../../src/conduit/usage/usageTap';
import type { TokenUsage } from '../../src/protocol/usage';
import { rng } from './prng';

// Anthropic's SSE framing, written by hand: "event: <name>\ndata: <json>\n\n".
const frame = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

const START = { input: 2468, cacheWrite: 1500, cacheWrite5m: 1000, cacheWrite1h: 500, cacheRead: 30_000 };
const FINAL_OUTPUT = 357;

function messageStart(model = 'claude-opus-5-5'): string {
  return frame('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
      usage: {
        input_tokens: START.input, cache_creation_input_tokens: START.cacheWrite, cache_read_input_tokens: START.cacheRead,
        cache_creation: { ephemeral_5m_input_tokens: START.cacheWrite5m, ephemeral_1h_input_tokens: START.cacheWrite1h },
        output_tokens: 1, service_tier: 'standard',
      },
    },
  });
}

function body(text: string): string {
  let s = frame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  s += frame('ping', { type: 'ping' });
  for (let k = 0; k < text.length; k += 4) {
    s += frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text.slice(k, k + 4) } });
  }
  return s + frame('content_block_stop', { type: 'content_block_stop', index: 0 });
}

function messageDelta(output: number, full = true): string {
  return frame('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: full
      ? { input_tokens: START.input, cache_creation_input_tokens: START.cacheWrite, cache_read_input_tokens: START.cacheRead, output_tokens: output }
      : { output_tokens: output },
  });
}

const STOP = frame('message_stop', { type: 'message_stop' });
// Text with multi-byte characters, and a "message_stop" and blank lines inside a delta's JSON.
const TEXT = 'Héllo, 世界! 😀 event: message_stop\n\ndata: {} done.';
const STREAM = messageStart() + body(TEXT) + messageDelta(FINAL_OUTPUT) + STOP;

const EXPECTED_USAGE: TokenUsage = {
  inputTokens: START.input, outputTokens: FINAL_OUTPUT, cacheCreationTokens: START.cacheWrite,
  cacheCreation5mTokens: START.cacheWrite5m, cacheCreation1hTokens: START.cacheWrite1h, cacheReadTokens: START.cacheRead,
};
const EXPECTED: ReplyOutcome = { usage: EXPECTED_USAGE, model: 'claude-opus-5-5', complete: true, error: null };

function tapChunks(chunks: Buffer[]): ReplyOutcome {
  const tap = new SseUsageTap();
  for (const c of chunks) tap.push(c);
  return tap.outcome();
}

describe('SseUsageTap', () => {
  it('reads usage, model and completion from a whole stream', () => {
    assert.deepEqual(tapChunks([Buffer.from(STREAM)]), EXPECTED);
  });

  it('gives the same outcome for every split of the stream into two chunks', () => {
    const bytes = Buffer.from(STREAM);
    for (let at = 0; at <= bytes.length; at++) {
      assert.deepEqual(tapChunks([bytes.subarray(0, at), bytes.subarray(at)]), EXPECTED, `split at ${at}`);
    }
  });

  it('gives the same outcome fed one byte at a time', () => {
    const bytes = Buffer.from(STREAM);
    const chunks: Buffer[] = [];
    for (let k = 0; k < bytes.length; k++) chunks.push(bytes.subarray(k, k + 1));
    assert.deepEqual(tapChunks(chunks), EXPECTED);
  });

  it('gives the same outcome for random chunkings, and does not depend on the chunks\' memory afterwards', () => {
    const bytes = Buffer.from(STREAM);
    const r = rng(99);
    for (let n = 0; n < 200; n++) {
      const tap = new SseUsageTap();
      let at = 0;
      while (at < bytes.length) {
        const size = r.range(1, 300);
        const chunk = Buffer.from(bytes.subarray(at, at + size));
        tap.push(chunk);
        chunk.fill(0x78); // the gateway hands the chunk on: the tap must have copied what it keeps
        at += size;
      }
      assert.deepEqual(tap.outcome(), EXPECTED, `seed 99, run ${n}`);
    }
  });

  it('takes the cumulative totals of the latest message_delta', () => {
    const stream = messageStart() + body('hi') + messageDelta(10) + messageDelta(FINAL_OUTPUT) + STOP;
    assert.deepEqual(tapChunks([Buffer.from(stream)]).usage, EXPECTED_USAGE);
    const changed = messageStart() + frame('message_delta', { type: 'message_delta', delta: {}, usage: { input_tokens: 9, cache_read_input_tokens: 0, output_tokens: 5 } }) + STOP;
    assert.deepEqual(tapChunks([Buffer.from(changed)]).usage, { ...EXPECTED_USAGE, inputTokens: 9, cacheReadTokens: 0, outputTokens: 5 });
  });

  it('keeps message_start\'s figures when message_delta carries only output_tokens (older API)', () => {
    const stream = messageStart() + body('hi') + messageDelta(FINAL_OUTPUT, false) + STOP;
    assert.deepEqual(tapChunks([Buffer.from(stream)]).usage, EXPECTED_USAGE);
  });

  it('before message_delta, usage is message_start\'s with the output estimated from the deltas seen', () => {
    // body('partial') is two deltas ("part", "ial"): at least one token each.
    const outcome = tapChunks([Buffer.from(messageStart() + body('partial'))]);
    assert.deepEqual(outcome.usage, { ...EXPECTED_USAGE, outputTokens: 2 });
    assert.equal(outcome.outputEstimated, true);
    assert.equal(outcome.complete, false);
  });

  it('a stream without message_stop is not complete', () => {
    const outcome = tapChunks([Buffer.from(messageStart() + body(TEXT) + messageDelta(FINAL_OUTPUT))]);
    assert.deepEqual(outcome, { ...EXPECTED, complete: false });
    // A message_stop cut before its blank line has not arrived either.
    assert.equal(tapChunks([Buffer.from(STREAM.slice(0, -1))]).complete, false);
  });

  it('captures an error event', () => {
    const error = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const stream = messageStart() + body('par') + frame('error', error);
    const bytes = Buffer.from(stream);
    for (let at = 0; at <= bytes.length; at += 7) {
      const outcome = tapChunks([bytes.subarray(0, at), bytes.subarray(at)]);
      assert.deepEqual(outcome.error, error.error, `split at ${at}`);
      assert.equal(outcome.complete, false);
      assert.deepEqual(outcome.usage, { ...EXPECTED_USAGE, outputTokens: 1 });
      assert.equal(outcome.outputEstimated, true);
    }
    assert.deepEqual(tapChunks([Buffer.from(frame('error', { type: 'error' }))]).error, { type: 'api_error', message: 'error event in the stream' });
  });

  it('nothing but pings and deltas: no usage, no model', () => {
    assert.deepEqual(tapChunks([Buffer.from(body('x'))]), { usage: null, model: null, complete: false, error: null });
  });

  it('ignores a malformed usage event and keeps what it had', () => {
    const stream = messageStart() + 'event: message_delta\ndata: {"usage":{"output_tokens":\n\n' + messageDelta(FINAL_OUTPUT) + STOP;
    assert.deepEqual(tapChunks([Buffer.from(stream)]), EXPECTED);
    const early = 'event: message_delta\ndata: not json\n\n' + STREAM;
    assert.deepEqual(tapChunks([Buffer.from(early)]), EXPECTED);
  });

  it('reads JSON of other shapes than the events it knows as nothing: no throw, no figure, no model', () => {
    // Valid JSON whose values are not the objects the typed view declares: each read is typeof-checked.
    const odd = frame('message_start', { message: 'text' }) + frame('message_start', 7) + frame('message_start', null)
      + frame('message_start', { message: { model: 5, usage: { input_tokens: '12', cache_creation: 'x', output_tokens: [3] } } })
      + frame('message_delta', { usage: 9 }) + frame('message_delta', { usage: { output_tokens: { n: 1 } } }) + STOP;
    assert.deepEqual(tapChunks([Buffer.from(odd)]), { usage: emptyUsage(), model: null, complete: true, error: null, outputEstimated: true });
    assert.deepEqual(tapChunks([Buffer.from(frame('error', { error: 'overloaded' }))]).error, { type: 'api_error', message: 'error event in the stream' });
  });
});

describe('JsonUsageTap', () => {
  const message = {
    id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'héllo 世界' }], stop_reason: 'end_turn', stop_sequence: null,
    usage: {
      input_tokens: 321, output_tokens: 54, cache_creation_input_tokens: 700, cache_read_input_tokens: 9000,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 500 }, service_tier: 'standard',
    },
  };

  it('reads the usage and model of a message, however it is chunked', () => {
    const bytes = Buffer.from(JSON.stringify(message));
    const expected: ReplyOutcome = {
      usage: {
        inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens,
        cacheCreationTokens: message.usage.cache_creation_input_tokens, cacheReadTokens: message.usage.cache_read_input_tokens,
        cacheCreation5mTokens: message.usage.cache_creation.ephemeral_5m_input_tokens, cacheCreation1hTokens: message.usage.cache_creation.ephemeral_1h_input_tokens,
      },
      model: message.model, complete: true, error: null,
    };
    for (let at = 0; at <= bytes.length; at += 5) {
      const tap = new JsonUsageTap();
      tap.push(bytes.subarray(0, at));
      tap.push(bytes.subarray(at));
      assert.deepEqual(tap.outcome(), expected, `split at ${at}`);
    }
  });

  it('reads the error of an error body', () => {
    const tap = new JsonUsageTap();
    const err = { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' }, request_id: 'req_1' };
    tap.push(Buffer.from(JSON.stringify(err)));
    assert.deepEqual(tap.outcome(), { usage: null, model: null, complete: true, error: err.error });
  });

  it('reads a body of another shape than a message as nothing, without throwing', () => {
    for (const odd of ['null', '42', '"text"', '[]', '{"usage":"x","model":7}', '{"usage":{"cache_creation":3,"input_tokens":null}}']) {
      const tap = new JsonUsageTap();
      tap.push(Buffer.from(odd));
      const outcome = tap.outcome();
      assert.equal(outcome.model, null, odd);
      assert.deepEqual(outcome.usage ?? emptyUsage(), emptyUsage(), odd);
      assert.equal(outcome.error, null, odd);
    }
  });

  it('a cut body has no usage and is not complete', () => {
    const tap = new JsonUsageTap();
    const text = JSON.stringify(message);
    tap.push(Buffer.from(text.slice(0, text.length / 2)));
    assert.deepEqual(tap.outcome(), { usage: null, model: null, complete: false, error: null });
  });

  it('a body over its limit is dropped: no usage, no memory held', () => {
    const bytes = Buffer.from(JSON.stringify(message));
    const tap = new JsonUsageTap(bytes.length - 1);
    tap.push(bytes);
    assert.equal(tap.outcome().usage, null);
    const fits = new JsonUsageTap(bytes.length);
    fits.push(bytes);
    assert.equal(fits.outcome().usage?.inputTokens, message.usage.input_tokens);
  });
});

describe('applyUsage', () => {
  it('replaces only the fields it carries, ignoring nulls, negatives and non-numbers', () => {
    const u = emptyUsage();
    applyUsage(u, { input_tokens: 5, output_tokens: 7, cache_creation_input_tokens: 3, cache_read_input_tokens: 2 });
    applyUsage(u, { input_tokens: -1, cache_creation_input_tokens: null, cache_read_input_tokens: 'x' as unknown as number, cache_creation: null });
    assert.deepEqual(u, { ...emptyUsage(), inputTokens: 5, outputTokens: 7, cacheCreationTokens: 3, cacheReadTokens: 2 });
    applyUsage(u, null);
    applyUsage(u, undefined);
    assert.equal(u.inputTokens, 5);
  });
});
