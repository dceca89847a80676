import assert from 'node:assert/strict';
import { bodyLength, splice, withContiguous } from '../../src/conduit/routing/bodyChunks';
import { readRequestFacts, withModel, withModelChunks } from '../../src/conduit/routing/requestFacts';
import { lastScanWork } from '../../src/conduit/routing/requestScan';
import { rng } from './prng';

// A body read as the chunks the socket delivered (src/conduit/routing/bodyChunks.ts): the
// facts, the estimate and the last user text are those of the same bytes in one Buffer,
// wherever the chunks break (inside an escape, a surrogate pair, a UTF-8 sequence, the
// model string), and the model is spliced in without copying the rest.

/** `body` cut at `cuts` (sorted offsets). */
function cutAt(body: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, body.length]) {
    out.push(Buffer.from(body.subarray(at, c))); // own memory, as the socket's chunks are
    at = c;
  }
  return out;
}

/** The facts a rule can see, as plain data. */
function factsSeen(body: Buffer | Buffer[]) {
  const f = readRequestFacts(body);
  const work = lastScanWork();
  return {
    work,
    model: f.requestedModel, stream: f.stream, tokens: f.tokenCount, thinking: [f.thinkingType, f.thinkingBudget], effort: f.effort,
    web: f.hasWebSearchTool, fields: [...f.scan.fields], messages: Array.from({ length: f.scan.messages.length }, (_, k) => f.scan.messages.at(k)),
    lastUserText: f.lastUserText(),
  };
}

// A request whose bytes hold every awkward spot: escapes (\n, \", \\, \uXXXX), an escaped
// surrogate pair, raw 2-, 3- and 4-byte UTF-8, a model with an escape in it.
const AWKWARD = Buffer.from(JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream: true,
  thinking: { type: 'enabled', budget_tokens: 31999 },
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'é中😀 line\n\t"quoted" back\\slash \u0001' }] },
    { role: 'assistant', content: 'ok' },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'a\nb\tc' }, { type: 'text', text: 'ultrathink: café 😀 done' }] },
  ],
}).replace('"claude-sonnet-4-5"', '"claude-sonnet-4\\u002d5"').replace('😀 done', '\\ud83d\\ude00 done'));

describe('request scan over chunks', () => {
  it('reads the same facts, estimate and last user text as one Buffer, with one cut at every byte', () => {
    const whole = factsSeen(AWKWARD);
    assert.equal(whole.model, 'claude-sonnet-4-5');
    assert.equal(whole.lastUserText, 'ultrathink: café 😀 done');
    for (let cut = 0; cut <= AWKWARD.length; cut++) {
      assert.deepEqual(factsSeen(cutAt(AWKWARD, [cut])), whole, `cut at ${cut}: ${JSON.stringify(AWKWARD.toString('latin1', cut - 3, cut + 3))}`);
    }
  });

  it('reads the same facts with the body cut into 1- to 7-byte chunks, 200 random cuttings', () => {
    const whole = factsSeen(AWKWARD);
    const r = rng(0xc4a2);
    for (let n = 0; n < 200; n++) {
      const cuts: number[] = [];
      for (let at = r.range(1, 7); at < AWKWARD.length; at += r.range(1, 7)) cuts.push(at);
      assert.deepEqual(factsSeen(cutAt(AWKWARD, cuts)), whole, `cutting ${n}`);
    }
  });

  it('does no more scan work over chunks than over one Buffer (the same bytes, examined once)', () => {
    const body = Buffer.from(JSON.stringify({ model: 'm', messages: Array.from({ length: 2000 }, (_, k) => ({ role: k % 2 ? 'assistant' : 'user', content: `line ${k}\n\tmore\n` })) }));
    readRequestFacts(body);
    const work = lastScanWork();
    const cuts = Array.from({ length: Math.floor(body.length / 1000) }, (_, k) => (k + 1) * 1000);
    readRequestFacts(cutAt(body, cuts));
    assert.equal(lastScanWork(), work);
  });

  it('splices a new model in where the model string is cut, leaving every other chunk the same memory', () => {
    const [start, end] = readRequestFacts(AWKWARD).scan.fields.get('model')!;
    for (const cut of [start, start + 1, start + 5, end - 1, end, end + 1]) {
      const chunks = cutAt(AWKWARD, [3, cut, AWKWARD.length - 4]);
      const f = readRequestFacts(chunks);
      const out = withModelChunks(chunks, f, 'claude-opus-4-5');
      assert.ok(Buffer.concat(out).equals(withModel(AWKWARD, readRequestFacts(AWKWARD), 'claude-opus-4-5')), `cut at ${cut}`);
      assert.equal(bodyLength(out), AWKWARD.length - (end - start) + '"claude-opus-4-5"'.length);
      const within = (c: Buffer, orig: Buffer) => c.buffer === orig.buffer && c.byteOffset >= orig.byteOffset && c.byteOffset + c.length <= orig.byteOffset + orig.length;
      const model = out.filter((c) => !chunks.some((orig) => within(c, orig)));
      assert.deepEqual(model.map(String), ['"claude-opus-4-5"'], `cut at ${cut}: only the model's bytes are new memory`);
      assert.equal(withModelChunks(chunks, f, 'claude-sonnet-4-5'), chunks, 'an unchanged model: the same chunks');
    }
  });

  it('splice: equals replacing the bytes of the joined body, for random chunkings and ranges (empty ones too)', () => {
    const r = rng(77);
    for (let n = 0; n < 500; n++) {
      const body = Buffer.from(Array.from({ length: r.range(0, 40) }, () => r.range(0x61, 0x7a)));
      const cuts = [...new Set(Array.from({ length: r.int(5) }, () => r.range(0, body.length)))].sort((a, b) => a - b);
      const chunks = cutAt(body, cuts);
      const start = r.range(0, body.length);
      const end = r.range(start, body.length);
      const replacement = Buffer.from('XY'.slice(0, r.int(3)));
      const expected = Buffer.concat([body.subarray(0, start), replacement, body.subarray(end)]);
      assert.ok(Buffer.concat(splice(chunks, start, end, replacement)).equals(expected), `${body} cut ${cuts} [${start}, ${end})`);
    }
  });

  it('withContiguous: the only chunk itself, several chunks as one view of their bytes', () => {
    const one = Buffer.from('abc');
    assert.equal(withContiguous([one], (v) => v), one);
    assert.equal(withContiguous([Buffer.from('ab'), Buffer.from(''), Buffer.from('cde')], (v) => v.toString()), 'abcde');
    // Nested use (a view still in use) gets memory of its own, not the same scratch.
    const inner = withContiguous([Buffer.from('12'), Buffer.from('34')], (outer) => {
      const text = withContiguous([Buffer.from('56'), Buffer.from('78')], (v) => v.toString());
      return `${outer.toString()}${text}`;
    });
    assert.equal(inner, '12345678');
  });

  it('withContiguous: the same chunks read again give their bytes, also after other chunks used the view between', () => {
    const first = [Buffer.from('abc'), Buffer.from('def')];
    const second = [Buffer.from('uv'), Buffer.from('wxyz!')];
    const read = (chunks: Buffer[]) => withContiguous(chunks, (v) => v.toString());
    assert.equal(read(first), 'abcdef');
    assert.equal(read(first), 'abcdef');
    assert.equal(read(second), 'uvwxyz!');
    assert.equal(read(first), 'abcdef');
    // A view that spans more than the scratch held (it grows): the bytes are still the chunks'.
    const large = [Buffer.alloc(300 * 1024, 0x61), Buffer.from('end')];
    assert.equal(withContiguous(large, (v) => v.subarray(v.length - 4).toString()), 'aend');
    assert.equal(read(second), 'uvwxyz!');
  });
});
