// The ledger's worker thread: owns the embedded store (PGlite) for the gateway process.
// Opening a new store takes seconds and every query runs on this thread, so the gateway's
// thread only forwards requests and never waits on the store.
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../core/log';
import { LedgerEngine } from './engine';
import type { ModelSettingsSnapshot } from './modelSettings';
import type { FromLedgerWorker, LedgerWorkerData, ToLedgerWorker } from './workerProtocol';
import { ReportCursors } from './reports';

const port = parentPort!;
const data = workerData as LedgerWorkerData;
const post = (m: FromLedgerWorker) => port.postMessage(m);
const log: Logger = {
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

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

LedgerEngine.open({ dataDir: data.dataDir, journalDir: data.journalDir, log, ...(data.migrationsDir ? { migrationsDir: data.migrationsDir } : {}) }).then(
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
    engine.start();
    post({ type: 'ready', openMs: opened.openMs, settings });
  },
  (err: Error) => {
    post({ type: 'failed', error: err?.message ?? String(err) });
  },
);
