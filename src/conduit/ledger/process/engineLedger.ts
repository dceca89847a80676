// A LedgerService over a LedgerEngine in this thread: for tests (one shared PGlite per
// test file) and tools. The gateway itself uses WorkerLedger.
import type { LedgerEngine } from '../store/engine';
import { ModelSettingsCache, type ProjectOp, type ProjectOpReply, type ProjectOpValues } from '../store/modelSettings';
import type { SessionContext } from '../../../protocol/sessionContext';
import { storeOpMethods, type StoreOps } from './workerProtocol';
import { LedgerUnavailableError, statusWithoutStore, type LedgerService, type LedgerState, type SyncSessionInput, type SyncStatusReport, type UsageReportHandle } from '../service';
import { ReportCursors, type ReportParams } from '../store/reports';
import type { UnrecordedUsage } from '../../../protocol/usage';

// The store operations (workerProtocol.ts STORE_OPS) are methods set up in the constructor.
export interface EngineLedger extends StoreOps {}

export class EngineLedger implements LedgerService {
  state: LedgerState = 'opening';
  error: string | null = null;
  private engine: LedgerEngine | null = null;
  private readonly modelSettings = new ModelSettingsCache();
  private readonly reports = new ReportCursors();
  /** The saved model settings are in the cache (changes wait for it, so none is overwritten). */
  private settingsLoaded: Promise<void> = Promise.resolve();

  /** `engine`: the engine, or a promise of it (the service is "opening" until it resolves). */
  private readonly opened: Promise<unknown>;

  constructor(engine: LedgerEngine | Promise<LedgerEngine>, private readonly options: { closeEngine?: boolean } = {}) {
    Object.assign(this, storeOpMethods(async (op, args) => {
      const ready = this.ready();
      return (ready[op] as (...a: unknown[]) => Promise<unknown>).apply(ready, args);
    }));
    this.opened = Promise.resolve(engine).then(
      (e) => {
        if (this.state === 'closed') return;
        this.engine = e;
        this.state = 'ready';
        this.settingsLoaded = e.modelSettings().then((s) => this.modelSettings.load(s), () => undefined);
      },
      (err: Error) => {
        this.state = 'failed';
        this.error = err.message;
      },
    );
  }

  get unrecorded(): UnrecordedUsage | null {
    return this.engine?.ingester.unrecorded ?? null;
  }

  private ready(): LedgerEngine {
    if (this.state !== 'ready' || !this.engine) throw new LedgerUnavailableError(this.state, this.error);
    return this.engine;
  }

  async report(params: ReportParams): Promise<UsageReportHandle> {
    const opened = this.reports.add(await this.ready().report(params));
    return {
      meta: opened.meta,
      totals: opened.totals,
      page: async (offset, limit) => this.reports.page(opened.cursor, offset, limit),
      close: () => this.reports.close(opened.cursor),
    };
  }

  async projects<K extends ProjectOp['op']>(op: Extract<ProjectOp, { op: K }>): Promise<ProjectOpValues[K]> {
    const engine = this.ready();
    await this.settingsLoaded;
    const reply = await engine.projects(op) as ProjectOpReply<K>;
    if (reply.settings) this.modelSettings.apply(reply.settings);
    return reply.value;
  }

  routingContext(ctx: SessionContext): SessionContext {
    return this.modelSettings.forContext(ctx);
  }

  /** Resolves once the engine is there and the saved model settings are loaded. */
  async whenReady(): Promise<void> {
    await this.opened;
    if (this.state !== 'ready') throw new LedgerUnavailableError(this.state, this.error);
    await this.settingsLoaded;
  }

  async setSyncSession(session: SyncSessionInput): Promise<SyncStatusReport> {
    return { store: 'ready', ...(await this.ready().setSyncSession(session)) };
  }

  async clearSyncSession(): Promise<SyncStatusReport> {
    if (this.state !== 'ready') return statusWithoutStore(this.state, null, this.error);
    return { store: 'ready', ...(await this.ready().clearSyncSession()) };
  }

  async syncStatus(): Promise<SyncStatusReport> {
    if (this.state !== 'ready') return statusWithoutStore(this.state, null, this.error);
    return { store: 'ready', ...(await this.ready().syncStatus()) };
  }

  onIngested(listener: (inserted: number) => void): () => void {
    const onBatch = (b: { inserted: number }) => { if (b.inserted > 0) listener(b.inserted); };
    let removed = false;
    let engine: LedgerEngine | null = null;
    void this.opened.then(() => {
      if (removed || !this.engine) return;
      engine = this.engine;
      engine.ingester.on('batch', onBatch);
    });
    return () => {
      removed = true;
      engine?.ingester.off('batch', onBatch);
    };
  }

  announce(requestIds: string[]): void {
    this.engine?.ingester.announce(requestIds);
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.state = 'closed';
    this.engine = null;
    this.reports.closeAll();
    if (engine && this.options.closeEngine) await engine.close();
  }
}
