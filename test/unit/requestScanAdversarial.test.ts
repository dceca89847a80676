import assert from 'node:assert/strict';
import { readRequestFacts } from '../../src/conduit/routing/requestFacts';
import { lastScanWork, scanRequestBody } from '../../src/conduit/routing/requestScan';
import { ADVERSARIAL_SHAPES } from '../support/adversarialBodies';
import { rng, type Rng } from './prng';

// The request scan on the shapes that find its worst case (test/support/adversarialBodies.ts,
// which bench/gateway.mjs sends too). Its work is counted in bytes examined, not timed.

const SIZE = 128 * 1024;

function workOf(body: Buffer): number {
  scanRequestBody(body);
  return lastScanWork();
}

/** What the person last typed, read from JSON.parse's object: the oracle for lastUserText. */
function latestPromptByParse(parsed: { messages: { role: string; content: unknown }[] }): string {
  for (const message of [...parsed.messages].reverse()) {
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (!Array.isArray(message.content)) continue;
    const text = (message.content as { type?: string; text?: unknown }[])
      .filter((b) => b?.type === 'text' && typeof b.text === 'string' && !b.text.startsWith('<system-reminder>'))
      .map((b) => b.text)
      .join('\n');
    if (text) return text;
  }
  return '';
}

/** A random conversation: prompts, tool turns, reminders, images, odd blocks and roles. */
function randomMessages(r: Rng): unknown[] {
  const text = (): string => r.pick(['ultrathink', 'fix the "bug"\n\tplease', '<system-reminder>ctx</system-reminder>', '', 'é😀\u0000', 'x'.repeat(300)]);
  const block = (): unknown => r.pick([
    () => ({ type: 'text', text: text() }),
    () => ({ text: text(), type: 'text', cache_control: { type: 'ephemeral' } }),
    () => ({ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: text() }] }),
    () => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }),
    () => ({ type: 'text', text: 42 }),
    () => ({ type: 'text' }),
    () => null,
    () => 'text',
  ])();
  return Array.from({ length: r.int(6) }, () => ({
    role: r.pick(['user', 'user', 'assistant', 'system', 7]),
    ...(r.chance(0.9) ? { content: r.chance(0.3) ? text() : r.chance(0.1) ? null : Array.from({ length: r.int(4) }, block) } : {}),
  }));
}

describe('request scan on adversarial bodies', () => {
  it('reads the same last user text as JSON.parse, over 2,000 random conversations, some pretty-printed', () => {
    const seed = 0x5ca1ab1e;
    const r = rng(seed);
    for (let n = 0; n < 2000; n++) {
      const request = { model: 'claude-sonnet-4-5', max_tokens: 1, messages: randomMessages(r) };
      const body = Buffer.from(JSON.stringify(request, null, r.chance(0.2) ? 2 : undefined));
      const expected = latestPromptByParse(request as Parameters<typeof latestPromptByParse>[0]);
      assert.equal(readRequestFacts(body).lastUserText(), expected, `seed ${seed}, conversation ${n}: ${body.toString()}`);
    }
  });


  for (const shape of ADVERSARIAL_SHAPES) {
    describe(shape.name, () => {
      it('does linear work: twice the body, at most 2.2 times the bytes examined, and at most 4 per byte', () => {
        const small = shape.build(SIZE);
        const large = shape.build(2 * SIZE);
        const [workSmall, workLarge] = [workOf(small), workOf(large)];
        assert.ok(large.length >= 1.9 * small.length, `sizes ${small.length}, ${large.length}`);
        const growth = workLarge / workSmall / (large.length / small.length);
        assert.ok(growth <= 2.2 / 2, `work ${workSmall} → ${workLarge} for ${small.length} → ${large.length} bytes`);
        assert.ok(workLarge <= 4 * large.length, `${workLarge} bytes examined for a body of ${large.length}`);
      });

      it('agrees with JSON.parse: every field, every message, the model and the last user text', () => {
        const body = shape.build(SIZE);
        const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown> & { messages: { role: string; content: unknown }[] };
        const scanned = scanRequestBody(body);
        assert.deepEqual([...scanned.fields.keys()].sort(), Object.keys(parsed).sort());
        for (const [key, [start, end]] of scanned.fields) {
          assert.deepEqual(JSON.parse(body.toString('utf8', start, end)), parsed[key], `field ${key}`);
        }
        assert.equal(scanned.messages.length, parsed.messages.length);
        for (let k = 0; k < parsed.messages.length; k++) {
          const [start, end] = scanned.messages.at(k);
          assert.deepEqual(JSON.parse(body.toString('utf8', start, end)), parsed.messages[k], `message ${k}`);
        }
        const facts = readRequestFacts(body);
        assert.equal(facts.requestedModel, parsed.model);
        assert.equal(facts.stream, parsed.stream === true);
        assert.equal(facts.lastUserText(), latestPromptByParse(parsed));
      });

      it('estimates the same tokens as for the same request written canonically by JSON.stringify', () => {
        // The estimate reads the strings' characters, however the body spells them (a
        // pair of \u escapes or four UTF-8 bytes); long strings are sampled, hence 5 %.
        const body = shape.build(SIZE);
        const canonical = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
        const [tokens, expected] = [scanRequestBody(body).tokenEstimate, scanRequestBody(canonical).tokenEstimate];
        assert.ok(Math.abs(tokens - expected) <= 0.05 * expected, `${tokens} tokens, ${expected} written canonically`);
      });
    });
  }
});
