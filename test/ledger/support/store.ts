// One in-memory PGlite per test file (a new instance costs seconds), migrated once, and
// emptied between tests; engines on it are opened per test with their own journal folder.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { silentLogger, type Logger } from '../../../src/conduit/core/log';
import { LedgerEngine, type LedgerEngineOptions } from '../../../src/conduit/ledger/store/engine';

export interface TestStore {
  pglite: PGlite;
  /** A new engine on the shared instance with a fresh journal folder. */
  engine(options?: Partial<Omit<LedgerEngineOptions, 'pglite' | 'dataDir'>>): Promise<{ engine: LedgerEngine; journalDir: string }>;
  /** Empties every table the ledger writes (and the local state), keeping the local user. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function openTestStore(log: Logger = silentLogger): Promise<TestStore> {
  const pglite = await PGlite.create();
  // Migrations, the local schema and the local user, once.
  await (await LedgerEngine.open({ dataDir: null, journalDir: path.join(os.tmpdir(), 'conduit-no-journal'), log, pglite })).close({ finalIngestMs: 0 });
  const dirs: string[] = [];
  const engines: LedgerEngine[] = [];
  return {
    pglite,
    async engine(options = {}) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'conduit-ledger-test-'));
      dirs.push(dir);
      const journalDir = options.journalDir ?? path.join(dir, 'journal');
      const engine = await LedgerEngine.open({ log, ...options, journalDir, dataDir: null, pglite });
      engines.push(engine);
      return { engine, journalDir };
    },
    async reset() {
      for (const e of engines.splice(0)) await e.close({ finalIngestMs: 0 });
      await pglite.exec(`
        truncate public.usage_tracking, public.routing_decisions, public.agents, public.projects cascade;
        truncate conduit_local.journal_checkpoint, conduit_local.ingest_rejects, conduit_local.sync_log, conduit_local.sync_cursor;
      `);
    },
    async close() {
      for (const e of engines.splice(0)) await e.close({ finalIngestMs: 0 });
      await pglite.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
