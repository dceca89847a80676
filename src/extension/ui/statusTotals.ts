/**
 * Keeps the status bar's costs the usage store's: today's and the shown session's totals
 * are read from the gateway (the analytics summary) when its event stream connects (the
 * gateway started, the window reloaded), when the store says it ingested new requests,
 * when the shown session or the cost scope changes, and on each quarter hour (a new day
 * starts with no request to announce it). Nothing is added up here.
 */
import * as vscode from 'vscode';
import type { GatewayApi } from '../gateway/gatewayApi';
import { loadTotals } from '../views/analyticsData';
import { RefreshThrottle } from '../views/refreshThrottle';
import type { StatusBar } from './statusBar';

/** The least time between two reads: a busy gateway ingests several times a second. */
const REFRESH_INTERVAL_MS = 250;
/** Every zone's offset is a multiple of 15 minutes: each local midnight falls on a UTC quarter hour. */
const QUARTER_HOUR_MS = 15 * 60_000;

export class StatusTotals implements vscode.Disposable {
  private readonly refresh = new RefreshThrottle(() => this.read(), REFRESH_INTERVAL_MS);
  private readonly subscriptions: vscode.Disposable[];
  private dayTimer: NodeJS.Timeout | undefined;

  constructor(private readonly api: GatewayApi, private readonly statusBar: StatusBar, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      api.onConnected(() => this.refresh.request()),
      api.onEvent((e) => { if (e.type === 'ingested') this.refresh.request(); }),
      statusBar.onDidChangeSession(() => this.refresh.request()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('conduit.statusBar.costScope')) this.refresh.request(); }),
    ];
    this.armDayTimer();
  }

  private armDayTimer(): void {
    const wait = QUARTER_HOUR_MS - (Date.now() % QUARTER_HOUR_MS) + 1_000;
    this.dayTimer = setTimeout(() => { this.refresh.request(); this.armDayTimer(); }, wait);
  }

  private async read(): Promise<void> {
    try {
      this.statusBar.setTotals(await loadTotals(this.api, this.statusBar.session));
    } catch (err) {
      // The item keeps the last totals it had; the next change reads them again.
      this.log.debug(`status bar totals: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    clearTimeout(this.dayTimer);
    for (const s of this.subscriptions) s.dispose();
    this.refresh.dispose();
  }
}
