// Messages between the gateway (WorkerLedger) and the ledger's process (ledgerWorker.ts),
// over the child process's IPC channel ('advanced' serialization: structured clone).
// Requests and their answers go through the typed channel (src/protocol/channel.ts); the
// rest are one-way messages.
import type { RequestType } from '../../../protocol/channel';
import { isPlainObject } from '../../../protocol/validate';
import type { LedgerEngine } from '../store/engine';
import type { SyncSessionInput } from '../service';
import type { ModelSettingsSnapshot, ProjectOp, ProjectOpReply } from '../store/modelSettings';
import type { ReportOpened, ReportParams } from '../store/reports';
import type { SyncStatus } from '../sync/outbox';
import type { UsageReportRow } from '../../../protocol/reports';
import type { UnrecordedUsage } from '../../../protocol/usage';

export interface LedgerWorkerData {
  dataDir: string | null;
  journalDir: string;
  migrationsDir?: string;
  /** The store snapshot a new store starts from (engine.ts); default: the shipped one; null: none. */
  snapshot?: string | null;
  /** The gateway opened this store before in this run (engine.ts: no migrations again). */
  reopen?: boolean;
}

/**
 * The engine's operations that the ledger runs as they are, wherever the store is:
 * WorkerLedger sends them to the store's process, which calls the engine's method of that
 * name with the same arguments; EngineLedger calls the engine. A new one is a method in
 * engine.ts and its name here; LedgerService (service.ts) takes its signature from the engine.
 */
export const STORE_OPS = ['analytics', 'budgets', 'workspaceLinks', 'sessionInfo', 'repriceModel'] as const;
export type StoreOp = typeof STORE_OPS[number];
/** The store operations with the engine's own signatures. */
export type StoreOps = Pick<LedgerEngine, StoreOp>;

/** Every request the gateway sends to the store's process, and its answer. */
export type LedgerWorkerProtocol = {
  [K in StoreOp]: RequestType<Parameters<LedgerEngine[K]>, Awaited<ReturnType<LedgerEngine[K]>>>;
} & {
  setSession: RequestType<SyncSessionInput, SyncStatus>;
  clearSession: RequestType<null, SyncStatus>;
  syncStatus: RequestType<null, SyncStatus>;
  projects: RequestType<ProjectOp, ProjectOpReply>;
  /** Usage reports: run one (its rows stay in the store's process), then read them page by page. */
  report: RequestType<{ params: ReportParams; now: string }, ReportOpened>;
  reportPage: RequestType<{ cursor: number; offset: number; limit: number }, UsageReportRow[]>;
};

/** One-way messages to the store's process (nothing answers them). */
export type ToLedgerWorker =
  | { type: 'announce'; ids: string[] }
  | { type: 'reportClose'; cursor: number }
  | { type: 'close' };

/** One-way messages from the store's process. */
export type FromLedgerWorker =
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** `settings`: the model settings saved through the projects API, for the routing cache. */
  | { type: 'ready'; openMs: number; settings: ModelSettingsSnapshot }
  | { type: 'failed'; error: string }
  | { type: 'closed' }
  | { type: 'ingested'; records: number; inserted: number }
  /** Billed requests the store could not record: at the first pass, and when a line is set aside. */
  | { type: 'unrecorded'; unrecorded: UnrecordedUsage };

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'];
const count = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The shape of a one-way message from the store's process (a process may crash half-way or be replaced). */
export function isFromLedgerWorker(m: unknown): m is FromLedgerWorker {
  if (!isPlainObject(m)) return false;
  switch (m.type) {
    case 'log': return typeof m.level === 'string' && LOG_LEVELS.includes(m.level) && typeof m.message === 'string';
    case 'ready': return count(m.openMs) && isPlainObject(m.settings);
    case 'failed': return typeof m.error === 'string';
    case 'closed': return true;
    case 'ingested': return count(m.records) && count(m.inserted);
    case 'unrecorded': return isPlainObject(m.unrecorded);
    default: return false;
  }
}

/** The shape of a one-way message from the gateway. */
export function isToLedgerWorker(m: unknown): m is ToLedgerWorker {
  if (!isPlainObject(m)) return false;
  switch (m.type) {
    case 'announce': return Array.isArray(m.ids) && m.ids.every((id) => typeof id === 'string');
    case 'reportClose': return count(m.cursor);
    case 'close': return true;
    default: return false;
  }
}

/**
 * The store operations as methods, each handing its name and arguments to `run` (the
 * worker's channel, or the engine in this thread): WorkerLedger and EngineLedger write none by hand.
 */
export function storeOpMethods(run: (op: StoreOp, args: unknown[]) => Promise<unknown>): StoreOps {
  const methods = Object.fromEntries(STORE_OPS.map((op) => [op, (...args: unknown[]) => run(op, args)]));
  return methods as unknown as StoreOps;
}
