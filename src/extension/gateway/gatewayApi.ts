/**
 * The extension's view of the running gateway: its local API (with the access token)
 * and its event stream, reconnected whenever the gateway (re)starts.
 */
import * as vscode from 'vscode';
import { readAccessToken } from '../../conduit/core/secretFile';
import { conduitPaths } from '../../conduit/core/paths';
import { request } from '../../conduit/client/gatewayClient';
import { connectSse, type SseConnection } from '../../conduit/client/sseClient';
import type { GatewayEvent } from '../../protocol/usage';
import type { GatewaySupervisor } from './supervisor';
import type { Settings } from '../settings';

/** An error answer of the gateway's API, with its status (503: not ready yet, try again). */
export class GatewayHttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class GatewayUnavailableError extends Error {
  constructor(message = 'The Conduit gateway is not running. Start it with "Conduit: Start Gateway".') {
    super(message);
  }
}

export class GatewayApi implements vscode.Disposable {
  private readonly events = new vscode.EventEmitter<GatewayEvent>();
  readonly onEvent = this.events.event;
  private readonly connected = new vscode.EventEmitter<void>();
  /** The event stream is (re)connected: nothing published from now on is missed; catch up on what was before. */
  readonly onConnected = this.connected.event;
  private readonly projectsChanged = new vscode.EventEmitter<void>();
  /** This window changed a project, agent or budget through the projects API (views showing them refresh). */
  readonly onDidChangeProjects = this.projectsChanged.event;
  private sse: SseConnection | null = null;
  private ssePort: number | null = null;
  private reconnect: NodeJS.Timeout | undefined;
  /** Calls waiting for the store to open (callWhenReady). */
  private storeWaiters = 0;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly supervisor: GatewaySupervisor, private readonly settings: Settings, private readonly log: vscode.LogOutputChannel) {
    this.subscription = supervisor.onDidChange((s) => {
      if (s.health === 'running' && s.port !== this.ssePort) this.connect();
      if (s.health !== 'running') this.disconnect();
    });
    if (supervisor.state.health === 'running') this.connect();
  }

  get token(): string | null {
    return readAccessToken(conduitPaths(this.settings.home).token);
  }

  /** GET/POST/PUT/DELETE on the gateway's local API; parsed JSON, or a clear error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { port } = this.supervisor.state;
    if (this.supervisor.state.health !== 'running' || port === null) throw new GatewayUnavailableError();
    const r = await request(port, method, path, { token: this.token, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000 });
    let parsed: unknown;
    try {
      parsed = r.body ? JSON.parse(r.body) : null;
    } catch {
      throw new Error(`the gateway answered ${r.status} with something that is not JSON`);
    }
    if (r.status >= 400) {
      const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${r.status}`;
      throw new GatewayHttpError(message.replace(/^\[conduit\] /, ''), r.status);
    }
    if (method !== 'GET' && path.startsWith('/v1/conduit/projects')) this.projectsChanged.fire();
    return parsed as T;
  }

  /**
   * call(), waiting while the gateway's usage store is still opening (it answers 503 for the
   * few seconds of a first start): a command run just after VS Code starts should work,
   * not fail. The wait shows in the status bar.
   */
  async callWhenReady<T>(method: string, path: string, body?: unknown, maxWaitMs = 60_000): Promise<T> {
    try {
      return await this.call<T>(method, path, body);
    } catch (err) {
      if (!(err instanceof GatewayHttpError) || err.status !== 503) throw err;
    }
    const deadline = Date.now() + maxWaitMs;
    const retry = async (): Promise<T> => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          return await this.call<T>(method, path, body);
        } catch (err) {
          if (!(err instanceof GatewayHttpError) || err.status !== 503 || Date.now() > deadline) throw err;
        }
      }
    };
    // One status bar entry however many calls wait together (the analytics panel makes nine).
    if (this.storeWaiters++ > 0) return retry().finally(() => { this.storeWaiters--; });
    return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Conduit: waiting for the usage store to open' }, retry))
      .finally(() => { this.storeWaiters--; });
  }

  private connect(): void {
    this.disconnect();
    const { port } = this.supervisor.state;
    const token = this.token;
    if (port === null || !token) return;
    this.ssePort = port;
    this.sse = connectSse(port, '/v1/conduit/events', token, (e) => {
      if (e.event !== 'decision' && e.event !== 'usage' && e.event !== 'budget' && e.event !== 'ingested') return;
      try {
        this.events.fire(JSON.parse(e.data) as GatewayEvent);
      } catch {
        this.log.warn('an event from the gateway was not valid JSON');
      }
    }, () => {
      // Dropped while the gateway still runs (a restart in between): try again shortly.
      this.sse = null;
      this.ssePort = null;
      clearTimeout(this.reconnect);
      this.reconnect = setTimeout(() => { if (this.supervisor.state.health === 'running') this.connect(); }, 1_000);
    });
    this.sse.ready.then(() => this.connected.fire(), (err) => this.log.warn(`event stream: ${(err as Error).message}`));
  }

  private disconnect(): void {
    clearTimeout(this.reconnect);
    this.sse?.close();
    this.sse = null;
    this.ssePort = null;
  }

  dispose(): void {
    this.disconnect();
    this.subscription.dispose();
    this.events.dispose();
    this.connected.dispose();
    this.projectsChanged.dispose();
  }
}
