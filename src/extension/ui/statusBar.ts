/**
 * One status bar item driven by one health state: the gateway's health, the last routed
 * model (short name) and its rule, and what was spent today and this month (calendar periods
 * in the gateway's zone, as budgets count them) against the budgets when they are set
 * ("$7.13 / $40 today · $39.22 / $400 this month"), or the session's cost. Its tooltip
 * lists the last requests with command links (agents by name, model ids that never wrap); a
 * click opens the main actions. A gateway whose journal cannot write (records waiting in
 * memory for the disk), that refused a change of config.json, or that has no credentials
 * shows as a warning (ui/gatewayWarning.ts), with the reason in the tooltip.
 *
 * The costs are the usage store's (setTotals, read from the gateway whenever it says its
 * totals changed, ui/statusTotals.ts): this item adds nothing up itself, so a reload or
 * another window cannot make it drift. The routing indicator follows each request: a session
 * the extension runs reports its conduit_metadata lines the moment they arrive (onMetadata),
 * other sessions come through the event stream (onEvent).
 */
import * as vscode from 'vscode';
import type { ConduitMetadataLine, GatewayEvent, UsageRecord } from '../../protocol/usage';
import { MEASURE_LABELS, ROUTING_ESTIMATE_LABEL, isRefused, totalTokens } from '../../protocol/measures';
import { sessionIdOf } from '../../protocol/session';
import { gatewayWarning } from './gatewayWarning';
import { fallbackExplanation, fallbackOf, fallbackText, type FallbackSeen } from './fallbackStatus';
import type { GatewayState } from '../gateway/supervisor';
import type { Settings } from '../settings';
import type { CalendarSpend, PeriodSpend } from '../../protocol/webviewMessages';
import { formatSpendOfBudget, formatUsd, shortModel } from '../../protocol/format';

const MAX_RECENT = 5;

/** What the store says was spent: the calendar periods of a scope, and the shown session's cost. */
export interface StatusTotalsData {
  spend: CalendarSpend;
  /** Whose spend: "project synapse-app" or "all projects". */
  scopeLabel: string;
  /** The session asked for; null when none was. */
  session: { id: string; cost: number | null; unknownCostRequests: number } | null;
}

/** An agent's id where its name is known ("agent e7a3e922-… uses its own model" → agent "Reviewer" uses its own model). */
export type AgentNames = ReadonlyMap<string, string>;

/** A figure with "+?" when some of its requests have no known price. */
function spendFigure(p: PeriodSpend): string {
  return `${formatSpendOfBudget(p.cost, p.budgetUsd)}${p.unknownCostRequests > 0 ? '+?' : ''}`;
}

/** "$7.13 / $40 today · $39.22 / $400 this month". */
export function calendarSpendText(spend: CalendarSpend): string {
  return `${spendFigure(spend.today)} today · ${spendFigure(spend.month)} this month`;
}

/** A model id as a table cell that never wraps: non-breaking hyphens (U+2011) instead of the id's own. */
function unbreakable(text: string): string {
  return escapeMarkdown(text).replace(/\\-/g, '\u2011');
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

/** Who asked (SYNAPSE_PROJECT_ID / SYNAPSE_AGENT_ID), so the tooltip can name the agent. */
interface Asker { projectId: string | null; agentId: string | null }

/** A line of the tooltip's table. */
interface RecentRequest extends Routing, Asker {
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
  private totals: StatusTotalsData | null = null;
  private agentNames: AgentNames = new Map();
  private lastSession: string | null = null;
  /** The last session ran without Conduit (its metadata said "fallback"); null once a request is routed again. */
  private fallback: FallbackSeen | null = null;
  private readonly sessionChanged = new vscode.EventEmitter<string>();
  /** The session the item shows changed: its cost is to be read from the store. */
  readonly onDidChangeSession = this.sessionChanged.event;
  private readonly unknownAgent = new vscode.EventEmitter<Asker & { agentId: string }>();
  /** A request of an agent whose name is not known yet: its project's agents are to be read. */
  readonly onUnknownAgent = this.unknownAgent.event;

  constructor(private readonly settings: Settings) {
    this.item.name = 'Conduit';
    this.item.command = 'conduit.showActions';
    this.render();
    this.item.show();
  }

  setState(state: GatewayState): void {
    // A gateway that comes up again will route the next session.
    if (state.health === 'running' && this.state?.health !== 'running') this.fallback = null;
    this.state = state;
    this.render();
  }

  /** The session whose cost the item shows when conduit.statusBar.costScope is "session". */
  get session(): string | null { return this.lastSession; }

  /** Today's, this month's and the session's totals as the usage store has them. */
  setTotals(totals: StatusTotalsData): void {
    this.totals = totals;
    this.render();
  }

  /** Agents' names by id, for the tooltip. */
  setAgentNames(names: AgentNames): void {
    this.agentNames = names;
    this.render();
  }

  onEvent(e: GatewayEvent): void {
    if (e.type === 'decision' || e.type === 'usage') this.fallback = null;
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
    // A session without Conduit: nothing routed or priced to list, only that it happened.
    this.fallback = fallbackOf(m);
    if (this.fallback) return this.render();
    // The line was parsed from a process's output: each field is checked, not trusted to its type.
    const d = m.routingDecision;
    const routing = { model: text(d.model), source: text(d.source), rule: text(d.rule) };
    const asker = { projectId: typeof m.projectContext?.projectId === 'string' ? m.projectContext.projectId : null, agentId: typeof m.projectContext?.agentId === 'string' ? m.projectContext.agentId : null };
    const usage = m.usage && [m.usage.inputTokens, m.usage.outputTokens, m.usage.cacheCreationTokens, m.usage.cacheReadTokens].every((x) => count(x) !== null) ? m.usage : null;
    this.last = routing;
    this.addRecent({
      requestId: text(m.requestId), ...routing, ...asker, estimatedInputTokens: count(d.tokenCount) ?? 0,
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
      projectId: r.context.projectId ?? null, agentId: r.context.agentId ?? null,
      tokens: r.usage ? totalTokens(r.usage) : null, cost: r.cost.cost, refused: isRefused(r.cost),
    });
  }

  /** A request's line, once however many ways it arrives (its metadata line and its usage event). */
  private addRecent(entry: RecentRequest): void {
    const i = this.recent.findIndex((x) => x.requestId === entry.requestId);
    if (i >= 0) this.recent.splice(i, 1);
    this.recent.unshift(entry);
    this.recent.length = Math.min(this.recent.length, MAX_RECENT);
    if (entry.agentId && !this.agentNames.has(entry.agentId)) this.unknownAgent.fire({ projectId: entry.projectId, agentId: entry.agentId });
  }

  /** The rule with the agent named: the gateway's rules name an agent by its id. */
  private ruleText(r: RecentRequest): string {
    const name = r.agentId ? this.agentNames.get(r.agentId) : undefined;
    return name && r.agentId ? r.rule.split(r.agentId).join(`"${name.replace(/\s+/g, ' ')}"`) : r.rule;
  }

  private showSession(id: string | null): void {
    if (!id || id === this.lastSession) return;
    this.lastSession = id;
    this.sessionChanged.fire(id);
  }

  /** The spend the item shows: the session's, or today's and this month's; null until the store answered. */
  private shownSpend(): string | null {
    const t = this.totals;
    if (!t) return null;
    if (this.settings.costScope === 'session' && this.lastSession) {
      const session = t.session?.id === this.lastSession ? t.session : null;
      return session ? `${formatUsd(session.cost ?? 0)}${session.unknownCostRequests > 0 ? '+?' : ''} this session` : null;
    }
    return calendarSpendText(t.spend);
  }

  private render(): void {
    const s = this.state;
    const health = s?.health ?? 'stopped';
    // One warning with its reason: the journal, a refused config.json, or no credentials.
    const warning = health === 'running' ? gatewayWarning(s) : null;
    this.item.backgroundColor = health === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : health === 'stopped' || warning || this.fallback ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (this.fallback) {
      this.item.text = fallbackText(this.fallback);
    } else if (health === 'starting') {
      this.item.text = '$(loading~spin) Conduit';
    } else if (health === 'stopped') {
      this.item.text = '$(circle-slash) Conduit';
    } else if (health === 'error') {
      this.item.text = '$(error) Conduit';
    } else {
      const shown = this.shownSpend();
      const cost = shown ? ` · ${shown}` : '';
      this.item.text = `${warning ? '$(warning)' : '$(arrow-swap)'} ${this.last
        // The name stays once there is traffic: people must know whose item this is.
        ? `Conduit: ${shortModel(this.last.model)} · ${this.last.source}${cost}`
        : `Conduit${cost}`}`;
    }
    this.item.tooltip = this.tooltip(health, warning);
    this.item.accessibilityInformation = {
      label: `Conduit gateway ${health}${warning ? `, ${warning}` : ''}${this.fallback ? ', last session ran without Conduit' : this.last ? `, last routed to ${this.last.model}` : ''}`,
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
    if (this.fallback) md.appendMarkdown(`\n\n$(debug-disconnect) ${escapeMarkdown(fallbackExplanation(this.fallback))}`);
    if (this.totals) {
      const { spend, scopeLabel } = this.totals;
      md.appendMarkdown(`\n\nSpent by ${escapeMarkdown(scopeLabel)}: ${escapeMarkdown(spendFigure(spend.today))} today, ${escapeMarkdown(spendFigure(spend.month))} this month (calendar, ${escapeMarkdown(spend.timeZone)})`);
    }
    if (this.recent.length) {
      md.appendMarkdown(`\n\n| model | rule | ${MEASURE_LABELS.totalTokens} | ${ROUTING_ESTIMATE_LABEL} | cost |\n|---|---|---:|---:|---:|\n`);
      for (const r of this.recent) {
        const cost = r.refused ? 'refused' : r.cost === null ? (r.tokens === null ? '…' : 'unknown') : formatUsd(r.cost);
        md.appendMarkdown(`| ${unbreakable(shortModel(r.model))} | ${escapeMarkdown(r.source)}: ${escapeMarkdown(this.ruleText(r))} | ${r.tokens === null ? '–' : r.tokens.toLocaleString('en-US')} | ${r.estimatedInputTokens.toLocaleString('en-US')} | ${cost} |\n`);
      }
    }
    md.appendMarkdown(health === 'running'
      ? '\n\n[Restart](command:conduit.restartGateway) · [Stop](command:conduit.stopGateway) · [Logs](command:conduit.showLogs) · [Run agent](command:conduit.runAgentSession)'
      : '\n\n[Start](command:conduit.startGateway) · [Logs](command:conduit.showLogs)');
    return md;
  }

  dispose(): void {
    this.sessionChanged.dispose();
    this.unknownAgent.dispose();
    this.item.dispose();
  }
}
