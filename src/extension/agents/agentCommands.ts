/**
 * Agents from the command palette: create, rename, delete, and configure one's model.
 * Agents live in the ledger behind the gateway's projects API (src/protocol/projects.ts).
 */
import * as vscode from 'vscode';
import type { AgentInfo } from '../../protocol/projects';
import type { Project, Projects } from '../projects';
import { validateAgentName } from './agentNames';

export interface AgentCommandDeps {
  projects: Projects;
  openModelConfig: (project: Project, agentId?: string) => Promise<void>;
}

export class AgentCommands {
  constructor(private readonly d: AgentCommandDeps) {}

  /** The agent to act on, or undefined (with a hint when the project has none). */
  async pickAgent(project: Project, placeHolder = 'Which agent?'): Promise<AgentInfo | undefined> {
    const agents = await this.d.projects.agents(project);
    if (!agents.length) {
      void vscode.window.showInformationMessage('This project has no agents yet: create one with "Conduit: Create Agent".');
      return undefined;
    }
    return (await vscode.window.showQuickPick(agents.map((a) => ({ label: a.name, description: a.personaType, agent: a })), { placeHolder }))?.agent;
  }

  async create(): Promise<void> {
    const project = await this.d.projects.pick('Create an agent in which project?');
    if (!project) return;
    const taken = (await this.d.projects.agents(project)).map((a) => a.name);
    const name = await vscode.window.showInputBox({ prompt: 'Agent name', validateInput: (v) => validateAgentName(v, taken) });
    if (!name) return;
    const personaType = await vscode.window.showInputBox({ prompt: 'Persona type (SYNAPSE_AGENT_TYPE), e.g. code-reviewer', value: 'general', validateInput: (v) => validateAgentName(v) });
    if (!personaType) return;
    const agent = await this.d.projects.createAgent(project, { name: name.trim(), personaType: personaType.trim(), useProjectModel: true, customModelId: null });
    const choice = await vscode.window.showInformationMessage(`Agent "${agent.name}" created.`, 'Configure Its Model');
    if (choice) await this.d.openModelConfig(project, agent.id);
  }

  async configureModel(): Promise<void> {
    const project = await this.d.projects.pick('Which project is the agent in?');
    const agent = project && await this.pickAgent(project);
    if (project && agent) await this.d.openModelConfig(project, agent.id);
  }

  async rename(): Promise<void> {
    const project = await this.d.projects.pick('Which project is the agent in?');
    const agent = project && await this.pickAgent(project, 'Rename which agent?');
    if (!project || !agent) return;
    const taken = (await this.d.projects.agents(project)).filter((a) => a.id !== agent.id).map((a) => a.name);
    const name = await vscode.window.showInputBox({ prompt: `New name of "${agent.name}"`, value: agent.name, validateInput: (v) => validateAgentName(v, taken) });
    if (!name || name.trim() === agent.name) return;
    const renamed = await this.d.projects.updateAgent(project, agent.id, { name: name.trim() });
    void vscode.window.showInformationMessage(`Agent "${agent.name}" is now "${renamed.name}".`);
  }

  async delete(): Promise<void> {
    const project = await this.d.projects.pick('Which project is the agent in?');
    const agent = project && await this.pickAgent(project, 'Delete which agent?');
    if (!project || !agent) return;
    const confirm = await vscode.window.showWarningMessage(
      `Delete the agent "${agent.name}"? Its model settings and budget go; the usage it recorded stays in the analytics.`,
      { modal: true }, 'Delete',
    );
    if (confirm !== 'Delete') return;
    await this.d.projects.deleteAgent(project, agent.id);
    void vscode.window.showInformationMessage(`Agent "${agent.name}" deleted.`);
  }
}
