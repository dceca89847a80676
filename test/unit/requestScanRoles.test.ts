import assert from 'node:assert/strict';
import { readRequestFacts } from '../../src/conduit/routing/requestFacts';
import { lastScanWork, scanRequestBody } from '../../src/conduit/routing/requestScan';

// The request scan notes where each message's role lies, so that the latest prompt is
// looked for without outlining the messages of other roles (an assistant's message may
// hold megabytes of nested tool inputs).

const body = (messages: string): Buffer => Buffer.from(`{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[${messages}]}`);

function rolesOf(b: Buffer): (string | null)[] {
  const { roles } = scanRequestBody(b);
  return Array.from({ length: roles.length }, (_, k) => {
    const [start, end] = roles.at(k);
    return start < 0 ? null : b.toString('utf8', start, end);
  });
}

describe('request scan: the role of each message', () => {
  it('finds each message\'s role value, wherever the key is, and none for other elements', () => {
    const b = body('{"role":"user","content":"a"}, {"content":"b", "role" : "assistant"}, 7, {"content":"c"}, ["role"], {"role":null}');
    assert.deepEqual(rolesOf(b), ['"user"', '"assistant"', null, null, null, 'null']);
  });

  it('keeps the last role of a message, as JSON.parse does, and none when the last is not a string or literal', () => {
    const b = body('{"role":"assistant","content":"a","role":"user"}, {"role":"user","role":{"x":1}}, {"role":"user","role":[]}');
    assert.deepEqual(rolesOf(b), ['"user"', null, null]);
  });

  it('notes no role of nested objects, nor of another array than messages', () => {
    const b = Buffer.from('{"model":"m","system":[{"role":"user"}],"messages":[{"content":[{"role":"user"}],"x":{"role":"user"}}]}');
    assert.deepEqual(rolesOf(b), [null]);
  });

  it('starts again with a repeated messages key, as JSON.parse keeps the last', () => {
    const b = Buffer.from('{"model":"m","messages":[{"role":"assistant"},{"role":"assistant"}],"messages":[{"role":"user","content":"q"}]}');
    assert.deepEqual(rolesOf(b), ['"user"']);
    assert.equal(readRequestFacts(b).lastUserText(), 'q');
  });

  it('reads the latest prompt past an assistant message without outlining it', () => {
    const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { a: [nested(levels - 1)] });
    const toolUse = JSON.stringify({ type: 'tool_use', id: 'toolu_01', name: 'Deep', input: nested(100) });
    const assistant = `{"role":"assistant","content":[${Array.from({ length: 50 }, () => toolUse).join(',')}]}`;
    const facts = readRequestFacts(body(assistant));
    const tiny = body('{"role":"user","content":"q"}');
    scanRequestBody(tiny); // the work counted is this small scan's...
    assert.equal(facts.lastUserText(), '');
    // ...and stays so: the assistant's 50 tool inputs were not outlined (that counts their bytes).
    assert.ok(lastScanWork() <= 2 * tiny.length, `${lastScanWork()} bytes examined`);
    assert.equal(readRequestFacts(body(`{"role":"user","content":"ultrathink"},${assistant}`)).lastUserText(), 'ultrathink');
  });

  it('keeps the roles of the last 1,024 messages; older ones are outlined when the prompt is that far back', () => {
    const assistants = Array.from({ length: 1500 }, (_, k) => `{"role":"assistant","content":"${k}"}`).join(',');
    const b = body(`{"role":"user","content":"first"},${assistants}`);
    const roles = rolesOf(b);
    assert.equal(roles.length, 1501);
    assert.deepEqual(roles.slice(0, 477), Array(477).fill(null));
    assert.deepEqual(roles.slice(477), Array(1024).fill('"assistant"'));
    assert.equal(readRequestFacts(b).lastUserText(), 'first');
  });

  it('still reads a message whose role the scan could not note, and an escaped role', () => {
    assert.equal(readRequestFacts(body('{"role":"us\\u0065r","content":"escaped"},{"role":"assistant","content":"a"}')).lastUserText(), 'escaped');
    assert.equal(readRequestFacts(body('{"role":"assistant","content":"a","role":"user"}')).lastUserText(), 'a');
    assert.equal(readRequestFacts(body('{"role":"user","content":"b","role":{"x":1}}')).lastUserText(), '');
  });
});
