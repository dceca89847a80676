// Messages between the gateway (WorkerLedger) and the ledger's process (ledgerWorker.ts),
// over the child process's IPC channel ('advanced' serialization: structured clone).
import type { AnalyticsParams, AnalyticsQuery } from './analytics';
import type { SyncSessionInput } from './service';
import type { ModelSettingsSnapshot, ProjectOp } from './modelSettings';
import type { BudgetOp } from '../budgets/budgetOps';
import type { ReportParams } from './reports';
import type { LinkOp } from './workspaceLinks';
import type { SessionInfoInput } from './sessionInfo';
import type { ModelPrice } from '../pricing/priceTable';
import type { UnrecordedUsage } from '../../protocol/usage';

export interface LedgerWorkerData {
  dataDir: string | null;
  journalDir: string;
  migrationsDir?: string;
  /** The store snapshot a new store starts from (engine.ts); default: the shipped one; null: none. */
  snapshot?: string | null;
  /** The gateway opened this store before in this run (engine.ts: no migrations again). */
  reopen?: boolean;
}

export type ToLedgerWorker =
  | { type: 'analytics'; id: number; query: AnalyticsQuery; params: AnalyticsParams; now: string }
  | { type: 'setSession'; id: number; session: SyncSessionInput }
  | { type: 'clearSession'; id: number }
  | { type: 'syncStatus'; id: number }
  | { type: 'projects'; id: number; op: ProjectOp }
  | { type: 'budgets'; id: number; op: BudgetOp }
  | { type: 'links'; id: number; op: LinkOp }
  | { type: 'sessionInfo'; id: number; info: SessionInfoInput }
  | { type: 'reprice'; id: number; model: string; price: ModelPrice }
  | { type: 'announce'; ids: string[] }
  /** Usage reports: run one (reply: ReportOpened), read a page of its rows, drop it. */
  | { type: 'report'; id: number; params: ReportParams; now: string }
  | { type: 'reportPage'; id: number; cursor: number; offset: number; limit: number }
  | { type: 'reportClose'; cursor: number }
  | { type: 'close' };

export type FromLedgerWorker =
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** `settings`: the model settings saved through the projects API, for the routing cache. */
  | { type: 'ready'; openMs: number; settings: ModelSettingsSnapshot }
  | { type: 'failed'; error: string }
  | { type: 'closed' }
  | { type: 'ingested'; records: number; inserted: number }
  /** Billed requests the store could not record: at the first pass, and when a line is set aside. */
  | { type: 'unrecorded'; unrecorded: UnrecordedUsage }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: { name: string; message: string; kind?: string } };
