/**
 * The usage analytics panel, the model configuration panel and the sidebar view. Each
 * speaks the typed protocol of src/protocol/webviewMessages.ts; panels come back after a
 * window reload through their serializers (their state lives in the webview).
 */
import * as vscode from 'vscode';
import { MODEL_CATEGORIES } from '../../protocol/modelCategory';
import { call } from '../../conduit/client/call';
import type { BudgetStatus } from '../../protocol/budgets';
import { parseProjectModelConfig } from '../../protocol/modelConfig';
import { ROUTES } from '../../protocol/routes';
import type { ModelConfigViewInit } from '../../protocol/webviewMessages';
import type { SidebarSpendData } from '../../protocol/webviewMessages';
import type { UsageRecord } from '../../protocol/usage';
import { isOfSession } from '../../protocol/session';
import {
  isAnalyticsWebviewMessage, isBudgetStatus, isModelConfigWebviewMessage, isSidebarWebviewMessage,
  type AnalyticsHostMessage, type AnswerTo, type GatewayActionMessage, type InheritedRules, type ModelOption, type RoutingDecisionMessage,
  type UsageEventMessage, type WebviewRequests,
} from '../../protocol/webviewMessages';
import { ValidationError } from '../../protocol/validate';
import { GatewayHttpError, type GatewayApi } from '../gateway/gatewayApi';
import type { GatewaySupervisor } from '../gateway/supervisor';
import type { Projects, Project } from '../projects';
import { analyticsRequests, onAnalyticsMessage, type AnalyticsPanelTarget } from './analyticsPanel';
import { RefreshThrottle } from './refreshThrottle';
import { loadModelConfigExtras } from './modelConfigData';
import { healthViewOf, loadSidebarData } from './sidebarData';
import type { ModelChoices } from '../walkthrough/modelChoice';
import { postToWebview, renderWebview, serveWebview, webviewOptions } from './webviewHost';

export const ANALYTICS_PANEL = 'conduit.analytics';
export const MODEL_CONFIG_PANEL = 'conduit.modelConfig';
export const SIDEBAR_VIEW = 'conduit.sidebar';

/** The command each of the sidebar's gateway buttons runs (the credential fixes are the walkthrough's and the status bar menu's). */
const GATEWAY_ACTION_COMMANDS: Record<GatewayActionMessage['action'], string> = {
  start: 'conduit.startGateway', restart: 'conduit.restartGateway', showLogs: 'conduit.showLogs',
  setApiKey: 'conduit.setApiKey', claudeLogin: 'conduit.openClaudeTerminal',
};

/** The longest a view lags behind a change; also the least time between two refreshes of it (a busy gateway ingests several times a second). */
const REFRESH_INTERVAL_MS = 750;

/** The models offered in the default-model select, with their categories. */
export const MODEL_OPTIONS: ModelOption[] = [
  { id: MODEL_CATEGORIES.balanced, name: 'Claude Sonnet 5.5', category: 'balanced' },
  { id: MODEL_CATEGORIES.fast, name: 'Claude Haiku 4.5', category: 'fast' },
  { id: MODEL_CATEGORIES.powerful, name: 'Claude Opus 5.5', category: 'powerful' },
  { id: 'claude-opus-5', name: 'Claude Opus 5', category: 'powerful' },
  { id: 'claude-opus-4-8', name: 'Claude Opus 4.8', category: 'powerful' },
  { id: 'claude-sonnet-5', name: 'Claude Sonnet 5', category: 'balanced' },
  { id: 'claude-sonnet-4-6', name: 'Claude Sonnet 4.6', category: 'balanced' },
];

/**
 * The field a refused save names: a ValidationError's path, or the path the gateway's 400
 * answer starts with ("budget.softLimitPercent: expected ..."), so the view can show it inline.
 */
function failedField(err: unknown): string | null {
  if (err instanceof ValidationError) return err.path;
  // The gateway's 400s start with the field's path, list indexes included ("modelConfig.rules.fallbackModels[1]: ...").
  if (err instanceof GatewayHttpError && err.status === 400) return /^([A-Za-z][\w.[\]]*): /.exec(err.message)?.[1] ?? null;
  return null;
}

export class Views implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** Open analytics panels, each with the session it is scoped to (null: the project). */
  private readonly analyticsPanels = new Map<vscode.WebviewPanel, string | null>();
  /** Open model configuration panels, each with the project or agent it shows. */
  private readonly modelConfigPanels = new Map<vscode.WebviewPanel, { project: Project; agentId?: string }>();
  private sidebar: vscode.WebviewView | null = null;
  // Each kind of view re-reads what it shows when the gateway starts or stops and when what it
  // shows changes; these keep that to one refresh per interval under load.
  private readonly analyticsRefresh = new RefreshThrottle(() => this.postToAnalytics({ type: 'refresh' }), REFRESH_INTERVAL_MS);
  private readonly sidebarRefresh = new RefreshThrottle(() => this.pushSidebarData(), REFRESH_INTERVAL_MS);
  private readonly modelConfigRefresh = new RefreshThrottle(() => this.pushModelConfigs(), REFRESH_INTERVAL_MS);
  /** Whether the gateway ran at the last state change: views refresh when that flips. */
  private wasRunning: boolean;
  /** The latest usage records seen live: replayed after each fetch (see wireAnalytics). */
  private readonly recentRecords: UsageRecord[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly api: GatewayApi,
    private readonly supervisor: GatewaySupervisor,
    private readonly projects: Projects,
    /** Where a save of a project's model configuration is recorded (the walkthrough's model step). */
    private readonly modelChoices: ModelChoices,
  ) {
    this.wasRunning = supervisor.state.health === 'running';
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(ANALYTICS_PANEL, { deserializeWebviewPanel: async (panel) => this.wireAnalytics(panel) }),
      vscode.window.registerWebviewPanelSerializer(MODEL_CONFIG_PANEL, {
        deserializeWebviewPanel: async (panel, state: { target?: { projectKey?: string; agentId?: string } } | undefined) => {
          const folder = (vscode.workspace.workspaceFolders ?? []).map((f) => projects.forFolder(f)).find((p) => p.key === state?.target?.projectKey);
          if (!folder) { panel.dispose(); return; }
          await this.wireModelConfig(panel, folder, state?.target?.agentId);
        },
      }),
      vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW, { resolveWebviewView: (view) => this.wireSidebar(view) }),
      api.onEvent((e) => {
        // The store committed new requests: totals and budget spend changed. A budget alert: its spend did.
        if (e.type === 'ingested') { this.analyticsRefresh.request(); this.sidebarRefresh.request(); }
        if (e.type === 'ingested' || e.type === 'budget') this.modelConfigRefresh.request();
        if (e.type === 'budget' || e.type === 'ingested') return; // budget alerts and the store's changes are not panel messages
        if (e.type === 'usage') {
          this.recentRecords.push(e.record);
          if (this.recentRecords.length > 50) this.recentRecords.shift();
        }
        const message: UsageEventMessage | RoutingDecisionMessage = e.type === 'usage' ? { type: 'usageEvent', record: e.record } : { type: 'routingDecision', requestId: e.requestId, decision: e.decision };
        if (message.type === 'usageEvent') for (const [p, session] of this.analyticsPanels) if (!session || isOfSession(message.record.context, session)) void postToWebview(p.webview, 'analytics', message);
        if (this.sidebar) void postToWebview(this.sidebar.webview, 'sidebar', message);
      }),
      supervisor.onDidChange((s) => {
        if (this.sidebar) void postToWebview(this.sidebar.webview, 'sidebar', { type: 'health', health: healthViewOf(s) });
        // Started or stopped: what every view shows was read from a gateway that was, or was not, there.
        const running = s.health === 'running';
        if (running !== this.wasRunning) this.refreshAll();
        this.wasRunning = running;
      }),
      // A budget, an agent or a project's models changed (Set Budget, agent commands, another panel's save).
      api.onDidChangeProjects(() => this.modelConfigRefresh.request()),
      this.analyticsRefresh, this.sidebarRefresh, this.modelConfigRefresh,
    );
  }

  /** Every open view reads what it shows again (at most once per REFRESH_INTERVAL_MS). */
  refreshAll(): void {
    this.analyticsRefresh.request();
    this.sidebarRefresh.request();
    this.modelConfigRefresh.request();
  }

  private postToAnalytics(message: AnalyticsHostMessage): void {
    for (const panel of this.analyticsPanels.keys()) void postToWebview(panel.webview, 'analytics', message);
  }

  private async pushSidebarData(): Promise<void> {
    const view = this.sidebar;
    if (view) await postToWebview(view.webview, 'sidebar', { type: 'sidebarData', data: await this.sidebarData() });
  }

  /** Each model configuration panel gets its project or agent as stored now (the view keeps unsaved edits). */
  private async pushModelConfigs(): Promise<void> {
    await Promise.all([...this.modelConfigPanels].map(async ([panel, { project, agentId }]) => {
      const init = await this.modelConfigInit(project, agentId, 'read').catch(() => null);
      if (init && this.modelConfigPanels.has(panel)) await postToWebview(panel.webview, 'modelConfig', { type: 'init', ...init });
    }));
  }

  /** The analytics panel of the workspace's project, or of one agent session. */
  openAnalytics(sessionId: string | null = null): void {
    const title = sessionId ? `Session ${sessionId.slice(0, 8)}` : 'Usage Analytics';
    const panel = vscode.window.createWebviewPanel(ANALYTICS_PANEL, title, vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    this.wireAnalytics(panel, sessionId);
  }

  async openModelConfig(project: Project, agentId?: string): Promise<void> {
    const panel = vscode.window.createWebviewPanel(MODEL_CONFIG_PANEL, agentId ? 'Agent Model Configuration' : 'Project Model Configuration', vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    await this.wireModelConfig(panel, project, agentId);
  }

  private wireAnalytics(panel: vscode.WebviewPanel, sessionId: string | null = null): void {
    panel.webview.options = webviewOptions(this.extensionUri);
    renderWebview(panel.webview, this.extensionUri, 'analytics', panel.title, { sessionId });
    this.analyticsPanels.set(panel, sessionId);
    const project = vscode.workspace.workspaceFolders?.length === 1 ? this.projects.forFolder(vscode.workspace.workspaceFolders[0]) : null;
    panel.onDidDispose(() => this.analyticsPanels.delete(panel));
    const target: AnalyticsPanelTarget = {
      api: this.api, projectKey: project?.key ?? null, projectName: project?.folder.name ?? null, sessionId,
      recentRecords: () => this.recentRecords,
      post: (message) => void postToWebview(panel.webview, 'analytics', message),
      openSession: (id) => this.openAnalytics(id),
      refreshAll: () => this.analyticsRefresh.request(),
    };
    serveWebview(panel.webview, 'analytics', analyticsRequests(target), isAnalyticsWebviewMessage, (m) => onAnalyticsMessage(target, m));
  }

  private async wireModelConfig(panel: vscode.WebviewPanel, project: Project, agentId?: string): Promise<void> {
    panel.webview.options = webviewOptions(this.extensionUri);
    const init = await this.modelConfigInit(project, agentId);
    renderWebview(panel.webview, this.extensionUri, 'modelConfig', panel.title, init);
    this.modelConfigPanels.set(panel, { project, agentId });
    panel.onDidDispose(() => this.modelConfigPanels.delete(panel));
    serveWebview(panel.webview, 'modelConfig', { save: (m) => this.save(project, m) }, isModelConfigWebviewMessage, async (m) => {
      if (m.type === 'ready') void postToWebview(panel.webview, 'modelConfig', { type: 'init', ...(await this.modelConfigInit(project, agentId)) });
    });
  }

  /** Stores a model configuration panel's save; the answer says what was stored, or why not. */
  private async save(project: Project, m: WebviewRequests['save']['params']): Promise<AnswerTo<'save'>> {
    // The budget (when the form changed it) goes in the same PUT: one answer, one stored state.
    const budget = m.budget === undefined ? {} : { budget: m.budget };
    try {
      if (m.kind === 'project') {
        const config = parseProjectModelConfig(m.config, 'modelConfig');
        const saved = await call(this.api, ROUTES.saveProject, { params: { key: project.key }, body: { name: project.folder.name, modelConfig: config, ...budget } });
        await this.modelChoices.record(project.key);
        return { type: 'saved', project: saved, budgetStatuses: await this.budgetStatuses(project, null) };
      }
      const saved = await call(this.api, ROUTES.saveAgent, { params: { key: project.key, agentId: m.agentId }, body: { ...m.config, ...budget } });
      return { type: 'saved', agent: saved, budgetStatuses: await this.budgetStatuses(project, m.agentId) };
    } catch (err) {
      return { type: 'saveFailed', message: (err as Error).message, field: failedField(err) };
    }
  }

  /** The gateway's catalogue (its price table, config and rules), or the built-in list. */
  private async models(): Promise<ModelOption[]> {
    try {
      const { models } = await call(this.api, ROUTES.models, {});
      return models.length ? models : MODEL_OPTIONS;
    } catch {
      return MODEL_OPTIONS;
    }
  }

  /**
   * The routing rules a project inherits: the gateway's defaults with config.json's
   * `routing` merged over them, as the gateway routes with them (ROUTES.rules).
   */
  private async inheritedRules(): Promise<InheritedRules> {
    const r = await call(this.api, ROUTES.rules, {});
    return {
      longContextThreshold: r.longContextThreshold, longContextModel: r.longContextModel, backgroundModel: r.backgroundModel,
      webSearchModel: r.webSearchModel, reasoningModel: r.reasoningModel, fallbackModels: r.fallbackModels,
      pluginsEnabled: r.pluginsEnabled, defaultModel: r.defaultModel,
    };
  }

  /**
   * The current spend of the project's (agentId null) or the agent's budgets; undefined when
   * the gateway cannot tell (not running, or one without budgets): the view shows no spend then.
   */
  private async budgetStatuses(project: Project, agentId: string | null): Promise<BudgetStatus[] | undefined> {
    try {
      const { statuses } = await call(this.api, ROUTES.budgets, { query: { project: project.key } });
      if (!Array.isArray(statuses)) return undefined;
      return statuses.filter((s) => isBudgetStatus(s) && s.projectKey === project.key
        && (agentId === null ? s.scope === 'project' : s.scope === 'agent' && s.agentId === agentId));
    } catch {
      return undefined;
    }
  }

  /**
   * What a model configuration panel shows. Opening one stores the project when it is new (PUT);
   * a refresh only reads it (GET): a PUT is a change of the projects API, which would refresh
   * the panels again, and again.
   */
  private async modelConfigInit(project: Project, agentId?: string, how: 'store' | 'read' = 'store'): Promise<ModelConfigViewInit> {
    const info = how === 'read'
      ? await call(this.api, ROUTES.project, { params: { key: project.key } })
      : await this.projects.info(project);
    const models = await this.models();
    const inheritedRules = await this.inheritedRules();
    if (agentId) {
      const agent = (await this.projects.agents(project)).find((a) => a.id === agentId);
      if (agent) return { target: { kind: 'agent', project: info, agent }, models, inheritedRules, budgetStatuses: await this.budgetStatuses(project, agent.id), ...await loadModelConfigExtras(this.api, project.key, agent.id) };
    }
    return { target: { kind: 'project', project: info }, models, inheritedRules, budgetStatuses: await this.budgetStatuses(project, null), ...await loadModelConfigExtras(this.api, project.key, null) };
  }

  private wireSidebar(view: vscode.WebviewView): void {
    this.sidebar = view;
    view.webview.options = webviewOptions(this.extensionUri);
    renderWebview(view.webview, this.extensionUri, 'sidebar', 'Conduit', {});
    view.onDidDispose(() => { if (this.sidebar === view) this.sidebar = null; });
    serveWebview(view.webview, 'sidebar', {
      requestSidebarData: async () => ({ type: 'sidebarData', data: await this.sidebarData() }),
    }, isSidebarWebviewMessage, (m) => {
      if (m.type === 'openPanel') {
        void vscode.commands.executeCommand(m.panel === 'analytics' ? 'conduit.openUsageAnalytics' : 'conduit.configureProjectModel');
      } else if (m.type === 'gatewayAction') {
        void vscode.commands.executeCommand(GATEWAY_ACTION_COMMANDS[m.action]);
      }
    });
  }

  /** The workspace's project when the window has one folder; every project otherwise (the sidebar says which). */
  private async sidebarData(): Promise<SidebarSpendData> {
    const s = this.supervisor.state;
    const folders = vscode.workspace.workspaceFolders ?? [];
    const project = folders.length === 1 ? this.projects.forFolder(folders[0]) : null;
    return loadSidebarData(this.api, healthViewOf(s), project && { key: project.key, name: project.folder.name });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
