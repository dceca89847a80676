/**
 * One status bar item driven by one health state: the gateway's health, the last routed
 * model (short name) and its rule, and the cost of the session or of today. Its tooltip
 * lists the last decisions with command links; a click opens the main actions. A gateway
 * whose journal cannot write (records waiting in memory for the disk) shows as a warning,
 * with the reason in the tooltip.
 */
import * as vscode from 'vscode';
import type { GatewayEvent, UsageRecord } from '../../protocol/usage';
import { journalProblem } from './journalProblem';
import type { RoutingDecision } from '../../protocol/routing';
import type { GatewayState } from '../gateway/supervisor';
import type { Settings } from '../settings';

const MAX_RECENT = 5;

export function shortModel(model: string): string {
  return model.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}

export function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, '\\$&');
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('conduit.status', vscode.StatusBarAlignment.Left, 100);
  private state: GatewayState | null = null;
  private readonly recent: { decision: RoutingDecision; cost: number | null }[] = [];
  private last: RoutingDecision | null = null;
  private todayCost = 0;
  private todayKey = new Date().toDateString();
  private readonly sessionCost = new Map<string, number>();
  private lastSession: string | null = null;

  constructor(private readonly settings: Settings) {
    this.item.name = 'Conduit';
    this.item.command = 'conduit.showActions';
    this.render();
    this.item.show();
  }

  setState(state: GatewayState): void {
    this.state = state;
    this.render();
  }

  /** Today's cost as the ledger knows it (when it answers), replacing the running sum. */
  setTodayCost(usd: number): void {
    this.todayCost = usd;
    this.render();
  }

  onEvent(e: GatewayEvent): void {
    if (e.type === 'decision') {
      this.last = e.decision;
      this.lastSession = e.context.sessionId ?? e.context.claudeSessionId ?? null;
    } else if (e.type === 'usage') {
      this.addUsage(e.record);
    }
    this.render();
  }

  private addUsage(r: UsageRecord): void {
    const today = new Date().toDateString();
    if (today !== this.todayKey) { this.todayKey = today; this.todayCost = 0; }
    const cost = r.cost.cost;
    if (cost !== null) {
      this.todayCost += cost;
      const session = r.context.sessionId ?? r.context.claudeSessionId;
      if (session) this.sessionCost.set(session, (this.sessionCost.get(session) ?? 0) + cost);
    }
    this.last = r.decision;
    this.lastSession = r.context.sessionId ?? r.context.claudeSessionId ?? this.lastSession;
    this.recent.unshift({ decision: r.decision, cost });
    this.recent.length = Math.min(this.recent.length, MAX_RECENT);
  }

  private render(): void {
    const s = this.state;
    const health = s?.health ?? 'stopped';
    const journalWarning = health === 'running' ? journalProblem(s?.journal) : null;
    this.item.backgroundColor = health === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : health === 'stopped' || journalWarning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (health === 'starting') {
      this.item.text = '$(loading~spin) Conduit';
    } else if (health === 'stopped') {
      this.item.text = '$(circle-slash) Conduit';
    } else if (health === 'error') {
      this.item.text = '$(error) Conduit';
    } else {
      const cost = this.settings.costScope === 'session' && this.lastSession ? this.sessionCost.get(this.lastSession) ?? 0 : this.todayCost;
      this.item.text = `${journalWarning ? '$(warning)' : '$(arrow-swap)'} ${this.last
        ? `${shortModel(this.last.model)} · ${this.last.source} · ${formatUsd(cost)}`
        : `Conduit · ${formatUsd(cost)}`}`;
    }
    this.item.tooltip = this.tooltip(health, journalWarning);
    this.item.accessibilityInformation = {
      label: `Conduit gateway ${health}${journalWarning ? `, ${journalWarning}` : ''}${this.last ? `, last routed to ${this.last.model}` : ''}`,
    };
  }

  private tooltip(health: string, journalWarning: string | null): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['conduit.startGateway', 'conduit.stopGateway', 'conduit.restartGateway', 'conduit.showLogs', 'conduit.runAgentSession'] };
    const s = this.state;
    md.appendMarkdown(`**Conduit** — ${health}`);
    if (s?.port) md.appendMarkdown(` on 127.0.0.1:${s.port}${s.owned ? '' : ' (started elsewhere)'}`);
    if (s?.message && health !== 'running') md.appendMarkdown(`\n\n${escapeMarkdown(s.message)}`);
    if (journalWarning) md.appendMarkdown(`\n\n$(warning) ${escapeMarkdown(journalWarning)}`);
    if (this.recent.length) {
      md.appendMarkdown('\n\n| model | rule | tokens | cost |\n|---|---|---:|---:|\n');
      for (const { decision: d, cost } of this.recent) {
        md.appendMarkdown(`| ${escapeMarkdown(shortModel(d.model))} | ${escapeMarkdown(d.source)}: ${escapeMarkdown(d.rule)} | ${d.tokenCount.toLocaleString('en-US')} | ${cost === null ? 'unknown' : formatUsd(cost)} |\n`);
      }
    }
    md.appendMarkdown(health === 'running'
      ? '\n\n[Restart](command:conduit.restartGateway) · [Stop](command:conduit.stopGateway) · [Logs](command:conduit.showLogs) · [Run agent](command:conduit.runAgentSession)'
      : '\n\n[Start](command:conduit.startGateway) · [Logs](command:conduit.showLogs)');
    return md;
  }

  dispose(): void {
    this.item.dispose();
  }
}
