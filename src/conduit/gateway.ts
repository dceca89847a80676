/**
 * Assembles a running gateway: configuration, access token, providers, prices, plugins,
 * journal, event hub, the usage ledger (its store in a child process) and the HTTP server on 127.0.0.1.
 */
import { watch, type FSWatcher } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type GatewayConfig } from './core/config';
import { createLogger, type Logger } from './core/log';
import { conduitPaths, type ConduitPaths } from './client/paths';
import { ensureAccessToken } from './core/secretFile';
import { createGatewayServer } from './http/server';
import { ProviderRegistry } from './http/providers';
import { PluginRouter } from './plugins/pluginRouter';
import { PriceTable } from './pricing/priceTable';
import { EventHub } from './usage/eventHub';
import { Journal } from './usage/journal';
import type { LedgerService } from './ledger/service';
import { storeIdleSeconds, WorkerLedger } from './ledger/process/workerLedger';
import { VERSION } from './version';
import { BudgetTracker } from './budgets/budgetTracker';
import { localTimeZone } from './core/timeZone';
import { LeaseRegistry } from './core/leases';
import { IdleStop } from './core/idleStop';
import { leasesStatus } from './http/leasesRoute';
import { STARTED_BY_ENV } from '../protocol/leases';
import { CredentialsTracker } from './core/credentials';
import { unknownModelProblem } from './core/knownModels';
import type { ConfigStatus } from '../protocol/configState';
import { DEFAULT_PROVIDER } from './http/providers';

export interface GatewayOptions {
  home: string;
  /** Overrides config.json's port; 0 picks a free one. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /**
   * The usage store: on by default (PGlite in CONDUIT_HOME/data/pglite, opened in a worker
   * thread after the server listens); false, or CONDUIT_LEDGER=off, runs without it; a
   * LedgerService is used as given (tests).
   */
  ledger?: boolean | LedgerService;
  /** The clock of budgets and records (tests move it across days and months); Date.now by default. */
  now?: () => number;
  /**
   * Called once when a gateway VS Code started has had no client for its grace period
   * (core/idleStop.ts): the process then closes it and exits (cli/foreground.ts).
   */
  onIdle?: (reason: string) => void;
}

export interface RunningGateway {
  port: number;
  url: string;
  token: string;
  paths: ConduitPaths;
  hub: EventHub;
  /** Budgets in memory (statuses, alerts; tests await budgets.saved()). */
  budgets: BudgetTracker;
  /** Re-reads config.json (also done when the file changes). */
  reloadConfig(): void;
  close(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on 127.0.0.1 is already in use (choose another with --port N or "port" in config.json)`);
    this.name = 'PortInUseError';
  }
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  const paths = conduitPaths(options.home);
  let config: GatewayConfig = loadConfig(paths.config, env);
  // A change the gateway refused: the last good configuration stays in force until the file is fixed.
  let configRefusal: { error: string; at: string } | null = null;
  const configStatus = (): ConfigStatus => ({
    state: configRefusal ? 'refused' : 'ok', file: paths.config, error: configRefusal?.error ?? null, refusedAt: configRefusal?.at ?? null,
  });
  const token = ensureAccessToken(paths.token);
  let providers = new ProviderRegistry(config.providers, env, config.personEndpoint);
  let prices = new PriceTable(config.prices);
  const hub = new EventHub();
  const credentials = new CredentialsTracker(() => ({ name: DEFAULT_PROVIDER, hasKey: providers.hasKey(DEFAULT_PROVIDER) }));
  const leases = new LeaseRegistry();
  const idleStop = new IdleStop({
    leases,
    startedBy: env[STARTED_BY_ENV] === 'vscode' ? 'vscode' : 'person',
    stop: (reason) => options.onIdle?.(reason),
  });
  const journal = new Journal(paths.journalDir, { log });
  const plugins = new PluginRouter(paths.pluginDir, config.pluginTimeoutMs, log, { env, providers: () => config.providers });
  // An untrusted VS Code workspace starts the gateway without plugins (they run code).
  if (env.CONDUIT_PLUGINS_DISABLED !== '1') await plugins.start();
  const startedAt = Date.now();
  let port = 0;
  let ledger: LedgerService | null = null;
  const now = options.now ?? Date.now;
  const zone = localTimeZone();
  const budgets = new BudgetTracker({
    now,
    timeZone: () => config.budgetTimeZone ?? zone,
    prices: () => prices,
    modelOf: (ref) => providers.resolve(ref).model,
    publish: (alert) => hub.publish({ type: 'budget', alert }),
    log,
  });

  const deps = {
    token,
    log,
    hub,
    journal,
    plugins,
    get ledger() { return ledger; },
    budgets,
    credentials,
    modelProblem: (ref: string) => unknownModelProblem(ref, { providers: config.providers, prices }),
    now,
    device: os.hostname(),
    get providers() { return providers; },
    get prices() { return prices; },
    // The prices route writes config.json and reloads it at once (reloadConfig is defined below).
    configFile: paths.config,
    reloadConfig: () => reloadConfig(),
    clients: { leases, idleStop },
    get upstreamTimeoutMs() { return config.upstreamTimeoutMs; },
    rules: () => config.rules,
    maxBodyBytes: () => config.maxBodyBytes,
    health: () => {
      // Degraded (still serving) while records the disk refused wait in memory.
      const journalHealth = journal.health();
      return {
        status: journalHealth.state, service: 'conduit', version: VERSION, pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        journal: journalHealth, credentials: { state: credentials.current.state }, config: { state: configStatus().state },
      };
    },
    status: () => ({
      running: true, pid: process.pid, port, version: VERSION, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      home: paths.home,
      // "Today" and "this month" everywhere (budgets, the views' totals): the configured zone, else the system's.
      timeZone: config.budgetTimeZone ?? zone,
      providers: providers.names().map((name) => {
        const p = providers.resolve(`${name}/x`).provider;
        return { name, baseUrl: p.origin.href.replace(/\/$/, '') + p.basePath, hasKey: p.apiKey !== null };
      }),
      // Sessions whose Claude Code environment names the person's own endpoint: where their requests went.
      personEndpoint: providers.personEndpoints(),
      credentials: credentials.current,
      config: configStatus(),
      rules: config.rules,
      plugins: plugins.plugins,
      prices: { source: prices.source, version: prices.version },
      subscribers: hub.subscriberCount,
      clients: leasesStatus({ leases, idleStop }),
      journal: journal.health(),
      ledger: ledger ? { state: ledger.state, error: ledger.error, unrecorded: ledger.unrecorded ?? null } : { state: 'off', error: null, unrecorded: null },
    }),
  };
  const server = createGatewayServer(deps);
  // Connections beyond it are closed as they arrive (their file descriptors freed at once).
  server.maxConnections = config.maxConnections;
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(options.port ?? config.port) : err);
    });
    server.listen(options.port ?? config.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  log.info(`conduit ${VERSION} listening on http://127.0.0.1:${port} (home ${paths.home})`);

  // The store opens in the background; the journal holds what arrives meanwhile.
  const ledgerOption = options.ledger ?? (env.CONDUIT_LEDGER ?? process.env.CONDUIT_LEDGER) !== 'off';
  if (typeof ledgerOption === 'object') ledger = ledgerOption;
  else if (ledgerOption) {
    ledger = new WorkerLedger({
      dataDir: path.join(paths.dataDir, 'pglite'), journalDir: paths.journalDir, log,
      // Closed while unused (its memory given back); reopened soon for new records while an event stream shows totals.
      idleSeconds: storeIdleSeconds(env.CONDUIT_STORE_IDLE_SECONDS ?? process.env.CONDUIT_STORE_IDLE_SECONDS, log),
      watched: () => hub.subscriberCount > 0,
    });
  }
  const unsubscribeLedger = hub.subscribe((e) => { if (e.type === 'usage') ledger?.announce([e.record.id]); });
  // Views read totals from the store; this tells them when to read again.
  const unsubscribeIngested = ledger?.onIngested((inserted) => hub.publish({ type: 'ingested', inserted, at: new Date(now()).toISOString() })) ?? (() => undefined);
  if (ledger) budgets.attach(ledger);

  const reloadConfig = () => {
    try {
      const next = loadConfig(paths.config, env);
      const old = providers;
      config = next;
      providers = new ProviderRegistry(next.providers, env, next.personEndpoint);
      prices = new PriceTable(next.prices);
      server.maxConnections = next.maxConnections;
      setTimeout(() => old.close(), 30_000).unref(); // let requests in flight finish on the old agents
      configRefusal = null;
      log.info('configuration reloaded');
    } catch (err) {
      configRefusal = { error: (err as Error).message, at: new Date(now()).toISOString() };
      log.error(`configuration not reloaded (the last good one stays in force): ${(err as Error).message}`);
    }
  };
  let watcher: FSWatcher | null = null;
  try {
    let debounce: NodeJS.Timeout | undefined;
    watcher = watch(paths.home, (_event, file) => {
      if (file !== 'config.json') return;
      clearTimeout(debounce);
      debounce = setTimeout(reloadConfig, 50);
    });
    watcher.unref();
  } catch { /* no file watching on this file system: SIGHUP still reloads */ }

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    token,
    paths,
    hub,
    budgets,
    reloadConfig,
    async close() {
      watcher?.close();
      idleStop.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        hub.shutdown(); // event streams never end by themselves
        server.closeIdleConnections();
        // Streams in flight get a moment to finish, then their sockets are closed.
        setTimeout(() => { for (const s of sockets) s.destroy(); }, 2_000).unref();
      });
      plugins.stop();
      providers.close();
      await journal.close();
      unsubscribeLedger();
      unsubscribeIngested();
      budgets.close();
      await ledger?.close();
      log.info('conduit stopped');
    },
  };
}
