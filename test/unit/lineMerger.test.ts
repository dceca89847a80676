import assert from 'node:assert/strict';
import { LineMerger } from '../../src/conduit/wrapper/lineMerger';
import { rng, type Rng } from './prng';

/** A merger whose output is collected as bytes. */
function collect(): { merger: LineMerger; output: () => Buffer } {
  const parts: Buffer[] = [];
  const merger = new LineMerger((t) => parts.push(typeof t === 'string' ? Buffer.from(t) : Buffer.from(t)));
  return { merger, output: () => Buffer.concat(parts) };
}

/** A line of claude's stream-json output: JSON with escapes and multi-byte characters, never a raw newline. */
function childLine(r: Rng, n: number): string {
  const words = ['hello', 'wörld', '世界', '😀', 'a "quote"', 'back\\slash', 'line\nbreak', '', ' '];
  const text = Array.from({ length: r.int(40) }, () => r.pick(words)).join(' ');
  return JSON.stringify({ type: r.pick(['assistant', 'user', 'system', 'result']), n, message: { content: [{ type: 'text', text }] } });
}

const extraLine = (k: number): string => JSON.stringify({ type: 'conduit_metadata', data: { requestId: `extra-${k}` } });
const isExtra = (line: string): boolean => line.startsWith('{"type":"conduit_metadata"');

describe('LineMerger', () => {
  it('never puts an extra line inside a child line: random chunking and interleaving', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const lines = Array.from({ length: r.range(0, 25) }, (_, n) => childLine(r, n));
      const terminated = r.chance(0.7);
      const child = Buffer.from(lines.join('\n') + (terminated && lines.length ? '\n' : ''));
      // Where each child line starts and ends (after its newline).
      const lineStarts: number[] = [];
      const lineEnds: number[] = [];
      for (let at = 0, n = 0; n < lines.length; n++) {
        lineStarts.push(at);
        at += Buffer.byteLength(lines[n]) + 1;
        lineEnds.push(at);
      }
      const begun = (fed: number) => lineStarts.filter((s) => s < fed).length;
      const done = (fed: number) => lineEnds.filter((e) => e <= fed).length;

      const { merger, output } = collect();
      // Where each extra must land: after the child lines done when it is pushed, or, if a
      // line is unfinished then, after the lines done by the end of the next chunk that ends one.
      const extras: { line: string; linesBefore: number | null }[] = [];
      let fed = 0;
      const pushExtra = () => {
        const line = extraLine(extras.length);
        extras.push({ line, linesBefore: begun(fed) > done(fed) ? null : done(fed) });
        merger.pushExtra(line);
      };
      while (fed < child.length) {
        while (r.chance(0.3)) pushExtra();
        const size = r.chance(0.1) ? 0 : r.range(1, 120);
        const chunk = child.subarray(fed, fed + size);
        merger.pushChild(chunk);
        fed = Math.min(child.length, fed + size);
        if (chunk.includes(0x0a)) for (const e of extras) e.linesBefore ??= done(fed);
      }
      const afterChild = r.int(3);
      for (let k = 0; k < afterChild; k++) pushExtra();
      merger.end();
      for (const e of extras) e.linesBefore ??= lines.length;

      const out = output().toString('utf8');
      const label = `seed ${seed}`;
      const endsWithExtra = extras.length > 0 && begun(child.length) > done(child.length) && extras[extras.length - 1].linesBefore === lines.length;
      if (terminated || endsWithExtra || lines.length === 0) {
        assert.ok(out === '' || out.endsWith('\n'), `${label}: whole lines`);
      } else {
        // An unterminated last line with nothing after it is left exactly as it was.
        assert.ok(out.endsWith(lines[lines.length - 1]), `${label}: the unterminated last line`);
      }
      const outLines = out === '' ? [] : out.replace(/\n$/, '').split('\n');
      assert.deepEqual(outLines.filter((l) => !isExtra(l)), lines, `${label}: the child's lines, whole and in order`);
      assert.deepEqual(outLines.filter(isExtra), extras.map((e) => e.line), `${label}: every extra line, in order`);
      // Each extra sits right after the child lines that had begun when it was pushed.
      let childSeen = 0;
      let extra = 0;
      for (const l of outLines) {
        if (!isExtra(l)) childSeen++;
        else assert.equal(childSeen, extras[extra++].linesBefore, `${label}: position of extra ${extra - 1}`);
      }
      // Nothing but the one newline that ends an unterminated last line is ever added.
      const added = Buffer.byteLength(out) - child.length - extras.reduce((a, e) => a + Buffer.byteLength(e.line) + 1, 0);
      assert.equal(added, !terminated && endsWithExtra && lines.length > 0 ? 1 : 0, `${label}: bytes added`);
    }
  });

  it('passes the child\'s bytes through as they come, split characters included', () => {
    const { merger, output } = collect();
    const line = Buffer.from('{"text":"世界"}\n');
    for (let k = 0; k < line.length; k++) merger.pushChild(line.subarray(k, k + 1));
    assert.ok(output().equals(line));
  });

  it('holds an extra line while the child is mid-line and writes it when the line ends', () => {
    const { merger, output } = collect();
    merger.pushChild(Buffer.from('{"a":1}\n{"b":'));
    merger.pushExtra('X');
    assert.equal(output().toString(), '{"a":1}\n{"b":', 'not yet');
    merger.pushChild(Buffer.from('2}\n{"c"'));
    assert.equal(output().toString(), '{"a":1}\n{"b":2}\nX\n{"c"');
    merger.pushChild(Buffer.from(':3}\n'));
    merger.pushExtra('Y');
    assert.equal(output().toString(), '{"a":1}\n{"b":2}\nX\n{"c":3}\nY\n');
  });

  it('at the end, terminates an unfinished last line only when extra lines wait', () => {
    const a = collect();
    a.merger.pushChild(Buffer.from('{"a":1}\n{"last":true}'));
    a.merger.end();
    assert.equal(a.output().toString(), '{"a":1}\n{"last":true}');

    const b = collect();
    b.merger.pushChild(Buffer.from('{"a":1}\n{"last":true}'));
    b.merger.pushExtra('X');
    b.merger.pushExtra('Y');
    b.merger.end();
    assert.equal(b.output().toString(), '{"a":1}\n{"last":true}\nX\nY\n');

    const c = collect();
    c.merger.pushExtra('X');
    c.merger.end();
    assert.equal(c.output().toString(), 'X\n', 'no child output at all');
  });
});
