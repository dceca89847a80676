/**
 * Workspace folders as Conduit projects: a folder's workspace key is derived from the folder
 * (src/conduit/client/projectIdentity.ts: its committed conduit.projectId setting, else the
 * repository's remote and the folder's path in it, else its real path), so every profile,
 * machine and terminal (conduit-claude) names the same project. Its model configuration
 * and agents live in the ledger, read and written through the gateway. When the gateway is
 * not running, a project still has its key and the default model configuration; agents
 * need the gateway.
 *
 * Older versions gave each folder a random key kept in the workspace's state: while one is
 * there (or the folder's derived key changed since the last start: a remote renamed, the
 * setting committed), the gateway is asked to give that key's project, history included,
 * to the derived key (previousKeys of ROUTES.saveProject), and the old key is
 * forgotten once it did.
 */
import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import { PROJECT_ID_SETTING, projectIdentityOf } from '../conduit/client/projectIdentity';
import { DEFAULT_PROJECT_MODEL_CONFIG, agentModelConfig, type AgentInfo, type AgentInput, type ProjectInfo } from '../protocol/projects';
import { GatewayHttpError, WAIT_FOR_STORE, type GatewayApi } from './gateway/gatewayApi';
import { call } from '../conduit/client/call';
import { ROUTES } from '../protocol/routes';

export interface Project {
  folder: vscode.WorkspaceFolder;
  key: string;
}

/** Workspace state: the random key an older version made for the folder. */
const legacyKeyId = (folder: vscode.WorkspaceFolder) => `conduit.projectKey:${folder.uri.toString()}`;
/** Workspace state: the folder's key the gateway last confirmed (its history is there). */
const confirmedKeyId = (folder: vscode.WorkspaceFolder) => `conduit.confirmedProjectKey:${folder.uri.toString()}`;

export class Projects implements vscode.Disposable {
  /** Derived keys by folder URI: reading the repository again on every call is not needed. */
  private readonly keys = new Map<string, string>();
  /** Folders whose earlier keys are being handed over (one request at a time per folder). */
  private readonly adopting = new Map<string, Promise<void>>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Problems with a folder's setting already shown (once per window). */
  private readonly told = new Set<string>();

  constructor(private readonly state: vscode.Memento, private readonly api: GatewayApi) {
    // A folder's setting may be committed or changed while the window is open.
    const settings = vscode.workspace.createFileSystemWatcher('**/.vscode/settings.json');
    const forget = () => this.keys.clear();
    this.subscriptions.push(settings, settings.onDidChange(forget), settings.onDidCreate(forget), settings.onDidDelete(forget),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.adoptPreviousKeys()),
      // Each time the gateway's event stream connects (started, restarted): hand over what waits.
      api.onConnected(() => this.adoptPreviousKeys()));
    this.adoptPreviousKeys();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }

  /** The project of a folder, by the key derived from it (a random one kept for a folder that is not on disk). */
  forFolder(folder: vscode.WorkspaceFolder): Project {
    const uri = folder.uri.toString();
    let key = this.keys.get(uri);
    if (!key) {
      if (folder.uri.scheme === 'file') {
        const identity = projectIdentityOf(folder.uri.fsPath);
        key = identity.key;
        // A committed setting that is ignored would silently split the project: say so.
        for (const problem of identity.problems.filter((p) => p.includes(PROJECT_ID_SETTING) && !this.told.has(p))) {
          this.told.add(problem);
          void vscode.window.showWarningMessage(`Conduit: ${problem}. The project of "${folder.name}" is ${key}.`);
        }
      } else {
        key = this.randomKey(folder);
      }
      this.keys.set(uri, key);
    }
    return { folder, key };
  }

  /** A virtual folder (no path to derive a key from): a key made once and kept, as before. */
  private randomKey(folder: vscode.WorkspaceFolder): string {
    let key = this.state.get<string>(legacyKeyId(folder));
    if (!key) {
      key = randomUUID();
      void this.state.update(legacyKeyId(folder), key);
    }
    return key;
  }

  /** The earlier keys of a folder's project that the gateway has not taken over yet. */
  private previousKeys(project: Project): string[] {
    if (project.folder.uri.scheme !== 'file') return [];
    const keys = [this.state.get<string>(legacyKeyId(project.folder)), this.state.get<string>(confirmedKeyId(project.folder))];
    return [...new Set(keys.filter((k): k is string => !!k && k !== project.key))];
  }

  /** After the gateway answered for the project with its previous keys: they are its aliases now. */
  private async confirmed(project: Project): Promise<void> {
    if (project.folder.uri.scheme !== 'file') return;
    await this.state.update(legacyKeyId(project.folder), undefined);
    await this.state.update(confirmedKeyId(project.folder), project.key);
  }

  /** Hands every folder's earlier keys over to its derived key, when the gateway runs. */
  private adoptPreviousKeys(): void {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const project = this.forFolder(folder);
      const uri = folder.uri.toString();
      const confirmedKey = folder.uri.scheme === 'file' ? this.state.get<string>(confirmedKeyId(folder)) : project.key;
      if (this.adopting.has(uri) || (confirmedKey === project.key && !this.previousKeys(project).length)) continue;
      const run = this.put(project, true).then(() => undefined, () => undefined).finally(() => this.adopting.delete(uri));
      this.adopting.set(uri, run);
    }
  }

  /** The folder to act on: the only one, the active editor's, or the person's pick. */
  async pick(placeHolder = 'Which project?'): Promise<Project | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showWarningMessage('Open a folder first: a Conduit project is a workspace folder.');
      return undefined;
    }
    if (folders.length === 1) return this.forFolder(folders[0]);
    const active = vscode.window.activeTextEditor && vscode.workspace.getWorkspaceFolder(vscode.window.activeTextEditor.document.uri);
    const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder });
    return picked ? this.forFolder(picked) : active ? this.forFolder(active) : undefined;
  }

  /** Creates or reads the project (with its name), handing its earlier keys over; `wait`: while the store opens. */
  private async put(project: Project, wait: boolean): Promise<ProjectInfo> {
    const previousKeys = this.previousKeys(project);
    const body = { name: project.folder.name, ...(previousKeys.length ? { previousKeys } : {}) };
    const info = await call(this.api, ROUTES.saveProject, { params: { key: project.key }, body }, wait ? WAIT_FOR_STORE : {});
    if (previousKeys.length || (project.folder.uri.scheme === 'file' && this.state.get<string>(confirmedKeyId(project.folder)) !== project.key)) {
      await this.confirmed(project);
    }
    return info;
  }

  async info(project: Project): Promise<ProjectInfo> {
    try {
      return await this.put(project, false);
    } catch {
      return { id: project.key, workspaceKey: project.key, name: project.folder.name, modelConfig: DEFAULT_PROJECT_MODEL_CONFIG, dailyBudgetUsd: null, monthlyBudgetUsd: null };
    }
  }

  /** The project's agents; none for a project the gateway has not stored yet (404). */
  async agents(project: Project): Promise<AgentInfo[]> {
    try {
      return await call(this.api, ROUTES.agents, { params: { key: project.key } }, WAIT_FOR_STORE);
    } catch (err) {
      if (err instanceof GatewayHttpError && err.status === 404) return [];
      throw err;
    }
  }

  createAgent(project: Project, input: AgentInput): Promise<AgentInfo> {
    return call(this.api, ROUTES.createAgent, { params: { key: project.key }, body: { ...input } }, WAIT_FOR_STORE);
  }

  updateAgent(project: Project, agentId: string, patch: Partial<AgentInput>): Promise<AgentInfo> {
    return call(this.api, ROUTES.saveAgent, { params: { key: project.key, agentId }, body: patch }, WAIT_FOR_STORE);
  }

  async deleteAgent(project: Project, agentId: string): Promise<void> {
    await call(this.api, ROUTES.deleteAgent, { params: { key: project.key, agentId } }, WAIT_FOR_STORE);
  }

  /** The SYNAPSE_* environment of a session of this project (and agent). */
  async sessionEnvironment(project: Project, agent?: AgentInfo): Promise<NodeJS.ProcessEnv> {
    const info = await this.info(project);
    const env: NodeJS.ProcessEnv = {
      SYNAPSE_PROJECT_ID: project.key,
      SYNAPSE_PROJECT_MODEL_CONFIG: JSON.stringify(info.modelConfig),
    };
    if (agent) {
      env.SYNAPSE_AGENT_ID = agent.id;
      env.SYNAPSE_AGENT_TYPE = agent.personaType;
      env.SYNAPSE_AGENT_MODEL_CONFIG = JSON.stringify(agentModelConfig(agent));
    }
    return env;
  }
}
