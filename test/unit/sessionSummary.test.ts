// conduit-claude's session line (src/conduit/wrapper/sessionSummary.ts): claude's result line
// found in its stdout however it is cut into chunks, and the session's totals from its records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ClaudeResultWatcher, SessionReport } from '../../src/conduit/wrapper/sessionSummary';
import type { UsageRecord } from '../../src/protocol/usage';

const FIXTURE = readFileSync(path.join(__dirname, '../fixtures/claude-code-stream-json.ndjson'));

function watch(chunks: Buffer[], end = true): ClaudeResultWatcher {
  const w = new ClaudeResultWatcher();
  for (const c of chunks) w.push(c);
  if (end) w.end();
  return w;
}

function cut(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

function record(id: string, cost: number | null, claudeSessionId?: string): UsageRecord {
  return {
    id, context: { sessionId: 'conduit-1', ...(claudeSessionId ? { claudeSessionId } : {}) },
    decision: { model: 'claude-haiku-4-5', requestedModel: 'claude-opus-5-5', source: 'default', rule: 'default model', tokenCount: 10, timestamp: '2026-12-03T10:00:00.000Z', provider: 'anthropic' },
    usage: null, cost: { cost, costSource: 'table', priceVersion: null }, status: 200, stream: true, durationMs: 1, firstByteMs: 1,
    startedAt: '2026-12-03T10:00:00.000Z', endedAt: '2026-12-03T10:00:01.000Z', device: 'd',
  } as UsageRecord;
}

describe('conduit-claude session line', () => {
  it("finds claude's result line in the real fixture, whatever the chunks (1 byte to all at once)", () => {
    for (const size of [1, 7, 16, 17, 100, FIXTURE.length]) {
      assert.deepEqual(watch(cut(FIXTURE, size)).result, { totalCostUsd: 0.000465, sessionId: 'c120386e-56b1-4b31-b81e-93ceaad00c01' }, `chunks of ${size}`);
    }
  });

  it('whatever the order of its keys (claude 2.1 writes "type" late), and without a final newline', () => {
    const line = Buffer.from('{"duration_ms":5,"session_id":"s-1","total_cost_usd":0.5,"type":"result","subtype":"success"}');
    assert.deepEqual(watch([line]).result, { totalCostUsd: 0.5, sessionId: 's-1' });
    assert.equal(watch([line], false).result, null, 'an unended line is read only at the end');
  });

  it('not from a line that only mentions a result: in a string, nested, or not JSON', () => {
    const lines = [
      '{"type":"assistant","message":{"content":[{"type":"text","text":"{\\"type\\":\\"result\\",\\"total_cost_usd\\":9}"}]}}',
      '{"type":"user","x":{"type":"result","total_cost_usd":9}}',
      '"type":"result" total_cost_usd 9',
    ].join('\n');
    assert.equal(watch([Buffer.from(`${lines}\n`)]).result, null);
  });

  it('a cost that is not a finite number is no cost', () => {
    assert.deepEqual(watch([Buffer.from('{"type":"result","total_cost_usd":"lots","session_id":7}\n')]).result, { totalCostUsd: null, sessionId: null });
  });

  it("the line: claude's session id, Conduit's sum of the records, each record once, and claude's estimate", () => {
    const report = new SessionReport('conduit-1');
    assert.equal(report.add(record('r1', 0.0012, 'claude-9')), true);
    assert.equal(report.add(record('r2', 0.0003, 'claude-9')), true);
    assert.equal(report.add(record('r2', 0.0003, 'claude-9')), false, 'the final flush repeats a record');
    assert.equal(report.add(record('r3', null, 'claude-9')), true);
    assert.deepEqual(report.line({ totalCostUsd: 0.0189, sessionId: 'claude-9' }), {
      type: 'conduit_session',
      data: {
        sessionId: 'claude-9', conduitSessionId: 'conduit-1', requests: 3, cost: 0.0015, unknownCostRequests: 1,
        models: [{ requestedModel: 'claude-opus-5-5', model: 'claude-haiku-4-5', requests: 3 }], claudeEstimateUsd: 0.0189,
      },
    });
  });

  it("Conduit's id where claude sent none; claude's from its result line when no request was recorded", () => {
    const none = new SessionReport('conduit-1');
    none.add(record('r1', 0.001));
    assert.equal(none.line(null).data.sessionId, 'conduit-1');
    assert.equal(none.line(null).data.claudeEstimateUsd, null);
    assert.equal(new SessionReport('conduit-2').line({ totalCostUsd: 0.1, sessionId: 'claude-7' }).data.sessionId, 'claude-7');
  });
});
