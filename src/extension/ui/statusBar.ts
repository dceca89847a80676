/**
 * One status bar item driven by one health state: the gateway's health, the last routed
 * model (short name) and its rule, and the cost of the session or of today. Its tooltip
 * lists the last requests with command links; a click opens the main actions. A gateway
 * whose journal cannot write (records waiting in memory for the disk), that refused a change
 * of config.json, or that has no credentials shows as a warning (ui/gatewayWarning.ts),
 * with the reason in the tooltip.
 *
 * The costs are the usage store's (setTotals, read from the gateway whenever it says its
 * totals changed): this item adds nothing up itself, so a reload or another window cannot
 * make it drift. The routing indicator follows each request: a session the extension runs
 * reports its conduit_metadata lines the moment they arrive (onMetadata), other sessions
 * come through the event stream (onEvent).
 */
import * as vscode from 'vscode';
import type { ConduitMetadataLine, GatewayEvent, UsageRecord } from '../../protocol/usage';
import { MEASURE_LABELS, ROUTING_ESTIMATE_LABEL, isRefused, totalTokens } from '../../protocol/measures';
import { sessionIdOf } from '../../protocol/session';
import { gatewayWarning } from './gatewayWarning';
import type { GatewayState } from '../gateway/supervisor';
import type { Settings } from '../settings';
import type { LedgerTotals } from '../views/analyticsData';

const MAX_RECENT = 5;

export function shortModel(model: string): string {
  return model.replace(/^claude-/, '').replace(/-\d{8}$/, '');
}

export function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

/** A field of a parsed line as text (any JSON value may be there). */
const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? ''));
/** A field of a parsed line as a finite, non-negative number, or null. */
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, '\\$&');
}

/** The routing of the last request: what the item shows. */
interface Routing { model: string; source: string; rule: string }

/** A line of the tooltip's table. */
interface RecentRequest extends Routing {
  requestId: string;
  /** The router's estimate of the prompt (RoutingDecision.tokenCount), labelled as such. */
  estimatedInputTokens: number;
  /** Total tokens (src/protocol/measures.ts); null until the reply's usage is known. */
  tokens: number | null;
  cost: number | null;
  refused: boolean;
}

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('conduit.status', vscode.StatusBarAlignment.Left, 100);
  private state: GatewayState | null = null;
  private readonly recent: RecentRequest[] = [];
  private last: Routing | null = null;
  private totals: LedgerTotals | null = null;
  private lastSession: string | null = null;
  private readonly sessionChanged = new vscode.EventEmitter<string>();
  /** The session the item shows changed: its cost is to be read from the store. */
  readonly onDidChangeSession = this.sessionChanged.event;

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

  /** The session whose cost the item shows when conduit.statusBar.costScope is "session". */
  get session(): string | null { return this.lastSession; }

  /** Today's and the session's totals as the usage store has them. */
  setTotals(totals: LedgerTotals): void {
    this.totals = totals;
    this.render();
  }

  onEvent(e: GatewayEvent): void {
    if (e.type === 'decision') {
      this.last = e.decision;
      this.showSession(sessionIdOf(e.context));
    } else if (e.type === 'usage') {
      this.addUsage(e.record);
    } else {
      return;
    }
    this.render();
  }

  /** A conduit_metadata line of a session the extension runs, as it arrives. */
  onMetadata(m: ConduitMetadataLine['data']): void {
    // The line was parsed from a process's output: each field is checked, not trusted to its type.
    const d = m.routingDecision;
    const routing = { model: text(d.model), source: text(d.source), rule: text(d.rule) };
    const usage = m.usage && [m.usage.inputTokens, m.usage.outputTokens, m.usage.cacheCreationTokens, m.usage.cacheReadTokens].every((x) => count(x) !== null) ? m.usage : null;
    this.last = routing;
    this.addRecent({
      requestId: text(m.requestId), ...routing, estimatedInputTokens: count(d.tokenCount) ?? 0,
      tokens: usage ? totalTokens(usage) : null, cost: usage ? count(usage.cost) : null, refused: false,
    });
    this.showSession(typeof m.sessionId === 'string' && m.sessionId ? m.sessionId : null);
    this.render();
  }

  private addUsage(r: UsageRecord): void {
    this.last = r.decision;
    this.showSession(sessionIdOf(r.context));
    this.addRecent({
      requestId: r.id, model: r.decision.model, source: r.decision.source, rule: r.decision.rule, estimatedInputTokens: r.decision.tokenCount,
      tokens: r.usage ? totalTokens(r.usage) : null, cost: r.cost.cost, refused: isRefused(r.cost),
    });
  }

  /** A request's line, once however many ways it arrives (its metadata line and its usage event). */
  private addRecent(entry: RecentRequest): void {
    const i = this.recent.findIndex((x) => x.requestId === entry.requestId);
    if (i >= 0) this.recent.splice(i, 1);
    this.recent.unshift(entry);
    this.recent.length = Math.min(this.recent.length, MAX_RECENT);
  }

  private showSession(id: string | null): void {
    if (!id || id === this.lastSession) return;
    this.lastSession = id;
    this.sessionChanged.fire(id);
  }

  /** The cost the item shows: the session's or today's, as the store has it; null until it answered. */
  private shownCost(): { cost: number; incomplete: boolean } | null {
    const t = this.totals;
    if (!t) return null;
    const session = this.settings.costScope === 'session' && this.lastSession ? t.session : null;
    if (this.settings.costScope === 'session' && this.lastSession && session?.id !== this.lastSession) return null;
    const figures = session ?? t.today;
    return { cost: figures.cost ?? 0, incomplete: figures.unknownCostRequests > 0 };
  }

  private render(): void {
    const s = this.state;
    const health = s?.health ?? 'stopped';
    // One warning with its reason: the journal, a refused config.json, or no credentials.
    const warning = health === 'running' ? gatewayWarning(s) : null;
    this.item.backgroundColor = health === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : health === 'stopped' || warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (health === 'starting') {
      this.item.text = '$(loading~spin) Conduit';
    } else if (health === 'stopped') {
      this.item.text = '$(circle-slash) Conduit';
    } else if (health === 'error') {
      this.item.text = '$(error) Conduit';
    } else {
      const shown = this.shownCost();
      const cost = shown ? ` · ${formatUsd(shown.cost)}${shown.incomplete ? '+?' : ''}` : '';
      this.item.text = `${warning ? '$(warning)' : '$(arrow-swap)'} ${this.last
        // The name stays once there is traffic: people must know whose item this is.
        ? `Conduit: ${shortModel(this.last.model)} · ${this.last.source}${cost}`
        : `Conduit${cost}`}`;
    }
    this.item.tooltip = this.tooltip(health, warning);
    this.item.accessibilityInformation = {
      label: `Conduit gateway ${health}${warning ? `, ${warning}` : ''}${this.last ? `, last routed to ${this.last.model}` : ''}`,
    };
  }

  private tooltip(health: string, warning: string | null): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['conduit.startGateway', 'conduit.stopGateway', 'conduit.restartGateway', 'conduit.showLogs', 'conduit.runAgentSession'] };
    const s = this.state;
    md.appendMarkdown(`**Conduit** — ${health}`);
    if (s?.port) md.appendMarkdown(` on 127.0.0.1:${s.port}${s.owned ? '' : ' (started elsewhere)'}`);
    if (s?.message && health !== 'running') md.appendMarkdown(`\n\n${escapeMarkdown(s.message)}`);
    if (warning) md.appendMarkdown(`\n\n$(warning) ${escapeMarkdown(warning)}`);
    if (this.recent.length) {
      md.appendMarkdown(`\n\n| model | rule | ${MEASURE_LABELS.totalTokens} | ${ROUTING_ESTIMATE_LABEL} | cost |\n|---|---|---:|---:|---:|\n`);
      for (const r of this.recent) {
        const cost = r.refused ? 'refused' : r.cost === null ? (r.tokens === null ? '…' : 'unknown') : formatUsd(r.cost);
        md.appendMarkdown(`| ${escapeMarkdown(shortModel(r.model))} | ${escapeMarkdown(r.source)}: ${escapeMarkdown(r.rule)} | ${r.tokens === null ? '–' : r.tokens.toLocaleString('en-US')} | ${r.estimatedInputTokens.toLocaleString('en-US')} | ${cost} |\n`);
      }
    }
    md.appendMarkdown(health === 'running'
      ? '\n\n[Restart](command:conduit.restartGateway) · [Stop](command:conduit.stopGateway) · [Logs](command:conduit.showLogs) · [Run agent](command:conduit.runAgentSession)'
      : '\n\n[Start](command:conduit.startGateway) · [Logs](command:conduit.showLogs)');
    return md;
  }

  dispose(): void {
    this.sessionChanged.dispose();
    this.item.dispose();
  }
}
