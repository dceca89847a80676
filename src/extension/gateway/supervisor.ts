/**
 * Starts, watches and restarts the Conduit gateway. It runs the bundled gateway on VS
 * Code's own Node (process.execPath with ELECTRON_RUN_AS_NODE=1), or an external command
 * from the settings; attaches to a gateway that is already running (another window, a
 * terminal); checks its health; restarts it with exponential backoff after a crash and,
 * after repeated failures, asks the person once ("Show Logs", "Retry").
 *
 * The gateway is shared by every window and session, so no window stops it on its way out:
 * each window holds a lease on it, renewed with every health check, and a closing window
 * releases its lease and asks the gateway to stop once no client is left (leave()). A
 * gateway this extension starts is marked so (STARTED_BY_ENV) and runs in its own process
 * group, so that it outlives the window that started it; one the person started is never
 * stopped that way.
 */
import * as vscode from 'vscode';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { conduitPaths } from '../../conduit/client/paths';
import { findRunningGateway, probeHealth } from '../../conduit/client/gatewayClient';
import { stopGateway } from '../../conduit/client/daemon';
import type { GatewayAccess } from '../../conduit/client/call';
import { releaseLease, renewLease, stopWhenIdle } from '../../conduit/client/leaseClient';
import { readAccessToken } from '../../conduit/client/accessTokenFile';
import { STARTED_BY_ENV } from '../../protocol/leases';
import type { Settings } from '../settings';
import type { JournalHealth } from '../../protocol/usage';
import type { CredentialsHealth } from '../../protocol/credentials';
import { configErrorOfLine, type ConfigHealth } from '../../protocol/configState';
import { ConfigFileWatch, refusedConfigReason } from './configFile';

export type Health = 'stopped' | 'starting' | 'running' | 'error';

export interface GatewayState {
  health: Health;
  port: number | null;
  pid: number | null;
  version: string | null;
  /** True when this window started the gateway (it restarts it after a crash or a settings change). */
  owned: boolean;
  /** Why it is stopped or failing, in words. */
  message: string | null;
  /** The journal as the last health check saw it (degraded: records wait in memory for the disk). */
  journal?: JournalHealth | null;
  /**
   * The gateway's credentials as the last health check saw them (src/protocol/credentials.ts):
   * 'none' means a session whose claude is not logged in fails. null while not running, or
   * from a gateway too old to say.
   */
  credentials?: CredentialsHealth | null;
  /**
   * config.json as the gateway judged it: refused at start (the gateway waits for the file
   * to change, no retries), or a change refused while it runs (the last good configuration
   * stays in force). null when there is nothing to fix.
   */
  configProblem?: ConfigProblem | null;
}

export interface ConfigProblem {
  kind: 'start' | 'reload';
  /** The gateway's own words: the file, the field and what is wrong with it. */
  reason: string;
}

/** The gateway stopped before it was ready because of config.json: retrying cannot help. */
class ConfigStartError extends Error {}

const HEALTH_INTERVAL_MS = 10_000;
const MAX_FAILURES = 5;
const STABLE_AFTER_MS = 60_000;
/** A window's lease outlasts three missed health checks (a busy extension host), not more. */
const WINDOW_LEASE_SECONDS = 45;
/** How long a gateway waits for a client after the last window closed: a reloading window comes back within it. */
const LEAVE_GRACE_SECONDS = 15;

export class GatewaySupervisor implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<GatewayState>();
  readonly onDidChange = this.changed.event;
  private current: GatewayState = { health: 'stopped', port: null, pid: null, version: null, owned: false, message: null };
  private child: ChildProcess | null = null;
  private wanted = false;           // the person wants it running
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | null = null;
  private disposed = false;
  /** This window's lease on the gateway. */
  private readonly leaseId = `vscode-window-${randomUUID()}`;
  /** config.json: a start it stopped is tried again when it changes; a change is checked at once. */
  private readonly configWatch: ConfigFileWatch;

  constructor(
    private readonly settings: Settings,
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly environment: () => Promise<NodeJS.ProcessEnv>,
  ) {
    this.configWatch = new ConfigFileWatch(conduitPaths(settings.home).config, () => this.onConfigFileChanged());
  }

  get state(): GatewayState { return this.current; }

  /** Starts (or attaches to) the gateway; resolves when it runs or has failed to start. */
  start(): Promise<void> {
    this.wanted = true;
    this.failures = 0;
    clearTimeout(this.retryTimer);
    this.starting ??= this.launch().finally(() => { this.starting = null; });
    return this.starting;
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.stopHealthChecks();
    if (this.child) {
      await this.stopChild();
    } else if (this.current.health === 'running') {
      // Attached to a gateway another process started: the person asked to stop it.
      const r = await stopGateway(conduitPaths(this.settings.home));
      if (r.kind === 'failed') this.log.error(`stop: ${r.message}`);
    }
    this.set({ health: 'stopped', port: null, pid: null, version: null, owned: false, message: 'stopped', credentials: null, configProblem: null });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * The window is closing: releases its lease and asks the gateway to stop once no client
   * holds one (a gateway VS Code started then stops after a grace period; one the person
   * started keeps running). Awaited by deactivate().
   */
  async leave(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.stopHealthChecks();
    const gw = this.access();
    if (!gw) return;
    try {
      await releaseLease(gw, this.leaseId);
      const answer = await stopWhenIdle(gw, LEAVE_GRACE_SECONDS);
      // A gateway that predates leases (an older external command) stops with the window that started it, as it used to.
      if (answer === null && this.child) await this.stopChild();
    } catch (err) {
      this.log.warn(`leaving the gateway: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    this.disposed = true;
    this.wanted = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.stableTimer);
    this.stopHealthChecks();
    this.configWatch.stop();
    this.letChildGo();
    this.changed.dispose();
  }

  private set(patch: Partial<GatewayState>): void {
    this.current = { ...this.current, ...patch };
    if (!this.disposed) this.changed.fire(this.current);
  }

  private async launch(): Promise<void> {
    this.set({ health: 'starting', message: null });
    const paths = conduitPaths(this.settings.home);
    const running = await findRunningGateway(paths);
    if (running) {
      this.log.info(`attached to the gateway on 127.0.0.1:${running.port} (pid ${running.pid})`);
      this.set({ health: 'running', port: running.port, pid: running.pid, version: running.health.version, owned: false, message: null, ...healthFields(running.health), configProblem: null });
      this.startHealthChecks();
      return;
    }
    try {
      await this.spawnGateway();
    } catch (err) {
      this.log.error(`the gateway did not start: ${(err as Error).message}`);
      if (err instanceof ConfigStartError) this.onConfigRefusedAtStart(err.message);
      else this.onFailure((err as Error).message);
    }
  }

  private async spawnGateway(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...(await this.environment()), CONDUIT_HOME: this.settings.home };
    const port = this.settings.port;
    const args = ['start', '--foreground', ...(port === null ? [] : ['--port', String(port)])];
    let command: string;
    let commandArgs: string[];
    const external = this.settings.gatewayCommand;
    if (external) {
      [command, ...commandArgs] = splitCommand(external);
      commandArgs.push(...args);
    } else {
      command = process.execPath;
      commandArgs = [path.join(this.extensionPath, 'dist', 'conduit.js'), ...args];
      env.ELECTRON_RUN_AS_NODE = '1';
    }
    if (this.settings.debugLog) env.LOG = 'true';
    this.log.info(`starting the gateway: ${external || 'bundled'} ${args.join(' ')}`);
    env[STARTED_BY_ENV] = 'vscode';
    // Its own process group (and on Windows its own console): it outlives this window.
    const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: true });
    this.child = child;

    await new Promise<void>((resolve, reject) => {
      let ready = false;
      let out = '';
      let configError: string | null = null;
      const onLine = (line: string) => {
        if (!line.trim()) return;
        configError ??= configErrorOfLine(line);
        this.log.info(line.replace(/^\S+Z (INFO |WARN |ERROR|DEBUG) ?/, ''));
        const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (listening && !ready) {
          ready = true;
          const port = Number(listening[1]);
          // The version comes from the gateway itself (an external command may differ).
          void probeHealth(port).then((h) => {
            this.set({ health: 'running', port, pid: child.pid ?? null, version: h?.version ?? null, owned: true, message: null, ...healthFields(h), configProblem: null });
            this.startHealthChecks();
            this.markStableLater();
            resolve();
          });
        }
        if (/already running/.test(line) && !ready) {
          ready = true;
          // Another window won the race: attach to its gateway.
          this.child = null;
          void this.launch().then(resolve, reject);
        }
      };
      const reader = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        let nl: number;
        while ((nl = out.indexOf('\n')) >= 0) {
          onLine(out.slice(0, nl));
          out = out.slice(nl + 1);
        }
      };
      child.stdout!.on('data', reader);
      child.stderr!.on('data', reader);
      child.once('error', (err) => { if (!ready) reject(err); });
      child.once('exit', (code, signal) => {
        if (out.trim()) onLine(out);
        if (this.child === child) this.child = null;
        if (!ready) {
          reject(configError ? new ConfigStartError(configError) : new Error(`the gateway exited (${signal ?? `code ${code}`}) before it was ready; see the Conduit log`));
          return;
        }
        if (this.wanted && !this.disposed && this.current.owned) {
          this.log.warn(`the gateway exited unexpectedly (${signal ?? `code ${code}`})`);
          this.onFailure(`the gateway exited (${signal ?? `code ${code}`})`);
        }
      });
    });
  }

  private onFailure(message: string): void {
    this.stopHealthChecks();
    clearTimeout(this.stableTimer);
    this.failures++;
    if (!this.wanted || this.disposed) return;
    if (this.failures >= MAX_FAILURES) {
      this.set({ health: 'error', port: null, pid: null, owned: false, message, credentials: null });
      void vscode.window.showErrorMessage(`Conduit's gateway keeps failing: ${message}`, 'Show Logs', 'Retry').then((choice) => {
        if (choice === 'Show Logs') this.log.show();
        if (choice === 'Retry') void this.start();
      });
      return;
    }
    const delay = Math.min(30_000, 1_000 * 2 ** (this.failures - 1));
    this.log.info(`restarting the gateway in ${delay / 1000} s (attempt ${this.failures + 1})`);
    this.set({ health: 'starting', port: null, pid: null, owned: false, message, credentials: null });
    this.retryTimer = setTimeout(() => {
      this.starting ??= this.launch().finally(() => { this.starting = null; });
    }, delay);
  }

  /** config.json stopped the start: say why, and start again once the file changes (not on a timer). */
  private onConfigRefusedAtStart(reason: string): void {
    this.stopHealthChecks();
    clearTimeout(this.stableTimer);
    if (!this.wanted || this.disposed) return;
    this.set({ health: 'error', port: null, pid: null, owned: false, message: reason, credentials: null, configProblem: { kind: 'start', reason } });
    if (!this.configWatch.start()) this.log.warn('config.json cannot be watched here: fix it, then run "Conduit: Start Gateway"');
  }

  private onConfigFileChanged(): void {
    if (this.disposed || !this.wanted) return;
    if (this.current.configProblem?.kind === 'start') {
      this.log.info('config.json changed: starting the gateway again');
      void this.start();
    } else if (this.current.health === 'running') {
      void this.checkHealth(true); // the gateway reloads it now: its verdict (and a new reason) shows at once
    }
  }

  private markStableLater(): void {
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => { this.failures = 0; }, STABLE_AFTER_MS);
  }

  private startHealthChecks(): void {
    this.stopHealthChecks();
    this.renewLease();
    this.healthMisses = 0;
    this.configWatch.start();
    void this.checkHealth(); // what it says of its journal, credentials and config.json, now
    this.healthTimer = setInterval(() => void this.checkHealth(), HEALTH_INTERVAL_MS);
  }

  private healthMisses = 0;

  /** `rereadConfig`: config.json changed, so a refusal's reason is read again. */
  private async checkHealth(rereadConfig = false): Promise<void> {
    const port = this.current.port;
    if (port === null) return;
    const h = await probeHealth(port);
    if (port !== this.current.port) return; // restarted meanwhile
    if (h) {
      this.healthMisses = 0;
      this.renewLease();
      const seen = { ...healthFields(h), configProblem: await this.configProblemOf(h.config, rereadConfig) };
      if (JSON.stringify(seen) !== JSON.stringify({ ...healthFields(this.current), configProblem: this.current.configProblem ?? null })) this.set(seen);
      return;
    }
    if (++this.healthMisses < 2) return;
    this.log.warn(`the gateway on port ${port} does not answer its health check`);
    if (this.child) {
      this.child.kill('SIGKILL'); // its exit handler restarts it
    } else {
      this.onFailure('the gateway stopped answering');
    }
  }

  /** A change of config.json the running gateway refused, with its reason (read once per refusal). */
  private async configProblemOf(config: ConfigHealth | undefined, reread: boolean): Promise<ConfigProblem | null> {
    if (config?.state !== 'refused') return null;
    const known = this.current.configProblem;
    if (known?.kind === 'reload' && !reread) return known;
    const gw = this.access();
    const reason = gw ? await refusedConfigReason(gw) : null;
    return reason ? { kind: 'reload', reason } : null;
  }

  private stopHealthChecks(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  /** The running gateway's port and access token, or null when there is none to talk to. */
  private access(): GatewayAccess | null {
    const token = readAccessToken(conduitPaths(this.settings.home).token);
    const { health, port } = this.current;
    return health === 'running' && port !== null && token ? { port, token } : null;
  }

  private renewLease(): void {
    const gw = this.access();
    if (!gw) return;
    renewLease(gw, this.leaseId, 'vscode-window', WINDOW_LEASE_SECONDS).then(
      (held) => { if (!held) this.log.debug('the gateway keeps no leases (an older version): it stops with the window that started it'); },
      (err: Error) => this.log.debug(`lease not renewed: ${err.message}`),
    );
  }

  /**
   * Stops watching the gateway this window started without stopping it: its output pipes
   * close (its log lines go nowhere from now on; it ignores the broken pipe) and it no
   * longer keeps this process alive.
   */
  private letChildGo(): void {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.removeAllListeners('exit');
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
  }

  private stopChild(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => { clearTimeout(killer); resolve(); });
      child.kill('SIGTERM');
    });
  }
}

/** What a health check adds to the state: the journal's and the credentials' condition. */
function healthFields(h: { journal?: JournalHealth | null; credentials?: CredentialsHealth | null } | null): Pick<GatewayState, 'journal' | 'credentials'> {
  return { journal: h?.journal ?? null, credentials: h?.credentials ? { state: h.credentials.state } : null };
}

/** Splits a command line on spaces, honouring double quotes (no shell is involved). */
export function splitCommand(line: string): string[] {
  const parts = line.match(/"[^"]*"|\S+/g) ?? [];
  return parts.map((p) => (p.startsWith('"') && p.endsWith('"') ? p.slice(1, -1) : p));
}
