// The ledger's worker thread: owns the embedded store (PGlite) for the gateway process.
// Opening a new store takes seconds and every query runs on this thread, so the gateway's
// thread only forwards requests and never waits on the store.
import { access, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../core/log';
import { LedgerEngine } from './engine';
import type { ModelSettingsSnapshot } from './modelSettings';
import type { FromLedgerWorker, LedgerWorkerData, ToLedgerWorker } from './workerProtocol';
import { ReportCursors } from './reports';
import type { UnrecordedUsage } from '../../protocol/usage';

const port = parentPort!;
const data = workerData as LedgerWorkerData;
const post = (m: FromLedgerWorker) => port.postMessage(m);
const log: Logger = {
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

/**
 * On Linux a thread has its own nice value: this one (PGlite's queries and ingestion) yields
 * the cores to the gateway's thread when both want them, and runs as usual when they are
 * idle. Elsewhere the priority is per process and left alone.
 */
function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  // Threads inherit the nice value of the thread that creates them: start the process's
  // shared I/O thread pool first (it is created on first use), so it keeps the usual one.
  access(__filename, () => undefined);
  try {
    const tid = Number(path.basename(readlinkSync('/proc/thread-self')));
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) os.setPriority(tid, Math.max(os.getPriority(tid), 10));
  } catch { /* not allowed or not available: run at the usual priority */ }
}
lowerThreadPriority();

let engine: LedgerEngine | null = null;
let closing = false;
/** Finished usage reports, read page by page by the gateway's thread. */
const reports = new ReportCursors();

async function close(): Promise<void> {
  closing = true;
  reports.closeAll();
  const e = engine;
  engine = null;
  try {
    await e?.close();
  } catch (err) {
    log.error(`ledger: closing the store failed: ${(err as Error).message}`);
  }
  post({ type: 'closed' });
  port.close();
}

async function handle(m: ToLedgerWorker): Promise<void> {
  if (m.type === 'close') return close();
  if (m.type === 'announce') {
    engine?.ingester.announce(m.ids);
    return;
  }
  if (m.type === 'reportClose') {
    reports.close(m.cursor);
    return;
  }
  const reply = (value: unknown) => post({ type: 'reply', id: m.id, ok: true, value });
  try {
    if (!engine) throw new Error('the usage store is not open');
    switch (m.type) {
      case 'analytics':
        return reply(await engine.analytics(m.query, m.params, new Date(m.now)));
      case 'setSession':
        return reply(await engine.setSyncSession(m.session));
      case 'clearSession':
        return reply(await engine.clearSyncSession());
      case 'syncStatus':
        return reply(await engine.syncStatus());
      case 'projects':
        return reply(await engine.projects(m.op));
      case 'budgets':
        return reply(await engine.budgets(m.op));
      case 'links':
        return reply(await engine.workspaceLinks(m.op));
      case 'report':
        return reply(reports.add(await engine.report(m.params, new Date(m.now))));
      case 'reportPage':
        return reply(reports.page(m.cursor, m.offset, m.limit));
    }
  } catch (err) {
    const e = err as Error;
    const kind = (e as { kind?: unknown })?.kind;
    post({ type: 'reply', id: m.id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(typeof kind === 'string' ? { kind } : {}) } });
  }
}

port.on('message', (m: ToLedgerWorker) => {
  handle(m).catch((err) => log.error(`ledger: ${(err as Error).stack ?? String(err)}`));
});

// The gateway's thread gathers announcements into one message per burst (workerLedger.ts):
// ingest it at once, without the ingester's own wait.
LedgerEngine.open({ dataDir: data.dataDir, journalDir: data.journalDir, log, ingest: { debounceMs: 0 }, ...(data.migrationsDir ? { migrationsDir: data.migrationsDir } : {}) }).then(
  async (opened) => {
    if (closing) {
      await opened.close({ finalIngestMs: 0 }).catch(() => undefined);
      return;
    }
    let settings: ModelSettingsSnapshot = { version: 0, projects: [] };
    try {
      settings = await opened.modelSettings();
    } catch (err) {
      log.warn(`ledger: the saved model settings could not be read (requests are routed by their sessions' settings): ${(err as Error).message}`);
    }
    if (closing) {
      await opened.close({ finalIngestMs: 0 }).catch(() => undefined);
      return;
    }
    engine = opened;
    engine.ingester.on('batch', (b: { records: number; inserted: number }) => post({ type: 'ingested', records: b.records, inserted: b.inserted }));
    engine.ingester.on('unrecorded', (unrecorded: UnrecordedUsage) => post({ type: 'unrecorded', unrecorded }));
    engine.start();
    post({ type: 'ready', openMs: opened.openMs, settings });
  },
  (err: Error) => {
    post({ type: 'failed', error: err?.message ?? String(err) });
  },
);
