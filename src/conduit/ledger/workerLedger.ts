// The gateway's side of the ledger: starts the worker thread that opens and owns the store
// (see ledgerWorker.ts) and forwards requests to it. Nothing here waits for the store:
// while it opens, analytics answer "not ready" and the journal keeps every request; the
// worker catches up from the journal once open. A worker that dies after it was ready is
// started again (after 5 s, 30 s, 2 min); a store that cannot be opened is reported and
// left alone, and the gateway goes on proxying.
//
// The Supabase session lives here only in memory, and in the worker's memory: it is never
// logged, written, or returned.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log';
import { AnalyticsParamError, type AnalyticsParams, type AnalyticsQuery, type RawAnalytics } from './analytics';
import { LedgerUnavailableError, statusWithoutStore, type LedgerService, type LedgerState, type SyncSessionInput, type SyncStatusReport, type UsageReportHandle } from './service';
import type { ReportOpened, ReportParams } from './reports';
import type { UsageReportRow } from '../../protocol/reports';
import { accessTokenClaims } from './accessToken';
import { lockStore } from './storeLock';
import type { SyncStatus } from './outbox';
import type { FromLedgerWorker, LedgerWorkerData, ToLedgerWorker } from './workerProtocol';
import { ModelSettingsCache, ProjectStoreError, type ProjectOp, type ProjectOpReply, type ProjectOpValues, type ProjectStoreErrorKind } from './modelSettings';
import type { SessionContext } from '../../protocol/sessionContext';
import type { BudgetOp, BudgetOpValues } from '../budgets/budgetOps';
import type { LinkOp, LinkOpValues } from './workspaceLinks';
import type { UnrecordedUsage } from '../../protocol/usage';

export interface WorkerLedgerOptions extends LedgerWorkerData {
  log: Logger;
  /** How long close() lets the worker finish ingesting and close the store. */
  closeTimeoutMs?: number;
  /**
   * Announcements are gathered and sent to the worker as one wake-up (one ingestion pass,
   * one transaction) once no new one came for `announceQuietMs`, and at the latest
   * `announceMaxDelayMs` after the first of them (so a steady stream is still ingested).
   */
  announceQuietMs?: number;
  announceMaxDelayMs?: number;
}

/** Defaults of the announcement batching: a record reaches the store ≤ 0.5 s + one pass after its reply. */
export const ANNOUNCE_QUIET_MS = 150;
export const ANNOUNCE_MAX_DELAY_MS = 500;

const RESTART_DELAYS_MS = [5_000, 30_000, 120_000];
const REQUEST_TIMEOUT_MS = 30_000;

function workerFile(): string | URL {
  // Bundled: dist/ledger-worker.js beside dist/conduit.js.
  if (!__filename.endsWith('.ts')) return path.join(__dirname, 'ledger-worker.js');
  // From source (tests under tsx): as for the plugin worker, a one-line JavaScript entry
  // requires the TypeScript one, so the loader inherited through execArgv applies.
  const file = path.join(__dirname, 'ledgerWorker.ts');
  const bootstrap = `import { createRequire } from 'node:module'; createRequire(${JSON.stringify(file)})(${JSON.stringify(file)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/** Events: 'state' (LedgerState), 'ingested' ({ records, inserted } per committed batch), 'unrecorded' (UnrecordedUsage). */
export class WorkerLedger extends EventEmitter implements LedgerService {
  state: LedgerState = 'opening';
  error: string | null = null;
  /** As the worker last counted them (kept while it restarts). */
  unrecorded: UnrecordedUsage | null = null;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private session: { input: SyncSessionInput; userId: string } | null = null;
  private announced: string[] = [];
  /** The flush timer, and when the first and the last pending announcement came. */
  private flushTimer: NodeJS.Timeout | null = null;
  private firstAnnouncedAt = 0;
  private lastAnnouncedAt = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private closedSignal: (() => void) | null = null;
  private unlock: (() => void) | null = null;
  /** Saved model settings: loaded when the store opens, updated by the projects API. */
  private readonly modelSettings = new ModelSettingsCache();

  constructor(private readonly options: WorkerLedgerOptions) {
    super();
    this.spawn();
  }

  /** Resolves once the store is ready; rejects if it fails to open (or the ledger closes first). */
  whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state !== 'opening') return Promise.reject(new LedgerUnavailableError(this.state, this.error));
    return new Promise((resolve, reject) => {
      const onState = (state: LedgerState) => {
        if (state === 'opening') return;
        this.off('state', onState);
        if (state === 'ready') resolve();
        else reject(new LedgerUnavailableError(state, this.error));
      };
      this.on('state', onState);
    });
  }

  private setState(state: LedgerState): void {
    this.state = state;
    this.emit('state', state);
  }

  private spawn(): void {
    const { log } = this.options;
    this.error = null;
    this.setState('opening');
    const data: LedgerWorkerData = { dataDir: this.options.dataDir, journalDir: this.options.journalDir, ...(this.options.migrationsDir ? { migrationsDir: this.options.migrationsDir } : {}) };
    const started = Date.now();
    if (data.dataDir) {
      try {
        this.unlock = lockStore(data.dataDir);
      } catch (err) {
        this.error = (err as Error).message;
        log.error(`ledger: the usage store could not be opened: ${this.error}. The gateway goes on proxying and journaling; analytics are unavailable.`);
        this.setState('failed');
        return;
      }
    }
    const worker = new Worker(workerFile(), { workerData: data, name: 'conduit-ledger' });
    worker.unref();
    this.worker = worker;
    log.info(`ledger: opening the usage store${data.dataDir ? ` in ${data.dataDir}` : ' (in memory)'}`);
    worker.on('message', (m: FromLedgerWorker) => {
      switch (m.type) {
        case 'log':
          log[m.level](m.message);
          return;
        case 'ingested':
          this.emit('ingested', { records: m.records, inserted: m.inserted });
          return;
        case 'unrecorded':
          this.unrecorded = m.unrecorded;
          this.emit('unrecorded', m.unrecorded);
          return;
        case 'ready':
          this.modelSettings.load(m.settings);
          this.setState('ready');
          log.info(`ledger: usage store ready in ${m.openMs} ms (${Date.now() - started} ms since start)`);
          if (this.session) this.post({ type: 'setSession', id: this.trackFireAndForget(), session: this.session.input });
          this.flushAnnounced();
          return;
        case 'failed':
          this.error = m.error;
          this.setState('failed');
          log.error(`ledger: the usage store could not be opened: ${m.error}. The gateway goes on proxying and journaling; analytics are unavailable until it is restarted.`);
          void worker.terminate();
          return;
        case 'closed':
          this.closedSignal?.();
          return;
        case 'reply': {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          clearTimeout(p.timer);
          if (m.ok) p.resolve(m.value);
          else p.reject(m.error.name === 'AnalyticsParamError' ? new AnalyticsParamError(m.error.message)
            : m.error.name === 'ProjectStoreError' ? new ProjectStoreError(m.error.kind as ProjectStoreErrorKind, m.error.message)
            : Object.assign(new Error(m.error.message), { name: m.error.name }));
        }
      }
    });
    worker.once('error', (err) => {
      log.error(`ledger: the store's worker failed: ${err.stack ?? err.message}`);
      this.error = err.message;
    });
    worker.once('exit', (code) => {
      this.unlock?.();
      this.unlock = null;
      if (this.worker !== worker) return;
      this.worker = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new LedgerUnavailableError('failed', this.error ?? `the store's worker exited (code ${code})`));
        this.pending.delete(id);
      }
      this.closedSignal?.();
      if (this.state === 'closed' || this.state === 'failed') return;
      // Died while opening or after it was ready: start again, a few times.
      const delay = RESTART_DELAYS_MS[this.restarts];
      this.error ??= `the store's worker exited (code ${code})`;
      this.setState('failed');
      if (delay === undefined) {
        log.error(`ledger: the usage store stopped (${this.error}) and is not started again; restart the gateway`);
        return;
      }
      this.restarts++;
      log.warn(`ledger: the usage store stopped (${this.error}); starting it again in ${delay / 1000} s`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.state !== 'closed') this.spawn();
      }, delay);
      this.restartTimer.unref();
    });
  }

  private post(m: ToLedgerWorker): void {
    this.worker?.postMessage(m);
  }

  /** An id whose reply nobody awaits (errors go to the log). */
  private trackFireAndForget(): number {
    const id = this.nextId++;
    const timer = setTimeout(() => this.pending.delete(id), REQUEST_TIMEOUT_MS);
    timer.unref();
    this.pending.set(id, {
      resolve: () => undefined,
      reject: (e) => this.options.log.warn(`ledger: ${e.message}`),
      timer,
    });
    return id;
  }

  private request<T>(make: (id: number) => ToLedgerWorker): Promise<T> {
    if (this.state !== 'ready' || !this.worker) return Promise.reject(new LedgerUnavailableError(this.state, this.error));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the usage store did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post(make(id));
    });
  }

  analytics(query: AnalyticsQuery, params: AnalyticsParams): Promise<RawAnalytics> {
    return this.request((id) => ({ type: 'analytics', id, query, params, now: new Date().toISOString() }));
  }

  async report(params: ReportParams): Promise<UsageReportHandle> {
    const opened = await this.request<ReportOpened>((id) => ({ type: 'report', id, params, now: new Date().toISOString() }));
    return {
      meta: opened.meta,
      totals: opened.totals,
      page: (offset, limit) => this.request<UsageReportRow[]>((id) => ({ type: 'reportPage', id, cursor: opened.cursor, offset, limit })),
      close: () => this.post({ type: 'reportClose', cursor: opened.cursor }),
    };
  }

  async projects<K extends ProjectOp['op']>(op: Extract<ProjectOp, { op: K }>): Promise<ProjectOpValues[K]> {
    const reply = await this.request<ProjectOpReply<K>>((id) => ({ type: 'projects', id, op }));
    if (reply.settings) this.modelSettings.apply(reply.settings);
    return reply.value;
  }

  routingContext(ctx: SessionContext): SessionContext {
    return this.modelSettings.forContext(ctx);
  }

  budgets<K extends BudgetOp['op']>(op: Extract<BudgetOp, { op: K }>): Promise<BudgetOpValues[K]> {
    return this.request((id) => ({ type: 'budgets', id, op }));
  }

  workspaceLinks<K extends LinkOp['op']>(op: Extract<LinkOp, { op: K }>): Promise<LinkOpValues[K]> {
    return this.request((id) => ({ type: 'links', id, op }));
  }

  async setSyncSession(session: SyncSessionInput): Promise<SyncStatusReport> {
    const { sub } = accessTokenClaims(session.accessToken);
    this.session = { input: { ...session }, userId: sub };
    if (this.state !== 'ready') return statusWithoutStore(this.state, { url: session.url, userId: sub }, this.error);
    return { store: this.state, ...(await this.request<SyncStatus>((id) => ({ type: 'setSession', id, session }))) };
  }

  async clearSyncSession(): Promise<SyncStatusReport> {
    this.session = null;
    if (this.state !== 'ready') return statusWithoutStore(this.state, null, this.error);
    return { store: this.state, ...(await this.request<SyncStatus>((id) => ({ type: 'clearSession', id }))) };
  }

  async syncStatus(): Promise<SyncStatusReport> {
    if (this.state !== 'ready') return statusWithoutStore(this.state, this.session ? { url: this.session.input.url, userId: this.session.userId } : null, this.error);
    return { store: this.state, ...(await this.request<SyncStatus>((id) => ({ type: 'syncStatus', id }))) };
  }

  onIngested(listener: (inserted: number) => void): () => void {
    const onBatch = (b: { inserted: number }) => { if (b.inserted > 0) listener(b.inserted); };
    this.on('ingested', onBatch);
    return () => this.off('ingested', onBatch);
  }

  announce(requestIds: string[]): void {
    if (this.state !== 'ready') return; // the worker catches up from the journal when it is ready
    // The hot path: one push and a clock read per request; the timer is armed once per batch.
    for (const id of requestIds) this.announced.push(id);
    const now = Date.now();
    this.lastAnnouncedAt = now;
    if (this.flushTimer) return;
    this.firstAnnouncedAt = now;
    this.armFlush(this.options.announceQuietMs ?? ANNOUNCE_QUIET_MS);
  }

  private armFlush(delayMs: number): void {
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      const now = Date.now();
      const quietAt = this.lastAnnouncedAt + (this.options.announceQuietMs ?? ANNOUNCE_QUIET_MS);
      const latestAt = this.firstAnnouncedAt + (this.options.announceMaxDelayMs ?? ANNOUNCE_MAX_DELAY_MS);
      const due = Math.min(quietAt, latestAt);
      if (due > now && this.state === 'ready') this.armFlush(due - now); // still arriving: wait for the pause
      else this.flushAnnounced();
    }, Math.max(0, delayMs));
    this.flushTimer.unref(); // the journal holds the records; close() ingests what it holds
  }

  private flushAnnounced(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.announced.length || this.state !== 'ready') return;
    this.post({ type: 'announce', ids: this.announced });
    this.announced = [];
  }

  async close(): Promise<void> {
    const was = this.state;
    this.setState('closed');
    this.session = null;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.announced = [];
    const worker = this.worker;
    if (!worker) return;
    if (was !== 'ready') {
      // Opening: stop at once. A first open cut short leaves a folder without its ready
      // marker, which the next start removes; a migration is one transaction.
      await worker.terminate();
      return;
    }
    const done = new Promise<void>((resolve) => {
      this.closedSignal = resolve;
      worker.once('exit', () => resolve());
    });
    this.post({ type: 'close' });
    const timeout = this.options.closeTimeoutMs ?? 10_000;
    const timer = setTimeout(() => void worker.terminate(), timeout);
    await done;
    clearTimeout(timer);
    await worker.terminate();
  }
}
