/**
 * The "first agent session" walkthrough (package.json contributes.walkthroughs, texts in
 * media/walkthrough/). Each step checks itself off through a context key
 * (`completionEvents: ["onContext:<key>"]`) set here from real state, never from a click:
 *  - claude found: the locator found a claude to run (ClaudeFinder);
 *  - credentials: the gateway has a provider key or forwards a Claude login (its status);
 *  - default model: a person chose the project's model (modelChoice.ts: the gateway stores
 *    every project with the default one, so that alone says nothing);
 *  - first session: the store holds a session of the workspace's project (analytics);
 *  - analytics: the usage analytics panel is open in a tab.
 * The state is read again whenever it may have changed: the gateway's state, its events
 * (each ingestion pass), the setting, the tabs.
 *
 * Each step's expression also holds `conduit.walkthroughShown`, set once the walkthrough is
 * on screen. VS Code registers an extension's walkthrough up to 5 s after the extension
 * host starts (it waits for an experiment service), and a step whose expression is already
 * true then is never checked off, not even by later changes (VS Code 1.100,
 * gettingStartedService: the event is marked as seen without progressing the step). Claude
 * is found within milliseconds of activation, so without that key its step stayed unchecked.
 */
import * as vscode from 'vscode';
import { call } from '../../conduit/client/call';
import { ROUTES } from '../../protocol/routes';
import type { GatewayApi } from '../gateway/gatewayApi';
import type { GatewaySupervisor } from '../gateway/supervisor';
import type { Projects } from '../projects';
import { CLAUDE_FOUND_CONTEXT, type ClaudeFinder } from '../claude/claudeFinder';
import { credentialsStateOf, type CredentialsState } from './credentialsState';
import { projectModelChosen, type ModelChoices } from './modelChoice';

export const WALKTHROUGH_ID = 'synapse.synapse-conduit#conduit.firstSession';

/** The context keys of the steps (the first is the ClaudeFinder's own). */
export const WALKTHROUGH_CONTEXT = {
  shown: 'conduit.walkthroughShown',
  claudeFound: CLAUDE_FOUND_CONTEXT,
  hasCredentials: 'conduit.hasCredentials',
  projectModelSet: 'conduit.projectModelSet',
  sessionRecorded: 'conduit.sessionRecorded',
  analyticsOpened: 'conduit.analyticsOpened',
} as const;

/** The usage analytics panel's view type (src/extension/views/panels.ts). */
const ANALYTICS_VIEW_TYPE = 'conduit.analytics';
/**
 * The last 30 days (the longest range the analytics take without dates; a step once
 * checked stays checked, VS Code keeps it).
 */
const RECENT = 'month';

export interface WalkthroughDeps {
  claude: ClaudeFinder;
  supervisor: GatewaySupervisor;
  api: GatewayApi;
  projects: Projects;
  /** Saves of a project's model configuration, recorded in the workspace's state. */
  modelChoices: ModelChoices;
  log: vscode.LogOutputChannel;
  /** The extension's display name, as the walkthrough's tab shows it. */
  displayName: string;
}

export class Walkthrough implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly keys = new Map<string, boolean>();
  /** One read at a time; a change during one asks for one more after it. */
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(private readonly d: WalkthroughDeps) {
    this.disposables.push(
      d.supervisor.onDidChange(() => this.refresh()),
      d.api.onEvent((e) => { if (e.type === 'ingested' || e.type === 'usage') this.refresh(); }),
      vscode.window.tabGroups.onDidChangeTabs(() => this.checkTabs()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
      d.modelChoices.onDidRecord(() => this.refresh()),
    );
    void d.claude.checkAtStartup(); // also sets its step's context key
    this.checkTabs();
    this.refresh();
  }

  /** "Conduit: Get Started": the walkthrough's page. */
  async open(): Promise<void> {
    await this.d.claude.locate(); // installed meanwhile?
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
    this.set(WALKTHROUGH_CONTEXT.shown, true); // it is registered: the page shows it
  }

  /** Reads the gateway's side of the steps again (coalesced). */
  refresh(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read()
      .catch((err) => this.d.log.warn(`walkthrough: ${(err as Error).message}`))
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  private async read(): Promise<void> {
    if (this.d.supervisor.state.health !== 'running') return; // what was checked stays checked
    // Once every step the gateway answers for is done, VS Code keeps them checked: no more reads on each request.
    const fromGateway = [WALKTHROUGH_CONTEXT.hasCredentials, WALKTHROUGH_CONTEXT.projectModelSet, WALKTHROUGH_CONTEXT.sessionRecorded];
    if (fromGateway.every((key) => this.keys.get(key))) return;
    this.set(WALKTHROUGH_CONTEXT.hasCredentials, (await this.credentials()) !== 'none');
    const folders = vscode.workspace.workspaceFolders ?? [];
    let modelSet = false;
    let sessionRecorded = false;
    for (const folder of folders) {
      const projectKey = this.d.projects.forFolder(folder).key;
      modelSet ||= await this.projectModelChosen(projectKey);
      sessionRecorded ||= await this.projectHasSession(projectKey);
    }
    this.set(WALKTHROUGH_CONTEXT.projectModelSet, modelSet);
    this.set(WALKTHROUGH_CONTEXT.sessionRecorded, sessionRecorded);
  }

  /** From the supervisor's state once it carries it, else from the gateway's status. */
  private async credentials(): Promise<CredentialsState> {
    const fromState = credentialsStateOf(this.d.supervisor.state);
    if (fromState) return fromState;
    return credentialsStateOf(await call(this.d.api, ROUTES.status, {})) ?? 'none';
  }

  private async projectModelChosen(projectKey: string): Promise<boolean> {
    if (this.d.modelChoices.has(projectKey)) return true;
    try {
      return projectModelChosen(await call(this.d.api, ROUTES.project, { params: { key: projectKey } }), false);
    } catch {
      return false; // 404: not stored yet
    }
  }

  private async projectHasSession(projectKey: string): Promise<boolean> {
    try {
      const r = await call(this.d.api, ROUTES.analyticsSessions, { query: { project: projectKey, range: RECENT, limit: '1' } });
      return r.sessions.length > 0;
    } catch {
      return false; // the store is still opening: the next event reads again
    }
  }

  private checkTabs(): void {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    if (tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(ANALYTICS_VIEW_TYPE))) {
      this.set(WALKTHROUGH_CONTEXT.analyticsOpened, true);
    }
    // Opened from the Welcome page: its tab ("Walkthrough: Synapse Conduit", in any display
    // language) has no input type the API knows, and the extension's name in its label.
    if (tabs.some((t) => t.input === undefined && t.label.includes(this.d.displayName))) this.set(WALKTHROUGH_CONTEXT.shown, true);
  }

  /** Sets a context key when its value changes. */
  private set(key: string, value: boolean): void {
    if (this.keys.get(key) === value) return;
    this.keys.set(key, value);
    if (value) this.d.log.info(`walkthrough: ${key}`);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
