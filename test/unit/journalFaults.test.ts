// The journal on a disk that refuses writes (a 1 MB tmpfs filled up, or remounted
// read-only), after a run that died mid-write and after its folder was removed: no record
// is lost while memory allows, no torn line stays in the file, and every whole line before
// a tear is kept.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../../src/conduit/usage/journal';
import { readJournalChunk } from '../../src/conduit/ledger/store/journalReader';
import type { JournalHealth, UsageRecord } from '../../src/protocol/usage';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs';

const DAY = '2026-06-01';

function record(n: number, padding = 0): UsageRecord {
  const endedAt = `${DAY}T10:00:${String(n % 60).padStart(2, '0')}.000Z`;
  return {
    id: `req-${n}`,
    context: { sessionId: 's-1', projectId: 'p-1' },
    decision: { model: 'claude-sonnet-4-5', provider: 'anthropic', source: 'default', rule: 'default model', tokenCount: 10, requestedModel: 'claude-sonnet-4-5', timestamp: endedAt },
    usage: { inputTokens: n, outputTokens: n, cacheCreationTokens: 0, cacheCreation5mTokens: 0, cacheCreation1hTokens: 0, cacheReadTokens: 0 },
    cost: { cost: n / 1e6, costSource: 'table:test', priceVersion: 'v' },
    status: 200,
    stream: false,
    durationMs: 1,
    firstByteMs: null,
    startedAt: endedAt,
    endedAt,
    device: 'host',
    ...(padding ? { error: 'x'.repeat(padding) } : {}),
  };
}

/** Every line of the file parsed; fails on a line that is not whole JSON. */
function idsIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text.slice(0, -1).split('\n').map((line, i) => {
    try {
      return (JSON.parse(line) as UsageRecord).id;
    } catch {
      assert.fail(`line ${i + 1} is not a whole record: ${JSON.stringify(line.slice(0, 80))}…`);
    }
  });
}

const settled = (p: Promise<unknown>) => p.then(() => 'written', (err: Error) => `rejected: ${err.message}`);

describe('Journal on a failing disk', () => {
  let root: string;
  let disk: Tmpfs;
  let journal: Journal | null = null;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'conduit-journal-faults-'));
    disk = mountTmpfs(path.join(root, 'journal'));
  });
  afterEach(async () => {
    await journal?.close().catch(() => undefined);
    journal = null;
    disk.unmount();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps a record a full disk refuses, leaves no torn line, and writes it whole and in order on the next append once there is room', async () => {
    journal = new Journal(disk.dir);
    await journal.append(record(1));
    const file = journal.fileFor(DAY);
    const before = readFileSync(file);
    disk.fill();
    // Larger than the room left in the file's last page: the write starts, then the disk is full.
    const refused = journal.append(record(2, 10_000));
    assert.deepEqual(readFileSync(file), before, 'the part written before the disk was full is cut back out');
    const health = journal.health();
    assert.equal(health.state, 'degraded');
    assert.match(health.error ?? '', /ENOSPC/);
    assert.equal(health.pending, 1);

    disk.free();
    const next = journal.append(record(3));
    assert.deepEqual(await Promise.all([settled(refused), settled(next)]), ['written', 'written']);
    assert.deepEqual(journal.health(), { state: 'ok', error: null, pending: 0, lost: 0 } satisfies JournalHealth);
    assert.deepEqual(idsIn(file), ['req-1', 'req-2', 'req-3']);
  });

  it('writes what waits on its own (retry timer) once the disk has room, and says so', async () => {
    journal = new Journal(disk.dir, { retryMs: 20 });
    disk.fill();
    const refused = journal.append(record(1));
    assert.equal(journal.health().state, 'degraded');
    const recovered = once(journal, 'state');
    disk.free();
    const [state] = await recovered as [JournalHealth];
    assert.deepEqual(state, { state: 'ok', error: null, pending: 0, lost: 0 });
    assert.equal(await settled(refused), 'written');
    assert.deepEqual(idsIn(journal.fileFor(DAY)), ['req-1']);
  });

  it('keeps records while the file system is read-only and writes them once it is writable', async () => {
    journal = new Journal(disk.dir);
    disk.readOnly(true);
    const first = journal.append(record(1));
    const second = journal.append(record(2));
    const health = journal.health();
    assert.equal(health.state, 'degraded');
    assert.match(health.error ?? '', /^EROFS: read-only file system, open$/);
    assert.equal(health.pending, 2);
    disk.readOnly(false);
    const third = journal.append(record(3));
    assert.deepEqual(await Promise.all([first, second, third].map(settled)), ['written', 'written', 'written']);
    assert.deepEqual(idsIn(journal.fileFor(DAY)), ['req-1', 'req-2', 'req-3']);
  });

  it('bounds what it keeps: a record beyond the bound is refused and counted as lost, and so are those still unwritten at close', async () => {
    const lineBytes = Buffer.byteLength(`${JSON.stringify(record(1))}\n`);
    journal = new Journal(disk.dir, { maxPendingBytes: 3 * lineBytes });
    disk.fill();
    const kept = [1, 2, 3].map((n) => journal!.append(record(n)));
    assert.match(await settled(journal.append(record(4))), /rejected: record lost: 3 record\(s\) already wait/);
    assert.deepEqual(journal.health(), { state: 'degraded', error: journal.health().error, pending: 3, lost: 1 });
    await journal.close();
    for (const p of kept) assert.match(await settled(p), /rejected: the journal closed with 3 record\(s\) the disk refused \(ENOSPC/);
    assert.equal(journal.health().lost, 4);
  });
});

describe('Journal after a run that died mid-write, or a clean-up', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'conduit-journal-torn-')), 'journal');
  });
  afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('makes its folder again when it was removed while running', async () => {
    const journal = new Journal(dir);
    rmSync(dir, { recursive: true });
    await journal.append(record(1));
    await journal.close();
    assert.deepEqual(idsIn(journal.fileFor(DAY)), ['req-1']);
  });

  it('ends the torn last line at start, keeping every whole line before it, so the next line parses', async () => {
    const first = new Journal(dir);
    await first.append(record(1));
    await first.append(record(2));
    await first.close();
    const file = first.fileFor(DAY);
    appendFileSync(file, `${JSON.stringify(record(9))}\n`.slice(0, 120)); // the run died here

    const journal = new Journal(dir);
    assert.ok(readFileSync(file, 'utf8').endsWith('\n'), 'ended at start, before any append');
    await journal.append(record(3));
    await journal.close();
    const lines = readFileSync(file, 'utf8').slice(0, -1).split('\n');
    assert.equal(lines.length, 4);
    assert.deepEqual([lines[0], lines[1], lines[3]].map((l) => (JSON.parse(l) as UsageRecord).id), ['req-1', 'req-2', 'req-3']);

    // The reader stores the three records and sets the fragment aside, naming its request.
    const chunk = await readJournalChunk(file, 0);
    assert.deepEqual(chunk.lines.filter((l) => l.record).map((l) => l.record!.requestId), ['req-1', 'req-2', 'req-3']);
    const rejects = chunk.lines.filter((l) => l.reject);
    assert.equal(rejects.length, 1);
    assert.equal(rejects[0].reject!.requestId, 'req-9');
  });
});
