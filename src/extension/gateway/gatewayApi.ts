/**
 * The extension's view of the running gateway: its local API (with the access token)
 * and its event stream, reconnected whenever the gateway (re)starts, and with backoff
 * whenever the stream is refused or drops while it runs (eventStream.ts).
 */
import * as vscode from 'vscode';
import { readAccessToken } from '../../conduit/client/accessTokenFile';
import { conduitPaths } from '../../conduit/client/paths';
import { request } from '../../conduit/client/request';
import { eventsPath } from '../../conduit/client/sseClient';
import { GatewayHttpError, answerOf, type CallOptions, type RouteCarrier } from '../../conduit/client/call';
import type { AnyRoute } from '../../protocol/route';
import { changesProjects } from './changesProjects';
import { ReconnectingEventStream } from './eventStream';
import type { GatewayEvent } from '../../protocol/usage';
import type { GatewaySupervisor } from './supervisor';
import type { Settings } from '../settings';

export { GatewayHttpError };

/** A command's call that may come just as the gateway starts: it waits up to a minute for the usage store to open. */
export const WAIT_FOR_STORE = { waitForStoreMs: 60_000 } as const;

export class GatewayUnavailableError extends Error {
  constructor(message = 'The Conduit gateway is not running. Start it with "Conduit: Start Gateway".') {
    super(message);
  }
}

export class GatewayApi implements RouteCarrier, vscode.Disposable {
  private readonly events = new vscode.EventEmitter<GatewayEvent>();
  readonly onEvent = this.events.event;
  private readonly connected = new vscode.EventEmitter<void>();
  /** The event stream is (re)connected: nothing published from now on is missed; catch up on what was before. */
  readonly onConnected = this.connected.event;
  private readonly projectsChanged = new vscode.EventEmitter<void>();
  /** This window changed a project, agent or budget (changesProjects.ts): views showing them refresh. */
  readonly onDidChangeProjects = this.projectsChanged.event;
  private readonly stream: ReconnectingEventStream;
  /** The port the event stream was started for; null while the gateway does not run. */
  private streamPort: number | null = null;
  /** Calls waiting for the store to open (send with waitForStoreMs). */
  private storeWaiters = 0;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly supervisor: GatewaySupervisor, private readonly settings: Settings, private readonly log: vscode.LogOutputChannel) {
    this.stream = new ReconnectingEventStream({
      path: eventsPath(),
      target: () => {
        const { port } = this.supervisor.state;
        const token = this.token;
        return port !== null && token ? { port, token } : null;
      },
      onEvent: (e) => {
        if (e.event !== 'decision' && e.event !== 'usage' && e.event !== 'budget' && e.event !== 'ingested') return;
        try {
          this.events.fire(JSON.parse(e.data) as GatewayEvent);
        } catch {
          this.log.warn('an event from the gateway was not valid JSON');
        }
      },
      onReady: () => this.connected.fire(),
      onDrop: (reason, retryInMs) => this.log.warn(`event stream: ${reason}; connecting again in ${(retryInMs / 1000).toFixed(1)} s`),
    });
    this.subscription = supervisor.onDidChange((s) => {
      if (s.health === 'running' && s.port !== this.streamPort) this.connect();
      if (s.health !== 'running') this.disconnect();
    });
    if (supervisor.state.health === 'running') this.connect();
  }

  get token(): string | null {
    return readAccessToken(conduitPaths(this.settings.home).token);
  }

  /**
   * Carries one call of a route to the running gateway (RouteCarrier): callers name the
   * route through call() of src/conduit/client/call.ts, which builds its path and checks
   * its answer. With waitForStoreMs, a call waits while the usage store is still opening
   * (it answers 503 for the few seconds of a first start): a command run just after VS
   * Code starts should work, not fail. The wait shows in the status bar.
   */
  async send(route: AnyRoute, path: string, body: unknown, options: CallOptions): Promise<unknown> {
    const answer = options.waitForStoreMs === undefined ? await this.once(route, path, body) : await this.whenStoreOpen(route, path, body, options.waitForStoreMs);
    if (changesProjects(route)) this.projectsChanged.fire();
    return answer;
  }

  /** One HTTP exchange: parsed JSON, or a clear error. */
  private async once(route: AnyRoute, path: string, body: unknown): Promise<unknown> {
    const { port } = this.supervisor.state;
    if (this.supervisor.state.health !== 'running' || port === null) throw new GatewayUnavailableError();
    return answerOf(await request(port, route.method, path, { token: this.token, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: 10_000 }));
  }

  private async whenStoreOpen(route: AnyRoute, path: string, body: unknown, maxWaitMs: number): Promise<unknown> {
    try {
      return await this.once(route, path, body);
    } catch (err) {
      if (!(err instanceof GatewayHttpError) || err.status !== 503) throw err;
    }
    const deadline = Date.now() + maxWaitMs;
    const retry = async (): Promise<unknown> => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          return await this.once(route, path, body);
        } catch (err) {
          if (!(err instanceof GatewayHttpError) || err.status !== 503 || Date.now() > deadline) throw err;
        }
      }
    };
    // One status bar entry however many calls wait together.
    if (this.storeWaiters++ > 0) return retry().finally(() => { this.storeWaiters--; });
    return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Conduit: waiting for the usage store to open' }, retry))
      .finally(() => { this.storeWaiters--; });
  }

  private connect(): void {
    this.streamPort = this.supervisor.state.port;
    this.stream.start();
  }

  private disconnect(): void {
    this.stream.stop();
    this.streamPort = null;
  }

  dispose(): void {
    this.disconnect();
    this.subscription.dispose();
    this.events.dispose();
    this.connected.dispose();
    this.projectsChanged.dispose();
  }
}
