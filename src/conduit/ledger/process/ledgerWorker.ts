// The ledger's process: owns the embedded store (PGlite) for the gateway, which forks it
// (workerLedger.ts) and talks to it over the IPC channel. Opening a store and every query
// run here, so the gateway's thread never waits on the store; and a process, not a
// thread, because the memory of PGlite's WebAssembly heap is given back to the system only
// when its process ends (a terminated worker thread left the gateway at ~240 MB), and a
// crash here cannot take the gateway down.
//
//   node ledger-worker.js '<LedgerWorkerData as JSON>'      (forked by the gateway)
//   node ledger-worker.js --make-snapshot <folder>          (the build: storeSnapshot.ts)
import type { Logger } from '../../core/log';
import { LedgerEngine } from '../store/engine';
import type { ModelSettingsSnapshot } from '../store/modelSettings';
import { isToLedgerWorker, STORE_OPS, type FromLedgerWorker, type LedgerWorkerData, type LedgerWorkerProtocol, type StoreOp, type ToLedgerWorker } from './workerProtocol';
import { channelServer, type ChannelHandlers, type ResponseEnvelope } from '../../../protocol/channel';
import { ReportCursors } from '../store/reports';
import { defaultMigrationsDir } from '../store/migrations';
import { writeStoreSnapshot } from '../store/storeSnapshot';
import type { UnrecordedUsage } from '../../../protocol/usage';

const post = (m: FromLedgerWorker | ResponseEnvelope) => {
  if (process.connected) process.send!(m, undefined, {}, () => undefined); // a gateway gone: nobody to tell
};
const log: Logger = {
  debug: (message) => post({ type: 'log', level: 'debug', message }),
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
  error: (message) => post({ type: 'log', level: 'error', message }),
};

/** The longest a (re)open waits for the journal's new records before it says ready. */
const CATCH_UP_BEFORE_READY_MS = 1_000;

let engine: LedgerEngine | null = null;
let closing: Promise<void> | null = null;
/** Finished usage reports, read page by page by the gateway. */
const reports = new ReportCursors();

/** Ingests what the journal holds (bounded), closes the store, says so, and ends the process. */
function close(): Promise<void> {
  closing ??= (async () => {
    reports.closeAll();
    const e = engine;
    engine = null;
    try {
      await e?.close();
    } catch (err) {
      log.error(`ledger: closing the store failed: ${(err as Error).message}`);
    }
    post({ type: 'closed' });
    if (process.connected) process.disconnect();
    // Nothing should hold the process now; should something (a stray socket), end it anyway.
    setTimeout(() => process.exit(0), 2_000).unref();
  })();
  return closing;
}

function handle(m: ToLedgerWorker): Promise<void> | void {
  if (m.type === 'close') return close();
  if (m.type === 'announce') return engine?.ingester.announce(m.ids);
  reports.close(m.cursor);
}

function openEngine(): LedgerEngine {
  if (!engine) throw new Error('the usage store is not open');
  return engine;
}

/** A store operation: the engine's method of that name, with the gateway's arguments. */
function storeOp<K extends StoreOp>(op: K) {
  return (args: Parameters<LedgerEngine[K]>) => {
    const e = openEngine();
    return (e[op] as (...a: Parameters<LedgerEngine[K]>) => ReturnType<LedgerEngine[K]>).apply(e, args);
  };
}

const storeOps = Object.fromEntries(STORE_OPS.map((op) => [op, storeOp(op)])) as {
  [K in StoreOp]: ChannelHandlers<LedgerWorkerProtocol>[K];
};

const handlers: ChannelHandlers<LedgerWorkerProtocol> = {
  ...storeOps,
  setSession: (session) => openEngine().setSyncSession(session),
  clearSession: () => openEngine().clearSyncSession(),
  syncStatus: () => openEngine().syncStatus(),
  projects: (op) => openEngine().projects(op),
  report: async ({ params, now }) => reports.add(await openEngine().report(params, new Date(now))),
  reportPage: ({ cursor, offset, limit }) => { openEngine(); return reports.page(cursor, offset, limit); },
};

/** The gateway's arguments travel as a list (a store operation's) or an object (the others'). */
const serveRequest = channelServer<LedgerWorkerProtocol>({
  send: (envelope: ResponseEnvelope) => post(envelope),
  handlers,
  validate: Object.fromEntries(STORE_OPS.map((op) => [op, Array.isArray])),
});

function serve(data: LedgerWorkerData): void {
  process.on('message', (m: unknown) => {
    if (serveRequest(m)) return;
    if (!isToLedgerWorker(m)) return log.warn('ledger: ignored a message it does not understand');
    Promise.resolve(handle(m)).catch((err) => log.error(`ledger: ${(err as Error).stack ?? String(err)}`));
  });
  // The gateway ended (or was killed) without asking: close the store cleanly all the same.
  process.on('disconnect', () => void close());

  // The gateway gathers announcements into one message per burst (workerLedger.ts): ingest
  // it at once, without the ingester's own wait.
  LedgerEngine.open({
    dataDir: data.dataDir, journalDir: data.journalDir, log, ingest: { debounceMs: 0 },
    ...(data.migrationsDir ? { migrationsDir: data.migrationsDir } : {}),
    ...(data.snapshot !== undefined ? { snapshot: data.snapshot } : {}),
    ...(data.reopen ? { reopen: true } : {}),
  }).then(
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
      // A reopen finds what was journaled while the store was closed: take it in first (for
      // a short while at most), so the query that reopened the store sees it.
      await Promise.race([
        engine.ingester.ingestAvailable().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, CATCH_UP_BEFORE_READY_MS).unref()),
      ]);
      if (closing) return;
      post({ type: 'ready', openMs: opened.openMs, settings });
    },
    (err: Error) => {
      post({ type: 'failed', error: err?.message ?? String(err) });
      if (process.connected) process.disconnect();
    },
  );
}

/** The build: a new in-memory store, migrated, dumped into `outDir` (storeSnapshot.ts). */
async function makeSnapshot(outDir: string, key: string | undefined): Promise<void> {
  const t0 = performance.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create();
  try {
    const { bytes, migrations } = await writeStoreSnapshot(pglite, defaultMigrationsDir(), outDir, key);
    console.log(`store snapshot: ${migrations} migrations, ${(bytes / 1048576).toFixed(1)} MB in ${Math.round(performance.now() - t0)} ms`);
  } finally {
    await pglite.close();
  }
}

const snapshotAt = process.argv.indexOf('--make-snapshot');
if (snapshotAt >= 0) {
  makeSnapshot(process.argv[snapshotAt + 1] ?? '.', process.argv[snapshotAt + 2]).catch((err) => {
    console.error(`store snapshot: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
} else if (process.send) {
  serve(JSON.parse(process.argv[2] ?? '{}') as LedgerWorkerData);
} else {
  console.error('ledger-worker.js is started by the gateway (or by the build with --make-snapshot <folder>)');
  process.exitCode = 2;
}
