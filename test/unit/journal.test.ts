import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../../src/conduit/usage/journal';
import type { UsageRecord } from '../../src/protocol/usage';

function record(n: number, endedAt: string, padding = 0): UsageRecord {
  return {
    id: `req-${n}`,
    context: { sessionId: 's-1', projectId: 'p-1', agentId: `agent-${n % 3}` },
    decision: { model: 'claude-sonnet-4-5', provider: 'anthropic', source: 'default', rule: 'default model', tokenCount: n * 10, requestedModel: 'claude-sonnet-4-5', timestamp: endedAt },
    usage: { inputTokens: n, outputTokens: 2 * n, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0 },
    cost: { cost: n / 1e6, costSource: 'table:claude-sonnet-4-5', priceVersion: 'v' },
    status: 200,
    stream: true,
    durationMs: n,
    firstByteMs: null,
    startedAt: endedAt,
    endedAt,
    device: 'host',
    // A long error text makes a line larger than one write chunk.
    ...(padding ? { error: `é${'x'.repeat(padding)}\n"quoted"` } : {}),
  };
}

const readLines = (file: string): UsageRecord[] => {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as UsageRecord);
};

describe('Journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'conduit-journal-test-')), 'journal');
  });
  afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('lands concurrent appends as whole, parseable lines, each once', async () => {
    const journal = new Journal(dir);
    const day = '2026-03-01';
    const records = Array.from({ length: 300 }, (_, n) => record(n, `${day}T12:00:${String(n % 60).padStart(2, '0')}.000Z`, n % 10 === 0 ? 100_000 : 0));
    await Promise.all(records.map((r) => journal.append(r)));
    await journal.close();
    const lines = readLines(journal.fileFor(day));
    assert.equal(lines.length, records.length);
    const byId = new Map(lines.map((l) => [l.id, l]));
    assert.equal(byId.size, records.length, 'no line twice');
    for (const r of records) assert.deepEqual(byId.get(r.id), r);
    // Appends queued together are written in the order they came.
    assert.deepEqual(lines.map((l) => l.id), records.map((r) => r.id));
  });

  it('creates its files with mode 0600 and its folder with 0700 (POSIX modes)', async () => {
    const journal = new Journal(dir);
    await journal.append(record(1, '2026-03-01T00:00:00.000Z'));
    await journal.close();
    const file = journal.fileFor('2026-03-01');
    assert.ok(existsSync(file));
    if (process.platform !== 'win32') {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    }
  });

  it('writes each line to the file of its UTC day, within one batch too', async () => {
    const journal = new Journal(dir);
    const before = ['2026-03-01T23:59:59.999Z', '2026-03-01T10:00:00.000Z'];
    const after = ['2026-03-02T00:00:00.000Z', '2026-03-02T08:30:00.000Z'];
    const records = [record(1, before[0]), record(2, after[0]), record(3, before[1]), record(4, after[1])];
    await Promise.all(records.map((r) => journal.append(r)));
    await journal.append(record(5, before[0])); // back to the first day after the second
    await journal.close();
    assert.deepEqual(readdirSync(dir).sort(), ['2026-03-01.ndjson', '2026-03-02.ndjson']);
    assert.deepEqual(readLines(journal.fileFor('2026-03-01')).map((r) => r.id), ['req-1', 'req-3', 'req-5']);
    assert.deepEqual(readLines(journal.fileFor('2026-03-02')).map((r) => r.id), ['req-2', 'req-4']);
  });

  it('close() waits for pending writes', async () => {
    const journal = new Journal(dir);
    const day = '2026-04-01';
    const appended = Array.from({ length: 100 }, (_, n) => journal.append(record(n, `${day}T01:02:03.000Z`, n % 25 === 0 ? 50_000 : 0)));
    await journal.close(); // not awaiting the appends themselves
    assert.equal(readLines(journal.fileFor(day)).length, appended.length);
    await Promise.all(appended);
  });

  it('refuses appends after close, and appends to an existing file', async () => {
    const first = new Journal(dir);
    await first.append(record(1, '2026-05-01T00:00:00.000Z'));
    await first.close();
    await assert.rejects(first.append(record(2, '2026-05-01T00:00:00.000Z')), /closed/);
    const second = new Journal(dir);
    await second.append(record(3, '2026-05-01T00:00:00.000Z'));
    await second.close();
    assert.deepEqual(readLines(second.fileFor('2026-05-01')).map((r) => r.id), ['req-1', 'req-3']);
  });

  it('close() with nothing written creates no file', async () => {
    const journal = new Journal(dir);
    await journal.close();
    assert.ok(existsSync(dir));
    assert.deepEqual(readdirSync(dir), []);
  });
});
