import assert from 'node:assert/strict';
import { readRequestFacts } from '../../src/conduit/routing/requestFacts';
import { lastScanWork, scanRequestBody } from '../../src/conduit/routing/requestScan';
import { ADVERSARIAL_SHAPES } from '../support/adversarialBodies';

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
      .filter((b) => b.type === 'text' && typeof b.text === 'string' && !b.text.startsWith('<system-reminder>'))
      .map((b) => b.text)
      .join('\n');
    if (text) return text;
  }
  return '';
}

describe('request scan on adversarial bodies', () => {
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
