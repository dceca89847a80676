// The embedded store and everything that works on it: PGlite on disk (or in memory), the
// shared migrations and the local schema, the journal ingester, the analytics queries and
// the outbox. The gateway runs one in a child process (ledgerWorker.ts), so neither
// opening the store nor a query ever holds up a request; tests and the benchmark run one
// in their own thread.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PGliteInterface } from '@electric-sql/pglite';
import type { Logger } from '../../core/log';
import { runAnalytics, type AnalyticsParams, type AnalyticsQuery, type RawAnalytics } from './analytics';
import { JournalIngester, type IngestOptions } from './ingest';
import { ledgerDbFromPglite, type LedgerDb } from './ledgerDb';
import { applyLocalSchema, ensureLocalUser } from './localSchema';
import { applyMigrations, defaultMigrationsDir } from './migrations';
import { checkSnapshot, defaultSnapshotPath, unpackSnapshot } from './storeSnapshot';
import { Outbox, type OutboxOptions, type SyncStatus, type SyncTargetConfig } from '../sync/outbox';
import type { SyncSessionInput } from '../service';
import { runUsageReport, type ReportParams, type ReportResult } from './reports';
import type { ModelSettingsSnapshot, ProjectOp, ProjectOpReply } from './modelSettings';
import { loadModelSettings, runProjectOp } from './projectStore';
import { runBudgetOp } from './budgetStore';
import { runLinkOp, type LinkOp, type LinkOpValues } from './workspaceLinks';
import { saveSessionInfo, type SessionInfoInput } from './sessionInfo';
import { repriceModel } from './reprice';
import type { ModelPrice } from '../../pricing/priceTable';
import type { BudgetOp, BudgetOpValues } from '../../budgets/budgetOps';
import { fromPglite } from './sqlClient';
import { accessTokenClaims } from '../../../protocol/accessToken';
import { SupabaseSyncTarget } from '../sync/supabaseSyncTarget';

/**
 * PGlite's server settings. shared_buffers: Postgres' default 128 MB is sized for a server;
 * the ledger's working set (recent rows and the rollups) fits in far less, and the store
 * lives inside VS Code's background gateway. bench/ledger.mjs with 1M rows: RSS 576 → 474 MB;
 * ingestion (11-13k rows/s) and the slowest query's p95 (15-32 ms) vary as much between runs
 * of either setting; 16 MB cost ~15 % of ingestion speed.
 */
const PGLITE_CONF = ['shared_buffers = 32MB'];

/** Written into the data folder once the store is fully created; a folder without it is a half-made first open. */
export const READY_MARKER = 'conduit-store.json';

export interface LedgerEngineOptions {
  /** PGlite's data folder (CONDUIT_HOME/data/pglite); null: in memory. */
  dataDir: string | null;
  journalDir: string;
  log: Logger;
  /** The supabase folder (default: defaultMigrationsDir()). */
  migrationsDir?: string;
  /** Use this instance instead of opening one (tests share one per file). */
  pglite?: PGliteInterface;
  /**
   * The build's store snapshot (storeSnapshot.ts) a new data folder starts from instead of
   * initdb; default: the one shipped with the code; null: none (initdb and every migration).
   */
  snapshot?: string | null;
  /**
   * This process's owner opened (and migrated) this store before in this run: skip the
   * migrations and the local schema (a reopen after the store was closed while unused).
   */
  reopen?: boolean;
  ingest?: Omit<IngestOptions, 'log'>;
  outbox?: Omit<OutboxOptions, 'log'>;
}

/** Rows ingested between two maintenance runs (VACUUM of the rollups, ANALYZE). */
const MAINTAIN_AFTER_ROWS = 20_000;
const MAINTAIN_EVERY_MS = 60 * 60_000;

export class LedgerEngine {
  private sessionTarget: { key: string; target: SupabaseSyncTarget } | null = null;
  private insertedSinceMaintenance = 0;
  private maintaining: Promise<void> | null = null;
  private maintenanceTimer: NodeJS.Timeout | null = null;
  private log: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  /** Order of the changes made through the projects API (see ModelSettingsCache). */
  private settingsVersion = 0;

  private constructor(
    readonly pglite: PGliteInterface,
    readonly db: LedgerDb,
    readonly localUserId: string,
    readonly ingester: JournalIngester,
    readonly outbox: Outbox,
    private readonly ownsPglite: boolean,
    readonly openMs: number,
  ) {}

  /** Opens (creating on first use) the store, migrates it, and starts nothing yet: call start(). */
  static async open(options: LedgerEngineOptions): Promise<LedgerEngine> {
    const t0 = performance.now();
    let pglite = options.pglite;
    const owns = !pglite;
    let fromSnapshot: { shimCurrent: boolean } | null = null;
    if (!pglite) {
      const loading = import('@electric-sql/pglite'); // loads while a snapshot unpacks
      if (options.dataDir) {
        prepareDataDir(options.dataDir, options.log);
        if (!existsSync(options.dataDir)) fromSnapshot = await startFromSnapshot(options);
      }
      const { PGlite } = await loading;
      pglite = await PGlite.create({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), postgresqlconf: PGLITE_CONF });
    }
    try {
      const db = ledgerDbFromPglite(pglite);
      if (!options.reopen) {
        // A store just unpacked from a snapshot that ran this very shim needs it not again.
        const includeShim = !fromSnapshot?.shimCurrent;
        const result = await applyMigrations(fromPglite(pglite), { includeShim, ...(options.migrationsDir ? { dir: options.migrationsDir } : {}) });
        if (result.applied.length) options.log.info(`ledger: applied migrations ${result.applied.join(', ')}`);
        await applyLocalSchema(db);
      }
      const localUserId = await ensureLocalUser(db);
      if (options.dataDir && owns) {
        const marker = path.join(options.dataDir, READY_MARKER);
        if (!existsSync(marker)) writeFileSync(marker, JSON.stringify({ createdAt: new Date().toISOString(), localUserId }) + '\n');
      }
      const ingester = new JournalIngester(db, options.journalDir, localUserId, { log: options.log, ...options.ingest });
      const outbox = new Outbox(db, { log: options.log, ...options.outbox });
      ingester.on('batch', (b: { inserted: number }) => { if (b.inserted > 0) outbox.kick(); });
      const engine = new LedgerEngine(pglite, db, localUserId, ingester, outbox, owns, Math.round(performance.now() - t0));
      engine.log = options.log;
      return engine;
    } catch (err) {
      if (owns) await pglite.close().catch(() => undefined);
      throw err;
    }
  }

  /** Starts ingesting the journal (catching up at once) and the outbox's schedule. */
  start(): void {
    // PGlite runs no autovacuum: the engine vacuums the rollups (every ingested batch
    // rewrites some of their rows) and refreshes the planner's statistics itself, after a
    // catch-up of many rows and hourly while usage arrives.
    this.ingester.on('batch', (b: { inserted: number }) => { this.insertedSinceMaintenance += b.inserted; });
    this.ingester.on('pass', () => {
      if (this.insertedSinceMaintenance >= MAINTAIN_AFTER_ROWS) void this.maintain();
    });
    this.maintenanceTimer = setInterval(() => { if (this.insertedSinceMaintenance > 0) void this.maintain(); }, MAINTAIN_EVERY_MS);
    this.maintenanceTimer.unref();
    this.ingester.start();
  }

  /** VACUUM (ANALYZE) of the rollups and ANALYZE of the usage tables; one at a time. */
  maintain(): Promise<void> {
    this.maintaining ??= (async () => {
      const t0 = performance.now();
      this.insertedSinceMaintenance = 0;
      try {
        await this.db.exec(`vacuum (analyze) public.usage_hourly_rollup, public.usage_project_hourly, public.usage_session_rollup, public.usage_session_model_rollup, public.usage_uncosted_hourly`);
        await this.db.exec(`analyze public.usage_tracking, public.routing_decisions, public.projects, public.agents`);
        this.log.debug(`ledger: maintenance (vacuum, analyze) took ${Math.round(performance.now() - t0)} ms`);
      } catch (err) {
        this.log.warn(`ledger: maintenance failed: ${(err as Error).message}`);
      } finally {
        this.maintaining = null;
      }
    })();
    return this.maintaining;
  }

  analytics(query: AnalyticsQuery, params: AnalyticsParams, now?: Date): Promise<RawAnalytics> {
    return runAnalytics(this.db, this.localUserId, query, params, now);
  }

  /** A usage report (reports.ts), computed to its end. */
  report(params: ReportParams, now?: Date): Promise<ReportResult> {
    return runUsageReport(this.db, this.localUserId, params, now);
  }

  /** The model settings saved through the projects API, for the gateway's routing cache. */
  modelSettings(): Promise<ModelSettingsSnapshot> {
    return loadModelSettings(this.db, this.localUserId, this.settingsVersion);
  }

  /** An operation of the projects API (projectStore.ts). */
  projects(op: ProjectOp): Promise<ProjectOpReply> {
    return runProjectOp(this.db, this.localUserId, op, {
      nextVersion: () => ++this.settingsVersion,
      agentDeleted: (id, externalId) => this.ingester.forgetAgent(id, externalId),
      projectDeleted: (id) => this.ingester.forgetProject(id),
    });
  }

  /** Budget policies, the spend that seeds the gateway's counters, and alerts (budgetStore.ts). */
  budgets<K extends BudgetOp['op']>(op: Extract<BudgetOp, { op: K }>): Promise<BudgetOpValues[K]> {
    return runBudgetOp(this.db, this.localUserId, op, this.ingester) as Promise<BudgetOpValues[K]>;
  }

  /** Workspaces linked to a shared project (workspaceLinks.ts); a change applies from the next push on. */
  async workspaceLinks<K extends LinkOp['op']>(op: Extract<LinkOp, { op: K }>): Promise<LinkOpValues[K]> {
    const value = await runLinkOp(this.db, op);
    if (op.op !== 'list') this.outbox.kick();
    return value as LinkOpValues[K];
  }

  /** A price added for a model: its stored requests without a known price get one (reprice.ts). */
  async repriceModel(model: string, price: ModelPrice): Promise<number> {
    const n = await repriceModel(this.db, model, price);
    if (n) this.outbox.kick();
    return n;
  }

  /** What conduit-claude tells of a run: claude's session id, the first prompt (sessionInfo.ts). */
  sessionInfo(info: SessionInfoInput): Promise<void> {
    return saveSessionInfo(this.db, this.localUserId, info);
  }

  /** Local plus Supabase: push to this user's project from now on (resuming its cursor). */
  async setSyncSession(session: SyncSessionInput): Promise<SyncStatus> {
    const claims = accessTokenClaims(session.accessToken);
    const key = `${session.url.replace(/\/+$/, '')}|${claims.sub}`;
    if (this.sessionTarget?.key === key) {
      this.sessionTarget.target.setAccessToken(session.accessToken); // a refreshed session
      this.outbox.kick();
    } else {
      const target = new SupabaseSyncTarget(session.url, session.anonKey, session.accessToken);
      this.sessionTarget = { key, target };
      this.setSyncTarget({ key, userId: claims.sub, label: new URL(session.url).host, target });
    }
    return this.outbox.status();
  }

  /** Any target (tests use a plain Postgres one). */
  setSyncTarget(config: SyncTargetConfig | null): void {
    if (!config || config.target !== this.sessionTarget?.target) this.sessionTarget = null;
    this.outbox.setTarget(config);
  }

  async clearSyncSession(): Promise<SyncStatus> {
    this.setSyncTarget(null);
    return this.outbox.status();
  }

  syncStatus(): Promise<SyncStatus> {
    return this.outbox.status();
  }

  /** Stops the outbox, ingests what the journal holds (bounded), closes the store. */
  async close(options: { finalIngestMs?: number } = {}): Promise<void> {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    await this.maintaining;
    await this.outbox.close();
    this.ingester.stopScheduling();
    const finalMs = options.finalIngestMs ?? 5_000;
    if (finalMs > 0) {
      await Promise.race([
        this.ingester.ingestAvailable().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, finalMs).unref()),
      ]);
    }
    await this.ingester.stop();
    if (this.ownsPglite) await this.pglite.close();
  }
}

/**
 * A new store: unpacks the build's snapshot into its data folder (PGlite then opens it as
 * an existing one). Without a usable snapshot PGlite runs initdb, as it always did.
 */
async function startFromSnapshot(options: LedgerEngineOptions & { dataDir: string | null }): Promise<{ shimCurrent: boolean } | null> {
  const dataDir = options.dataDir!;
  const snapshot = options.snapshot === undefined ? defaultSnapshotPath() : options.snapshot;
  if (!snapshot) {
    options.log.info('ledger: no store snapshot shipped with this build; creating the store with initdb');
    return null;
  }
  const { mismatch, shimCurrent } = checkSnapshot(snapshot, options.migrationsDir ?? defaultMigrationsDir());
  if (mismatch) {
    options.log.warn(`ledger: the store snapshot ${snapshot} is not used: ${mismatch}; creating the store with initdb`);
    return null;
  }
  const t0 = performance.now();
  try {
    const files = await unpackSnapshot(snapshot, dataDir);
    options.log.info(`ledger: created the store from the build's snapshot (${files} files in ${Math.round(performance.now() - t0)} ms)`);
    return { shimCurrent };
  } catch (err) {
    options.log.warn(`ledger: the store snapshot ${snapshot} could not be unpacked (${(err as Error).message}); creating the store with initdb`);
    rmSync(dataDir, { recursive: true, force: true });
    return null;
  }
}

/**
 * A data folder left by a first open that never finished (the gateway stopped during the
 * seconds it takes) holds no data yet: remove it and create the store again.
 */
function prepareDataDir(dataDir: string, log: Logger): void {
  if (existsSync(dataDir) && !existsSync(path.join(dataDir, READY_MARKER))) {
    log.warn(`ledger: ${dataDir} was left by an unfinished first start; creating the store again`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o700 });
}
