// What the gateway's HTTP routes see of the ledger: its state, analytics, and the sync
// session. Implemented by WorkerLedger (the gateway: the store in a child process) and
// EngineLedger (tests: a LedgerEngine in this thread). No PGlite here.
import type { SyncStatus } from './sync/outbox';
import type { ProjectOp, ProjectOpValues } from './store/modelSettings';
import type { SessionContext } from '../../protocol/sessionContext';
import type { ReportMeasures, ReportMeta, UsageReportRow } from '../../protocol/reports';
import type { ReportParams } from './store/reports';
import type { StoreOps } from './process/workerProtocol';
import type { UnrecordedUsage } from '../../protocol/usage';

/**
 * 'idle': the store was closed after a while without queries (its memory given back); the
 * next query reopens it and waits for it, new journal records reopen it for ingestion.
 */
export type LedgerState = 'opening' | 'ready' | 'idle' | 'failed' | 'closed';

export interface SyncSessionInput {
  url: string;
  anonKey: string;
  accessToken: string;
  refreshToken: string;
}

export interface SyncStatusReport extends SyncStatus {
  /** The store's state: rows can be counted only when it is ready. */
  store: LedgerState;
}

/**
 * The store operations (workerProtocol.ts STORE_OPS: analytics, budgets, workspace links,
 * session info, repricing) have the engine's signatures; each rejects with
 * LedgerUnavailableError unless the store is ready (or can be reopened), and with the
 * engine's own errors (AnalyticsParamError for a range or filter it cannot answer).
 */
export interface LedgerService extends StoreOps {
  readonly state: LedgerState;
  /** Why the store is not ready (failed), in words for a person. */
  readonly error: string | null;
  /**
   * Billed requests the store could not record (unrecorded.ts), as last counted; null
   * until the store has counted them.
   */
  readonly unrecorded?: UnrecordedUsage | null;
  /**
   * Runs a usage report in the store's thread and keeps it there, to be read in pages.
   * Rejects with LedgerUnavailableError unless the store is ready, AnalyticsParamError for
   * a range or filter it cannot answer.
   */
  report(params: ReportParams): Promise<UsageReportHandle>;
  setSyncSession(session: SyncSessionInput): Promise<SyncStatusReport>;
  clearSyncSession(): Promise<SyncStatusReport>;
  syncStatus(): Promise<SyncStatusReport>;
  /**
   * An operation of the projects API. Rejects with LedgerUnavailableError unless the store
   * is ready, and with ProjectStoreError (modelSettings.ts) for an unknown project or agent,
   * a duplicate agent name or an inconsistent agent.
   */
  projects<K extends ProjectOp['op']>(op: Extract<ProjectOp, { op: K }>): Promise<ProjectOpValues[K]>;
  /**
   * The context to route a request by: the session's, with the project's and agent's model
   * settings in place of its own where the store holds saved ones. Memory only (no query);
   * the session's context as it is until the store has opened.
   */
  routingContext(ctx: SessionContext): SessionContext;
  /** Resolves once the store is ready (or idle: usable on demand); rejects if it fails to open (or closes first). */
  whenReady(): Promise<void>;
  /** The gateway journaled (or is journaling) these requests: ingest them soon. */
  announce(requestIds: string[]): void;
  /**
   * Calls `listener` with the count of requests newly stored, after each committed batch
   * of an ingestion pass that stored any (the gateway's 'ingested' event). Returns its removal.
   */
  onIngested(listener: (inserted: number) => void): () => void;
  close(): Promise<void>;
}

/** A finished usage report (reports.ts), read in pages. */
export interface UsageReportHandle {
  readonly meta: ReportMeta;
  readonly totals: ReportMeasures;
  page(offset: number, limit: number): Promise<UsageReportRow[]>;
  /** The reader is done (or gone): the ledger drops the report. */
  close(): void;
}

export class LedgerUnavailableError extends Error {
  constructor(readonly state: LedgerState, detail: string | null) {
    super(
      state === 'opening'
        ? 'the usage store is still opening (a first start creates it, which takes a few seconds); requests are journaled meanwhile; retry shortly'
        : state === 'failed'
          ? `the usage store could not be opened: ${detail ?? 'unknown error'} (see the gateway log; requests are still journaled)`
          : 'the usage store is closed (the gateway is stopping)',
    );
    this.name = 'LedgerUnavailableError';
  }
}

/** A sync status for when the store cannot be asked. */
export function statusWithoutStore(store: LedgerState, session: { url: string; userId: string } | null, error: string | null): SyncStatusReport {
  return {
    store,
    mode: session ? 'supabase' : 'local',
    target: session ? safeHost(session.url) : null,
    userId: session?.userId ?? null,
    lastSuccessAt: null,
    waiting: null,
    lastError: store === 'failed' ? error : null,
    lastErrorAt: null,
    brokenLinks: [],
    pushed: 0,
    nextRetryAt: null,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
