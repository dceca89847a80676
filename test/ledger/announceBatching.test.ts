// The gateway's thread gathers its per-request announcements and wakes the ledger's worker
// once per burst: a burst of records is ingested in few transactions, a steady stream is
// still ingested while it lasts, and a lone record reaches the store within the stated
// delay (ANNOUNCE_MAX_DELAY_MS plus one pass; well under a second). Everything is awaited
// through the ledger's 'ingested' events, never by sleeping.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/conduit/core/log';
import { ANNOUNCE_MAX_DELAY_MS, ANNOUNCE_QUIET_MS, WorkerLedger } from '../../src/conduit/ledger/process/workerLedger';
import { makeRecords, writeJournal } from './support/records';

interface Ingested { records: number; inserted: number }

describe('ledger: announcements are batched into few ingestion passes', () => {
  let home: string;
  let ledger: WorkerLedger;
  const batches: Ingested[] = [];
  let waiters: Array<{ rows: number; resolve: () => void }> = [];
  let insertedTotal = 0;

  /** Resolves once `rows` more usage rows than now have been inserted. */
  const rowsInserted = (rows: number) => new Promise<void>((resolve) => waiters.push({ rows: insertedTotal + rows, resolve }));
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  before(async function () {
    this.timeout(120_000);
    home = mkdtempSync(path.join(os.tmpdir(), 'conduit-announce-'));
    ledger = new WorkerLedger({ dataDir: null, journalDir: path.join(home, 'journal'), log: silentLogger });
    ledger.on('ingested', (b: Ingested) => {
      batches.push(b);
      insertedTotal += b.inserted;
      waiters = waiters.filter((w) => (insertedTotal >= w.rows ? (w.resolve(), false) : true));
    });
    await ledger.whenReady();
  });
  after(async () => {
    await ledger?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('a burst of 300 records, announced one by one, is ingested in one or two transactions', async () => {
    const records = makeRecords({ count: 300, idPrefix: 'burst', spanMs: 60_000 });
    const all = rowsInserted(records.length);
    batches.length = 0;
    // As the gateway does: each record is journaled, then announced, across many turns.
    for (let i = 0; i < records.length; i += 10) {
      writeJournal(path.join(home, 'journal'), records.slice(i, i + 10));
      for (const r of records.slice(i, i + 10)) ledger.announce([r.id]);
      await turn();
    }
    await all;
    assert.equal(batches.reduce((n, b) => n + b.inserted, 0), 300, 'every record arrives once');
    assert.ok(batches.length <= 2, `${batches.length} transactions for one burst`);
  });

  it('a steady stream is ingested while it lasts, at most ANNOUNCE_MAX_DELAY_MS apart', async () => {
    const records = makeRecords({ count: 50, idPrefix: 'stream', spanMs: 60_000 });
    const first = rowsInserted(1);
    let firstSeen = false;
    void first.then(() => { firstSeen = true; });
    batches.length = 0;
    // One record every ~25 ms (never quiet for ANNOUNCE_QUIET_MS) for about 1.25 s; the
    // stream paces itself on the event loop's timers, which is also what it waits for.
    const started = Date.now();
    let sentWhenFirstSeen = -1;
    for (let i = 0; i < records.length; i++) {
      writeJournal(path.join(home, 'journal'), [records[i]]);
      ledger.announce([records[i].id]);
      if (firstSeen && sentWhenFirstSeen < 0) sentWhenFirstSeen = i;
      await new Promise<void>((resolve) => setTimeout(resolve, 25));
    }
    const streamMs = Date.now() - started;
    await rowsInserted(records.length - batches.reduce((n, b) => n + b.inserted, 0));
    assert.ok(streamMs > ANNOUNCE_MAX_DELAY_MS + ANNOUNCE_QUIET_MS, `the stream lasted ${streamMs} ms`);
    assert.ok(sentWhenFirstSeen > 0 && sentWhenFirstSeen < records.length, 'the first rows arrived before the stream ended');
    assert.equal(batches.reduce((n, b) => n + b.inserted, 0), 50);
    assert.ok(batches.length >= 2 && batches.length <= 10, `${batches.length} transactions for a 1.25 s stream: ${JSON.stringify(batches)}`);
  });

  it('a lone record reaches the store within a second, awaited by its event', async () => {
    const [record] = makeRecords({ count: 1, idPrefix: 'lone' });
    const arrived = rowsInserted(1);
    writeJournal(path.join(home, 'journal'), [record]);
    const t0 = performance.now();
    ledger.announce([record.id]);
    await arrived;
    const ms = performance.now() - t0;
    assert.ok(ms >= ANNOUNCE_QUIET_MS - 5, `waited for the quiet period (${ms.toFixed(0)} ms)`);
    assert.ok(ms < 1_000, `ingested ${ms.toFixed(0)} ms after its announcement`);
  });
});
