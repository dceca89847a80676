/**
 * Workspace folders as Conduit projects: each folder gets a stable workspace key (kept in
 * the workspace's state), and its model configuration and agents live in the ledger,
 * read and written through the gateway. When the gateway is not running, a project
 * still has its key and the default model configuration; agents need the gateway.
 */
import * as vscode from 'vscode';
import { randomUUID } from 'node:crypto';
import { DEFAULT_PROJECT_MODEL_CONFIG, agentModelConfig, type AgentInfo, type AgentInput, type ProjectInfo } from '../protocol/projects';
import { GatewayHttpError, type GatewayApi } from './gateway/gatewayApi';

export interface Project {
  folder: vscode.WorkspaceFolder;
  key: string;
}

export class Projects {
  constructor(private readonly state: vscode.Memento, private readonly api: GatewayApi) {}

  /** The project of a folder: its key is made once and kept. */
  forFolder(folder: vscode.WorkspaceFolder): Project {
    const id = `conduit.projectKey:${folder.uri.toString()}`;
    let key = this.state.get<string>(id);
    if (!key) {
      key = randomUUID();
      void this.state.update(id, key);
    }
    return { folder, key };
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

  async info(project: Project): Promise<ProjectInfo> {
    try {
      return await this.api.call<ProjectInfo>('PUT', `/v1/conduit/projects/${encodeURIComponent(project.key)}`, { name: project.folder.name });
    } catch {
      return { id: project.key, workspaceKey: project.key, name: project.folder.name, modelConfig: DEFAULT_PROJECT_MODEL_CONFIG, dailyBudgetUsd: null, monthlyBudgetUsd: null };
    }
  }

  /** The project's agents; none for a project the gateway has not stored yet (404). */
  async agents(project: Project): Promise<AgentInfo[]> {
    try {
      return await this.api.callWhenReady<AgentInfo[]>('GET', `/v1/conduit/projects/${encodeURIComponent(project.key)}/agents`);
    } catch (err) {
      if (err instanceof GatewayHttpError && err.status === 404) return [];
      throw err;
    }
  }

  createAgent(project: Project, input: AgentInput): Promise<AgentInfo> {
    return this.api.callWhenReady<AgentInfo>('POST', `/v1/conduit/projects/${encodeURIComponent(project.key)}/agents`, input);
  }

  updateAgent(project: Project, agentId: string, patch: Partial<AgentInput>): Promise<AgentInfo> {
    return this.api.callWhenReady<AgentInfo>('PUT', `/v1/conduit/projects/${encodeURIComponent(project.key)}/agents/${encodeURIComponent(agentId)}`, patch);
  }

  async deleteAgent(project: Project, agentId: string): Promise<void> {
    await this.api.callWhenReady<null>('DELETE', `/v1/conduit/projects/${encodeURIComponent(project.key)}/agents/${encodeURIComponent(agentId)}`);
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
