// The gateway's side of the ledger: forks the process that opens and owns the store (see
// ledgerWorker.ts) and forwards requests to it. Nothing on the request path waits for the
// store: while it opens, analytics answer "not ready" and the journal keeps every request;
// the store catches up from the journal once open.
//
// The store costs nothing while nobody looks: after `idleSeconds` without queries (and
// with ingestion caught up) its process is closed, which gives all of PGlite's memory back
// to the system ('idle'). The next query reopens it and waits for it (a reopen takes well
// under 1.5 s; the store exists and is migrated); records journaled meanwhile reopen it
// for ingestion within CATCH_UP_WATCHED_MS when someone watches the totals (an event
// stream is connected: the status bar, a view), else within the idle time. Budgets and
// routing go on from memory. A process that crashes cannot take the gateway down: the
// queries it held fail, and the next one opens the store again.
//
// The Supabase session lives here only in memory, and in the store process's memory: it
// is never logged, written, or returned.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../core/log';
import { AnalyticsParamError } from '../store/analytics';
import { LedgerUnavailableError, statusWithoutStore, type LedgerService, type LedgerState, type SyncSessionInput, type SyncStatusReport, type UsageReportHandle } from '../service';
import type { ReportParams } from '../store/reports';
import { accessTokenClaims } from '../../../protocol/accessToken';
import { lockStore } from '../store/storeLock';
import type { SyncStatus } from '../sync/outbox';
import { isFromLedgerWorker, storeOpMethods, type LedgerWorkerData, type LedgerWorkerProtocol, type StoreOp, type StoreOps, type ToLedgerWorker } from './workerProtocol';
import { ModelSettingsCache, ProjectStoreError, type ProjectOp, type ProjectOpValues, type ProjectStoreErrorKind } from '../store/modelSettings';
import type { SessionContext } from '../../../protocol/sessionContext';
import { ChannelClient, ChannelTimeoutError, type ParamsOf, type RequestEnvelope, type WireError } from '../../../protocol/channel';
import type { UnrecordedUsage } from '../../../protocol/usage';

export interface WorkerLedgerOptions extends LedgerWorkerData {
  log: Logger;
  /** How long close() lets the store's process finish ingesting and close the store. */
  closeTimeoutMs?: number;
  /**
   * Announcements are gathered and sent to the store as one wake-up (one ingestion pass,
   * one transaction) once no new one came for `announceQuietMs`, and at the latest
   * `announceMaxDelayMs` after the first of them (so a steady stream is still ingested).
   */
  announceQuietMs?: number;
  announceMaxDelayMs?: number;
  /** Close the store after this many seconds without queries or ingestion; 0: never. Default: STORE_IDLE_SECONDS. */
  idleSeconds?: number;
  /** Someone watches the totals (an event stream is connected): records reach the store soon, even while it is idle. */
  watched?: () => boolean;
}

/** Defaults of the announcement batching: a record reaches the store ≤ 0.5 s + one pass after its reply. */
export const ANNOUNCE_QUIET_MS = 150;
export const ANNOUNCE_MAX_DELAY_MS = 500;
/** Announcements kept while the store opens, sent once it is ready. */
const MAX_ANNOUNCED_WHILE_OPENING = 10_000;
/** CONDUIT_STORE_IDLE_SECONDS's default. */
export const STORE_IDLE_SECONDS = 300;
/** Records journaled while the store is idle and someone watches the totals reopen it after this long (gathering a burst). */
export const CATCH_UP_WATCHED_MS = 2_000;

const RESTART_DELAYS_MS = [5_000, 30_000, 120_000];
const REQUEST_TIMEOUT_MS = 30_000;
/** More crashes than this within CRASH_WINDOW_MS: the store is left closed ('failed') until the gateway restarts. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 10 * 60_000;
/** The store's process yields the cores to the gateway when both want them. */
const STORE_NICE = 10;

/** CONDUIT_STORE_IDLE_SECONDS: a whole number of seconds ≥ 0 (0: never close); anything else: the default. */
export function storeIdleSeconds(text: string | undefined, log?: Logger): number {
  if (text === undefined || text.trim() === '') return STORE_IDLE_SECONDS;
  const n = Number(text);
  if (Number.isInteger(n) && n >= 0) return n;
  log?.warn(`CONDUIT_STORE_IDLE_SECONDS: expected a whole number of seconds (0: never close the store), got "${text.slice(0, 40)}"; using ${STORE_IDLE_SECONDS}`);
  return STORE_IDLE_SECONDS;
}

/**
 * One V8 helper thread: PGlite's WebAssembly is compiled for speed (TurboFan) in the
 * background as its functions get hot, and several threads compiling at once took the
 * store's process ~35 MB higher (peak 210 → 175 MB for an open) without opening faster.
 */
const STORE_NODE_FLAGS = ['--v8-pool-size=1'];

function childEntry(): { file: string; execArgv: string[] } {
  // Bundled: dist/ledger-worker.js beside dist/conduit.js.
  if (!__filename.endsWith('.ts')) return { file: path.join(__dirname, 'ledger-worker.js'), execArgv: STORE_NODE_FLAGS };
  // From source (tests under tsx): the TypeScript entry, with the loader this process runs under.
  return { file: path.join(__dirname, 'ledgerWorker.ts'), execArgv: [...process.execArgv, ...STORE_NODE_FLAGS] };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** An error the store's process reported, as the class the routes tell apart. */
function reviveError(e: WireError): Error {
  if (e.name === 'AnalyticsParamError') return new AnalyticsParamError(e.message);
  if (e.name === 'ProjectStoreError') return new ProjectStoreError(e.kind as ProjectStoreErrorKind, e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}

// The store operations (workerProtocol.ts STORE_OPS) are methods set up in the constructor.
export interface WorkerLedger extends StoreOps {}

/**
 * Events: 'state' (LedgerState), 'ingested' ({ records, inserted } per committed batch),
 * 'unrecorded' (UnrecordedUsage), 'exit' ({ pid }: a store process has ended).
 */
export class WorkerLedger extends EventEmitter implements LedgerService {
  state: LedgerState = 'opening';
  error: string | null = null;
  /** As the store last counted them (kept while it is closed or restarts). */
  unrecorded: UnrecordedUsage | null = null;
  private child: ChildProcess | null = null;
  /** Requests to the store's process and their answers. */
  private readonly channel = new ChannelClient<LedgerWorkerProtocol>({
    send: (envelope) => this.post(envelope),
    timeoutMs: REQUEST_TIMEOUT_MS,
    timeoutMessage: () => `the usage store did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
    reviveError,
  });
  private session: { input: SyncSessionInput; userId: string } | null = null;
  private announced: string[] = [];
  /** The flush timer, and when the first and the last pending announcement came. */
  private flushTimer: NodeJS.Timeout | null = null;
  private firstAnnouncedAt = 0;
  private lastAnnouncedAt = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly crashes: number[] = [];
  /** Saved model settings: loaded when the store opens, updated by the projects API. */
  private readonly modelSettings = new ModelSettingsCache();
  /** What the store ingested while it opened: announced as one 'ingested' once it is ready. */
  private ingestedWhileOpening = { records: 0, inserted: 0 };
  /** The store was ready once in this run: it exists and is migrated, so a reopen is quick and queries wait for it. */
  private hasOpened = false;
  /** The process closed for idleness, until it has ended (a reopen waits for it: one process holds the store). */
  private stopping: Promise<void> | null = null;
  private stoppingChild: ChildProcess | null = null;
  private readonly idleMs: number;
  private lastActiveAt = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;
  private catchUpTimer: NodeJS.Timeout | null = null;
  /** Usage reports kept in the store's process for their reader: the store stays open while any is. */
  private openReports = 0;
  /** The outbox's last status, shown while the store is idle. */
  private lastSync: SyncStatus | null = null;

  /** The store's process while one runs (tests). */
  get storePid(): number | null {
    return this.child?.pid ?? null;
  }

  constructor(private readonly options: WorkerLedgerOptions) {
    super();
    Object.assign(this, storeOpMethods((op, args) => this.storeOp(op, args)));
    this.idleMs = (options.idleSeconds ?? STORE_IDLE_SECONDS) * 1000;
    this.spawn('start');
  }

  /** Resolves once the store is ready or idle (usable on demand); rejects if it fails to open (or the ledger closes first). */
  whenReady(): Promise<void> {
    if (this.state === 'ready' || this.state === 'idle') return Promise.resolve();
    if (this.state !== 'opening') return Promise.reject(new LedgerUnavailableError(this.state, this.error));
    return new Promise((resolve, reject) => {
      const onState = (state: LedgerState) => {
        if (state === 'opening') return;
        this.off('state', onState);
        if (state === 'ready' || state === 'idle') resolve();
        else reject(new LedgerUnavailableError(state, this.error));
      };
      this.on('state', onState);
    });
  }

  private setState(state: LedgerState): void {
    this.state = state;
    this.emit('state', state);
  }

  private spawn(reason: 'start' | 'query' | 'journal' | 'restart'): void {
    this.error = null;
    this.setState('opening');
    const started = Date.now();
    const stopping = this.stopping;
    if (stopping) void stopping.then(() => { if (this.state === 'opening' && !this.child) this.fork(reason, started); });
    else this.fork(reason, started);
  }

  private fork(reason: 'start' | 'query' | 'journal' | 'restart', started: number): void {
    const { log } = this.options;
    const data: LedgerWorkerData = {
      dataDir: this.options.dataDir, journalDir: this.options.journalDir,
      ...(this.options.migrationsDir ? { migrationsDir: this.options.migrationsDir } : {}),
      ...(this.options.snapshot !== undefined ? { snapshot: this.options.snapshot } : {}),
      ...(this.hasOpened ? { reopen: true } : {}),
    };
    let unlock = () => {};
    if (data.dataDir) {
      try {
        unlock = lockStore(data.dataDir);
      } catch (err) {
        this.error = (err as Error).message;
        log.error(`ledger: the usage store could not be opened: ${this.error}. The gateway goes on proxying and journaling; analytics are unavailable.`);
        this.setState('failed');
        return;
      }
    }
    const { file, execArgv } = childEntry();
    let child: ChildProcess;
    try {
      child = fork(file, [JSON.stringify(data)], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    } catch (err) {
      unlock();
      this.error = `the store's process could not be started: ${(err as Error).message}`;
      log.error(`ledger: ${this.error}`);
      this.setState('failed');
      return;
    }
    this.child = child;
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.(); // the gateway's life does not hang on its store
    try {
      if (child.pid) os.setPriority(child.pid, STORE_NICE);
    } catch { /* not allowed here: the usual priority */ }
    if (reason === 'start' || reason === 'restart') log.info(`ledger: opening the usage store${data.dataDir ? ` in ${data.dataDir}` : ' (in memory)'}`);
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
      let nl: number;
      while ((nl = stderr.indexOf('\n')) >= 0) {
        const line = stderr.slice(0, nl).trimEnd();
        stderr = stderr.slice(nl + 1);
        if (line) log.warn(`ledger process: ${line.slice(0, 2_000)}`);
      }
    });
    child.on('message', (m: unknown) => {
      const waiting = this.channel.waiting;
      if (this.channel.receive(m)) {
        if (this.channel.waiting < waiting) this.touch(); // an answer to a request that waited
        return;
      }
      if (!isFromLedgerWorker(m)) return log.warn('ledger: ignored a message from the store\'s process that it does not understand');
      switch (m.type) {
        case 'log':
          log[m.level](m.message);
          return;
        case 'ingested':
          this.touch();
          // The store takes in the journal's backlog before it says it is ready: a view told now
          // would read totals that still answer "not ready". Say it once the store answers.
          if (this.state === 'opening') {
            this.ingestedWhileOpening.records += m.records;
            this.ingestedWhileOpening.inserted += m.inserted;
            return;
          }
          this.emit('ingested', { records: m.records, inserted: m.inserted });
          return;
        case 'unrecorded':
          this.unrecorded = m.unrecorded;
          this.emit('unrecorded', m.unrecorded);
          return;
        case 'ready':
          if (this.child !== child || this.state !== 'opening') return;
          this.modelSettings.load(m.settings);
          this.hasOpened = true;
          this.touch();
          this.setState('ready');
          if (this.ingestedWhileOpening.inserted > 0 || this.ingestedWhileOpening.records > 0) {
            this.emit('ingested', { ...this.ingestedWhileOpening });
          }
          this.ingestedWhileOpening = { records: 0, inserted: 0 };
          log.info(reason === 'query' || reason === 'journal'
            ? `ledger: usage store reopened in ${Date.now() - started} ms (${reason === 'query' ? 'for a query' : 'to ingest new journal records'})`
            : `ledger: usage store ready in ${m.openMs} ms (${Date.now() - started} ms since start)`);
          if (this.session) this.sendSessionOnce(this.session.input);
          this.flushAnnounced();
          this.armIdle();
          return;
        case 'failed':
          if (this.child !== child) return;
          this.error = m.error;
          this.setState('failed');
          log.error(`ledger: the usage store could not be opened: ${m.error}. The gateway goes on proxying and journaling; analytics are unavailable until it is restarted.`);
          return;
        case 'closed':
          return;
      }
    });
    child.once('error', (err) => {
      log.error(`ledger: the store's process failed: ${err.stack ?? err.message}`);
      this.error ??= err.message;
    });
    child.once('exit', (code, signal) => {
      unlock();
      this.emit('exit', { pid: child.pid });
      if (this.child !== child) return; // closed for idleness or by close()
      this.child = null;
      const why = this.error ?? `the store's process exited (${signal ?? `code ${code}`})`;
      this.channel.failAll(new LedgerUnavailableError('failed', why));
      if (this.state === 'closed' || this.state === 'failed') return;
      this.error = why;
      const now = Date.now();
      this.crashes.push(now);
      while (this.crashes.length && now - this.crashes[0] > CRASH_WINDOW_MS) this.crashes.shift();
      if (this.crashes.length > MAX_CRASHES) {
        this.setState('failed');
        log.error(`ledger: the usage store stopped ${this.crashes.length} times within ${CRASH_WINDOW_MS / 60_000} minutes (last: ${why}) and is not opened again; restart the gateway`);
        return;
      }
      if (this.hasOpened) {
        // It exists and is migrated: open it again on demand, and soon for the journal.
        log.warn(`ledger: the usage store stopped (${why}); it is opened again when needed`);
        this.error = null;
        this.setState('idle');
        this.scheduleCatchUp();
        return;
      }
      // Died during the first open: start again, a few times.
      const delay = RESTART_DELAYS_MS[this.restarts];
      this.setState('failed');
      if (delay === undefined) {
        log.error(`ledger: the usage store stopped (${why}) and is not started again; restart the gateway`);
        return;
      }
      this.restarts++;
      log.warn(`ledger: the usage store stopped (${why}); starting it again in ${delay / 1000} s`);
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (this.state !== 'closed') this.spawn('restart');
      }, delay);
      this.restartTimer.unref();
    });
  }

  private post(m: ToLedgerWorker | RequestEnvelope): void {
    const child = this.child;
    if (!child?.connected) return;
    child.send(m, undefined, {}, () => undefined); // a process gone meanwhile: its exit rejects what waits
  }

  private touch(): void {
    this.lastActiveAt = Date.now();
  }

  /** Closes the store once it has been unused for the idle time (checked again at that moment). */
  private armIdle(): void {
    if (this.idleMs <= 0 || this.idleTimer || this.state !== 'ready') return;
    const wait = Math.max(0, this.lastActiveAt + this.idleMs - Date.now());
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.state !== 'ready') return;
      if (this.channel.waiting || this.openReports || this.announced.length) this.touch(); // in use: a full idle time from now
      if (Date.now() - this.lastActiveAt < this.idleMs) this.armIdle();
      else this.stopForIdle();
    }, wait);
    this.idleTimer.unref();
  }

  private stopForIdle(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.setState('idle');
    this.options.log.info(`ledger: the usage store is closed after ${this.idleMs / 1000} s without use (it opens again when needed)`);
    const killTimer = setTimeout(() => child.kill('SIGKILL'), this.options.closeTimeoutMs ?? 10_000);
    killTimer.unref();
    this.stoppingChild = child;
    this.stopping = exited(child).then(() => {
      clearTimeout(killTimer);
      this.stopping = null;
      this.stoppingChild = null;
    });
    child.send({ type: 'close' } satisfies ToLedgerWorker, undefined, {}, () => undefined);
  }

  /** Records were journaled while the store is idle: reopen it to ingest them, soon when someone watches the totals. */
  private scheduleCatchUp(): void {
    if (this.catchUpTimer || this.state !== 'idle') return;
    const delay = this.options.watched?.() ? CATCH_UP_WATCHED_MS : Math.max(this.idleMs, CATCH_UP_WATCHED_MS);
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null;
      if (this.state === 'idle') this.spawn('journal');
    }, delay);
    this.catchUpTimer.unref();
  }

  /** Opens an idle store and waits for a reopen (quick); a store opening for the first time is reported as such. */
  private async usable(): Promise<void> {
    if (this.state === 'idle') {
      if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
      this.catchUpTimer = null;
      this.spawn('query');
    }
    if (this.state === 'opening' && this.hasOpened) await this.whenReady().catch(() => undefined);
    if (this.state !== 'ready' || !this.child) throw new LedgerUnavailableError(this.state === 'idle' ? 'failed' : this.state, this.error);
    this.touch();
  }

  /** The session, for a store that opened again: nobody awaits the answer (an error goes to the log, a timeout nowhere). */
  private sendSessionOnce(session: SyncSessionInput): void {
    this.channel.request('setSession', session).catch((e: Error) => {
      if (!(e instanceof ChannelTimeoutError)) this.options.log.warn(`ledger: ${e.message}`);
    });
  }

  private async call<M extends keyof LedgerWorkerProtocol & string>(method: M, params: ParamsOf<LedgerWorkerProtocol, M>): Promise<LedgerWorkerProtocol[M]['response']> {
    await this.usable();
    return this.channel.request(method, params);
  }

  private storeOp(op: StoreOp, args: unknown[]): Promise<unknown> {
    return this.call(op, args as ParamsOf<LedgerWorkerProtocol, StoreOp>);
  }

  async report(params: ReportParams): Promise<UsageReportHandle> {
    const opened = await this.call('report', { params, now: new Date().toISOString() });
    this.openReports++;
    let open = true;
    return {
      meta: opened.meta,
      totals: opened.totals,
      page: (offset, limit) => this.call('reportPage', { cursor: opened.cursor, offset, limit }),
      close: () => {
        if (!open) return;
        open = false;
        this.openReports--;
        this.post({ type: 'reportClose', cursor: opened.cursor });
      },
    };
  }

  async projects<K extends ProjectOp['op']>(op: Extract<ProjectOp, { op: K }>): Promise<ProjectOpValues[K]> {
    const reply = await this.call('projects', op);
    if (reply.settings) this.modelSettings.apply(reply.settings);
    return reply.value as ProjectOpValues[K];
  }

  routingContext(ctx: SessionContext): SessionContext {
    return this.modelSettings.forContext(ctx);
  }

  /** The store can be asked now, or after a quick reopen. */
  private get reachable(): boolean {
    return this.state === 'ready' || this.state === 'idle' || (this.state === 'opening' && this.hasOpened);
  }

  private async syncRequest<M extends 'setSession' | 'clearSession' | 'syncStatus'>(method: M, params: ParamsOf<LedgerWorkerProtocol, M>): Promise<SyncStatusReport> {
    const status = await this.call(method, params);
    this.lastSync = status;
    return { store: this.state, ...status };
  }

  async setSyncSession(session: SyncSessionInput): Promise<SyncStatusReport> {
    const { sub } = accessTokenClaims(session.accessToken);
    this.session = { input: { ...session }, userId: sub };
    if (!this.reachable) return statusWithoutStore(this.state, { url: session.url, userId: sub }, this.error);
    return this.syncRequest('setSession', session);
  }

  async clearSyncSession(): Promise<SyncStatusReport> {
    this.session = null;
    if (!this.reachable) return statusWithoutStore(this.state, null, this.error);
    return this.syncRequest('clearSession', null);
  }

  /** Asked often (the sync view): an idle store is not reopened for it; its last status is shown. */
  async syncStatus(): Promise<SyncStatusReport> {
    if (this.state === 'ready') return this.syncRequest('syncStatus', null);
    if (this.lastSync && this.reachable) return { store: this.state, ...this.lastSync };
    return statusWithoutStore(this.state, this.session ? { url: this.session.input.url, userId: this.session.userId } : null, this.error);
  }

  onIngested(listener: (inserted: number) => void): () => void {
    const onBatch = (b: { inserted: number }) => { if (b.inserted > 0) listener(b.inserted); };
    this.on('ingested', onBatch);
    return () => this.off('ingested', onBatch);
  }

  announce(requestIds: string[]): void {
    if (this.state === 'idle') return this.scheduleCatchUp(); // the journal holds them; the reopened store reads it
    if (this.state === 'opening') {
      // The store reads the journal as it opens, but may have read it before these landed:
      // they are announced once it is ready (a bounded list; the store's poll finds the rest).
      if (this.announced.length < MAX_ANNOUNCED_WHILE_OPENING) for (const id of requestIds) this.announced.push(id);
      return;
    }
    if (this.state !== 'ready') return; // the store catches up from the journal when it is ready
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
    for (const timer of [this.restartTimer, this.flushTimer, this.idleTimer, this.catchUpTimer]) if (timer) clearTimeout(timer);
    this.flushTimer = this.idleTimer = this.catchUpTimer = this.restartTimer = null;
    this.announced = [];
    this.stoppingChild?.ref(); // the gateway's own end waits for its store's
    await this.stopping;
    const child = this.child;
    if (!child) return;
    child.ref(); // the gateway's own end waits for its store's: nothing else may keep it alive now
    const done = exited(child);
    if (was === 'opening' && !this.hasOpened) {
      // A first open: stop at once. One cut short leaves a folder without its ready marker,
      // which the next start removes; a migration is one transaction.
      child.kill('SIGKILL');
      await done;
      return;
    }
    // Ready (or reopening): let it ingest what the journal holds and close the store.
    this.post({ type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.closeTimeoutMs ?? 10_000);
    await done;
    clearTimeout(timer);
  }
}
