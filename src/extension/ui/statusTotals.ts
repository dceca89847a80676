/**
 * Keeps the status bar's costs the usage store's: today's and this month's spend (calendar,
 * in the gateway's zone, against the budgets when set) of the workspace's project (every
 * project when the window has none or several folders), and the shown session's cost. They
 * are read from the gateway when its event stream connects (the gateway started, the window
 * reloaded), when the store says it ingested new requests, when a budget or project changed,
 * when the shown session or the cost scope changes, and on each quarter hour (a new day
 * starts with no request to announce it). Nothing is added up here.
 *
 * It also gives the status bar the names of the agents its requests came from (the gateway's
 * rules name an agent by its id).
 */
import * as vscode from 'vscode';
import { call } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import { WAIT_FOR_STORE, type GatewayApi } from '../gateway/gatewayApi';
import type { Projects } from '../projects';
import { loadCalendarSpend } from '../views/calendarSpend';
import { gatewayFacts } from '../views/gatewayFacts';
import { RefreshThrottle } from '../views/refreshThrottle';
import type { StatusBar, StatusTotalsData } from './statusBar';

/** The least time between two reads: a busy gateway ingests several times a second. */
const REFRESH_INTERVAL_MS = 250;
/** Every zone's offset is a multiple of 15 minutes: each local midnight falls on a UTC quarter hour. */
const QUARTER_HOUR_MS = 15 * 60_000;

export class StatusTotals implements vscode.Disposable {
  private readonly refresh = new RefreshThrottle(() => this.read(), REFRESH_INTERVAL_MS);
  private readonly subscriptions: vscode.Disposable[];
  private dayTimer: NodeJS.Timeout | undefined;
  private readonly agentNames = new Map<string, string>();
  /** Projects whose agents are being read, or were read and still lacked an id (read again after a change). */
  private readonly agentsAsked = new Set<string>();

  constructor(
    private readonly api: GatewayApi,
    private readonly statusBar: StatusBar,
    private readonly projects: Projects,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions = [
      api.onConnected(() => this.refresh.request()),
      api.onEvent((e) => { if (e.type === 'ingested') this.refresh.request(); }),
      // A budget was set or changed, an agent renamed: amounts and names are read again.
      api.onDidChangeProjects(() => { this.agentsAsked.clear(); this.refresh.request(); }),
      statusBar.onDidChangeSession(() => this.refresh.request()),
      statusBar.onUnknownAgent(({ projectId }) => { if (projectId) void this.readAgents(projectId); }),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('conduit.statusBar.costScope')) this.refresh.request(); }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh.request()),
    ];
    this.armDayTimer();
  }

  private armDayTimer(): void {
    const wait = QUARTER_HOUR_MS - (Date.now() % QUARTER_HOUR_MS) + 1_000;
    this.dayTimer = setTimeout(() => { this.refresh.request(); this.armDayTimer(); }, wait);
  }

  /** The workspace's one project, or none (every project) with no folder or several. */
  private project(): { key: string; name: string } | null {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length !== 1) return null;
    const p = this.projects.forFolder(folders[0]);
    return { key: p.key, name: p.folder.name };
  }

  private async read(): Promise<void> {
    try {
      const project = this.project();
      const sessionId = this.statusBar.session;
      const { timeZone } = await gatewayFacts(this.api);
      const sessionSummary = sessionId
        ? call(this.api, ROUTES.analyticsSummary, { query: { range: 'month', tz: timeZone, session: sessionId } }, WAIT_FOR_STORE)
        : Promise.resolve(null);
      const [spend, session] = await Promise.all([loadCalendarSpend(this.api, { projectKey: project?.key }, timeZone), sessionSummary]);
      const totals: StatusTotalsData = {
        spend,
        scopeLabel: project ? `project ${project.name}` : 'all projects',
        session: sessionId && session ? {
          id: sessionId,
          cost: session.cost,
          unknownCostRequests: session.unknownCostRequests,
        } : null,
      };
      this.statusBar.setTotals(totals);
    } catch (err) {
      // The item keeps the last totals it had; the next change reads them again.
      this.log.debug(`status bar totals: ${(err as Error).message}`);
    }
  }

  /** The names of a project's agents, once per project until something changes. */
  private async readAgents(projectKey: string): Promise<void> {
    if (this.agentsAsked.has(projectKey)) return;
    this.agentsAsked.add(projectKey);
    try {
      const agents = await call(this.api, ROUTES.agents, { params: { key: projectKey } });
      for (const a of agents) this.agentNames.set(a.id, a.name);
      this.statusBar.setAgentNames(new Map(this.agentNames));
    } catch (err) {
      this.agentsAsked.delete(projectKey); // asked again with the next request of an unknown agent
      this.log.debug(`status bar agent names: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    clearTimeout(this.dayTimer);
    for (const s of this.subscriptions) s.dispose();
    this.refresh.dispose();
  }
}
